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
