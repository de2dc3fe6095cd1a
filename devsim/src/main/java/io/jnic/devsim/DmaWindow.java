package io.jnic.devsim;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous piece of the driver's memory the device may reach: IOVAs {@code [iova, iova + size)} are
 * the bytes of {@code segment}. Immutable, created when the driver maps memory, so that looking up an
 * address on the data path allocates nothing.
 */
public final class DmaWindow {
    private final long iova;
    private final MemorySegment segment;

    public DmaWindow(long iova, MemorySegment segment) {
        if (iova < 0 || segment.byteSize() <= 0 || iova + segment.byteSize() < iova) {
            throw new IllegalArgumentException("DMA window at IOVA 0x" + Long.toHexString(iova) + " of "
                    + segment.byteSize() + " bytes is empty or wraps the address space");
        }
        this.iova = iova;
        this.segment = segment;
    }

    public long iova() {
        return iova;
    }

    public long size() {
        return segment.byteSize();
    }

    public MemorySegment segment() {
        return segment;
    }

    /** False when the driver mapped this memory read-only for the device (then only TX data may come from it). */
    public boolean writable() {
        return !segment.isReadOnly();
    }

    /** True when {@code [address, address + length)} lies inside this window. */
    public boolean covers(long address, long length) {
        return address >= iova && length >= 0 && address - iova <= segment.byteSize() - length;
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(iova) + ", 0x" + Long.toHexString(iova + size()) + ")";
    }
}
