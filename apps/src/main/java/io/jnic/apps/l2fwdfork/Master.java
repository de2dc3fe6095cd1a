package io.jnic.apps.l2fwdfork;

import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.apps.common.ProcRates;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.apps.l2fwdfork.L2fwdFork.ResetMode;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.SecondaryExit;
import io.jnic.multiproc.SecondaryInfo;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SharedPorts;
import io.jnic.sys.Proc;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The master of l2fwd-fork: the primary. It sets up and shares the ports, starts the worker processes (child
 * JVMs of this class path, {@code --proc-type secondary --worker SLOT}), watches them and recovers from their
 * deaths, prints a table per worker and ends the group.
 *
 * <p>Recovery order, per queue pair: the runtime notices the death on the worker's pidfd and runs its
 * reclaimers (the dead lcores' mempool caches flushed; mp-ethdev resets the worker's queue pairs and returns the
 * mbufs it held) before it releases the worker's lcores and calls the exit callbacks. The master waits for
 * that callback, so a new worker finds its queues reset and its lcore free.
 */
final class Master {
    /** SIGTERM, then SIGKILL after this long, for workers the master stops. */
    private static final long STOP_GRACE_NS = TimeUnit.SECONDS.toNanos(5);
    /** The runtime's recovery of a registered worker normally ends within milliseconds. */
    private static final long RECOVERY_WAIT_NS = TimeUnit.SECONDS.toNanos(10);
    /** A worker that died before it attached may not have registered: its recovery is not waited for longer. */
    private static final long UNREGISTERED_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long RESTART_WINDOW_NS = TimeUnit.SECONDS.toNanos(60);
    /** A restarted worker without traffic is reported as attached after this long. */
    private static final long NO_TRAFFIC_REPORT_NS = TimeUnit.SECONDS.toNanos(10);

    private final L2fwdFork cmd;
    private final L2fwdFork.AppOptions o;
    private final EalOptions eal;
    private final int[] portIds;
    private final ResetMode requested;
    private final PrintStream out;
    private volatile boolean running = true;
    private volatile boolean ending;
    private final LinkedBlockingQueue<Death> deaths = new LinkedBlockingQueue<>();
    /** pid of a worker whose recovery the runtime finished -> queue pairs reset, mbufs reclaimed for it. */
    private final Map<Integer, long[]> recovered = new ConcurrentHashMap<>();
    private final List<String> recoveries = new ArrayList<>();
    private long lastQueuesReset;
    private long lastMbufsReclaimed;
    private Spare[] spareList = new Spare[0];
    private Spares spareTable;
    /** Spares that end before they are ready this many times in a row are not started again. */
    private static final int SPARE_FAILURES = 3;

    /** A worker slot: the process that has it now and its history. */
    private static final class Slot {
        final int id;
        Process process;
        int lcore = -1; // pinned workers: their -l lcore
        int restarts;
        boolean fromSpare; // its worker was a spare
        final ArrayDeque<Long> restartTimes = new ArrayDeque<>();
        boolean givenUp;
        boolean stopping; // the master is stopping it (port reset, end)
        Recovery pending;

        Slot(int id) {
            this.id = id;
        }

        int pid() {
            return process == null ? 0 : (int) process.pid();
        }
    }

    private record Death(Process process, long noticedNs) {
    }

    /** An entry of the spare table: the spare process started for it, if any. */
    private static final class Spare {
        final int index;
        Process process;
        int failures; // spares that ended before they were ready, in a row
        boolean disabled;
        int handedOverPid; // given a slot, not yet acknowledged

        Spare(int index) {
            this.index = index;
        }
    }

    /** A restart under way: reported once the new worker forwards. */
    private static final class Recovery {
        int slot;
        int oldPid;
        String how;
        long deathNs;
        long recoveredNs;
        long spawnNs;
        /** When the master first saw the new worker in its slot (attached to its queues); 0: not yet. */
        long attachedNs;
        boolean spare;
        int newPid;
        String reset;
        long queuesReset;
        long mbufsReclaimed;
        List<Integer> alsoRestarted = List.of();
    }

    Master(L2fwdFork cmd, int[] portIds, ResetMode reset) {
        this.cmd = cmd;
        this.o = cmd.app;
        this.eal = cmd.eal;
        this.portIds = portIds;
        this.requested = reset;
        this.out = cmd.out();
    }

    /** Pinned workers take the -l lcores; the master then claims none (it only supervises). */
    private boolean floating() {
        return o.floating || eal.lcores().isEmpty();
    }

