package io.jnic.multiproc.ipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.Proc;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class IpcChannelTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static IpcMessage text(String name, String s, int... fds) {
        return new IpcMessage(name, s.getBytes(StandardCharsets.UTF_8), fds);
    }

    private static String text(IpcMessage m) {
        return new String(m.param(), StandardCharsets.UTF_8);
    }

    @Test
    void messagesGoFromSecondaryToPrimaryAndFromPrimaryToEverySecondary() throws Exception {
        BlockingQueue<String> atPrimary = new ArrayBlockingQueue<>(4);
        BlockingQueue<String> atSecondaries = new ArrayBlockingQueue<>(4);
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel s1 = IpcChannel.secondary(dir);
                IpcChannel s2 = IpcChannel.secondary(dir)) {
            primary.register("hello", (m, peer) -> atPrimary.add(text(m) + " from " + peer.pid()));
            s1.register("hello", (m, peer) -> atSecondaries.add("s1 got " + text(m)));
            s2.register("hello", (m, peer) -> atSecondaries.add("s2 got " + text(m)));
            assertEquals(1, s1.sendMessage(text("hello", "one")));
            assertEquals("one from " + Proc.getpid(), atPrimary.poll(10, TimeUnit.SECONDS));
            assertEquals(2, primary.sendMessage(text("hello", "all")));
            List<String> got = Stream.of(atSecondaries.poll(10, TimeUnit.SECONDS), atSecondaries.poll(10, TimeUnit.SECONDS))
                    .sorted().toList();
            assertEquals(List.of("s1 got all", "s2 got all"), got);
            assertEquals(2, primary.peers().size());
            assertEquals(0, primary.stats().dropped());
        }
    }

    @Test
    void syncRequestCarriesADescriptorTheRequesterReadsThrough() {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel secondary = IpcChannel.secondary(dir);
                Arena arena = Arena.ofConfined()) {
            primary.register("get-mem", (m, peer) -> {
                int fd = Mman.memfdCreate("ipc-test", Mman.MFD_CLOEXEC);
                MemorySegment b = Arena.ofAuto().allocate(8);
                b.set(ValueLayout.JAVA_LONG, 0, 0xC0FFEEL + m.paramBuffer().getInt(0));
                Io.pwrite(fd, b, 8, 0);
                primary.reply(peer, new IpcMessage("get-mem", new byte[0], fd));
                Io.close(fd);
            });
            byte[] param = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(5).array();
            IpcReply reply = secondary.requestSync(new IpcMessage("get-mem", param), LONG);
            assertEquals(1, reply.nbSent());
            assertEquals(1, reply.nbReceived());
            assertTrue(reply.complete());
            IpcMessage m = reply.messages().getFirst();
            assertEquals(1, m.fdCount());
            MemorySegment back = arena.allocate(8);
            assertEquals(8, Io.pread(m.fd(0), back, 8, 0));
            assertEquals(0xC0FFEEL + 5, back.get(ValueLayout.JAVA_LONG, 0));
            reply.closeFds();
        }
    }

    @Test
    void primaryRequestIsBroadcastAndCollectsEveryReply() {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel s1 = IpcChannel.secondary(dir);
                IpcChannel s2 = IpcChannel.secondary(dir)) {
            s1.register("who", (m, peer) -> s1.reply(peer, text("who", "s1")));
            s2.register("who", (m, peer) -> s2.reply(peer, text("who", "s2")));
            IpcReply reply = primary.requestSync(new IpcMessage("who"), LONG);
            assertEquals(2, reply.nbSent());
            assertEquals(2, reply.nbReceived());
            assertEquals(List.of("s1", "s2"), reply.messages().stream().map(IpcChannelTest::text).sorted().toList());
        }
    }

    @Test
    void asyncRequestCallsBackOnceWithEveryReplyAndItsDescriptors() throws Exception {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel s1 = IpcChannel.secondary(dir);
                IpcChannel s2 = IpcChannel.secondary(dir)) {
            for (IpcChannel s : List.of(s1, s2)) {
                s.register("ev", (m, peer) -> {
                    int efd = io.jnic.sys.Events.eventfd(7, io.jnic.sys.Events.EFD_CLOEXEC);
                    s.reply(peer, new IpcMessage("ev", new byte[0], efd));
                    Io.close(efd);
                });
            }
            BlockingQueue<IpcReply> replies = new ArrayBlockingQueue<>(4);
            primary.requestAsync(new IpcMessage("ev"), LONG, replies::add);
            IpcReply r = replies.poll(10, TimeUnit.SECONDS);
            assertNotNull(r);
            assertEquals(2, r.nbSent());
            assertEquals(2, r.nbReceived());
            for (IpcMessage m : r.messages()) {
                assertEquals(7, io.jnic.sys.Events.eventfdRead(m.fd(0)));
            }
            r.closeFds();
            assertEquals(null, replies.poll(300, TimeUnit.MILLISECONDS), "the callback fires once");
        }
    }

    @Test
    void asyncRequestCallsBackOnTimeoutAndWhenNobodyIsThere() throws Exception {
        try (IpcChannel primary = IpcChannel.primary(dir)) {
            BlockingQueue<IpcReply> replies = new ArrayBlockingQueue<>(4);
            primary.requestAsync(new IpcMessage("lonely"), LONG, replies::add);
            IpcReply none = replies.poll(10, TimeUnit.SECONDS);
            assertEquals(new IpcReply(0, 0, List.of()), none, "no secondary: called back at once with nothing sent");

            try (IpcChannel silent = IpcChannel.secondary(dir)) {
                silent.register("silent", (m, peer) -> { }); // handles, never answers
                primary.requestAsync(new IpcMessage("silent"), Duration.ofMillis(200), replies::add);
                IpcReply timedOut = replies.poll(10, TimeUnit.SECONDS);
                assertEquals(1, timedOut.nbSent());
                assertEquals(0, timedOut.nbReceived());
                assertFalse(timedOut.complete());
                assertEquals(null, replies.poll(300, TimeUnit.MILLISECONDS), "the callback fires once");
            }
        }
    }

    @Test
    void aPeerWithoutTheActionAnswersIgnSoTheRequesterDoesNotWait() {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel handles = IpcChannel.secondary(dir);
                IpcChannel ignores = IpcChannel.secondary(dir)) {
            handles.register("q", (m, peer) -> handles.reply(peer, text("q", "yes")));
            // Without IGN the request would wait out its timeout and report 2 sent, 1 received.
            IpcReply r = primary.requestSync(new IpcMessage("q"), Duration.ofSeconds(20));
            IpcReply r2 = primary.requestSync(new IpcMessage("q"), Duration.ofSeconds(20));
            assertEquals(1, r.nbSent(), "the ignoring peer is not counted as sent");
            assertEquals(1, r.nbReceived());
            assertEquals(1, r2.nbReceived());
            assertEquals(2, ignores.stats().unknownAction());
        }
    }

    @Test
    void secondaryWithoutPrimarySendsNothing() throws Exception {
        try (IpcChannel secondary = IpcChannel.secondary(dir)) {
            assertEquals(0, secondary.sendMessage(new IpcMessage("x")));
            IpcReply r = secondary.requestSync(new IpcMessage("x"), LONG);
            assertEquals(0, r.nbSent());
            CountDownLatch called = new CountDownLatch(1);
            secondary.requestAsync(new IpcMessage("x"), LONG, reply -> called.countDown());
            assertTrue(called.await(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aDeadSecondarysSocketIsSkippedAndRemoved() throws IOException {
        try (IpcChannel primary = IpcChannel.primary(dir)) {
            int s = Sockets.socket(Sockets.SOCK_DGRAM);
            Path stale = dir.resolve("mp_socket_999999_1");
            Sockets.bind(s, UnixAddress.of(stale));
            Io.close(s); // the file stays, nobody reads it
            assertTrue(Files.exists(stale));
            assertEquals(0, primary.sendMessage(new IpcMessage("x")));
            assertFalse(Files.exists(stale), "stale socket removed");
        }
    }

    @Test
    void badMessagesAreRefusedWithReasons() {
        assertEquals("IPC action name must be 1 to 64 characters: '" + "n".repeat(65) + "' has 65",
                assertThrows(IllegalArgumentException.class, () -> new IpcMessage("n".repeat(65))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IpcMessage("a b")).getMessage()
                .contains("printable ASCII without spaces"));
        assertEquals("IPC message 'p' has 257 bytes of parameters; at most 256 fit (pass larger data through a shared fd)",
                assertThrows(IllegalArgumentException.class, () -> new IpcMessage("p", new byte[257])).getMessage());
        assertEquals("IPC message 'f' carries 9 descriptors; at most 8 fit in one message",
                assertThrows(IllegalArgumentException.class, () -> new IpcMessage("f", null, new int[9])).getMessage());
        new IpcMessage("n".repeat(64), new byte[256], 0, 1, 2, 3, 4, 5, 6, 7); // the limits themselves fit
    }

    @Test
    void registeringTwiceAndReplyingToAMessageAreErrors() throws Exception {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel secondary = IpcChannel.secondary(dir)) {
            primary.register("a", (m, p) -> { });
            assertEquals("IPC action 'a' already has a handler; unregister it first",
                    assertThrows(IllegalStateException.class, () -> primary.register("a", (m, p) -> { })).getMessage());
            BlockingQueue<Exception> failures = new ArrayBlockingQueue<>(1);
            primary.register("oneway", (m, peer) -> {
                try {
                    primary.reply(peer, new IpcMessage("oneway"));
                } catch (IllegalStateException e) {
                    failures.add(e);
                }
            });
            secondary.sendMessage(new IpcMessage("oneway"));
            Exception e = failures.poll(10, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("it sent a one-way message, nobody waits for an answer"), e.getMessage());
        }
        IpcChannel closed = IpcChannel.primary(dir);
        closed.close();
        assertTrue(assertThrows(IllegalStateException.class, () -> closed.sendMessage(new IpcMessage("x")))
                .getMessage().endsWith("mp_socket is closed"));
    }

    @Test
    void aLateReplyIsCountedAndItsDescriptorClosed() throws Exception {
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel secondary = IpcChannel.secondary(dir)) {
            CountDownLatch release = new CountDownLatch(1);
            secondary.register("slow", (m, peer) -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                secondary.reply(peer, new IpcMessage("slow"));
            });
            IpcReply r = primary.requestSync(new IpcMessage("slow"), Duration.ofMillis(100));
            assertEquals(1, r.nbSent());
            assertEquals(0, r.nbReceived());
            release.countDown();
            waitFor(() -> primary.stats().unexpectedReply() == 1);
        }
    }

    @Test
    void thousandsOfBadDatagramsAreDroppedAndCountedWhileThePrimaryKeepsServing() throws Exception {
        Random random = new Random(42);
        int fdsBefore = openFds();
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel secondary = IpcChannel.secondary(dir);
                UnixMessage raw = new UnixMessage(1024, 8)) {
            AtomicInteger served = new AtomicInteger();
            primary.register("ping", (m, peer) -> {
                served.incrementAndGet();
                primary.reply(peer, m);
            });
            UnixAddress target = UnixAddress.of(primary.socketPath());
            // A socket named like a secondary, so the datagrams get past the peer check to the parser.
            int fuzz = Sockets.socket(Sockets.SOCK_DGRAM);
            Sockets.bind(fuzz, UnixAddress.of(dir.resolve("mp_socket_" + Proc.getpid() + "_9001")));
            int unbound = Sockets.socket(Sockets.SOCK_DGRAM);
            int eventFd = io.jnic.sys.Events.eventfd(0, io.jnic.sys.Events.EFD_CLOEXEC);
            byte[] valid = encode(Wire.TYPE_REQ, 9, "ping", new byte[16]);
            long expected = 0;
            try {
                for (int i = 0; i < 3000; i++) {
                    byte[] d;
                    switch (i % 6) {
                        case 0 -> { // random bytes of random length
                            d = new byte[random.nextInt(400)];
                            random.nextBytes(d);
                        }
                        case 1 -> d = java.util.Arrays.copyOf(valid, random.nextInt(valid.length)); // truncated
                        case 2 -> { // valid header, one corrupted byte
                            d = valid.clone();
                            int at = random.nextInt(Wire.HEADER_SIZE);
                            d[at] = (byte) (d[at] ^ (1 + random.nextInt(255)));
                            if (at >= Wire.OFF_NAME + 4 && at < Wire.OFF_NAME + 64 || at >= 8 && at < 16) {
                                d[(int) Wire.OFF_MAGIC] ^= 1; // a different id or name could still be well formed
                            }
                        }
                        case 3 -> d = new byte[Wire.MAX_SIZE + 1 + random.nextInt(500)]; // oversized
                        case 4 -> d = encode(Wire.TYPE_MSG, 0, "nobody-handles-this", new byte[3]); // unknown action
                        default -> d = encode(Wire.TYPE_REP, 1000 + i, "ping", new byte[0]); // reply nobody awaits
                    }
                    int sock = fuzz;
                    if (i % 12 == 10) { // a well-formed request from a socket that is not a peer
                        sock = unbound;
                        d = valid;
                    }
                    MemorySegment.copy(d, 0, raw.data(), ValueLayout.JAVA_BYTE, 0, d.length);
                    boolean withFd = i % 4 == 1;
                    raw.send(sock, d.length, target, new int[] {eventFd}, withFd ? 1 : 0, 0); // blocking: none lost
                    expected++;
                }
                // Every one of them was dropped and counted; the primary still answers.
                waitFor(() -> primary.stats().dropped() == 3000);
                IpcReply r = secondary.requestSync(new IpcMessage("ping", new byte[] {1, 2, 3}), LONG);
                assertEquals(1, r.nbReceived());
                assertEquals(3, r.messages().getFirst().paramLength());
                IpcStats s = primary.stats();
                assertEquals(expected, s.dropped(), s.toString());
                assertTrue(s.truncated() > 0 && s.malformed() > 0 && s.badPeer() > 0 && s.unknownAction() > 0
                        && s.unexpectedReply() > 0, s.toString());
                assertEquals(1, served.get());
            } finally {
                Io.close(fuzz);
                Io.close(unbound);
                Io.close(eventFd);
            }
        }
        assertTrue(openFds() <= fdsBefore + 8, "descriptors of dropped datagrams are closed: " + fdsBefore + " -> " + openFds());
    }

    @Test
    void datagramsFromAnotherUserAreDropped() throws Exception {
        assumeTrue(Proc.geteuid() == 0, "claiming another uid in SCM_CREDENTIALS needs root");
        try (IpcChannel primary = IpcChannel.primary(dir)) {
            AtomicInteger served = new AtomicInteger();
            primary.register("ping", (m, peer) -> served.incrementAndGet());
            int s = Sockets.socket(Sockets.SOCK_DGRAM);
            try {
                Sockets.bind(s, UnixAddress.of(dir.resolve("mp_socket_" + Proc.getpid() + "_9002")));
                byte[] msg = encode(Wire.TYPE_MSG, 0, "ping", new byte[0]);
                long r = RawSender.sendWithCredentials(s, primary.socketPath().toString(), msg, Proc.getpid(), 65534, 65534);
                assertEquals(msg.length, r);
                r = RawSender.sendWithCredentials(s, primary.socketPath().toString(), msg, Proc.getpid(), 0, 0);
                assertEquals(msg.length, r);
                waitFor(() -> served.get() == 1);
                assertEquals(1, primary.stats().wrongUid());
                assertEquals(1, primary.stats().received());
            } finally {
                Io.close(s);
            }
        }
    }

    static byte[] encode(byte type, long id, String name, byte[] param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate(Wire.MAX_SIZE);
            int n = Wire.encode(d, type, id, new IpcMessage(name, param));
            return d.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    static int openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(5);
        }
    }
}
