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
 * short random scenarios, each result checked against a sequential bounded queue). Bulk operations are all or
 * nothing; bursts take what fits.
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
    public String dequeueBurst3() {
        long[] out = new long[3];
        int n = ring.dequeueBurst(out, 0, 3);
        return java.util.Arrays.toString(java.util.Arrays.copyOf(out, n));
    }

    @Operation
    public int count() {
        return ring.count();
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

        public String dequeueBurst3() {
            java.util.List<Long> out = new java.util.ArrayList<>();
            while (out.size() < 3 && !q.isEmpty()) {
                out.add(q.poll());
            }
            return out.toString();
        }

        public int count() {
            return q.size();
        }
    }
}
