package io.jnic.pci;

import java.lang.foreign.MemorySegment;

/**
 * A memory BAR. Register accesses go to the mapping where the transport offers one and are trapped
 * (turned into messages or pread/pwrite) elsewhere; drivers need not care, except on the data path,
 * which uses {@link #mapped} views so that a doorbell write is one store.
 */
public interface PciBar {
    int index();

    long size();

    int read32(long offset);

    void write32(long offset, int value);

    /** True when {@code [offset, offset + length)} lies in a part of the BAR mapped into this process. */
    boolean isMapped(long offset, long length);

    /**
     * A direct view of {@code [offset, offset + length)}; throws naming the range when it is not mapped.
     * Accesses through it must use volatile or opaque VarHandles (they are device registers).
     */
    MemorySegment mapped(long offset, long length);
}
