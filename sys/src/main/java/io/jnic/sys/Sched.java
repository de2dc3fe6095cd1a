package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.fail;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.BitSet;

/** CPU placement: sched_setaffinity(2), sched_getaffinity(2), getcpu(2). */
public final class Sched {
    /** Bytes in the CPU mask we pass: room for 1024 CPUs, as glibc's cpu_set_t. */
    private static final int MASK_BYTES = 128;

    private static final MethodHandle SETAFFINITY = Native.downcallErrno("sched_setaffinity",
            FunctionDescriptor.of(C_INT, C_INT, C_LONG, C_POINTER));
    private static final MethodHandle GETAFFINITY = Native.downcallErrno("sched_getaffinity",
            FunctionDescriptor.of(C_INT, C_INT, C_LONG, C_POINTER));
    private static final MethodHandle GETCPU = Native.downcallErrno("getcpu",
            FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));

    private Sched() {
    }

    /** Pins thread {@code tid} (0: the calling thread) to {@code cpus}. */
    public static void setAffinity(int tid, BitSet cpus) {
        if (cpus.isEmpty() || cpus.length() > MASK_BYTES * 8) {
            throw new IllegalArgumentException("CPU set must name 1 to " + MASK_BYTES * 8 + " CPUs: " + cpus);
        }
        MemorySegment mask = Native.scratch().asSlice(0, MASK_BYTES / 2).fill((byte) 0);
        // The scratch holds 64 bytes (512 CPUs): enough for any machine this runs on; refuse more.
        if (cpus.length() > mask.byteSize() * 8) {
            throw new IllegalArgumentException("CPU " + (cpus.length() - 1) + " beyond the supported 512");
        }
        byte[] bits = cpus.toByteArray();
        MemorySegment.copy(bits, 0, mask, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bits.length);
        try {
            if ((int) SETAFFINITY.invokeExact(capture(), tid, mask.byteSize(), mask) < 0) {
                throw fail("sched_setaffinity", tid, cpus.toString());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The CPUs thread {@code tid} (0: the calling thread) may run on. */
    public static BitSet getAffinity(int tid) {
        MemorySegment mask = Native.scratch().fill((byte) 0);
        try {
            if ((int) GETAFFINITY.invokeExact(capture(), tid, mask.byteSize(), mask) < 0) {
                throw fail("sched_getaffinity", tid);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return BitSet.valueOf(mask.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    /** The CPU the calling thread is running on now. */
    public static int currentCpu() {
        return getcpu(0);
    }

    /** The NUMA node the calling thread is running on now. */
    public static int currentNumaNode() {
        return getcpu(4);
    }

    private static int getcpu(long offset) {
        MemorySegment out = Native.scratch();
        try {
            if ((int) GETCPU.invokeExact(capture(), out, out.asSlice(4)) < 0) {
                throw fail("getcpu");
            }
            return out.get(C_INT, offset);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
