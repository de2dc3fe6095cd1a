package io.jnic.bench;

import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.ring.Ring;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The JMH benchmarks' loops timed by thread CPU time instead of wall time: on a machine shared with other
 * work, wall time counts the time the thread waits for a CPU, CPU time does not. Prints one line per
 * case: name, ns per element (CPU time), best of the rounds. A supplement to JMH, used by
 * memory-vs-dpdk.sh; run: java -cp benchmarks.jar io.jnic.bench.CpuTimeProbe [rounds [name filter]]
 */
public final class CpuTimeProbe {

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static long sink;
    /** Only cases whose name contains this run (one JVM per group keeps C2's profiles clean). */
    private static String filter = "";

    private CpuTimeProbe() {
    }

    interface Op {
        long run(int iterations);
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        filter = args.length > 1 ? args[1] : "";
        for (String sync : new String[] {"SPSC", "MPMC"}) {
            int flags = sync.equals("SPSC") ? Ring.F_SP_ENQ | Ring.F_SC_DEQ : 0;
            MemorySegment mem = BenchMemory.map(Ring.bytesNeeded(4096, flags));
            Ring ring = Ring.create(mem, "probe", 4096, flags);
            long[] in = new long[32];
            long[] out = new long[32];
            for (int b : new int[] {1, 8, 32}) {
                report("ring " + sync + " bulk " + b, b, rounds, it -> {
                    long s = 0;
                    for (int i = 0; i < it; i++) {
                        ring.enqueueBulk(in, 0, b);
                        s += ring.dequeueBulk(out, 0, b);
                    }
                    return s;
                });
                report("ring " + sync + " burst " + b, b, rounds, it -> {
                    long s = 0;
                    for (int i = 0; i < it; i++) {
                        ring.enqueueBurst(in, 0, b);
                        s += ring.dequeueBurst(out, 0, b);
                    }
                    return s;
                });
            }
        }
        for (int cache : new int[] {256, 0}) {
            MempoolConfig c = MempoolConfig.of("probe", 2, 8191).withCacheSize(cache);
            MemorySegment mem = BenchMemory.map(Mempool.bytesNeeded(c, BenchMemory.HUGE) + BenchMemory.HUGE);
            try (Mempool pool = Mempool.create(mem, c, off -> off, BenchMemory.pageSize(mem))) {
                long[] objs = new long[32];
                report("mempool cache " + cache + " get+put bulk 32", 32, rounds, it -> {
                    long s = 0;
                    for (int i = 0; i < it; i++) {
                        pool.getBulk(objs, 0, 32, 0);
                        pool.putBulk(objs, 0, 32, 0);
                        s += objs[0];
                    }
                    return s;
                });
                report("mbuf cache " + cache + " alloc+free bulk 32", 32, rounds, it -> {
                    long s = 0;
                    for (int i = 0; i < it; i++) {
                        pool.allocBulk(objs, 0, 32, 0);
                        Mempool.freeBulk(objs, 0, 32, 0);
                        s += objs[0];
                    }
                    return s;
                });
            }
        }
        if (sink == 42) {
            System.out.println();
        }
    }

    private static void report(String name, int perOp, int rounds, Op op) {
        if (!name.contains(filter)) {
            return;
        }
        int it = 200_000;
        for (int w = 0; w < 5; w++) {
            sink += op.run(it);
        }
        double best = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long t0 = MX.getCurrentThreadCpuTime();
            sink += op.run(it * 5);
            long t1 = MX.getCurrentThreadCpuTime();
            best = Math.min(best, (double) (t1 - t0) / (it * 5L * perOp));
        }
        System.out.printf("%-40s %8.3f ns/elem (CPU time, best of %d)%n", name, best, rounds);
    }
}
