package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.L2Forwarder;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.PortOptions;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.apps.common.ProcRates;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufDescriptor;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.multiproc.pdump.CaptureTap;
import io.jnic.multiproc.pdump.PdumpService;
import io.jnic.multiproc.port.QueueOwners;
import io.jnic.multiproc.port.SecondaryQueues;
import io.jnic.multiproc.port.SharedPorts;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * l2fwd-mp: DPDK's symmetric_mp with l2fwd's forwarding. Every process (the primary is proc-id 0) drives
 * queue pair {@code --proc-id} of every port in the port mask and forwards what it receives there to the
 * same queue of the paired port (0<->1, 2<->3), rewriting MAC addresses unless {@code --no-mac-updating}.
 * The primary probes and configures the ports with {@code --num-procs} queue pairs, RSS spreading flows over
 * them; secondaries attach their queue pair and never involve the primary on the data path. Counters live in
 * shared memory; the primary (or any process with {@code --stats}) prints every process's rates each second.
 *
 * <p>Without a device (-a, --vdev, --vfio-user) the primary runs two simulated 82599 ports (devsim, traffic
 * generator wires) in its JVM and serves them over vfio-user in the runtime dir, so that secondaries reach
 * the same ports.
 */
@Command(name = "l2fwd-mp", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Multi-process l2fwd (DPDK symmetric_mp): each process forwards its queue pair of every port.",
            "Without a device: two simulated 82599 ports (devsim) with traffic generators."},
        footer = {"", "Examples:", "  l2fwd-mp                                        (primary, devsim ports, 1 process)",
            "  l2fwd-mp -- --num-procs 2 --proc-id 0           (primary of 2)",
            "  l2fwd-mp --proc-type secondary -- --num-procs 2 --proc-id 1",
            "  l2fwd-mp --duration 5                           (app options without -- work too)"})
public final class L2fwdMp implements EalApplication {
    /** The devsim control socket, in {@code <runtime dir>/devsim/} (fault injection: link-down P, ...). */
    public static final String CONTROL_SOCKET = SimulatedPorts.CONTROL_SOCKET;

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean running = true;
    private final List<String> linkEvents = new CopyOnWriteArrayList<>();

    /** The options after {@code --}. */
    @Command(name = "l2fwd-mp-options")
    static final class AppOptions {
        @Option(names = "-p", paramLabel = "PORTMASK", defaultValue = "0x3",
                description = "Hex mask of the ports to forward (default: ${DEFAULT-VALUE}).")
        String portmask;

        @Option(names = "--num-procs", paramLabel = "N", defaultValue = "1",
                description = "Processes in the group, one queue pair each (default: ${DEFAULT-VALUE}).")
        int numProcs;

        @Option(names = "--proc-id", paramLabel = "I", defaultValue = "0",
                description = "This process's index, 0..N-1; 0 is the primary (default: ${DEFAULT-VALUE}).")
        int procId;

        @Option(names = "--mac-updating", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Rewrite MAC addresses as DPDK l2fwd (default: on).")
        boolean macUpdating = true;

        @Option(names = "--stats", description = "Print the statistics table in this process (the primary always does).")
        boolean stats;

        @Option(names = {"-T", "--timer-period"}, paramLabel = "S", defaultValue = "1",
                description = "Seconds between statistics tables (0: none).")
        int period;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until Ctrl-C). The primary then stops the whole group.")
        int duration;

        @Option(names = "--stats-json", paramLabel = "FILE", description = "Write the final counters as JSON.")
        Path statsJson;

        @Option(names = "--idle", paramLabel = "poll|interrupt", defaultValue = "poll",
                description = "When the queues are idle: keep polling, or sleep until an RX interrupt (as l3fwd-power; "
                        + "the primary arms it, the device wakes this process) (default: ${DEFAULT-VALUE}).")
        String idle;

        @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "0",
                description = "Port MTU (0: the port's default, 1500); the pool's buffers grow to hold a whole frame of "
                        + "it, so jumbo frames (e.g. 9000) forward as single mbufs.")
        int mtu;

