package io.jnic.memory.mbuf;

import static io.jnic.memory.mbuf.MempoolDescriptor.*;

import io.jnic.memory.CrashPoint;
import io.jnic.memory.PlainAccess;
import io.jnic.memory.SharedLock;
import io.jnic.memory.ring.Holder;
import io.jnic.memory.ring.Ring;
import io.jnic.memory.ring.RingDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.IntPredicate;
import java.util.function.LongUnaryOperator;

/**
 * A pool of packet buffers in shared memory, DPDK's {@code rte_pktmbuf_pool}: a header, a {@link Ring}
 * of free objects, one object cache per lcore, and the objects themselves (an mbuf header and its
 * buffer). Layout: {@link io.jnic.memory.mbuf the package documentation}.
 *
 * <p>Objects are named by handles: {@code poolId << 48 | offset of the mbuf header in the pool region}.
 * Handles hold no address, so every process that attaches the pool, wherever it maps it, uses the same
 * handles; the pool id lets {@link #freeBulk} find the pool in this process's table ({@link #lookup}).
 *
 * <p>Two levels, as in DPDK: {@link #getBulk}/{@link #putBulk} move raw objects ({@code rte_mempool_get_bulk});
 * {@link #allocBulk}/{@link #freeBulk} are {@code rte_pktmbuf_alloc_bulk}/{@code rte_pktmbuf_free_bulk}: they
 * reset the mbuf header and keep its reference count, which is also what marks an mbuf "in use" for
 * {@link #audit}: 0 while in the pool, 1.. while allocated; the allocating lcore is recorded beside it.
 *
 * <p>Caches follow DPDK's rules: a get of fewer than {@code cacheSize} objects is served from the lcore's
 * cache, refilled from the ring by {@code cacheSize + n - len} objects in one bulk dequeue; a put goes into
 * the cache unless that would exceed the flush threshold (1.5 x cacheSize), in which case the cache is
 * first emptied into the ring. Each lcore cache belongs to one thread at a time (the lcore's); another
 * process may {@link #flushCache flush} it only when that lcore's owner is dead.
 */
public final class Mempool implements AutoCloseable {

    public static final int MAX_POOL_ID = 1023;
    public static final int MAX_LCORES = 128;
    /** DPDK's RTE_MEMPOOL_CACHE_MAX_SIZE. */
    public static final int CACHE_MAX_SIZE = 512;
    public static final int DEFAULT_CACHE_SIZE = 256;
    public static final int DEFAULT_HEADROOM = 128;
    public static final int DEFAULT_DATA_ROOM = 2048;
    public static final int MAX_OBJECTS = 1 << 28;
    public static final int NAME_MAX = 31;
    /** Pass as lcore id from threads that have none: no cache is used (DPDK LCORE_ID_ANY). */
    public static final int LCORE_ANY = -1;

    /** Single-producer put into the free ring (DPDK RTE_MEMPOOL_F_SP_PUT). */
    public static final int F_SP_PUT = 0x1;
    /** Single-consumer get from the free ring (DPDK RTE_MEMPOOL_F_SC_GET). */
    public static final int F_SC_GET = 0x2;

    private static final Duration RECOVERY_LOCK_TIMEOUT = Duration.ofSeconds(10);
    private static final System.Logger LOG = System.getLogger(Mempool.class.getName());


    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    private static final ValueLayout.OfLong J = PlainAccess.LONG; // addresses checked at the handle
    private static final ValueLayout.OfInt I = PlainAccess.INT;
    private static final ValueLayout.OfShort OWNER = PlainAccess.SHORT;

    /** This process's pools by id (DPDK finds the pool through the mbuf's pool pointer; we use the id). */
    private static final Mempool[] POOLS = new Mempool[MAX_POOL_ID + 1];

    static {
        Ring.addDeadHolderResolver(Mempool::resolveDeadHold);
    }

    /**
     * All of the address space: hot paths address the pool by absolute address through this constant so
     * that C2 folds the segment checks (see Ring.ALL); handles and cache lengths are checked against this
     * pool's bounds first, so every access stays inside the pool, which must stay mapped while used.
     */
    private static final MemorySegment ALL = PlainAccess.ALL;

    private final MemorySegment seg;
    /** Absolute address of the pool (offset 0 of {@link #seg}). */
    final long base;
    private final Ring ring;
    private final String name;
    private final int poolId;
    private final int count;
    private final int stride;
    private final int headroom;
    private final int dataRoom;
    private final int bufLen;
    private final int cacheSize;
    private final int flushThresh;
    private final int cacheCap;
    private final int maxLcores;
    private final long pageSize;
    private final long pagePhase;
    private final long cachesOff;
    private final long cacheStride;
    private final long firstOff;
    private final long lastOff;
    /** Smallest and largest valid handle; a handle is valid when in [minHandle, maxHandle] and 64-aligned. */
    final long minHandle;
    final long maxHandle;
    /** Header word at offset 8 after alloc: data_off = headroom, nb_segs = 1, refcnt = 1. */
    private final long rearm;
    /** Header word at offset 40 after alloc, without the owner lcore: port invalid, buf_len, pool id. */
    private final long word40;
    private final SharedLock recoveryLock;
    private volatile boolean closed;

    private Mempool(MemorySegment seg) {
        this.seg = seg;
        this.base = seg.address();
        this.poolId = (int) INT.get(seg, P_POOL_ID);
        this.count = (int) INT.get(seg, P_COUNT);
        this.stride = (int) INT.get(seg, P_STRIDE);
        this.headroom = (int) INT.get(seg, P_HEADROOM);
        this.dataRoom = (int) INT.get(seg, P_DATA_ROOM);
        this.bufLen = (int) INT.get(seg, P_BUF_LEN);
        this.cacheSize = (int) INT.get(seg, P_CACHE_SIZE);
        this.flushThresh = (int) INT.get(seg, P_FLUSH_THRESH);
        this.cacheCap = (int) INT.get(seg, P_CACHE_CAP);
        this.maxLcores = (int) INT.get(seg, P_MAX_LCORES);
        this.pageSize = (long) LONG.get(seg, P_PAGE_SIZE);
        this.pagePhase = (long) LONG.get(seg, P_PAGE_PHASE);
        this.cachesOff = (long) LONG.get(seg, P_CACHES_OFF);
        this.cacheStride = (long) LONG.get(seg, P_CACHE_STRIDE);
        this.firstOff = (long) LONG.get(seg, P_OBJ_FIRST);
        this.lastOff = (long) LONG.get(seg, P_OBJ_LAST);
        this.name = readName(seg);
        long ringOff = (long) LONG.get(seg, P_RING_OFF);
        this.ring = Ring.attach(seg.asSlice(ringOff, cachesOff - ringOff));
        this.minHandle = ((long) poolId << HANDLE_SHIFT) | firstOff;
        this.maxHandle = ((long) poolId << HANDLE_SHIFT) | lastOff;
        this.rearm = (headroom & 0xFFFFL) | (1L << 16) | (1L << 32);
        this.word40 = Mbuf.PORT_INVALID | ((long) bufLen << 32) | ((long) poolId << 48);
        this.recoveryLock = new SharedLock(seg.asSlice(P_RECOVERY_LOCK, SharedLock.SIZE));
    }

