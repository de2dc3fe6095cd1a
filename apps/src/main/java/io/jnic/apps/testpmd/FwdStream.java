package io.jnic.apps.testpmd;

import io.jnic.ethdev.QueuePair;

/**
 * A forwarding stream, as testpmd's {@code fwd_stream}: receive on (rx port, rx queue), send on (tx port, tx
 * queue) to the peer address of the tx port. Its counters are written only by the lcore that owns the stream
 * and read by others once that lcore has stopped (or, for a running display, as plain racy reads of whole longs).
 */
final class FwdStream {
    final int rxPort;
    final int rxQueue;
    final int txPort;
    final int txQueue;
    /** The peer's MAC address (mac, txonly, flowgen) and the sending port's. */
    final long peerMac;
    final long txMac;
    final QueuePair rx;
    final QueuePair tx;
    long rxPackets;
    long txPackets;
    long fwdDropped;

    FwdStream(int rxPort, int rxQueue, int txPort, int txQueue, long peerMac, long txMac, QueuePair rx, QueuePair tx) {
        this.rxPort = rxPort;
        this.rxQueue = rxQueue;
        this.txPort = txPort;
        this.txQueue = txQueue;
        this.peerMac = peerMac;
        this.txMac = txMac;
        this.rx = rx;
        this.tx = tx;
    }

    void clear() {
        rxPackets = 0;
        txPackets = 0;
        fwdDropped = 0;
    }
}
