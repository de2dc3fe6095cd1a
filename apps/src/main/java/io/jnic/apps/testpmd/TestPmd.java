package io.jnic.apps.testpmd;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.PortOptions;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.LcoreSet;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.PortStatsService;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SecondaryQueues;
import io.jnic.mp.ethdev.SharedPorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * testpmd: DPDK's dpdk-testpmd for jnic ports. The primary probes the ports (two simulated 82599 ports with traffic
 * generators when none is given), configures them with {@code --rxq}/{@code --txq} queues of {@code --rxd}/
 * {@code --txd} descriptors and shares them with the group; forwarding lcores run the streams of the current
 * forwarding mode (io, mac, macswap, rxonly, txonly, flowgen). With {@code -i} it gives the {@code testpmd>}
 * prompt; otherwise it starts forwarding at once and runs until Enter, {@code --duration} or a signal. A
 * secondary ({@code --proc-type secondary}) attaches its share of queue pairs ({@code --num-procs},
 * {@code --proc-id}, DPDK's rule: process i takes queues [i*nq/n, (i+1)*nq/n)) of a testpmd or l2fwd-mp primary.
 */
@Command(name = "testpmd", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"DPDK's testpmd on jnic ports: forwarding modes, an interactive prompt (-i), multi-process.",
            "EAL options first, then -- and testpmd's options. Without a device: two simulated 82599 ports (devsim)."},
        footer = {"", "Examples:", "  testpmd -- -i                                   (the testpmd> prompt)",
            "  testpmd -l 0-2 -- --nb-cores 2 --rxq 2 --txq 2 --forward-mode mac --stats-period 1",
            "  testpmd -- -i --num-procs 2 --rxq 2 --txq 2     (primary of 2)",
            "  testpmd --proc-type secondary -- -i --num-procs 2 --proc-id 1"})
public final class TestPmd implements EalApplication {
    static final int MAX_BURST = PortOptions.MAX_BURST;
    private static final String STATS_MEMZONE = "testpmd.stats";
    private static final String POOL_MEMZONE = "testpmd.pool";
    private static final int MAX_FLOATING_CORES = 64;

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final CountDownLatch quit = new CountDownLatch(1);
    private volatile boolean signalled;

    /** The options after {@code --}, spelled as dpdk-testpmd's. */
    @Command(name = "testpmd-options")
    static final class AppOptions {
        @Option(names = {"-i", "--interactive"}, description = "Run the testpmd> prompt.")
        boolean interactive;

        @Option(names = {"-a", "--auto-start"}, description = "Start forwarding on initialization (with -i).")
        boolean autoStart;

        @Option(names = "--tx-first", description = "Start forwarding after sending a burst of packets first.")
        boolean txFirst;

        @Option(names = "--stats-period", paramLabel = "PERIOD", defaultValue = "0",
                description = "Without -i: display statistics every PERIOD seconds (0: none).")
        int statsPeriod;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Without -i: stop after S seconds (jnic; 0: until Enter or a signal).")
        int duration;

        @Option(names = "--nb-cores", paramLabel = "N", defaultValue = "1", description = "Forwarding cores (default 1).")
        int nbCores;

        @Option(names = "--portmask", paramLabel = "0xXX", description = "Hex mask of the ports to forward (default: all).")
        String portmask;

        @Option(names = "--port-topology", paramLabel = "paired|chained|loop", defaultValue = "paired",
                description = "paired (0<->1, 2<->3), chained (0->1->2->0) or loop (back out of the same port).")
        String topology;

        @Option(names = "--forward-mode", paramLabel = "MODE", defaultValue = "io",
                description = "io, mac, macswap, rxonly, txonly or flowgen (default io).")
        String forwardMode;

        @Option(names = "--rxq", paramLabel = "N", defaultValue = "1", description = "RX queues per port (default 1).")
        int rxq;

        @Option(names = "--txq", paramLabel = "N", defaultValue = "1", description = "TX queues per port (default 1).")
        int txq;

