package io.jnic.memory.mbuf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The shared layout of a {@link Mempool} (version 2): offsets of the pool header and of each lcore cache, the
 * magic/version check, and the encoding of an mbuf handle (pool id in the top 16 bits, the header's offset in the
 * pool below them). See the package documentation for the tables and the crash-safety argument.
 */
public final class MempoolDescriptor {
    /** "JNICPOOL" in ASCII, read as a little-endian long. */
    public static final long MAGIC = 0x4C4F4F5043494E4AL;
    public static final int VERSION = 2;

    // Pool header, 256 bytes (see package-info).
    public static final long P_MAGIC = 0;
    public static final long P_VERSION = 8;
    public static final long P_FLAGS = 12;
    public static final long P_POOL_ID = 16;
    public static final long P_COUNT = 20;
    public static final long P_STRIDE = 24;
    public static final long P_HDR_SIZE = 28;
    public static final long P_HEADROOM = 32;
    public static final long P_DATA_ROOM = 36;
    public static final long P_BUF_LEN = 40;
    public static final long P_CACHE_SIZE = 44;
    public static final long P_FLUSH_THRESH = 48;
    public static final long P_CACHE_CAP = 52;
    public static final long P_MAX_LCORES = 56;
    public static final long P_PAGE_SIZE = 64;
    public static final long P_PAGE_PHASE = 72;
    public static final long P_RING_OFF = 80;
    public static final long P_CACHES_OFF = 88;
    public static final long P_CACHE_STRIDE = 96;
    public static final long P_OBJ_FIRST = 104;
    public static final long P_OBJ_LAST = 112;
    public static final long P_BYTES = 120;
    public static final long P_NAME = 128;
    public static final int NAME_BYTES = 32;
    /** A {@link SharedLock} for recovery: settling a dead lcore's cache against the ring, one process at a time. */
    public static final long P_RECOVERY_LOCK = 192;
    public static final long HEADER_BYTES = 256;

    // Per-lcore cache: a cache line with the length and the record of a ring transfer in progress, then the
    // object slots. The length is each transfer's commit point (see package-info, "Crash safety").
    public static final long C_LEN = 0;
    /** Transfer in progress: {@link #OP_NONE}, {@link #OP_REFILL} (ring to cache), {@link #OP_FLUSH} (cache to ring). */
    public static final long C_OP = 4;
    /** The cache length before the transfer. */
    public static final long C_OP_LEN = 8;
    /** Objects moved. */
    public static final long C_OP_N = 12;
    /** Ring position the transfer holds. */
    public static final long C_OP_POS = 16;
    /** {@link Holder} id of the process doing it. */
    public static final long C_OP_HOLDER = 20;
    public static final long C_OBJS = 64;
    public static final int OP_NONE = 0;
    public static final int OP_REFILL = 1;
    public static final int OP_FLUSH = 2;

    /** An object's handle: the pool id above {@link #HANDLE_SHIFT}, the object's offset in the pool below. */
    public static final int HANDLE_SHIFT = 48;
    /** The offset bits of a handle. */
    public static final long OFFSET_MASK = (1L << HANDLE_SHIFT) - 1;

    private static final VarHandle ACQUIRE = ValueLayout.JAVA_LONG.varHandle();

    private MempoolDescriptor() {
    }

    /** True when {@code region} starts with a mempool header (its magic; attach checks the rest). */
    public static boolean isMempool(MemorySegment region) {
        return region.byteSize() >= HEADER_BYTES && (long) ACQUIRE.getAcquire(region, P_MAGIC) == MAGIC;
    }

    /** Throws with the reason unless {@code region} starts with a mempool of this layout version. */
    static void checkMagicAndVersion(MemorySegment region) {
        long magic = (long) ACQUIRE.getAcquire(region, P_MAGIC); // pairs with create's release of the magic
        if (magic != MAGIC) {
            throw new IllegalArgumentException(String.format(
                    "no mempool at this region: magic is 0x%016x, a jnic mempool has 0x%016x ('JNICPOOL')", magic, MAGIC));
        }
        int version = region.get(ValueLayout.JAVA_INT, P_VERSION);
        if (version != VERSION) {
            throw new IllegalArgumentException("mempool layout version " + version + " is not supported (this build reads "
                    + VERSION + "); run the same jnic build in every process");
        }
    }
}
