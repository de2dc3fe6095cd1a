package io.jnic.driver.ixgbe;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.PortContext;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice;
import java.util.List;

/** The ixgbe driver as {@link io.jnic.ethdev.EthPorts} finds it (ServiceLoader): 82599, X520, X540, X550. */
public final class IxgbeDriver implements EthDriver {
    public static final String NAME = "net_ixgbe";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<PciId> pciIds() {
        return IxgbeDeviceIds.ALL;
    }

    @Override
    public EthDevice probe(PciDevice device, PortContext ctx) {
        int vendor = device.configRead(PciConfig.VENDOR_ID, 2);
        int id = device.configRead(PciConfig.DEVICE_ID, 2);
        if (IxgbeDeviceIds.ALL.stream().noneMatch(p -> p.matches(vendor, id))) {
            throw new IllegalArgumentException(String.format("%s: PCI id %04x:%04x is not an ixgbe device (known: %s)",
                    device.name(), vendor, id, IxgbeDeviceIds.ALL));
        }
        return new IxgbeDevice(device, ctx, id, Mempool.LCORE_ANY);
    }
}