        @Option(names = "--rxd", paramLabel = "N", defaultValue = "128", description = "RX ring descriptors (default 128).")
        int rxd;

        @Option(names = "--txd", paramLabel = "N", defaultValue = "512", description = "TX ring descriptors (default 512).")
        int txd;

        @Option(names = "--burst", paramLabel = "N", defaultValue = "32", description = "Packets per burst, 1-512 (default 32).")
        int burst;

        @Option(names = "--total-num-mbufs", paramLabel = "N", defaultValue = "0",
                description = "Mbufs in the pool, N > 1024 (default: enough for the rings and lcore caches).")
        int totalNumMbufs;

        @Option(names = "--eth-peer", paramLabel = "N,XX:XX:XX:XX:XX:XX",
                description = "Peer MAC address of port N (mac, txonly, flowgen; default 02:00:00:00:00:N).")
        List<String> ethPeers = new ArrayList<>();

        @Option(names = "--txpkts", paramLabel = "LEN", defaultValue = "64",
                description = "Frame length of txonly/flowgen packets, without FCS (default 64).")
        int txpkts;

        @Option(names = "--tx-ip", paramLabel = "SRC,DST", defaultValue = "198.18.0.1,198.18.0.2",
                description = "txonly source and destination IPv4 addresses (default 198.18.0.1,198.18.0.2).")
        String txIp;

        @Option(names = "--tx-udp", paramLabel = "SRC[,DST]", defaultValue = "9",
                description = "txonly UDP source and destination ports (default 9, discard).")
        String txUdp;

        @Option(names = "--flowgen-flows", paramLabel = "N", defaultValue = "1024",
                description = "Flows flowgen cycles through (default 1024).")
        int flowgenFlows;

        @Option(names = "--num-procs", paramLabel = "N", defaultValue = "1",
                description = "Processes sharing the ports' queues (default 1).")
        int numProcs;

        @Option(names = "--proc-id", paramLabel = "ID", defaultValue = "0",
                description = "This process's id, 0..N-1; 0 is the primary (default 0).")
        int procId;

        @Option(names = "--vfio-user", paramLabel = "SOCKET", description = "A vfio-user device socket (repeatable; jnic).")
        List<Path> vfioUser = new ArrayList<>();

        @Option(names = "--devsim-rate", paramLabel = "PPS", defaultValue = "0",
                description = "Simulated ports: generator packets/s per port (0: flat out; jnic).")
        long devsimRate;

        @Option(names = "--devsim-size", paramLabel = "BYTES", defaultValue = "64",
                description = "Simulated ports: generator frame size (jnic).")
        int devsimSize;
    }

    public TestPmd(InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
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
        System.exit(run(System.in, System.out, System.err, args));
    }

