package io.jnic.memory;

/**
 * Byte offsets of the shared group header (see package-info for the table with meanings). Every field is
 * native-endian (little-endian on x86-64) and naturally aligned; references between shared things are
 * (segment id, offset), never addresses.
 */
final class GroupLayout {
    /** "JNICMEM1" read as a little-endian u64. */
    static final long MAGIC = 0x314D454D43494E4AL;
    static final int VERSION = 1;

    static final long H_MAGIC = 0;
    static final long H_VERSION = 8;
    static final long H_SIZE = 12;
    static final long H_STATE = 16;
    static final long H_IOVA_MODE = 20;
    static final long H_BACKING = 24;
    static final long H_PAGE_SHIFT = 28;
    static final long H_MAX_SEGMENTS = 32;
    static final long H_MAX_MEMZONES = 36;
    static final long H_SEGMENT_TABLE = 40;
    static final long H_MEMZONE_TABLE = 44;
    static final long H_SEGMENT_COUNT = 48;
    static final long H_MEMZONE_COUNT = 52;
    static final long H_IOVA_NEXT = 56;
    static final long H_IOVA_LIMIT = 64;
    static final long H_CREATOR_PID = 72;
    static final long H_CREATED_NANOS = 80;
    static final long H_LOCK = 128;
    static final long H_PREFIX = 192;
    static final int PREFIX_BYTES = 64;
    static final long H_DATA_DIR = 256;
    static final int DATA_DIR_BYTES = 256;
    static final long H_TABLES = 512;

    static final int STATE_LIVE = 1;
    static final int STATE_DEAD = 2;

    static final long SEGMENT_ENTRY = 128;
    static final long S_ID = 0;
    static final long S_BACKING = 4;
    static final long S_SIZE = 8;
    static final long S_PAGE_SHIFT = 16;
    static final long S_CREATOR_PID = 20;
    static final long S_IOVA_BASE = 24;
    static final long S_USED = 32;
    /** Entry state, a {@link SegmentState} code; 0 (what a zero-filled entry of an older writer holds) is live. */
    static final long S_STATE = 40;
    static final long S_NAME = 64;
    static final int SEGMENT_NAME_BYTES = 64;

    static final long MEMZONE_ENTRY = 64;
    static final long Z_NAME = 0;
    static final int MEMZONE_NAME_BYTES = 32;
    static final long Z_SEGMENT = 32;
    static final long Z_FLAGS = 36;
    static final long Z_OFFSET = 40;
    static final long Z_LENGTH = 48;
    static final long Z_ALIGN = 56;

    /** Largest segment a table entry may claim (64 TB): guards size arithmetic against corrupt values. */
    static final long MAX_SEGMENT_SIZE = 1L << 46;

    private GroupLayout() {
    }

    static long segmentTableOffset() {
        return H_TABLES;
    }

    static long memzoneTableOffset(int maxSegments) {
        return H_TABLES + maxSegments * SEGMENT_ENTRY;
    }

    /** Bytes of a header with these capacities, rounded up to 4 KB pages. */
    static long headerSize(int maxSegments, int maxMemzones) {
        long end = memzoneTableOffset(maxSegments) + maxMemzones * MEMZONE_ENTRY;
        return (end + 4095) & ~4095L;
    }
}
