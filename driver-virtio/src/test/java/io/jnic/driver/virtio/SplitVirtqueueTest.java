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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The split ring against an in-test "device" that reads the layout the spec describes (its own offsets, not the
 * queue's), consumes the available ring and fills the used ring, in and out of order, across 16-bit wrap-around.
 */
class SplitVirtqueueTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long RING_IOVA = 0x1_0000_0000L;
    private static final long BUF_IOVA = 0x2_0000_0000L;
    private static final int BUF = 256;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    /** A device written from the spec's layout: desc at 0, avail at 16N, used at the address we are told. */
    static final class Device {
        final MemorySegment ring;
        final MemorySegment bufs;
        final int size;
        final long availOff;
        final long usedOff;
        int lastAvail;
        int usedIdx;
        final ArrayDeque<int[]> pending = new ArrayDeque<>(); // {head, bytesWritten}
        final List<byte[]> readPayloads = new ArrayList<>();

        Device(SplitVirtqueue q, MemorySegment bufs, int start) {
            this.ring = q.memory();
            this.bufs = bufs;
            this.size = q.size();
            this.availOff = q.availIova() - q.descIova();
            this.usedOff = q.usedIova() - q.descIova();
            assertEquals(16L * size, availOff, "avail ring follows the descriptor table");
            assertEquals(0, usedOff % 4, "used ring 4-byte aligned (2.7)");
            lastAvail = usedIdx = start;
        }

        int availIdx() {
            return Short.toUnsignedInt(ring.get(U16, availOff + 2));
        }

        /** Takes every available chain: reads the readable part, fills the writable part with (head + i). */
        int consume() {
            int n = 0;
            while ((lastAvail & 0xFFFF) != availIdx()) {
                int head = Short.toUnsignedInt(ring.get(U16, availOff + 4 + 2L * (lastAvail & (size - 1))));
                int d = head;
                int written = 0;
                java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
                for (int hops = 0; ; hops++) {
                    assertTrue(hops < size, "descriptor loop");
                    long addr = ring.get(U64, 16L * d);
                    int len = ring.get(U32, 16L * d + 8);
                    int flags = ring.get(U16, 16L * d + 12);
                    MemorySegment b = bufs.asSlice(addr - BUF_IOVA, len);
                    if ((flags & 2) != 0) {
                        for (int i = 0; i < len; i++) {
                            b.set(ValueLayout.JAVA_BYTE, i, (byte) (head + i));
                        }
                        written += len;
                    } else {
                        read.writeBytes(b.toArray(ValueLayout.JAVA_BYTE));
                    }
                    if ((flags & 1) == 0) {
                        break;
                    }
                    d = ring.get(U16, 16L * d + 14);
                }
                readPayloads.add(read.toByteArray());
                pending.add(new int[] {head, written});
                lastAvail++;
                n++;
            }
            // what a device with EVENT_IDX publishes: notify me when you pass this
            ring.set(U16, usedOff + 4 + 8L * size, (short) lastAvail);
            return n;
        }

        void complete(int[] entry) {
            long e = usedOff + 4 + 8L * (usedIdx & (size - 1));
            ring.set(U32, e, entry[0]);
            ring.set(U32, e + 4, entry[1]);
            usedIdx++;
            ring.set(U16, usedOff + 2, (short) usedIdx); // a real device would use a release store
        }

        void completeAll(boolean reverse) {
            while (!pending.isEmpty()) {
                complete(reverse ? pending.pollLast() : pending.pollFirst());
            }
        }
    }

    private SplitVirtqueue queue(int size, boolean eventIdx, int start) {
        MemorySegment m = arena.allocate(SplitVirtqueue.bytes(size), 4096);
        return new SplitVirtqueue(0, size, m, RING_IOVA, eventIdx, start);
    }

    @Test
    void layoutFollowsTheSpec() {
        assertEquals(16 * 256, SplitVirtqueue.availOffset(256));
        assertEquals(0, SplitVirtqueue.usedOffset(256) % 64);
        assertTrue(SplitVirtqueue.usedOffset(256) >= 16 * 256 + 6 + 2 * 256);
        assertTrue(SplitVirtqueue.bytes(256) >= SplitVirtqueue.usedOffset(256) + 6 + 8 * 256);
        assertThrows(IllegalArgumentException.class, () -> queue(100, false, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SplitVirtqueue(0, 64, arena.allocate(64, 16), RING_IOVA, false, 0));
        assertEquals("a queue of 64 entries needs " + SplitVirtqueue.bytes(64) + " bytes, got 64", e.getMessage());
    }

    @Test
    void receiveBuffersAcrossIndexWrapAround() {
        int size = 64;
        for (int start : new int[] {0, 65_500, 65_535}) {
            for (boolean reverse : new boolean[] {false, true}) {
                SplitVirtqueue q = queue(size, false, start);
                MemorySegment bufs = arena.allocate((long) size * BUF, 64);
                Device dev = new Device(q, bufs, start);
                long[] tokens = new long[size];
                int[] lens = new int[size];
                long nextToken = 1000;
                long expectToken = 1000;
                // 3000 buffers through a 64-entry ring: the 16-bit indices wrap (and start near the wrap)
                java.util.TreeSet<Long> outstanding = new java.util.TreeSet<>();
                java.util.Map<Long, Integer> slotOf = new java.util.HashMap<>();
                java.util.ArrayDeque<Integer> freeSlots = new java.util.ArrayDeque<>();
                for (int i = 0; i < size; i++) {
                    freeSlots.add(i);
                }
                int done = 0;
                Random rnd = new Random(start + (reverse ? 1 : 0));
                while (done < 3000) {
                    int add = rnd.nextInt(size + 1);
                    for (int i = 0; i < add && !freeSlots.isEmpty(); i++) {
                        int slot = freeSlots.poll();
                        assertTrue(q.add(BUF_IOVA + (long) slot * BUF, BUF, true, nextToken));
                        outstanding.add(nextToken);
                        slotOf.put(nextToken, slot);
                        nextToken++;
                    }
                    if (freeSlots.isEmpty()) {
                        assertFalse(q.add(BUF_IOVA, BUF, true, -1), "full queue refuses");
                    }
                    q.publish();
                    dev.consume();
                    dev.completeAll(reverse);
                    int n = q.poll(tokens, lens, 0, size);
                    for (int i = 0; i < n; i++) {
                        assertTrue(outstanding.remove(tokens[i]), "token handed out once");
                        int slot = slotOf.remove(tokens[i]);
                        assertEquals(BUF, lens[i]);
                        MemorySegment b = bufs.asSlice((long) slot * BUF, BUF);
                        int head = Byte.toUnsignedInt(b.get(ValueLayout.JAVA_BYTE, 0));
                        for (int k = 0; k < BUF; k++) {
                            assertEquals((byte) (head + k), b.get(ValueLayout.JAVA_BYTE, k), "byte " + k);
                        }
                        freeSlots.add(slot);
                    }
                    done += n;
                    expectToken += n;
                }
                assertEquals(((start + q.inFlightCount() + done) & 0xFFFF), q.availIndex());
                assertEquals(((start + done) & 0xFFFF), q.lastUsedIndex());
            }
        }
    }

    @Test
    void chainsCarryReadableThenWritableParts() {
        SplitVirtqueue q = queue(8, false, 0);
        MemorySegment bufs = arena.allocate(8L * BUF, 64);
        Device dev = new Device(q, bufs, 0);
        long[] tokens = new long[8];
        int[] lens = new int[8];
        for (int round = 0; round < 40; round++) { // 40 rounds of 3-descriptor chains through 8 descriptors
            bufs.asSlice(0, 2).copyFrom(MemorySegment.ofArray(new byte[] {4, (byte) round}));
            bufs.asSlice(BUF, 3).copyFrom(MemorySegment.ofArray(new byte[] {7, 8, 9}));
            assertTrue(q.addChain(new long[] {BUF_IOVA, BUF_IOVA + BUF, BUF_IOVA + 2 * BUF}, new int[] {2, 3, 1},
                    new boolean[] {false, false, true}, 3, round));
            assertTrue(q.addChain(new long[] {BUF_IOVA + 3 * BUF, BUF_IOVA + 4 * BUF}, new int[] {5, 7},
                    new boolean[] {true, true}, 2, 100 + round));
            assertFalse(q.addChain(new long[] {0, 0, 0, 0}, new int[] {1, 1, 1, 1},
                    new boolean[] {false, false, false, false}, 4, -1), "only 3 descriptors left");
            q.publish();
            assertEquals(2, dev.consume());
            assertArrayEquals(new byte[] {4, (byte) round, 7, 8, 9}, dev.readPayloads.get(2 * round));
            dev.completeAll(round % 2 == 0);
            assertEquals(2, q.poll(tokens, lens, 0, 8));
            assertEquals(8, q.freeCount());
            java.util.Set<Long> got = java.util.Set.of(tokens[0], tokens[1]);
            assertEquals(java.util.Set.of((long) round, 100L + round), got);
            assertEquals(tokens[0] == round ? 1 : 12, lens[0]);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.addChain(
                new long[] {0, 0}, new int[] {1, 1}, new boolean[] {true, false}, 2, 0));
        assertEquals("device-readable descriptor 1 follows a writable one", e.getMessage());
    }

    @Test
    void notificationSuppressionWithoutEventIdx() {
        SplitVirtqueue q = queue(16, false, 0);
        MemorySegment used = q.memory().asSlice(q.usedIova() - q.descIova());
        q.add(BUF_IOVA, 10, false, 1);
        q.publish();
        assertTrue(q.kickNeeded());
        assertFalse(q.kickNeeded(), "nothing new since the last kick");
        used.set(U16, 0, (short) SplitVirtqueue.USED_F_NO_NOTIFY);
        q.add(BUF_IOVA, 10, false, 2);
        q.publish();
        assertFalse(q.kickNeeded(), "device set NO_NOTIFY");
        used.set(U16, 0, (short) 0);
        q.add(BUF_IOVA, 10, false, 3);
        q.publish();
        assertTrue(q.kickNeeded());
        MemorySegment avail = q.memory().asSlice(q.availIova() - q.descIova());
        q.disableInterrupts();
        assertEquals(SplitVirtqueue.AVAIL_F_NO_INTERRUPT, avail.get(U16, 0));
        q.enableInterrupts();
        assertEquals(0, avail.get(U16, 0));
    }

    @Test
    void notificationSuppressionWithEventIdx() {
        // vring_need_event from the spec's 2.7.10 example values, including across the wrap
        assertTrue(SplitVirtqueue.needEvent(0, 1, 0));
        assertFalse(SplitVirtqueue.needEvent(1, 1, 0));
        assertTrue(SplitVirtqueue.needEvent(5, 10, 3));
        assertFalse(SplitVirtqueue.needEvent(10, 10, 3));
        assertTrue(SplitVirtqueue.needEvent(65535, 2, 65530));
        assertFalse(SplitVirtqueue.needEvent(3, 2, 65530));

        SplitVirtqueue q = queue(16, true, 65534);
        MemorySegment bufs = arena.allocate(16L * BUF, 64);
        Device dev = new Device(q, bufs, 65534);
        MemorySegment used = q.memory().asSlice(q.usedIova() - q.descIova());
        used.set(U16, 4 + 8L * 16, (short) 65534); // device: kick me when avail passes 65534
        for (int i = 0; i < 3; i++) {
            q.add(BUF_IOVA, 10, true, i);
        }
        q.publish();
        assertTrue(q.kickNeeded(), "avail moved 65534 -> 1, past 65534");
        dev.consume(); // device now wants a kick only past index 1
        q.add(BUF_IOVA, 10, true, 3);
        q.publish();
        assertTrue(q.kickNeeded(), "1 -> 2 passes 1");
        q.add(BUF_IOVA, 10, true, 4);
        q.publish();
        assertFalse(q.kickNeeded(), "device has not caught up: no second kick");

        // interrupt suppression through used_event
        MemorySegment avail = q.memory().asSlice(q.availIova() - q.descIova());
        dev.consume();
        dev.completeAll(false);
        q.poll(new long[16], new int[16], 0, 16);
        assertEquals(q.lastUsedIndex(), Short.toUnsignedInt(avail.get(U16, 4 + 2L * 16)), "used_event follows us");
        q.disableInterrupts();
        int ev = Short.toUnsignedInt(avail.get(U16, 4 + 2L * 16));
        assertFalse(SplitVirtqueue.needEvent(ev, (q.lastUsedIndex() + 5) & 0xFFFF, q.lastUsedIndex()),
                "a device completing 5 more would not interrupt");
    }

    @Test
    void aDeviceThatBreaksTheRulesIsCaught() {
        long[] t = new long[16];
        int[] l = new int[16];
        // a used entry naming a descriptor we never handed out
        SplitVirtqueue q = queue(16, false, 0);
        MemorySegment bufs = arena.allocate(16L * BUF, 64);
        Device dev = new Device(q, bufs, 0);
        q.add(BUF_IOVA, 64, true, 7);
        q.add(BUF_IOVA, 64, true, 8);
        q.publish();
        dev.consume();
        dev.complete(new int[] {9, 0});
        VirtioException e = assertThrows(VirtioException.class, () -> q.poll(t, l, 0, 16));
        assertEquals("virtqueue 0: the device broke the split-ring rules: used ring entry 0 names descriptor 9,"
                + " which is not an outstanding chain head; reset the device", e.getMessage());
        VirtioException again = assertThrows(VirtioException.class, () -> q.add(BUF_IOVA, 1, true, 1));
        assertTrue(again.getMessage().startsWith("virtqueue 0 is broken: the device broke"), again.getMessage());

        // out of range id
        SplitVirtqueue q2 = queue(16, false, 0);
        Device d2 = new Device(q2, bufs, 0);
        q2.add(BUF_IOVA, 64, true, 1);
        q2.publish();
        d2.consume();
        d2.complete(new int[] {70000, 0});
        e = assertThrows(VirtioException.class, () -> q2.poll(t, l, 0, 16));
        assertEquals("virtqueue 0: the device broke the split-ring rules: used ring entry 0 names descriptor 70000,"
                + " outside the queue of 16; reset the device", e.getMessage());

        // a length larger than the buffer offered
        SplitVirtqueue q3 = queue(16, false, 0);
        Device d3 = new Device(q3, bufs, 0);
        q3.add(BUF_IOVA, 64, true, 1);
        q3.publish();
        d3.consume();
        d3.pending.clear();
        d3.complete(new int[] {0, 65});
        // the buffer comes back (its id is an outstanding head) with length -1: dropped by the caller, counted
        assertEquals(1, q3.poll(t, l, 0, 16));
        assertEquals(1, t[0]);
        assertEquals(-1, l[0]);
        assertEquals(1, q3.badLengths());
        assertEquals(16, q3.freeCount(), "the descriptor is free again");
        q3.add(BUF_IOVA, 64, true, 2); // and the queue goes on
        q3.publish();
        d3.consume();
        d3.completeAll(false);
        assertEquals(1, q3.poll(t, l, 0, 16));
        assertEquals(2, t[0]);
        assertEquals(64, l[0]);
        assertEquals(1, q3.badLengths());

        // a used index far ahead of what is outstanding
        SplitVirtqueue q4 = queue(16, false, 0);
        q4.add(BUF_IOVA, 64, true, 1);
        q4.publish();
        q4.memory().set(U16, q4.usedIova() - q4.descIova() + 2, (short) 40);
        e = assertThrows(VirtioException.class, () -> q4.poll(t, l, 0, 16));
        assertEquals("virtqueue 0: the device broke the split-ring rules: used index 40 is 40 entries past the last"
                + " one consumed (0), but only 1 buffers are outstanding; reset the device", e.getMessage());
    }

    @Test
    void drainReturnsEveryOutstandingToken() {
        SplitVirtqueue q = queue(8, false, 0);
        for (int i = 0; i < 5; i++) {
            q.add(BUF_IOVA, 10, true, 50 + i);
        }
        long[] t = new long[8];
        assertEquals(5, q.drainOutstanding(t));
        assertEquals(java.util.Set.of(50L, 51L, 52L, 53L, 54L),
                java.util.Set.of(t[0], t[1], t[2], t[3], t[4]));
        assertEquals(8, q.freeCount());
    }
}
