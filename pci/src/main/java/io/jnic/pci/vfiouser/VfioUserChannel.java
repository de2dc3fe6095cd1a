package io.jnic.pci.vfiouser;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Message framing over a connected, non-blocking SOCK_STREAM UNIX socket. A message is received as its
 * 16-byte header through recvmsg (so that descriptors sent with the message, which the kernel delivers
 * with its first byte, arrive here and never with a neighbour's bytes), then its body with read(2) of
 * exactly the declared remainder. Every wait is bounded; a declared size outside [16, capacity] or a peer
 * that stops in mid-message fails the channel, since the stream can no longer be trusted.
 *
 * <p>Threads: one receiver at a time (the owner guards {@link #receive} and {@link #in()}); any number of
 * senders, each building in an {@link Outbox} of its own, since a whole message goes out under one send
 * lock (a reply to a peer's request may go out while another thread's request is being written).
 * {@link #close} takes the send lock too, so no send reaches a descriptor number that was closed and reused.
 */
final class VfioUserChannel implements AutoCloseable {
    /** {@link #receive} results. */
    static final int RECEIVED = 1;
    static final int END_OF_STREAM = 0;
    static final int NOTHING = -1;

    private final int socket;
    private final Arena arena = Arena.ofShared();
    private final UnixMessage headerIn;
    private final Outbox primary;
    private final VfioUserMessage in;
    private final java.util.concurrent.locks.ReentrantLock sendLock = new java.util.concurrent.locks.ReentrantLock();
    private final int capacity;
    private final MemorySegment pollFd;     // the receiver's
    private final MemorySegment sendPollFd; // under the send lock
    private final int[] fds;
    private int fdCount;
    private final int maxFds;
    private final long partialTimeoutNanos;
    private volatile boolean closed;

    /** A buffer to build messages in and send them from; one per sending thread. */
    static final class Outbox implements AutoCloseable {
        private final UnixMessage out;
        private final VfioUserMessage message;

        private Outbox(int capacity, int maxFds) {
            this.out = new UnixMessage(capacity, maxFds);
            this.message = new VfioUserMessage(out.data().asSlice(0, capacity));
        }

        VfioUserMessage message() {
            return message;
        }

        @Override
        public void close() {
            out.close();
        }
    }

    /**
     * @param socket           connected stream socket; the channel owns it and makes it non-blocking
     * @param capacity         largest message (header included) either direction
     * @param maxFds           most descriptors accepted with one message (more fail the channel)
     * @param partialTimeoutMs how long the rest of a message that has begun to arrive may take
     */
    VfioUserChannel(int socket, int capacity, int maxFds, int partialTimeoutMs) {
        this.socket = socket;
        this.maxFds = maxFds;
        this.partialTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(partialTimeoutMs);
        Io.setNonBlocking(socket, true);
        this.capacity = capacity;
        this.headerIn = new UnixMessage(VfioUserMessage.HEADER_SIZE, maxFds);
        this.primary = new Outbox(capacity, maxFds);
        this.in = new VfioUserMessage(arena.allocate(capacity, 64));
        this.pollFd = Events.allocatePollFds(arena, 1);
        this.sendPollFd = Events.allocatePollFds(arena, 1);
        this.fds = new int[maxFds];
    }

    int socket() {
        return socket;
    }

    boolean isClosed() {
        return closed;
    }

    /** The last message received. */
    VfioUserMessage in() {
        return in;
    }

    /** The buffer to build the next message to send in (the primary outbox's). */
    VfioUserMessage out() {
        return primary.message;
    }

    /** Largest message either direction, header included. */
    int capacity() {
        return capacity;
    }

    /** Another outbox, for a second sending thread; the caller closes it after the channel. */
    Outbox newOutbox() {
        return new Outbox(capacity, fds.length);
    }

    /** Shuts the socket down both ways (a poller on it wakes, the peer sees the end); the descriptor stays ours. */
    void shutdown() {
        sendLock.lock();
        try {
            if (!closed) {
                io.jnic.sys.Sockets.shutdown(socket, io.jnic.sys.Sockets.SHUT_RDWR);
            }
        } catch (SysException e) {
            // already disconnected
        } finally {
            sendLock.unlock();
        }
    }

    /** Descriptors received with the last message that nobody has taken yet (-1 where taken). */
    int fdCount() {
        return fdCount;
    }

    /** Descriptor {@code index} of the last message, still owned by the channel. */
    int fdAt(int index) {
        if (index < 0 || index >= fdCount || fds[index] < 0) {
            throw new IndexOutOfBoundsException("descriptor " + index + " of " + fdCount + " received");
        }
        return fds[index];
    }

    /** Takes ownership of descriptor {@code index} received with the last message. */
    int takeFd(int index) {
        if (index < 0 || index >= fdCount || fds[index] < 0) {
            throw new IndexOutOfBoundsException("descriptor " + index + " of " + fdCount + " received");
        }
        int fd = fds[index];
        fds[index] = -1;
        return fd;
    }

    /** Closes descriptors of the last message that were not taken (never leak what a peer sends). */
    void closeUntakenFds() {
        for (int i = 0; i < fdCount; i++) {
            Io.closeQuietly(fds[i]);
            fds[i] = -1;
        }
        fdCount = 0;
    }

    /**
     * Sends {@link #out()} with {@code count} descriptors, waiting at most until {@code deadline}
     * ({@link System#nanoTime()} based).
     */
    void send(int[] sendFds, int count, long deadline) {
        send(primary, sendFds, count, deadline);
    }

    /** Sends the message built in {@code box} with {@code count} descriptors, whole, under the send lock. */
    void send(Outbox box, int[] sendFds, int count, long deadline) {
        sendLock.lock();
        try {
            sendLocked(box, sendFds, count, deadline);
        } finally {
            sendLock.unlock();
        }
    }

    private void sendLocked(Outbox box, int[] sendFds, int count, long deadline) {
        VfioUserMessage outMessage = box.message;
        UnixMessage out = box.out;
        int size = outMessage.size();
        int command = outMessage.command();
        if (closed) {
            throw new VfioUserException(command, "connection closed");
        }
        long sent;
        try {
            while ((sent = out.send(socket, size, null, sendFds, count, UnixMessage.MSG_DONTWAIT)) < 0) {
                await(sendPollFd, Events.POLLOUT, deadline, command, "sending");
            }
            while (sent < size) { // the descriptors went with the first part
                long n = Io.write(socket, out.data().asSlice(sent), size - sent);
                if (n < 0) {
                    await(sendPollFd, Events.POLLOUT, deadline, command, "sending");
                } else {
                    sent += n;
                }
            }
        } catch (SysException e) {
            throw new VfioUserException(command, peerGone(e) ? "peer closed the connection (" + e.errno() + " on send)"
                    : "cannot send to the peer: " + e.getMessage(), e);
        }
    }

    /**
     * Receives one message into {@link #in()}: {@link #RECEIVED}, {@link #END_OF_STREAM} when the peer
     * closed between messages, or {@link #NOTHING} when no byte arrived within {@code waitMillis}.
     * Throws when the peer sends a bad size, too many descriptors, or stops in mid-message.
     */
    int receive(int waitMillis) {
        closeUntakenFds();
        long r;
        try {
            if (!Events.pollIn(socket, waitMillis)) {
                return NOTHING;
            }
            r = headerIn.receive(socket, UnixMessage.MSG_DONTWAIT);
        } catch (SysException e) {
            if (peerGone(e)) {
                return END_OF_STREAM;
            }
            throw new VfioUserException(0, "cannot receive from the peer: " + e.getMessage(), e);
        }
        if (r < 0) {
            return NOTHING;
        }
        for (int i = 0; i < headerIn.fdCount(); i++) {
            fds[fdCount++] = headerIn.fd(i);
        }
        if (headerIn.truncated()) {
            closeUntakenFds();
            throw new VfioUserException(0, "peer sent more than " + maxFds + " descriptors with one message");
        }
        if (r == 0) {
            return END_OF_STREAM;
        }
        MemorySegment buf = in.buffer();
        MemorySegment.copy(headerIn.data(), 0, buf, 0, r);
        long deadline = System.nanoTime() + partialTimeoutNanos;
        readFully(buf, r, VfioUserMessage.HEADER_SIZE, deadline);
        int declared = in.declaredSize();
        if (declared < VfioUserMessage.HEADER_SIZE || declared > in.capacity()) {
            closeUntakenFds();
            throw new VfioUserException(in.command(), "message id " + in.msgId() + " declares a size of "
                    + Integer.toUnsignedString(declared) + " bytes (must be 16 to " + in.capacity() + ")");
        }
        readFully(buf, VfioUserMessage.HEADER_SIZE, declared, deadline);
        in.received(declared);
        return RECEIVED;
    }

    private void readFully(MemorySegment buf, long from, long to, long deadline) {
        long at = from;
        while (at < to) {
            long n;
            try {
                n = Io.read(socket, buf.asSlice(at), to - at);
            } catch (SysException e) {
                if (!peerGone(e)) {
                    throw new VfioUserException(in.command(), "cannot receive from the peer: " + e.getMessage(), e);
                }
                n = 0;
            }
            if (n == 0) {
                closeUntakenFds();
                throw new VfioUserException(at >= VfioUserMessage.HEADER_SIZE ? in.command() : 0,
                        "peer closed the connection in the middle of a message (" + at + " of "
                                + (to == VfioUserMessage.HEADER_SIZE ? "16 header" : Long.toString(to)) + " bytes)");
            }
            if (n < 0) {
                await(pollFd, Events.POLLIN, deadline, at >= VfioUserMessage.HEADER_SIZE ? in.command() : 0, "receiving the rest of a message");
            } else {
                at += n;
            }
        }
    }

    private void await(MemorySegment pollFd, short events, long deadline, int command, String doing) {
        long left = deadline - System.nanoTime();
        if (left > 0) {
            Events.setPollFd(pollFd, 0, socket, events);
            if (Events.poll(pollFd, (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)))) > 0) {
                return;
            }
        }
        throw new VfioUserException(command, "timed out " + doing);
    }

    /** EPIPE / ECONNRESET: the peer closed its end (with unread data on one side, the kernel resets). */
    private static boolean peerGone(SysException e) {
        return e.errno() == io.jnic.sys.Errno.EPIPE || e.errno() == io.jnic.sys.Errno.ECONNRESET;
    }

    @Override
    public void close() {
        sendLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            Io.closeQuietly(socket);
        } finally {
            sendLock.unlock();
        }
        closeUntakenFds();
        headerIn.close();
        primary.close();
        arena.close();
    }
}
