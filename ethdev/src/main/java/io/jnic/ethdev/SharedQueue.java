package io.jnic.ethdev;

import io.jnic.memory.mbuf.MbufBatch;

/**
 * One RX/TX queue pair of a port, driven by a process other than the one that probed and started the port
 * (a secondary). The driver builds it from the queue's rings and state, which live in memzones of the
 * group, and from the doorbell registers mapped into this process ({@link EthDriver#attachQueue}); from
 * then on the data path touches only shared memory and those registers, never the primary.
 *
 * <p>Bursts behave as {@link EthDevice#rxBurst}/{@link EthDevice#txBurst} on this queue; one thread at a time.
 */
public abstract class SharedQueue implements AutoCloseable {
    private final int portId;
    private final int queue;

    protected SharedQueue(int portId, int queue) {
        this.portId = portId;
        this.queue = queue;
    }

    public final int portId() {
        return portId;
    }

    public final int queue() {
        return queue;
    }

    /** Receives up to {@code batch.capacity() - batch.count()} packets and appends them to {@code batch}. */
    public abstract int rxBurst(MbufBatch batch);

    /** Queues the batch's packets for sending, as many as fit; the unsent rest moves to the batch's front. */
    public abstract int txBurst(MbufBatch batch);

    /** True when the RX ring's next descriptor holds a packet. */
    public abstract boolean rxReady();

    /** Packets received and sent through this object. */
    public abstract long rxPackets();

    public abstract long txPackets();

    /**
     * The eventfd the device signals for this RX queue when this process already holds it (handed over with the
     * queue, e.g. virtio-user's call eventfd; the queue owns it), or -1 when the port's owner hands it over on
     * request.
     */
    public int rxInterruptFd() {
        return -1;
    }

    /**
     * Arms this RX queue's interrupt from this process, for drivers whose arming lives in shared memory (virtio:
     * the ring's event index or flags); false, left unarmed, when a packet is already waiting. Drivers whose arming
     * needs the port's owner (a register only the primary reaches) throw {@link UnsupportedOperationException}.
     */
    public boolean rxInterruptEnable() {
        throw new UnsupportedOperationException(this + ": the RX interrupt is armed by the port's owner");
    }

    /** Disarms what {@link #rxInterruptEnable()} armed. */
    public void rxInterruptDisable() {
    }

    /**
     * Lets go of the queue: the mbufs in its rings stay there (the queue's state in shared memory stays
     * consistent for the next owner); only this process's mappings go.
     */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "port " + portId + " queue " + queue + " (shared)";
    }
}
