package io.jnic.memory;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.sys.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Shared helpers: unique prefixes, hugepage assumptions, /proc/self/smaps fields. */
final class TestSupport {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    static final long MB2 = 2L << 20;

    private TestSupport() {
    }

    /** A file prefix no other test (or test run) uses. */
    static String prefix() {
        return "jt" + Proc.getpid() + "x" + COUNTER.incrementAndGet() + "_";
    }

    static MemoryConfig.Builder small(Path runtimeDir) {
        return MemoryConfig.builder().filePrefix(prefix()).runtimeDir(runtimeDir).noHuge().size(1L << 20)
                .iovaMode(IovaMode.ASSIGNED);
    }

    static MemoryConfig.Builder huge(Path runtimeDir, int pages) {
        assumeHugepages(pages);
        return MemoryConfig.builder().filePrefix(prefix()).runtimeDir(runtimeDir).pageSize(PageSize.HUGE_2M)
                .size(pages * MB2);
    }

    static void assumeHugepages(int pages) {
        assumeTrue(Hugepages.available(PageSize.HUGE_2M) >= pages + 2L, "needs " + pages + " free 2 MB hugepages:"
                + " echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        assumeTrue(Hugepages.mountOf(Path.of("/dev/hugepages")) != null
                && Hugepages.mountOf(Path.of("/dev/hugepages")).fsType().equals("hugetlbfs"),
                "needs hugetlbfs at /dev/hugepages: mount -t hugetlbfs nodev /dev/hugepages");
    }

    static void assumeRoot() {
        assumeTrue(Proc.geteuid() == 0, "needs root");
    }

    /** A field ("Locked", "KernelPageSize", ...) in kB of the /proc/self/smaps block of the mapping at {@code address}. */
    static long smapsField(long address, String field) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        String start = Long.toHexString(address) + "-";
        boolean in = false;
        for (String l : lines) {
            if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = l.startsWith(start);
                continue;
            }
            if (in && l.startsWith(field + ":")) {
                return Long.parseLong(l.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new AssertionError("no mapping at 0x" + Long.toHexString(address) + " with " + field + " in smaps");
    }
}
