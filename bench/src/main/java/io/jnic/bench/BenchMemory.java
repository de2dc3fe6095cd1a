package io.jnic.bench;

import io.jnic.sys.Mman;
import io.jnic.sys.SysException;

import java.lang.foreign.MemorySegment;

/** Shared memory for benchmarks: anonymous MAP_SHARED, on 2 MiB hugepages when there are free ones (as DPDK runs). */
final class BenchMemory {

    static final long HUGE = 2L << 20;

    private BenchMemory() {
    }

    static MemorySegment map(long bytes) {
        long size = (bytes + HUGE - 1) & -HUGE;
        int flags = Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE;
        try {
            return Mman.mmap(size, Mman.PROT_READ | Mman.PROT_WRITE, flags | Mman.MAP_HUGETLB, -1, 0);
        } catch (SysException e) {
            return Mman.mmap(size, Mman.PROT_READ | Mman.PROT_WRITE, flags, -1, 0);
        }
    }

    /** Page size behind a mapping from {@link #map}: 2 MiB when it came from hugepages (aligned), else 4 KiB. */
    static long pageSize(MemorySegment m) {
        return m.address() % HUGE == 0 && isHuge(m) ? HUGE : 4096;
    }

    private static boolean isHuge(MemorySegment m) {
        try {
            String smaps = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/smaps"));
            String start = Long.toHexString(m.address());
            int at = smaps.indexOf("\n" + start + "-");
            if (at < 0) {
                at = smaps.startsWith(start + "-") ? 0 : -1;
            }
            if (at < 0) {
                return false;
            }
            int k = smaps.indexOf("KernelPageSize:", at);
            return k > 0 && smaps.substring(k, smaps.indexOf('\n', k)).contains("2048");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
