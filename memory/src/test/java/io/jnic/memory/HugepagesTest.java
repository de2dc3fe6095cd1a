package io.jnic.memory;

import static io.jnic.memory.TestSupport.MB2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing, short or misconfigured hugepages give a message that says how to fix them, never a SIGBUS. */
class HugepagesTest {
    @TempDir
    Path dir;

    @Test
    void hugeDirThatIsNotHugetlbfs() {
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir.resolve("run"))
                .hugeDir(dir).size(MB2).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
        assertEquals(MemoryException.Reason.NOT_HUGETLBFS, e.reason());
        Hugepages.Mount m = Hugepages.mountOf(dir.toAbsolutePath());
        assertEquals("huge dir " + dir + " is not a hugetlbfs mount (it is " + m.fsType() + " mounted at " + m.point()
                + "): mount one with `mkdir -p " + dir + " && mount -t hugetlbfs -o pagesize=2M nodev " + dir
                + "` (or pass --huge-dir)", e.getMessage());
        assertFalse(Files.exists(cfg.headerPath()), "nothing created");
    }

    @Test
    void hugeDirThatDoesNotExist() {
        Path missing = dir.resolve("hugepages-1G");
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir)
                .hugeDir(missing).pageSize(PageSize.HUGE_1G).size(0).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
        assertEquals("huge dir " + missing + " does not exist: mount hugetlbfs there with `mkdir -p " + missing
                + " && mount -t hugetlbfs -o pagesize=1G nodev " + missing + "` (or pass --huge-dir)", e.getMessage());
    }

    @Test
    void hugetlbfsOfAnotherPageSize() {
        assumeTrue(isHugetlbfs(Path.of("/dev/hugepages"), 2 * 1024 * 1024), "needs 2M hugetlbfs at /dev/hugepages");
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir)
                .pageSize(PageSize.HUGE_1G).size(0).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
        assertEquals("huge dir /dev/hugepages is a hugetlbfs mount of 2048 kB pages, but 1 GB pages were asked for:"
                + " mount another with `mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=1G nodev"
                + " /dev/hugepages`", e.getMessage());
    }

    @Test
    void noHugepagesReservedSaysHowToReserveThem() {
        MemoryException e = Hugepages.notEnough(PageSize.HUGE_2M, 3, 0, 0);
        assertEquals(MemoryException.Reason.NO_HUGEPAGES, e.reason());
        assertEquals("no 2 MB hugepages are reserved: reserve them as root with `echo 3 >"
                + " /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`, or run with --no-huge (4 KB pages: tests"
                + " and virtual devices only)", e.getMessage());
        assertTrue(Hugepages.notEnough(PageSize.HUGE_2M, 10, 100, 4).getMessage().startsWith("not enough 2 MB"
                + " hugepages: 10 needed, 4 available of 100 reserved: reserve them as root with `echo 106 >"),
                "asks for the missing pages on top of the pool");
    }

    @Test
    void moreHugepagesThanThePoolHasIsRefusedBeforeAllocating() {
        TestSupport.assumeHugepages(1);
        long available = Hugepages.available(PageSize.HUGE_2M);
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir)
                .size((available + 1) * MB2).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
        assertEquals(MemoryException.Reason.NO_HUGEPAGES, e.reason());
        assertTrue(e.getMessage().startsWith("not enough 2 MB hugepages: " + (available + 1) + " needed, "),
                e.getMessage());
        assertTrue(e.getMessage().contains("> /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`"),
                e.getMessage());
        assertFalse(Files.exists(cfg.headerPath()));
    }

    @Test
    void oneGigabytePagesWhenNoneAreReserved() {
        assumeTrue(Hugepages.total(PageSize.HUGE_1G) == 0, "this machine has 1 GB pages reserved");
        assumeTrue(Files.isDirectory(Hugepages.SYSFS.resolve(PageSize.HUGE_1G.sysfsName())),
                "this kernel has no 1 GB hugepage pool (a CPU without pdpe1gb, or a VM that hides it)");
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir)
                .backing(Backing.MEMFD).pageSize(PageSize.HUGE_1G).size(1L << 30).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
        assertEquals(MemoryException.Reason.NO_HUGEPAGES, e.reason());
        assertTrue(e.getMessage().startsWith("no 1 GB hugepages are reserved: reserve them as root with `echo 1 >"
                + " /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages` (1 GB pages are best reserved at boot"),
                e.getMessage());
    }

    @Test
    void hugetlbfsMountTooSmallFailsAtCreationNotWithSigbus() throws Exception {
        TestSupport.assumeRoot();
        TestSupport.assumeHugepages(4);
        Path mnt = Files.createDirectory(dir.resolve("huge4m"));
        run("mount", "-t", "hugetlbfs", "-o", "pagesize=2M,size=4M", "nodev", mnt.toString());
        try {
            MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(dir.resolve("run"))
                    .hugeDir(mnt).size(6L << 20).build();
            MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
            assertEquals(MemoryException.Reason.NO_HUGEPAGES, e.reason());
            assertTrue(e.getMessage().startsWith("the kernel could not supply 3 2 MB hugepages (fallocate("),
                    e.getMessage());
            assertTrue(e.getMessage().contains("check the size= option of the hugetlbfs mount at " + mnt),
                    e.getMessage());
            try (var files = Files.list(mnt)) {
                assertEquals(List.of(), files.toList(), "the half-made segment file is removed");
            }
            assertFalse(Files.exists(cfg.headerPath()));
            try (MemoryGroup g = MemoryGroup.create(cfg.toBuilder().size(4L << 20).build())) {
                assertEquals(4L << 20, g.segment(0).size(), "what fits still works");
            }
        } finally {
            run("umount", mnt.toString());
        }
    }

    @Test
    void smallPageFileSystemTooSmallFailsAtCreationNotWithSigbus() throws Exception {
        TestSupport.assumeRoot();
        Path mnt = Files.createDirectory(dir.resolve("tmpfs256k"));
        run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mnt.toString());
        try {
            MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(mnt).noHuge()
                    .size(1L << 20).build();
            MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
            assertEquals(MemoryException.Reason.OUT_OF_MEMORY, e.reason());
            assertTrue(e.getMessage().startsWith("cannot allocate 1048576 bytes of 4 KB pages for "
                    + mnt.resolve(cfg.filePrefix() + "map_0") + " (is its file system full?): fallocate("),
                    e.getMessage());
            try (var files = Files.list(mnt)) {
                assertEquals(List.of(), files.toList());
            }
        } finally {
            run("umount", mnt.toString());
        }
    }

    @Test
    void mountinfoParsing() {
        assumeTrue(isHugetlbfs(Path.of("/dev/hugepages"), 2 * 1024 * 1024), "needs 2M hugetlbfs at /dev/hugepages");
        Hugepages.Mount m = Hugepages.mountOf(Path.of("/dev/hugepages/some-file"));
        assertEquals("/dev/hugepages", m.point());
        assertEquals(2L << 20, m.pageSize());
        assertEquals(1L << 30, Hugepages.parseSize("1G"));
        assertEquals(2048L << 10, Hugepages.parseSize("2048k"));
        assertEquals(0, Hugepages.parseSize("junk"));
    }

    private static boolean isHugetlbfs(Path p, long pageSize) {
        Hugepages.Mount m = Hugepages.mountOf(p);
        return m != null && m.fsType().equals("hugetlbfs") && m.point().equals(p.toString())
                && (m.pageSize() == pageSize || m.pageSize() == 0);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }
}
