package io.jnic.apps.pktgen;

import io.jnic.ethdev.EthDevice;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.multiproc.MpRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.HdrHistogram.Histogram;

/**
 * The generator and meter over a set of started ports: per-port TX settings (validated against the port),
 * start/stop/clear, the worker threads, and snapshots of every counter. The console, the scripted mode and
 * the throughput search all drive it.
 */
final class Engine implements AutoCloseable {
    /**
     * What a port's TX queues do now: swapped whole, read by the workers once per burst.
     *
     * @param count frames per port per start, 0 for no limit
     */
    record Plan(TxSettings settings, boolean txOn, int startGeneration, double ppsPerQueue, long count, int queues) {
        /** Frames queue {@code q} sends per start: 0 for no limit, -1 for none (a count smaller than the queues). */
        long countPerQueue(int q) {
            if (count == 0) {
                return 0;
            }
            long share = count / queues + (q < count % queues ? 1 : 0);
            return share == 0 ? -1 : share;
        }
    }

    /** A port's counters. */
    record PortSnap(int port, long txFrames, long txBytes, long rxFrames, long rxBytes, long rxForeign,
            long allocFailures) {
    }

    /** A TX port's stream, all its queues, as every RX thread of every port saw it. */
    record StreamSnap(int txPort, long sent, long received, long duplicates, long reordered, long late,
            Histogram latency) {
        long lost() {
            return sent - received;
        }

        double lossRatio() {
            return sent == 0 ? 0 : (double) Math.max(0, lost()) / sent;
        }
    }

    record Snapshot(long nanos, List<PortSnap> ports, List<StreamSnap> streams, long stale) {
        long sent() {
            return streams.stream().mapToLong(StreamSnap::sent).sum();
        }

        long received() {
            return streams.stream().mapToLong(StreamSnap::received).sum();
        }

        Histogram latency() {
            Histogram h = new Histogram(StreamMeter.MAX_LATENCY_NS, 3);
            for (StreamSnap s : streams) {
                h.add(s.latency());
            }
            return h;
        }
    }

    private final MpRuntime rt;
    private final List<EthDevice> devs;
    private final Mempool txPool;
    private final int queues;
    private final int threads;
    private final int mtu;
    private final AtomicReferenceArray<Plan> plans;
    private final int[] linkMbps;
    private final Worker[] workers;
    private final List<Thread> running = new ArrayList<>();
    /** Hardware-timestamped latency ({@code --hw-latency}), or null. */
    private final HwLatency hw;
    private volatile int clearGeneration;

    Engine(MpRuntime rt, List<EthDevice> devs, Mempool txPool, int queues, int threads, int burst, int mtu,
            List<TxSettings> initial) {
        this(rt, devs, txPool, queues, threads, burst, mtu, initial, false);
    }

    /**
     * @param hwLatency also measure latency on the ports' clocks: the ports run IEEE 1588 timesync and have one TX
     *                  queue more than {@code queues}, which {@link HwLatency} sends its probes on
     */
    Engine(MpRuntime rt, List<EthDevice> devs, Mempool txPool, int queues, int threads, int burst, int mtu,
            List<TxSettings> initial, boolean hwLatency) {
        this.rt = rt;
        this.devs = List.copyOf(devs);
        this.txPool = txPool;
        this.queues = queues;
        this.threads = threads;
        this.mtu = mtu;
        this.plans = new AtomicReferenceArray<>(devs.size());
        this.linkMbps = new int[devs.size()];
        for (int p = 0; p < devs.size(); p++) {
            linkMbps[p] = devs.get(p).link().speedMbps();
            TxSettings s = initial.get(p);
            validate(p, s);
            plans.set(p, plan(p, s, false, 0));
        }
        int[] streams = new int[devs.size() * queues];
        for (int p = 0; p < devs.size(); p++) {
            for (int q = 0; q < queues; q++) {
                streams[p * queues + q] = p << 4 | q;
            }
        }
        workers = new Worker[threads];
        for (int t = 0; t < threads; t++) {
            List<Worker.TxQueue> tx = new ArrayList<>();
            List<Worker.RxQueue> rx = new ArrayList<>();
            for (int p = 0; p < devs.size(); p++) {
                for (int q = t; q < queues; q += threads) {
                    tx.add(new Worker.TxQueue(p, q, devs.get(p), burst));
                    rx.add(new Worker.RxQueue(p, q, devs.get(p)));
                }
            }
            workers[t] = new Worker(this, t, tx.toArray(new Worker.TxQueue[0]), rx.toArray(new Worker.RxQueue[0]),
                    devs.size(), streams, burst, hwLatency ? new HwLatency.RxLog() : null);
        }
        if (hwLatency) {
            HwLatency.RxLog[] logs = new HwLatency.RxLog[threads];
            for (int t = 0; t < threads; t++) {
                logs[t] = workers[t].hwLog;
            }
            hw = new HwLatency(this, logs, devs.size(), queues);
            hw.measureOffsets();
        } else {
            hw = null;
        }
    }

