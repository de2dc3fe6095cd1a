package io.jnic.driver.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.TestBuffers;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import io.jnic.pci.PciIoBar;
import io.jnic.sys.Proc;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy interface against an in-test register file that behaves as QEMU's legacy virtio-pci (I/O BAR0,
 * 4.1.4.8): the register sequence of the init, feature negotiation without FEATURES_OK, fixed queue sizes, the
 * queue page frame, the ring in the legacy layout as the device derives it, and the refusals a user meets.
 */
class LegacyPciTransportTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final AtomicInteger N = new AtomicInteger();
    private static final byte[] MAC = {0x52, 0x54, 0, 0, 0, 0x07};
    /** What QEMU's legacy virtio-net offers by default (subset): MAC, MRG_RXBUF, STATUS, CTRL_VQ, ANY_LAYOUT, EVENT_IDX. */
    private static final long HOST = Virtio.bit(VirtioNetSpec.F_MAC) | Virtio.bit(VirtioNetSpec.F_MRG_RXBUF)
            | Virtio.bit(VirtioNetSpec.F_STATUS) | Virtio.bit(Virtio.F_ANY_LAYOUT) | Virtio.bit(Virtio.F_EVENT_IDX)
            | Virtio.bit(Virtio.F_NOTIFY_ON_EMPTY);

    /** Registers of a legacy device: what is written, what reads return; every access is logged. */
    static final class FakeIo implements PciIoBar {
        final List<String> log = new ArrayList<>();
        final List<Integer> notified = new ArrayList<>();
        final Map<Integer, Integer> queueNum = new HashMap<>();
        final Map<Integer, Integer> pfn = new HashMap<>();
        final byte[] config = new byte[12];
        long host;
        int guest;
        int sel;
        int status;
        int size = 0x20;

        @Override
        public int index() {
            return 0;
        }

        @Override
        public long size() {
            return size;
        }

        private int read(String w, long off) {
            int v = switch ((int) off) {
                case LegacyPciTransport.HOST_FEATURES -> (int) host;
                case LegacyPciTransport.GUEST_FEATURES -> guest;
                case LegacyPciTransport.QUEUE_PFN -> pfn.getOrDefault(sel, 0);
                case LegacyPciTransport.QUEUE_NUM -> queueNum.getOrDefault(sel, 0);
                case LegacyPciTransport.QUEUE_SEL -> sel;
                case LegacyPciTransport.STATUS -> status;
                case LegacyPciTransport.ISR -> 0;
                default -> {
                    int c = (int) off - LegacyPciTransport.CONFIG_OFFSET;
                    int r = 0;
                    int width = w.equals("8") ? 1 : w.equals("16") ? 2 : 4;
                    for (int i = 0; i < width; i++) {
                        r |= (config[c + i] & 0xFF) << (8 * i);
                    }
                    yield r;
                }
            };
            if (off != LegacyPciTransport.QUEUE_NUM && off != LegacyPciTransport.QUEUE_SEL) {
                log.add("r" + w + " " + Long.toHexString(off));
            }
            return v;
        }

        private void write(String w, long off, int v) {
            switch ((int) off) {
                case LegacyPciTransport.GUEST_FEATURES -> guest = v;
                case LegacyPciTransport.QUEUE_PFN -> pfn.put(sel, v);
                case LegacyPciTransport.QUEUE_SEL -> sel = v;
                case LegacyPciTransport.QUEUE_NOTIFY -> notified.add(v);
                case LegacyPciTransport.STATUS -> {
                    status = v;
                    if (v == 0) {
                        pfn.clear();
                        guest = 0;
                    }
                }
                default -> throw new AssertionError("write to read-only or unknown register 0x" + Long.toHexString(off));
            }
            if (off != LegacyPciTransport.QUEUE_SEL && off != LegacyPciTransport.QUEUE_NOTIFY) {
                log.add("w" + w + " " + Long.toHexString(off) + "=" + Integer.toHexString(v));
            }
        }

        @Override
        public int read8(long offset) {
            return read("8", offset) & 0xFF;
        }

        @Override
        public int read16(long offset) {
            return read("16", offset) & 0xFFFF;
        }

        @Override
        public int read32(long offset) {
            return read("32", offset);
        }

        @Override
        public void write8(long offset, int value) {
            write("8", offset, value & 0xFF);
        }

        @Override
        public void write16(long offset, int value) {
            write("16", offset, value & 0xFFFF);
        }

        @Override
        public void write32(long offset, int value) {
            write("32", offset, value);
        }
    }

    /** A transitional virtio-net (1af4:1000) with an I/O BAR0 and no virtio capabilities. */
    record LegacyDevice(ModernPciTransportTest.Config c, FakeIo io, PciDevice.DmaAddressing addressing) implements PciDevice {
        static LegacyDevice of(int bar0, DmaAddressing addressing) {
            ModernPciTransportTest.Config c = new ModernPciTransportTest.Config(0x1af4, 0x1000);
            c.put32(0x10, bar0);
            return new LegacyDevice(c, new FakeIo(), addressing);
        }

        public String name() { return "0000:00:07.0"; }
        public String transport() { return "test"; }
        public DmaAddressing dmaAddressing() { return addressing; }
        public int configRead(int offset, int size) { return c.configRead(offset, size); }
        public void configWrite(int offset, int size, int value) { c.configWrite(offset, size, value); }
        public PciBar bar(int index) { throw new IllegalArgumentException("no memory BAR" + index); }
        public PciIoBar ioBar(int index) { return io; }
        public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) { }
        public void dmaUnmap(long iova, long size) { }
        public int interruptCount(InterruptType type) { return 0; }
        public void enableInterrupts(InterruptType type, int[] eventfds) { }
        public void disableInterrupts(InterruptType type) { }
        public void reset() { }
        public void close() { }
    }

    @TempDir
    Path dir;
    MemoryGroup mem;

    @BeforeEach
    void setUp() {
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("lg" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                .runtimeDir(dir).noHuge().size(4L << 20).iovaMode(IovaMode.ASSIGNED).build());
    }

    @AfterEach
    void tearDown() {
        mem.close();
    }

    private static LegacyDevice netDevice() {
        LegacyDevice d = LegacyDevice.of(0xc001, PciDevice.DmaAddressing.PHYSICAL);
        d.io().host = HOST;
        d.io().queueNum.put(0, 128); // receiveq
        d.io().queueNum.put(1, 64); // transmitq
        System.arraycopy(MAC, 0, d.io().config, 0, 6);
        d.io().config[6] = 1; // link up
        return d;
    }

    /**
     * virtio-net's whole init over the legacy interface: reset, ACKNOWLEDGE, DRIVER, 32-bit features, no
     * FEATURES_OK, queues at the device's fixed sizes given as page frames, DRIVER_OK; then a frame the device
     * writes into the used ring where a legacy device puts it (found from QUEUE_PFN and QUEUE_NUM alone).
     */
    @Test
    void virtioNetStartsOverTheLegacyRegisters() {
        LegacyDevice d = netDevice();
        FakeIo io = d.io();
        LegacyPciTransport t = new LegacyPciTransport(d, io, mem);
        TestBuffers bufs = new TestBuffers(mem.reserve("bufs", 256L * 2048, 4096), 2048);
        VirtioNet net = VirtioNet.open(t, mem, bufs, new VirtioNet.Config("lg", 1, 256, true));

        long accepted = HOST & ~Virtio.bit(Virtio.F_NOTIFY_ON_EMPTY);
        assertEquals(accepted, net.features());
        assertEquals(List.of("w8 12=0", "r8 12", "r8 12", "w8 12=1", "w8 12=3", "r32 0", "w32 4=" + Long.toHexString(accepted)),
                io.log.subList(0, 7), "reset (polled), ACKNOWLEDGE, DRIVER, features; no FEATURES_OK: " + io.log);
        Memzone rxZone = mem.find("lg_vq0").orElseThrow();
        Memzone txZone = mem.find("lg_vq1").orElseThrow();
        assertEquals(List.of("r32 8", "w32 8=" + Long.toHexString(rxZone.iova(0) >>> 12), "r32 8",
                "r32 8", "w32 8=" + Long.toHexString(txZone.iova(0) >>> 12), "r32 8"),
                io.log.stream().filter(s -> s.contains(" 8")).toList(), "queue page frames, checked free and read back");
        assertEquals("w8 12=7", io.log.stream().filter(s -> s.startsWith("w8 12")).reduce((a, b) -> b).orElseThrow(),
                "DRIVER_OK without FEATURES_OK");
        assertEquals(128, net.rx(0).virtqueue().size(), "the device's size, not the 256 asked for");
        assertEquals(64, net.tx(0).virtqueue().size());
        assertEquals(List.of(0), io.notified, "the receive ring was filled and the device told once");
        assertArrayEquals(MAC, net.mac());
        assertTrue(net.linkUp());

        // the device's side: from the page frame and the size only (legacy layout, 4096-aligned used ring)
        int num = 128;
        long base = (long) io.pfn.get(0) << 12;
        assertEquals(rxZone.iova(0), base);
        MemorySegment ring = rxZone.memory();
        long availOff = 16L * num;
        long usedOff = (availOff + 2L * (3 + num) + 4095) & ~4095L;
        assertEquals(num, Short.toUnsignedInt(ring.get(U16, availOff + 2)), "avail idx after the refill");
        int head = Short.toUnsignedInt(ring.get(U16, availOff + 4));
        long bufIova = ring.get(U64, 16L * head);
        byte[] frame = new byte[64];
        for (int i = 0; i < frame.length; i++) {
            frame[i] = (byte) (i * 7 + 1);
        }
        long bufOff = bufIova - mem.find("bufs").orElseThrow().iova(0);
        MemorySegment b = bufs.memory();
        b.asSlice(bufOff, 12).fill((byte) 0);
        b.set(U16, bufOff + VirtioNetSpec.HDR_NUM_BUFFERS, (short) 1);
        MemorySegment.copy(frame, 0, b, ValueLayout.JAVA_BYTE, bufOff + 12, frame.length);
        ring.set(U32, usedOff + 4, head);
        ring.set(U32, usedOff + 8, 12 + frame.length);
        ring.set(U16, usedOff + 2, (short) 1);
        long[] tokens = new long[4];
        int[] lengths = new int[4];
        assertEquals(1, net.rx(0).receive(tokens, lengths, 4));
        byte[] got = new byte[lengths[0]];
        MemorySegment.copy(b, ValueLayout.JAVA_BYTE, bufs.offset(tokens[0]) + VirtioNetSpec.HDR_SIZE, got, 0, got.length);
        assertArrayEquals(frame, got);
        bufs.free(tokens[0]);

        net.close();
        assertEquals(0, io.status, "reset on close");
        assertEquals(bufs.capacity(), bufs.available(), "every buffer back");
    }

    @Test
    void deviceWithoutMergeableBuffersIsRefusedWithTheReason() {
        LegacyDevice d = netDevice();
        d.io().host = HOST & ~Virtio.bit(VirtioNetSpec.F_MRG_RXBUF);
        LegacyPciTransport t = new LegacyPciTransport(d, d.io(), mem);
        TestBuffers bufs = new TestBuffers(mem.reserve("bufs", 64L * 2048, 4096), 2048);
        VirtioException e = assertThrows(VirtioException.class,
                () -> VirtioNet.open(t, mem, bufs, new VirtioNet.Config("lg", 1, 256, true)));
        assertTrue(e.getMessage().startsWith("0000:00:07.0: the device lacks required features MRG_RXBUF (it offers "),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("; over the legacy interface jnic needs MRG_RXBUF (the 12-byte header) and"
                + " ANY_LAYOUT (header and frame in one descriptor), which QEMU offers unless mrg_rxbuf=off or"
                + " any_layout=off"), e.getMessage());
        assertEquals(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FAILED, d.io().status);
    }

    @Test
    void queueSizeLayoutAndAddressAreChecked() {
        LegacyDevice d = netDevice();
        LegacyPciTransport t = new LegacyPciTransport(d, d.io(), mem);
        Memzone z = mem.reserve("q", SplitVirtqueue.legacyBytes(128), 4096);
        VirtioException size = assertThrows(VirtioException.class,
                () -> t.setupQueue(SplitVirtqueue.legacy(0, 64, z.memory(), z.iova(0), false)));
        assertEquals("0000:00:07.0: queue 0 has 128 entries, fixed by the legacy device; a ring of 64 cannot be used",
                size.getMessage());
        VirtioException modern = assertThrows(VirtioException.class,
                () -> t.setupQueue(new SplitVirtqueue(0, 128, z.memory(), z.iova(0), false, 0)));
        assertEquals("0000:00:07.0: queue 0 is laid out for virtio 1.x; a legacy device needs SplitVirtqueue.legacy (used"
                + " ring 4096-aligned)", modern.getMessage());
        VirtioException high = assertThrows(VirtioException.class,
                () -> t.setupQueue(SplitVirtqueue.legacy(0, 128, z.memory(), 1L << 44, false)));
        assertEquals("0000:00:07.0: queue 0 at 0x100000000000 cannot be given to a legacy device, which takes a 32-bit page"
                + " frame number (4096-aligned, below 16 TB)", high.getMessage());
        VirtioException none = assertThrows(VirtioException.class,
                () -> t.setupQueue(SplitVirtqueue.legacy(5, 128, z.memory(), z.iova(0), false)));
        assertEquals("0000:00:07.0: the device has no queue 5", none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SplitVirtqueue.legacy(0, 128, z.memory(), z.iova(0) + 64, false),
                "a legacy ring starts on a page");
        assertEquals(2, t.maxQueues());
        assertFalse(d.io().pfn.containsKey(0), "nothing was enabled by the refused attempts");
    }

    @Test
    void configurationReadsStayInsideTheBar() {
        LegacyDevice d = netDevice();
        LegacyPciTransport t = new LegacyPciTransport(d, d.io(), mem);
        assertEquals(0x5452, t.readConfig(0, 2));
        assertEquals(0x07, t.readConfig(5, 1));
        VirtioException e = assertThrows(VirtioException.class, () -> t.readConfig(10, 4));
        assertEquals("0000:00:07.0: the legacy device configuration ends at port 0x20, cannot read 4 bytes at offset 10",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.driverFeatures(Virtio.bit(Virtio.F_VERSION_1)));
    }

    @Test
    void legacyDeviceWithAssignedIovasIsRefusedBeforeAnythingIsWritten() {
        LegacyDevice d = LegacyDevice.of(0xc001, PciDevice.DmaAddressing.IOVA);
        VirtioException e = assertThrows(VirtioException.class, () -> LegacyPciTransport.open(d, mem));
        assertEquals("0000:00:07.0 is a legacy virtio device: it cannot negotiate ACCESS_PLATFORM, so it DMAs with physical"
                + " addresses, bypassing any IOMMU; the memory group uses IOVA mode ASSIGNED, whose addresses it would"
                + " misread: create the group with IOVA mode PHYSICAL (hugepages, as root), or use a modern device (QEMU:"
                + " disable-legacy=on, iommu_platform=on behind a vIOMMU)", e.getMessage());
        assertTrue(d.io().log.isEmpty(), "no register touched: " + d.io().log);
        assertEquals(0, d.c().configRead(0x04, 2), "command register untouched");
    }

    @Test
    void deviceWithoutIoBarIsExplained() {
        LegacyDevice mem32 = LegacyDevice.of(0xfe000000, PciDevice.DmaAddressing.PHYSICAL);
        VirtioException e = assertThrows(VirtioException.class, () -> LegacyPciTransport.open(mem32, mem));
        assertEquals("0000:00:07.0 (1af4:1000) has no I/O BAR0 (BAR0 is a memory BAR), where the legacy virtio interface"
                + " lives; and no virtio 1.x capabilities either: it cannot be driven (QEMU: leave disable-legacy off for"
                + " a legacy device)", e.getMessage());
        VirtioException kind = assertThrows(VirtioException.class, () -> VirtioPciTransports.kind(mem32));
        assertEquals("0000:00:07.0 (1af4:1000) has neither virtio 1.x capabilities nor a legacy I/O BAR0: it is no virtio"
                + " PCI device jnic can drive", kind.getMessage());

        ModernPciTransportTest.Config modernOnly = new ModernPciTransportTest.Config(0x1af4, 0x1041);
        VirtioException m = assertThrows(VirtioException.class,
                () -> LegacyPciTransport.open(new LegacyDevice(modernOnly, new FakeIo(), PciDevice.DmaAddressing.IOVA), mem));
        assertEquals("0000:00:07.0 (1af4:1041) has no legacy virtio interface: only transitional devices (1af4:1000-103f)"
                + " have one; a modern device (1af4:1040-107f) is driven by ModernPciTransport", m.getMessage());
    }

    @Test
    void theTransportIsChosenByWhatTheDeviceDeclares() {
        assertEquals(VirtioPciTransports.Kind.LEGACY, VirtioPciTransports.kind(netDevice()));
        ModernPciTransportTest.Config c = new ModernPciTransportTest.Config(0x1af4, 0x1000);
        c.put32(0x10, 0xc001); // transitional: I/O BAR0 and the virtio 1.x capabilities
        c.virtio(1, 4, 0x0000, 0x1000, 0);
        c.virtio(3, 4, 0x1000, 0x1000, 0);
        c.virtio(2, 4, 0x3000, 0x1000, 4);
        assertEquals(VirtioPciTransports.Kind.MODERN,
                VirtioPciTransports.kind(new LegacyDevice(c, new FakeIo(), PciDevice.DmaAddressing.IOVA)));
    }
}
