package io.jnic.bench;

import io.jnic.memory.ring.Ring;
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
 * One thread enqueues a batch and dequeues it again, as DPDK's ring_perf_autotest does for its
 * "bulk enq/dequeue" and "burst enq/dequeue" lines; divide ns/op by the batch size for ns per element.
 * Like ring_perf, which times a loop of such pairs with one rdtsc on each side, each invocation runs
 * {@link #LOOP} pairs: JMH's own cost per invocation (a few ns) would otherwise be counted against a
 * one-handle pair that costs about as much.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingBench {

    /** SPSC = F_SP_ENQ | F_SC_DEQ, MPMC = default flags. */
    @Param({"SPSC", "MPMC"})
    public String sync;

    @Param({"1", "8", "32"})
    public int batch;

    private MemorySegment mem;
    private Ring ring;
    private final long[] in = new long[32];
    private final long[] out = new long[32];

    @Setup(Level.Trial)
    public void setup() {
        int flags = sync.equals("SPSC") ? Ring.F_SP_ENQ | Ring.F_SC_DEQ : 0;
        mem = BenchMemory.map(Ring.bytesNeeded(4096, flags));
        ring = Ring.create(mem, "bench", 4096, flags); // DPDK's ring_perf uses a 4096-slot ring
        for (int i = 0; i < in.length; i++) {
            in[i] = 0x1000L * (i + 1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Mman.munmap(mem);
    }

    static final int LOOP = 64;

    @Benchmark
    @OperationsPerInvocation(LOOP)
    public int bulk() {
        int s = 0;
        for (int i = 0; i < LOOP; i++) {
            ring.enqueueBulk(in, 0, batch);
            s += ring.dequeueBulk(out, 0, batch);
        }
        return s;
    }

    @Benchmark
    @OperationsPerInvocation(LOOP)
    public int burst() {
        int s = 0;
        for (int i = 0; i < LOOP; i++) {
            ring.enqueueBurst(in, 0, batch);
            s += ring.dequeueBurst(out, 0, batch);
        }
        return s;
    }
}
