package io.jnic.memory;

import static io.jnic.memory.GroupLayout.*;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.sys.Errno;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A memory group: the DMA segments and named memzones that the processes sharing one file prefix see
 * (DPDK's memory config and memzone list). One process {@linkplain #create creates} it, others
 * {@linkplain #attach attach} and map every segment wherever their kernel puts it; everything shared is
 * addressed as (segment id, offset). The shared header's format is described in the package documentation.
 *
 * <p>Creation of segments and memzones takes the group's {@link SharedLock}; lookups read published table
 * entries without locking. Instances are thread-safe. {@link #close()} unmaps this process's view; the last
 * process to close a FILE-backed group removes its files.
 *
 * <p>This class creates, attaches and closes a group; the rest is delegated, one concern per class:
 * {@link GroupHeader} (the header's own fields), {@link SegmentTable} (the shared segment table),
 * {@link LocalSegments} (this process's mappings of the segments), {@link SegmentHotplug} (pending, committed and
 * retired segments), {@link MemzoneRegistry} (the memzone table) and {@link GroupFiles} (files and their flocks).
 * They share one monitor, this instance.
 */
public final class MemoryGroup implements AutoCloseable {
    /** Supplies descriptors of MEMFD segments (received over IPC); the group owns what it returns. */
    @FunctionalInterface
    public interface SegmentFds {
        int open(int segmentId);
    }

    private static final System.Logger LOG = System.getLogger(MemoryGroup.class.getName());
    private static final int PROT_RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private static final long MAX_HEADER_SIZE = GroupLayout.headerSize(MemoryConfig.LIMIT_SEGMENTS,
            MemoryConfig.LIMIT_MEMZONES);

    private final MemoryConfig config;
    private final String prefix;
    private final PageSize pageSize;
    private final IovaMode iovaMode;
    private final Backing backing;
    private final Path dataDir;
    private final Path headerPath;
    private final int headerFd;
    /** Scopes the header view (each segment scopes its own views): use after close throws instead of faulting. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rawHeader;
    private final MemorySegment header;
    private final SharedLock lock;
    private final IovaAllocator iovas;
    private final SegmentTable table;
    private final LocalSegments local;
    private final MemzoneRegistry memzones;
    private final SegmentHotplug hotplug;

    @SuppressWarnings("restricted") // rescoping our own mmap to the group's arena
    private MemoryGroup(MemoryConfig config, Path headerPath, int headerFd, MemorySegment header, SegmentFds fds) {
        this.config = config;
        this.prefix = config.filePrefix();
        this.pageSize = config.pageSize();
        this.iovaMode = config.iovaMode();
        this.backing = config.backing();
        this.dataDir = backing == Backing.FILE ? config.dataDir().toAbsolutePath().normalize() : null;
        this.headerPath = headerPath;
        this.headerFd = headerFd;
        this.rawHeader = header;
        this.header = header.reinterpret(arena, null);
        this.lock = new SharedLock(header.asSlice(H_LOCK, SharedLock.SIZE));
        this.iovas = new IovaAllocator(header.asSlice(H_IOVA_NEXT, IovaAllocator.SIZE));
        this.table = new SegmentTable(this.header, prefix, backing, pageSize, config.maxSegments());
        this.local = new LocalSegments(this, table, config, dataDir, fds, lock, iovas);
        this.memzones = new MemzoneRegistry(this, this.header, config.maxSegments(), config.maxMemzones(), prefix,
                pageSize, table, local, lock, config.lockTimeout());
        this.hotplug = new SegmentHotplug(this, prefix, dataDir, table, local, memzones, lock, config.lockTimeout());
    }

    // ---------------------------------------------------------------------------------------- create

    /**
     * Creates a group and, when {@code config.size() > 0}, its first segment. For FILE backing, stale files of
     * a dead group with the same prefix are removed first; a live group with that prefix is an error.
     *
     * @throws MemoryException NO_HUGEPAGES / NOT_HUGETLBFS with the command that fixes it, GROUP_EXISTS, ...
     */
    public static MemoryGroup create(MemoryConfig config) {
        long headerSize = GroupLayout.headerSize(config.maxSegments(), config.maxMemzones());
        byte[] dataDirBytes = config.backing() == Backing.FILE
                ? config.dataDir().toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (dataDirBytes.length >= DATA_DIR_BYTES) {
            throw new IllegalArgumentException("data dir " + config.dataDir() + " is longer than "
                    + (DATA_DIR_BYTES - 1) + " bytes");
        }
        if (config.pageSize().isHuge()) {
            if (config.backing() == Backing.FILE) {
                Hugepages.checkMount(config.hugeDir(), config.pageSize());
            }
            Hugepages.checkAvailable(config.pageSize(), config.pageSize().roundUp(config.size()));
        }
        if (config.backing() == Backing.MEMFD) {
            int fd = Mman.memfdCreate(MemoryConfig.headerFileName(config.filePrefix()), Mman.MFD_CLOEXEC);
            return createWithHeader(config, null, fd, headerSize, dataDirBytes);
        }
        GroupFiles.ensureDir(config.runtimeDir());
        if (!config.pageSize().isHuge()) {
            GroupFiles.ensureDir(config.dataDir());
        }
        int dirFd = GroupFiles.lockDir(config.runtimeDir());
        try {
            if (GroupFiles.removeStaleLocked(config) < 0) {
                throw new MemoryException(Reason.GROUP_EXISTS, "memory group '" + config.filePrefix() + "' is in use"
                        + " by a live process (" + config.headerPath() + " is locked): attach to it as a secondary,"
                        + " or pick another --file-prefix");
            }
            Path path = config.headerPath();
            int fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_EXCL | Io.O_CLOEXEC, 0600);
            try {
                Io.flock(fd, Io.LOCK_SH);
            } catch (RuntimeException e) {
                Io.closeQuietly(fd);
                GroupFiles.unlinkQuietly(path);
                throw e;
            }
            return createWithHeader(config, path, fd, headerSize, dataDirBytes);
        } finally {
            GroupFiles.unlockDir(dirFd);
        }
    }

    private static MemoryGroup createWithHeader(MemoryConfig config, Path path, int fd, long headerSize,
            byte[] dataDirBytes) {
        MemorySegment header = null;
        MemoryGroup group = null;
        try {
            Io.ftruncate(fd, headerSize);
            try {
                Io.fallocate(fd, 0, 0, headerSize);
            } catch (SysException e) {
                if (e.errno() == Errno.ENOSPC || e.errno() == Errno.ENOMEM) {
                    throw new MemoryException(Reason.OUT_OF_MEMORY, "no room for the " + headerSize + "-byte header of"
                            + " memory group '" + config.filePrefix() + "' in " + (path != null ? path.getParent()
                            : "a memfd") + ": " + e.getMessage(), e);
                }
                throw e;
            }
            header = Mman.mmap(headerSize, PROT_RW, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            GroupHeader.init(header, config, headerSize, dataDirBytes);
            group = new MemoryGroup(config, path, fd, header, null);
            if (config.size() > 0) {
                group.addSegment(config.size());
            }
            LOG.log(System.Logger.Level.DEBUG, "created memory group {0}", group);
            return group;
        } catch (RuntimeException e) {
            if (group != null) {
                group.destroy();
            } else {
                if (header != null) {
                    Mman.munmap(header);
                }
                Io.closeQuietly(fd);
                if (path != null) {
                    GroupFiles.unlinkQuietly(path);
                }
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------- attach

    /**
     * Attaches to the FILE-backed group {@code config.filePrefix()} whose header is in
     * {@code config.runtimeDir()}, and maps all its segments. Page size, IOVA mode, table sizes and the data
     * dir come from the header; the rest of {@code config} is ignored.
     */
    public static MemoryGroup attach(MemoryConfig config) {
        Path path = config.headerPath();
        int fd;
        try {
            fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CLOEXEC);
        } catch (SysException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new MemoryException(Reason.GROUP_MISSING, "no memory group '" + config.filePrefix() + "': " + path
                        + " does not exist (is the primary running, with the same --file-prefix and runtime dir?)", e);
            }
            throw new MemoryException(Reason.SYSTEM, "cannot open the header of memory group '" + config.filePrefix()
                    + "' (" + e.getMessage() + ")" + (e.errno() == Errno.EACCES ? ": run as the same user as the"
                            + " primary" : ""), e);
        }
        try {
            Io.flock(fd, Io.LOCK_SH);
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
        return attachHeader(config, path, fd, null);
    }

    /**
     * Attaches to a group given its header descriptor (a MEMFD group's header received over IPC, or an open
     * header file); {@code fds} supplies the descriptors of its segments. The group owns {@code headerFd}.
     * With {@code fds == null}, the segments of a MEMFD group are left unmapped until
     * {@link #attachSegment(int, int)} hands each one over.
     */
    public static MemoryGroup attach(MemoryConfig config, int headerFd, SegmentFds fds) {
        return attachHeader(config, null, headerFd, fds);
    }

    private static MemoryGroup attachHeader(MemoryConfig config, Path path, int fd, SegmentFds fds) {
        MemorySegment header = null;
        MemoryGroup group = null;
        try {
            String where = path != null ? path.toString() : "header fd " + fd;
            long size = GroupFiles.fdSize(fd);
            if (size == 0) {
                throw new MemoryException(Reason.GROUP_MISSING, "memory group '" + config.filePrefix() + "' (" + where
                        + ") has an empty header: its creator has not finished creating it, or died doing so");
            }
            if (size < H_TABLES + SEGMENT_ENTRY + MEMZONE_ENTRY || size > MAX_HEADER_SIZE) {
                throw new MemoryException(Reason.INCOMPATIBLE, where + " is " + size + " bytes, which no jnic memory"
                        + " group header is: it is not one");
            }
            header = Mman.mmap(size, PROT_RW, Mman.MAP_SHARED, fd, 0);
            MemoryConfig effective = GroupHeader.read(config, header, size, where);
            group = new MemoryGroup(effective, path, fd, header, fds);
            if (effective.backing() == Backing.FILE || fds != null) {
                int count = group.segmentCount();
                for (int id = 0; id < count; id++) {
                    if (!group.table.read(id).retired()) {
                        group.attachSegment(id);
                    }
                }
            }
            return group;
        } catch (RuntimeException e) {
            if (group != null) {
                group.releaseLocal();
            } else {
                if (header != null) {
                    Mman.munmap(header);
                }
                Io.closeQuietly(fd);
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------- segments

    /**
     * Entries of the shared segment table, retired ones included (ids are never reused, so valid ids are
     * {@code 0..segmentCount()-1}); some may not be mapped in this process yet, retired ones never are.
     */
    public int segmentCount() {
        return table.count();
    }

    /** This process's mapped segments, in id order (never a retired or detached one). */
    public List<DmaSegment> segments() {
        return local.list();
    }

    /**
     * The segment with this id, mapping it first if it is FILE-backed (or the group has a {@link SegmentFds})
     * and not mapped here yet.
     */
    public DmaSegment segment(int id) {
        return local.get(id);
    }

    /**
     * Maps a segment that another process added (FILE: by name; MEMFD: through the group's
     * {@link SegmentFds}). Returns the existing mapping when it is already mapped.
     */
    public DmaSegment attachSegment(int id) {
        return local.attach(id);
    }

    /** Maps a MEMFD segment from a descriptor received over IPC; the group takes ownership of {@code fd}. */
    public DmaSegment attachSegment(int id, int fd) {
        return local.attach(id, fd);
    }

    /**
     * Creates, maps and records a new segment of at least {@code bytes} (rounded up to whole pages), for this
     * process; others map it with {@link #attachSegment(int)}. Zeroed, locked, with its IOVA range assigned.
     */
    public DmaSegment addSegment(long bytes) {
        return local.add(bytes, SegmentState.LIVE);
    }

    /**
     * {@link #addSegment(long)} for a hotplug: the segment is recorded {@link SegmentState#PENDING}, so other
     * processes can map it but no memzone is reserved in it until {@link #commitSegment(int)}; if not every
     * process could map it, {@link #retireSegment(int)} undoes it.
     */
    public DmaSegment addPendingSegment(long bytes) {
        return local.add(bytes, SegmentState.PENDING);
    }

    /**
     * The state of segment {@code id}'s table entry.
     *
     * @throws MemoryException NOT_FOUND for an id outside the table
     */
    public SegmentState segmentState(int id) {
        local.ensureOpen();
        return table.read(id).state();
    }

    /**
     * Makes a segment added by {@link #addPendingSegment(long)} usable for memzones, once every process that
     * must see it has mapped it.
     *
     * @throws MemoryException NOT_FOUND for an id outside the table, RETIRED for a retired one
     * @throws IllegalStateException when it is live already
     */
    public void commitSegment(int id) {
        hotplug.commit(id);
    }

    /**
     * Retires segment {@code id} (the primary, rolling back a hotplug that a secondary could not follow):
     * under the group's lock, marks its table entry retired, then unmaps and closes it here and (FILE backing)
     * unlinks its file. Only a segment in which no memzone was ever reserved can be retired. The id is not
     * reused: later segments get new ids, so a slot of the table stays spent. Other processes that mapped it
     * must drop their mapping with {@link #detachSegment(int)}; until they do, its memory stays allocated.
     * Views of the segment obtained earlier must not be used afterwards.
     *
     * @throws MemoryException NOT_FOUND for an id outside the table, RETIRED when it is already retired,
     *                         IN_USE when a memzone lives in it
     */
    public void retireSegment(int id) {
        hotplug.retire(id);
    }

    /**
     * Drops this process's mapping of a retired segment (a secondary, told that a hotplug was rolled back).
     *
     * @return whether it was mapped here
     * @throws MemoryException NOT_FOUND for an id outside the table, IN_USE for a live segment (live segments
     *                         stay mapped until the group is closed)
     */
    public boolean detachSegment(int id) {
        return hotplug.detach(id);
    }

    // ---------------------------------------------------------------------------------------- memzones

    /** Memzones recorded in the shared table. */
    public int memzoneCount() {
        return memzones.count();
    }

    /** {@link #reserve(String, long, long)} aligned to a cache line (64 bytes). */
    public Memzone reserve(String name, long size) {
        return reserve(name, size, 64);
    }

    /**
     * Reserves a zeroed memzone of {@code size} bytes aligned to {@code align} (a power of two up to the
     * page size) in the first segment with room, under a unique name (DPDK's rte_memzone_reserve_aligned).
     * A zone no larger than a page never crosses a page boundary, so it is IOVA-contiguous in every mode.
     *
     * @throws IllegalArgumentException for a bad name, size or alignment
     * @throws MemoryException EXISTS for a taken name, OUT_OF_MEMORY when no segment has room
     */
    public Memzone reserve(String name, long size, long align) {
        return memzones.reserve(name, size, align);
    }

    /** Offset for a zone in a segment whose first {@code used} bytes are taken, or -1 when it does not fit. */
    static long place(long used, long length, long align, PageSize page, long segmentSize) {
        return MemzoneRegistry.place(used, length, align, page, segmentSize);
    }

    /**
     * The memzone with this name (DPDK's rte_memzone_lookup).
     *
     * @throws MemoryException NOT_FOUND when there is none, CORRUPTED when its table entry is out of range
     */
    public Memzone lookup(String name) {
        return memzones.lookup(name);
    }

    /** The memzone with this name, if any. */
    public Optional<Memzone> find(String name) {
        return memzones.find(name);
    }

    /** All memzones, in creation order. */
    public List<Memzone> memzones() {
        return memzones.list();
    }

    /**
     * Resolves a position-independent reference: {@code length} bytes at {@code offset} of segment
     * {@code segmentId}, bounds-checked (for offsets read from shared memory or a peer).
     */
    public MemorySegment slice(int segmentId, long offset, long length) {
        DmaSegment s = segment(segmentId);
        if (offset < 0 || length < 0 || offset > s.size() || length > s.size() - offset) {
            throw new IndexOutOfBoundsException("range [" + offset + ", +" + length + ") outside segment " + segmentId
                    + " of " + s.size() + " bytes");
        }
        return s.memory().asSlice(offset, length);
    }

    // ---------------------------------------------------------------------------------------- accessors

    /** The configuration in effect (for an attached group: as read from the header). */
    public MemoryConfig config() {
        return config;
    }

    public String filePrefix() {
        return prefix;
    }

    public IovaMode iovaMode() {
        return iovaMode;
    }

    public PageSize pageSize() {
        return pageSize;
    }

    public Backing backing() {
        return backing;
    }

    /** The header descriptor (send it to secondaries of a MEMFD group). */
    public int headerFd() {
        return headerFd;
    }

    /** The header file of a FILE-backed group. */
    public Optional<Path> headerPath() {
        return Optional.ofNullable(headerPath);
    }

    /** The group's cross-process lock (for diagnostics: holder, recoveries). */
    public SharedLock lock() {
        return lock;
    }

    /** The shared IOVA allocator ({@link IovaMode#ASSIGNED}); others may draw ranges for non-segment memory. */
    public IovaAllocator iovaAllocator() {
        return iovas;
    }

    /** Pid of the process that created the group. */
    public int creatorPid() {
        return header.get(ValueLayout.JAVA_INT, H_CREATOR_PID);
    }

    @Override
    public String toString() {
        return "MemoryGroup['" + prefix + "', " + backing + " " + pageSize + " pages, IOVA " + iovaMode + ", "
                + segmentCount() + " segment(s), " + memzoneCount() + " memzone(s)]";
    }

    // ---------------------------------------------------------------------------------------- close

    /**
     * Unmaps this process's view and closes its descriptors. The last process of a FILE-backed group (no one
     * else holds the header's flock) marks the header dead and removes the group's files.
     */
    @Override
    public synchronized void close() {
        if (local.isClosed()) {
            return;
        }
        if (headerPath != null) {
            int dirFd = -1;
            try {
                dirFd = GroupFiles.lockDir(headerPath.getParent());
                if (Io.flock(headerFd, Io.LOCK_EX | Io.LOCK_NB)) {
                    unlinkFiles();
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cleaning up memory group " + prefix + " failed", e);
            } finally {
                releaseLocal();
                GroupFiles.unlockDir(dirFd);
            }
        } else {
            releaseLocal();
        }
    }

    /** Failed creation: remove everything. */
    private void destroy() {
        if (headerPath != null) {
            unlinkFiles();
        }
        releaseLocal();
    }

    private void unlinkFiles() {
        GroupHeader.markDead(header);
        int n = table.countForCleanup();
        for (int id = 0; id < n; id++) {
            GroupFiles.unlinkQuietly(dataDir.resolve(MemoryConfig.segmentFileName(prefix, id)));
        }
        // a segment mapped here but not published (creation failed half-way) has its own cleanup
        local.unlinkUnpublished(n);
        GroupFiles.unlinkQuietly(headerPath);
    }

    private void releaseLocal() {
        local.markClosed();
        boolean unmap = true;
        try {
            arena.close(); // from here on, the header view throws IllegalStateException instead of faulting
        } catch (IllegalStateException e) {
            // a native call is using the header right now: unmapping would pull memory from under it
            unmap = false;
            LOG.log(System.Logger.Level.WARNING, "memory group " + prefix + " closed while a native call used its"
                    + " header: leaving it mapped", e);
        }
        local.releaseAll();
        try {
            if (unmap) {
                Mman.munmap(rawHeader);
            }
        } finally {
            Io.closeQuietly(headerFd);
        }
    }

    // ---------------------------------------------------------------------------------------- files

    /**
     * Removes the files of a dead FILE-backed group with this prefix: the header and every
     * {@code <prefix>map_<n>} in the data dir that no process holds a lock on. Does nothing while a live
     * process holds the header.
     *
     * @return files removed, or -1 when the group is alive
     */
    public static int removeStale(MemoryConfig config) {
        return GroupFiles.removeStale(config);
    }

    /** Size of the file behind {@code fd} (a path, a memfd or anything else fstat can see). */
    static long fdSize(int fd) {
        return GroupFiles.fdSize(fd);
    }
}
