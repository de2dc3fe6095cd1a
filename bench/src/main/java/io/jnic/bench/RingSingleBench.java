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
 * One handle in and out through the single-object calls, {@link Ring#enqueue(long)} and {@link Ring#dequeue(long)}:
 * what DPDK's ring_perf_autotest times on its "single" line (rte_ring_sp_enqueue / rte_ring_sc_dequeue and the MP/MC
 * forms, a bulk of one the C compiler specializes). {@link RingBench} times the array calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingSingleBench {

    /** SPSC = F_SP_ENQ | F_SC_DEQ, MPMC = default flags. */
    @Param({"SPSC", "MPMC"})
    public String sync;

    private MemorySegment mem;
    private Ring ring;

    @Setup(Level.Trial)
    public void setup() {
        int flags = sync.equals("SPSC") ? Ring.F_SP_ENQ | Ring.F_SC_DEQ : 0;
        mem = BenchMemory.map(Ring.bytesNeeded(4096, flags));
        ring = Ring.create(mem, "bench", 4096, flags);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Mman.munmap(mem);
    }

    @Benchmark
    @OperationsPerInvocation(RingBench.LOOP)
    public long single() {
        long s = 0;
        for (int i = 0; i < RingBench.LOOP; i++) {
            ring.enqueue(0x1000L);
            s += ring.dequeue(0L);
        }
        return s;
    }
}
