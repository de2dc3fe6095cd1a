package io.jnic.ethdev;

import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import java.util.List;

/**
 * A PCI NIC driver, found through {@link java.util.ServiceLoader} (list the class in
 * META-INF/services/io.jnic.ethdev.EthDriver). It declares the vendor/device ids it takes; {@link EthPorts}
 * reads them from config space and picks the driver.
 */
public interface EthDriver {
    /** The name recorded in the port table (e.g. "net_ixgbe"); each process loads its driver by it. */
    String name();

    List<PciId> pciIds();

    /** Takes over {@code device} (reset, init) as port {@code ctx.portId()}. */
    EthDevice probe(PciDevice device, PortContext ctx);

    /** The BAR whose queue registers (doorbells) a secondary maps to drive a queue itself. */
    default int doorbellBar() {
        return 0;
    }

    /**
     * Attaches queue pair {@code queue} of a port another process probed and started (multi-process): finds
     * the queue's rings and state by name in {@code ctx.memory()} and rings its doorbells through
     * {@code doorbells} (BAR {@link #doorbellBar()}, only the queue pages need be mapped). Mempools named by
     * the queue's state must be attached in this process. Drivers that cannot share queues throw.
     */
    default QueuePair attachQueue(PortContext ctx, PciBar doorbells, int queue, int lcore) {
        throw new UnsupportedOperationException(name() + " cannot hand a queue to another process (multi-process "
                + "queue sharing is not implemented by this driver)");
    }

    /** A vendor/device id pair (lspci -n's "8086:10fb"), with a name for messages. */
    record PciId(int vendor, int device, String name) {
        public boolean matches(int v, int d) {
            return v == vendor && d == device;
        }

        @Override
        public String toString() {
            return String.format("%04x:%04x (%s)", vendor, device, name);
        }
    }
}
