package io.jnic.pci;

import io.jnic.memory.Pagemap;

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
 * The check a device that DMAs by physical address (UIO, VFIO no-IOMMU) needs before it is given memory: the memory
 * must be hugepage-backed (the kernel never moves or swaps those) and physically contiguous at the address the
 * device will use. Translation is {@link io.jnic.memory.Pagemap}'s.
 */
public final class PhysicalDma {
    private PhysicalDma() {
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
            long actual = Pagemap.physicalAddress(va + off);
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
