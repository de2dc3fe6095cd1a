package io.jnic.ethdev;

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
