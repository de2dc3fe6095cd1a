package io.jnic.apps.devbind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.pci.DeviceUsage;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciSysfs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** devbind against this machine, read-only: --status and --dry-run never write to sysfs. */
class DevBindTest {
    private record Result(int rc, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = DevBind.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(rc, out.toString(), err.toString());
    }

    @Test
    void statusListsEveryHostNetworkDeviceOnceUnderItsDriverKind() {
        Result r = run("--status");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("Network devices using a DPDK-compatible driver\n"), r.out());
        assertTrue(r.out().contains("Network devices using kernel driver\n"), r.out());
        assertTrue(r.out().contains("Network devices using no driver\n"), r.out());
        PciSysfs host = new PciSysfs();
        DeviceUsage usage = new DeviceUsage();
        List<PciDeviceInfo> nics = host.scan().stream().filter(PciDeviceInfo::isNetwork).toList();
        assumeTrue(!nics.isEmpty(), "no PCI network device on this machine");
        for (PciDeviceInfo d : nics) {
            List<String> lines = r.out().lines().filter(l -> l.startsWith(d.address().toString())).toList();
            assertEquals(1, lines.size(), r.out());
            String line = lines.get(0);
            String section = r.out().substring(0, r.out().indexOf(line));
            String header = section.substring(section.lastIndexOf("Network devices"));
            if (d.driver() == null) {
                assertTrue(header.startsWith("Network devices using no driver"), line);
            } else {
                assertTrue(line.contains(" drv=" + d.driver()), line);
            }
            DeviceUsage.Usage u = usage.of(d.address());
            u.interfaces().forEach(i -> assertTrue(line.contains("if=") && line.contains(i), line));
            assertEquals(!u.activeInterfaces().isEmpty(), line.endsWith("*Active*"), line);
        }
    }

    @Test
    void dryRunOnTheHostsRoutedNicIsRefusedAndChangesNothing() {
        PciSysfs host = new PciSysfs();
        DeviceUsage usage = new DeviceUsage();
        PciDeviceInfo active = host.scan().stream().filter(d -> d.driver() != null && usage.of(d.address()).inUse())
                .findFirst().orElse(null);
        assumeTrue(active != null, "nothing on this machine's PCI devices carries a route or a mount");
        String driverBefore = active.driver();
        Result r = run("--dry-run", "--bind", "vfio-pci", active.address().toShortString());
        assertEquals(1, r.rc());
        assertTrue(r.err().startsWith("devbind: refusing to unbind " + active.address() + ": "), r.err());
        assertTrue(r.out().isEmpty(), r.out());
        assertEquals(driverBefore, host.driver(active.address()));
    }

    @Test
    void interfaceNamesResolveToTheirPciFunction() throws java.io.IOException {
        PciSysfs host = new PciSysfs();
        int resolved = 0;
        for (PciDeviceInfo d : host.scan()) {
            for (String iface : new DeviceUsage().of(d.address()).interfaces()) {
                assertEquals(d.address(), DevBind.resolve(host, iface));
                assertTrue(java.nio.file.Path.of("/sys/class/net", iface).toRealPath().startsWith(d.sysfsPath().toRealPath()));
                resolved++;
            }
        }
        assumeTrue(resolved > 0, "no network interface on a PCI device here");
        IllegalArgumentException lo = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DevBind.resolve(host, "lo"));
        assertEquals("interface lo is not on a PCI device", lo.getMessage());
    }

    @Test
    void usageErrorsAreExplained() {
        Result none = run("--bind", "vfio-pci");
        assertEquals(2, none.rc());
        assertTrue(none.err().contains("name at least one DEVICE to bind"), none.err());
        Result both = run("--dry-run", "--status", "--unbind", "7f:1f.7");
        assertEquals(2, both.rc());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
        Result bad = run("--dry-run", "--unbind", "not-an-interface");
        assertEquals(1, bad.rc());
        assertTrue(bad.err().startsWith("devbind: invalid PCI address 'not-an-interface'"), bad.err());
    }
}
