package io.jnic.memory;

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

    private PlainAccess() {
    }
}
