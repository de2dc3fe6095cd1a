package io.jnic.memory;

import static io.jnic.memory.GroupHeader.corrupted;
import static io.jnic.memory.GroupLayout.*;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The shared segment table in the group header (package documentation, "Segment table entry"): its published
 * count, each entry read back with every field checked, and the writes that add an entry or change its state.
 * Writers hold the group's {@link SharedLock}; an entry is complete before the count that publishes it is stored
 * with release, and a state change is a release store. Readers take no lock.
 */
final class SegmentTable {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** A published entry, as read and checked by {@link #read(int)}. */
    record Entry(int id, long size, long iovaBase, long used, String name, SegmentState state) {
        boolean retired() {
            return state == SegmentState.RETIRED;
        }
    }

    private final MemorySegment header;
    private final String prefix;
    private final Backing backing;
    private final PageSize pageSize;
    private final int maxSegments;

    SegmentTable(MemorySegment header, String prefix, Backing backing, PageSize pageSize, int maxSegments) {
        this.header = header;
        this.prefix = prefix;
        this.backing = backing;
        this.pageSize = pageSize;
        this.maxSegments = maxSegments;
    }

    /** Published entries, retired ones included; CORRUPTED when the stored count is outside the table. */
    int count() {
        int n = (int) INT.getAcquire(header, H_SEGMENT_COUNT);
        if (n < 0 || n > maxSegments) {
            throw corrupted("group '" + prefix + "': segment count " + n + " is outside 0.." + maxSegments);
        }
        return n;
    }

    /** The stored count clamped to the table, for a last process removing files whatever the table says. */
    int countForCleanup() {
        int n = (int) INT.getAcquire(header, H_SEGMENT_COUNT);
        return Math.min(Math.max(n, 0), maxSegments);
    }

    int capacity() {
        return maxSegments;
    }

    private static long offset(int id) {
        return GroupLayout.segmentTableOffset() + id * SEGMENT_ENTRY;
    }

    private void checkId(int id) {
        int n = count();
        if (id < 0 || id >= n) {
            throw new MemoryException(Reason.NOT_FOUND, "segment id " + id + " is out of range: group '" + prefix
                    + "' has " + n + " segment(s)" + (n > 0 ? " (ids 0.." + (n - 1) + ")" : ""));
        }
    }

    /** A published segment-table entry, every field checked. */
    Entry read(int id) {
        checkId(id);
        long e = offset(id);
        String what = "segment table entry " + id + " of group '" + prefix + "'";
        int storedId = header.get(ValueLayout.JAVA_INT, e + S_ID);
        if (storedId != id) {
            throw corrupted(what + " claims id " + storedId);
        }
        Backing b = Backing.ofCode(header.get(ValueLayout.JAVA_INT, e + S_BACKING));
        if (b != backing) {
            throw corrupted(what + " is " + b + "-backed in a " + backing + "-backed group");
        }
        int shift = header.get(ValueLayout.JAVA_INT, e + S_PAGE_SHIFT);
        if (shift != pageSize.shift()) {
            throw corrupted(what + " has page shift " + shift + " in a group of " + pageSize + " pages");
        }
        long size = header.get(ValueLayout.JAVA_LONG, e + S_SIZE);
        if (size <= 0 || size > MAX_SEGMENT_SIZE || (size & (pageSize.bytes() - 1)) != 0) {
            throw corrupted(what + " has size " + size + ", not a positive multiple of " + pageSize.bytes());
        }
        long iova = header.get(ValueLayout.JAVA_LONG, e + S_IOVA_BASE);
        if (iova < 0 || iova > Long.MAX_VALUE - size) {
            throw corrupted(what + " has IOVA base 0x" + Long.toHexString(iova));
        }
        long used = header.get(ValueLayout.JAVA_LONG, e + S_USED);
        if (used < 0 || used > size) {
            throw corrupted(what + " has " + used + " bytes used of " + size);
        }
        String name = GroupHeader.getString(header, e + S_NAME, SEGMENT_NAME_BYTES, what + " file name");
        String expected = backing == Backing.FILE ? MemoryConfig.segmentFileName(prefix, id) : "";
        if (!name.equals(expected)) {
            throw corrupted(what + " names file '" + name + "' instead of '" + expected + "'");
        }
        int code = (int) INT.getAcquire(header, e + S_STATE);
        SegmentState state = SegmentState.ofCode(code);
        if (state == null) {
            throw corrupted(what + " has state " + code + ", none of 0 (live), 1 (retired), 2 (pending)");
        }
        return new Entry(id, size, iova, used, name, state);
    }

    /** {@link #read} that refuses a retired entry (a pending one is mapped: its hotplug needs that). */
    Entry readMappable(int id) {
        Entry e = read(id);
        if (e.retired()) {
            throw new MemoryException(Reason.RETIRED, "segment " + id + " of group '" + prefix + "' is retired (a"
                    + " memory hotplug that not every process could follow was rolled back): it cannot be mapped;"
                    + " use another segment");
        }
        return e;
    }

    /**
     * Writes entry {@code id} completely (not yet published: see {@link #publish}); {@code fileName} is null for a
     * memfd. The caller holds the group's lock.
     */
    void write(int id, long size, long iovaBase, SegmentState state, String fileName) {
        long e = offset(id);
        header.asSlice(e, SEGMENT_ENTRY).fill((byte) 0);
        header.set(ValueLayout.JAVA_INT, e + S_ID, id);
        header.set(ValueLayout.JAVA_INT, e + S_BACKING, backing.code());
        header.set(ValueLayout.JAVA_LONG, e + S_SIZE, size);
        header.set(ValueLayout.JAVA_INT, e + S_PAGE_SHIFT, pageSize.shift());
        header.set(ValueLayout.JAVA_INT, e + S_CREATOR_PID, Proc.getpid());
        header.set(ValueLayout.JAVA_LONG, e + S_IOVA_BASE, iovaBase);
        header.set(ValueLayout.JAVA_LONG, e + S_USED, 0L);
        header.set(ValueLayout.JAVA_INT, e + S_STATE, state.code());
        if (fileName != null) {
            GroupHeader.putString(header, e + S_NAME, SEGMENT_NAME_BYTES, fileName.getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** Publishes the first {@code count} entries (release): readers see them complete. */
    void publish(int count) {
        INT.setRelease(header, H_SEGMENT_COUNT, count);
    }

    /** Stores a published entry's new state with release. The caller holds the group's lock. */
    void setState(int id, SegmentState state) {
        INT.setRelease(header, offset(id) + S_STATE, state.code());
    }

    /** Stores how many bytes of segment {@code id} memzones took (plain: the memzone count publishes it). */
    void setUsed(int id, long used) {
        header.set(ValueLayout.JAVA_LONG, offset(id) + S_USED, used);
    }

    /**
     * IDENTITY mode: refuses a new segment whose virtual range, used as IOVA, overlaps a segment that another
     * process mapped at that address.
     */
    void checkIdentityOverlap(int id, long base, long size) {
        for (int i = 0; i < id; i++) {
            Entry o = read(i);
            if (!o.retired() && base < o.iovaBase + o.size && o.iovaBase < base + size) {
                throw new MemoryException(Reason.OUT_OF_MEMORY, "IDENTITY IOVA range [0x" + Long.toHexString(base)
                        + ", 0x" + Long.toHexString(base + size) + ") of a new segment overlaps segment " + i
                        + ", which another process mapped at that address: add segments from one process (the"
                        + " primary) in IDENTITY mode, or use ASSIGNED");
            }
        }
    }
}
