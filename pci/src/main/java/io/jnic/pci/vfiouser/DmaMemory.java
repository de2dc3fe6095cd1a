package io.jnic.pci.vfiouser;

import io.jnic.sys.Io;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The client memory a device may reach by DMA: IOVA ranges registered with VFIO_USER_DMA_MAP, each backed
 * by a mapping of the descriptor the client sent. A device model translates an IOVA with {@link #find}
 * (no allocation: a binary search over a small sorted array behind a last-hit cache) and reads or writes
 * through the region's segment, or uses the little-endian accessors here, which check that the whole
 * access lies inside one mapped region and that the region is writable.
 *
 * <p>A region the client mapped without a descriptor (the spec's "VFIO_USER_DMA_MAP": "if the DMA region
 * cannot be directly mapped by the server, no file descriptor must be sent") has no segment here
 * ({@link Region#mapped()} is false): the accessors of this class reach it through the server's
 * VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE messages ({@link Remote}), one round trip per call, so a model
 * that uses {@link #find} and {@link Region#segment()} directly must check {@link Region#mapped()} first.
 *
 * <p>Lookups may run on any thread (the model's device threads) while the server thread maps and unmaps:
 * the table is replaced copy-on-write and published through a volatile field. An unmapped region's memory
 * belongs to a shared arena that is closed on unmap, so a device thread still holding the region gets an
 * {@link IllegalStateException}, never a fault on unmapped memory.
 */
public final class DmaMemory {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final System.Logger LOG = System.getLogger(DmaMemory.class.getName());

    /** Reaches regions without a mapping: the server's DMA_READ / DMA_WRITE messages to the client. */
    public interface Remote {
        /** Copies {@code length} bytes of client memory at {@code iova} into {@code dst} at {@code dstOffset}. */
        void read(long iova, MemorySegment dst, long dstOffset, long length);

        /** Copies {@code length} bytes of {@code src} from {@code srcOffset} to client memory at {@code iova}. */
        void write(long iova, MemorySegment src, long srcOffset, long length);
    }

    /** One mapped IOVA range. Immutable; {@link #segment()} is read-only unless the client allowed writes. */
    public static final class Region {
        private final long iova;
        private final long size;
        private final boolean writable;
        private final MemorySegment segment;
        private final Arena owner; // null when the memory is not ours to unmap (client side)
        private final long generation;
        private final int fd;         // the file behind the memory (server side, closed with owner), or -1
        private final long fdOffset;

        Region(long iova, MemorySegment memory, boolean writable, Arena owner, long generation, int fd, long fdOffset) {
            this(iova, memory.byteSize(), memory, writable, owner, generation, fd, fdOffset);
        }

        /** {@code memory} null: a region reached only through messages. */
        Region(long iova, long size, MemorySegment memory, boolean writable, Arena owner, long generation, int fd,
                long fdOffset) {
            this.generation = generation;
            this.fd = fd;
            this.fdOffset = fdOffset;
            this.iova = iova;
            this.size = size;
            this.writable = writable;
            this.segment = memory == null ? null : writable ? memory : memory.asReadOnly();
            this.owner = owner;
        }

        /**
         * True when the region's memory is mapped here ({@link #segment()} usable); false for a region the
         * client mapped without a descriptor, reached through DMA_READ / DMA_WRITE messages.
         */
        public boolean mapped() {
            return segment != null;
        }

        public long iova() {
            return iova;
        }

        public long size() {
            return size;
        }

        /** One past the last IOVA (may be 0 for a region that ends at 2^64). */
        public long end() {
            return iova + size;
        }

        public boolean writable() {
            return writable;
        }

        /**
         * The connection that mapped this region (server side: 1 for the first client, 2 for the next, ...;
         * 0 on the client side). A region of an earlier connection outlived its client.
         */
        public long generation() {
            return generation;
        }

        /**
         * The region's memory; byte 0 is at {@link #iova()}. Throws for a region that is not {@link #mapped()}.
         */
        public MemorySegment segment() {
            if (segment == null) {
                throw new IllegalStateException("DMA region " + this + " has no mapping here (the client sent no "
                        + "descriptor): reach it through DmaMemory's accessors, which use DMA_READ/DMA_WRITE messages");
            }
            return segment;
        }

        /**
         * False when the file behind this region no longer covers it (the client shrank it: touching the
         * memory faults). Always true when the region has no file of ours to check (client side).
         */
        public boolean intact() {
            if (fd < 0) {
                return true;
            }
            try {
                return Io.fileSize(fd) - fdOffset >= size;
            } catch (RuntimeException e) {
                return false;
            }
        }

        /** True when {@code [address, address + length)} lies inside this region. */
        public boolean contains(long address, long length) {
            long off = address - iova;
            return length >= 0 && Long.compareUnsigned(off, size) < 0 && Long.compareUnsigned(length, size - off) <= 0;
        }

        @Override
        public String toString() {
            return "[0x" + Long.toHexString(iova) + ", 0x" + Long.toHexString(iova + size) + ")"
                    + (writable ? "" : " read-only") + (segment == null ? " by messages" : "");
        }
    }

    private static final class Table {
        final Region[] regions; // sorted by iova, never overlapping
        Region last;            // racy cache: any value it holds is a region of this table

        Table(Region[] regions) {
            this.regions = regions;
        }
    }

    private final int maxRegions;
    private volatile Table table = new Table(new Region[0]);
    private volatile Remote remote;

    public DmaMemory(int maxRegions) {
        this.maxRegions = maxRegions;
    }

    /** The region holding all of {@code [iova, iova + length)}, or null. Allocation-free. */
    public Region find(long iova, long length) {
        Table t = table;
        Region r = t.last;
        if (r != null && r.contains(iova, length)) {
            return r;
        }
        Region[] rs = t.regions;
        int lo = 0;
        int hi = rs.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Region m = rs[mid];
            if (Long.compareUnsigned(iova, m.iova) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(iova - m.iova, m.size) >= 0) {
                lo = mid + 1;
            } else {
                if (m.contains(iova, length)) {
                    t.last = m;
                    return m;
                }
                return null;
            }
        }
        return null;
    }

    /** Like {@link #find} but throws naming the range when it is not mapped (or not writable when asked). */
    public Region region(long iova, long length, boolean write) {
        Region r = find(iova, length);
        if (r == null) {
            throw new IllegalArgumentException("DMA to [0x" + Long.toHexString(iova) + ", +" + length
                    + ") outside the memory the client mapped " + Arrays.toString(table.regions));
        }
        if (write && !r.writable) {
            throw new IllegalArgumentException("DMA write to [0x" + Long.toHexString(iova) + ", +" + length
                    + ") in read-only region " + r);
        }
        return r;
    }

    /**
     * A view of {@code [iova, iova + length)} (allocates the view; data paths use {@link #find}). Only for
     * {@link Region#mapped() mapped} regions: message-only memory has no view.
     */
    public MemorySegment segment(long iova, long length) {
        Region r = region(iova, length, false);
        return r.segment().asSlice(iova - r.iova, length);
    }

    /** Sets how regions without a mapping are reached (the server sets its DMA_READ / DMA_WRITE messages). */
    void remote(Remote remote) {
        this.remote = remote;
    }

    private Remote remote(Region r) {
        Remote x = remote;
        if (x == null) {
            throw new IllegalStateException("DMA region " + r + " has no mapping and nothing reaches it by messages");
        }
        return x;
    }

    public short getShort(long iova) {
        Region r = region(iova, 2, false);
        return r.segment != null ? r.segment.get(LE_SHORT, iova - r.iova) : viaMessages(r, iova, 2).get(LE_SHORT, 0);
    }

    public int getInt(long iova) {
        Region r = region(iova, 4, false);
        return r.segment != null ? r.segment.get(LE_INT, iova - r.iova) : viaMessages(r, iova, 4).get(LE_INT, 0);
    }

    public long getLong(long iova) {
        Region r = region(iova, 8, false);
        return r.segment != null ? r.segment.get(LE_LONG, iova - r.iova) : viaMessages(r, iova, 8).get(LE_LONG, 0);
    }

    private MemorySegment viaMessages(Region r, long iova, int length) {
        MemorySegment tmp = MemorySegment.ofArray(new long[1]);
        remote(r).read(iova, tmp, 0, length);
        return tmp;
    }

    public void putShort(long iova, short value) {
        Region r = region(iova, 2, true);
        if (r.segment != null) {
            r.segment.set(LE_SHORT, iova - r.iova, value);
        } else {
            MemorySegment tmp = MemorySegment.ofArray(new long[1]);
            tmp.set(LE_SHORT, 0, value);
            remote(r).write(iova, tmp, 0, 2);
        }
    }

    public void putInt(long iova, int value) {
        Region r = region(iova, 4, true);
        if (r.segment != null) {
            r.segment.set(LE_INT, iova - r.iova, value);
        } else {
            MemorySegment tmp = MemorySegment.ofArray(new long[1]);
            tmp.set(LE_INT, 0, value);
            remote(r).write(iova, tmp, 0, 4);
        }
    }

    public void putLong(long iova, long value) {
        Region r = region(iova, 8, true);
        if (r.segment != null) {
            r.segment.set(LE_LONG, iova - r.iova, value);
        } else {
            MemorySegment tmp = MemorySegment.ofArray(new long[1]);
            tmp.set(LE_LONG, 0, value);
            remote(r).write(iova, tmp, 0, 8);
        }
    }

    /** Copies {@code length} bytes at {@code iova} into {@code dst} at {@code dstOffset}. */
    public void read(long iova, MemorySegment dst, long dstOffset, long length) {
        Region r = region(iova, length, false);
        if (r.segment != null) {
            MemorySegment.copy(r.segment, iova - r.iova, dst, dstOffset, length);
        } else {
            remote(r).read(iova, dst, dstOffset, length);
        }
    }

    /** Copies {@code length} bytes of {@code src} from {@code srcOffset} to {@code iova}. */
    public void write(long iova, MemorySegment src, long srcOffset, long length) {
        Region r = region(iova, length, true);
        if (r.segment != null) {
            MemorySegment.copy(src, srcOffset, r.segment, iova - r.iova, length);
        } else {
            remote(r).write(iova, src, srcOffset, length);
        }
    }

    public int regionCount() {
        return table.regions.length;
    }

    /** A snapshot of the mapped regions, sorted by IOVA. */
    public Region[] regions() {
        return table.regions.clone();
    }

    /**
     * Adds {@code memory} at {@code iova}. {@code owner}, when not null, is the arena the memory belongs
     * to and is closed when the region goes away. Fails with EEXIST semantics on overlap.
     */
    synchronized Region add(long iova, MemorySegment memory, boolean writable, Arena owner) {
        return add(iova, memory, writable, owner, 0, -1, 0);
    }

    /**
     * {@link #add(long, MemorySegment, boolean, Arena)} for connection {@code generation} (server side), the
     * memory being {@code fd} from {@code fdOffset} ({@code fd} stays open as long as the region: owner closes it).
     */
    synchronized Region add(long iova, MemorySegment memory, boolean writable, Arena owner, long generation, int fd,
            long fdOffset) {
        return add(new Region(iova, memory, writable, owner, generation, fd, fdOffset));
    }

    /** A region of {@code size} bytes at {@code iova} reached only through messages (server side). */
    synchronized Region addUnmapped(long iova, long size, boolean writable, long generation) {
        return add(new Region(iova, size, null, writable, null, generation, -1, 0));
    }

    private Region add(Region added) {
        long iova = added.iova;
        long size = added.size;
        if (size <= 0 || Long.compareUnsigned(iova + size - 1, iova) < 0) {
            throw new IllegalArgumentException("DMA region at 0x" + Long.toHexString(iova) + " of " + size
                    + " bytes is empty or wraps around the address space");
        }
        Region[] rs = table.regions;
        if (rs.length >= maxRegions) {
            throw new IllegalStateException("already " + rs.length + " DMA regions (at most " + maxRegions + ")");
        }
        int at = 0;
        while (at < rs.length && Long.compareUnsigned(rs[at].iova, iova) < 0) {
            at++;
        }
        if ((at > 0 && overlaps(rs[at - 1], added)) || (at < rs.length && overlaps(rs[at], added))) {
            throw new DmaOverlapException("DMA region " + added + " overlaps one already mapped "
                    + Arrays.toString(rs));
        }
        Region[] next = new Region[rs.length + 1];
        System.arraycopy(rs, 0, next, 0, at);
        next[at] = added;
        System.arraycopy(rs, at, next, at + 1, rs.length - at);
        table = new Table(next);
        return added;
    }

    /** Removes the region that exactly matches {@code [iova, iova + size)}; null when there is none. */
    synchronized Region remove(long iova, long size) {
        Region[] rs = table.regions;
        for (int i = 0; i < rs.length; i++) {
            if (rs[i].iova == iova && rs[i].size == size) {
                Region[] next = new Region[rs.length - 1];
                System.arraycopy(rs, 0, next, 0, i);
                System.arraycopy(rs, i + 1, next, i, rs.length - i - 1);
                table = new Table(next);
                release(rs[i]);
                return rs[i];
            }
        }
        return null;
    }

    /**
     * The regions lying wholly inside {@code [iova, iova + size)} (what a VFIO type1 unmap of that range
     * removes), or null when a region is cut by either end of the range (type1 refuses to unmap part of one).
     */
    public Region[] inside(long iova, long size) {
        long last = iova + size - 1;
        Region[] over = overlapping(iova, size);
        for (Region r : over) {
            if (Long.compareUnsigned(r.iova, iova) < 0 || Long.compareUnsigned(r.iova + r.size - 1, last) > 0) {
                return null;
            }
        }
        return over;
    }

    /** The regions that share at least one byte with {@code [iova, iova + size)}, sorted by IOVA. */
    public Region[] overlapping(long iova, long size) {
        long last = iova + size - 1;
        return Arrays.stream(table.regions).filter(r -> size > 0 && Long.compareUnsigned(r.iova, last) <= 0
                && Long.compareUnsigned(iova, r.iova + r.size - 1) <= 0).toArray(Region[]::new);
    }

    /** Removes every region (server closing). */
    synchronized void clear() {
        Region[] rs = table.regions;
        table = new Table(new Region[0]);
        for (Region r : rs) {
            release(r);
        }
    }

    private static boolean overlaps(Region a, Region b) {
        return Long.compareUnsigned(a.iova, b.iova + b.size - 1) <= 0 && Long.compareUnsigned(b.iova, a.iova + a.size - 1) <= 0;
    }

    private static void release(Region r) {
        if (r.owner == null) {
            return;
        }
        // a device thread inside a native call with this memory keeps the arena acquired: retry briefly,
        // then leave the mapping in place rather than pull memory from under it
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                r.owner.close();
                return;
            } catch (IllegalStateException busy) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        LOG.log(System.Logger.Level.WARNING, "DMA region {0} still in use: left mapped", r);
    }

    /** An IOVA range that overlaps one already mapped (the server answers EEXIST). */
    static final class DmaOverlapException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        DmaOverlapException(String message) {
            super(message);
        }
    }
}
