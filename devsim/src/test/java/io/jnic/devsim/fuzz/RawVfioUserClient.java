package io.jnic.devsim.fuzz;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A vfio-user client that sends whatever bytes it is given (with descriptors) and reads replies with a bounded
 * wait: the fuzzer's end of the socket. Descriptors that come back are closed at once.
 */
final class RawVfioUserClient implements AutoCloseable {
    static final int HEADER = 16;

    /** A received message. */
    record Message(int id, int command, int flags, int error, byte[] payload) {
        boolean isError() {
            return (flags & 0x20) != 0;
        }

        boolean isReply() {
            return (flags & 0xf) == 1;
        }

        long u64(int at) {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
        }

        int u32(int at) {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
        }
    }

    /** What {@link #receive} saw. */
    enum Outcome { MESSAGE, TIMEOUT, CLOSED }

    private final int fd;
    private final UnixMessage out = new UnixMessage(1 << 17, 32);
    private final UnixMessage headerIn = new UnixMessage(HEADER, 32);
    private final MemorySegment body = java.lang.foreign.Arena.ofAuto().allocate(1 << 21);
    Message last;

    RawVfioUserClient(Path path) {
        fd = Sockets.socket(Sockets.SOCK_STREAM);
        try {
            Sockets.connect(fd, UnixAddress.of(path));
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    static byte[] message(int id, int command, int flags, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) id).putShort((short) command).putInt(HEADER + payload.length).putInt(flags).putInt(0);
        b.put(payload);
        return b.array();
    }

    /** Sends {@code bytes} (the first {@code length} of them) with {@code fds}; false when the peer is gone. */
    boolean send(byte[] bytes, int length, int[] fds) {
        MemorySegment.copy(bytes, 0, out.data(), ValueLayout.JAVA_BYTE, 0, length);
        try {
            long sent = out.send(fd, length, null, fds, fds.length, UnixMessage.MSG_NOSIGNAL);
            while (sent < length) {
                long n = Io.write(fd, out.data().asSlice(sent), length - sent);
                if (n <= 0) {
                    return false;
                }
                sent += n;
            }
            return true;
        } catch (SysException e) {
            return false;
        }
    }

    /** Reads one message within {@code waitMillis}; a message cut short or a bad size counts as CLOSED. */
    Outcome receive(int waitMillis) {
        try {
            if (!Events.pollIn(fd, waitMillis)) {
                return Outcome.TIMEOUT;
            }
            long r = headerIn.receive(fd, 0);
            headerIn.closeReceivedFds();
            if (r <= 0) {
                return Outcome.CLOSED;
            }
            MemorySegment.copy(headerIn.data(), 0, body, 0, r);
            if (!readFully(r, HEADER, waitMillis)) {
                return Outcome.CLOSED;
            }
            int size = body.get(ValueLayout.JAVA_INT_UNALIGNED, 4);
            if (size < HEADER || size > body.byteSize()) {
                return Outcome.CLOSED;
            }
            if (!readFully(HEADER, size, waitMillis)) {
                return Outcome.CLOSED;
            }
            last = new Message(Short.toUnsignedInt(body.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)),
                    Short.toUnsignedInt(body.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2)),
                    body.get(ValueLayout.JAVA_INT_UNALIGNED, 8), body.get(ValueLayout.JAVA_INT_UNALIGNED, 12),
                    body.asSlice(HEADER, size - HEADER).toArray(ValueLayout.JAVA_BYTE));
            return Outcome.MESSAGE;
        } catch (SysException e) {
            return Outcome.CLOSED;
        }
    }

    private boolean readFully(long from, long to, int waitMillis) {
        long at = from;
        while (at < to) {
            if (!Events.pollIn(fd, waitMillis)) {
                return false;
            }
            long n = Io.read(fd, body.asSlice(at), to - at);
            if (n <= 0) {
                return false;
            }
            at += n;
        }
        return true;
    }

    @Override
    public void close() {
        Io.closeQuietly(fd);
        out.close();
        headerIn.close();
    }
}
