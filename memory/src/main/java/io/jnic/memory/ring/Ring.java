package io.jnic.memory.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A bounded FIFO of 64-bit handles in shared memory with the semantics of DPDK's {@code rte_ring}:
 * single or multi producer, single or multi consumer (chosen at {@link #create create} time and stored
 * in the header so every process that {@link #attach attaches} agrees), bulk (all or nothing) and burst
 * (as many as possible) enqueue and dequeue.
 *
 * <p>The ring lives entirely inside the caller's region and holds no address, so any process that maps
 * the same memory at any address can attach it. Head and tail counters are free-running 32-bit
 * unsigned integers; a slot is {@code counter & mask}. The layout is described in
 * {@link io.jnic.memory.ring the package documentation}.
 *
 * <p>Memory ordering follows DPDK's C11 ring ({@code rte_ring_c11_pvt.h}): a producer reads the
 * consumer tail with acquire, claims slots by moving the producer head (plain store when single
 * producer, CAS when multi), writes the slots, and publishes them by a release store of the producer
 * tail, after waiting (multi producer) for earlier producers to publish theirs. The consumer side
 * mirrors this.
 *
 * <p>Safety: size, mask and capacity are read from the header once, validated, and kept in final fields;
 * every slot index derived from a shared counter is masked, and entry counts are clamped to the capacity,
 * so a corrupted header can make the ring return wrong handles but never read or write outside its
 * region.
 *
 * <p>A process that dies between claiming and publishing (a few instructions) leaves a multi producer or
 * multi consumer ring blocked, exactly as in DPDK; single producer/consumer rings are not affected.
 *
 * <p>Instances are thread-safe to the extent the flags allow (a SP ring must have one producer at a time
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

    /** "JNICRING" in ASCII, read as a little-endian long. */
    public static final long MAGIC = 0x474E495243494E4AL;
    public static final int VERSION = 1;

    // Header (see package-info). Producer and consumer counters sit on cache lines of their own, with
    // an empty line after each so that the adjacent-line prefetcher does not couple them.
    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 8;
    static final long OFF_FLAGS = 12;
    static final long OFF_SIZE = 16;
    static final long OFF_MASK = 20;
    static final long OFF_CAPACITY = 24;
    static final long OFF_NAME = 32;
    static final int NAME_BYTES = 32;
    static final long OFF_PROD_HEAD = 128;
    static final long OFF_PROD_TAIL = 132;
    static final long OFF_CONS_HEAD = 256;
    static final long OFF_CONS_TAIL = 260;
    /** Size of the header; the slot array starts here. */
    public static final long HEADER_BYTES = 384;
    static final long OFF_SLOTS = HEADER_BYTES;
    /** Regions must start on a cache line so that the counters do not share lines with neighbours. */
    public static final long ALIGNMENT = 64;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    private static final ValueLayout.OfLong SLOT = ValueLayout.JAVA_LONG;

    /**
     * Copies of at least this many handles go through {@link MemorySegment#copy} (a fixed ~4 ns, then
     * ~0.1 ns per handle), shorter ones through a loop (~1 ns per handle: C2 does not vectorize a loop
     * between a long[] and native memory). Measured with RingBench/CpuTimeProbe: at 8 handles the copy call
     * wins by 40%. The property exists for variant runs.
     */
    static final int COPY_THRESHOLD = Integer.getInteger("jnic.ring.copyThreshold", 2);

    /**
     * All of the address space as one segment. Hot paths address the ring by absolute address through
     * this constant: C2 then folds the segment checks away (measured by CPU time: an SP/SC enqueue +
     * dequeue of one handle took 20.8 ns through the region segment and 10.3 ns this way, of 32 handles
     * 33 ns and 17.5 ns, because the acquire/release barriers made C2 re-load and re-check the segment's
     * bounds and session after every ordered access). Our own masking
     * keeps every address inside the region, which therefore must stay mapped while the ring is used.
     */
    @SuppressWarnings("restricted") // needs --enable-native-access, as all of jnic does
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final MemorySegment seg;
    /** Absolute addresses of the header and of slot 0. */
    private final long base;
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
        this.slots = base + OFF_SLOTS;
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
        return HEADER_BYTES + 8L * slotCount(count, flags);
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
     * least {@link #bytesNeeded(int, int)} long. Counters start at 0. The magic is written last (release)
     * so that a concurrent {@link #attach} sees either no ring or a complete one.
     */
    public static Ring create(MemorySegment region, String name, int count, int flags) {
        return create(region, name, count, flags, 0);
    }

    /** As {@link #create(MemorySegment, String, int, int)} with all four counters starting at {@code start} (tests). */
    static Ring create(MemorySegment region, String name, int count, int flags, int start) {
        Objects.requireNonNull(region, "region");
        byte[] nameBytes = checkName(name);
        int size = slotCount(count, flags);
        int capacity = (flags & F_EXACT_SZ) != 0 ? count : size - 1;
        long need = HEADER_BYTES + 8L * size;
        checkRegion(region, need, "ring '" + name + "' of " + count + " handles");
        MemorySegment seg = region.asSlice(0, need);
        seg.fill((byte) 0);
        LONG.set(seg, OFF_MAGIC, 0L);
        INT.set(seg, OFF_VERSION, VERSION);
        INT.set(seg, OFF_FLAGS, flags);
        INT.set(seg, OFF_SIZE, size);
        INT.set(seg, OFF_MASK, size - 1);
        INT.set(seg, OFF_CAPACITY, capacity);
        MemorySegment.copy(nameBytes, 0, seg, ValueLayout.JAVA_BYTE, OFF_NAME, nameBytes.length);
        INT.set(seg, OFF_PROD_HEAD, start);
        INT.set(seg, OFF_PROD_TAIL, start);
        INT.set(seg, OFF_CONS_HEAD, start);
        INT.set(seg, OFF_CONS_TAIL, start);
        LONG.setRelease(seg, OFF_MAGIC, MAGIC);
        return new Ring(seg, size, capacity, flags, name);
    }

    /**
     * Attaches to a ring another process (or this one) created at the start of {@code region}. Checks
     * magic, version, flags, size/mask/capacity consistency and that the ring fits the region.
     */
    public static Ring attach(MemorySegment region) {
        Objects.requireNonNull(region, "region");
        checkRegion(region, HEADER_BYTES, "a ring header");
        long magic = (long) LONG.getAcquire(region, OFF_MAGIC);
        if (magic != MAGIC) {
            throw new IllegalArgumentException(String.format(
                    "no ring at this region: magic is 0x%016x, a jnic ring has 0x%016x ('JNICRING'); "
                            + "was the ring created with Ring.create at this offset?", magic, MAGIC));
        }
        int version = (int) INT.get(region, OFF_VERSION);
        if (version != VERSION) {
            throw new IllegalArgumentException("ring layout version " + version + " is not supported (this build reads version "
                    + VERSION + "); run the same jnic build in every process");
        }
        int flags = (int) INT.get(region, OFF_FLAGS);
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new IllegalArgumentException(String.format("corrupted ring header: unknown flags 0x%x", flags));
        }
        int size = (int) INT.get(region, OFF_SIZE);
        int mask = (int) INT.get(region, OFF_MASK);
        int capacity = (int) INT.get(region, OFF_CAPACITY);
        if (size < 2 || size > MAX_SIZE || Integer.bitCount(size) != 1 || mask != size - 1
                || capacity < 1 || capacity > size - 1
                || ((flags & F_EXACT_SZ) == 0 && capacity != size - 1)) {
            throw new IllegalArgumentException("corrupted ring header: size " + size + ", mask " + mask + ", capacity "
                    + capacity + " are inconsistent");
        }
        long need = HEADER_BYTES + 8L * size;
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
        byte[] b = new byte[NAME_BYTES];
        MemorySegment.copy(region, ValueLayout.JAVA_BYTE, OFF_NAME, b, 0, NAME_BYTES);
        int len = 0;
        while (len < NAME_BYTES && b[len] != 0) {
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
        long r = prodReserve(n, true);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            copyIn(src, off, head & mask, k);
            prodPublish(head, k);
        }
        return k;
    }

    /**
     * Enqueues as many of the {@code n} handles from {@code src[off..off+n)} as fit, in order.
     *
     * @return how many were enqueued (0..n)
     */
    public int enqueueBurst(long[] src, int off, int n) {
        Objects.checkFromIndexSize(off, n, src.length);
        long r = prodReserve(n, false);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            copyIn(src, off, head & mask, k);
            prodPublish(head, k);
        }
        return k;
    }

    /** Enqueues one handle; false when the ring is full. */
    public boolean enqueue(long handle) {
        long r = prodReserve(1, true);
        if (r == 0) {
            return false;
        }
        int head = (int) r;
        ALL.set(SLOT, slots + 8L * (head & mask), handle);
        prodPublish(head, 1);
        return true;
    }

    /** Dequeues one handle, or returns {@code ifEmpty} when the ring is empty. */
    public long dequeue(long ifEmpty) {
        long r = consReserve(1, true);
        if (r == 0) {
            return ifEmpty;
        }
        int head = (int) r;
        long h = ALL.get(SLOT, slots + 8L * (head & mask));
        consPublish(head, 1);
        return h;
    }

    /**
     * Bulk enqueue from shared memory: {@code n} handles (little-endian longs) at {@code src[srcOffset..]}.
     * Used by the mempool to flush lcore caches without a heap round trip.
     */
    public int enqueueBulk(MemorySegment src, long srcOffset, int n) {
        Objects.checkFromIndexSize(srcOffset, 8L * Math.max(n, 0), src.byteSize());
        long r = prodReserve(n, true);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            int idx = head & mask;
            int first = size - idx;
            if (k <= first) {
                MemorySegment.copy(src, srcOffset, ALL, slots + 8L * idx, 8L * k);
            } else {
                MemorySegment.copy(src, srcOffset, ALL, slots + 8L * idx, 8L * first);
                MemorySegment.copy(src, srcOffset + 8L * first, ALL, slots, 8L * (k - first));
            }
            prodPublish(head, k);
        }
        return k;
    }

    /** Returns (count << 32 | head) with count 0 when nothing may be enqueued. */
    private long prodReserve(int n, boolean fixed) {
        if (n <= 0) {
            if (n < 0) {
                throw new IllegalArgumentException("negative count " + n);
            }
            return 0;
        }
        final long b = base;
        final int cap = capacity;
        if (spEnq) {
            int head = (int) INT.get(ALL, b + OFF_PROD_HEAD);
            int free = cap + (int) INT.getAcquire(ALL, b + OFF_CONS_TAIL) - head;
            if (Integer.compareUnsigned(free, cap) > 0) {
                free = cap; // only a corrupted header gets here; keeps every copy inside the slot array
            }
            if (n > free) {
                if (fixed || free == 0) {
                    return 0;
                }
                n = free;
            }
            INT.set(ALL, b + OFF_PROD_HEAD, head + n);
            return ((long) n << 32) | (head & 0xFFFF_FFFFL);
        }
        int head = (int) INT.getAcquire(ALL, b + OFF_PROD_HEAD);
        while (true) {
            int free = cap + (int) INT.getAcquire(ALL, b + OFF_CONS_TAIL) - head;
            if (Integer.compareUnsigned(free, cap) > 0) {
                free = cap; // stale head (the CAS below fails) or a corrupted header
            }
            int k = n;
            if (k > free) {
                if (fixed || free == 0) {
                    return 0;
                }
                k = free;
            }
            int witness = (int) INT.compareAndExchange(ALL, b + OFF_PROD_HEAD, head, head + k);
            if (witness == head) {
                return ((long) k << 32) | (head & 0xFFFF_FFFFL);
            }
            head = witness;
        }
    }

    private void prodPublish(int head, int n) {
        final long b = base;
        if (!spEnq) {
            // Earlier producers publish first (DPDK: wait for prod.tail == old_head).
            while ((int) INT.getAcquire(ALL, b + OFF_PROD_TAIL) != head) {
                Thread.onSpinWait();
            }
        }
        INT.setRelease(ALL, b + OFF_PROD_TAIL, head + n);
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

    // ------------------------------------------------------------------------------------------------
    // Consumer side

    /**
     * Dequeues exactly {@code n} handles into {@code dst[off..off+n)}, or none.
     *
     * @return {@code n}, or 0 when fewer than {@code n} were available
     */
    public int dequeueBulk(long[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        long r = consReserve(n, true);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            copyOut(dst, off, head & mask, k);
            consPublish(head, k);
        }
        return k;
    }

    /**
     * Dequeues up to {@code n} handles into {@code dst[off..)}.
     *
     * @return how many were dequeued (0..n)
     */
    public int dequeueBurst(long[] dst, int off, int n) {
        Objects.checkFromIndexSize(off, n, dst.length);
        long r = consReserve(n, false);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            copyOut(dst, off, head & mask, k);
            consPublish(head, k);
        }
        return k;
    }

    /**
     * Dequeues exactly {@code n} handles into shared memory at {@code dst[dstOffset..]}, or none. Used
     * by the mempool to refill lcore caches.
     */
    public int dequeueBulk(MemorySegment dst, long dstOffset, int n) {
        Objects.checkFromIndexSize(dstOffset, 8L * Math.max(n, 0), dst.byteSize());
        long r = consReserve(n, true);
        int k = (int) (r >>> 32);
        if (k != 0) {
            int head = (int) r;
            int idx = head & mask;
            int first = size - idx;
            if (k <= first) {
                MemorySegment.copy(ALL, slots + 8L * idx, dst, dstOffset, 8L * k);
            } else {
                MemorySegment.copy(ALL, slots + 8L * idx, dst, dstOffset, 8L * first);
                MemorySegment.copy(ALL, slots, dst, dstOffset + 8L * first, 8L * (k - first));
            }
            consPublish(head, k);
        }
        return k;
    }

    private long consReserve(int n, boolean fixed) {
        if (n <= 0) {
            if (n < 0) {
                throw new IllegalArgumentException("negative count " + n);
            }
            return 0;
        }
        final long b = base;
        final int cap = capacity;
        if (scDeq) {
            int head = (int) INT.get(ALL, b + OFF_CONS_HEAD);
            int entries = (int) INT.getAcquire(ALL, b + OFF_PROD_TAIL) - head;
            if (Integer.compareUnsigned(entries, cap) > 0) {
                entries = cap;
            }
            if (n > entries) {
                if (fixed || entries == 0) {
                    return 0;
                }
                n = entries;
            }
            INT.set(ALL, b + OFF_CONS_HEAD, head + n);
            return ((long) n << 32) | (head & 0xFFFF_FFFFL);
        }
        int head = (int) INT.getAcquire(ALL, b + OFF_CONS_HEAD);
        while (true) {
            int entries = (int) INT.getAcquire(ALL, b + OFF_PROD_TAIL) - head;
            if (Integer.compareUnsigned(entries, cap) > 0) {
                entries = cap;
            }
            int k = n;
            if (k > entries) {
                if (fixed || entries == 0) {
                    return 0;
                }
                k = entries;
            }
            int witness = (int) INT.compareAndExchange(ALL, b + OFF_CONS_HEAD, head, head + k);
            if (witness == head) {
                return ((long) k << 32) | (head & 0xFFFF_FFFFL);
            }
            head = witness;
        }
    }

    private void consPublish(int head, int n) {
        final long b = base;
        if (!scDeq) {
            while ((int) INT.getAcquire(ALL, b + OFF_CONS_TAIL) != head) {
                Thread.onSpinWait();
            }
        }
        INT.setRelease(ALL, b + OFF_CONS_TAIL, head + n);
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

    // ------------------------------------------------------------------------------------------------
    // State

    /** Handles in the ring now (a snapshot; clamped to the capacity). */
    public int count() {
        int c = (int) INT.getAcquire(seg, OFF_PROD_TAIL) - (int) INT.getAcquire(seg, OFF_CONS_TAIL);
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
        int tail = (int) INT.getAcquire(seg, OFF_CONS_TAIL);
        int c = (int) INT.getAcquire(seg, OFF_PROD_TAIL) - tail;
        if (Integer.compareUnsigned(c, capacity) > 0) {
            c = capacity;
        }
        c = Math.min(c, dst.length);
        for (int i = 0; i < c; i++) {
            dst[i] = seg.getAtIndex(SLOT, (OFF_SLOTS >>> 3) + ((tail + i) & mask));
        }
        return c;
    }

    /** Raw counters (prodHead, prodTail, consHead, consTail) for diagnostics and tests. */
    public int[] counters() {
        return new int[] {
            (int) INT.getAcquire(seg, OFF_PROD_HEAD), (int) INT.getAcquire(seg, OFF_PROD_TAIL),
            (int) INT.getAcquire(seg, OFF_CONS_HEAD), (int) INT.getAcquire(seg, OFF_CONS_TAIL)
        };
    }

    @Override
    public String toString() {
        return "Ring[" + name + ", capacity " + capacity + ", " + (spEnq ? "SP" : "MP") + "/" + (scDeq ? "SC" : "MC")
                + ", count " + count() + "]";
    }
}
