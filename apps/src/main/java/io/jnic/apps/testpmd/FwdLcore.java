package io.jnic.apps.testpmd;

import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.multiproc.MpRuntime;
import java.util.concurrent.CountDownLatch;

/**
 * A forwarding lcore (testpmd's {@code fwd_lcore}): one thread that runs the current engine over the streams it
 * owns, one burst per stream in turn, until told to stop. Everything it needs per packet (batch, mbuf view,
 * frame templates, MAC words) is made before the loop: the loop allocates nothing.
 */
final class FwdLcore implements Runnable {
    /** What the engines are told at start (testpmd's globals). */
    record Settings(FwdMode mode, int burst, int txPktLen, int txIpSrc, int txIpDst, int txUdpSrc, int txUdpDst,
            int flowgenFlows) {
    }

    /** flowgen's addresses and ports (DPDK's flowgen defaults): the destination address varies per flow. */
    static final int FLOWGEN_IP_SRC = 10 << 24 | 254 << 16;
    static final int FLOWGEN_IP_DST = 10 << 24 | 253 << 16;
    static final int FLOWGEN_UDP_SRC = 1000;
    static final int FLOWGEN_UDP_DST = 1001;

    final int index;
    final FwdStream[] streams;
    private final Settings settings;
    private final FwdMode mode;
    private final Mempool pool;
    private final boolean txFirst;
    private final MbufBatch b;
    private final Mbuf m = new Mbuf();
    private final UdpFrames[] frames;
    private final int[] peerHi;
    private final int[] peerLo;
    private final int[] srcHi;
    private final int[] srcLo;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile boolean running = true;
    private int nextFlow;
    private int lcore = Mempool.LCORE_ANY;
    /** The lcore id the thread runs on (pinned or floating), once it has started. */
    volatile int lcoreId = -1;
    long allocFailures;
    volatile Throwable failure;
    /** Heap bytes this thread allocated in its loop after the warm-up (class initialisation, first calls); -1: unknown. */
    volatile long allocatedBytes = -1;
    private static final int WARMUP_LOOPS = 1024;

    FwdLcore(int index, FwdStream[] streams, Settings settings, Mempool pool, boolean txFirst) {
        this.index = index;
        this.streams = streams;
        this.settings = settings;
        this.mode = settings.mode();
        this.pool = pool;
        this.txFirst = txFirst;
        this.b = new MbufBatch(settings.burst());
        int n = streams.length;
        frames = new UdpFrames[n];
        peerHi = new int[n];
        peerLo = new int[n];
        srcHi = new int[n];
        srcLo = new int[n];
        for (int i = 0; i < n; i++) {
            FwdStream s = streams[i];
            peerHi[i] = (int) (s.peerMac >>> 16);
            peerLo[i] = (int) (s.peerMac & 0xFFFF);
            srcHi[i] = (int) (s.txMac >>> 16);
            srcLo[i] = (int) (s.txMac & 0xFFFF);
            frames[i] = mode == FwdMode.FLOWGEN
                    ? new UdpFrames(settings.txPktLen(), s.txMac, s.peerMac, FLOWGEN_IP_SRC, FLOWGEN_IP_DST, FLOWGEN_UDP_SRC,
                            FLOWGEN_UDP_DST)
                    : new UdpFrames(settings.txPktLen(), s.txMac, s.peerMac, settings.txIpSrc(), settings.txIpDst(),
                            settings.txUdpSrc(), settings.txUdpDst());
        }
    }

    /** Asks the loop to end after its current burst. */
    void stop() {
        running = false;
    }

    /** Waits until the thread has its lcore id. */
    void awaitReady() throws InterruptedException {
        ready.await();
    }