    /** The hardware latency meter, or null without {@code --hw-latency}. */
    HwLatency hw() {
        return hw;
    }

    /** Starts the worker threads: pinned to the -l lcores when there are enough, else on floating lcore ids. */
    void launch() {
        int[] lcores = rt.lcores().ids();
        for (int t = 0; t < threads; t++) {
            Worker w = workers[t];
            running.add(lcores.length >= threads ? rt.launch(lcores[t], w) : rt.launchFloating("pktgen-" + t, w));
        }
        if (hw != null) {
            running.add(Thread.ofPlatform().daemon().name("pktgen-hw-latency").start(hw));
        }
    }

    int ports() {
        return devs.size();
    }

    int queues() {
        return queues;
    }

    Mempool txPool() {
        return txPool;
    }

    int clearGeneration() {
        return clearGeneration;
    }

    Plan plan(int port) {
        return plans.get(port);
    }

    EthDevice device(int port) {
        return devs.get(checkPort(port));
    }

    int linkMbps(int port) {
        return linkMbps[checkPort(port)];
    }

    int checkPort(int p) {
        if (p < 0 || p >= devs.size()) {
            throw new IllegalArgumentException("no port " + p + ": this pktgen has port" + (devs.size() == 1 ? " 0"
                    : "s 0-" + (devs.size() - 1)));
        }
        return p;
    }

    /** The largest frame (with FCS) port {@code p} sends: its MTU plus Ethernet header and FCS (and a VLAN tag). */
    int maxFrame(int p, boolean vlan) {
        return mtu + Frames.ETH_HEADER + Frames.FCS + (vlan ? Frames.VLAN_TAG : 0);
    }

