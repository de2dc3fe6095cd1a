package io.jnic.driver.virtio.vhost;

import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
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

    private void serve() {
        try (UnixMessage m = new UnixMessage(4096, 8)) {
            conn = Sockets.accept(listener);
            while (true) {
                long r = m.receive(conn, 0);
                m.closeReceivedFds();
                if (r <= 0) {
                    return;
                }
                MemorySegment d = m.data();
                int req = d.get(U32, 0);
                int flags = d.get(U32, 4);
                requests.add(req);
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
                    d.set(U32, 0, req == garble ? req + 1 : req);
                    d.set(U32, 4, 0x1 | 0x4);
                    d.set(U32, 8, 8);
                    d.set(U64, 12, reply);
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
