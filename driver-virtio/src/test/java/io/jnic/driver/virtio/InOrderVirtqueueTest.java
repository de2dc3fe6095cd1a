package io.jnic.driver.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The split ring in order (VIRTIO_F_IN_ORDER, virtio 1.x 2.7.9) against an in-test device that uses buffers in the
 * order they were made available and, as the spec lets it, writes one used entry per batch: at the batch's first
 * position, naming the batch's last descriptor, used->idx moved by the batch's size. The entries it skips are
 * poisoned (an id outside the queue), so a driver that reads them breaks.
 */
class InOrderVirtqueueTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RING_IOVA = 0x1_0000_0000L;
    private static final long BUF_IOVA = 0x2_0000_0000L;
    private static final int POISON = 0x7EAD_BEEF;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** A device that uses buffers in order and returns them in batches (offsets from the spec, not the queue's). */
    static final class Device {
        final MemorySegment ring;
        final int size;
        final long availOff;
        final long usedOff;
        int lastAvail;
        int usedIdx;
        /** {head, bytes the device reports for it} of buffers taken and not returned, in order. */
        final ArrayDeque<int[]> pending = new ArrayDeque<>();
        final Random rnd = new Random(7);

        Device(SplitVirtqueue q, int start) {
            this.ring = q.memory();
            this.size = q.size();
            this.availOff = 16L * size;
            this.usedOff = q.usedIova() - q.descIova();
            lastAvail = usedIdx = start;
        }

        /** Takes every available buffer; each must sit in the descriptor of its position, unchained. */
        int consume() {
            int n = 0;
            int avail = Short.toUnsignedInt(ring.get(U16, availOff + 2));
            while ((lastAvail & 0xFFFF) != avail) {
                int head = Short.toUnsignedInt(ring.get(U16, availOff + 4 + 2L * (lastAvail & (size - 1))));
                assertEquals(lastAvail & (size - 1), head, "in order: position " + lastAvail + " uses its own descriptor");
                int len = ring.get(U32, 16L * head + 8);
                int flags = ring.get(U16, 16L * head + 12);
                assertEquals(0, flags & SplitVirtqueue.DESC_F_NEXT, "never chained");
                int wrote = (flags & SplitVirtqueue.DESC_F_WRITE) != 0 ? rnd.nextInt(len + 1) : 0;
                pending.add(new int[] {head, wrote});
                lastAvail++;
                n++;
            }
            return n;
        }

        /** Returns the next {@code k} buffers as one batch: one used entry, the skipped ones poisoned. */
        int[] returnBatch(int k) {
            int[] last = null;
            for (int i = 0; i < k; i++) {
                last = pending.poll();
            }
            for (int i = 1; i < k; i++) {
                long e = usedOff + 4 + 8L * ((usedIdx + i) & (size - 1));
                ring.set(U32, e, POISON);
                ring.set(U32, e + 4, -1);
            }
            long e = usedOff + 4 + 8L * (usedIdx & (size - 1));
            ring.set(U32, e, last[0]);
            ring.set(U32, e + 4, last[1]);
            usedIdx += k;
            ring.set(U16, usedOff + 2, (short) usedIdx);
            return last;
        }
    }

    private SplitVirtqueue queue(int size, int start) {
        MemorySegment m = arena.allocate(SplitVirtqueue.bytes(size), 4096);
        return SplitVirtqueue.inOrder(0, size, m, RING_IOVA, false, start);
    }

    @Test
    void wrapsManyTimesAroundASmallRingWithBatches() {
        for (int start : new int[] {0, 65_530}) {
            int size = 8;
            SplitVirtqueue q = queue(size, start);
            assertTrue(q.inOrder());
            Device dev = new Device(q, start);
            Random rnd = new Random(start + 1);
            long[] iovas = new long[16];
            int[] lens = new int[16];
            long[] toks = new long[16];
            long[] out = new long[16];
            int[] outLens = new int[16];
            ArrayDeque<long[]> expected = new ArrayDeque<>(); // {token, offered} in order
            ArrayDeque<Integer> reported = new ArrayDeque<>(); // what each returned buffer must come back with
            long nextToken = 1;
            int done = 0;
            // 100000 buffers through 8 descriptors: 12500 laps, the 16-bit indices wrap once or twice
            while (done < 100_000) {
                int want = 1 + rnd.nextInt(12);
                for (int i = 0; i < want; i++) {
                    toks[i] = nextToken + i;
                    lens[i] = 64 + rnd.nextInt(512);
                    iovas[i] = BUF_IOVA + (toks[i] << 12);
                }
                int free = q.freeCount();
                int added = q.addBurst(iovas, lens, toks, 0, want, true);
                assertEquals(Math.min(want, free), added, "takes what fits");
                for (int i = 0; i < added; i++) {
                    expected.add(new long[] {toks[i], lens[i]});
                }
                nextToken += added;
                q.publish();
                dev.consume();
                // the device returns a random part of what it holds, in random batches
                int give = dev.pending.isEmpty() ? 0 : rnd.nextInt(dev.pending.size() + 1);
                while (give > 0) {
                    int k = 1 + rnd.nextInt(give);
                    int[] last = dev.returnBatch(k);
                    for (int i = 0; i < k - 1; i++) {
                        reported.add(-2); // inside a batch: the length it offered
                    }
                    reported.add(last[1]);
                    give -= k;
                }
                int max = 1 + rnd.nextInt(size);
                int n = q.poll(out, outLens, 0, max);
                assertTrue(n <= max);
                for (int i = 0; i < n; i++) {
                    long[] e = expected.poll();
                    assertEquals(e[0], out[i], "buffers come back in the order they were added");
                    int r = reported.poll();
                    assertEquals(r == -2 ? (int) e[1] : r, outLens[i], "length of token " + e[0]);
                }
                done += n;
                assertEquals(expected.size(), q.inFlightCount());
            }
            assertEquals(0, q.badLengths());
            assertEquals((start + done) & 0xFFFF, q.lastUsedIndex());
            assertEquals((start + done + q.inFlightCount()) & 0xFFFF, q.availIndex());
        }
    }

    @Test
    void oneUsedEntryReturnsAWholeBatch() {
        SplitVirtqueue q = queue(16, 0);
        Device dev = new Device(q, 0);
        for (int i = 0; i < 5; i++) {
            assertTrue(q.add(BUF_IOVA + i * 4096L, 100 + i, false, 10 + i)); // device-readable, as transmit
        }
        q.publish();
        assertEquals(5, dev.consume());
        dev.returnBatch(5);
        long[] out = new long[8];
        int[] lens = new int[8];
        assertEquals(5, q.usedCount());
        assertEquals(5, q.poll(out, lens, 0, 8));
        assertArrayEquals(new long[] {10, 11, 12, 13, 14}, java.util.Arrays.copyOf(out, 5));
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, java.util.Arrays.copyOf(lens, 5), "device-readable: 0 bytes written");
        assertEquals(16, q.freeCount());
        assertEquals(0, q.poll(out, lens, 0, 8));

        // device-writable: the batch's last buffer has the entry's length, the others the length they offered
        for (int i = 0; i < 3; i++) {
            assertTrue(q.add(BUF_IOVA + i * 4096L, 200 + i, true, 20 + i));
        }
        q.publish();
        dev.consume();
        int[] last = dev.returnBatch(3);
        assertEquals(3, q.poll(out, lens, 0, 8));
        assertArrayEquals(new long[] {20, 21, 22}, java.util.Arrays.copyOf(out, 3));
        assertArrayEquals(new int[] {200, 201, last[1]}, java.util.Arrays.copyOf(lens, 3));
    }

    @Test
    void aBatchMayStraddlePolls() {
        SplitVirtqueue q = queue(8, 65_534);
        Device dev = new Device(q, 65_534);
        long[] iovas = {BUF_IOVA, BUF_IOVA + 4096, BUF_IOVA + 8192, BUF_IOVA + 12288, BUF_IOVA + 16384, BUF_IOVA + 20480};
        int[] lens = {300, 300, 300, 300, 300, 300};
        long[] toks = {1, 2, 3, 4, 5, 6};
        assertEquals(6, q.addBurst(iovas, lens, toks, 0, 6, true));
        q.publish();
        dev.consume();
        int[] last = dev.returnBatch(6);
        long[] out = new long[8];
        int[] got = new int[8];
        assertEquals(4, q.poll(out, got, 0, 4));
        assertArrayEquals(new long[] {1, 2, 3, 4}, java.util.Arrays.copyOf(out, 4));
        assertEquals(2, q.poll(out, got, 2, 4));
        assertArrayEquals(new long[] {5, 6}, java.util.Arrays.copyOfRange(out, 2, 4));
        assertEquals(300, got[2]);
        assertEquals(last[1], got[3]);
        assertEquals(8, q.freeCount());
        assertEquals(0, q.poll(out, got, 0, 8));
    }

    @Test
    void ringFullAndEmptyAtEveryBurstSize() {
        for (boolean inOrder : new boolean[] {true, false}) {
            int size = 32;
            MemorySegment m = arena.allocate(SplitVirtqueue.bytes(size), 4096);
            SplitVirtqueue q = inOrder ? SplitVirtqueue.inOrder(0, size, m, RING_IOVA, true, 65_500)
                    : new SplitVirtqueue(0, size, m, RING_IOVA, true, 65_500);
            Device dev = inOrder ? new Device(q, 65_500) : null;
            SplitVirtqueueTest.Device any = inOrder ? null : new SplitVirtqueueTest.Device(q, arena.allocate(64L * 32 * 64), 65_500);
            long[] iovas = new long[32];
            int[] lens = new int[32];
            long[] toks = new long[32];
            long[] out = new long[32];
            int[] got = new int[32];
            long token = 1;
            for (int b = 1; b <= 32; b++) {
                // fill at burst size b: full bursts, one partial one, then nothing
                long first = token;
                int total = 0;
                while (true) {
                    for (int i = 0; i < b; i++) {
                        toks[i] = token + i;
                        iovas[i] = 0x2_0000_0000L + 64L * ((token + i) & 63);
                        lens[i] = 64;
                    }
                    int k = q.addBurst(iovas, lens, toks, 0, b, true);
                    assertEquals(Math.min(b, size - total), k, "burst " + b + " after " + total);
                    token += k;
                    total += k;
                    q.publish();
                    if (k < b) {
                        break;
                    }
                }
                assertEquals(size, total);
                assertEquals(0, q.freeCount(), "full");
                assertFalse(q.add(BUF_IOVA, 64, true, 999), "a full ring refuses");
                assertEquals(0, q.addBurst(iovas, lens, toks, 0, b, true));
                // the device returns everything in batches of b (one entry each in order); we poll b at a time
                if (inOrder) {
                    dev.consume();
                    while (!dev.pending.isEmpty()) {
                        dev.returnBatch(Math.min(b, dev.pending.size()));
                    }
                } else {
                    any.consume();
                    any.completeAll(false);
                }
                long expect = first;
                int polled = 0;
                int n;
                while ((n = q.poll(out, got, 0, b)) > 0) {
                    assertTrue(n <= b);
                    for (int i = 0; i < n; i++) {
                        assertEquals(expect++, out[i], "burst " + b);
                    }
                    polled += n;
                }
                assertEquals(size, polled, "empty after burst size " + b);
                assertEquals(size, q.freeCount());
                assertEquals(0, q.usedCount());
            }
        }
    }

    @Test
    void anEntryBeyondUsedIdxOrOutsideTheQueueBreaksIt() {
        SplitVirtqueue q = queue(8, 0);
        Device dev = new Device(q, 0);
        for (int i = 0; i < 6; i++) {
            q.add(BUF_IOVA, 64, true, i + 1);
        }
        q.publish();
        dev.consume();
        // used->idx says 2 buffers, the entry names the 4th: a batch of 4 the device did not return
        dev.ring.set(U32, dev.usedOff + 4, 3);
        dev.ring.set(U16, dev.usedOff + 2, (short) 2);
        long[] out = new long[8];
        int[] lens = new int[8];
        VirtioException e = assertThrows(VirtioException.class, () -> q.poll(out, lens, 0, 8));
        assertEquals("virtqueue 0: the device broke the split-ring rules: used ring entry 0 names descriptor 3, beyond the"
                + " 2 buffers used->idx returns from there in order; reset the device", e.getMessage());
        assertThrows(VirtioException.class, () -> q.add(BUF_IOVA, 64, true, 9), "broken for good");

        SplitVirtqueue r = queue(8, 0);
        Device d2 = new Device(r, 0);
        r.add(BUF_IOVA, 64, true, 1);
        r.publish();
        d2.consume();
        d2.ring.set(U32, d2.usedOff + 4, 8);
        d2.ring.set(U16, d2.usedOff + 2, (short) 1);
        e = assertThrows(VirtioException.class, () -> r.poll(out, lens, 0, 8));
        assertTrue(e.getMessage().contains("names descriptor 8, outside the queue of 8"), e.getMessage());
    }

    @Test
    void chainsAreRefusedAndTheAvailRingIsWrittenOnce() {
        SplitVirtqueue q = queue(4, 0);
        assertThrows(UnsupportedOperationException.class, () -> q.addChain(new long[] {1, 2}, new int[] {1, 1},
                new boolean[] {false, true}, 2, 5));
        long availOff = SplitVirtqueue.availOffset(4);
        for (int i = 0; i < 4; i++) {
            assertEquals(i, q.memory().get(U16, availOff + 4 + 2L * i), "ring[" + i + "] = " + i + " from the start");
        }
        long[] out = new long[1];
        assertTrue(q.add(BUF_IOVA + 0x40, 77, true, 1));
        assertEquals(BUF_IOVA + 0x40, q.memory().get(U64, 0));
        assertEquals(77, q.memory().get(U32, 8));
        assertEquals(SplitVirtqueue.DESC_F_WRITE, q.memory().get(U16, 12));
        assertEquals(0, q.poll(out, new int[1], 0, 1), "not published, not used");
    }

    /**
     * A driver that let go of the queue in the middle of a batch (its last poll took part of it) hands the rest over
     * through the shared state: the next driver must not read the used entry the device skipped (poisoned here).
     */
    @Test
    void aBatchHalfConsumedIsHandedOverThroughTheSharedState() {
        int size = 8;
        MemorySegment ring = arena.allocate(SplitVirtqueue.bytes(size), 4096);
        MemorySegment st = arena.allocate(VirtqueueState.bytes(size), 64);
        SplitVirtqueue q = new SplitVirtqueue(1, size, ring, RING_IOVA, false, 0, st, true);
        Device dev = new Device(q, 0);
        for (int i = 0; i < 6; i++) {
            q.add(BUF_IOVA + i * 4096L, 500, true, 40 + i);
        }
        q.publish();
        dev.consume();
        int[] last = dev.returnBatch(6);
        long[] out = new long[8];
        int[] lens = new int[8];
        assertEquals(4, q.poll(out, lens, 0, 4));
        VirtqueueState s = VirtqueueState.attach(st, 1, size);
        assertEquals(5, s.batchLast(), "the batch runs to descriptor 5");
        SplitVirtqueue next = SplitVirtqueue.resume(1, size, ring, RING_IOVA, false, s);
        assertEquals(2, next.usedCount());
        assertEquals(2, next.poll(out, lens, 0, 8));
        assertArrayEquals(new long[] {44, 45}, java.util.Arrays.copyOf(out, 2));
        assertArrayEquals(new int[] {500, last[1]}, java.util.Arrays.copyOf(lens, 2));
        assertEquals(-1, s.batchLast());
        // a record naming a descriptor outside what is outstanding is refused at resume
        st.set(ValueLayout.JAVA_INT, 20, 3);
        next.add(BUF_IOVA, 64, true, 99);
        next.publish();
        VirtioException e = assertThrows(VirtioException.class,
                () -> SplitVirtqueue.resume(1, size, ring, RING_IOVA, false, VirtqueueState.attach(st, 1, size)));
        assertEquals("virtqueue 1: the shared state records a partly consumed batch up to descriptor 3, which is not"
                + " among the 1 outstanding from position 6", e.getMessage());
    }

    @Test
    void sharedStateRecoversAndResumesAnInOrderQueue() {
        int size = 16;
        MemorySegment ring = arena.allocate(SplitVirtqueue.bytes(size), 4096);
        MemorySegment st = arena.allocate(VirtqueueState.bytes(size), 64);
        SplitVirtqueue q = new SplitVirtqueue(2, size, ring, RING_IOVA, false, 65_530, st, true);
        assertTrue(q.inOrder());
        assertTrue(q.state().inOrder());
        Device dev = new Device(q, 65_530);
        for (int i = 0; i < 8; i++) {
            q.add(BUF_IOVA + i * 4096L, 128, true, 100 + i);
        }
        q.publish();
        dev.consume();
        q.add(BUF_IOVA, 128, true, 200); // added, never published: the driver "dies" here
        q.add(BUF_IOVA, 128, true, 201);
        dev.returnBatch(3); // one entry for 100..102, entries for 101 and 102 poisoned
        // another process attaches the state, recovers and resumes
        VirtqueueState s = VirtqueueState.attach(st, 2, size);
        assertTrue(s.inOrder(), "the flag travels with the shared state");
        VirtqueueState.Recovery r = s.recover(ring);
        long[] rel = r.release().clone();
        java.util.Arrays.sort(rel);
        assertArrayEquals(new long[] {100, 101, 102, 200, 201}, rel, "returned ones and never-published ones go back");
        long[] posted = r.posted().clone();
        java.util.Arrays.sort(posted);
        assertArrayEquals(new long[] {103, 104, 105, 106, 107}, posted);
        SplitVirtqueue next = SplitVirtqueue.resume(2, size, ring, RING_IOVA, false, s);
        assertTrue(next.inOrder());
        assertEquals(5, next.inFlightCount());
        // the resumed queue adds at the position after the published ones, in their fixed descriptors
        assertTrue(next.add(BUF_IOVA, 128, true, 300));
        next.publish();
        dev.consume();
        dev.returnBatch(6);
        long[] out = new long[16];
        int[] lens = new int[16];
        assertEquals(6, next.poll(out, lens, 0, 16));
        assertArrayEquals(new long[] {103, 104, 105, 106, 107, 300}, java.util.Arrays.copyOf(out, 6));
        assertEquals(0, s.outstanding().length);
    }
}
