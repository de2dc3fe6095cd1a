package io.jnic.apps.pktgen;

import io.jnic.ethdev.EthDevice;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.Mempool;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.HdrHistogram.Histogram;

/**
 * One-way latency on the ports' own clocks (IEEE 1588 timestamps, {@code --hw-latency}). Every {@link #INTERVAL_NS}
 * each transmitting port sends one PTP Sync frame carrying a probe on a queue of its own (the queue after the
 * workers'), marked for a TX timestamp, and reads that timestamp back before the next (a port latches one at a time).
 * The RX workers pass every timestamped probe they receive through a single-producer ring ({@link RxLog}); this
 * thread joins the two and records {@code rx time - tx time - clock offset} per stream. The ports' clocks run at the
 * same rate but from different origins: the offset between two ports is read once at start as the best of several
 * {@code tx, rx, tx} clock reads, and its uncertainty (half the narrowest window) is reported with the figures.
 */
final class HwLatency implements Runnable {
    static final long INTERVAL_NS = 10_000_000L;
    private static final long TX_STAMP_WAIT_NS = 5_000_000L;
    private static final int TX_LOG = 256;

    /** What one RX worker saw: (tx port, seq, rx port) and the RX timestamp, published by a release store. */
    static final class RxLog {
        static final int CAPACITY = 1024;
        private static final VarHandle HEAD;

