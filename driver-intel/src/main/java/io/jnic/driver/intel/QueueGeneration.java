package io.jnic.driver.intel;

import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The generation handshake of {@link QueueMemory}'s state block, both sides: the process bursting on a queue
 * ({@link #seen}, only when the generation it reads differs from the one it knows) and the port owner that
 * re-initialises the queue under it ({@link #pause}, {@link #awaitPaused}, {@link #resume}).
 */
public final class QueueGeneration {
    private static final System.Logger LOG = System.getLogger(QueueGeneration.class.getName());
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    static final int PID = Proc.getpid();
    /** How often a queue paused for re-initialisation checks that the re-initialiser still lives. */
    private static final long REINIT_CHECK_NS = 500_000_000L;

    private final MemorySegment state;
    private final String what;
    private long pausedAt;
    private long lastCheck;
    private boolean orphanReported;

    QueueGeneration(MemorySegment state, String what) {
        this.state = state;
        this.what = what;
    }

    /** The generation as published (plain read: the data path's one check per burst). */
    int current() {
        return state.get(ValueLayout.JAVA_INT, QueueMemory.S_GEN);
    }

    /**
     * The driving side saw generation {@code g}, not the one it knew: acknowledges it (everything this process
     * did to the ring before happens-before the re-initialiser's next step). True when the ring is in service
     * again (even): the caller then reloads its indices from the state; false while it is being rebuilt (odd):
     * the caller leaves the ring alone.
     */
    boolean seen(int g) {
        INT.setRelease(state, QueueMemory.S_ACK, g);
        if ((g & 1) != 0) {
            checkReinitialiser();
            return false;
        }
        VarHandle.acquireFence(); // the indices and ring the re-initialiser wrote before it published g
        state.set(ValueLayout.JAVA_INT, QueueMemory.S_DRIVER, PID);
        pausedAt = 0;
        orphanReported = false;
        return true;
    }

    /** A re-initialiser that died leaves the queue paused for good: say so once, never wait (bursts return 0). */
    private void checkReinitialiser() {
        long now = System.nanoTime();
        if (pausedAt == 0) {
            pausedAt = now;
            lastCheck = now;
            return;
        }
        if (orphanReported || now - lastCheck < REINIT_CHECK_NS) {
            return;
        }
        lastCheck = now;
        int pid = state.get(ValueLayout.JAVA_INT, QueueMemory.S_REINIT);
        if (pid != 0 && pid != PID && !running(pid)) {
            orphanReported = true;
            LOG.log(System.Logger.Level.ERROR, "{0}: pid {1,number,#} died while re-initialising the port after a device "
                    + "reset; this queue stays stopped (bursts return 0) until the group is restarted", what, pid);
        }
    }

    /** Lets go of the queue: the re-initialiser need not wait for this process any more. */
    void release() {
        INT.compareAndSet(state, QueueMemory.S_DRIVER, PID, 0);
    }

    // ---- the re-initialiser's side

    /** Makes the generation odd (the ring is being rebuilt); returns it. */
    public static int pause(MemorySegment state) {
        int g = (int) INT.getAcquire(state, QueueMemory.S_GEN);
        int odd = (g & 1) == 0 ? g + 1 : g + 2;
        state.set(ValueLayout.JAVA_INT, QueueMemory.S_REINIT, PID);
        INT.setVolatile(state, QueueMemory.S_GEN, odd);
        return odd;
    }

    /**
     * Whether the process driving the queue acknowledged generation {@code odd} (it finished the burst it was in
     * and leaves the ring alone), or there is none to wait for (no process bursts on the queue, or a dead one).
     * Returns the driver's pid while it has not, 0 otherwise.
     */
    public static int pendingDriver(MemorySegment state, int odd) {
        if ((int) INT.getAcquire(state, QueueMemory.S_ACK) == odd) {
            return 0;
        }
        int pid = (int) INT.getAcquire(state, QueueMemory.S_DRIVER);
        return pid == 0 || !running(pid) ? 0 : pid;
    }

    /** Alive and not a zombie (killed, not yet reaped by its parent: it runs no code any more). */
    public static boolean running(int pid) {
        if (!Proc.isAlive(pid)) {
            return false;
        }
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            int i = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
            char state = i > 0 && i + 2 < stat.length() ? stat.charAt(i + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException | RuntimeException e) {
            return Proc.isAlive(pid); // gone meanwhile, or no /proc: kill(0) alone
        }
    }

    /** Publishes the rebuilt ring: the generation after {@code odd} (even). */
    public static void resume(MemorySegment state, int odd) {
        INT.setRelease(state, QueueMemory.S_GEN, odd + 1);
    }
}
