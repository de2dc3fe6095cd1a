package io.jnic.apps.testpmd;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The testpmd> commands: parsing, the DPDK-like answers to bad ones, and the grammar tab completion walks. Lines
 * run one at a time under the app's lock (the forwarding state is not thread-safe; a signal's shutdown takes the
 * same lock).
 */
final class Commands {
    /**
     * The grammar: each entry is a command's words, alternatives separated by '|'; {@code <port>} is a port id or
     * {@code all}, {@code <n>} a number. Also the help text.
     */
    static final List<String> GRAMMAR = java.util.stream.Stream.concat(java.util.stream.Stream.of(
            "start",
            "start tx_first",
            "stop",
            "show port info|stats|xstats <port>",
            "show config fwd",
            "show fwd stats all",
            "clear port stats <port>",
            "set fwd " + FwdMode.names(),
            "set burst <n>",
            "set promisc <port> on|off",
            "port stop|start <port>",
            "help",
            "quit"), PortControl.GRAMMAR.stream()).toList();

    private final Forwarding fwd;
    private final PortSet ports;
    private final PrintStream out;

    Commands(Forwarding fwd, PortSet ports, PrintStream out) {
        this.fwd = fwd;
        this.ports = ports;
        this.out = out;
        this.control = new PortControl(ports, out);
    }

    private final PortControl control;

    /** Runs one command line; false when it was {@code quit}. */
    boolean execute(String line) throws InterruptedException {
        String[] w = line.trim().split("\\s+");
        if (w.length == 0 || w[0].isEmpty() || w[0].startsWith("#")) {
            return true;
        }
        switch (w[0]) {
            case "quit" -> {
                if (w.length != 1) {
                    return bad();
                }
                return false;
            }
            case "help" -> help();
            case "start" -> {
                if (w.length == 1) {
                    fwd.start(false);
                } else if (w.length == 2 && w[1].equals("tx_first")) {
                    fwd.start(true);
                } else {
                    bad();
                }
            }
            case "stop" -> {
                if (w.length != 1) {
                    return bad();
                }
                fwd.stop();
            }
            case "show" -> show(w);
            case "clear" -> {
                if (w.length != 4 || !w[1].equals("port") || !w[2].equals("stats")) {
                    return bad();
                }
                for (int p : portsOf(w[3])) {
                    ports.clearStats(p);
                    fwd.statsCleared(p);
                    out.printf(Locale.ROOT, "%n  NIC statistics for port %d cleared%n", p);
                }
            }
            case "set" -> set(w);
            case "port" -> {
                if (w.length >= 3 && (w[2].equals("rxq") || w[2].equals("txq"))) {
                    control.queueOffload(w);
                } else {
                    port(w);
                }
            }
            case "mac_addr" -> control.macAddr(w);
            case "rx_vlan" -> control.rxVlan(w);
            case "flow" -> control.flow(w);
            default -> out.println("Command not found");
        }
        return true;
    }

    private boolean bad() {
        out.println("Bad arguments");
        return true;
    }

    /** The ports {@code arg} names ("all" or an id), or none after printing why. */
    private int[] portsOf(String arg) {
        if (arg.equals("all")) {
            return ports.ids();
        }
        int p;
        try {
            p = Integer.parseInt(arg);
        } catch (NumberFormatException e) {
            out.println("Bad arguments");
            return new int[0];
        }
        if (!ports.exists(p)) {
            out.println("Invalid port " + p);
            StringBuilder sb = new StringBuilder("The valid ports array is [");
            for (int id : ports.ids()) {
                sb.append(' ').append(id);
            }
            out.println(sb.append(" ]"));
            return new int[0];
        }
        return new int[] {p};
    }

    private void show(String[] w) {
        if (w.length == 3 && w[1].equals("config") && w[2].equals("fwd")) {
            fwd.showConfig();
            return;
        }
        if (w.length == 4 && w[1].equals("fwd") && w[2].equals("stats") && w[3].equals("all")) {
            fwd.printFwdStats();
            return;
        }
        if (w.length != 4 || !w[1].equals("port")) {
            bad();
            return;
        }
        String what = w[2];
        if (!what.equals("info") && !what.equals("stats") && !what.equals("xstats")) {
            bad();
            return;
        }
        for (int p : portsOf(w[3])) {
            switch (what) {
                case "info" -> fwd.portInfo(p);
                case "stats" -> fwd.nicStats(p);
                default -> fwd.xstats(p);
            }
        }
    }

