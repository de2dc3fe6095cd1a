package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refusal logic against this machine's real devices, read-only: only plans are made here, never
 * executed. Execution is tested on a fake sysfs tree (and for real in the QEMU test bed).
 */
class DeviceUsageTest {
    private static final PciSysfs HOST = new PciSysfs();
    private static final DeviceUsage HOST_USAGE = new DeviceUsage();
    private static final PciDriverBinder HOST_BINDER = new PciDriverBinder(HOST, HOST_USAGE);

    /** The PCI function a sysfs device path hangs under, found by walking up its real path. */
    private static PciAddress pciParent(Path classEntry) throws IOException {
        for (Path p = classEntry.toRealPath(); p != null; p = p.getParent()) {
            if (p.getFileName() != null && PciAddress.isValid(p.getFileName().toString())
                    && p.getFileName().toString().length() == 12) {
                return PciAddress.parse(p.getFileName().toString());
            }
        }
        return null;
    }

    @Test
    void hostNicWithAnActiveRouteIsRefusedNamingTheInterface() throws IOException {
        Set<String> routed = HOST_USAGE.routedInterfaces();
        int checked = 0;
        for (String iface : routed) {
            Path entry = Path.of("/sys/class/net", iface);
            PciAddress a = Files.exists(entry) ? pciParent(entry) : null;
            if (a == null) {
                continue; // a virtual interface
            }
            DeviceUsage.Usage u = HOST_USAGE.of(a);
            assertTrue(u.interfaces().contains(iface), u.toString());
            assertTrue(u.activeInterfaces().contains(iface), u.toString());
            assertTrue(u.inUse());
            DeviceInUseException bind = assertThrows(DeviceInUseException.class,
                    () -> HOST_BINDER.planBind(a, "vfio-pci", false));
            assertTrue(bind.getMessage().startsWith("refusing to unbind " + a + ": "), bind.getMessage());
            assertTrue(bind.getMessage().contains("interface " + iface + " has an active route"), bind.getMessage());
            assertTrue(bind.getMessage().contains("use --force only if you are sure"), bind.getMessage());
            DeviceInUseException unbind = assertThrows(DeviceInUseException.class, () -> HOST_BINDER.planUnbind(a, false));
            assertTrue(unbind.getMessage().contains("interface " + iface + " has an active route"), unbind.getMessage());
            checked++;
        }
        assumeTrue(checked > 0, "no routed interface on a PCI device here (routed: " + routed + ")");
    }

