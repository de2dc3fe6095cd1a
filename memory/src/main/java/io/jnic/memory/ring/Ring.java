package io.jnic.memory.ring;

import static io.jnic.memory.ring.RingDescriptor.CONS_OFFSET;
import static io.jnic.memory.ring.RingDescriptor.PROD_OFFSET;
import static io.jnic.memory.ring.RingDescriptor.SLOTS_OFFSET;
import static io.jnic.memory.ring.RingDescriptor.STAMP_DELTA;
import static io.jnic.memory.ring.RingDescriptor.TAIL_MASK;

import io.jnic.memory.CrashPoint;
import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded FIFO of 64-bit handles in shared memory with the semantics of DPDK's {@code rte_ring}:
 * single or multi producer, single or multi consumer (chosen at {@link #create create} time and stored
 * in the header so every process that {@link #attach attaches} agrees), bulk (all or nothing) and burst
 * (as many as possible) enqueue and dequeue, and DPDK's zero-copy two-step form ({@link #enqueueStart},
 * {@link #enqueueFinish}) for structures built on the ring.
 *
 * <p>The ring lives entirely inside the caller's region and holds no address, so any process that maps
 * the same memory at any address can attach it. Layout: {@link RingDescriptor} and the package documentation.
 *
 * <p><b>A process may die at any instruction.</b> Each side (producers, consumers) is one 64-bit word: the
 * side's tail and the holder of the side. A single producer (consumer) writes its slots and publishes them
 * with one release store of the word; there is nothing in between to leave behind. Multiple producers take
 * turns (DPDK's head/tail sync, HTS): one CAS puts the holder into the word, the holder copies, and one
 * release store moves the tail and clears the holder. A waiter that finds the holder dead resolves the hold
 * (through the {@link DeadHolderResolver resolvers}, which the mempool uses to complete an operation its cache
 * already counted, else by rolling it back) and goes on; so no survivor waits for a dead process.
 *
 * <p>Safety: size, mask and capacity are read from the header once, validated, and kept in final fields;
 * every slot index derived from a shared word is masked, and entry counts are clamped to the capacity,
 * so a corrupted header can make the ring return wrong handles but never read or write outside its region.
 *
 * <p>Instances are thread-safe to the extent the flags allow (an SP ring must have one producer at a time
 * across all processes, etc.). No method allocates on the data path.
 */
public final class Ring {

    /** Single producer enqueue (DPDK {@code RING_F_SP_ENQ}). Default is multi producer. */
    public static final int F_SP_ENQ = 0x0001;
    /** Single consumer dequeue (DPDK {@code RING_F_SC_DEQ}). Default is multi consumer. */
    public static final int F_SC_DEQ = 0x0002;
    /**
     * The ring holds exactly {@code count} handles (DPDK {@code RING_F_EXACT_SZ}); the slot array is
     * the next power of two above {@code count}. Without it {@code count} must be a power of two and the
     * ring holds {@code count - 1}.
     */
    public static final int F_EXACT_SZ = 0x0004;
    private static final int KNOWN_FLAGS = F_SP_ENQ | F_SC_DEQ | F_EXACT_SZ;

    /** Longest name in UTF-8 bytes (the header keeps 32 bytes, NUL padded). */
    public static final int NAME_MAX = 31;
    /** Largest slot array (2^30 slots, 8 GiB of handles). */
    public static final int MAX_SIZE = 1 << 30;

    public static final long MAGIC = RingDescriptor.MAGIC;
    public static final int VERSION = RingDescriptor.VERSION;
    /** Size of the header; the slot array starts here. */
    public static final long HEADER_BYTES = RingDescriptor.HEADER_BYTES;
    /** Regions must start on a cache line so that the side words do not share lines with neighbours. */
    public static final long ALIGNMENT = RingDescriptor.ALIGNMENT;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    private static final ValueLayout.OfLong SLOT = PlainAccess.LONG; // the slot array is checked aligned at create/attach
    private static final System.Logger LOG = System.getLogger(Ring.class.getName());

    /** This process in a side word's holder half. */
    private static final long HELD_BY_ME = (long) Holder.SELF << 32;
    /** Spins on a held side before the holder is looked at (a syscall), then parks between looks. */
    private static final int SPINS_BEFORE_LOOK = 512;
    private static final long MAX_PARK_NANOS = 200_000;

    /**
     * Copies of at least this many handles go through {@link MemorySegment#copy} (a fixed ~4 ns, then
     * ~0.1 ns per handle), shorter ones through a loop (~1 ns per handle: C2 does not vectorize a loop
     * between a long[] and native memory). Measured with RingBench/CpuTimeProbe: at 8 handles the copy call
     * wins by 40%. The property exists for variant runs.
     */
    static final int COPY_THRESHOLD = Integer.getInteger("jnic.ring.copyThreshold", 2);

    /**
     * All of the address space as one segment ({@link PlainAccess#ALL}). Hot paths address the ring by absolute
     * address through this constant: C2 then folds the segment checks away (measured by CPU time: an SP/SC enqueue +
     * dequeue of one handle took 20.8 ns through the region segment and 10.3 ns this way, of 32 handles
     * 33 ns and 17.5 ns, because the acquire/release barriers made C2 re-load and re-check the segment's
     * bounds and session after every ordered access). Our own masking keeps every address inside the
     * region, which therefore must stay mapped while the ring is used.
     */
    private static final MemorySegment ALL = PlainAccess.ALL;

    private static final List<DeadHolderResolver> RESOLVERS = new CopyOnWriteArrayList<>();

    /**
     * Completes or rolls back the hold of a dead process on a ring whose entries belong to a larger structure
     * (the mempool: its lcore cache may already count the entries of the hold).
     */
    @FunctionalInterface
    public interface DeadHolderResolver {
        /**
         * @param held the side word as the dead holder left it
         * @return true when this resolver owns the ring and has resolved the hold (or found it resolved)
         */
        boolean resolve(Ring ring, boolean producer, long held);
    }

    private final MemorySegment seg;
    /** Absolute addresses of the header, the two side words and slot 0. */
    private final long base;
    private final long prod;
    private final long cons;
    private final long slots;
    private final int size;
    private final int mask;
    private final int capacity;
    private final boolean spEnq;
    private final boolean scDeq;
    private final int flags;
    private final String name;

    private Ring(MemorySegment seg, int size, int capacity, int flags, String name) {
        this.seg = seg;
        this.base = seg.address();
        this.prod = base + PROD_OFFSET;
        this.cons = base + CONS_OFFSET;
        this.slots = base + SLOTS_OFFSET;
        this.size = size;
        this.mask = size - 1;
        this.capacity = capacity;
        this.flags = flags;
        this.spEnq = (flags & F_SP_ENQ) != 0;
        this.scDeq = (flags & F_SC_DEQ) != 0;
        this.name = name;
    }

    // ------------------------------------------------------------------------------------------------
    // Creation and attachment

    /** Bytes a ring for {@code count} handles needs (header + slots), for the given flags. */
    public static long bytesNeeded(int count, int flags) {
        return RingDescriptor.bytes(slotCount(count, flags));
    }

    /** Bytes a power-of-two ring of {@code count} slots needs (flags 0). */
    public static long bytesNeeded(int count) {
        return bytesNeeded(count, 0);
    }

    private static int slotCount(int count, int flags) {
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format(
                    "unknown ring flags 0x%x (known: F_SP_ENQ 0x1, F_SC_DEQ 0x2, F_EXACT_SZ 0x4)", flags & ~KNOWN_FLAGS));
        }
        if ((flags & F_EXACT_SZ) != 0) {
            if (count < 1 || count > MAX_SIZE - 1) {
                throw new IllegalArgumentException("ring count " + count + " out of range: with F_EXACT_SZ it must be 1.."
                        + (MAX_SIZE - 1));
            }
            return Integer.highestOneBit(count) << 1; // next power of two strictly above count
        }
        if (count < 2 || count > MAX_SIZE || Integer.bitCount(count) != 1) {
            throw new IllegalArgumentException("ring count " + count + " is not a power of two in 2.." + MAX_SIZE
                    + " (a ring of count slots holds count - 1 handles); pass F_EXACT_SZ to hold exactly count handles");
        }
        return count;
    }

    /**
     * Initializes a ring at the start of {@code region}, which must be native, 64-byte aligned and at
     * least {@link #bytesNeeded(int, int)} long. Tails start at 0. The magic is written last (release)
     * so that a concurrent {@link #attach} sees either no ring or a complete one.
     */
    public static Ring create(MemorySegment region, String name, int count, int flags) {
        return create(region, name, count, flags, 0);
    }

    /** As {@link #create(MemorySegment, String, int, int)} with both tails starting at {@code start} (tests). */
    static Ring create(MemorySegment region, String name, int count, int flags, int start) {
        Objects.requireNonNull(region, "region");
        byte[] nameBytes = checkName(name);
        int size = slotCount(count, flags);
        int capacity = (flags & F_EXACT_SZ) != 0 ? count : size - 1;
        long need = RingDescriptor.bytes(size);
        checkRegion(region, need, "ring '" + name + "' of " + count + " handles");
        MemorySegment seg = region.asSlice(0, need);
        seg.fill((byte) 0);
        LONG.set(seg, RingDescriptor.MAGIC_OFFSET, 0L);
        INT.set(seg, RingDescriptor.VERSION_OFFSET, VERSION);
        INT.set(seg, RingDescriptor.FLAGS_OFFSET, flags);
        INT.set(seg, RingDescriptor.SIZE_OFFSET, size);
        INT.set(seg, RingDescriptor.MASK_OFFSET, size - 1);
        INT.set(seg, RingDescriptor.CAPACITY_OFFSET, capacity);
        MemorySegment.copy(nameBytes, 0, seg, ValueLayout.JAVA_BYTE, RingDescriptor.NAME_OFFSET, nameBytes.length);
        LONG.set(seg, PROD_OFFSET, start & TAIL_MASK);
        LONG.set(seg, CONS_OFFSET, start & TAIL_MASK);
        LONG.setRelease(seg, RingDescriptor.MAGIC_OFFSET, MAGIC);
        return new Ring(seg, size, capacity, flags, name);
    }

    /**
     * Attaches to a ring another process (or this one) created at the start of {@code region}. Checks
     * magic, version, flags, size/mask/capacity consistency and that the ring fits the region.
     */
    public static Ring attach(MemorySegment region) {
        Objects.requireNonNull(region, "region");
        checkRegion(region, HEADER_BYTES, "a ring header");
        RingDescriptor.checkMagicAndVersion(region);
        int flags = (int) INT.get(region, RingDescriptor.FLAGS_OFFSET);
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("corrupted ring header: unknown flags 0x%x", flags));
        }
        int size = (int) INT.get(region, RingDescriptor.SIZE_OFFSET);
        int mask = (int) INT.get(region, RingDescriptor.MASK_OFFSET);
        int capacity = (int) INT.get(region, RingDescriptor.CAPACITY_OFFSET);
        if (size < 2 || size > MAX_SIZE || Integer.bitCount(size) != 1 || mask != size - 1
                || capacity < 1 || capacity > size - 1
                || ((flags & F_EXACT_SZ) == 0 && capacity != size - 1)) {
            throw new IllegalArgumentException("corrupted ring header: size " + size + ", mask " + mask + ", capacity "
                    + capacity + " are inconsistent");
        }
        long need = RingDescriptor.bytes(size);
        if (region.byteSize() < need) {
            throw new IllegalArgumentException("ring of " + size + " slots needs " + need + " bytes but the region has only "
                    + region.byteSize() + "; map the whole ring");
        }
        String name = readName(region);
        return new Ring(region.asSlice(0, need), size, capacity, flags, name);
    }

    private static byte[] checkName(String name) {
        Objects.requireNonNull(name, "name");
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > NAME_MAX) {
            throw new IllegalArgumentException("ring name '" + name + "' is " + b.length + " bytes in UTF-8; it must be 1.."
                    + NAME_MAX);
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("ring name must not contain NUL characters");
        }
        return b;
    }

    private static String readName(MemorySegment region) {
        byte[] b = new byte[RingDescriptor.NAME_BYTES];
        MemorySegment.copy(region, ValueLayout.JAVA_BYTE, RingDescriptor.NAME_OFFSET, b, 0, b.length);
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        if (len == 0 || len > NAME_MAX) {
            throw new IllegalArgumentException("corrupted ring header: the name is not a NUL-terminated string of 1.."
                    + NAME_MAX + " bytes");
        }
        return new String(b, 0, len, StandardCharsets.UTF_8);
    }

    static void checkRegion(MemorySegment region, long need, String what) {
        if (!region.isNative()) {
            throw new IllegalArgumentException("region must be native (off-heap) memory, e.g. an mmap of a shared file");
        }
        if ((region.address() & (ALIGNMENT - 1)) != 0) {
            throw new IllegalArgumentException(String.format(
                    "region address 0x%x is not %d-byte aligned; place the ring at a cache-line boundary",
                    region.address(), ALIGNMENT));
        }
        if (region.byteSize() < need) {
            throw new IllegalArgumentException("region too small: " + what + " needs " + need + " bytes, the region has "
                    + region.byteSize());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Producer side

    /**
     * Enqueues all {@code n} handles from {@code src[off..off+n)} or none.
     *
     * @return {@code n}, or 0 when fewer than {@code n} slots were free
     */
    public int enqueueBulk(long[] src, int off, int n) {
        Objects.checkFromIndexSize(off, n, src.length);
        return enqueue(src, off, n, true);
    }

    /**
     * Enqueues as many of the {@code n} handles from {@code src[off..off+n)} as fit, in order.
     *
     * @return how many were enqueued (0..n)
     */
    public int enqueueBurst(long[] src, int off, int n) {
        Objects.checkFromIndexSize(off, n, src.length);
        return enqueue(src, off, n, false);
    }

    private int enqueue(long[] src, int off, int n, boolean fixed) {
        long r = reserve(prod, cons, capacity, spEnq, n, fixed);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int pos = (int) r;
            if (CrashPoint.ENABLED) {
                crashableCopyIn(src, off, pos, k);
            } else {
                copyIn(src, off, pos & mask, k);
            }
            LONG.setRelease(ALL, prod, (pos + k) & TAIL_MASK); // pairs with the consumers' getAcquire of prod
        }
        return k;
    }

    /** Enqueues one handle; false when the ring is full. */
    public boolean enqueue(long handle) {
        long r = reserve(prod, cons, capacity, spEnq, 1, true);
        if (r == 0) {
            return false;
        }
        int pos = (int) r;
        ALL.set(SLOT, slots + 8L * (pos & mask), handle);
        LONG.setRelease(ALL, prod, (pos + 1) & TAIL_MASK);
        return true;
    }

    /**
     * Bulk enqueue from shared memory: {@code n} handles (little-endian longs) at {@code src[srcOffset..]}.
     * Used by the mempool to flush lcore caches without a heap round trip.
     */
    public int enqueueBulk(MemorySegment src, long srcOffset, int n) {
        Objects.checkFromIndexSize(srcOffset, 8L * Math.max(n, 0), src.byteSize()); // before the side is held
        long r = enqueueStart(n);
        if (r < 0) {
            return 0;
        }
        int pos = (int) r;
        writeSlots(pos, src, srcOffset, n);
        enqueueFinish(pos, n);
        return n;
    }

    /**
     * Reserves {@code n} slots, all or none ({@code rte_ring_enqueue_zc_bulk_start}): on a multi-producer ring
     * this process holds the producer side until {@link #enqueueFinish}. Fill them with {@link #writeSlots}.
     *
     * @return the position of the first slot (an unsigned 32-bit value), or -1 when fewer were free
     */
    public long enqueueStart(int n) {
        long r = reserve(prod, cons, capacity, spEnq, n, true);
        if (CrashPoint.ENABLED && r != 0) {
            CrashPoint.hit(CrashPoint.RING_ENQ_HELD);
        }
        return r == 0 ? -1 : r & TAIL_MASK;
    }

    /** Publishes the {@code n} slots from {@code position} that {@link #enqueueStart} reserved. */
    public void enqueueFinish(int position, int n) {
        checkCount(n);
        if (CrashPoint.ENABLED) {
            CrashPoint.hit(CrashPoint.RING_ENQ_COPIED);
        }
        LONG.setRelease(ALL, prod, (position + n) & TAIL_MASK);
    }

    /** Copies {@code n} handles from shared memory into the reserved slots from {@code position}. */
    public void writeSlots(int position, MemorySegment src, long srcOffset, int n) {
        checkCount(n);
        Objects.checkFromIndexSize(srcOffset, 8L * n, src.byteSize());
        int idx = position & mask;
        int first = size - idx;
        if (n <= first) {
            MemorySegment.copy(src, srcOffset, ALL, slots + 8L * idx, 8L * n);
        } else {
            MemorySegment.copy(src, srcOffset, ALL, slots + 8L * idx, 8L * first);
            MemorySegment.copy(src, srcOffset + 8L * first, ALL, slots, 8L * (n - first));
        }
    }

    private void copyIn(long[] src, int off, int idx, int n) {
        int first = size - idx;
        if (n <= first) {
            copyIn0(src, off, idx, n);
        } else {
            copyIn0(src, off, idx, first);
            copyIn0(src, off + first, 0, n - first);
        }
    }

    private void copyIn0(long[] src, int off, int idx, int n) {
        final long at = slots + 8L * idx;
        if (n >= COPY_THRESHOLD) {
            MemorySegment.copy(src, off, ALL, SLOT, at, n);
        } else {
            for (int i = 0; i < n; i++) {
                ALL.set(SLOT, at + 8L * i, src[off + i]);
            }
        }
    }

    private void crashableCopyIn(long[] src, int off, int pos, int k) {
        CrashPoint.hit(CrashPoint.RING_ENQ_HELD);
        int half = k / 2;
        for (int i = 0; i < k; i++) {
            if (i == half) {
                CrashPoint.hit(CrashPoint.RING_ENQ_HALF);
            }
            ALL.set(SLOT, slots + 8L * ((pos + i) & mask), src[off + i]);
        }
        CrashPoint.hit(CrashPoint.RING_ENQ_COPIED);
    }

    // ------------------------------------------------------------------------------------------------
    // Consumer side

    /**
     * Dequeues exactly {@code n} handles into {@code dst[off..off+n)}, or none.
     *
     * @return {@code n}, or 0 when fewer than {@code n} were available
     */
    public int dequeueBulk(long[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        return dequeue(dst, off, n, true);
    }

    /**
     * Dequeues up to {@code n} handles into {@code dst[off..)}.
     *
     * @return how many were dequeued (0..n)
     */
    public int dequeueBurst(long[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        return dequeue(dst, off, n, false);
    }

    private int dequeue(long[] dst, int off, int n, boolean fixed) {
        long r = reserve(cons, prod, 0, scDeq, n, fixed);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int pos = (int) r;
            if (CrashPoint.ENABLED) {
                crashableCopyOut(dst, off, pos, k);
            } else {
                copyOut(dst, off, pos & mask, k);
            }
            LONG.setRelease(ALL, cons, (pos + k) & TAIL_MASK); // pairs with the producers' getAcquire of cons
        }
        return k;
    }

    /** Dequeues one handle, or returns {@code ifEmpty} when the ring is empty. */
    public long dequeue(long ifEmpty) {
        long r = reserve(cons, prod, 0, scDeq, 1, true);
        if (r == 0) {
            return ifEmpty;
        }
        int pos = (int) r;
        long h = ALL.get(SLOT, slots + 8L * (pos & mask));
        LONG.setRelease(ALL, cons, (pos + 1) & TAIL_MASK);
        return h;
    }

    /**
     * Dequeues exactly {@code n} handles into shared memory at {@code dst[dstOffset..]}, or none. Used
     * by the mempool to refill lcore caches.
     */
    public int dequeueBulk(MemorySegment dst, long dstOffset, int n) {
        Objects.checkFromIndexSize(dstOffset, 8L * Math.max(n, 0), dst.byteSize()); // before the side is held
        long r = dequeueStart(n);
        if (r < 0) {
            return 0;
        }
        int pos = (int) r;
        readSlots(pos, dst, dstOffset, n);
        dequeueFinish(pos, n);
        return n;
    }

    /**
     * Reserves {@code n} entries, all or none ({@code rte_ring_dequeue_zc_bulk_start}): on a multi-consumer
     * ring this process holds the consumer side until {@link #dequeueFinish}. Read them with {@link #readSlots}.
     *
     * @return the position of the first entry (an unsigned 32-bit value), or -1 when fewer were available
     */
    public long dequeueStart(int n) {
        long r = reserve(cons, prod, 0, scDeq, n, true);
        if (CrashPoint.ENABLED && r != 0) {
            CrashPoint.hit(CrashPoint.RING_DEQ_HELD);
        }
        return r == 0 ? -1 : r & TAIL_MASK;
    }

    /** Frees the {@code n} slots from {@code position} that {@link #dequeueStart} reserved. */
    public void dequeueFinish(int position, int n) {
        checkCount(n);
        if (CrashPoint.ENABLED) {
            CrashPoint.hit(CrashPoint.RING_DEQ_COPIED);
        }
        LONG.setRelease(ALL, cons, (position + n) & TAIL_MASK);
    }

    /** Copies {@code n} reserved entries from {@code position} into shared memory at {@code dst[dstOffset..]}. */
    public void readSlots(int position, MemorySegment dst, long dstOffset, int n) {
        checkCount(n);
        Objects.checkFromIndexSize(dstOffset, 8L * n, dst.byteSize());
        int idx = position & mask;
        int first = size - idx;
        if (n <= first) {
            MemorySegment.copy(ALL, slots + 8L * idx, dst, dstOffset, 8L * n);
        } else {
            MemorySegment.copy(ALL, slots + 8L * idx, dst, dstOffset, 8L * first);
            MemorySegment.copy(ALL, slots, dst, dstOffset + 8L * first, 8L * (n - first));
        }
    }

    private void copyOut(long[] dst, int off, int idx, int n) {
        int first = size - idx;
        if (n <= first) {
            copyOut0(dst, off, idx, n);
        } else {
            copyOut0(dst, off, idx, first);
            copyOut0(dst, off + first, 0, n - first);
        }
    }

    private void copyOut0(long[] dst, int off, int idx, int n) {
        final long at = slots + 8L * idx;
        if (n >= COPY_THRESHOLD) {
            MemorySegment.copy(ALL, SLOT, at, dst, off, n);
        } else {
            for (int i = 0; i < n; i++) {
                dst[off + i] = ALL.get(SLOT, at + 8L * i);
            }
        }
    }

    private void crashableCopyOut(long[] dst, int off, int pos, int k) {
        CrashPoint.hit(CrashPoint.RING_DEQ_HELD);
        int half = k / 2;
        for (int i = 0; i < k; i++) {
            if (i == half) {
                CrashPoint.hit(CrashPoint.RING_DEQ_HALF);
            }
            dst[off + i] = ALL.get(SLOT, slots + 8L * ((pos + i) & mask));
        }
        CrashPoint.hit(CrashPoint.RING_DEQ_COPIED);
    }

    private void checkCount(int n) {
        if (n <= 0 || n > capacity) {
            throw new IllegalArgumentException("count " + n + " out of range 1.." + capacity + " for ring '" + name + "'");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The one head-move routine, for both sides

    /**
     * Reserves up to {@code n} entries on the side whose word is at {@code mine}, against the opposite side's
     * tail at {@code other}: producers see {@code capacity + cons.tail - pos} free slots ({@code bias} =
     * capacity), consumers {@code prod.tail - pos} entries ({@code bias} = 0).
     *
     * @return {@code (count << 32) | position}, count 0 when nothing may be taken
     */
    private long reserve(long mine, long other, int bias, boolean single, int n, boolean fixed) {
        if (n <= 0) {
            if (n < 0) {
                throw new IllegalArgumentException("negative count " + n);
            }
            return 0;
        }
        final int cap = capacity;
        // single: our own last store, plain; multi: acquire pairs with the previous holder's release
        long w = single ? (long) LONG.get(ALL, mine) : (long) LONG.getAcquire(ALL, mine);
        while (true) {
            if (!single && (w >>> 32) != 0) {
                w = awaitRelease(mine, w);
                continue;
            }
            int pos = (int) w;
            // acquire pairs with the opposite side's release: its slots are written (or read) before we see them
            int avail = bias + (int) (long) LONG.getAcquire(ALL, other) - pos;
            if (Integer.compareUnsigned(avail, cap) > 0) {
                avail = cap; // only a corrupted header gets here; keeps every copy inside the slot array
            }
            int k = n;
            if (k > avail) {
                if (fixed || avail == 0) {
                    return 0;
                }
                k = avail;
            }
            if (single) {
                return ((long) k << 32) | (pos & TAIL_MASK);
            }
            long witness = (long) LONG.compareAndExchange(ALL, mine, w, (pos & TAIL_MASK) | HELD_BY_ME);
            if (witness == w) {
                LONG.setRelease(ALL, mine + STAMP_DELTA, Holder.stamp(pos));
                return ((long) k << 32) | (pos & TAIL_MASK);
            }
            w = witness;
        }
    }

    /** Waits for the holder in {@code held} to release the side; resolves the hold when the holder is dead. */
    private long awaitRelease(long mine, long held) {
        int spins = 0;
        long park = 1_000;
        while (true) {
            long now = (long) LONG.getAcquire(ALL, mine);
            if (now != held) {
                return now;
            }
            if (++spins < SPINS_BEFORE_LOOK) {
                Thread.onSpinWait();
                continue;
            }
            if (Holder.dead(held, (long) LONG.getAcquire(ALL, mine + STAMP_DELTA))) {
                resolveDead(mine == prod, held);
                continue;
            }
            LockSupport.parkNanos(park);
            park = Math.min(park << 1, MAX_PARK_NANOS);
        }
    }

    private void resolveDead(boolean producer, long held) {
        for (DeadHolderResolver r : RESOLVERS) {
            if (r.resolve(this, producer, held)) {
                return;
            }
        }
        if (rollback(producer, held)) {
            LOG.log(System.Logger.Level.WARNING, "ring ''{0}'': rolled back the {1} hold of dead pid {2,number,#} at {3}",
                    name, producer ? "producer" : "consumer", Holder.pid(RingDescriptor.holder(held)),
                    Integer.toUnsignedString(RingDescriptor.tail(held)));
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Recovery

    /** Registers a resolver consulted, in order, before a dead holder's hold is rolled back. */
    public static void addDeadHolderResolver(DeadHolderResolver resolver) {
        RESOLVERS.add(Objects.requireNonNull(resolver, "resolver"));
    }

    /** The producer or consumer side word now: tail in the low 32 bits, holder in the high 32 (0 = free). */
    public long sideWord(boolean producer) {
        return (long) LONG.getAcquire(ALL, producer ? prod : cons);
    }

    /**
     * Ends a dead holder's hold without effect: the tail stays, the slots it wrote or read count for nothing.
     * Only for a hold whose holder is known dead. On a single-producer (consumer) side, whose word has no holder,
     * there is nothing to undo.
     *
     * @return false when the side no longer holds {@code held} (someone resolved it first)
     */
    public boolean rollback(boolean producer, long held) {
        checkHeld(producer, held);
        return LONG.compareAndSet(ALL, producer ? prod : cons, held, held & TAIL_MASK);
    }

    /**
     * Ends a dead holder's hold as if it had finished: the tail moves by {@code n}. Only for a hold whose holder
     * is known dead and known to have copied all {@code n} entries (a structure's own record says so); on a
     * single-producer (consumer) side, {@code held} is the unheld word the dead process left unpublished.
     *
     * @return false when the side no longer holds {@code held}
     */
    public boolean complete(boolean producer, long held, int n) {
        checkHeld(producer, held);
        checkCount(n);
        return LONG.compareAndSet(ALL, producer ? prod : cons, held, (RingDescriptor.tail(held) + n) & TAIL_MASK);
    }

    private void checkHeld(boolean producer, long held) {
        // a single producer (consumer) never holds its side: its unfinished operation is the words it left
        if (RingDescriptor.holder(held) == 0 && !(producer ? spEnq : scDeq)) {
            throw new IllegalArgumentException("side word 0x" + Long.toHexString(held) + " is not held");
        }
    }

    /**
     * Resolves the holds of dead processes on either side (a recovering process calls this for every ring of a
     * group after a process died, so that no one finds the hold later); returns how many it resolved.
     */
    public int recoverDeadHolders() {
        int n = 0;
        for (boolean producer : new boolean[] {true, false}) {
            long w = sideWord(producer);
            long at = producer ? prod : cons;
            if (RingDescriptor.holder(w) != 0 && Holder.dead(w, (long) LONG.getAcquire(ALL, at + STAMP_DELTA))) {
                resolveDead(producer, w);
                n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------
    // State

    /**
     * Handles in the ring now: a snapshot of the two tails read one after the other (clamped to the capacity), not
     * linearizable with concurrent operations, as DPDK's {@code rte_ring_count}.
     */
    public int count() {
        int c = RingDescriptor.tail((long) LONG.getAcquire(ALL, prod)) - RingDescriptor.tail((long) LONG.getAcquire(ALL, cons));
        return Integer.compareUnsigned(c, capacity) > 0 ? capacity : c;
    }

    /** Free slots now (a snapshot). */
    public int freeCount() {
        return capacity - count();
    }

    public boolean isEmpty() {
        return count() == 0;
    }

    public boolean isFull() {
        return count() == capacity;
    }

    /** How many handles the ring holds at most. */
    public int capacity() {
        return capacity;
    }

    /** Slots in the array (a power of two; capacity + 1 unless {@link #F_EXACT_SZ}). */
    public int size() {
        return size;
    }

    public int flags() {
        return flags;
    }

    public boolean isSingleProducer() {
        return spEnq;
    }

    public boolean isSingleConsumer() {
        return scDeq;
    }

    public String name() {
        return name;
    }

    /** The memory the ring occupies (header + slots). */
    public MemorySegment segment() {
        return seg;
    }

    /**
     * Copies the handles currently between consumer tail and producer tail into {@code dst} (at most
     * {@code dst.length}) and returns how many. A diagnostic for audits; exact only when the ring is quiet.
     */
    public int peekAll(long[] dst) {
        int tail = RingDescriptor.tail(sideWord(false));
        int c = RingDescriptor.tail(sideWord(true)) - tail;
        if (Integer.compareUnsigned(c, capacity) > 0) {
            c = capacity;
        }
        c = Math.min(c, dst.length);
        for (int i = 0; i < c; i++) {
            dst[i] = seg.getAtIndex(SLOT, (SLOTS_OFFSET >>> 3) + ((tail + i) & mask));
        }
        return c;
    }

    /** Raw side words as (prod.tail, prod holder pid, cons.tail, cons holder pid), for diagnostics and tests. */
    public int[] counters() {
        long p = sideWord(true);
        long c = sideWord(false);
        return new int[] {
            RingDescriptor.tail(p), Holder.pid(RingDescriptor.holder(p)), RingDescriptor.tail(c), Holder.pid(RingDescriptor.holder(c))
        };
    }

    @Override
    public String toString() {
        return "Ring[" + name + ", capacity " + capacity + ", " + (spEnq ? "SP" : "MP") + "/" + (scDeq ? "SC" : "MC")
                + ", count " + count() + "]";
    }
}
