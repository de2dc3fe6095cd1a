package io.jnic.apps.l2fwdfork;

import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.L2Forwarder;
import io.jnic.apps.common.ProcStats;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.SecondaryQueues;
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
                    QueuePair[] q = new QueuePair[PortTable.MAX_PORTS];
                    List<QueuePair> attached = new ArrayList<>();
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
                        for (QueuePair s : attached) {
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

    private void forward(MpRuntime rt, ProcStats stats, int slot, int lcore, QueuePair[] q, PortTable table) {
        // the slot's counters so far: a new worker continues them, so totals keep matching the devices
        L2Forwarder fwd = new L2Forwarder(L2fwdFork.NAME, portIds, o.portmask, table, o.macUpdating, stats, slot,
                o.ports.burst, lcore);
        boolean first = true;
        long start = System.nanoTime();
        int loops = 0;
        while (running) {
            fwd.poll(q);
            if (first && fwd.forwarded() > 0) {
                first = false;
                stats.forwardingSince(slot, System.nanoTime()); // the master measures its recovery time by this
            }
            if ((++loops & 1023) == 0 && stats.stopRequested()) {
                break;
            }
        }
        long mine = fwd.forwarded();
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
