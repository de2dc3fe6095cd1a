package io.jnic.bench;

import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Mman;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The work of DPDK's mpbench.c (shared/anchors): a pool of 8191 mbufs with a 256-object cache or none,
 * bulk 32 {@code getBulk + putBulk} (rte_mempool_get_bulk/put_bulk) and {@code allocBulk + freeBulk}
 * (rte_pktmbuf_alloc_bulk/free_bulk) on lcore 0. Divide ns/op by 32 for ns per object. Each invocation runs
 * {@link #LOOP} of them, as mpbench.c times a loop with one rdtsc on each side.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MempoolBench {

    static final int BULK = 32;

    @Param({"256", "0"})
    public int cache;

    private MemorySegment mem;
    private Mempool pool;
    private final long[] objs = new long[BULK];

    @Setup(Level.Trial)
    public void setup() {
        MempoolConfig c = MempoolConfig.of("bench", 1, 8191).withCacheSize(cache);
        mem = BenchMemory.map(Mempool.bytesNeeded(c, BenchMemory.HUGE) + BenchMemory.HUGE);
        pool = Mempool.create(mem, c, off -> off, BenchMemory.pageSize(mem));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        Mman.munmap(mem);
    }

    static final int LOOP = 16;

    @Benchmark
    @OperationsPerInvocation(LOOP)
    public long getPutBulk() {
        long s = 0;
        for (int i = 0; i < LOOP; i++) {
            if (!pool.getBulk(objs, 0, BULK, 0)) {
                throw new IllegalStateException("get failed");
            }
            pool.putBulk(objs, 0, BULK, 0);
            s += objs[0];
        }
        return s;
    }

    @Benchmark
    @OperationsPerInvocation(LOOP)
    public long allocFreeBulk() {
        long s = 0;
        for (int i = 0; i < LOOP; i++) {
            if (!pool.allocBulk(objs, 0, BULK, 0)) {
                throw new IllegalStateException("alloc failed");
            }
            Mempool.freeBulk(objs, 0, BULK, 0);
            s += objs[0];
        }
        return s;
    }
}
