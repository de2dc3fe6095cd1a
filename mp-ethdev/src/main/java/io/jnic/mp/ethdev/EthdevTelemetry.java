package io.jnic.mp.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.PortTable;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.telemetry.Telemetry;
import io.jnic.sys.Proc;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ethdev telemetry commands, with DPDK's key names (lib/ethdev's telemetry): {@code /ethdev/list},
 * {@code /ethdev/info,<port>}, {@code /ethdev/stats,<port>}, {@code /ethdev/xstats,<port>[,hide_zero=true]},
 * {@code /ethdev/link_status,<port>}, and jnic's {@code /jnic/queues} (who drives each queue pair). What is in
 * the port table (names, queues, MAC, MTU, link) every process answers itself; counters come from the device,
 * which only the primary holds: a secondary asks the primary ({@link PortStatsService}) and answers null when it
 * cannot.
 */
public final class EthdevTelemetry {
    private EthdevTelemetry() {
    }

    /**
     * Registers the ethdev commands in {@code rt}'s telemetry; {@code devices} by port id in the primary, null in a
     * secondary (which asks the primary for counters).
     */
    public static void register(MpRuntime rt, Map<Integer, EthDevice> devices) {
        Telemetry t = rt.telemetry();
        PortTable table = SharedPorts.table(rt.memory());
        t.register("/ethdev/list", (c, p) -> list(table), "Returns list of available ethdev ports. Takes no parameters");
        t.register("/ethdev/info", (c, p) -> info(table, devices, port(table, c, p)),
                "Returns the device info for a port. Parameters: int port_id");
        t.register("/ethdev/stats", (c, p) -> stats(rt, devices, port(table, c, p)),
                "Returns the common stats for a port. Parameters: int port_id");
        t.register("/ethdev/xstats", (c, p) -> xstats(rt, devices, port(table, c, p), p),
                "Returns the extended stats for a port. Parameters: int port_id");
        t.register("/ethdev/link_status", (c, p) -> link(table, port(table, c, p)),
                "Returns the link status for a port. Parameters: int port_id");
        for (int port : list(table)) {
            t.registerMBean(rt.filePrefix(), "Port", "port=" + port, "A port of the group: counters, link, queues",
                    () -> portBean(rt, table, devices, port));
        }
        io.jnic.multiproc.telemetry.ProcessCommands.registerMempoolMBeans(rt);
    }

    /** Registers {@code /jnic/queues}: the owner of every queue pair of every port. */
    public static void registerQueues(MpRuntime rt, QueueOwners owners) {
        PortTable table = SharedPorts.table(rt.memory());
        rt.telemetry().register("/jnic/queues", (c, p) -> queues(table, owners),
                "Returns the queue owners of every port. Takes no parameters");
    }

    private static int port(PortTable table, String cmd, String params) {
        int port = Telemetry.intParam(cmd, params);
        if (port >= PortTable.MAX_PORTS || table.state(port) == PortState.FREE) {
            throw new IllegalArgumentException(cmd + ": no port " + port);
        }
        return port;
    }

