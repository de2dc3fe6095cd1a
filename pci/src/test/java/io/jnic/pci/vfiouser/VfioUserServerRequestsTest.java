package io.jnic.pci.vfiouser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.pci.vfiouser.VfioUserLayout.DmaAccess;
import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server-to-client requests at the client (issue #13 item 7): served whenever they arrive, within what
 * DMA_MAP allowed, refused with the spec's errors otherwise, and the connection goes on.
 */
class VfioUserServerRequestsTest {
    static final VfioUserDevice.Config CLIENT = VfioUserDevice.Config.defaults().withTimeoutMillis(2000);
    static final long IOVA = 0x40000;

    @TempDir
    Path dir;

    /** Sends a DMA request from the fake server and returns the client's reply (a copy of it: flags, error, data). */
    static Reply dma(VfioUserChannel ch, int id, int command, int flags, long address, long count, byte[] data) {
        int payload = DmaAccess.SIZE + (data == null ? 0 : data.length);
        VfioUserMessage out = ch.out().begin(id, command, flags, payload);
        out.putU64(DmaAccess.ADDRESS, address);
        out.putU64(DmaAccess.COUNT, count);
        if (data != null) {
            out.payload(DmaAccess.DATA, data.length).copyFrom(MemorySegment.ofArray(data));
        }
        FakeServer.send(ch);
        if ((flags & VfioUser.FLAG_NO_REPLY) != 0) {
            return null;
        }
        if (ch.receive(2000) != VfioUserChannel.RECEIVED) {
            throw new AssertionError("no reply from the client");
        }
        VfioUserMessage in = ch.in();
        return new Reply(in.msgId(), in.command(), in.flags(), in.error(),
                in.payload(0, in.payloadLength()).toArray(ValueLayout.JAVA_BYTE));
    }

    record Reply(int id, int command, int flags, int error, byte[] payload) {
        boolean isError() {
            return (flags & VfioUser.FLAG_ERROR) != 0;
        }

        long u64(int at) {
            return MemorySegment.ofArray(payload).get(VfioUserMessage.U64, at);
        }
    }

    @Test
    void aDmaReadArrivingBetweenRequestsIsServedAtOnce() throws Exception {
        int memfd = Mman.memfdCreate("client-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 4096);
        MemorySegment mem = Mman.mmap(4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memfd, 0);
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> FakeServer.irqInfoReply(ch, in));
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            d.dmaMap(memfd, 0, mem, IOVA);
            mem.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x80, 0x1122334455667788L);
            // the client is idle: no request of its own is waiting, yet the server's DMA_READ is answered
            Reply r = (Reply) server.push(ch -> dma(ch, 7, VfioUser.CMD_DMA_READ, 0, IOVA + 0x80, 8, null));
            assertFalse(r.isError());
            assertEquals(7, r.id());
            assertEquals(IOVA + 0x80, r.u64(0));
            assertEquals(8, r.u64(8));
            assertEquals(0x1122334455667788L, MemorySegment.ofArray(r.payload()).get(VfioUserMessage.U64, 16));
            // a posted DMA_WRITE (No_reply) lands without an answer, and the next request still pairs correctly
            server.push(ch -> dma(ch, 8, VfioUser.CMD_DMA_WRITE, VfioUser.FLAG_NO_REPLY, IOVA + 0x100, 4,
                    new byte[] {9, 8, 7, 6}));
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
            assertEquals(0x06070809, mem.get(ValueLayout.JAVA_INT_UNALIGNED, 0x100));
            assertEquals(2, d.servedDmaRequests());
            server.check();
        } finally {
            Mman.munmap(mem);
            Io.close(memfd);
        }
    }

    @Test
    void dmaMapFlagsBoundWhatTheServerMayDoAndMemoryWithoutADescriptorIsServedByMessages() throws Exception {
        try (Arena arena = Arena.ofShared();
                FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> FakeServer.irqInfoReply(ch, in));
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            MemorySegment readOnly = arena.allocate(4096);
            MemorySegment heapLike = arena.allocate(8192);
            readOnly.set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0xcafe);
            d.dmaMap(-1, 0, readOnly, IOVA, VfioUser.DMA_FLAG_READ);
            d.dmaMap(-1, 0, heapLike, IOVA + 0x10000, VfioUser.DMA_FLAG_READ | VfioUser.DMA_FLAG_WRITE);
            Reply denied = (Reply) server.push(ch -> dma(ch, 1, VfioUser.CMD_DMA_WRITE, 0, IOVA, 4, new byte[] {1, 1, 1, 1}));
            assertTrue(denied.isError());
            assertEquals(Errno.EPERM.code(), denied.error());
            assertEquals(0, denied.payload().length, "an error reply is a bare header");
            assertEquals(0xcafe, readOnly.get(ValueLayout.JAVA_INT_UNALIGNED, 0), "the read-only memory is untouched");
            Reply read = (Reply) server.push(ch -> dma(ch, 2, VfioUser.CMD_DMA_READ, 0, IOVA, 4, null));
            assertFalse(read.isError());
            assertEquals(0xcafe, MemorySegment.ofArray(read.payload()).get(ValueLayout.JAVA_INT_UNALIGNED, 16));
            Reply wrote = (Reply) server.push(ch -> dma(ch, 3, VfioUser.CMD_DMA_WRITE, 0, IOVA + 0x10ffe, 4,
                    new byte[] {4, 3, 2, 1}));
            assertFalse(wrote.isError());
            assertEquals(0x01020304, heapLike.get(ValueLayout.JAVA_INT_UNALIGNED, 0xffe));
            // across two regions, or past the end: EFAULT
            Reply across = (Reply) server.push(ch -> dma(ch, 4, VfioUser.CMD_DMA_READ, 0, IOVA + 0xffc, 8, null));
            assertEquals(Errno.EFAULT.code(), across.error());
            assertEquals(2, d.refusedServerRequests(), "the EPERM and the EFAULT one");
            assertThrows(IllegalArgumentException.class, () -> {
                try (Arena confined = Arena.ofConfined()) {
                    d.dmaMap(-1, 0, confined.allocate(4096), IOVA + 0x40000, VfioUser.DMA_FLAG_READ);
                }
            }, "memory the reader thread cannot touch is refused up front");
        }
    }

    @Test
    void requestsAServerMayNotSendAreRefusedAndTheirDescriptorsClosed() throws Exception {
        try (FakeServer server = new FakeServer(dir.resolve("fake.sock"), (ch, in) -> FakeServer.irqInfoReply(ch, in));
                VfioUserDevice d = VfioUserDevice.connect(server.path(), CLIENT)) {
            Reply unknown = (Reply) server.push(ch -> {
                ch.out().begin(11, VfioUser.CMD_DEVICE_RESET, VfioUser.FLAG_TYPE_COMMAND, 0);
                FakeServer.send(ch);
                ch.receive(2000);
                return new Reply(ch.in().msgId(), ch.in().command(), ch.in().flags(), ch.in().error(), new byte[0]);
            });
            assertEquals(Errno.ENOSYS.code(), unknown.error());
            assertEquals(11, unknown.id());
            int efd = Events.eventfd(0, Events.EFD_CLOEXEC);
            try {
                Reply withFd = (Reply) server.push(ch -> {
                    VfioUserMessage out = ch.out().begin(12, VfioUser.CMD_DMA_READ, VfioUser.FLAG_TYPE_COMMAND, 16);
                    out.putU64(DmaAccess.ADDRESS, 0);
                    out.putU64(DmaAccess.COUNT, 0);
                    ch.send(new int[] {efd}, 1, System.nanoTime() + 1_000_000_000L);
                    ch.receive(2000);
                    return new Reply(ch.in().msgId(), ch.in().command(), ch.in().flags(), ch.in().error(), new byte[0]);
                });
                assertEquals(Errno.EINVAL.code(), withFd.error());
            } finally {
                Io.close(efd);
            }
            assertEquals(2, d.refusedServerRequests());
            assertEquals(4, d.interruptCount(InterruptType.MSIX));
        }
    }

    @Test
    void aClientConfigAboveWhatQemuAcceptsIsRefusedAndTheServerOffersAtMost16Descriptors() {
        assertThrows(IllegalArgumentException.class, () -> new VfioUserServer.Config(17, 1 << 20, 1000, 16));
        assertThrows(IllegalArgumentException.class, () -> new VfioUserServer.Config(16, (64 << 20) + 1, 1000, 16));
        assertEquals(16, VfioUserServer.Config.defaults().maxMsgFds());
        Path socket = dir.resolve("dev.sock");
        TestDeviceModel model = new TestDeviceModel();
        try (VfioUserServer server = new VfioUserServer(socket, model);
                VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            assertEquals(16, d.serverMaxMsgFds());
        } finally {
            model.release();
        }
    }
}
