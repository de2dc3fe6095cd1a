package io.jnic.memory.ring;

import static io.jnic.memory.ring.RingCrashChild.BATCH;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jnic.memory.CrashPoint;
import io.jnic.memory.testing.ChildJvm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A process killed at each step of an enqueue and a dequeue (side held, half copied, copied but not published),
 * in all four sync modes: the survivors' next operations complete without anyone's help and the ring holds exactly
 * what was published, nothing twice and nothing half.
 */
class RingCrashTest {

    private static final long SIZE = 1 << 16;
    private static final int SLOTS = 64;
    /** Survivors must finish well within this; a hang fails the test instead of stalling the build. */
    private static final Duration HANG = Duration.ofSeconds(60);

    static Stream<Arguments> producerPoints() {
        List<Arguments> a = new ArrayList<>();
        for (String p : List.of(CrashPoint.RING_ENQ_HELD, CrashPoint.RING_ENQ_HALF, CrashPoint.RING_ENQ_COPIED)) {
            a.add(Arguments.of(p, Ring.F_SC_DEQ, "MP/SC"));
            a.add(Arguments.of(p, Ring.F_SP_ENQ, "SP/MC"));
        }
        return a.stream();
    }

    static Stream<Arguments> consumerPoints() {
        List<Arguments> a = new ArrayList<>();
        for (String p : List.of(CrashPoint.RING_DEQ_HELD, CrashPoint.RING_DEQ_HALF, CrashPoint.RING_DEQ_COPIED)) {
            a.add(Arguments.of(p, 0, "MP/MC"));
            a.add(Arguments.of(p, Ring.F_SP_ENQ | Ring.F_SC_DEQ, "SP/SC"));
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{2} producer killed at {0}")
    @MethodSource("producerPoints")
    void aProducerKilledMidEnqueueLeavesTheRingWhole(String point, int flags, String mode) {
        Path path = SharedFile.shmPath("ring-crash");
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Ring r = Ring.create(m, "crash", SLOTS, flags);
            long done = runChild("produce", path, point, m);
            assertEquals(2, done, "the child completed two enqueues before its third was cut");
            long[] marker = LongStream.range(1000, 1000 + BATCH).toArray();
            // the survivor's enqueue completes by itself: a dead holder's side is resolved by whoever waits
            assertTimeoutPreemptively(HANG, () -> assertEquals(BATCH, r.enqueueBulk(marker, 0, BATCH)));
            long[] out = new long[SLOTS];
            int n = r.dequeueBurst(out, 0, SLOTS);
            long[] expect = LongStream.concat(LongStream.range(0, done * BATCH), LongStream.of(marker)).toArray();
            assertArrayEquals(expect, java.util.Arrays.copyOf(out, n), "published batches once each, then the survivor's");
            assertEquals(0, r.counters()[1], "no producer holder left");
        }
    }

    @ParameterizedTest(name = "{2} consumer killed at {0}")
    @MethodSource("consumerPoints")
    void aConsumerKilledMidDequeueLosesNothing(String point, int flags, String mode) {
        Path path = SharedFile.shmPath("ring-crash");
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Ring r = Ring.create(m, "crash", SLOTS, flags);
            long[] all = LongStream.range(0, 5 * BATCH).toArray();
            assertEquals(all.length, r.enqueueBulk(all, 0, all.length));
            long done = runChild("consume", path, point, m);
            assertEquals(2, done);
            long[] got = new long[(int) done * BATCH];
            MemorySegment.copy(m, ValueLayout.JAVA_LONG, RingCrashChild.LOG_OFF, got, 0, got.length);
            long[] rest = new long[SLOTS];
            int[] n = new int[1];
            assertTimeoutPreemptively(HANG, () -> n[0] = r.dequeueBurst(rest, 0, SLOTS));
            long[] seen = LongStream.concat(LongStream.of(got), LongStream.of(java.util.Arrays.copyOf(rest, n[0]))).toArray();
            assertArrayEquals(all, seen, "what the dead consumer took plus what is left is everything, once");
            assertEquals(0, r.counters()[3], "no consumer holder left");
        }
    }

    @Test
    void recoveryResolvesADeadHoldNobodyWaitsFor() {
        Path path = SharedFile.shmPath("ring-crash");
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Ring r = Ring.create(m, "crash", SLOTS, 0);
            assertEquals(2, runChild("produce", path, CrashPoint.RING_ENQ_HALF, m));
            assertEquals(RingDescriptor.holder(r.sideWord(true)) != 0, true, "the dead child still holds the producer side");
            assertEquals(1, r.recoverDeadHolders());
            assertEquals(0, r.recoverDeadHolders());
            assertEquals(2 * BATCH, r.count(), "rolled back: the half-copied batch is not there");
        }
    }

    /** Runs the child until its crash point kills it at the third operation; returns how many it completed. */
    private static long runChild(String role, Path path, String point, MemorySegment m) {
        try (ChildJvm c = ChildJvm.start(List.of("-Djnic.crashPoint=" + point + ":3"), RingCrashChild.class, role,
                path.toString(), Long.toString(SIZE))) {
            int code = c.waitFor(120);
            assertEquals(137, code, () -> "the child should have died by SIGKILL at " + point + "; output: " + c.output());
        }
        return m.get(ValueLayout.JAVA_LONG, RingCrashChild.DONE_OFF);
    }
}
