package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.sys.Io;

/**
 * A queue pair of a virtio-net port driven by a process that did not start the port (multi-process): the rings
 * and their driver-side state found by name in the group's memory ({@link VirtioNet#resumeQueue}), the device
 * notified through what the starting process handed over (vhost-user kick eventfds, or the PCI notify BAR mapped
 * here). The same bursts as the port's own ({@link VirtioBursts}).
 *
 * <p>On attach the buffers posted in the receive ring are recorded as this process's lcore's, so that if it dies
 * a pool audit finds whatever it held; on {@link #close} what both rings hold is recorded as nobody's again and the
 * rings stay as they are for the next owner.
 */
final class VirtioSharedQueue extends QueuePair {
    private final VirtioNetRxQueue rx;
    private final VirtioNetTxQueue tx;
    private final VirtioBursts bursts;
    private final int[] fds;
    private final int callRx;
    private boolean armed;

    private VirtioSharedQueue(int port, int queue, VirtioNetRxQueue rx, VirtioNetTxQueue tx, int lcore, int[] fds,
            int callRx) {
        super(port, queue);
        this.rx = rx;
        this.tx = tx;
        this.bursts = new VirtioBursts(lcore);
        this.fds = fds;
        this.callRx = callRx;
    }

    /**
     * Attaches queue pair {@code queue} of the started port {@code ctx.portId()}; {@code rxNotify}/{@code txNotify}
     * reach the device, {@code fds} are closed with the queue (and at once when attaching fails).
     */
    static VirtioSharedQueue attach(PortContext ctx, int queue, int lcore, VirtioTransport.Notifier rxNotify,
            VirtioTransport.Notifier txNotify, int[] fds, int callRx) {
        try {
            VirtioPortShare share = VirtioPortShare.attach(ctx);
            int pairs = share.pairs();
            if (queue < 0 || queue >= pairs) {
                throw new IllegalArgumentException("port " + ctx.portId() + " shares queue pairs 0.." + (pairs - 1)
                        + ", not " + queue);
            }
            int poolId = share.pool(queue);
            Mempool pool = poolId >= 1 && poolId <= Mempool.MAX_POOL_ID ? Mempool.lookup(poolId) : null;
            if (pool == null) {
                throw new IllegalStateException("port " + ctx.portId() + " RX queue " + queue + " takes its buffers from "
                        + "mempool id " + poolId + ", which is not attached in this process; attach the group's mempools"
                        + " first");
            }
            long f = share.features();
            if (Virtio.has(f, Virtio.F_RING_PACKED)) {
                throw new IllegalStateException("port " + ctx.portId() + " runs packed virtqueues, which keep no shared "
                        + "state another process could carry on from; to share its pairs run it on split rings (virtio-user: without "
                        + "packed_vq=1; PCI: a device that does not offer RING_PACKED, QEMU's packed=off)");
            }
            boolean eventIdx = Virtio.has(f, Virtio.F_EVENT_IDX);
            boolean mergeable = Virtio.has(f, VirtioNetSpec.F_MRG_RXBUF);
            String prefix = ctx.memzoneName("virtio");
            SplitVirtqueue r = VirtioNet.resumeQueue(ctx.memory(), prefix, VirtioNetSpec.rxQueue(queue), eventIdx);
            SplitVirtqueue t = VirtioNet.resumeQueue(ctx.memory(), prefix, VirtioNetSpec.txQueue(queue), eventIdx);
            if (lcore >= 0) {
                // the ring's buffers are this process's now: if it dies holding some, an audit finds them by owner
                VirtioBursts.own(r.state().outstanding(), lcore);
            }
            int offloads = share.offloads();
            VirtioNetRxQueue rx = VirtioNetRxQueue.resume(r, rxNotify, new MbufOps(pool, lcore, ctx.portId(), offloads),
                    mergeable, (offloads & VirtioOffloads.RX_SCATTER) != 0);
            VirtioNetTxQueue tx = VirtioNetTxQueue.resume(t, txNotify, new MbufOps(pool, lcore));
            VirtioSharedQueue sq = new VirtioSharedQueue(ctx.portId(), queue, rx, tx, lcore, fds, callRx);
            sq.bursts.offloads(offloads);
            return sq;
        } catch (RuntimeException e) {
            for (int fd : fds) {
                Io.closeQuietly(fd);
            }
            throw e;
        }
    }

    @Override
    public int rxBurst(MbufBatch batch) {
        if (armed) {
            rxInterruptDisable(); // one-shot, as an auto-masked MSI-X vector: polling again from here
        }
        return bursts.rx(rx, batch);
    }

    @Override
    public int txBurst(MbufBatch batch) {
        return bursts.tx(tx, batch);
    }

    @Override
    public boolean rxReady() {
        return rx.virtqueue().usedCount() > 0;
    }

    @Override
    public long rxPackets() {
        return rx.packets();
    }

    @Override
    public long txPackets() {
        return tx.packets();
    }

    /** The receive queue's call eventfd (vhost-user: the backend signals it when the ring asks), or -1 over PCI. */
    @Override
    protected int driverRxInterruptFd() {
        return callRx;
    }

    /**
     * Asks the device for an interrupt on the next frame (used_event, or clearing VIRTQ_AVAIL_F_NO_INTERRUPT: ring
     * memory, no register), then looks again: false, and disarmed, when a frame is already there.
     */
    @Override
    protected boolean driverRxInterruptEnable() {
        if (callRx < 0) {
            throw new UnsupportedOperationException(this + " has no RX interrupt (virtio over PCI runs its queues "
                    + "without MSI-X vectors)");
        }
        var vq = rx.virtqueue();
        vq.enableInterrupts();
        armed = true;
        if (vq.usedCount() > 0) {
            driverRxInterruptDisable();
            return false;
        }
        return true;
    }

    /** Back to poll mode (also done by the next {@link #rxBurst}: arming is one-shot). */
    @Override
    protected void driverRxInterruptDisable() {
        rx.virtqueue().disableInterrupts();
        armed = false;
    }

    /** Transmit buffers dropped because the mbuf could not be carried (multi-segment, shared, no headroom). */
    long txDropped() {
        return bursts.txDropped;
    }

    @Override
    protected void release() {
        // what the rings hold is nobody's until the next owner takes the pair (its audit must not count it as ours)
        VirtioBursts.own(rx.virtqueue().state().outstanding(), Mbuf.OWNER_NONE);
        VirtioBursts.own(tx.virtqueue().state().outstanding(), Mbuf.OWNER_NONE);
        for (int fd : fds) {
            Io.closeQuietly(fd);
        }
    }
}
