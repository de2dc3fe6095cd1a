package io.jnic.memory.mbuf;

import io.jnic.memory.ring.Ring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MempoolTest {

    static final long IOVA_BASE = 0x10_0000_0000L;
    static final LongUnaryOperator IOVA = off -> IOVA_BASE + off;
    static final long PAGE = 2L << 20;

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null) {
                p.close();
            }
        }
        arena.close();
    }

    private MemorySegment region(MempoolConfig c, long page) {
        return arena.allocate(Mempool.bytesNeeded(c, page), page);
    }

    private Mempool pool(MempoolConfig c) {
        return Mempool.create(region(c, 4096), c, IOVA, 4096);
    }

    private static MempoolConfig small(int id, int count, int cache) {
        return MempoolConfig.of("pool" + id, id, count).withCacheSize(cache).withMaxLcores(4).withDataRoom(1024);
    }

    @Test
    void cacheRefillsAndFlushesLikeDpdk() {
        Mempool p = pool(small(1, 1000, 32));
        assertEquals(1000, p.availableCount());
        assertEquals(1000, p.ring().count());
        long[] h = new long[64];
        assertTrue(p.getBulk(h, 0, 10, 0));
        // the cache was refilled by cacheSize + n - len = 42 objects, 10 handed out
        assertEquals(32, p.cacheCount(0));
        assertEquals(1000 - 42, p.ring().count());
        assertEquals(990, p.availableCount());
        assertEquals(10, p.inUseCount());
        p.putBulk(h, 0, 10, 0);
        assertEquals(42, p.cacheCount(0));
        // 42 + 10 > flush threshold 48: the cache goes to the ring first, then holds the 10
        assertTrue(p.getBulk(h, 0, 10, 1));
        p.putBulk(h, 0, 10, 0);
        assertEquals(10, p.cacheCount(0));
        assertEquals(1000, p.availableCount());
        // a request of cacheSize or more bypasses the cache
        assertTrue(p.getBulk(h, 0, 40, 2));
        assertEquals(0, p.cacheCount(2));
        p.putBulk(h, 0, 40, 2);
        assertEquals(0, p.cacheCount(2), "more than cacheSize goes straight to the ring");
        assertEquals(10, p.flushCache(0));
        assertEquals(0, p.cacheCount(0));
        assertEquals(32, p.flushCache(1));
        assertEquals(1000, p.ring().count());
    }

    @Test
    void allocForReceiveSetsPortAndLengthWithTheReset() {
        for (int cache : new int[] {16, 0}) { // through the cache and straight from the ring
            Mempool p = pool(small(4, 64, cache));
            Mbuf m = new Mbuf();
            long[] h = new long[40];
            assertTrue(p.allocBulk(h, 0, 40, 1));
            for (int i = 0; i < 40; i++) { // dirty every header field the reset covers
                m.wrap(h[i]).port(3).rssHash(0x1234).olFlags(0xFF).pktLen(99).dataLen(99).vlanTci(7).packetType(5);
            }
            Mempool.freeBulk(h, 0, 40, 1);
            assertTrue(p.allocBulk(h, 0, 33, 1, 7, 1000));
            for (int i = 0; i < 33; i++) {
                m.wrap(h[i]);
                assertEquals(7, m.port());
                assertEquals(1000, m.dataLen());
                assertEquals(1000, m.pktLen());
                assertEquals(128, m.dataOff());
                assertEquals(1, m.nbSegs());
                assertEquals(1, m.refcnt());
                assertEquals(0, m.olFlags());
                assertEquals(0, m.rssHash());
                assertEquals(0, m.vlanTci());
                assertEquals(0, m.packetType());
                assertEquals(0, m.next());
            }
            Mempool.freeBulk(h, 0, 33, 1);
            assertEquals(64, p.availableCount());
            assertThrows(IllegalArgumentException.class, () -> p.allocBulk(h, 0, 1, 1, 0x10000, 60), "port above 65535");
            assertThrows(IllegalArgumentException.class, () -> p.allocBulk(h, 0, 1, 1, 0, 1025), "longer than the data room");
            assertThrows(IllegalArgumentException.class, () -> p.allocBulk(h, 0, 1, 1, 0, -1));
            assertEquals(64, p.availableCount(), "a refused request takes nothing");
            p.close();
        }
    }

    @Test
    void getIsAllOrNothing() {
        Mempool p = pool(small(2, 100, 0));
        long[] h = new long[128];
        assertFalse(p.getBulk(h, 0, 101, Mempool.LCORE_ANY));
        assertEquals(100, p.availableCount());
        assertTrue(p.getBulk(h, 0, 100, 0));
        assertFalse(p.getBulk(h, 100, 1, 0));
        assertEquals(0, p.alloc(0), "empty pool allocates the null handle");
        assertEquals(100, new HashSet<>(Arrays.stream(h, 0, 100).boxed().toList()).size());
        p.putBulk(h, 0, 100, 0);
        assertEquals(100, p.availableCount());
    }

    @Test
    void allocResetsTheHeaderAsRtePktmbufReset() {
        Mempool p = pool(small(3, 64, 16));
        Mbuf m = new Mbuf();
        long[] h = new long[1];
        assertTrue(p.allocBulk(h, 0, 1, 2));
        m.wrap(h[0]).port(3).rssHash(0x1234).olFlags(0xFF).pktLen(99).dataLen(99).dataOff(10).vlanTci(7).packetType(5);
        Mempool.freeBulk(h, 0, 1, 2);
        assertEquals(0, m.refcnt());
        long again = p.alloc(2);
        assertEquals(h[0], again, "LIFO cache returns the same mbuf");
        m.wrap(again);
        assertEquals(128, m.dataOff());
        assertEquals(0, m.dataLen());
        assertEquals(0, m.pktLen());
        assertEquals(1, m.nbSegs());
        assertEquals(1, m.refcnt());
        assertEquals(Mbuf.PORT_INVALID, m.port());
        assertEquals(0, m.olFlags());
        assertEquals(0, m.rssHash());
        assertEquals(0, m.vlanTci());
        assertEquals(0, m.packetType());
        assertEquals(Mbuf.NULL, m.next());
        assertEquals(2, m.owner());
        assertEquals(3, m.poolId());
        assertEquals(128 + 1024, m.bufLen());
        long off = again & ((1L << 48) - 1);
        assertEquals(IOVA_BASE + off + MbufDescriptor.HEADER_SIZE, m.bufIova());
        assertEquals(m.bufIova() + 128, m.dataIova());
        assertEquals(off + MbufDescriptor.HEADER_SIZE + 128, m.dataPosition());
        assertSame(p, m.pool());
    }

    @Test
    void objectsNeverCrossAPageAndCarryTheirIova() {
        // 128 + 128 + 1024 = 1280-byte objects: 3 per 4 KiB page, 256 bytes of padding at each page end
        MempoolConfig c = small(4, 50, 0);
        MemorySegment r = region(c, 4096);
        Mempool p = Mempool.create(r, c, IOVA, 4096);
        assertEquals(1280, p.elementSize());
        long[] h = new long[50];
        assertTrue(p.getBulk(h, 0, 50, Mempool.LCORE_ANY));
        Set<Long> pages = new HashSet<>();
        for (long x : h) {
            long off = x & ((1L << 48) - 1);
            long a = r.address() + off;
            assertEquals(a / 4096, (a + 1280 - 1) / 4096, "object at offset " + off + " crosses a page");
            assertEquals(IOVA_BASE + off + MbufDescriptor.HEADER_SIZE, new Mbuf().wrap(x).bufIova());
            pages.add(a / 4096);
        }
        assertTrue(pages.size() >= 17, "3 objects per page: " + pages.size());
        p.putBulk(h, 0, 50, Mempool.LCORE_ANY);
    }

    @Test
    void onlyTheLastReferenceReturnsTheMbuf() {
        Mempool p = pool(small(5, 32, 0));
        long h = p.alloc(0);
        Mbuf m = new Mbuf().wrap(h);
        assertEquals(2, m.refcntUpdate(1));
        Mempool.free(h, 0);
        assertEquals(1, m.refcnt());
        assertEquals(31, p.availableCount());
        Mempool.free(h, 0);
        assertEquals(0, m.refcnt());
        assertEquals(32, p.availableCount());
        var e = assertThrows(IllegalStateException.class, () -> Mempool.free(h, 0));
        assertEquals(String.format("mbuf 0x%x of pool 'pool5' freed while not allocated (reference count 0): double free?", h),
                e.getMessage());
        assertEquals(32, p.availableCount());
    }

    @Test
    void freeingAChainFreesEverySegmentAcrossPools() {
        Mempool a = pool(small(6, 16, 0));
        Mempool b = pool(small(7, 16, 4));
        Mbuf m = new Mbuf();
        long head = a.alloc(0);
        long s2 = b.alloc(0);
        long s3 = a.alloc(0);
        new Mbuf().wrap(s2).append(100);
        new Mbuf().wrap(s3).append(50);
        m.wrap(head).append(10);
        assertTrue(m.chain(s2));
        assertTrue(m.chain(s3));
        assertEquals(3, m.nbSegs());
        assertEquals(160, m.pktLen());
        assertEquals(s2, m.next());
        long[] batch = {head, b.alloc(1)};
        Mempool.freeBulk(batch, 0, 2, 0);
        assertEquals(16, a.availableCount());
        assertEquals(16, b.availableCount());
        assertTrue(a.audit(l -> true).isClean());
        assertTrue(b.audit(l -> true).isClean());
    }

    @Test
    void aSharedChainIsFreedOnlyByItsLastReference() {
        Mempool p = pool(small(15, 16, 0));
        Mbuf m = new Mbuf().wrap(p.alloc(0));
        assertTrue(m.chain(p.alloc(0)));
        m.pktRefcntUpdate(1);
        assertEquals(2, new Mbuf().wrap(m.next()).refcnt());
        Mempool.free(m.handle(), 0);
        assertEquals(14, p.availableCount(), "both segments still referenced once");
        Mempool.free(m.handle(), 0);
        assertEquals(16, p.availableCount());
        assertTrue(p.audit(l -> true).isClean());
    }

    @Test
    void aBadHandleInAFreeBatchLeaksNothing() {
        Mempool p = pool(small(16, 16, 4));
        long[] h = new long[4];
        assertTrue(p.allocBulk(h, 0, 4, 0));
        long good = h[3];
        h[2] = h[1] + 64;
        var e = assertThrows(IllegalArgumentException.class, () -> Mempool.freeBulk(h, 0, 4, 0));
        assertTrue(e.getMessage().contains("is not an mbuf of pool 'pool16'"), e.getMessage());
        assertEquals(14, p.availableCount(), "the two freed before the bad one went back");
        Mempool.free(good, 0);
        MempoolAudit a = p.audit(l -> true);
        assertEquals(1, a.inUse(), a.toString());
        assertTrue(a.isClean(), a.toString());
    }

    @Test
    void badHandlesAreRefusedBeforeAnythingIsStored() {
        Mempool p = pool(small(8, 16, 4));
        long[] h = new long[4];
        assertTrue(p.getBulk(h, 0, 4, 0));
        long bad = h[2] + 8;
        h[2] = bad;
        var e = assertThrows(IllegalArgumentException.class, () -> p.putBulk(h, 0, 4, 0));
        assertTrue(e.getMessage().startsWith(String.format("mbuf handle 0x%x is not an mbuf of pool 'pool8' (offset 0x%x is not an"
                + " object start in 0x", bad, bad & ((1L << 48) - 1))), e.getMessage());
        assertEquals(12, p.availableCount(), "nothing was stored");
        // 64-aligned and inside the objects, but inside an mbuf's buffer rather than at a header
        var mid = assertThrows(IllegalArgumentException.class, () -> new Mbuf().wrap(h[0] + 128));
        assertTrue(mid.getMessage().contains("is not an mbuf of pool 'pool8'"), mid.getMessage());
        var u = assertThrows(IllegalArgumentException.class, () -> new Mbuf().wrap((77L << 48) | 4096));
        assertEquals("mbuf handle 0x4d000000001000 names pool id 77, which is not attached in this process (attach the pool first)",
                u.getMessage());
        var z = assertThrows(IllegalArgumentException.class, () -> Mempool.free(0, 0));
        assertEquals("mbuf handle 0 is the null handle", z.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> p.getBulk(h, 0, 1, 4));
        assertEquals("lcore 4 out of range: pool 'pool8' has caches for lcores 0..3 (use LCORE_ANY for threads without an lcore)",
                l.getMessage());
    }

    @Test
    void configErrorsSayWhatToDo() {
        var id = assertThrows(IllegalArgumentException.class, () -> MempoolConfig.of("x", 0, 10));
        assertEquals("mempool id 0 out of range 1..1023 (0 is reserved: handle 0 means no mbuf)", id.getMessage());
        var cache = assertThrows(IllegalArgumentException.class, () -> MempoolConfig.of("x", 1, 100).withCacheSize(80));
        assertEquals("cache size 80 is too large for 100 mbufs: the flush threshold (1.5 x cache size = 120) must not exceed the"
                + " count (DPDK's rule); use a smaller cache or more mbufs", cache.getMessage());
        var name = assertThrows(IllegalArgumentException.class, () -> MempoolConfig.of("n".repeat(32), 1, 10));
        assertEquals("mempool name '" + "n".repeat(32) + "' is 32 bytes in UTF-8; it must be 1..31 bytes without NUL",
                name.getMessage());
        MempoolConfig c = small(9, 100, 8);
        MemorySegment r = arena.allocate(Mempool.bytesNeeded(c, 4096) - 64, 4096);
        var small = assertThrows(IllegalArgumentException.class, () -> Mempool.create(r, c, IOVA, 4096));
        assertTrue(small.getMessage().startsWith("region too small: mempool 'pool9' of 100 mbufs (1280 bytes each, cache 8 x 4"
                + " lcores) needs "), small.getMessage());
        MempoolConfig big = MempoolConfig.of("big", 9, 10).withDataRoom(9000);
        var page = assertThrows(IllegalArgumentException.class, () -> Mempool.bytesNeeded(big, 4096));
        assertEquals("an mbuf of 9280 bytes (header 128 + headroom 128 + data room 9000) does not fit a 4096-byte page; objects"
                + " must not cross a page boundary (their IOVA is contiguous only within a page)", page.getMessage());
        MemorySegment odd = arena.allocate(Mempool.bytesNeeded(c, 4096) + 4096, 4096).asSlice(32);
        var align = assertThrows(IllegalArgumentException.class, () -> Mempool.create(odd, c, IOVA, 4096));
        assertEquals(String.format("region must be native memory starting on a 64-byte boundary (address 0x%x)", odd.address()),
                align.getMessage());
        var pg = assertThrows(IllegalArgumentException.class, () -> Mempool.create(r, c, IOVA, 3000));
        assertEquals("page size 3000 must be a power of two >= 4096", pg.getMessage());
        assertNull(Mempool.lookup(9));
        var batch = assertThrows(IllegalArgumentException.class, () -> new MbufBatch(0));
        assertEquals("batch capacity 0 must be at least 1", batch.getMessage());
    }

    @Test
    void batchesAllocateAllOrNothingAndRefuseOverflow() {
        Mempool p = pool(small(17, 40, 0));
        MbufBatch b = new MbufBatch(32);
        var e = assertThrows(IllegalArgumentException.class, () -> b.alloc(p, 33, 0));
        assertEquals("cannot allocate 33 mbufs into a batch of 32", e.getMessage());
        assertTrue(b.alloc(p, 32, 0));
        MbufBatch c = new MbufBatch(16);
        assertFalse(c.alloc(p, 9, 0), "only 8 left");
        assertEquals(0, c.count());
        assertEquals(8, p.availableCount());
        assertTrue(c.alloc(p, 8, 0));
        MbufBatch one = new MbufBatch(1);
        assertTrue(one.add(5));
        assertFalse(one.add(6), "full");
        assertThrows(IndexOutOfBoundsException.class, () -> c.get(8));
        b.free(0);
        c.free(0);
        assertEquals(40, p.availableCount());
        assertTrue(p.audit(l -> true).isClean());
    }

    @Test
    void attachValidatesTheHeader() {
        MempoolConfig c = small(10, 64, 8);
        MemorySegment r = region(c, 4096);
        var none = assertThrows(IllegalArgumentException.class, () -> Mempool.attach(r));
        assertEquals("no mempool at this region: magic is 0x0000000000000000, a jnic mempool has 0x4c4f4f5043494e4a ('JNICPOOL')",
                none.getMessage());
        Mempool p = Mempool.create(r, c, IOVA, 4096);
        var dup = assertThrows(IllegalStateException.class, () -> Mempool.attach(r));
        assertEquals("mempool id 10 is already in use in this process by 'pool10'; close() it first or give the new pool another"
                + " id", dup.getMessage());
        p.close();
        Mempool q = Mempool.attach(r);
        assertEquals("pool10", q.name());
        assertEquals(64, q.availableCount());
        q.close();
        r.set(ValueLayout.JAVA_INT, MempoolDescriptor.P_VERSION, 7);
        var v = assertThrows(IllegalArgumentException.class, () -> Mempool.attach(r));
        assertEquals("mempool layout version 7 is not supported (this build reads 2); run the same jnic build in every process",
                v.getMessage());
        r.set(ValueLayout.JAVA_INT, MempoolDescriptor.P_VERSION, MempoolDescriptor.VERSION);
        r.set(ValueLayout.JAVA_LONG, MempoolDescriptor.P_OBJ_LAST, 1L << 40);
        var bad = assertThrows(IllegalArgumentException.class, () -> Mempool.attach(r));
        assertEquals("corrupted mempool header: its offsets do not match its parameters", bad.getMessage());
        r.set(ValueLayout.JAVA_INT, MempoolDescriptor.P_COUNT, -5);
        var cnt = assertThrows(IllegalArgumentException.class, () -> Mempool.attach(r));
        assertEquals("corrupted mempool header: mempool count -5 out of range 1..268435456", cnt.getMessage());
        var trunc = assertThrows(IllegalArgumentException.class, () -> Mempool.attach(r.asSlice(0, 100)));
        assertEquals("region too small for a mempool header: 100 < 256 bytes", trunc.getMessage());
    }

    @Test
    void auditFindsLeaksDeadOwnersAndDoubleFrees() {
        Mempool p = pool(small(11, 100, 8));
        assertTrue(p.audit(l -> true).isClean());
        long[] h = new long[8];
        assertTrue(p.allocBulk(h, 0, 5, 1));
        MempoolAudit a = p.audit(l -> true);
        assertTrue(a.isClean(), a.toString());
        assertEquals(5, a.inUse());
        assertEquals(95, a.inRing() + a.inCaches());
        MempoolAudit dead = p.audit(l -> l != 1);
        assertArrayEquals(Arrays.stream(h, 0, 5).sorted().toArray(), Arrays.stream(dead.deadOwner()).sorted().toArray());
        long[] raw = new long[3];
        assertTrue(p.getBulk(raw, 0, 3, Mempool.LCORE_ANY)); // raw objects carry no reference count: unaccounted
        MempoolAudit leak = p.audit(l -> l != 1);
        assertEquals(3, leak.leaked().length);
        assertFalse(leak.isClean());
        assertEquals(8, p.reclaim(leak));
        MempoolAudit after = p.audit(l -> true);
        assertTrue(after.isClean(), after.toString());
        assertEquals(100, p.availableCount());
        // a handle returned twice shows up as a duplicate
        long x = p.alloc(Mempool.LCORE_ANY);
        p.putBulk(new long[] {x}, 0, 1, 0);
        p.putBulk(new long[] {x}, 0, 1, 0);
        MempoolAudit twice = p.audit(l -> true);
        assertArrayEquals(new long[] {x}, twice.duplicates());
    }

    @Test
    void auditCountsMbufsInApplicationRings() {
        Mempool p = pool(small(12, 64, 0));
        Ring r = Ring.create(arena.allocate(Ring.bytesNeeded(16), 64), "app", 16, 0);
        MbufBatch b = new MbufBatch(8);
        assertTrue(b.alloc(p, 8, 0));
        assertEquals(8, b.enqueue(r));
        assertTrue(b.isEmpty());
        MempoolAudit a = p.audit(l -> false, r);
        assertTrue(a.isClean(), a.toString());
        assertEquals(8, a.inFlight());
        assertEquals(8, b.dequeue(r, 32));
        b.free(0);
        assertEquals(64, p.availableCount());
    }

    @Test
    void dataAccessStaysInsideTheBuffer() {
        Mempool p = pool(small(13, 16, 0));
        Mbuf m = new Mbuf().wrap(p.alloc(0));
        assertEquals(128, m.headroom());
        assertEquals(1024, m.tailroom());
        assertEquals(0, m.append(60));
        m.setShortBE(12, 0x0800).setIntBE(26, 0xC0A80001).setByte(59, (byte) 7);
        assertEquals(0x0800, m.getShortBE(12));
        assertEquals(0xC0A80001, m.getIntBE(26));
        assertEquals(8, m.getByte(12));
        assertTrue(m.prepend(14));
        assertEquals(114, m.dataOff());
        assertEquals(74, m.dataLen());
        assertEquals(74, m.pktLen());
        assertEquals(0x0800, m.getShortBE(26));
        assertTrue(m.adj(14));
        assertTrue(m.trim(10));
        assertEquals(50, m.dataLen());
        assertEquals(50, m.data().byteSize());
        byte[] buf = new byte[4];
        m.write(100, new byte[] {1, 2, 3, 4}, 0, 4).read(100, buf, 0, 4);
        assertArrayEquals(new byte[] {1, 2, 3, 4}, buf);
        assertFalse(m.prepend(129));
        assertEquals(-1, m.append(2000));
        assertThrows(IndexOutOfBoundsException.class, () -> m.getByte(1024));
        assertThrows(IndexOutOfBoundsException.class, () -> m.write(1020, new byte[8], 0, 8));
        // a corrupted data offset is caught before any data access
        p.segment().set(ValueLayout.JAVA_SHORT, (m.handle() & ((1L << 48) - 1)) + MbufDescriptor.OFF_DATA_OFF, (short) 5000);
        var e = assertThrows(IllegalStateException.class, () -> m.getByte(0));
        assertEquals(String.format("corrupted mbuf 0x%x of pool 'pool13': data offset 5000 exceeds the 1152-byte buffer",
                m.handle()), e.getMessage());
    }

    @Test
    void threadsOnTwoLcoresPassMbufsAndTheCountReturns() throws Exception {
        Mempool p = pool(small(14, 2048, 64));
        Ring r = Ring.create(arena.allocate(Ring.bytesNeeded(512), 64), "pass", 512, 0);
        Thread[] t = new Thread[2];
        Throwable[] err = new Throwable[2];
        for (int i = 0; i < 2; i++) {
            final int lcore = i;
            t[i] = Thread.ofPlatform().start(() -> {
                try {
                    MbufBatch b = new MbufBatch(32);
                    Mbuf m = new Mbuf();
                    for (int round = 0; round < 20_000; round++) {
                        if (b.alloc(p, 1 + round % 32, lcore)) {
                            for (int k = 0; k < b.count(); k++) {
                                m.wrap(b.get(k)).userData(b.get(k) ^ 0x5A5A);
                            }
                            b.enqueue(r);
                            b.free(lcore);
                        }
                        b.dequeue(r, 32);
                        for (int k = 0; k < b.count(); k++) {
                            if (m.wrap(b.get(k)).userData() != (b.get(k) ^ 0x5A5A) || m.refcnt() != 1) {
                                throw new AssertionError("torn mbuf " + m);
                            }
                        }
                        b.free(lcore);
                    }
                } catch (Throwable e) {
                    err[lcore] = e;
                }
            });
        }
        for (Thread x : t) {
            x.join();
        }
        assertNull(err[0]);
        assertNull(err[1]);
        MbufBatch rest = new MbufBatch(512);
        rest.dequeue(r, 512);
        rest.free(Mempool.LCORE_ANY);
        assertEquals(2048, p.availableCount());
        MempoolAudit a = p.audit(l -> true);
        assertTrue(a.isClean(), a.toString());
        assertNotEquals(0, a.inCaches());
    }
}
