package io.jnic.pci.uio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.pci.PciAddress;
import io.jnic.pci.PciSysfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UIO's checks before anything is opened, on a made-up sysfs and /dev. */
class UioFakeTreeTest {
    @Test
    void boundDeviceWithoutUioNodeIsExplained(@TempDir Path dir) throws IOException {
        Path sys = dir.resolve("sys");
        Path dev = Files.createDirectories(dir.resolve("dev"));
        Path real = Files.createDirectories(sys.resolve("devices/pci0000:00/0000:00:04.0"));
        Files.createDirectories(sys.resolve("bus/pci/devices"));
        Files.createSymbolicLink(sys.resolve("bus/pci/devices/0000:00:04.0"), real);
        Path drv = Files.createDirectories(sys.resolve("bus/pci/drivers/uio_pci_generic"));
        Files.createSymbolicLink(real.resolve("driver"), drv);
        PciSysfs s = new PciSysfs(sys);
        PciAddress a = PciAddress.parse("00:04.0");

        IllegalStateException noUio = assertThrows(IllegalStateException.class, () -> UioPciDevice.checkUsable(s, dev, a));
        assertEquals("0000:00:04.0 is bound to uio_pci_generic but has no UIO device under " + s.deviceDir(a).resolve("uio")
                + " (does the device have an interrupt pin? uio_pci_generic needs INTx)", noUio.getMessage());

        Files.createDirectories(real.resolve("uio/uio3"));
        IllegalStateException noNode = assertThrows(IllegalStateException.class, () -> UioPciDevice.checkUsable(s, dev, a));
        assertEquals("no " + dev.resolve("uio3") + " for 0000:00:04.0 (is devtmpfs mounted?)", noNode.getMessage());

        Files.createFile(dev.resolve("uio3"));
        assertEquals(3, UioPciDevice.checkUsable(s, dev, a));
    }

    @Test
    void deviceOnAnotherDriverIsToldHowToBind(@TempDir Path dir) throws IOException {
        Path sys = dir.resolve("sys");
        Path real = Files.createDirectories(sys.resolve("devices/pci0000:00/0000:00:04.0"));
        Files.createDirectories(sys.resolve("bus/pci/devices"));
        Files.createSymbolicLink(sys.resolve("bus/pci/devices/0000:00:04.0"), real);
        Files.createDirectories(sys.resolve("bus/pci/drivers/uio_pci_generic"));
        Path drv = Files.createDirectories(sys.resolve("bus/pci/drivers/e1000e"));
        Files.createSymbolicLink(real.resolve("driver"), drv);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> UioPciDevice.checkUsable(new PciSysfs(sys), dir, PciAddress.parse("00:04.0")));
        assertEquals("cannot open 0000:00:04.0 with UIO: 0000:00:04.0 is bound to e1000e, not to uio_pci_generic: bind it "
                + "with `./jnic devbind --bind uio_pci_generic 0000:00:04.0` (or dpdk-devbind.py -b uio_pci_generic "
                + "0000:00:04.0)", e.getMessage());
    }
}