    private void set(String[] w) {
        if (w.length < 2) {
            bad();
            return;
        }
        switch (w[1]) {
            case "fwd" -> {
                FwdMode m = w.length == 3 ? FwdMode.parse(w[2]) : null;
                if (m == null) {
                    bad();
                    return;
                }
                fwd.mode = m;
                out.println("Set " + m.label() + " packet forwarding mode" + (fwd.running()
                        ? " (the running lcores keep their mode until stop; it applies at the next start)" : ""));
            }
            case "burst" -> {
                if (w.length != 3) {
                    bad();
                    return;
                }
                int n;
                try {
                    n = Integer.parseInt(w[2]);
                } catch (NumberFormatException e) {
                    bad();
                    return;
                }
                if (n < 1 || n > TestPmd.MAX_BURST) {
                    out.println("nb pkt per burst must be >= 1 and <= " + TestPmd.MAX_BURST);
                    return;
                }
                fwd.burst = n;
                out.println("Number of packets per burst set to " + n);
            }
            case "promisc" -> {
                if (w.length != 4 || !w[3].equals("on") && !w[3].equals("off")) {
                    bad();
                    return;
                }
                boolean on = w[3].equals("on");
                for (int p : portsOf(w[2])) {
                    try {
                        ports.promiscuous(p, on);
                    } catch (RuntimeException e) {
                        out.printf(Locale.ROOT, "Error during %s promiscuous mode for port %d: %s%n",
                                on ? "enabling" : "disabling", p, e.getMessage());
                    }
                }
            }
            case "allmulti" -> control.allmulti(w);
            case "flow_ctrl" -> control.flowCtrl(w);
            default -> bad();
        }
    }

    private void port(String[] w) {
        if (w.length != 3 || !w[1].equals("stop") && !w[1].equals("start")) {
            bad();
            return;
        }
        boolean stop = w[1].equals("stop");
        int[] which = portsOf(w[2]);
        if (which.length == 0) {
            return;
        }
        if (fwd.running()) {
            out.println("Please stop forwarding first");
            return;
        }
        if (!ports.primary()) {
            out.println(SecondaryPortSet.PRIMARY_ONLY);
            return;
        }
        if (stop) {
            out.println("Stopping ports...");
            for (int p : which) {
                if (!ports.started(p)) {
                    out.println("Port " + p + " is now not started");
                    continue;
                }
                ports.stop(p);
            }
        } else {
            for (int p : which) {
                if (ports.started(p)) {
                    out.println("Port " + p + " is now not stopped");
                    continue;
                }
                try {
                    ports.start(p);
                    out.println("Port " + p + ": " + ports.mac(p).toString().toUpperCase(Locale.ROOT));
                } catch (RuntimeException e) {
                    out.println("Fail to start port " + p + ": " + e.getMessage());
                }
            }
        }
        out.println("Checking link statuses...");
        out.println("Done");
    }

    private void help() {
        out.println("Commands (Tab completes; <port> is a port id or all):");
        for (String g : GRAMMAR) {
            out.println("  " + g);
        }
    }

    /**
     * The words that may come next after {@code typed} (the complete words before the cursor): what tab
     * completion offers.
     */
    List<String> candidates(List<String> typed) {
        List<String> out = new ArrayList<>();
        for (String g : GRAMMAR) {
            String[] parts = g.split(" ");
            if (parts.length <= typed.size()) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < typed.size() && match; i++) {
                match = alternatives(parts[i]).contains(typed.get(i));
            }
            if (match) {
                for (String a : alternatives(parts[typed.size()])) {
                    if (!out.contains(a)) {
                        out.add(a);
                    }
                }
            }
        }
        return out;
    }

    private List<String> alternatives(String part) {
        List<String> a = new ArrayList<>();
        if (part.equals("<port>")) {
            a.add("all");
            for (int p : ports.ids()) {
                a.add(Integer.toString(p));
            }
        } else if (part.equals("<n>")) {
            a.add("32");
        } else {
            a.addAll(List.of(part.split("\\|")));
        }
        return a;
    }
}