        static {
            try {
                HEAD = MethodHandles.lookup().findVarHandle(RxLog.class, "head", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final long[] keys = new long[CAPACITY];
        final long[] stamps = new long[CAPACITY];
        @SuppressWarnings("unused") // through HEAD
        private long head;
        private long written;
        volatile long tail;
        long dropped;

        /** Worker side: no allocation; a full log drops the sample. */
        void add(int txPort, int seq, int rxPort, long stamp) {
            if (written - tail >= CAPACITY) {
                dropped++;
                return;
            }
            int i = (int) (written & (CAPACITY - 1));
            keys[i] = (long) txPort << 48 | (long) rxPort << 32 | (seq & 0xFFFFFFFFL);
            stamps[i] = stamp;
            HEAD.setRelease(this, ++written);
        }

        long head() {
            return (long) HEAD.getAcquire(this);
        }
    }

    private final Engine engine;
    private final RxLog[] logs;
    private final int ports;
    private final int queue;
    private final long[][] txStamps;
    private final int[][] txSeqs;
    private final int[] seq;
    /** offset[rx][tx]: rx clock minus tx clock, ns; and its uncertainty. */
    private final long[][] offset;
    private final long[][] uncertainty;
    private final Histogram[] hist;
    private final long[] txMissing;
    private volatile boolean stop;
    private int epoch = -1;

    HwLatency(Engine engine, RxLog[] logs, int ports, int queue) {
        this.engine = engine;
        this.logs = logs;
        this.ports = ports;
        this.queue = queue;
        this.txStamps = new long[ports][TX_LOG];
        this.txSeqs = new int[ports][TX_LOG];
        this.seq = new int[ports];
        this.offset = new long[ports][ports];
        this.uncertainty = new long[ports][ports];
        this.hist = new Histogram[ports];
        this.txMissing = new long[ports];
        for (int p = 0; p < ports; p++) {
            hist[p] = new Histogram(StreamMeter.MAX_LATENCY_NS, 3);
            java.util.Arrays.fill(txSeqs[p], -1);
        }
    }

    /** Reads the clock offset of every pair of ports (best of 8 tx-rx-tx reads). */
    void measureOffsets() {
        for (int tx = 0; tx < ports; tx++) {
            EthDevice t = engine.device(tx);
            for (int rx = 0; rx < ports; rx++) {
                if (rx == tx) {
                    continue;
                }
                EthDevice r = engine.device(rx);
                long best = Long.MAX_VALUE;
                for (int k = 0; k < 8; k++) {
                    long t1 = t.readTime();
                    long rr = r.readTime();
                    long t2 = t.readTime();
                    if (t2 - t1 < best) {
                        best = t2 - t1;
                        offset[rx][tx] = rr - (t1 + (t2 - t1) / 2);
                    }
                }
                uncertainty[rx][tx] = (best + 1) / 2;
            }
        }
    }

    /** The largest offset uncertainty over the pairs, ns. */
    synchronized long uncertaintyNanos() {
        long u = 0;
        for (long[] row : uncertainty) {
            for (long v : row) {
                u = Math.max(u, v);
            }
        }
        return u;
    }

    /** A copy of the histogram of stream {@code txPort}. */
    synchronized Histogram histogram(int txPort) {
        return hist[txPort].copy();
    }

    synchronized long txStampsMissing(int txPort) {
        return txMissing[txPort];
    }

    void stop() {
        stop = true;
    }

    @Override
    public void run() {
        MbufBatch b = new MbufBatch(1);
        Mbuf m = new Mbuf();
        long next = System.nanoTime();
        while (!stop) {
            int clear = engine.clearGeneration() & 0xFF;
            if (clear != epoch) {
                synchronized (this) {
                    for (Histogram h : hist) {
                        h.reset();
                    }
                    java.util.Arrays.fill(txMissing, 0);
                }
                epoch = clear;
            }
            for (int p = 0; p < ports; p++) {
                if (engine.plan(p).txOn()) {
                    probe(p, b, m);
                }
                drain();
            }
            next += INTERVAL_NS;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            } else {
                next = System.nanoTime();
            }
        }
    }

    private void probe(int p, MbufBatch b, Mbuf m) {
        EthDevice d = engine.device(p);
        Mempool pool = engine.txPool();
        if (!b.alloc(pool, 1, Mempool.LCORE_ANY)) {
            return;
        }
        int s = seq[p]++;
        TxSettings st = engine.plan(p).settings();
        m.wrap(b.get(0)).dataLen(Frames.PTP_PROBE_FRAME).pktLen(Frames.PTP_PROBE_FRAME);
        m.olFlags(MbufFlags.TX_IEEE1588_TMST);
        Frames.writePtpProbe(pool.segment(), m.dataPosition(), st.flows().dstMac(), st.flows().srcMac(),
                p << 4 | 0xF, epoch, s);
        d.readTxTimestamp(); // an earlier stamp nobody read would be taken for this frame's
        long end = System.nanoTime() + TX_STAMP_WAIT_NS;
        while (!b.isEmpty() && System.nanoTime() - end < 0) {
            d.txBurst(queue, b);
        }
        if (!b.isEmpty()) {
            b.free(Mempool.LCORE_ANY);
            return;
        }
        long stamp;
        while ((stamp = d.readTxTimestamp()) == -1 && System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
        synchronized (this) {
            if (stamp == -1) {
                txMissing[p]++;
                return;
            }
            txStamps[p][s & (TX_LOG - 1)] = stamp;
            txSeqs[p][s & (TX_LOG - 1)] = s;
        }
    }

    /** Joins what the RX workers logged with the TX stamps. */
    private synchronized void drain() {
        for (RxLog l : logs) {
            long h = l.head();
            for (long t = l.tail; t < h; t++) {
                int i = (int) (t & (RxLog.CAPACITY - 1));
                long key = l.keys[i];
                int txPort = (int) (key >>> 48);
                int rxPort = (int) (key >>> 32 & 0xFFFF);
                int s = (int) key;
                if (txPort >= ports || rxPort >= ports || txSeqs[txPort][s & (TX_LOG - 1)] != s) {
                    continue; // its TX stamp was lost or overwritten
                }
                long lat = l.stamps[i] - txStamps[txPort][s & (TX_LOG - 1)] - offset[rxPort][txPort];
                hist[txPort].recordValue(Math.max(0, Math.min(lat, StreamMeter.MAX_LATENCY_NS)));
            }
            l.tail = h;
        }
    }
}
