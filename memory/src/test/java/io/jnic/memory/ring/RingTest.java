package io.jnic.memory.ring;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingTest {

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private MemorySegment region(long bytes) {
        return arena.allocate(bytes, 64);
    }

    private Ring ring(int count, int flags) {
        return Ring.create(region(Ring.bytesNeeded(count, flags)), "t", count, flags);
    }

    private static long[] seq(long from, int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = from + i;
        }
        return a;
    }

    @Test
    void powerOfTwoRingHoldsOneLessThanItsSize() {
        Ring r = ring(8, 0);
        assertEquals(8, r.size());
        assertEquals(7, r.capacity());
        assertEquals(7, r.freeCount());
        assertEquals(7, r.enqueueBulk(seq(1, 7), 0, 7));
        assertTrue(r.isFull());
        assertFalse(r.enqueue(99));
        assertEquals(0, r.freeCount());
        assertEquals(7, r.count());
    }

    @Test
    void exactSizeRingHoldsExactlyCount() {
        Ring r = ring(5, Ring.F_EXACT_SZ);
        assertEquals(8, r.size());
        assertEquals(5, r.capacity());
        assertEquals(5, r.enqueueBurst(seq(1, 9), 0, 9));
        assertEquals(0, r.enqueueBurst(seq(1, 1), 0, 1));
        long[] out = new long[9];
        assertEquals(5, r.dequeueBurst(out, 0, 9));
        assertArrayEquals(seq(1, 5), Arrays.copyOf(out, 5));
        // a power of two is also fine with exact size, and then needs the next power of two
        Ring p = ring(8, Ring.F_EXACT_SZ);
        assertEquals(16, p.size());
        assertEquals(8, p.capacity());
        assertEquals(Ring.HEADER_BYTES + 16 * 8, Ring.bytesNeeded(8, Ring.F_EXACT_SZ));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Ring.F_SP_ENQ | Ring.F_SC_DEQ, Ring.F_SP_ENQ, Ring.F_SC_DEQ})
    void bulkIsAllOrNothingAndBurstTakesWhatFits(int flags) {
        Ring r = ring(8, flags);
        assertEquals(5, r.enqueueBulk(seq(10, 5), 0, 5));
        assertEquals(0, r.enqueueBulk(seq(20, 3), 0, 3), "3 do not fit in 2 free slots");
        assertEquals(5, r.count());
        assertEquals(2, r.enqueueBurst(seq(20, 3), 0, 3));
        assertEquals(7, r.count());
        long[] out = new long[10];
        assertEquals(0, r.dequeueBulk(out, 0, 8), "8 are not there");
        assertEquals(7, r.count());
        assertEquals(3, r.dequeueBulk(out, 0, 3));
        assertEquals(4, r.dequeueBurst(out, 3, 7));
        assertArrayEquals(new long[] {10, 11, 12, 13, 14, 20, 21}, Arrays.copyOf(out, 7));
        assertEquals(0, r.dequeueBurst(out, 0, 4));
        assertEquals(Long.MIN_VALUE, r.dequeue(Long.MIN_VALUE));
        assertTrue(r.isEmpty());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Ring.F_SP_ENQ | Ring.F_SC_DEQ, Ring.F_EXACT_SZ})
    void countersWrapAround2To32(int flags) {
        // start 100 below 2^32: the free-running 32-bit counters wrap during the run
        Ring r = Ring.create(region(Ring.bytesNeeded(64, flags)), "wrap", 64, flags, -100);
        int cap = r.capacity();
        long[] in = new long[64];
        long[] out = new long[64];
        long next = 0;
        long expect = 0;
        for (int round = 0; round < 400; round++) {
            int n = 1 + round % 37;
            for (int i = 0; i < n; i++) {
                in[i] = next + i;
            }
            int k = r.enqueueBurst(in, 0, n);
            next += k;
            assertTrue(r.count() <= cap);
            int m = r.dequeueBurst(out, 0, 1 + (round * 7) % 41);
            for (int i = 0; i < m; i++) {
                assertEquals(expect++, out[i], "FIFO order across the wrap");
            }
            assertEquals(next - expect, r.count());
        }
        int[] c = r.counters();
        assertTrue(Integer.compareUnsigned(c[0], 1 << 20) < 0, "producer head wrapped past 2^32: " + Integer.toUnsignedString(c[0]));
        assertTrue(next > 1000);
    }

    @Test
    void wrapAroundInTheMiddleOfABulkCopy() {
        Ring r = Ring.create(region(Ring.bytesNeeded(32)), "w", 32, 0, -5);
        long[] out = new long[32];
        // 20 then 20: the second batch straddles both the slot-array end and the 2^32 counter wrap
        assertEquals(20, r.enqueueBulk(seq(0, 20), 0, 20));
        assertEquals(20, r.dequeueBulk(out, 0, 20));
        assertEquals(20, r.enqueueBulk(seq(100, 20), 0, 20));
        assertEquals(20, r.dequeueBulk(out, 0, 20));
        assertArrayEquals(seq(100, 20), Arrays.copyOf(out, 20));
    }

    @Test
    void segmentVariantsMoveHandlesThroughSharedMemory() {
        Ring r = ring(16, Ring.F_EXACT_SZ);
        MemorySegment buf = region(8 * 40);
        for (int i = 0; i < 40; i++) {
            buf.setAtIndex(ValueLayout.JAVA_LONG, i, 1000 + i);
        }
        assertEquals(10, r.enqueueBulk(buf, 0, 10));
        assertEquals(0, r.enqueueBulk(buf, 80, 7), "7 do not fit in 6");
        assertEquals(6, r.enqueueBulk(buf, 80, 6));
        MemorySegment dst = region(8 * 40);
        assertEquals(0, r.dequeueBulk(dst, 0, 17));
        assertEquals(16, r.dequeueBulk(dst, 8, 16));
        assertEquals(1000, dst.getAtIndex(ValueLayout.JAVA_LONG, 1));
        assertEquals(1015, dst.getAtIndex(ValueLayout.JAVA_LONG, 16));
        assertThrows(IndexOutOfBoundsException.class, () -> r.enqueueBulk(buf, 8 * 35, 10));
    }

    @Test
    void attachSeesNameFlagsAndContents() {
        MemorySegment m = region(Ring.bytesNeeded(16, Ring.F_SP_ENQ));
        Ring a = Ring.create(m, "rx-ring-0", 16, Ring.F_SP_ENQ);
        a.enqueueBulk(seq(7, 3), 0, 3);
        Ring b = Ring.attach(m);
        assertEquals("rx-ring-0", b.name());
        assertEquals(Ring.F_SP_ENQ, b.flags());
        assertTrue(b.isSingleProducer());
        assertFalse(b.isSingleConsumer());
        assertEquals(15, b.capacity());
        assertEquals(3, b.count());
        assertEquals(7, b.dequeue(-1));
        assertEquals(2, a.count());
    }

    @Test
    void sameFileMappedTwiceAtDifferentAddresses() {
        var path = SharedFile.shmPath("ring-twice");
        try (SharedFile f1 = SharedFile.create(path, 1 << 16); SharedFile f2 = SharedFile.open(path, 1 << 16)) {
            assertNotEquals(f1.segment().address(), f2.segment().address());
            Ring a = Ring.create(f1.segment(), "twice", 1024, 0);
            Ring b = Ring.attach(f2.segment());
            assertEquals(100, a.enqueueBulk(seq(5, 100), 0, 100));
            long[] out = new long[100];
            assertEquals(100, b.dequeueBulk(out, 0, 100));
            assertArrayEquals(seq(5, 100), out);
        }
    }

    @Test
    void corruptedCountersNeverLeaveTheRegion() {
        MemorySegment m = region(Ring.bytesNeeded(8) + 64);
        MemorySegment guard = m.asSlice(Ring.bytesNeeded(8), 64);
        Ring r = Ring.create(m, "bad", 8, 0);
        m.set(ValueLayout.JAVA_LONG, RingDescriptor.PROD_OFFSET, 123456789L); // claims 123456789 entries
        long[] out = new long[100];
        assertEquals(7, r.dequeueBurst(out, 0, 100), "entries clamp to the capacity");
        assertTrue(r.count() <= 7);
        m.set(ValueLayout.JAVA_LONG, RingDescriptor.CONS_OFFSET, -999999L & 0xFFFF_FFFFL); // claims lots of free space
        assertEquals(7, r.enqueueBurst(new long[100], 0, 100), "free space clamps to the capacity");
        for (int i = 0; i < 64; i++) {
            assertEquals(0, guard.get(ValueLayout.JAVA_BYTE, i), "no write beyond the slot array");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Bad input

    @Test
    void countMustBeAPowerOfTwoUnlessExactSize() {
        MemorySegment m = region(1 << 14);
        var e = assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "x", 100, 0));
        assertEquals("ring count 100 is not a power of two in 2..1073741824 (a ring of count slots holds count - 1 handles);"
                + " pass F_EXACT_SZ to hold exactly count handles", e.getMessage());
        assertEquals(100, Ring.create(m, "x", 100, Ring.F_EXACT_SZ).capacity());
        var z = assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "x", 0, Ring.F_EXACT_SZ));
        assertTrue(z.getMessage().startsWith("ring count 0 out of range: with F_EXACT_SZ it must be 1.."), z.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "x", 8, 0x40));
        assertTrue(f.getMessage().startsWith("unknown ring flags 0x40"), f.getMessage());
    }

    @Test
    void nameTooLongOrEmpty() {
        MemorySegment m = region(1 << 12);
        var e = assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "a-name-that-is-way-too-long-for-it", 8, 0));
        assertEquals("ring name 'a-name-that-is-way-too-long-for-it' is 34 bytes in UTF-8; it must be 1..31", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "", 8, 0));
        assertEquals("x".repeat(31), Ring.attach(Ring.create(m, "x".repeat(31), 8, 0).segment()).name());
    }

    @Test
    void regionTooSmallOrMisaligned() {
        MemorySegment m = region(Ring.bytesNeeded(64) - 8);
        var e = assertThrows(IllegalArgumentException.class, () -> Ring.create(m, "small", 64, 0));
        assertEquals("region too small: ring 'small' of 64 handles needs 896 bytes, the region has 888", e.getMessage());
        MemorySegment odd = region(4096).asSlice(8);
        var a = assertThrows(IllegalArgumentException.class, () -> Ring.create(odd, "odd", 8, 0));
        assertTrue(a.getMessage().endsWith("is not 64-byte aligned; place the ring at a cache-line boundary"), a.getMessage());
        var h = assertThrows(IllegalArgumentException.class, () -> Ring.create(MemorySegment.ofArray(new long[512]), "h", 8, 0));
        assertTrue(h.getMessage().startsWith("region must be native"), h.getMessage());
    }

    @Test
    void attachRejectsWrongMagicVersionAndTruncatedRegions() {
        MemorySegment m = region(Ring.bytesNeeded(64));
        var e = assertThrows(IllegalArgumentException.class, () -> Ring.attach(m));
        assertEquals("no ring at this region: magic is 0x0000000000000000, a jnic ring has 0x474e495243494e4a ('JNICRING');"
                + " was the ring created with Ring.create at this offset?", e.getMessage());
        Ring.create(m, "v", 64, 0);
        m.set(ValueLayout.JAVA_INT, RingDescriptor.VERSION_OFFSET, 7);
        var v = assertThrows(IllegalArgumentException.class, () -> Ring.attach(m));
        assertEquals("ring layout version 7 is not supported (this build reads version 2); run the same jnic build in every"
                + " process", v.getMessage());
        m.set(ValueLayout.JAVA_INT, RingDescriptor.VERSION_OFFSET, Ring.VERSION);
        var t = assertThrows(IllegalArgumentException.class, () -> Ring.attach(m.asSlice(0, 600)));
        assertEquals("ring of 64 slots needs 896 bytes but the region has only 600; map the whole ring", t.getMessage());
        m.set(ValueLayout.JAVA_INT, RingDescriptor.MASK_OFFSET, 31);
        var c = assertThrows(IllegalArgumentException.class, () -> Ring.attach(m));
        assertEquals("corrupted ring header: size 64, mask 31, capacity 63 are inconsistent", c.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Ring.attach(m.asSlice(0, 100)));
        assertEquals("region too small: a ring header needs 384 bytes, the region has 100", s.getMessage());
    }

    @Test
    void badArrayRangesAreRejectedBeforeTouchingTheRing() {
        Ring r = ring(8, 0);
        assertThrows(IndexOutOfBoundsException.class, () -> r.enqueueBulk(new long[4], 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> r.dequeueBurst(new long[4], -1, 2));
        assertEquals(0, r.count());
        assertArrayEquals(new int[4], r.counters());
    }
}
