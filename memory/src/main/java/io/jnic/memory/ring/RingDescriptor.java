package io.jnic.memory.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The shared layout of a {@link Ring} (version 2): offsets, the magic/version check and the encoding of the
 * two side words. See the package documentation for the table and the crash-safety argument.
 */
public final class RingDescriptor {

    /** "JNICRING" in ASCII, read as a little-endian long. */
    public static final long MAGIC = 0x474E495243494E4AL;
    public static final int VERSION = 2;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long FLAGS_OFFSET = 12;
    public static final long SIZE_OFFSET = 16;
    public static final long MASK_OFFSET = 20;
    public static final long CAPACITY_OFFSET = 24;
    public static final long NAME_OFFSET = 32;
    public static final int NAME_BYTES = 32;
    /**
     * Producer side word: the producer tail (entries below it are published) in the low 32 bits, the
     * {@link Holder holder} of the side in the high 32 bits (0 = nobody). On a cache line of its own, with an
     * empty line after it so that the adjacent-line prefetcher does not couple the two sides.
     */
    public static final long PROD_OFFSET = 128;
    /** The producer holder's stamp: which hold it belongs to and the holder's start time ({@link Holder#stamp}). */
    public static final long PROD_STAMP_OFFSET = 136;
    /** Consumer side word: the consumer tail (slots below it are free again) and its holder. */
    public static final long CONS_OFFSET = 256;
    public static final long CONS_STAMP_OFFSET = 264;
    /** Distance from a side word to its stamp. */
    static final long STAMP_DELTA = 8;
    /** Size of the header; the slot array starts here. */
    public static final long HEADER_BYTES = 384;
    public static final long SLOTS_OFFSET = HEADER_BYTES;
    /** Regions must start on a cache line so that the side words do not share lines with neighbours. */
    public static final long ALIGNMENT = 64;

    static final long TAIL_MASK = 0xFFFF_FFFFL;
    private static final java.lang.invoke.VarHandle ACQUIRE = ValueLayout.JAVA_LONG.varHandle();

    private RingDescriptor() {
    }

    /** The tail (position) in a side word. */
    public static int tail(long word) {
        return (int) word;
    }

    /** The holder in a side word, 0 when the side is free. */
    public static int holder(long word) {
        return (int) (word >>> 32);
    }

    /** Bytes a ring of {@code size} slots occupies. */
    public static long bytes(int size) {
        return HEADER_BYTES + 8L * size;
    }

    /** Throws with the reason unless {@code region} starts with a ring of this layout version. */
    static void checkMagicAndVersion(MemorySegment region) {
        long magic = (long) ACQUIRE.getAcquire(region, MAGIC_OFFSET); // pairs with create's release of the magic
        if (magic != MAGIC) {
            throw new IllegalArgumentException(String.format(
                    "no ring at this region: magic is 0x%016x, a jnic ring has 0x%016x ('JNICRING'); "
                            + "was the ring created with Ring.create at this offset?", magic, MAGIC));
        }
        int version = region.get(ValueLayout.JAVA_INT, VERSION_OFFSET);
        if (version != VERSION) {
            throw new IllegalArgumentException("ring layout version " + version + " is not supported (this build reads version "
                    + VERSION + "); run the same jnic build in every process");
        }
    }
}
