package io.jnic.pci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Binds PCI devices to drivers the way dpdk-devbind does, through sysfs: unbind from the current driver
 * ({@code driver/unbind}), name the wanted driver in {@code driver_override}, ask the kernel to probe
 * ({@code bus/pci/drivers_probe}), check the result, then clear {@code driver_override} again. Either
 * tool can undo what the other did.
 *
 * <p>Work is split into a {@link Plan} (pure: reads sysfs and /proc, refuses devices in use, writes
 * nothing) and {@link #execute}. A device that carries an active route or a mounted disk is refused
 * unless forced ({@link DeviceInUseException} names the interface or mount).
 */
public final class PciDriverBinder {
    private static final System.Logger LOG = System.getLogger(PciDriverBinder.class.getName());

    /** Drivers that hand the device to userspace (dpdk-devbind's "DPDK-compatible" drivers). */
    public static final Set<String> USERSPACE_DRIVERS = Set.of("vfio-pci", "uio_pci_generic", "igb_uio");

    private final PciSysfs sysfs;
    private final DeviceUsage usage;

    public PciDriverBinder(PciSysfs sysfs, DeviceUsage usage) {
        this.sysfs = sysfs;
        this.usage = usage;
    }

    /** One sysfs write. */
    public record Step(Path file, String value) {
        @Override
        public String toString() {
            return "echo " + (value.isEmpty() ? "''" : value) + " > " + file;
        }
    }

    /**
     * What binding or unbinding will do.
     *
     * @param targetDriver the driver to bind, or null for an unbind
     * @param steps the sysfs writes, in order (empty when there is nothing to do)
     */
    public record Plan(PciAddress address, String currentDriver, String targetDriver, List<Step> steps,
            List<String> warnings) {
        public boolean nothingToDo() {
            return steps.isEmpty();
        }
    }

    public Plan planBind(PciAddress address, String driver, boolean force) {
        if (driver == null || driver.isBlank() || driver.contains("/") || driver.contains("\n")) {
            throw new IllegalArgumentException("invalid driver name '" + driver + "'");
        }
        PciDeviceInfo info = sysfs.device(address);
        String current = info.driver();
        List<String> warnings = new ArrayList<>();
        if (driver.equals(current)) {
            return new Plan(address, current, driver, List.of(), List.of(address + " is already bound to " + driver));
        }
        if (current != null) {
            refuseIfInUse("unbind", address, force, warnings);
        }
        if (!sysfs.driverLoaded(driver)) {
            throw new IllegalStateException("driver " + driver + " is not loaded (no " + sysfs.driversDir().resolve(driver)
                    + "): load it first, e.g. `modprobe " + driver + "`");
        }
        if (driver.equals("vfio-pci") && info.iommuGroup() < 0) {
            warnings.add(address + " has no IOMMU group: vfio-pci needs the IOMMU enabled (e.g. intel_iommu=on)"
                    + " or VFIO's no-IOMMU mode");
        }
        List<Step> steps = new ArrayList<>();
        Path dev = sysfs.deviceDir(address);
        if (current != null) {
            steps.add(new Step(dev.resolve("driver/unbind"), address.toString()));
        }
        steps.add(new Step(dev.resolve("driver_override"), driver));
        steps.add(new Step(sysfs.root().resolve("bus/pci/drivers_probe"), address.toString()));
        return new Plan(address, current, driver, List.copyOf(steps), List.copyOf(warnings));
    }

    public Plan planUnbind(PciAddress address, boolean force) {
        PciDeviceInfo info = sysfs.device(address);
        if (info.driver() == null) {
            return new Plan(address, null, null, List.of(), List.of(address + " is not bound to any driver"));
        }
        List<String> warnings = new ArrayList<>();
        refuseIfInUse("unbind", address, force, warnings);
        return new Plan(address, info.driver(), null,
                List.of(new Step(sysfs.deviceDir(address).resolve("driver/unbind"), address.toString())),
                List.copyOf(warnings));
    }

    /**
     * Carries out a plan and checks that the kernel did what was asked. For a bind, driver_override is
     * cleared afterwards whatever happened, so no later probe is steered by it.
     */
    public void execute(Plan plan) {
        if (plan.nothingToDo()) {
            return;
        }
        Path override = sysfs.deviceDir(plan.address()).resolve("driver_override");
        try {
            for (Step s : plan.steps()) {
                LOG.log(System.Logger.Level.DEBUG, "{0}", s);
                write(s.file(), s.value());
            }
        } finally {
            if (plan.targetDriver() != null && Files.exists(override)) {
                write(override, "\n");
            }
        }
        String now = sysfs.driver(plan.address());
        if (plan.targetDriver() != null && !plan.targetDriver().equals(now)) {
            throw new IllegalStateException("the kernel did not bind " + plan.address() + " to " + plan.targetDriver()
                    + " (it is now " + (now == null ? "unbound" : "bound to " + now) + "); see `dmesg` for why");
        }
        if (plan.targetDriver() == null && now != null) {
            throw new IllegalStateException(plan.address() + " is still bound to " + now + " after the unbind");
        }
    }

    private void refuseIfInUse(String action, PciAddress address, boolean force, List<String> warnings) {
        DeviceUsage.Usage u = usage.of(address);
        if (u.inUse()) {
            if (!force) {
                throw new DeviceInUseException(action, u);
            }
            warnings.add("forced: " + String.join("; ", u.reasons()));
        }
    }

    private static void write(Path file, String value) {
        try {
            // Sysfs attributes take one write; WRITE without CREATE fails on a missing file instead of making one.
            Files.write(file, value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing '" + value.strip() + "' to " + file + " failed: " + e.getMessage(), e);
        }
    }
}
