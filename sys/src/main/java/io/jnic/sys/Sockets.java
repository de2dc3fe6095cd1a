package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.errno;
import static io.jnic.sys.Native.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * UNIX-domain sockets: socket(2), socketpair(2), bind(2), connect(2), listen(2), accept4(2), shutdown(2),
 * setsockopt(2)/getsockopt(2) and SO_PEERCRED. Messages with descriptors and credentials go through
 * {@link UnixMessage}.
 */
public final class Sockets {
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;

    public static final int SOL_SOCKET = 1;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_PASSCRED = 16;
    public static final int SO_PEERCRED = 17;

    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;

    private static final MethodHandle SOCKET = Native.downcallErrno("socket",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT));
    private static final MethodHandle SOCKETPAIR = Native.downcallErrno("socketpair",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER));
    private static final MethodHandle BIND = Native.downcallErrno("bind",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT));
    private static final MethodHandle CONNECT = Native.downcallErrno("connect",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT));
    private static final MethodHandle LISTEN = Native.downcallErrno("listen", FunctionDescriptor.of(C_INT, C_INT, C_INT));
    private static final MethodHandle ACCEPT4 = Native.downcallErrno("accept4",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_POINTER, C_INT));
    private static final MethodHandle SHUTDOWN = Native.downcallErrno("shutdown",
            FunctionDescriptor.of(C_INT, C_INT, C_INT));
    private static final MethodHandle SETSOCKOPT = Native.downcallErrno("setsockopt",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER, C_INT));
    private static final MethodHandle GETSOCKOPT = Native.downcallErrno("getsockopt",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER));

    private Sockets() {
    }

    /** A UNIX socket of {@code type} (SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET), close-on-exec. */
    public static int socket(int type) {
        try {
            int r = (int) SOCKET.invokeExact(capture(), AF_UNIX, type | SOCK_CLOEXEC, 0);
            if (r < 0) {
                throw fail("socket", "AF_UNIX", typeName(type));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A connected pair of UNIX sockets of {@code type}, close-on-exec. */
    public static int[] socketpair(int type) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sv = arena.allocate(C_INT, 2);
            if ((int) SOCKETPAIR.invokeExact(capture(), AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
                throw fail("socketpair", "AF_UNIX", typeName(type));
            }
            return new int[] {sv.getAtIndex(C_INT, 0), sv.getAtIndex(C_INT, 1)};
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void bind(int fd, UnixAddress address) {
        try {
            if ((int) BIND.invokeExact(capture(), fd, address.segment(), address.length()) < 0) {
                throw fail("bind", fd, Native.quote(address.path()));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void connect(int fd, UnixAddress address) {
        try {
            int r;
            do {
                r = (int) CONNECT.invokeExact(capture(), fd, address.segment(), address.length());
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                throw fail("connect", fd, Native.quote(address.path()));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void listen(int fd, int backlog) {
        try {
            if ((int) LISTEN.invokeExact(capture(), fd, backlog) < 0) {
                throw fail("listen", fd, backlog);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** accept4(2) with SOCK_CLOEXEC; -1 when a non-blocking listener has no pending connection. */
    public static int accept(int fd) {
        try {
            int r;
            do {
                r = (int) ACCEPT4.invokeExact(capture(), fd, MemorySegment.NULL, MemorySegment.NULL, SOCK_CLOEXEC);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                if (errno() == Errno.EAGAIN.code()) {
                    return -1;
                }
                throw fail("accept4", fd);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void shutdown(int fd, int how) {
        try {
            if ((int) SHUTDOWN.invokeExact(capture(), fd, how) < 0 && errno() != Errno.ENOTCONN.code()) {
                throw fail("shutdown", fd, how);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void setIntOption(int fd, int level, int option, int value) {
        MemorySegment v = Native.scratch();
        v.set(C_INT, 0, value);
        try {
            if ((int) SETSOCKOPT.invokeExact(capture(), fd, level, option, v, 4) < 0) {
                throw fail("setsockopt", fd, level, option, value);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int getIntOption(int fd, int level, int option) {
        MemorySegment v = Native.scratch();
        v.set(C_INT, 0, 0);
        v.set(C_INT, 8, 4);
        try {
            if ((int) GETSOCKOPT.invokeExact(capture(), fd, level, option, v, v.asSlice(8)) < 0) {
                throw fail("getsockopt", fd, level, option);
            }
            return v.get(C_INT, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** SO_PEERCRED: who is at the other end of a connected socket (as of connect or socketpair). */
    public static Ucred peerCredentials(int fd) {
        MemorySegment v = Native.scratch();
        v.set(C_INT, 16, 12);
        try {
            if ((int) GETSOCKOPT.invokeExact(capture(), fd, SOL_SOCKET, SO_PEERCRED, v, v.asSlice(16)) < 0) {
                throw fail("getsockopt", fd, "SOL_SOCKET", "SO_PEERCRED");
            }
            return new Ucred(v.get(C_INT, 0), v.get(C_INT, 4), v.get(C_INT, 8));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static String typeName(int type) {
        return switch (type & 0xf) {
            case SOCK_STREAM -> "SOCK_STREAM";
            case SOCK_DGRAM -> "SOCK_DGRAM";
            case SOCK_SEQPACKET -> "SOCK_SEQPACKET";
            default -> Integer.toString(type);
        } + ((type & SOCK_NONBLOCK) != 0 ? "|SOCK_NONBLOCK" : "");
    }
}
