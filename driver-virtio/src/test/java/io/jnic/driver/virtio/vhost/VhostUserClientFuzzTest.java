package io.jnic.driver.virtio.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.VirtioException;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile vhost-user backend against {@link VhostUserClient}: replies structurally mutated (request code,
 * flags and version, size fields that lie, cut short, grown, split, sent twice, never sent, with descriptors
 * that do not belong, the connection closed in mid-reply) and messages nobody asked for ahead of the reply.
 * The client must throw nothing but {@link VirtioException}, never wait past its reply timeout, return the
 * right value for an unspoilt reply, keep working after a refusal (REPLY_ACK status), treat anything that
 * leaves the stream out of step as the loss of the backend (vhost-user has no way to resynchronise), leak no
 * descriptor, and work normally with a well-behaved backend afterwards. Seeded: {@code -Dfuzz.seed=N},
 * {@code -Dfuzz.iterations=N} (default 3000 requests).
 */
class VhostUserClientFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 0x7405_0013L);
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 3000);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final long FEATURES = 0x1_3000_8020L;
    static final long PROTOCOL_FEATURES = 1L << VhostUserClient.PROTOCOL_F_REPLY_ACK | 1L << VhostUserClient.PROTOCOL_F_MQ;

    @TempDir
    Path dir;

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The hostile backend: serves one connection after the other. */
    static final class HostileBackend implements AutoCloseable {
        final Random rnd;
        final AtomicBoolean hostile = new AtomicBoolean(true);
        final AtomicBoolean lastSpoilt = new AtomicBoolean();
        final AtomicInteger refusals = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final int listener;
        private final Thread thread;
        private volatile boolean running = true;

        HostileBackend(Path path, long seed) {
            rnd = new Random(seed);
            listener = Sockets.socket(Sockets.SOCK_STREAM);
            Sockets.bind(listener, UnixAddress.of(path));
            Sockets.listen(listener, 4);
            thread = Thread.ofPlatform().daemon().name("hostile vhost-user backend").start(this::run);
        }

        private void run() {
            try (Arena arena = Arena.ofConfined(); UnixMessage in = new UnixMessage(12 + 4096, 16);
                    UnixMessage out = new UnixMessage(1 << 16, 16)) {
                MemorySegment d = arena.allocate(12 + 4096, 8);
                while (running) {
                    if (!Events.pollIn(listener, 50)) {
                        continue;
                    }
                    int conn = Sockets.accept(listener);
                    if (conn < 0) {
                        continue;
                    }
                    try {
                        serve(conn, in, out, d);
                    } finally {
                        Io.closeQuietly(conn);
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }

        private boolean readFully(int fd, MemorySegment buf, long from, long to) {
            long at = from;
            while (at < to) {
                if (!Events.pollIn(fd, 100) && !running) {
                    return false;
                }
                long r;
                try {
                    r = Io.read(fd, buf.asSlice(at), to - at);
                } catch (RuntimeException e) {
                    return false;
                }
                if (r <= 0) {
                    return false;
                }
                at += r;
            }
            return true;
        }

        private void serve(int conn, UnixMessage in, UnixMessage out, MemorySegment d) {
            while (running) {
                if (!Events.pollIn(conn, 50)) {
                    continue;
                }
                long r;
                try {
                    r = in.receive(conn, 0);
                } catch (RuntimeException e) {
                    return;
                }
                in.closeReceivedFds(); // the memory table's and eventfds: not needed here
                if (r <= 0) {
                    return;
                }
                MemorySegment.copy(in.data(), 0, d, 0, r);
                if (!readFully(conn, d, r, 12)) {
                    return;
                }
                int req = d.get(U32, 0);
                int flags = d.get(U32, 4);
                int size = d.get(U32, 8);
                if (size < 0 || size > 4096 || !readFully(conn, d, Math.max(r, 12), 12 + size)) {
                    throw new AssertionError("the client sent a malformed request " + req + " of size " + size);
                }
                boolean needReply = (flags & 0x8) != 0;
                long value;
                switch (req) {
                    case VhostUserClient.GET_FEATURES -> value = FEATURES;
                    case VhostUserClient.GET_PROTOCOL_FEATURES -> value = PROTOCOL_FEATURES;
                    case VhostUserClient.GET_QUEUE_NUM -> value = 2;
                    case VhostUserClient.GET_VRING_BASE -> value = d.get(U32, 12) & 0xFFFFFFFFL | 77L << 32;
                    default -> {
                        if (!needReply) {
                            continue;
                        }
                        boolean refuse = hostile.get() && rnd.nextInt(10) == 0;
                        if (refuse) {
                            refusals.incrementAndGet();
                        }
                        value = refuse ? 1 + rnd.nextInt(5) : 0;
                    }
                }
                MemorySegment o = out.data();
                o.set(U32, 0, req);
                o.set(U32, 4, 0x1 | 0x4);
                o.set(U32, 8, 8);
                o.set(U64, 12, value);
                lastSpoilt.set(false);
                try {
                    if (!hostile.get() || rnd.nextInt(2) == 0) {
                        out.send(conn, 20, null, null, 0, 0);
                        continue;
                    }
                    lastSpoilt.set(true);
                    if (!spoilt(conn, out)) {
                        return;
                    }
                } catch (io.jnic.sys.SysException e) {
                    return; // the client gave up on this connection (a timeout): fine, it reconnects
                }
            }
        }

        /** Sends a spoilt version of the reply in out.data() (20 bytes); false when the connection is to end. */
        private boolean spoilt(int conn, UnixMessage out) {
            MemorySegment o = out.data();
            int length = 20;
            int[] fds = null;
            switch (rnd.nextInt(14)) {
                case 0 -> o.set(U32, 0, rnd.nextInt(40));                   // another request code
                case 1 -> o.set(U32, 4, rnd.nextInt(16));                   // flags: version, REPLY, NEED_REPLY
                case 2 -> o.set(U32, 8, (int) pickSize());                  // the size lies
                case 3 -> length = rnd.nextInt(20);                         // cut short (then silence)
                case 4 -> {                                                 // grown: size and bytes agree
                    int extra = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 600);
                    o.set(U32, 8, 8 + extra);
                    for (int i = 0; i < extra; i++) {
                        o.set(ValueLayout.JAVA_BYTE, 20 + i, (byte) rnd.nextInt());
                    }
                    length = 20 + extra;
                }
                case 5 -> {                                                 // descriptors that do not belong
                    fds = new int[1 + rnd.nextInt(12)];
                    for (int i = 0; i < fds.length; i++) {
                        fds[i] = Events.eventfd(0, Events.EFD_CLOEXEC);
                    }
                }
                case 6 -> {                                                 // a message nobody asked for, first
                    MemorySegment copy = Arena.ofAuto().allocate(20);
                    copy.copyFrom(o.asSlice(0, 20));
                    o.set(U32, 0, rnd.nextInt(60));
                    o.set(U32, 4, rnd.nextInt(16));
                    o.set(U32, 8, 0);
                    out.send(conn, 12, null, null, 0, 0);
                    o.asSlice(0, 20).copyFrom(copy);
                }
                case 7 -> {                                                 // twice
                    out.send(conn, 20, null, null, 0, 0);
                }
                case 8 -> {                                                 // in pieces, a moment apart
                    int cut = 1 + rnd.nextInt(19);
                    out.send(conn, cut, null, null, 0, 0);
                    sleep(1 + rnd.nextInt(5));
                    Io.write(conn, o.asSlice(cut), 20 - cut);
                    return true;
                }
                case 9 -> {                                                 // half, then the connection ends
                    out.send(conn, 1 + rnd.nextInt(19), null, null, 0, 0);
                    return false;
                }
                case 10 -> {
                    if (rnd.nextInt(3) == 0) {
                        return true;                                        // no reply: the client's timeout
                    }
                }
                case 11 -> o.set(U64, 12, rnd.nextLong());                  // a wrong value (not detectable)
                default -> { }
            }
            try {
                out.send(conn, length, null, fds, fds == null ? 0 : fds.length, 0);
            } catch (RuntimeException e) {
                return false;
            } finally {
                if (fds != null) {
                    for (int fd : fds) {
                        Io.close(fd);
                    }
                }
            }
            return true;
        }

        private long pickSize() {
            long[] sizes = {0, 1, 4, 7, 9, 16, 264, 265, 4096, 0x7fffffffL, 0x80000000L, 0xffffffffL};
            return sizes[rnd.nextInt(sizes.length)];
        }

        private static void sleep(int ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(5000);
            Io.closeQuietly(listener);
        }
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void aHostileBackendCostsTheConnectionNeverTheClient() throws Exception {
        long baseline = openFds();
        Path socket = dir.resolve("vhost.sock");
        int saved = VhostUserClient.replyTimeoutMillis;
        VhostUserClient.replyTimeoutMillis = 200;
        Random ops = new Random(SEED ^ 0x33);
        int ok = 0;
        int refused = 0;
        int lost = 0;
        int kick = Events.eventfd(0, Events.EFD_CLOEXEC);
        long refusedBefore = VhostUserClient.refusedReplies();
        try (HostileBackend backend = new HostileBackend(socket, SEED)) {
            VhostUserClient c = null;
            for (int i = 0; i < ITERATIONS; i++) {
                String where = "seed 0x" + Long.toHexString(SEED) + " request " + i;
                try {
                    if (c == null || !c.connected()) {
                        if (c != null) {
                            c.close();
                        }
                        c = null;
                        c = VhostUserClient.connect(socket);
                        c.useReplyAck(true);
                    }
                    switch (ops.nextInt(6)) {
                        case 0 -> {
                            long f = c.getU64(VhostUserClient.GET_FEATURES);
                            if (!backend.lastSpoilt.get()) {
                                assertEquals(FEATURES, f, where);
                            }
                        }
                        case 1 -> {
                            long q = c.getU64(VhostUserClient.GET_QUEUE_NUM);
                            if (!backend.lastSpoilt.get()) {
                                assertEquals(2, q, where);
                            }
                        }
                        case 2 -> {
                            int base = c.getVringBase(1);
                            if (!backend.lastSpoilt.get()) {
                                assertEquals(77, base, where);
                            }
                        }
                        case 3 -> c.sendState(VhostUserClient.SET_VRING_NUM, ops.nextInt(2), 256);
                        case 4 -> c.sendVringFd(VhostUserClient.SET_VRING_KICK, ops.nextInt(2), kick);
                        default -> c.sendU64(VhostUserClient.SET_FEATURES, FEATURES);
                    }
                    ok++;
                } catch (VirtioException e) {
                    if (e.getMessage().contains("refused")) {
                        refused++; // REPLY_ACK status: the connection goes on
                    } else {
                        lost++;
                        c.close(); // anything else lost the backend: a new connection
                        c = null;
                    }
                } catch (RuntimeException | AssertionError e) {
                    throw new AssertionError(where + ": " + e, e);
                }
                if (backend.failure.get() != null) {
                    throw new AssertionError(where + ": the backend saw a bad request", backend.failure.get());
                }
            }
            if (c != null) {
                c.close();
            }
            backend.hostile.set(false);
            try (VhostUserClient good = VhostUserClient.connect(socket)) {
                good.useReplyAck(true);
                assertEquals(FEATURES, good.getU64(VhostUserClient.GET_FEATURES));
                good.sendState(VhostUserClient.SET_VRING_NUM, 0, 256);
                assertEquals(77, good.getVringBase(0));
                assertTrue(good.connected());
            }
            System.out.printf("vhost-user client fuzz (seed 0x%x, %d requests): %d answered, %d refused (connection kept),"
                    + " %d lost the connection%n", SEED, ITERATIONS, ok, refused, lost);
            assertNull(backend.failure.get());
            assertTrue(VhostUserClient.refusedReplies() - refusedBefore > lost / 3, "malformed replies were counted: "
                    + (VhostUserClient.refusedReplies() - refusedBefore));
            assertTrue(refused > 10 && lost > 100 && ok > ITERATIONS / 3, ok + " / " + refused + " / " + lost);
        } finally {
            VhostUserClient.replyTimeoutMillis = saved;
            Io.close(kick);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (openFds() > baseline && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(openFds() <= baseline, "no descriptor leaked: " + openFds() + " open, " + baseline + " before");
    }
}
