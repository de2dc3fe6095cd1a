package io.jnic.driver.intel;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.MbufBatch;

/**
 * A queue pair of an advanced-descriptor port: the {@link RxQueue} and {@link TxQueue} data path, the same object
 * whether the port's own process drives it ({@link EthDevice#queuePair}) or another process attached it over the
 * queue memory found by name and the queue's doorbell page mapped there (the driver's attachQueue).
 */
public final class IntelQueuePair extends QueuePair {
    private final EthDevice owner; // the port's own pair; null when attached
    private RxQueue rx;
    private TxQueue tx;

    /** An attached pair: its queues for good. */
    public IntelQueuePair(int port, int queue, RxQueue rx, TxQueue tx) {
        super(port, queue);
        this.owner = null;
        this.rx = rx;
        this.tx = tx;
    }

    /** The port's own pair; {@link #bind} gives it the port's current queues (they change on start and reset). */
    public IntelQueuePair(EthDevice owner, int queue) {
        super(owner.portId(), queue);
        this.owner = owner;
    }

    public void bind(RxQueue rx, TxQueue tx) {
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
        return rx.packets();
    }

    @Override
    public long txPackets() {
        return tx.packets();
    }

    @Override
    protected int driverRxInterruptFd() {
        return owner != null ? owner.rxInterruptFd(queue()) : -1;
    }

    @Override
    protected boolean driverRxInterruptEnable() {
        if (owner == null) {
            return super.driverRxInterruptEnable(); // EIMS is the owner's
        }
        return owner.rxInterruptEnable(queue());
    }

    @Override
    protected void driverRxInterruptDisable() {
        if (owner != null) {
            owner.rxInterruptDisable(queue());
        }
    }

    /**
     * An attached pair returns the spare buffers its RX side allocated ahead; the rings stay as they are for the
     * next owner, and a re-initialisation of the port no longer waits for this process. A port's own pair goes
     * with the port.
     */
    @Override
    protected void release() {
        if (owner == null) {
            rx.releaseSpare();
            rx.releaseDriver();
            tx.releaseDriver();
        }
    }
}
