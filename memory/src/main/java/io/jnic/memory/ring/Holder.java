package io.jnic.memory.ring;

import io.jnic.memory.Liveness;

/**
 * Who holds a side of a multi-producer or multi-consumer ring, as written into the side word: the holder's
 * pid in the low 22 bits (Linux's largest pid_max is 2^22) and a 10-bit tag of its start time above them, so
 * that a dead holder whose pid the kernel gave to a new process is still seen as dead (unless the tags
 * collide; the stamp then decides). Never 0: pids start at 1.
 *
 * <p>The stamp, written just after the hold is taken, carries the low 24 bits of the held position and the
 * holder's whole start time. A holder whose stamp does not belong to the current hold yet has just taken it
 * (or died in the one instruction between): it counts as alive while its pid exists and its tag matches.
 */
public final class Holder {

    static final int PID_BITS = 22;
    static final int PID_MASK = (1 << PID_BITS) - 1;
    private static final long START_MASK = (1L << 40) - 1;

    /** This process as a holder. */
    public static final int SELF = of(Liveness.SELF_PID, Liveness.SELF_START);

    private Holder() {
    }

    static int of(int pid, long startTime) {
        return (pid & PID_MASK) | (tag(startTime) << PID_BITS);
    }

    private static int tag(long startTime) {
        long h = startTime * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 54); // 10 bits
    }

    /** The pid in a holder id. */
    public static int pid(int holder) {
        return holder & PID_MASK;
    }

    /** This process's stamp for a hold taken at {@code position}. */
    static long stamp(int position) {
        return ((long) (position & 0xFF_FFFF) << 40) | (Liveness.SELF_START & START_MASK);
    }

    /**
     * True when the holder recorded in side word {@code word} (with stamp {@code stamp}) is dead: its pid is
     * gone, or now belongs to a process with another start time.
     */
    static boolean dead(long word, long stamp) {
        int holder = RingDescriptor.holder(word);
        int pid = pid(holder);
        if (holder == SELF) {
            return false; // another thread of this process
        }
        if (Liveness.gone(pid)) {
            return true;
        }
        long start = Liveness.startTime(pid);
        if (start < 0) {
            return true;
        }
        if (of(pid, start) != holder) {
            return true; // the pid was reused
        }
        boolean stamped = (stamp >>> 40) == (RingDescriptor.tail(word) & 0xFF_FFFF);
        return stamped && (stamp & START_MASK) != (start & START_MASK);
    }
}
