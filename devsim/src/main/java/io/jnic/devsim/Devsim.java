package io.jnic.devsim;

import io.jnic.devsim.ixgbe.Ixgbe82599;
import io.jnic.devsim.ixgbe.PortCounters;
import io.jnic.devsim.wire.CableWire;
import io.jnic.devsim.wire.GeneratorWire;
import io.jnic.devsim.wire.LoopWire;
import io.jnic.devsim.wire.PairWire;
import io.jnic.devsim.wire.TapWire;
import io.jnic.devsim.wire.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A set of simulated 82599 ports, their wires and the device thread: what the command line starts, and what
 * tests start in-process. {@link #command} is the fault-injection and status interface behind the control
 * socket.
 */
public final class Devsim implements AutoCloseable {
    /** How to build the simulator. */
    public record Config(int ports, List<String> wires, byte[] macBase, long genRatePps, int genFrameSize,
            int genFlows, int genPattern, long genCount, long linkDelayNanos) {
        public Config {
            if (ports < 1 || ports > 8) {
                throw new IllegalArgumentException("--ports must be 1-8, got " + ports);
            }
            if (wires.isEmpty() || (wires.size() != 1 && wires.size() != ports)) {
                throw new IllegalArgumentException("--wire takes one kind for all ports or one per port (" + ports
                        + "), got " + wires.size() + ": " + wires);
            }
            if (macBase.length != 6 || (macBase[0] & 1) != 0) {
                throw new IllegalArgumentException("--mac must be a unicast MAC address (6 octets, first one even)");
            }
        }

        /** Defaults: generator 64-byte frames, unlimited rate, 64 flows, no pattern, no limit. */
        public static Config of(int ports, String wire) {
            return new Config(ports, List.of(wire), new byte[] {0x02, 0x6a, 0x6e, 0x00, 0x00, 0x00}, 0, 64, 64, -1,
                    0, 0);
        }

        String wireOf(int port) {
            return wires.size() == 1 ? wires.get(0) : wires.get(port);
        }
    }

    private final Config config;
    private final List<Ixgbe82599> ports = new ArrayList<>();
    private final List<DmaMap> dmaMaps = new ArrayList<>();
    private final List<Wire> wires = new ArrayList<>();
    private DeviceLoop loop;
    private final List<io.jnic.pci.vfiouser.VfioUserServer> servers = new ArrayList<>();

    private Devsim(Config config) {
        this.config = config;
    }

    /** Builds the ports and wires and starts the device thread. */
    public static Devsim start(Config config) {
        Devsim d = new Devsim(config);
        try {
            d.build();
            d.loop = new DeviceLoop(d.ports).start();
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void build() {
        Wire[] w = new Wire[config.ports()];
        try {
            makeWires(w);
        } catch (RuntimeException e) {
            for (Wire x : w) {
                if (x != null) {
                    x.close();
                }
            }
            throw e;
        }
        for (int p = 0; p < config.ports(); p++) {
            DmaMap dma = new DmaMap();
            Ixgbe82599 dev = new Ixgbe82599("port " + p, p & 1, mac(p), dma, w[p]);
            dev.setLinkDelayNanos(config.linkDelayNanos());
            dmaMaps.add(dma);
            ports.add(dev);
            wires.add(w[p]);
        }
    }

    private void makeWires(Wire[] w) {
        for (int p = 0; p < config.ports(); p++) {
            String spec = config.wireOf(p).trim();
            String kind = spec.toLowerCase(Locale.ROOT);
            if (kind.equals("pair")) {
                if (w[p] != null) {
                    continue;
                }
                if (p + 1 >= config.ports() || !config.wireOf(p + 1).trim().equalsIgnoreCase("pair")) {
                    throw new IllegalArgumentException("--wire pair: port " + p + " needs port " + (p + 1)
                            + " as its pair too (pairs are ports 0+1, 2+3, ...; use an even --ports)");
                }
                PairWire pw = new PairWire();
                w[p] = pw.a();
                w[p + 1] = pw.b();
            } else if (kind.equals("loop")) {
                w[p] = new LoopWire();
            } else if (kind.equals("gen")) {
                w[p] = new GeneratorWire(p, mac(p), config.genRatePps(), config.genFrameSize(), config.genFlows(),
                        config.genPattern(), config.genCount());
            } else if (kind.startsWith("tap:")) {
                String base = spec.substring(4);
                w[p] = new TapWire(config.wires().size() == 1 && config.ports() > 1 ? base + p : base);
            } else if (kind.startsWith("cable:")) {
                String file = spec.substring(6);
                if (file.isEmpty()) {
                    throw new IllegalArgumentException("--wire cable:FILE needs the cable's file (the same path on both "
                            + "hosts' devsim)");
                }
                w[p] = new CableWire(java.nio.file.Path.of(config.wires().size() == 1 && config.ports() > 1 ? file + p : file));
            } else if (w[p] == null) {
                throw new IllegalArgumentException("unknown --wire '" + spec + "': use pair, loop, gen, tap:NAME or "
                        + "cable:FILE");
            }
        }
    }

    /** Port {@code p}'s EEPROM MAC address: the base with {@code p} added to the last octet. */
    public byte[] mac(int p) {
        byte[] m = config.macBase().clone();
        m[5] = (byte) (m[5] + p);
        return m;
    }

    public List<Ixgbe82599> ports() {
        return List.copyOf(ports);
    }

    public Ixgbe82599 port(int p) {
        if (p < 0 || p >= ports.size()) {
            throw new IllegalArgumentException("no port " + p + ": ports are 0-" + (ports.size() - 1));
        }
        return ports.get(p);
    }

    public DmaMap dma(int p) {
        port(p);
        return dmaMaps.get(p);
    }

    public Wire wire(int p) {
        port(p);
        return wires.get(p);
    }

    /**
     * Serves every port over vfio-user at {@code dir/port<N>.sock} (one client at a time per port) and
     * returns the socket paths.
     */
    public synchronized List<java.nio.file.Path> serveVfioUser(java.nio.file.Path dir) {
        if (!servers.isEmpty()) {
            throw new IllegalStateException("the ports are already served over vfio-user");
        }
        List<java.nio.file.Path> paths = new ArrayList<>();
        List<IxgbeVfioUserModel> models = new ArrayList<>();
        for (int p = 0; p < ports.size(); p++) {
            java.nio.file.Path path = dir.resolve("port" + p + ".sock");
            IxgbeVfioUserModel model = new IxgbeVfioUserModel(ports.get(p), dmaMaps.get(p));
            servers.add(new io.jnic.pci.vfiouser.VfioUserServer(path, model));
            models.add(model);
            paths.add(path);
        }
        loop.dmaCheck(p -> p >= models.size() || models.get(p).dmaIntact());
        return paths;
    }

    public DeviceLoop loop() {
        return loop;
    }

    /**
     * Runs one control command and returns its answer (first line "ok" or "error: ..."). Commands:
     * {@code link-down P}, {@code link-up P}, {@code drop P PROB}, {@code crc-errors P PROB}, {@code stall P},
     * {@code resume P}, {@code reset P}, {@code hostile P PROB}, {@code reorder-writeback P on|off}, {@code gen P start|stop},
     * {@code sfp P in|out}, {@code stats}, {@code unmodelled}, {@code help}.
     */
    public String command(String line) {
        String[] a = line.trim().split("\\s+");
        try {
            switch (a[0]) {
                case "help":
                    return "ok\n" + HELP;
                case "stats":
                    return "ok\n" + statsText();
                case "unmodelled":
                    return "ok\n" + unmodelledText();
                case "sfp":
                    need(a, 3);
                    port(parsePort(a[1])).sfpPresent(switch (a[2]) {
                        case "in" -> true;
                        case "out" -> false;
                        default -> throw new IllegalArgumentException("sfp takes in or out, got '" + a[2] + "'");
                    });
                    return "ok";
                case "link-down", "link-up", "stall", "resume", "reset":
                    need(a, 2);
                    Ixgbe82599 d = port(parsePort(a[1]));
                    switch (a[0]) {
                        case "link-down" -> d.faultLinkDown(true);
                        case "link-up" -> d.faultLinkDown(false);
                        case "stall" -> d.faultStall(true);
                        case "resume" -> d.faultStall(false);
                        default -> d.faultReset();
                    }
                    return "ok";
                case "drop", "crc-errors":
                    need(a, 3);
                    double p = Double.parseDouble(a[2]);
                    if (a[0].equals("drop")) {
                        port(parsePort(a[1])).faultDropProbability(p);
                    } else {
                        port(parsePort(a[1])).faultCrcErrorProbability(p);
                    }
                    return "ok";
                case "hostile":
                    need(a, 3);
                    port(parsePort(a[1])).faultHostile(Double.parseDouble(a[2]));
                    return "ok";
                case "cable":
                    need(a, 4);
                    return cable(parsePort(a[1]), a[2], a[3]);
                case "reorder-writeback":
                    need(a, 3);
                    port(parsePort(a[1])).faultReverseWriteBack(onOff(a[2]));
                    return "ok";
                case "gen":
                    need(a, 3);
                    if (!(wire(parsePort(a[1])) instanceof GeneratorWire g)) {
                        return "error: port " + a[1] + " has no generator (its wire is " + wire(parsePort(a[1])).describe() + ")";
                    }
                    g.setRunning(switch (a[2]) {
                        case "start" -> true;
                        case "stop" -> false;
                        default -> throw new IllegalArgumentException("gen takes start or stop, got '" + a[2] + "'");
                    });
                    return "ok";
                default:
                    return "error: unknown command '" + a[0] + "' (try help)";
            }
        } catch (NumberFormatException e) {
            return "error: not a number in '" + line.trim() + "'";
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage();
        }
    }

    static final String HELP = """
            link-down P | link-up P          pull / plug port P's cable (LSC interrupt)
            drop P PROB                      lose arriving frames with probability PROB (0-1)
            crc-errors P PROB                deliver arriving frames with a bad FCS with probability PROB
            stall P | resume P               stop / restart all processing of port P
            reset P                          reset port P as if power glitched
            hostile P PROB                   corrupt RX write-backs with probability PROB (length past the buffer,
                                             length 0, no EOP, RXE in turn) and report heads outside the rings
            reorder-writeback P on|off       write descriptor status last-to-first within a batch
            gen P start|stop                 start / stop port P's generator
            cable P delay US                 frames port P sends on its cable arrive US microseconds later
            cable P drop|dup|reorder PROB    lose / duplicate / swap with the next frame, with probability PROB
            sfp P in|out                     plug port P's SFP+ module in / pull it out (SDP2, link, GPI SDP2)
            stats                            per-port counters
            unmodelled                       registers drivers touched that the model does not implement""";

    private String cable(int p, String what, String value) {
        if (!(wire(p) instanceof CableWire c)) {
            return "error: port " + p + " is not on a cable (its wire is " + wire(p).describe() + ")";
        }
        switch (what) {
            case "delay" -> c.delayNanos(Math.round(Double.parseDouble(value) * 1000));
            case "drop" -> c.dropProbability(Double.parseDouble(value));
            case "dup" -> c.duplicateProbability(Double.parseDouble(value));
            case "reorder" -> c.reorderProbability(Double.parseDouble(value));
            default -> throw new IllegalArgumentException("cable takes delay, drop, dup or reorder, got '" + what + "'");
        }
        return "ok";
    }

    /**
     * Waits until every port on a cable sees the other end plugged into a running devsim; throws, naming the
     * cables whose other end is missing, when {@code timeout} passes first.
     */
    public void awaitCables(java.time.Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> missing = new ArrayList<>();
            for (int p = 0; p < wires.size(); p++) {
                if (wires.get(p) instanceof CableWire c && !c.carrier()) {
                    missing.add("port " + p + " (" + c.path() + ", end " + c.end() + ")");
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            if (System.nanoTime() - end >= 0) {
                throw new IllegalStateException("the other end of the cable of " + String.join(", ", missing)
                        + " is missing after " + timeout.toMillis() + " ms: start the other host's devsim with --wire "
                        + "cable:<the same file>, or check that both name the same file");
            }
            Thread.sleep(20);
        }
    }

    private static void need(String[] a, int n) {
        if (a.length != n) {
            throw new IllegalArgumentException("'" + a[0] + "' takes " + (n - 1) + " argument(s), got " + (a.length - 1));
        }
    }

    private static int parsePort(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port must be a number, got '" + s + "'");
        }
    }

    private static boolean onOff(String s) {
        return switch (s) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("expected on or off, got '" + s + "'");
        };
    }

    /** Every port's unmodelled registers (see {@link Ixgbe82599#unmodelledReport}), or a line saying there were none. */
    public String unmodelledText() {
        StringBuilder sb = new StringBuilder();
        for (Ixgbe82599 p : ports) {
            sb.append(p.unmodelledReport());
        }
        return sb.length() == 0 ? "no unmodelled register was touched\n" : sb.toString();
    }

    /** One line per port: link, counters, wire. */
    public String statsText() {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < ports.size(); p++) {
            PortCounters c = ports.get(p).counters();
            sb.append(String.format(Locale.ROOT,
                    "port %d link %-4s rx %d pkts %d B | tx %d pkts %d B | missed %d nobuf %d qdrop %d crc %d len %d"
                            + " | wire-drops %d dma-err %d hostile %d | %s",
                    p, c.linkUp() ? "up" : "down", c.rxDma(), c.rxBytes(), c.txDma(), c.txBytes(), c.rxMissed(),
                    c.rxNoBuffer(), c.rxQueueDrops(), c.crcErrors(), c.lengthErrors(), c.faultDrops(), c.dmaErrors(),
                    ports.get(p).hostileWriteBacks(), wires.get(p).describe()));
            if (wires.get(p) instanceof CableWire cw) {
                sb.append(String.format(Locale.ROOT, " | cable sent %d received %d overflows %d dropped %d dup %d reordered %d",
                        cw.sent(), cw.received(), cw.overflows(), cw.dropped(), cw.duplicated(), cw.reordered()));
            }
            if (wires.get(p) instanceof GeneratorWire g) {
                sb.append(String.format(Locale.ROOT, " | gen sent %d, sink %d lost %d reordered %d bad %d",
                        g.sent(), g.sinkFrames(), g.lost(), g.reordered(), g.patternErrors()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (io.jnic.pci.vfiouser.VfioUserServer s : servers) {
            s.close();
        }
        if (loop != null) {
            loop.close();
        }
        String gaps = ports.isEmpty() ? "" : unmodelledText();
        if (!gaps.startsWith("no unmodelled")) {
            System.getLogger(Devsim.class.getName()).log(System.Logger.Level.INFO,
                    "registers drivers touched that devsim does not model:\n{0}", gaps.stripTrailing());
        }
        for (Ixgbe82599 d : ports) {
            d.close();
        }
    }
}
