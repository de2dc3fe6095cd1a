package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.apps.l2fwdmp.L2fwdMp.AppOptions;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.SharedPorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** l2fwd-mp's {@code --stats-json}: every process's counters per port, totals, link events, IPC drops, the pool audit. */
final class StatsJson {
    private StatsJson() {
    }

    /**
     * Writes the final counters of every process (from the shared counters) as JSON; {@code sim}, {@code audit}
     * and {@code sp} (the primary's) may be null.
     */
    static void write(Path file, AppOptions app, PortEvents events, MpRuntime rt, ProcStats stats, int[] ports,
            double secs, SimulatedPorts sim, MempoolAudit audit, SharedPorts sp) throws IOException {
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
        sb.append(",\n  \"link_events\": ").append(events.linkEventsJson());
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