    // ------------------------------------------------------------------------------------------------
    // Layout

    static int flushThreshold(int cacheSize) {
        return cacheSize + cacheSize / 2;
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** Element stride: mbuf header + headroom + data room, rounded up to a cache line. */
    private static int stride(MempoolConfig c) {
        return (int) align(MbufDescriptor.HEADER_SIZE + c.headroom() + c.dataRoom(), 64);
    }

    private static long cacheStride(int cacheSize) {
        return cacheSize == 0 ? 0 : align(C_OBJS + 8L * 2 * cacheSize, 64);
    }

    /** Where the object after {@code pos} starts so that it does not cross a page boundary. */
    private static long placeObject(long pos, long stride, long pageSize, long phase) {
        long inPage = (phase + pos) & (pageSize - 1);
        return inPage + stride > pageSize ? pos + pageSize - inPage : pos;
    }

    /** Offsets of the pool's parts: {ring, caches, first object, last object, end}. */
    private static long[] layout(MempoolConfig c, long pageSize, long phase) {
        int flags = Ring.F_EXACT_SZ | ringFlags(c.flags());
        long ringOff = HEADER_BYTES;
        long cachesOff = align(ringOff + Ring.bytesNeeded(c.count(), flags), 64);
        long objOff = align(cachesOff + (long) c.maxLcores() * cacheStride(c.cacheSize()), 64);
        long s = stride(c);
        long pos = objOff;
        long first = -1;
        long last = -1;
        for (int i = 0; i < c.count(); i++) {
            pos = placeObject(pos, s, pageSize, phase);
            if (first < 0) {
                first = pos;
            }
            last = pos;
            pos += s;
        }
        return new long[] {ringOff, cachesOff, first, last, pos};
    }

    private static int ringFlags(int poolFlags) {
        return ((poolFlags & F_SP_PUT) != 0 ? Ring.F_SP_ENQ : 0) | ((poolFlags & F_SC_GET) != 0 ? Ring.F_SC_DEQ : 0);
    }

    private static void checkPageSize(long pageSize, MempoolConfig c) {
        if (pageSize < 4096 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize + " must be a power of two >= 4096");
        }
        if (stride(c) > pageSize) {
            throw new IllegalArgumentException("an mbuf of " + stride(c) + " bytes (header " + MbufDescriptor.HEADER_SIZE + " + headroom "
                    + c.headroom() + " + data room " + c.dataRoom() + ") does not fit a " + pageSize
                    + "-byte page; objects must not cross a page boundary (their IOVA is contiguous only within a page)");
        }
    }

    /**
     * Bytes a pool needs when its region starts on a {@code pageSize} boundary (as hugepage mappings do). A
     * region at another page offset may need up to one page more; {@link #create} says so when it does.
     */
    public static long bytesNeeded(MempoolConfig c, long pageSize) {
        checkPageSize(pageSize, c);
        return layout(c, pageSize, 0)[4];
    }

    // ------------------------------------------------------------------------------------------------
    // Create, attach, lookup

    /**
     * Builds a pool at the start of {@code region} and registers it in this process's pool table.
     *
     * @param offsetToIova maps an offset in {@code region} to the IOVA the device uses for it; called
     *                     once per object, its result is stored in the mbuf header
     * @param pageSize     the page size backing the region (4096, 2 MiB, 1 GiB): no object crosses a page
     */
    public static Mempool create(MemorySegment region, MempoolConfig c, LongUnaryOperator offsetToIova, long pageSize) {
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(c, "config");
        Objects.requireNonNull(offsetToIova, "offsetToIova");
        checkPageSize(pageSize, c);
        if (!region.isNative() || (region.address() & 63) != 0) {
            throw new IllegalArgumentException(String.format(
                    "region must be native memory starting on a 64-byte boundary (address 0x%x)", region.address()));
        }
        long phase = region.address() & (pageSize - 1);
        long[] l = layout(c, pageSize, phase);
        long need = l[4];
        if (region.byteSize() < need) {
            throw new IllegalArgumentException("region too small: mempool '" + c.name() + "' of " + c.count() + " mbufs ("
                    + stride(c) + " bytes each, cache " + c.cacheSize() + " x " + c.maxLcores() + " lcores) needs " + need
                    + " bytes at this address, the region has " + region.byteSize()
                    + (phase != 0 ? " (the region does not start on a page boundary, which costs up to a page)" : ""));
        }
        if (((long) c.poolId() << HANDLE_SHIFT) >>> HANDLE_SHIFT != c.poolId() || need > OFFSET_MASK) {
            throw new IllegalArgumentException("pool too large for 48-bit handle offsets");
        }
        synchronized (POOLS) {
            checkFree(c.poolId());
            MemorySegment seg = region.asSlice(0, need);
            seg.asSlice(0, l[2]).fill((byte) 0);
            int st = stride(c);
            int cacheCap = 2 * c.cacheSize();
            INT.set(seg, P_VERSION, VERSION);
            INT.set(seg, P_FLAGS, c.flags());
            INT.set(seg, P_POOL_ID, c.poolId());
            INT.set(seg, P_COUNT, c.count());
            INT.set(seg, P_STRIDE, st);
            INT.set(seg, P_HDR_SIZE, MbufDescriptor.HEADER_SIZE);
            INT.set(seg, P_HEADROOM, c.headroom());
            INT.set(seg, P_DATA_ROOM, c.dataRoom());
            INT.set(seg, P_BUF_LEN, c.headroom() + c.dataRoom());
            INT.set(seg, P_CACHE_SIZE, c.cacheSize());
            INT.set(seg, P_FLUSH_THRESH, flushThreshold(c.cacheSize()));
            INT.set(seg, P_CACHE_CAP, cacheCap);
            INT.set(seg, P_MAX_LCORES, c.maxLcores());
            LONG.set(seg, P_PAGE_SIZE, pageSize);
            LONG.set(seg, P_PAGE_PHASE, phase);
            LONG.set(seg, P_RING_OFF, l[0]);
            LONG.set(seg, P_CACHES_OFF, l[1]);
            LONG.set(seg, P_CACHE_STRIDE, cacheStride(c.cacheSize()));
            LONG.set(seg, P_OBJ_FIRST, l[2]);
            LONG.set(seg, P_OBJ_LAST, l[3]);
            LONG.set(seg, P_BYTES, need);
            byte[] nb = c.name().getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(nb, 0, seg, ValueLayout.JAVA_BYTE, P_NAME, nb.length);

            Ring ring = Ring.create(seg.asSlice(l[0], l[1] - l[0]), c.name(), c.count(),
                    Ring.F_EXACT_SZ | ringFlags(c.flags()));
            long[] batch = new long[256];
            int nb2 = 0;
            long pos = l[2];
            long bufLen = c.headroom() + c.dataRoom();
            for (int i = 0; i < c.count(); i++) {
                pos = placeObject(pos, st, pageSize, phase);
                long h = ((long) c.poolId() << HANDLE_SHIFT) | pos;
                long iova = offsetToIova.applyAsLong(pos + MbufDescriptor.HEADER_SIZE);
                seg.asSlice(pos, MbufDescriptor.HEADER_SIZE).fill((byte) 0);
                seg.set(J, pos + MbufDescriptor.OFF_BUF_IOVA, iova);
                seg.set(J, pos + 40, Mbuf.PORT_INVALID | ((long) Mbuf.OWNER_NONE << 16) | (bufLen << 32)
                        | ((long) c.poolId() << 48));
                seg.set(ValueLayout.JAVA_SHORT, pos + MbufDescriptor.OFF_DATA_OFF, (short) c.headroom());
                seg.set(ValueLayout.JAVA_SHORT, pos + MbufDescriptor.OFF_NB_SEGS, (short) 1);
                seg.set(J, pos + MbufDescriptor.OFF_SELF, h);
                batch[nb2++] = h;
                if (nb2 == batch.length) {
                    ring.enqueueBulk(batch, 0, nb2);
                    nb2 = 0;
                }
                pos += st;
            }
            ring.enqueueBulk(batch, 0, nb2);
            LONG.setRelease(seg, P_MAGIC, MAGIC);
            Mempool p = new Mempool(seg);
            POOLS[p.poolId] = p;
            return p;
        }
    }

