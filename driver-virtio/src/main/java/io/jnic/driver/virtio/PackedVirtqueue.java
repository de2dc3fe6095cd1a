package io.jnic.driver.virtio;

import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The driver side of one packed virtqueue (virtio 1.x 2.8, VIRTIO_F_RING_PACKED): one descriptor ring that both
 * sides write, plus the two event-suppression structures, in one block of DMA memory.
 *
 * <p>Layout in the block (little-endian), for a queue of {@code N} entries:
 * <pre>
 *   0            descriptor ring   N x {u64 addr, u32 len, u16 id, u16 flags}   (2.8.13, align 16)
 *   16N          driver area       {u16 off_wrap, u16 flags}  we write: do not interrupt us (2.8.10)
 *   16N + 64     device area       {u16 off_wrap, u16 flags}  the device writes: do not notify it
 * </pre>
 * Ownership of a descriptor is in its flags: the driver makes it available with AVAIL = its avail wrap counter
 * and USED = the inverse (2.8.1); the device hands a buffer back by writing one descriptor at its own used
 * position with AVAIL = USED = its wrap counter, carrying the buffer id and the bytes written, and skips the
 * other descriptors of that chain (2.8.7). Both wrap counters start at 1 and flip each time a position wraps.
 *
 * <p>As {@link SplitVirtqueue}, nothing read back is trusted: a used descriptor must name a buffer id we have
 * outstanding, else the queue is marked broken; a length beyond what that buffer offered comes back as -1 (the
 * caller drops the buffer; counted in {@link #badLengths}). Buffer ids are ours
 * (a free stack), independent of ring positions. Single-threaded, no allocation after construction.
 *
 * <p>In order ({@link #inOrder()}, VIRTIO_F_IN_ORDER, chosen at construction): buffers are one descriptor each and
 * a buffer's id is its ring position, so no id stack is kept; the device may hand a batch back with one used
 * descriptor at the batch's first position naming the batch's last id, leaving the others' flags as they were
 * (2.8.x "In-order use of descriptors"), so only batch heads are read and the batch size is checked against what
 * is outstanding. As in {@link SplitVirtqueue}, buffers inside a batch come back with the length they offered
 * (0 when device-readable), the last with the used descriptor's.
 */
public final class PackedVirtqueue implements Virtqueue {
    // 2.8.13 struct pvirtq_desc
    public static final int DESC_SIZE = 16;
    static final long DESC_ADDR = 0;
    static final long DESC_LEN = 8;
    static final long DESC_ID = 12;
    static final long DESC_FLAGS = 14;
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_INDIRECT = 4;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_AVAIL = 1 << 7;
    public static final int DESC_F_USED = 1 << 15;
    // 2.8.14 struct pvirtq_event_suppress
    static final long EVENT_OFF_WRAP = 0;
    static final long EVENT_FLAGS = 2;
    public static final int EVENT_F_ENABLE = 0;
    public static final int EVENT_F_DISABLE = 1;
    public static final int EVENT_F_DESC = 2;
    /** Largest packed queue (2.8: Queue Size up to 2^15). */
    public static final int MAX_SIZE = 32768;

    private static final ValueLayout.OfShort U16 = PlainAccess.SHORT.withOrder(ByteOrder.LITTLE_ENDIAN); // ring checked aligned once
    private static final ValueLayout.OfInt U32 = PlainAccess.INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = PlainAccess.LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U16_VH = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final int index;
    private final int size;
    private final MemorySegment mem;
    private final long baseIova;
    private final long driverOff;
    private final long deviceOff;
    private final boolean eventIdx;

    /** Free buffer ids (a stack). */
    private final int[] freeIds;
    private int freeIdCount;
    private int numFree;
    /** Per buffer id: the caller's token, descriptors in its chain, writable bytes offered, outstanding. */
    private final long[] tokens;
    private final int[] chainLength;
    private final int[] writable;
    private final boolean[] inFlight;
    /** Indirect descriptor tables, one per buffer id (null: none). */
    private IndirectTables indirect;

    private int nextAvail;
    private boolean availWrap = true;
    private int nextUsed;
    private boolean usedWrap = true;
    /** Descriptors made available since construction, published, and covered by the last kick decision. */
    private long added;
    private long published;
    private long kicked;
    private String broken;
    private long badLengths;
    private final boolean inOrder;
    /** In order: the id named by the used descriptor of the batch being consumed (-1: none), and its length. */
    private int batchLast = -1;
    private int batchLen;

    /**
     * @param size     entries, 1..32768 (powers of two are not required by 2.8, but virtio-net uses them)
     * @param mem      at least {@link #bytes(int)} bytes, 16-byte aligned (cleared here)
     * @param baseIova the device's address of {@code mem}'s first byte
     * @param eventIdx VIRTIO_F_EVENT_IDX was negotiated (the device may ask for notifications at a position)
     */
    public PackedVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx) {
        this(index, size, mem, baseIova, eventIdx, false);
    }

    /** As {@link #PackedVirtqueue(int, int, MemorySegment, long, boolean)}, in order when {@code inOrder}. */
    public PackedVirtqueue(int index, int size, MemorySegment mem, long baseIova, boolean eventIdx, boolean inOrder) {
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("packed queue size " + size + " must be in 1.." + MAX_SIZE);
        }
        Objects.requireNonNull(mem, "mem");
        if (mem.byteSize() < bytes(size)) {
            throw new IllegalArgumentException("a packed queue of " + size + " entries needs " + bytes(size)
                    + " bytes, got " + mem.byteSize());
        }
        if ((baseIova & 15) != 0 || (mem.address() & 15) != 0) {
            throw new IllegalArgumentException("virtqueue memory must be 16-byte aligned (iova 0x"
                    + Long.toHexString(baseIova) + ")");
        }
        this.index = index;
        this.size = size;
        this.mem = mem.asSlice(0, bytes(size));
        this.baseIova = baseIova;
        this.driverOff = driverAreaOffset(size);
        this.deviceOff = driverOff + 64;
        this.eventIdx = eventIdx;
        this.inOrder = inOrder;
        this.freeIds = new int[size];
        this.tokens = new long[size];
        this.chainLength = new int[size];
        this.writable = new int[size];
        this.inFlight = new boolean[size];
        this.mem.fill((byte) 0); // flags 0: nothing available (avail wrap starts at 1), nothing used
        for (int i = 0; i < size; i++) {
            freeIds[i] = size - 1 - i; // ids handed out from 0 up
        }
        freeIdCount = size;
        numFree = size;
    }

    /** VIRTIO_F_IN_ORDER: buffer id = ring position, used descriptors may each return a batch. */
    @Override
    public boolean inOrder() {
        return inOrder;
    }

    /** Offset of the driver event-suppression structure (its own cache line after the ring). */
    public static long driverAreaOffset(int size) {
        return ((long) DESC_SIZE * size + 63) & -64L;
    }

    /** Bytes of DMA memory a packed queue of {@code size} entries needs. */
    public static long bytes(int size) {
        return driverAreaOffset(size) + 128;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long descIova() {
        return baseIova;
    }

    /** Device address of the driver event-suppression structure (vhost-user: the "avail" address). */
    public long driverAreaIova() {
        return baseIova + driverOff;
    }

    /** Device address of the device event-suppression structure (vhost-user: the "used" address). */
    public long deviceAreaIova() {
        return baseIova + deviceOff;
    }

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

    @Override
    public String brokenReason() {
        return broken;
    }

    @Override
    public int availIndex() {
        return nextAvail | (availWrap ? 1 << 15 : 0);
    }

    @Override
    public int lastUsedIndex() {
        return nextUsed | (usedWrap ? 1 << 15 : 0);
    }

    /** The flags that make a descriptor available in the current lap (2.8.1). */
    private int availFlags() {
        return availWrap ? DESC_F_AVAIL : DESC_F_USED;
    }

    /** Adds a one-descriptor buffer; the device may see it at once (its flags are stored with release). */
    @Override
    public boolean add(long iova, int length, boolean deviceWritable, long token) {
        checkUsable();
        if (numFree == 0) {
            return false;
        }
        addOne(inOrder ? nextAvail : freeIds[--freeIdCount], iova, length, deviceWritable ? DESC_F_WRITE : 0, token);
        return true;
    }

    private void addOne(int id, long iova, int length, int flags, long token) {
        long d = (long) nextAvail * DESC_SIZE;
        mem.set(U64, d + DESC_ADDR, iova);
        mem.set(U32, d + DESC_LEN, length);
        mem.set(U16, d + DESC_ID, (short) id);
        tokens[id] = token;
        chainLength[id] = 1;
        writable[id] = (flags & DESC_F_WRITE) != 0 ? length : 0;
        inFlight[id] = true;
        numFree--;
        // 2.8.21: the flags last, with release, so that the device never sees a half-written descriptor
        U16_VH.setRelease(mem, d + DESC_FLAGS, (short) (flags | availFlags()));
        advanceAvail();
        added++;
    }

    @Override
    public void useIndirectTables(MemorySegment tables, long tablesIova, int perBuffer) {
        indirect = new IndirectTables(index, size, tables, tablesIova, perBuffer);
    }

    /**
     * The pieces go in the table of the buffer id (2.8.19: packed-format descriptors, in sequence, no NEXT), the ring
     * descriptor points at it with INDIRECT.
     */
    @Override
    public boolean addIndirect(long[] iovas, int[] lengths, int n, long token) {
        checkUsable();
        IndirectTables.checkPieces(indirect, index, n);
        if (numFree == 0) {
            return false;
        }
        int id = inOrder ? nextAvail : freeIds[--freeIdCount];
        MemorySegment tm = indirect.memory;
        long t = indirect.offset(id);
        for (int i = 0; i < n; i++) {
            long d = t + (long) i * DESC_SIZE;
            tm.set(U64, d + DESC_ADDR, iovas[i]);
            tm.set(U32, d + DESC_LEN, lengths[i]);
            tm.set(U16, d + DESC_ID, (short) 0);
            tm.set(U16, d + DESC_FLAGS, (short) 0);
        }
        addOne(id, indirect.iova(id), n * DESC_SIZE, DESC_F_INDIRECT, token);
        return true;
    }

    /** Adds a chain of {@code n} descriptors (device-readable first); the head's flags are stored last. */
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
        if (inOrder) {
            if (n > 1) {
                throw new UnsupportedOperationException("virtqueue " + index + " runs in order (buffer id = ring "
                        + "position), which takes one-descriptor buffers only");
            }
            return add(iovas[0], lengths[0], deviceWritable[0], token);
        }
        if (numFree < n) {
            return false;
        }
        int id = freeIds[--freeIdCount];
        long head = (long) nextAvail * DESC_SIZE;
        int headFlags = 0;
        int w = 0;
        for (int i = 0; i < n; i++) {
            long d = (long) nextAvail * DESC_SIZE;
            int flags = (deviceWritable[i] ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0) | availFlags();
            mem.set(U64, d + DESC_ADDR, iovas[i]);
            mem.set(U32, d + DESC_LEN, lengths[i]);
            mem.set(U16, d + DESC_ID, (short) id);
            if (i == 0) {
                headFlags = flags;
            } else {
                mem.set(U16, d + DESC_FLAGS, (short) flags);
            }
            if (deviceWritable[i]) {
                w += lengths[i];
            }
            advanceAvail();
        }
        tokens[id] = token;
        chainLength[id] = n;
        writable[id] = w;
        inFlight[id] = true;
        numFree -= n;
        U16_VH.setRelease(mem, head + DESC_FLAGS, (short) headFlags);
        added += n;
        return true;
    }

    private void advanceAvail() {
        if (++nextAvail == size) {
            nextAvail = 0;
            availWrap = !availWrap;
        }
    }

    /** Descriptors are visible from {@link #add} on; this marks what the next {@link #kickNeeded} covers. */
    @Override
    public void publish() {
        published = added;
    }

    /**
     * Whether the device wants a notification for what was published since the last call (2.8.10): per the
     * device's event-suppression flags, ENABLE, DISABLE, or (with EVENT_IDX) DESC at a ring position and lap.
     */
    @Override
    public boolean kickNeeded() {
        long fresh = published - kicked;
        if (fresh == 0) {
            return false;
        }
        kicked = published;
        VarHandle.fullFence(); // our descriptors before the device's suppression word, or both may sleep
        int flags = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, deviceOff + EVENT_FLAGS)) & 3;
        if (flags != EVENT_F_DESC || !eventIdx) {
            return flags != EVENT_F_DISABLE;
        }
        if (fresh >= size) {
            return true;
        }
        int offWrap = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, deviceOff + EVENT_OFF_WRAP));
        int event = offWrap & 0x7FFF;
        boolean eventWrap = (offWrap >>> 15) != 0;
        // positions in one numbering that runs across the last lap: the event in the previous lap is "minus size"
        int now = nextAvail;
        int old = now - (int) fresh;
        if (eventWrap != availWrap) {
            event -= size;
        }
        return SplitVirtqueue.needEvent(event & 0xFFFF, now & 0xFFFF, old & 0xFFFF);
    }

    /** True when the descriptor at ring position {@code pos} was handed back in lap {@code wrap}. */
    private boolean isUsed(int pos, boolean wrap) {
        int flags = Short.toUnsignedInt((short) U16_VH.getAcquire(mem, (long) pos * DESC_SIZE + DESC_FLAGS));
        boolean avail = (flags & DESC_F_AVAIL) != 0;
        boolean used = (flags & DESC_F_USED) != 0;
        return avail == used && used == wrap;
    }

    /** Checks the used descriptor at {@code pos}: returns its buffer id. */
    private int usedId(int pos) {
        long d = (long) pos * DESC_SIZE;
        int id = Short.toUnsignedInt(mem.get(U16, d + DESC_ID));
        if (id >= size || !inFlight[id]) {
            fail("used descriptor at " + pos + " names buffer id " + id
                    + (id < size ? ", which is not outstanding" : ", outside the queue of " + size));
        }
        return id;
    }

    @Override
    public int usedCount() {
        checkUsable();
        if (inOrder) {
            return usedCountInOrder();
        }
        int pos = nextUsed;
        boolean wrap = usedWrap;
        int outstanding = size - numFree;
        int n = 0;
        int descs = 0;
        while (descs < outstanding && isUsed(pos, wrap)) {
            int c = chainLength[usedId(pos)];
            descs += c;
            n++;
            pos += c;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        return n;
    }

    /** In order: whole batches from their head descriptors (the rest of a batch keeps its old flags). */
    private int usedCountInOrder() {
        int pos = nextUsed;
        boolean wrap = usedWrap;
        int outstanding = size - numFree;
        int n = 0;
        if (batchLast >= 0) { // the rest of a batch a poll took part of
            n = distance(pos, batchLast) + 1;
            pos += n;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        while (n < outstanding && isUsed(pos, wrap)) {
            int k = batchSize(pos, outstanding - n);
            n += k;
            pos += k;
            if (pos >= size) {
                pos -= size;
                wrap = !wrap;
            }
        }
        return n;
    }

    /** Positions from {@code from} forward to {@code to} (0 when equal). */
    private int distance(int from, int to) {
        int d = to - from;
        return d < 0 ? d + size : d;
    }

    /** In order: the buffers the used descriptor at {@code pos} returns, checked against {@code left} outstanding. */
    private int batchSize(int pos, int left) {
        int id = Short.toUnsignedInt(mem.get(U16, (long) pos * DESC_SIZE + DESC_ID));
        if (id >= size || distance(pos, id) >= left) {
            fail("used descriptor at " + pos + " names buffer id " + id + (id < size ? ", beyond the " + left
                    + " buffers outstanding from there in order" : ", outside the queue of " + size));
        }
        return distance(pos, id) + 1;
    }

    @Override
    public int poll(long[] tokensOut, int[] lengthsOut, int off, int max) {
        checkUsable();
        if (inOrder) {
            return pollInOrder(tokensOut, lengthsOut, off, max);
        }
        int n = 0;
        while (n < max && numFree < size && isUsed(nextUsed, usedWrap)) {
            int id = usedId(nextUsed);
            // the length counts for a buffer we offered as device-writable: QEMU never sets WRITE in used
            // descriptors, DPDK's vhost does; Linux and DPDK's PMD read it whatever the flag (2.8.4 reserves it
            // only for buffers the device could not write)
            long d = (long) nextUsed * DESC_SIZE;
            int len = writable[id] > 0 ? mem.get(U32, d + DESC_LEN) : 0;
            if (len < 0 || len > writable[id]) {
                // the buffer is ours again (an outstanding id), only its contents are not to be trusted: the caller
                // drops it (length -1) and counts it, the queue goes on
                badLengths++;
                len = -1;
            }
            tokensOut[off + n] = tokens[id];
            lengthsOut[off + n] = len;
            int c = chainLength[id];
            release(id);
            nextUsed += c;
            if (nextUsed >= size) {
                nextUsed -= size;
                usedWrap = !usedWrap;
            }
            n++;
        }
        return n;
    }

    private int pollInOrder(long[] tokensOut, int[] lengthsOut, int off, int max) {
        int n = 0;
        while (n < max && numFree < size) {
            int pos = nextUsed;
            if (batchLast < 0) {
                if (!isUsed(pos, usedWrap)) {
                    break;
                }
                int k = batchSize(pos, size - numFree);
                batchLast = pos + k - 1 >= size ? pos + k - 1 - size : pos + k - 1;
                long d = (long) pos * DESC_SIZE;
                int last = pos + k - 1 >= size ? pos + k - 1 - size : pos + k - 1;
                batchLen = writable[last] > 0 ? mem.get(U32, d + DESC_LEN) : 0; // as in poll: the flag is not needed
            }
            int len;
            if (pos == batchLast) {
                batchLast = -1;
                len = batchLen;
                if (len < 0 || len > writable[pos]) {
                    badLengths++;
                    len = -1;
                }
            } else {
                len = writable[pos]; // inside a batch: no used descriptor of its own
            }
            tokensOut[off + n] = tokens[pos];
            lengthsOut[off + n] = len;
            inFlight[pos] = false;
            numFree++;
            if (++nextUsed == size) {
                nextUsed = 0;
                usedWrap = !usedWrap;
            }
            n++;
        }
        return n;
    }

    /** Used descriptors whose length exceeded what their buffer offered (polled with length -1). */
    @Override
    public long badLengths() {
        return badLengths;
    }

    private void release(int id) {
        inFlight[id] = false;
        numFree += chainLength[id];
        if (!inOrder) { // in order, ids are positions: no stack
            freeIds[freeIdCount++] = id;
        }
    }

    @Override
    public void disableInterrupts() {
        U16_VH.setRelease(mem, driverOff + EVENT_FLAGS, (short) EVENT_F_DISABLE);
    }

    @Override
    public void enableInterrupts() {
        U16_VH.setRelease(mem, driverOff + EVENT_FLAGS, (short) EVENT_F_ENABLE);
        VarHandle.fullFence();
    }

    @Override
    public int drainOutstanding(long[] tokensOut) {
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (inFlight[i]) {
                tokensOut[n++] = tokens[i];
                release(i);
            }
        }
        batchLast = -1;
        return n;
    }

    private void checkUsable() {
        if (broken != null) {
            throw new VirtioException("virtqueue " + index + " is broken: " + broken + "; reset the device");
        }
    }

    private void fail(String what) {
        broken = "the device broke the packed-ring rules: " + what;
        throw new VirtioException("virtqueue " + index + ": " + broken + "; reset the device");
    }

    @Override
    public String toString() {
        return "PackedVirtqueue[" + index + ", size " + size + ", avail " + nextAvail + (availWrap ? "/1" : "/0")
                + ", used " + nextUsed + (usedWrap ? "/1" : "/0") + ", free " + numFree + (eventIdx ? ", event-idx" : "")
                + (inOrder ? ", in order" : "") + ", bad lengths " + badLengths + "]";
    }
}
