package io.jnic.memory;

import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Virtual-to-physical translation through {@code /proc/self/pagemap} (Documentation/admin-guide/mm/pagemap.rst):
 * one 64-bit entry per 4 KB virtual page, at file offset {@code (va / 4096) * 8}.
 * Bits 0-54 hold the page-frame number when the page is present, bit 62 says swapped, bit 63 present.
 * Since Linux 4.0 the PFN reads as 0 unless the reader has CAP_SYS_ADMIN. Used once per page when a
 * segment is mapped, never on the data path.
 */
public final class Pagemap {
    static final long SMALL_PAGE = 4096;
    static final long PFN_MASK = (1L << 55) - 1;
    static final long SWAPPED = 1L << 62;
    static final long PRESENT = 1L << 63;
    static final String PATH = "/proc/self/pagemap";

    private Pagemap() {
    }

    /** The physical address of the byte at {@code address} (which must be in a present, locked page). */
    public static long physicalAddress(long address) {
        return physicalAddresses(address, SMALL_PAGE, 1)[0];
    }

    /**
     * Physical addresses of {@code count} pages of {@code pageSize} bytes starting at the page-aligned
     * virtual {@code address}: the address of each page's first byte.
     */
    public static long[] physicalAddresses(long address, long pageSize, int count) {
        long[] out = new long[count];
        int fd;
        try {
            fd = Io.open(PATH, Io.O_RDONLY | Io.O_CLOEXEC);
        } catch (SysException e) {
            throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, "cannot read " + PATH + " ("
                    + e.getMessage() + "): physical addresses are not available; use IOVA mode ASSIGNED (VFIO with"
                    + " an IOMMU) or IDENTITY (virtual devices)", e);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment entry = arena.allocate(8, 8);
            for (int i = 0; i < count; i++) {
                long va = address + i * pageSize;
                long off = (va / SMALL_PAGE) * 8;
                if (Io.pread(fd, entry, 8, off) != 8) {
                    throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, "short read of " + PATH
                            + " at the entry for 0x" + Long.toHexString(va));
                }
                long base = va & ~(SMALL_PAGE - 1);
                out[i] = decode(entry.get(ValueLayout.JAVA_LONG, 0), base) + (va - base);
            }
        } finally {
            Io.closeQuietly(fd);
        }
        return out;
    }

    /** The physical address of the 4 KB page at {@code va} from its pagemap entry, or a clear error. */
    static long decode(long entry, long va) {
        if ((entry & PRESENT) == 0) {
            throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, "the page at virtual 0x"
                    + Long.toHexString(va) + " is not present in memory" + ((entry & SWAPPED) != 0 ? " (swapped out)" : "")
                    + ": DMA memory must be populated and locked before its physical address is read");
        }
        long pfn = entry & PFN_MASK;
        if (pfn == 0) {
            throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, "the kernel hides physical page"
                    + " frame numbers from this process (uid " + Proc.geteuid() + ", /proc/self/pagemap shows PFN 0"
                    + " without CAP_SYS_ADMIN): run as root for IOVA mode PHYSICAL (UIO, VFIO no-IOMMU), or use"
                    + " ASSIGNED with VFIO and an IOMMU");
        }
        return pfn * SMALL_PAGE;
    }
}
