package io.jnic.driver.virtio.vhost;

import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A scripted vhost-user backend for the error paths a real one will not take on demand: it offers chosen
 * features and queue counts, refuses chosen requests (REPLY_ACK status 1), or answers with a malformed reply.
 * Written from the protocol document (header u32 request, u32 flags, u32 size), independent of the client.
 */
final class FakeBackend implements AutoCloseable {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    long features;
    long protocolFeatures;
    long queueNum = 1;
    int refuse = -1;
    int garble = -1;
    int silent = -1;
    final List<Integer> requests = new CopyOnWriteArrayList<>();
    private final int listener;
    private final Thread thread;
    private volatile int conn = -1;

    FakeBackend(Path socket, long features, long protocolFeatures) {
        this.features = features;
        this.protocolFeatures = protocolFeatures;
        listener = Sockets.socket(Sockets.SOCK_STREAM);
        Sockets.bind(listener, UnixAddress.of(socket));
        Sockets.listen(listener, 1);
        thread = Thread.ofPlatform().daemon().start(this::serve);
    }

    /** Reads exactly {@code n} bytes (a stream socket may split or join messages); false at end of stream. */
    private static boolean readFully(int fd, MemorySegment buf, long n) {
        long got = 0;
        while (got < n) {
            long r = Io.read(fd, buf.asSlice(got), n - got);
            if (r <= 0) {
                return false;
            }
            got += r;
        }
        return true;
    }

    private void serve() {
        try (Arena arena = Arena.ofConfined(); UnixMessage m = new UnixMessage(64, 0)) {
            MemorySegment d = arena.allocate(4096, 8);
            conn = Sockets.accept(listener);
            while (true) {
                // plain read(2): descriptors that came with a message are dropped by the kernel
                if (!readFully(conn, d, 12)) {
                    return;
                }
                int req = d.get(U32, 0);
                int flags = d.get(U32, 4);
                int size = d.get(U32, 8);
                if (size < 0 || size > 4096 - 12 || !readFully(conn, d.asSlice(12), size)) {
                    return;
                }
                requests.add(req);
                if (req == silent) {
                    continue; // never answers
                }
                long reply;
                boolean hasReply = true;
                switch (req) {
                    case 1 -> reply = features;
                    case 15 -> reply = protocolFeatures;
                    case 17 -> reply = queueNum;
                    case 11 -> reply = d.get(U32, 12) & 0xFFFFFFFFL; // state {index, num 0}
                    default -> {
                        hasReply = (flags & 0x8) != 0;
                        reply = req == refuse ? 1 : 0;
                    }
                }
                if (hasReply) {
                    MemorySegment o = m.data();
                    o.set(U32, 0, req == garble ? req + 1 : req);
                    o.set(U32, 4, 0x1 | 0x4);
                    o.set(U32, 8, 8);
                    o.set(U64, 12, reply);
                    m.send(conn, 20, null, null, 0, 0);
                }
            }
        } catch (RuntimeException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws InterruptedException {
        Sockets.shutdown(listener, Sockets.SHUT_RDWR);
        Io.closeQuietly(listener);
        int c = conn;
        if (c >= 0) {
            Sockets.shutdown(c, Sockets.SHUT_RDWR);
        }
        thread.join(5000);
        if (c >= 0) {
            Io.closeQuietly(c);
        }
    }
}
