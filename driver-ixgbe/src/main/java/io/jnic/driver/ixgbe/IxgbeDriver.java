package io.jnic.driver.ixgbe;

import io.jnic.driver.intel.IntelQueuePair;
import io.jnic.driver.intel.QueueMemory;
import io.jnic.driver.intel.RxQueue;
import io.jnic.driver.intel.TxQueue;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.PortContext;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.ethdev.QueuePair;
import io.jnic.pci.PciBar;
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
        if (!IxgbeDeviceIds.is82599(id)) {
            // X540 and X550 parts have other PHY, link and NVM procedures than the 82599 this driver implements
            String what = IxgbeDeviceIds.ALL.stream().filter(p -> p.matches(vendor, id)).map(PciId::name).findFirst()
                    .orElse(String.format("%04x", id));
            throw new UnsupportedOperationException(String.format("%s: %s (PCI id %04x:%04x) is not supported: this "
                    + "driver supports only the 82599 family (82599, X520); leave the device to the kernel's ixgbe "
                    + "driver or use DPDK for X540/X550", device.name(), what, vendor, id));
        }
        return new IxgbeDevice(device, ctx, id, Mempool.LCORE_ANY);
    }

    /**
     * A secondary's view of queue pair {@code queue}: rings and state from the memzones the primary's
     * {@link IxgbeDevice} set up ("jnic.p{port}.rxq{q}" / "txq{q}"), doorbells (RDT, TDT) through
     * {@code doorbells}, which must map the queue's register pages.
     */
    @Override
    public QueuePair attachQueue(PortContext ctx, PciBar doorbells, int queue, int lcore) {
        if (queue < 0 || queue >= IxgbeDevice.MAX_RX_QUEUES) {
            throw new IllegalArgumentException("port " + ctx.portId() + ": no queue " + queue + " (0.."
                    + (IxgbeDevice.MAX_RX_QUEUES - 1) + ")");
        }
        QueueMemory rm = QueueMemory.attach(ctx.memory(), ctx.memzoneName("rxq" + queue), QueueMemory.MAGIC_RX,
                IxgbeDevice.MIN_RING, IxgbeDevice.MAX_RING);
        QueueMemory tm = QueueMemory.attach(ctx.memory(), ctx.memzoneName("txq" + queue), QueueMemory.MAGIC_TX,
                IxgbeDevice.MIN_RING, IxgbeDevice.MAX_RING);
        int poolId = rm.state.get(java.lang.foreign.ValueLayout.JAVA_INT, QueueMemory.S_POOL);
        Mempool pool = poolId >= 1 && poolId <= Mempool.MAX_POOL_ID ? Mempool.lookup(poolId) : null;
        if (pool == null) {
            throw new IllegalStateException("port " + ctx.portId() + " RX queue " + queue + " takes its buffers from "
                    + "mempool id " + poolId + ", which is not attached in this process; attach the group's mempools first");
        }
        RxQueue rx = RxQueue.attach(queue, rm, doorbells.mapped(IxgbeRegs.rxq(queue) + IxgbeRegs.RDT, 4), pool,
                ctx.portId(), lcore);
        TxQueue tx = TxQueue.attach(queue, tm, doorbells.mapped(IxgbeRegs.txq(queue) + IxgbeRegs.TDT, 4), lcore);
        return new IntelQueuePair(ctx.portId(), queue, rx, tx);
    }
}
