package io.jnic.pci.vfiouser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.sys.Errno;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against servers that misbehave: every failure is a {@link VfioUserException} naming the
 * command and what was wrong, within the timeout, and a connection whose stream can no longer be trusted
 * refuses further use.
 */
class VfioUserClientFailureTest {
    static final VfioUserDevice.Config CLIENT = VfioUserDevice.Config.defaults().withTimeoutMillis(500);

    @TempDir
    Path dir;

    private VfioUserException failingIrqInfo(FakeServer.Script script) throws Exception {
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), script);
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertEquals(VfioUser.CMD_DEVICE_GET_IRQ_INFO, e.command());
            VfioUserException after = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertTrue(after.getMessage().startsWith("VFIO_USER_DEVICE_GET_IRQ_INFO: connection to " + server.path()
                    + " is broken (" + e.getMessage()), after.getMessage());
            return e;
        }
    }

    @Test
    void aReplyToNothingIsDroppedAndCountedAndTheRealReplyStillServes() throws Exception {
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    ch.out().begin(in.msgId() + 1, in.command(), VfioUser.FLAG_TYPE_REPLY, 16); // answers nothing
                    FakeServer.send(ch);
                    FakeServer.irqInfoReply(ch, in);
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
            assertEquals(1, d.unmatchedReplies());
            assertEquals(4, d.interruptCount(InterruptType.MSIX), "the connection is still in step");
            assertEquals(2, d.unmatchedReplies());
        }
    }

    @Test
    void aReplyWithOurIdForAnotherCommandFailsThatRequestOnly() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    if (calls.incrementAndGet() == 1) {
                        ch.out().begin(in.msgId(), VfioUser.CMD_DEVICE_RESET, VfioUser.FLAG_TYPE_REPLY, 0);
                        FakeServer.send(ch);
                    } else {
                        FakeServer.irqInfoReply(ch, in);
                    }
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_IRQ_INFO: reply to message id 3 is for "
                    + "VFIO_USER_DEVICE_RESET, not VFIO_USER_DEVICE_GET_IRQ_INFO"), e.getMessage());
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
            assertEquals(1, d.protocolErrors());
        }
    }

    @Test
    void replyOfAnUnknownType() throws Exception {
        VfioUserException e = failingIrqInfo((ch, in) -> {
            ch.out().begin(in.msgId(), in.command(), 0x5, 0);
            FakeServer.send(ch);
        });
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_IRQ_INFO: message of unknown type 5 (flags 0x5) (server "),
                e.getMessage());
    }

    @Test
    void headerDeclaringAnImpossibleSize() throws Exception {
        VfioUserException e = failingIrqInfo((ch, in) -> {
            ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 0);
            ch.out().buffer().set(VfioUserMessage.U32, VfioUserMessage.MESSAGE_SIZE, 8);
            FakeServer.send(ch);
        });
        assertTrue(e.getMessage().matches("VFIO_USER_DEVICE_GET_IRQ_INFO: message id 3 declares a size of 8 bytes \\(must be 16 to \\d+\\).*"),
                e.getMessage());
    }

    @Test
    void replyCutShortThenSilence() throws Exception {
        VfioUserException e = failingIrqInfo((ch, in) -> {
            ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 16);
            Io.write(ch.socket(), ch.out().buffer(), 20); // 20 of the 32 bytes
        });
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_IRQ_INFO: timed out receiving the rest of a message"),
                e.getMessage());
    }

    @Test
    void replyCutShortByADisconnect() throws Exception {
        VfioUserException e = failingIrqInfo((ch, in) -> {
            ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 16);
            Io.write(ch.socket(), ch.out().buffer(), 20);
            ch.close();
        });
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_IRQ_INFO: peer closed the connection in the middle of a message (20 of 32 bytes)"),
                e.getMessage());
    }

    @Test
    void replyPayloadShorterThanTheStructure() throws Exception {
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 8);
                    FakeServer.send(ch);
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertEquals("VFIO_USER_DEVICE_GET_IRQ_INFO: irq info reply payload of 8 bytes is shorter than 16", e.getMessage());
        }
    }

    @Test
    void serverThatNeverReplies() throws Exception {
        long start = System.nanoTime();
        VfioUserException e = failingIrqInfo((ch, in) -> { });
        assertEquals("VFIO_USER_DEVICE_GET_IRQ_INFO: no reply to message id 3 within 500 ms (server "
                + dir.resolve("fake.sock") + ")", e.getMessage());
        assertTrue(System.nanoTime() - start < 10_000_000_000L, "bounded by the timeout, not a hang");
    }

    @Test
    void serverThatDisconnectsMidRequest() throws Exception {
        VfioUserException e = failingIrqInfo((ch, in) -> ch.close());
        assertEquals("VFIO_USER_DEVICE_GET_IRQ_INFO: server closed the connection before replying to message id 3 (server "
                + dir.resolve("fake.sock") + ")", e.getMessage());
    }

    @Test
    void errorReplySurfacesTheErrnoByNameAndKeepsTheConnection() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    if (calls.incrementAndGet() == 1) {
                        ch.out().beginError(in.msgId(), in.command(), Errno.EBUSY.code());
                        FakeServer.send(ch);
                    } else {
                        FakeServer.irqInfoReply(ch, in);
                    }
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertEquals(Errno.EBUSY, e.errno());
            assertEquals("VFIO_USER_DEVICE_GET_IRQ_INFO: server " + server.path() + " replied with error EBUSY", e.getMessage());
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
        }
    }

    @Test
    void anErrorReplyWithAPayloadIsAnErrorForThatRequestAndTheConnectionGoesOn() throws Exception {
        // libvfio-user answers a failed region callback with an error reply that carries the request's payload
        AtomicInteger calls = new AtomicInteger();
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    if (calls.incrementAndGet() == 1) {
                        VfioUserMessage out = ch.out().begin(in.msgId(), in.command(),
                                VfioUser.FLAG_TYPE_REPLY | VfioUser.FLAG_ERROR, 16);
                        out.buffer().set(VfioUserMessage.U32, VfioUserMessage.ERROR, Errno.EIO.code());
                        FakeServer.send(ch);
                    } else {
                        FakeServer.irqInfoReply(ch, in);
                    }
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.interruptCount(InterruptType.MSIX));
            assertEquals(Errno.EIO, e.errno());
            assertEquals("VFIO_USER_DEVICE_GET_IRQ_INFO: server " + server.path() + " replied with error EIO (and a 16-byte "
                    + "payload, ignored)", e.getMessage());
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
            assertEquals(null, d.brokenReason());
        }
    }

    @Test
    void serverDmaReadsAndWritesAreServedWhileARequestIsOutstanding() throws Exception {
        int memfd = Mman.memfdCreate("client-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 4096);
        MemorySegment mem = Mman.mmap(4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memfd, 0);
        long iova = 0x10000;
        int[] replies = new int[3];
        byte[] readBack = new byte[4];
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> {
                    int id = 100;
                    int requestId = in.msgId();
                    int requestIndex = in.u32(VfioUserLayout.IrqInfo.INDEX);
                    // DMA_WRITE of 4 bytes at iova + 8
                    VfioUserMessage out = ch.out().begin(id, VfioUser.CMD_DMA_WRITE, VfioUser.FLAG_TYPE_COMMAND, 16 + 4);
                    out.putU64(VfioUserLayout.DmaAccess.ADDRESS, iova + 8);
                    out.putU64(VfioUserLayout.DmaAccess.COUNT, 4);
                    out.putU32(VfioUserLayout.DmaAccess.DATA, 0xa1b2c3d4);
                    FakeServer.send(ch);
                    ch.receive(500);
                    replies[0] = ch.in().flags();
                    // DMA_READ of those 4 bytes
                    out = ch.out().begin(id + 1, VfioUser.CMD_DMA_READ, VfioUser.FLAG_TYPE_COMMAND, 16);
                    out.putU64(VfioUserLayout.DmaAccess.ADDRESS, iova + 8);
                    out.putU64(VfioUserLayout.DmaAccess.COUNT, 4);
                    FakeServer.send(ch);
                    ch.receive(500);
                    replies[1] = ch.in().flags();
                    ch.in().payload(16, 4).asByteBuffer().get(readBack);
                    // DMA_READ outside the mapped memory
                    out = ch.out().begin(id + 2, VfioUser.CMD_DMA_READ, VfioUser.FLAG_TYPE_COMMAND, 16);
                    out.putU64(VfioUserLayout.DmaAccess.ADDRESS, iova + 4090);
                    out.putU64(VfioUserLayout.DmaAccess.COUNT, 16);
                    FakeServer.send(ch);
                    ch.receive(500);
                    replies[2] = ch.in().error();
                    FakeServer.irqInfoReply(ch, requestId, requestIndex);
                });
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            d.dmaMap(memfd, 0, mem, iova);
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
            assertEquals(0xa1b2c3d4, mem.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
            assertEquals(VfioUser.FLAG_TYPE_REPLY, replies[0]);
            assertEquals(VfioUser.FLAG_TYPE_REPLY, replies[1]);
            assertEquals(0xa1b2c3d4, MemorySegment.ofArray(readBack).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            assertEquals(Errno.EFAULT.code(), replies[2]);
            server.check();
        } finally {
            Mman.munmap(mem);
            Io.close(memfd);
        }
    }

    @Test
    void versionReplyWithGarbageJsonIsRejected() throws Exception {
        Path path = dir.resolve("bad.sock");
        int listen = io.jnic.sys.Sockets.socket(io.jnic.sys.Sockets.SOCK_STREAM);
        io.jnic.sys.Sockets.bind(listen, io.jnic.sys.UnixAddress.of(path));
        io.jnic.sys.Sockets.listen(listen, 1);
        Thread t = Thread.ofPlatform().start(() -> {
            try (VfioUserChannel ch = new VfioUserChannel(io.jnic.sys.Sockets.accept(listen), 4096, 4, 500)) {
                ch.receive(2000);
                byte[] junk = "{\"capabilities\":{\"max_msg_fds\":-3}}\0".getBytes();
                VfioUserMessage out = ch.out().begin(ch.in().msgId(), VfioUser.CMD_VERSION, VfioUser.FLAG_TYPE_REPLY, 4 + junk.length);
                out.payload(4, junk.length).copyFrom(MemorySegment.ofArray(junk));
                FakeServer.send(ch);
                ch.receive(2000);
            }
        });
        try {
            VfioUserException e = assertThrows(VfioUserException.class, () -> VfioUserDevice.connect(path, CLIENT));
            assertTrue(e.getMessage().startsWith("VFIO_USER_VERSION: capability \"max_msg_fds\" is -3, expected an integer from 0 to 253"),
                    e.getMessage());
        } finally {
            t.join(2000);
            Io.close(listen);
        }
    }

    /** Connects to a device whose region 0 info reply is built by {@code reply}; returns the connect failure. */
    private VfioUserException badRegionInfo(java.util.function.Consumer<VfioUserMessage> reply, boolean sendFd) {
        int memfd = Mman.memfdCreate("bar", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x2000);
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), 1, (ch, in) -> {
                    VfioUserMessage out = ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 128);
                    out.putU32(VfioUserLayout.RegionInfo.ARGSZ, 128);
                    out.putU32(VfioUserLayout.RegionInfo.INDEX, 0);
                    out.putU64(VfioUserLayout.RegionInfo.SIZE_FIELD, 0x2000);
                    out.putU32(VfioUserLayout.RegionInfo.FLAGS, VfioUser.REGION_FLAG_READ | VfioUser.REGION_FLAG_WRITE
                            | VfioUser.REGION_FLAG_MMAP | VfioUser.REGION_FLAG_CAPS);
                    out.putU32(VfioUserLayout.RegionInfo.CAP_OFFSET, 32);
                    out.putU16(32, VfioUser.REGION_INFO_CAP_SPARSE_MMAP);
                    out.putU16(34, 1);
                    out.putU32(40, 1);
                    out.putU64(48, 0x1000);
                    out.putU64(56, 0x1000);
                    reply.accept(out);
                    ch.send(new int[] {memfd}, sendFd ? 1 : 0, System.nanoTime() + 1_000_000_000L);
                })) {
            return assertThrows(VfioUserException.class, () -> VfioUserDevice.connect(server.path(), CLIENT));
        } finally {
            Io.close(memfd);
        }
    }

    @Test
    void mappableRegionWithoutADescriptor() {
        VfioUserException e = badRegionInfo(out -> out.putU32(VfioUserLayout.RegionInfo.INDEX, 0), false);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 is mappable but no descriptor came with the reply"),
                e.getMessage());
    }

    @Test
    void sparseAreaOutsideTheRegion() {
        VfioUserException e = badRegionInfo(out -> out.putU64(56, 0x1001), true);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 sparse area [0x1000, +0x1001) outside its 0x2000 bytes"),
                e.getMessage());
    }

    @Test
    void sparseAreaCountLargerThanTheReply() {
        VfioUserException e = badRegionInfo(out -> out.putU32(40, 1000), true);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 claims 1000 sparse areas, more than the reply holds"),
                e.getMessage());
    }

    @Test
    void capabilityListThatLoops() {
        VfioUserException e = badRegionInfo(out -> out.putU32(36, 32), true);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 capability list goes backwards (32 -> 32)"),
                e.getMessage());
    }

    @Test
    void capabilityOffsetOutsideTheReply() {
        VfioUserException e = badRegionInfo(out -> out.putU32(VfioUserLayout.RegionInfo.CAP_OFFSET, 4096), true);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 capability at offset 4096 outside the 128-byte reply"),
                e.getMessage());
    }

    @Test
    void sparseAreaPastTheEndOfTheDescriptorsFile() {
        VfioUserException e = badRegionInfo(out -> {
            out.putU64(VfioUserLayout.RegionInfo.OFFSET, 0x1000); // area 0x1000..0x2000 + 0x1000 > the 0x2000-byte file
        }, true);
        assertTrue(e.getMessage().startsWith("VFIO_USER_DEVICE_GET_REGION_INFO: region 0 area [0x1000, +0x1000) at offset 0x1000 lies beyond the end of the descriptor's file (8192 bytes)"),
                e.getMessage());
    }
}
