package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.PortOptions;
import io.jnic.apps.common.ProcStats;
import io.jnic.apps.common.SimulatedPorts;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.QueueOwners;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * l2fwd-mp: DPDK's symmetric_mp with l2fwd's forwarding. Every process (the primary is proc-id 0) drives
 * queue pair {@code --proc-id} of every port in the port mask and forwards what it receives there to the
 * same queue of the paired port (0<->1, 2<->3), rewriting MAC addresses unless {@code --no-mac-updating}.
 * The primary probes and configures the ports with {@code --num-procs} queue pairs, RSS spreading flows over
 * them; secondaries attach their queue pair and never involve the primary on the data path. Counters live in
 * shared memory; the primary (or any process with {@code --stats}) prints every process's rates each second.
 *
 * <p>Without a device (-a, --vdev, --vfio-user) the primary runs two simulated 82599 ports (devsim, traffic
 * generator wires) in its JVM and serves them over vfio-user in the runtime dir, so that secondaries reach
 * the same ports.
 *
 * <p>This class is the command: its options, their checks, and the choice of role. The roles are
 * {@link L2fwdPrimary} and {@link L2fwdSecondary}; both forward with {@link ForwardLoop} (and {@link IdleSleeper}
 * for {@code --idle interrupt}), hear {@link PortEvents} and write {@link StatsJson}.
 */
@Command(name = "l2fwd-mp", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Multi-process l2fwd (DPDK symmetric_mp): each process forwards its queue pair of every port.",
            "Without a device: two simulated 82599 ports (devsim) with traffic generators."},
        footer = {"", "Examples:", "  l2fwd-mp                                        (primary, devsim ports, 1 process)",
            "  l2fwd-mp -- --num-procs 2 --proc-id 0           (primary of 2)",
            "  l2fwd-mp --proc-type secondary -- --num-procs 2 --proc-id 1",
            "  l2fwd-mp --duration 5                           (app options without -- work too)"})
public final class L2fwdMp implements EalApplication {
    /** The devsim control socket, in {@code <runtime dir>/devsim/} (fault injection: link-down P, ...). */
    public static final String CONTROL_SOCKET = SimulatedPorts.CONTROL_SOCKET;

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean running = true;

    /** The options after {@code --}. */
    @Command(name = "l2fwd-mp-options")
    static final class AppOptions {
        @Option(names = "-p", paramLabel = "PORTMASK", defaultValue = "0x3",
                description = "Hex mask of the ports to forward (default: ${DEFAULT-VALUE}).")
        String portmask;

        @Option(names = "--num-procs", paramLabel = "N", defaultValue = "1",
                description = "Processes in the group, one queue pair each (default: ${DEFAULT-VALUE}).")
        int numProcs;

        @Option(names = "--proc-id", paramLabel = "I", defaultValue = "0",
                description = "This process's index, 0..N-1; 0 is the primary (default: ${DEFAULT-VALUE}).")
        int procId;

        @Option(names = "--mac-updating", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Rewrite MAC addresses as DPDK l2fwd (default: on).")
        boolean macUpdating = true;

        @Option(names = "--stats", description = "Print the statistics table in this process (the primary always does).")
        boolean stats;

        @Option(names = {"-T", "--timer-period"}, paramLabel = "S", defaultValue = "1",
                description = "Seconds between statistics tables (0: none).")
        int period;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until Ctrl-C). The primary then stops the whole group.")
        int duration;

        @Option(names = "--stats-json", paramLabel = "FILE", description = "Write the final counters as JSON.")
        Path statsJson;

        @Option(names = "--idle", paramLabel = "poll|interrupt", defaultValue = "poll",
                description = "When the queues are idle: keep polling, or sleep until an RX interrupt (as l3fwd-power; "
                        + "the primary arms it, the device wakes this process) (default: ${DEFAULT-VALUE}).")
        String idle;

        @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "0",
                description = "Port MTU (0: the port's default, 1500); the pool's buffers grow to hold a whole frame of "
                        + "it, so jumbo frames (e.g. 9000) forward as single mbufs.")
        int mtu;

        @Mixin
        PortOptions ports = new PortOptions();
    }

    public L2fwdMp(PrintStream out, PrintStream err) {
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

    /** Runs the app with {@link #prepareArgs} applied; returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = prepareArgs(args, err);
        return Eal.run(new L2fwdMp(out, err), out, err, a);
    }

    /**
     * Makes the simplest command lines work: app options given without {@code --} are moved after it, and a
     * primary on simulated ports without enough free hugepages gets {@code --no-huge} (with a warning that
     * says how to reserve them).
     */
    static String[] prepareArgs(String[] args, PrintStream err) {
        return AppArgs.prepare("l2fwd-mp", new L2fwdMp(err, err), new AppOptions(), List.of("--vfio-user"), args, err);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.numProcs < 1 || o.numProcs > Math.min(QueueOwners.MAX_QUEUES, ProcStats.MAX_PROCS)) {
            throw bad("--num-procs must be 1.." + QueueOwners.MAX_QUEUES + ", got " + o.numProcs);
        }
        if (o.procId < 0 || o.procId >= o.numProcs) {
            throw bad("--proc-id " + o.procId + " is out of range: with --num-procs " + o.numProcs + " the ids are 0.."
                    + (o.numProcs - 1));
        }
        if (!o.idle.equals("poll") && !o.idle.equals("interrupt")) {
            throw bad("--idle takes poll or interrupt, got '" + o.idle + "'");
        }
        String portProblem = o.ports.problem();
        if (portProblem != null) {
            throw bad(portProblem);
        }
        int[] portIds;
        try {
            portIds = PortMask.parse(o.portmask);
            PortMask.pairs("l2fwd-mp", portIds, o.portmask);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        if (eal.procType() == ProcType.PRIMARY && o.procId != 0) {
            throw bad("--proc-id " + o.procId + " with --proc-type primary: the primary is proc-id 0; start this one with "
                    + "--proc-type secondary");
        }
        if (eal.procType() == ProcType.SECONDARY && o.procId == 0) {
            throw bad("--proc-id 0 is the primary; a secondary takes 1.." + (o.numProcs - 1));
        }
        try {
            return run(o, portIds);
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            // what went wrong and what to do, without a stack trace (--log-level debug logs the trace)
            err.println("l2fwd-mp: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.getLogger(L2fwdMp.class.getName()).log(System.Logger.Level.DEBUG, "l2fwd-mp failed", e);
            return 1;
        }
    }

    private int run(AppOptions o, int[] portIds) throws Exception {
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(30));
                MpRuntime rt = MpRuntime.start(eal)) {
            if (rt.isPrimary() && o.procId != 0) {
                throw new IllegalStateException("this process became the primary but has --proc-id " + o.procId
                        + "; the primary is proc-id 0 (start a primary first)");
            }
            if (!rt.isPrimary() && o.procId == 0) {
                throw new IllegalStateException((rt.isOrphan() ? "the group's primary (pid " + rt.primaryPid() + ") has "
                        + "ended and a new one cannot start while its secondaries run" : "a primary already runs (pid "
                        + rt.primaryPid() + ")") + "; --proc-id 0 is the primary's, give this secondary 1.."
                        + (o.numProcs - 1));
            }
            PortEvents events = new PortEvents(out, o.procId);
            ForwardLoop loop = new ForwardLoop(o, out, () -> running);
            return rt.isPrimary() ? new L2fwdPrimary(o, eal, out, spec.commandLine(), events, loop).run(rt, portIds)
                    : new L2fwdSecondary(o, out, events, loop).run(rt, portIds);
        }
    }
}
