package io.jnic.memory;

import io.jnic.sys.Proc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a memory group is made: the EAL-style knobs ({@code --file-prefix}, {@code --huge-dir},
 * {@code --no-huge}, {@code -m}) plus the IOVA mode and table sizes. Immutable; build with
 * {@link #builder()}.
 *
 * @param filePrefix  names the group: files are {@code <prefix>map_<id>}, the header {@code <prefix>memconfig}
 * @param hugeDir     a hugetlbfs mount of {@code pageSize} pages (FILE backing with hugepages)
 * @param runtimeDir  holds the header file, and the segment files for 4 KB pages (FILE backing)
 * @param pageSize    page size of the DMA segments; {@link PageSize#SMALL_4K} is {@code --no-huge}
 * @param backing     files by name, or memfds passed between processes
 * @param iovaMode    how devices address the memory
 * @param size        bytes of the first DMA segment made by {@link MemoryGroup#create}; 0 for none
 * @param maxSegments capacity of the shared segment table
 * @param maxMemzones capacity of the shared memzone table
 * @param iovaBase    first IOVA the {@link IovaMode#ASSIGNED} allocator hands out
 * @param iovaLimit   end (exclusive) of the assignable IOVA range; keep it within the IOMMU's address width
 * @param lockTimeout how long a creator waits for a live holder of the group lock
 */
public record MemoryConfig(String filePrefix, Path hugeDir, Path runtimeDir, PageSize pageSize, Backing backing,
        IovaMode iovaMode, long size, int maxSegments, int maxMemzones, long iovaBase, long iovaLimit,
        Duration lockTimeout) {

    public static final String DEFAULT_PREFIX = "jnic";
    public static final Path DEFAULT_HUGE_DIR = Path.of("/dev/hugepages");
    /** DPDK's RTE_MAX_MEMZONE. */
    public static final int DEFAULT_MAX_MEMZONES = 2560;
    public static final int DEFAULT_MAX_SEGMENTS = 64;
    /** Caps that keep a header's tables a few MB at most; a header claiming more is treated as corrupt. */
    public static final int LIMIT_SEGMENTS = 1024;
    public static final int LIMIT_MEMZONES = 65536;
    public static final int MAX_PREFIX_LENGTH = 32;
    /** 4 GB: leaves the low range to whatever a platform reserves there (MSI windows, legacy DMA). */
    public static final long DEFAULT_IOVA_BASE = 1L << 32;
    /** 39 bits: the smallest address width VT-d implementations (and QEMU's intel-iommu) offer. */
    public static final long DEFAULT_IOVA_LIMIT = 1L << 39;

    public MemoryConfig {
        Objects.requireNonNull(filePrefix, "filePrefix");
        Objects.requireNonNull(hugeDir, "hugeDir");
        Objects.requireNonNull(runtimeDir, "runtimeDir");
        Objects.requireNonNull(pageSize, "pageSize");
        Objects.requireNonNull(backing, "backing");
        Objects.requireNonNull(iovaMode, "iovaMode");
        Objects.requireNonNull(lockTimeout, "lockTimeout");
        checkPrefix(filePrefix);
        if (size < 0) {
            throw new IllegalArgumentException("memory size " + size + " is negative");
        }
        if (maxSegments < 1 || maxSegments > LIMIT_SEGMENTS) {
            throw new IllegalArgumentException("maxSegments " + maxSegments + " outside 1.." + LIMIT_SEGMENTS);
        }
        if (maxMemzones < 1 || maxMemzones > LIMIT_MEMZONES) {
            throw new IllegalArgumentException("maxMemzones " + maxMemzones + " outside 1.." + LIMIT_MEMZONES);
        }
        if (iovaBase <= 0 || iovaLimit <= iovaBase || (iovaBase & 0xFFF) != 0) {
            throw new IllegalArgumentException("IOVA range [0x" + Long.toHexString(iovaBase) + ", 0x"
                    + Long.toHexString(iovaLimit) + ") is empty, starts at 0 or is not 4 KB aligned");
        }
        if (iovaMode == IovaMode.PHYSICAL && !pageSize.isHuge()) {
            throw new IllegalArgumentException("IOVA mode PHYSICAL needs hugepages: 4 KB pages can be moved by the"
                    + " kernel, so their physical addresses are not stable. Use IDENTITY or ASSIGNED with --no-huge.");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.filePrefix = filePrefix;
        b.hugeDir = hugeDir;
        b.runtimeDir = runtimeDir;
        b.pageSize = pageSize;
        b.backing = backing;
        b.iovaMode = iovaMode;
        b.size = size;
        b.maxSegments = maxSegments;
        b.maxMemzones = maxMemzones;
        b.iovaBase = iovaBase;
        b.iovaLimit = iovaLimit;
        b.lockTimeout = lockTimeout;
        return b;
    }

    /** True for {@code --no-huge}. */
    public boolean noHuge() {
        return !pageSize.isHuge();
    }

    /** Where FILE-backed segments live: the huge dir for hugepages, the runtime dir for 4 KB pages. */
    public Path dataDir() {
        return pageSize.isHuge() ? hugeDir : runtimeDir;
    }

    /** The header file of a FILE-backed group. */
    public Path headerPath() {
        return runtimeDir.resolve(headerFileName(filePrefix));
    }

    static String headerFileName(String prefix) {
        return prefix + "memconfig";
    }

    static String segmentFileName(String prefix, int id) {
        return prefix + "map_" + id;
    }

    /**
     * The runtime dir DPDK users expect: {@code /var/run/jnic/<prefix>} for root,
     * {@code $XDG_RUNTIME_DIR/jnic/<prefix>} otherwise, {@code /tmp/jnic-<uid>/<prefix>} as a last resort.
     */
    public static Path defaultRuntimeDir(String prefix) {
        checkPrefix(prefix);
        if (Proc.geteuid() == 0) {
            return Path.of("/var/run/jnic", prefix);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "jnic", prefix);
        }
        return Path.of("/tmp", "jnic-" + Proc.geteuid(), prefix);
    }

    static void checkPrefix(String prefix) {
        if (prefix.isEmpty() || prefix.length() > MAX_PREFIX_LENGTH || prefix.charAt(0) == '.') {
            throw new IllegalArgumentException("file prefix '" + prefix + "' must be 1.." + MAX_PREFIX_LENGTH
                    + " characters and not start with '.'");
        }
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
                    || c == '.')) {
                throw new IllegalArgumentException("file prefix '" + prefix + "' may only hold letters, digits, '_',"
                        + " '-' and '.' (it becomes part of file names)");
            }
        }
    }

    /** Builder with DPDK-like defaults: prefix "jnic", 2 MB pages in /dev/hugepages, 64 MB, IOVA ASSIGNED. */
    public static final class Builder {
        private String filePrefix = DEFAULT_PREFIX;
        private Path hugeDir = DEFAULT_HUGE_DIR;
        private Path runtimeDir;
        private PageSize pageSize = PageSize.HUGE_2M;
        private Backing backing = Backing.FILE;
        private IovaMode iovaMode = IovaMode.ASSIGNED;
        private long size = 64L << 20;
        private int maxSegments = DEFAULT_MAX_SEGMENTS;
        private int maxMemzones = DEFAULT_MAX_MEMZONES;
        private long iovaBase = DEFAULT_IOVA_BASE;
        private long iovaLimit = DEFAULT_IOVA_LIMIT;
        private Duration lockTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        public Builder filePrefix(String v) {
            filePrefix = v;
            return this;
        }

        public Builder hugeDir(Path v) {
            hugeDir = v;
            return this;
        }

        public Builder runtimeDir(Path v) {
            runtimeDir = v;
            return this;
        }

        public Builder pageSize(PageSize v) {
            pageSize = v;
            return this;
        }

        /** {@code --no-huge}: 4 KB pages. */
        public Builder noHuge() {
            pageSize = PageSize.SMALL_4K;
            return this;
        }

        public Builder backing(Backing v) {
            backing = v;
            return this;
        }

        public Builder iovaMode(IovaMode v) {
            iovaMode = v;
            return this;
        }

        /** Bytes of the first segment (rounded up to whole pages); 0 makes a group without memory yet. */
        public Builder size(long v) {
            size = v;
            return this;
        }

        public Builder maxSegments(int v) {
            maxSegments = v;
            return this;
        }

        public Builder maxMemzones(int v) {
            maxMemzones = v;
            return this;
        }

        public Builder iovaRange(long base, long limit) {
            iovaBase = base;
            iovaLimit = limit;
            return this;
        }

        public Builder lockTimeout(Duration v) {
            lockTimeout = v;
            return this;
        }

        public MemoryConfig build() {
            Path rt = runtimeDir != null ? runtimeDir : defaultRuntimeDir(filePrefix);
            return new MemoryConfig(filePrefix, hugeDir, rt, pageSize, backing, iovaMode, size, maxSegments,
                    maxMemzones, iovaBase, iovaLimit, lockTimeout);
        }
    }
}
