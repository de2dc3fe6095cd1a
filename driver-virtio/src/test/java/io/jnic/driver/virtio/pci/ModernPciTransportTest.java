package io.jnic.driver.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.driver.virtio.VirtioException;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciCapabilities;
import io.jnic.pci.PciConfigAccess;
import io.jnic.pci.PciDevice;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The capability walk that finds the virtio structures, on a configuration space laid out as QEMU's
 * virtio-net-pci lays it out, plus the refusals a user meets with the wrong device. (The register sequence
 * itself needs a real device: the QEMU test bed.)
 */
class ModernPciTransportTest {
    /** Configuration space with a chain of capabilities written into it. */
    static final class Config implements PciConfigAccess {
        final byte[] b = new byte[256];
        int next = 0x40;
        int last = -1;

        Config(int vendor, int device) {
            put16(0, vendor);
            put16(2, device);
            put16(6, 1 << 4); // capabilities list
        }

        void put16(int o, int v) {
            b[o] = (byte) v;
            b[o + 1] = (byte) (v >> 8);
        }

        void put32(int o, int v) {
            put16(o, v);
            put16(o + 2, v >>> 16);
        }

        int cap(int id, int len) {
            int at = next;
            b[at] = (byte) id;
            b[at + 2] = (byte) len;
            if (last < 0) {
                b[0x34] = (byte) at;
            } else {
                b[last + 1] = (byte) at;
            }
            last = at;
            next = (at + len + 3) & ~3;
            return at;
        }

        void virtio(int type, int bar, int off, int len, int mult) {
            int at = cap(0x09, type == 2 ? 20 : 16);
            b[at + 3] = (byte) type;
            b[at + 4] = (byte) bar;
            put32(at + 8, off);
            put32(at + 12, len);
            if (type == 2) {
                put32(at + 16, mult);
            }
        }

        @Override
        public int configRead(int offset, int size) {
            int v = 0;
            for (int i = 0; i < size; i++) {
                v |= (b[offset + i] & 0xFF) << (8 * i);
            }
            return v;
        }

        @Override
        public void configWrite(int offset, int size, int value) {
            for (int i = 0; i < size; i++) {
                b[offset + i] = (byte) (value >> (8 * i));
            }
        }
    }

