package io.jnic.devsim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar devsim.jar --ports 2 --wire pair --socket-dir DIR}: simulated 82599 ports with their
 * wires, a control socket (DIR/devsim.ctl) for faults and status, and per-second statistics with --stats.
 */
@Command(name = "devsim", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Simulated Intel 82599 ports (a behavioural model written from the datasheet).",
        subcommands = Main.Ctl.class)
public final class Main implements Callable<Integer> {
    @Option(names = "--ports", description = "number of ports (1-8), default ${DEFAULT-VALUE}", defaultValue = "2")
    int ports;

    @Option(names = "--wire", split = ",", description = "pair|loop|gen|tap:NAME|cable:FILE, one for all ports or one "
            + "per port (comma-separated); pair joins ports 0+1, 2+3, ...; one tap:NAME or cable:FILE for several ports "
            + "makes NAME0, NAME1, ...; cable:FILE joins this port to the port of another devsim naming the same FILE;"
            + " default ${DEFAULT-VALUE}", defaultValue = "pair")
    List<String> wires;

    @Option(names = "--socket-dir", description = "directory for the sockets: port<N>.sock (vfio-user), devsim.ctl (control)")
    Path socketDir;

    @Option(names = "--mac", description = "MAC address of port 0 (port N adds N), default ${DEFAULT-VALUE}",
            defaultValue = "02:6a:6e:00:00:00")
    String mac;

    @Option(names = "--gen-rate", description = "generator frames per second per port, 0 = unlimited (default)",
            defaultValue = "0")
    long genRate;

    @Option(names = "--gen-size", description = "generator frame size with FCS, default ${DEFAULT-VALUE}", defaultValue = "64")
    int genSize;

    @Option(names = "--gen-flows", description = "generator flows (RSS spreads them), default ${DEFAULT-VALUE}",
            defaultValue = "64")
    int genFlows;

    @Option(names = "--gen-pattern", description = "payload byte the generator writes and the sink checks (0-255)")
    Integer genPattern;

    @Option(names = "--gen-count", description = "frames each generator sends, 0 = no limit (default)", defaultValue = "0")
    long genCount;

    @Option(names = "--link-delay-ms", description = "time the link takes to come up, default ${DEFAULT-VALUE}",
            defaultValue = "0")
    long linkDelayMs;

    @Option(names = "--cable-wait", description = "seconds to wait for the other end of every cable before giving up "
            + "(0: do not wait, the link stays down until it comes), default ${DEFAULT-VALUE}", defaultValue = "0")
    double cableWait;

    @Option(names = "--cable-delay-us", description = "added one-way delay of what every cable port sends, microseconds",
            defaultValue = "0")
    double cableDelayUs;

    @Option(names = "--cable-drop", description = "probability that a frame sent on a cable is lost", defaultValue = "0")
    double cableDrop;

    @Option(names = "--cable-dup", description = "probability that a frame sent on a cable arrives twice", defaultValue = "0")
    double cableDup;

    @Option(names = "--cable-reorder", description = "probability that a frame sent on a cable is swapped with the next",
            defaultValue = "0")
    double cableReorder;

    @Option(names = "--stats", description = "print per-port counters every second")
    boolean stats;

    @Option(names = "--duration", description = "seconds to run, 0 = until interrupted (default)", defaultValue = "0")
    long duration;

    @Override
    public Integer call() throws Exception {
        Devsim.Config config = new Devsim.Config(ports, wires, parseMac(mac), genRate, genSize, genFlows,
                genPattern == null ? -1 : genPattern, genCount, linkDelayMs * 1_000_000L);
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        try (Devsim devsim = Devsim.start(config)) {
            for (int p = 0; p < ports; p++) {
                if (devsim.wire(p) instanceof io.jnic.devsim.wire.CableWire) {
                    for (String f : List.of("delay " + cableDelayUs, "drop " + cableDrop, "dup " + cableDup,
                            "reorder " + cableReorder)) {
                        String answer = devsim.command("cable " + p + " " + f);
                        if (!answer.startsWith("ok")) {
                            throw new IllegalArgumentException(answer.substring(answer.indexOf(':') + 2));
                        }
                    }
                }
            }
            if (cableWait > 0) {
                devsim.awaitCables(java.time.Duration.ofMillis(Math.round(cableWait * 1000)));
            }
            ControlServer control = null;
            if (socketDir != null) {
                Files.createDirectories(socketDir);
                List<Path> sockets = devsim.serveVfioUser(socketDir);
                // the control socket last: once it exists, every port's socket does too
                control = new ControlServer(devsim, socketDir.resolve("devsim.ctl"));
                for (int p = 0; p < sockets.size(); p++) {
                    System.out.println("devsim: port " + p + " vfio-user socket " + sockets.get(p));
                }
                System.out.println("devsim: control socket " + control.path());
            }
            for (int p = 0; p < ports; p++) {
                System.out.println("devsim: port " + p + " MAC " + HexFormat.ofDelimiter(":").formatHex(devsim.mac(p))
                        + ", wire " + devsim.wire(p).describe());
            }
            Thread hook = new Thread(() -> { // on SIGTERM/SIGINT: let the main thread close down and report
                stop.countDown();
                try {
                    done.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            long end = duration > 0 ? System.nanoTime() + duration * 1_000_000_000L : Long.MAX_VALUE;
            while (System.nanoTime() - end < 0 && devsim.loop().failure() == null) {
                if (stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                    break;
                }
                if (stats) {
                    System.out.print(devsim.statsText());
                    System.out.flush();
                }
            }
            if (control != null) {
                control.close();
            }
            if (devsim.loop().failure() != null) {
                System.err.println("devsim: device loop failed: " + devsim.loop().failure());
                return 1;
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook itself stopped us: it waits for the report below
            }
            System.out.print(devsim.statsText());
            System.out.flush();
        } finally {
            done.countDown();
        }
        return 0;
    }

    static byte[] parseMac(String s) {
        String[] parts = s.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("--mac '" + s + "' is not six colon-separated octets");
        }
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            try {
                m[i] = (byte) Integer.parseInt(parts[i], 16);
                if (parts[i].length() > 2) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--mac '" + s + "': '" + parts[i] + "' is not a hex octet");
            }
        }
        return m;
    }

    /** {@code devsim ctl --socket-dir DIR link-down 0}: one command to a running devsim. */
    @Command(name = "ctl", mixinStandardHelpOptions = true,
            description = "Send a command to a running devsim (try: help).")
    static final class Ctl implements Callable<Integer> {
        @Option(names = "--socket-dir", required = true, description = "the running devsim's --socket-dir")
        Path socketDir;

        @Parameters(arity = "1..*", description = "command and arguments")
        List<String> words;

        @Override
        public Integer call() {
            String answer = ControlServer.send(socketDir.resolve("devsim.ctl"), String.join(" ", words));
            System.out.println(answer);
            return answer.startsWith("ok") ? 0 : 1;
        }
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parse) -> {
            cmd.getErr().println("devsim: " + e.getMessage());
            return 2;
        });
        System.exit(cl.execute(args));
    }
}
