package io.jnic.apps.pktgen;

import io.jnic.pci.PciDevices;
import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.devsim.ControlServer;
import io.jnic.devsim.Devsim;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.PortStatsService;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * pktgen: a traffic generator and meter on jnic ports, in the spirit of pktgen-dpdk and MoonGen. Every port
 * sends paced IPv4/UDP frames carrying a probe (stream, sequence number, TX time) and meters what it receives:
 * loss, duplicates and reordering per stream, one-way latency in HdrHistograms. Runs as the primary of its own
 * process group (its own --file-prefix), so it can be "the second host" of a device under test.
 *
 * <p>Modes: the interactive console (pktgen-dpdk's verbs), a scripted run (--duration or --count), a sweep
 * of offered rates (--sweep) and the RFC 2544 throughput search (--search ndr|pdr). {@code pktgen plot
 * FILE.json} draws the results as SVG.
 */
@Command(name = "pktgen", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Traffic generator and meter on jnic ports (pktgen-dpdk's verbs; RFC 2544 NDR/PDR search).",
            "Without a device: two simulated 82599 ports cabled to each other (port 0 <-> port 1)."},
        footer = {"", "Examples:", "  pktgen                                              (console, simulated ports)",
            "  pktgen --rate 1mpps --size 64 --duration 5 --json r.json",
            "  pktgen --vfio-user /tmp/b/port0.sock --vfio-user /tmp/b/port1.sock --search ndr --json ndr.json",
            "  pktgen --vdev virtio_user0,path=/tmp/v0 --vdev virtio_user1,path=/tmp/v1 --rate 10% --duration 5",
            "  pktgen --sweep 10%,20%,50%,100% --trial 2 --json sweep.json",
            "  pktgen plot r.json --out r                            (r-throughput.svg, r-latency.svg)"})
public final class Pktgen implements EalApplication {
    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private final String commandLine;
    private volatile boolean interrupted;
    /** Longest device name the port table keeps. */
    private static final int SHORT_NAME = 63;
    /** The console's input when not stdin (tests). */
    static java.io.InputStream console;

    /** The options after {@code --} (given before it, they are moved there). */
    @Command(name = "pktgen-options")
    static final class AppOptions {
        @Option(names = "--vfio-user", paramLabel = "SOCKET", description = "A vfio-user device socket (repeatable).")
        List<Path> vfioUser = new ArrayList<>();

        @Option(names = "--rate", paramLabel = "RATE", defaultValue = "max",
                description = "Per port: N[k|m]pps, Nmbps, Ngbps, N%% of line rate, or max (default: ${DEFAULT-VALUE}).")
        String rate;

        @Option(names = "--size", paramLabel = "SIZE", defaultValue = "64",
                description = "Frame size with FCS: N, MIN-MAX[/STEP], or imix (default: ${DEFAULT-VALUE}).")
        String size;

        @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "Frames per port, then stop (0: no limit).")
        long count;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0", description = "Seconds to send (scripted mode).")
        double duration;

        @Option(names = "--vlan", paramLabel = "ID", defaultValue = "-1", description = "802.1Q VLAN id (default: untagged).")
        int vlan;

        @Option(names = "--flows", paramLabel = "N", defaultValue = "16",
                description = "Source addresses and UDP source ports each port cycles through (default: ${DEFAULT-VALUE}).")
        int flows;

        @Option(names = "--range", paramLabel = "FIELD:START:COUNT",
                description = "A range: src-mac|dst-mac|src-ip|dst-ip|src-port|dst-port, e.g. dst-ip:10.1.0.1:256 (repeatable).")
        List<String> ranges = new ArrayList<>();

        @Option(names = "--dst-mac", paramLabel = "MAC", description = "Destination MAC of every port's frames "
                + "(default: the paired port's MAC, 0<->1, 2<->3).")
        String dstMac;

        @Option(names = "--tx-ports", paramLabel = "LIST", split = ",",
                description = "Ports that transmit in scripted modes (default: all).")
        List<Integer> txPorts;

        @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
                description = "Worker lcores; thread t drives queues t, t+T, ... of every port (default: ${DEFAULT-VALUE}).")
        int threads;

        @Option(names = "--queues", paramLabel = "Q", description = "RX and TX queues per port (default: --threads).")
        Integer queues;

        @Option(names = "--burst", defaultValue = "32", description = "Frames per burst (1-512, default: ${DEFAULT-VALUE}).")
        int burst;

        @Option(names = "--ring", defaultValue = "1024", description = "Descriptors per ring (default: ${DEFAULT-VALUE}).")
        int ring;

        @Option(names = "--mtu", defaultValue = "1500", description = "Port MTU; above 1500 for jumbo frames (default: ${DEFAULT-VALUE}).")
        int mtu;

        @Option(names = {"-T", "--timer-period"}, paramLabel = "S", defaultValue = "1",
                description = "Seconds between statistics lines in scripted mode (0: none).")
        double period;

        @Option(names = "--hw-latency", description = "Also measure one-way latency on the ports' own clocks (IEEE 1588 "
                + "timestamps): every 10 ms each sending port sends a timestamped PTP probe on a queue of its own.")
        boolean hwLatency;

        @Option(names = "--json", paramLabel = "FILE", description = "Write the results (counters, latency, trials) as JSON.")
        Path json;

        @Option(names = "--sweep", paramLabel = "RATES", split = ",", description = "Trials at these per-port rates.")
        List<String> sweep;

        @Option(names = "--search", paramLabel = "ndr|pdr|both", description = "RFC 2544 binary search for the highest "
                + "rate without loss (ndr) and with loss below --pdr-loss (pdr).")
        String search;

        @Option(names = "--pdr-loss", paramLabel = "PCT", defaultValue = "0.1",
                description = "Loss bound of the PDR search, percent (default: ${DEFAULT-VALUE}).")
        double pdrLoss;

        @Option(names = "--search-max", paramLabel = "RATE", description = "Upper bound of the search (default: line "
                + "rate, which needs a port that reports its speed).")
        String searchMax;

        @Option(names = "--precision", paramLabel = "PCT", defaultValue = "2",
                description = "The search stops when its bounds are this close, percent (default: ${DEFAULT-VALUE}).")
        double precision;

        @Option(names = "--trial", paramLabel = "S", defaultValue = "2", description = "Seconds per trial (default: ${DEFAULT-VALUE}).")
        double trial;

        @Option(names = "--drain-ms", paramLabel = "MS", defaultValue = "5000",
                description = "Most time to wait for frames in flight after a run (default: ${DEFAULT-VALUE}).")
        long drainMs;

        @Option(names = "--quiet-ms", paramLabel = "MS", defaultValue = "250", description = "After a run, frames in "
                + "flight have landed when nothing arrived for this long (default: ${DEFAULT-VALUE}).")
        long quietMs;

        @Option(names = "--no-console", description = "Without a scripted mode: run until Ctrl-C instead of the console.")
        boolean noConsole;
    }

    public Pktgen(PrintStream out, PrintStream err, String commandLine) {
        this.out = out;
        this.err = err;
        this.commandLine = commandLine;
    }

    @Override
    public EalOptions eal() {
        return eal;
    }

    @Override
    public Object appOptions() {
        return app;
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs pktgen (or {@code pktgen plot ...}); returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        if (args.length > 0 && args[0].equals("plot")) {
            return Plot.run(out, err, java.util.Arrays.copyOfRange(args, 1, args.length));
        }
        String[] a = AppArgs.prepare("pktgen", new Pktgen(err, err, ""), new AppOptions(), List.of("--vfio-user"), args, err);
        return Eal.run(new Pktgen(out, err, "pktgen " + String.join(" ", args)), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.burst < 1 || o.burst > 512) {
            throw bad("--burst must be 1-512, got " + o.burst);
        }
        if (o.threads < 1 || o.threads > 16) {
            throw bad("--threads must be 1-16, got " + o.threads);
        }
        int queues = o.queues == null ? o.threads : o.queues;
        if (queues < o.threads || queues > 16) {
            throw bad("--queues must be --threads (" + o.threads + ") to 16, got " + queues);
        }
        if (o.mtu < 68 || o.mtu > 9600) {
            throw bad("--mtu must be 68-9600, got " + o.mtu);
        }
        if (o.search != null && !List.of("ndr", "pdr", "both").contains(o.search)) {
            throw bad("--search takes ndr, pdr or both, got '" + o.search + "'");
        }
        if (!(o.pdrLoss > 0 && o.pdrLoss < 100)) {
            throw bad("--pdr-loss is a percentage above 0 and below 100, got " + o.pdrLoss);
        }
        if (o.quietMs < 1 || o.drainMs < o.quietMs) {
            throw bad("--quiet-ms must be at least 1 and --drain-ms at least --quiet-ms");
        }
        if (!(o.precision > 0 && o.precision < 50) || !(o.trial > 0) || o.duration < 0 || o.count < 0) {
            throw bad("--precision must be 0-50 %, --trial above 0 s, --duration and --count at least 0");
        }
        Rate rate;
        SizeSpec size;
        try {
            rate = Rate.parse(o.rate);
            size = SizeSpec.parse(o.size);
            if (o.sweep != null) {
                for (String r : o.sweep) {
                    Rate.parse(r);
                }
            }
            if (o.searchMax != null) {
                Rate.parse(o.searchMax);
            }
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        try {
            return run(o, queues, rate, size);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("pktgen: error: " + e.getMessage());
            System.getLogger(Pktgen.class.getName()).log(System.Logger.Level.DEBUG, "pktgen failed", e);
            return 1;
        } catch (RuntimeException e) {
            err.println("pktgen: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.getLogger(Pktgen.class.getName()).log(System.Logger.Level.DEBUG, "pktgen failed", e);
            return 1;
        }
    }

    private int run(AppOptions o, int queues, Rate rate, SizeSpec size) throws Exception {
        try (GracefulExit exit = GracefulExit.install(() -> interrupted = true, Duration.ofSeconds(10));
                MpRuntime rt = MpRuntime.start(eal)) {
            if (!rt.isPrimary()) {
                throw new IllegalStateException("pktgen runs as the primary of its own process group, but a primary "
                        + "already holds file prefix '" + rt.filePrefix() + "' (pid " + rt.primaryPid() + "); give pktgen "
                        + "its own --file-prefix");
            }
            List<String> devices = new ArrayList<>();
            for (Path p : o.vfioUser) {
                devices.add(PciDevices.VFIO_USER_PREFIX + p);
            }
            devices.addAll(eal.allow());
            Devsim sim = null;
            ControlServer control = null;
            Path tempDir = null;
            if (devices.isEmpty() && eal.vdevs().isEmpty()) {
                Path dir = rt.runtimeDir().resolve("devsim");
                if ((PciDevices.VFIO_USER_PREFIX + dir.resolve("port0.sock")).length() > SHORT_NAME) {
                    dir = Files.createTempDirectory("jnic-pktgen"); // the port table keeps names of up to 63 bytes
                    tempDir = dir;
                }
                Files.createDirectories(dir);
                sim = Devsim.start(Devsim.Config.of(2, "pair"));
                for (Path p : sim.serveVfioUser(dir)) {
                    devices.add(PciDevices.VFIO_USER_PREFIX + p);
                }
                control = new ControlServer(sim, dir.resolve("devsim.ctl"));
                out.println("pktgen: no device given: 2 simulated 82599 ports cabled to each other (port 0 <-> port 1) at "
                        + dir + "; faults: ./jnic devsim ctl --socket-dir " + dir + " drop 1 0.01");
            }
            try {
                return withPorts(rt, o, queues, rate, size, devices);
            } finally {
                if (control != null) {
                    control.close();
                }
                if (sim != null) {
                    sim.close();
                }
                if (tempDir != null) {
                    try (var files = Files.list(tempDir)) {
                        for (Path f : files.toList()) {
                            Files.deleteIfExists(f);
                        }
                    }
                    Files.deleteIfExists(tempDir);
                }
            }
        }
    }

    private int withPorts(MpRuntime rt, AppOptions o, int queues, Rate rate, SizeSpec size, List<String> devices)
            throws Exception {
        int nports = devices.size() + eal.vdevs().size();
        int dataRoom = Math.max(2048, (o.mtu + Frames.ETH_HEADER + Frames.VLAN_TAG + Frames.FCS + 63) & ~63);
        int perPort = queues * (o.ring + 2 * o.burst);
        int rxCount = Integer.highestOneBit(nports * perPort + o.threads * 512 + 2048) * 2 - 1;
        int txCount = rxCount;
        MempoolConfig rxc = MempoolConfig.of("pktgen_rx", 1, rxCount).withDataRoom(dataRoom);
        MempoolConfig txc = MempoolConfig.of("pktgen_tx", 2, txCount).withDataRoom(dataRoom);
        long page = rt.memory().pageSize().bytes();
        rt.addMemory(Mempool.bytesNeeded(rxc, page) + Mempool.bytesNeeded(txc, page) + nports * 4L * page + (16L << 20));
        try (EthPorts ports = new EthPorts(rt.memory())) {
            Memzone rz = rt.reserve("pktgen.rx_pool", Mempool.bytesNeeded(rxc, page), page);
            Memzone tz = rt.reserve("pktgen.tx_pool", Mempool.bytesNeeded(txc, page), page);
            try (Mempool rxPool = Mempool.create(rz.memory(), rxc, rz::iova, page);
                    Mempool txPool = Mempool.create(tz.memory(), txc, tz::iova, page)) {
                zeroBuffers(txPool);
                PrimaryPorts pp = PrimaryPorts.probe(ports, devices, eal.vdevs());
                try {
                    List<EthDevice> devs = pp.devices();
                    for (EthDevice d : devs) {
                        startPort(d, queues, o, rxPool);
                    }
                    PortStatsService.serve(rt, devs);
                    List<TxSettings> settings = new ArrayList<>();
                    for (int p = 0; p < devs.size(); p++) {
                        settings.add(initialSettings(o, devs, p, rate, size));
                    }
                    try (Engine engine = new Engine(rt, devs, txPool, queues, o.threads, o.burst, o.mtu, settings,
                            o.hwLatency)) {
                        engine.launch();
                        engine.clear();
                        return mode(o, engine);
                    } finally {
                        pp.stop();
                    }
                } finally {
                    pp.close();
                }
            }
        }
    }

    private TxSettings initialSettings(AppOptions o, List<EthDevice> devs, int p, Rate rate, SizeSpec size) {
        long src = devs.get(p).macAddress().value();
        long dst = o.dstMac != null ? Flows.parseMac(o.dstMac)
                : (p ^ 1) < devs.size() ? devs.get(p ^ 1).macAddress().value() : 0x02_00_00_00_00_01L;
        Flows f = Flows.defaults(p, src, dst, o.flows);
        for (String r : o.ranges) {
            String[] a = r.split(":", 2);
            int last = a.length == 2 ? a[1].lastIndexOf(':') : -1;
            if (last < 0) {
                throw new IllegalArgumentException("--range '" + r + "' is not FIELD:START:COUNT");
            }
            f = f.with(a[0], a[1].substring(0, last), a[1].substring(last + 1));
        }
        return new TxSettings(rate, size, o.count, o.vlan, f);
    }

    private void startPort(EthDevice d, int queues, AppOptions o, Mempool rxPool) {
        int txQueues = o.hwLatency ? queues + 1 : queues; // the hardware probes' own queue
        if (queues > d.info().maxRxQueues() || txQueues > d.info().maxTxQueues()) {
            throw new IllegalArgumentException("port " + d.portId() + " (" + d.info().driverName() + ") has at most "
                    + Math.min(d.info().maxRxQueues(), d.info().maxTxQueues()) + " queue pairs; --queues is " + queues
                    + (o.hwLatency ? " and --hw-latency takes one TX queue more" : ""));
        }

        if (o.mtu > d.info().maxMtu()) {
            throw new IllegalArgumentException("--mtu " + o.mtu + " is above port " + d.portId() + "'s largest MTU "
                    + d.info().maxMtu());
        }
        PortConfig c = PortConfig.of(queues, txQueues).withPromiscuous(true);
        if (queues > 1 && !d.info().rssHashTypes().isEmpty()) {
            c = c.withRss(RssConfig.of(EnumSet.allOf(RssHashType.class)));
        }
        if (o.mtu != 1500) {
            c = c.withMtu(o.mtu);
        }
        d.configure(c);
        for (int q = 0; q < queues; q++) {
            d.rxQueueSetup(q, o.ring, rxPool);
        }
        for (int q = 0; q < txQueues; q++) {
            d.txQueueSetup(q, o.ring);
        }
        d.start();
        d.promiscuous(true);
        if (o.hwLatency) {
            try {
                d.timesyncEnable();
            } catch (UnsupportedOperationException e) {
                throw new IllegalArgumentException("port " + d.portId() + " (" + d.info().driverName() + ") has no "
                        + "IEEE 1588 timestamps; run without --hw-latency");
            }
        }
        out.println("port " + d.portId() + ": " + d.deviceName() + " (" + d.info().driverName() + "), MAC "
                + d.macAddress() + ", " + queues + " queue pair(s), link " + d.waitLink(Duration.ofSeconds(10)));
    }

    /** Zeroes every TX buffer once: frames are written header and probe only, the rest of the payload stays 0. */
    private static void zeroBuffers(Mempool pool) {
        long[] h = new long[pool.count()];
        int n = 0;
        while (n < h.length) {
            long x = pool.alloc(Mempool.LCORE_ANY);
            if (x == Mbuf.NULL) {
                break;
            }
            h[n++] = x;
        }
        Mbuf m = new Mbuf();
        MemorySegment seg = pool.segment();
        for (int i = 0; i < n; i++) {
            m.wrap(h[i]);
            seg.asSlice(m.dataPosition(), m.tailroom()).fill((byte) 0);
        }
        Mempool.freeBulk(h, 0, n, Mempool.LCORE_ANY);
    }

    private List<Integer> txPorts(AppOptions o, Engine e) {
        List<Integer> l = new ArrayList<>();
        if (o.txPorts == null) {
            for (int p = 0; p < e.ports(); p++) {
                l.add(p);
            }
        } else {
            for (int p : o.txPorts) {
                l.add(e.checkPort(p));
            }
        }
        return l;
    }

    private int mode(AppOptions o, Engine e) throws Exception {
        List<Integer> tx = txPorts(o, e);
        boolean scripted = o.duration > 0 || o.count > 0 || o.sweep != null || o.search != null;
        if (!scripted && !o.noConsole) {
            return new Console(e, out, err, o.json, commandLine).run(new java.io.BufferedReader(
                    new java.io.InputStreamReader(console == null ? System.in : console)));
        }
        List<Report.Trial> trials = new ArrayList<>();
        String search = null;
        Search searcher = null;
        double seconds = 0;
        Engine.Snapshot last;
        if (o.sweep != null || o.search != null) {
            Search s = searcher = new Search(e, tx, o.trial, o.quietMs, o.drainMs, out, () -> interrupted);
            if (o.sweep != null) {
                for (String r : o.sweep) {
                    if (interrupted) {
                        break;
                    }
                    trials.add(s.trial("sweep", Rate.parse(r), 0));
                }
            }
            if (o.search != null && !interrupted) {
                search = s.search(o.search, o.searchMax == null ? null : Rate.parse(o.searchMax), o.pdrLoss / 100,
                        o.precision / 100, trials);
            }
            last = s.lastSnapshot() == null ? e.snapshot() : s.lastSnapshot();
            seconds = s.lastSeconds();
        } else {
            long t0 = System.nanoTime();
            for (int p : tx) {
                e.start(p);
            }
            long end = o.duration > 0 ? t0 + (long) (o.duration * 1e9) : Long.MAX_VALUE;
            long periodNs = o.period > 0 ? (long) (o.period * 1e9) : Long.MAX_VALUE;
            long next = t0 + periodNs;
            Engine.Snapshot prev = e.snapshot();
            while (!interrupted && System.nanoTime() - end < 0 && !(o.count > 0 && e.countsDone())) {
                Thread.sleep(5);
                if (System.nanoTime() - next >= 0) {
                    Engine.Snapshot now = e.snapshot();
                    out.print(Report.statsPage(e, now, prev));
                    out.flush();
                    prev = now;
                    next += periodNs;
                }
            }
            long t1 = System.nanoTime();
            for (int p = 0; p < e.ports(); p++) {
                e.stop(p);
            }
            e.quiesce(o.quietMs, o.drainMs);
            seconds = (t1 - t0) / 1e9;
            last = e.snapshot();
        }
        out.println("pktgen: final counters (" + String.format(Locale.ROOT, "%.3f", seconds) + " s of traffic):");
        out.print(Report.statsPage(e, last, null));
        out.print(Report.latencyPage(last));
        if (e.hw() != null) {
            out.print(Report.hwLatencyPage(e));
        }
        if (search != null) {
            out.println("pktgen: search: " + search);
        }
        out.println(summary(last, seconds, searcher) + Report.hwSummary(e));
        if (o.json != null) {
            Files.writeString(o.json, Report.json(e, commandLine, seconds, last, trials, search, null));
            out.println("pktgen: results in " + o.json);
        }
        return 0;
    }

    /** One line of key=value pairs for scripts: the last run's balance and latency, and the search's results. */
    static String summary(Engine.Snapshot s, double seconds, Search search) {
        org.HdrHistogram.Histogram h = s.latency();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "pktgen: summary sent=%d received=%d lost=%d "
                + "duplicates=%d reordered=%d rx_pps=%.0f p50_us=%.1f p99_us=%.1f", s.sent(), s.received(),
                s.sent() - s.received(), s.streams().stream().mapToLong(Engine.StreamSnap::duplicates).sum(),
                s.streams().stream().mapToLong(Engine.StreamSnap::reordered).sum(),
                seconds > 0 ? s.received() / seconds : 0, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3));
        for (int p = 0; p < s.ports().size(); p++) {
            Engine.PortSnap ps = s.ports().get(p);
            sb.append(String.format(Locale.ROOT, " port%d_tx=%d port%d_rx=%d", p, ps.txFrames(), p, ps.rxFrames()));
        }
        if (search != null && search.ndrPps >= 0) {
            sb.append(String.format(Locale.ROOT, " ndr_pps=%.0f", search.ndrPps));
            if (search.ndrTrial != null) {
                sb.append(String.format(Locale.ROOT, " ndr_p50_us=%.1f ndr_p99_us=%.1f",
                        search.ndrTrial.latency().getValueAtPercentile(50) / 1e3,
                        search.ndrTrial.latency().getValueAtPercentile(99) / 1e3));
            }
        }
        if (search != null && search.pdrPps >= 0) {
            sb.append(String.format(Locale.ROOT, " pdr_pps=%.0f", search.pdrPps));
        }
        return sb.toString();
    }
}
