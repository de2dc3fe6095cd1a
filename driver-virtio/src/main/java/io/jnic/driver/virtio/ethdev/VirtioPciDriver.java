package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.pci.ModernPciTransport;
import io.jnic.driver.virtio.pci.VirtioPciTransports;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.QueuePair;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;

/**
 * virtio-net over PCI (DPDK's net_virtio): modern (1af4:1041) and transitional (1af4:1000) devices; the transport
 * (modern capabilities, else the legacy I/O BAR) is chosen by {@link VirtioPciTransports} and logged.
 */
public final class VirtioPciDriver implements EthDriver {
    public static final String NAME = "net_virtio";
    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<PciId> pciIds() {
        return List.of(new PciId(ModernPciTransport.VENDOR_VIRTIO, 0x1041, "virtio-net (modern)"),
                new PciId(ModernPciTransport.VENDOR_VIRTIO, 0x1000, "virtio-net (transitional)"));
    }

    /**
     * A secondary's view of queue pair {@code queue} of a virtio-net PCI port the primary started: rings and state
     * by name, notifications written to the queues' addresses in {@code doorbells}, the notify BAR handed over by
     * the primary (VFIO device fd or UIO resource file) and mapped here.
     */
    @Override
    public QueuePair attachQueue(PortContext ctx, PciBar doorbells, int queue, int lcore) {
        VirtioPortShare share = VirtioPortShare.attach(ctx);
        if (share.notifyBar() != doorbells.index()) {
            throw new IllegalStateException("port " + ctx.portId() + " notifies its queues through BAR"
                    + share.notifyBar() + ", but BAR" + doorbells.index() + " was handed over");
        }
        int pairs = share.pairs();
        if (queue < 0 || queue >= pairs) {
            throw new IllegalArgumentException("port " + ctx.portId() + " shares queue pairs 0.." + (pairs - 1) + ", not "
                    + queue);
        }
        int rq = VirtioNetSpec.rxQueue(queue);
        int tq = VirtioNetSpec.txQueue(queue);
        MemorySegment rn = doorbells.mapped(share.notifyOffset(rq), 2);
        MemorySegment tn = doorbells.mapped(share.notifyOffset(tq), 2);
        // 4.1.5.2: without NOTIFICATION_DATA the driver writes the queue index
        return VirtioSharedQueue.attach(ctx, queue, lcore, () -> U16.setVolatile(rn, 0L, (short) rq),
                () -> U16.setVolatile(tn, 0L, (short) tq), new int[0], -1);
    }

    @Override
    public EthDevice probe(PciDevice device, PortContext ctx) {
        VirtioTransport t = VirtioPciTransports.open(device, ctx.memory());
        try {
            return new VirtioEthDevice(device.name(), NAME, t, ctx);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }
}
