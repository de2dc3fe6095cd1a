package io.jnic.apps.clientserver;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.mp.ethdev.SecondaryQueues;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * mp-client: DPDK's client_server_mp client. A secondary of {@link MpServer} that needs only its id: it finds
 * the ports, their pairing and the client count in the server's port info, attaches queue pair {@code ID + 1}
 * of every port (transmit only), takes bursts from its ring and sends each packet, unchanged, out of the port
 * paired with the one it arrived on; what the TX queue refuses is freed and counted.
 *
 * <p>Before dequeuing a burst it writes its lcore into the mbufs at the head of its ring (the ring is single
 * consumer, so they are exactly the ones it dequeues next): if it dies, the server's recovery finds every mbuf
 * it held by that owner and returns it to the pool.
 */
@Command(name = "mp-client", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Client of mp-server (DPDK client_server_mp): forwards what the server hands it",
            "to the paired port, on a TX queue of its own. Runs as a secondary unless --proc-type says otherwise."},
        footer = {"", "Examples:", "  mp-client -n 0", "  mp-client --file-prefix lab -n 1 --duration 10"})
public final class MpClient implements EalApplication {
    private static final System.Logger LOG = System.getLogger(MpClient.class.getName());

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean running = true;

    /** The options after {@code --}. */
    @Command(name = "mp-client-options")
    static final class AppOptions {
        @Option(names = "-n", paramLabel = "CLIENT_ID", required = true,
                description = "This client's id, 0..NUM_CLIENTS-1 of the server.")
        int clientId;

