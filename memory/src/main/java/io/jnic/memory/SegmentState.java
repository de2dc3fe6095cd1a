package io.jnic.memory;

/** The state of a segment-table entry (u32 at entry offset 40; see the package documentation). */
public enum SegmentState {
    /** Usable: memzones may be reserved in it. What a zero-filled entry of an older writer reads as. */
    LIVE(0),
    /** Retired (a hotplug was rolled back): never mapped again, its id never reused. */
    RETIRED(1),
    /**
     * Added by a hotplug that is not finished: every process may map it, but no memzone is reserved in it
     * until its adder {@linkplain MemoryGroup#commitSegment commits} it (or retires it).
     */
    PENDING(2);

    private final int code;

    SegmentState(int code) {
        this.code = code;
    }

    /** The value stored in the table. */
    int code() {
        return code;
    }

    /** The state with this stored value, or null when none has it (a corrupted entry). */
    static SegmentState ofCode(int code) {
        for (SegmentState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
