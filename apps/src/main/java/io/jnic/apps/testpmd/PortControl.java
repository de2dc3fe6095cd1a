package io.jnic.apps.testpmd;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.Flow;
import io.jnic.ethdev.FlowControl;
import io.jnic.ethdev.FlowRule;
import io.jnic.ethdev.MacAddress;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * testpmd's port control commands, in DPDK's words where the parser makes that cheap: {@code set allmulti},
 * {@code mac_addr add|remove}, {@code rx_vlan add|rm}, a simplified {@code set flow_ctrl rx on|off tx on|off <port>}
 * a subset of {@code flow create|destroy|list} (eth type, ipv4 src/dst, tcp/udp src/dst; queue index or drop), and
 * per-queue offloads ({@code port <p> rxq <q> rx_offload vlan_strip on}: the queue is set up again on the stopped
 * port, with DPDK's offload names).
 * They act on the primary's ports; a driver's refusal is printed as DPDK prints a failed call.
 */
final class PortControl {
    static final List<String> GRAMMAR = List.of(
            "set allmulti <port> on|off",
            "set flow_ctrl rx on|off tx on|off <port>",
            "mac_addr add|remove <port> <mac>",
            "rx_vlan add|rm <n> <port>",
            "flow create|validate <port> ingress pattern eth|ipv4|tcp|udp ... / end actions queue|drop ... / end",
            "flow destroy <port> rule <n>",
            "flow list <port>",
            "port <port> rxq <queue> rx_offload <offload> on|off",
            "port <port> txq <queue> tx_offload <offload> on|off");

    private final PortSet ports;
    private final PrintStream out;

    PortControl(PortSet ports, PrintStream out) {
        this.ports = ports;
        this.out = out;
    }

    /** The port's device, or null after printing why there is none. */
    private EthDevice dev(String arg) {
        int p;
        try {
            p = Integer.parseInt(arg);
        } catch (NumberFormatException e) {
            out.println("Bad arguments");
            return null;
        }
        if (!ports.exists(p)) {
            out.println("Invalid port " + p);
            return null;
        }
        EthDevice d = ports.device(p);
        if (d == null) {
            out.println(SecondaryPortSet.PRIMARY_ONLY);
        }
        return d;
    }

    private void run(String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            out.println(what + " failed: " + e.getMessage());
        }
    }

    /** {@code set allmulti <port> on|off}. */
    void allmulti(String[] w) {
        if (w.length != 4 || !w[3].equals("on") && !w[3].equals("off")) {
            out.println("Bad arguments");
            return;
        }
        EthDevice d = dev(w[2]);
        if (d != null) {
            run("allmulticast", () -> d.allmulticast(w[3].equals("on")));
        }
    }

    /** {@code set flow_ctrl rx on|off tx on|off <port>}. */
    void flowCtrl(String[] w) {
        if (w.length != 7 || !w[2].equals("rx") || !w[4].equals("tx") || !onOff(w[3]) || !onOff(w[5])) {
            out.println("Bad arguments (simplified: set flow_ctrl rx on|off tx on|off <port>)");
            return;
        }
        boolean rx = w[3].equals("on");
        boolean tx = w[5].equals("on");
        FlowControl fc = rx && tx ? FlowControl.FULL : rx ? FlowControl.RX_PAUSE : tx ? FlowControl.TX_PAUSE
                : FlowControl.NONE;
        EthDevice d = dev(w[6]);
        if (d != null) {
            run("set flow_ctrl", () -> d.flowControl(fc));
        }
    }

    private static boolean onOff(String s) {
        return s.equals("on") || s.equals("off");
    }

    /** {@code mac_addr add|remove <port> <mac>}. */
    void macAddr(String[] w) {
        if (w.length != 4 || !w[1].equals("add") && !w[1].equals("remove")) {
            out.println("Bad arguments");
            return;
        }
        EthDevice d = dev(w[2]);
        if (d == null) {
            return;
        }
        run("mac_addr " + w[1], () -> {
            MacAddress m = MacAddress.parse(w[3]);
            if (w[1].equals("add")) {
                d.macAddrAdd(m);
            } else {
                d.macAddrRemove(m);
            }
        });
    }

    /** {@code rx_vlan add|rm <id> <port>}. */
    void rxVlan(String[] w) {
        if (w.length != 4 || !w[1].equals("add") && !w[1].equals("rm")) {
            out.println("Bad arguments");
            return;
        }
        EthDevice d = dev(w[3]);
        if (d == null) {
            return;
        }
        run("rx_vlan " + w[1], () -> d.vlanFilter(Integer.parseInt(w[2]), w[1].equals("add")));
    }

    /**
     * {@code port <port> rxq|txq <queue> rx_offload|tx_offload <name> on|off}: the queue's own offloads, on a stopped
     * port (the queue is set up again with them, as DPDK's testpmd does at the next start).
     */
    void queueOffload(String[] w) {
        boolean rx = w[2].equals("rxq");
        if (w.length != 7 || !rx && !w[2].equals("txq") || !w[4].equals(rx ? "rx_offload" : "tx_offload") || !onOff(w[6])) {
            out.println("Bad arguments (port <port> rxq <queue> rx_offload <name> on|off, or txq ... tx_offload)");
            return;
        }
        EthDevice d = dev(w[1]);
        if (d == null) {
            return;
        }
        int p = d.portId();
        if (ports.started(p)) {
            out.println("Error: port " + p + " must be stopped first (port stop " + p + ")");
            return;
        }
        boolean on = w[6].equals("on");
        run("port " + p + " " + w[2] + " " + w[3] + " " + w[4] + " " + w[5], () -> {
            int q = Integer.parseInt(w[3]);
            if (rx) {
                ports.rxQueueSetup(p, q, toggled(d.rxQueueOffloads(q), d.config().rxOffloads(),
                        offload(w[5], io.jnic.ethdev.RxOffload.class), on, io.jnic.ethdev.RxOffload.class));
                out.println("Port " + p + " RX queue " + q + " offloads: " + d.rxQueueOffloads(q));
            } else {
                ports.txQueueSetup(p, q, toggled(d.txQueueOffloads(q), d.config().txOffloads(),
                        offload(w[5], io.jnic.ethdev.TxOffload.class), on, io.jnic.ethdev.TxOffload.class));
                out.println("Port " + p + " TX queue " + q + " offloads: " + d.txQueueOffloads(q));
            }
        });
    }

    /** The offload of DPDK's name {@code s} (vlan_strip, tcp_cksum ...), or a refusal listing the known names. */
    private static <E extends Enum<E>> E offload(String s, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        StringBuilder known = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            known.append(known.isEmpty() ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("unknown offload '" + s + "' (known: " + known + ")");
    }

    /** The queue's own offloads ({@code now} less the port's) with {@code o} turned on or off. */
    private static <E extends Enum<E>> java.util.Set<E> toggled(java.util.Set<E> now, java.util.Set<E> port, E o,
            boolean on, Class<E> type) {
        if (!on && port.contains(o)) {
            throw new IllegalArgumentException(o + " is enabled for the whole port; a queue cannot turn it off");
        }
        java.util.EnumSet<E> own = java.util.EnumSet.noneOf(type);
        own.addAll(now);
        own.removeAll(port);
        if (on) {
            own.add(o);
        } else {
            own.remove(o);
        }
        return own;
    }

    /** {@code flow create|destroy|list ...}. */
    void flow(String[] w) {
        if (w.length < 3) {
            out.println("Bad arguments");
            return;
        }
        EthDevice d = dev(w[2]);
        if (d == null) {
            return;
        }
        switch (w[1]) {
            case "list" -> {
                out.println("ID\tPrio\tRule");
                for (Flow f : d.flows()) {
                    out.printf(Locale.ROOT, "%d\t%d\t%s%n", f.id(), f.rule().priority(), describe(f.rule()));
                }
            }
            case "destroy" -> {
                if (w.length != 5 || !w[3].equals("rule")) {
                    out.println("Bad arguments");
                    return;
                }
                run("flow destroy", () -> {
                    int id = Integer.parseInt(w[4]);
                    Flow f = d.flows().stream().filter(x -> x.id() == id).findFirst().orElseThrow(
                            () -> new IllegalArgumentException("no flow rule " + id + " on port " + d.portId()));
                    d.flowDestroy(f);
                    out.println("Flow rule #" + id + " destroyed");
                });
            }
            case "create", "validate" -> run("flow " + w[1], () -> {
                FlowRule r = parse(w);
                if (w[1].equals("validate")) {
                    d.flowValidate(r);
                    out.println("Flow rule validated");
                } else {
                    out.println("Flow rule #" + d.flowCreate(r).id() + " created");
                }
            });
            default -> out.println("Bad arguments");
        }
    }

    /** Parses DPDK's flow syntax (the subset in {@link #GRAMMAR}) from w[3] on. */
    static FlowRule parse(String[] w) {
        int i = 3;
        int prio = 0;
        if (i + 1 < w.length && w[i].equals("priority")) {
            prio = Integer.parseInt(w[i + 1]);
            i += 2;
        }
        expect(w, i++, "ingress");
        expect(w, i++, "pattern");
        int etherType = -1;
        int proto = -1;
        Integer src = null;
        Integer dst = null;
        int sport = -1;
        int dport = -1;
        while (i < w.length && !w[i].equals("end")) {
            String item = w[i++];
            while (i < w.length && !w[i].equals("/")) {
                String field = w[i];
                expect(w, i + 1, "is");
                if (i + 2 >= w.length) {
                    throw new IllegalArgumentException("'" + item + " " + field + " is' needs a value");
                }
                String v = w[i + 2];
                i += 3;
                switch (item + " " + field) {
                    case "eth type" -> etherType = Integer.decode(v);
                    case "ipv4 src" -> src = ipv4(v);
                    case "ipv4 dst" -> dst = ipv4(v);
                    case "tcp src", "udp src" -> sport = Integer.parseInt(v);
                    case "tcp dst", "udp dst" -> dport = Integer.parseInt(v);
                    default -> throw new IllegalArgumentException("pattern item '" + item + " " + field + "' is not "
                            + "supported (eth type, ipv4 src/dst, tcp/udp src/dst)");
                }
            }
            switch (item) {
                case "tcp" -> proto = 6;
                case "udp" -> proto = 17;
                case "eth", "ipv4" -> {
                }
                default -> throw new IllegalArgumentException("pattern item '" + item + "' is not supported");
            }
            expect(w, i++, "/");
        }
        expect(w, i++, "end");
        expect(w, i++, "actions");
        FlowRule.Action action;
        int queue = 0;
        if (i < w.length && w[i].equals("drop")) {
            action = FlowRule.Action.DROP;
            i++;
        } else {
            expect(w, i++, "queue");
            expect(w, i++, "index");
            if (i >= w.length) {
                throw new IllegalArgumentException("'queue index' needs a queue number");
            }
            queue = Integer.parseInt(w[i++]);
            action = FlowRule.Action.QUEUE;
        }
        expect(w, i++, "/");
        expect(w, i++, "end");
        if (i != w.length) {
            throw new IllegalArgumentException("unexpected '" + w[i] + "' after the actions' end");
        }
        FlowRule r = new FlowRule(etherType, proto, src, dst, sport, dport, prio, FlowRule.Action.QUEUE, queue);
        return action == FlowRule.Action.DROP ? r.drop() : r;
    }

    private static void expect(String[] w, int i, String word) {
        if (i >= w.length || !w[i].equals(word)) {
            throw new IllegalArgumentException("expected '" + word + "'" + (i < w.length ? " instead of '" + w[i] + "'"
                    : " at the end"));
        }
    }

    private static int ipv4(String s) {
        String[] p = s.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (a.b.c.d)");
        }
        int v = 0;
        for (String o : p) {
            int b = Integer.parseInt(o);
            if (b < 0 || b > 255) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (a.b.c.d)");
            }
            v = v << 8 | b;
        }
        return v;
    }

    private static String describe(FlowRule r) {
        StringBuilder sb = new StringBuilder();
        if (r.isEtherType()) {
            sb.append("ETH type 0x").append(Integer.toHexString(r.etherType()));
        } else {
            sb.append("IPV4");
            if (r.srcIp() != null) {
                sb.append(" src ").append(dotted(r.srcIp()));
            }
            if (r.dstIp() != null) {
                sb.append(" dst ").append(dotted(r.dstIp()));
            }
            if (r.proto() != -1) {
                sb.append(r.proto() == 6 ? " TCP" : r.proto() == 17 ? " UDP" : " proto " + r.proto());
            }
            if (r.srcPort() != -1) {
                sb.append(" sport ").append(r.srcPort());
            }
            if (r.dstPort() != -1) {
                sb.append(" dport ").append(r.dstPort());
            }
        }
        return sb.append(r.action() == FlowRule.Action.DROP ? " => DROP" : " => QUEUE " + r.queue()).toString();
    }

    private static String dotted(int ip) {
        return (ip >>> 24) + "." + (ip >>> 16 & 0xFF) + "." + (ip >>> 8 & 0xFF) + "." + (ip & 0xFF);
    }
}
