package io.jnic.driver.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The packed ring against a device model written from virtio 1.x 2.8 in this test: the device finds available
 * descriptors by their AVAIL/USED bits and its own wrap counter, writes used descriptors at its own position and
 * skips chains; the driver must follow over many laps, in and out of order, and refuse a device that lies.
 */
class PackedVirtqueueTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long IOVA = 0x1_0000_0000L;

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    /** The device's side of the ring (2.8.1, 2.8.2, 2.8.6): its own positions and wrap counters. */
    static final class Device {
        final MemorySegment ring;
        final int size;
        int availPos;
        boolean availWrap = true;
        int usedPos;
        boolean usedWrap = true;

        Device(PackedVirtqueue q) {
            this.ring = q.memory();
            this.size = q.size();
        }

        int flags(int pos) {
            return Short.toUnsignedInt(ring.get(U16, 16L * pos + 14));
        }

        /** The next available buffer: {id, descriptors, total length, flags of its last descriptor}, or null. */
        int[] takeAvail() {
            int f = flags(availPos);
            boolean avail = (f & PackedVirtqueue.DESC_F_AVAIL) != 0;
            boolean used = (f & PackedVirtqueue.DESC_F_USED) != 0;
            if (avail != availWrap || used == availWrap) {
                return null;
            }
            int n = 0;
            int len = 0;
            int id;
            while (true) {
                long d = 16L * availPos;
                f = flags(availPos);
                assertEquals(availWrap, (f & PackedVirtqueue.DESC_F_AVAIL) != 0, "every descriptor of a chain is available");
                len += ring.get(U32, d + 8);
                id = Short.toUnsignedInt(ring.get(U16, d + 12));
                n++;
                if (++availPos == size) {
                    availPos = 0;
                    availWrap = !availWrap;
                }
                if ((f & PackedVirtqueue.DESC_F_NEXT) == 0) {
                    break;
                }
            }
            return new int[] {id, n, len, f};
        }

        long addr(int pos) {
            return ring.get(U64, 16L * pos);
        }

        /** Writes a used descriptor for buffer {@code id} spanning {@code n} descriptors. */
        void use(int id, int n, int len, boolean wrote) {
            long d = 16L * usedPos;
            ring.set(U16, d + 12, (short) id);
            ring.set(U32, d + 8, len);
            int f = (wrote ? PackedVirtqueue.DESC_F_WRITE : 0)
                    | (usedWrap ? PackedVirtqueue.DESC_F_AVAIL | PackedVirtqueue.DESC_F_USED : 0);
            ring.set(U16, d + 14, (short) f);
            usedPos += n;
            if (usedPos >= size) {
                usedPos -= size;
                usedWrap = !usedWrap;
            }
        }

        void eventSuppression(int flags, int offWrap) {
            long dev = PackedVirtqueue.driverAreaOffset(size) + 64;
            ring.set(U16, dev, (short) offWrap);
            ring.set(U16, dev + 2, (short) flags);
        }

        int driverEventFlags() {
            return Short.toUnsignedInt(ring.get(U16, PackedVirtqueue.driverAreaOffset(size) + 2));
        }
    }

    private PackedVirtqueue queue(int size, boolean eventIdx) {
        MemorySegment m = arena.allocate(PackedVirtqueue.bytes(size), 64);
        m.fill((byte) 0x5A); // the constructor must clear it
        return new PackedVirtqueue(0, size, m, IOVA, eventIdx);
    }

    /**
     * In order: buffer id = ring position; the device returns random batches with one used descriptor each (at the
     * batch's first position, naming its last id) and leaves the rest of the batch as it was, over many laps of a
     * ring whose size is no power of two; the driver takes them in random partial polls.
     */
    @Test
    void inOrderBatchesGoRoundManyLaps() {
        int size = 6;
        MemorySegment m = arena.allocate(PackedVirtqueue.bytes(size), 64);
        PackedVirtqueue q = new PackedVirtqueue(0, size, m, IOVA, false, true);
        assertTrue(q.inOrder());
        Device dev = new Device(q);
        java.util.Random rnd = new java.util.Random(11);
        java.util.ArrayDeque<int[]> held = new java.util.ArrayDeque<>(); // device: {id, offered}
        java.util.ArrayDeque<long[]> expected = new java.util.ArrayDeque<>(); // driver: {token, length}
        long[] t = new long[8];
        int[] l = new int[8];
        long next = 1;
        int done = 0;
        while (done < 30_000) { // 5000 laps
            int add = rnd.nextInt(size + 2);
            for (int i = 0; i < add; i++) {
                int pos = q.availIndex() & 0x7FFF;
                if (!q.add(0x2000 + 64L * pos, 100 + pos, true, next)) {
                    assertEquals(0, q.freeCount());
                    break;
                }
                next++;
            }
            q.publish();
            int[] b;
            while ((b = dev.takeAvail()) != null) {
                assertEquals(1, b[1]);
                held.add(new int[] {b[0], b[2]});
            }
            int give = held.isEmpty() ? 0 : rnd.nextInt(held.size() + 1);
            while (give > 0) {
                int k = 1 + rnd.nextInt(give);
                int[] last = null;
                for (int i = 0; i < k; i++) {
                    int[] h = held.poll();
                    expected.add(new long[] {h[0], i == k - 1 ? -2 : h[1]});
                    last = h;
                }
                int len = rnd.nextInt(last[1] + 1);
                expected.peekLast()[1] = len;
                dev.use(last[0], k, len, true); // one used descriptor for k buffers; the device skips the other k-1
                give -= k;
            }
            int avail = q.usedCount();
            assertEquals(expected.size(), avail, "usedCount counts whole batches from their heads");
            int max = 1 + rnd.nextInt(8);
            int n = q.poll(t, l, 0, max);
            assertEquals(Math.min(max, avail), n);
            for (int i = 0; i < n; i++) {
                long[] e = expected.poll();
                long tok = t[i];
                int id = (int) ((tok - 1) % size); // tokens were handed out in position order from 1
                assertEquals(e[0], id, "in order: token " + tok + " sat at position " + id);
                assertEquals((int) e[1], l[i], "length of token " + tok);
            }
            done += n;
        }
        assertEquals(0, q.badLengths());
    }

    @Test
    void inOrderBatchBeyondWhatIsOutstandingBreaksTheQueue() {
        MemorySegment m = arena.allocate(PackedVirtqueue.bytes(8), 64);
        PackedVirtqueue q = new PackedVirtqueue(0, 8, m, IOVA, false, true);
        Device dev = new Device(q);
        for (int i = 0; i < 3; i++) {
            assertTrue(q.add(0x2000, 64, false, i + 1));
        }
        assertThrows(UnsupportedOperationException.class, () -> q.addChain(new long[] {1, 2}, new int[] {1, 1},
                new boolean[] {false, true}, 2, 9));
        q.publish();
        dev.takeAvail();
        dev.use(5, 1, 0, false); // a batch of 6 when 3 are outstanding
        VirtioException e = assertThrows(VirtioException.class, () -> q.poll(new long[8], new int[8], 0, 8));
        assertEquals("virtqueue 0: the device broke the packed-ring rules: used descriptor at 0 names buffer id 5, beyond"
                + " the 3 buffers outstanding from there in order; reset the device", e.getMessage());
    }

    @Test
    void buffersGoRoundManyLapsWithTheWrapCounters() {
        PackedVirtqueue q = queue(8, false);
        Device dev = new Device(q);
        assertEquals(0x8000, q.availIndex(), "position 0, wrap counter 1");
        long[] t = new long[8];
        int[] l = new int[8];
        long next = 1;
        long expect = 1;
        for (int round = 0; round < 20; round++) { // 20 x 5 buffers through 8 slots: 12 laps
            for (int i = 0; i < 5; i++) {
                assertTrue(q.add(0x2000 + 64L * (next % 8), 1500, true, next), "room for buffer " + next);
                next++;
            }
            q.publish();
            assertEquals(0, q.poll(t, l, 0, 8), "nothing used yet");
            for (int i = 0; i < 5; i++) {
                int[] b = dev.takeAvail();
                assertTrue(b != null, "buffer available to the device");
                assertEquals(1, b[1]);
                assertEquals(1500, b[2]);
                assertTrue((b[3] & PackedVirtqueue.DESC_F_WRITE) != 0);
                dev.use(b[0], 1, 100 + i, true);
            }
            assertTrue(dev.takeAvail() == null, "no more than was added");
            assertEquals(5, q.usedCount());
            assertEquals(5, q.poll(t, l, 0, 8));
            for (int i = 0; i < 5; i++) {
                assertEquals(expect++, t[i], "tokens in order");
                assertEquals(100 + i, l[i]);
            }
            assertEquals(8, q.freeCount());
        }
        assertEquals((100 % 8) | ((100 / 8) % 2 == 0 ? 0x8000 : 0), q.availIndex(), "position and lap after 100 buffers");
        assertEquals(q.availIndex(), q.lastUsedIndex());
    }

    @Test
    void outOfOrderCompletionAndChains() {
        PackedVirtqueue q = queue(8, false);
        Device dev = new Device(q);
        assertTrue(q.add(0x1000, 100, true, 11));
        assertTrue(q.addChain(new long[] {0x2000, 0x3000, 0x4000}, new int[] {10, 20, 30},
                new boolean[] {false, false, true}, 3, 22));
        assertTrue(q.add(0x5000, 100, true, 33));
        q.publish();
        assertEquals(3, q.freeCount());
        int[] a = dev.takeAvail();
        int[] chain = dev.takeAvail();
        int[] c = dev.takeAvail();
        assertEquals(3, chain[1], "the chain is three descriptors");
        assertEquals(60, chain[2]);
        assertEquals(0x2000, dev.addr(1));
        // the device finishes the last one first, then the chain, then the first (used descriptors in completion order)
        dev.use(c[0], 1, 7, true);
        dev.use(chain[0], 3, 30, true);
        dev.use(a[0], 1, 9, true);
        long[] t = new long[4];
        int[] l = new int[4];
        assertEquals(3, q.poll(t, l, 0, 4));
        assertEquals(33, t[0]);
        assertEquals(7, l[0]);
        assertEquals(22, t[1]);
        assertEquals(30, l[1]);
        assertEquals(11, t[2]);
        assertEquals(8, q.freeCount());
        // the driver's used position followed the device's (1 + 3 + 1 descriptors)
        assertEquals(5 | 0x8000, q.lastUsedIndex());
    }

    @Test
    void theLengthOfAReadOnlyBufferIsIgnored() {
        PackedVirtqueue q = queue(4, false);
        Device dev = new Device(q);
        q.add(0x1000, 60, false, 5);
        q.publish();
        int[] b = dev.takeAvail();
        assertEquals(0, b[3] & PackedVirtqueue.DESC_F_WRITE);
        dev.use(b[0], 1, 60, false); // a device may leave the length as it was (2.8.4: reserved)
        long[] t = new long[1];
        int[] l = {-1};
        assertEquals(1, q.poll(t, l, 0, 1));
        assertEquals(5, t[0]);
        assertEquals(0, l[0]);
    }

    /**
     * QEMU writes used descriptors without the WRITE flag, also for receive buffers (DPDK's vhost sets it): the
     * length of a buffer we offered as device-writable counts whatever the flag, as Linux and DPDK's PMD read it.
     */
    @Test
    void theLengthOfAWritableBufferCountsWithoutTheWriteFlag() {
        PackedVirtqueue q = queue(4, false);
        Device dev = new Device(q);
        q.add(0x1000, 2048, true, 7);
        q.publish();
        int[] b = dev.takeAvail();
        assertTrue((b[3] & PackedVirtqueue.DESC_F_WRITE) != 0);
        dev.use(b[0], 1, 72, false); // as QEMU's virtqueue_packed_fill_desc: id, len, AVAIL/USED only
        long[] t = new long[1];
        int[] l = {-1};
        assertEquals(1, q.poll(t, l, 0, 1));
        assertEquals(7, t[0]);
        assertEquals(72, l[0]);
    }

    @Test
    void aDeviceThatNamesAnUnknownBufferBreaksTheQueue() {
        PackedVirtqueue q = queue(4, false);
        Device dev = new Device(q);
        q.add(0x1000, 100, true, 1);
        q.publish();
        dev.takeAvail();
        dev.use(3, 1, 10, true); // id 3 was never handed out
        VirtioException e = assertThrows(VirtioException.class, () -> q.poll(new long[1], new int[1], 0, 1));
        assertEquals("virtqueue 0: the device broke the packed-ring rules: used descriptor at 0 names buffer id 3, which is"
                + " not outstanding; reset the device", e.getMessage());
        VirtioException later = assertThrows(VirtioException.class, () -> q.add(0x2000, 10, true, 2));
        assertTrue(later.getMessage().startsWith("virtqueue 0 is broken: "), later.getMessage());
    }

    @Test
    void aDeviceThatWritesTooMuchHasTheBufferDroppedAndCounted() {
        PackedVirtqueue q = queue(4, false);
        Device dev = new Device(q);
        q.add(0x1000, 100, true, 1);
        q.publish();
        int[] b = dev.takeAvail();
        dev.use(b[0], 1, 101, true);
        long[] t = new long[1];
        int[] l = new int[1];
        assertEquals(1, q.poll(t, l, 0, 1), "the buffer comes back");
        assertEquals(1, t[0]);
        assertEquals(-1, l[0], "with a length that tells the caller to drop it");
        assertEquals(1, q.badLengths());
        q.add(0x2000, 100, true, 2); // the queue goes on
        q.publish();
        b = dev.takeAvail();
        dev.use(b[0], 1, 60, true);
        assertEquals(1, q.poll(t, l, 0, 1));
        assertEquals(2, t[0]);
        assertEquals(60, l[0]);
    }

    @Test
    void notificationsFollowTheDevicesSuppressionStructure() {
        PackedVirtqueue q = queue(8, true);
        Device dev = new Device(q);
        assertFalse(q.kickNeeded(), "nothing published");
        q.add(0x1000, 10, false, 1);
        q.publish();
        assertTrue(q.kickNeeded(), "ENABLE (all zero) asks for every notification");
        assertFalse(q.kickNeeded(), "nothing new since");
        dev.eventSuppression(PackedVirtqueue.EVENT_F_DISABLE, 0);
        q.add(0x1000, 10, false, 2);
        q.publish();
        assertFalse(q.kickNeeded(), "DISABLE");
        // DESC: notify when the descriptor at position 4 of lap 1 is made available
        dev.eventSuppression(PackedVirtqueue.EVENT_F_DESC, 4 | 0x8000);
        q.add(0x1000, 10, false, 3); // position 2
        q.publish();
        assertFalse(q.kickNeeded(), "position 2 is before the event");
        q.add(0x1000, 10, false, 4); // 3
        q.add(0x1000, 10, false, 5); // 4
        q.publish();
        assertTrue(q.kickNeeded(), "positions 3-4 cover the event at 4");
        // the event in the next lap (wrap 0) at position 1: positions 5..7 of lap 1 do not reach it
        long[] t = new long[8];
        int[] l = new int[8];
        for (int i = 0; i < 5; i++) {
            int[] b = dev.takeAvail();
            dev.use(b[0], 1, 0, false);
        }
        assertEquals(5, q.poll(t, l, 0, 8));
        dev.eventSuppression(PackedVirtqueue.EVENT_F_DESC, 1);
        for (int i = 0; i < 3; i++) {
            q.add(0x1000, 10, false, 10 + i); // 5, 6, 7
        }
        q.publish();
        assertFalse(q.kickNeeded(), "the event is in the next lap");
        q.add(0x1000, 10, false, 20); // lap 2, position 0
        q.add(0x1000, 10, false, 21); // position 1
        q.publish();
        assertTrue(q.kickNeeded(), "position 1 of the next lap reached");
    }

    @Test
    void interruptsAreSuppressedInTheDriverArea() {
        PackedVirtqueue q = queue(8, false);
        Device dev = new Device(q);
        assertEquals(PackedVirtqueue.EVENT_F_ENABLE, dev.driverEventFlags());
        q.disableInterrupts();
        assertEquals(PackedVirtqueue.EVENT_F_DISABLE, dev.driverEventFlags());
        q.enableInterrupts();
        assertEquals(PackedVirtqueue.EVENT_F_ENABLE, dev.driverEventFlags());
        assertEquals(IOVA + PackedVirtqueue.driverAreaOffset(8), q.driverAreaIova());
        assertEquals(q.driverAreaIova() + 64, q.deviceAreaIova());
    }

    @Test
    void outstandingBuffersAreDrainedAndTheQueueIsFullWhenFull() {
        PackedVirtqueue q = queue(4, false);
        for (int i = 0; i < 4; i++) {
            assertTrue(q.add(0x1000, 10, true, 100 + i));
        }
        assertFalse(q.add(0x1000, 10, true, 999), "full");
        assertFalse(q.addChain(new long[] {1, 2}, new int[] {1, 1}, new boolean[] {false, true}, 2, 998));
        long[] out = new long[4];
        assertEquals(4, q.drainOutstanding(out));
        assertEquals(4, q.freeCount());
        assertEquals(java.util.Set.of(100L, 101L, 102L, 103L), java.util.Set.of(out[0], out[1], out[2], out[3]));
        assertThrows(IllegalArgumentException.class, () -> new PackedVirtqueue(0, 4, arena.allocate(64, 16), IOVA, false));
        assertThrows(IllegalArgumentException.class,
                () -> q.addChain(new long[] {1, 2}, new int[] {1, 1}, new boolean[] {true, false}, 2, 1));
    }
}
