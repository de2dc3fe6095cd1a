package io.jnic.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds what this machine uses a PCI device for, so that it is not taken away by accident: its network
 * interfaces and whether they carry a route (/proc/net/route, /proc/net/ipv6_route), and its block
 * devices (with the device-mapper/md devices stacked on them) that are mounted or used as swap
 * (/proc/mounts, /proc/swaps). Both roots are configurable so tests can use a fake tree.
 */
public final class DeviceUsage {
    public static final Path DEFAULT_PROC = Path.of("/proc");
    private static final long RTF_UP = 0x0001;
    private static final long RTF_LOCAL = 0x80000000L;

    private final PciSysfs sysfs;
    private final Path proc;

    public DeviceUsage(PciSysfs sysfs, Path procRoot) {
        this.sysfs = sysfs;
        this.proc = procRoot;
    }

    public DeviceUsage() {
        this(new PciSysfs(), DEFAULT_PROC);
    }

    /** What the device is used for. */
    public record Usage(PciAddress address, List<String> interfaces, List<String> activeInterfaces,
            List<String> blockDevices, List<String> mounts) {
        /** True when taking the device would cut a route or pull a mounted disk. */
        public boolean inUse() {
            return !activeInterfaces.isEmpty() || !mounts.isEmpty();
        }

        /** One line per reason, naming the interface or mount. */
        public List<String> reasons() {
            List<String> r = new ArrayList<>();
            for (String i : activeInterfaces) {
                r.add("interface " + i + " has an active route");
            }
            r.addAll(mounts);
            return r;
        }
    }

    public Usage of(PciAddress address) {
        Path dev = realPath(sysfs.deviceDir(address));
        List<String> ifaces = childrenOfClass("class/net", dev);
        Set<String> routed = routedInterfaces();
        List<String> active = ifaces.stream().filter(routed::contains).toList();
        List<String> blocks = childrenOfClass("class/block", dev);
        Set<String> stacked = new LinkedHashSet<>(blocks);
        for (String b : blocks) {
            addHolders(b, stacked, 0);
        }
        List<String> mounts = new ArrayList<>();
        for (String[] m : table(proc.resolve("mounts"), 0)) {
            if (m.length >= 2 && m[0].startsWith("/dev/")) {
                String name = blockName(m[0], m[1]);
                if (stacked.contains(name)) {
                    mounts.add(name + " is mounted on " + unescape(m[1]));
                }
            }
        }
        for (String[] s : table(proc.resolve("swaps"), 1)) {
            if (s.length >= 1 && s[0].startsWith("/dev/") && stacked.contains(blockName(s[0], null))) {
                mounts.add(blockName(s[0], null) + " is used as swap");
            }
        }
        return new Usage(address, ifaces, active, List.copyOf(stacked), mounts);
    }

    /** Interfaces with an IPv4 route, or an IPv6 route other than link-local, multicast and local ones. */
    public Set<String> routedInterfaces() {
        Set<String> out = new LinkedHashSet<>();
        for (String[] f : table(proc.resolve("net/route"), 1)) {
            if (f.length >= 1 && !f[0].equals("lo")) {
                out.add(f[0]);
            }
        }
        for (String[] f : table(proc.resolve("net/ipv6_route"), 0)) {
            if (f.length < 10 || f[9].equals("lo")) {
                continue;
            }
            String dst = f[0];
            long flags = Long.parseLong(f[8], 16);
            boolean linkLocal = dst.startsWith("fe8") || dst.startsWith("fe9") || dst.startsWith("fea") || dst.startsWith("feb");
            if ((flags & RTF_UP) != 0 && (flags & RTF_LOCAL) == 0 && !dst.startsWith("ff") && !linkLocal) {
                out.add(f[9]);
            }
        }
        return out;
    }

    /** Names in {@code /sys/class/<cls>} whose device directory lies under the PCI device's directory. */
    private List<String> childrenOfClass(String cls, Path device) {
        List<String> out = new ArrayList<>();
        Path dir = sysfs.root().resolve(cls);
        if (device == null || !Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                Path real = realPath(p);
                if (real != null && real.startsWith(device)) {
                    out.add(p.getFileName().toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return out;
    }

    private void addHolders(String block, Set<String> out, int depth) {
        Path holders = sysfs.root().resolve("class/block").resolve(block).resolve("holders");
        if (depth > 8 || !Files.isDirectory(holders)) {
            return;
        }
        try (Stream<Path> s = Files.list(holders)) {
            for (Path h : s.toList()) {
                String name = h.getFileName().toString();
                if (out.add(name)) {
                    addHolders(name, out, depth + 1);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + holders, e);
        }
    }

    /**
     * The kernel block-device name behind a mount source: /dev/mapper links are resolved on the real
     * machine; "/dev/root" is found from the mount point's device number.
     */
    private String blockName(String source, String mountPoint) {
        if (source.equals("/dev/root") && mountPoint != null) {
            String byNumber = blockByDeviceNumber(Path.of(unescape(mountPoint)));
            if (byNumber != null) {
                return byNumber;
            }
        }
        Path p = Path.of(source);
        if (sysfs.root().equals(PciSysfs.DEFAULT_ROOT)) {
            try {
                p = p.toRealPath();
            } catch (IOException | SecurityException e) {
                // not resolvable here: fall back to the name as written
            }
        }
        return p.getFileName().toString();
    }

    private String blockByDeviceNumber(Path mountPoint) {
        try {
            long dev = (long) Files.getAttribute(mountPoint, "unix:dev");
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            String wanted = major + ":" + minor;
            Path dir = sysfs.root().resolve("class/block");
            try (Stream<Path> s = Files.list(dir)) {
                for (Path b : s.toList()) {
                    if (PciSysfs.readLine(b.resolve("dev")).orElse("").equals(wanted)) {
                        return b.getFileName().toString();
                    }
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        return null;
    }

    private static List<String[]> table(Path file, int skipLines) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String[]> out = new ArrayList<>();
            for (int i = skipLines; i < lines.size(); i++) {
                String l = lines.get(i).strip();
                if (!l.isEmpty()) {
                    out.add(l.split("\\s+"));
                }
            }
            return out;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** /proc/mounts escapes space, tab, newline and backslash as octal. */
    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return null;
        }
    }
}
