package io.jnic.ethdev;

import io.jnic.memory.mbuf.MbufBatch;

/** A port's own queue pair for drivers without a queue object of their own: the port's bursts on queue q. */
final class PortQueuePair extends QueuePair {
    private final EthDevice dev;
    private final int q;

    PortQueuePair(EthDevice dev, int q) {
        super(dev.portId(), q);
        this.dev = dev;
        this.q = q;
    }

    @Override
    public int rxBurst(MbufBatch batch) {
        return dev.rxBurst(q, batch);
    }

    @Override
    public int txBurst(MbufBatch batch) {
        return dev.txBurst(q, batch);
    }

    @Override
    public boolean rxReady() {
        return dev.rxPending(q);
    }

    @Override
    public long rxPackets() {
        return -1;
    }

    @Override
    public long txPackets() {
        return -1;
    }

    @Override
    protected int driverRxInterruptFd() {
        return dev.rxInterruptFd(q);
    }

    @Override
    protected boolean driverRxInterruptEnable() {
        return dev.rxInterruptEnable(q);
    }

    @Override
    protected void driverRxInterruptDisable() {
        dev.rxInterruptDisable(q);
    }
}