    int run() throws Exception {
        EalOptions mine = EalOptions.parse(masterEalArgs().toArray(String[]::new));
        // SIGTERM/Ctrl-C: the main thread stops the workers and audits the pool before the JVM exits
        GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(60));
        try (MpRuntime rt = MpRuntime.start(mine)) {
            return serve(rt);
        } finally {
            exit.close();
        }
    }

    private List<String> masterEalArgs() {
        List<String> a = new ArrayList<>(List.of("--proc-type", "primary"));
        a.addAll(sharedEalArgs());
        eal.memoryMb().ifPresent(m -> a.addAll(List.of("-m", Integer.toString(m))));
        eal.allow().forEach(d -> a.addAll(List.of("-a", d)));
        eal.block().forEach(d -> a.addAll(List.of("-b", d)));
        eal.vdevs().forEach(d -> a.addAll(List.of("--vdev", d)));
        if (floating() && !eal.lcores().isEmpty()) {
            a.addAll(List.of("-l", eal.lcores().toString()));
        }
        return a;
    }

    private List<String> sharedEalArgs() {
        List<String> a = new ArrayList<>(List.of("--file-prefix", eal.filePrefix()));
        if (eal.noHuge()) {
            a.add("--no-huge");
        }
        eal.hugeDir().ifPresent(d -> a.addAll(List.of("--huge-dir", d.toString())));
        eal.logLevel().ifPresent(l -> a.addAll(List.of("--log-level", l.name())));
        return a;
    }

    private int serve(MpRuntime rt) throws Exception {
        SimulatedPorts sim = null;
        List<String> devices = o.ports.pciDevices(eal);
        sim = o.ports.simulatedIfNone(L2fwdFork.NAME, eal, devices, rt.runtimeDir(), out);
        try {
            return serve(rt, devices, sim);
        } finally {
            if (sim != null) {
                sim.close();
            }
        }
    }

    private int serve(MpRuntime rt, List<String> devices, SimulatedPorts sim) throws Exception {
        int nports = devices.size() + eal.vdevs().size();
        int maxPort = portIds[portIds.length - 1];
        if (maxPort >= nports) {
            throw new IllegalArgumentException("-p " + o.portmask + " names port " + maxPort + " but there are " + nports
                    + " ports (0.." + (nports - 1) + ")");
        }
        int n = o.workers;
        int perQueue = 2 * o.ports.ring + 2 * o.ports.burst;
        int count = Math.max(8191, Integer.highestOneBit(n * nports * perQueue + 4096) * 2 - 1);
        MempoolConfig pc = MempoolConfig.of("l2fwd_fork_pool", 1, count);
        long page = rt.memory().pageSize().bytes();
        long ringBytes = Long.highestOneBit((128L + 24L * o.ports.ring) * 2 - 1);
        rt.addMemory(Mempool.bytesNeeded(pc, page) + 2L * nports * n * (ringBytes + page) + (8L << 20));
        try (EthPorts ports = new EthPorts(rt.memory())) {
            Memzone z = rt.reserve("l2fwd_fork.pool", Mempool.bytesNeeded(pc, page), page);
            try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                PrimaryPorts pp = PrimaryPorts.probe(ports, devices, eal.vdevs());
                try {
                    List<EthDevice> devs = pp.devices();
                    for (int p : portIds) {
                        EthDevice d = devs.get(p);
                        int max = Math.min(d.info().maxRxQueues(), d.info().maxTxQueues());
                        if (n > max) {
                            throw new IllegalArgumentException("--workers " + n + " needs " + n + " queue pairs per port "
                                    + "but port " + p + " (" + d.info().driverName() + ") has " + max + "; start at most "
                                    + max + " workers");
                        }
                    }
                    ResetMode mode = effectiveMode(devs);
                    pp.start(n, n, o.ports.ring, pool, n > 1, out);
                    for (int p : portIds) {
                        EthDevice d = devs.get(p);
                        if (pp.shared().get(d) == null && d.queueAccess(0) == null) {
                            throw new IllegalArgumentException("port " + p + " (" + d.deviceName() + ", "
                                    + d.info().driverName() + ") cannot be handed to worker processes: its queues live in "
                                    + "the master's own memory (share a PCI port, a vfio-user device or a virtio_user "
                                    + "port)");
                        }
                    }
                    QueueOwners owners = QueueOwners.create(rt.memory(), n);
                    ProcStats stats = ProcStats.create(rt, L2fwdFork.STATS_MEMZONE, n);
                    try (SharedPorts sp = SharedPorts.serve(rt, owners, pp.shared(), List.of(pool))) {
                        rt.onSecondaryExit(x -> onRecovered(x, sp));
                        out.println("l2fwd-fork: master pid " + rt.pid() + ", " + n + " worker(s) on "
                                + (floating() ? "floating lcores" : "lcores " + eal.lcores()) + ", reset per " + mode
                                        .name().toLowerCase(Locale.ROOT) + (requested == ResetMode.AUTO ? " (auto)" : "")
                                + ", at most " + o.maxRestarts + " restarts per worker per minute");
                        return supervise(rt, pp, pool, stats, sp, sim, mode);
                    }
                } finally {
                    pp.close();
                }
            }
        }
    }

    /**
     * {@code --reset auto}: per queue pair when every port resets a single queue pair
     * ({@link EthDevice#resetsQueuePairs}), else per port.
     */
    private ResetMode effectiveMode(List<EthDevice> devs) {
        if (requested != ResetMode.AUTO) {
            return requested;
        }
        for (int p : portIds) {
            if (!devs.get(p).resetsQueuePairs()) {
                out.println("l2fwd-fork: port " + p + " (" + devs.get(p).info().driverName() + ") cannot reset one queue "
                        + "pair: a worker's death restarts its ports and every worker on them");
                return ResetMode.PORT;
            }
        }
        return ResetMode.QUEUE;
    }

    /** The runtime's exit callback (watcher thread): recovery of {@code x} is complete. */
    private synchronized void onRecovered(SecondaryExit x, SharedPorts sp) {
        long q = sp.queuesReset();
        long m = sp.mbufsReclaimed();
        recovered.put(x.secondary().pid(), new long[] {q - lastQueuesReset, m - lastMbufsReclaimed});
        lastQueuesReset = q;
        lastMbufsReclaimed = m;
    }

    // ---------------------------------------------------------------------------------------------
    // Supervision

    private int supervise(MpRuntime rt, PrimaryPorts pp, Mempool pool, ProcStats stats, SharedPorts sp,
            SimulatedPorts sim, ResetMode mode) throws Exception {
        Slot[] slots = new Slot[o.workers];
        for (int w = 0; w < slots.length; w++) {
            slots[w] = new Slot(w);
            if (!floating()) {
                slots[w].lcore = eal.lcores().ids()[w];
            }
        }
        for (Slot s : slots) {
            String why = spawn(rt, stats, s);
            if (why != null) {
                throw new IllegalStateException(why);
            }
        }
        int nspares = o.spares >= 0 ? o.spares : floating() ? 1 : 0;
        spareTable = Spares.create(rt, nspares);
        spareList = new Spare[nspares];
        for (int i = 0; i < nspares; i++) {
            spareList[i] = new Spare(i);
        }
        if (nspares > 0) {
            out.println("l2fwd-fork: " + nspares + " spare worker(s) wait to replace a dead one (--spares)");
        }
        if (sim != null) {
            sim.startGenerators();
        }
        long start = System.nanoTime();
        long periodNs = o.period * 1_000_000_000L;
        long next = start + (o.period > 0 ? periodNs : Long.MAX_VALUE / 2);
        long end = o.duration > 0 ? start + o.duration * 1_000_000_000L : Long.MAX_VALUE;
        ProcRates table = new ProcRates(stats, portIds, slots.length);
        table.snapshot(start);
        int rc = 0;
        while (running) {
            Death d = deaths.poll(20, TimeUnit.MILLISECONDS);
            if (!running) {
                break; // Ctrl-C reaches the workers too: no restarts while the group ends
            }
            Slot dead = d == null ? null : slotOf(slots, d.process);
            if (d != null && dead == null) {
                spareEnded(d.process);
            }
            if (dead != null && !dead.stopping) {
                if (mode == ResetMode.PORT) {
                    recoverPorts(rt, pp, pool, stats, slots, dead, d);
                } else {
                    recoverQueues(rt, stats, dead, d);
                }
                if (Arrays.stream(slots).allMatch(s -> s.givenUp)) {
                    out.println("l2fwd-fork: every worker slot has been given up; the master ends");
                    rc = 1;
                    break;
                }
            }
            refillSpares();
            long now = System.nanoTime();
            reportRecoveries(stats, slots, now);
            if (now - end >= 0) {
                break;
            }
            if (now - next >= 0) {
                say(render(table, stats, slots, now));
                next += periodNs;
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        ending = true;
        stopGroup(rt, stats, slots, sim, table);
        for (Slot s : slots) {
            // what the workers that ended cleanly left in their lcores' caches
            flushCache(rt, pool, s.lcore >= 0 ? s.lcore : stats.pid(s.id) != 0 ? stats.lcore(s.id) : -1);
        }
        pp.stop(); // every ring's mbufs back to the pool, whichever process drove the queue
        MempoolAudit audit = pool.audit(l -> true);
        out.println("l2fwd-fork: mempool after stop: " + audit);
        if (o.statsJson != null) {
            writeJson(o.statsJson, stats, slots, secs, sim, audit, mode, sp, rt.ipc().stats());
        }
        return rc;
    }

    private static Slot slotOf(Slot[] slots, Process p) {
        for (Slot s : slots) {
            if (s.process == p) {
                return s;
            }
        }
        return null;
    }

    /** A spare ended while it waited (killed, or failed to start): its entry gets a new one, unless that keeps failing. */
    private void spareEnded(Process p) {
        for (Spare sp : spareList) {
            if (sp.process != p) {
                continue;
            }
            boolean wasReady = spareTable.pid(sp.index) == p.pid();
            sp.process = null;
            spareTable.pid(sp.index, 0);
            sp.failures = wasReady ? 0 : sp.failures + 1;
            if (sp.failures >= SPARE_FAILURES && !ending) {
                sp.disabled = true;
                out.println("l2fwd-fork: spare " + sp.index + " ended before it was ready " + sp.failures + " times in a "
                        + "row (" + describeExit(p.exitValue(), false) + "); no more spares in this entry, dead workers "
                        + "are replaced by new processes");
            }
        }
    }

    /** Starts a spare in every entry that has none (its last one took a slot and said so, or ended). */
    private void refillSpares() throws IOException {
        for (Spare sp : spareList) {
            if (sp.disabled || ending || !running) {
                continue;
            }
            if (sp.handedOverPid != 0) {
                if (spareTable.pid(sp.index) == sp.handedOverPid && Proc.isAlive(sp.handedOverPid)) {
                    continue; // it has not taken its slot yet
                }
                sp.handedOverPid = 0;
                spareTable.pid(sp.index, 0);
            }
            if (sp.process == null) {
                spareTable.assign(sp.index, -1);
                sp.process = launch(-1, List.of("--spare", Integer.toString(sp.index)));
            }
        }
    }

    /** A spare that is ready, given slot {@code s}; false when none is. */
    private boolean handOver(Slot s) {
        for (Spare sp : spareList) {
            Process p = sp.process;
            if (p == null || !p.isAlive() || spareTable.pid(sp.index) != p.pid()) {
                continue;
            }
            sp.process = null;
            sp.handedOverPid = (int) p.pid();
            s.process = p;
            s.stopping = false;
            s.fromSpare = true;
            spareTable.assign(sp.index, s.id);
            return true;
        }
        return false;
    }

    /** Starts the worker of slot {@code s} (a ready spare takes it, else a new process); returns why it cannot, or null. */
    private String spawn(MpRuntime rt, ProcStats stats, Slot s) throws IOException {
        stats.forwardingSince(s.id, 0);
        stats.generation(s.id, s.restarts);
        if (s.lcore < 0 && handOver(s)) {
            return null;
        }
        if (s.lcore >= 0) {
            int holder = rt.lcoreTable().holder(s.lcore);
            if (holder != 0 && Proc.isAlive(holder)) {
                return "lcore " + s.lcore + " (worker " + s.id + "'s) is held by pid " + holder + "; give the workers free "
                        + "lcores with -l, or -f for floating workers";
            }
        }
        s.process = launch(s.lcore, List.of("--worker", Integer.toString(s.id)));
        s.stopping = false;
        s.fromSpare = false;
        return null;
    }

    /** A worker JVM: this class path and main class, a secondary of this group, then {@code role} after --. */
    private Process launch(int lcore, List<String> role) throws IOException {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        c.add("--enable-native-access=ALL-UNNAMED");
        // several JVMs on one machine: a small heap and the serial collector (the data path allocates nothing)
        c.add("-XX:+UseSerialGC");
        c.add("-Xmx256m");
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("jnic.") || k.equals("java.util.logging.config.file")) {
                c.add("-D" + k + "=" + System.getProperty(k));
            }
        }
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(L2fwdFork.class.getName());
        c.addAll(List.of("--proc-type", "secondary"));
        c.addAll(sharedEalArgs());
        if (lcore >= 0) {
            c.addAll(List.of("-l", Integer.toString(lcore)));
        }
        c.add("--");
        c.addAll(role);
        c.addAll(List.of("--workers", Integer.toString(o.workers), "-p", o.portmask, "--burst", Integer.toString(o.ports.burst)));
        if (!o.macUpdating) {
            c.add("--no-mac-updating");
        }
        Process p = new ProcessBuilder(c).inheritIO().start();
        p.onExit().thenAccept(x -> deaths.add(new Death(x, System.nanoTime())));
        return p;
    }

    /** Per queue pair: the runtime has reset the dead worker's queues; wait for it, then start a new worker. */
    private void recoverQueues(MpRuntime rt, ProcStats stats, Slot s, Death d) throws IOException, InterruptedException {
        int pid = (int) d.process.pid();
        long[] r = awaitRecovery(rt, stats, s, pid);
        Recovery rec = new Recovery();
        rec.reset = "queue pair " + s.id + " of ports " + Arrays.toString(portIds);
        rec.queuesReset = r[0];
        rec.mbufsReclaimed = r[1];
        restart(rt, stats, s, d, rec);
    }

    /**
     * Per port (DPDK l2fwd_fork): every worker drives a queue pair of every port, so all are dependents of the
     * dead one. Stop them (SIGTERM, SIGKILL after a grace period), stop and start the ports (every ring's mbufs
     * back to the pool, the devices initialised again), then start new workers.
     */
    private void recoverPorts(MpRuntime rt, PrimaryPorts pp, Mempool pool, ProcStats stats, Slot[] slots, Slot dead,
            Death d) throws IOException, InterruptedException {
        long[] r = awaitRecovery(rt, stats, dead, (int) d.process.pid());
        List<Slot> dependents = new ArrayList<>();
        for (Slot s : slots) {
            if (s != dead && s.process != null && s.process.isAlive()) {
                dependents.add(s);
            }
        }
        stopWorkers(rt, stats, dependents);
        int lcores = 0;
        for (Slot s : dependents) {
            lcores += flushCache(rt, pool, stats.lcore(s.id));
        }
        int before = pool.availableCount();
        pp.stop();
        int returned = pool.availableCount() - before;
        for (EthDevice dev : pp.devices()) {
            dev.start();
        }
        Recovery rec = new Recovery();
        rec.reset = "ports " + Arrays.toString(portIds) + " stopped and started (" + returned + " ring mbufs back to the "
                + "pool" + (lcores > 0 ? ", " + lcores + " from stopped workers' caches" : "") + ")";
        rec.queuesReset = r[0];
        rec.mbufsReclaimed = r[1] + returned + lcores;
        List<Integer> also = new ArrayList<>();
        for (Slot s : dependents) {
            also.add(s.id);
        }
        rec.alsoRestarted = also;
        restart(rt, stats, dead, d, rec);
        for (Slot s : dependents) {
            s.restarts++;
            long spawnNs = System.nanoTime(); // before the hand-over, as in restart()
            String why = spawn(rt, stats, s);
            if (why != null) {
                giveUp(s, why);
                continue;
            }
            Recovery dr = new Recovery();
            dr.slot = s.id;
            dr.deathNs = d.noticedNs;
            dr.spawnNs = spawnNs;
            dr.newPid = s.pid();
            dr.how = null; // a dependent: reported only in the dead worker's line and the JSON
            s.pending = dr;
        }
    }

    /** SIGTERM, then SIGKILL after {@link #STOP_GRACE_NS}; returns once the runtime has let go of each. */
    private void stopWorkers(MpRuntime rt, ProcStats stats, List<Slot> ws) throws InterruptedException {
        for (Slot s : ws) {
            s.stopping = true;
            s.process.destroy();
        }
        long deadline = System.nanoTime() + STOP_GRACE_NS;
        for (Slot s : ws) {
            long left = deadline - System.nanoTime();
            if (!s.process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                out.println("l2fwd-fork: worker " + s.id + " (pid " + s.pid() + ") did not stop within "
                        + TimeUnit.NANOSECONDS.toSeconds(STOP_GRACE_NS) + " s of SIGTERM: SIGKILL");
                s.process.destroyForcibly();
                s.process.waitFor();
            }
        }
        for (Slot s : ws) {
            awaitRecovery(rt, stats, s, s.pid());
        }
    }

    /**
     * Until the runtime has recovered {@code pid} (its exit callback ran); a worker that died before it
     * registered has nothing to recover.
     *
     * @return queue pairs reset and mbufs reclaimed for it
     */
    private long[] awaitRecovery(MpRuntime rt, ProcStats stats, Slot s, int pid) throws InterruptedException {
        long t0 = System.nanoTime();
        for (;;) {
            long[] r = recovered.remove(pid);
            if (r != null) {
                return r;
            }
            long waited = System.nanoTime() - t0;
            boolean registered = stats.pid(s.id) == pid || isSecondary(rt, pid);
            if (!registered && waited > UNREGISTERED_WAIT_NS || waited > RECOVERY_WAIT_NS) {
                if (registered) {
                    out.println("l2fwd-fork: the runtime did not finish recovering worker " + s.id + " (pid " + pid
                            + ") within " + TimeUnit.NANOSECONDS.toSeconds(RECOVERY_WAIT_NS) + " s; starting a new "
                            + "worker anyway");
                }
                return new long[2];
            }
            Thread.sleep(2);
        }
    }

    private static boolean isSecondary(MpRuntime rt, int pid) {
        for (SecondaryInfo i : rt.secondaries()) {
            if (i.pid() == pid) {
                return true;
            }
        }
        return false;
    }

    /** Starts a new worker in {@code s} unless it restarted too often; the report follows once it forwards. */
    private void restart(MpRuntime rt, ProcStats stats, Slot s, Death d, Recovery rec) throws IOException {
        int oldPid = (int) d.process.pid();
        rec.slot = s.id;
        rec.oldPid = oldPid;
        rec.how = describeExit(d.process.exitValue(), stats.pid(s.id) == oldPid);
        rec.deathNs = d.noticedNs;
        long now = System.nanoTime();
        while (!s.restartTimes.isEmpty() && now - s.restartTimes.peekFirst() > RESTART_WINDOW_NS) {
            s.restartTimes.pollFirst();
        }
        if (s.restartTimes.size() >= o.maxRestarts) {
            giveUp(s, "worker " + s.id + " (pid " + oldPid + ") " + rec.how + "; it was restarted " + s.restartTimes.size()
                    + " times within " + TimeUnit.NANOSECONDS.toSeconds(RESTART_WINDOW_NS) + " s (--max-restarts "
                    + o.maxRestarts + "): giving up on slot " + s.id + ", its queue pair " + s.id + " stays idle");
            return;
        }
        s.restartTimes.addLast(now);
        s.restarts++;
        rec.recoveredNs = now;
        // taken before the hand-over: a spare may forward (and stamp the slot) before spawn() returns
        rec.spawnNs = System.nanoTime();
        String why = spawn(rt, stats, s);
        if (why != null) {
            giveUp(s, why);
            return;
        }
        rec.spare = s.fromSpare;
        rec.newPid = s.pid();
        s.pending = rec;
    }

    private void giveUp(Slot s, String why) {
        s.givenUp = true;
        s.pending = null;
        s.process = null;
        out.println("l2fwd-fork: " + why);
    }

    /** Prints the restarts whose new worker forwards now (or has attached and seen no traffic for a while). */
    private void reportRecoveries(ProcStats stats, Slot[] slots, long now) {
        for (Slot s : slots) {
            Recovery r = s.pending;
            if (r == null || s.process == null || r.newPid != s.pid()) {
                continue;
            }
            long since = stats.forwardingSince(s.id);
            boolean attached = stats.pid(s.id) == r.newPid;
            if (attached && r.attachedNs == 0) {
                r.attachedNs = now;
            }
            boolean forwarding = isForwarding(since, stats.pid(s.id), r);
            // quiet: attached for a while and nothing forwarded since. Counted from the attach, not from the
            // spawn: a new JVM on a busy machine may take seconds to start and attach.
            boolean quiet = !forwarding && attached && now - r.attachedNs > NO_TRAFFIC_REPORT_NS;
            if (!forwarding && !quiet) {
                continue;
            }
            s.pending = null;
            double ms = forwarding ? (since - r.deathNs) / 1e6 : -1;
            if (r.how == null) {
                recoveries.add(String.format(Locale.ROOT, "{\"slot\": %d, \"dependent\": true, \"new_pid\": %d, "
                        + "\"recovery_ms\": %.1f}", s.id, r.newPid, ms));
                continue;
            }
            double recoveredMs = (r.recoveredNs - r.deathNs) / 1e6;
            say(String.format(Locale.ROOT, "l2fwd-fork: worker %d (pid %d) %s; reset %s; %d queue pair(s) reset, %d mbufs "
                    + "reclaimed%s (%.1f ms); new worker pid %d (%s) %s%n", s.id, r.oldPid, r.how, r.reset, r.queuesReset,
                    r.mbufsReclaimed, r.alsoRestarted.isEmpty() ? "" : "; workers " + r.alsoRestarted
                            + " stopped and restarted too", recoveredMs, r.newPid, r.spare ? "a spare" : "a new process",
                    forwarding ? String.format(Locale.ROOT, "forwarding %.1f ms after the death", ms)
                            : "attached but has forwarded nothing in the " + NO_TRAFFIC_REPORT_NS / 1_000_000_000L
                                    + " s since (no traffic?)"));
            recoveries.add(String.format(Locale.ROOT, "{\"slot\": %d, \"old_pid\": %d, \"exit\": \"%s\", \"reset\": \"%s\", "
                    + "\"queue_pairs_reset\": %d, \"mbufs_returned\": %d, \"also_restarted\": %s, \"reset_ms\": %.1f, "
                    + "\"new_pid\": %d, \"spare\": %b, \"recovery_ms\": %.1f}", s.id, r.oldPid, r.how, r.reset, r.queuesReset,
                    r.mbufsReclaimed, r.alsoRestarted, recoveredMs, r.newPid, r.spare, ms));
        }
    }

    /**
     * Whether the new worker of a restarted slot forwards: spawn() zeroed the slot's first-forward stamp before it
     * launched or handed over, so a stamp now is the new worker's, once the slot names it. (Comparing the stamp
     * with a time taken after spawn() returned called a spare that forwarded at once "quiet": its stamp was
     * earlier than that time.)
     */
    private static boolean isForwarding(long forwardingSince, int slotPid, Recovery r) {
        return forwardingSince != 0 && slotPid == r.newPid && forwardingSince - r.spawnNs >= 0;
    }

    /** "killed by signal 9 (SIGKILL)" or "exited with status 1"; the JDK reports a signal as 128 + its number. */
    static String describeExit(int status, boolean attached) {
        String s;
        if (status > 128 && status < 128 + 32) {
            int sig = status - 128;
            String name = switch (sig) {
                case 2 -> "SIGINT";
                case 6 -> "SIGABRT";
                case 9 -> "SIGKILL";
                case 11 -> "SIGSEGV";
                case 15 -> "SIGTERM";
                default -> null;
            };
            s = "was killed by signal " + sig + (name == null ? "" : " (" + name + ")");
        } else {
            s = "exited with status " + status;
        }
        return attached ? s : s + " before it attached its queues (its error is above)";
    }

    private static int flushCache(MpRuntime rt, Mempool pool, int lcore) {
        if (lcore < 0 || lcore >= pool.maxLcores()) {
            return 0;
        }
        int holder = rt.lcoreTable().holder(lcore);
        if (holder != 0 && Proc.isAlive(holder)) {
            return 0; // someone uses that lcore now: its cache is theirs
        }
        return pool.flushCache(lcore);
    }

    /**
     * The end: generators stop, the workers forward what is still in the rings, then are asked to finish (the
     * stop flag; SIGTERM and SIGKILL for those that do not).
     */
    private void stopGroup(MpRuntime rt, ProcStats stats, Slot[] slots, SimulatedPorts sim, ProcRates table)
            throws InterruptedException {
        if (sim != null) {
            sim.stopGenerators();
            long drainEnd = System.nanoTime() + 3_000_000_000L;
            long lastDev = -1;
            long lastRx = -1;
            while (System.nanoTime() - drainEnd < 0) {
                Thread.sleep(200);
                long dev = sim.rxDmaTotal();
                long rx = table.total(ProcStats.RX);
                if (dev == lastDev && rx == lastRx) {
                    break;
                }
                lastDev = dev;
                lastRx = rx;
            }
        }
        stats.requestStop();
        List<Slot> live = new ArrayList<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (Slot s : slots) {
            if (s.process != null) {
                s.stopping = true;
                live.add(s);
            }
        }
        for (Slot s : live) {
            if (!s.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                s.process.destroy();
            }
        }
        stopWorkers(rt, stats, live.stream().filter(s -> s.process.isAlive()).toList());
        for (Spare sp : spareList) {
            Process p = sp.process;
            if (p != null && !p.waitFor(5, TimeUnit.SECONDS)) { // a waiting spare sees the stop flag within 1 ms
                p.destroyForcibly();
            }
        }
        long end = System.nanoTime() + 10_000_000_000L;
        while (!rt.secondaries().isEmpty() && System.nanoTime() - end < 0) {
            Thread.sleep(20);
        }
        for (Slot s : live) {
            int rc = s.process.exitValue();
            if (rc != 0) {
                out.println("l2fwd-fork: worker " + s.id + " (pid " + s.pid() + ") " + describeExit(rc, true) + " at the end");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Output

    /** The per-worker table: rates since the last call. */
    private static String render(ProcRates rates, ProcStats stats, Slot[] slots, long now) {
        rates.advance(now);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-6s %-8s %-6s %-9s %10s %10s %12s%n", "worker", "pid", "lcore",
                "restarts", "rx Mpps", "tx Mpps", "drops/s"));
        double trx = 0;
        double ttx = 0;
        double td = 0;
        for (int w = 0; w < slots.length; w++) {
            Slot s = slots[w];
            int pid = s.pid();
            boolean attached = pid != 0 && stats.pid(w) == pid;
            String p = s.givenUp ? "given-up" : pid == 0 ? "-" : attached ? Integer.toString(pid) : pid + "*";
            sb.append(String.format(Locale.ROOT, "%-6d %-8s %-6s %-9d %10.3f %10.3f %12.0f%n", w, p,
                    attached ? Integer.toString(stats.lcore(w)) : "-", s.restarts, rates.rxMpps(w), rates.txMpps(w),
                    rates.dropsPerSec(w)));
            trx += rates.rxMpps(w);
            ttx += rates.txMpps(w);
            td += rates.dropsPerSec(w);
        }
        sb.append(String.format(Locale.ROOT, "%-6s %-8s %-6s %-9s %10.3f %10.3f %12.0f%n%n", "total", "", "", "", trx,
                ttx, td));
        return sb.toString();
    }

    private void writeJson(Path file, ProcStats stats, Slot[] slots, double secs, SimulatedPorts sim, MempoolAudit audit,
            ResetMode mode, SharedPorts sp, io.jnic.multiproc.ipc.IpcStats ipc) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"workers\": ").append(slots.length).append(",\n  \"reset\": \"")
                .append(mode.name().toLowerCase(Locale.ROOT)).append("\",\n  \"floating\": ").append(floating())
                .append(",\n  \"seconds\": ").append(String.format(Locale.ROOT, "%.3f", secs)).append(",\n  \"slots\": [");
        long trx = 0;
        long ttx = 0;
        long tdr = 0;
        for (int w = 0; w < slots.length; w++) {
            Slot s = slots[w];
            sb.append(w == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"slot\": %d, \"pid\": %d, \"lcore\": %d, "
                    + "\"restarts\": %d, \"given_up\": %b, \"ports\": [", w, stats.pid(w), stats.lcore(w), s.restarts, s.givenUp));
            for (int i = 0; i < portIds.length; i++) {
                int p = portIds[i];
                long rx = stats.get(w, p, ProcStats.RX);
                long tx = stats.get(w, p, ProcStats.TX);
                long dr = stats.get(w, p, ProcStats.DROPS);
                trx += rx;
                ttx += tx;
                tdr += dr;
                sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"port\": %d, \"rx\": %d, \"tx\": %d, \"tx_bytes\": %d, \"drops\": %d}", p, rx, tx,
                        stats.get(w, p, ProcStats.TX_BYTES), dr));
            }
            sb.append("]}");
        }
        sb.append("\n  ],\n  \"total\": ").append(String.format(Locale.ROOT,
                "{\"rx\": %d, \"tx\": %d, \"drops\": %d, \"mpps\": %.4f}", trx, ttx, tdr, secs > 0 ? ttx / secs / 1e6 : 0));
        sb.append(",\n  \"recoveries\": [");
        for (int i = 0; i < recoveries.size(); i++) {
            sb.append(i == 0 ? "\n    " : ",\n    ").append(recoveries.get(i));
        }
        sb.append(recoveries.isEmpty() ? "]" : "\n  ]");
        sb.append(",\n  \"queues_reset\": ").append(sp.queuesReset()).append(",\n  \"mbufs_reclaimed\": ")
                .append(sp.mbufsReclaimed());
        sb.append(",\n  \"ipc\": ").append(ipc.toJson()); // the master's channel: datagrams dropped by cause
        if (sim != null) {
            sb.append(",\n  \"devsim\": ").append(sim.json());
        }
        sb.append(",\n  \"audit\": ").append(String.format(Locale.ROOT,
                "{\"total\": %d, \"in_ring\": %d, \"in_caches\": %d, \"in_use\": %d, \"leaked\": %d, \"dead_owner\": %d, "
                        + "\"duplicates\": %d, \"invalid\": %d, \"clean\": %b}",
                audit.total(), audit.inRing(), audit.inCaches(), audit.inUse(), audit.leaked().length,
                audit.deadOwner().length, audit.duplicates().length, audit.invalid().length, audit.isClean()));
        sb.append("\n}\n");
        Files.writeString(file, sb);
    }

    /** One write per line: the workers and the master share one pipe or terminal. */
    private void say(String line) {
        out.print(line);
        out.flush();
    }
}
