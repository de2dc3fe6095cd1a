package io.jnic.memory;

import io.jnic.sys.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a process recorded in shared memory is still the one that wrote the record. A pid alone is not
 * enough: the kernel reuses pids, so records also carry the process's start time (field 22 of
 * {@code /proc/<pid>/stat}, clock ticks since boot), which a new process with the same pid does not share.
 * All processes of a group share one pid namespace (they share /dev/hugepages and the runtime dir).
 */
public final class Liveness {

    /** This process's pid and start time, read once. */
    public static final int SELF_PID = Proc.getpid();
    public static final long SELF_START = startTime(SELF_PID);

    private Liveness() {
    }

    /**
     * Start time of {@code pid} in clock ticks since boot, or -1 when there is no such process or it has ended
     * and waits to be reaped (a zombie holds nothing any more; only its parent's wait removes it).
     */
    public static long startTime(int pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // the command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            char state = f[0].charAt(0); // field 3
            if (state == 'Z' || state == 'X') {
                return -1;
            }
            return Long.parseLong(f[19]); // field 22 overall
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** True when no process {@code pid} exists (ESRCH); a live pid may still be a reused one. */
    public static boolean gone(int pid) {
        return pid <= 0 || !Proc.isAlive(pid);
    }

    /**
     * True when the process that recorded ({@code pid}, {@code startTime}) is dead: the pid is gone, or a
     * process with another start time holds it now.
     */
    public static boolean dead(int pid, long startTime) {
        if (gone(pid)) {
            return true;
        }
        long now = startTime(pid);
        return now == -1 || now != startTime;
    }
}
