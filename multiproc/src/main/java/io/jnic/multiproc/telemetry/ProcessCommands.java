package io.jnic.multiproc.telemetry;

import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.LcoreTable;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.SecondaryInfo;
import io.jnic.sys.Proc;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The commands every process serves: {@code /eal/params}, {@code /eal/app_params}, {@code /jnic/procs} and
 * {@code /mempool/list}, {@code /mempool/info,<name>} (DPDK's key names; the mempools are found in the group's
 * memzones, so any process lists every pool, also ones it does not use).
 */
public final class ProcessCommands {
    private static final Pattern SECONDARY_SOCKET = Pattern.compile("mp_socket_([0-9]{1,10})_[0-9]{1,10}");

    private ProcessCommands() {
    }

    /** Registers the commands of {@code rt} in its telemetry. */
    public static void register(MpRuntime rt, Telemetry t) {
        t.register("/eal/params", (c, p) -> ealParams(rt.options()), "Returns EAL commandline parameters used. Takes no parameters");
        t.register("/eal/app_params", (c, p) -> List.copyOf(rt.options().appArgs()),
                "Returns app commandline parameters used. Takes no parameters");
        t.register("/jnic/procs", (c, p) -> procs(rt), "Returns the group's processes. Takes no parameters");
        t.register("/mempool/list", (c, p) -> mempoolNames(rt), "Returns list of available mempool. Takes no parameters");
        t.register("/mempool/info", (c, p) -> mempoolInfo(rt, c, p), "Returns mempool info. Parameters: pool_name");
        t.registerMBean(rt.filePrefix(), "Process", "pid=" + rt.pid(), "This jnic process", () -> process(rt));
    }

    /** Publishes every mempool of the group as an MBean ({@code type=Mempool}), with /mempool/info's keys. */
    public static void registerMempoolMBeans(MpRuntime rt) {
        for (String name : mempoolNames(rt)) {
            rt.telemetry().registerMBean(rt.filePrefix(), "Mempool", "name=" + javax.management.ObjectName.quote(name),
                    "A mempool of the group", () -> mempoolInfo(rt, "/mempool/info", name));
        }
    }

    /** This process, for its MBean. */
    static Map<String, Object> process(MpRuntime rt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", rt.pid());
        m.put("proc_id", rt.procId());
        m.put("type", rt.isPrimary() ? "primary" : rt.isOrphan() ? "orphan secondary" : "secondary");
        m.put("primary_pid", rt.primaryPid());
        m.put("primary_alive", rt.isPrimary() || !rt.primaryGone());
        m.put("lcores", rt.lcoreTable().heldBy(rt.pid()).toString());
        m.put("processes", procs(rt).size());
        m.put("registered_secondaries", rt.secondaries().size());
        m.put("telemetry_socket", rt.telemetrySocket().map(Object::toString).orElse(""));
        return m;
    }

    /** The runtime options as a command line (what DPDK's /eal/params shows: the EAL arguments). */
    static List<String> ealParams(EalOptions o) {
        List<String> a = new ArrayList<>();
        a.add("--proc-type");
        a.add(o.procType().name().toLowerCase(java.util.Locale.ROOT));
        a.add("--file-prefix");
        a.add(o.filePrefix());
        if (!o.lcores().isEmpty()) {
            a.add("-l");
            a.add(o.lcores().toString());
        }
        o.memoryMb().ifPresent(m -> {
            a.add("-m");
            a.add(Integer.toString(m));
        });
        if (o.noHuge()) {
            a.add("--no-huge");
        }
        o.hugeDir().ifPresent(d -> {
            a.add("--huge-dir");
            a.add(d.toString());
        });
        for (String d : o.allow()) {
            a.add("-a");
            a.add(d);
        }
        for (String d : o.block()) {
            a.add("-b");
            a.add(d);
        }
        for (String d : o.vdevs()) {
            a.add("--vdev");
            a.add(d);
        }
        return a;
    }

