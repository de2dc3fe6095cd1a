package io.jnic.memory.ring;

import java.lang.foreign.Arena;
import java.util.ArrayDeque;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.LongGen;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of the multi-producer/multi-consumer ring under concurrent threads (Lincheck's stress mode: many
 * short random scenarios, each result checked against a sequential bounded queue): single and bulk (all or nothing)
 * enqueues and dequeues. Left out, as in DPDK's rte_ring: {@code count()} (two tails read one after the other) and
 * bursts, whose size is chosen when the side is taken while the opposite side sees the effect only when it is
 * released; Lincheck showed both are not linearizable (a burst of 3 taking 2 of 4, an enqueue refused for room a
 * concurrent burst had already taken). They are snapshots, as documented.
 */
@Param(name = "v", gen = LongGen.class, conf = "1:99")
public class RingLincheckTest {

    private static final int CAPACITY = 5;
    private final Ring ring = Ring.create(Arena.ofAuto().allocate(Ring.bytesNeeded(CAPACITY, Ring.F_EXACT_SZ), 64),
            "lincheck", CAPACITY, Ring.F_EXACT_SZ);

    @Operation
    public boolean enqueue(@Param(name = "v") long v) {
        return ring.enqueue(v);
    }

    @Operation
    public long dequeue() {
        return ring.dequeue(-1);
    }

    @Operation
    public int enqueueBulk2(@Param(name = "v") long v) {
        return ring.enqueueBulk(new long[] {v, v + 100}, 0, 2);
    }

    @Operation
    public String dequeueBulk2() {
        long[] out = new long[2];
        int n = ring.dequeueBulk(out, 0, 2);
        return java.util.Arrays.toString(java.util.Arrays.copyOf(out, n));
    }

    @Test
    void isLinearizable() {
        new StressOptions().iterations(60).invocationsPerIteration(2_000).threads(3).actorsPerThread(3)
                .sequentialSpecification(Sequential.class).check(RingLincheckTest.class);
    }

    /** The specification: a bounded FIFO queue. */
    public static final class Sequential {
        private final ArrayDeque<Long> q = new ArrayDeque<>();

        public boolean enqueue(long v) {
            if (q.size() == CAPACITY) {
                return false;
            }
            q.add(v);
            return true;
        }

        public long dequeue() {
            Long v = q.poll();
            return v == null ? -1 : v;
        }

        public int enqueueBulk2(long v) {
            if (q.size() + 2 > CAPACITY) {
                return 0;
            }
            q.add(v);
            q.add(v + 100);
            return 2;
        }

        public String dequeueBulk2() {
            if (q.size() < 2) {
                return "[]";
            }
            return java.util.List.of(q.poll(), q.poll()).toString();
        }
    }
}
