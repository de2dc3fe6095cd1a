package io.jnic.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A sysfs and /proc look-alike in a temp directory, shaped like the kernel's, for tests that must not touch the host. */
final class FakeSysfs {
    final Path sys;
    final Path proc;

    FakeSysfs(Path dir) {
        this.sys = dir.resolve("sys");
        this.proc = dir.resolve("proc");
        mkdirs(sys.resolve("bus/pci/devices"));
        mkdirs(sys.resolve("bus/pci/drivers"));
        mkdirs(sys.resolve("class/net"));
        mkdirs(sys.resolve("class/block"));
        mkdirs(proc.resolve("net"));
        write(sys.resolve("bus/pci/drivers_probe"), "");
        write(proc.resolve("net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
        write(proc.resolve("net/ipv6_route"), "");
        write(proc.resolve("mounts"), "proc /proc proc rw 0 0\n");
        write(proc.resolve("swaps"), "Filename\tType\tSize\tUsed\tPriority\n");
    }

    PciSysfs sysfs() {
        return new PciSysfs(sys);
    }

    DeviceUsage usage() {
        return new DeviceUsage(sysfs(), proc);
    }

    /** A device directory under devices/pci0000:00 with a bus/pci/devices link to it, as the kernel lays them out. */
    Path device(String addr, int vendor, int device, int classCode, String driver) {
        Path real = sys.resolve("devices/pci0000:00").resolve(addr);
        mkdirs(real);
        write(real.resolve("vendor"), String.format("0x%04x%n", vendor));
        write(real.resolve("device"), String.format("0x%04x%n", device));
        write(real.resolve("subsystem_vendor"), String.format("0x%04x%n", vendor));
        write(real.resolve("subsystem_device"), "0x0000\n");
        write(real.resolve("class"), String.format("0x%06x%n", classCode));
        write(real.resolve("numa_node"), "-1\n");
        write(real.resolve("driver_override"), "(null)\n");
        write(real.resolve("resource"), "0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n"
                + "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
                + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n".repeat(5));
        link(sys.resolve("bus/pci/devices").resolve(addr), real);
        if (driver != null) {
            bind(addr, driver);
        }
        return real;
    }

    void driver(String name) {
        Path d = sys.resolve("bus/pci/drivers").resolve(name);
        mkdirs(d);
        write(d.resolve("bind"), "");
        write(d.resolve("unbind"), "");
    }

    void bind(String addr, String driver) {
        driver(driver);
        Path real = sys.resolve("devices/pci0000:00").resolve(addr);
        Path link = real.resolve("driver");
        try {
            Files.deleteIfExists(link);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        link(link, sys.resolve("bus/pci/drivers").resolve(driver));
    }

    void iommuGroup(String addr, int group) {
        Path g = sys.resolve("kernel/iommu_groups").resolve(Integer.toString(group));
        mkdirs(g);
        link(sys.resolve("devices/pci0000:00").resolve(addr).resolve("iommu_group"), g);
    }

    /** A network interface under a virtio child, as virtio-net shows it. */
    void netInterface(String addr, String ifname) {
        Path n = sys.resolve("devices/pci0000:00").resolve(addr).resolve("virtio0/net").resolve(ifname);
        mkdirs(n);
        link(sys.resolve("class/net").resolve(ifname), n);
    }

    void blockDevice(String addr, String disk, String... partitions) {
        Path d = sys.resolve("devices/pci0000:00").resolve(addr).resolve("virtio1/block").resolve(disk);
        mkdirs(d.resolve("holders"));
        link(sys.resolve("class/block").resolve(disk), d);
        for (String p : partitions) {
            mkdirs(d.resolve(p).resolve("holders"));
            link(sys.resolve("class/block").resolve(p), d.resolve(p));
        }
    }

    /** A device-mapper device stacked on {@code lower}. */
    void holder(String lower, String dm) {
        Path d = sys.resolve("devices/virtual/block").resolve(dm);
        mkdirs(d.resolve("holders"));
        link(sys.resolve("class/block").resolve(dm), d);
        link(sys.resolve("class/block").resolve(lower).resolve("holders").resolve(dm), d);
    }

    void route(String ifname) {
        append(proc.resolve("net/route"), ifname + "\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
    }

    void ipv6Route(String dst, int prefix, long flags, String ifname) {
        append(proc.resolve("net/ipv6_route"), dst + " " + String.format("%02x", prefix)
                + " 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 "
                + String.format("%08x", flags) + " " + ifname + "\n");
    }

    void mount(String source, String target) {
        append(proc.resolve("mounts"), source + " " + target + " ext4 rw,relatime 0 0\n");
    }

    void swap(String source) {
        append(proc.resolve("swaps"), source + " partition 1048572 0 -2\n");
    }

    String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path p, String s) {
        try {
            Files.writeString(p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Path p, String s) {
        try {
            Files.writeString(p, Files.readString(p) + s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void link(Path link, Path target) {
        try {
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, link.getParent().relativize(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
