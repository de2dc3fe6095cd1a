package io.jnic.memory;

import static io.jnic.memory.GroupHeader.corrupted;
import static io.jnic.memory.GroupLayout.MAX_SEGMENT_SIZE;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.memory.SegmentTable.Entry;
import io.jnic.sys.Errno;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.SysException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * This process's mappings of a group's segments: a new segment created, mapped and then published in the shared
 * {@link SegmentTable}; one that another process added mapped from its file or memfd; one dropped again. Also
 * whether this process's view of the group is still open.
 *
 * <p>Lookups read a copy-on-write array without locking; every change to it, and every mapping, runs under the
 * group's monitor (the {@link MemoryGroup} instance), so two threads never map one segment twice.
 */
final class LocalSegments {
    private static final System.Logger LOG = System.getLogger(MemoryGroup.class.getName());
    private static final int PROT_RW = Mman.PROT_READ | Mman.PROT_WRITE;

    private final Object monitor;
    private final SegmentTable table;
    private final String prefix;
    private final PageSize pageSize;
    private final IovaMode iovaMode;
    private final Backing backing;
    private final Path dataDir;
    private final MemoryGroup.SegmentFds fds;
    private final SharedLock lock;
    private final Duration lockTimeout;
    private final IovaAllocator iovas;
    private volatile DmaSegment[] segments;
    private boolean closed;
    private boolean lockWarned; // said once per group

    LocalSegments(Object monitor, SegmentTable table, MemoryConfig config, Path dataDir, MemoryGroup.SegmentFds fds,
            SharedLock lock, IovaAllocator iovas) {
        this.monitor = monitor;
        this.table = table;
        this.prefix = config.filePrefix();
        this.pageSize = config.pageSize();
        this.iovaMode = config.iovaMode();
        this.backing = config.backing();
        this.dataDir = dataDir;
        this.fds = fds;
        this.lock = lock;
        this.lockTimeout = config.lockTimeout();
        this.iovas = iovas;
        this.segments = new DmaSegment[table.capacity()];
    }

    // ---------------------------------------------------------------------------------------- open / closed

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("memory group '" + prefix + "' is closed");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** From here on every operation of the group throws; the caller releases the mappings. */
    void markClosed() {
        closed = true;
    }

    // ---------------------------------------------------------------------------------------- lookups

