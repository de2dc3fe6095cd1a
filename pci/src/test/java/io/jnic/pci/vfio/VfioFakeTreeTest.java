package io.jnic.pci.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciAddress;
import io.jnic.pci.PciSysfs;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VFIO's checks before any ioctl, on a made-up sysfs and /dev/vfio. */
class VfioFakeTreeTest {
    private static Path device(Path sys, String addr, String driver) throws IOException {
        Path real = sys.resolve("devices/pci0000:00").resolve(addr);
        Files.createDirectories(real);
        Files.createDirectories(sys.resolve("bus/pci/devices"));
        Files.createSymbolicLink(sys.resolve("bus/pci/devices").resolve(addr), real);
        if (driver != null) {
            Path d = sys.resolve("bus/pci/drivers").resolve(driver);
            Files.createDirectories(d);
            Files.createSymbolicLink(real.resolve("driver"), d);
        }
        return real;
    }

    @Test
    void unboundDeviceAndMissingIommuGroupAreExplained(@TempDir Path dir) throws IOException {
        Path sys = dir.resolve("sys");
        Path dev = Files.createDirectories(dir.resolve("dev/vfio"));
        Files.createFile(dev.resolve("vfio"));
        device(sys, "0000:00:04.0", null);
        device(sys, "0000:00:05.0", "vfio-pci");
        PciSysfs s = new PciSysfs(sys);

        VfioException unbound = assertThrows(VfioException.class,
                () -> VfioPciDevice.checkUsable(s, dev, PciAddress.parse("00:04.0")));
        assertEquals("cannot open 0000:00:04.0 with VFIO: 0000:00:04.0 is not bound to any driver, not to vfio-pci: "
                + "bind it with `./jnic devbind --bind vfio-pci 0000:00:04.0` (or dpdk-devbind.py -b vfio-pci 0000:00:04.0)",
                unbound.getMessage());
        VfioException noGroup = assertThrows(VfioException.class,
                () -> VfioPciDevice.checkUsable(s, dev, PciAddress.parse("00:05.0")));
        assertEquals("cannot open 0000:00:05.0 with VFIO: 0000:00:05.0 has no IOMMU group: enable the IOMMU "
                + "(intel_iommu=on / amd_iommu=on) or VFIO's no-IOMMU mode (enable_unsafe_noiommu_mode=1 of module vfio)",
                noGroup.getMessage());
    }

    @Test
    void noiommuGroupsAreFoundUnderTheirOwnName(@TempDir Path dev) throws IOException {
        Files.createFile(dev.resolve("noiommu-7"));
        try (VfioGroup g = VfioGroup.open(dev, 7)) {
            assertTrue(g.noiommu());
            assertEquals(7, g.number());
            // a plain file is no VFIO group: the kernel's answer comes through as the call's errno
            SysException e = assertThrows(SysException.class, g::status);
            assertTrue(e.getMessage().contains("ENOTTY"), e.getMessage());
        }
    }
}
