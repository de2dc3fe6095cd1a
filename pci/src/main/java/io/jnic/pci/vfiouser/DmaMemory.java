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
            this.generation = generation;
            this.fd = fd;
            this.fdOffset = fdOffset;
            this.iova = iova;
            this.size = memory.byteSize();
            this.writable = writable;
            this.segment = writable ? memory : memory.asReadOnly();
            this.owner = owner;
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

        /** The region's memory; byte 0 is at {@link #iova()}. */
        public MemorySegment segment() {
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
                    + (writable ? "" : " read-only");
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

    /** A view of {@code [iova, iova + length)} (allocates the view; data paths use {@link #find}). */
    public MemorySegment segment(long iova, long length) {
        Region r = region(iova, length, false);
        return r.segment.asSlice(iova - r.iova, length);
    }

    public short getShort(long iova) {
        Region r = region(iova, 2, false);
        return r.segment.get(LE_SHORT, iova - r.iova);
    }

    public int getInt(long iova) {
        Region r = region(iova, 4, false);
        return r.segment.get(LE_INT, iova - r.iova);
    }

    public long getLong(long iova) {
        Region r = region(iova, 8, false);
        return r.segment.get(LE_LONG, iova - r.iova);
    }

    public void putShort(long iova, short value) {
        Region r = region(iova, 2, true);
        r.segment.set(LE_SHORT, iova - r.iova, value);
    }

    public void putInt(long iova, int value) {
        Region r = region(iova, 4, true);
        r.segment.set(LE_INT, iova - r.iova, value);
    }

    public void putLong(long iova, long value) {
        Region r = region(iova, 8, true);
        r.segment.set(LE_LONG, iova - r.iova, value);
    }

    /** Copies {@code length} bytes at {@code iova} into {@code dst} at {@code dstOffset}. */
    public void read(long iova, MemorySegment dst, long dstOffset, long length) {
        Region r = region(iova, length, false);
        MemorySegment.copy(r.segment, iova - r.iova, dst, dstOffset, length);
    }

    /** Copies {@code length} bytes of {@code src} from {@code srcOffset} to {@code iova}. */
    public void write(long iova, MemorySegment src, long srcOffset, long length) {
        Region r = region(iova, length, true);
        MemorySegment.copy(src, srcOffset, r.segment, iova - r.iova, length);
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
        long size = memory.byteSize();
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
        Region added = new Region(iova, memory, writable, owner, generation, fd, fdOffset);
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