    /** This process's mapped segments, in id order. */
    List<DmaSegment> list() {
        List<DmaSegment> out = new ArrayList<>();
        for (DmaSegment s : segments) {
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** The segment with this id, mapped first when it can be (FILE, or MEMFD with a {@link MemoryGroup.SegmentFds}). */
    DmaSegment get(int id) {
        DmaSegment[] local = segments;
        if (id >= 0 && id < local.length && local[id] != null) {
            return local[id];
        }
        if (backing == Backing.MEMFD && fds == null) {
            table.readMappable(id);
            throw new MemoryException(Reason.NOT_ATTACHED, "segment " + id + " of group '" + prefix + "' is not"
                    + " mapped in this process: it was added after this process attached; call attachSegment(" + id
                    + ", fd) with its memfd (the multiproc layer does this when told a segment was added)");
        }
        return attach(id);
    }

    // ---------------------------------------------------------------------------------------- mapping

    /** Maps a segment another process added (FILE: by name; MEMFD: from the {@link MemoryGroup.SegmentFds}). */
    DmaSegment attach(int id) {
        synchronized (monitor) {
            ensureOpen();
            if (segments.length > id && id >= 0 && segments[id] != null) {
                return segments[id];
            }
            Entry e = table.readMappable(id);
            int fd;
            Path path = null;
            if (backing == Backing.FILE) {
                path = dataDir.resolve(e.name());
                try {
                    fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CLOEXEC);
                } catch (SysException x) {
                    throw new MemoryException(Reason.GROUP_MISSING, "segment " + id + " of group '" + prefix + "': cannot"
                            + " open " + path + " (" + x.getMessage() + ")", x);
                }
                try {
                    Io.flock(fd, Io.LOCK_SH);
                } catch (RuntimeException x) {
                    Io.closeQuietly(fd);
                    throw x;
                }
            } else {
                if (fds == null) {
                    throw new MemoryException(Reason.NOT_ATTACHED, "segment " + id + " of group '" + prefix + "' is a"
                            + " memfd: pass its descriptor with attachSegment(" + id + ", fd)");
                }
                fd = fds.open(id);
            }
            return map(e, fd, path);
        }
    }

    /** Maps a MEMFD segment from a descriptor received over IPC; takes ownership of {@code fd}. */
    DmaSegment attach(int id, int fd) {
        synchronized (monitor) {
            ensureOpen();
            if (segments.length > id && id >= 0 && segments[id] != null) {
                Io.closeQuietly(fd);
                return segments[id];
            }
            Entry e;
            try {
                e = table.readMappable(id);
            } catch (RuntimeException x) {
                Io.closeQuietly(fd);
                throw x;
            }
            return map(e, fd, backing == Backing.FILE ? dataDir.resolve(e.name()) : null);
        }
    }

    private DmaSegment map(Entry e, int fd, Path path) {
        MemorySegment mem = null;
        try {
            long actual = GroupFiles.fdSize(fd);
            if (actual < e.size()) {
                throw corrupted("segment " + e.id() + " of group '" + prefix + "' is " + actual + " bytes but the table"
                        + " says " + e.size() + " (" + (path != null ? path : "memfd") + "): refusing to map it (touching"
                        + " the missing part would kill the process with SIGBUS)");
            }
            mem = Mman.mmap(e.size(), PROT_RW, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            lockMemory(mem, e.id(), pageSize.isHuge());
            long[] pages = null;
            if (iovaMode == IovaMode.PHYSICAL) {
                pages = Pagemap.physicalAddresses(mem.address(), pageSize.bytes(), (int) (e.size() >>> pageSize.shift()));
                if (pages[0] != e.iovaBase()) {
                    throw corrupted("segment " + e.id() + " of group '" + prefix + "' starts at physical 0x"
                            + Long.toHexString(pages[0]) + " here but at 0x" + Long.toHexString(e.iovaBase())
                            + " in its creator: this is not the same memory (was the file replaced?)");
                }
            }
            DmaSegment s = new DmaSegment(e.id(), fd, pageSize, backing, path, mem, iovaMode,
                    iovaMode == IovaMode.PHYSICAL ? 0 : e.iovaBase(), pages);
            publish(s);
            return s;
        } catch (RuntimeException x) {
            if (mem != null) {
                Mman.munmap(mem);
            }
            Io.closeQuietly(fd);
            throw x;
        }
    }

    // ---------------------------------------------------------------------------------------- adding

    /** Creates, maps and publishes a new segment of at least {@code bytes}, in {@code state}. */
    DmaSegment add(long bytes, SegmentState state) {
        synchronized (monitor) {
            ensureOpen();
            if (bytes <= 0 || bytes > MAX_SEGMENT_SIZE) {
                throw new IllegalArgumentException("segment size " + bytes + " outside 1.." + MAX_SEGMENT_SIZE);
            }
            long size = pageSize.roundUp(bytes);
            if (pageSize.isHuge()) {
                Hugepages.checkAvailable(pageSize, size);
            }
            lock.lock(lockTimeout);
            try {
                int id = table.count();
                if (id >= table.capacity()) {
                    throw new MemoryException(Reason.OUT_OF_MEMORY, "the segment table of group '" + prefix + "' is full ("
                            + table.capacity() + " segments): create the group with a larger maxSegments, or larger"
                            + " segments");
                }
                return create(id, size, state);
            } finally {
                lock.unlock();
            }
        }
    }

    private DmaSegment create(int id, long size, SegmentState state) {
        String name = MemoryConfig.segmentFileName(prefix, id);
        Path path = backing == Backing.FILE ? dataDir.resolve(name) : null;
        int fd = -1;
        MemorySegment mem = null;
        try {
            // sealable: a device model that maps the segment (vfio-user server) may seal it against shrinking
            fd = path != null ? GroupFiles.createSegmentFile(path)
                    : Mman.memfdCreate(name, Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING | pageSize.memfdFlags());
            Io.ftruncate(fd, size);
            try {
                Io.fallocate(fd, 0, 0, size);
            } catch (SysException e) {
                if (e.errno() == Errno.ENOMEM || e.errno() == Errno.ENOSPC) {
                    throw outOfMemory(size, e, path);
                }
                throw e;
            }
            try {
                // MAP_SHARED hugetlb mappings reserve their pages here (ENOMEM), never at first touch (SIGBUS)
                mem = Mman.mmap(size, PROT_RW, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            } catch (SysException e) {
                if (e.errno() == Errno.ENOMEM) {
                    throw outOfMemory(size, e, path);
                }
                throw e;
            }
            lockMemory(mem, id, pageSize.isHuge());
            long iovaBase;
            long[] pages = null;
            switch (iovaMode) {
                case PHYSICAL -> {
                    pages = Pagemap.physicalAddresses(mem.address(), pageSize.bytes(), (int) (size >>> pageSize.shift()));
                    iovaBase = pages[0];
                }
                case ASSIGNED -> iovaBase = iovas.allocate(size, pageSize.bytes());
                case IDENTITY -> {
                    iovaBase = mem.address();
                    table.checkIdentityOverlap(id, iovaBase, size);
                }
                default -> throw new IllegalStateException();
            }
            table.write(id, size, iovaBase, state, path != null ? name : null);
            DmaSegment s = new DmaSegment(id, fd, pageSize, backing, path, mem, iovaMode,
                    iovaMode == IovaMode.PHYSICAL ? 0 : iovaBase, pages);
            publish(s);
            table.publish(id + 1); // publish last
            LOG.log(System.Logger.Level.DEBUG, "added {0}", s);
            return s;
        } catch (RuntimeException x) {
            if (mem != null) {
                Mman.munmap(mem);
            }
            Io.closeQuietly(fd);
            if (path != null && fd >= 0) {
                GroupFiles.unlinkQuietly(path);
            }
            throw x;
        }
    }

    private MemoryException outOfMemory(long size, SysException e, Path path) {
        if (pageSize.isHuge()) {
            return Hugepages.outOfPages(pageSize, size, path != null ? dataDir : null, e);
        }
        return new MemoryException(Reason.OUT_OF_MEMORY, "cannot allocate " + size + " bytes of 4 KB pages for "
                + (path != null ? path + " (is its file system full?)" : "a memfd") + ": " + e.getMessage(), e);
    }

    /**
     * Locks a segment so the kernel does not swap it, where the locked-memory limit allows. Nothing depends on it:
     * hugepages are never swapped, VFIO pins what it maps for DMA, UIO takes only hugepages (physical addresses),
     * and vfio-user and virtual devices reach the memory through its file. So a limit too small (8 MB is a common
     * default for users other than root) costs a warning, not the start.
     */
    private void lockMemory(MemorySegment mem, int id, boolean huge) {
        try {
            Mman.mlock(mem);
        } catch (SysException e) {
            if (!lockWarned) {
                lockWarned = true;
                LOG.log(huge ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING, "segment {0} ({1,number,#} bytes) is not "
                        + "locked in memory ({2}); the kernel may swap its 4 KB pages under memory pressure. To lock it, "
                        + "raise the locked-memory limit (ulimit -l unlimited, or LimitMEMLOCK=infinity for a service)",
                        id, mem.byteSize(), e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------------------------------- dropping

    private void publish(DmaSegment s) {
        synchronized (monitor) {
            DmaSegment[] copy = segments.clone();
            copy[s.id()] = s;
            segments = copy;
        }
    }

    /** Removes segment {@code id} from this process's view; the caller releases what is returned. */
    DmaSegment drop(int id) {
        synchronized (monitor) {
            DmaSegment s = segments[id];
            if (s != null) {
                DmaSegment[] copy = segments.clone();
                copy[id] = null;
                segments = copy;
            }
            return s;
        }
    }

    /** Unmaps and closes one segment, unless a native call still uses its memory. */
    static void release(DmaSegment s) {
        if (!s.release()) {
            LOG.log(System.Logger.Level.WARNING, "{0} was released while a native call used its memory: leaving it"
                    + " mapped", s);
        }
    }

    /** Releases every segment mapped here (the group is closing); a failure is logged and the rest go on. */
    void releaseAll() {
        for (DmaSegment s : segments) {
            if (s != null) {
                try {
                    release(s);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "releasing " + s + " failed", e);
                }
            }
        }
    }

    /** Unlinks the files of segments mapped here but never published (creation failed half-way). */
    void unlinkUnpublished(int published) {
        for (DmaSegment s : segments) {
            if (s != null && s.id() >= published) {
                s.path().ifPresent(GroupFiles::unlinkQuietly);
            }
        }
    }
}
