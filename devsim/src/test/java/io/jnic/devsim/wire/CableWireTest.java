package io.jnic.devsim.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.Devsim;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cable between two devsim processes' ports: both ends opened here, on one file. */
class CableWireTest {
    @TempDir
    Path dir;

    /** Records the first long of every frame it receives and when. */
    static final class Recorder implements FramePort {
        final List<Long> values = new ArrayList<>();
        final List<Long> arrivals = new ArrayList<>();

        @Override
        public void receive(MemorySegment frame, long offset, int length) {
            values.add(frame.get(ValueLayout.JAVA_LONG_UNALIGNED, offset));
            arrivals.add(System.nanoTime());
        }

        @Override
        public String portName() {
            return "recorder";
        }
    }

    private static final MemorySegment FRAME = Arena.global().allocate(60);

    private static void send(CableWire w, long value) {
        FRAME.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
        w.transmit(FRAME, 0, 60);
    }

    /** Polls for at least {@code forNanos}, and on until a poll finds nothing (a loaded machine may preempt us). */
    private static void drain(CableWire w, long forNanos) {
        long end = System.nanoTime() + forNanos;
        int got;
        long now;
        do {
            now = System.nanoTime(); // the last poll is one at or after the end, however long a preemption lasts
            got = w.poll(now);
        } while (now - end < 0 || got > 0);
    }

    @Test
    void framesCrossInBothDirectionsInOrder() {
        Path f = dir.resolve("c0");
        try (CableWire a = new CableWire(f); CableWire b = new CableWire(f)) {
            assertEquals("A", a.end());
            assertEquals("B", b.end());
            Recorder ra = new Recorder();
            Recorder rb = new Recorder();
            a.attach(ra);
            b.attach(rb);
            assertTrue(a.carrier() && b.carrier(), "both ends plugged: carrier on both");
            for (long i = 0; i < 3000; i++) {
                send(a, i);
                if (i % 100 == 99) {
                    b.poll(System.nanoTime());
                    drain(b, 0);
                }
            }
            send(b, 42);
            drain(b, 1_000_000);
            drain(a, 1_000_000);
            assertEquals(3000, rb.values.size());
            for (int i = 0; i < 3000; i++) {
                assertEquals(i, rb.values.get(i));
            }
            assertEquals(List.of(42L), ra.values);
            assertEquals(0, a.overflows());
        }
        assertFalse(Files.exists(f), "the last end to unplug removes the cable file");
    }

    @Test
    void aFullRingDropsAndCounts() {
        Path f = dir.resolve("c1");
        try (CableWire a = new CableWire(f, 16); CableWire b = new CableWire(f)) {
            Recorder rb = new Recorder();
            b.attach(rb);
            for (int i = 0; i < 20; i++) {
                send(a, i);
            }
            drain(b, 1_000_000);
            assertEquals(16, rb.values.size());
            assertEquals(4, a.overflows());
        }
    }

    @Test
    void dropFaultLosesAboutItsShare() {
        Path f = dir.resolve("c2");
        try (CableWire a = new CableWire(f); CableWire b = new CableWire(f)) {
            Recorder rb = new Recorder();
            b.attach(rb);
            a.dropProbability(0.1);
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                send(a, i);
                if ((i & 63) == 63) {
                    drain(b, 0);
                }
            }
            drain(b, 1_000_000);
            // binomial(20000, 0.1): mean 2000, sd ~42; 6 sd either side
            assertEquals(n, rb.values.size() + a.dropped());
            assertTrue(Math.abs(a.dropped() - 2000) < 260, "dropped " + a.dropped() + " of " + n + " at p = 0.1");
        }
    }

    @Test
    void duplicateAndReorderFaultsShowInTheSequence() {
        Path f = dir.resolve("c3");
        try (CableWire a = new CableWire(f); CableWire b = new CableWire(f)) {
            Recorder rb = new Recorder();
            b.attach(rb);
            a.duplicateProbability(0.05);
            a.reorderProbability(0.05);
            for (int i = 0; i < 2000; i++) {
                send(a, i);
                if ((i & 63) == 63) {
                    drain(b, 0);
                }
            }
            drain(a, 300_000); // a held frame goes out after 100 us without a successor
            drain(b, 1_000_000);
            long dups = 0;
            long late = 0;
            long max = -1;
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (long v : rb.values) {
                if (!seen.add(v)) {
                    dups++;
                } else if (v < max) {
                    late++;
                }
                max = Math.max(max, v);
            }
            List<Long> missing = new ArrayList<>();
            for (long i = 0; i < 2000; i++) {
                if (!seen.contains(i)) {
                    missing.add(i);
                }
            }
            assertEquals(List.of(), missing, "nothing lost; " + a.describe() + " reordered " + a.reordered() + " dup "
                    + a.duplicated() + " received " + rb.values.size() + " overflows " + a.overflows());
            assertEquals(a.duplicated(), dups);
            assertTrue(a.duplicated() > 0 && a.reordered() > 0, "faults happened: " + a.describe());
            assertEquals(a.reordered(), late, "every swap shows as one frame arriving after a later one");
        }
    }

    @Test
    void delayedFramesArriveNoEarlierThanTheirDelay() {
        Path f = dir.resolve("c4");
        try (CableWire a = new CableWire(f); CableWire b = new CableWire(f)) {
            Recorder rb = new Recorder();
            b.attach(rb);
            a.delayNanos(2_000_000);
            long t0 = System.nanoTime();
            send(a, 7);
            drain(b, 500_000);
            assertTrue(rb.values.isEmpty() || System.nanoTime() - t0 >= 2_000_000, "not before its delay");
            drain(b, 3_000_000);
            assertEquals(List.of(7L), rb.values);
            assertTrue(rb.arrivals.get(0) - t0 >= 2_000_000, "arrived after "
                    + String.format(Locale.ROOT, "%.3f ms", (rb.arrivals.get(0) - t0) / 1e6));
        }
    }

    @Test
    void aThirdPlugIsRefusedAndAMissingEndIsNamed() throws Exception {
        Path f = dir.resolve("c5");
        try (CableWire a = new CableWire(f)) {
            assertFalse(a.carrier(), "no carrier without the other end");
            assertTrue(a.describe().contains("other end missing"), a.describe());
            try (CableWire b = new CableWire(f)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CableWire(f));
                assertTrue(e.getMessage().contains("both ends plugged"), e.getMessage());
            }
        }
        Devsim.Config c = new Devsim.Config(1, List.of("cable:" + dir.resolve("lonely")), new byte[] {2, 0, 0, 0, 0, 0}, 0,
                64, 1, -1, 0, 0);
        try (Devsim d = Devsim.start(c)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.awaitCables(Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("other end of the cable of port 0") && e.getMessage().contains("lonely"),
                    e.getMessage());
            assertTrue(d.command("cable 0 drop 2").startsWith("error: cable drop probability must be 0-1"));
            assertTrue(d.command("cable 0 delay 100").startsWith("ok"));
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new CableWire(
                dir.resolve("no-such-dir").resolve("c")));
        assertTrue(bad.getMessage().contains("does not exist"), bad.getMessage());
        Files.writeString(dir.resolve("notacable"), "hello");
        assertThrows(IllegalArgumentException.class, () -> new CableWire(dir.resolve("notacable")));
    }
}
