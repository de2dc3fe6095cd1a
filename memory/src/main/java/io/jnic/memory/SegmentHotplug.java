package io.jnic.memory;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.memory.SegmentTable.Entry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The states a hotplugged segment goes through once it is in the table (package documentation, "Adding segments
 * to a live group"): pending to live when every process mapped it ({@link #commit}), to retired when one could not
 * ({@link #retire}, the adder), and the others dropping a retired segment ({@link #detach}). State changes are
 * release stores under the group's {@link SharedLock}; a retired entry is never mapped or reused again.
 */
final class SegmentHotplug {
    private static final System.Logger LOG = System.getLogger(MemoryGroup.class.getName());

    private final Object monitor;
    private final String prefix;
    private final Path dataDir;
    private final SegmentTable table;
    private final LocalSegments local;
    private final MemzoneRegistry memzones;
    private final SharedLock lock;
    private final Duration lockTimeout;

    /** {@code dataDir} is null for a MEMFD group (no files to unlink). */
    SegmentHotplug(Object monitor, String prefix, Path dataDir, SegmentTable table, LocalSegments local,
            MemzoneRegistry memzones, SharedLock lock, Duration lockTimeout) {
        this.monitor = monitor;
        this.prefix = prefix;
        this.dataDir = dataDir;
        this.table = table;
        this.local = local;
        this.memzones = memzones;
        this.lock = lock;
        this.lockTimeout = lockTimeout;
    }

    /** See {@link MemoryGroup#commitSegment(int)}. */
    void commit(int id) {
        synchronized (monitor) {
            local.ensureOpen();
            lock.lock(lockTimeout);
            try {
                Entry e = table.readMappable(id);
                if (e.state() != SegmentState.PENDING) {
                    throw new IllegalStateException("segment " + id + " of group '" + prefix + "' is live already:"
                            + " only a segment added with addPendingSegment is committed");
                }
                table.setState(id, SegmentState.LIVE);
            } finally {
                lock.unlock();
            }
        }
    }

    /** See {@link MemoryGroup#retireSegment(int)}. */
    void retire(int id) {
        DmaSegment mine;
        Path path;
        synchronized (monitor) {
            local.ensureOpen();
            lock.lock(lockTimeout);
            try {
                Entry e = table.read(id);
                if (e.retired()) {
                    throw new MemoryException(Reason.RETIRED, "segment " + id + " of group '" + prefix + "' is already"
                            + " retired: nothing to do");
                }
                List<String> users = memzones.usersOf(id);
                if (!users.isEmpty() || e.used() != 0) {
                    throw new MemoryException(Reason.IN_USE, "segment " + id + " of group '" + prefix + "' cannot be"
                            + " retired: " + (users.isEmpty() ? e.used() + " bytes of it are reserved"
                                    : "memzone(s) " + String.join(", ", users) + " live in it")
                            + " (memzones are never freed, so only a segment nobody reserved from can be retired)");
                }
                table.setState(id, SegmentState.RETIRED);
                path = dataDir != null ? dataDir.resolve(e.name()) : null;
            } finally {
                lock.unlock();
            }
            mine = local.drop(id);
        }
        if (mine != null) {
            LocalSegments.release(mine);
        }
        if (path != null) {
            GroupFiles.unlinkQuietly(path); // after the state: a late attacher sees "retired" rather than a missing file
        }
        LOG.log(System.Logger.Level.INFO, "retired segment {0,number,#} of memory group {1}", id, prefix);
    }

    /** See {@link MemoryGroup#detachSegment(int)}. */
    boolean detach(int id) {
        DmaSegment mine;
        synchronized (monitor) {
            local.ensureOpen();
            if (!table.read(id).retired()) {
                throw new MemoryException(Reason.IN_USE, "segment " + id + " of group '" + prefix + "' is live: only a"
                        + " retired segment can be detached (live segments stay mapped until the group is closed)");
            }
            mine = local.drop(id);
        }
        if (mine == null) {
            return false;
        }
        LocalSegments.release(mine);
        return true;
    }
}
