package io.jnic.devsim.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnic.devsim.Devsim;
import io.jnic.devsim.IxgbeVfioUserModel;
import io.jnic.devsim.fuzz.RawVfioUserClient.Message;
import io.jnic.devsim.fuzz.RawVfioUserClient.Outcome;
import io.jnic.pci.vfiouser.VfioUser;
import io.jnic.pci.vfiouser.VfioUserServer;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile client against devsim's vfio-user server (an 82599 port behind {@link VfioUserServer}): valid
 * messages of every command, structurally mutated (cut short, grown, wrong argsz, boundary counts and
 * offsets, flags and types, message ids, commands, descriptors that do not belong, sizes that lie, replies
 * to nothing, halves of messages). Each message must get its reply (an error reply for a refused one, with
 * the id echoed), or the connection must close where the stream cannot be trusted, within a bounded wait;
 * the server counts what it refused and dropped, the device thread survives, descriptors do not leak, and a
 * well-behaved client is served correctly after every storm. Seeded: {@code -Dfuzz.seed=N} replays a run,
 * {@code -Dfuzz.iterations=N} sets its length (default 4000).
 */
class VfioUserServerFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 0x5eed_0013L);
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 4000);
    static final int IO_TIMEOUT_MS = 150;
    static final int REPLY_WAIT_MS = 3000; // a bound, far above what the server takes; never reached when it works
    static final long[] BOUNDARY = {0, 1, 3, 4, 7, 8, 15, 16, 0xff, 0x1000, 0xffff, 0x10000, 0x7fff_ffffL, 0x8000_0000L,
        0xffff_ffffL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, -1L, -4096L};

    @TempDir
    Path dir;

    private final Random rnd = new Random(SEED);
    private int memfd;
    private int nextId = 1;
    private RawVfioUserClient client;
    private Path socket;
    // what we saw
    private int errorReplies;
    private int okReplies;
    private int drops;
    private int silent;

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void aHostileClientIsRefusedOrDroppedAndTheDeviceStaysServed() throws Exception {
        long baseline = openFds();
        memfd = Mman.memfdCreate("fuzz-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x40000);
        VfioUserServer server = null;
        Devsim sim = Devsim.start(Devsim.Config.of(1, "loop"));
        try {
            socket = dir.resolve("port0.sock");
            server = new VfioUserServer(socket, new IxgbeVfioUserModel(sim.port(0), sim.dma(0)),
                    new VfioUserServer.Config(16, 1 << 16, IO_TIMEOUT_MS, 64));
            connect();
            for (int i = 0; i < ITERATIONS; i++) {
                String where = "seed 0x" + Long.toHexString(SEED) + " iteration " + i;
                step(where);
                if (i % 100 == 99) {
                    probe(where);
                }
            }
            probe("the end");
            System.out.printf("vfio-user server fuzz (seed 0x%x, %d messages): %d error replies, %d accepted, %d drops,"
                    + " %d unanswered (No_reply or replies); server counted %d errors, %d drops, %d replies to nothing%n",
                    SEED, ITERATIONS, errorReplies, okReplies, drops, silent, server.errorReplies(),
                    server.droppedConnections(), server.unmatchedReplies());
            assertTrue(server.errorReplies() >= errorReplies, "every error reply we got was counted");
            assertTrue(server.droppedConnections() >= drops - 1, "every drop was counted");
            assertTrue(errorReplies > ITERATIONS / 4, "the mutations were mostly refused: " + errorReplies);
            assertNull(sim.loop().failure(), "the device thread survived");
            assertEquals(0, server.internalFailures(), "no request failed inside the server or the model (see the log)");
        } finally {
            if (client != null) {
                client.close();
            }
            if (server != null) {
                server.close();
            }
            sim.close();
            Io.close(memfd);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (openFds() > baseline && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(openFds() <= baseline, "no descriptor leaked: " + openFds() + " open, " + baseline + " before");
    }

    private void connect() {
        if (client != null) {
            client.close();
        }
        // the server drops a client that sent garbage; it may still be finishing that when we reconnect
        RuntimeException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                client = new RawVfioUserClient(socket);
                byte[] json = "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":65536}}\0"
                        .getBytes(StandardCharsets.UTF_8);
                ByteBuffer p = le(4 + json.length).putShort((short) 0).putShort((short) 1).put(json);
                Message m = call(VfioUser.CMD_VERSION, p.array(), new int[0]);
                if (m != null && !m.isError()) {
                    return;
                }
                client.close();
            } catch (RuntimeException e) {
                last = e;
            }
            sleep(20);
        }
        throw new AssertionError("cannot reconnect to the server", last);
    }

    private Message call(int command, byte[] payload, int[] fds) {
        int id = nextId++ & 0xffff;
        byte[] m = RawVfioUserClient.message(id, command, 0, payload);
        if (!client.send(m, m.length, fds)) {
            return null;
        }
        return client.receive(REPLY_WAIT_MS) == Outcome.MESSAGE ? client.last : null;
    }

    /** A well-behaved client's requests: DEVICE_GET_INFO and the config space's device id must come back right. */
    private void probe(String where) {
        Message info = call(VfioUser.CMD_DEVICE_GET_INFO, le(16).putInt(16).array(), new int[0]);
        if (info == null) { // the last mutation broke the stream and the server dropped us: that is its right
            connect();
            info = call(VfioUser.CMD_DEVICE_GET_INFO, le(16).putInt(16).array(), new int[0]);
        }
        if (info == null || info.isError()) {
            fail(where + ": DEVICE_GET_INFO of a well-behaved client not served");
        }
        assertEquals(VfioUser.DEVICE_FLAGS_PCI | VfioUser.DEVICE_FLAGS_RESET, info.u32(4), where);
        assertEquals(VfioUser.PCI_NUM_REGIONS, info.u32(8), where);
        Message cfg = call(VfioUser.CMD_REGION_READ, le(16).putLong(0).putInt(VfioUser.PCI_CONFIG_REGION_INDEX).putInt(4)
                .array(), new int[0]);
        if (cfg == null || cfg.isError()) {
            fail(where + ": config space read of a well-behaved client not served");
        }
        assertEquals(0x8086, cfg.u32(16) & 0xffff, where + ": vendor id");
    }

    private void step(String where) {
        Template t = template();
        byte[] payload = t.payload;
        int command = t.command;
        int flags = 0;
        int id = nextId++ & 0xffff;
        int fdCount = t.fds;
        boolean memfdToo = t.memfd;
        int declaredDelta = 0;
        boolean split = false;
        boolean halfThenClose = false;
        int mutations = 1 + rnd.nextInt(3);
        for (int k = 0; k < mutations; k++) {
            switch (rnd.nextInt(14)) {
                case 0 -> payload = java.util.Arrays.copyOf(payload, rnd.nextInt(payload.length + 1)); // cut short
                case 1 -> payload = grow(payload);
                case 2 -> payload = setU32(payload, 0, (int) pick()); // argsz
                case 3 -> payload = setU32(payload, 4 * rnd.nextInt(Math.max(1, payload.length / 4)), (int) pick());
                case 4 -> payload = setU64(payload, 8 * rnd.nextInt(Math.max(1, payload.length / 8)), pick());
                case 5 -> flags ^= 1 << 4; // No_reply
                case 6 -> flags = (flags & ~0xf) | rnd.nextInt(16); // message type: reply, reserved types
                case 7 -> flags ^= 1 << 5; // Error bit on a command
                case 8 -> fdCount = rnd.nextInt(20); // descriptors that do not belong (more than 16 break the stream)
                case 9 -> id = rnd.nextInt(0x10000);
                case 10 -> command = rnd.nextInt(10) == 0 ? rnd.nextInt(0x10000) : rnd.nextInt(20);
                case 11 -> memfdToo = !memfdToo;
                case 12 -> {
                    int r = rnd.nextInt(100);
                    if (r < 3) {
                        declaredDelta = rnd.nextBoolean() ? -(16 + payload.length) + rnd.nextInt(16) : 1 << 24; // lies
                    } else if (r < 5) {
                        declaredDelta = 1 + rnd.nextInt(8); // more than follows: the server waits, then drops us
                    } else if (r < 8) {
                        halfThenClose = true;
                    } else {
                        split = true;
                    }
                }
                default -> { } // unmutated
            }
        }
        byte[] m = RawVfioUserClient.message(id, command, flags, payload);
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(4, m.length + declaredDelta);
        int[] fds = new int[fdCount + (memfdToo ? 1 : 0)];
        for (int i = 0; i < fdCount; i++) {
            fds[i] = Events.eventfd(0, Events.EFD_CLOEXEC);
        }
        if (memfdToo) {
            fds[fdCount] = memfd;
        }
        String what = where + ": " + VfioUser.commandName(command) + " flags 0x" + Integer.toHexString(flags) + " with "
                + fds.length + " fds, declared " + (m.length + declaredDelta) + " bytes: " + HexFormat.of().formatHex(m);
        try {
            boolean sent;
            if (halfThenClose) {
                sent = client.send(m, Math.max(1, m.length / 2), fds);
                connect(); // the server sees the end in mid-message and drops that connection
                drops++;
                return;
            } else if (split && m.length > 1) {
                int cut = 1 + rnd.nextInt(m.length - 1);
                sent = client.send(m, cut, fds) && client.send(java.util.Arrays.copyOfRange(m, cut, m.length), m.length - cut,
                        new int[0]);
            } else {
                sent = client.send(m, m.length, fds);
            }
            boolean mustAnswer = (flags & 0xf) != 1 && (flags & (1 << 4)) == 0;
            if (sent && !mustAnswer && declaredDelta <= 0) {
                // nothing may come back: a request right behind it is answered first (the server works in order)
                int sync = nextId++ & 0xffff;
                byte[] s = RawVfioUserClient.message(sync, VfioUser.CMD_DEVICE_GET_INFO, 0, le(16).putInt(16).array());
                sent = client.send(s, s.length, new int[0]);
                Outcome o = sent ? client.receive(REPLY_WAIT_MS) : Outcome.CLOSED;
                if (o == Outcome.MESSAGE) {
                    assertEquals(sync, client.last.id(), what + ": answered although it wanted no answer");
                    silent++;
                } else if (o == Outcome.CLOSED) {
                    drops++;
                    connect();
                } else {
                    fail(what + ": the request behind it got no answer within " + REPLY_WAIT_MS + " ms (a hang)");
                }
                return;
            }
            Outcome o = sent ? client.receive(REPLY_WAIT_MS) : Outcome.CLOSED;
            switch (o) {
                case MESSAGE -> {
                    Message r = client.last;
                    assertTrue(r.isReply(), what + ": the server sent a non-reply " + r);
                    assertEquals(id, r.id(), what + ": the reply must echo the message id");
                    assertEquals(command & 0xffff, r.command(), what + ": the reply must name the command");
                    assertTrue(mustAnswer, what + ": a reply to a message that wanted none");
                    if (r.isError()) {
                        assertEquals(0, r.payload().length, what + ": an error reply is a bare header");
                        errorReplies++;
                    } else {
                        okReplies++;
                    }
                }
                case CLOSED -> {
                    drops++;
                    connect();
                }
                case TIMEOUT -> {
                    if (mustAnswer && declaredDelta <= 0) {
                        fail(what + ": no answer and no close within " + REPLY_WAIT_MS + " ms (a hang)");
                    }
                    silent++;
                    if (declaredDelta > 0) { // the server is still waiting for the rest: it must give up and drop us
                        assertEquals(Outcome.CLOSED, client.receive(REPLY_WAIT_MS), what + ": a message that never ends");
                        drops++;
                        connect();
                    }
                }
            }
        } finally {
            for (int i = 0; i < fdCount; i++) {
                Io.close(fds[i]);
            }
        }
    }

    private record Template(int command, byte[] payload, int fds, boolean memfd) {
    }

    /** A valid message of a random command (the mutations then spoil it). */
    private Template template() {
        long[] slots = {0x10000, 0x20000, 0x30000, 0x1_0000_0000L};
        return switch (rnd.nextInt(13)) {
            case 0 -> new Template(VfioUser.CMD_DEVICE_GET_INFO, le(16).putInt(16).array(), 0, false);
            case 1 -> new Template(VfioUser.CMD_DEVICE_GET_REGION_INFO, le(32).putInt(32 + rnd.nextInt(64))
                    .putInt(0).putInt(rnd.nextInt(10)).array(), 0, false);
            case 2 -> new Template(VfioUser.CMD_DEVICE_GET_IRQ_INFO, le(16).putInt(16).putInt(0).putInt(rnd.nextInt(6))
                    .array(), 0, false);
            case 3 -> {
                int n = 1 + rnd.nextInt(4);
                yield new Template(VfioUser.CMD_DEVICE_SET_IRQS, le(20).putInt(20)
                        .putInt(VfioUser.IRQ_SET_DATA_EVENTFD | VfioUser.IRQ_SET_ACTION_TRIGGER).putInt(2).putInt(rnd.nextInt(4))
                        .putInt(n).array(), n, false);
            }
            case 4 -> {
                int n = 1 + rnd.nextInt(8);
                ByteBuffer b = le(20 + n).putInt(20 + n).putInt(VfioUser.IRQ_SET_DATA_BOOL
                        | (rnd.nextBoolean() ? VfioUser.IRQ_SET_ACTION_TRIGGER : VfioUser.IRQ_SET_ACTION_MASK))
                        .putInt(2).putInt(0).putInt(n);
                for (int i = 0; i < n; i++) {
                    b.put((byte) rnd.nextInt(2));
                }
                yield new Template(VfioUser.CMD_DEVICE_SET_IRQS, b.array(), 0, false);
            }
            case 5 -> new Template(VfioUser.CMD_REGION_READ, le(16).putLong(rnd.nextInt(0x100))
                    .putInt(VfioUser.PCI_CONFIG_REGION_INDEX).putInt(1 << rnd.nextInt(3)).array(), 0, false);
            case 6 -> new Template(VfioUser.CMD_REGION_READ, le(16).putLong(4L * rnd.nextInt(0x8000)).putInt(0).putInt(4)
                    .array(), 0, false);
            case 7 -> new Template(VfioUser.CMD_REGION_WRITE, le(20).putLong(4L * rnd.nextInt(0x8000)).putInt(0).putInt(4)
                    .putInt(rnd.nextInt()).array(), 0, false);
            case 8 -> {
                boolean fd = rnd.nextBoolean();
                yield new Template(VfioUser.CMD_DMA_MAP, le(32).putInt(32).putInt(1 + rnd.nextInt(3))
                        .putLong(fd ? 0x1000L * rnd.nextInt(16) : 0).putLong(slots[rnd.nextInt(slots.length)])
                        .putLong(0x1000L * (1 + rnd.nextInt(16))).array(), 0, fd);
            }
            case 9 -> new Template(VfioUser.CMD_DMA_UNMAP, rnd.nextInt(4) == 0
                    ? le(24).putInt(24).putInt(VfioUser.DMA_UNMAP_FLAG_ALL).array()
                    : le(24).putInt(24).putInt(0).putLong(slots[rnd.nextInt(slots.length)])
                            .putLong(0x1000L * (1 + rnd.nextInt(32))).array(), 0, false);
            case 10 -> new Template(rnd.nextBoolean() ? VfioUser.CMD_DMA_READ : VfioUser.CMD_DMA_WRITE,
                    le(24).putLong(slots[rnd.nextInt(slots.length)]).putLong(8).array(), 0, false);
            case 11 -> new Template(VfioUser.CMD_VERSION, le(4).putShort((short) 0).putShort((short) 1).array(), 0, false);
            default -> new Template(rnd.nextBoolean() ? VfioUser.CMD_DEVICE_RESET : VfioUser.CMD_REGION_WRITE_MULTI,
                    new byte[rnd.nextInt(3) * 8], 0, false);
        };
    }

    private long pick() {
        return rnd.nextInt(4) == 0 ? rnd.nextLong() : BOUNDARY[rnd.nextInt(BOUNDARY.length)];
    }

    private byte[] grow(byte[] p) {
        byte[] g = java.util.Arrays.copyOf(p, p.length + 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 4096 : 64));
        for (int i = p.length; i < g.length; i++) {
            g[i] = (byte) rnd.nextInt();
        }
        return g;
    }

    private static byte[] setU32(byte[] p, int at, int v) {
        if (at + 4 <= p.length) {
            ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        }
        return p;
    }

    private static byte[] setU64(byte[] p, int at, long v) {
        if (at + 8 <= p.length) {
            ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        }
        return p;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void sleep(int ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