    /** A port's MBean attributes: its counters (when they can be had), link and table entry. */
    static Map<String, Object> portBean(MpRuntime rt, PortTable table, Map<Integer, EthDevice> devices, int port) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", table.deviceName(port));
        m.put("driver", table.driverName(port));
        m.put("state", table.state(port).name());
        LinkStatus l = table.link(port);
        m.put("link_up", l.up() ? 1 : 0);
        m.put("link_speed", l.up() ? l.speedMbps() : 0);
        m.put("link_changes", table.linkChanges(port));
        m.put("nb_rx_queues", table.rxQueues(port));
        m.put("nb_tx_queues", table.txQueues(port));
        Map<String, Object> s;
        try {
            s = stats(rt, devices, port);
        } catch (RuntimeException unavailable) {
            s = Map.of();
        }
        for (String k : List.of("ipackets", "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf")) {
            m.put(k, s.getOrDefault(k, -1L)); // -1: the primary could not be asked
        }
        return m;
    }

    static List<Integer> list(PortTable table) {
        List<Integer> l = new ArrayList<>();
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            if (table.state(p) != PortState.FREE) {
                l.add(p);
            }
        }
        return l;
    }

    static Map<String, Object> info(PortTable table, Map<Integer, EthDevice> devices, int port) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", table.deviceName(port));
        m.put("state", table.state(port) == PortState.CLOSED ? 0 : 1); // DPDK: RTE_ETH_DEV_UNUSED 0, ATTACHED 1
        m.put("nb_rx_queues", table.rxQueues(port));
        m.put("nb_tx_queues", table.txQueues(port));
        m.put("port_id", port);
        m.put("mtu", table.mtu(port));
        MacAddress mac = table.mac(port);
        m.put("mac_addr", mac == null ? "00:00:00:00:00:00" : mac.toString());
        EthDevice d = devices == null ? null : devices.get(port);
        if (d != null) {
            m.put("promiscuous", d.promiscuous() ? 1 : 0);
        }
        m.put("dev_started", table.state(port) == PortState.STARTED ? 1 : 0);
        m.put("dev_configured", table.state(port).ordinal() >= PortState.CONFIGURED.ordinal()
                && table.state(port) != PortState.CLOSED ? 1 : 0);
        m.put("numa_node", table.socket(port));
        m.put("driver_name", table.driverName(port));
        m.put("port_state", table.state(port).name());
        m.put("owner_pid", table.ownerPid(port));
        return m;
    }

    static Map<String, Object> stats(MpRuntime rt, Map<Integer, EthDevice> devices, int port) {
        PortStats s;
        EthDevice d = devices == null ? null : devices.get(port);
        if (d != null) {
            s = d.stats();
        } else if (!rt.isPrimary()) {
            s = PortStatsService.stats(rt, port); // throws when the primary cannot answer: a null reply
        } else {
            throw new IllegalArgumentException("port " + port + " is not one of this primary's devices");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ipackets", s.ipackets);
        m.put("opackets", s.opackets);
        m.put("ibytes", s.ibytes);
        m.put("obytes", s.obytes);
        m.put("imissed", s.imissed);
        m.put("ierrors", s.ierrors);
        m.put("oerrors", s.oerrors);
        m.put("rx_nombuf", s.rxNombuf);
        m.put("q_ipackets", asList(s.qIpackets));
        m.put("q_opackets", asList(s.qOpackets));
        m.put("q_ibytes", asList(s.qIbytes));
        m.put("q_obytes", asList(s.qObytes));
        m.put("q_errors", asList(s.qErrors));
        return m;
    }

    private static List<Long> asList(long[] a) {
        List<Long> l = new ArrayList<>(a.length);
        for (long v : a) {
            l.add(v);
        }
        return l;
    }

    static Map<String, Object> xstats(MpRuntime rt, Map<Integer, EthDevice> devices, int port, String params) {
        boolean hideZero = params != null && params.replace(" ", "").contains(",hide_zero=true");
        EthDevice d = devices == null ? null : devices.get(port);
        Map<String, Long> x;
        if (d != null) {
            x = d.xstats();
        } else if (!rt.isPrimary()) {
            x = PortStatsService.xstats(rt, port);
        } else {
            throw new IllegalArgumentException("port " + port + " is not one of this primary's devices");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        x.forEach((k, v) -> {
            if (!hideZero || v != 0) {
                m.put(k, v);
            }
        });
        return m;
    }

    static Map<String, Object> link(PortTable table, int port) {
        LinkStatus l = table.link(port);
        Map<String, Object> m = new LinkedHashMap<>();
        if (!l.up()) {
            m.put("status", "DOWN");
            return m;
        }
        m.put("status", "UP");
        m.put("speed", l.speedMbps());
        m.put("duplex", l.fullDuplex() ? "full-duplex" : "half-duplex");
        return m;
    }

    static List<Object> queues(PortTable table, QueueOwners owners) {
        List<Object> out = new ArrayList<>();
        for (int p : list(table)) {
            int n = Math.min(QueueOwners.MAX_QUEUES, Math.max(table.rxQueues(p), table.txQueues(p)));
            for (int q = 0; q < n; q++) {
                int pid = owners.owner(p, q);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("port", p);
                m.put("queue", q);
                m.put("owner_pid", pid);
                m.put("owner", pid == 0 ? "none" : Proc.isAlive(pid) ? "alive" : "dead");
                out.add(m);
            }
        }
        return out;
    }
}