    /** Runs testpmd with its commands read from {@code in}; returns the exit code. */
    public static int run(InputStream in, PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare("testpmd", new TestPmd(in, err, err), new AppOptions(), List.of("--vfio-user"), args,
                err);
        return Eal.run(new TestPmd(in, out, err), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    /** What the options ask for, checked before anything starts. */
    private record Plan(FwdMode mode, Forwarding.Topology topology, int[] pinned, int[] portmask, long[][] peers,
            int txIpSrc, int txIpDst, int udpSrc, int udpDst) {
    }

    private Plan validate() {
        AppOptions o = app;
        FwdMode mode = FwdMode.parse(o.forwardMode);
        if (mode == null) {
            throw bad("--forward-mode takes " + FwdMode.names().replace("|", ", ") + "; got '" + o.forwardMode + "'");
        }
        Forwarding.Topology topo;
        try {
            topo = Forwarding.Topology.valueOf(o.topology.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw bad("--port-topology takes paired, chained or loop; got '" + o.topology + "'");
        }
        if (o.burst < 1 || o.burst > MAX_BURST) {
            throw bad("--burst must be 1-" + MAX_BURST + ", got " + o.burst);
        }
        if (o.rxq < 1 || o.txq < 1 || o.rxq > QueueOwners.MAX_QUEUES || o.txq > QueueOwners.MAX_QUEUES) {
            throw bad("--rxq and --txq must be 1-" + QueueOwners.MAX_QUEUES + ", got " + o.rxq + " and " + o.txq);
        }
        if (o.rxd < 1 || o.txd < 1) {
            throw bad("--rxd and --txd must be > 0, got " + o.rxd + " and " + o.txd);
        }
        if (o.totalNumMbufs != 0 && o.totalNumMbufs <= 1024) {
            throw bad("--total-num-mbufs must be > 1024, got " + o.totalNumMbufs);
        }
        if (o.statsPeriod < 0 || o.duration < 0) {
            throw bad("--stats-period and --duration take seconds >= 0");
        }
        if (o.txpkts < UdpFrames.HEADERS || o.txpkts > Mempool.DEFAULT_DATA_ROOM) {
            throw bad("--txpkts must be " + UdpFrames.HEADERS + "-" + Mempool.DEFAULT_DATA_ROOM + " (Ethernet, IPv4 and UDP "
                    + "headers fit in " + UdpFrames.HEADERS + "), got " + o.txpkts);
        }
        if (o.flowgenFlows < 1 || o.flowgenFlows > 1 << 16) {
            throw bad("--flowgen-flows must be 1-65536, got " + o.flowgenFlows);
        }
        if (o.numProcs < 1 || o.numProcs > QueueOwners.MAX_QUEUES) {
            throw bad("--num-procs must be 1-" + QueueOwners.MAX_QUEUES + ", got " + o.numProcs);
        }
        if (o.procId < 0 || o.procId >= o.numProcs) {
            throw bad("--proc-id " + o.procId + " is out of range: with --num-procs " + o.numProcs + " the ids are 0.."
                    + (o.numProcs - 1));
        }
        if (eal.procType() == ProcType.PRIMARY && o.procId != 0) {
            throw bad("--proc-id " + o.procId + " with --proc-type primary: the primary is proc-id 0; start this one with "
                    + "--proc-type secondary");
        }
        if (eal.procType() == ProcType.SECONDARY && o.procId == 0) {
            throw bad("--proc-id 0 is the primary's; a secondary takes 1.." + (o.numProcs - 1) + " (with --num-procs)");
        }
        if (eal.procType() != ProcType.SECONDARY) {
            checkQueueShares();
        }
        int[] pinned = new int[0];
        LcoreSet l = eal.lcores();
        if (!l.isEmpty()) {
            int[] ids = l.ids();
            if (ids.length < 2) {
                throw bad("-l " + l + " leaves testpmd no forwarding lcore: the first runs the command line; give at least "
                        + "two (e.g. -l 0-1), or no -l for floating forwarding threads");
            }
            pinned = Arrays.copyOfRange(ids, 1, ids.length);
            if (o.nbCores < 1 || o.nbCores > pinned.length) {
                throw bad("--nb-cores must be 1-" + pinned.length + " (the lcores of -l " + l + " after the first), got "
                        + o.nbCores);
            }
        } else if (o.nbCores < 1 || o.nbCores > MAX_FLOATING_CORES) {
            throw bad("--nb-cores must be 1-" + MAX_FLOATING_CORES + ", got " + o.nbCores);
        }
        int[] mask = null;
        if (o.portmask != null) {
            try {
                mask = PortMask.parse(o.portmask);
            } catch (IllegalArgumentException e) {
                throw bad(e.getMessage().replace("-p ", "--portmask "));
            }
        }
        long[][] peers = new long[o.ethPeers.size()][];
        for (int i = 0; i < peers.length; i++) {
            String s = o.ethPeers.get(i);
            int comma = s.indexOf(',');
            try {
                int port = Integer.parseInt(s.substring(0, Math.max(comma, 0)));
                if (port < 0 || port >= PortTable.MAX_PORTS) {
                    throw new IllegalArgumentException();
                }
                peers[i] = new long[] {port, MacAddress.parse(s.substring(comma + 1)).value()};
            } catch (RuntimeException e) {
                throw bad("--eth-peer takes N,XX:XX:XX:XX:XX:XX with N a port id 0-" + (PortTable.MAX_PORTS - 1) + ", got '"
                        + s + "'");
            }
        }
        int src;
        int dst;
        int us;
        int ud;
        try {
            String[] ip = o.txIp.split(",", -1);
            if (ip.length != 2) {
                throw new IllegalArgumentException("--tx-ip takes SRC,DST");
            }
            src = UdpFrames.parseIp(ip[0]);
            dst = UdpFrames.parseIp(ip[1]);
            String[] u = o.txUdp.split(",", -1);
            if (u.length > 2) {
                throw new IllegalArgumentException("--tx-udp takes SRC[,DST]");
            }
            us = Integer.parseInt(u[0]);
            ud = u.length == 2 ? Integer.parseInt(u[1]) : us;
            if (us < 0 || us > 0xFFFF || ud < 0 || ud > 0xFFFF) {
                throw new IllegalArgumentException("--tx-udp ports must be 0-65535");
            }
        } catch (NumberFormatException e) {
            throw bad("--tx-udp takes SRC[,DST] port numbers, got '" + o.txUdp + "'");
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        return new Plan(mode, topo, pinned, mask, peers, src, dst, us, ud);
    }

    /** The primary's queues split evenly over the group (a secondary takes the primary's configuration). */
    private void checkQueueShares() {
        AppOptions o = app;
        if (o.numProcs > 1 && (o.rxq != o.txq || o.rxq % o.numProcs != 0)) {
            throw bad("with --num-procs " + o.numProcs + " give equal --rxq and --txq, a multiple of it (each process takes "
                    + "nq/num-procs queue pairs); got --rxq " + o.rxq + " --txq " + o.txq);
        }
    }

    @Override
    public Integer call() throws Exception {
        Plan plan = validate();
        try (GracefulExit exit = GracefulExit.install(() -> {
            signalled = true;
            quit.countDown();
        }, Duration.ofSeconds(30)); MpRuntime rt = MpRuntime.start(eal)) {
            if (rt.isPrimary() && app.procId != 0) {
                throw new IllegalStateException("this process became the primary but has --proc-id " + app.procId
                        + "; the primary is proc-id 0 (start a primary first)");
            }
            if (!rt.isPrimary() && app.procId == 0) {
                throw new IllegalStateException("a primary already runs (pid " + rt.primaryPid() + "); --proc-id 0 is the "
                        + "primary's, give this secondary 1.." + (app.numProcs - 1) + " with --num-procs");
            }
            return rt.isPrimary() ? primary(rt, plan) : secondary(rt, plan);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            err.println("testpmd: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.getLogger(TestPmd.class.getName()).log(System.Logger.Level.DEBUG, "testpmd failed", e);
            return 1;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The primary

    private int primary(MpRuntime rt, Plan plan) throws Exception {
        AppOptions o = app;
        checkQueueShares(); // --proc-type auto may have made this the primary
        PortOptions po = new PortOptions();
        po.vfioUser = o.vfioUser;
        po.devsimRate = o.devsimRate;
        po.devsimSize = o.devsimSize;
        List<String> devices = po.pciDevices(eal);
        SimulatedPorts sim = po.simulatedIfNone("testpmd", eal, devices, rt.runtimeDir(), out);
        try {
            int nports = devices.size() + eal.vdevs().size();
            if (nports == 0) {
                throw new IllegalStateException("no port: give -a, --vdev or --vfio-user");
            }
            int count = o.totalNumMbufs;
            int needed = nports * (o.rxq * o.rxd + o.txq * o.txd) + (o.nbCores + 1) * (3 * Mempool.DEFAULT_CACHE_SIZE / 2
                    + MAX_BURST);
            if (count == 0) {
                count = Math.max(8191, Integer.highestOneBit(needed + 4096) * 2 - 1);
            } else if (count < nports * o.rxq * o.rxd + o.burst) {
                throw bad("--total-num-mbufs " + count + " is too few: the RX rings alone take " + nports + " ports x "
                        + o.rxq + " queues x " + o.rxd + " descriptors = " + nports * o.rxq * o.rxd + "; give at least "
                        + needed);
            }
            MempoolConfig pc = MempoolConfig.of("mb_pool_0", 1, count);
            long page = rt.memory().pageSize().bytes();
            long ringBytes = Long.highestOneBit((128L + 24L * Math.max(o.rxd, o.txd)) * 2 - 1);
            rt.addMemory(Mempool.bytesNeeded(pc, page) + (long) nports * (o.rxq + o.txq) * (ringBytes + page) + (8L << 20));
            try (EthPorts ethPorts = new EthPorts(rt.memory())) {
                Memzone z = rt.reserve(POOL_MEMZONE, Mempool.bytesNeeded(pc, page), page);
                try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                    out.printf(Locale.ROOT, "testpmd: create a new mbuf pool <%s>: n=%d, size=%d, socket=0%n", pc.name(),
                            count, pool.elementSize());
                    if (o.interactive) {
                        out.println("Interactive-mode selected");
                    }
                    PrimaryPorts pp = PrimaryPorts.probe(ethPorts, devices, eal.vdevs());
                    try {
                        List<EthDevice> devs = pp.devices();
                        int nq = Math.min(o.rxq, o.txq);
                        PrimaryPortSet ports = new PrimaryPortSet(devs, o.rxq, o.txq, o.rxd, o.txd, pool, 0,
                                nq / o.numProcs);
                        ports.configureAndStart(out);
                        QueueOwners owners = QueueOwners.create(rt.memory(), o.numProcs);
                        for (EthDevice d : devs) {
                            for (int q = 0; q < nq / o.numProcs; q++) {
                                owners.claim(d.portId(), q, rt.pid(), 0);
                            }
                        }
                        ProcStats group = ProcStats.create(rt, STATS_MEMZONE, o.numProcs);
                        group.pid(0, rt.pid());
                        try (SharedPorts sp = SharedPorts.serve(rt, owners, pp.shared(), List.of(pool));
                                PortStatsService pss = PortStatsService.serve(rt, devs)) {
                            rt.onSecondaryExit(x -> notice(String.format(Locale.ROOT, "testpmd: secondary pid %d %s",
                                    x.secondary().pid(), x.detached() ? "left" : "died; its queue pairs were reset")));
                            if (sim != null) {
                                sim.startGenerators();
                            }
                            Forwarding fwd = forwarding(rt, plan, ports, pool);
                            session(fwd, ports, () -> false);
                            if (sim != null) {
                                sim.stopGenerators();
                            }
                            if (!rt.secondaries().isEmpty()) {
                                out.println("\nPrimary: Sending 'stop_req' request to secondary...");
                                group.requestStop();
                                waitSecondaries(rt);
                            }
                            for (int p : ports.ids()) {
                                out.printf(Locale.ROOT, "%nStopping port %d...%nStopping ports...%nDone%n", p);
                                ports.stop(p);
                            }
                            MempoolAudit audit = pool.audit(l -> true);
                            if (!audit.isClean()) {
                                out.println("testpmd: mempool after stop: " + audit);
                            }
                        }
                    } finally {
                        for (EthDevice d : pp.devices()) {
                            out.printf(Locale.ROOT, "%nShutting down port %d...%nClosing ports...%n", d.portId());
                            out.printf(Locale.ROOT, "Port %d is closed%nDone%n", d.portId());
                        }
                        pp.close();
                    }
                }
            }
        } finally {
            if (sim != null) {
                sim.close();
            }
        }
        out.println("\nBye...");
        return 0;
    }

    private static void waitSecondaries(MpRuntime rt) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!rt.secondaries().isEmpty() && System.nanoTime() - end < 0) {
            Thread.sleep(20);
        }
    }

    private Forwarding forwarding(MpRuntime rt, Plan plan, PortSet ports, Mempool pool) {
        int[] fwdPorts = ports.ids();
        if (plan.portmask() != null) {
            for (int p : plan.portmask()) {
                if (!ports.exists(p)) {
                    throw new IllegalStateException("--portmask " + app.portmask + " names port " + p + ", which does not "
                            + "exist (ports " + Arrays.toString(ports.ids()) + ")");
                }
            }
            fwdPorts = plan.portmask();
        }
        Forwarding f = new Forwarding(rt, ports, fwdPorts, plan.topology(), plan.pinned(), app.nbCores, pool, out);
        f.mode = plan.mode();
        f.burst = app.burst;
        f.txPktLen = app.txpkts;
        f.txIpSrc = plan.txIpSrc();
        f.txIpDst = plan.txIpDst();
        f.txUdpSrc = plan.udpSrc();
        f.txUdpDst = plan.udpDst();
        f.flowgenFlows = app.flowgenFlows;
        f.streamStatsAlways = app.numProcs > 1;
        for (long[] peer : plan.peers()) {
            f.peer((int) peer[0], peer[1]);
        }
        return f;
    }

    // ---------------------------------------------------------------------------------------------
    // A secondary

    private int secondary(MpRuntime rt, Plan plan) throws Exception {
        AppOptions o = app;
        if (rt.isOrphan()) {
            out.println("testpmd: WARNING: no primary runs for file prefix '" + rt.filePrefix() + "' (pid "
                    + rt.primaryPid() + " ended); joining its running secondaries: statistics, which come from the "
                    + "primary, are unavailable");
        }
        if (o.interactive) {
            out.println("Interactive-mode selected");
        }
        try (SecondaryQueues sq = SecondaryQueues.join(rt)) {
            int theirs = sq.owners().numProcs();
            if (theirs != o.numProcs) {
                throw new IllegalStateException("--num-procs " + o.numProcs + " does not match the primary's --num-procs "
                        + theirs + " (pid " + rt.primaryPid() + "); give every process of the group the same --num-procs");
            }
            int nq = Integer.MAX_VALUE;
            for (int p = 0; p < PortTable.MAX_PORTS; p++) {
                if (sq.table().state(p) == io.jnic.ethdev.PortState.STARTED) {
                    nq = Math.min(nq, Math.min(sq.table().rxQueues(p), sq.table().txQueues(p)));
                }
            }
            if (nq == Integer.MAX_VALUE) {
                throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") has no started port");
            }
            int per = nq / o.numProcs;
            if (per == 0) {
                throw new IllegalStateException("the primary's ports have " + nq + " queue pair(s), fewer than --num-procs "
                        + o.numProcs);
            }
            try (SecondaryPortSet ports = new SecondaryPortSet(rt, sq, o.procId * per, per)) {
                Mempool pool = null;
                for (int id = 1; id <= Mempool.MAX_POOL_ID && pool == null; id++) {
                    Mempool p = Mempool.lookup(id);
                    pool = p != null && !p.isClosed() ? p : null;
                }
                if (pool == null) {
                    throw new IllegalStateException("the primary shares no mbuf pool");
                }
                for (int p : ports.ids()) {
                    out.printf(Locale.ROOT, "Port %d: %s (queue pairs %d..%d of %d attached)%n", p,
                            ports.mac(p).toString().toUpperCase(Locale.ROOT), o.procId * per, o.procId * per + per - 1,
                            nq);
                }
                ProcStats group = null;
                for (String[] zone : new String[][] {{STATS_MEMZONE, "testpmd"}, {ProcStats.MEMZONE, "l2fwd-mp"}}) {
                    if (group == null && rt.memory().find(zone[0]).isPresent()) {
                        group = ProcStats.attach(rt, zone[0], zone[1]);
                    }
                }
                ProcStats g = group;
                if (!rt.isOrphan()) {
                    rt.onPrimaryExit(() -> notice("testpmd: the primary (pid " + rt.primaryPid() + ") ended; this "
                            + "process keeps its queues (ports served outside the primary keep working)"));
                }
                Forwarding fwd = forwarding(rt, plan, ports, pool);
                session(fwd, ports, () -> g != null && g.stopRequested());
            }
        }
        out.println("\nBye...");
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // The session: the prompt, or forwarding until Enter, --duration or a signal

    private void session(Forwarding fwd, PortSet ports, BooleanSupplier stopRequested) throws Exception {
        Object lock = new Object();
        Commands commands = new Commands(fwd, ports, out);
        AppOptions o = app;
        long end = !o.interactive && o.duration > 0 ? System.nanoTime() + o.duration * 1_000_000_000L : Long.MAX_VALUE;
        if (o.interactive) {
            if (o.autoStart) {
                fwd.start(o.txFirst);
            }
            Thread console = new Thread(() -> console(commands, lock), "testpmd-console");
            console.setDaemon(true);
            console.start();
        } else {
            fwd.start(o.txFirst);
            if (o.statsPeriod == 0 && o.duration == 0) {
                out.println("Press enter to exit");
                Thread enter = new Thread(() -> {
                    try {
                        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
                    } catch (IOException e) {
                        // stdin gone: as Enter
                    }
                    quit.countDown();
                }, "testpmd-enter");
                enter.setDaemon(true);
                enter.start();
            }
        }
        long periodNs = o.statsPeriod * 1_000_000_000L;
        long next = !o.interactive && periodNs > 0 ? System.nanoTime() + periodNs : Long.MAX_VALUE;
        for (;;) {
            if (quit.await(100, TimeUnit.MILLISECONDS)) {
                break;
            }
            long now = System.nanoTime();
            if (stopRequested.getAsBoolean()) {
                out.println("\ntestpmd: the primary asks this process to stop");
                break;
            }
            if (now - end >= 0) {
                break;
            }
            if (now - next >= 0) {
                synchronized (lock) {
                    printPeriodicStats(fwd);
                }
                next += periodNs;
            }
        }
        synchronized (lock) {
            quitting = true;
            if (signalled) {
                out.println("\nSignal received, preparing to exit...");
            }
            if (fwd.running()) {
                fwd.stop();
            }
        }
    }

    private boolean quitting;
    private volatile LineSource console;

    /** A message that comes while the prompt may be waiting (a secondary left, the primary ended). */
    private void notice(String msg) {
        LineSource c = console;
        if (c != null) {
            c.notice(msg);
        } else {
            out.println(msg);
        }
    }

    private void printPeriodicStats(Forwarding fwd) {
        java.io.Console c = System.console();
        if (c != null && c.isTerminal()) {
            out.print("\033[2J\033[1;1H"); // clear the screen, as testpmd does
        }
        out.println("\nPort statistics ====================================");
        for (int p : fwd.fwdPorts()) {
            fwd.nicStats(p);
        }
    }

    /** The testpmd> prompt: one command at a time under {@code lock}; quit or end of input ends the session. */
    private void console(Commands commands, Object lock) {
        try (LineSource src = LineSource.open(in, out, commands)) {
            console = src;
            for (;;) {
                String line = src.readLine("testpmd> ");
                if (line == null) {
                    break;
                }
                synchronized (lock) {
                    if (quitting) {
                        return;
                    }
                    try {
                        if (!commands.execute(line)) {
                            break;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    } catch (RuntimeException e) {
                        out.println("Error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                    }
                }
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            err.println("testpmd: the command line failed: " + e);
        } finally {
            console = null;
            quit.countDown();
        }
    }
}