        @Option(names = "--burst", defaultValue = "32", description = "Packets per burst (1-512).")
        int burst;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until the server stops or Ctrl-C).")
        int duration;
    }

    public MpClient(PrintStream out, PrintStream err) {
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

    /** Runs the client (a secondary unless --proc-type says otherwise); returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare("mp-client", new MpClient(err, err), new AppOptions(), List.of(),
                AppArgs.secondaryByDefault(args), err);
        return Eal.run(new MpClient(out, err), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.clientId < 0 || o.clientId >= PortInfo.MAX_CLIENTS) {
            throw bad("-n " + o.clientId + " is out of range: client ids are 0.." + (PortInfo.MAX_CLIENTS - 1)
                    + " (and below the server's -n)");
        }
        if (o.burst < 1 || o.burst > 512) {
            throw bad("--burst must be 1-512, got " + o.burst);
        }
        if (eal.procType() == ProcType.PRIMARY) {
            throw bad("mp-client runs as a secondary of mp-server (--proc-type secondary); start mp-server first");
        }
        try {
            return run(o);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            err.println("mp-client: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            LOG.log(System.Logger.Level.DEBUG, "mp-client failed", e);
            return 1;
        }
    }

    private int run(AppOptions o) throws Exception {
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(10));
                MpRuntime rt = MpRuntime.start(eal)) {
            if (rt.isPrimary()) {
                throw new IllegalStateException("no mp-server runs for file prefix '" + rt.filePrefix() + "' (this process "
                        + "would have become the primary); start mp-server first");
            }
            return client(rt, o.clientId);
        }
    }

    private int client(MpRuntime rt, int id) {
        try (SecondaryQueues sq = SecondaryQueues.join(rt)) {
            PortInfo info = PortInfo.attach(rt.memory());
            if (id >= info.numClients()) {
                throw new IllegalStateException("-n " + id + " is out of range: the server (pid " + rt.primaryPid()
                        + ") serves " + info.numClients() + " client" + (info.numClients() == 1 ? "" : "s") + ", ids 0.."
                        + (info.numClients() - 1));
            }
            String ringName = PortInfo.ringName(id);
            Ring ring = Ring.attach(rt.memory().find(ringName).orElseThrow(() -> new IllegalStateException(
                    "the server shares no ring " + ringName)).memory());
            if (!ring.isSingleConsumer()) {
                throw new IllegalStateException("ring " + ringName + " is not single-consumer");
            }
            int[] ports = info.ports();
            for (int p : ports) {
                if (sq.table().state(p) != PortState.STARTED) {
                    throw new IllegalStateException("port " + p + " of the server is not started (state "
                            + sq.table().state(p) + ")");
                }
            }
            MpRuntime.FloatingLcore floating = rt.lcores().isEmpty() ? rt.attachFloatingThread() : null;
            try {
                int lcore = floating != null ? floating.id() : rt.lcores().first();
                if (floating == null) {
                    rt.pinCurrentThread(lcore);
                }
                QueuePair[] tx = new QueuePair[PortTable.MAX_PORTS];
                List<QueuePair> qs = new ArrayList<>();
                try {
                    for (int p : ports) {
                        QueuePair q;
                        try {
                            q = sq.attach(p, id + 1, lcore);
                        } catch (QueueOwners.QueueBusyException e) {
                            throw new IllegalStateException("client " + id + " already runs as pid " + e.ownerPid()
                                    + " (it drives queue " + (id + 1) + " of port " + p + "); give this client another "
                                    + "-n, or stop pid " + e.ownerPid() + " first");
                        }
                        qs.add(q);
                        tx[p] = q;
                        out.println("mp-client: client " + id + " (pid " + rt.pid() + ") attached queue " + (id + 1)
                                + " of port " + p + " (" + sq.table().deviceName(p) + ")");
                    }
                    int attaches = info.attached(id);
                    info.pid(id, rt.pid());
                    out.println("mp-client: client " + id + " forwards ring " + ringName + (attaches > 1
                            ? " (resumed: attach " + attaches + " of this id)" : "") + "; ports " + Arrays.toString(ports));
                    rt.onPrimaryExit(() -> running = false);
                    forward(rt, info, id, ring, tx, lcore);
                } finally {
                    for (QueuePair q : qs) {
                        q.close();
                    }
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
     * Makes this process the owner of the mbufs at the head of {@code ring} (up to {@code head.length}; the ring
     * is single consumer, so they are exactly the ones it dequeues next) and reads their input ports: if it dies
     * after dequeuing them, recovery finds them by owner (class comment). Returns how many.
     */
    static int own(Ring ring, long[] head, int[] inPort, Mbuf m, short owner) {
        int k = ring.peekAll(head);
        for (int i = 0; i < k; i++) {
            m.wrap(head[i]).owner(owner); // wrap checks the handle names an mbuf of an attached pool
            inPort[i] = m.port();
        }
        return k;
    }

    private void forward(MpRuntime rt, PortInfo info, int id, Ring ring, QueuePair[] tx, int lcore) {
        int burst = app.burst;
        int[] ports = info.ports();
        int[] pair = new int[PortTable.MAX_PORTS];
        boolean[] known = new boolean[PortTable.MAX_PORTS];
        for (int p : ports) {
            known[p] = true;
            pair[p] = info.pair(p);
        }
        MbufBatch[] outq = new MbufBatch[PortTable.MAX_PORTS];
        for (int p : ports) {
            outq[p] = new MbufBatch(burst);
        }
        long[] head = new long[burst];
        int[] inPort = new int[burst];
        long[] got = new long[burst];
        Mbuf m = new Mbuf();
        short owner = (short) lcore;
        // a restarted client continues its slot's counters, so that totals keep matching the devices
        long rx = info.get(id, PortInfo.RX);
        long sent = info.get(id, PortInfo.TX);
        long drops = info.get(id, PortInfo.TX_DROPS);
        long startSent = sent;
        long[] txPort = new long[PortTable.MAX_PORTS];
        for (int p : ports) {
            txPort[p] = info.txPort(id, p);
        }
        long start = System.nanoTime();
        long end = app.duration > 0 ? start + app.duration * 1_000_000_000L : Long.MAX_VALUE;
        int idle = 0;
        int loops = 0;
        for (;;) {
            int k = own(ring, head, inPort, m, owner);
            if (k > 0) {
                idle = 0;
                int d = ring.dequeueBurst(got, 0, k); // == k: this process is the only consumer
                rx += d;
                for (int i = 0; i < d; i++) {
                    int p = inPort[i];
                    if (got[i] != head[i] || p >= PortTable.MAX_PORTS || !known[p]) {
                        Mempool.free(got[i], lcore); // not from one of the server's ports
                        drops++;
                        continue;
                    }
                    outq[pair[p]].add(got[i]);
                }
                for (int p : ports) {
                    MbufBatch b = outq[p];
                    if (b.isEmpty()) {
                        continue;
                    }
                    int s = tx[p].txBurst(b);
                    sent += s;
                    txPort[p] += s;
                    if (!b.isEmpty()) {
                        drops += b.count();
                        b.free(lcore);
                    }
                    info.txPort(id, p, txPort[p]);
                }
                info.put(id, PortInfo.RX, rx);
                info.put(id, PortInfo.TX, sent);
                info.put(id, PortInfo.TX_DROPS, drops);
            } else if (++idle > 64) {
                LockSupport.parkNanos(20_000); // the server sends nothing: leave the core to others
            }
            if (k == 0 || (++loops & 1023) == 0) {
                if (!running || info.stopRequested() || rt.primaryGone() || System.nanoTime() >= end) {
                    break;
                }
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "mp-client: client %d (pid %d) forwarded %d packets in %.1f s (%.3f Mpps); received %d, "
                + "dropped %d in all%n", id, rt.pid(), sent - startSent, secs, (sent - startSent) / secs / 1e6, rx, drops);
    }
}
