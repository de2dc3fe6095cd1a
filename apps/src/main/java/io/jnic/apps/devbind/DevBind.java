package io.jnic.apps.devbind;

import io.jnic.pci.DeviceUsage;
import io.jnic.pci.PciAddress;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciDriverBinder;
import io.jnic.pci.PciSysfs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * devbind: shows network devices and binds them to drivers, like DPDK's dpdk-devbind.py and through the
 * same sysfs files (driver_override, drivers_probe), so either tool can undo the other's work. Devices
 * that carry an active route or a mounted disk are refused unless --force.
 */
@Command(name = "devbind", mixinStandardHelpOptions = true, sortOptions = false, version = "jnic devbind 0.1.0",
        description = {"Show network devices and bind them to userspace drivers (vfio-pci, uio_pci_generic) or back.",
            "Refuses devices with an active route or a mounted disk unless --force."},
        footer = {"", "Examples:", "  devbind --status", "  devbind --bind vfio-pci 0000:03:00.0 03:00.1",
            "  devbind --bind e1000e 0000:03:00.0      (back to the kernel driver)", "  devbind --unbind 03:00.0",
            "  devbind -n --bind vfio-pci eth1         (print the sysfs writes only)"})
public final class DevBind implements Callable<Integer> {
    static final class Action {
        @Option(names = {"-s", "--status"}, description = "Show network devices grouped by the kind of driver they use.")
        boolean status;

        @Option(names = {"-b", "--bind"}, paramLabel = "DRIVER", description = "Bind the devices to DRIVER (unbinding them first).")
        String bind;

        @Option(names = {"-u", "--unbind"}, description = "Unbind the devices from their drivers.")
        boolean unbind;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    @Parameters(paramLabel = "DEVICE", arity = "0..*",
            description = "PCI addresses (0000:03:00.0 or 03:00.0) or network interface names.")
    List<String> devices = new ArrayList<>();

    @Option(names = "--force", description = "Take devices even when they carry an active route or a mounted disk.")
    boolean force;

    @Option(names = {"-n", "--dry-run"}, description = "Print what would be written to sysfs, and any refusal; change nothing.")
    boolean dryRun;

    @Option(names = "--sysfs-root", hidden = true, defaultValue = "/sys")
    Path sysfsRoot;

    @Option(names = "--proc-root", hidden = true, defaultValue = "/proc")
    Path procRoot;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command with the given streams; returns the exit code (0 ok, 1 refused or failed, 2 usage). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new DevBind());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, c, p) -> {
            c.getErr().println("devbind: " + e.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PciSysfs sysfs = new PciSysfs(sysfsRoot);
        DeviceUsage usage = new DeviceUsage(sysfs, procRoot);
        if (action.status) {
            if (!devices.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--status takes no devices");
            }
            status(sysfs, usage, out);
            return 0;
        }
        if (devices.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "name at least one DEVICE to "
                    + (action.unbind ? "unbind" : "bind"));
        }
        PciDriverBinder binder = new PciDriverBinder(sysfs, usage);
        int rc = 0;
        for (String d : devices) {
            try {
                PciAddress a = resolve(sysfs, d);
                PciDriverBinder.Plan plan = action.unbind ? binder.planUnbind(a, force) : binder.planBind(a, action.bind, force);
                for (String w : plan.warnings()) {
                    err.println("devbind: " + w);
                }
                if (dryRun) {
                    for (PciDriverBinder.Step s : plan.steps()) {
                        out.println("would run: " + s);
                    }
                    continue;
                }
                binder.execute(plan);
                if (!plan.nothingToDo()) {
                    out.println(a + (plan.targetDriver() == null ? " unbound from " + plan.currentDriver()
                            : " bound to " + plan.targetDriver() + (plan.currentDriver() == null ? "" : " (was " + plan.currentDriver() + ")")));
                }
            } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
                err.println("devbind: " + e.getMessage());
                rc = 1;
            }
        }
        return rc;
    }

    /** A PCI address, or a network interface name resolved to the PCI function that carries it. */
    static PciAddress resolve(PciSysfs sysfs, String arg) {
        if (PciAddress.isValid(arg)) {
            return PciAddress.parse(arg);
        }
        Path iface = sysfs.root().resolve("class/net").resolve(arg);
        if (!arg.contains("/") && Files.exists(iface)) {
            try {
                for (Path p = iface.toRealPath(); p != null; p = p.getParent()) {
                    String n = p.getFileName() == null ? "" : p.getFileName().toString();
                    if (n.length() == 12 && PciAddress.isValid(n)) {
                        return PciAddress.parse(n);
                    }
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot resolve interface " + arg + ": " + e.getMessage(), e);
            }
            throw new IllegalArgumentException("interface " + arg + " is not on a PCI device");
        }
        PciAddress.parse(arg); // throws the address parser's explanation
        throw new IllegalStateException("unreachable");
    }

    static void status(PciSysfs sysfs, DeviceUsage usage, PrintWriter out) {
        PciIds ids = PciIds.load();
        List<String> userspace = new ArrayList<>();
        List<String> kernel = new ArrayList<>();
        List<String> none = new ArrayList<>();
        List<String> loadedUserspace = PciDriverBinder.USERSPACE_DRIVERS.stream().filter(sysfs::driverLoaded).sorted().toList();
        for (PciDeviceInfo d : sysfs.scan()) {
            if (!d.isNetwork()) {
                continue;
            }
            StringBuilder line = new StringBuilder(d.address().toString()).append(" '")
                    .append(ids.deviceName(d.vendorId(), d.deviceId())).append('\'');
            DeviceUsage.Usage u = usage.of(d.address());
            if (!u.interfaces().isEmpty()) {
                line.append(" if=").append(String.join(",", u.interfaces()));
            }
            if (d.driver() != null) {
                line.append(" drv=").append(d.driver());
            }
            List<String> unused = loadedUserspace.stream().filter(x -> !x.equals(d.driver())).toList();
            if (!unused.isEmpty()) {
                line.append(" unused=").append(String.join(",", unused));
            }
            if (d.iommuGroup() >= 0) {
                line.append(" iommu_group=").append(d.iommuGroup());
            }
            if (!u.activeInterfaces().isEmpty()) {
                line.append(" *Active*");
            }
            (d.driver() == null ? none : PciDriverBinder.USERSPACE_DRIVERS.contains(d.driver()) ? userspace : kernel)
                    .add(line.toString());
        }
        section(out, "Network devices using a DPDK-compatible driver", userspace);
        section(out, "Network devices using kernel driver", kernel);
        section(out, "Network devices using no driver", none);
    }

    private static void section(PrintWriter out, String title, List<String> lines) {
        out.println();
        out.println(title);
        out.println("=".repeat(title.length()));
        if (lines.isEmpty()) {
            out.println("<none>");
        }
        lines.forEach(out::println);
    }

}
