package io.jnic.apps.common;

import io.jnic.ethdev.EthDriver;
import io.jnic.pci.PciAddress;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciDevices;
import io.jnic.pci.PciSysfs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The PCI devices a primary probes, picked as DPDK's EAL picks them: with {@code -a}, exactly those; without,
 * every device bound to a userspace driver (vfio-pci, uio_pci_generic, igb_uio) whose vendor/device id a jnic
 * driver on the class path takes, minus the {@code -b} ones. A device bound to a kernel driver is never picked.
 */
public final class PciScan {
    /**
     * A sysfs root to scan instead of {@code /sys}: the tests point it at an empty directory so that an app they
     * start never probes a device bound on the machine that runs them.
     */
    public static final String SYSFS_PROPERTY = "jnic.pci.sysfs";
    private static final System.Logger LOG = System.getLogger(PciScan.class.getName());

    private PciScan() {
    }

    /** The devices to probe, in address order, from the real sysfs (or {@link #SYSFS_PROPERTY}'s). */
    public static List<String> select(List<String> allow, List<String> block) {
        String root = System.getProperty(SYSFS_PROPERTY);
        return select(allow, block, root == null ? new PciSysfs() : new PciSysfs(Path.of(root)), driverIds());
    }

    /**
     * The devices to probe: {@code allow} as given when it is not empty, else the bound devices {@code ids}
     * match that are not in {@code block}. Entries are "dddd:bb:dd.f" (an {@code -a} entry keeps its ",ARGS").
     */
    public static List<String> select(List<String> allow, List<String> block, PciSysfs sysfs, List<EthDriver.PciId> ids) {
        if (!allow.isEmpty()) {
            return List.copyOf(allow);
        }
        Set<PciAddress> blocked = new HashSet<>();
        for (String b : block) {
            blocked.add(PciDevices.address(b));
        }
        List<String> out = new ArrayList<>();
        for (PciDeviceInfo d : sysfs.boundToUserspace()) {
            if (blocked.contains(d.address())) {
                LOG.log(System.Logger.Level.INFO, "{0} ({1}, bound to {2}) not probed: -b excludes it", d.address(),
                        d.ids(), d.driver());
            } else if (ids.stream().anyMatch(id -> id.matches(d.vendorId(), d.deviceId()))) {
                LOG.log(System.Logger.Level.INFO, "{0} ({1}, bound to {2}) found: probing it", d.address(), d.ids(),
                        d.driver());
                out.add(d.address().toString());
            } else {
                LOG.log(System.Logger.Level.DEBUG, "{0} ({1}, bound to {2}): no jnic driver takes it", d.address(),
                        d.ids(), d.driver());
            }
        }
        return out;
    }

    /** The ids of every {@link EthDriver} on the class path. */
    static List<EthDriver.PciId> driverIds() {
        List<EthDriver.PciId> ids = new ArrayList<>();
        for (EthDriver d : ServiceLoader.load(EthDriver.class)) {
            ids.addAll(d.pciIds());
        }
        return ids;
    }
}
