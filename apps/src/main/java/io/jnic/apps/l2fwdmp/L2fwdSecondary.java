package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.ProcStats;
import io.jnic.apps.l2fwdmp.L2fwdMp.AppOptions;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.SecondaryQueues;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * An l2fwd-mp secondary (proc-id 1..N-1), or one joining orphaned secondaries: checks it agrees with the primary
 * on {@code --num-procs} and that its ports are started, attaches its queue pair of each port (the primary hands
 * over what the transport needs), and forwards on them without the primary on its data path.
 */
final class L2fwdSecondary {
    private final AppOptions app;
    private final PrintStream out;
    private final PortEvents events;
    private final ForwardLoop loop;

    L2fwdSecondary(AppOptions app, PrintStream out, PortEvents events, ForwardLoop loop) {
        this.app = app;
        this.out = out;
        this.events = events;
        this.loop = loop;
    }

    /** Attaches this process's queue pair of every port and forwards on it until the primary says stop. */
    int run(MpRuntime rt, int[] portIds) throws Exception {
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
            sq.addLinkListener(events::onLink);
            sq.addResetListener(events::onReset);
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
                loop.run(rt, stats, portIds, io, sq.table(), null, o.stats);
                double secs = (System.nanoTime() - start) / 1e9;
                if (o.statsJson != null) {
                    StatsJson.write(o.statsJson, o, events, rt, stats, portIds, secs, null, null, null);
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
}
