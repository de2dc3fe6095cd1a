package io.jnic.ethdev;

/**
 * A port's link (rte_eth_link).
 *
 * @param speedMbps 0 when down or unknown
 */
public record LinkStatus(boolean up, int speedMbps, boolean fullDuplex) {
    public static final LinkStatus DOWN = new LinkStatus(false, 0, false);

    /** Packs into one long for the shared port table: bit 0 up, bit 1 full duplex, bits 32-63 speed. */
    public long pack() {
        return (up ? 1 : 0) | (fullDuplex ? 2 : 0) | ((long) speedMbps << 32);
    }

    public static LinkStatus unpack(long v) {
        return new LinkStatus((v & 1) != 0, (int) (v >>> 32), (v & 2) != 0);
    }

    @Override
    public String toString() {
        return up ? "up " + (speedMbps >= 1000 ? speedMbps / 1000 + " Gbps" : speedMbps + " Mbps")
                + (fullDuplex ? " full-duplex" : " half-duplex") : "down";
    }
}
