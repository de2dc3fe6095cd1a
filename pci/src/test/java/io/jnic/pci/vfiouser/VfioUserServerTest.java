package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.TestDeviceModel.*;
import static io.jnic.pci.vfiouser.VfioUser.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.vfiouser.VfioUserLayout.DmaMap;
import io.jnic.pci.vfiouser.VfioUserLayout.IrqSet;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionAccess;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionInfo;
import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server framework against clients that misbehave: error replies or a dropped connection, no leaks. */
class VfioUserServerTest {
    @TempDir
    Path dir;
    Path socket;
    TestDeviceModel model;
    VfioUserServer server;

    @BeforeEach
    void start() {
        socket = dir.resolve("dev.sock");
        model = new TestDeviceModel();
        server = new VfioUserServer(socket, model, new VfioUserServer.Config(4, 4096, 500, 4));
    }

    @AfterEach
    void stop() {
        server.close();
        model.release();
    }

    private static void assertError(Errno errno, VfioUserMessage reply) {
        assertTrue(reply.isReply() && reply.isError(), "error reply expected, flags 0x" + Integer.toHexString(reply.flags()));
        assertEquals(0, reply.payloadLength(), "an error reply is a bare header");
        assertEquals(errno.code(), reply.error(), "errno " + VfioUser.errnoName(reply.error()));
    }

    private static long openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertFdsBackTo(long baseline) {
        VfioUserDeviceTest.waitFor(() -> openFds() <= baseline);
    }

