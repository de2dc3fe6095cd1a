package io.jnic.apps.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.ethdev.EthDriver;
import io.jnic.multiproc.EalOptions;
import io.jnic.pci.PciSysfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which devices a primary probes without -a, on a sysfs look-alike (the host's devices are never probed here). */
class PciScanTest {
    private static final List<EthDriver.PciId> IDS = List.of(new EthDriver.PciId(0x8086, 0x10fb, "82599ES"),
            new EthDriver.PciId(0x1af4, 0x1041, "virtio-net"));

    /** devices/ADDR with its ids, and a driver link when {@code driver} is not null. */
    private static void device(Path sys, String addr, int vendor, int device, String driver) throws IOException {
        Path dir = Files.createDirectories(sys.resolve("bus/pci/devices").resolve(addr));
        Files.writeString(dir.resolve("vendor"), String.format("0x%04x%n", vendor));
        Files.writeString(dir.resolve("device"), String.format("0x%04x%n", device));
        Files.writeString(dir.resolve("subsystem_vendor"), "0x0000\n");
        Files.writeString(dir.resolve("subsystem_device"), "0x0000\n");
        Files.writeString(dir.resolve("class"), "0x020000\n");
        if (driver != null) {
            Path d = Files.createDirectories(sys.resolve("bus/pci/drivers").resolve(driver));
            Files.createSymbolicLink(dir.resolve("driver"), d);
        }
    }

    private static PciSysfs tree(Path dir) throws IOException {
        device(dir, "0000:00:03.0", 0x1af4, 0x1041, "virtio-pci");  // the machine's own NIC: kernel driver
        device(dir, "0000:03:00.0", 0x8086, 0x10fb, "vfio-pci");
        device(dir, "0000:03:00.1", 0x8086, 0x10fb, "uio_pci_generic");
        device(dir, "0000:04:00.0", 0x8086, 0x1533, "vfio-pci");    // an i210: no jnic driver takes it
        device(dir, "0000:05:00.0", 0x1af4, 0x1041, "vfio-pci");
        device(dir, "0000:06:00.0", 0x8086, 0x10fb, null);
        return new PciSysfs(dir);
    }

    @Test
    void withoutAllowEveryBoundDeviceADriverTakesIsProbedInAddressOrder(@TempDir Path dir) throws IOException {
        assertEquals(List.of("0000:03:00.0", "0000:03:00.1", "0000:05:00.0"),
                PciScan.select(List.of(), List.of(), tree(dir), IDS));
    }

    @Test
    void blockExcludesAndAllowNamesTheOnlyDevices(@TempDir Path dir) throws IOException {
        PciSysfs sys = tree(dir);
        EalOptions b = EalOptions.parse("-b", "03:00.1", "-b", "0000:05:00.0");
        assertEquals(List.of("0000:03:00.0"), PciScan.select(b.allow(), b.block(), sys, IDS));
        EalOptions a = EalOptions.parse("-a", "5:00.0", "-a", "0000:06:00.0,x=1");
        assertEquals(List.of("0000:05:00.0", "0000:06:00.0,x=1"), PciScan.select(a.allow(), a.block(), sys, IDS));
    }

    @Test
    void noBoundDeviceMeansNoneAndTheSimulatedPortsStart(@TempDir Path dir) throws IOException {
        device(dir, "0000:00:03.0", 0x1af4, 0x1041, "virtio-pci");
        assertEquals(List.of(), PciScan.select(List.of(), List.of(), new PciSysfs(dir), IDS));
        assertEquals(List.of(), PciScan.select(List.of(), List.of(), new PciSysfs(dir.resolve("none")), IDS));
        // what a test JVM scans: an empty tree, whatever this machine has bound
        PortOptions o = new PortOptions();
        assertEquals(List.of(), o.pciDevices(EalOptions.parse()));
        assertEquals(List.of("0000:03:00.0"), o.pciDevices(EalOptions.parse("-a", "3:00.0")));
    }
}
