package io.jnic.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Hands out non-overlapping, aligned IOVA ranges from {@code [next, limit)} for {@link IovaMode#ASSIGNED}:
 * the addresses at which segments will later be mapped in an IOMMU (VFIO type1), registered with a
 * vfio-user server or declared to a vhost-user backend. The cursor lives in shared memory (two u64 words:
 * next, limit) and advances by CAS, so every process of a group draws from one space. Ranges are never
 * returned (segments live as long as the group).
 */
public final class IovaAllocator {
    static final long NEXT = 0;
    static final long LIMIT = 8;
    public static final long SIZE = 16;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment words;

    /** A view of the cursor words at {@code memory[0, 16)}. */
    public IovaAllocator(MemorySegment memory) {
        if (memory.byteSize() < SIZE || memory.address() % 8 != 0) {
            throw new IllegalArgumentException("an IovaAllocator needs 16 bytes at an 8-byte aligned address");
        }
        this.words = memory.asSlice(0, SIZE);
    }

    /** Sets up an empty space {@code [base, limit)} (by the creator, before anyone else sees it). */
    public void init(long base, long limit) {
        if (base <= 0 || limit <= base) {
            throw new IllegalArgumentException("empty IOVA range [0x" + Long.toHexString(base) + ", 0x"
                    + Long.toHexString(limit) + ")");
        }
        LONG.setRelease(words, LIMIT, limit);
        LONG.setRelease(words, NEXT, base);
    }

    /**
     * The base of a fresh range of {@code size} bytes aligned to {@code align} (a power of two).
     *
     * @throws MemoryException {@link MemoryException.Reason#OUT_OF_MEMORY} when the space is used up
     */
    public long allocate(long size, long align) {
        if (size <= 0 || align <= 0 || Long.bitCount(align) != 1) {
            throw new IllegalArgumentException("IOVA allocation of " + size + " bytes aligned to " + align
                    + ": size must be positive and alignment a power of two");
        }
        long limit = (long) LONG.getAcquire(words, LIMIT);
        while (true) {
            long next = (long) LONG.getVolatile(words, NEXT);
            long base = (next + align - 1) & -align;
            if (next <= 0 || base < next || base > limit || size > limit - base) {
                throw new MemoryException(MemoryException.Reason.OUT_OF_MEMORY, "IOVA space exhausted: " + size
                        + " bytes do not fit between 0x" + Long.toHexString(next) + " and the limit 0x"
                        + Long.toHexString(limit) + " (raise the limit within the IOMMU's address width)");
            }
            if (LONG.compareAndSet(words, NEXT, next, base + size)) {
                return base;
            }
        }
    }

    /** The next unallocated IOVA. */
    public long next() {
        return (long) LONG.getVolatile(words, NEXT);
    }

    public long limit() {
        return (long) LONG.getAcquire(words, LIMIT);
    }
}
