package io.jnic.memory;

/**
 * How a segment's bytes are named to devices (the I/O virtual address, IOVA). Chosen once per memory group
 * and recorded in its header; every process of the group computes the same IOVA for the same byte.
 *
 * <ul>
 *   <li>{@link #PHYSICAL} (DPDK's {@code RTE_IOVA_PA}): the physical address, read from
 *       {@code /proc/self/pagemap}. For UIO and VFIO no-IOMMU. Needs hugepages (they never move) and root
 *       (the kernel hides page-frame numbers from others). Translation is a per-page table lookup.</li>
 *   <li>{@link #ASSIGNED}: an address we choose from the group's IOVA allocator and later map in an IOMMU
 *       (VFIO type1 DMA_MAP), announce to a vfio-user server (DMA_MAP) or to a vhost-user backend (the
 *       memory table's guest addresses). Segments get non-overlapping ranges aligned to their page size.
 *       Translation is base + offset.</li>
 *   <li>{@link #IDENTITY} (DPDK's {@code RTE_IOVA_VA}): the virtual address at which the process that
 *       created the segment mapped it. In that process IOVA equals the pointer; other processes map the
 *       segment elsewhere but use the same IOVA (it is recorded in the shared table). For virtual devices.
 *       Translation is base + offset.</li>
 * </ul>
 */
public enum IovaMode {
    PHYSICAL(1),
    ASSIGNED(2),
    IDENTITY(3);

    private final int code;

    IovaMode(int code) {
        this.code = code;
    }

    /** The value stored in the shared header. */
    int code() {
        return code;
    }

    static IovaMode ofCode(int code) {
        for (IovaMode m : values()) {
            if (m.code == code) {
                return m;
            }
        }
        throw new MemoryException(MemoryException.Reason.CORRUPTED,
                "the group header names IOVA mode " + code + ", which is none of PHYSICAL(1), ASSIGNED(2), IDENTITY(3)");
    }
}