    @Test
    void garbageDropsTheClientAndTheNextOneIsServed() {
        try (RawClient raw = new RawClient(socket)) {
            MemorySegment junk = java.lang.foreign.Arena.ofAuto().allocate(64).fill((byte) 0xff);
            Io.write(raw.channel.socket(), junk, 64);
            assertTrue(raw.closedByServer());
        }
        assertEquals(1, server.droppedConnections());
        try (VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDeviceTest.CLIENT)) {
            assertEquals(VENDOR_ID, d.configRead(0, 2));
        }
    }

    @Test
    void aClientThatStopsMidMessageIsDropped() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            raw.channel.out().begin(9, CMD_DEVICE_GET_INFO, FLAG_TYPE_COMMAND, 16);
            Io.write(raw.channel.socket(), raw.channel.out().buffer(), 10);
            assertTrue(raw.closedByServer(), "dropped after the 500 ms I/O timeout");
        }
        assertEquals(1, server.droppedConnections());
    }

    @Test
    void theFirstMessageMustBeVersion() {
        try (RawClient raw = new RawClient(socket)) {
            assertError(Errno.EINVAL, raw.call(CMD_DEVICE_GET_INFO, 16, m -> m.putU32(0, 16)));
            assertTrue(raw.closedByServer());
        }
    }

    @Test
    void versionIsNegotiatedOnce() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            assertError(Errno.EINVAL, raw.call(CMD_VERSION, 4, m -> { }));
            VfioUserMessage info = raw.call(CMD_DEVICE_GET_INFO, 16, m -> m.putU32(0, 16));
            assertFalse(info.isError());
        }
    }

    @Test
    void anUnknownMajorVersionIsRefused() {
        try (RawClient raw = new RawClient(socket)) {
            assertError(Errno.EOPNOTSUPP, raw.call(CMD_VERSION, 4, m -> m.putU16(0, 7)));
            assertTrue(raw.closedByServer());
        }
    }

    @Test
    void versionReplyOffersOurCapabilities() {
        try (RawClient raw = new RawClient(socket)) {
            VfioUserMessage in = raw.call(CMD_VERSION, 4, m -> m.putU16(2, 9));
            assertEquals(VERSION_MINOR, in.u16(2), "minor is at most what the client proposed and what we speak");
            assertEquals(new Capabilities(4, 4096), Capabilities.read(in));
        }
    }

    @Test
    void unknownCommandsAndShortPayloadsGetErrorRepliesAndServingGoesOn() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            assertError(Errno.ENOSYS, raw.call(99, 0, m -> { }));
            assertError(Errno.EINVAL, raw.call(CMD_REGION_READ, 8, m -> { }));
            assertError(Errno.EINVAL, raw.call(CMD_DMA_READ, 16, m -> { }));
            assertError(Errno.EINVAL, raw.call(CMD_DEVICE_GET_INFO, 16, m -> m.putU32(0, 8)));
            VfioUserMessage info = raw.call(CMD_DEVICE_GET_INFO, 16, m -> m.putU32(0, 16));
            assertFalse(info.isError());
            assertEquals(PCI_NUM_REGIONS, info.u32(8));
            assertEquals(4, server.errorReplies());
        }
    }

    @Test
    void regionAccessOutOfBoundsIsRefusedServerSide() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            int before = model.trappedAccesses.get();
            assertError(Errno.EINVAL, regionRead(raw, 2, BAR2_SIZE - 2, 4));
            assertError(Errno.EINVAL, regionRead(raw, 2, -4, 4));
            assertError(Errno.EINVAL, regionRead(raw, 2, 0, 8192)); // > max_data_xfer_size
            assertError(Errno.EINVAL, regionRead(raw, 1, 0, 4));    // no such region
            assertError(Errno.EINVAL, regionRead(raw, 9, 0, 4));    // index past the regions
            assertError(Errno.EINVAL, raw.call(CMD_REGION_WRITE, RegionAccess.SIZE + 4, m -> {
                m.putU32(RegionAccess.REGION, 2);
                m.putU32(RegionAccess.COUNT, 8); // but 4 data bytes
            }));
            assertEquals(before, model.trappedAccesses.get(), "the model saw none of them");
            VfioUserMessage ok = regionRead(raw, 2, BAR2_SIZE - 4, 4);
            assertFalse(ok.isError());
            assertEquals(RegionAccess.SIZE + 4, ok.payloadLength());
        }
    }

    private static VfioUserMessage regionRead(RawClient raw, int region, long offset, int count) {
        return raw.call(CMD_REGION_READ, RegionAccess.SIZE, m -> {
            m.putU64(RegionAccess.OFFSET, offset);
            m.putU32(RegionAccess.REGION, region);
            m.putU32(RegionAccess.COUNT, count);
        });
    }

    @Test
    void noReplyCommandsAreExecutedSilently() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            raw.send(CMD_REGION_WRITE, FLAG_TYPE_COMMAND | FLAG_NO_REPLY, RegionAccess.SIZE + 4, m -> {
                m.putU32(RegionAccess.REGION, 2);
                m.putU32(RegionAccess.COUNT, 4);
                m.putU32(RegionAccess.DATA, 0x600d);
            });
            VfioUserMessage in = regionRead(raw, 2, 0, 4);
            assertEquals(CMD_REGION_READ, in.command(), "the next reply is the read's: the write sent none");
            assertEquals(0x600d, in.u32(RegionAccess.DATA));
        }
    }

    @Test
    void regionInfoWithASmallArgszGetsTheNeededSizeAndNoDescriptor() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            VfioUserMessage in = raw.call(CMD_DEVICE_GET_REGION_INFO, RegionInfo.SIZE, m -> {
                m.putU32(RegionInfo.ARGSZ, RegionInfo.SIZE);
                m.putU32(RegionInfo.INDEX, 0);
            });
            assertEquals(RegionInfo.SIZE, in.payloadLength());
            assertEquals(RegionInfo.SIZE + 8 + 8 + 16, in.u32(RegionInfo.ARGSZ));
            assertEquals(0, raw.channel.fdCount());
            // the capabilities are not in this reply, so neither CAPS nor MMAP (whose descriptor did not come)
            assertEquals(REGION_FLAG_READ | REGION_FLAG_WRITE, in.u32(RegionInfo.FLAGS));
            assertEquals(0, in.u32(RegionInfo.CAP_OFFSET));
            int needed = in.u32(RegionInfo.ARGSZ);
            in = raw.call(CMD_DEVICE_GET_REGION_INFO, RegionInfo.SIZE, m -> {
                m.putU32(RegionInfo.ARGSZ, needed);
                m.putU32(RegionInfo.INDEX, 0);
            });
            assertEquals(needed, in.payloadLength());
            assertEquals(REGION_FLAG_READ | REGION_FLAG_WRITE | REGION_FLAG_MMAP | REGION_FLAG_CAPS, in.u32(RegionInfo.FLAGS));
            assertEquals(1, raw.channel.fdCount());
            assertEquals(RegionInfo.SIZE, in.u32(RegionInfo.CAP_OFFSET));
            assertEquals(REGION_INFO_CAP_SPARSE_MMAP, in.u16(RegionInfo.SIZE));
            assertEquals(1, in.u32(RegionInfo.SIZE + 8));
            assertEquals(DOORBELL_OFFSET, in.u64(RegionInfo.SIZE + 16));
            assertEquals(DOORBELL_SIZE, in.u64(RegionInfo.SIZE + 24));
        }
    }

    @Test
    void aFloodOfDescriptorsDropsTheClientAndLeaksNone() {
        long baseline = openFds();
        int[] fds = new int[100];
        try (RawClient raw = new RawClient(socket, 128).negotiated()) {
            for (int i = 0; i < fds.length; i++) {
                fds[i] = Events.eventfd(0, Events.EFD_CLOEXEC);
            }
            raw.send(CMD_DEVICE_GET_INFO, FLAG_TYPE_COMMAND, 16, m -> m.putU32(0, 16), fds);
            for (int fd : fds) {
                Io.close(fd);
            }
            assertTrue(raw.closedByServer());
        }
        assertEquals(1, server.droppedConnections());
        assertFdsBackTo(baseline);
    }

    @Test
    void descriptorsSentWithCommandsThatTakeNoneAreClosed() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            long baseline = openFds();
            int[] fds = {Events.eventfd(0, Events.EFD_CLOEXEC), Events.eventfd(0, Events.EFD_CLOEXEC)};
            VfioUserMessage in = raw.call(CMD_DEVICE_GET_INFO, 16, m -> m.putU32(0, 16), fds);
            assertFalse(in.isError());
            Io.close(fds[0]);
            Io.close(fds[1]);
            // set-irqs with 3 eventfds for 2 vectors: refused, all 3 closed
            int[] three = {Events.eventfd(0, Events.EFD_CLOEXEC), Events.eventfd(0, Events.EFD_CLOEXEC), Events.eventfd(0, Events.EFD_CLOEXEC)};
            assertError(Errno.EINVAL, raw.call(CMD_DEVICE_SET_IRQS, IrqSet.SIZE, m -> {
                m.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
                m.putU32(IrqSet.FLAGS, IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER);
                m.putU32(IrqSet.INDEX, PCI_MSIX_IRQ_INDEX);
                m.putU32(IrqSet.COUNT, 2);
            }, three));
            for (int fd : three) {
                Io.close(fd);
            }
            // vectors past the end
            assertError(Errno.EINVAL, raw.call(CMD_DEVICE_SET_IRQS, IrqSet.SIZE, m -> {
                m.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
                m.putU32(IrqSet.FLAGS, IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER);
                m.putU32(IrqSet.INDEX, PCI_MSIX_IRQ_INDEX);
                m.putU32(IrqSet.START, MSIX_VECTORS - 1);
                m.putU32(IrqSet.COUNT, 2);
            }));
            assertFdsBackTo(baseline);
        }
    }

    @Test
    void eventfdsAreClosedWhenTheClientLeaves() {
        long baseline = openFds();
        try (RawClient raw = new RawClient(socket).negotiated()) {
            int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
            VfioUserMessage in = raw.call(CMD_DEVICE_SET_IRQS, IrqSet.SIZE, m -> {
                m.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
                m.putU32(IrqSet.FLAGS, IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER);
                m.putU32(IrqSet.INDEX, PCI_INTX_IRQ_INDEX);
                m.putU32(IrqSet.COUNT, 1);
            }, efd);
            assertFalse(in.isError());
            // the client may trigger a vector itself (DATA_NONE | ACTION_TRIGGER)
            in = raw.call(CMD_DEVICE_SET_IRQS, IrqSet.SIZE, m -> {
                m.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
                m.putU32(IrqSet.FLAGS, IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER);
                m.putU32(IrqSet.INDEX, PCI_INTX_IRQ_INDEX);
                m.putU32(IrqSet.COUNT, 1);
            });
            assertFalse(in.isError());
            assertEquals(1, Events.eventfdRead(efd));
            Io.close(efd);
            assertTrue(server.interruptEnabled(PCI_INTX_IRQ_INDEX, 0));
        }
        VfioUserDeviceTest.waitFor(() -> !server.interruptEnabled(PCI_INTX_IRQ_INDEX, 0));
        assertFdsBackTo(baseline);
    }

    @Test
    void dmaMapRequestsAreValidated() {
        long baseline = openFds();
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x2000);
        try (RawClient raw = new RawClient(socket).negotiated()) {
            assertError(Errno.EINVAL, dmaMap(raw, 0x1000, 0, 0x4000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd)); // past the file
            assertError(Errno.EINVAL, dmaMap(raw, 0x1000, 0x1010, 0x1000, DMA_FLAG_READ, memfd));            // past, unaligned
            assertError(Errno.EINVAL, dmaMap(raw, 0x1000, 0, 0x1000, 0x4, memfd));                          // unknown flag
            assertError(Errno.EINVAL, dmaMap(raw, -0x1000L, 0, 0x2000, DMA_FLAG_READ, memfd));              // wraps
            assertError(Errno.EINVAL, dmaMap(raw, 0x1000, 0, 0x1000, DMA_FLAG_READ, memfd, memfd));          // two fds
            assertFalse(dmaMap(raw, 0x1000, 0, 0x2000, DMA_FLAG_READ, memfd).isError());
            assertError(Errno.EEXIST, dmaMap(raw, 0x2000, 0, 0x1000, DMA_FLAG_READ, memfd));
            assertEquals(1, server.dma().regionCount());
            assertFalse(server.dma().find(0x1000, 4).writable());
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> server.dma().putInt(0x1000, 1));
            assertEquals("DMA write to [0x1000, +4) in read-only region [0x1000, 0x3000) read-only", e.getMessage());
        } finally {
            Io.close(memfd);
        }
        VfioUserDeviceTest.waitFor(() -> model.disconnects.get() == 1);
        assertEquals(1, server.dma().regionCount(), "the region outlives the client");
        assertTrue(server.dma().regions()[0].intact());
        server.close();
        assertEquals(0, server.dma().regionCount(), "the server's close drops every region");
        assertFdsBackTo(baseline); // and the descriptor it kept
    }

    @Test
    void aNewClientsDmaMapReplacesADepartedClientsRegionButNotItsOwn() {
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x4000);
        try {
            try (RawClient first = new RawClient(socket).negotiated()) {
                assertFalse(dmaMap(first, 0x10000, 0, 0x2000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd).isError());
                assertFalse(dmaMap(first, 0x20000, 0, 0x1000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd).isError());
            }
            VfioUserDeviceTest.waitFor(() -> model.disconnects.get() == 1);
            assertEquals(2, server.dma().regionCount(), "the regions outlive their client");
            assertEquals(1, server.dma().find(0x10000, 4).generation());
            try (RawClient second = new RawClient(socket).negotiated()) {
                assertEquals(2, server.generation());
                // overlaps the first client's [0x10000, 0x12000): that one is unmapped, this one takes its place
                assertFalse(dmaMap(second, 0x11000, 0, 0x2000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd).isError());
                assertEquals(1, model.unmapped.size());
                assertEquals(0x10000, model.unmapped.get(0).iova());
                assertEquals(2, server.dma().regionCount());
                assertEquals(2, server.dma().find(0x11000, 0x2000).generation());
                assertEquals(1, server.dma().find(0x20000, 4).generation(), "a region it does not overlap stays");
                // overlap within one connection is still refused
                VfioUserMessage r = dmaMap(second, 0x12000, 0, 0x1000, DMA_FLAG_READ, memfd);
                assertError(Errno.EEXIST, r);
                assertEquals(2, server.dma().regionCount());
                // a reset by the current client drops what is left of the departed one, keeps its own
                VfioUserMessage reset = second.call(CMD_DEVICE_RESET, 0, m -> { });
                assertFalse(reset.isError());
                assertEquals(1, server.dma().regionCount());
                assertEquals(2, server.dma().regions()[0].generation());
            }
        } finally {
            Io.close(memfd);
        }
    }

    @Test
    void theModelDropsStaleRegionsWhenItSeesAReset() {
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x1000);
        try {
            try (RawClient first = new RawClient(socket).negotiated()) {
                assertFalse(dmaMap(first, 0x10000, 0, 0x1000, DMA_FLAG_READ, memfd).isError());
            }
            VfioUserDeviceTest.waitFor(() -> model.disconnects.get() == 1);
            try (RawClient second = new RawClient(socket).negotiated()) {
                assertFalse(dmaMap(second, 0x30000, 0, 0x1000, DMA_FLAG_READ, memfd).isError());
                assertEquals(1, server.dropStaleDma());
                assertEquals(1, server.dma().regionCount());
                assertEquals(0x30000, server.dma().regions()[0].iova());
            }
            VfioUserDeviceTest.waitFor(() -> model.disconnects.get() == 2);
            assertEquals(1, server.dropStaleDma(), "with no client every region is stale");
            assertEquals(0, server.dma().regionCount());
        } finally {
            Io.close(memfd);
        }
    }

    @Test
    void aRegionWhoseFileTheClientShrankIsNotIntact() {
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC); // not sealable
        Io.ftruncate(memfd, 0x2000);
        try (RawClient raw = new RawClient(socket).negotiated()) {
            assertFalse(dmaMap(raw, 0x10000, 0x1000, 0x1000, DMA_FLAG_READ, memfd).isError());
            DmaMemory.Region r = server.dma().find(0x10000, 4);
            assertTrue(r.intact());
            Io.ftruncate(memfd, 0x1800);
            assertFalse(r.intact(), "the file no longer covers [0x1000, 0x2000)");
        } finally {
            Io.close(memfd);
        }
    }

    @Test
    void aSealableMemfdIsSealedAgainstShrinkingAtDmaMap() {
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING);
        Io.ftruncate(memfd, 0x2000);
        try (RawClient raw = new RawClient(socket).negotiated()) {
            assertFalse(dmaMap(raw, 0x10000, 0, 0x2000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd).isError());
            io.jnic.sys.SysException e = org.junit.jupiter.api.Assertions.assertThrows(io.jnic.sys.SysException.class,
                    () -> Io.ftruncate(memfd, 0x1000));
            assertEquals(Errno.EPERM, e.errno(), "the client can no longer shrink what the device maps");
            server.dma().putInt(0x11000, 7); // still there
            assertEquals(7, server.dma().getInt(0x11000));
            assertTrue(server.dma().find(0x11000, 4).intact());
        } finally {
            Io.close(memfd);
        }
    }

    private static VfioUserMessage dmaMap(RawClient raw, long iova, long offset, long size, int flags, int... fds) {
        return raw.call(CMD_DMA_MAP, DmaMap.SIZE, m -> {
            m.putU32(DmaMap.ARGSZ, DmaMap.SIZE);
            m.putU32(DmaMap.FLAGS, flags);
            m.putU64(DmaMap.OFFSET, offset);
            m.putU64(DmaMap.ADDRESS, iova);
            m.putU64(DmaMap.SIZE_FIELD, size);
        }, fds);
    }

    private static VfioUserMessage dmaUnmap(RawClient raw, long iova, long size, int flags) {
        return raw.call(CMD_DMA_UNMAP, VfioUserLayout.DmaUnmap.SIZE, m -> {
            m.putU32(VfioUserLayout.DmaUnmap.ARGSZ, VfioUserLayout.DmaUnmap.SIZE);
            m.putU32(VfioUserLayout.DmaUnmap.FLAGS, flags);
            m.putU64(VfioUserLayout.DmaUnmap.ADDRESS, iova);
            m.putU64(VfioUserLayout.DmaUnmap.SIZE_FIELD, size);
        });
    }

    @Test
    void dmaUnmapOfARangeRemovesEveryMappingInsideItAsVfioType1Does() {
        server.close();
        server = new VfioUserServer(socket, model, new VfioUserServer.Config(4, 4096, 500, 16));
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x10000);
        try (RawClient raw = new RawClient(socket).negotiated()) {
            for (int i = 0; i < 4; i++) { // 4 pages at 0x10000, 0x12000, 0x14000, 0x16000, one without a descriptor
                VfioUserMessage r = i == 3 ? dmaMap(raw, 0x10000 + i * 0x2000L, 0, 0x1000, DMA_FLAG_READ | DMA_FLAG_WRITE)
                        : dmaMap(raw, 0x10000 + i * 0x2000L, i * 0x1000L, 0x1000, DMA_FLAG_READ | DMA_FLAG_WRITE, memfd);
                assertFalse(r.isError(), "map " + i + ": " + VfioUser.errnoName(r.error()));
            }
            assertEquals(4, server.dma().regionCount());
            // a range that cuts a mapping in two is refused and removes nothing
            assertError(Errno.EINVAL, dmaUnmap(raw, 0x10800, 0x4000, 0));
            assertEquals(4, server.dma().regionCount());
            // the range covering the first three (and the gaps between) removes exactly those
            VfioUserMessage r = dmaUnmap(raw, 0x10000, 0x6000, 0);
            assertFalse(r.isError(), VfioUser.errnoName(r.error()));
            assertEquals(0x10000, r.u64(VfioUserLayout.DmaUnmap.ADDRESS), "the reply echoes the request");
            assertEquals(0x6000, r.u64(VfioUserLayout.DmaUnmap.SIZE_FIELD));
            assertEquals(1, server.dma().regionCount());
            assertEquals(3, model.unmapped.size(), "the model heard of each");
            // the same range again: nothing inside, success (type1 unmaps 0 bytes)
            assertFalse(dmaUnmap(raw, 0x10000, 0x6000, 0).isError());
            assertError(Errno.EINVAL, dmaUnmap(raw, 0x10000, 0, 0));                                   // empty
            assertError(Errno.EOPNOTSUPP, dmaUnmap(raw, 0x10000, 0x1000, DMA_UNMAP_FLAG_GET_DIRTY_BITMAP));
            assertError(Errno.EINVAL, dmaUnmap(raw, 0x10000, 0x1000, DMA_UNMAP_FLAG_ALL));             // ALL needs 0, 0
            assertError(Errno.EINVAL, dmaUnmap(raw, 0, 0, 1 << 7));                                     // unknown flag
            // QEMU's unmap-all
            assertFalse(dmaUnmap(raw, 0, 0, DMA_UNMAP_FLAG_ALL).isError());
            assertEquals(0, server.dma().regionCount());
            assertEquals(4, model.unmapped.size());
            // and the client maps again what QEMU maps on a second run: no EEXIST
            assertFalse(dmaMap(raw, 0x10000, 0, 0x1000, DMA_FLAG_READ, memfd).isError());
        } finally {
            Io.close(memfd);
        }
    }

    @Test
    void aDmaMapWithoutADescriptorIsReadAndWrittenThroughMessagesByTheModel() throws Exception {
        long iova = 0x7000_0000L;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
                VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDeviceTest.CLIENT)) {
            MemorySegment guest = arena.allocate(0x4000);
            MemorySegment rom = arena.allocate(0x1000);
            guest.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0x10, 0x5eed);
            d.dmaMap(-1, 0, guest, iova, DMA_FLAG_READ | DMA_FLAG_WRITE);
            d.dmaMap(-1, 0, rom, iova + 0x10000, DMA_FLAG_READ);
            DmaMemory.Region region = server.dma().find(iova, 4);
            assertFalse(region.mapped(), "no descriptor, no mapping: " + region);
            assertEquals(0x5eed, server.dma().getInt(iova + 0x10));
            server.dma().putLong(iova + 0x20, 0x0102030405060708L);
            assertEquals(0x0102030405060708L, guest.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x20));
            // 10000 bytes through a server whose messages hold 4096: split into several DMA_WRITEs, read back whole
            byte[] block = new byte[10000];
            for (int i = 0; i < block.length; i++) {
                block[i] = (byte) (i * 7);
            }
            long before = server.dmaMessages();
            server.dma().write(iova + 0x100, MemorySegment.ofArray(block), 0, block.length);
            byte[] back = new byte[block.length];
            server.dma().read(iova + 0x100, MemorySegment.ofArray(back), 0, back.length);
            org.junit.jupiter.api.Assertions.assertArrayEquals(block, back);
            assertArrayEqualsAt(block, guest, 0x100);
            assertTrue(server.dmaMessages() - before >= 6, "split by the 4096-byte messages: " + (server.dmaMessages() - before));
            // the read-only map is refused before anything is sent; a range outside every map too
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> server.dma().putInt(iova + 0x10000, 1));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> server.dma().getInt(iova + 0x3ffe));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, region::segment);
            assertEquals(0, d.refusedServerRequests());
        }
        // the client left: the region stays (the device outlives its client) but nobody serves it
        VfioUserDeviceTest.waitFor(() -> model.disconnects.get() == 1);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> server.dma().getInt(iova));
        assertTrue(e.getMessage().contains("no client is connected"), e.getMessage());
    }

    private static void assertArrayEqualsAt(byte[] expected, MemorySegment memory, long at) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected,
                memory.asSlice(at, expected.length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void serverCloseEndsTheConnectionAndRemovesTheSocket() {
        VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDeviceTest.CLIENT);
        server.close();
        assertFalse(Files.exists(socket));
        VfioUserException e = org.junit.jupiter.api.Assertions.assertThrows(VfioUserException.class, () -> d.configRead(0, 2));
        assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
        d.close();
    }

    @Test
    void aPipeOfferedAsEventfdIsRefusedAndClosed() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            long baseline = openFds();
            int[] pipe = Io.pipe(0);
            assertError(Errno.EINVAL, raw.call(CMD_DEVICE_SET_IRQS, IrqSet.SIZE, m -> {
                m.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
                m.putU32(IrqSet.FLAGS, IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER);
                m.putU32(IrqSet.INDEX, PCI_INTX_IRQ_INDEX);
                m.putU32(IrqSet.COUNT, 1);
            }, pipe[1]));
            Io.close(pipe[0]);
            Io.close(pipe[1]);
            assertFalse(server.interruptEnabled(PCI_INTX_IRQ_INDEX, 0));
            assertFdsBackTo(baseline);
        }
    }

    @Test
    void aSecondServerCannotTakeALiveSocketPath() {
        TestDeviceModel other = new TestDeviceModel();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new VfioUserServer(socket, other));
        other.release();
        assertEquals("another vfio-user server is listening on " + socket, e.getMessage());
    }

    @Test
    void aClientThatNeverSaysVersionIsDroppedAndTheNextOneIsServed() {
        try (RawClient idle = new RawClient(socket)) {
            assertTrue(idle.closedByServer(), "dropped after the 500 ms I/O timeout");
        }
        assertEquals(1, server.droppedConnections());
        try (VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDeviceTest.CLIENT)) {
            assertEquals(VENDOR_ID, d.configRead(0, 2));
        }
    }

    @Test
    void aModelThatThrowsCostsOneRequestNotTheServer() {
        try (RawClient raw = new RawClient(socket).negotiated()) {
            model.broken = true;
            assertError(Errno.EIO, raw.call(CMD_DEVICE_GET_REGION_INFO, RegionInfo.SIZE, m -> m.putU32(RegionInfo.ARGSZ, 64)));
            model.broken = false;
            assertFalse(regionRead(raw, 2, 0, 4).isError());
        }
    }
}
