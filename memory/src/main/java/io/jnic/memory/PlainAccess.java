package io.jnic.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Layouts for plain (unordered, non-atomic) accesses to shared memory at addresses whose alignment was checked
 * once where they came from: a handle's alignment check, a ring's slot array, a descriptor ring's base. With an
 * aligned layout every access tests the address's low bits again (perfasm on the mbuf free loop: a test and a
 * branch per access, and the compare's result kept live across the loop); x86 loads and stores the same way with
 * either. Ordered and atomic accesses (acquire, release, compare-and-set) keep aligned layouts.
 */
public final class PlainAccess {
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /**
     * All of the address space as one segment, for hot paths that address shared memory by {@link #address bounded}
     * absolute address: the memory must stay mapped while they run, and their own index masking keeps them inside it.
     */
    @SuppressWarnings("restricted") // needs --enable-native-access, as all of jnic does
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** User-space virtual addresses lie below 2^57 (2^47 with four-level paging, 2^56 with five). */
    private static final long USER_ADDRESS_BITS = (1L << 57) - 1;

    /**
     * {@code address} itself, with what the compiler needs to know that it and the next bytes lie within
     * {@link #ALL}: the mask bounds its range, so
     * the accesses at {@code address + small offsets} need no bounds check each (perfasm: a lea, cmp and branch per
     * access on the mbuf paths). The mask changes no user-space address.
     */
    public static long address(long address) {
        return address & USER_ADDRESS_BITS;
    }

    private PlainAccess() {
    }
}
