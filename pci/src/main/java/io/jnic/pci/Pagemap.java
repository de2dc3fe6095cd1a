package io.jnic.pci;

import io.jnic.sys.Io;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Physical addresses of this process's memory, for devices that DMA without an IOMMU (UIO, VFIO
 * no-IOMMU). Reads /proc/self/pagemap (page-frame numbers need CAP_SYS_ADMIN; others read zeros) and
 * checks that memory is hugepage-backed, which the kernel never moves or swaps.
 */
public final class Pagemap {
    private static final long PAGE = 4096;
    private static final long PRESENT = 1L << 63;
    private static final long PFN_MASK = (1L << 55) - 1;

    private Pagemap() {
    }

    /** The physical address of virtual address {@code vaddr} of this process; the page must be present. */
    public static long physicalAddress(long vaddr) {
        int fd = Io.open("/proc/self/pagemap", Io.O_RDONLY | Io.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(8, 8);
            if (Io.pread(fd, e, 8, (vaddr / PAGE) * 8) != 8) {
                throw new IllegalStateException("short read of /proc/self/pagemap for 0x" + Long.toHexString(vaddr));
            }
            long entry = e.get(ValueLayout.JAVA_LONG, 0);
            if ((entry & PRESENT) == 0) {
                throw new IllegalStateException("page at 0x" + Long.toHexString(vaddr)
                        + " is not present: touch (fault in) the memory before asking for its physical address");
            }
            long pfn = entry & PFN_MASK;
            if (pfn == 0) {
                throw new IllegalStateException("/proc/self/pagemap shows no page-frame numbers: physical addresses "
                        + "need root (CAP_SYS_ADMIN)");
            }
            return pfn * PAGE + (vaddr % PAGE);
        } finally {
            Io.closeQuietly(fd);
        }
    }

    /** Page size in bytes of the mapping that holds {@code vaddr} (KernelPageSize in /proc/self/smaps). */
    public static long pageSize(long vaddr) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/smaps"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/smaps", e);
        }
        boolean inside = false;
        for (String l : lines) {
            int dash = l.indexOf('-');
            int space = l.indexOf(' ');
            if (dash > 0 && space > dash && isHex(l, 0, dash)) {
                long start = Long.parseUnsignedLong(l.substring(0, dash), 16);
                long end = Long.parseUnsignedLong(l.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(vaddr, start) >= 0 && Long.compareUnsigned(vaddr, end) < 0;
            } else if (inside && l.startsWith("KernelPageSize:")) {
                return Long.parseLong(l.substring("KernelPageSize:".length()).replace("kB", "").strip()) * 1024;
            }
        }
        throw new IllegalArgumentException("0x" + Long.toHexString(vaddr) + " is not mapped in this process");
    }

    /**
     * Checks that {@code memory} is hugepage-backed and lies at physical address {@code phys} contiguously
     * (so a device given {@code phys} reaches all of it); throws saying what is wrong otherwise.
     */
    public static void checkPhysical(MemorySegment memory, long phys) {
        long va = memory.address();
        long size = memory.byteSize();
        long ps = pageSize(va);
        if (ps < 2L << 20) {
            throw new IllegalArgumentException("memory at 0x" + Long.toHexString(va) + " is in " + (ps / 1024)
                    + " KiB pages: DMA by physical address needs pinned hugepages (hugetlbfs or MFD_HUGETLB memory)");
        }
        for (long off = 0; off < size; off += ps - ((va + off) % ps)) {
            long actual = physicalAddress(va + off);
            if (actual != phys + off) {
                throw new IllegalArgumentException("memory at 0x" + Long.toHexString(va + off) + " is at physical 0x"
                        + Long.toHexString(actual) + ", not 0x" + Long.toHexString(phys + off)
                        + (off == 0 ? "" : ": the range crosses physically discontiguous hugepages; map each page on its own"));
            }
        }
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }
}
