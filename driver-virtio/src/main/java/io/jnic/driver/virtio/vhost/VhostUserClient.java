package io.jnic.driver.virtio.vhost;

import io.jnic.driver.virtio.VirtioException;
import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The frontend ("master") side of the vhost-user protocol (QEMU docs/interop/vhost-user.rst) over a UNIX stream
 * socket: one request at a time, replies checked (request code, REPLY flag, payload size) before use, and
 * REPLY_ACK used for every setter once the backend offers it, so that a refusal is an exception naming the
 * request instead of a silently closed connection.
 *
 * <p>Message header (little-endian): u32 request, u32 flags (bits 0-1 version = 1, bit 2 REPLY, bit 3
 * NEED_REPLY), u32 payload size; then the payload. File descriptors travel as SCM_RIGHTS with the message.
 *
 * <p>Thread-safe (each request and its reply under the object's lock): a link-status poll from one thread and a
 * control call from another do not interleave on the socket.
 */
public final class VhostUserClient implements AutoCloseable {
    // Front-end message types
    public static final int GET_FEATURES = 1;
    public static final int SET_FEATURES = 2;
    public static final int SET_OWNER = 3;
    public static final int RESET_OWNER = 4;
    public static final int SET_MEM_TABLE = 5;
    public static final int SET_VRING_NUM = 8;
    public static final int SET_VRING_ADDR = 9;
    public static final int SET_VRING_BASE = 10;
    public static final int GET_VRING_BASE = 11;
    public static final int SET_VRING_KICK = 12;
    public static final int SET_VRING_CALL = 13;
    public static final int GET_PROTOCOL_FEATURES = 15;
    public static final int SET_PROTOCOL_FEATURES = 16;
    public static final int GET_QUEUE_NUM = 17;
    public static final int SET_VRING_ENABLE = 18;

    // Protocol features (bit numbers)
    public static final int PROTOCOL_F_MQ = 0;
    public static final int PROTOCOL_F_LOG_SHMFD = 1;
    public static final int PROTOCOL_F_RARP = 2;
    public static final int PROTOCOL_F_REPLY_ACK = 3;
    public static final int PROTOCOL_F_MTU = 4;
    public static final int PROTOCOL_F_BACKEND_REQ = 5;
    public static final int PROTOCOL_F_CONFIG = 9;
    public static final int PROTOCOL_F_STATUS = 16;

    static final int HEADER_SIZE = 12;
    static final int FLAG_VERSION = 0x1;
    static final int FLAG_VERSION_MASK = 0x3;
    static final int FLAG_REPLY = 0x4;
    static final int FLAG_NEED_REPLY = 0x8;
    /** Memory table: at most this many regions (VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_REGIONS = 8;
    static final int REGION_SIZE = 32;
    /** In SET_VRING_KICK/CALL: no descriptor follows (polling). */
    static final long VRING_NOFD = 1L << 8;
    static final int MAX_PAYLOAD = 8 + MAX_REGIONS * REGION_SIZE;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final java.util.concurrent.atomic.AtomicLong REFUSED_REPLIES = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Replies refused as malformed (wrong request code, flags, version or size, cut short, a ring other than the
     * one asked for) or bytes that answered nothing, by every client of this process; each cost its connection.
     */
    public static long refusedReplies() {
        return REFUSED_REPLIES.get();
    }

    /** How long a request waits for its reply; tests shorten it. */
    static volatile int replyTimeoutMillis = 10_000;

    private final Path path;
    private final int fd;
    private final UnixMessage msg = new UnixMessage(HEADER_SIZE + MAX_PAYLOAD, MAX_REGIONS);
    private final int[] fds = new int[MAX_REGIONS];
    private boolean replyAck;
    private boolean closed;
    private String lost;

    private VhostUserClient(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Connects to a backend listening at {@code path}.
     *
     * @throws VirtioException saying to start the backend when nobody listens there
     */
    public static VhostUserClient connect(Path path) {
        if (!Files.exists(path)) {
            throw new VirtioException("no vhost-user backend socket at " + path + ": start the backend first (for"
                    + " example dpdk-testpmd --no-pci --vdev 'net_vhost0,iface=" + path + "' -- -i), then retry");
        }
        int fd = Sockets.socket(Sockets.SOCK_STREAM);
        try {
            Sockets.connect(fd, UnixAddress.of(path));
        } catch (SysException e) {
            Io.closeQuietly(fd);
            if (e.errno() == Errno.ECONNREFUSED) {
                throw new VirtioException("nobody listens on the vhost-user socket " + path + " (a stale socket file"
                        + " of a backend that exited?): start the backend, then retry", e);
            }
            throw new VirtioException("cannot connect to the vhost-user socket " + path + ": " + e.getMessage(), e);
        }
        return new VhostUserClient(path, fd);
    }

    public Path path() {
        return path;
    }

    /** The connected socket (to poll for the backend going away). */
    public int fd() {
        return fd;
    }

    /** After the backend acknowledged PROTOCOL_F_REPLY_ACK: every setter waits for the backend's verdict. */
    void useReplyAck(boolean on) {
        replyAck = on;
    }

    /** True while the backend has not closed the connection (non-blocking check). */
    public synchronized boolean connected() {
        if (lost != null || closed) {
            return false;
        }
        if (Events.pollIn(fd, 0)) {
            long r;
            try {
                r = msg.receive(fd, UnixMessage.MSG_DONTWAIT | MSG_PEEK);
            } catch (SysException e) {
                r = 0;
            }
            msg.closeReceivedFds(); // a peek would install descriptors again each time
            if (r == 0) {
                lost = "the backend closed the connection";
                return false;
            }
        }
        return true;
    }

    private static final int MSG_PEEK = 0x2;

    /** Request without payload and without reply (SET_OWNER). */
    public synchronized void send(int request) {
        sendChecked(request, 0, 0);
    }

    /** A u64 request (SET_FEATURES, SET_PROTOCOL_FEATURES). */
    public synchronized void sendU64(int request, long value) {
        msg.data().set(U64, HEADER_SIZE, value);
        sendChecked(request, 8, 0);
    }

    /** A vring state request (SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE). */
    public synchronized void sendState(int request, int index, int num) {
        msg.data().set(U32, HEADER_SIZE, index);
        msg.data().set(U32, HEADER_SIZE + 4, num);
        sendChecked(request, 8, 0);
    }

    /** SET_VRING_ADDR with the frontend's virtual addresses of the three parts (not IOVAs). */
    public synchronized void sendVringAddr(int index, long desc, long used, long avail) {
        MemorySegment d = msg.data();
        d.set(U32, HEADER_SIZE, index);
        d.set(U32, HEADER_SIZE + 4, 0);
        d.set(U64, HEADER_SIZE + 8, desc);
        d.set(U64, HEADER_SIZE + 16, used);
        d.set(U64, HEADER_SIZE + 24, avail);
        d.set(U64, HEADER_SIZE + 32, 0);
        sendChecked(SET_VRING_ADDR, 40, 0);
    }

    /** SET_VRING_KICK / SET_VRING_CALL with an eventfd (or none: -1). */
    public synchronized void sendVringFd(int request, int index, int eventFd) {
        msg.data().set(U64, HEADER_SIZE, (index & 0xFF) | (eventFd < 0 ? VRING_NOFD : 0));
        fds[0] = eventFd;
        sendChecked(request, 8, eventFd < 0 ? 0 : 1);
    }

    /** One region of the memory table. */
    public record Region(long guestAddress, long size, long userAddress, long mmapOffset, int fd) {
    }

    public synchronized void sendMemTable(Region[] regions, int n) {
        if (n < 1 || n > MAX_REGIONS) {
            throw new VirtioException("a vhost-user memory table holds 1.." + MAX_REGIONS + " regions; this memory"
                    + " group has " + n + " segments: use fewer, larger segments (-m)");
        }
        MemorySegment d = msg.data();
        d.set(U32, HEADER_SIZE, n);
        d.set(U32, HEADER_SIZE + 4, 0);
        for (int i = 0; i < n; i++) {
            long o = HEADER_SIZE + 8 + (long) i * REGION_SIZE;
            d.set(U64, o, regions[i].guestAddress());
            d.set(U64, o + 8, regions[i].size());
            d.set(U64, o + 16, regions[i].userAddress());
            d.set(U64, o + 24, regions[i].mmapOffset());
            fds[i] = regions[i].fd();
        }
        sendChecked(SET_MEM_TABLE, 8 + n * REGION_SIZE, n);
    }

    /** GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM: a request whose reply is one u64. */
    public synchronized long getU64(int request) {
        write(request, 0, 0, 0);
        readReply(request, 8);
        return msg.data().get(U64, HEADER_SIZE);
    }

    /** GET_VRING_BASE: stops the ring and returns its next avail index. */
    public synchronized int getVringBase(int index) {
        msg.data().set(U32, HEADER_SIZE, index);
        msg.data().set(U32, HEADER_SIZE + 4, 0);
        write(GET_VRING_BASE, 0, 8, 0);
        readReply(GET_VRING_BASE, 8);
        int got = msg.data().get(U32, HEADER_SIZE);
        if (got != index) {
            REFUSED_REPLIES.incrementAndGet();
            throw lostWith("the backend answered GET_VRING_BASE for ring " + got + " instead of " + index);
        }
        return msg.data().get(U32, HEADER_SIZE + 4);
    }

    private void sendChecked(int request, int size, int nfds) {
        write(request, replyAck ? FLAG_NEED_REPLY : 0, size, nfds);
        if (replyAck) {
            readReply(request, 8);
            long status = msg.data().get(U64, HEADER_SIZE);
            if (status != 0) {
                throw new VirtioException("the vhost-user backend at " + path + " refused " + name(request)
                        + " (status " + status + "); its log says why");
            }
        }
    }

    private void write(int request, int flags, int size, int nfds) {
        checkOpen();
        // the backend speaks only when asked (no BACKEND_REQ channel here): bytes waiting now are a duplicate or
        // unsolicited message, which would otherwise pass for the reply to this request
        if (Events.pollIn(fd, 0)) {
            long r;
            try {
                r = msg.receive(fd, UnixMessage.MSG_DONTWAIT | MSG_PEEK);
            } catch (SysException e) {
                r = 0;
            }
            msg.closeReceivedFds();
            if (r == 0) {
                throw lostWith("the backend closed the connection");
            }
            REFUSED_REPLIES.incrementAndGet();
            throw lostWith(r + " bytes from the backend that answer nothing were waiting before " + name(request));
        }
        MemorySegment d = msg.data();
        d.set(U32, 0, request);
        d.set(U32, 4, FLAG_VERSION | flags);
        d.set(U32, 8, size);
        try {
            long sent = msg.send(fd, HEADER_SIZE + size, null, fds, nfds, 0);
            if (sent != HEADER_SIZE + size) {
                throw lostWith("short write of " + name(request) + " (" + sent + " of " + (HEADER_SIZE + size) + " bytes)");
            }
        } catch (SysException e) {
            throw lostWith("sending " + name(request) + " failed: " + e.getMessage());
        }
    }

    private void readReply(int request, int expectedSize) {
        awaitReply(request);
        long r;
        try {
            r = msg.receive(fd, 0);
        } catch (SysException e) {
            throw lostWith("waiting for the reply to " + name(request) + " failed: " + e.getMessage());
        }
        msg.closeReceivedFds(); // no reply we use carries descriptors
        if (r == 0) {
            throw lostWith("the backend closed the connection instead of answering " + name(request)
                    + " (it refuses the request or crashed; its log says which)");
        }
        MemorySegment d = msg.data();
        // a stream socket may deliver a message in pieces: complete the header, then the announced payload
        r = complete(request, r, HEADER_SIZE);
        int code = d.get(U32, 0);
        int flags = d.get(U32, 4);
        int size = d.get(U32, 8);
        if (size >= 0 && size <= MAX_PAYLOAD) {
            r = complete(request, r, HEADER_SIZE + size);
        }
        if (r < HEADER_SIZE || code != request || (flags & FLAG_REPLY) == 0 || (flags & FLAG_VERSION_MASK) != FLAG_VERSION
                || size != expectedSize || r != HEADER_SIZE + size) {
            REFUSED_REPLIES.incrementAndGet();
            throw lostWith("malformed reply to " + name(request) + ": request " + code + ", flags 0x"
                    + Integer.toHexString(flags) + ", size " + Integer.toUnsignedString(size) + " in " + r
                    + " bytes (expected " + expectedSize + ")");
        }
    }

    private long complete(int request, long have, long want) {
        while (have < want) {
            awaitReply(request);
            long r;
            try {
                r = Io.read(fd, msg.data().asSlice(have), want - have);
            } catch (SysException e) {
                throw lostWith("reading the reply to " + name(request) + " failed: " + e.getMessage());
            }
            if (r <= 0) {
                throw lostWith("the backend closed the connection in the middle of the reply to " + name(request));
            }
            have += r;
        }
        return have;
    }

    /** A backend that stops answering must not hang the caller forever. */
    private void awaitReply(int request) {
        if (!Events.pollIn(fd, replyTimeoutMillis)) {
            throw lostWith("no reply to " + name(request) + " within " + replyTimeoutMillis + " ms (is the backend stuck?)");
        }
    }

    private VirtioException lostWith(String what) {
        lost = what;
        return new VirtioException("vhost-user backend at " + path + ": " + what
                + ". Restart the backend, then restart the port");
    }

    private void checkOpen() {
        if (closed) {
            throw new VirtioException("vhost-user connection to " + path + " is closed");
        }
        if (lost != null) {
            throw new VirtioException("vhost-user backend at " + path + " is gone (" + lost
                    + "): restart the backend, then restart the port");
        }
    }

    static String name(int request) {
        return switch (request) {
            case GET_FEATURES -> "GET_FEATURES";
            case SET_FEATURES -> "SET_FEATURES";
            case SET_OWNER -> "SET_OWNER";
            case RESET_OWNER -> "RESET_OWNER";
            case SET_MEM_TABLE -> "SET_MEM_TABLE";
            case SET_VRING_NUM -> "SET_VRING_NUM";
            case SET_VRING_ADDR -> "SET_VRING_ADDR";
            case SET_VRING_BASE -> "SET_VRING_BASE";
            case GET_VRING_BASE -> "GET_VRING_BASE";
            case SET_VRING_KICK -> "SET_VRING_KICK";
            case SET_VRING_CALL -> "SET_VRING_CALL";
            case GET_PROTOCOL_FEATURES -> "GET_PROTOCOL_FEATURES";
            case SET_PROTOCOL_FEATURES -> "SET_PROTOCOL_FEATURES";
            case GET_QUEUE_NUM -> "GET_QUEUE_NUM";
            case SET_VRING_ENABLE -> "SET_VRING_ENABLE";
            default -> "request " + request;
        };
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Io.closeQuietly(fd);
            msg.close();
        }
    }
}
