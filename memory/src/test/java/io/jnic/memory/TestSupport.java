package io.jnic.memory;

import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
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
        TestResources.assumeHugepageFiles(pages); // FILE backing: files in /dev/hugepages
        return MemoryConfig.builder().filePrefix(prefix()).runtimeDir(runtimeDir).pageSize(PageSize.HUGE_2M)
                .size(pages * MB2);
    }

    /** Skips unless {@code pages} 2 MB hugepages can really be mapped now (memfd-backed groups). */
    static void assumeHugepages(int pages) {
        TestResources.assumeHugepages(pages);
    }

    /** Skips unless files of {@code pages} 2 MB hugepages can be made in /dev/hugepages (FILE-backed groups). */
    static void assumeHugepageFiles(int pages) {
        TestResources.assumeHugepageFiles(pages);
    }

    static void assumeRoot() {
        TestResources.assumeRoot("this test");
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
