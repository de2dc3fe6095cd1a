package io.jnic.apps.clientserver;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.PortOptions;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.multiproc.SecondaryExit;
import io.jnic.mp.ethdev.PortStatsService;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SharedPorts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * mp-server: DPDK's examples/multi_process/client_server_mp server. The primary probes and starts the ports,
 * receives on queue 0 of every port in the mask and hands each burst, round-robin, to the ring of one client
 * ({@value PortInfo#MEMZONE} and rings {@code MProc_Client_<n>_RX} in shared memory); the clients
 * ({@link MpClient}) transmit. The server never transmits.
 *
 * <p>Queue layout: queue pairs are the unit mp-ethdev hands to secondaries, and every client must transmit on
 * a queue of its own; so each port gets {@code NUM_CLIENTS + 1} queue pairs without RSS (every frame lands in RX
 * queue 0, the server's; client n drives pair n + 1 and only transmits; the unused client RX queues get the
 * smallest ring). A client killed mid-traffic has its queue pairs reset and the mbufs it held returned by the
 * primary's recovery; a client restarted with the same id resumes its ring.
 */
@Command(name = "mp-server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Multi-process client/server (DPDK client_server_mp): receives on every port and distributes",
            "the bursts round-robin to the clients' rings; the clients forward them to the paired port.",
            "Without a device: two simulated 82599 ports (devsim) with traffic generators."},
        footer = {"", "Examples:", "  mp-server -n 2                        (primary; then in other terminals:)",
            "  mp-client -n 0", "  mp-client -n 1", "  mp-server -p 0x3 -n 2 --duration 10 --stats-json r.json"})
public final class MpServer implements EalApplication {
    /** Ring size of the RX queues that no one receives on (client pairs; the 82599 needs a multiple of 8). */
    static final int IDLE_RX_RING = 64;
    private static final System.Logger LOG = System.getLogger(MpServer.class.getName());

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean running = true;

    /** The options after {@code --}. */
    @Command(name = "mp-server-options")
    static final class AppOptions {
        @Option(names = "-p", paramLabel = "PORTMASK", defaultValue = "0x3",
                description = "Hex mask of the ports to receive on (default: ${DEFAULT-VALUE}); pairs 0<->1, 2<->3.")
        String portmask;

        @Option(names = "-n", paramLabel = "NUM_CLIENTS", required = true,
                description = "Number of clients (1.." + PortInfo.MAX_CLIENTS + ").")
        int numClients;

        @Option(names = {"-T", "--timer-period"}, paramLabel = "S", defaultValue = "1",
                description = "Seconds between statistics tables (0: none).")
        int period;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until Ctrl-C); the clients are stopped too.")
        int duration;

        @Option(names = "--stats-json", paramLabel = "FILE", description = "Write the final counters as JSON.")
        Path statsJson;

        @Mixin
        PortOptions ports = new PortOptions();



        @Option(names = "--client-ring", defaultValue = "1024",
                description = "Slots of each client's ring (a power of two; default: ${DEFAULT-VALUE}).")
        int clientRing;


    }

    public MpServer(PrintStream out, PrintStream err) {
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

    /** Runs the server; returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare("mp-server", new MpServer(err, err), new AppOptions(), List.of("--vfio-user"), args, err);
        return Eal.run(new MpServer(out, err), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.numClients < 1 || o.numClients > PortInfo.MAX_CLIENTS) {
            throw bad("-n must be 1.." + PortInfo.MAX_CLIENTS + " clients (one queue pair each beside the server's), got "
                    + o.numClients);
        }
        String portProblem = o.ports.problem();
        if (portProblem != null) {
            throw bad(portProblem);
        }
        if (o.clientRing < 2 || Integer.bitCount(o.clientRing) != 1) {
            throw bad("--client-ring must be a power of two >= 2, got " + o.clientRing);
        }
        if (eal.procType() != ProcType.PRIMARY) {
            throw bad("mp-server is the primary of its group; start the clients with mp-client -n ID");
        }
        int[] portIds;
        try {
            portIds = PortMask.parse(o.portmask);
            PortMask.pairs("mp-server", portIds, o.portmask);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        try {
            return run(o, portIds);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            err.println("mp-server: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            LOG.log(System.Logger.Level.DEBUG, "mp-server failed", e);
            return 1;
        }
    }

    private int run(AppOptions o, int[] portIds) throws Exception {
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(30));
                MpRuntime rt = MpRuntime.start(eal)) {
            return server(rt, portIds);
        }
    }

    private int server(MpRuntime rt, int[] portIds) throws Exception {
        AppOptions o = app;
        int n = o.numClients;
        int nq = n + 1;
        SimulatedPorts sim = null;
        List<String> devices = o.ports.pciDevices(eal);
        sim = o.ports.simulatedIfNone("mp-server", eal, devices, rt.runtimeDir(), out);
        try {
            int nports = devices.size() + eal.vdevs().size();
            int maxPort = portIds[portIds.length - 1];
            if (maxPort >= nports) {
                throw bad("-p " + o.portmask + " names port " + maxPort + " but there are " + nports + " ports (0.."
                        + (nports - 1) + ")");
            }
            // RX rings (server's + idle client queues), TX rings, client rings, lcore caches, slack
            int perPort = o.ports.ring + n * IDLE_RX_RING + nq * (o.ports.ring + o.ports.burst);
            int need = nports * perPort + n * o.clientRing + (n + 1) * 2 * Mempool.DEFAULT_CACHE_SIZE + 4096;
            int count = Math.max(8191, Integer.highestOneBit(need) * 2 - 1);
            MempoolConfig pc = MempoolConfig.of("mp_server_pool", 1, count);
            long page = rt.memory().pageSize().bytes();
            long ringBytes = Ring.bytesNeeded(o.clientRing, Ring.F_SP_ENQ | Ring.F_SC_DEQ);
            long descBytes = Long.highestOneBit((128L + 24L * o.ports.ring) * 2 - 1);
            rt.addMemory(Mempool.bytesNeeded(pc, page) + 2L * nports * nq * (descBytes + page) + n * (ringBytes + page)
                    + (8L << 20));
            try (EthPorts ports = new EthPorts(rt.memory())) {
                Memzone z = rt.reserve("mp_server.pool", Mempool.bytesNeeded(pc, page), page);
                try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                    PrimaryPorts pp = PrimaryPorts.probe(ports, devices, eal.vdevs());
                    try {
                        startPorts(pp.devices(), nq, pool);
                        return serve(rt, pp, pool, portIds, sim);
                    } finally {
                        pp.close();
                    }
                }
            }
        } finally {
            if (sim != null) {
                sim.close();
            }
        }
    }

    /** Every port: NUM_CLIENTS + 1 queue pairs, no RSS (all frames to RX queue 0), promiscuous, started. */
    private void startPorts(List<EthDevice> devs, int nq, Mempool pool) {
        for (EthDevice d : devs) {
            d.configure(PortConfig.of(nq, nq).withPromiscuous(true));
            d.rxQueueSetup(0, app.ports.ring, pool);
            for (int q = 1; q < nq; q++) {
                d.rxQueueSetup(q, IDLE_RX_RING, pool);
            }
            for (int q = 0; q < nq; q++) {
                d.txQueueSetup(q, app.ports.ring);
            }
            d.start();
            d.promiscuous(true);
            out.println("port " + d.portId() + ": " + d.deviceName() + " (" + d.info().driverName() + "), MAC "
                    + d.macAddress() + ", " + nq + " queue pairs (RX on 0 by the server, TX on 1.." + (nq - 1)
                    + " by the clients), link " + d.waitLink(Duration.ofSeconds(10)));
        }
    }

    private int serve(MpRuntime rt, PrimaryPorts pp, Mempool pool, int[] portIds, SimulatedPorts sim) throws Exception {
        AppOptions o = app;
        int n = o.numClients;
        PortInfo info = PortInfo.create(rt.memory(), n, portIds, PortMask.pairs("mp-server", portIds, o.portmask), rt.pid());
        Ring[] rings = new Ring[n];
        for (int c = 0; c < n; c++) {
            String name = PortInfo.ringName(c);
            int flags = Ring.F_SP_ENQ | Ring.F_SC_DEQ;
            Memzone rz = rt.memory().find(name).orElseGet(() -> rt.reserve(name, Ring.bytesNeeded(o.clientRing, flags),
                    Ring.ALIGNMENT));
            rings[c] = Ring.create(rz.memory(), name, o.clientRing, flags);
        }
        // before SharedPorts' recovery, which returns what dead lcores own: see readopt
        rt.addReclaimer(gone -> readopt(rings, gone));
        QueueOwners owners = QueueOwners.create(rt.memory(), n + 1);
        List<EthDevice> devs = pp.devices();
        try (SharedPorts sp = SharedPorts.serve(rt, owners, pp.shared(), List.of(pool));
                PortStatsService statsService = PortStatsService.serve(rt, devs)) {
            rt.onSecondaryExit(x -> out.printf(Locale.ROOT, "mp-server: secondary pid %d %s; queue pairs reset so far: %d, "
                    + "mbufs reclaimed so far: %d%n", x.secondary().pid(), x.detached() ? "left" : "died", sp.queuesReset(),
                    sp.mbufsReclaimed()));
            for (int p : portIds) {
                owners.claim(p, 0, rt.pid(), 0);
            }
            out.println("mp-server: pid " + rt.pid() + " serves " + n + " clients (rings " + PortInfo.ringName(0)
                    + (n > 1 ? ".." + PortInfo.ringName(n - 1) : "") + "); start them with: mp-client --file-prefix "
                    + rt.filePrefix() + " -n ID (ID 0.." + (n - 1) + ")");
            MpRuntime.FloatingLcore floating = null;
            int lcore;
            if (rt.lcores().isEmpty()) {
                floating = rt.attachFloatingThread();
                lcore = floating.id();
            } else {
                lcore = rt.lcores().first();
                rt.pinCurrentThread(lcore);
            }
            try {
                if (sim != null) {
                    sim.startGenerators();
                }
                long start = System.nanoTime();
                distribute(rt, info, rings, devs, portIds, sim, lcore);
                double secs = (System.nanoTime() - start) / 1e9;
                stopClients(rt, info, rings, sim);
                long drained = drain(info, rings, lcore);
                pp.stop(); // every device ring's mbufs go back to the pool, whoever drove the queue
                MempoolAudit audit = pool.audit(l -> true, rings);
                out.println("mp-server: " + drained + " packets left in the client rings at the end were freed");
                out.println("mp-server: mempool after stop: " + audit);
                out.print(table(info, portIds, null, 0));
                if (o.statsJson != null) {
                    writeJson(o.statsJson, info, portIds, secs, sim, audit, sp, rt.ipc().stats());
                }
            } finally {
                if (floating != null) {
                    floating.close();
                }
            }
        }
        return 0;
    }

    /**
     * A client takes ownership of the mbufs at the head of its ring (it records its lcore in them) before it
     * dequeues them, so that recovery finds what it held when it died (SharedPorts returns every mbuf a dead
     * lcore owns). Those it had taken but not yet dequeued are still in the ring, where they must stay: give
     * them back to no lcore first.
     */
    private static void readopt(Ring[] rings, SecondaryExit gone) {
        if (gone.released().isEmpty()) {
            return;
        }
        Mbuf m = new Mbuf();
        int readopted = 0;
        for (Ring r : rings) {
            long[] buf = new long[r.capacity()];
            int k = r.peekAll(buf);
            for (int i = 0; i < k; i++) {
                try {
                    m.wrap(buf[i]);
                } catch (RuntimeException e) {
                    continue; // not an mbuf of an attached pool: the audit reports it
                }
                if (gone.released().contains(m.owner())) {
                    m.owner(Mbuf.OWNER_NONE);
                    readopted++;
                }
            }
        }
        if (readopted > 0) {
            LOG.log(System.Logger.Level.INFO, "{0} mbufs in the rings taken but not dequeued by dead pid {1,number,#} stay "
                    + "there", readopted, gone.secondary().pid());
        }
    }

    private void distribute(MpRuntime rt, PortInfo info, Ring[] rings, List<EthDevice> devs, int[] portIds,
            SimulatedPorts sim, int lcore) {
        AppOptions o = app;
        int n = rings.length;
        MbufBatch b = new MbufBatch(o.ports.burst);
        long[] h = b.handles();
        EthDevice[] dev = new EthDevice[portIds.length];
        for (int i = 0; i < portIds.length; i++) {
            dev[i] = devs.get(portIds[i]);
        }
        long[] rx = new long[PortTable.MAX_PORTS];
        long[] enq = new long[n];
        long[] drops = new long[n];
        int next = 0;
        long start = System.nanoTime();
        long periodNs = o.period * 1_000_000_000L;
        long nextTable = o.period > 0 ? start + periodNs : Long.MAX_VALUE;
        long end = o.duration > 0 ? start + o.duration * 1_000_000_000L : Long.MAX_VALUE;
        long[] lastRx = new long[PortTable.MAX_PORTS];
        long lastT = start;
        boolean draining = false;
        long drainEnd = 0;
        long quietCheck = 0;
        long lastDevRx = -1;
        int idle = 0;
        int loops = 0;
        for (;;) {
            boolean any = false;
            for (int i = 0; i < dev.length; i++) {
                b.clear();
                int got = dev[i].rxBurst(0, b);
                if (got == 0) {
                    continue;
                }
                any = true;
                int p = portIds[i];
                rx[p] += got;
                info.serverRx(p, rx[p]);
                int c = next;
                next = next + 1 == n ? 0 : next + 1;
                int k = rings[c].enqueueBurst(h, 0, got);
                if (k < got) {
                    Mempool.freeBulk(h, k, got - k, lcore); // the client is behind: drop what does not fit
                    drops[c] += got - k;
                    info.put(c, PortInfo.RING_DROPS, drops[c]);
                }
                enq[c] += k;
                info.put(c, PortInfo.ENQUEUED, enq[c]);
            }
            if (any) {
                idle = 0;
            } else if (++idle > 64) {
                LockSupport.parkNanos(20_000); // nothing arrives: leave the core to the clients
            }
            if ((++loops & 255) == 0 || !any) {
                long now = System.nanoTime();
                if (!draining && (now >= end || !running)) {
                    if (sim == null) {
                        break;
                    }
                    sim.stopGenerators(); // and receive what is still on its way
                    draining = true;
                    quietCheck = now;
                    drainEnd = now + 3_000_000_000L;
                }
                if (draining && now - drainEnd >= 0) {
                    break;
                }
                if (draining && now - quietCheck >= 200_000_000L) {
                    long devRx = sim.rxDmaTotal();
                    long ours = 0;
                    for (int p : portIds) {
                        ours += rx[p];
                    }
                    if (devRx == lastDevRx && ours == devRx) {
                        break;
                    }
                    lastDevRx = devRx;
                    quietCheck = now;
                }
                if (now >= nextTable) {
                    out.print(table(info, portIds, lastRx, (now - lastT) / 1e9));
                    for (int p : portIds) {
                        lastRx[p] = rx[p];
                    }
                    lastT = now;
                    nextTable += periodNs;
                }
            }
        }
    }

    /** Lets the clients empty their rings (3 s at most), then asks them to stop and waits for them (10 s). */
    private void stopClients(MpRuntime rt, PortInfo info, Ring[] rings, SimulatedPorts sim) throws InterruptedException {
        long end = System.nanoTime() + 3_000_000_000L;
        for (Ring r : rings) {
            while (!r.isEmpty() && System.nanoTime() - end < 0) {
                Thread.sleep(10);
            }
        }
        info.requestStop();
        end = System.nanoTime() + 10_000_000_000L;
        while (!rt.secondaries().isEmpty() && System.nanoTime() - end < 0) {
            Thread.sleep(20);
        }
        if (sim != null) {
            // what the clients handed to their TX queues leaves the device before the ports stop
            long want = 0;
            for (int c = 0; c < info.numClients(); c++) {
                want += info.get(c, PortInfo.TX);
            }
            end = System.nanoTime() + 3_000_000_000L;
            while (sim.txDmaTotal() < want && System.nanoTime() - end < 0) {
                Thread.sleep(10);
            }
        }
    }

    /** Frees what is left in the client rings (no client runs any more); returns how many. */
    private static long drain(PortInfo info, Ring[] rings, int lcore) {
        long total = 0;
        long[] buf = new long[256];
        for (int c = 0; c < rings.length; c++) {
            long k = 0;
            int got;
            while ((got = rings[c].dequeueBurst(buf, 0, buf.length)) > 0) {
                Mempool.freeBulk(buf, 0, got, lcore);
                k += got;
            }
            info.put(c, PortInfo.DRAINED, info.get(c, PortInfo.DRAINED) + k);
            total += k;
        }
        return total;
    }

    // ---------------------------------------------------------------------------------------------
    // Output

    /** Per port: received by the server, sent by the clients; per client: the server's and its own counters. */
    static String table(PortInfo info, int[] ports, long[] lastRx, double dt) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-6s %14s %14s %12s%n", "port", "rx (server)", "tx (clients)", "rx pps"));
        for (int p : ports) {
            long tx = 0;
            for (int c = 0; c < info.numClients(); c++) {
                tx += info.txPort(c, p);
            }
            long rx = info.serverRx(p);
            sb.append(String.format(Locale.ROOT, "%-6d %14d %14d %12s%n", p, rx, tx,
                    lastRx == null || dt <= 0 ? "-" : String.format(Locale.ROOT, "%.0f", (rx - lastRx[p]) / dt)));
        }
        sb.append(String.format(Locale.ROOT, "%-6s %-10s %12s %10s %12s %12s %9s%n", "client", "pid", "enqueued",
                "ring drops", "rx", "tx", "tx drops"));
        for (int c = 0; c < info.numClients(); c++) {
            int pid = info.pid(c);
            boolean alive = pid != 0 && io.jnic.sys.Proc.isAlive(pid);
            sb.append(String.format(Locale.ROOT, "%-6d %-10s %12d %10d %12d %12d %9d%n", c,
                    pid == 0 ? "-" : alive ? Integer.toString(pid) : pid + "(gone)", info.get(c, PortInfo.ENQUEUED),
                    info.get(c, PortInfo.RING_DROPS), info.get(c, PortInfo.RX), info.get(c, PortInfo.TX),
                    info.get(c, PortInfo.TX_DROPS)));
        }
        return sb.append('\n').toString();
    }

    private void writeJson(Path file, PortInfo info, int[] ports, double secs, SimulatedPorts sim, MempoolAudit audit,
            SharedPorts sp, io.jnic.multiproc.ipc.IpcStats ipc) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"num_clients\": ").append(info.numClients()).append(",\n  \"seconds\": ")
                .append(String.format(Locale.ROOT, "%.3f", secs)).append(",\n  \"ports\": [");
        long rxAll = 0;
        for (int i = 0; i < ports.length; i++) {
            int p = ports[i];
            long tx = 0;
            for (int c = 0; c < info.numClients(); c++) {
                tx += info.txPort(c, p);
            }
            rxAll += info.serverRx(p);
            sb.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"port_id\": %d, \"server_rx\": %d, "
                    + "\"clients_tx\": %d}", p, info.serverRx(p), tx));
        }
        sb.append("\n  ],\n  \"clients\": [");
        long[] t = new long[6];
        int[] fields = {PortInfo.ENQUEUED, PortInfo.RING_DROPS, PortInfo.RX, PortInfo.TX, PortInfo.TX_DROPS, PortInfo.DRAINED};
        for (int c = 0; c < info.numClients(); c++) {
            long[] v = new long[fields.length];
            for (int f = 0; f < fields.length; f++) {
                v[f] = info.get(c, fields[f]);
                t[f] += v[f];
            }
            sb.append(c == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"client\": %d, \"pid\": %d, "
                    + "\"attaches\": %d, \"enqueued\": %d, \"ring_drops\": %d, \"rx\": %d, \"tx\": %d, \"tx_drops\": %d, "
                    + "\"drained\": %d}", c, info.pid(c), info.attaches(c), v[0], v[1], v[2], v[3], v[4], v[5]));
        }
        sb.append("\n  ],\n  \"total\": ").append(String.format(Locale.ROOT, "{\"server_rx\": %d, \"enqueued\": %d, "
                + "\"ring_drops\": %d, \"client_rx\": %d, \"client_tx\": %d, \"client_tx_drops\": %d, \"drained\": %d}",
                rxAll, t[0], t[1], t[2], t[3], t[4], t[5]));
        sb.append(",\n  \"ipc\": ").append(ipc.toJson()); // the primary's channel: datagrams dropped by cause
        if (sim != null) {
            sb.append(",\n  \"devsim\": ").append(sim.json());
        }
        sb.append(",\n  \"queues_reset\": ").append(sp.queuesReset()).append(",\n  \"mbufs_reclaimed\": ")
                .append(sp.mbufsReclaimed());
        sb.append(",\n  \"audit\": ").append(String.format(Locale.ROOT,
                "{\"total\": %d, \"in_ring\": %d, \"in_caches\": %d, \"in_use\": %d, \"leaked\": %d, \"dead_owner\": %d, "
                        + "\"duplicates\": %d, \"invalid\": %d, \"clean\": %b}",
                audit.total(), audit.inRing(), audit.inCaches(), audit.inUse(), audit.leaked().length,
                audit.deadOwner().length, audit.duplicates().length, audit.invalid().length, audit.isClean()));
        sb.append("\n}\n");
        Files.writeString(file, sb);
    }
}
