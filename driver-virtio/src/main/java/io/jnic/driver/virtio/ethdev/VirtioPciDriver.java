package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.pci.ModernPciTransport;
import io.jnic.driver.virtio.pci.VirtioPciTransports;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.PortContext;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.pci.PciDevice;
import java.util.List;

/**
 * virtio-net over PCI (DPDK's net_virtio): modern (1af4:1041) and transitional (1af4:1000) devices; the transport
 * (modern capabilities, else the legacy I/O BAR) is chosen by {@link VirtioPciTransports} and logged.
 */
public final class VirtioPciDriver implements EthDriver {
    public static final String NAME = "net_virtio";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<PciId> pciIds() {
        return List.of(new PciId(ModernPciTransport.VENDOR_VIRTIO, 0x1041, "virtio-net (modern)"),
                new PciId(ModernPciTransport.VENDOR_VIRTIO, 0x1000, "virtio-net (transitional)"));
    }

    @Override
    public EthDevice probe(PciDevice device, PortContext ctx) {
        VirtioTransport t = VirtioPciTransports.open(device, ctx.memory());
        try {
            return new VirtioEthDevice(device.name(), NAME, t, Mempool.LCORE_ANY, ctx);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }
}
