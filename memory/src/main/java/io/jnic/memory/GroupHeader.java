package io.jnic.memory;

import static io.jnic.memory.GroupLayout.*;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The group header's own fields (offsets 0..511, package documentation "The group header"): written once by the
 * creator, magic last, and validated field by field by every attacher before it trusts the tables behind them.
 * Also the fixed-size string fields that the header and its tables share.
 */
final class GroupHeader {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private GroupHeader() {
    }

    /**
     * Writes a new group's header fields and IOVA allocator, then the magic with release: an attacher that sees
     * the magic sees a complete header.
     */
    static void init(MemorySegment header, MemoryConfig config, long headerSize, byte[] dataDirBytes) {
        header.set(ValueLayout.JAVA_INT, H_VERSION, VERSION);
        header.set(ValueLayout.JAVA_INT, H_SIZE, (int) headerSize);
        header.set(ValueLayout.JAVA_INT, H_STATE, STATE_LIVE);
        header.set(ValueLayout.JAVA_INT, H_IOVA_MODE, config.iovaMode().code());
        header.set(ValueLayout.JAVA_INT, H_BACKING, config.backing().code());
        header.set(ValueLayout.JAVA_INT, H_PAGE_SHIFT, config.pageSize().shift());
        header.set(ValueLayout.JAVA_INT, H_MAX_SEGMENTS, config.maxSegments());
        header.set(ValueLayout.JAVA_INT, H_MAX_MEMZONES, config.maxMemzones());
        header.set(ValueLayout.JAVA_INT, H_SEGMENT_TABLE, (int) GroupLayout.segmentTableOffset());
        header.set(ValueLayout.JAVA_INT, H_MEMZONE_TABLE, (int) GroupLayout.memzoneTableOffset(config.maxSegments()));
        header.set(ValueLayout.JAVA_INT, H_CREATOR_PID, Proc.getpid());
        header.set(ValueLayout.JAVA_LONG, H_CREATED_NANOS, Proc.clockGettime(Proc.CLOCK_REALTIME));
        putString(header, H_PREFIX, PREFIX_BYTES, config.filePrefix().getBytes(StandardCharsets.US_ASCII));
        putString(header, H_DATA_DIR, DATA_DIR_BYTES, dataDirBytes);
        new IovaAllocator(header.asSlice(H_IOVA_NEXT, IovaAllocator.SIZE)).init(config.iovaBase(), config.iovaLimit());
        LONG.setRelease(header, H_MAGIC, MAGIC);
    }

    /** Marks the group dead: attachers that open the header from now on are refused (its files are going). */
    static void markDead(MemorySegment header) {
        INT.setRelease(header, H_STATE, STATE_DEAD);
    }