    /**
     * Every process of the group: the primary and the registered secondaries with their proc ids (in the
     * primary, which registers them); elsewhere the primary, this process, and the other processes that have an
     * IPC socket in the runtime dir (proc id -1: only the primary knows it).
     */
    static List<Object> procs(MpRuntime rt) {
        LcoreTable lt = rt.lcoreTable();
        Map<Integer, Map<String, Object>> byPid = new TreeMap<>();
        byPid.put(rt.primaryPid(), proc(rt.primaryPid(), 0, "primary", lt));
        if (rt.isPrimary()) {
            for (SecondaryInfo s : rt.secondaries()) {
                byPid.put(s.pid(), proc(s.pid(), s.procId(), "secondary", lt));
            }
        } else {
            for (int pid : socketPids(rt.runtimeDir())) {
                byPid.putIfAbsent(pid, proc(pid, -1, "secondary", lt));
            }
            byPid.put(rt.pid(), proc(rt.pid(), rt.procId(), "secondary", lt));
        }
        byPid.get(rt.pid()).put("self", true);
        return new ArrayList<>(byPid.values());
    }

    private static Map<String, Object> proc(int pid, int procId, String type, LcoreTable lt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("proc_id", procId);
        m.put("type", type);
        List<Integer> lcores = new ArrayList<>();
        for (int l : lt.heldBy(pid).ids()) {
            lcores.add(l);
        }
        m.put("lcores", lcores);
        m.put("alive", Proc.isAlive(pid));
        return m;
    }

    private static List<Integer> socketPids(Path dir) {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "mp_socket_*")) {
            for (Path p : ds) {
                Matcher m = SECONDARY_SOCKET.matcher(p.getFileName().toString());
                if (m.matches()) {
                    pids.add((int) Math.min(Integer.MAX_VALUE, Long.parseLong(m.group(1))));
                }
            }
        } catch (IOException e) {
            // no listing: the processes that have none are left out
        }
        return pids;
    }

    // ---- mempools

    static List<String> mempoolNames(MpRuntime rt) {
        List<String> names = new ArrayList<>();
        for (Memzone z : rt.memory().memzones()) {
            try (PoolView v = PoolView.of(z)) {
                if (v != null) {
                    names.add(v.pool.name());
                }
            }
        }
        return names;
    }

    static Map<String, Object> mempoolInfo(MpRuntime rt, String cmd, String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(cmd + " needs a pool name: " + cmd + ",NAME");
        }
        for (Memzone z : rt.memory().memzones()) {
            try (PoolView v = PoolView.of(z)) {
                if (v == null || !v.pool.name().equals(name.strip())) {
                    continue;
                }
                Mempool p = v.pool;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", p.name());
                m.put("pool_id", p.poolId());
                m.put("flags", 0);
                m.put("socket_id", 0);
                m.put("size", p.count());
                m.put("cache_size", p.cacheSize());
                m.put("elt_size", p.elementSize());
                m.put("header_size", 0);
                m.put("trailer_size", 0);
                m.put("private_data_size", 0);
                m.put("ops_index", 0);
                m.put("populated_size", p.count());
                m.put("mz_name", z.name());
                m.put("mz_len", z.length());
                m.put("mz_hugepage_sz", rt.memory().pageSize().bytes());
                m.put("mz_socket_id", 0);
                m.put("mz_flags", 0);
                int caches = 0;
                for (int l = 0; l < p.maxLcores() && p.cacheSize() > 0; l++) {
                    caches += p.cacheCount(l);
                }
                int ring = p.ring().count();
                m.put("common_pool_count", ring);
                m.put("total_cache_count", caches);
                m.put("in_use", Math.max(0, p.count() - ring - caches));
                return m;
            }
        }
        throw new IllegalArgumentException(cmd + ": no mempool named '" + name + "'");
    }

    /** A mempool in a memzone, attached for the look if this process has not attached it (then closed after). */
    private record PoolView(Mempool pool, boolean opened) implements AutoCloseable {
        static PoolView of(Memzone z) {
            MemorySegment m = z.memory();
            if (!MempoolDescriptor.isMempool(m)) {
                return null;
            }
            for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
                Mempool p = Mempool.lookup(id);
                if (p != null && !p.isClosed() && p.segment().address() == m.address()) {
                    return new PoolView(p, false);
                }
            }
            try {
                return new PoolView(Mempool.attach(m), true);
            } catch (RuntimeException e) {
                return null; // being created, or not one we can read
            }
        }

        @Override
        public void close() {
            if (opened) {
                pool.close();
            }
        }
    }
}
