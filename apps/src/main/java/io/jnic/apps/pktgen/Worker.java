package io.jnic.apps.pktgen;

import io.jnic.ethdev.EthDevice;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.multiproc.MpRuntime;
import java.lang.foreign.MemorySegment;

/**
 * One pktgen lcore: transmits and receives on its queues of every port (queue q belongs to thread q mod
 * threads). TX is paced by a token bucket per queue, topped up from the clock and capped at one burst, so
 * frames leave steadily and never in bursts larger than the burst size. RX meters every frame that carries a
 * probe. Counters are the thread's own; others read them after a volatile read of {@link #published}.
 */
final class Worker implements Runnable {
    /** One TX queue of one port. */
    static final class TxQueue {
        final int port;
        final int queue;
        final int stream;
        final EthDevice dev;
        final MbufBatch batch;
        int seq;
        long k; // frames built since clear: picks size and flow
        long sent;
        long bytes;
        long runBuilt; // frames built since the last start
        long allocFailures;
        double tokens;
        long last;
        int seenStart = -1;
        Engine.Plan plan;

        TxQueue(int port, int queue, EthDevice dev, int burst) {
            this.port = port;
            this.queue = queue;
            this.stream = port << 4 | queue;
            this.dev = dev;
            this.batch = new MbufBatch(burst);
        }
    }

    /** One RX queue of one port. */
    record RxQueue(int port, int queue, EthDevice dev) {
    }

    private final Engine engine;
    final int index;
    final TxQueue[] tx;
    final RxQueue[] rx;
    final StreamMeter[] meters = new StreamMeter[256];
    final long[] rxFrames;
    final long[] rxBytes;
    final long[] rxForeign;
    long rxStale;
    volatile long published;
    volatile int clearAck = -1;
    volatile boolean stop;
    private final MbufBatch rxBatch;
    private final Mbuf m = new Mbuf();
    private final int burst;
    private int seenClear = -1;
    private int epoch;

    /** Where timestamped probes go ({@code --hw-latency}), or null. */
    final HwLatency.RxLog hwLog;

    Worker(Engine engine, int index, TxQueue[] tx, RxQueue[] rx, int ports, int[] streams, int burst,
            HwLatency.RxLog hwLog) {
        this.engine = engine;
        this.hwLog = hwLog;
        this.index = index;
        this.tx = tx;
        this.rx = rx;
        this.burst = burst;
        this.rxBatch = new MbufBatch(burst);
        this.rxFrames = new long[ports];
        this.rxBytes = new long[ports];
        this.rxForeign = new long[ports];
        for (int s : streams) {
            meters[s] = new StreamMeter();
        }
    }

    @Override
    public void run() {
        int lcore = MpRuntime.currentLcore();
        Mempool txPool = engine.txPool();
        MemorySegment txSeg = txPool.segment();
        long turn = 0;
        while (!stop) {
            int clear = engine.clearGeneration();
            if (clear != seenClear) {
                clearAll(clear, lcore);
            }
            long now = System.nanoTime();
            boolean work = false;
            for (TxQueue t : tx) {
                work |= transmit(t, now, lcore, txPool, txSeg);
            }
            for (RxQueue r : rx) {
                work |= receive(r, lcore);
            }
            if (work || (++turn & 255) == 0) {
                published = now;
            }
            if (!work) {
                Thread.onSpinWait();
            }
        }
        for (TxQueue t : tx) {
            dropPending(t, lcore);
        }
        published = System.nanoTime();
    }

    private void clearAll(int clear, int lcore) {
        for (TxQueue t : tx) {
            dropPending(t, lcore);
            t.seq = 0;
            t.k = 0;
            t.sent = 0;
            t.bytes = 0;
            t.allocFailures = 0;
        }
        for (StreamMeter s : meters) {
            if (s != null) {
                s.clear();
            }
        }
        java.util.Arrays.fill(rxFrames, 0);
        java.util.Arrays.fill(rxBytes, 0);
        java.util.Arrays.fill(rxForeign, 0);
        rxStale = 0;
        epoch = clear & 0xFF;
        seenClear = clear;
        clearAck = clear;
    }

    /** Frees frames built but not taken by the device; their sequence numbers are reused, so nothing counts as lost. */
    private static void dropPending(TxQueue t, int lcore) {
        int n = t.batch.count();
        if (n > 0) {
            t.batch.free(lcore);
            t.seq -= n;
            t.k -= n;
            t.runBuilt -= n;
        }
    }

