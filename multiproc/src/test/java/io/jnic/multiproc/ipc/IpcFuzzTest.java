package io.jnic.multiproc.ipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structured fuzzing of the IPC wire: valid messages mutated (truncations, bit flips in header fields, lengths
 * past the end, descriptor counts that lie, random action names, huge counts, oversized datagrams), checked
 * against a reference reading of the wire format in the package description. A million go through the decoder
 * in this process; a hundred thousand go through real sockets, from several threads, into a primary's channel:
 * nothing crashes or hangs, every one is dropped and counted under the cause the reference predicts, the log
 * stays a few lines long, and a real request is still served.
 */
@Timeout(120)
class IpcFuzzTest {
    private static final int MAX = Wire.MAX_SIZE;
    private static final int HDR = Wire.HEADER_SIZE;

    @TempDir
    Path dir;

    /** A datagram: bytes, its length, the descriptors that go with it. */
    record Dgram(byte[] data, int length, int fds) {
    }

    /** What the wire format says about a datagram: null when it is well formed, else the cause. */
    static Counter reference(byte[] d, int length, int fds) {
        if (length > MAX || fds > IpcMessage.MAX_FDS) {
            return Counter.TRUNCATED;
        }
        if (length < HDR) {
            return Counter.MALFORMED;
        }
        ByteBuffer b = ByteBuffer.wrap(d, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.get(5);
        int nameLen = b.get(6) & 0xff;
        int numFds = b.get(7) & 0xff;
        long id = b.getLong(8);
        int paramLen = b.getShort(16) & 0xffff;
        boolean ok = b.getInt(0) == 0x504D4E4A && b.get(4) == 1 && type >= 1 && type <= 4 && nameLen >= 1 && nameLen <= 64
                && numFds <= 8 && numFds == fds && paramLen <= 256 && length == HDR + paramLen && b.getShort(18) == 0
                && (type == 1) == (id == 0);
        for (int i = 0; ok && i < 64; i++) {
            int c = d[20 + i];
            ok = i < nameLen ? c >= 0x21 && c <= 0x7e : c == 0;
        }
        return ok ? null : Counter.MALFORMED;
    }

    /** A valid message of random type, name ("fz-..."), parameters and descriptor count. */
    static Dgram valid(Random r, int maxFds) {
        int paramLen = r.nextInt(5) == 0 ? 0 : r.nextInt(IpcMessage.MAX_PARAM_LEN + 1);
        byte[] d = new byte[1024];
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int type = 1 + r.nextInt(4);
        int nameLen = 3 + r.nextInt(IpcMessage.MAX_NAME_LEN - 2);
        int fds = r.nextInt(maxFds + 1);
        b.putInt(0, 0x504D4E4A).put(4, (byte) 1).put(5, (byte) type).put(6, (byte) nameLen).put(7, (byte) fds)
                .putLong(8, type == 1 ? 0 : 1 + (r.nextLong() & Long.MAX_VALUE - 1)).putShort(16, (short) paramLen);
        d[20] = 'f';
        d[21] = 'z';
        d[22] = '-';
        for (int i = 3; i < nameLen; i++) {
            d[20 + i] = (byte) (0x21 + r.nextInt(0x7e - 0x21 + 1));
        }
        for (int i = 0; i < paramLen; i++) {
            d[HDR + i] = (byte) r.nextInt();
        }
        return new Dgram(d, HDR + paramLen, fds);
    }

    /** One structured mutation of a valid message (sometimes none: valid messages must pass too). */
    static Dgram mutate(Random r, int maxFds) {
        Dgram v = valid(r, maxFds);
        byte[] d = v.data();
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int length = v.length();
        int fds = v.fds();
        switch (r.nextInt(12)) {
            case 0 -> length = r.nextInt(length); // truncated
            case 1 -> { // one bit flipped in a header field (the name too)
                int at = r.nextInt(HDR);
                d[at] ^= (byte) (1 << r.nextInt(8));
            }
            case 2 -> b.putShort(16, (short) (v.length() - HDR + 1 + r.nextInt(300))); // param length past the end
            case 3 -> b.putShort(16, (short) r.nextInt(65536)); // any param length
            case 4 -> fds = maxFds == 0 ? fds : (fds + 1 + r.nextInt(maxFds)) % (maxFds + 1); // fewer or more fds came
            case 5 -> b.put(7, (byte) (9 + r.nextInt(247))); // huge fd count
            case 6 -> b.put(6, (byte) (r.nextBoolean() ? 0 : 65 + r.nextInt(191))); // name length 0 or huge
            case 7 -> { // random action name bytes
                for (int i = 0; i < 64; i++) {
                    d[20 + i] = (byte) (r.nextInt(4) == 0 ? 0 : r.nextInt(256));
                }
            }
            case 8 -> b.put(5, (byte) r.nextInt(256)); // any type (MSG with an id, REP without one, ...)
            case 9 -> length = MAX + 1 + r.nextInt(1024 - MAX - 1); // oversized
            case 10 -> { // reserved field, version or magic
                switch (r.nextInt(3)) {
                    case 0 -> b.putShort(18, (short) (1 + r.nextInt(65535)));
                    case 1 -> b.put(4, (byte) (2 + r.nextInt(250)));
                    default -> b.putInt(0, r.nextInt());
                }
            }
            default -> {
                // unchanged: well formed
            }
        }
        return new Dgram(d, length, fds);
    }

    @Test
    void aMillionMutatedDatagramsAreDecodedExactlyAsTheWireFormatSays() {
        Random r = new Random(13);
        Map<String, Integer> causes = new java.util.TreeMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(1024);
            for (int i = 0; i < 1_000_000; i++) {
                Dgram g = mutate(r, IpcMessage.MAX_FDS + 2);
                MemorySegment.copy(g.data(), 0, seg, ValueLayout.JAVA_BYTE, 0, g.data().length);
                boolean cut = g.length() > MAX || g.fds() > IpcMessage.MAX_FDS; // what the kernel reports
                Wire.Header h = Wire.decode(seg, Math.min(g.length(), MAX), Math.min(g.fds(), IpcMessage.MAX_FDS), cut);
                Counter want = reference(g.data(), g.length(), g.fds());
                if (want != h.cause()) {
                    throw new AssertionError("datagram " + i + ": decoded as " + h + ", the wire format says "
                            + (want == null ? "well formed" : want) + "; length " + g.length() + ", fds " + g.fds()
                            + ", header " + java.util.HexFormat.of().formatHex(g.data(), 0, HDR));
                }
                if (h.ok()) {
                    ByteBuffer b = ByteBuffer.wrap(g.data()).order(ByteOrder.LITTLE_ENDIAN);
                    assertEquals(b.get(5), h.type());
                    assertEquals(b.getLong(8), h.requestId());
                    assertEquals(g.length() - HDR, h.paramLength());
                    assertEquals(g.fds(), h.fdCount());
                }
                causes.merge(want == null ? "ok" : want.key, 1, Integer::sum);
            }
        }
        System.out.println("decoder fuzz: " + causes);
        assertTrue(causes.get("ok") > 10_000 && causes.get("malformed") > 500_000 && causes.get("truncated") > 50_000,
                "every outcome is exercised: " + causes);
    }

