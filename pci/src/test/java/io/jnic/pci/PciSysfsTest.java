package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host's real sysfs is only read here; writes go to a fake tree. */
class PciSysfsTest {
    private static final PciSysfs HOST = new PciSysfs();

    @Test
    void scanOfTheHostAgreesWithEachDevicesConfigSpace() throws IOException {
        List<PciDeviceInfo> devices = HOST.scan();
        assumeTrue(!devices.isEmpty(), "this machine shows no PCI devices in /sys/bus/pci/devices");
        for (PciDeviceInfo d : devices) {
            assertEquals(d.sysfsPath(), HOST.deviceDir(d.address()));
            try (SysfsConfig cfg = SysfsConfig.openReadOnly(HOST, d.address())) {
                assertEquals(d.vendorId(), cfg.configRead(PciConfig.VENDOR_ID, 2), d.toString());
                assertEquals(d.deviceId(), cfg.configRead(PciConfig.DEVICE_ID, 2), d.toString());
                assertEquals(d.classCode(), cfg.configRead(PciConfig.REVISION_ID, 4) >>> 8, d.toString());
                if ((cfg.configRead(PciConfig.HEADER_TYPE, 1) & PciConfig.HEADER_TYPE_MASK) == PciConfig.HEADER_TYPE_NORMAL) {
                    assertEquals(d.subsystemVendorId(), cfg.configRead(PciConfig.SUBSYSTEM_VENDOR_ID, 2), d.toString());
                    checkBarsAgainstConfig(d, cfg);
                }
            }
            Path driverLink = d.sysfsPath().resolve("driver");
            assertEquals(Files.isSymbolicLink(driverLink) ? Files.readSymbolicLink(driverLink).getFileName().toString() : null,
                    d.driver());
            assertTrue(d.numaNode() >= -1);
        }
    }

    /** A memory BAR's address in config space (low bits are flags; 64-bit BARs span two registers) is the resource start. */
    private static void checkBarsAgainstConfig(PciDeviceInfo d, SysfsConfig cfg) {
        for (int i = 0; i < 6; i++) {
            PciResource r = d.bar(i).orElseThrow();
            if (!r.isMemory()) {
                continue;
            }
            int lo = cfg.configRead(PciConfig.BAR0 + 4 * i, 4);
            long addr = lo & ~0xfL;
            if (((lo >> 1) & 3) == 2) {
                addr = (addr & 0xffffffffL) | ((long) cfg.configRead(PciConfig.BAR0 + 4 * (i + 1), 4) << 32);
                assertTrue(r.is64Bit(), r.toString());
            } else {
                addr &= 0xffffffffL;
            }
            assertEquals(r.start(), addr, d.address() + " " + r);
            assertEquals((lo & 8) != 0, r.isPrefetchable(), r.toString());
        }
    }

    @Test
    void fakeTreeIsReadLikeTheKernelsOne(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        f.device("0000:00:04.0", 0x8086, 0x10d3, 0x020000, "e1000e");
        f.iommuGroup("0000:00:04.0", 4);
        f.device("0000:01:00.0", 0x1af4, 0x1041, 0x020000, null);
        PciSysfs s = f.sysfs();
        List<PciDeviceInfo> all = s.scan();
        assertEquals(2, all.size());
        PciDeviceInfo e = all.get(0);
        assertEquals("0000:00:04.0 8086:10d3 class 020000 driver=e1000e iommu_group=4", e.toString());
        assertTrue(e.isNetwork());
        assertEquals(0xfe000000L, e.bar(0).orElseThrow().start());
        assertEquals(0x20000, e.bar(0).orElseThrow().size());
        assertTrue(e.bar(0).orElseThrow().isMemory());
        assertTrue(e.bar(1).orElseThrow().isIo());
        assertEquals(0, e.bar(2).orElseThrow().size());
        assertNull(all.get(1).driver());
        assertEquals(-1, all.get(1).iommuGroup());
        assertTrue(s.driverLoaded("e1000e"));
        assertFalse(s.driverLoaded("vfio-pci"));
    }

    @Test
    void onlyDevicesBoundToUserspaceDriversAreOffered(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        f.device("0000:00:04.0", 0x8086, 0x10d3, 0x020000, "e1000e");
        f.device("0000:03:00.1", 0x8086, 0x10fb, 0x020000, "uio_pci_generic");
        f.device("0000:03:00.0", 0x8086, 0x10fb, 0x020000, "vfio-pci");
        f.device("0000:05:00.0", 0x1af4, 0x1041, 0x020000, null);
        f.device("0000:06:00.0", 0x1af4, 0x1000, 0x020000, "igb_uio");
        List<PciDeviceInfo> bound = f.sysfs().boundToUserspace();
        assertEquals(List.of("0000:03:00.0", "0000:03:00.1", "0000:06:00.0"),
                bound.stream().map(d -> d.address().toString()).toList());
        assertEquals("vfio-pci", bound.get(0).driver());
        assertEquals(List.of(), new FakeSysfs(dir.resolve("empty")).sysfs().boundToUserspace());
        assertEquals(List.of(), new PciSysfs(dir.resolve("no-such-root")).boundToUserspace());
    }

    @Test
    void missingDeviceSaysWhereItLooked(@TempDir Path dir) {
        PciSysfs s = new FakeSysfs(dir).sysfs();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.device(PciAddress.parse("00:09.0")));
        assertEquals("no PCI device 0000:00:09.0 (no " + s.devicesDir().resolve("0000:00:09.0")
                + "); `devbind --status` lists the devices", e.getMessage());
    }

    @Test
    void malformedAttributeIsNamed(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        Path d = f.device("0000:00:04.0", 0x8086, 0x10d3, 0x020000, null);
        FakeSysfs.write(d.resolve("vendor"), "intel\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.sysfs().scan());
        assertTrue(e.getMessage().endsWith("vendor is not hexadecimal: 'intel'"), e.getMessage());
    }

    @Test
    void readOnlyConfigRefusesWritesAndChecksBounds() {
        List<PciDeviceInfo> devices = HOST.scan();
        assumeTrue(!devices.isEmpty(), "no PCI devices visible");
        try (SysfsConfig cfg = SysfsConfig.openReadOnly(HOST, devices.get(0).address())) {
            IllegalStateException w = assertThrows(IllegalStateException.class, () -> cfg.configWrite(PciConfig.COMMAND, 2, 0));
            assertTrue(w.getMessage().endsWith("was opened read-only; open it with SysfsConfig.open to write"), w.getMessage());
            IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> cfg.configRead(cfg.configSize() - 2, 4));
            assertTrue(r.getMessage().contains("is outside the " + cfg.configSize() + "-byte configuration space"), r.getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> cfg.configRead(0, 3)).getMessage()
                    .contains("size must be 1, 2 or 4 bytes, not 3"));
        }
    }
}
