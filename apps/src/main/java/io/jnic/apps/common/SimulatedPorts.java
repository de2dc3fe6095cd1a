package io.jnic.apps.common;

import io.jnic.pci.PciDevices;
import io.jnic.devsim.ControlServer;
import io.jnic.devsim.Devsim;
import io.jnic.devsim.ixgbe.PortCounters;
import io.jnic.devsim.wire.GeneratorWire;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Two simulated 82599 ports (devsim) with traffic-generator wires, run in the primary's JVM and served over
 * vfio-user in {@code <runtime dir>/devsim/} so that secondaries reach the same ports. The generators start
 * only when the app forwards ({@link #startGenerators}): then "generated = received + dropped" holds exactly.
 * The ports end with the primary; for a group that survives its primary, run devsim as its own process.
 */
public final class SimulatedPorts implements AutoCloseable {
    /** The devsim control socket, in {@code <runtime dir>/devsim/} (fault injection: link-down P, ...). */
    public static final String CONTROL_SOCKET = "devsim.ctl";
    static final int PORTS = 2;
    private static final byte[] MAC_BASE = {0x02, 0x6a, 0x6e, 0, 0, 0};
    private static final int FLOWS = 64;

    private final Devsim sim;
    private final ControlServer control;
    private final Path dir;
    private final List<String> devices = new ArrayList<>();
    private final long[] genBase = new long[PORTS];

    private SimulatedPorts(Devsim sim, ControlServer control, Path dir, List<Path> sockets) {
        this.sim = sim;
        this.control = control;
        this.dir = dir;
        for (Path p : sockets) {
            devices.add(PciDevices.VFIO_USER_PREFIX + p);
        }
    }

    /** Starts the ports in {@code runtimeDir/devsim}, generators stopped. */
    public static SimulatedPorts start(Path runtimeDir, long ratePps, int frameSize) throws IOException {
        Devsim sim = Devsim.start(new Devsim.Config(PORTS, List.of("gen"), MAC_BASE, ratePps, frameSize, FLOWS, -1, 0, 0));
        try {
            for (int p = 0; p < PORTS; p++) {
                sim.command("gen " + p + " stop");
            }
            Path dir = Files.createDirectories(runtimeDir.resolve("devsim"));
            List<Path> sockets = sim.serveVfioUser(dir);
            return new SimulatedPorts(sim, new ControlServer(sim, dir.resolve(CONTROL_SOCKET)), dir, sockets);
        } catch (IOException | RuntimeException e) {
            sim.close();
            throw e;
        }
    }

    /** The devices as {@link PrimaryPorts} opens them ("vfio-user:socket"), port 0 first. */
    public List<String> devices() {
        return devices;
    }

    /** One line for the user: where the ports are and how to inject faults. */
    public String describe(String app) {
        return app + ": no device given (none named with -a, --vfio-user or --vdev, none bound to vfio-pci or "
                + "uio_pci_generic): " + PORTS + " simulated 82599 ports (devsim, generator wires) at " + dir
                + "; inject faults with: ./jnic devsim ctl --socket-dir " + dir + " link-down 0";
    }

    public int ports() {
        return PORTS;
    }

    public void startGenerators() {
        for (int p = 0; p < PORTS; p++) {
            // frames generated before the ports were set up met a device that was not receiving
            genBase[p] = generator(p).sent();
            sim.command("gen " + p + " start");
        }
    }

    public void stopGenerators() {
        for (int p = 0; p < PORTS; p++) {
            sim.command("gen " + p + " stop");
        }
    }

    /** Frames the devices have written to RX descriptors, all ports. */
    public long rxDmaTotal() {
        long s = 0;
        for (int p = 0; p < PORTS; p++) {
            s += sim.port(p).counters().rxDma();
        }
        return s;
    }

    /** Frames the devices have read from TX descriptors and sent to their wires, all ports. */
    public long txDmaTotal() {
        long s = 0;
        for (int p = 0; p < PORTS; p++) {
            s += sim.port(p).counters().txDma();
        }
        return s;
    }

    /** Frames generated towards port {@code p} since {@link #startGenerators}. */
    public long generated(int p) {
        return generator(p).sent() - genBase[p];
    }

    /** The devices' and wires' counters as a JSON array. */
    public String json() {
        StringBuilder sb = new StringBuilder("[");
        for (int p = 0; p < PORTS; p++) {
            PortCounters c = sim.port(p).counters();
            GeneratorWire g = generator(p);
            sb.append(p == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"port\": %d, \"gen_sent\": %d, \"sink\": %d, \"rx_dma\": %d, \"tx_dma\": %d, \"rx_missed\": %d, "
                            + "\"rx_no_buffer\": %d, \"rx_queue_drops\": %d, \"fault_drops\": %d}",
                    p, generated(p), g.sinkFrames(), c.rxDma(), c.txDma(), c.rxMissed(), c.rxNoBuffer(), c.rxQueueDrops(),
                    c.faultDrops()));
        }
        return sb.append("\n  ]").toString();
    }

    private GeneratorWire generator(int p) {
        return (GeneratorWire) sim.wire(p);
    }

    /** Stops the ports and removes their sockets and the devsim dir, so that the group's runtime dir can go. */
    @Override
    public void close() {
        control.close();
        sim.close();
        try {
            for (String d : devices) {
                Files.deleteIfExists(Path.of(d.substring(PciDevices.VFIO_USER_PREFIX.length())));
            }
            Files.deleteIfExists(dir.resolve(CONTROL_SOCKET));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.getLogger(SimulatedPorts.class.getName()).log(System.Logger.Level.DEBUG, "cannot remove {0}: {1}",
                    dir, e.toString());
        }
    }
}
