package io.jnic.pci.vfiouser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.pci.vfiouser.VfioUserLayout.DmaAccess;
import io.jnic.pci.vfiouser.VfioUserLayout.IrqInfo;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionAccess;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionInfo;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * A hostile server against {@link VfioUserDevice}: its replies are structurally mutated (cut short, grown,
 * fields set to boundary values, wrong ids, commands, types and flags, error replies with payloads,
 * descriptors that do not belong, sizes that lie, replies that never come or come twice), and between a
 * request and its reply it sends requests of its own (DMA_READ / DMA_WRITE, valid and mutated, commands a
 * server may not send) and replies to nothing. The client must never throw anything but
 * {@link VfioUserException}, never wait past its timeout, answer every server request it can answer (the
 * server checks the data of valid DMA_READs), return correct values for unspoilt replies, stay usable where
 * the stream is in step, leak no descriptor, and work normally against a well-behaved server afterwards.
 * Seeded: {@code -Dfuzz.seed=N}, {@code -Dfuzz.iterations=N} (default 3000 client operations).
 */
class VfioUserClientFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 0xc11e_0013L);
    static final int ITERATIONS = Integer.getInteger("fuzz.iterations", 3000);
    static final long IOVA = 0x100000;
    static final int MEM = 0x10000;
    static final int CONFIG_ID = 0x10fb8086;
    static final long[] BOUNDARY = {0, 1, 4, 8, 15, 16, 31, 32, 33, 0xff, 0xffff, 0x10000, 0x7fff_ffffL, 0x8000_0000L,
        0xffff_ffffL, Long.MAX_VALUE, -1L};

    @TempDir
    Path dir;

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The hostile server: one connection after the other, on its own thread. */
    static final class HostileServer implements AutoCloseable {
        final Random rnd;
        final MemorySegment expected; // what the client's DMA memory holds (the server checks DMA_READ data)
        final AtomicBoolean hostile = new AtomicBoolean(true);
        final AtomicBoolean lastReplySpoilt = new AtomicBoolean();
        final AtomicInteger dmaChecked = new AtomicInteger();
        final AtomicInteger dmaRefused = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final int listenFd;
        private final Thread thread;
        private volatile boolean running = true;

        HostileServer(Path path, long seed, MemorySegment expected) {
            this.rnd = new Random(seed);
            this.expected = expected;
            listenFd = Sockets.socket(Sockets.SOCK_STREAM);
            Sockets.bind(listenFd, UnixAddress.of(path));
            Sockets.listen(listenFd, 4);
            thread = Thread.ofPlatform().daemon().name("hostile vfio-user server").start(this::run);
        }

        private void run() {
            while (running) {
                if (!Events.pollIn(listenFd, 50)) {
                    continue;
                }
                int fd = Sockets.accept(listenFd);
                if (fd < 0) {
                    continue;
                }
                try (VfioUserChannel ch = new VfioUserChannel(fd, 1 << 17, 16, 300)) {
                    serve(ch);
                } catch (VfioUserException e) {
                    // the client closed on us, or broke off: next connection
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    return;
                }
            }
        }

        private void serve(VfioUserChannel ch) throws Exception {
            while (running && !ch.isClosed()) {
                int r = ch.receive(50);
                if (r == VfioUserChannel.END_OF_STREAM) {
                    return;
                }
                if (r == VfioUserChannel.NOTHING) {
                    continue;
                }
                VfioUserMessage in = ch.in();
                if (in.isReply()) {
                    continue; // the client's answer to something of ours that was not a request after all
                }
                int id = in.msgId();
                int command = in.command();
                boolean setup = command == VfioUser.CMD_VERSION || command == VfioUser.CMD_DEVICE_GET_INFO
                        || command == VfioUser.CMD_DEVICE_GET_REGION_INFO;
                int regionIndex = command == VfioUser.CMD_DEVICE_GET_REGION_INFO ? in.u32(RegionInfo.INDEX) : 0;
                long accessOffset = command == VfioUser.CMD_REGION_READ ? in.u64(RegionAccess.OFFSET) : 0;
                int accessCount = command == VfioUser.CMD_REGION_READ ? in.u32(RegionAccess.COUNT) : 0;
                boolean noReply = in.noReply();
                boolean evil = hostile.get() && (!setup || rnd.nextInt(20) == 0);
                // the server's own requests and replies to nothing, before the reply
                if (evil) {
                    for (int k = rnd.nextInt(3); k > 0; k--) {
                        if (!inject(ch)) {
                            return;
                        }
                    }
                }
                if (noReply) {
                    continue;
                }
                VfioUserMessage out = ch.out();
                switch (command) {
                    case VfioUser.CMD_VERSION -> new Capabilities(8, 1 << 16).write(out, id, VfioUser.FLAG_TYPE_REPLY);
                    case VfioUser.CMD_DEVICE_GET_INFO -> {
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, 16);
                        out.putU32(0, 16);
                        out.putU32(4, VfioUser.DEVICE_FLAGS_PCI | VfioUser.DEVICE_FLAGS_RESET);
                        out.putU32(8, VfioUser.PCI_NUM_REGIONS);
                        out.putU32(12, VfioUser.PCI_NUM_IRQS);
                    }
                    case VfioUser.CMD_DEVICE_GET_REGION_INFO -> {
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, RegionInfo.SIZE);
                        out.putU32(RegionInfo.ARGSZ, RegionInfo.SIZE);
                        out.putU32(RegionInfo.INDEX, regionIndex);
                        if (regionIndex == VfioUser.PCI_CONFIG_REGION_INDEX) {
                            out.putU32(RegionInfo.FLAGS, VfioUser.REGION_FLAG_READ | VfioUser.REGION_FLAG_WRITE);
                            out.putU64(RegionInfo.SIZE_FIELD, 256);
                        }
                    }
                    case VfioUser.CMD_DEVICE_GET_IRQ_INFO -> {
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, IrqInfo.SIZE);
                        out.putU32(IrqInfo.ARGSZ, IrqInfo.SIZE);
                        out.putU32(IrqInfo.FLAGS, VfioUser.IRQ_INFO_EVENTFD);
                        out.putU32(IrqInfo.INDEX, in.u32(IrqInfo.INDEX));
                        out.putU32(IrqInfo.COUNT, 4);
                    }
                    case VfioUser.CMD_REGION_READ -> {
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, RegionAccess.SIZE + accessCount);
                        out.putU64(RegionAccess.OFFSET, accessOffset);
                        out.putU32(RegionAccess.REGION, VfioUser.PCI_CONFIG_REGION_INDEX);
                        out.putU32(RegionAccess.COUNT, accessCount);
                        for (int i = 0; i < accessCount; i++) {
                            long at = accessOffset + i;
                            byte b = at < 4 ? (byte) (CONFIG_ID >>> (8 * at)) : (byte) at;
                            out.payload(RegionAccess.DATA + i, 1).set(ValueLayout.JAVA_BYTE, 0, b);
                        }
                    }
                    case VfioUser.CMD_REGION_WRITE -> {
                        long off = in.u64(RegionAccess.OFFSET);
                        int region = in.u32(RegionAccess.REGION);
                        int count = in.u32(RegionAccess.COUNT);
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, RegionAccess.SIZE);
                        out.putU64(RegionAccess.OFFSET, off);
                        out.putU32(RegionAccess.REGION, region);
                        out.putU32(RegionAccess.COUNT, count);
                    }
                    case VfioUser.CMD_DMA_UNMAP -> {
                        long a = in.u64(VfioUserLayout.DmaUnmap.ADDRESS);
                        long s = in.u64(VfioUserLayout.DmaUnmap.SIZE_FIELD);
                        out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, VfioUserLayout.DmaUnmap.SIZE);
                        out.putU32(VfioUserLayout.DmaUnmap.ARGSZ, VfioUserLayout.DmaUnmap.SIZE);
                        out.putU64(VfioUserLayout.DmaUnmap.ADDRESS, a);
                        out.putU64(VfioUserLayout.DmaUnmap.SIZE_FIELD, s);
                    }
                    default -> out.begin(id, command, VfioUser.FLAG_TYPE_REPLY, 0); // DMA_MAP, SET_IRQS, RESET
                }
                lastReplySpoilt.set(false);
                if (evil && rnd.nextInt(3) != 0) {
                    if (!sendSpoilt(ch)) {
                        return;
                    }
                } else {
                    ch.send(null, 0, deadline());
                }
            }
        }

        private static long deadline() {
            return System.nanoTime() + 1_000_000_000L;
        }

        private long pick() {
            return rnd.nextInt(4) == 0 ? rnd.nextLong() : BOUNDARY[rnd.nextInt(BOUNDARY.length)];
        }

        /** Mutates the reply built in ch.out() and sends it (or not); false when the connection is done for. */
        private boolean sendSpoilt(VfioUserChannel ch) throws Exception {
            lastReplySpoilt.set(true);
            VfioUserMessage out = ch.out();
            MemorySegment buf = out.buffer();
            int size = out.size();
            int payload = size - VfioUserMessage.HEADER_SIZE;
            int[] fds = null;
            switch (rnd.nextInt(16)) {
                case 0 -> size = VfioUserMessage.HEADER_SIZE + rnd.nextInt(payload + 1); // cut short (size consistent)
                case 1 -> { // grown with garbage
                    int extra = 1 + rnd.nextInt(64);
                    for (int i = 0; i < extra && size < out.capacity(); i++) {
                        buf.set(ValueLayout.JAVA_BYTE, size++, (byte) rnd.nextInt());
                    }
                }
                case 2 -> { // a field set to a boundary value
                    if (payload >= 4) {
                        int at = VfioUserMessage.HEADER_SIZE + 4 * rnd.nextInt(payload / 4);
                        buf.set(VfioUserMessage.U32, at, (int) pick());
                    }
                }
                case 3 -> {
                    if (payload >= 8) {
                        int at = VfioUserMessage.HEADER_SIZE + 8 * rnd.nextInt(payload / 8);
                        buf.set(VfioUserMessage.U64, at, pick());
                    }
                }
                case 4, 6 -> { // a wrong id, or flags (type, No_reply, Error): then the real reply follows
                    long header = buf.get(VfioUserMessage.U64, VfioUserMessage.MSG_ID);
                    int realFlags = buf.get(VfioUserMessage.U32, VfioUserMessage.FLAGS);
                    if (rnd.nextBoolean()) {
                        buf.set(VfioUserMessage.U16, VfioUserMessage.MSG_ID, (short) rnd.nextInt());
                    } else {
                        buf.set(VfioUserMessage.U32, VfioUserMessage.FLAGS, rnd.nextInt(64));
                    }
                    out.received(size);
                    ch.send(null, 0, deadline());
                    buf.set(VfioUserMessage.U64, VfioUserMessage.MSG_ID, header);
                    buf.set(VfioUserMessage.U32, VfioUserMessage.FLAGS, realFlags);
                }
                case 5 -> buf.set(VfioUserMessage.U16, VfioUserMessage.COMMAND, (short) rnd.nextInt(20)); // wrong command
                case 7 -> { // an error reply, with or without a payload
                    buf.set(VfioUserMessage.U32, VfioUserMessage.FLAGS, VfioUser.FLAG_TYPE_REPLY | VfioUser.FLAG_ERROR);
                    buf.set(VfioUserMessage.U32, VfioUserMessage.ERROR, rnd.nextInt(140));
                    if (rnd.nextBoolean()) {
                        size = VfioUserMessage.HEADER_SIZE;
                    }
                }
                case 8 -> { // descriptors that do not belong (more than the client's 8 break the stream)
                    fds = new int[1 + rnd.nextInt(10)];
                    for (int i = 0; i < fds.length; i++) {
                        fds[i] = Events.eventfd(0, Events.EFD_CLOEXEC);
                    }
                }
                case 9 -> { // the size lies: below the header, beyond any buffer, or more than follows
                    int lie = switch (rnd.nextInt(3)) {
                        case 0 -> rnd.nextInt(VfioUserMessage.HEADER_SIZE);
                        case 1 -> 1 << 30;
                        default -> rnd.nextInt(4) == 0 ? size + 1 + rnd.nextInt(8) : 1 << 30; // rare: costs a timeout
                    };
                    buf.set(VfioUserMessage.U32, VfioUserMessage.MESSAGE_SIZE, lie);
                    Io.write(ch.socket(), buf, size);
                    return lie >= VfioUserMessage.HEADER_SIZE && lie < size; // the client drops us in every case
                }
                case 10 -> { // half a reply, then the connection ends
                    Io.write(ch.socket(), buf, Math.max(1, size / 2));
                    return false;
                }
                case 11 -> {
                    if (rnd.nextInt(4) == 0) { // no reply at all: the client's timeout (kept rare, it costs the timeout)
                        return true;
                    }
                }
                case 12 -> { // twice: the second answers nothing
                    out.received(size);
                    ch.send(null, 0, deadline());
                }
                default -> { } // sent as built
            }
            buf.set(VfioUserMessage.U32, VfioUserMessage.MESSAGE_SIZE, size);
            out.received(size);
            try {
                ch.send(fds, fds == null ? 0 : fds.length, deadline());
            } finally {
                if (fds != null) {
                    for (int fd : fds) {
                        Io.close(fd);
                    }
                }
            }
            return true;
        }

        /** A server request or a reply to nothing; reads and checks the client's answer. False when gone. */
        private boolean inject(VfioUserChannel ch) throws Exception {
            VfioUserMessage out = ch.out();
            int id = 0x8000 + rnd.nextInt(0x8000);
            int kind = rnd.nextInt(6);
            if (kind == 0) { // a reply to nothing
                out.begin(id, 1 + rnd.nextInt(15), VfioUser.FLAG_TYPE_REPLY | (rnd.nextBoolean() ? VfioUser.FLAG_ERROR : 0),
                        rnd.nextInt(32));
                ch.send(null, 0, deadline());
                return true;
            }
            if (kind == 1) { // a command a server may not send
                out.begin(id, rnd.nextBoolean() ? rnd.nextInt(11) : 13 + rnd.nextInt(100), VfioUser.FLAG_TYPE_COMMAND,
                        rnd.nextInt(40));
                ch.send(null, 0, deadline());
                return expectAnswer(ch, id, true, -1, 0);
            }
            boolean write = kind == 2;
            long count = rnd.nextInt(5) == 0 ? pick() : 1 + rnd.nextInt(256);
            long offset = rnd.nextInt(5) == 0 ? pick() : rnd.nextInt(MEM);
            int data = write ? (int) Math.max(0, Math.min(count, 256)) : 0;
            if (write && rnd.nextInt(4) == 0) {
                data = rnd.nextInt(64); // count and data disagree
            }
            out.begin(id, write ? VfioUser.CMD_DMA_WRITE : VfioUser.CMD_DMA_READ, VfioUser.FLAG_TYPE_COMMAND,
                    DmaAccess.SIZE + data);
            out.putU64(DmaAccess.ADDRESS, IOVA + offset);
            out.putU64(DmaAccess.COUNT, count);
            for (int i = 0; i < data; i++) { // writes put the same bytes back: the client's memory stays as expected
                long at = offset + i;
                byte b = at >= 0 && at < MEM ? expected.get(ValueLayout.JAVA_BYTE, at) : 0;
                out.payload(DmaAccess.DATA + i, 1).set(ValueLayout.JAVA_BYTE, 0, b);
            }
            if (rnd.nextInt(6) == 0) { // cut the request short
                int cut = rnd.nextInt(DmaAccess.SIZE + data + 1);
                out.buffer().set(VfioUserMessage.U32, VfioUserMessage.MESSAGE_SIZE, VfioUserMessage.HEADER_SIZE + cut);
                out.received(VfioUserMessage.HEADER_SIZE + cut);
            }
            boolean inRange = offset >= 0 && count >= 0 && count <= MEM && offset <= MEM - count;
            boolean valid = inRange && out.payloadLength() >= DmaAccess.SIZE
                    && (!write || count == out.payloadLength() - DmaAccess.SIZE);
            ch.send(null, 0, deadline());
            return expectAnswer(ch, id, !valid, valid && !write ? offset : -1, (int) (valid ? count : 0));
        }

        private boolean expectAnswer(VfioUserChannel ch, int id, boolean mustRefuse, long readOffset, int count) {
            int r = ch.receive(2000);
            if (r == VfioUserChannel.END_OF_STREAM) {
                return false; // the client broke off (it had reason to, from an earlier spoilt message)
            }
            if (r != VfioUserChannel.RECEIVED) {
                throw new AssertionError("the client did not answer server request " + id + " within 2 s");
            }
            VfioUserMessage in = ch.in();
            if (!in.isReply() || in.msgId() != id) {
                throw new AssertionError("expected the client's answer to " + id + ", got id " + in.msgId() + " flags 0x"
                        + Integer.toHexString(in.flags()));
            }
            if (mustRefuse || in.isError()) {
                if (!in.isError()) {
                    throw new AssertionError("the client accepted a request it had to refuse (id " + id + ")");
                }
                if (in.payloadLength() != 0) {
                    throw new AssertionError("the client's error reply carries a payload");
                }
                dmaRefused.incrementAndGet();
                return true;
            }
            if (readOffset >= 0) {
                MemorySegment got = in.payload(DmaAccess.DATA, count);
                if (got.mismatch(expected.asSlice(readOffset, count)) >= 0) {
                    throw new AssertionError("DMA_READ of [" + readOffset + ", +" + count + ") returned other bytes");
                }
                dmaChecked.incrementAndGet();
            }
            return true;
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Io.close(listenFd);
        }
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void aHostileServerNeverCrashesHangsOrCorruptsTheClient() throws Exception {
        long baseline = openFds();
        Path socket = dir.resolve("hostile.sock");
        VfioUserDevice.Config config = VfioUserDevice.Config.defaults().withTimeoutMillis(150);
        Random ops = new Random(SEED ^ 0x5a5a);
        int failures = 0;
        int reconnects = 0;
        int correct = 0;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mem = arena.allocate(MEM, 4096);
            for (int i = 0; i < MEM; i++) {
                mem.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            MemorySegment expected = arena.allocate(MEM);
            expected.copyFrom(mem);
            try (HostileServer server = new HostileServer(socket, SEED, expected)) {
                VfioUserDevice d = null;
                for (int i = 0; i < ITERATIONS; i++) {
                    String where = "seed 0x" + Long.toHexString(SEED) + " operation " + i;
                    try {
                        if (d == null || d.brokenReason() != null) {
                            if (d != null && d.brokenReason().contains("reader thread failed")) {
                                throw new AssertionError(where + ": " + d.brokenReason());
                            }
                            if (d != null) {
                                d.close();
                                reconnects++;
                            }
                            d = null;
                            d = VfioUserDevice.connect(socket, config);
                            d.dmaMap(-1, 0, mem, IOVA, VfioUser.DMA_FLAG_READ | VfioUser.DMA_FLAG_WRITE);
                        }
                        switch (ops.nextInt(5)) {
                            case 0 -> {
                                int n = d.interruptCount(InterruptType.MSIX);
                                if (!server.lastReplySpoilt.get()) {
                                    assertEquals(4, n, where);
                                }
                            }
                            case 1 -> {
                                int v = d.configRead(0, 4);
                                if (!server.lastReplySpoilt.get()) {
                                    assertEquals(CONFIG_ID, v, where);
                                }
                            }
                            case 2 -> d.configWrite(4, 2, 6);
                            case 3 -> {
                                MemorySegment dst = MemorySegment.ofArray(new byte[64]);
                                d.readRegion(VfioUser.PCI_CONFIG_REGION_INDEX, 64, dst);
                                if (!server.lastReplySpoilt.get()) {
                                    assertEquals(64, dst.get(ValueLayout.JAVA_BYTE, 0), where);
                                }
                            }
                            default -> d.reset();
                        }
                        correct++;
                    } catch (VfioUserException e) {
                        failures++; // refused or broken: both allowed, a reconnect follows a broken one
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        // the caller's access does not fit the device as this server described it (a spoilt
                        // region info at connect): refused before anything is sent, naming the device
                        if (!e.getMessage().contains(socket.toString())) {
                            throw new AssertionError(where + ": " + e, e);
                        }
                        failures++;
                        d.close();
                        d = null;
                    } catch (RuntimeException | AssertionError e) {
                        throw new AssertionError(where + ": " + e, e);
                    }
                    if (server.failure.get() != null) {
                        throw new AssertionError(where + ": the server side saw the client misbehave", server.failure.get());
                    }
                }
                if (d != null) {
                    d.close();
                }
                assertEquals(-1, mem.mismatch(expected), "the client's memory holds what it should");
                // a well-behaved server now: everything works
                server.hostile.set(false);
                try (VfioUserDevice good = VfioUserDevice.connect(socket, config)) {
                    assertEquals(4, good.interruptCount(InterruptType.MSIX));
                    assertEquals(CONFIG_ID, good.configRead(0, 4));
                    good.reset();
                    assertNull(good.brokenReason());
                }
                System.out.printf("vfio-user client fuzz (seed 0x%x, %d operations): %d succeeded, %d failed with "
                        + "VfioUserException, %d reconnects; server saw %d DMA_READs checked, %d requests refused%n",
                        SEED, ITERATIONS, correct, failures, reconnects, server.dmaChecked.get(), server.dmaRefused.get());
                assertNull(server.failure.get());
                assertTrue(server.dmaChecked.get() > 50, "valid DMA_READs were served: " + server.dmaChecked.get());
                assertTrue(server.dmaRefused.get() > 50, "bad ones refused: " + server.dmaRefused.get());
                assertTrue(correct > ITERATIONS / 4, "most operations got through: " + correct);
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (openFds() > baseline && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(openFds() <= baseline, "no descriptor leaked: " + openFds() + " open, " + baseline + " before");
    }
}