    @Override
    public void run() {
        lcoreId = MpRuntime.currentLcore();
        lcore = lcoreId >= 0 && lcoreId < Mempool.MAX_LCORES ? lcoreId : Mempool.LCORE_ANY;
        ready.countDown();
        try {
            if (txFirst) {
                for (int i = 0; i < streams.length; i++) {
                    generate(i, false); // testpmd's "start tx_first": one txonly burst per stream first
                }
            }
            final FwdStream[] ss = streams;
            com.sun.management.ThreadMXBean mx = threadBean();
            long before = -1;
            int loops = 0;
            while (running) {
                for (int i = 0; i < ss.length; i++) {
                    step(i);
                }
                if (loops < WARMUP_LOOPS && ++loops == WARMUP_LOOPS && mx != null) {
                    before = mx.getCurrentThreadAllocatedBytes();
                }
            }
            if (before >= 0) {
                allocatedBytes = mx.getCurrentThreadAllocatedBytes() - before;
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            if (!b.isEmpty()) {
                b.free(lcore);
            }
            if (lcore >= 0) {
                pool.flushCache(lcore); // a floating lcore id goes back to the table: leave no mbufs in its cache
            }
        }
    }

    private static com.sun.management.ThreadMXBean threadBean() {
        java.lang.management.ThreadMXBean b = java.lang.management.ManagementFactory.getThreadMXBean();
        if (b instanceof com.sun.management.ThreadMXBean s && s.isThreadAllocatedMemorySupported()
                && s.isThreadAllocatedMemoryEnabled()) {
            return s;
        }
        return null;
    }

    private void step(int i) {
        FwdStream s = streams[i];
        switch (mode) {
            case IO -> {
                if (receive(s) > 0) {
                    send(s);
                }
            }
            case MAC -> {
                int n = receive(s);
                if (n > 0) {
                    long[] h = b.handles();
                    int ph = peerHi[i];
                    int pl = peerLo[i];
                    int sh = srcHi[i];
                    int sl = srcLo[i];
                    for (int k = 0; k < n; k++) {
                        m.wrap(h[k]).setIntBE(0, ph).setShortBE(4, pl).setIntBE(6, sh).setShortBE(10, sl);
                    }
                    send(s);
                }
            }
            case MACSWAP -> {
                int n = receive(s);
                if (n > 0) {
                    long[] h = b.handles();
                    for (int k = 0; k < n; k++) {
                        m.wrap(h[k]);
                        int d0 = m.getIntBE(0);
                        int d1 = m.getShortBE(4);
                        int s0 = m.getIntBE(6);
                        int s1 = m.getShortBE(10);
                        m.setIntBE(0, s0).setShortBE(4, s1).setIntBE(6, d0).setShortBE(10, d1);
                    }
                    send(s);
                }
            }
            case RXONLY -> {
                if (receive(s) > 0) {
                    b.free(lcore);
                }
            }
            case TXONLY -> generate(i, false);
            case FLOWGEN -> {
                if (receive(s) > 0) {
                    b.free(lcore); // flowgen drops what arrives, as DPDK's does
                }
                generate(i, true);
            }
        }
    }

    private int receive(FwdStream s) {
        int n = s.rx.rxBurst(b);
        s.rxPackets += n;
        return n;
    }

    /** Sends the batch on the stream's TX queue; what the queue refuses is freed and counted as dropped. */
    private void send(FwdStream s) {
        int sent = s.tx.txBurst(b);
        s.txPackets += sent;
        if (!b.isEmpty()) {
            s.fwdDropped += b.count();
            b.free(lcore);
        }
    }

    /** One burst of generated UDP/IPv4 frames on stream {@code i}; flows vary the destination address. */
    private void generate(int i, boolean flows) {
        int n = settings.burst();
        if (!b.alloc(pool, n, lcore)) {
            allocFailures++;
            return;
        }
        UdpFrames f = frames[i];
        long[] h = b.handles();
        int nf = settings.flowgenFlows();
        for (int k = 0; k < n; k++) {
            m.wrap(h[k]);
            f.fill(m);
            if (flows) {
                f.destination(m, FLOWGEN_IP_DST + nextFlow);
                nextFlow = nextFlow + 1 == nf ? 0 : nextFlow + 1;
            }
        }
        send(streams[i]);
    }
}
