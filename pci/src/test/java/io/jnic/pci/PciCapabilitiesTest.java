package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PciCapabilitiesTest {
    private static final PciSysfs HOST = new PciSysfs();

    private static long readableConfigBytes(PciDeviceInfo d) {
        try {
            return Files.readAllBytes(HOST.deviceDir(d.address()).resolve("config")).length;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Configuration space in a byte array: a device whose list we write ourselves. */
    static final class ArrayConfig implements PciConfigAccess {
        final byte[] b;

        ArrayConfig(int size) {
            b = new byte[size];
        }

        @Override
        public int configRead(int offset, int size) {
            PciConfigAccess.checkAccess("array", offset, size, b.length);
            int v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = (v << 8) | (b[offset + i] & 0xff);
            }
            return v;
        }

        @Override
        public void configWrite(int offset, int size, int value) {
            PciConfigAccess.checkAccess("array", offset, size, b.length);
            for (int i = 0; i < size; i++) {
                b[offset + i] = (byte) (value >>> (8 * i));
            }
        }

        @Override
        public int configSize() {
            return b.length;
        }

        void cap(int at, int id, int next) {
            configWrite(at, 1, id);
            configWrite(at + 1, 1, next);
        }
    }

    @Test
    void walksEveryHostDeviceAndCrossChecksMsixAgainstItsBars() {
        List<PciDeviceInfo> devices = HOST.scan();
        assumeTrue(!devices.isEmpty(), "no PCI devices visible in /sys/bus/pci/devices");
        // the kernel shows users without CAP_SYS_ADMIN only the 64-byte header of a device's config file
        long readable = readableConfigBytes(devices.get(0));
        assumeTrue(readable > 64, "only " + readable + " bytes of " + devices.get(0).address() + "'s config space are "
                + "readable by this user (the capabilities lie beyond): run the tests as root");
        int walked = 0;
        for (PciDeviceInfo d : devices) {
            try (SysfsConfig cfg = SysfsConfig.openReadOnly(HOST, d.address())) {
                PciCapabilities caps = PciCapabilities.read(cfg);
                boolean listed = (cfg.configRead(PciConfig.STATUS, 2) & PciConfig.STATUS_CAPABILITIES_LIST) != 0;
                assertEquals(listed, caps.all().stream().anyMatch(c -> !c.extended()), d + " " + caps);
                Set<Integer> offsets = new HashSet<>();
                for (PciCapability c : caps.all()) {
                    assertTrue(offsets.add(c.offset()), "offset repeats: " + caps);
                    assertTrue(c.extended() ? c.offset() >= 0x100 : c.offset() >= 0x40 && c.offset() < 0x100, c.toString());
                    assertEquals(c.id(), c.extended() ? c.read16(0) : c.read8(0), "raw access reads the id back");
                }
                caps.msix().ifPresent(m -> {
                    PciResource bar = d.bar(m.tableBir()).orElseThrow();
                    assertTrue(bar.isMemory(), d + ": MSI-X table BIR " + m.tableBir() + " is " + bar);
                    assertTrue(m.tableOffset() + (long) m.tableSize() * PciCapability.Msix.ENTRY_SIZE <= bar.size(),
                            d + ": MSI-X table of " + m.tableSize() + " entries at 0x" + Long.toHexString(m.tableOffset())
                                    + " does not fit " + bar);
                    assertTrue(m.pbaOffset() < d.bar(m.pbaBir()).orElseThrow().size());
                });
                // virtio 1.x functions describe their structures in vendor-specific caps (virtio spec 4.1.4):
                // cfg_type at +3 is 1..5 and bar at +4 names a memory BAR the device has.
                if (d.vendorId() == 0x1af4 && d.deviceId() >= 0x1040) {
                    List<PciCapability> vendor = caps.findAll(PciCapability.ID_VENDOR_SPECIFIC);
                    assertFalse(vendor.isEmpty(), d + " is modern virtio without vendor caps: " + caps);
                    for (PciCapability v : vendor) {
                        assertTrue(v.vendorLength() >= 16, v.toString());
                        int type = v.read8(3);
                        int bar = v.read8(4);
                        assertTrue(type >= 1 && type <= 9, v + " cfg_type " + type);
                        if (type != 5) { // 5 = PCI config access: its bar field is unused
                            assertTrue(d.bar(bar).orElseThrow().isMemory(), v + " names BAR" + bar);
                        }
                    }
                }
                walked++;
            }
        }
        assertEquals(devices.size(), walked);
    }

    @Test
    void decodesMsixMsiAndPcieFields() {
        ArrayConfig c = new ArrayConfig(PciConfig.CONVENTIONAL_SIZE);
        c.configWrite(PciConfig.STATUS, 2, PciConfig.STATUS_CAPABILITIES_LIST);
        c.configWrite(PciConfig.CAPABILITIES_POINTER, 1, 0x40);
        c.cap(0x40, PciCapability.ID_MSIX, 0x50);
        c.configWrite(0x42, 2, 4 | PciCapability.Msix.CONTROL_ENABLE); // 5 vectors
        c.configWrite(0x44, 4, 0x2000 | 3);
        c.configWrite(0x48, 4, 0x3000 | 3);
        c.cap(0x50, PciCapability.ID_MSI, 0x60);
        c.configWrite(0x52, 2, (2 << 1) | PciCapability.Msi.CONTROL_64BIT);
        c.cap(0x60, PciCapability.ID_PCI_EXPRESS, 0xa0);
        c.configWrite(0x62, 2, 0x2);
        c.configWrite(0x64, 4, PciCapability.PciExpress.DEVCAP_FLR);
        c.configWrite(0x60 + 0x12, 2, (4 << 4) | 3);
        c.cap(0xa0, PciCapability.ID_VENDOR_SPECIFIC, 0);
        c.configWrite(0xa2, 1, 16);

        PciCapabilities caps = PciCapabilities.read(c);
        assertEquals("[MSI-X@0x40, MSI@0x50, PCI Express@0x60, Vendor-Specific@0xa0]", caps.toString());
        PciCapability.Msix m = caps.msix().orElseThrow();
        assertEquals(5, m.tableSize());
        assertTrue(m.enabled());
        assertFalse(m.functionMasked());
        assertEquals(3, m.tableBir());
        assertEquals(0x2000, m.tableOffset());
        assertEquals(0x3000, m.pbaOffset());
        PciCapability.Msi msi = caps.msi().orElseThrow();
        assertEquals(4, msi.vectorsCapable());
        assertTrue(msi.is64Bit());
        assertFalse(msi.enabled());
        PciCapability.PciExpress e = caps.pciExpress().orElseThrow();
        assertEquals(2, e.capabilityVersion());
        assertEquals(PciCapability.PciExpress.TYPE_ENDPOINT, e.deviceType());
        assertTrue(e.functionLevelReset());
        assertEquals(3, e.linkSpeed());
        assertEquals(4, e.linkWidth());
        assertEquals(16, caps.find(PciCapability.ID_VENDOR_SPECIFIC).orElseThrow().vendorLength());
        // writes go through the access at the capability's offset
        m.cap().write16(PciCapability.Msix.MESSAGE_CONTROL, 4 | PciCapability.Msix.CONTROL_FUNCTION_MASK);
        assertTrue(m.functionMasked());
        assertFalse(m.enabled());
        IllegalStateException wrong = assertThrows(IllegalStateException.class,
                () -> caps.find(PciCapability.ID_MSI).orElseThrow().asMsix());
        assertEquals("capability MSI@0x50 is not MSI-X", wrong.getMessage());
    }

    @Test
    void brokenListsEndTheWalkInsteadOfLooping() {
        ArrayConfig loop = new ArrayConfig(PciConfig.CONVENTIONAL_SIZE);
        loop.configWrite(PciConfig.STATUS, 2, PciConfig.STATUS_CAPABILITIES_LIST);
        loop.configWrite(PciConfig.CAPABILITIES_POINTER, 1, 0x40);
        loop.cap(0x40, PciCapability.ID_MSI, 0x48);
        loop.cap(0x48, PciCapability.ID_MSIX, 0x40); // back to the first
        assertEquals("[MSI@0x40, MSI-X@0x48]", PciCapabilities.read(loop).toString());

        ArrayConfig intoHeader = new ArrayConfig(PciConfig.CONVENTIONAL_SIZE);
        intoHeader.configWrite(PciConfig.STATUS, 2, PciConfig.STATUS_CAPABILITIES_LIST);
        intoHeader.configWrite(PciConfig.CAPABILITIES_POINTER, 1, 0x40);
        intoHeader.cap(0x40, PciCapability.ID_MSI, 0x10); // points into the BARs
        assertEquals("[MSI@0x40]", PciCapabilities.read(intoHeader).toString());

        ArrayConfig noList = new ArrayConfig(PciConfig.CONVENTIONAL_SIZE);
        noList.configWrite(PciConfig.CAPABILITIES_POINTER, 1, 0x40);
        noList.cap(0x40, PciCapability.ID_MSI, 0);
        assertTrue(PciCapabilities.read(noList).all().isEmpty(), "status bit 4 clear means no list");
    }

    @Test
    void walksExtendedCapabilitiesWhenFourKilobytesAreReachable() {
        ArrayConfig c = new ArrayConfig(PciConfig.EXTENDED_SIZE);
        c.configWrite(0x100, 4, PciCapability.EXT_ID_AER | (1 << 16) | (0x140 << 20));
        c.configWrite(0x140, 4, PciCapability.EXT_ID_SRIOV | (1 << 16) | (0x100 << 20)); // loops back
        PciCapabilities caps = PciCapabilities.read(c);
        assertEquals("[AER@0x100, SR-IOV@0x140]", caps.toString());
        assertEquals(1, caps.findExtended(PciCapability.EXT_ID_SRIOV).orElseThrow().version());
        IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                () -> caps.findExtended(PciCapability.EXT_ID_SRIOV).orElseThrow().read32(0x1000 - 0x140));
        assertTrue(out.getMessage().contains("fall outside configuration space (4096 bytes)"), out.getMessage());

        ArrayConfig none = new ArrayConfig(PciConfig.EXTENDED_SIZE);
        none.configWrite(0x100, 4, -1); // all ones: no extended space
        assertTrue(PciCapabilities.read(none).all().isEmpty());
    }
}
