package io.jnic.pci.vfio;

import java.util.List;

/**
 * VFIO_DEVICE_GET_REGION_INFO for one region: flags, size, the offset of the region in the device fd (for
 * pread/pwrite/mmap) and, when the kernel sent a sparse-mmap capability, the parts that may be mapped.
 */
public record VfioRegionInfo(int index, int flags, long size, long offset, List<SparseArea> sparseAreas) {
    /** A mappable window of a region, relative to the region's start. */
    public record SparseArea(long offset, long size) {
    }

    public VfioRegionInfo {
        sparseAreas = List.copyOf(sparseAreas);
    }

    public boolean readable() {
        return (flags & Vfio.VFIO_REGION_INFO_FLAG_READ) != 0;
    }

    public boolean writable() {
        return (flags & Vfio.VFIO_REGION_INFO_FLAG_WRITE) != 0;
    }

    public boolean mappable() {
        return (flags & Vfio.VFIO_REGION_INFO_FLAG_MMAP) != 0;
    }

    /** The parts to mmap: the sparse areas when given, else the whole region when mappable, else none. */
    public List<SparseArea> mmapAreas() {
        if (!mappable() || size == 0) {
            return List.of();
        }
        return sparseAreas.isEmpty() ? List.of(new SparseArea(0, size)) : sparseAreas;
    }

    @Override
    public String toString() {
        return "region " + index + " size 0x" + Long.toHexString(size) + " @0x" + Long.toHexString(offset)
                + (readable() ? " r" : "") + (writable() ? "w" : "") + (mappable() ? " mmap" : "")
                + (sparseAreas.isEmpty() ? "" : " sparse" + sparseAreas);
    }
}
