package io.jnic.driver.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.TestBuffers;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receive and transmit queues against an in-test device that plays virtio-net's part on the rings: headers
 * stripped and written, MRG_RXBUF frames spanning buffers dropped with their continuation buffers, short used
 * lengths dropped, the ring kept full, every buffer accounted for.
 */
class VirtioNetQueueTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final AtomicInteger N = new AtomicInteger();

    @TempDir
    Path dir;
    MemoryGroup mem;
    TestBuffers bufs;
    Memzone zone;
    int kicks;

    @BeforeEach
    void setUp() {
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("vn" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                .runtimeDir(dir).noHuge().size(2L << 20).iovaMode(IovaMode.ASSIGNED).build());
        zone = mem.reserve("bufs", 64L * 2048, 4096);
        bufs = new TestBuffers(zone, 2048);
    }

    @AfterEach
    void tearDown() {
        mem.close();
    }

    private SplitVirtqueue ring(int index) {
        Memzone z = mem.reserve("vq" + index, SplitVirtqueue.bytes(16), 4096);
        return new SplitVirtqueue(index, 16, z.memory(), z.iova(0), false, 0);
    }

    private SplitVirtqueue inOrderRing(int index) {
        Memzone z = mem.reserve("vq" + index, SplitVirtqueue.bytes(16), 4096);
        return SplitVirtqueue.inOrder(index, 16, z.memory(), z.iova(0), false, 0);
    }

    /** An in-order device returning positions {@code from..from+k-1} as one batch: one entry, at {@code from}. */
    private static void completeBatch(SplitVirtqueue q, int from, int k, int lastLen) {
        MemorySegment r = q.memory();
        long usedOff = q.usedIova() - q.descIova();
        for (int i = 1; i < k; i++) {
            r.set(U32, usedOff + 4 + 8L * ((from + i) & 15), 0x7EADBEEF); // skipped: must not be read
        }
        r.set(U32, usedOff + 4 + 8L * (from & 15), (from + k - 1) & 15);
        r.set(U32, usedOff + 4 + 8L * (from & 15) + 4, lastLen);
        r.set(U16, usedOff + 2, (short) (from + k));
    }

    /** The device's view: takes the next available head, returns its (addr, len) and the ring slot. */
    private static long[] takeAvail(SplitVirtqueue q, int nth) {
        MemorySegment r = q.memory();
        long availOff = q.availIova() - q.descIova();
        int head = Short.toUnsignedInt(r.get(U16, availOff + 4 + 2L * (nth & 15)));
        return new long[] {head, r.get(U64, 16L * head), r.get(U32, 16L * head + 8)};
    }

    private static void complete(SplitVirtqueue q, int usedIdx, int head, int len) {
        MemorySegment r = q.memory();
        long usedOff = q.usedIova() - q.descIova();
        r.set(U32, usedOff + 4 + 8L * (usedIdx & 15), head);
        r.set(U32, usedOff + 4 + 8L * (usedIdx & 15) + 4, len);
        r.set(U16, usedOff + 2, (short) (usedIdx + 1));
    }

    /** Writes a received frame into the buffer at {@code iova}: header with num_buffers, then the bytes. */
    private void deliver(long iova, int numBuffers, byte[] frame) {
        long off = iova - zone.iova(0);
        MemorySegment m = zone.memory();
        m.asSlice(off, VirtioNetSpec.HDR_SIZE).fill((byte) 0);
        m.set(U16, off + VirtioNetSpec.HDR_NUM_BUFFERS, (short) numBuffers);
        MemorySegment.copy(frame, 0, m, ValueLayout.JAVA_BYTE, off + VirtioNetSpec.HDR_SIZE, frame.length);
    }

    @Test
    void receiveStripsHeadersDropsMultiBufferAndShortFrames() {
        SplitVirtqueue q = ring(0);
        VirtioNetRxQueue rx = new VirtioNetRxQueue(q, () -> kicks++, bufs, true, false);
        assertEquals(16, rx.refill());
        assertEquals(0, q.freeCount(), "ring full");
        assertEquals(64 - 16, bufs.available());
        byte[] a = new byte[100];
        byte[] c = new byte[60];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) (i + 1);
        }
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) (200 - i);
        }
        // used entries: frame a (1 buffer), a 2-buffer frame (head + continuation), a 5-byte "frame", frame c
        long[] d0 = takeAvail(q, 0);
        long[] d1 = takeAvail(q, 1);
        long[] d2 = takeAvail(q, 2);
        long[] d3 = takeAvail(q, 3);
        long[] d4 = takeAvail(q, 4);
        deliver(d0[1], 1, a);
        deliver(d1[1], 2, new byte[1000]);
        deliver(d4[1], 1, c);
        complete(q, 0, (int) d0[0], 12 + a.length);
        complete(q, 1, (int) d1[0], 12 + 1000);
        complete(q, 2, (int) d2[0], 500); // the continuation: no header of its own
        complete(q, 3, (int) d3[0], 5);
        complete(q, 4, (int) d4[0], 12 + c.length);
        long[] t = new long[16];
        int[] l = new int[16];
        assertEquals(2, rx.receive(t, l, 16));
        assertEquals(a.length, l[0]);
        assertEquals(c.length, l[1]);
        byte[] got = new byte[a.length];
        MemorySegment.copy(zone.memory(), ValueLayout.JAVA_BYTE, bufs.offset(t[0]) + VirtioNetSpec.HDR_SIZE, got, 0, a.length);
        assertArrayEquals(a, got);
        got = new byte[c.length];
        MemorySegment.copy(zone.memory(), ValueLayout.JAVA_BYTE, bufs.offset(t[1]) + VirtioNetSpec.HDR_SIZE, got, 0, c.length);
        assertArrayEquals(c, got);
        assertEquals(2, rx.errors(), "the 2-buffer frame and the 5-byte one");
        assertEquals(2, rx.packets());
        assertEquals(0, q.freeCount(), "refilled");
        bufs.free(t[0]);
        bufs.free(t[1]);
        rx.drain();
        assertEquals(bufs.capacity(), bufs.available(), "every buffer back");
    }

    /** A hostile device: lengths past the buffer (and one that is negative as a signed int) are counted drops. */
    @Test
    void usedLengthsPastTheBufferAreDroppedCountedAndTheBuffersReused() {
        SplitVirtqueue q = ring(0);
        VirtioNetRxQueue rx = new VirtioNetRxQueue(q, () -> kicks++, bufs, true, false);
        assertEquals(16, rx.refill());
        byte[] a = new byte[64];
        long[] d0 = takeAvail(q, 0);
        long[] d1 = takeAvail(q, 1);
        long[] d2 = takeAvail(q, 2);
        deliver(d2[1], 1, a);
        complete(q, 0, (int) d0[0], (int) d0[2] + 1); // one byte more than the buffer offered
        complete(q, 1, (int) d1[0], 0xFFFFFFF0); // 4 GB
        complete(q, 2, (int) d2[0], 12 + a.length);
        long[] t = new long[16];
        int[] l = new int[16];
        assertEquals(1, rx.receive(t, l, 16), "the good frame");
        assertEquals(a.length, l[0]);
        assertEquals(2, rx.errors());
        assertEquals(2, q.badLengths());
        assertEquals(0, q.freeCount(), "the dropped buffers went back and the ring was refilled");
        bufs.free(t[0]);
        rx.drain();
        assertEquals(bufs.capacity(), bufs.available(), "every buffer back");
    }

    @Test
    void aMultiBufferFrameWhoseContinuationArrivesInTheNextPollIsSkippedToo() {
        SplitVirtqueue q = ring(0);
        VirtioNetRxQueue rx = new VirtioNetRxQueue(q, () -> kicks++, bufs, true, false);
        rx.refill();
        long[] d0 = takeAvail(q, 0);
        long[] d1 = takeAvail(q, 1);
        long[] d2 = takeAvail(q, 2);
        deliver(d0[1], 3, new byte[10]);
        complete(q, 0, (int) d0[0], 2048);
        long[] t = new long[16];
        int[] l = new int[16];
        assertEquals(0, rx.receive(t, l, 16));
        complete(q, 1, (int) d1[0], 2048);
        complete(q, 2, (int) d2[0], 100);
        assertEquals(0, rx.receive(t, l, 16), "both continuations skipped");
        assertEquals(1, rx.errors());
        long[] d3 = takeAvail(q, 3);
        deliver(d3[1], 1, new byte[64]);
        complete(q, 3, (int) d3[0], 12 + 64);
        assertEquals(1, rx.receive(t, l, 16));
        assertEquals(64, l[0]);
        bufs.free(t[0]);
        rx.drain();
        assertEquals(bufs.capacity(), bufs.available());
    }

    /**
     * In order: the device returns a random number of frames, each with its own entry, and the driver takes them in
     * partial bursts; every receive refills the positions it freed, in their fixed descriptors, with fresh buffers.
     */
    @Test
    void inOrderReceiveRefillsAfterPartialBursts() {
        SplitVirtqueue q = inOrderRing(0);
        VirtioNetRxQueue rx = new VirtioNetRxQueue(q, () -> kicks++, bufs, true, false);
        assertEquals(16, rx.refill());
        java.util.Random rnd = new java.util.Random(3);
        java.util.ArrayDeque<long[]> delivered = new java.util.ArrayDeque<>(); // {iova, frame length, position}
        int devPos = 0; // next position the device fills
        int usedIdx = 0;
        long[] t = new long[16];
        int[] l = new int[16];
        int received = 0;
        for (int round = 0; round < 2000; round++) {
            int posted = (16 - q.freeCount()) - delivered.size(); // available and not yet filled
            int k = rnd.nextInt(posted + 1);
            for (int i = 0; i < k; i++, devPos++) {
                long[] d = takeAvail(q, devPos);
                assertEquals(devPos & 15, d[0], "position " + devPos + " in its own descriptor");
                int len = 2 + rnd.nextInt(200);
                byte[] f = new byte[len];
                f[0] = (byte) devPos;
                f[len - 1] = (byte) ~devPos;
                deliver(d[1], 1, f);
                complete(q, usedIdx++, (int) d[0], VirtioNetSpec.HDR_SIZE + len);
                delivered.add(new long[] {d[1], len, devPos});
            }
            int max = 1 + rnd.nextInt(8);
            int n = rx.receive(t, l, max);
            assertEquals(Math.min(max, delivered.size()), n);
            for (int i = 0; i < n; i++) {
                long[] d = delivered.poll();
                assertEquals(d[0], bufs.iova(t[i]), "frames in the order the device filled them");
                assertEquals(d[1], l[i]);
                long at = bufs.offset(t[i]) + VirtioNetSpec.HDR_SIZE;
                assertEquals((byte) d[2], zone.memory().get(ValueLayout.JAVA_BYTE, at));
                assertEquals((byte) ~d[2], zone.memory().get(ValueLayout.JAVA_BYTE, at + d[1] - 1));
                bufs.free(t[i]);
            }
            received += n;
            assertEquals(0, q.freeCount(), "refilled after a burst of " + n);
            assertEquals(bufs.capacity() - 16, bufs.available(), "16 posted, none lost");
        }
        assertTrue(received > 1000);
        assertEquals(0, rx.errors());
        rx.drain();
        assertEquals(bufs.capacity(), bufs.available(), "every buffer back");
    }

    /** In order: transmit with the ring full takes nothing; one used entry for a batch frees the whole batch. */
    @Test
    void inOrderTransmitWithTheRingFull() {
        SplitVirtqueue q = inOrderRing(1);
        VirtioNetTxQueue tx = new VirtioNetTxQueue(q, () -> kicks++, bufs);
        long[] t = new long[24];
        int[] l = new int[24];
        for (int i = 0; i < 24; i++) {
            t[i] = bufs.alloc();
            l[i] = 60;
        }
        int before = bufs.available();
        assertEquals(16, tx.transmit(t, l, 20), "as many as the ring holds");
        long[] rest = java.util.Arrays.copyOfRange(t, 16, 24);
        int[] restLen = java.util.Arrays.copyOfRange(l, 16, 24);
        assertEquals(0, tx.transmit(rest, restLen, 8), "full: nothing taken, the caller keeps them");
        for (int i = 0; i < 16; i++) {
            assertEquals(i, takeAvail(q, i)[0]);
        }
        completeBatch(q, 0, 5, 0);
        assertEquals(5, tx.transmit(rest, restLen, 8), "the batch's five positions are free again");
        assertEquals(before + 5, bufs.available(), "the five sent buffers went back");
        for (int i = 16; i < 21; i++) {
            long[] d = takeAvail(q, i);
            assertEquals(i & 15, d[0]);
            assertEquals(bufs.iova(rest[i - 16]), d[1]);
            assertEquals(VirtioNetSpec.HDR_SIZE + 60, d[2]);
        }
        completeBatch(q, 5, 16, 0);
        assertEquals(16, tx.reclaim());
        assertEquals(0, q.inFlightCount());
        assertEquals(21, tx.packets());
    }

    /** Sent buffers come back in bulk once fewer than FREE_THRESHOLD descriptors are free, not every burst. */
    @Test
    void transmitReclaimsWhenDescriptorsRunLow() {
        Memzone z = mem.reserve("vq64", SplitVirtqueue.bytes(64), 4096);
        SplitVirtqueue q = SplitVirtqueue.inOrder(1, 64, z.memory(), z.iova(0), false, 0);
        VirtioNetTxQueue tx = new VirtioNetTxQueue(q, () -> kicks++, bufs);
        long usedOff = q.usedIova() - q.descIova();
        int sent = 0;
        int start = bufs.available();
        long[] t = new long[8];
        int[] l = {60, 60, 60, 60, 60, 60, 60, 60};
        for (int burst = 0; burst < 5; burst++) { // 40 sent, each burst used by the device at once
            for (int i = 0; i < 8; i++) {
                t[i] = bufs.alloc();
            }
            assertEquals(8, tx.transmit(t, l, 8));
            sent += 8;
            // one entry per burst, at its first position, naming its last descriptor
            q.memory().set(U32, usedOff + 4 + 8L * ((sent - 8) & 63), (sent - 1) & 63);
            q.memory().set(U16, usedOff + 2, (short) sent);
        }
        // the fifth burst found 32 free before adding: no burst reclaimed, 40 are outstanding (all used)
        assertEquals(start - 40, bufs.available(), "nothing reclaimed while 32 or more descriptors were free");
        for (int i = 0; i < 8; i++) {
            t[i] = bufs.alloc();
        }
        assertEquals(8, tx.transmit(t, l, 8), "24 free < 32: the 40 used ones come back first");
        assertEquals(start - 8, bufs.available());
        assertEquals(8, q.inFlightCount());
    }

    @Test
    void transmitWritesAZeroHeaderAndFreesWhatTheDeviceUsed() {
        SplitVirtqueue q = ring(1);
        VirtioNetTxQueue tx = new VirtioNetTxQueue(q, () -> kicks++, bufs);
        long[] t = new long[20];
        int[] l = new int[20];
        for (int i = 0; i < 20; i++) {
            t[i] = bufs.alloc();
            l[i] = 60 + i;
            zone.memory().asSlice(bufs.offset(t[i]), VirtioNetSpec.HDR_SIZE).fill((byte) 0x5A); // stale bytes
        }
        assertEquals(16, tx.transmit(t, l, 20), "as many as the ring holds");
        assertEquals(1, kicks, "one notification per burst");
        for (int i = 0; i < 16; i++) {
            long[] d = takeAvail(q, i);
            assertEquals(12 + 60 + i, d[2]);
            long off = d[1] - zone.iova(0);
            for (int k = 0; k < VirtioNetSpec.HDR_SIZE; k++) {
                assertEquals(0, zone.memory().get(ValueLayout.JAVA_BYTE, off + k), "header byte " + k);
            }
            complete(q, i, (int) d[0], 0);
        }
        assertEquals(16, tx.reclaim());
        assertEquals(4, tx.transmit(java.util.Arrays.copyOfRange(t, 16, 20), java.util.Arrays.copyOfRange(l, 16, 20), 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tx.transmit(new long[] {bufs.alloc()}, new int[] {2040}, 1));
        assertEquals("frame of 2040 bytes does not fit its buffer of 2036 bytes", e.getMessage());
        assertEquals(20, tx.packets());
    }
}
