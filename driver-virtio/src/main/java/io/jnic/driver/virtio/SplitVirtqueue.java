package io.jnic.driver.virtio;

import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The driver side of one split virtqueue (virtio 1.x, 2.7): descriptor table, available ring and used ring in
 * one block of DMA memory that the device reaches at {@link #descIova()} etc.
 *
 * <p>Layout in the block (all little-endian, 2.7.5 - 2.7.8), for a queue of {@code N} entries:
 * <pre>
 *   0                     descriptor table  N x {u64 addr, u32 len, u16 flags, u16 next}    (align 16)
 *   16N                   available ring    u16 flags, u16 idx, u16 ring[N], u16 used_event (align 2)
 *   usedOffset(N)         used ring         u16 flags, u16 idx, {u32 id, u32 len}[N], u16 avail_event
 * </pre>
 * The used ring starts on its own cache line (the device writes it, we write the other two); virtio 1.x asks
 * only for 4-byte alignment. The legacy layout ({@link #legacy}: 2.7.2 "Legacy Interfaces: A Note on Virtqueue
 * Layout") puts it on the next {@link #LEGACY_ALIGN}-byte boundary instead, and the whole block must start on
 * one, since a legacy device is told only the page frame of the descriptor table and derives the rest.
 *
 * <p>The driver keeps its own shadow of everything it needs (free list, chain lengths, the buffers' tokens), so
 * nothing read back from shared memory is trusted: every used-ring entry is checked (index in range, a head we
 * handed out, length within what we offered). A length beyond what the buffer offered comes back as -1 (the
 * buffer is the caller's again, to drop; counted in {@link #badLengths}); any other broken rule marks the queue
 * broken and every later call throws {@link VirtioException} naming what it did; the driver must then reset the
 * device (an entry that names no outstanding head cannot be matched with a buffer).
 *
 * <p>In order ({@link #inOrder()}, VIRTIO_F_IN_ORDER, 2.7.9): chosen when the queue is set up. Avail position
 * {@code p} always uses descriptor {@code p mod size}, so the available ring is written once, here ({@code ring[i]
 * = i}), there is no free list to walk on add or poll, and the buffers come back in the order they were added. The
 * device may write one used entry for a batch: the entry at the batch's first position names the last buffer of the
 * batch, used->idx moves by the batch's size. A batch's other buffers come back with the length they offered when
 * device-writable (as Linux's in-order ring reports them; 0 for device-readable ones), its last with the entry's.
 * In-order queues take one-descriptor buffers only (the virtio-net data queues use nothing else).
 *
 * <p>{@link #addBurst} and {@link #poll} work per burst: one used->idx read (acquire), one avail->idx publication
 * (release, {@link #publish()}), one notification check ({@link #kickNeeded()}) per burst.
 *
 * <p>Single-threaded: one thread adds and polls (virtio queues have exactly one driver-side owner). No
 * allocation after construction.
 */
public final class SplitVirtqueue implements Virtqueue {
    // 2.7.5 The Virtqueue Descriptor Table
    public static final int DESC_SIZE = 16;
    static final long DESC_ADDR = 0;
    static final long DESC_LEN = 8;
    static final long DESC_FLAGS = 12;
    static final long DESC_NEXT = 14;
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;
    // 2.7.6 The Virtqueue Available Ring
    static final long AVAIL_FLAGS = 0;
    static final long AVAIL_IDX = 2;
    static final long AVAIL_RING = 4;
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    // 2.7.8 The Virtqueue Used Ring
    static final long USED_FLAGS = 0;
    static final long USED_IDX = 2;
    static final long USED_RING = 4;
    static final int USED_ELEM_SIZE = 8;
    public static final int USED_F_NO_NOTIFY = 1;
    /** Alignment of the used ring and of the block in the legacy layout (legacy PCI: VIRTIO_PCI_VRING_ALIGN). */
    public static final int LEGACY_ALIGN = 4096;
    /** Alignment of the used ring in the modern layout (a cache line; 4 would do). */
    static final int MODERN_USED_ALIGN = 64;
    /** Largest queue of a split ring (2.7: Queue Size ... maximum 32768). */
    public static final int MAX_SIZE = 32768;

    private static final ValueLayout.OfShort U16 = PlainAccess.SHORT.withOrder(ByteOrder.LITTLE_ENDIAN); // ring checked aligned once
    private static final ValueLayout.OfInt U32 = PlainAccess.INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = PlainAccess.LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U16_VH = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private static final int NONE = -1;

    private final int index;
    private final int size;
    private final int mask;
    private final MemorySegment mem;
    /** mem's address: the in-order hot paths go through {@link PlainAccess#ALL} (every offset is masked into the ring). */
    private final long base;
    private final long baseIova;
    private final long availOff;
    private final long usedOff;
    private final boolean eventIdx;
    private final boolean legacy;
    /** VIRTIO_F_IN_ORDER: descriptor = avail position mod size (see the class comment). */
    private final boolean inOrder;
    /** In order: the descriptor named by the used entry of the batch being consumed (-1: none), and its length. */
    private int batchLast = NONE;
    private int batchLen;

    /** Next free descriptor after each descriptor (our shadow of the free list; the device never sees it). */
    private final int[] nextFree;
    private int freeHead;
    private int numFree;
    /** Per head descriptor: the caller's token, descriptors in the chain, writable bytes offered. */
    private final long[] tokens;
    private final int[] chainLength;
    private final int[] writable;
    private final boolean[] inFlight;

    /** Free-running 16-bit indices, kept in ints and masked when stored. */
    private int availIdx;
    private int publishedAvail;
    private int kickedAvail;
    private int lastUsed;
    private boolean interruptsEnabled = true;
    private String broken;
    private long badLengths;
    /** Where the outstanding heads are also recorded for other processes (multi-process), or null. */
    private final VirtqueueState state;
    /** Indirect descriptor tables, one per descriptor slot (null: none). */
    private IndirectTables indirect;

    /**
     * @param index      queue index (for messages and transports)
     * @param size       entries, a power of two in 1..32768
     * @param mem        at least {@link #bytes(int)} bytes, 16-byte aligned, zeroed or not (it is cleared)
     * @param baseIova   the device's address of {@code mem}'s first byte
     * @param eventIdx   VIRTIO_F_EVENT_IDX was negotiated
     * @param startIndex first avail/used index (0 for a fresh device; vhost-user SET_VRING_BASE may restore another)
     */
    public SplitVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx, int startIndex) {
        this(index, size, mem, baseIova, eventIdx, startIndex, null, false, false, false);
    }

    /** As {@link #SplitVirtqueue(int, int, MemorySegment, long, boolean, int)}, for a device with VIRTIO_F_IN_ORDER. */
    public static SplitVirtqueue inOrder(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx,
            int startIndex) {
        return new SplitVirtqueue(index, size, mem, baseIova, eventIdx, startIndex, null, false, false, true);
    }

    /**
     * A queue in the legacy layout (used ring on a 4096-byte boundary, {@link #legacyBytes(int)} bytes), for legacy
     * PCI devices: {@code mem} and {@code baseIova} must be 4096-byte aligned. Starts at index 0.
     */
    public static SplitVirtqueue legacy(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx) {
        return new SplitVirtqueue(index, size, mem, baseIova, eventIdx, 0, null, false, true, false);
    }

    /**
     * As {@link #SplitVirtqueue(int, int, MemorySegment, long, boolean, int)}, recording the outstanding heads in
     * {@code state} as well (formatted here), so that another process can carry on with the queue
     * ({@link #resume}). Such a queue takes one-descriptor buffers only ({@link #add}).
     */
    public SplitVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx, int startIndex,
            MemorySegment state) {
        this(index, size, mem, baseIova, eventIdx, startIndex, state, false);
    }

    /**
     * As {@link #SplitVirtqueue(int, int, MemorySegment, long, boolean, int, MemorySegment)}, in order when
     * {@code inOrder} (VIRTIO_F_IN_ORDER was negotiated; recorded in the state for whoever resumes the queue).
     */
    public SplitVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx, int startIndex,
            MemorySegment state, boolean inOrder) {
        this(index, size, mem, baseIova, eventIdx, startIndex,
                VirtqueueState.format(Objects.requireNonNull(state, "state"), index, size, startIndex, inOrder), false,
                false, inOrder);
    }

    /**
     * Carries on with a queue another process drove (multi-process): the ring in {@code mem} is left as it is, and
     * this object's view (free descriptors, tokens, indices) is rebuilt from the ring and {@code state}, which
     * must be consistent (the previous driver let go of the queue, or {@link VirtqueueState#recover} ran after it
     * died). Interrupts start suppressed (poll mode); the caller should notify the device once, in case the
     * previous driver published buffers without notifying. In order when the state says so.
     */
    public static SplitVirtqueue resume(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx,
            VirtqueueState state) {
        if (state.size() != size) {
            throw new IllegalArgumentException("queue state of " + state.size() + " entries for a queue of " + size);
        }
        return new SplitVirtqueue(index, size, mem, baseIova, eventIdx, 0, state, true, false, state.inOrder());
    }

    private SplitVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx, int startIndex,
            VirtqueueState state, boolean resume, boolean legacy, boolean inOrder) {
        if (size < 1 || size > MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size " + size + " must be a power of two in 1.." + MAX_SIZE);
        }
        Objects.requireNonNull(mem, "mem");
        long need = legacy ? legacyBytes(size) : bytes(size);
        if (mem.byteSize() < need) {
            throw new IllegalArgumentException("a queue of " + size + " entries needs " + need + " bytes"
                    + (legacy ? " in the legacy layout" : "") + ", got " + mem.byteSize());
        }
        int align = legacy ? LEGACY_ALIGN : 16;
        if ((baseIova & (align - 1)) != 0 || (mem.address() & 15) != 0) {
            throw new IllegalArgumentException("virtqueue memory must be " + align + "-byte aligned (iova 0x"
                    + Long.toHexString(baseIova) + ")");
        }
        this.index = index;
        this.size = size;
        this.mask = size - 1;
        this.mem = mem.asSlice(0, need);
        this.base = this.mem.address();
        this.baseIova = baseIova;
        this.availOff = availOffset(size);
        this.usedOff = legacy ? legacyUsedOffset(size) : usedOffset(size);
        this.eventIdx = eventIdx;
        this.legacy = legacy;
        this.inOrder = inOrder;
        this.nextFree = new int[size];
        this.tokens = new long[size];
        this.chainLength = new int[size];
        this.writable = new int[size];
        this.inFlight = new boolean[size];
        this.state = state;
        if (resume) {
            adopt();
            return;
        }
        this.mem.fill((byte) 0);
        for (int i = 0; i < size; i++) {
            nextFree[i] = i + 1 < size ? i + 1 : NONE;
            if (inOrder) {
                // fixed for good: position p uses descriptor p mod size
                this.mem.set(U16, availOff + AVAIL_RING + 2L * i, (short) i);
            }
        }
        freeHead = 0;
        numFree = size;
        int start = startIndex & 0xFFFF;
        availIdx = publishedAvail = kickedAvail = lastUsed = start;
        U16_VH.setRelease(this.mem, availOff + AVAIL_IDX, (short) start);
        this.mem.set(U16, usedOff + USED_IDX, (short) start);
    }

    /** Rebuilds the driver's view from the ring and the shared state (see {@link #resume}). */
    private void adopt() {
        freeHead = NONE;
        numFree = 0;
        for (int i = size - 1; i >= 0; i--) {
            long t = state.token(i);
            if (t != 0) {
                long d = (long) i * DESC_SIZE;
                boolean w = (mem.get(U16, d + DESC_FLAGS) & DESC_F_WRITE) != 0;
                tokens[i] = t;
                chainLength[i] = 1;
                writable[i] = w ? mem.get(U32, d + DESC_LEN) : 0;
                inFlight[i] = true;
            } else {
                nextFree[i] = freeHead;
                freeHead = i;
                numFree++;
            }
        }
        int avail = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, availOff + AVAIL_IDX));
        availIdx = publishedAvail = kickedAvail = avail;
        lastUsed = state.lastUsed();
        int outstanding = (avail - lastUsed) & 0xFFFF;
        if (inOrder) {
            int b = state.batchLast();
            if (b != NONE && (b < 0 || b >= size || ((b - lastUsed) & mask) >= outstanding)) {
                throw new VirtioException("virtqueue " + index + ": the shared state records a partly consumed batch"
                        + " up to descriptor " + b + ", which is not among the " + outstanding
                        + " outstanding from position " + (lastUsed & 0xFFFF));
            }
            batchLast = b;
            batchLen = state.batchLength();
        }
        if (inOrder && outstanding <= size) {
            // the outstanding heads must be exactly the positions lastUsed..avail-1 (mod size)
            for (int k = 0; k < outstanding; k++) {
                int h = (lastUsed + k) & mask;
                if (!inFlight[h]) {
                    throw new VirtioException("virtqueue " + index + ": in-order position "
                            + ((lastUsed + k) & 0xFFFF) + " (descriptor " + h + ") is outstanding in the ring but not in"
                            + " the shared state (a driver died without recovery?)");
                }
            }
        }
        if (outstanding != size - numFree) {
            throw new VirtioException("virtqueue " + index + ": the shared state records " + (size - numFree)
                    + " outstanding buffers, but the ring has " + outstanding + " between used " + lastUsed + " and avail "
                    + avail + " (a driver died without recovery?)");
        }
        interruptsEnabled = false;
    }

    /** The shared record of this queue, or null. */
    public VirtqueueState state() {
        return state;
    }

    /** Offset of the available ring in the block. */
    public static long availOffset(int size) {
        return (long) DESC_SIZE * size;
    }

    /** Offset of the used ring in the block (its own cache line). */
    public static long usedOffset(int size) {
        return align(availOffset(size) + AVAIL_RING + 2L * size + 2, MODERN_USED_ALIGN);
    }

    /** Bytes of DMA memory a queue of {@code size} entries needs. */
    public static long bytes(int size) {
        return align(usedOffset(size) + USED_RING + (long) USED_ELEM_SIZE * size + 2, 64);
    }

    /** Offset of the used ring in the legacy layout: after the avail ring (with used_event), 4096-aligned. */
    public static long legacyUsedOffset(int size) {
        return align(availOffset(size) + AVAIL_RING + 2L * size + 2, LEGACY_ALIGN);
    }

    /** Bytes a queue of {@code size} entries needs in the legacy layout. */
    public static long legacyBytes(int size) {
        return align(legacyUsedOffset(size) + USED_RING + (long) USED_ELEM_SIZE * size + 2, 64);
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    @Override
    public int index() {
        return index;
    }

    /** VIRTIO_F_IN_ORDER: descriptor = avail position mod size, used buffers in the order they were added. */
    @Override
    public boolean inOrder() {
        return inOrder;
    }

    /** True for the legacy layout (used ring 4096-aligned after the avail ring). */
    public boolean isLegacyLayout() {
        return legacy;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long descIova() {
        return baseIova;
    }

    public long availIova() {
        return baseIova + availOff;
    }

    public long usedIova() {
        return baseIova + usedOff;
    }

    /** The whole block as this process sees it (vhost-user declares its virtual addresses too). */
    @Override
    public MemorySegment memory() {
        return mem;
    }

    @Override
    public int freeCount() {
        return numFree;
    }

    @Override
    public int inFlightCount() {
        return size - numFree;
    }

    @Override
    public boolean eventIdx() {
        return eventIdx;
    }

    /** The 16-bit avail index as published to the device. */
    @Override
    public int availIndex() {
        return publishedAvail & 0xFFFF;
    }

    /** The 16-bit used index up to which we consumed. */
    @Override
    public int lastUsedIndex() {
        return lastUsed & 0xFFFF;
    }

    /** Why the queue is unusable, or null. */
    @Override
    public String brokenReason() {
        return broken;
    }

    /**
     * Adds a one-descriptor buffer. Not visible to the device until {@link #publish()}.
     *
     * @param iova   the buffer's device address
     * @param length bytes (readable by the device, or writable with {@code deviceWritable})
     * @param token  the caller's handle, returned by {@link #poll}
     * @return false when the queue is full
     */
    @Override
    public boolean add(long iova, int length, boolean deviceWritable, long token) {
        checkUsable();
        if (numFree == 0) {
            return false;
        }
        if (inOrder) {
            putInOrder(iova, length, deviceWritable ? DESC_F_WRITE : 0, token, true);
            return true;
        }
        return addOne(iova, length, deviceWritable ? DESC_F_WRITE : 0, token);
    }

    /** A one-descriptor buffer at the free list's head (the caller checked there is one). */
    private boolean addOne(long iova, int length, int flags, long token) {
        int head = freeHead;
        freeHead = nextFree[head];
        numFree--;
        long d = (long) head * DESC_SIZE;
        mem.set(U64, d + DESC_ADDR, iova);
        mem.set(U32, d + DESC_LEN, length);
        mem.set(U16, d + DESC_FLAGS, (short) flags);
        mem.set(U16, d + DESC_NEXT, (short) 0);
        tokens[head] = token;
        chainLength[head] = 1;
        writable[head] = (flags & DESC_F_WRITE) != 0 ? length : 0;
        inFlight[head] = true;
        if (state != null) {
            state.added(head, token, availIdx);
        }
        mem.set(U16, availOff + AVAIL_RING + 2L * (availIdx & mask), (short) head);
        availIdx++;
        return true;
    }

    /**
     * Adds {@code n} one-descriptor buffers at once: {@code iovas[off..]}, {@code lengths[off..]} bytes, tokens
     * {@code tokens[off..]}, all device-writable or all device-readable; as many as there are free descriptors.
     * Not visible to the device until {@link #publish()}.
     *
     * @return how many were added (fewer than {@code n} when the ring filled)
     */
    @Override
    public int addBurst(long[] iovas, int[] lengths, long[] tokens, int off, int n, boolean deviceWritable) {
        checkUsable();
        int k = Math.min(n, numFree);
        if (k <= 0) {
            return 0;
        }
        Objects.checkFromIndexSize(off, k, iovas.length);
        Objects.checkFromIndexSize(off, k, lengths.length);
        Objects.checkFromIndexSize(off, k, tokens.length);
        short flags = (short) (deviceWritable ? DESC_F_WRITE : 0);
        if (inOrder) {
            int first = availIdx;
            for (int i = off; i < off + k; i++) {
                putInOrder(iovas[i], lengths[i], flags, tokens[i], false);
            }
            if (state != null) {
                state.addedInOrder(first, tokens, off, k); // the device sees none of them before publish()
            }
            return k;
        }
        for (int i = off; i < off + k; i++) {
            add(iovas[i], lengths[i], deviceWritable, tokens[i]);
        }
        return k;
    }

    @Override
    public void useIndirectTables(MemorySegment tables, long tablesIova, int perBuffer) {
        indirect = new IndirectTables(index, size, tables, tablesIova, perBuffer);
    }

    /**
     * The buffer's pieces go in the table of the slot it takes (in order the position's descriptor, else the free
     * list's head), chained by NEXT within the table (2.7.5.3.1); the slot's descriptor points at the table.
     */
    @Override
    public boolean addIndirect(long[] iovas, int[] lengths, int n, long token) {
        checkUsable();
        IndirectTables.checkPieces(indirect, index, n);
        if (numFree == 0) {
            return false;
        }
        int slot = inOrder ? availIdx & mask : freeHead;
        MemorySegment tm = indirect.memory;
        long t = indirect.offset(slot);
        for (int i = 0; i < n; i++) {
            long d = t + (long) i * DESC_SIZE;
            tm.set(U64, d + DESC_ADDR, iovas[i]);
            tm.set(U32, d + DESC_LEN, lengths[i]);
            tm.set(U16, d + DESC_FLAGS, (short) (i + 1 < n ? DESC_F_NEXT : 0));
            tm.set(U16, d + DESC_NEXT, (short) (i + 1));
        }
        long iova = indirect.iova(slot);
        int len = n * DESC_SIZE;
        if (inOrder) {
            putInOrder(iova, len, DESC_F_INDIRECT, token, true);
            return true;
        }
        return addOne(iova, len, DESC_F_INDIRECT, token);
    }

    /** In order: the next position's fixed descriptor (the caller checked there is one free); {@code record}: in the state. */
    private void putInOrder(long iova, int length, int flags, long token, boolean record) {
        int slot = availIdx & mask;
        long d = PlainAccess.address(base) + Integer.toUnsignedLong(slot) * DESC_SIZE;
        PlainAccess.ALL.set(U64, d + DESC_ADDR, iova);
        PlainAccess.ALL.set(U32, d + DESC_LEN, length);
        PlainAccess.ALL.set(U16, d + DESC_FLAGS, (short) flags); // next stays 0: never chained
        tokens[slot] = token;
        writable[slot] = (flags & DESC_F_WRITE) != 0 ? length : 0;
        if (record && state != null) {
            state.added(slot, token, availIdx);
        }
        numFree--;
        availIdx++; // the avail ring already names the slot
    }

    /**
     * Adds a chain of {@code n} descriptors: device-readable ones first, then device-writable ones (2.7.4.2).
     *
     * @return false when fewer than {@code n} descriptors are free
     */
    @Override
    public boolean addChain(long[] iovas, int[] lengths, boolean[] deviceWritable, int n, long token) {
        checkUsable();
        if (n < 1 || n > size) {
            throw new IllegalArgumentException("a chain of " + n + " descriptors does not fit a queue of " + size);
        }
        for (int i = 1; i < n; i++) {
            if (deviceWritable[i - 1] && !deviceWritable[i]) {
                throw new IllegalArgumentException("device-readable descriptor " + i + " follows a writable one");
            }
        }
        if (state != null && n > 1) {
            throw new UnsupportedOperationException("virtqueue " + index + " records its state for other processes, "
                    + "which holds one-descriptor buffers only");
        }
        if (inOrder) {
            if (n > 1) {
                throw new UnsupportedOperationException("virtqueue " + index + " runs in order (fixed descriptor per "
                        + "position), which takes one-descriptor buffers only");
            }
            return add(iovas[0], lengths[0], deviceWritable[0], token);
        }
        if (numFree < n) {
            return false;
        }
        int head = freeHead;
        int cur = head;
        int w = 0;
        for (int i = 0; i < n; i++) {
            long d = (long) cur * DESC_SIZE;
            int next = nextFree[cur];
            mem.set(U64, d + DESC_ADDR, iovas[i]);
            mem.set(U32, d + DESC_LEN, lengths[i]);
            mem.set(U16, d + DESC_FLAGS, (short) ((deviceWritable[i] ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0)));
            mem.set(U16, d + DESC_NEXT, (short) (i + 1 < n ? next : 0));
            if (deviceWritable[i]) {
                w += lengths[i];
            }
            if (i + 1 < n) {
                cur = next;
            } else {
                freeHead = next;
            }
        }
        numFree -= n;
        tokens[head] = token;
        chainLength[head] = n;
        writable[head] = w;
        inFlight[head] = true;
        if (state != null) {
            state.added(head, token, availIdx);
        }
        mem.set(U16, availOff + AVAIL_RING + 2L * (availIdx & mask), (short) head);
        availIdx++;
        return true;
    }

    /** Makes every added buffer visible to the device (a release store of avail->idx, 2.7.13.3). */
    @Override
    public void publish() {
        if (availIdx != publishedAvail) {
            U16_VH.setRelease(mem, availOff + AVAIL_IDX, (short) availIdx);
            publishedAvail = availIdx;
        }
    }

    /**
     * Whether the device wants a notification for what was published since the last call (2.7.10 / 2.7.13.4):
     * with EVENT_IDX, when the new avail index passed avail_event; otherwise unless the device set
     * VIRTQ_USED_F_NO_NOTIFY. Needs a full fence: our avail store must be visible before we read the device's
     * suppression word, or both sides may sleep.
     */
    @Override
    public boolean kickNeeded() {
        int old = kickedAvail;
        int now = publishedAvail;
        if (old == now) {
            return false;
        }
        kickedAvail = now;
        VarHandle.fullFence();
        if (eventIdx) {
            int event = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, usedOff + USED_RING + (long) USED_ELEM_SIZE * size));
            return needEvent(event, now, old);
        }
        return (((short) U16_VH.getAcquire(mem, usedOff + USED_FLAGS)) & USED_F_NO_NOTIFY) == 0;
    }

    /** vring_need_event: has the index moved from {@code old} to {@code now} past {@code event}? (2.7.10) */
    public static boolean needEvent(int event, int now, int old) {
        return ((now - event - 1) & 0xFFFF) < ((now - old) & 0xFFFF);
    }

    /** Entries the device has returned and we have not polled yet (checked against the queue size). */
    @Override
    public int usedCount() {
        checkUsable();
        int used = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, usedOff + USED_IDX));
        int n = (used - lastUsed) & 0xFFFF;
        if (n > size - numFree) {
            fail("used index " + used + " is " + n + " entries past the last one consumed (" + (lastUsed & 0xFFFF)
                    + "), but only " + (size - numFree) + " buffers are outstanding");
        }
        return n;
    }

    /**
     * Takes up to {@code max} used buffers: their tokens go to {@code tokens[off..]}, the bytes the device wrote
     * to {@code lengths[off..]}. Every entry is checked before its buffer is released.
     *
     * @return how many were taken
     */
    @Override
    public int poll(long[] tokensOut, int[] lengthsOut, int off, int max) {
        int used = usedCount(); // used->idx read once (acquire) for the burst
        int n = Math.min(used, max);
        if (n <= 0) {
            return 0;
        }
        Objects.checkFromIndexSize(off, n, tokensOut.length);
        Objects.checkFromIndexSize(off, n, lengthsOut.length);
        if (inOrder) {
            pollInOrder(tokensOut, lengthsOut, off, n, used);
        } else {
            pollAny(tokensOut, lengthsOut, off, n);
        }
        if (eventIdx && interruptsEnabled) {
            mem.set(U16, availOff + AVAIL_RING + 2L * size, (short) lastUsed);
        }
        if (state != null) {
            if (inOrder) {
                state.batch(batchLast, batchLen); // a batch left half-consumed: the next driver must know it
            }
            state.consumed(lastUsed);
        }
        return n;
    }

    /**
     * In order (2.7.9): the buffers are the next {@code n} positions; a used entry is read at the first position of
     * each batch and names the batch's last descriptor, which must lie within the {@code avail} entries used->idx
     * says are there.
     */
    private void pollInOrder(long[] tokensOut, int[] lengthsOut, int off, int n, int avail) {
        int p = lastUsed;
        for (int i = 0; i < n; i++, p++) {
            int slot = p & mask;
            if (batchLast == NONE) {
                long e = PlainAccess.address(base + usedOff) + USED_RING + USED_ELEM_SIZE * Integer.toUnsignedLong(slot);
                int id = PlainAccess.ALL.get(U32, e);
                int len = PlainAccess.ALL.get(U32, e + 4);
                int left = avail - i; // entries used->idx covers from position p on
                if (id < 0 || id >= size || ((id - slot) & mask) >= left) {
                    // lastUsed stays: every buffer still outstanding goes back with drainOutstanding after the reset
                    fail("used ring entry " + (p & 0xFFFF) + " names descriptor " + Integer.toUnsignedString(id)
                            + (id >= 0 && id < size ? ", beyond the " + left
                                    + " buffers used->idx returns from there in order" : ", outside the queue of " + size));
                }
                batchLast = id;
                batchLen = len;
            }
            int len;
            if (slot == batchLast) {
                batchLast = NONE;
                len = batchLen;
                if (len < 0 || len > writable[slot]) {
                    badLengths++;
                    len = -1;
                }
            } else {
                len = writable[slot]; // inside a batch: no entry of its own
            }
            tokensOut[off + i] = tokens[slot];
            lengthsOut[off + i] = len;
            if (state != null) {
                state.released(slot);
            }
        }
        lastUsed = p;
        numFree += n;
    }

    private void pollAny(long[] tokensOut, int[] lengthsOut, int off, int n) {
        for (int i = 0; i < n; i++) {
            long e = usedOff + USED_RING + (long) USED_ELEM_SIZE * (lastUsed & mask);
            int id = mem.get(U32, e);
            int len = mem.get(U32, e + 4);
            if (id < 0 || id >= size || !inFlight[id]) {
                fail("used ring entry " + (lastUsed & 0xFFFF) + " names descriptor " + Integer.toUnsignedString(id)
                        + (id >= 0 && id < size ? ", which is not an outstanding chain head" : ", outside the queue of " + size));
            }
            if (len < 0 || len > writable[id]) {
                // the buffer is ours again (the id is an outstanding head), only its contents are not to be trusted:
                // the caller drops it (length -1) and counts it, the queue goes on
                badLengths++;
                len = -1;
            }
            tokensOut[off + i] = tokens[id];
            lengthsOut[off + i] = len;
            release(id);
            lastUsed++;
        }
    }

    private void release(int head) {
        inFlight[head] = false;
        if (state != null) {
            state.released(head);
        }
        int n = chainLength[head];
        // walk our shadow of the chain (the same order addChain took them from the free list)
        int last = head;
        for (int i = 1; i < n; i++) {
            last = nextFree[last];
        }
        nextFree[last] = freeHead;
        freeHead = head;
        numFree += n;
    }

    /**
     * Asks the device not to interrupt us (poll mode): VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX a
     * used_event the device has already passed (then at most one interrupt per 65536 buffers).
     */
    @Override
    public void disableInterrupts() {
        interruptsEnabled = false;
        if (eventIdx) {
            U16_VH.setRelease(mem, availOff + AVAIL_RING + 2L * size, (short) (lastUsed - 1));
        } else {
            U16_VH.setRelease(mem, availOff + AVAIL_FLAGS, (short) AVAIL_F_NO_INTERRUPT);
        }
    }

    /** Asks for an interrupt when the next buffer is used. */
    @Override
    public void enableInterrupts() {
        interruptsEnabled = true;
        if (eventIdx) {
            U16_VH.setRelease(mem, availOff + AVAIL_RING + 2L * size, (short) lastUsed);
        } else {
            U16_VH.setRelease(mem, availOff + AVAIL_FLAGS, (short) 0);
        }
        VarHandle.fullFence();
    }

    /** Tokens of every outstanding buffer (to free them on shutdown); returns how many. */
    @Override
    public int drainOutstanding(long[] tokensOut) {
        if (inOrder) {
            int n = size - numFree;
            for (int k = 0; k < n; k++) {
                int slot = (lastUsed + k) & mask;
                tokensOut[k] = tokens[slot];
                if (state != null) {
                    state.released(slot);
                }
            }
            lastUsed += n;
            numFree = size;
            batchLast = NONE;
            return n;
        }
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (inFlight[i]) {
                tokensOut[n++] = tokens[i];
                release(i);
            }
        }
        return n;
    }

    /** Used entries whose length exceeded what their buffer offered (polled with length -1). */
    @Override
    public long badLengths() {
        return badLengths;
    }

    private void checkUsable() {
        if (broken != null) {
            throw new VirtioException("virtqueue " + index + " is broken: " + broken + "; reset the device");
        }
    }

    private void fail(String what) {
        broken = "the device broke the split-ring rules: " + what;
        throw new VirtioException("virtqueue " + index + ": " + broken + "; reset the device");
    }

    @Override
    public String toString() {
        return "SplitVirtqueue[" + index + ", size " + size + ", avail " + (publishedAvail & 0xFFFF) + ", used "
                + (lastUsed & 0xFFFF) + ", free " + numFree + (eventIdx ? ", event-idx" : "")
                + (inOrder ? ", in order" : "") + "]";
    }
}