    private boolean transmit(TxQueue t, long now, int lcore, Mempool pool, MemorySegment seg) {
        Engine.Plan plan = engine.plan(t.port);
        if (!plan.txOn()) {
            dropPending(t, lcore);
            return false;
        }
        if (plan.startGeneration() != t.seenStart) {
            dropPending(t, lcore);
            t.seenStart = plan.startGeneration();
            t.runBuilt = 0;
            t.tokens = 0;
            t.last = now;
        }
        t.plan = plan;
        double pps = plan.ppsPerQueue();
        if (pps > 0) {
            t.tokens = Math.max(-burst, Math.min(t.tokens + (now - t.last) * 1e-9 * pps, burst));
        }
        t.last = now;
        if (!t.batch.isEmpty()) { // the device's ring was full: these go first, in order
            return send(t) > 0;
        }
        long limit = plan.countPerQueue(t.queue);
        int n = burst;
        if (limit != 0) {
            if (limit < 0 || t.runBuilt >= limit) {
                return false;
            }
            n = (int) Math.min(n, limit - t.runBuilt);
        }
        if (pps > 0) {
            n = Math.min(n, (int) t.tokens);
            if (n <= 0) {
                return false;
            }
        }
        if (!t.batch.alloc(pool, n, lcore)) {
            t.allocFailures++;
            return false;
        }
        TxSettings s = plan.settings();
        Flows f = s.flows();
        int vlan = s.vlan();
        long ts = now & Frames.TS_MASK;
        long[] h = t.batch.handles();
        int queues = engine.queues();
        for (int i = 0; i < n; i++) {
            long k = t.k++;
            int len = s.size().sizeOf(k) - Frames.FCS;
            long flow = k * queues + t.queue;
            m.wrap(h[i]).dataLen(len).pktLen(len);
            Frames.write(seg, m.dataPosition(), len, f.dstMac() + flow % f.dstMacCount(), f.srcMac() + flow % f.srcMacCount(),
                    vlan, f.srcIp() + (int) (flow % f.srcIpCount()), f.dstIp() + (int) (flow % f.dstIpCount()),
                    f.srcPort() + (int) (flow % f.srcPortCount()), f.dstPort() + (int) (flow % f.dstPortCount()),
                    (int) k, t.stream, epoch, t.seq++, ts);
        }
        t.runBuilt += n;
        send(t);
        return true;
    }

    private int send(TxQueue t) {
        MbufBatch b = t.batch;
        long[] h = b.handles();
        long bytes = 0;
        int n = b.count();
        for (int i = 0; i < n; i++) {
            bytes += m.wrap(h[i]).dataLen() + Frames.FCS;
        }
        int k = t.dev.txBurst(t.queue, b);
        for (int i = 0; i < b.count(); i++) { // what stayed behind is at the front of the batch
            bytes -= m.wrap(h[i]).dataLen() + Frames.FCS;
        }
        t.sent += k;
        t.bytes += bytes;
        t.tokens -= k;
        return k;
    }

    private boolean receive(RxQueue r, int lcore) {
        int got = r.dev().rxBurst(r.queue(), rxBatch);
        if (got == 0) {
            return false;
        }
        long now = System.nanoTime() & Frames.TS_MASK;
        long[] h = rxBatch.handles();
        int p = r.port();
        for (int i = 0; i < got; i++) {
            m.wrap(h[i]);
            int len = m.dataLen();
            int wire = m.pktLen() + Frames.FCS;
            MemorySegment seg = m.pool().segment();
            long pos = m.dataPosition();
            if (hwLog != null && (m.olFlags() & MbufFlags.RX_IEEE1588_TMST) != 0) {
                int hp = Frames.ptpProbeOffset(seg, pos, len);
                if (hp >= 0) { // a hardware probe: logged with the port's RX time, not counted as traffic
                    if (Frames.epoch(seg, pos + hp) == epoch) {
                        hwLog.add(Frames.stream(seg, pos + hp) >>> 4, Frames.seq(seg, pos + hp), p, m.timestamp());
                    }
                    continue;
                }
            }
            rxFrames[p]++;
            rxBytes[p] += wire;
            int po = Frames.probeOffset(seg, pos, len);
            if (po < 0) {
                rxForeign[p]++;
                continue;
            }
            long probe = pos + po;
            if (Frames.epoch(seg, probe) != epoch) {
                rxStale++;
                continue;
            }
            StreamMeter sm = meters[Frames.stream(seg, probe)];
            if (sm == null) {
                rxForeign[p]++;
                continue;
            }
            long lat = (now - Frames.timestamp(seg, probe)) & Frames.TS_MASK;
            sm.record(Frames.seq(seg, probe), wire, lat > Frames.TS_MASK >>> 1 ? -1 : lat);
        }
        rxBatch.free(lcore);
        return true;
    }
}
