package io.jnic.apps.common;

import io.jnic.pci.PciDevices;
import io.jnic.multiproc.EalOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The app options (after {@code --}) of every app whose primary sets up ports: vfio-user devices beside the EAL's
 * {@code -a}/{@code --vdev}, burst and ring sizes, and the traffic of the simulated ports it runs when no device
 * is given. A picocli mixin.
 */
public final class PortOptions {
    /** Largest burst the apps accept (their batches are allocated once). */
    public static final int MAX_BURST = 512;

    @Option(names = "--vfio-user", paramLabel = "SOCKET", description = "A vfio-user device socket (repeatable).")
    public List<Path> vfioUser = new ArrayList<>();

    @Option(names = "--burst", defaultValue = "32", description = "Packets per burst (1-512).")
    public int burst;

    @Option(names = "--ring", defaultValue = "1024", description = "Descriptors per RX/TX ring.")
    public int ring;

    @Option(names = "--devsim-rate", defaultValue = "0", description = "devsim generator packets/s per port (0: flat out).")
    public long devsimRate;

    @Option(names = "--devsim-size", defaultValue = "64", description = "devsim generator frame size.")
    public int devsimSize;

    /** The reason these options are wrong, or null. */
    public String problem() {
        if (burst < 1 || burst > MAX_BURST) {
            return "--burst must be 1-" + MAX_BURST + ", got " + burst;
        }
        return null;
    }

    /**
     * The PCI devices to probe, in port order: --vfio-user sockets, then the EAL's -a addresses or, without -a,
     * every device bound to vfio-pci or a UIO driver that a jnic driver takes, minus -b ({@link PciScan}).
     */
    public List<String> pciDevices(EalOptions eal) {
        List<String> devices = new ArrayList<>();
        for (Path p : vfioUser) {
            devices.add(PciDevices.VFIO_USER_PREFIX + p);
        }
        devices.addAll(PciScan.select(eal.allow(), eal.block()));
        return devices;
    }

    /**
     * Simulated ports in {@code runtimeDir} when there is no device at all: none named, none bound to a userspace
     * driver, no vdev (their sockets are added to {@code devices} and one line says where they are), else null.
     */
    public SimulatedPorts simulatedIfNone(String app, EalOptions eal, List<String> devices, Path runtimeDir, PrintStream out)
            throws IOException {
        if (!devices.isEmpty() || !eal.vdevs().isEmpty()) {
            return null;
        }
        SimulatedPorts sim = SimulatedPorts.start(runtimeDir, devsimRate, devsimSize);
        devices.addAll(sim.devices());
        out.println(sim.describe(app));
        return sim;
    }
}