    /**
     * Attaches a pool created (by any process) at the start of {@code region} and registers it in this
     * process's table. Validates magic, version and that every part the header names lies inside the region.
     */
    public static Mempool attach(MemorySegment region) {
        Objects.requireNonNull(region, "region");
        if (region.byteSize() < HEADER_BYTES) {
            throw new IllegalArgumentException("region too small for a mempool header: " + region.byteSize() + " < "
                    + HEADER_BYTES + " bytes");
        }
        MempoolDescriptor.checkMagicAndVersion(region);
        // Re-derive the layout from the header's parameters and insist that the header agrees with it.
        MempoolConfig c;
        long pageSize = (long) LONG.get(region, P_PAGE_SIZE);
        long phase = (long) LONG.get(region, P_PAGE_PHASE);
        try {
            c = new MempoolConfig(readName(region), (int) INT.get(region, P_POOL_ID), (int) INT.get(region, P_COUNT),
                    (int) INT.get(region, P_CACHE_SIZE), (int) INT.get(region, P_MAX_LCORES),
                    (int) INT.get(region, P_HEADROOM), (int) INT.get(region, P_DATA_ROOM), (int) INT.get(region, P_FLAGS));
            checkPageSize(pageSize, c);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("corrupted mempool header: " + e.getMessage(), e);
        }
        if (phase < 0 || phase >= pageSize || (phase & 63) != 0) {
            throw new IllegalArgumentException("corrupted mempool header: page phase " + phase);
        }
        long[] l = layout(c, pageSize, phase);
        if ((long) LONG.get(region, P_RING_OFF) != l[0] || (long) LONG.get(region, P_CACHES_OFF) != l[1]
                || (long) LONG.get(region, P_OBJ_FIRST) != l[2] || (long) LONG.get(region, P_OBJ_LAST) != l[3]
                || (long) LONG.get(region, P_BYTES) != l[4] || (int) INT.get(region, P_STRIDE) != stride(c)
                || (long) LONG.get(region, P_CACHE_STRIDE) != cacheStride(c.cacheSize())
                || (int) INT.get(region, P_BUF_LEN) != c.headroom() + c.dataRoom()
                || (int) INT.get(region, P_FLUSH_THRESH) != flushThreshold(c.cacheSize())
                || (int) INT.get(region, P_CACHE_CAP) != 2 * c.cacheSize()
                || (int) INT.get(region, P_HDR_SIZE) != MbufDescriptor.HEADER_SIZE) {
            throw new IllegalArgumentException("corrupted mempool header: its offsets do not match its parameters");
        }
        if (region.byteSize() < l[4]) {
            throw new IllegalArgumentException("mempool '" + c.name() + "' needs " + l[4] + " bytes but the region has only "
                    + region.byteSize() + "; map the whole pool");
        }
        synchronized (POOLS) {
            checkFree(c.poolId());
            Mempool p = new Mempool(region.asSlice(0, l[4]));
            POOLS[p.poolId] = p;
            return p;
        }
    }

    private static void checkFree(int id) {
        Mempool old = POOLS[id];
        if (old != null) {
            throw new IllegalStateException("mempool id " + id + " is already in use in this process by '" + old.name
                    + "'; close() it first or give the new pool another id");
        }
    }

    private static String readName(MemorySegment region) {
        byte[] b = new byte[NAME_BYTES];
        MemorySegment.copy(region, ValueLayout.JAVA_BYTE, P_NAME, b, 0, NAME_BYTES);
        int len = 0;
        while (len < NAME_BYTES && b[len] != 0) {
            len++;
        }
        return new String(b, 0, Math.min(len, NAME_BYTES), StandardCharsets.UTF_8);
    }

    /**
     * The pool with this id in this process, or null. The table is a plain array read without barriers:
     * create or attach pools before starting the threads that use them (Thread.start publishes them).
     */
    public static Mempool lookup(int poolId) {
        return poolId >= 0 && poolId <= MAX_POOL_ID ? POOLS[poolId] : null;
    }

    /** The pool a handle belongs to; throws when the handle names no pool attached in this process. */
    public static Mempool ofHandle(long handle) {
        int id = (int) (handle >>> HANDLE_SHIFT);
        Mempool p = id <= MAX_POOL_ID ? POOLS[id] : null;
        if (p == null) {
            throw badHandle(handle);
        }
        return p;
    }