    /** Counts the channel's log records (the JUL backend of System.Logger). */
    static final class Counting extends Handler {
        final AtomicInteger records = new AtomicInteger();
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void publish(LogRecord rec) {
            if (isLoggable(rec)) {
                records.incrementAndGet();
                lines.add(rec.getLevel() + " " + rec.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aHundredThousandBadDatagramsFromFourThreadsAreAllCountedByCauseInAFewLogLines() throws Exception {
        Logger jul = Logger.getLogger(IpcChannel.class.getName());
        Counting log = new Counting();
        log.setLevel(Level.INFO);
        jul.addHandler(log);
        int threads = 4;
        int perThread = 25_000;
        String pid = Integer.toString(Proc.getpid());
        Set<String> members = ConcurrentHashMap.newKeySet();
        long fdsBefore = IpcChannelTest.openFds();
        try (IpcChannel primary = IpcChannel.primary(dir)) {
            AtomicInteger served = new AtomicInteger();
            primary.register("ping", (m, peer) -> {
                served.incrementAndGet();
                primary.reply(peer, m);
            });
            primary.admitMembers((p, path) -> members.contains(path));
            Map<Counter, Long> expected = new EnumMap<>(Counter.class);
            long[] memberRequests = new long[threads];
            int[][] memberSockets = new int[threads][];
            List<Thread> senders = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                int me = t;
                // sockets: a member, a process that did not register, one named for another pid, a non-peer, an unbound
                Path member = dir.resolve("mp_socket_" + pid + "_1" + t);
                Path stranger = dir.resolve("mp_socket_" + pid + "_2" + t);
                Path liar = dir.resolve("mp_socket_4194305_3" + t);
                Path outsider = dir.resolve("outsider_" + t);
                Path[] paths = {member, stranger, liar, outsider, null};
                int[] socks = new int[paths.length];
                for (int k = 0; k < paths.length; k++) {
                    socks[k] = Sockets.socket(Sockets.SOCK_DGRAM);
                    if (paths[k] != null) {
                        Sockets.bind(socks[k], UnixAddress.of(paths[k]));
                    }
                }
                members.add(member.toString());
                memberSockets[t] = socks;
                Map<Counter, Long> mine = new EnumMap<>(Counter.class);
                senders.add(new Thread(() -> {
                    Random r = new Random(100 + me);
                    int efd = Events.eventfd(0, Events.EFD_CLOEXEC);
                    int[] fds = {efd, efd};
                    UnixAddress to = UnixAddress.of(primary.socketPath());
                    try (UnixMessage raw = new UnixMessage(1024, 2)) {
                        for (int i = 0; i < perThread; i++) {
                            Dgram g = mutate(r, 2);
                            int from = r.nextInt(10) < 6 ? 0 : 1 + r.nextInt(4);
                            MemorySegment.copy(g.data(), 0, raw.data(), ValueLayout.JAVA_BYTE, 0, g.length());
                            raw.send(socks[from], g.length(), to, fds, g.fds(), 0); // blocking: none is lost
                            Counter c = reference(g.data(), g.length(), g.fds());
                            int type = g.data()[5];
                            if (c == null) {
                                c = switch (from) {
                                    case 0 -> type >= 3 ? Counter.UNEXPECTED_REPLY : Counter.UNKNOWN_ACTION;
                                    case 1 -> type >= 3 ? Counter.UNEXPECTED_REPLY : Counter.UNREGISTERED;
                                    case 2 -> Counter.BAD_CREDENTIALS;
                                    default -> Counter.BAD_PEER;
                                };
                                if (from == 0 && type == 2) {
                                    memberRequests[me]++; // answered IGN, to a socket nobody reads
                                }
                            }
                            mine.merge(c, 1L, Long::sum);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    } finally {
                        Io.closeQuietly(efd);
                        synchronized (expected) {
                            mine.forEach((k, v) -> expected.merge(k, v, Long::sum));
                        }
                    }
                }, "fuzz-" + t));
            }
            long t0 = System.nanoTime();
            senders.forEach(Thread::start);
            for (Thread s : senders) {
                s.join();
            }
            assertEquals(List.of(), failures);
            long total = (long) threads * perThread;
            IpcChannelTest.waitFor(() -> primary.stats().dropped() == total);
            double secs = (System.nanoTime() - t0) / 1e9;
            IpcStats st = primary.stats();
            System.out.printf("socket fuzz: %d datagrams in %.2f s (%.0f/s): %s%n", total, secs, total / secs, st.summary());
            assertEquals(total, st.dropped(), st.toString());
            Map<String, Long> got = st.toMap();
            for (Counter c : Counter.values()) {
                if (c != Counter.RECEIVED && c != Counter.PEER_QUEUE_FULL && c != Counter.HANDLER_FAILED) {
                    assertEquals(expected.getOrDefault(c, 0L), got.get(c.key), c.key + ": " + st);
                }
            }
            // every IGN to a member was either queued in its (unread) socket or dropped and counted
            long queued = 0;
            try (UnixMessage in = new UnixMessage(1024, 2)) {
                for (int[] socks : memberSockets) {
                    while (in.receive(socks[0], UnixMessage.MSG_DONTWAIT) >= 0) {
                        in.closeReceivedFds();
                        queued++;
                    }
                }
            }
            long requests = java.util.Arrays.stream(memberRequests).sum();
            assertEquals(requests, queued + st.peerQueueFull(), st.toString());
            assertTrue(st.peerQueueFull() > 0, st.toString());
            assertEquals(0, served.get());

            // still serving: a real request from a member
            try (IpcChannel s = IpcChannel.secondary(dir)) {
                members.add(s.socketPath().toString());
                IpcReply r = s.requestSync(new IpcMessage("ping", new byte[] {4, 5}), Duration.ofSeconds(30));
                assertEquals(1, r.nbReceived());
                assertEquals(2, r.messages().getFirst().paramLength());
            }
            for (int[] socks : memberSockets) {
                for (int fd : socks) {
                    Io.close(fd);
                }
            }
        } finally {
            jul.removeHandler(log);
        }
        System.out.println("log lines: " + log.records.get() + " " + log.lines);
        assertTrue(log.records.get() <= 20, "a few lines per cause, not one per datagram: " + log.lines);
        assertTrue(IpcChannelTest.openFds() <= fdsBefore + 8, "descriptors of dropped datagrams are closed");
        try (Stream<Path> left = Files.list(dir)) {
            left.forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the temp dir goes anyway
                }
            });
        }
    }
}
