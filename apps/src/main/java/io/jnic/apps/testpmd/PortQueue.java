package io.jnic.apps.testpmd;

import io.jnic.memory.mbuf.MbufBatch;

/** One queue pair of a port as this process drives it: a device queue (primary) or an attached shared queue. */
interface PortQueue {
    int rxBurst(MbufBatch batch);

    int txBurst(MbufBatch batch);
}
