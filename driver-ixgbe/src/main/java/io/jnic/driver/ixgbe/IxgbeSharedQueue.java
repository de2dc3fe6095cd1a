package io.jnic.driver.ixgbe;

import io.jnic.ethdev.SharedQueue;
import io.jnic.memory.mbuf.MbufBatch;

/**
 * A queue pair of an 82599 port driven by a process that did not probe it: the same {@link RxQueue} and
 * {@link TxQueue} data path, over the queue memory found by name and the queue's doorbell page mapped in
 * this process.
 */
final class IxgbeSharedQueue extends SharedQueue {
    private final RxQueue rx;
    private final TxQueue tx;

    IxgbeSharedQueue(int port, int queue, RxQueue rx, TxQueue tx) {
        super(port, queue);
        this.rx = rx;
        this.tx = tx;
    }

    @Override
    public int rxBurst(MbufBatch batch) {
        return rx.burst(batch);
    }

    @Override
    public int txBurst(MbufBatch batch) {
        return tx.burst(batch);
    }

    @Override
    public boolean rxReady() {
        return rx.ready();
    }

    @Override
    public long rxPackets() {
        return rx.packets;
    }

    @Override
    public long txPackets() {
        return tx.packets;
    }

    /**
     * Returns the spare buffers the RX side allocated ahead; the rings stay as they are for the next owner, and a
     * re-initialisation of the port no longer waits for this process.
     */
    @Override
    public void close() {
        rx.releaseSpare();
        rx.releaseDriver();
        tx.releaseDriver();
    }
}