    /** Validates a header and returns the configuration it describes. */
    static MemoryConfig read(MemoryConfig asked, MemorySegment h, long size, String where) {
        long magic = (long) LONG.getAcquire(h, H_MAGIC);
        if (magic == 0) {
            throw new MemoryException(Reason.GROUP_MISSING, where + " is not initialised yet: its creator has not"
                    + " finished creating the group, or died doing so (start the primary again)");
        }
        if (magic != MAGIC) {
            throw new MemoryException(Reason.INCOMPATIBLE, where + " is not a jnic memory group header: magic 0x"
                    + Long.toHexString(magic) + ", expected 0x" + Long.toHexString(MAGIC) + " (\"JNICMEM1\")");
        }
        int version = h.get(ValueLayout.JAVA_INT, H_VERSION);
        if (version != VERSION) {
            throw new MemoryException(Reason.INCOMPATIBLE, where + " has layout version " + version + ", this build of"
                    + " jnic reads version " + VERSION + ": run the same jnic version in every process of the group");
        }
        if ((int) INT.getAcquire(h, H_STATE) == STATE_DEAD) {
            throw new MemoryException(Reason.GROUP_MISSING, where + " belongs to a group that is being torn down"
                    + " (its last process closed it): create the group again");
        }
        int maxSegments = h.get(ValueLayout.JAVA_INT, H_MAX_SEGMENTS);
        int maxMemzones = h.get(ValueLayout.JAVA_INT, H_MAX_MEMZONES);
        if (maxSegments < 1 || maxSegments > MemoryConfig.LIMIT_SEGMENTS || maxMemzones < 1
                || maxMemzones > MemoryConfig.LIMIT_MEMZONES
                || h.get(ValueLayout.JAVA_INT, H_SIZE) != size
                || GroupLayout.headerSize(maxSegments, maxMemzones) != size
                || h.get(ValueLayout.JAVA_INT, H_SEGMENT_TABLE) != GroupLayout.segmentTableOffset()
                || h.get(ValueLayout.JAVA_INT, H_MEMZONE_TABLE) != GroupLayout.memzoneTableOffset(maxSegments)) {
            throw corrupted(where + ": table capacities (" + maxSegments + " segments, " + maxMemzones
                    + " memzones) or offsets do not match its size of " + size + " bytes");
        }
        int shift = h.get(ValueLayout.JAVA_INT, H_PAGE_SHIFT);
        PageSize pageSize = pageSizeOfShift(shift, where + ": page shift");
        IovaMode mode = IovaMode.ofCode(h.get(ValueLayout.JAVA_INT, H_IOVA_MODE));
        Backing backing = Backing.ofCode(h.get(ValueLayout.JAVA_INT, H_BACKING));
        String prefix = getString(h, H_PREFIX, PREFIX_BYTES, where + ": file prefix");
        if (!prefix.equals(asked.filePrefix())) {
            throw new MemoryException(Reason.INCOMPATIBLE, where + " belongs to group '" + prefix + "', not '"
                    + asked.filePrefix() + "'");
        }
        String dataDir = getString(h, H_DATA_DIR, DATA_DIR_BYTES, where + ": data dir");
        if (backing == Backing.FILE && !dataDir.startsWith("/")) {
            throw corrupted(where + ": data dir '" + dataDir + "' is not an absolute path");
        }
        if (mode == IovaMode.PHYSICAL && !pageSize.isHuge()) {
            throw corrupted(where + ": IOVA mode PHYSICAL with 4 KB pages");
        }
        MemoryConfig.Builder b = asked.toBuilder().pageSize(pageSize).iovaMode(mode).backing(backing).size(0)
                .maxSegments(maxSegments).maxMemzones(maxMemzones);
        if (backing == Backing.FILE) {
            if (pageSize.isHuge()) {
                b.hugeDir(Path.of(dataDir));
            } else {
                b.runtimeDir(Path.of(dataDir));
                // the header stays where it was found
                if (!Path.of(dataDir).equals(asked.runtimeDir().toAbsolutePath().normalize())) {
                    throw corrupted(where + ": a 4 KB FILE group keeps its segments beside its header, but the"
                            + " header names data dir " + dataDir);
                }
            }
        }
        return b.build();
    }

    private static PageSize pageSizeOfShift(int shift, String what) {
        for (PageSize p : PageSize.values()) {
            if (p.shift() == shift) {
                return p;
            }
        }
        throw corrupted(what + " " + shift + " is none of 12, 21, 30");
    }

    static MemoryException corrupted(String what) {
        return new MemoryException(Reason.CORRUPTED, what + ": the shared table is corrupted (nothing was changed;"
                + " restart the group)");
    }

    /** Writes {@code bytes} NUL-terminated into a fixed-size field, the rest zeroed. */
    static void putString(MemorySegment m, long at, int capacity, byte[] bytes) {
        if (bytes.length >= capacity) {
            throw new IllegalArgumentException("'" + new String(bytes, StandardCharsets.UTF_8) + "' is longer than "
                    + (capacity - 1) + " bytes");
        }
        MemorySegment dst = m.asSlice(at, capacity);
        dst.fill((byte) 0);
        MemorySegment.copy(bytes, 0, dst, ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    /** A NUL-terminated string from a fixed-size shared field; CORRUPTED when the NUL is missing. */
    static String getString(MemorySegment m, long at, int capacity, String what) {
        for (int i = 0; i < capacity; i++) {
            if (m.get(ValueLayout.JAVA_BYTE, at + i) == 0) {
                byte[] b = new byte[i];
                MemorySegment.copy(m, ValueLayout.JAVA_BYTE, at, b, 0, i);
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw corrupted(what + " is not NUL-terminated within " + capacity + " bytes");
    }
}
