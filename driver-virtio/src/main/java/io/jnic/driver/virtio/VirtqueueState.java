package io.jnic.driver.virtio;

import io.jnic.memory.CrashPoint;
import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The driver-side state of a split virtqueue that must survive the process driving it (multi-process: a
 * secondary drives a queue pair, dies, and the primary or a restarted secondary carries on): which chain heads
 * are outstanding and with which buffer token, the avail position each was added at, and how far the used ring
 * was consumed. The ring itself (descriptors, avail and used rings) holds the rest: what the device was told
 * (avail->idx) and what it returned (used->idx, used entries).
 *
 * <p>{@link SplitVirtqueue} writes through to this block as it goes (one token and one position per add, the
 * token cleared per used buffer, the consumption point once per poll), so that at any instant, even mid-burst
 * when the process is killed, {@link #recover} can tell each outstanding head apart: posted to the device,
 * returned but not consumed, or added but never published. Only one-descriptor chains are recorded (the
 * virtio-net data queues use nothing else).
 *
 * <p>An in-order queue (VIRTIO_F_IN_ORDER, {@link #inOrder()}) uses descriptor {@code p mod size} for avail position
 * {@code p}, and its device may write one used entry for a batch of buffers (2.7.9), so the heads it returned are
 * the positions between the consumption point and used->idx, not the ids of the used entries; the flag is recorded
 * here so that a process resuming or recovering the queue reads it the same way.
 *
 * <pre>
 * memzone of {@link #bytes(int)} bytes, little-endian
 *  0 magic u32 "JVQS"   4 version u16   6 flags u16 (bit 0: in order)   8 size u32   12 queue index u32
 * 16 last used u32: free-running used index up to which the driver consumed (release store after each poll)
 * 20 batch last i32: in order, the descriptor the used entry of a batch a poll took only part of names, else -1
 * 24 batch length u32: that entry's length (with 20, written before the release store of 16)
 * 64 tokens u64[size]: the token of chain head i while it is outstanding, 0 when the descriptor is free
 * 64 + 8 size: positions u16[size]: the 16-bit avail index at which head i was added
 * </pre>
 */
public final class VirtqueueState {
    static final int MAGIC = 0x5351564a; // "JVQS"
    /** 2: flags (in order) in the former reserved field. */
    static final int VERSION = 2;
    /** The queue uses VIRTIO_F_IN_ORDER: head = avail position mod size, used heads are positions. */
    static final int FLAG_IN_ORDER = 1;
    private static final long OFF_MAGIC = 0;
    private static final long OFF_VERSION = 4;
    private static final long OFF_FLAGS = 6;
    private static final long OFF_SIZE = 8;
    private static final long OFF_INDEX = 12;
    private static final long OFF_LAST_USED = 16;
    private static final long OFF_BATCH_LAST = 20;
    private static final long OFF_BATCH_LEN = 24;
    private static final long OFF_TOKENS = 64;

    private static final ValueLayout.OfLong U64 = PlainAccess.LONG.withOrder(ByteOrder.LITTLE_ENDIAN); // record checked aligned once
    private static final ValueLayout.OfShort U16 = PlainAccess.SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = PlainAccess.INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64_VH = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final VarHandle U32_VH = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final VarHandle U16_VH = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final MemorySegment seg;
    /** seg's address: the per-buffer records go through {@link PlainAccess#ALL} (heads are masked into the record). */
    private final long base;
    private final int size;
    private final long positions;
    private final boolean inOrder;

    private VirtqueueState(MemorySegment seg, int size) {
        this.seg = seg;
        this.base = seg.address();
        this.size = size;
        this.positions = OFF_TOKENS + 8L * size;
        this.inOrder = (seg.get(U16, OFF_FLAGS) & FLAG_IN_ORDER) != 0;
    }

    /** Bytes of state a queue of {@code size} entries needs. */
    public static long bytes(int size) {
        return OFF_TOKENS + 10L * size;
    }

    /** Formats {@code seg} for queue {@code index} of {@code size} entries: nothing outstanding, nothing consumed. */
    public static VirtqueueState format(MemorySegment seg, int index, int size, int startIndex) {
        return format(seg, index, size, startIndex, false);
    }

    /** As {@link #format(MemorySegment, int, int, int)}, for an in-order queue when {@code inOrder}. */
    public static VirtqueueState format(MemorySegment seg, int index, int size, int startIndex, boolean inOrder) {
        check(seg, size);
        MemorySegment s = seg.asSlice(0, bytes(size));
        s.fill((byte) 0);
        s.set(U16, OFF_VERSION, (short) VERSION);
        s.set(U16, OFF_FLAGS, (short) (inOrder ? FLAG_IN_ORDER : 0));
        s.set(U32, OFF_SIZE, size);
        s.set(U32, OFF_INDEX, index);
        s.set(U32, OFF_LAST_USED, startIndex & 0xFFFF);
        s.set(U32, OFF_BATCH_LAST, -1);
        U32_VH.setRelease(s, OFF_MAGIC, MAGIC);
        return new VirtqueueState(s, size);
    }

    /**
     * The state another process formatted for queue {@code index} of {@code size} entries; every header field is
     * checked (a clear error for a stale or foreign memzone).
     */
    public static VirtqueueState attach(MemorySegment seg, int index, int size) {
        check(seg, size);
        MemorySegment s = seg.asSlice(0, bytes(size));
        int magic = (int) U32_VH.getAcquire(s, OFF_MAGIC);
        int version = Short.toUnsignedInt(s.get(U16, OFF_VERSION));
        int n = s.get(U32, OFF_SIZE);
        int i = s.get(U32, OFF_INDEX);
        if (magic != MAGIC || version != VERSION || n != size || i != index) {
            throw new VirtioException(String.format("virtqueue %d: the shared queue state is not one of this build for "
                    + "a queue of %d entries (magic 0x%08x, version %d, size %d, queue %d); is the port started by a "
                    + "primary of the same jnic build?", index, size, magic, version, n, i));
        }
        return new VirtqueueState(s, size);
    }

    private static void check(MemorySegment seg, int size) {
        if (size < 1 || size > SplitVirtqueue.MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size " + size + " must be a power of two in 1.." + SplitVirtqueue.MAX_SIZE);
        }
        if (seg.byteSize() < bytes(size)) {
            throw new IllegalArgumentException("queue state of " + size + " entries needs " + bytes(size) + " bytes, got "
                    + seg.byteSize());
        }
    }

    public int size() {
        return size;
    }

    /** The queue runs in order (VIRTIO_F_IN_ORDER): see the class comment. */
    public boolean inOrder() {
        return inOrder;
    }

    // ---- write-through from SplitVirtqueue (hot path: plain stores, one release to order them)

    void added(int head, long token, int availPosition) {
        seg.set(U16, positions + 2L * head, (short) availPosition);
        U64_VH.setRelease(seg, OFF_TOKENS + 8L * head, token);
    }

    /**
     * In order: {@code tokens[off..off+n)} added at the avail positions from {@code first} (descriptor = position mod
     * size). Every position is stored before any of the tokens that make them count, with one fence for the burst.
     */
    void addedInOrder(int first, long[] tokens, int off, int n) {
        final int mask = size - 1;
        final long at = PlainAccess.address(base);
        final long pos = PlainAccess.address(base + positions);
        for (int i = 0; i < n; i++) {
            PlainAccess.ALL.set(U16, pos + 2L * Integer.toUnsignedLong((first + i) & mask), (short) (first + i));
        }
        VarHandle.releaseFence();
        if (CrashPoint.ENABLED) {
            CrashPoint.hit(CrashPoint.VIRTQ_ADDED_POSITIONS);
        }
        for (int i = 0; i < n; i++) {
            if (CrashPoint.ENABLED && i == n / 2) {
                CrashPoint.hit(CrashPoint.VIRTQ_ADDED_HALF);
            }
            PlainAccess.ALL.set(U64, at + OFF_TOKENS + 8L * Integer.toUnsignedLong((first + i) & mask), tokens[off + i]);
        }
    }

    void released(int head) {
        PlainAccess.ALL.set(U64, PlainAccess.address(base) + OFF_TOKENS + 8L * Integer.toUnsignedLong(head & (size - 1)), 0L);
    }

    void consumed(int lastUsed) {
        U32_VH.setRelease(seg, OFF_LAST_USED, lastUsed & 0xFFFF);
    }

    /**
     * In order: the batch a poll stopped inside of ({@code last} = the descriptor its used entry named, -1 for
     * none), so that whoever drives the queue next does not read a used entry the device skipped. Followed by
     * {@link #consumed}, whose release store publishes both.
     */
    void batch(int last, int length) {
        seg.set(U32, OFF_BATCH_LAST, last);
        seg.set(U32, OFF_BATCH_LEN, length);
    }

    /** In order: the descriptor named by the used entry of a partly consumed batch, or -1 (see {@link #batch}). */
    public int batchLast() {
        return seg.get(U32, OFF_BATCH_LAST);
    }

    /** The length that entry reported. */
    public int batchLength() {
        return seg.get(U32, OFF_BATCH_LEN);
    }

    // ---- reading (attach, recovery)

    /** The token of head {@code head}, 0 when free. */
    public long token(int head) {
        return (long) U64_VH.getAcquire(seg, OFF_TOKENS + 8L * head);
    }

    /** The 16-bit used index up to which the last driver consumed. */
    public int lastUsed() {
        return (int) U32_VH.getAcquire(seg, OFF_LAST_USED) & 0xFFFF;
    }

    int position(int head) {
        return Short.toUnsignedInt(seg.get(U16, positions + 2L * head));
    }

    /**
     * What {@link #recover} found: tokens whose buffers the queue no longer needs ({@code release}: returned by
     * the device but not consumed, or added and never published) and tokens still posted to the device
     * ({@code posted}, which stay in the ring).
     */
    public record Recovery(long[] release, long[] posted, int lastUsed) {
    }

    /**
     * Makes the state consistent again after its driver died at an arbitrary instruction, while the device keeps
     * running: every head the device returned up to used->idx (read once, here) and not yet consumed, and every
     * head added but never made available, is cleared and its token listed for release; heads still posted stay,
     * and the consumption point moves to that used->idx, so the next driver resumes with
     * {@link SplitVirtqueue#resume}. Used-ring entries are checked (head in range) before use.
     *
     * @param ring the queue's ring memory (as {@link SplitVirtqueue#memory()})
     * @throws VirtioException when the ring and the state contradict each other (the queue must be reset)
     */
    public Recovery recover(MemorySegment ring) {
        long availOff = SplitVirtqueue.availOffset(size);
        long usedOff = SplitVirtqueue.usedOffset(size);
        int avail = Short.toUnsignedInt((short) U16_VH.getAcquire(ring, availOff + SplitVirtqueue.AVAIL_IDX));
        int used = Short.toUnsignedInt((short) U16_VH.getAcquire(ring, usedOff + SplitVirtqueue.USED_IDX));
        int last = lastUsed();
        int pending = (used - last) & 0xFFFF;
        if (pending > size) {
            throw new VirtioException("virtqueue state: the device's used index " + used + " is " + pending
                    + " entries past the consumption point " + last + " of a queue of " + size);
        }
        long[] release = new long[size];
        int nr = 0;
        for (int k = 0; k < pending; k++) {
            if (inOrder) {
                // the device may have written one entry per batch: the returned heads are the positions themselves
                int h = (last + k) & (size - 1);
                long t = token(h);
                if (t != 0) {
                    release[nr++] = t;
                    released(h);
                }
                continue;
            }
            long e = usedOff + SplitVirtqueue.USED_RING + (long) SplitVirtqueue.USED_ELEM_SIZE * ((last + k) & (size - 1));
            int id = ring.get(U32, e);
            if (id < 0 || id >= size) {
                throw new VirtioException("virtqueue state: used ring entry " + ((last + k) & 0xFFFF) + " names descriptor "
                        + Integer.toUnsignedString(id) + ", outside the queue of " + size);
            }
            long t = token(id);
            if (t != 0) {
                release[nr++] = t;
                released(id);
            }
        }
        long[] posted = new long[size];
        int np = 0;
        for (int h = 0; h < size; h++) {
            long t = token(h);
            if (t == 0) {
                continue;
            }
            // serial-number comparison over 16 bits (a queue holds at most 32768): at or past avail->idx = never published
            if (((position(h) - avail) & 0xFFFF) < 0x8000) {
                release[nr++] = t;
                released(h);
            } else {
                posted[np++] = t;
            }
        }
        batch(-1, 0); // used->idx ends a batch: nothing of one is left over
        consumed(used);
        return new Recovery(java.util.Arrays.copyOf(release, nr), java.util.Arrays.copyOf(posted, np), used);
    }

    /**
     * Clears every head recorded outstanding and returns their tokens: for when the device was reset, so that every
     * buffer still recorded is the ring's to give back (whatever the driver objects of any process believe).
     */
    public long[] clear() {
        long[] out = new long[size];
        int n = 0;
        for (int h = 0; h < size; h++) {
            long t = token(h);
            if (t != 0) {
                out[n++] = t;
                released(h);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** The tokens of every head recorded outstanding (a snapshot). */
    public long[] outstanding() {
        long[] out = new long[size];
        int n = 0;
        for (int h = 0; h < size; h++) {
            long t = token(h);
            if (t != 0) {
                out[n++] = t;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** The size recorded in a state block another process formatted, checked against the memzone's length. */
    public static int recordedSize(MemorySegment seg) {
        if (seg.byteSize() < OFF_TOKENS) {
            throw new VirtioException("queue state memzone of " + seg.byteSize() + " bytes is too small for its header");
        }
        int n = seg.get(U32, OFF_SIZE);
        if (n < 1 || n > SplitVirtqueue.MAX_SIZE || Integer.bitCount(n) != 1 || bytes(n) > seg.byteSize()) {
            throw new VirtioException("queue state records a queue of " + n + " entries, which is no power of two in 1.."
                    + SplitVirtqueue.MAX_SIZE + " or does not fit its memzone of " + seg.byteSize() + " bytes");
        }
        return n;
    }
}