    /** Throws, saying what to change, when port {@code p} cannot send what {@code s} asks. */
    void validate(int p, TxSettings s) {
        checkPort(p);
        boolean vlan = s.vlan() >= 0;
        int min = vlan ? Frames.MIN_PROBE_FRAME_VLAN : Frames.MIN_PROBE_FRAME;
        if (s.size().min() < min) {
            throw new IllegalArgumentException("frame size " + s.size().min() + " is below " + min + " bytes" + (vlan
                    ? ", the smallest VLAN-tagged frame that carries pktgen's probe" : ", the Ethernet minimum"));
        }
        int max = maxFrame(p, vlan);
        if (s.size().max() > max) {
            throw new IllegalArgumentException("frame size " + s.size().max() + " is above port " + p + "'s MTU " + mtu
                    + " (frames up to " + max + " bytes" + (vlan ? " with the VLAN tag" : "") + "); for jumbo frames start "
                    + "pktgen with --mtu (up to " + devs.get(p).info().maxMtu() + " on this port)");
        }
        Rate r = s.rate();
        int speed = linkMbps[p];
        if (r.kind() == Rate.Kind.PERCENT && speed <= 0) {
            throw new IllegalArgumentException("port " + p + " does not report a link speed, so " + r + " of line rate "
                    + "means nothing; give the rate in pps or Mbit/s");
        }
        if (speed > 0 && r.kind() != Rate.Kind.MAX) {
            double avg = s.size().average();
            double pps = r.pps(avg, speed);
            double line = Rate.lineRatePps(avg, speed);
            if (pps > line * 1.000001) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "rate %s (%.0f pps of %.0f-byte frames) is "
                        + "above port %d's line rate: %.0f pps at %d Mbit/s (use at most 100%% or max)", r, pps, avg, p,
                        line, speed));
            }
        }
    }

    private Plan plan(int p, TxSettings s, boolean on, int gen) {
        double pps = s.rate().pps(s.size().average(), linkMbps[p]);
        return new Plan(s, on, gen, pps / queues, s.count(), queues);
    }

    TxSettings settings(int p) {
        return plans.get(checkPort(p)).settings();
    }

    /** New settings for port {@code p}; a running port continues with them from its next burst. */
    synchronized void set(int p, TxSettings s) {
        validate(p, s);
        Plan old = plans.get(p);
        plans.set(p, plan(p, s, old.txOn(), old.startGeneration()));
    }

    synchronized void start(int p) {
        checkPort(p);
        linkMbps[p] = devs.get(p).link().speedMbps();
        Plan old = plans.get(p);
        validate(p, old.settings());
        plans.set(p, plan(p, old.settings(), true, old.startGeneration() + 1));
    }

    synchronized void stop(int p) {
        Plan old = plans.get(checkPort(p));
        plans.set(p, new Plan(old.settings(), false, old.startGeneration(), old.ppsPerQueue(), old.count(), old.queues()));
    }

    boolean transmitting(int p) {
        return plans.get(checkPort(p)).txOn();
    }

    /** Zeroes every counter, meter and sequence number; frames of the old epoch still in flight are ignored. */
    synchronized void clear() throws InterruptedException {
        int gen = ++clearGeneration;
        long end = System.nanoTime() + 2_000_000_000L;
        for (Worker w : workers) {
            while (w.clearAck != gen && System.nanoTime() - end < 0) {
                Thread.sleep(1);
            }
            if (w.clearAck != gen) {
                throw new IllegalStateException("pktgen thread " + w.index + " did not clear its counters within 2 s");
            }
        }
    }

    /** True when every transmitting port with a count has built and handed over all of it. */
    boolean countsDone() {
        for (Worker w : workers) {
            long ignored = w.published;
            for (Worker.TxQueue t : w.tx) {
                Plan p = plans.get(t.port);
                if (!p.txOn()) {
                    continue;
                }
                long limit = p.countPerQueue(t.queue);
                if (limit == 0 || (limit > 0 && (t.plan == null || t.seenStart != p.startGeneration()
                        || t.runBuilt < limit || !t.batch.isEmpty()))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Waits until nothing more arrives for {@code quietMillis}, at most {@code maxMillis}: frames in flight land. */
    void quiesce(long quietMillis, long maxMillis) throws InterruptedException {
        long end = System.nanoTime() + maxMillis * 1_000_000L;
        long last = -1;
        long stableSince = System.nanoTime();
        while (System.nanoTime() - end < 0) {
            long rx = 0;
            for (Worker w : workers) {
                long ignored = w.published;
                for (long v : w.rxFrames) {
                    rx += v;
                }
            }
            long now = System.nanoTime();
            if (rx != last) {
                last = rx;
                stableSince = now;
            } else if (now - stableSince >= quietMillis * 1_000_000L) {
                return;
            }
            Thread.sleep(5);
        }
    }

    Snapshot snapshot() {
        int n = devs.size();
        long[] txF = new long[n];
        long[] txB = new long[n];
        long[] rxF = new long[n];
        long[] rxB = new long[n];
        long[] foreign = new long[n];
        long[] allocF = new long[n];
        long[] sent = new long[n];
        long[] recv = new long[n];
        long[] dup = new long[n];
        long[] reo = new long[n];
        long[] late = new long[n];
        Histogram[] lat = new Histogram[n];
        for (int p = 0; p < n; p++) {
            lat[p] = new Histogram(StreamMeter.MAX_LATENCY_NS, 3);
        }
        long stale = 0;
        for (Worker w : workers) {
            long ignored = w.published; // a volatile read: the worker's counters up to its last publication
            for (Worker.TxQueue t : w.tx) {
                txF[t.port] += t.sent;
                txB[t.port] += t.bytes;
                allocF[t.port] += t.allocFailures;
                sent[t.port] += t.sent;
            }
            for (int p = 0; p < n; p++) {
                rxF[p] += w.rxFrames[p];
                rxB[p] += w.rxBytes[p];
                foreign[p] += w.rxForeign[p];
            }
            for (int s = 0; s < w.meters.length; s++) {
                StreamMeter m = w.meters[s];
                if (m != null) {
                    int p = s >>> 4;
                    recv[p] += m.frames;
                    dup[p] += m.duplicates;
                    reo[p] += m.reordered;
                    late[p] += m.late;
                    lat[p].add(m.latency);
                }
            }
            stale += w.rxStale;
        }
        List<PortSnap> ports = new ArrayList<>();
        List<StreamSnap> streams = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            ports.add(new PortSnap(p, txF[p], txB[p], rxF[p], rxB[p], foreign[p], allocF[p]));
            streams.add(new StreamSnap(p, sent[p], recv[p], dup[p], reo[p], late[p], lat[p]));
        }
        return new Snapshot(System.nanoTime(), ports, streams, stale);
    }

    @Override
    public void close() throws InterruptedException {
        for (Worker w : workers) {
            w.stop = true;
        }
        if (hw != null) {
            hw.stop();
        }
        for (Thread t : running) {
            t.join(5000);
        }
        running.clear();
    }
}