    static IllegalArgumentException badHandle(long handle) {
        int id = (int) (handle >>> HANDLE_SHIFT);
        Mempool p = id <= MAX_POOL_ID ? POOLS[id] : null;
        if (handle == 0) {
            return new IllegalArgumentException("mbuf handle 0 is the null handle");
        }
        if (p == null) {
            return new IllegalArgumentException(String.format("mbuf handle 0x%x names pool id %d, which is not attached in "
                    + "this process (attach the pool first)", handle, id));
        }
        return new IllegalArgumentException(String.format("mbuf handle 0x%x is not an mbuf of pool '%s' (offset 0x%x is not "
                + "an object start in 0x%x..0x%x)", handle, p.name, handle & OFFSET_MASK, p.firstOff, p.lastOff));
    }

    /** Unregisters the pool from this process's table. The shared memory is untouched. */
    @Override
    public void close() {
        synchronized (POOLS) {
            if (POOLS[poolId] == this) {
                POOLS[poolId] = null;
            }
            closed = true;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Raw object get/put (rte_mempool_get_bulk / rte_mempool_put_bulk)

    /** Offset of the mbuf header a handle names, after checking it belongs to this pool. */
    long offsetOf(long handle) {
        if (Long.compareUnsigned(handle - minHandle, maxHandle - minHandle) > 0 || (handle & 63) != 0) {
            throw badHandle(handle);
        }
        return handle & OFFSET_MASK;
    }

    /** As {@link #offsetOf} and also checks the header's self field: the handle names an object start. */
    long objectOffset(long handle) {
        long o = offsetOf(handle);
        if (ALL.get(J, PlainAccess.address(base + o) + MbufDescriptor.OFF_SELF) != handle) {
            throw badHandle(handle);
        }
        return o;
    }

    private long cacheOffset(int lcore) {
        if (lcore >= maxLcores) {
            throw new IllegalArgumentException("lcore " + lcore + " out of range: pool '" + name + "' has caches for lcores 0.."
                    + (maxLcores - 1) + " (use LCORE_ANY for threads without an lcore)");
        }
        return cachesOff + lcore * cacheStride;
    }

    private int cacheLen(long c) {
        int len = ALL.get(I, base + c + C_LEN);
        if (Integer.compareUnsigned(len, cacheCap) > 0) {
            throw new IllegalStateException("corrupted mempool '" + name + "': cache length " + len + " exceeds its capacity "
                    + cacheCap);
        }
        return len;
    }

    /**
     * Takes {@code n} objects into {@code dst[off..off+n)}, all or none, through {@code lcore}'s cache.
     *
     * @return false (and nothing taken) when fewer than {@code n} are available to this lcore
     */
    public boolean getBulk(long[] dst, int off, int n, int lcore) {
        Objects.checkFromIndexSize(off, n, dst.length);
        if (lcore < 0 || n >= cacheSize) {
            return ring.dequeueBulk(dst, off, n) == n; // DPDK: requests of a cache's size or more bypass it
        }
        long c = cacheOffset(lcore);
        int len = ensureCached(c, n);
        if (len < 0) {
            return false;
        }
        len -= n;
        copyOut(base + c + C_OBJS + 8L * len, dst, off, n);
        ALL.set(I, base + c + C_LEN, len);
        return true;
    }

    /**
     * Makes the cache at {@code c} hold at least {@code n} (&lt;= cacheSize) objects, refilling from the ring as
     * DPDK does ({@code cacheSize + n - len} objects, or just the missing ones when the ring has fewer).
     *
     * @return the cache length, or -1 when the ring cannot supply the missing objects
     */
    private int ensureCached(long c, int n) {
        int len = cacheLen(c);
        if (len >= n) {
            return len;
        }
        if (refill(c, len, cacheSize + n - len) || refill(c, len, n - len)) {
            return cacheLen(c);
        }
        return -1;
    }

    /**
     * Moves {@code req} objects from the ring into the cache above {@code len}. The cache length is the commit
     * point: once it counts them, a resolver completes the ring's side for a dead process; before, it rolls back.
     */
    private boolean refill(long c, int len, int req) {
        long r = ring.dequeueStart(req);
        if (r < 0) {
            return false;
        }
        int pos = (int) r;
        final long at = base + c;
        record(at, OP_REFILL, len, req, pos);
        ring.readSlots(pos, ALL, at + C_OBJS + 8L * len, req);
        INT.setRelease(ALL, at + C_LEN, len + req); // commit (pairs with the resolver's reading after our death)
        if (CrashPoint.ENABLED) {
            CrashPoint.hit(CrashPoint.POOL_REFILL_COMMITTED);
        }
        ring.dequeueFinish(pos, req);
        INT.setRelease(ALL, at + C_OP, OP_NONE);
        return true;
    }

    /** Moves all {@code len} objects of the cache at {@code c} to the ring; the cache length is the commit point. */
    private void flush(long c, int len) {
        long r = ring.enqueueStart(len);
        if (r < 0) {
            throw overflow();
        }
        int pos = (int) r;
        final long at = base + c;
        record(at, OP_FLUSH, len, len, pos);
        ring.writeSlots(pos, ALL, at + C_OBJS, len);
        INT.setRelease(ALL, at + C_LEN, 0); // commit
        if (CrashPoint.ENABLED) {
            CrashPoint.hit(CrashPoint.POOL_FLUSH_COMMITTED);
        }
        ring.enqueueFinish(pos, len);
        INT.setRelease(ALL, at + C_OP, OP_NONE);
    }

    /** Writes the transfer record; the op word last (release), so a reader that sees it sees the rest. */
    private static void record(long at, int op, int len, int n, int pos) {
        ALL.set(I, at + C_OP_LEN, len);
        ALL.set(I, at + C_OP_N, n);
        ALL.set(I, at + C_OP_POS, pos);
        ALL.set(I, at + C_OP_HOLDER, Holder.SELF);
        INT.setRelease(ALL, at + C_OP, op);
    }

    /**
     * Returns {@code n} objects from {@code src[off..off+n)} through {@code lcore}'s cache. Handles are
     * checked to belong to this pool before anything is stored.
     */
    public void putBulk(long[] src, int off, int n, int lcore) {
        Objects.checkFromIndexSize(off, n, src.length);
        checkHandles(src, off, n);
        putChecked(src, off, n, lcore, false);
    }

    private void checkHandles(long[] src, int off, int n) {
        // d = h - minHandle must be in [0, span] and a multiple of 64. Rotating the 6 alignment bits to the
        // top turns both conditions into one unsigned range check, and OR-ing (r | (spanR - r)) over the
        // batch gives a sign bit when any check fails: a branch-free loop C2 vectorizes.
        final long lo = minHandle;
        final long spanR = (maxHandle - minHandle) >>> 6;
        long bad = 0;
        for (int i = 0; i < n; i++) {
            long r = Long.rotateRight(src[off + i] - lo, 6);
            bad |= r | (spanR - r);
        }
        if (bad < 0) {
            for (int i = 0; i < n; i++) {
                offsetOf(src[off + i]);
            }
        }
    }

    /**
     * Puts checked handles into the cache (or the ring without one). With {@code mbufs}, their reference counts
     * (still 1, so that an mbuf is never unowned outside the pool) drop to 0 only once the cache counts them.
     */
    private void putChecked(long[] src, int off, int n, int lcore, boolean mbufs) {
        if (lcore < 0 || cacheSize == 0 || (!mbufs && n > cacheSize)) {
            // DPDK: raw puts of more than a cache's size bypass it; mbufs go through it in chunks instead, so that
            // no freed mbuf is ever outside both its holder's count and the pool (see Crash safety)
            if (mbufs) {
                releaseRefs(src, off, n); // the ring's consumers may take them at once: no store after the enqueue
            }
            if (ring.enqueueBulk(src, off, n) != n) {
                throw overflow();
            }
            return;
        }
        final long b = base;
        while (n > 0) {
            int k = Math.min(n, cacheSize);
            long c = cacheOffset(lcore);
            int len = cacheLen(c);
            if (len + k > flushThresh) {
                if (len > 0) {
                    flush(c, len);
                }
                len = 0;
            }
            copyIn(src, off, b + c + C_OBJS + 8L * len, k);
            ALL.set(I, b + c + C_LEN, len + k); // commit
            if (mbufs) {
                if (CrashPoint.ENABLED) {
                    CrashPoint.hit(CrashPoint.POOL_FREE_COMMITTED);
                }
                releaseRefs(src, off, k); // before any later flush can hand them to another process
            }
            off += k;
            n -= k;
        }
    }

    private void releaseRefs(long[] src, int off, int n) {
        final long b = base;
        for (int i = 0; i < n; i++) {
            ALL.set(I, b + (src[off + i] & OFFSET_MASK) + MbufDescriptor.OFF_REFCNT, 0);
        }
    }

    /** Single-segment put of an mbuf whose last reference this lcore released (chained segments on free). */
    private void putOne(long h, int lcore) {
        if (lcore < 0 || cacheSize == 0) {
            ALL.set(I, base + (h & OFFSET_MASK) + MbufDescriptor.OFF_REFCNT, 0);
            if (!ring.enqueue(h)) {
                throw overflow();
            }
            return;
        }
        final long b = base;
        long c = cacheOffset(lcore);
        int len = cacheLen(c);
        if (len + 1 > flushThresh) {
            flush(c, len);
            len = 0;
        }
        ALL.set(J, b + c + C_OBJS + 8L * len, h);
        ALL.set(I, b + c + C_LEN, len + 1);
        ALL.set(I, b + (h & OFFSET_MASK) + MbufDescriptor.OFF_REFCNT, 0);
    }

    private IllegalStateException overflow() {
        return new IllegalStateException("mempool '" + name + "' free ring overflow: more objects returned than the pool "
                + "holds (an mbuf was freed twice?)");
    }

    private static void copyOut(long from, long[] dst, int off, int n) {
        if (n >= 16) {
            MemorySegment.copy(ALL, J, from, dst, off, n);
        } else {
            for (int i = 0; i < n; i++) {
                dst[off + i] = ALL.get(J, from + 8L * i);
            }
        }
    }

    private static void copyIn(long[] src, int off, long to, int n) {
        if (n >= 16) {
            MemorySegment.copy(src, off, ALL, J, to, n);
        } else {
            for (int i = 0; i < n; i++) {
                ALL.set(J, to + 8L * i, src[off + i]);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Packet buffers (rte_pktmbuf_alloc_bulk / rte_pktmbuf_free_bulk)

    /**
     * Allocates {@code n} mbufs into {@code dst[off..off+n)}, all or none, and resets their headers as
     * {@code rte_pktmbuf_reset} does: data_off = headroom, data/pkt length 0, one segment, no next, port
     * invalid, no offload flags, reference count 1; the owner lcore is recorded for {@link #audit}. Unlike
     * DPDK, tx_offload (second cache line) is left alone: it is only read when ol_flags asks for a tx offload.
     */
    public boolean allocBulk(long[] dst, int off, int n, int lcore) {
        return allocBulk(dst, off, n, lcore, Mbuf.PORT_INVALID, 0);
    }

    /**
     * As {@link #allocBulk(long[], int, int, int)}, and each header already says what a receive path writes next:
     * one segment of {@code length} bytes (data and packet length) that arrived on {@code port}. The values go into
     * the same stores as the reset, so a burst costs no pass over its headers after the allocation (DPDK's
     * vector RX paths fold the port into their rearm template the same way).
     *
     * @param port   0..0xFFFF ({@link Mbuf#PORT_INVALID} for none)
     * @param length 0..{@link #dataRoom()}
     */
    public boolean allocBulk(long[] dst, int off, int n, int lcore, int port, int length) {
        if ((port & ~0xFFFF) != 0 || length < 0 || length > dataRoom) {
            throw new IllegalArgumentException("port " + port + " must be 0..65535 and length " + length + " 0.." + dataRoom
                    + " (the data room of pool '" + name + "')");
        }
        Objects.checkFromIndexSize(off, n, dst.length);
        if (lcore < 0 || cacheSize == 0) {
            if (ring.dequeueBulk(dst, off, n) != n) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                reset(dst[off + i], lcore, port, length);
            }
            return true;
        }
        for (int done = 0; done < n; ) {
            int k = Math.min(n - done, cacheSize);
            long c = cacheOffset(lcore);
            int len = ensureCached(c, k);
            if (len < 0) {
                if (done > 0) {
                    freeBulk(dst, off, done, lcore);
                }
                return false;
            }
            // Reset the headers (reference count 1, owner lcore) while the cache still counts them: a process
            // dying here leaves them in its cache (a recovering flush zeroes their counts), never unowned.
            int from = len - k;
            copyOut(base + c + C_OBJS + 8L * from, dst, off + done, k);
            resetAll(dst, off + done, k, lcore, port, length);
            if (CrashPoint.ENABLED) {
                CrashPoint.hit(CrashPoint.POOL_ALLOC_RESET);
            }
            ALL.set(I, base + c + C_LEN, from);
            done += k;
        }
        return true;
    }

    private void resetAll(long[] dst, int off, int n, int lcore, int port, int length) {
        final long b = base;
        final long r = rearm;
        final long w24 = (long) length << 32; // packet_type 0, pkt_len
        final long w32 = length; // data_len, vlan_tci 0, rss hash 0
        final long w40 = (word40 & ~0xFFFFL) | port | ((long) (lcore & 0xFFFF) << 16);
        for (int i = 0; i < n; i++) {
            long o = dst[off + i] & OFFSET_MASK;
            long a = PlainAccess.address(b + o);
            if (o < firstOff || o > lastOff || ALL.get(J, a + MbufDescriptor.OFF_SELF) != dst[off + i]) {
                throw new IllegalStateException(String.format("corrupted mempool '%s': free ring held handle 0x%x",
                        name, dst[off + i]));
            }
            ALL.set(J, a + 8, r);
            ALL.set(J, a + 16, 0L);
            ALL.set(J, a + 24, w24);
            ALL.set(J, a + 32, w32);
            ALL.set(J, a + 40, w40);
            ALL.set(J, a + 48, 0L);
        }
    }

    /** Allocates one mbuf; 0 (the null handle) when the pool is empty. */
    public long alloc(int lcore) {
        if (lcore < 0 || cacheSize == 0) {
            long h = ring.dequeue(0L);
            if (h != 0) {
                reset(h, lcore, Mbuf.PORT_INVALID, 0);
            }
            return h;
        }
        long c = cacheOffset(lcore);
        int len = ensureCached(c, 1);
        if (len < 0) {
            return 0L;
        }
        len--;
        long h = ALL.get(J, base + c + C_OBJS + 8L * len);
        reset(h, lcore, Mbuf.PORT_INVALID, 0); // before the cache lets go of it, as in allocBulk
        ALL.set(I, base + c + C_LEN, len);
        return h;
    }

    private void reset(long h, int lcore, int port, int length) {
        long o = h & OFFSET_MASK;
        if (o < firstOff || o > lastOff || ALL.get(J, base + o + MbufDescriptor.OFF_SELF) != h) {
            throw new IllegalStateException(String.format("corrupted mempool '%s': free ring held handle 0x%x", name, h));
        }
        final long b = base;
        ALL.set(J, b + o + 8, rearm);
        ALL.set(J, b + o + 16, 0L);
        ALL.set(J, b + o + 24, (long) length << 32);
        ALL.set(J, b + o + 32, length);
        ALL.set(J, b + o + 40, (word40 & ~0xFFFFL) | port | ((long) (lcore & 0xFFFF) << 16));
        ALL.set(J, b + o + 48, 0L);
    }

    /**
     * Frees {@code n} packets (each with all its segments), which may come from different pools, the way
     * {@code rte_pktmbuf_free_bulk} does: a segment returns to its pool only when its reference count
     * drops to zero. The contents of {@code handles[off..off+n)} are unspecified afterwards.
     */
    public static void freeBulk(long[] handles, int off, int n, int lcore) {
        Objects.checkFromIndexSize(off, n, handles.length);
        final int end = off + n;
        int i = off;
        while (i < end) {
            Mempool p = ofHandle(handles[i]);
            final long b = p.base;
            final long id = p.poolId;
            final short owner = (short) lcore;
            int start = i;
            int w = i;
            try {
                for (; i < end; i++) {
                    long h = handles[i];
                    if ((h >>> HANDLE_SHIFT) != id) {
                        break;
                    }
                    long o = p.offsetOf(h);
                    long a = PlainAccess.address(b + o);
                    long word8 = ALL.get(J, a + 8);
                    long next = ALL.get(J, a + MbufDescriptor.OFF_NEXT);
                    if (ALL.get(J, a + MbufDescriptor.OFF_SELF) != h) {
                        throw badHandle(h);
                    }
                    if ((word8 >>> 32) == 1 && next == 0) {
                        // the count stays 1 until the cache holds it; the owner says whose it is meanwhile
                        ALL.set(OWNER, a + MbufDescriptor.OFF_OWNER, owner);
                        handles[w++] = h;
                    } else if (p.prefreeSlow(h, o, (int) (word8 >>> 32), next, lcore)) {
                        handles[w++] = h;
                    }
                }
            } finally {
                // also when a bad handle stopped us: what was released so far goes back, nothing leaks
                if (w > start) {
                    p.putChecked(handles, start, w - start, lcore, true);
                }
            }
        }
    }

    /** Frees one packet (all its segments). */
    public static void free(long handle, int lcore) {
        Mempool p = ofHandle(handle);
        long o = p.objectOffset(handle);
        int ref = ALL.get(I, p.base + o + MbufDescriptor.OFF_REFCNT);
        long next = ALL.get(J, p.base + o + MbufDescriptor.OFF_NEXT);
        if (ref == 1 && next == 0) {
            ALL.set(OWNER, p.base + o + MbufDescriptor.OFF_OWNER, (short) lcore);
            p.putOne(handle, lcore);
        } else if (p.prefreeSlow(handle, o, ref, next, lcore)) {
            p.putOne(handle, lcore);
        }
    }

    /**
     * The head segment {@code h} had a reference count other than 1 or a next segment. Frees the rest of
     * the chain segment by segment and says whether {@code h} itself goes back to the pool.
     */
    private boolean prefreeSlow(long h, long o, int ref, long next, int lcore) {
        boolean last = prefreeSeg(h, o, ref, lcore);
        // Every segment is released independently (rte_pktmbuf_free walks the chain whatever the head's count).
        long seg2 = next;
        int guard = 0;
        while (seg2 != 0) {
            if (++guard > 0xFFFF) {
                throw new IllegalStateException(String.format("mbuf chain from 0x%x has more than 65535 segments (a loop?)", h));
            }
            Mempool q = ofHandle(seg2);
            long qo = q.objectOffset(seg2);
            long after = ALL.get(J, q.base + qo + MbufDescriptor.OFF_NEXT);
            if (q.prefreeSeg(seg2, qo, ALL.get(I, q.base + qo + MbufDescriptor.OFF_REFCNT), lcore)) {
                q.putOne(seg2, lcore);
            }
            seg2 = after;
        }
        return last;
    }

    /**
     * rte_pktmbuf_prefree_seg: true when this reference was the last and the segment was reset. The count never
     * reaches 0 here: the last holder leaves it at 1 (stamping itself as owner) until the pool has the segment back,
     * so a holder dying at any point leaves a segment that is either counted by a live holder, owned by the dead
     * lcore (reclaimed), or in the pool.
     */
    private boolean prefreeSeg(long h, long o, int ref, int lcore) {
        while (true) {
            if (ref == 1) {
                ALL.set(J, base + o + MbufDescriptor.OFF_NEXT, 0L);
                ALL.set(ValueLayout.JAVA_SHORT, base + o + MbufDescriptor.OFF_NB_SEGS, (short) 1);
                ALL.set(OWNER, base + o + MbufDescriptor.OFF_OWNER, (short) lcore);
                return true;
            }
            if (ref <= 0) {
                throw new IllegalStateException(String.format("mbuf 0x%x of pool '%s' freed while not allocated (reference "
                        + "count %d): double free?", h, name, ref));
            }
            int witness = (int) INT.compareAndExchange(ALL, base + o + MbufDescriptor.OFF_REFCNT, ref, ref - 1);
            if (witness == ref) {
                return false;
            }
            ref = witness;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Counts, caches, audit

    /** Objects in the free ring plus all lcore caches (rte_mempool_avail_count); a snapshot. */
    public int availableCount() {
        long sum = ring.count();
        for (int l = 0; l < maxLcores && cacheSize > 0; l++) {
            sum += cacheCount(l);
        }
        return (int) Math.min(sum, count);
    }

    /** Objects taken out (rte_mempool_in_use_count). */
    public int inUseCount() {
        return count - availableCount();
    }

    /** Objects in {@code lcore}'s cache. */
    public int cacheCount(int lcore) {
        if (cacheSize == 0) {
            return 0;
        }
        if (lcore < 0) {
            throw new IllegalArgumentException("lcore " + lcore + " has no cache");
        }
        int len = (int) INT.getAcquire(seg, cacheOffset(lcore) + C_LEN);
        return Integer.compareUnsigned(len, cacheCap) > 0 ? cacheCap : len;
    }

    /**
     * Moves every object in {@code lcore}'s cache to the free ring and returns how many. For the lcore's own
     * thread, or for a recovering process once the lcore's owner is dead (never while it runs): a transfer the
     * dead owner left half done is settled first, by its cache length, and the objects go back with reference
     * count 0 (an allocation or free it was in the middle of may have left 1). Garbage is dropped (audit finds it).
     */
    public int flushCache(int lcore) {
        if (cacheSize == 0) {
            return 0;
        }
        if (lcore < 0) {
            throw new IllegalArgumentException("lcore " + lcore + " has no cache");
        }
        long c = cacheOffset(lcore);
        return underRecoveryLock(() -> {
            settle(lcore);
            final long at = base + c;
            int len = ALL.get(I, at + C_LEN);
            if (Integer.compareUnsigned(len, cacheCap) > 0) {
                throw new IllegalStateException("corrupted mempool '" + name + "': cache of lcore " + lcore + " claims " + len
                        + " objects, capacity " + cacheCap + "; run audit() and reclaim()");
            }
            int k = 0;
            for (int i = 0; i < len; i++) {
                long h = ALL.get(J, at + C_OBJS + 8L * i);
                if (isObject(h)) {
                    ALL.set(I, base + (h & OFFSET_MASK) + MbufDescriptor.OFF_REFCNT, 0);
                    ALL.set(J, at + C_OBJS + 8L * k++, h);
                }
            }
            ALL.set(I, at + C_LEN, k);
            if (k > 0) {
                flush(c, k); // recorded as ours: if this process dies now, the next recoverer settles it
            }
            return k;
        });
    }

    /**
     * Settles the ring transfer {@code lcore}'s cache records, if any, whose process is dead or is this one
     * recovering it: the cache length says whether it committed; the ring's side is completed or rolled back to
     * match (or already is). Caller holds the recovery lock.
     */
    private void settle(int lcore) {
        final long at = base + cachesOff + lcore * cacheStride;
        int op = ALL.get(I, at + C_OP);
        if (op == OP_NONE) {
            return;
        }
        boolean producer = op == OP_FLUSH;
        long word = ring.sideWord(producer);
        int holder = ALL.get(I, at + C_OP_HOLDER);
        int pos = ALL.get(I, at + C_OP_POS);
        boolean single = producer ? ring.isSingleProducer() : ring.isSingleConsumer();
        if (RingDescriptor.tail(word) == pos && (RingDescriptor.holder(word) == holder || single)) {
            settle(lcore, at, producer, word);
        } else {
            INT.setRelease(ALL, at + C_OP, OP_NONE); // its side moved on: the outcome is in effect already
        }
    }

    /** Completes or rolls back the transfer recorded at {@code at}, whose side word is still {@code word}. */
    private void settle(int lcore, long at, boolean producer, long word) {
        int op = ALL.get(I, at + C_OP);
        int len0 = ALL.get(I, at + C_OP_LEN);
        int n = ALL.get(I, at + C_OP_N);
        int len = ALL.get(I, at + C_LEN);
        boolean committed = op == OP_REFILL ? len == len0 + n : len == len0 - n;
        boolean valid = n > 0 && n <= cacheCap && Integer.compareUnsigned(len0, cacheCap) <= 0 && (committed || len == len0);
        if (!valid) {
            LOG.log(System.Logger.Level.ERROR, "mempool ''{0}'': lcore {1} cache record is inconsistent (op {2}, length {3} "
                    + "-> {4}, {5} objects); rolling back the ring and leaving the rest to the audit", name, lcore, op, len0,
                    len, n);
            committed = false;
        }
        boolean done = RingDescriptor.holder(word) == 0
                ? !committed || ring.complete(producer, word, n)
                : committed ? ring.complete(producer, word, n) : ring.rollback(producer, word);
        INT.setRelease(ALL, at + C_OP, OP_NONE);
        LOG.log(System.Logger.Level.INFO, "mempool ''{0}'': {1} {2} of {3} objects of lcore {4} left by pid {5,number,#} "
                + "(cache length {6} -> {7}){8}", name, committed ? "completed the" : "rolled back the",
                op == OP_REFILL ? "refill" : "flush", n, lcore, Holder.pid(ALL.get(I, at + C_OP_HOLDER)), len0, len,
                done ? "" : " (the ring had moved on)");
    }

    /** Ring's resolver: a dead process's hold on a pool's ring is settled with the cache record that explains it. */
    private static boolean resolveDeadHold(Ring r, boolean producer, long held) {
        Mempool p = null;
        for (Mempool q : POOLS) {
            if (q != null && q.ring.segment().address() == r.segment().address()) {
                p = q;
                break;
            }
        }
        if (p == null) {
            return false;
        }
        Mempool pool = p;
        pool.underRecoveryLock(() -> {
            if (pool.ring.sideWord(producer) != held) {
                return 0; // settled meanwhile
            }
            int want = producer ? OP_FLUSH : OP_REFILL;
            for (int l = 0; l < pool.maxLcores && pool.cacheSize > 0; l++) {
                long at = pool.base + pool.cachesOff + l * pool.cacheStride;
                if (ALL.get(I, at + C_OP) == want && ALL.get(I, at + C_OP_HOLDER) == RingDescriptor.holder(held)
                        && ALL.get(I, at + C_OP_POS) == RingDescriptor.tail(held)) {
                    pool.settle(l, at, producer, held);
                    return 1;
                }
            }
            if (pool.ring.rollback(producer, held)) {
                LOG.log(System.Logger.Level.WARNING, "mempool ''{0}'': rolled back the {1} hold of dead pid {2,number,#} on "
                        + "its ring (no cache transfer: the objects stay where they were)", pool.name,
                        producer ? "producer" : "consumer", Holder.pid(RingDescriptor.holder(held)));
            }
            return 0;
        });
        return true;
    }

    private int underRecoveryLock(java.util.function.IntSupplier body) {
        if (recoveryLock.heldByCurrentThread()) {
            return body.getAsInt();
        }
        recoveryLock.lock(RECOVERY_LOCK_TIMEOUT);
        try {
            return body.getAsInt();
        } finally {
            recoveryLock.unlock();
        }
    }

    private boolean isObject(long h) {
        if (Long.compareUnsigned(h - minHandle, maxHandle - minHandle) > 0 || (h & 63) != 0) {
            return false;
        }
        return seg.get(J, (h & OFFSET_MASK) + MbufDescriptor.OFF_SELF) == h;
    }

    /** Offsets of every object, in address order. */
    private long[] objectOffsets() {
        long[] offs = new long[count];
        long pos = firstOff;
        for (int i = 0; i < count; i++) {
            pos = placeObject(pos, stride, pageSize, pagePhase);
            offs[i] = pos;
            pos += stride;
        }
        return offs;
    }

    /**
     * Walks every object and accounts for it: in the free ring, in an lcore cache, in one of the
     * {@code inFlight} rings (e.g. an application's rings between processes), allocated (reference count
     * > 0) by an lcore {@code lcoreAlive} accepts, or else leaked. Allocations without an lcore are passed to
     * the predicate as {@link #LCORE_ANY}. Exact when no process uses the pool meanwhile; otherwise a snapshot
     * that may show objects in transit as leaked.
     */
    public MempoolAudit audit(IntPredicate lcoreAlive, Ring... inFlight) {
        long[] offs = objectOffsets();
        byte[] where = new byte[count]; // 0 unseen, 1 ring, 2 cache, 3 in flight
        List<Long> duplicates = new ArrayList<>();
        List<Long> invalid = new ArrayList<>();
        long[] buf = new long[Math.max(ring.capacity(), 1)];
        int inRing = mark(buf, ring.peekAll(buf), offs, where, (byte) 1, duplicates, invalid);
        int inCaches = 0;
        for (int l = 0; l < maxLcores && cacheSize > 0; l++) {
            long c = cachesOff + l * cacheStride;
            int len = (int) INT.getAcquire(seg, c + C_LEN);
            if (Integer.compareUnsigned(len, cacheCap) > 0) {
                invalid.add((long) len);
                continue;
            }
            long[] cb = new long[len];
            MemorySegment.copy(seg, J, c + C_OBJS, cb, 0, len);
            inCaches += mark(cb, len, offs, where, (byte) 2, duplicates, invalid);
        }
        int inRings = 0;
        for (Ring r : inFlight) {
            long[] rb = new long[Math.max(r.capacity(), 1)];
            int k = r.peekAll(rb);
            int mine = 0;
            for (int i = 0; i < k; i++) {
                if ((rb[i] >>> HANDLE_SHIFT) == poolId) {
                    rb[mine++] = rb[i];
                }
            }
            inRings += mark(rb, mine, offs, where, (byte) 3, duplicates, invalid);
        }
        int inUse = 0;
        List<Long> leaked = new ArrayList<>();
        List<Long> deadOwner = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long o = offs[i];
            long h = ((long) poolId << HANDLE_SHIFT) | o;
            if (where[i] != 0) {
                continue;
            }
            int ref = seg.get(I, o + MbufDescriptor.OFF_REFCNT);
            int owner = Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT, o + MbufDescriptor.OFF_OWNER));
            int ownerId = owner == Mbuf.OWNER_NONE ? LCORE_ANY : owner;
            if (ref > 0 && lcoreAlive.test(ownerId)) {
                inUse++;
            } else if (ref > 0) {
                deadOwner.add(h);
            } else {
                leaked.add(h);
            }
        }
        return new MempoolAudit(name, count, inRing, inCaches, inRings, inUse, toArray(leaked), toArray(deadOwner),
                toArray(duplicates), toArray(invalid));
    }

    private int mark(long[] hs, int n, long[] offs, byte[] where, byte tag, List<Long> dup, List<Long> invalid) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            long h = hs[i];
            int idx = (h >>> HANDLE_SHIFT) == poolId ? Arrays.binarySearch(offs, h & OFFSET_MASK) : -1;
            if (idx < 0) {
                invalid.add(h);
            } else if (where[idx] != 0) {
                dup.add(h);
            } else {
                where[idx] = tag;
                k++;
            }
        }
        return k;
    }

    private static long[] toArray(List<Long> l) {
        long[] a = new long[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }

    /**
     * Returns to the free ring the objects an audit found leaked or owned by a dead lcore (resetting their
     * reference counts). Call only when the pool is quiet or the owners are known dead; returns how many.
     */
    public int reclaim(MempoolAudit audit) {
        if (!audit.pool().equals(name)) {
            throw new IllegalArgumentException("audit of pool '" + audit.pool() + "' given to pool '" + name + "'");
        }
        int n = 0;
        for (long[] set : new long[][] {audit.leaked(), audit.deadOwner()}) {
            for (long h : set) {
                long o = objectOffset(h);
                seg.set(J, o + MbufDescriptor.OFF_NEXT, 0L);
                seg.set(ValueLayout.JAVA_SHORT, o + MbufDescriptor.OFF_NB_SEGS, (short) 1);
                seg.set(I, o + MbufDescriptor.OFF_REFCNT, 0);
                if (!ring.enqueue(h)) {
                    throw overflow();
                }
                n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------
    // Accessors

    public String name() {
        return name;
    }

    public int poolId() {
        return poolId;
    }

    /** Number of mbufs in the pool. */
    public int count() {
        return count;
    }

    public int cacheSize() {
        return cacheSize;
    }

    public int maxLcores() {
        return maxLcores;
    }

    public int headroom() {
        return headroom;
    }

    public int dataRoom() {
        return dataRoom;
    }

    /** headroom + data room: the buffer behind each mbuf header. */
    public int bufLen() {
        return bufLen;
    }

    /** Bytes per object (header + buffer, a multiple of 64). */
    public int elementSize() {
        return stride;
    }

    public long pageSize() {
        return pageSize;
    }

    /** The pool's memory (header, ring, caches, objects); handles' offsets are relative to it. */
    public MemorySegment segment() {
        return seg;
    }

    /** The free ring (for diagnostics). */
    public Ring ring() {
        return ring;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "Mempool[" + name + ", id " + poolId + ", " + count + " x " + stride + " B, cache " + cacheSize + "]";
    }
}
