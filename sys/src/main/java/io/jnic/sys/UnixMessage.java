package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.errno;
import static io.jnic.sys.Native.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A reusable sendmsg(2)/recvmsg(2) frame: one data buffer, room for up to {@code maxFds} descriptors
 * (SCM_RIGHTS) and the sender's credentials (SCM_CREDENTIALS, when the socket has SO_PASSCRED).
 * All native memory is allocated once, so sending and receiving make no garbage. Not thread-safe.
 */
public final class UnixMessage implements AutoCloseable {
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;

    private static final int SCM_RIGHTS = 1;
    private static final int SCM_CREDENTIALS = 2;
    // struct msghdr (x86-64)
    private static final long MSG_NAME = 0;
    private static final long MSG_NAMELEN = 8;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_CONTROL = 32;
    private static final long MSG_CONTROLLEN = 40;
    private static final long MSG_FLAGS = 48;
    private static final long MSGHDR_SIZE = 56;
    // struct cmsghdr: size_t len, int level, int type, then data aligned to 8
    private static final long CMSG_HDR = 16;
    private static final long UCRED_SIZE = 12;

    private static final MethodHandle SENDMSG = Native.downcallErrno("sendmsg",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT));
    private static final MethodHandle RECVMSG = Native.downcallErrno("recvmsg",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT));

    private final Arena arena = Arena.ofShared();
    private final MemorySegment hdr;
    private final MemorySegment iov;
    private final MemorySegment control;
    private final MemorySegment name;
    private final MemorySegment data;
    private final int maxFds;

    private final int[] fds;
    private int fdCount;
    private int msgFlags;
    private int nameLength;
    private boolean hasCredentials;
    private int senderPid;
    private int senderUid;
    private int senderGid;

    public UnixMessage(int dataCapacity, int maxFds) {
        this.maxFds = maxFds;
        this.fds = new int[maxFds];
        this.hdr = arena.allocate(MSGHDR_SIZE, 8);
        this.iov = arena.allocate(16, 8);
        this.control = arena.allocate(cmsgSpace(4L * maxFds) + cmsgSpace(UCRED_SIZE), 8);
        this.name = arena.allocate(UnixAddress.SIZE, 8);
        this.data = arena.allocate(Math.max(dataCapacity, 1), 64);
    }

    /** The payload buffer: fill it before {@link #send}, read it after {@link #receive}. */
    public MemorySegment data() {
        return data;
    }

    public int maxFds() {
        return maxFds;
    }

    /**
     * Sends {@code length} bytes of {@link #data()} with {@code count} descriptors of {@code sendFds}, to
     * {@code destination} (null for a connected socket). Returns the bytes sent, or -1 when a non-blocking
     * socket is full (EAGAIN).
     */
    public long send(int socket, long length, UnixAddress destination, int[] sendFds, int count, int flags) {
        if (count < 0 || count > maxFds) {
            throw new IllegalArgumentException("cannot pass " + count + " descriptors (at most " + maxFds + ")");
        }
        if (length < 0 || length > data.byteSize()) {
            throw new IllegalArgumentException("message of " + length + " bytes exceeds the buffer of " + data.byteSize());
        }
        hdr.fill((byte) 0);
        if (destination != null) {
            hdr.set(C_POINTER, MSG_NAME, destination.segment());
            hdr.set(C_INT, MSG_NAMELEN, destination.length());
        }
        iov.set(C_POINTER, 0, data);
        iov.set(C_LONG, 8, length);
        hdr.set(C_POINTER, MSG_IOV, iov);
        hdr.set(C_LONG, MSG_IOVLEN, 1L);
        if (count > 0) {
            control.set(C_LONG, 0, CMSG_HDR + 4L * count);
            control.set(C_INT, 8, Sockets.SOL_SOCKET);
            control.set(C_INT, 12, SCM_RIGHTS);
            for (int i = 0; i < count; i++) {
                control.set(C_INT, CMSG_HDR + 4L * i, sendFds[i]);
            }
            hdr.set(C_POINTER, MSG_CONTROL, control);
            hdr.set(C_LONG, MSG_CONTROLLEN, cmsgSpace(4L * count));
        }
        try {
            long r;
            do {
                r = (long) SENDMSG.invokeExact(capture(), socket, hdr, flags | MSG_NOSIGNAL);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r < 0) {
                if (errno() == Errno.EAGAIN.code()) {
                    return -1;
                }
                throw fail("sendmsg", socket, destination == null ? "connected" : Native.quote(destination.path()), length, count + " fds");
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Receives one message into {@link #data()}; descriptors that came with it are in {@link #fd(int)}
     * (close-on-exec, owned by the caller from now on). Returns the bytes received, 0 at end of stream,
     * or -1 when a non-blocking socket has nothing (EAGAIN).
     */
    public long receive(int socket, int flags) {
        hdr.fill((byte) 0);
        hdr.set(C_POINTER, MSG_NAME, name);
        hdr.set(C_INT, MSG_NAMELEN, (int) name.byteSize());
        iov.set(C_POINTER, 0, data);
        iov.set(C_LONG, 8, data.byteSize());
        hdr.set(C_POINTER, MSG_IOV, iov);
        hdr.set(C_LONG, MSG_IOVLEN, 1L);
        hdr.set(C_POINTER, MSG_CONTROL, control);
        hdr.set(C_LONG, MSG_CONTROLLEN, control.byteSize());
        fdCount = 0;
        hasCredentials = false;
        long r;
        try {
            do {
                r = (long) RECVMSG.invokeExact(capture(), socket, hdr, flags | MSG_CMSG_CLOEXEC);
            } while (r < 0 && errno() == Errno.EINTR.code());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0) {
            if (errno() == Errno.EAGAIN.code()) {
                return -1;
            }
            throw fail("recvmsg", socket);
        }
        msgFlags = hdr.get(C_INT, MSG_FLAGS);
        nameLength = hdr.get(C_INT, MSG_NAMELEN);
        parseControl(hdr.get(C_LONG, MSG_CONTROLLEN));
        return r;
    }

    private void parseControl(long length) {
        long off = 0;
        while (off + CMSG_HDR <= length) {
            long len = control.get(C_LONG, off);
            if (len < CMSG_HDR || off + len > length) {
                break;
            }
            int level = control.get(C_INT, off + 8);
            int type = control.get(C_INT, off + 12);
            if (level == Sockets.SOL_SOCKET && type == SCM_RIGHTS) {
                int n = (int) ((len - CMSG_HDR) / 4);
                for (int i = 0; i < n; i++) {
                    int fd = control.get(C_INT, off + CMSG_HDR + 4L * i);
                    if (fdCount < maxFds) {
                        fds[fdCount++] = fd;
                    } else {
                        Io.closeQuietly(fd); // cannot happen with our control size; never leak one
                    }
                }
            } else if (level == Sockets.SOL_SOCKET && type == SCM_CREDENTIALS && len >= CMSG_HDR + UCRED_SIZE) {
                hasCredentials = true;
                senderPid = control.get(C_INT, off + CMSG_HDR);
                senderUid = control.get(C_INT, off + CMSG_HDR + 4);
                senderGid = control.get(C_INT, off + CMSG_HDR + 8);
            }
            off += align8(len);
        }
    }

    /** Descriptors received with the last message. */
    public int fdCount() {
        return fdCount;
    }

    public int fd(int index) {
        if (index < 0 || index >= fdCount) {
            throw new IndexOutOfBoundsException("fd " + index + " of " + fdCount);
        }
        return fds[index];
    }

    /** Closes every descriptor received with the last message (for messages that are rejected). */
    public void closeReceivedFds() {
        for (int i = 0; i < fdCount; i++) {
            Io.closeQuietly(fds[i]);
        }
        fdCount = 0;
    }

    /** True when the last message or its descriptors did not fit (MSG_TRUNC or MSG_CTRUNC). */
    public boolean truncated() {
        return (msgFlags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    }

    /** True when the last message carried SCM_CREDENTIALS (the receiving socket has SO_PASSCRED). */
    public boolean hasCredentials() {
        return hasCredentials;
    }

    public int senderPid() {
        return senderPid;
    }

    public int senderUid() {
        return senderUid;
    }

    public int senderGid() {
        return senderGid;
    }

    /** The sender's bound address of the last message ("" when it was unbound); allocates. */
    public String senderPath() {
        return UnixAddress.pathOf(name, nameLength);
    }

    @Override
    public void close() {
        arena.close();
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    private static long cmsgSpace(long dataLength) {
        return CMSG_HDR + align8(dataLength);
    }
}
