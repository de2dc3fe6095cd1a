package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.TestDeviceModel.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against the server framework with {@link TestDeviceModel}: every message type, end to end. */
class VfioUserDeviceTest {
    static final VfioUserDevice.Config CLIENT = VfioUserDevice.Config.defaults().withTimeoutMillis(2000);
    private static final VarHandle INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    @TempDir
    Path dir;
    Path socket;
    TestDeviceModel model;
    VfioUserServer server;

    @BeforeEach
    void start() {
        socket = dir.resolve("dev.sock");
        model = new TestDeviceModel();
        server = new VfioUserServer(socket, model, new VfioUserServer.Config(3, 64, 500, 16));
    }

    @AfterEach
    void stop() {
        server.close();
        model.release();
    }

    @Test
    void connectNegotiatesAndReadsTheLayout() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            assertEquals("vfio-user", d.transport());
            assertEquals(socket.toString(), d.name());
            assertEquals(VfioUser.DEVICE_FLAGS_PCI | VfioUser.DEVICE_FLAGS_RESET, d.deviceFlags());
            assertEquals(VfioUser.PCI_NUM_REGIONS, d.regionCount());
            assertEquals(VfioUser.PCI_NUM_IRQS, d.irqCount());
            assertEquals(3, d.serverMaxMsgFds());
            assertEquals(64, d.serverMaxDataXferSize());
            assertEquals(BAR0_SIZE, d.bar(0).size());
            assertEquals(List.of(new SparseArea(DOORBELL_OFFSET, DOORBELL_SIZE)), d.region(0).sparseAreas());
            assertEquals(List.of(new SparseArea(DOORBELL_OFFSET, DOORBELL_SIZE)), d.vfioUserBar(0).mappedAreas());
            assertEquals(BAR2_SIZE, d.bar(2).size());
            assertTrue(d.vfioUserBar(2).mappedAreas().isEmpty());
            assertNull(d.region(1));
            assertEquals(256, d.region(VfioUser.PCI_CONFIG_REGION_INDEX).size());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.bar(1));
            assertEquals(socket + " has no BAR 1 (BARs: [0, 2])", e.getMessage());
            assertEquals(1, model.connects.get());
        }
        waitFor(() -> model.disconnects.get() == 1);
    }

    @Test
    void configSpaceReadsAndWritesEverySize() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            assertEquals(VENDOR_ID, d.configRead(0, 2));
            assertEquals(DEVICE_ID, d.configRead(2, 2));
            assertEquals(VENDOR_ID | DEVICE_ID << 16, d.configRead(0, 4));
            assertEquals(0x86, d.configRead(0, 1));
            d.configWrite(0x40, 4, 0xdeadbeef);
            d.configWrite(0x44, 2, 0x1234);
            d.configWrite(0x46, 1, 0x56);
            assertEquals(0xdeadbeef, model.config.get(ValueLayout.JAVA_INT_UNALIGNED, 0x40));
            assertEquals(0x561234, d.configRead(0x44, 4));
        }
    }

    @Test
    void configAccessOutsideTheRegionIsRejectedClientSide() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            int before = model.trappedAccesses.get();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.configRead(254, 4));
            assertEquals("config space access at 0xfe of 4 bytes outside the 0x100 bytes of " + socket, e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> d.configWrite(0, 3, 0));
            assertEquals(before, model.trappedAccesses.get(), "nothing reached the server");
        }
    }

    @Test
    void trappedBarRegistersGoThroughMessages() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            PciBar bar2 = d.bar(2);
            int before = model.trappedAccesses.get();
            bar2.write32(0x10, 0xcafef00d);
            assertEquals(0xcafef00d, model.bar2.get(ValueLayout.JAVA_INT_UNALIGNED, 0x10));
            model.bar2.set(ValueLayout.JAVA_INT_UNALIGNED, 0x20, 0x11223344);
            assertEquals(0x11223344, bar2.read32(0x20));
            assertEquals(before + 2, model.trappedAccesses.get());
            // BAR0 outside its sparse area is trapped too
            d.bar(0).write32(0x100, 77);
            assertEquals(77, model.bar0.get(ValueLayout.JAVA_INT_UNALIGNED, 0x100));
            assertEquals(before + 3, model.trappedAccesses.get());
            assertFalse(d.bar(0).isMapped(0x100, 4));
        }
    }

    @Test
    void noTrappedReadWaitsOutItsTimeoutWhenItsReplyCame() {
        // The reader thread may take a reply between the requester's last look and its own turn at the socket; the
        // requester then must not wait for it on the socket. That race hit ~1 read in 5000 here, each then waiting
        // the whole timeout before it returned the value the reader had handed over.
        long timeoutMs = 10_000;
        try (VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDevice.Config.defaults().withTimeoutMillis((int) timeoutMs))) {
            PciBar bar2 = d.bar(2);
            model.bar2.set(ValueLayout.JAVA_INT_UNALIGNED, 0x20, 0x5a5a_1234);
            for (int i = 0; i < 20_000; i++) {
                long t = System.nanoTime();
                assertEquals(0x5a5a_1234, bar2.read32(0x20));
                long ms = (System.nanoTime() - t) / 1_000_000;
                assertTrue(ms < timeoutMs, "read " + i + " returned its value after " + ms + " ms, its whole timeout");
            }
        }
    }

    @Test
    void barAccessOutOfBoundsIsRejectedClientSide() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            PciBar bar2 = d.bar(2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bar2.read32(BAR2_SIZE));
            assertEquals("BAR2 of " + socket + ": offset 0x1000 outside its 0x1000 bytes", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> bar2.write32(-4, 0));
            e = assertThrows(IllegalArgumentException.class, () -> bar2.read32(2));
            assertEquals("BAR2 of " + socket + ": offset 0x2 is not 4-byte aligned", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> d.bar(0).mapped(0x1000, 8));
            assertTrue(e.getMessage().startsWith("BAR0 of " + socket + ": [0x1000, +8) is not inside a mapped area"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> d.readRegion(2, BAR2_SIZE - 4, MemorySegment.ofArray(new byte[8])));
            assertEquals("access to [0xffc, +8) outside region 2 of 0x1000 bytes of " + socket, e.getMessage());
        }
    }

    @Test
    void sparseMmapAreaIsSharedWithTheServer() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            PciBar bar0 = d.bar(0);
            assertTrue(bar0.isMapped(DOORBELL_OFFSET, DOORBELL_SIZE));
            assertFalse(bar0.isMapped(DOORBELL_OFFSET - 4, 8));
            MemorySegment doorbells = bar0.mapped(DOORBELL_OFFSET, DOORBELL_SIZE);
            int before = model.trappedAccesses.get();
            INT.setVolatile(doorbells, 0x18L, 0x5a5a1234);
            assertEquals(0x5a5a1234, model.bar0.get(ValueLayout.JAVA_INT_UNALIGNED, DOORBELL_OFFSET + 0x18));
            model.bar0.set(ValueLayout.JAVA_INT_UNALIGNED, DOORBELL_OFFSET + 0x40, 99);
            assertEquals(99, bar0.read32(DOORBELL_OFFSET + 0x40));
            bar0.write32(DOORBELL_OFFSET + 0x44, 100);
            assertEquals(100, model.bar0.get(ValueLayout.JAVA_INT_UNALIGNED, DOORBELL_OFFSET + 0x44));
            assertEquals(before, model.trappedAccesses.get(), "mapped accesses send no message");
            // another process would map the same page from the BAR's descriptor
            VfioUserDevice.Region r0 = d.region(0);
            MemorySegment again = Mman.mmap(DOORBELL_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED,
                    d.barDescriptor(0), r0.offset() + DOORBELL_OFFSET);
            try {
                assertEquals(0x5a5a1234, again.get(ValueLayout.JAVA_INT_UNALIGNED, 0x18));
            } finally {
                Mman.munmap(again);
            }
            assertEquals(-1, d.barDescriptor(2), "trapped only");
        }
    }

    @Test
    void largeRegionTransfersAreSplitByMaxDataXferSize() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT); Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(1000);
            for (int i = 0; i < 1000; i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            int before = model.trappedAccesses.get();
            d.writeRegion(2, 24, src);
            assertEquals(before + 16, model.trappedAccesses.get(), "1000 bytes in messages of at most 64");
            MemorySegment back = arena.allocate(1000);
            d.readRegion(2, 24, back);
            assertArrayEquals(src.toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(src.toArray(ValueLayout.JAVA_BYTE), model.bar2.asSlice(24, 1000).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void dmaMapOfAMemfdLetsTheServerWriteClientMemory() {
        int memfd = Mman.memfdCreate("test-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x20000);
        MemorySegment mem = Mman.mmap(0x20000, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memfd, 0);
        long iova = 0x4000_0000L;
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            MemorySegment window = mem.asSlice(0x10000, 0x10000);
            d.dmaMap(memfd, 0x10000, window, iova);
            assertEquals(1, server.dma().regionCount());
            assertEquals(iova, model.mapped.get(0).iova());
            server.dma().putLong(iova + 0x100, 0x0123456789abcdefL);
            assertEquals(0x0123456789abcdefL, window.get(ValueLayout.JAVA_LONG_UNALIGNED, 0x100));
            window.set(ValueLayout.JAVA_INT_UNALIGNED, 0x200, 4242);
            assertEquals(4242, server.dma().getInt(iova + 0x200));
            MemorySegment packet = MemorySegment.ofArray(new byte[] {1, 2, 3, 4, 5});
            server.dma().write(iova + 0xfffb, packet, 0, 5);
            assertEquals(5, window.get(ValueLayout.JAVA_BYTE, 0xffff));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> server.dma().getLong(iova + 0xfffc));
            assertTrue(e.getMessage().startsWith("DMA to [0x4000fffc, +8) outside the memory the client mapped"), e.getMessage());
            // the same range again is refused before it is sent
            assertThrows(IllegalArgumentException.class, () -> d.dmaMap(memfd, 0, mem.asSlice(0, 0x1000), iova + 0x1000));
            d.dmaUnmap(iova, 0x10000);
            assertEquals(0, server.dma().regionCount());
            assertEquals(1, model.unmapped.size());
            d.dmaUnmap(iova, 0x10000); // nothing left inside: VFIO type1 answers success, and so does the server
            assertEquals(1, model.unmapped.size());
        } finally {
            Mman.munmap(mem);
            Io.close(memfd);
        }
    }

    @Test
    void dmaRegionsOutliveTheClientAndGoWithTheServer() {
        int memfd = Mman.memfdCreate("test-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x1000);
        MemorySegment mem = Mman.mmap(0x1000, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memfd, 0);
        try {
            VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT);
            d.dmaMap(memfd, 0, mem, 0x1000);
            DmaMemory.Region r = server.dma().find(0x1000, 4);
            assertNotNull(r);
            d.close();
            waitFor(() -> model.disconnects.get() == 1);
            assertEquals(1, server.dma().regionCount(), "the device keeps the memory of a departed client");
            mem.set(ValueLayout.JAVA_INT, 0, 99);
            assertEquals(99, r.segment().get(ValueLayout.JAVA_INT, 0));
            server.close();
            assertEquals(0, server.dma().regionCount());
            assertThrows(IllegalStateException.class, () -> r.segment().get(ValueLayout.JAVA_INT, 0),
                    "a stale region fails, it does not touch unmapped memory");
        } finally {
            Mman.munmap(mem);
            Io.close(memfd);
        }
    }

    @Test
    void msixVectorThreeSignalsItsEventfd() {
        int[] efds = new int[MSIX_VECTORS];
        for (int i = 0; i < efds.length; i++) {
            efds[i] = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        }
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            assertEquals(MSIX_VECTORS, d.interruptCount(InterruptType.MSIX));
            assertEquals(1, d.interruptCount(InterruptType.INTX));
            assertEquals(0, d.interruptCount(InterruptType.MSI));
            assertEquals(VfioUser.IRQ_INFO_EVENTFD | VfioUser.IRQ_INFO_NORESIZE, d.irqInfo(VfioUser.PCI_MSIX_IRQ_INDEX).flags());
            d.enableInterrupts(InterruptType.MSIX, efds); // 8 eventfds, server takes 3 per message
            for (int v = 0; v < MSIX_VECTORS; v++) {
                assertTrue(server.interruptEnabled(VfioUser.PCI_MSIX_IRQ_INDEX, v), "vector " + v);
            }
            assertTrue(server.trigger(VfioUser.PCI_MSIX_IRQ_INDEX, 3));
            for (int v = 0; v < MSIX_VECTORS; v++) {
                assertEquals(v == 3 ? 1 : -1, Events.eventfdRead(efds[v]), "vector " + v);
            }
            d.disableInterrupts(InterruptType.MSIX);
            assertFalse(server.trigger(VfioUser.PCI_MSIX_IRQ_INDEX, 3));
            VfioUserException e = assertThrows(VfioUserException.class,
                    () -> d.enableInterrupts(InterruptType.INTX, new int[] {efds[0], efds[1]}));
            assertEquals(Errno.EINVAL, e.errno());
        } finally {
            for (int fd : efds) {
                Io.close(fd);
            }
        }
    }

    @Test
    void resetReachesTheModel() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            d.bar(2).write32(0, 5);
            d.reset();
            assertEquals(1, model.resets.get());
            assertEquals(0, d.bar(2).read32(0));
        }
    }

    @Test
    void modelErrorsComeBackAsErrnoAndTheConnectionStaysUsable() {
        try (VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> d.bar(2).read32(BAR2_POISON));
            assertEquals(Errno.EINVAL, e.errno());
            assertEquals(VfioUser.CMD_REGION_READ, e.command());
            assertEquals("VFIO_USER_REGION_READ: server " + socket + " replied with error EINVAL", e.getMessage());
            e = assertThrows(VfioUserException.class, () -> d.bar(2).write32(BAR2_POISON, 1));
            assertEquals(Errno.EIO, e.errno());
            assertEquals(VENDOR_ID, d.configRead(0, 2), "still connected");
        }
    }

    @Test
    void aSecondClientIsRefusedWhileOneIsServed() {
        try (VfioUserDevice first = VfioUserDevice.connect(socket, CLIENT)) {
            VfioUserException e = assertThrows(VfioUserException.class, () -> VfioUserDevice.connect(socket, CLIENT));
            // refused at once: the VERSION exchange meets a closed connection (on send or on receive)
            assertTrue(e.getMessage().startsWith("VFIO_USER_VERSION: ") && e.getMessage().contains("closed the connection"),
                    e.getMessage());
            assertEquals(1, server.refusedConnections());
            assertEquals(VENDOR_ID, first.configRead(0, 2));
        }
        try (VfioUserDevice again = VfioUserDevice.connect(socket, CLIENT)) {
            assertEquals(VENDOR_ID, again.configRead(0, 2));
        }
    }

    @Test
    void closedDeviceSaysSo() {
        VfioUserDevice d = VfioUserDevice.connect(socket, CLIENT);
        d.close();
        d.close();
        VfioUserException e = assertThrows(VfioUserException.class, () -> d.configRead(0, 2));
        assertEquals("VFIO_USER_REGION_READ: " + socket + " is closed", e.getMessage());
    }

    @Test
    void connectingToNothingNamesTheSocket() {
        Path nowhere = dir.resolve("nobody.sock");
        VfioUserException e = assertThrows(VfioUserException.class, () -> VfioUserDevice.connect(nowhere, CLIENT));
        assertTrue(e.getMessage().startsWith("cannot connect to vfio-user server " + nowhere + ": connect("), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
    }

    static void waitFor(java.util.function.BooleanSupplier condition) {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 5 s");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
