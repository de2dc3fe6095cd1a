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

    /** Sets {@code bits} in the 32-bit register at {@code offset} (read, or, write back). */
    default void setBits(long offset, int bits) {
        write32(offset, read32(offset) | bits);
    }

    /** Clears {@code bits} in the 32-bit register at {@code offset}. */
    default void clearBits(long offset, int bits) {
        write32(offset, read32(offset) & ~bits);
    }

    /** Replaces the bits of {@code mask} in the register at {@code offset} with those of {@code value}. */
    default void modify(long offset, int mask, int value) {
        write32(offset, read32(offset) & ~mask | value & mask);
    }

    /**
     * Polls the register at {@code offset} (every 10 us) until its {@code mask} bits equal {@code want}; after
     * {@code timeoutNanos} throws, naming {@code what} is awaited, the register and the value it last read.
     */
    default void waitBits(long offset, int mask, int want, long timeoutNanos, String what) {
        long end = System.nanoTime() + timeoutNanos;
        while (true) {
            int v = read32(offset);
            if ((v & mask) == want) {
                return;
            }
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException(String.format("timed out after %d ms waiting for %s; register 0x%05x of "
                        + "BAR %d reads 0x%08x (bits 0x%08x should read 0x%08x)", timeoutNanos / 1_000_000, what, offset,
                        index(), v, mask, want));
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(0, 10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }
}
