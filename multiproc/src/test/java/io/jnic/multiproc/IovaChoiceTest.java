package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.memory.IovaMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --iova-mode and its detection, on a fake sysfs tree (never this machine's devices). */
class IovaChoiceTest {
    @TempDir
    Path sys;

    @BeforeEach
    void fakeSysfs() throws IOException {
        System.setProperty(IovaChoice.SYSFS_PROPERTY, sys.toString());
        bind("0000:07:00.0", "uio_pci_generic");
        bind("0000:07:00.1", "vfio-pci");
        Files.createDirectories(sys.resolve("bus/pci/devices/0000:07:00.2")); // bound to nothing
    }

    @AfterEach
    void clear() {
        System.clearProperty(IovaChoice.SYSFS_PROPERTY);
    }

    private void bind(String addr, String driver) throws IOException {
        Path drv = Files.createDirectories(sys.resolve("bus/pci/drivers").resolve(driver));
        Path dev = Files.createDirectories(sys.resolve("bus/pci/devices").resolve(addr));
        Files.createSymbolicLink(dev.resolve("driver"), drv);
        Files.createSymbolicLink(drv.resolve(addr), dev);
    }

    @Test
    void aUioDeviceToProbeNeedsPhysicalAddresses() {
        assertEquals(Optional.of(IovaMode.PHYSICAL), IovaChoice.choose(Optional.empty(), List.of("0000:07:00.0"), List.of()));
        assertEquals(Optional.of(IovaMode.PHYSICAL), IovaChoice.choose(Optional.empty(), List.of(), List.of()),
                "without -a every UIO-bound device is probed");
    }

    @Test
    void vfioUnboundOrBlockedDevicesLeaveTheDefault() {
        assertEquals(Optional.empty(), IovaChoice.choose(Optional.empty(), List.of("0000:07:00.1"), List.of()));
        assertEquals(Optional.empty(), IovaChoice.choose(Optional.empty(), List.of("0000:07:00.2,x=1"), List.of()));
        assertEquals(Optional.empty(), IovaChoice.choose(Optional.empty(), List.of(), List.of("0000:07:00.0")));
    }

    @Test
    void theEalOptionFollowsDpdk() {
        assertEquals(Optional.of(IovaMode.PHYSICAL), EalOptions.parse().iovaMode());
        assertEquals(Optional.empty(), EalOptions.parse("--no-huge").iovaMode(),
                "4 KB pages have no stable physical addresses: the UIO device is refused at probe instead");
        assertEquals(Optional.of(IovaMode.ASSIGNED), EalOptions.parse("--iova-mode", "va").iovaMode());
        assertEquals(Optional.of(IovaMode.PHYSICAL), EalOptions.parse("-b", "0000:07:00.0", "--iova-mode", "pa").iovaMode());
        var e = assertThrows(RuntimeException.class, () -> EalOptions.parse("--iova-mode", "iova"));
        assertTrue(e.getMessage().contains("'iova' is not an IOVA mode: pa (physical addresses, for UIO) or va (IOVAs "
                + "the IOMMU maps, for VFIO)"), e.getMessage());
    }

    @Test
    void whatTheUserAskedForWins() {
        assertEquals(Optional.of(IovaMode.ASSIGNED),
                IovaChoice.choose(Optional.of(IovaMode.ASSIGNED), List.of("0000:07:00.0"), List.of()));
    }
}
