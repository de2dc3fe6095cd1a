package io.jnic.devsim;

/**
 * The device's view of the driver's memory, by IOVA (what a vfio-user DMA_MAP, a VFIO type1 map or a test
 * registers). A model asks for the window holding an address range once per descriptor or buffer; the
 * answer is a preallocated object, so the data path allocates nothing.
 */
public interface DmaMemory {
    /** The window that holds all of {@code [iova, iova + length)}, or null when the range is not mapped. */
    DmaWindow find(long iova, long length);
}
