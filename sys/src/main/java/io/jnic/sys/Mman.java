package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.fail;
import static io.jnic.sys.Native.hex;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Memory mapping: mmap(2), munmap(2), mlock(2), madvise(2), memfd_create(2). */
public final class Mman {
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;

    public static final int MADV_DONTNEED = 4;
    public static final int MADV_DONTFORK = 10;
    public static final int MADV_DODUMP = 17;
    public static final int MADV_DONTDUMP = 16;

    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_ALLOW_SEALING = 0x2;
    public static final int MFD_HUGETLB = 0x4;
    private static final int MFD_HUGE_SHIFT = 26;
    /** memfd_create page-size selectors: log2 of the page size in the top bits. */
    public static final int MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
    public static final int MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;

    private static final MethodHandle MMAP = Native.downcallErrno("mmap",
            FunctionDescriptor.of(C_POINTER, C_POINTER, C_LONG, C_INT, C_INT, C_INT, C_LONG));
    private static final MethodHandle MUNMAP = Native.downcallErrno("munmap",
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG));
    private static final MethodHandle MLOCK = Native.downcallErrno("mlock",
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG));
    private static final MethodHandle MUNLOCK = Native.downcallErrno("munlock",
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG));
    private static final MethodHandle MADVISE = Native.downcallErrno("madvise",
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT));
    private static final MethodHandle MEMFD_CREATE = Native.downcallErrno("memfd_create",
            FunctionDescriptor.of(C_INT, C_POINTER, C_INT));

    private Mman() {
    }

    /**
     * mmap(2) of {@code length} bytes; the returned segment has that size and lives until
     * {@link #munmap(MemorySegment)} (it is not tied to an arena: the caller owns the mapping).
     */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        return mmap(MemorySegment.NULL, length, prot, flags, fd, offset);
    }

    public static MemorySegment mmap(MemorySegment hint, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(capture(), hint, length, prot, flags, fd, offset);
            if (p.address() == -1L) {
                throw fail("mmap", hex(hint.address()), length, prot(prot), mapFlags(flags), fd, hex(offset));
            }
            return p.reinterpret(length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try {
            if ((int) MUNMAP.invokeExact(capture(), mapping, mapping.byteSize()) < 0) {
                throw fail("munmap", hex(mapping.address()), mapping.byteSize());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void mlock(MemorySegment range) {
        try {
            if ((int) MLOCK.invokeExact(capture(), range, range.byteSize()) < 0) {
                throw fail("mlock", hex(range.address()), range.byteSize());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void munlock(MemorySegment range) {
        try {
            if ((int) MUNLOCK.invokeExact(capture(), range, range.byteSize()) < 0) {
                throw fail("munlock", hex(range.address()), range.byteSize());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void madvise(MemorySegment range, int advice) {
        try {
            if ((int) MADVISE.invokeExact(capture(), range, range.byteSize(), advice) < 0) {
                throw fail("madvise", hex(range.address()), range.byteSize(), advice);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** memfd_create(2); {@code name} shows in /proc/PID/fd and /proc/PID/maps. */
    public static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) MEMFD_CREATE.invokeExact(capture(), arena.allocateFrom(name), flags);
            if (r < 0) {
                throw fail("memfd_create", Native.quote(name), memfdFlags(flags));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static String prot(int prot) {
        if (prot == PROT_NONE) {
            return "PROT_NONE";
        }
        String s = ((prot & PROT_READ) != 0 ? "|PROT_READ" : "") + ((prot & PROT_WRITE) != 0 ? "|PROT_WRITE" : "");
        int rest = prot & ~(PROT_READ | PROT_WRITE);
        return (s + (rest != 0 ? "|" + hex(rest) : "")).substring(1);
    }

    private static String mapFlags(int flags) {
        int[] bits = {MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE,
            MAP_HUGETLB};
        String[] names = {"MAP_SHARED", "MAP_PRIVATE", "MAP_FIXED", "MAP_ANONYMOUS", "MAP_LOCKED", "MAP_NORESERVE",
            "MAP_POPULATE", "MAP_HUGETLB"};
        StringBuilder sb = new StringBuilder();
        int rest = flags;
        for (int i = 0; i < bits.length; i++) {
            if ((flags & bits[i]) != 0) {
                sb.append('|').append(names[i]);
                rest &= ~bits[i];
            }
        }
        if (rest != 0) {
            sb.append('|').append(hex(rest));
        }
        return sb.isEmpty() ? "0" : sb.substring(1);
    }

    private static String memfdFlags(int flags) {
        StringBuilder sb = new StringBuilder();
        if ((flags & MFD_CLOEXEC) != 0) {
            sb.append("|MFD_CLOEXEC");
        }
        if ((flags & MFD_ALLOW_SEALING) != 0) {
            sb.append("|MFD_ALLOW_SEALING");
        }
        if ((flags & MFD_HUGETLB) != 0) {
            sb.append("|MFD_HUGETLB");
            int log2 = flags >>> MFD_HUGE_SHIFT;
            if (log2 != 0) {
                sb.append("|MFD_HUGE_").append(log2 >= 30 ? (1 << (log2 - 30)) + "GB" : (1 << (log2 - 20)) + "MB");
            }
        }
        return sb.isEmpty() ? "0" : sb.substring(1);
    }
}
