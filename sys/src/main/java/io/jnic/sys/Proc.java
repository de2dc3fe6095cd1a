package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.errno;
import static io.jnic.sys.Native.fail;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Process identity, signals and clocks: getpid(2), gettid(2), getuid(2), kill(2), clock_gettime(2). */
public final class Proc {
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    public static final int CLOCK_REALTIME = 0;
    public static final int CLOCK_MONOTONIC = 1;
    public static final int CLOCK_MONOTONIC_RAW = 4;

    private static final MethodHandle GETPID = Native.downcall("getpid", FunctionDescriptor.of(C_INT));
    private static final MethodHandle GETTID = Native.downcall("gettid", FunctionDescriptor.of(C_INT));
    private static final MethodHandle GETUID = Native.downcall("getuid", FunctionDescriptor.of(C_INT));
    private static final MethodHandle GETEUID = Native.downcall("geteuid", FunctionDescriptor.of(C_INT));
    private static final MethodHandle KILL = Native.downcallErrno("kill", FunctionDescriptor.of(C_INT, C_INT, C_INT));
    private static final MethodHandle CLOCK_GETTIME = Native.downcallErrno("clock_gettime",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER));

    private static final int PID = invokeInt(GETPID);

    private Proc() {
    }

    public static int getpid() {
        return PID;
    }

    public static int gettid() {
        return invokeInt(GETTID);
    }

    public static int getuid() {
        return invokeInt(GETUID);
    }

    public static int geteuid() {
        return invokeInt(GETEUID);
    }

    /** kill(2); returns false when the process does not exist (ESRCH). Signal 0 tests for existence. */
    public static boolean kill(int pid, int signal) {
        try {
            if ((int) KILL.invokeExact(capture(), pid, signal) == 0) {
                return true;
            }
            if (errno() == Errno.ESRCH.code()) {
                return false;
            }
            throw fail("kill", pid, signal);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** True when a process with this pid exists (it may belong to another user). */
    public static boolean isAlive(int pid) {
        try {
            return kill(pid, 0);
        } catch (SysException e) {
            if (e.errno() == Errno.EPERM) {
                return true;
            }
            throw e;
        }
    }

    /** clock_gettime(2) in nanoseconds. */
    public static long clockGettime(int clock) {
        MemorySegment ts = Native.scratch();
        try {
            if ((int) CLOCK_GETTIME.invokeExact(capture(), clock, ts) < 0) {
                throw fail("clock_gettime", clock);
            }
            return ts.get(C_LONG, 0) * 1_000_000_000L + ts.get(C_LONG, 8);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static int invokeInt(MethodHandle h) {
        try {
            return (int) h.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
