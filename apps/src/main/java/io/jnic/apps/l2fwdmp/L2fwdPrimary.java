package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.PrimaryPorts;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.apps.l2fwdmp.L2fwdMp.AppOptions;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.MbufDescriptor;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.pdump.PdumpService;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SharedPorts;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/**
 * l2fwd-mp's primary (proc-id 0): probes the ports (simulated 82599s when none is given), sizes and creates the
 * mbuf pool, starts every port with {@code --num-procs} queue pairs, serves them to the secondaries (queue
 * hand-over, port statistics, pdump, link and reset events), forwards on queue pair 0, and at the end stops the
 * secondaries and the ports and audits the pool.
 */
final class L2fwdPrimary {
    private final AppOptions app;
    private final EalOptions eal;
    private final PrintStream out;
    private final CommandLine cmd;
    private final PortEvents events;
    private final ForwardLoop loop;

    /** {@code cmd}: the command line whose options a bad port mask is reported against. */
    L2fwdPrimary(AppOptions app, EalOptions eal, PrintStream out, CommandLine cmd, PortEvents events, ForwardLoop loop) {
        this.app = app;
        this.eal = eal;
        this.out = out;
        this.cmd = cmd;
        this.events = events;
        this.loop = loop;
    }

    /** Probes and starts the ports, serves them to the secondaries, forwards queue pair 0, then ends the group. */
    int run(MpRuntime rt, int[] portIds) throws Exception {
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
            throw new CommandLine.ParameterException(cmd, "-p " + o.portmask + " names port " + maxPort + " but there are " + nports + " ports (0.."
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
                    io.jnic.mp.ethdev.PortStatsService.serve(rt, devs); // proc-info's --stats/--xstats
                    PdumpService.serve(rt); // ./jnic pdump
                    sp.addLinkListener(events::onLink);
                    sp.addResetListener(events::onReset);
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
                    loop.run(rt, stats, portIds, io, ports.table(), sim, true);
                    double secs = (System.nanoTime() - start) / 1e9;
                    // the group ends with the primary: ask the secondaries to finish and wait for them
                    stats.requestStop();
                    waitSecondaries(rt);
                    pp.stop(); // returns every ring's mbufs, whichever process drove the queue
                    MempoolAudit audit = pool.audit(l -> true);
                    out.println("l2fwd-mp: mempool after stop: " + audit);
                    if (o.statsJson != null) {
                        StatsJson.write(o.statsJson, o, events, rt, stats, portIds, secs, sim, audit, sp);
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

    /** "--proc-id N" of the process whose pid its stats slot holds (the id the user gave it), or why not known. */
    private String procIdOf(ProcStats stats, int pid) {
        for (int q = 1; q < app.numProcs; q++) {
            if (stats.pid(q) == pid) {
                return "--proc-id " + q;
            }
        }
        return "--proc-id unknown: it ended before it took its queue pair";
    }
}
