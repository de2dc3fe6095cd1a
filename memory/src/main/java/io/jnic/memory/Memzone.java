package io.jnic.memory;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A named, aligned range of a DMA segment (DPDK's rte_memzone), found by name in every process of the group.
 * Its position-independent address is (segment id, offset); {@link #memory()} is this process's view of it.
 * Zones come zeroed (segment memory is never reused) and are never freed individually.
 */
public final class Memzone {
    private final int index;
    private final String name;
    private final DmaSegment segment;
    private final long offset;
    private final long length;
    private final long align;
    private final MemorySegment memory;

    Memzone(int index, String name, DmaSegment segment, long offset, long length, long align) {
        this.index = index;
        this.name = name;
        this.segment = segment;
        this.offset = offset;
        this.length = length;
        this.align = align;
        this.memory = segment.memory().asSlice(offset, length);
    }

    /** Position in the group's memzone table. */
    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public DmaSegment segment() {
        return segment;
    }

    public int segmentId() {
        return segment.id();
    }

    /** Offset of the zone's first byte in its segment. */
    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    public long align() {
        return align;
    }

    /** The zone's bytes in this process. */
    public MemorySegment memory() {
        return memory;
    }

    /** IOVA of the byte at {@code offset} within the zone. */
    public long iova(long offset) {
        Objects.checkIndex(offset, length);
        return segment.iova(this.offset + offset);
    }

    /** True when the whole zone is one IOVA range (always for zones no longer than a page). */
    public boolean iovaContiguous() {
        return segment.iovaContiguous(offset, length);
    }

    @Override
    public String toString() {
        return "Memzone['" + name + "', segment " + segment.id() + " offset 0x" + Long.toHexString(offset) + ", "
                + length + " bytes, align " + align + "]";
    }
}
