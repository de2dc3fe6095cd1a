package io.jnic.sys.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.Proc;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine resources tests need (hugepages, a writable hugetlbfs, locked memory, root), each checked by
 * using it the way the test will: a hugepage probe maps and touches the pages, a locked-memory probe mlocks the
 * bytes. A test whose resource is missing is skipped (JUnit assumption) with the command that provides it. The
 * one place these probes live: every module's tests use this class (the jnic-sys test-jar).
 */
public final class TestResources {
    public static final long MB2 = 2L << 20;
    public static final Path HUGE_DIR = Path.of("/dev/hugepages");
    private static final Path POOL = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB");
    private static final String RESERVE = "echo 1024 > " + POOL.resolve("nr_hugepages");
    private static int probes;

    private TestResources() {
    }

    /**
     * Skips unless {@code pages} 2 MB hugepages can be had right now: a hugetlb memfd of that size is mapped and
     * every page written (an empty pool lets memfd_create succeed and fails only at mmap).
     */
    public static void assumeHugepages(int pages) {
        String why = hugepagesMissing(pages);
        assumeTrue(why == null, () -> "needs " + pages + " free 2 MB hugepages (" + why + "): reserve them as root: "
                + RESERVE);
    }

    /**
     * Skips unless this process can create files of {@code pages} 2 MB hugepages in {@link #HUGE_DIR}: it is a
     * hugetlbfs mount of 2 MB pages, writable by this user, and a file there maps and touches that many pages.
     */
    public static void assumeHugepageFiles(int pages) {
        String why = hugepageFilesMissing(HUGE_DIR, pages);
        assumeTrue(why == null, () -> "needs a writable 2 MB hugetlbfs at " + HUGE_DIR + " with " + pages
                + " free pages (" + why + "): as root: mount -t hugetlbfs -o pagesize=2M"
                + (Proc.geteuid() == 0 ? "" : ",uid=" + Proc.geteuid()) + " nodev " + HUGE_DIR + " && " + RESERVE);
    }

    /**
     * Skips unless {@code bytes} more can be locked in memory now: an anonymous mapping of that size is mlocked
     * (what a memory group does with each segment; an unprivileged user's limit is often 8 MB).
     */
    public static void assumeLockable(long bytes) {
        String why = lockMissing(bytes);
        assumeTrue(why == null, () -> "needs " + (bytes >> 20) + " MB of locked memory (" + why + "): raise the "
                + "limit, e.g. `ulimit -l unlimited` as root before starting the tests (or a memlock line in "
                + "/etc/security/limits.conf), or run them as root");
    }

    /** Skips unless the tests run as root; {@code what} says what needs it. */
    public static void assumeRoot(String what) {
        assumeTrue(Proc.geteuid() == 0, () -> what + " needs root: run the tests as root (sudo ./jnic test)");
    }

    /** Why {@code pages} hugepages cannot be mapped now, or null when they can. */
    public static String hugepagesMissing(int pages) {
        int fd;
        try {
            fd = Mman.memfdCreate("jnic-test-probe", Mman.MFD_CLOEXEC | Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB);
        } catch (SysException e) {
            return "memfd_create(MFD_HUGETLB) failed: " + e.getMessage();
        }
        try {
            Io.ftruncate(fd, pages * MB2);
            return mapAndTouch(fd, pages);
        } catch (SysException e) {
            return e.getMessage() + "; " + pool();
        } finally {
            Io.closeQuietly(fd);
        }
    }

    /** Why files of {@code pages} hugepages cannot be made in {@code dir} now, or null when they can. */
    public static String hugepageFilesMissing(Path dir, int pages) {
        if (!isHugetlbfs2M(dir)) {
            return dir + " is not a hugetlbfs mount of 2 MB pages";
        }
        Path f = dir.resolve("jnic-test-probe-" + Proc.getpid() + "-" + (++probes));
        int fd;
        try {
            fd = Io.open(f.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_EXCL | Io.O_CLOEXEC, 0600);
        } catch (SysException e) {
            return "cannot create a file there: " + e.getMessage();
        }
        try {
            Io.ftruncate(fd, pages * MB2);
            return mapAndTouch(fd, pages);
        } catch (SysException e) {
            return e.getMessage() + "; " + pool();
        } finally {
            Io.closeQuietly(fd);
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                // an empty hugetlbfs file holds no page
            }
        }
    }

    /** Why {@code bytes} cannot be locked now, or null when they can. */
    public static String lockMissing(long bytes) {
        long size = (bytes + 4095) & ~4095L;
        MemorySegment m;
        try {
            m = Mman.mmap(size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        } catch (SysException e) {
            return e.getMessage();
        }
        try {
            Mman.mlock(m);
            Mman.munlock(m);
            return null;
        } catch (SysException e) {
            return e.getMessage() + " with a locked-memory limit of " + lockLimit();
        } finally {
            Mman.munmap(m);
        }
    }

    private static String mapAndTouch(int fd, int pages) {
        // no MAP_POPULATE: the reservation at mmap is what fails on an empty pool; writing then faults each page
        MemorySegment m = Mman.mmap(pages * MB2, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        try {
            for (int p = 0; p < pages; p++) {
                m.set(ValueLayout.JAVA_BYTE, p * MB2, (byte) 1);
            }
            return null;
        } finally {
            Mman.munmap(m);
        }
    }

    private static String pool() {
        return "the pool has " + read("free_hugepages") + " free of " + read("nr_hugepages") + " reserved";
    }

    private static String read(String name) {
        try {
            return Files.readString(POOL.resolve(name)).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** "Max locked memory" of /proc/self/limits, in kB or "unlimited". */
    static String lockLimit() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max locked memory")) {
                    String soft = l.substring("Max locked memory".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? soft : (Long.parseLong(soft) >> 10) + " kB";
                }
            }
        } catch (IOException | RuntimeException e) {
            // reported as unknown
        }
        return "unknown size";
    }

    /** Whether {@code dir} is a hugetlbfs mount point of 2 MB pages (the kernel's default size when not given). */
    public static boolean isHugetlbfs2M(Path dir) {
        try {
            String target = dir.toRealPath().toString();
            String fs = null;
            String opts = "";
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                int dash = line.indexOf(" - ");
                if (f.length > 4 && f[4].equals(target) && dash > 0) {
                    String[] tail = line.substring(dash + 3).split(" ");
                    fs = tail[0];
                    opts = tail.length > 2 ? tail[2] : "";
                }
            }
            return "hugetlbfs".equals(fs) && (opts.contains("pagesize=2M") || !opts.contains("pagesize="));
        } catch (IOException e) {
            return false;
        }
    }
}
