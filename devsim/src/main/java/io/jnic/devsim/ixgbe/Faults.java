package io.jnic.devsim.ixgbe;

import java.lang.foreign.MemorySegment;

/**
 * Faults injected at run time (devsim's control commands, tests): the switches {@link Ixgbe82599}'s fault methods
 * set, the frames and write-backs they spoiled, the generator that decides which, and the reversed write-back
 * fault's deferred descriptor status writes. The switches are volatile (set from any thread); the rest is used
 * under the port's monitor.
 */
final class Faults {
    /** Deferred status writes: a turn's RX write-backs of every queue and TX ones (batches of 64). */
    private static final int DEFERRED = 64 * 4;

    volatile boolean linkDown;
    volatile boolean stall;
    volatile double dropProbability;
    volatile double crcErrorProbability;
    volatile boolean reverseWriteBack;
    volatile double hostile;
    /** RX write-backs corrupted by {@link #hostile}. */
    long hostileWriteBacks;
    /** Arriving frames lost to {@link #dropProbability}. */
    long drops;
    private long seed = 0x9E3779B97F4A7C15L;
    // deferred RX/TX status writes for the reversed write-back fault
    private final long[] deferredAddr = new long[DEFERRED];
    private final MemorySegment[] deferredSeg = new MemorySegment[DEFERRED];
    private final int[] deferredValue = new int[DEFERRED];
    private int deferredCount;

    static double probability(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability must be within [0, 1], got " + p);
        }
        return p;
    }

    /** A uniform number in [0, 1). */
    double nextRandom() {
        long x = seed; // xorshift64*: no allocation, no contention
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        seed = x;
        return ((x * 0x2545F4914F6CDD1DL) >>> 11) * 0x1.0p-53;
    }

    /**
     * A descriptor's status dword, DD among it: stored with release after the rest of the descriptor, or, under
     * the reversed write-back fault, held until {@link #flushDeferred} stores the turn's last-to-first.
     */
    void writeStatus(MemorySegment seg, long offset, int value) {
        if (reverseWriteBack && deferredCount < deferredAddr.length) {
            deferredSeg[deferredCount] = seg;
            deferredAddr[deferredCount] = offset;
            deferredValue[deferredCount++] = value;
        } else {
            RegisterFile.REG.setRelease(seg, offset, value); // DD last: the rest of the descriptor is visible first
        }
    }

    /** Stores the deferred (reordered) status writes, last first. */
    void flushDeferred() {
        for (int i = deferredCount - 1; i >= 0; i--) {
            RegisterFile.REG.setRelease(deferredSeg[i], deferredAddr[i], deferredValue[i]);
            deferredSeg[i] = null;
        }
        deferredCount = 0;
    }

    /** A reset forgets the deferred writes (their rings are gone with the queues). */
    void dropDeferred() {
        deferredCount = 0;
    }
}
