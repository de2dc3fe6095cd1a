package io.jnic.apps.l2fwdfork;

import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.ProcStats;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.SharedQueue;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.port.SecondaryQueues;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A worker process of l2fwd-fork (a secondary the master started with {@code --worker SLOT}): attaches queue
 * pair SLOT of every port, forwards each to the paired port and counts in its slot, continuing the counts of
 * the workers that had the slot before it. Ends when the master asks (stop flag, SIGTERM) or ends.
 */
final class Worker {
    private final L2fwdFork cmd;
    private final L2fwdFork.AppOptions o;
    private final int[] portIds;
    private final PrintStream out;
    private volatile boolean running = true;

    Worker(L2fwdFork cmd, int[] portIds) {
        this.cmd = cmd;
        this.o = cmd.app;
        this.portIds = portIds;
        this.out = cmd.out();
    }

    int run() throws Exception {
        int slot = o.worker;
        boolean spare = o.spare >= 0;
        // SIGTERM from the master (or Ctrl-C): leave the queues cleanly before the JVM exits
        GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(10));
        try (MpRuntime rt = MpRuntime.start(cmd.eal)) {
            rt.onPrimaryExit(() -> running = false);
            try (SecondaryQueues sq = SecondaryQueues.join(rt)) {
                if (sq.owners().numProcs() != o.workers) {
                    throw new IllegalStateException("--workers " + o.workers + " does not match the master's "
                            + sq.owners().numProcs() + " (pid " + rt.primaryPid() + ")");
                }
                ProcStats stats = ProcStats.attach(rt, L2fwdFork.STATS_MEMZONE, L2fwdFork.NAME);
                for (int p : portIds) {
                    if (sq.table().state(p) != PortState.STARTED) {
                        throw new IllegalStateException("port " + p + " is not started by the master (state "
                                + sq.table().state(p) + ")");
                    }
                }
                MpRuntime.FloatingLcore floating = rt.lcores().isEmpty() ? rt.attachFloatingThread() : null;
                try {
                    int lcore = floating != null ? floating.id() : rt.lcores().first();
                    if (floating == null) {
                        rt.pinCurrentThread(lcore);
                    }
                    if (spare) {
                        slot = awaitSlot(rt, stats, lcore);
                        if (slot < 0) {
                            return 0;
                        }
                    }
                    SharedQueue[] q = new SharedQueue[PortTable.MAX_PORTS];
                    List<SharedQueue> attached = new ArrayList<>();
                    try {
                        for (int p : portIds) {
                            q[p] = sq.attach(p, slot, lcore);
                            attached.add(q[p]);
                        }
                        stats.lcore(slot, lcore);
                        stats.pid(slot, rt.pid());
                        say(String.format(Locale.ROOT, "l2fwd-fork: worker %d (pid %d) on %s lcore %d attached queue %d of ports %s%n",
                                slot, rt.pid(), floating != null ? "floating" : "pinned", lcore, slot,
                                java.util.Arrays.toString(portIds)));
                        forward(rt, stats, slot, lcore, q, sq.table());
                    } finally {
                        for (SharedQueue s : attached) {
                            s.close();
                        }
                    }
                } finally {
                    if (floating != null) {
                        floating.close();
                    }
                }
            }
        } finally {
            exit.close();
        }
        return 0;
    }

    /** A spare: says it is ready and waits for the master to give it a slot; -1 when the group ends first. */
    private int awaitSlot(MpRuntime rt, ProcStats stats, int lcore) throws InterruptedException {
        Spares spares = Spares.attach(rt);
        int i = o.spare;
        spares.pid(i, rt.pid());
        say(String.format(Locale.ROOT, "l2fwd-fork: spare %d (pid %d) on floating lcore %d ready%n", i, rt.pid(), lcore));
        while (running && !stats.stopRequested()) {
            int slot = spares.slot(i);
            if (slot >= 0 && slot < o.workers) {
                spares.pid(i, 0); // taken: the master may start the next spare in this entry
                return slot;
            }
            Thread.sleep(1);
        }
        spares.pid(i, 0);
        return -1;
    }

    private void forward(MpRuntime rt, ProcStats stats, int slot, int lcore, SharedQueue[] q, PortTable table) {
        int n = portIds.length;
        int[] dst = PortMask.pairs(L2fwdFork.NAME, portIds, o.portmask);
        int[] dstHi = new int[PortTable.MAX_PORTS];
        int[] dstLo = new int[PortTable.MAX_PORTS];
        int[] srcHi = new int[PortTable.MAX_PORTS];
        int[] srcLo = new int[PortTable.MAX_PORTS];
        for (int p : portIds) {
            long d = 0x02_00_00_00_00_00L | p;
            MacAddress mac = table.mac(p);
            long s = mac == null ? 0 : mac.value();
            dstHi[p] = (int) (d >>> 16);
            dstLo[p] = (int) (d & 0xFFFF);
            srcHi[p] = (int) (s >>> 16);
            srcLo[p] = (int) (s & 0xFFFF);
        }
        // the slot's counters so far: a new worker continues them, so totals keep matching the devices
        long[][] c = new long[PortTable.MAX_PORTS][ProcStats.FIELDS];
        long before = 0;
        for (int p : portIds) {
            for (int f = 0; f < ProcStats.FIELDS; f++) {
                c[p][f] = stats.get(slot, p, f);
            }
            before += c[p][ProcStats.TX];
        }
        MbufBatch b = new MbufBatch(o.ports.burst);
        Mbuf m = new Mbuf();
        boolean mac = o.macUpdating;
        boolean first = true;
        long start = System.nanoTime();
        int loops = 0;
        while (running) {
            for (int i = 0; i < n; i++) {
                int p = portIds[i];
                int got = q[p].rxBurst(b);
                if (got == 0) {
                    continue;
                }
                int dp = dst[p];
                long bytes = 0;
                long[] h = b.handles();
                for (int k = 0; k < got; k++) {
                    m.wrap(h[k]);
                    if (mac) {
                        m.setIntBE(0, dstHi[dp]).setShortBE(4, dstLo[dp]).setIntBE(6, srcHi[dp]).setShortBE(10, srcLo[dp]);
                    }
                    bytes += m.dataLen();
                }
                int sent = q[dp].txBurst(b);
                long[] cp = c[p];
                long[] cd = c[dp];
                cp[ProcStats.RX] += got;
                cd[ProcStats.TX] += sent;
                if (!b.isEmpty()) {
                    cd[ProcStats.DROPS] += b.count();
                    for (int k = 0; k < b.count(); k++) {
                        bytes -= m.wrap(h[k]).dataLen();
                    }
                    b.free(lcore);
                }
                cd[ProcStats.TX_BYTES] += bytes;
                stats.put(slot, p, ProcStats.RX, cp[ProcStats.RX]);
                stats.put(slot, dp, ProcStats.TX, cd[ProcStats.TX]);
                stats.put(slot, dp, ProcStats.TX_BYTES, cd[ProcStats.TX_BYTES]);
                stats.put(slot, dp, ProcStats.DROPS, cd[ProcStats.DROPS]);
                if (first && sent > 0) {
                    first = false;
                    stats.forwardingSince(slot, System.nanoTime()); // the master measures its recovery time by this
                }
            }
            if ((++loops & 1023) == 0 && stats.stopRequested()) {
                break;
            }
        }
        long mine = -before;
        for (int p : portIds) {
            mine += c[p][ProcStats.TX];
        }
        double secs = (System.nanoTime() - start) / 1e9;
        say(String.format(Locale.ROOT, "l2fwd-fork: worker %d (pid %d) forwarded %d packets in %.1f s (%.3f Mpps)%s%n", slot,
                rt.pid(), mine, secs, mine / secs / 1e6, rt.primaryGone() ? "; the master ended" : ""));
    }

    /** One write per line: the workers and the master share one pipe or terminal. */
    private void say(String line) {
        out.print(line);
        out.flush();
    }
}
