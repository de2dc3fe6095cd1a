package io.jnic.driver.virtio;

import java.lang.foreign.MemorySegment;

/**
 * A virtqueue's indirect descriptor tables (VIRTIO_F_INDIRECT_DESC, 2.7.5.3 / 2.8.19): one table of
 * {@code perBuffer} 16-byte descriptors per ring slot, so that a buffer of many pieces takes one slot. The ring
 * writes the entries in its own format; this class only places the tables.
 */
final class IndirectTables {
    static final int DESC_SIZE = 16;

    final MemorySegment memory;
    private final long iova;
    final int perBuffer;

    IndirectTables(int queue, int slots, MemorySegment memory, long iova, int perBuffer) {
        if (perBuffer < 1) {
            throw new IllegalArgumentException("virtqueue " + queue + ": an indirect table holds at least 1 descriptor, not "
                    + perBuffer);
        }
        if (memory.byteSize() < (long) slots * perBuffer * DESC_SIZE) {
            throw new IllegalArgumentException("virtqueue " + queue + ": indirect tables for " + slots + " x " + perBuffer
                    + " descriptors need " + (long) slots * perBuffer * DESC_SIZE + " bytes, not " + memory.byteSize());
        }
        this.memory = memory;
        this.iova = iova;
        this.perBuffer = perBuffer;
    }

    /** Throws unless queue {@code queue} has tables ({@code t} not null) and a buffer of {@code n} pieces fits one. */
    static void checkPieces(IndirectTables t, int queue, int n) {
        if (t == null) {
            throw new UnsupportedOperationException("virtqueue " + queue + " has no indirect tables");
        }
        if (n < 1 || n > t.perBuffer) {
            throw new IllegalArgumentException("virtqueue " + queue + ": a buffer of " + n + " pieces; indirect tables "
                    + "hold 1.." + t.perBuffer);
        }
    }

    /** Offset in {@link #memory} of slot {@code slot}'s table. */
    long offset(int slot) {
        return (long) slot * perBuffer * DESC_SIZE;
    }

    /** Device address of slot {@code slot}'s table. */
    long iova(int slot) {
        return iova + offset(slot);
    }
}
