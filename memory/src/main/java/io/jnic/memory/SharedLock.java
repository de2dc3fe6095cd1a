package io.jnic.memory;

import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * A mutual-exclusion lock in shared memory for the processes (and threads) of one memory group, which a
 * holder that dies cannot wedge. Slow path only (creating segments and memzones); not reentrant.
 *
 * <p>Layout (64 bytes, 8-byte aligned, all fields native-endian):
 * <pre>
 *  0  u64 owner   (generation &lt;&lt; 32) | holder pid; pid 0 = free
 *  8  u64 stamp   ((generation &amp; 0xFFFFFF) &lt;&lt; 40) | (holder start time &amp; (2^40 - 1)), written by the holder
 * 16  u64 recoveries   how often the lock was taken over from a dead holder
 * 24  reserved
 * </pre>
 *
 * <p>Taking the lock is one CAS of {@code owner} from {@code (g, 0)} to {@code (g + 1, pid)}; release is a
 * CAS back to {@code (g + 1, 0)}. A waiter that finds the holder dead takes the lock over with a CAS from
 * {@code (g, deadPid)} to {@code (g + 1, myPid)}: of several waiters that saw the same dead holder exactly
 * one wins, and a waiter whose observation is stale (the holder released and someone else took the lock
 * meanwhile) fails its CAS because the generation moved on.
 *
 * <p>Pid reuse: "dead" means {@code kill(pid, 0)} answers ESRCH, or the process with that pid started at a
 * different time than the holder (field 22 of {@code /proc/<pid>/stat}, recorded in {@code stamp}). A dead
 * holder's pid that the kernel has handed to a new process is therefore still recognised as dead. The stamp
 * is written just after the CAS; until it carries the current generation, a waiter treats the holder as alive
 * (it just took the lock), so a recovery can never be based on the previous holder's stamp. All processes of
 * a group must share one pid namespace (they already share /dev/hugepages and the runtime dir).
 *
 * <p>Consistency after a takeover is the callers' business: the group's tables publish each new entry by a
 * release store of their count as the last step, so a holder that died mid-update leaves at most an
 * unpublished entry (overwritten by the next creator) or unused bytes; never a half-visible one.
 */
public final class SharedLock {
    public static final long SIZE = 64;
    static final long OWNER = 0;
    static final long STAMP = 8;
    static final long RECOVERIES = 16;
    private static final long START_MASK = (1L << 40) - 1;
    private static final int GEN_TAG_MASK = 0xFFFFFF;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final System.Logger LOG = System.getLogger(SharedLock.class.getName());

    private final MemorySegment lock;
    private final int pid;
    private final long startTime;
    private volatile Thread holder;

    /** A view of the lock word at {@code memory[0, 64)}; the memory must be shared and zeroed initially. */
    public SharedLock(MemorySegment memory) {
        if (memory.byteSize() < SIZE || memory.address() % 8 != 0) {
            throw new IllegalArgumentException("a SharedLock needs 64 bytes at an 8-byte aligned address");
        }
        this.lock = memory.asSlice(0, SIZE);
        this.pid = Proc.getpid();
        this.startTime = Liveness.startTime(pid);
    }

    /**
     * Takes the lock, waiting up to {@code timeout} for a live holder; a dead holder is taken over at once.
     *
     * @throws MemoryException {@link MemoryException.Reason#LOCK_TIMEOUT} naming the holder
     */
    public void lock(Duration timeout) {
        if (holder == Thread.currentThread()) {
            throw new IllegalStateException("SharedLock is not reentrant: this thread already holds it");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int spins = 0;
        long parkNanos = 1_000;
        while (true) {
            long w = (long) LONG.getVolatile(lock, OWNER);
            int owner = (int) w;
            long gen = w >>> 32;
            if (owner == 0) {
                if (take(w, gen)) {
                    return;
                }
                continue;
            }
            if (++spins < 100) {
                Thread.onSpinWait();
                continue;
            }
            // Contended for a while: look at the holder (a syscall or two) before sleeping.
            if (holderDead(w)) {
                if (take(w, gen)) {
                    long n = (long) LONG.getAndAdd(lock, RECOVERIES, 1L) + 1;
                    LOG.log(System.Logger.Level.WARNING, "took over the shared lock from dead process {0}"
                            + " (generation {1}, recovery #{2})", owner, gen, n);
                    return;
                }
                continue;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new MemoryException(MemoryException.Reason.LOCK_TIMEOUT, "the memory group lock is held by"
                        + " live process " + owner + " for more than " + timeout.toMillis() + " ms: is it stuck?"
                        + " (kill it, and the next locker takes over)");
            }
            LockSupport.parkNanos(parkNanos);
            parkNanos = Math.min(parkNanos * 2, 1_000_000);
        }
    }

    private boolean take(long expected, long gen) {
        long next = ((gen + 1) << 32) | (pid & 0xFFFFFFFFL);
        if (!LONG.compareAndSet(lock, OWNER, expected, next)) {
            return false;
        }
        LONG.setRelease(lock, STAMP, (((gen + 1) & GEN_TAG_MASK) << 40) | (startTime & START_MASK));
        holder = Thread.currentThread();
        return true;
    }

    /** Releases the lock; the caller must hold it. */
    public void unlock() {
        if (holder != Thread.currentThread()) {
            throw new IllegalStateException("unlock by a thread that does not hold the SharedLock");
        }
        holder = null;
        long w = (long) LONG.getVolatile(lock, OWNER);
        if ((int) w != pid || !LONG.compareAndSet(lock, OWNER, w, w & ~0xFFFFFFFFL)) {
            throw new IllegalStateException("the shared lock was taken over by process " + (int) w
                    + " while this process held it (it was judged dead): shared tables may be inconsistent");
        }
    }

    /** True when the calling thread holds the lock. */
    public boolean heldByCurrentThread() {
        return holder == Thread.currentThread();
    }

    /** True when this process holds the lock (any of its threads). */
    public boolean heldByThisProcess() {
        return (int) (long) LONG.getVolatile(lock, OWNER) == pid;
    }

    /** The holder's pid, 0 when free. */
    public int holderPid() {
        return (int) (long) LONG.getVolatile(lock, OWNER);
    }

    /** How many times the lock was taken over from a dead holder. */
    public long recoveries() {
        return (long) LONG.getVolatile(lock, RECOVERIES);
    }

    private boolean holderDead(long w) {
        int owner = (int) w;
        if (owner == pid) {
            return false;
        }
        if (!Proc.isAlive(owner) || Liveness.startTime(owner) < 0) {
            return true; // gone, or a zombie
        }
        long stamp = (long) LONG.getAcquire(lock, STAMP);
        if ((stamp >>> 40) != ((w >>> 32) & GEN_TAG_MASK)) {
            return false; // the holder has not written its stamp yet: it is alive and just took the lock
        }
        long now = startTime(owner);
        return now < 0 || (now & START_MASK) != (stamp & START_MASK);
    }

    /** Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; -1 when the process is gone. */
    static long startTime(int pid) {
        return Liveness.startTime(pid);
    }
}
