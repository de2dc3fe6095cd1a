package io.jnic.memory;

import static io.jnic.memory.GroupLayout.*;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.sys.Errno;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.Proc;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A memory group: the DMA segments and named memzones that the processes sharing one file prefix see
 * (DPDK's memory config and memzone list). One process {@linkplain #create creates} it, others
 * {@linkplain #attach attach} and map every segment wherever their kernel puts it; everything shared is
 * addressed as (segment id, offset). The shared header's format is described in the package documentation.
 *
 * <p>Creation of segments and memzones takes the group's {@link SharedLock}; lookups read published table
 * entries without locking. Instances are thread-safe. {@link #close()} unmaps this process's view; the last
 * process to close a FILE-backed group removes its files.
 */
public final class MemoryGroup implements AutoCloseable {
    /** Supplies descriptors of MEMFD segments (received over IPC); the group owns what it returns. */
    @FunctionalInterface
    public interface SegmentFds {
        int open(int segmentId);
    }

    private static final System.Logger LOG = System.getLogger(MemoryGroup.class.getName());
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
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
    private final int maxSegments;
    private final int maxMemzones;
    private final long zoneTable;
    private final SegmentFds fds;
    private volatile DmaSegment[] segments;
    private boolean closed;
    private boolean lockWarned; // said once per group

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
        this.maxSegments = config.maxSegments();
        this.maxMemzones = config.maxMemzones();
        this.zoneTable = GroupLayout.memzoneTableOffset(maxSegments);
        this.fds = fds;
        this.segments = new DmaSegment[maxSegments];
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
        ensureDir(config.runtimeDir());
        if (!config.pageSize().isHuge()) {
            ensureDir(config.dataDir());
        }
        int dirFd = lockDir(config.runtimeDir());
        try {
            if (removeStaleLocked(config) < 0) {
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
                unlinkQuietly(path);
                throw e;
            }
            return createWithHeader(config, path, fd, headerSize, dataDirBytes);
        } finally {
            unlockDir(dirFd);
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
            // Fields first, magic last (release): an attacher that sees the magic sees a complete header.
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
                    unlinkQuietly(path);
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
            long size = fdSize(fd);
            if (size == 0) {
                throw new MemoryException(Reason.GROUP_MISSING, "memory group '" + config.filePrefix() + "' (" + where
                        + ") has an empty header: its creator has not finished creating it, or died doing so");
            }
            if (size < H_TABLES + SEGMENT_ENTRY + MEMZONE_ENTRY || size > MAX_HEADER_SIZE) {
                throw new MemoryException(Reason.INCOMPATIBLE, where + " is " + size + " bytes, which no jnic memory"
                        + " group header is: it is not one");
            }
            header = Mman.mmap(size, PROT_RW, Mman.MAP_SHARED, fd, 0);
            MemoryConfig effective = readHeader(config, header, size, where);
            group = new MemoryGroup(effective, path, fd, header, fds);
            if (effective.backing() == Backing.FILE || fds != null) {
                int count = group.segmentCount();
                for (int id = 0; id < count; id++) {
                    if (!group.readEntry(id).retired()) {
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

    /** Validates a header and returns the configuration it describes. */
    static MemoryConfig readHeader(MemoryConfig asked, MemorySegment h, long size, String where) {
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

    // ---------------------------------------------------------------------------------------- segments

    /**
     * Entries of the shared segment table, retired ones included (ids are never reused, so valid ids are
     * {@code 0..segmentCount()-1}); some may not be mapped in this process yet, retired ones never are.
     */
    public int segmentCount() {
        int n = (int) INT.getAcquire(header, H_SEGMENT_COUNT);
        if (n < 0 || n > maxSegments) {
            throw corrupted("group '" + prefix + "': segment count " + n + " is outside 0.." + maxSegments);
        }
        return n;
    }

    /** This process's mapped segments, in id order (never a retired or detached one). */
    public List<DmaSegment> segments() {
        List<DmaSegment> out = new ArrayList<>();
        for (DmaSegment s : segments) {
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The segment with this id, mapping it first if it is FILE-backed (or the group has a {@link SegmentFds})
     * and not mapped here yet.
     */
    public DmaSegment segment(int id) {
        DmaSegment[] local = segments;
        if (id >= 0 && id < local.length && local[id] != null) {
            return local[id];
        }
        if (backing == Backing.MEMFD && fds == null) {
            readMappableEntry(id);
            throw new MemoryException(Reason.NOT_ATTACHED, "segment " + id + " of group '" + prefix + "' is not"
                    + " mapped in this process: it was added after this process attached; call attachSegment(" + id
                    + ", fd) with its memfd (the multiproc layer does this when told a segment was added)");
        }
        return attachSegment(id);
    }

    /**
     * Maps a segment that another process added (FILE: by name; MEMFD: through the group's
     * {@link SegmentFds}). Returns the existing mapping when it is already mapped.
     */
    public synchronized DmaSegment attachSegment(int id) {
        ensureOpen();
        if (segments.length > id && id >= 0 && segments[id] != null) {
            return segments[id];
        }
        Entry e = readMappableEntry(id);
        int fd;
        Path path = null;
        if (backing == Backing.FILE) {
            path = dataDir.resolve(e.name);
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
        return mapAttached(e, fd, path);
    }

    /** Maps a MEMFD segment from a descriptor received over IPC; the group takes ownership of {@code fd}. */
    public synchronized DmaSegment attachSegment(int id, int fd) {
        ensureOpen();
        if (segments.length > id && id >= 0 && segments[id] != null) {
            Io.closeQuietly(fd);
            return segments[id];
        }
        Entry e;
        try {
            e = readMappableEntry(id);
        } catch (RuntimeException x) {
            Io.closeQuietly(fd);
            throw x;
        }
        return mapAttached(e, fd, backing == Backing.FILE ? dataDir.resolve(e.name) : null);
    }

    private DmaSegment mapAttached(Entry e, int fd, Path path) {
        MemorySegment mem = null;
        try {
            long actual = fdSize(fd);
            if (actual < e.size) {
                throw corrupted("segment " + e.id + " of group '" + prefix + "' is " + actual + " bytes but the table"
                        + " says " + e.size + " (" + (path != null ? path : "memfd") + "): refusing to map it (touching"
                        + " the missing part would kill the process with SIGBUS)");
            }
            mem = Mman.mmap(e.size, PROT_RW, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            lockMemory(mem, e.id, pageSize.isHuge());
            long[] pages = null;
            if (iovaMode == IovaMode.PHYSICAL) {
                pages = Pagemap.physicalAddresses(mem.address(), pageSize.bytes(), (int) (e.size >>> pageSize.shift()));
                if (pages[0] != e.iovaBase) {
                    throw corrupted("segment " + e.id + " of group '" + prefix + "' starts at physical 0x"
                            + Long.toHexString(pages[0]) + " here but at 0x" + Long.toHexString(e.iovaBase)
                            + " in its creator: this is not the same memory (was the file replaced?)");
                }
            }
            DmaSegment s = new DmaSegment(e.id, fd, pageSize, backing, path, mem, iovaMode,
                    iovaMode == IovaMode.PHYSICAL ? 0 : e.iovaBase, pages);
            publishLocal(s);
            return s;
        } catch (RuntimeException x) {
            if (mem != null) {
                Mman.munmap(mem);
            }
            Io.closeQuietly(fd);
            throw x;
        }
    }

    /**
     * Creates, maps and records a new segment of at least {@code bytes} (rounded up to whole pages), for this
     * process; others map it with {@link #attachSegment(int)}. Zeroed, locked, with its IOVA range assigned.
     */
    public DmaSegment addSegment(long bytes) {
        return addSegment(bytes, SegmentState.LIVE);
    }

    /**
     * {@link #addSegment(long)} for a hotplug: the segment is recorded {@link SegmentState#PENDING}, so other
     * processes can map it but no memzone is reserved in it until {@link #commitSegment(int)}; if not every
     * process could map it, {@link #retireSegment(int)} undoes it.
     */
    public DmaSegment addPendingSegment(long bytes) {
        return addSegment(bytes, SegmentState.PENDING);
    }

    private synchronized DmaSegment addSegment(long bytes, SegmentState state) {
        ensureOpen();
        if (bytes <= 0 || bytes > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("segment size " + bytes + " outside 1.." + MAX_SEGMENT_SIZE);
        }
        long size = pageSize.roundUp(bytes);
        if (pageSize.isHuge()) {
            Hugepages.checkAvailable(pageSize, size);
        }
        lock.lock(config.lockTimeout());
        try {
            int id = segmentCount();
            if (id >= maxSegments) {
                throw new MemoryException(Reason.OUT_OF_MEMORY, "the segment table of group '" + prefix + "' is full ("
                        + maxSegments + " segments): create the group with a larger maxSegments, or larger segments");
            }
            return createSegment(id, size, state);
        } finally {
            lock.unlock();
        }
    }

    private DmaSegment createSegment(int id, long size, SegmentState state) {
        String name = MemoryConfig.segmentFileName(prefix, id);
        Path path = backing == Backing.FILE ? dataDir.resolve(name) : null;
        int fd = -1;
        MemorySegment mem = null;
        try {
            // sealable: a device model that maps the segment (vfio-user server) may seal it against shrinking
            fd = path != null ? createSegmentFile(path)
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
                    checkIdentityOverlap(id, iovaBase, size);
                }
                default -> throw new IllegalStateException();
            }
            long e = entryOffset(id);
            header.asSlice(e, SEGMENT_ENTRY).fill((byte) 0);
            header.set(ValueLayout.JAVA_INT, e + S_ID, id);
            header.set(ValueLayout.JAVA_INT, e + S_BACKING, backing.code());
            header.set(ValueLayout.JAVA_LONG, e + S_SIZE, size);
            header.set(ValueLayout.JAVA_INT, e + S_PAGE_SHIFT, pageSize.shift());
            header.set(ValueLayout.JAVA_INT, e + S_CREATOR_PID, Proc.getpid());
            header.set(ValueLayout.JAVA_LONG, e + S_IOVA_BASE, iovaBase);
            header.set(ValueLayout.JAVA_LONG, e + S_USED, 0L);
            header.set(ValueLayout.JAVA_INT, e + S_STATE, state.code());
            if (path != null) {
                putString(header, e + S_NAME, SEGMENT_NAME_BYTES, name.getBytes(StandardCharsets.US_ASCII));
            }
            DmaSegment s = new DmaSegment(id, fd, pageSize, backing, path, mem, iovaMode,
                    iovaMode == IovaMode.PHYSICAL ? 0 : iovaBase, pages);
            publishLocal(s);
            INT.setRelease(header, H_SEGMENT_COUNT, id + 1); // publish last
            LOG.log(System.Logger.Level.DEBUG, "added {0}", s);
            return s;
        } catch (RuntimeException x) {
            if (mem != null) {
                Mman.munmap(mem);
            }
            Io.closeQuietly(fd);
            if (path != null && fd >= 0) {
                unlinkQuietly(path);
            }
            throw x;
        }
    }

    /** {@link #readEntry} that refuses a retired entry (a pending one is mapped: its hotplug needs that). */
    private Entry readMappableEntry(int id) {
        Entry e = readEntry(id);
        if (e.retired()) {
            throw new MemoryException(Reason.RETIRED, "segment " + id + " of group '" + prefix + "' is retired (a"
                    + " memory hotplug that not every process could follow was rolled back): it cannot be mapped;"
                    + " use another segment");
        }
        return e;
    }

    /**
     * The state of segment {@code id}'s table entry.
     *
     * @throws MemoryException NOT_FOUND for an id outside the table
     */
    public SegmentState segmentState(int id) {
        ensureOpen();
        return readEntry(id).state;
    }

    /**
     * Makes a segment added by {@link #addPendingSegment(long)} usable for memzones, once every process that
     * must see it has mapped it.
     *
     * @throws MemoryException NOT_FOUND for an id outside the table, RETIRED for a retired one
     * @throws IllegalStateException when it is live already
     */
    public void commitSegment(int id) {
        synchronized (this) {
            ensureOpen();
            lock.lock(config.lockTimeout());
            try {
                Entry e = readMappableEntry(id);
                if (e.state != SegmentState.PENDING) {
                    throw new IllegalStateException("segment " + id + " of group '" + prefix + "' is live already:"
                            + " only a segment added with addPendingSegment is committed");
                }
                INT.setRelease(header, entryOffset(id) + S_STATE, SegmentState.LIVE.code());
            } finally {
                lock.unlock();
            }
        }
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
        DmaSegment local;
        Path path;
        synchronized (this) {
            ensureOpen();
            lock.lock(config.lockTimeout());
            try {
                Entry e = readEntry(id);
                if (e.retired()) {
                    throw new MemoryException(Reason.RETIRED, "segment " + id + " of group '" + prefix + "' is already"
                            + " retired: nothing to do");
                }
                int n = memzoneCount();
                List<String> users = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (header.get(ValueLayout.JAVA_INT, zoneTable + i * MEMZONE_ENTRY + Z_SEGMENT) == id) {
                        users.add("'" + nameAt(i) + "'");
                    }
                }
                if (!users.isEmpty() || e.used != 0) {
                    throw new MemoryException(Reason.IN_USE, "segment " + id + " of group '" + prefix + "' cannot be"
                            + " retired: " + (users.isEmpty() ? e.used + " bytes of it are reserved"
                                    : "memzone(s) " + String.join(", ", users) + " live in it")
                            + " (memzones are never freed, so only a segment nobody reserved from can be retired)");
                }
                INT.setRelease(header, entryOffset(id) + S_STATE, SegmentState.RETIRED.code());
                path = backing == Backing.FILE ? dataDir.resolve(e.name) : null;
            } finally {
                lock.unlock();
            }
            local = dropLocal(id);
        }
        if (local != null) {
            releaseSegment(local);
        }
        if (path != null) {
            unlinkQuietly(path); // after the state: a late attacher sees "retired" rather than a missing file
        }
        LOG.log(System.Logger.Level.INFO, "retired segment {0,number,#} of memory group {1}", id, prefix);
    }

    /**
     * Drops this process's mapping of a retired segment (a secondary, told that a hotplug was rolled back).
     *
     * @return whether it was mapped here
     * @throws MemoryException NOT_FOUND for an id outside the table, IN_USE for a live segment (live segments
     *                         stay mapped until the group is closed)
     */
    public boolean detachSegment(int id) {
        DmaSegment local;
        synchronized (this) {
            ensureOpen();
            if (!readEntry(id).retired()) {
                throw new MemoryException(Reason.IN_USE, "segment " + id + " of group '" + prefix + "' is live: only a"
                        + " retired segment can be detached (live segments stay mapped until the group is closed)");
            }
            local = dropLocal(id);
        }
        if (local == null) {
            return false;
        }
        releaseSegment(local);
        return true;
    }

    private void releaseSegment(DmaSegment s) {
        if (!s.release()) {
            LOG.log(System.Logger.Level.WARNING, "{0} was released while a native call used its memory: leaving it"
                    + " mapped", s);
        }
    }

    /** Removes segment {@code id} from this process's view; the caller releases what is returned. */
    private synchronized DmaSegment dropLocal(int id) {
        DmaSegment s = segments[id];
        if (s != null) {
            DmaSegment[] copy = segments.clone();
            copy[id] = null;
            segments = copy;
        }
        return s;
    }

    private MemoryException outOfMemory(long size, SysException e, Path path) {
        if (pageSize.isHuge()) {
            return Hugepages.outOfPages(pageSize, size, path != null ? dataDir : null, e);
        }
        return new MemoryException(Reason.OUT_OF_MEMORY, "cannot allocate " + size + " bytes of 4 KB pages for "
                + (path != null ? path + " (is its file system full?)" : "a memfd") + ": " + e.getMessage(), e);
    }

    private void checkIdentityOverlap(int id, long base, long size) {
        for (int i = 0; i < id; i++) {
            Entry o = readEntry(i);
            if (!o.retired() && base < o.iovaBase + o.size && o.iovaBase < base + size) {
                throw new MemoryException(Reason.OUT_OF_MEMORY, "IDENTITY IOVA range [0x" + Long.toHexString(base)
                        + ", 0x" + Long.toHexString(base + size) + ") of a new segment overlaps segment " + i
                        + ", which another process mapped at that address: add segments from one process (the"
                        + " primary) in IDENTITY mode, or use ASSIGNED");
            }
        }
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

    private static int createSegmentFile(Path path) {
        for (int attempt = 0; ; attempt++) {
            try {
                int fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_EXCL | Io.O_CLOEXEC, 0600);
                try {
                    Io.flock(fd, Io.LOCK_SH);
                } catch (RuntimeException e) {
                    Io.closeQuietly(fd);
                    unlinkQuietly(path);
                    throw e;
                }
                return fd;
            } catch (SysException e) {
                // left by a process that died between creating the file and publishing the segment?
                if (e.errno() != Errno.EEXIST || attempt > 0 || !removeIfUnlocked(path)) {
                    throw e.errno() == Errno.EEXIST
                            ? new MemoryException(Reason.GROUP_EXISTS, path + " exists and is in use by another"
                                    + " process: it belongs to another group with the same prefix", e)
                            : e;
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------- memzones

    /** Memzones recorded in the shared table. */
    public int memzoneCount() {
        int n = (int) INT.getAcquire(header, H_MEMZONE_COUNT);
        if (n < 0 || n > maxMemzones) {
            throw corrupted("group '" + prefix + "': memzone count " + n + " is outside 0.." + maxMemzones);
        }
        return n;
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
        checkName(name);
        if (size <= 0 || size > MAX_SEGMENT_SIZE) {
            throw new IllegalArgumentException("memzone '" + name + "': size " + size + " outside 1.." + MAX_SEGMENT_SIZE);
        }
        if (align <= 0 || Long.bitCount(align) != 1 || align > pageSize.bytes()) {
            throw new IllegalArgumentException("memzone '" + name + "': alignment " + align + " must be a power of two"
                    + " between 1 and the page size (" + pageSize.bytes() + ")");
        }
        synchronized (this) {
            ensureOpen();
            lock.lock(config.lockTimeout());
            try {
                int n = memzoneCount();
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
                int segs = segmentCount();
                long largest = 0;
                for (int id = 0; id < segs; id++) {
                    Entry e = readEntry(id);
                    if (e.state != SegmentState.LIVE) {
                        continue; // a pending segment is handed out only once every process mapped it
                    }
                    long off = place(e.used, size, align, pageSize, e.size);
                    if (off < 0) {
                        largest = Math.max(largest, e.size - e.used);
                        continue;
                    }
                    DmaSegment seg = segment(id);
                    long z = zoneTable + n * MEMZONE_ENTRY;
                    header.asSlice(z, MEMZONE_ENTRY).fill((byte) 0);
                    putString(header, z + Z_NAME, MEMZONE_NAME_BYTES, name.getBytes(StandardCharsets.US_ASCII));
                    header.set(ValueLayout.JAVA_INT, z + Z_SEGMENT, id);
                    header.set(ValueLayout.JAVA_LONG, z + Z_OFFSET, off);
                    header.set(ValueLayout.JAVA_LONG, z + Z_LENGTH, size);
                    header.set(ValueLayout.JAVA_LONG, z + Z_ALIGN, align);
                    header.set(ValueLayout.JAVA_LONG, entryOffset(id) + S_USED, off + size);
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

    /**
     * The memzone with this name (DPDK's rte_memzone_lookup).
     *
     * @throws MemoryException NOT_FOUND when there is none, CORRUPTED when its table entry is out of range
     */
    public Memzone lookup(String name) {
        return find(name).orElseThrow(() -> {
            int n = memzoneCount();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < Math.min(n, 8); i++) {
                names.add(nameAt(i));
            }
            return new MemoryException(Reason.NOT_FOUND, "no memzone named '" + name + "' in memory group '" + prefix
                    + "' (" + n + " memzone(s)" + (n > 0 ? ": " + String.join(", ", names) + (n > 8 ? ", ..." : "")
                    : "") + ")");
        });
    }

    /** The memzone with this name, if any. */
    public Optional<Memzone> find(String name) {
        checkName(name);
        ensureOpen();
        int n = memzoneCount();
        int i = indexOf(name, n);
        return i < 0 ? Optional.empty() : Optional.of(zoneAt(i, n));
    }

    /** All memzones, in creation order. */
    public List<Memzone> memzones() {
        ensureOpen();
        int n = memzoneCount();
        List<Memzone> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(zoneAt(i, n));
        }
        return out;
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
        return getString(header, zoneTable + i * MEMZONE_ENTRY + Z_NAME, MEMZONE_NAME_BYTES,
                "memzone entry " + i + " name");
    }

    private Memzone zoneAt(int i, int n) {
        long z = zoneTable + i * MEMZONE_ENTRY;
        String name = nameAt(i);
        int segId = header.get(ValueLayout.JAVA_INT, z + Z_SEGMENT);
        long off = header.get(ValueLayout.JAVA_LONG, z + Z_OFFSET);
        long len = header.get(ValueLayout.JAVA_LONG, z + Z_LENGTH);
        long align = header.get(ValueLayout.JAVA_LONG, z + Z_ALIGN);
        int segs = segmentCount();
        if (segId < 0 || segId >= segs) {
            throw corrupted("memzone '" + name + "' (entry " + i + " of " + n + ") refers to segment " + segId
                    + ", but group '" + prefix + "' has " + segs + " segment(s) (ids 0.." + (segs - 1) + ")");
        }
        Entry e = readEntry(segId);
        if (e.state != SegmentState.LIVE) {
            throw corrupted("memzone '" + name + "' (entry " + i + ") lives in segment " + segId + ", which is "
                    + e.state.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (off < 0 || len <= 0 || off > e.size || len > e.size - off || align <= 0 || Long.bitCount(align) != 1
                || (off & (align - 1)) != 0) {
            throw corrupted("memzone '" + name + "' (entry " + i + ") claims offset " + off + ", length " + len
                    + ", align " + align + " in segment " + segId + " of " + e.size + " bytes");
        }
        return new Memzone(i, name, segment(segId), off, len, align);
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

    // ---------------------------------------------------------------------------------------- table entries

    record Entry(int id, long size, long iovaBase, long used, String name, SegmentState state) {
        boolean retired() {
            return state == SegmentState.RETIRED;
        }
    }

    private long entryOffset(int id) {
        return GroupLayout.segmentTableOffset() + id * SEGMENT_ENTRY;
    }

    private void checkSegmentId(int id) {
        int n = segmentCount();
        if (id < 0 || id >= n) {
            throw new MemoryException(Reason.NOT_FOUND, "segment id " + id + " is out of range: group '" + prefix
                    + "' has " + n + " segment(s)" + (n > 0 ? " (ids 0.." + (n - 1) + ")" : ""));
        }
    }

    /** A published segment-table entry, every field checked. */
    Entry readEntry(int id) {
        checkSegmentId(id);
        long e = entryOffset(id);
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
        String name = getString(header, e + S_NAME, SEGMENT_NAME_BYTES, what + " file name");
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
        if (closed) {
            return;
        }
        if (headerPath != null) {
            int dirFd = -1;
            try {
                dirFd = lockDir(headerPath.getParent());
                if (Io.flock(headerFd, Io.LOCK_EX | Io.LOCK_NB)) {
                    unlinkFiles();
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cleaning up memory group " + prefix + " failed", e);
            } finally {
                releaseLocal();
                unlockDir(dirFd);
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
        INT.setRelease(header, H_STATE, STATE_DEAD);
        int n = (int) INT.getAcquire(header, H_SEGMENT_COUNT);
        DmaSegment[] local = segments;
        for (int id = 0; id < Math.min(Math.max(n, 0), maxSegments); id++) {
            unlinkQuietly(dataDir.resolve(MemoryConfig.segmentFileName(prefix, id)));
        }
        // a segment mapped here but not published (creation failed half-way) has its own cleanup
        for (DmaSegment s : local) {
            if (s != null && s.id() >= n) {
                s.path().ifPresent(MemoryGroup::unlinkQuietly);
            }
        }
        unlinkQuietly(headerPath);
    }

    private void releaseLocal() {
        closed = true;
        boolean unmap = true;
        try {
            arena.close(); // from here on, the header view throws IllegalStateException instead of faulting
        } catch (IllegalStateException e) {
            // a native call is using the header right now: unmapping would pull memory from under it
            unmap = false;
            LOG.log(System.Logger.Level.WARNING, "memory group " + prefix + " closed while a native call used its"
                    + " header: leaving it mapped", e);
        }
        for (DmaSegment s : segments) {
            if (s != null) {
                try {
                    releaseSegment(s);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "releasing " + s + " failed", e);
                }
            }
        }
        try {
            if (unmap) {
                Mman.munmap(rawHeader);
            }
        } finally {
            Io.closeQuietly(headerFd);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("memory group '" + prefix + "' is closed");
        }
    }

    private synchronized void publishLocal(DmaSegment s) {
        DmaSegment[] copy = segments.clone();
        copy[s.id()] = s;
        segments = copy;
    }

    // ---------------------------------------------------------------------------------------- stale files

    /**
     * Removes the files of a dead FILE-backed group with this prefix: the header and every
     * {@code <prefix>map_<n>} in the data dir that no process holds a lock on. Does nothing while a live
     * process holds the header.
     *
     * @return files removed, or -1 when the group is alive
     */
    public static int removeStale(MemoryConfig config) {
        if (!Files.isDirectory(config.runtimeDir())) {
            return 0;
        }
        int dirFd = lockDir(config.runtimeDir());
        try {
            return removeStaleLocked(config);
        } finally {
            unlockDir(dirFd);
        }
    }

    private static int removeStaleLocked(MemoryConfig config) {
        Path header = config.headerPath();
        int removed = 0;
        if (Files.exists(header)) {
            if (!removeIfUnlocked(header)) {
                return -1;
            }
            removed++;
        }
        Path dir = config.dataDir();
        if (!Files.isDirectory(dir)) {
            return removed;
        }
        String stem = config.filePrefix() + "map_";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(stem) && n.length() > stem.length() && n.substring(stem.length()).chars()
                        .allMatch(c -> c >= '0' && c <= '9') && removeIfUnlocked(p)) {
                    removed++;
                }
            }
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot list " + dir + ": " + e, e);
        }
        if (removed > 0) {
            LOG.log(System.Logger.Level.INFO, "removed {0} stale file(s) of dead memory group {1}", removed,
                    config.filePrefix());
        }
        return removed;
    }

    /** Unlinks {@code path} if no process holds a flock on it; false when someone does. */
    private static boolean removeIfUnlocked(Path path) {
        int fd;
        try {
            fd = Io.open(path.toString(), Io.O_RDONLY | Io.O_CLOEXEC);
        } catch (SysException e) {
            return e.errno() == Errno.ENOENT;
        }
        try {
            if (!Io.flock(fd, Io.LOCK_EX | Io.LOCK_NB)) {
                return false;
            }
            unlinkQuietly(path);
            return true;
        } finally {
            Io.closeQuietly(fd);
        }
    }

    // ---------------------------------------------------------------------------------------- helpers

    private static int lockDir(Path dir) {
        int fd = Io.open(dir.toString(), Io.O_RDONLY | Io.O_DIRECTORY | Io.O_CLOEXEC);
        try {
            Io.flock(fd, Io.LOCK_EX);
            return fd;
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    private static void unlockDir(int fd) {
        Io.closeQuietly(fd); // closing drops the flock
    }

    private static void ensureDir(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot create directory " + dir + ": " + e, e);
        }
    }

    private static void unlinkQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + p, e);
        }
    }

    /** Size of the file behind {@code fd} (a path, a memfd or anything else fstat can see). */
    static long fdSize(int fd) {
        try {
            return Files.size(Path.of("/proc/self/fd/" + fd));
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot stat descriptor " + fd + ": " + e, e);
        }
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

    private static void putString(MemorySegment m, long at, int capacity, byte[] bytes) {
        if (bytes.length >= capacity) {
            throw new IllegalArgumentException("'" + new String(bytes, StandardCharsets.UTF_8) + "' is longer than "
                    + (capacity - 1) + " bytes");
        }
        MemorySegment dst = m.asSlice(at, capacity);
        dst.fill((byte) 0);
        MemorySegment.copy(bytes, 0, dst, ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    /** A NUL-terminated string from a fixed-size shared field; CORRUPTED when the NUL is missing. */
    private static String getString(MemorySegment m, long at, int capacity, String what) {
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
