package io.jnic.memory;

import io.jnic.sys.Mman;

/**
 * The page sizes DMA memory comes in. Hugepages (2 MB, 1 GB) are physically contiguous and never move, so
 * they can be handed to devices by physical address; 4 KB pages ({@code --no-huge}) are for tests and
 * virtual devices only.
 */
public enum PageSize {
    SMALL_4K(12),
    HUGE_2M(21),
    HUGE_1G(30);

    private final int shift;

    PageSize(int shift) {
        this.shift = shift;
    }

    /** Bytes per page. */
    public long bytes() {
        return 1L << shift;
    }

    /** log2 of {@link #bytes()}. */
    public int shift() {
        return shift;
    }

    public boolean isHuge() {
        return this != SMALL_4K;
    }

    /** The page size with exactly this many bytes. */
    public static PageSize ofBytes(long bytes) {
        for (PageSize p : values()) {
            if (p.bytes() == bytes) {
                return p;
            }
        }
        throw new IllegalArgumentException("unsupported page size " + bytes
                + " bytes: jnic knows 4096 (4 KB), 2097152 (2 MB) and 1073741824 (1 GB)");
    }

    /** {@code size} rounded up to a whole number of pages. */
    public long roundUp(long size) {
        long mask = bytes() - 1;
        if (size < 0 || size > Long.MAX_VALUE - mask) {
            throw new IllegalArgumentException("size " + size + " out of range");
        }
        return (size + mask) & ~mask;
    }

    /** The kernel's sysfs directory for this hugepage size, e.g. {@code hugepages-2048kB}. */
    String sysfsName() {
        return "hugepages-" + (bytes() >> 10) + "kB";
    }

    /** memfd_create(2) flags selecting this page size (0 for 4 KB pages). */
    int memfdFlags() {
        return switch (this) {
            case SMALL_4K -> 0;
            case HUGE_2M -> Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB;
            case HUGE_1G -> Mman.MFD_HUGETLB | Mman.MFD_HUGE_1GB;
        };
    }

    /** "2 MB", "1 GB", "4 KB". */
    public String label() {
        return switch (this) {
            case SMALL_4K -> "4 KB";
            case HUGE_2M -> "2 MB";
            case HUGE_1G -> "1 GB";
        };
    }

    @Override
    public String toString() {
        return label();
    }
}
