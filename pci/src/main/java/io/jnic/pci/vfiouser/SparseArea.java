package io.jnic.pci.vfiouser;

/**
 * A part of a region the client may mmap (struct vfio_region_sparse_mmap_area): {@code offset} from the
 * start of the region, {@code size} bytes. The mmap offset in the region's descriptor is the region's
 * offset plus this offset.
 */
public record SparseArea(long offset, long size) {
    public SparseArea {
        if (offset < 0 || size <= 0 || offset > Long.MAX_VALUE - size) {
            throw new IllegalArgumentException("sparse mmap area at " + offset + " of " + size + " bytes");
        }
    }

    public long end() {
        return offset + size;
    }

    public boolean contains(long at, long length) {
        return at >= offset && length >= 0 && at <= end() - length;
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(size) + ")";
    }
}