    @Test
    void hostDiskHoldingTheRootFilesystemIsRefusedNamingTheMount() throws IOException {
        String rootSource = null;
        for (String l : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] f = l.split(" ");
            if (f[1].equals("/") && f[0].startsWith("/dev/")) {
                rootSource = f[0];
            }
        }
        assumeTrue(rootSource != null, "/ is not mounted from a block device here");
        String name = Path.of(rootSource).toRealPath().getFileName().toString();
        Path entry = Path.of("/sys/class/block", name);
        assumeTrue(Files.exists(entry), "no " + entry);
        PciAddress a = pciParent(entry);
        assumeTrue(a != null, "the root disk " + name + " is not on a PCI device");
        DeviceUsage.Usage u = HOST_USAGE.of(a);
        assertTrue(u.mounts().contains(name + " is mounted on /"), u.toString());
        DeviceInUseException e = assertThrows(DeviceInUseException.class, () -> HOST_BINDER.planBind(a, "uio_pci_generic", false));
        assertTrue(e.getMessage().contains(name + " is mounted on /"), e.getMessage());
    }

    @Test
    void everyHostDeviceCarryingARouteOrMountIsRefusedWithoutForce() {
        List<String> refused = new ArrayList<>();
        for (PciDeviceInfo d : HOST.scan()) {
            DeviceUsage.Usage u = HOST_USAGE.of(d.address());
            if (u.inUse() && d.driver() != null) {
                assertThrows(DeviceInUseException.class, () -> HOST_BINDER.planUnbind(d.address(), false));
                // forced plans go through, and say what they override
                PciDriverBinder.Plan forced = HOST_BINDER.planUnbind(d.address(), true);
                assertTrue(forced.warnings().get(0).startsWith("forced: "), forced.toString());
                refused.add(d.address().toString());
            }
        }
        assumeTrue(!refused.isEmpty(), "nothing on this machine's PCI devices is in use");
    }

    @Test
    void fakeTreeRoutesMountsHoldersAndSwap(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        f.device("0000:00:03.0", 0x1af4, 0x1041, 0x020000, "virtio-pci");
        f.netInterface("0000:00:03.0", "ens3");
        f.device("0000:00:05.0", 0x1af4, 0x1042, 0x010000, "virtio-pci");
        f.blockDevice("0000:00:05.0", "vdb", "vdb1", "vdb2");
        f.holder("vdb2", "dm-0");
        f.device("0000:00:06.0", 0x1af4, 0x1042, 0x010000, "virtio-pci");
        f.blockDevice("0000:00:06.0", "vdc", "vdc1");
        DeviceUsage usage = f.usage();
        PciAddress nic = PciAddress.parse("00:03.0");
        PciAddress disk = PciAddress.parse("00:05.0");
        PciAddress swapDisk = PciAddress.parse("00:06.0");

        assertEquals(List.of("ens3"), usage.of(nic).interfaces());
        assertFalse(usage.of(nic).inUse(), "an interface without routes is not in use");
        f.ipv6Route("fe800000000000000000000000000000", 64, 0x1, "ens3");
        f.ipv6Route("ff000000000000000000000000000000", 8, 0x1, "ens3");
        assertFalse(usage.of(nic).inUse(), "link-local and multicast routes do not make an interface active");
        f.ipv6Route("fd000000000000000000000000000000", 64, 0x1, "ens3");
        assertEquals(List.of("interface ens3 has an active route"), usage.of(nic).reasons());

        assertFalse(usage.of(disk).inUse());
        f.mount("/dev/mapper/vg-data", "/srv/my\\040data"); // name as written: not resolvable in a fake tree
        f.mount("/dev/dm-0", "/srv/my\\040data");
        DeviceUsage.Usage u = usage.of(disk);
        assertEquals(List.of("vdb", "vdb1", "vdb2", "dm-0"), u.blockDevices());
        assertEquals(List.of("dm-0 is mounted on /srv/my data"), u.reasons());

        f.swap("/dev/vdc1");
        assertEquals(List.of("vdc1 is used as swap"), usage.of(swapDisk).reasons());
    }

    @Test
    void planAndExecuteWriteTheSysfsFilesDpdkDevbindWrites(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        Path dev = f.device("0000:00:04.0", 0x8086, 0x10d3, 0x020000, "e1000e");
        f.iommuGroup("0000:00:04.0", 4);
        f.driver("vfio-pci");
        PciDriverBinder b = new PciDriverBinder(f.sysfs(), f.usage());
        PciAddress a = PciAddress.parse("00:04.0");

        PciDriverBinder.Plan plan = b.planBind(a, "vfio-pci", false);
        Path devices = f.sys.resolve("bus/pci/devices/0000:00:04.0");
        assertEquals(List.of(
                "echo 0000:00:04.0 > " + devices.resolve("driver/unbind"),
                "echo vfio-pci > " + devices.resolve("driver_override"),
                "echo 0000:00:04.0 > " + f.sys.resolve("bus/pci/drivers_probe")),
                plan.steps().stream().map(Object::toString).toList());
        assertTrue(plan.warnings().isEmpty(), plan.toString());

        // A fake tree has no kernel behind it: the writes land, and the check afterwards reports the failure.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.execute(plan));
        assertEquals("the kernel did not bind 0000:00:04.0 to vfio-pci (it is now bound to e1000e); see `dmesg` for why",
                e.getMessage());
        assertEquals("0000:00:04.0", f.read(f.sys.resolve("bus/pci/drivers/e1000e/unbind")));
        assertEquals("0000:00:04.0", f.read(f.sys.resolve("bus/pci/drivers_probe")));
        assertEquals("\n", f.read(dev.resolve("driver_override")), "override cleared afterwards, as dpdk-devbind does");

        // as if the kernel had done it
        f.bind("0000:00:04.0", "vfio-pci");
        assertTrue(b.planBind(a, "vfio-pci", false).nothingToDo());
        assertEquals(List.of("0000:00:04.0 is already bound to vfio-pci"), b.planBind(a, "vfio-pci", false).warnings());
        PciDriverBinder.Plan unbind = b.planUnbind(a, false);
        assertEquals(List.of("echo 0000:00:04.0 > " + devices.resolve("driver/unbind")),
                unbind.steps().stream().map(Object::toString).toList());
    }

    @Test
    void refusalsAndMissingDriversAreExplained(@TempDir Path dir) {
        FakeSysfs f = new FakeSysfs(dir);
        f.device("0000:00:03.0", 0x1af4, 0x1041, 0x020000, "virtio-pci");
        f.netInterface("0000:00:03.0", "eth0");
        f.route("eth0");
        f.device("0000:00:07.0", 0x8086, 0x10d3, 0x020000, null);
        f.driver("vfio-pci");
        PciDriverBinder b = new PciDriverBinder(f.sysfs(), f.usage());
        PciAddress nic = PciAddress.parse("00:03.0");

        DeviceInUseException e = assertThrows(DeviceInUseException.class, () -> b.planBind(nic, "vfio-pci", false));
        assertEquals("refusing to unbind 0000:00:03.0: interface eth0 has an active route. Taking it would cut this "
                + "machine off from that; use --force only if you are sure.", e.getMessage());
        PciDriverBinder.Plan forced = b.planBind(nic, "vfio-pci", true);
        assertEquals(List.of("forced: interface eth0 has an active route",
                "0000:00:03.0 has no IOMMU group: vfio-pci needs the IOMMU enabled (e.g. intel_iommu=on) or VFIO's no-IOMMU mode"),
                forced.warnings());

        IllegalStateException notLoaded = assertThrows(IllegalStateException.class,
                () -> b.planBind(PciAddress.parse("00:07.0"), "uio_pci_generic", false));
        assertEquals("driver uio_pci_generic is not loaded (no " + f.sys.resolve("bus/pci/drivers/uio_pci_generic")
                + "): load it first, e.g. `modprobe uio_pci_generic`", notLoaded.getMessage());
        assertEquals(List.of("0000:00:07.0 is not bound to any driver"),
                b.planUnbind(PciAddress.parse("00:07.0"), false).warnings());
        assertEquals("invalid driver name '../x'", assertThrows(IllegalArgumentException.class,
                () -> b.planBind(nic, "../x", true)).getMessage());
        PciDriverBinder.Plan unbound = b.planBind(PciAddress.parse("00:07.0"), "vfio-pci", false);
        assertEquals(2, unbound.steps().size(), "nothing to unbind first: " + unbound);
    }

    @Test
    void hostRoutedInterfacesMatchProcNetRoute() throws IOException {
        Set<String> routed = HOST_USAGE.routedInterfaces();
        try (Stream<String> lines = Files.lines(Path.of("/proc/net/route"))) {
            lines.skip(1).map(l -> l.split("\\s+")[0]).filter(i -> !i.equals("lo"))
                    .forEach(i -> assertTrue(routed.contains(i), i + " has an IPv4 route but is not in " + routed));
        }
        assertFalse(routed.contains("lo"));
    }
}
