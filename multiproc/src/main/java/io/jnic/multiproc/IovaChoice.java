package io.jnic.multiproc;

import io.jnic.memory.IovaMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * DPDK's IOVA mode choice (--iova-mode pa|va, else detected): a device bound to a UIO driver is given
 * physical addresses, so the group's memory must then be made of them; otherwise VFIO, vfio-user and virtual
 * devices take assigned IOVAs. Only the devices this process would probe count: the -a ones, or without -a
 * every device bound to a UIO driver, less the -b ones.
 */
final class IovaChoice {
    /** Kernel drivers that hand devices physical addresses (no IOMMU translation). */
    static final List<String> UIO_DRIVERS = List.of("uio_pci_generic", "igb_uio");
    /** The same test hook as the apps' PCI scan: a fake sysfs tree. */
    static final String SYSFS_PROPERTY = "jnic.pci.sysfs";

    private IovaChoice() {
    }

    /** The mode asked for, else PHYSICAL when a device to probe is bound to a UIO driver, else empty (the default). */
    static Optional<IovaMode> choose(Optional<IovaMode> asked, List<String> allow, List<String> block) {
        if (asked.isPresent()) {
            return asked;
        }
        Path pci = Path.of(System.getProperty(SYSFS_PROPERTY, "/sys")).resolve("bus/pci");
        if (!allow.isEmpty()) {
            for (String a : allow) {
                String addr = a.split(",", 2)[0];
                if (UIO_DRIVERS.contains(driverOf(pci.resolve("devices").resolve(addr)))) {
                    return Optional.of(IovaMode.PHYSICAL);
                }
            }
            return Optional.empty();
        }
        for (String d : UIO_DRIVERS) {
            try (Stream<Path> s = Files.list(pci.resolve("drivers").resolve(d))) {
                if (s.map(p -> p.getFileName().toString()).anyMatch(n -> n.matches("[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]")
                        && !block.contains(n))) {
                    return Optional.of(IovaMode.PHYSICAL);
                }
            } catch (IOException noSuchDriver) {
                // not loaded: nothing bound to it
            }
        }
        return Optional.empty();
    }

    private static String driverOf(Path device) {
        try {
            return Files.readSymbolicLink(device.resolve("driver")).getFileName().toString();
        } catch (IOException | UnsupportedOperationException unbound) {
            return "";
        }
    }
}
