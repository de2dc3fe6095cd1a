package io.jnic.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The kernel's view of PCI under a sysfs root ({@code /sys} normally; a directory tree in tests):
 * devices, their attributes and resources, the bound driver, IOMMU groups and the loaded drivers.
 * Reading only: changing bindings is {@link PciDriverBinder}'s job.
 */
public final class PciSysfs {
    public static final Path DEFAULT_ROOT = Path.of("/sys");
    /**
     * The kernel drivers that hand a device to userspace: a device bound to one of them is free for a
     * userspace driver to take (DPDK probes exactly these); any other driver means the kernel uses it.
     */
    public static final List<String> USERSPACE_DRIVERS = List.of("vfio-pci", "uio_pci_generic", "igb_uio");

    private final Path root;

    public PciSysfs() {
        this(DEFAULT_ROOT);
    }

    public PciSysfs(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path devicesDir() {
        return root.resolve("bus/pci/devices");
    }

    public Path driversDir() {
        return root.resolve("bus/pci/drivers");
    }

    public Path deviceDir(PciAddress address) {
        return devicesDir().resolve(address.toString());
    }

    public boolean exists(PciAddress address) {
        return Files.isDirectory(deviceDir(address));
    }

    /** Whether the kernel has a PCI driver of that name registered (its module is loaded or built in). */
    public boolean driverLoaded(String driver) {
        return Files.isDirectory(driversDir().resolve(driver));
    }

    /** Every PCI function, sorted by address. */
    public List<PciDeviceInfo> scan() {
        List<PciDeviceInfo> out = new ArrayList<>();
        if (!Files.isDirectory(devicesDir())) {
            return out;
        }
        try (Stream<Path> s = Files.list(devicesDir())) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (PciAddress.isValid(name)) {
                    out.add(read(PciAddress.parse(name)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + devicesDir(), e);
        }
        out.sort((a, b) -> a.address().compareTo(b.address()));
        return out;
    }

    /**
     * The functions bound to a {@linkplain #USERSPACE_DRIVERS userspace driver}, sorted by address: what a
     * primary probes when no device is named (DPDK's PCI bus scan). Functions bound to kernel drivers, such
     * as the machine's own network and disk controllers, are never in it.
     */
    public List<PciDeviceInfo> boundToUserspace() {
        List<PciDeviceInfo> out = new ArrayList<>();
        if (!Files.isDirectory(devicesDir())) {
            return out;
        }
        try (Stream<Path> s = Files.list(devicesDir())) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!PciAddress.isValid(name)) {
                    continue;
                }
                String driver = driver(PciAddress.parse(name));
                if (driver != null && USERSPACE_DRIVERS.contains(driver)) {
                    out.add(read(PciAddress.parse(name)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + devicesDir(), e);
        }
        out.sort((a, b) -> a.address().compareTo(b.address()));
        return out;
    }

    public Optional<PciDeviceInfo> find(PciAddress address) {
        return exists(address) ? Optional.of(read(address)) : Optional.empty();
    }

    /** The device at {@code address}; an exception saying where it looked when there is none. */
    public PciDeviceInfo device(PciAddress address) {
        if (!exists(address)) {
            throw new IllegalArgumentException("no PCI device " + address + " (no " + deviceDir(address)
                    + "); `devbind --status` lists the devices");
        }
        return read(address);
    }

    /** The bound driver's name, or null. */
    public String driver(PciAddress address) {
        return linkName(deviceDir(address).resolve("driver"));
    }

    /** The IOMMU group number, or -1. */
    public int iommuGroup(PciAddress address) {
        String g = linkName(deviceDir(address).resolve("iommu_group"));
        return g == null ? -1 : Integer.parseInt(g);
    }

    /** Reads a one-line attribute such as "vendor", stripped; empty when absent. */
    public Optional<String> attribute(PciAddress address, String name) {
        return readLine(deviceDir(address).resolve(name));
    }

    private PciDeviceInfo read(PciAddress a) {
        Path dir = deviceDir(a);
        return new PciDeviceInfo(a,
                hex(dir, "vendor"), hex(dir, "device"), hex(dir, "subsystem_vendor"), hex(dir, "subsystem_device"),
                hex(dir, "class"), driver(a), iommuGroup(a),
                readLine(dir.resolve("numa_node")).map(Integer::parseInt).orElse(-1),
                resources(dir.resolve("resource")), dir);
    }

    /** Parses a sysfs {@code resource} file: "start end flags" in hex per line, line i is resource i. */
    static List<PciResource> resources(Path file) {
        List<PciResource> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        for (int i = 0; i < lines.size() && i <= PciResource.ROM_INDEX; i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length != 3) {
                throw new IllegalStateException(file + " line " + (i + 1) + " is not 'start end flags': " + lines.get(i));
            }
            out.add(new PciResource(i, Long.parseUnsignedLong(strip0x(f[0]), 16),
                    Long.parseUnsignedLong(strip0x(f[1]), 16), Long.parseUnsignedLong(strip0x(f[2]), 16)));
        }
        return out;
    }

    private static int hex(Path dir, String name) {
        Path p = dir.resolve(name);
        String s = readLine(p).orElseThrow(() -> new IllegalStateException("sysfs attribute " + p + " is missing"));
        try {
            return Integer.parseUnsignedInt(strip0x(s), 16);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("sysfs attribute " + p + " is not hexadecimal: '" + s + "'", e);
        }
    }

    private static String strip0x(String s) {
        return s.startsWith("0x") || s.startsWith("0X") ? s.substring(2) : s;
    }

    static Optional<String> readLine(Path p) {
        try {
            return Optional.of(Files.readString(p, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    static String linkName(Path link) {
        try {
            return Files.readSymbolicLink(link).getFileName().toString();
        } catch (NoSuchFileException | java.nio.file.NotLinkException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read link " + link, e);
        }
    }
}
