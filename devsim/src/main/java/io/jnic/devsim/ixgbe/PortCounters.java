package io.jnic.devsim.ixgbe;

/** Running totals of one port (never cleared by the driver's register reads), for status output. */
public record PortCounters(String port, boolean linkUp, long rxPackets, long rxBytes, long txPackets, long txBytes,
        long rxMissed, long rxNoBuffer, long rxQueueDrops, long crcErrors, long lengthErrors, long rxDma,
        long txDma, long faultDrops, long dmaErrors, long txErrors) {
}