    /** A device that has nothing but configuration space. */
    record ConfigOnly(Config c) implements PciDevice {
        public String name() { return "0000:00:03.0"; }
        public String transport() { return "test"; }
        public DmaAddressing dmaAddressing() { return DmaAddressing.IOVA; }
        public int configRead(int offset, int size) { return c.configRead(offset, size); }
        public void configWrite(int offset, int size, int value) { c.configWrite(offset, size, value); }
        public PciBar bar(int index) { throw new IllegalArgumentException("no BAR" + index); }
        public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) { }
        public void dmaUnmap(long iova, long size) { }
        public int interruptCount(InterruptType type) { return 0; }
        public void enableInterrupts(InterruptType type, int[] eventfds) { }
        public void disableInterrupts(InterruptType type) { }
        public void reset() { }
        public void close() { }
    }

    @Test
    void findsTheStructuresQemuDeclares() {
        Config c = new Config(0x1af4, 0x1041);
        c.cap(0x11, 12); // MSI-X first, as QEMU does
        c.virtio(1, 4, 0x0000, 0x1000, 0);
        c.virtio(3, 4, 0x1000, 0x1000, 0);
        c.virtio(4, 4, 0x2000, 0x1000, 0);
        c.virtio(2, 4, 0x3000, 0x1000, 4);
        c.virtio(5, 0, 0, 0, 0); // PCI cfg access: not used
        c.virtio(1, 2, 0x0, 0x100, 0); // a second common cfg: the first one wins (4.1.4)
        List<ModernPciTransport.Region> r = ModernPciTransport.regions(PciCapabilities.read(c));
        assertEquals(List.of(new ModernPciTransport.Region(1, 4, 0, 0x1000, 0),
                new ModernPciTransport.Region(3, 4, 0x1000, 0x1000, 0),
                new ModernPciTransport.Region(4, 4, 0x2000, 0x1000, 0),
                new ModernPciTransport.Region(2, 4, 0x3000, 0x1000, 4)), r);
    }

    @Test
    void reservedBarsAndShortCapabilitiesAreIgnored() {
        Config c = new Config(0x1af4, 0x1041);
        c.virtio(1, 6, 0, 0x1000, 0); // BAR 6 is reserved
        int at = c.cap(0x09, 8); // too short for virtio_pci_cap
        c.b[at + 3] = 1;
        assertEquals(List.of(), ModernPciTransport.regions(PciCapabilities.read(c)));
    }

    @Test
    void refusesDevicesItCannotDrive() {
        VirtioException e = assertThrows(VirtioException.class,
                () -> ModernPciTransport.open(new ConfigOnly(new Config(0x8086, 0x10fb)), null));
        assertEquals("0000:00:03.0 (8086:10fb) is not a virtio device (vendor 1af4, device 1000-107f)", e.getMessage());
        Config legacy = new Config(0x1af4, 0x1000);
        legacy.cap(0x11, 12);
        e = assertThrows(VirtioException.class, () -> ModernPciTransport.open(new ConfigOnly(legacy), null));
        assertEquals("0000:00:03.0 (1af4:1000) has no virtio 1.x common configuration capability: it is a legacy-only"
                + " device; open it with LegacyPciTransport (VirtioPciTransports.open and the net_virtio driver choose it"
                + " by themselves)",
                e.getMessage());
    }

    /** A modern device whose BAR4 is plain memory, behind a "vfio" transport with an IOMMU. */
    record VfioLike(Config c, MemorySegment bar4) implements PciDevice {
        public String name() { return "0000:00:03.0"; }
        public String transport() { return "vfio"; }
        public DmaAddressing dmaAddressing() { return DmaAddressing.IOVA; }
        public int configRead(int offset, int size) { return c.configRead(offset, size); }
        public void configWrite(int offset, int size, int value) { c.configWrite(offset, size, value); }
        public PciBar bar(int index) {
            return new io.jnic.pci.MappedBar(name(), index, bar4.byteSize(), List.of(new io.jnic.pci.MappedBar.Window(0, bar4))) {
                @Override
                protected int trappedRead32(long offset) { throw new AssertionError(); }
                @Override
                protected void trappedWrite32(long offset, int value) { throw new AssertionError(); }
            };
        }
        public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) { }
        public void dmaUnmap(long iova, long size) { }
        public int interruptCount(InterruptType type) { return 0; }
        public void enableInterrupts(InterruptType type, int[] eventfds) { }
        public void disableInterrupts(InterruptType type) { }
        public void reset() { }
        public void close() { }
    }

    @Test
    void behindVfioTheDeviceMustUseTheIommu(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Config c = new Config(0x1af4, 0x1041);
        c.virtio(1, 4, 0x0000, 0x1000, 0);
        c.virtio(3, 4, 0x1000, 0x1000, 0);
        c.virtio(4, 4, 0x2000, 0x1000, 0);
        c.virtio(2, 4, 0x3000, 0x1000, 4);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
                io.jnic.memory.MemoryGroup mem = io.jnic.memory.MemoryGroup.create(io.jnic.memory.MemoryConfig.builder()
                        .filePrefix("mp" + io.jnic.sys.Proc.getpid() + "_").runtimeDir(dir).noHuge().size(1L << 20)
                        .iovaMode(io.jnic.memory.IovaMode.ASSIGNED).build())) {
            MemorySegment bar = arena.allocate(0x4000, 4096);
            ModernPciTransport t = ModernPciTransport.open(new VfioLike(c, bar), mem);
            VirtioException e = assertThrows(VirtioException.class,
                    () -> t.driverFeatures(io.jnic.driver.virtio.Virtio.bit(io.jnic.driver.virtio.Virtio.F_VERSION_1)));
            assertEquals("0000:00:03.0: the device does not offer (or the driver did not accept) VIRTIO_F_ACCESS_PLATFORM,"
                    + " so it would DMA with physical addresses around the IOMMU that VFIO maps our IOVAs in: give the"
                    + " device iommu_platform=on (QEMU), or bind it to uio_pci_generic", e.getMessage());
            assertEquals(0, bar.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, ModernPciTransport.DRIVER_FEATURE),
                    "nothing written by the refused call");
            t.driverFeatures(io.jnic.driver.virtio.Virtio.bit(io.jnic.driver.virtio.Virtio.F_VERSION_1)
                    | io.jnic.driver.virtio.Virtio.bit(io.jnic.driver.virtio.Virtio.F_ACCESS_PLATFORM));
            assertEquals(3, bar.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, ModernPciTransport.DRIVER_FEATURE)
                    & 0x3, "high half written last: select 1, features >> 32 = VERSION_1|ACCESS_PLATFORM");
        }
    }
}
