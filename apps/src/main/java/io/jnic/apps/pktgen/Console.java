package io.jnic.apps.pktgen;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The interactive console, with pktgen-dpdk's verbs: {@code start P|all}, {@code stop P|all}, {@code set P rate
 * R}, {@code set P size S}, {@code set P count N}, {@code set P proto udp}, {@code set P vlan ID|off}, {@code set P
 * range FIELD START COUNT}, {@code set P dst-mac MAC}, {@code page stats|latency}, {@code clear}, {@code save FILE},
 * {@code delay MS}, {@code quit}. On a terminal the chosen page is redrawn every second above the prompt.
 */
final class Console {
    static final String HELP = """
            start P|all                    start transmitting on port(s) P (a number, a list 0,1 or a range 0-1)
            stop P|all                     stop transmitting
            set P rate R                   N[k|m]pps, Nmbps, Ngbps, N% of line rate, max
            set P size S                   N, MIN-MAX[/STEP] or imix (sizes with FCS)
            set P count N                  frames per start, then stop (0: no limit)
            set P proto udp                the protocol (IPv4/UDP is what pktgen sends)
            set P vlan ID|off              802.1Q tag
            set P range FIELD START COUNT  FIELD: src-mac dst-mac src-ip dst-ip src-port dst-port
            set P dst-mac MAC              destination MAC (one value)
            page stats|latency             what the screen shows
            clear                          zero every counter and meter
            save FILE                      write the counters as JSON
            delay MS                       wait (for console scripts fed on stdin)
            quit                           stop and leave""";

    private final Engine e;
    private final PrintStream out;
    private final PrintStream err;
    private final Path json;
    private final String commandLine;
    private volatile String page = "stats";
    private volatile boolean done;
    private final long started = System.nanoTime();

    Console(Engine e, PrintStream out, PrintStream err, Path json, String commandLine) {
        this.e = e;
        this.out = out;
        this.err = err;
        this.json = json;
        this.commandLine = commandLine;
    }

    int run(BufferedReader in) throws IOException, InterruptedException {
        boolean live = System.console() != null && System.console().isTerminal();
        Thread screen = null;
        if (live) {
            screen = new Thread(this::redraw, "pktgen-screen");
            screen.setDaemon(true);
            screen.start();
        } else {
            out.println("pktgen console (type help)");
        }
        String line;
        while (!done) {
            if (!live) {
                out.print("pktgen> ");
                out.flush();
            }
            line = in.readLine();
            if (line == null) {
                break;
            }
            String answer = execute(line);
            if (answer != null && !answer.isEmpty()) {
                out.println(answer);
            }
        }
        done = true;
        if (screen != null) {
            screen.interrupt();
        }
        for (int p = 0; p < e.ports(); p++) {
            e.stop(p);
        }
        e.quiesce(250, 5000);
        if (json != null) {
            save(json);
            out.println("pktgen: results in " + json);
        }
        return 0;
    }

