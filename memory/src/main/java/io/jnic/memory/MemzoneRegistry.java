package io.jnic.memory;

import static io.jnic.memory.GroupHeader.corrupted;
import static io.jnic.memory.GroupLayout.*;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.memory.SegmentTable.Entry;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The shared memzone table (DPDK's rte_memzone list; package documentation, "Memzone table entry"): named
 * ranges bump-allocated from live segments under the group's {@link SharedLock} and published by a release store
 * of the count, found by name without locking. Memzones are never freed. Every entry read back is checked
 * against the segment it names before a {@link Memzone} is made of it.
 */
final class MemzoneRegistry {
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Object monitor;
    private final MemorySegment header;
    private final long zoneTable;
    private final int maxMemzones;
    private final String prefix;
    private final PageSize pageSize;
    private final SegmentTable table;
    private final LocalSegments local;
    private final SharedLock lock;
    private final Duration lockTimeout;

    MemzoneRegistry(Object monitor, MemorySegment header, int maxSegments, int maxMemzones, String prefix,
            PageSize pageSize, SegmentTable table, LocalSegments local, SharedLock lock, Duration lockTimeout) {
        this.monitor = monitor;
        this.header = header;
        this.zoneTable = GroupLayout.memzoneTableOffset(maxSegments);
        this.maxMemzones = maxMemzones;
        this.prefix = prefix;
        this.pageSize = pageSize;
        this.table = table;
        this.local = local;
        this.lock = lock;
        this.lockTimeout = lockTimeout;
    }

    /** Published entries; CORRUPTED when the stored count is outside the table. */
    int count() {
        int n = (int) INT.getAcquire(header, H_MEMZONE_COUNT);
        if (n < 0 || n > maxMemzones) {
            throw corrupted("group '" + prefix + "': memzone count " + n + " is outside 0.." + maxMemzones);
        }
        return n;
    }

    /** See {@link MemoryGroup#reserve(String, long, long)}. */
    Memzone reserve(String name, long size, long align) {
        checkName(name);
        if (size <= 0 || size > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("memzone '" + name + "': size " + size + " outside 1.." + MAX_SEGMENT_SIZE);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > pageSize.bytes()) {
            throw new IllegalArgumentException("memzone '" + name + "': alignment " + align + " must be a power of two"
                    + " between 1 and the page size (" + pageSize.bytes() + ")");
        }
        synchronized (monitor) {
            local.ensureOpen();
            lock.lock(lockTimeout);
            try {
                int n = count();
                int existing = indexOf(name, n);
                if (existing >= 0) {
                    Memzone z = zoneAt(existing, n);
                    throw new MemoryException(Reason.EXISTS, "memzone '" + name + "' already exists (segment "
                            + z.segmentId() + ", offset 0x" + Long.toHexString(z.offset()) + ", " + z.length()
                            + " bytes): look it up with lookup(\"" + name + "\") or pick another name");
                }
                if (n >= maxMemzones) {
                    throw new MemoryException(Reason.OUT_OF_MEMORY, "the memzone table of group '" + prefix
                            + "' is full (" + maxMemzones + " memzones): create the group with a larger maxMemzones");
                }
                int segs = table.count();
                long largest = 0;
                for (int id = 0; id < segs; id++) {
                    Entry e = table.read(id);
                    if (e.state() != SegmentState.LIVE) {
                        continue; // a pending segment is handed out only once every process mapped it
                    }
                    long off = place(e.used(), size, align, pageSize, e.size());
                    if (off < 0) {
                        largest = Math.max(largest, e.size() - e.used());
                        continue;
                    }
                    DmaSegment seg = local.get(id);
                    long z = zoneTable + n * MEMZONE_ENTRY;
                    header.asSlice(z, MEMZONE_ENTRY).fill((byte) 0);
                    GroupHeader.putString(header, z + Z_NAME, MEMZONE_NAME_BYTES, name.getBytes(StandardCharsets.US_ASCII));
                    header.set(ValueLayout.JAVA_INT, z + Z_SEGMENT, id);
                    header.set(ValueLayout.JAVA_LONG, z + Z_OFFSET, off);
                    header.set(ValueLayout.JAVA_LONG, z + Z_LENGTH, size);
                    header.set(ValueLayout.JAVA_LONG, z + Z_ALIGN, align);
                    table.setUsed(id, off + size);
                    INT.setRelease(header, H_MEMZONE_COUNT, n + 1); // publish last
                    return new Memzone(n, name, seg, off, size, align);
                }
                throw new MemoryException(Reason.OUT_OF_MEMORY, "no segment of group '" + prefix + "' has room for"
                        + " memzone '" + name + "' (" + size + " bytes aligned to " + align + "; largest free tail: "
                        + largest + " bytes in " + segs + " segment(s)): add a segment (addSegment, or a larger -m)");
            } finally {
                lock.unlock();
            }
        }
    }

    /** Offset for a zone in a segment whose first {@code used} bytes are taken, or -1 when it does not fit. */
    static long place(long used, long length, long align, PageSize page, long segmentSize) {
        long off = (used + align - 1) & -align;
        long pageBytes = page.bytes();
        if (length <= pageBytes && (off >>> page.shift()) != ((off + length - 1) >>> page.shift())) {
            off = (off + pageBytes - 1) & -pageBytes;
        }
        return off > segmentSize || length > segmentSize - off ? -1 : off;
    }

    /** See {@link MemoryGroup#lookup(String)}. */
    Memzone lookup(String name) {
        return find(name).orElseThrow(() -> {
            int n = count();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < Math.min(n, 8); i++) {
                names.add(nameAt(i));
            }
            return new MemoryException(Reason.NOT_FOUND, "no memzone named '" + name + "' in memory group '" + prefix
                    + "' (" + n + " memzone(s)" + (n > 0 ? ": " + String.join(", ", names) + (n > 8 ? ", ..." : "")
                    : "") + ")");
        });
    }

    Optional<Memzone> find(String name) {
        checkName(name);
        local.ensureOpen();
        int n = count();
        int i = indexOf(name, n);
        return i < 0 ? Optional.empty() : Optional.of(zoneAt(i, n));
    }

    List<Memzone> list() {
        local.ensureOpen();
        int n = count();
        List<Memzone> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(zoneAt(i, n));
        }
        return out;
    }

    /** Names of the memzones that live in segment {@code segmentId}, quoted (for a refusal to retire it). */
    List<String> usersOf(int segmentId) {
        int n = count();
        List<String> users = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (header.get(ValueLayout.JAVA_INT, zoneTable + i * MEMZONE_ENTRY + Z_SEGMENT) == segmentId) {
                users.add("'" + nameAt(i) + "'");
            }
        }
        return users;
    }

    private int indexOf(String name, int n) {
        byte[] want = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < n; i++) {
            long z = zoneTable + i * MEMZONE_ENTRY + Z_NAME;
            if (header.get(ValueLayout.JAVA_BYTE, z + want.length) != 0) {
                continue;
            }
            boolean same = true;
            for (int k = 0; k < want.length && same; k++) {
                same = header.get(ValueLayout.JAVA_BYTE, z + k) == want[k];
            }
            if (same) {
                return i;
            }
        }
        return -1;
    }

    private String nameAt(int i) {
        return GroupHeader.getString(header, zoneTable + i * MEMZONE_ENTRY + Z_NAME, MEMZONE_NAME_BYTES,
                "memzone entry " + i + " name");
    }

    private Memzone zoneAt(int i, int n) {
        long z = zoneTable + i * MEMZONE_ENTRY;
        String name = nameAt(i);
        int segId = header.get(ValueLayout.JAVA_INT, z + Z_SEGMENT);
        long off = header.get(ValueLayout.JAVA_LONG, z + Z_OFFSET);
        long len = header.get(ValueLayout.JAVA_LONG, z + Z_LENGTH);
        long align = header.get(ValueLayout.JAVA_LONG, z + Z_ALIGN);
        int segs = table.count();
        if (segId < 0 || segId >= segs) {
            throw corrupted("memzone '" + name + "' (entry " + i + " of " + n + ") refers to segment " + segId
                    + ", but group '" + prefix + "' has " + segs + " segment(s) (ids 0.." + (segs - 1) + ")");
        }
        Entry e = table.read(segId);
        if (e.state() != SegmentState.LIVE) {
            throw corrupted("memzone '" + name + "' (entry " + i + ") lives in segment " + segId + ", which is "
                    + e.state().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (off < 0 || len <= 0 || off > e.size() || len > e.size() - off || align <= 0 || Long.bitCount(align) != 1
                || (off & (align - 1)) != 0) {
            throw corrupted("memzone '" + name + "' (entry " + i + ") claims offset " + off + ", length " + len
                    + ", align " + align + " in segment " + segId + " of " + e.size() + " bytes");
        }
        return new Memzone(i, name, local.get(segId), off, len, align);
    }

    static void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("memzone name must not be empty");
        }
        if (name.length() > MEMZONE_NAME_BYTES - 1) {
            throw new IllegalArgumentException("memzone name '" + name + "' is " + name.length() + " characters; the"
                    + " limit is " + (MEMZONE_NAME_BYTES - 1) + " (as DPDK's RTE_MEMZONE_NAMESIZE)");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("memzone name '" + name + "' has character " + (int) c + " at "
                        + i + ": use printable ASCII without spaces");
            }
        }
    }
}