        @Mixin
        PortOptions ports = new PortOptions();




    }

    public L2fwdMp(PrintStream out, PrintStream err) {
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
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the app with {@link #prepareArgs} applied; returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = prepareArgs(args, err);
        return Eal.run(new L2fwdMp(out, err), out, err, a);
    }

    /**
     * Makes the simplest command lines work: app options given without {@code --} are moved after it, and a
     * primary on simulated ports without enough free hugepages gets {@code --no-huge} (with a warning that
     * says how to reserve them).
     */
    static String[] prepareArgs(String[] args, PrintStream err) {
        return AppArgs.prepare("l2fwd-mp", new L2fwdMp(err, err), new AppOptions(), List.of("--vfio-user"), args, err);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.numProcs < 1 || o.numProcs > Math.min(QueueOwners.MAX_QUEUES, ProcStats.MAX_PROCS)) {
            throw bad("--num-procs must be 1.." + QueueOwners.MAX_QUEUES + ", got " + o.numProcs);
        }
        if (o.procId < 0 || o.procId >= o.numProcs) {
            throw bad("--proc-id " + o.procId + " is out of range: with --num-procs " + o.numProcs + " the ids are 0.."
                    + (o.numProcs - 1));
        }
        if (!o.idle.equals("poll") && !o.idle.equals("interrupt")) {
            throw bad("--idle takes poll or interrupt, got '" + o.idle + "'");
        }
        String portProblem = o.ports.problem();
        if (portProblem != null) {
            throw bad(portProblem);
        }
        int[] portIds;
        try {
            portIds = PortMask.parse(o.portmask);
            PortMask.pairs("l2fwd-mp", portIds, o.portmask);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        if (eal.procType() == ProcType.PRIMARY && o.procId != 0) {
            throw bad("--proc-id " + o.procId + " with --proc-type primary: the primary is proc-id 0; start this one with "
                    + "--proc-type secondary");
        }
        if (eal.procType() == ProcType.SECONDARY && o.procId == 0) {
            throw bad("--proc-id 0 is the primary; a secondary takes 1.." + (o.numProcs - 1));
        }
        try {
            return run(o, portIds);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            // what went wrong and what to do, without a stack trace (--log-level debug logs the trace)
            err.println("l2fwd-mp: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.getLogger(L2fwdMp.class.getName()).log(System.Logger.Level.DEBUG, "l2fwd-mp failed", e);
            return 1;
        }
    }

    private int run(AppOptions o, int[] portIds) throws Exception {
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(30));
                MpRuntime rt = MpRuntime.start(eal)) {
            if (rt.isPrimary() && o.procId != 0) {
                throw new IllegalStateException("this process became the primary but has --proc-id " + o.procId
                        + "; the primary is proc-id 0 (start a primary first)");
            }
            if (!rt.isPrimary() && o.procId == 0) {
                throw new IllegalStateException((rt.isOrphan() ? "the group's primary (pid " + rt.primaryPid() + ") has "
                        + "ended and a new one cannot start while its secondaries run" : "a primary already runs (pid "
                        + rt.primaryPid() + ")") + "; --proc-id 0 is the primary's, give this secondary 1.."
                        + (o.numProcs - 1));
            }
            return rt.isPrimary() ? primary(rt, portIds) : secondary(rt, portIds);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The primary

    private int primary(MpRuntime rt, int[] portIds) throws Exception {
        AppOptions o = app;
        List<String> devices = o.ports.pciDevices(eal);
        SimulatedPorts sim = o.ports.simulatedIfNone("l2fwd-mp", eal, devices, rt.runtimeDir(), out);
        if (sim != null) {
            out.println("l2fwd-mp: these simulated ports run inside this primary and end with it; for secondaries that "
                    + "keep forwarding when the primary dies, serve the ports from a standalone devsim (./jnic devsim "
                    + "--wire gen --socket-dir DIR) and pass --vfio-user DIR/port0.sock --vfio-user DIR/port1.sock");
        }
        int nports = devices.size() + eal.vdevs().size();
        int maxPort = portIds[portIds.length - 1];
        if (maxPort >= nports) {
            if (sim != null) {
                sim.close();
            }
            throw bad("-p " + o.portmask + " names port " + maxPort + " but there are " + nports + " ports (0.."
                    + (nports - 1) + ")");
        }
        int perQueue = 2 * o.ports.ring + 2 * o.ports.burst;
        int count = Math.max(8191, Integer.highestOneBit(o.numProcs * nports * perQueue + 4096) * 2 - 1);
        MempoolConfig pc = MempoolConfig.of("l2fwd_mp_pool", 1, count);
        long page = rt.memory().pageSize().bytes();
        boolean chains = false;
        if (o.mtu > 0) {
            // a whole frame (header, one VLAN tag, FCS room) in one buffer, in the 1 KB units RX buffers are set in;
            // where such an mbuf would not fit a page (4 KB pages), frames travel as chains (SCATTER, MULTI_SEGS)
            int room = Math.max(pc.dataRoom(), (o.mtu + 22 + 1023) / 1024 * 1024);
            if (MbufDescriptor.HEADER_SIZE + pc.headroom() + room <= page) {
                pc = pc.withDataRoom(room);
            } else {
                chains = room > pc.dataRoom();
            }
        }
        // one segment for the pool, the rings (each aligned to its power-of-two size) and the tables
        long ringBytes = Long.highestOneBit((128L + 24L * o.ports.ring) * 2 - 1);
        rt.addMemory(Mempool.bytesNeeded(pc, page) + 2L * nports * o.numProcs * (ringBytes + page) + (8L << 20));
        try (EthPorts ports = new EthPorts(rt.memory())) {
            Memzone z = rt.reserve("l2fwd_mp.pool", Mempool.bytesNeeded(pc, page), page);
            try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                PrimaryPorts pp = PrimaryPorts.probe(ports, devices, eal.vdevs());
                List<EthDevice> devs = pp.devices();
                pp.start(o.numProcs, o.numProcs, o.ports.ring, pool, o.numProcs > 1, o.mtu, chains, out);
                QueueOwners owners = QueueOwners.create(rt.memory(), o.numProcs);
                ProcStats stats = ProcStats.create(rt, o.numProcs);
                try (SharedPorts sp = SharedPorts.serve(rt, owners, pp.shared(), List.of(pool))) {
                    io.jnic.multiproc.port.PortStatsService.serve(rt, devs); // proc-info's --stats/--xstats
                    PdumpService.serve(rt); // ./jnic pdump
                    sp.addLinkListener(this::onLink);
                    sp.addResetListener(this::onReset);
                    rt.onSecondaryExit(x -> out.printf(Locale.ROOT, "l2fwd-mp: secondary pid %d (%s) %s; "
                            + "queue pairs reset so far: %d, mbufs reclaimed so far: %d%n", x.secondary().pid(),
                            procIdOf(stats, x.secondary().pid()), x.detached() ? "left" : "died", sp.queuesReset(),
                            sp.mbufsReclaimed()));
                    QueuePair[] io = new QueuePair[PortTable.MAX_PORTS];
                    for (int p : portIds) {
                        owners.claim(p, 0, rt.pid(), 0);
                        io[p] = devs.get(p).queuePair(0);
                    }
                    if (sim != null) {
                        sim.startGenerators();
                    }
                    if (!rt.lcores().isEmpty()) {
                        rt.pinCurrentThread(rt.lcores().first()); // -l: forward on that core
                    }
                    long start = System.nanoTime();
                    forward(rt, stats, portIds, io, ports.table(), sim, true);
                    double secs = (System.nanoTime() - start) / 1e9;
                    // the group ends with the primary: ask the secondaries to finish and wait for them
                    stats.requestStop();
                    waitSecondaries(rt);
                    pp.stop(); // returns every ring's mbufs, whichever process drove the queue
                    MempoolAudit audit = pool.audit(l -> true);
                    out.println("l2fwd-mp: mempool after stop: " + audit);
                    if (o.statsJson != null) {
                        writeJson(o.statsJson, rt, stats, portIds, secs, sim, audit, sp);
                    }
                    pp.close();
                }
            }
        } finally {
            if (sim != null) {
                sim.close();
            }
        }
        return 0;
    }

    private static void waitSecondaries(MpRuntime rt) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!rt.secondaries().isEmpty() && System.nanoTime() - end < 0) {
            Thread.sleep(20);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // A secondary

    private int secondary(MpRuntime rt, int[] portIds) throws Exception {
        AppOptions o = app;
        if (rt.isOrphan()) {
            out.println("l2fwd-mp: WARNING: no primary runs for file prefix '" + rt.filePrefix() + "' (pid "
                    + rt.primaryPid() + " ended); joining its running secondaries: this process forwards on its queue "
                    + "pairs, but link and RX-interrupt events, recovery of processes that die and memory hotplug are gone "
                    + "until the group is restarted");
            if (o.idle.equals("interrupt")) {
                throw new IllegalStateException("--idle interrupt needs the primary (it arms the RX interrupts), which has "
                        + "ended; use --idle poll");
            }
        }
        try (SecondaryQueues sq = SecondaryQueues.join(rt)) {
            int theirs = sq.owners().numProcs();
            if (theirs != o.numProcs) {
                throw new IllegalStateException("--num-procs " + o.numProcs + " does not match the primary's "
                        + "--num-procs " + theirs + " (pid " + rt.primaryPid() + "); give every process of the group the "
                        + "same --num-procs");
            }
            ProcStats stats = ProcStats.attach(rt);
            sq.addLinkListener(this::onLink);
            sq.addResetListener(this::onReset);
            for (int p : portIds) {
                if (sq.table().state(p) != PortState.STARTED) {
                    throw new IllegalStateException("-p " + o.portmask + " names port " + p + ", which the primary has "
                            + "not started (state " + sq.table().state(p) + ")");
                }
            }
            MpRuntime.FloatingLcore lcore = rt.lcores().isEmpty() ? rt.attachFloatingThread() : null;
            try {
                int lc = lcore != null ? lcore.id() : rt.lcores().first();
                if (lcore == null) {
                    rt.pinCurrentThread(lc);
                }
                QueuePair[] io = new QueuePair[PortTable.MAX_PORTS];
                List<QueuePair> qs = new ArrayList<>();
                for (int p : portIds) {
                    QueuePair q = sq.attach(p, o.procId, lc);
                    qs.add(q);
                    io[p] = q;
                    out.println("l2fwd-mp: proc " + o.procId + " (pid " + rt.pid() + ") attached queue " + o.procId
                            + " of port " + p + " (" + sq.table().deviceName(p) + ")");
                }
                if (!rt.isOrphan()) {
                    rt.onPrimaryExit(() -> out.println("l2fwd-mp: the primary (pid " + rt.primaryPid() + ") ended; this "
                            + "process keeps forwarding on its queues (ports of a vfio-user server outside the primary, "
                            + "e.g. a standalone devsim, keep running; devsim inside the primary ended with it). Gone "
                            + "until the group restarts: link and RX-interrupt events, recovery of processes that die, "
                            + "memory hotplug; new processes join with --proc-type secondary"));
                }
                long start = System.nanoTime();
                forward(rt, stats, portIds, io, sq.table(), null, o.stats);
                double secs = (System.nanoTime() - start) / 1e9;
                if (o.statsJson != null) {
                    writeJson(o.statsJson, rt, stats, portIds, secs, null, null, null);
                }
                for (QueuePair q : qs) {
                    q.close();
                }
            } finally {
                if (lcore != null) {
                    lcore.close();
                }
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Forwarding

    /** --idle interrupt: sleeps on the queues' interrupt eventfds once they have been idle for a while. */
    private static final class IdleSleeper implements AutoCloseable {

        private static final int IDLE_LOOPS = 256;
        private final QueuePair[] queues;
        private final int[] ports;
        private final int[] fds;
        private final int epfd;
        private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
        private final java.lang.foreign.MemorySegment events;
        private int idle;
        long sleeps;
        long wakeups;
        /** Why the sleeper gave up (the primary that arms the interrupts ended): then the loop only polls. */
        volatile String stopped;

        IdleSleeper(QueuePair[] io, int[] ports) {
            this.queues = io;
            this.ports = ports;
            this.fds = new int[ports.length];
            this.epfd = Events.epollCreate();
            this.events = Events.allocateEpollEvents(arena, ports.length);
            for (int i = 0; i < ports.length; i++) {
                fds[i] = queues[ports[i]].rxInterruptFd();
                Events.epollCtl(epfd, Events.EPOLL_CTL_ADD, fds[i], Events.EPOLLIN, i);
            }
        }

        /** Called once per loop with whether it received anything. */
        void loop(boolean got) {
            if (got || stopped != null) {
                idle = 0;
                return;
            }
            if (++idle < IDLE_LOOPS) {
                return;
            }
            idle = 0;
            for (int fd : fds) {
                Events.eventfdRead(fd); // drop a stale count
            }
            for (int p : ports) {
                try {
                    if (!queues[p].rxInterruptEnable() || queues[p].rxReady()) {
                        return; // a packet came before the arm: poll on
                    }
                } catch (IllegalStateException noPrimary) {
                    stopped = noPrimary.getMessage(); // nobody arms the vector any more: poll from now on
                    return;
                }
            }
            sleeps++;
            // at most 100 ms, so that statistics and --duration keep their pace
            if (Events.epollWait(epfd, events, 100) > 0) {
                wakeups++;
            }
        }

        @Override
        public void close() {
            Io.closeQuietly(epfd);
            arena.close();
        }
    }

    private void onReset(int port, io.jnic.ethdev.PortReset r, long at) {
        out.println("l2fwd-mp: proc " + app.procId + ": " + r.description());
    }

    private void onLink(int port, LinkStatus l, long at) {
        long latencyUs = (System.nanoTime() - at) / 1000;
        linkEvents.add(String.format(Locale.ROOT, "{\"port\": %d, \"up\": %b, \"latency_us\": %d}", port, l.up(), latencyUs));
        out.printf(Locale.ROOT, "l2fwd-mp: proc %d: port %d link %s (forwarded by the primary %d us ago)%n", app.procId, port,
                l.up() ? "up " + l.speedMbps() + " Mbit/s" : "down", latencyUs);
    }

    private void forward(MpRuntime rt, ProcStats stats, int[] portIds, QueuePair[] io, PortTable table, SimulatedPorts sim,
            boolean print) throws InterruptedException {
        AppOptions o = app;
        int me = o.procId;
        int lcore = MpRuntime.currentLcore();
        MpRuntime.FloatingLcore floating = null;
        if (lcore < 0) {
            floating = rt.attachFloatingThread();
            lcore = floating.id();
        }
        try {
            // a restarted process continues its slot's counters, so that totals keep matching the devices
            L2Forwarder fwd = new L2Forwarder("l2fwd-mp", portIds, o.portmask, table, o.macUpdating, stats, me, o.ports.burst,
                    lcore);
            fwd.capture(CaptureTap.attach(rt, lcore), me);
            stats.pid(me, rt.pid());
            long start = System.nanoTime();
            long periodNs = o.period * 1_000_000_000L;
            long next = start + (o.period > 0 && print ? periodNs : Long.MAX_VALUE / 2);
            long end = o.duration > 0 ? start + o.duration * 1_000_000_000L : Long.MAX_VALUE;
            ProcRates tbl = new ProcRates(stats, portIds, o.numProcs);
            tbl.snapshot(start);
            boolean draining = false;
            long lastDevRx = -1;
            long quietCheck = 0;
            long drainEnd = 0;
            int loops = 0;
            IdleSleeper sleeper = o.idle.equals("interrupt") ? new IdleSleeper(io, portIds) : null;
            boolean sleeperStopReported = false;
            for (;;) {
                if (!running && !draining && sim == null) {
                    break;
                }
                boolean any = fwd.poll(io) > 0;
                if (sleeper != null) {
                    sleeper.loop(any);
                    if (sleeper.stopped != null && !sleeperStopReported) {
                        sleeperStopReported = true;
                        out.println("l2fwd-mp: proc " + me + ": --idle interrupt: " + sleeper.stopped + "; polling from now on");
                    }
                }
                if ((++loops & 1023) == 0 || sleeper != null && !any) {
                    long now = System.nanoTime();
                    if (!draining && (now >= end || !running || stats.stopRequested() && me != 0)) {
                        if (sim == null) {
                            break;
                        }
                        // simulated ports: stop the generators and forward what is still in the rings
                        sim.stopGenerators();
                        draining = true;
                        quietCheck = now;
                        drainEnd = now + 3_000_000_000L; // a queue nobody drives any more never drains
                    }
                    if (draining && now - drainEnd >= 0) {
                        break;
                    }
                    if (draining && now - quietCheck >= 200_000_000L) {
                        long devRx = sim.rxDmaTotal();
                        if (devRx == lastDevRx && tbl.total(ProcStats.RX) == devRx) {
                            break;
                        }
                        lastDevRx = devRx;
                        quietCheck = now;
                    }
                    if (now >= next) {
                        out.print(render(tbl, stats, now));
                        next += periodNs;
                    }
                }
            }
            long mine = fwd.forwarded();
            double secs = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "l2fwd-mp: proc %d (pid %d) forwarded %d packets in %.1f s (%.3f Mpps)%s%n", me, rt.pid(),
                    mine, secs, mine / secs / 1e6, sleeper == null ? "" : String.format(Locale.ROOT,
                            "; idle interrupt: slept %d times, %d woken by an RX interrupt", sleeper.sleeps, sleeper.wakeups));
            if (sleeper != null) {
                sleeper.close();
            }
            if (!running && sim != null) {
                sim.stopGenerators();
            }
        } finally {
            if (floating != null) {
                floating.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Output

    /** The per-process table: rates since the last call. */
    private static String render(ProcRates rates, ProcStats stats, long now) {
        rates.advance(now);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-6s %-8s %10s %10s %9s %12s%n", "proc", "pid", "rx Mpps", "tx Mpps",
                "Gbit/s", "drops/s"));
        double trx = 0;
        double ttx = 0;
        double tg = 0;
        double td = 0;
        for (int q = 0; q < rates.slots(); q++) {
            int pid = stats.pid(q);
            boolean alive = pid != 0 && io.jnic.sys.Proc.isAlive(pid);
            sb.append(String.format(Locale.ROOT, "%-6d %-8s %10.3f %10.3f %9.3f %12.0f%n", q,
                    pid == 0 ? "-" : alive ? Integer.toString(pid) : pid + "(gone)", rates.rxMpps(q), rates.txMpps(q),
                    rates.gbps(q), rates.dropsPerSec(q)));
            trx += rates.rxMpps(q);
            ttx += rates.txMpps(q);
            tg += rates.gbps(q);
            td += rates.dropsPerSec(q);
        }
        sb.append(String.format(Locale.ROOT, "%-6s %-8s %10.3f %10.3f %9.3f %12.0f%n%n", "total", "", trx, ttx, tg, td));
        return sb.toString();
    }

    /** "--proc-id N" of the process whose pid its stats slot holds (the id the user gave it), or why not known. */
    private String procIdOf(ProcStats stats, int pid) {
        for (int q = 1; q < app.numProcs; q++) {
            if (stats.pid(q) == pid) {
                return "--proc-id " + q;
            }
        }
        return "--proc-id unknown: it ended before it took its queue pair";
    }

    private void writeJson(Path file, MpRuntime rt, ProcStats stats, int[] ports, double secs, SimulatedPorts sim,
            MempoolAudit audit, SharedPorts sp) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"proc_id\": ").append(app.procId).append(",\n  \"num_procs\": ").append(app.numProcs)
                .append(",\n  \"seconds\": ").append(String.format(Locale.ROOT, "%.3f", secs)).append(",\n  \"procs\": [");
        long trx = 0;
        long ttx = 0;
        long tdr = 0;
        for (int q = 0; q < app.numProcs; q++) {
            sb.append(q == 0 ? "\n" : ",\n").append("    {\"proc_id\": ").append(q).append(", \"pid\": ")
                    .append(stats.pid(q)).append(", \"ports\": [");
            for (int i = 0; i < ports.length; i++) {
                int p = ports[i];
                long rx = stats.get(q, p, ProcStats.RX);
                long tx = stats.get(q, p, ProcStats.TX);
                long dr = stats.get(q, p, ProcStats.DROPS);
                trx += rx;
                ttx += tx;
                tdr += dr;
                sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"port\": %d, \"rx\": %d, \"tx\": %d, \"tx_bytes\": %d, \"drops\": %d}", p, rx, tx,
                        stats.get(q, p, ProcStats.TX_BYTES), dr));
            }
            sb.append("]}");
        }
        sb.append("\n  ],\n  \"total\": ").append(String.format(Locale.ROOT,
                "{\"rx\": %d, \"tx\": %d, \"drops\": %d, \"mpps\": %.4f}", trx, ttx, tdr, secs > 0 ? ttx / secs / 1e6 : 0));
        sb.append(",\n  \"link_events\": ").append(linkEvents);
        sb.append(",\n  \"ipc\": ").append(rt.ipc().stats().toJson()); // this process's channel: drops by cause
        if (sim != null) {
            sb.append(",\n  \"devsim\": ").append(sim.json());
        }
        if (sp != null) {
            sb.append(",\n  \"queues_reset\": ").append(sp.queuesReset()).append(",\n  \"mbufs_reclaimed\": ")
                    .append(sp.mbufsReclaimed());
        }
        if (audit != null) {
            sb.append(",\n  \"audit\": ").append(String.format(Locale.ROOT,
                    "{\"total\": %d, \"in_ring\": %d, \"in_caches\": %d, \"in_use\": %d, \"leaked\": %d, \"dead_owner\": %d, "
                            + "\"duplicates\": %d, \"invalid\": %d, \"clean\": %b}",
                    audit.total(), audit.inRing(), audit.inCaches(), audit.inUse(), audit.leaked().length,
                    audit.deadOwner().length, audit.duplicates().length, audit.invalid().length, audit.isClean()));
        }
        sb.append("\n}\n");
        Files.writeString(file, sb);
    }
}