    private void redraw() {
        Engine.Snapshot prev = e.snapshot();
        while (!done) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException x) {
                return;
            }
            Engine.Snapshot now = e.snapshot();
            String body = page.equals("latency") ? Report.latencyPage(now) : Report.statsPage(e, now, prev);
            prev = now;
            // ANSI: cursor home, clear screen; then the page and the prompt
            out.print("\033[H\033[2J" + "jnic pktgen - page " + page + " (help for commands)\n\n" + body + "\npktgen> ");
            out.flush();
        }
    }

    /** Runs one console line; returns what to print (an error starts with "error:"). Public to tests via the package. */
    String execute(String line) {
        String[] a = line.trim().split("\\s+");
        if (a.length == 0 || a[0].isEmpty()) {
            return null;
        }
        try {
            switch (a[0].toLowerCase(Locale.ROOT)) {
                case "help", "?" -> {
                    return HELP;
                }
                case "quit", "exit" -> {
                    done = true;
                    return null;
                }
                case "start", "str" -> {
                    for (int p : ports(a, 1)) {
                        e.start(p);
                    }
                    return "ok";
                }
                case "stop", "stp" -> {
                    for (int p : ports(a, 1)) {
                        e.stop(p);
                    }
                    return "ok";
                }
                case "clear" -> {
                    e.clear();
                    return "ok";
                }
                case "page" -> {
                    need(a, 2, "page stats|latency");
                    if (!a[1].equals("stats") && !a[1].equals("latency")) {
                        return "error: page takes stats or latency, got '" + a[1] + "'";
                    }
                    page = a[1];
                    Engine.Snapshot s = e.snapshot();
                    return page.equals("latency") ? Report.latencyPage(s) : Report.statsPage(e, s, null);
                }
                case "delay" -> {
                    need(a, 2, "delay MS");
                    try {
                        Thread.sleep(Long.parseLong(a[1]));
                    } catch (NumberFormatException x) {
                        return "error: delay takes milliseconds, got '" + a[1] + "'";
                    }
                    return null;
                }
                case "save" -> {
                    need(a, 2, "save FILE");
                    save(Path.of(a[1]));
                    return "ok: " + a[1];
                }
                case "set" -> {
                    if (a.length < 4) {
                        return "error: set P rate|size|count|proto|vlan|range|dst-mac VALUE (try help)";
                    }
                    for (int p : ports(a, 1)) {
                        e.set(p, changed(e.settings(p), a));
                    }
                    return "ok";
                }
                default -> {
                    return "error: unknown command '" + a[0] + "' (try help)";
                }
            }
        } catch (IllegalArgumentException | IllegalStateException x) {
            return "error: " + x.getMessage();
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return "error: interrupted";
        } catch (IOException x) {
            return "error: " + x.getMessage();
        }
    }

    private static TxSettings changed(TxSettings s, String[] a) {
        String what = a[2].toLowerCase(Locale.ROOT);
        String v = a[3];
        return switch (what) {
            case "rate" -> s.withRate(Rate.parse(v));
            case "size" -> s.withSize(SizeSpec.parse(v));
            case "count" -> {
                try {
                    yield s.withCount(Long.parseLong(v));
                } catch (NumberFormatException x) {
                    throw new IllegalArgumentException("count '" + v + "' is not a number");
                }
            }
            case "proto" -> {
                if (!v.equalsIgnoreCase("udp")) {
                    throw new IllegalArgumentException("pktgen sends IPv4/UDP frames; proto takes udp, got '" + v + "'");
                }
                yield s;
            }
            case "vlan" -> {
                if (v.equals("off")) {
                    yield s.withVlan(-1);
                }
                try {
                    yield s.withVlan(Integer.parseInt(v));
                } catch (NumberFormatException x) {
                    throw new IllegalArgumentException("vlan takes an id 0-4095 or off, got '" + v + "'");
                }
            }
            case "range" -> {
                if (a.length != 6) {
                    throw new IllegalArgumentException("set P range FIELD START COUNT");
                }
                yield s.withFlows(s.flows().with(a[3], a[4], a[5]));
            }
            case "dst-mac" -> s.withFlows(s.flows().with("dst-mac", v, "1"));
            default -> throw new IllegalArgumentException("set takes rate, size, count, proto, vlan, range or dst-mac, "
                    + "got '" + a[2] + "'");
        };
    }

    private List<Integer> ports(String[] a, int i) {
        if (a.length <= i) {
            throw new IllegalArgumentException(a[0] + " needs a port: a number, a list 0,1, a range 0-1 or all");
        }
        List<Integer> l = new ArrayList<>();
        if (a[i].equals("all")) {
            for (int p = 0; p < e.ports(); p++) {
                l.add(p);
            }
            return l;
        }
        for (String part : a[i].split(",")) {
            try {
                int dash = part.indexOf('-');
                int lo = Integer.parseInt(dash > 0 ? part.substring(0, dash) : part);
                int hi = dash > 0 ? Integer.parseInt(part.substring(dash + 1)) : lo;
                for (int p = lo; p <= hi; p++) {
                    l.add(e.checkPort(p));
                }
            } catch (NumberFormatException x) {
                throw new IllegalArgumentException("port '" + a[i] + "' is not a number, a list 0,1, a range 0-1 or all");
            }
        }
        return l;
    }

    private static void need(String[] a, int n, String usage) {
        if (a.length != n) {
            throw new IllegalArgumentException("usage: " + usage);
        }
    }

    private void save(Path file) throws IOException {
        Engine.Snapshot s = e.snapshot();
        Files.writeString(file, Report.json(e, commandLine, (System.nanoTime() - started) / 1e9, s, List.of(), null, null));
    }
}
