package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.L2Forwarder;
import io.jnic.apps.common.ProcRates;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.apps.l2fwdmp.L2fwdMp.AppOptions;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.pdump.CaptureTap;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * l2fwd-mp's forwarding loop, the same in every process: polls this process's queue pair of every port and sends
 * what arrives to the paired port ({@link L2Forwarder}), sleeps on RX interrupts when idle ({@code --idle
 * interrupt}), prints every process's rates from the shared counters, and knows when to stop. Allocates nothing per
 * loop.
 */
final class ForwardLoop {
    private final AppOptions app;
    private final PrintStream out;
    private final BooleanSupplier running;

    /** @param running false once the process was asked to stop (Ctrl-C) */
    ForwardLoop(AppOptions app, PrintStream out, BooleanSupplier running) {
        this.app = app;
        this.out = out;
        this.running = running;
    }

    /**
     * Forwards until {@code --duration}, Ctrl-C or (a secondary) the primary's stop request; with simulated ports
     * {@code sim}, stops their generators first and forwards what is still in the rings. Prints the table every
     * {@code -T} seconds when {@code print}.
     */
    void run(MpRuntime rt, ProcStats stats, int[] portIds, QueuePair[] io, PortTable table, SimulatedPorts sim,
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
                if (!running.getAsBoolean() && !draining && sim == null) {
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
                    if (!draining && (now >= end || !running.getAsBoolean() || stats.stopRequested() && me != 0)) {
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
            if (!running.getAsBoolean() && sim != null) {
                sim.stopGenerators();
            }
        } finally {
            if (floating != null) {
                floating.close();
            }
        }
    }

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

}
