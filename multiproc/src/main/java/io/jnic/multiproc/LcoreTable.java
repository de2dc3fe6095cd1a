package io.jnic.multiproc;

import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Which process holds which lcore, in shared memory: one 64-bit word per lcore, {@code generation << 32 |
 * pid} (pid 0: free). A claim is a CAS from a free word to the claimer's pid with the generation bumped, so
 * a slot released and claimed again in between never matches a stale expectation; a release is a CAS back
 * to pid 0. Slots held by dead processes are reclaimed by whoever finds them (pid liveness check).
 * A flyweight over any shared segment of {@link #BYTES} bytes.
 */
public final class LcoreTable {
    public static final int SLOTS = LcoreSet.MAX_LCORES;
    public static final long BYTES = 8L * SLOTS;

    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment slots;

    public LcoreTable(MemorySegment slots) {
        if (slots.byteSize() < BYTES) {
            throw new IllegalArgumentException("lcore table needs " + BYTES + " bytes, got " + slots.byteSize());
        }
        this.slots = slots;
    }

    private static long offset(int lcore) {
        if (lcore < 0 || lcore >= SLOTS) {
            throw new IllegalArgumentException("lcore " + lcore + " is out of range: ids run from 0 to " + (SLOTS - 1));
        }
        return 8L * lcore;
    }

    /** The pid holding {@code lcore}, 0 when free. */
    public int holder(int lcore) {
        return pidOf((long) WORD.getAcquire(slots, offset(lcore)));
    }

    /** How many times {@code lcore} has been claimed. */
    public int generation(int lcore) {
        return (int) ((long) WORD.getAcquire(slots, offset(lcore)) >>> 32);
    }

    /**
     * Claims {@code lcore} for {@code pid}. Returns 0 when this call took it, else the pid of the live
     * holder (which may be {@code pid} itself: two threads of one process never get the same lcore). A slot
     * whose holder died is taken over.
     */
    public int tryClaim(int lcore, int pid) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid + " cannot hold an lcore");
        }
        long off = offset(lcore);
        for (;;) {
            long w = (long) WORD.getAcquire(slots, off);
            int holder = pidOf(w);
            if (holder != 0 && (holder == pid || Proc.isAlive(holder))) {
                return holder;
            }
            long next = ((w >>> 32) + 1) << 32 | (pid & 0xffff_ffffL);
            if (WORD.compareAndSet(slots, off, w, next)) {
                return 0;
            }
        }
    }

    /**
     * Claims every lcore of {@code set} or none: on conflict, releases what it took and throws.
     *
     * @return the lcores that were taken over from dead processes (their mempool caches need recovery before use)
     * @throws MpException naming the lcore and its holder
     */
    public LcoreSet claimAll(LcoreSet set, int pid, String prefix) {
        return claimAll(set, pid, prefix, java.time.Duration.ZERO);
    }

    /**
     * As {@link #claimAll(LcoreSet, int, String)}, but an lcore whose holder died is left for up to {@code grace} to
     * the primary's recovery, which returns what the dead process held by its lcores and then releases them (taken
     * over first, the mbufs stamped with that lcore would look held by this process and never come back).
     */
    public LcoreSet claimAll(LcoreSet set, int pid, String prefix, java.time.Duration grace) {
        int[] ids = set.ids();
        java.util.BitSet takenOver = new java.util.BitSet();
        long deadline = System.nanoTime() + grace.toNanos();
        for (int i = 0; i < ids.length; i++) {
            int dead;
            while ((dead = holder(ids[i])) != 0 && dead != pid && !Proc.isAlive(dead) && System.nanoTime() - deadline < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            int before = holder(ids[i]);
            int holder = tryClaim(ids[i], pid);
            if (holder == 0 && before != 0 && before != pid) {
                takenOver.set(ids[i]);
            }
            if (holder != 0) {
                for (int j = 0; j < i; j++) {
                    release(ids[j], pid);
                }
                throw new MpException("lcore " + ids[i] + " is already used by process " + holder + " (file prefix '"
                        + prefix + "'); give this process other lcores with -l, or stop process " + holder);
            }
        }
        return LcoreSet.fromBitSet(takenOver);
    }

    /** Claims the lowest free lcore not in {@code excluded} for {@code pid}; -1 when none is free. */
    public int claimAny(int pid, LcoreSet excluded) {
        for (int lcore = SLOTS - 1; lcore >= 0; lcore--) { // from the top: -l lists usually start at 0
            if (!excluded.contains(lcore) && holder(lcore) == 0 && tryClaim(lcore, pid) == 0) {
                return lcore;
            }
        }
        for (int lcore = SLOTS - 1; lcore >= 0; lcore--) { // then slots of dead processes
            if (!excluded.contains(lcore) && holder(lcore) != pid && tryClaim(lcore, pid) == 0) {
                return lcore;
            }
        }
        return -1;
    }

    /** Releases {@code lcore} if {@code pid} holds it; true when it did. */
    public boolean release(int lcore, int pid) {
        long off = offset(lcore);
        for (;;) {
            long w = (long) WORD.getAcquire(slots, off);
            if (pidOf(w) != pid || pid == 0) {
                return false;
            }
            if (WORD.compareAndSet(slots, off, w, w & 0xffff_ffff_0000_0000L)) {
                return true;
            }
        }
    }

    /** Releases every lcore {@code pid} holds (its process exited); returns them. */
    public LcoreSet releaseAll(int pid) {
        java.util.BitSet freed = new java.util.BitSet();
        for (int lcore = 0; lcore < SLOTS; lcore++) {
            if (release(lcore, pid)) {
                freed.set(lcore);
            }
        }
        return LcoreSet.fromBitSet(freed);
    }

    /** The lcores {@code pid} holds now. */
    public LcoreSet heldBy(int pid) {
        java.util.BitSet held = new java.util.BitSet();
        for (int lcore = 0; lcore < SLOTS; lcore++) {
            if (holder(lcore) == pid) {
                held.set(lcore);
            }
        }
        return LcoreSet.fromBitSet(held);
    }

    private static int pidOf(long w) {
        return (int) w;
    }
}
