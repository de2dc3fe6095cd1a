package io.jnic.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the kernel offers in hugepages: the per-size pools under {@code /sys/kernel/mm/hugepages} and the
 * hugetlbfs mounts in {@code /proc/self/mountinfo}. Used before creating segments so that a missing pool
 * or mount is reported with the command that fixes it, rather than as a bare errno.
 */
public final class Hugepages {
    static final Path SYSFS = Path.of("/sys/kernel/mm/hugepages");
    static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private Hugepages() {
    }

    /** Pages of this size in the pool ({@code nr_hugepages}); 0 when the kernel has no such pool. */
    public static long total(PageSize size) {
        return read(size, "nr_hugepages");
    }

    /**
     * Pages that a new mapping can still get: free pages minus those already promised to existing mappings
     * ({@code free_hugepages - resv_hugepages}).
     */
    public static long available(PageSize size) {
        return Math.max(0, read(size, "free_hugepages") - read(size, "resv_hugepages"));
    }

    /** The sysfs file to write to reserve pages of this size. */
    public static Path nrHugepagesFile(PageSize size) {
        return SYSFS.resolve(size.sysfsName()).resolve("nr_hugepages");
    }

    /** Throws {@link MemoryException.Reason#NO_HUGEPAGES} unless {@code bytes} worth of pages are available. */
    static void checkAvailable(PageSize size, long bytes) {
        long need = bytes >>> size.shift();
        if (!Files.isDirectory(SYSFS.resolve(size.sysfsName()))) {
            throw new MemoryException(MemoryException.Reason.NO_HUGEPAGES, "this kernel has no " + size.label()
                    + " hugepage pool (" + SYSFS.resolve(size.sysfsName()) + " is missing): use another page size"
                    + (size == PageSize.HUGE_1G ? " or boot with hugepagesz=1G hugepages=N" : ""));
        }
        long available = available(size);
        if (available < need) {
            throw notEnough(size, need, total(size), available);
        }
    }

    static MemoryException notEnough(PageSize size, long need, long total, long available) {
        long wanted = total + (need - available);
        String how = "reserve them as root with `echo " + wanted + " > " + nrHugepagesFile(size) + "`"
                + (size == PageSize.HUGE_1G ? " (1 GB pages are best reserved at boot: hugepagesz=1G hugepages="
                        + wanted + ")" : "")
                + ", or run with --no-huge (4 KB pages: tests and virtual devices only)";
        String what = total == 0
                ? "no " + size.label() + " hugepages are reserved"
                : "not enough " + size.label() + " hugepages: " + need + " needed, " + available + " available of "
                        + total + " reserved";
        return new MemoryException(MemoryException.Reason.NO_HUGEPAGES, what + ": " + how);
    }

    /**
     * The error for ENOMEM/ENOSPC while allocating hugepages that the pool seemed to have: another process took
     * them meanwhile, a size= limit on the hugetlbfs mount, or a hugetlb cgroup limit.
     *
     * @param mount the hugetlbfs directory of a FILE segment, null for a memfd
     */
    static MemoryException outOfPages(PageSize size, long bytes, Path mount, RuntimeException cause) {
        long need = bytes >>> size.shift();
        long total = total(size);
        long available = available(size);
        return new MemoryException(MemoryException.Reason.NO_HUGEPAGES, "the kernel could not supply " + need + " "
                + size.label() + " hugepages (" + cause.getMessage() + "); the pool has " + available + " available of "
                + total + " reserved. Reserve more with `echo " + (total + need) + " > " + nrHugepagesFile(size) + "`"
                + (mount != null ? ", check the size= option of the hugetlbfs mount at " + mount : "")
                + " and any hugetlb cgroup limit, or run with --no-huge", cause);
    }

    /**
     * Throws {@link MemoryException.Reason#NOT_HUGETLBFS} unless {@code dir} is a hugetlbfs mount whose page
     * size is {@code size}.
     */
    static void checkMount(Path dir, PageSize size) {
        String mountCmd = "mkdir -p " + dir + " && mount -t hugetlbfs -o pagesize=" + (size.bytes() >> 20 >= 1024
                ? (size.bytes() >> 30) + "G" : (size.bytes() >> 20) + "M") + " nodev " + dir;
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new MemoryException(MemoryException.Reason.NOT_HUGETLBFS, "huge dir " + dir
                    + " does not exist: mount hugetlbfs there with `" + mountCmd + "` (or pass --huge-dir)", e);
        }
        Mount m = mountOf(real);
        if (m == null || !m.fsType.equals("hugetlbfs")) {
            throw new MemoryException(MemoryException.Reason.NOT_HUGETLBFS, "huge dir " + dir + " is not a hugetlbfs"
                    + " mount" + (m != null ? " (it is " + m.fsType + " mounted at " + m.point + ")" : "")
                    + ": mount one with `" + mountCmd + "` (or pass --huge-dir)");
        }
        long mounted = m.pageSize != 0 ? m.pageSize : defaultHugepageSize();
        if (mounted != size.bytes()) {
            throw new MemoryException(MemoryException.Reason.NOT_HUGETLBFS, "huge dir " + dir + " is a hugetlbfs mount"
                    + " of " + (mounted >> 10) + " kB pages, but " + size.label() + " pages were asked for: mount"
                    + " another with `" + mountCmd + "`");
        }
    }

    record Mount(String point, String fsType, long pageSize) {
    }

    /** The mount holding {@code realPath}: the longest mount point that is a prefix of it (last wins). */
    static Mount mountOf(Path realPath) {
        List<String> lines;
        try {
            lines = Files.readAllLines(MOUNTINFO);
        } catch (IOException e) {
            return null;
        }
        Mount best = null;
        for (String line : lines) {
            // id parent major:minor root mountpoint options [optional fields] - fstype source superoptions
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 5 || dash < 0 || dash + 1 >= f.length) {
                continue;
            }
            String point = unescape(f[4]);
            if (!realPath.startsWith(Path.of(point))) {
                continue;
            }
            if (best != null && Path.of(point).getNameCount() < Path.of(best.point).getNameCount()) {
                continue;
            }
            String fsType = f[dash + 1];
            long pageSize = 0;
            if (dash + 3 < f.length) {
                for (String opt : f[dash + 3].split(",")) {
                    if (opt.startsWith("pagesize=")) {
                        pageSize = parseSize(opt.substring("pagesize=".length()));
                    }
                }
            }
            best = new Mount(point, fsType, pageSize);
        }
        return best;
    }

    /** The kernel's default hugepage size from /proc/meminfo ("Hugepagesize: 2048 kB"). */
    static long defaultHugepageSize() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("Hugepagesize:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return PageSize.HUGE_2M.bytes();
    }

    static long parseSize(String s) {
        long mult = switch (Character.toUpperCase(s.charAt(s.length() - 1))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = mult == 1 ? s : s.substring(0, s.length() - 1);
        try {
            return Long.parseLong(digits) * mult;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String unescape(String s) {
        // mountinfo octal-escapes space, tab, newline and backslash
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static long read(PageSize size, String file) {
        try {
            return Long.parseLong(Files.readString(SYSFS.resolve(size.sysfsName()).resolve(file)).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
