package io.jnic.apps.procinfo;

import io.jnic.apps.common.AppArgs;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.LcoreTable;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.PortStatsService;
import io.jnic.mp.ethdev.QueueOwners;
import io.jnic.sys.Proc;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * proc-info: dpdk-proc-info for a jnic group. A secondary that joins the group of {@code --file-prefix},
 * prints what it finds in shared memory (ports, queue owners, mempools, rings, lcores) and what only the primary
 * knows (port statistics and xstats from the devices, the registered secondaries; asked over IPC through
 * {@link PortStatsService}; its IPC counters, {@link MpRuntime#primaryIpcStats}), then leaves. It reads shared
 * memory and never writes it.
 */
@Command(name = "proc-info", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints the ports, queues, statistics, mempools, rings, lcores and IPC counters of a running jnic group",
            "(as dpdk-proc-info). Without a --show option or --stats/--xstats it prints everything."},
        footer = {"", "Examples:", "  proc-info --file-prefix jnic", "  proc-info --file-prefix lab -- --stats --json"})
public final class ProcInfo implements EalApplication {
    private static final System.Logger LOG = System.getLogger(ProcInfo.class.getName());

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;

    /** The options after {@code --}. */
    @Command(name = "proc-info-options")
    static final class AppOptions {
        @Option(names = "--stats", description = "Port statistics (from the primary).")
        boolean stats;

        @Option(names = "--xstats", description = "Extended port statistics (from the primary).")
        boolean xstats;

        @Option(names = "--show-port", description = "The port table.")
        boolean port;

        @Option(names = "--show-queues", description = "Queue owners and the registered secondaries.")
        boolean queues;

        @Option(names = "--show-mempool", description = "Mempools: total, in ring, in caches, in use.")
        boolean mempool;

        @Option(names = "--show-ring", description = "Rings: size, count, free.")
        boolean ring;

        @Option(names = "--show-lcores", description = "Claimed lcores and their processes.")
        boolean lcores;

        @Option(names = "--show-ipc", description = "The primary's IPC counters: datagrams accepted, and dropped by "
                + "cause (malformed, unregistered peer, bad credentials, peer queue full, ...).")
        boolean ipc;

        @Option(names = "--json", description = "One JSON object instead of text.")
        boolean json;

        boolean all() {
            return !(stats || xstats || port || queues || mempool || ring || lcores || ipc);
        }
    }

    public ProcInfo(PrintStream out, PrintStream err) {
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

    /** Runs proc-info (always a secondary); returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare("proc-info", new ProcInfo(err, err), new AppOptions(), List.of(),
                AppArgs.secondaryByDefault(args), err);
        return Eal.run(new ProcInfo(out, err), out, err, a);
    }

    @Override
    public Integer call() {
        if (eal.procType() != ProcType.SECONDARY) {
            throw new CommandLine.ParameterException(spec.commandLine(), "proc-info joins a running group as a secondary "
                    + "(--proc-type secondary); it cannot be its primary");
        }
        try (MpRuntime rt = MpRuntime.start(eal)) {
            Report r = collect(rt);
            out.print(app.json ? r.json() : r.text());
            return 0;
        } catch (RuntimeException e) {
            err.println("proc-info: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            LOG.log(System.Logger.Level.DEBUG, "proc-info failed", e);
            return 1;
        }
    }

    // ---------------------------------------------------------------------------------------------

    private Report collect(MpRuntime rt) {
        AppOptions o = app;
        boolean all = o.all();
        Report r = new Report(rt.filePrefix(), rt.primaryPid(), rt.pid());
        MemoryGroup g = rt.memory();
        PortTable table = g.find(PortTable.MEMZONE).map(z -> PortTable.over(z.memory())).orElse(null);
        List<Integer> ports = new ArrayList<>();
        if (table != null) {
            for (int p = 0; p < PortTable.MAX_PORTS; p++) {
                if (table.state(p) != PortState.FREE) {
                    ports.add(p);
                }
            }
        }
        if (all || o.port) {
            r.section("ports");
            if (table == null) {
                r.note("ports", "the group has no port table (its primary uses no ports)");
            }
            for (int p : ports) {
                MacAddress mac = table.mac(p);
                r.item("ports", "port " + p, new Object[][] {{"port", p}, {"device", table.deviceName(p)},
                    {"driver", table.driverName(p)}, {"state", table.state(p).name()}, {"owner_pid", table.ownerPid(p)},
                    {"mac", mac == null ? "" : mac.toString()}, {"link", table.link(p).toString()},
                    {"rx_queues", table.rxQueues(p)}, {"tx_queues", table.txQueues(p)}, {"mtu", table.mtu(p)},
                    {"socket", table.socket(p)}});
            }
        }
        if (all || o.queues) {
            r.section("queues");
            QueueOwners owners = null;
            try {
                owners = QueueOwners.attach(g, 0);
            } catch (IllegalStateException e) {
                r.note("queues", "no queue owner table: the primary shares no ports with secondaries");
            }
            if (owners != null && table != null) {
                for (int p : ports) {
                    int nq = Math.min(QueueOwners.MAX_QUEUES, Math.min(table.rxQueues(p), table.txQueues(p)));
                    for (int q = 0; q < nq; q++) {
                        int pid = owners.owner(p, q);
                        r.item("queues", "port " + p + " queue " + q, new Object[][] {{"port", p}, {"queue", q},
                            {"owner_pid", pid}, {"owner", pid == 0 ? "none" : Proc.isAlive(pid) ? "alive" : "dead"}});
                    }
                }
            }
            r.section("secondaries");
            try {
                for (PortStatsService.Secondary s : PortStatsService.secondaries(rt)) {
                    r.item("secondaries", "pid " + s.pid(), new Object[][] {{"pid", s.pid()}, {"proc_id", s.procId()},
                        {"self", s.pid() == rt.pid()}});
                }
            } catch (IllegalStateException e) {
                r.note("secondaries", "unknown: " + e.getMessage());
            }
        }
        if (all || o.stats || o.xstats) {
            boolean wantStats = all || o.stats;
            boolean wantX = all || o.xstats;
            if (wantStats) {
                r.section("stats");
            }
            if (wantX) {
                r.section("xstats");
            }
            String missing = ports.isEmpty() ? "the group has no ports" : null;
            for (int p : ports) {
                if (missing != null) {
                    break;
                }
                try {
                    if (wantStats) {
                        PortStats s = PortStatsService.stats(rt, p);
                        r.item("stats", "port " + p, new Object[][] {{"port", p}, {"rx_packets", s.ipackets},
                            {"tx_packets", s.opackets}, {"rx_bytes", s.ibytes}, {"tx_bytes", s.obytes},
                            {"rx_missed", s.imissed}, {"rx_errors", s.ierrors}, {"tx_errors", s.oerrors},
                            {"rx_nombuf", s.rxNombuf}});
                    }
                    if (wantX) {
                        Map<String, Long> x = PortStatsService.xstats(rt, p);
                        Object[][] kv = new Object[x.size() + 1][];
                        kv[0] = new Object[] {"port", p};
                        int i = 1;
                        for (Map.Entry<String, Long> e : x.entrySet()) {
                            kv[i++] = new Object[] {e.getKey(), e.getValue()};
                        }
                        r.item("xstats", "port " + p, kv);
                    }
                } catch (PortStatsService.UnavailableException e) {
                    missing = e.getMessage();
                }
            }
            if (missing != null) {
                String why = "no port statistics: " + missing;
                r.note(wantStats ? "stats" : "xstats", why);
                if (wantStats && wantX) {
                    r.note("xstats", why);
                }
            }
        }
        List<Mempool> opened = new ArrayList<>();
        try {
            if (all || o.mempool) {
                r.section("mempools");
                for (Memzone z : g.memzones()) {
                    MemorySegment m = z.memory();
                    if (!MempoolDescriptor.isMempool(m)) {
                        continue;
                    }
                    Mempool p = attached(m);
                    if (p == null) {
                        try {
                            p = Mempool.attach(m);
                            opened.add(p);
                        } catch (RuntimeException e) {
                            r.note("mempools", "memzone " + z.name() + ": " + e.getMessage());
                            continue;
                        }
                    }
                    int caches = 0;
                    StringBuilder per = new StringBuilder();
                    for (int l = 0; l < p.maxLcores() && p.cacheSize() > 0; l++) {
                        int c = p.cacheCount(l);
                        caches += c;
                        if (c > 0) {
                            per.append(per.isEmpty() ? "" : " ").append(l).append(':').append(c);
                        }
                    }
                    int inRing = p.ring().count();
                    r.item("mempools", "pool " + p.name(), new Object[][] {{"name", p.name()}, {"memzone", z.name()},
                        {"pool_id", p.poolId()}, {"total", p.count()}, {"in_ring", inRing}, {"in_caches", caches},
                        {"in_use", Math.max(0, p.count() - inRing - caches)}, {"cache_size", p.cacheSize()},
                        {"element_size", p.elementSize()}, {"caches_by_lcore", per.toString()}});
                }
            }
        } finally {
            for (Mempool p : opened) {
                p.close();
            }
        }
        if (all || o.ring) {
            r.section("rings");
            for (Memzone z : g.memzones()) {
                MemorySegment m = z.memory();
                if (m.byteSize() < Ring.HEADER_BYTES || m.get(ValueLayout.JAVA_LONG, 0) != Ring.MAGIC) {
                    continue;
                }
                try {
                    Ring ring = Ring.attach(m);
                    r.item("rings", "ring " + ring.name(), new Object[][] {{"name", ring.name()}, {"memzone", z.name()},
                        {"flags", (ring.isSingleProducer() ? "SP" : "MP") + "/" + (ring.isSingleConsumer() ? "SC" : "MC")},
                        {"size", ring.size()}, {"capacity", ring.capacity()}, {"count", ring.count()},
                        {"free", ring.freeCount()}});
                } catch (RuntimeException e) {
                    r.note("rings", "memzone " + z.name() + ": " + e.getMessage());
                }
            }
        }
        if (all || o.lcores) {
            r.section("lcores");
            LcoreTable lt = rt.lcoreTable();
            for (int l = 0; l < LcoreTable.SLOTS; l++) {
                int pid = lt.holder(l);
                if (pid != 0) {
                    r.item("lcores", "lcore " + l, new Object[][] {{"lcore", l}, {"pid", pid},
                        {"process", pid == rt.primaryPid() ? "primary" : pid == rt.pid() ? "proc-info" : "secondary"},
                        {"alive", Proc.isAlive(pid)}});
                }
            }
        }
        if (all || o.ipc) {
            r.section("ipc");
            try {
                Object[][] kv = rt.primaryIpcStats().toMap().entrySet().stream()
                        .map(e -> new Object[] {e.getKey(), e.getValue()}).toArray(Object[][]::new);
                Object[][] row = new Object[kv.length + 1][];
                row[0] = new Object[] {"pid", rt.primaryPid()};
                System.arraycopy(kv, 0, row, 1, kv.length);
                r.item("ipc", "primary pid " + rt.primaryPid(), row);
            } catch (RuntimeException e) {
                r.note("ipc", "no IPC counters: " + e.getMessage());
            }
        }
        return r;
    }

    private static Mempool attached(MemorySegment m) {
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null && !p.isClosed() && p.segment().address() == m.address()) {
                return p;
            }
        }
        return null;
    }

    /** What was found, by section, printable as text or JSON. */
    static final class Report {
        private final String prefix;
        private final int primaryPid;
        private final int self;
        private final List<String> sections = new ArrayList<>();
        private final Map<String, List<String[]>> text = new java.util.LinkedHashMap<>();
        private final Map<String, List<Object[][]>> items = new java.util.LinkedHashMap<>();
        private final Map<String, List<String>> notes = new java.util.LinkedHashMap<>();

        Report(String prefix, int primaryPid, int self) {
            this.prefix = prefix;
            this.primaryPid = primaryPid;
            this.self = self;
        }

        void section(String s) {
            if (!sections.contains(s)) {
                sections.add(s);
                text.put(s, new ArrayList<>());
                items.put(s, new ArrayList<>());
                notes.put(s, new ArrayList<>());
            }
        }

        void item(String s, String title, Object[][] kv) {
            section(s);
            items.get(s).add(kv);
            StringBuilder sb = new StringBuilder();
            for (Object[] e : kv) {
                sb.append(sb.isEmpty() ? "" : ", ").append(e[0]).append(' ').append(e[1]);
            }
            text.get(s).add(new String[] {title, sb.toString()});
        }

        void note(String s, String what) {
            section(s);
            notes.get(s).add(what);
        }

        String text() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "proc-info: file prefix '%s', primary pid %d, this process %d%n", prefix,
                    primaryPid, self));
            for (String s : sections) {
                sb.append("== ").append(s).append('\n');
                for (String[] t : text.get(s)) {
                    sb.append("  ").append(t[0]).append(": ").append(t[1]).append('\n');
                }
                for (String n : notes.get(s)) {
                    sb.append("  (").append(n).append(")\n");
                }
                if (text.get(s).isEmpty() && notes.get(s).isEmpty()) {
                    sb.append("  (none)\n");
                }
            }
            return sb.toString();
        }

        String json() {
            StringBuilder sb = new StringBuilder();
            sb.append("{\n  \"file_prefix\": ").append(str(prefix)).append(",\n  \"primary_pid\": ").append(primaryPid)
                    .append(",\n  \"pid\": ").append(self);
            for (String s : sections) {
                sb.append(",\n  ").append(str(s)).append(": [");
                List<Object[][]> l = items.get(s);
                for (int i = 0; i < l.size(); i++) {
                    sb.append(i == 0 ? "\n    {" : ",\n    {");
                    Object[][] kv = l.get(i);
                    for (int k = 0; k < kv.length; k++) {
                        sb.append(k == 0 ? "" : ", ").append(str(kv[k][0].toString())).append(": ");
                        Object v = kv[k][1];
                        sb.append(v instanceof Number || v instanceof Boolean ? v.toString() : str(String.valueOf(v)));
                    }
                    sb.append('}');
                }
                sb.append(l.isEmpty() ? "]" : "\n  ]");
                if (!notes.get(s).isEmpty()) {
                    sb.append(",\n  ").append(str(s + "_notes")).append(": [");
                    for (int i = 0; i < notes.get(s).size(); i++) {
                        sb.append(i == 0 ? "" : ", ").append(str(notes.get(s).get(i)));
                    }
                    sb.append(']');
                }
            }
            return sb.append("\n}\n").toString();
        }

        private static String str(String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
    }
}
