package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.errno;
import static io.jnic.sys.Native.fail;
import static io.jnic.sys.Native.hex;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * File-descriptor I/O: open(2), close(2), read(2)/write(2), pread(2)/pwrite(2), ftruncate(2), fcntl(2),
 * flock(2), dup(2), pipe2(2), ioctl(2). Reads and writes on non-blocking descriptors return -1 for EAGAIN
 * instead of throwing; EINTR is retried.
 */
public final class Io {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_EXCL = 0x80;
    public static final int O_TRUNC = 0x200;
    public static final int O_APPEND = 0x400;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_CLOEXEC = 0x80000;

    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int FD_CLOEXEC = 1;

    public static final int LOCK_SH = 1;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;

    private static final MethodHandle OPEN = Native.downcallErrno("open",
            FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Native.downcallErrno("close", FunctionDescriptor.of(C_INT, C_INT));
    private static final MethodHandle READ = Native.downcallErrno("read",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    private static final MethodHandle WRITE = Native.downcallErrno("write",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    private static final MethodHandle PREAD = Native.downcallErrno("pread",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_LONG));
    private static final MethodHandle PWRITE = Native.downcallErrno("pwrite",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG, C_LONG));
    private static final MethodHandle FTRUNCATE = Native.downcallErrno("ftruncate",
            FunctionDescriptor.of(C_INT, C_INT, C_LONG));
    private static final MethodHandle FALLOCATE = Native.downcallErrno("fallocate",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_LONG, C_LONG));
    private static final MethodHandle FCNTL = Native.downcallErrno("fcntl",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL_PTR = Native.downcallErrno("fcntl",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FLOCK = Native.downcallErrno("flock", FunctionDescriptor.of(C_INT, C_INT, C_INT));
    private static final MethodHandle DUP = Native.downcallErrno("dup", FunctionDescriptor.of(C_INT, C_INT));
    private static final MethodHandle PIPE2 = Native.downcallErrno("pipe2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT));
    private static final MethodHandle IOCTL = Native.downcallErrno("ioctl",
            FunctionDescriptor.of(C_INT, C_INT, C_LONG, C_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_PTR = Native.downcallErrno("ioctl",
            FunctionDescriptor.of(C_INT, C_INT, C_LONG, C_POINTER), Linker.Option.firstVariadicArg(2));

    private static final MethodHandle FSTAT = Native.downcallErrno("fstat", FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
    // struct stat (x86-64): 144 bytes, st_size at 48
    private static final long STAT_SIZE = 144;
    private static final long STAT_ST_SIZE = 48;

    private Io() {
    }

    /**
     * fstat(2)'s st_size: the length of the file behind {@code fd} (a memfd, hugetlbfs or regular file).
     * Mapping past it would fault with SIGBUS, so code that mmaps a descriptor someone else sent checks it.
     */
    public static long fileSize(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(STAT_SIZE, 8);
            if ((int) FSTAT.invokeExact(capture(), fd, st) < 0) {
                throw fail("fstat", fd);
            }
            return st.get(C_LONG, STAT_ST_SIZE);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            int r;
            do {
                r = (int) OPEN.invokeExact(capture(), cpath, flags, mode);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                throw fail("open", Native.quote(path), openFlags(flags));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** close(2); EINTR is not retried (the descriptor is gone on Linux either way). */
    public static void close(int fd) {
        int r;
        try {
            r = (int) CLOSE.invokeExact(capture(), fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0 && errno() != Errno.EINTR.code()) {
            throw fail("close", fd);
        }
    }

    /** Closes quietly: for cleanup paths that already report another error. */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                close(fd);
            } catch (SysException ignored) {
                // nothing more to do with a descriptor that will not close
            }
        }
    }

    /** read(2): bytes read, 0 at end of file, -1 when a non-blocking descriptor has nothing (EAGAIN). */
    public static long read(int fd, MemorySegment buf, long count) {
        checkBounds(buf, count);
        try {
            long r;
            do {
                r = (long) READ.invokeExact(capture(), fd, buf, count);
            } while (r < 0 && errno() == Errno.EINTR.code());
            return r >= 0 ? r : again("read", fd, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2): bytes written, -1 when a non-blocking descriptor is full (EAGAIN). */
    public static long write(int fd, MemorySegment buf, long count) {
        checkBounds(buf, count);
        try {
            long r;
            do {
                r = (long) WRITE.invokeExact(capture(), fd, buf, count);
            } while (r < 0 && errno() == Errno.EINTR.code());
            return r >= 0 ? r : again("write", fd, count);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long pread(int fd, MemorySegment buf, long count, long offset) {
        checkBounds(buf, count);
        try {
            long r;
            do {
                r = (long) PREAD.invokeExact(capture(), fd, buf, count, offset);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                throw fail("pread", fd, count, hex(offset));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long pwrite(int fd, MemorySegment buf, long count, long offset) {
        checkBounds(buf, count);
        try {
            long r;
            do {
                r = (long) PWRITE.invokeExact(capture(), fd, buf, count, offset);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                throw fail("pwrite", fd, count, hex(offset));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void ftruncate(int fd, long length) {
        try {
            if ((int) FTRUNCATE.invokeExact(capture(), fd, length) < 0) {
                throw fail("ftruncate", fd, length);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * fallocate(2) with mode 0: allocates the range now, so that later page faults on a shared mapping of
     * it cannot fail (tmpfs, memfd and hugetlbfs report ENOSPC/ENOMEM here instead of SIGBUS on first touch).
     */
    public static void fallocate(int fd, int mode, long offset, long length) {
        try {
            int r;
            do {
                r = (int) FALLOCATE.invokeExact(capture(), fd, mode, offset, length);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                throw fail("fallocate", fd, mode, hex(offset), length);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fcntl(2) with an integer argument (F_GETFL, F_SETFL, F_SETFD, F_DUPFD_CLOEXEC, ...). */
    public static int fcntl(int fd, int cmd, long arg) {
        try {
            int r = (int) FCNTL.invokeExact(capture(), fd, cmd, arg);
            if (r < 0) {
                throw fail("fcntl", fd, cmd, arg);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fcntl(2) with a pointer argument (struct flock for F_OFD_SETLK and friends). */
    public static int fcntl(int fd, int cmd, MemorySegment arg) {
        try {
            int r = (int) FCNTL_PTR.invokeExact(capture(), fd, cmd, arg);
            if (r < 0) {
                throw fail("fcntl", fd, cmd, "ptr");
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void setNonBlocking(int fd, boolean nonBlocking) {
        int flags = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
    }

    /**
     * flock(2). With {@link #LOCK_NB}, returns false when another open file description holds a
     * conflicting lock (EWOULDBLOCK) instead of throwing.
     */
    public static boolean flock(int fd, int operation) {
        try {
            int r;
            do {
                r = (int) FLOCK.invokeExact(capture(), fd, operation);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r == 0) {
                return true;
            }
            if ((operation & LOCK_NB) != 0 && errno() == Errno.EAGAIN.code()) {
                return false;
            }
            throw fail("flock", fd, lockOp(operation));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int dup(int fd) {
        try {
            int r = (int) DUP.invokeExact(capture(), fd);
            if (r < 0) {
                throw fail("dup", fd);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pipe2(2): {read end, write end}. */
    public static int[] pipe(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(C_INT, 2);
            if ((int) PIPE2.invokeExact(capture(), fds, flags) < 0) {
                throw fail("pipe2", hex(flags));
            }
            return new int[] {fds.getAtIndex(C_INT, 0), fds.getAtIndex(C_INT, 1)};
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(2) with an integer argument; returns the call's non-negative result. */
    public static int ioctl(int fd, long request, long arg) {
        try {
            int r = (int) IOCTL.invokeExact(capture(), fd, request, arg);
            if (r < 0) {
                throw fail("ioctl", fd, hex(request), arg);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(2) with a pointer to a structure in native memory. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            int r = (int) IOCTL_PTR.invokeExact(capture(), fd, request, arg);
            if (r < 0) {
                throw fail("ioctl", fd, hex(request), "ptr");
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static long again(String call, int fd, long count) {
        if (errno() == Errno.EAGAIN.code()) {
            return -1;
        }
        throw fail(call, fd, count);
    }

    private static void checkBounds(MemorySegment buf, long count) {
        if (count < 0 || count > buf.byteSize()) {
            throw new IndexOutOfBoundsException("count " + count + " outside buffer of " + buf.byteSize() + " bytes");
        }
    }

    static String openFlags(int flags) {
        StringBuilder sb = new StringBuilder(switch (flags & 3) {
            case O_WRONLY -> "O_WRONLY";
            case O_RDWR -> "O_RDWR";
            default -> "O_RDONLY";
        });
        int[] bits = {O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_DIRECTORY, O_CLOEXEC};
        String[] names = {"O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_DIRECTORY", "O_CLOEXEC"};
        int rest = flags & ~3;
        for (int i = 0; i < bits.length; i++) {
            if ((rest & bits[i]) != 0) {
                sb.append('|').append(names[i]);
                rest &= ~bits[i];
            }
        }
        if (rest != 0) {
            sb.append('|').append(hex(rest));
        }
        return sb.toString();
    }

    private static String lockOp(int op) {
        String base = switch (op & ~LOCK_NB) {
            case LOCK_SH -> "LOCK_SH";
            case LOCK_EX -> "LOCK_EX";
            case LOCK_UN -> "LOCK_UN";
            default -> hex(op & ~LOCK_NB);
        };
        return (op & LOCK_NB) != 0 ? base + "|LOCK_NB" : base;
    }
}
