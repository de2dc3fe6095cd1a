package io.jnic.apps.l2fwdfork;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.PortMask;
import io.jnic.apps.common.PortOptions;
import io.jnic.apps.common.ProcStats;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.QueueOwners;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * l2fwd-fork, after DPDK's l2fwd_fork (master/slave) sample: the master is the primary; it starts the ports with
 * one queue pair per worker (RSS spreads the flows), starts the worker processes itself and supervises them.
 * Worker w forwards queue pair w of every port to the paired port (l2fwd, MAC rewrite). When a worker ends
 * (exit, crash, kill -9) the master has its resources recovered and starts a new one in its slot:
 * <ul>
 * <li>{@code --reset queue}: the runtime resets the dead worker's queue pairs and returns the mbufs it held
 * (mp-ethdev's recovery), the other workers forward on;</li>
 * <li>{@code --reset port} (DPDK's behaviour, and what devices that cannot reset one queue pair need): the
 * workers on the dead worker's ports are stopped too, the ports are stopped (every ring's mbufs back to the
 * pool) and started again, then new workers start.</li>
 * </ul>
 * Counters live in shared memory per worker slot, so a new worker continues its slot's and the totals keep
 * matching the devices'.
 */
@Command(name = "l2fwd-fork", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"l2fwd with a master that starts worker processes and restarts them when they die "
                + "(DPDK l2fwd_fork).", "Without a device: two simulated 82599 ports (devsim) with traffic generators."},
        footer = {"", "Examples:", "  l2fwd-fork                                   (2 floating workers, devsim ports)",
            "  l2fwd-fork -l 0-1 -- --workers 2             (worker 0 on lcore 0, worker 1 on lcore 1)",
            "  l2fwd-fork -- --workers 2 --reset port       (a worker's death restarts the ports and every worker)",
            "  kill -9 <a worker's pid>                     (the master recovers its queues and starts a new one)"})
public final class L2fwdFork implements EalApplication {
    static final String NAME = "l2fwd-fork";
    /** The per-slot counters' memzone. */
    static final String STATS_MEMZONE = "l2fwd_fork.stats";
    /** Workers at most: one queue pair each, in the queue owner table and the counter slots. */
    static final int MAX_WORKERS = Math.min(QueueOwners.MAX_QUEUES, ProcStats.MAX_PROCS);

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;

    /** How a dead worker's resources are reset. */
    enum ResetMode {
        /** Per queue pair where every port's driver can, else per port. */
        AUTO,
        /** The dead worker's queue pairs only; the other workers forward on. */
        QUEUE,
        /** Stop the dependent workers, stop and start the ports, start new workers (DPDK l2fwd_fork). */
        PORT
    }

    /** The options after {@code --}. */
    @Command(name = "l2fwd-fork-options")
    static final class AppOptions {
        @Option(names = "-p", paramLabel = "PORTMASK", defaultValue = "0x3",
                description = "Hex mask of the ports to forward (default: ${DEFAULT-VALUE}).")
        String portmask;

        @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
                description = "Worker processes, one queue pair of every port each (default: ${DEFAULT-VALUE}).")
        int workers;

        @Option(names = "-f", description = "Floating workers: each takes a free lcore id of its own instead of one of -l "
                + "(the master then keeps -l). Workers float anyway when -l is not given.")
        boolean floating;

        @Option(names = "--reset", paramLabel = "auto|queue|port", defaultValue = "auto",
                description = "What a worker's death resets: its queue pairs, or its ports with every worker on them "
                        + "(auto: queue where the drivers can reset one queue pair) (default: ${DEFAULT-VALUE}).")
        String reset;

        @Option(names = "--max-restarts", paramLabel = "K", defaultValue = "5",
                description = "Restarts of one slot within a minute before the master gives up on it "
                        + "(default: ${DEFAULT-VALUE}).")
        int maxRestarts;

        @Option(names = "--mac-updating", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Rewrite MAC addresses as DPDK l2fwd (default: on).")
        boolean macUpdating = true;

        @Option(names = {"-T", "--timer-period"}, paramLabel = "S", defaultValue = "1",
                description = "Seconds between statistics tables (0: none).")
        int period;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until Ctrl-C); the master then stops the workers.")
        int duration;

        @Option(names = "--stats-json", paramLabel = "FILE",
                description = "Write the final counters and every recovery as JSON.")
        Path statsJson;

        @Mixin
        PortOptions ports = new PortOptions();





        @Option(names = "--spares", paramLabel = "N", defaultValue = "-1",
                description = "Spare worker processes kept started and waiting, so that a dead worker is replaced by "
                        + "an attach instead of a JVM start (floating workers only; default: 1 with floating workers).")
        int spares;

        /** Set by the master on the command lines of the spares it starts. */
        @Option(names = "--spare", paramLabel = "ENTRY", hidden = true, defaultValue = "-1")
        int spare;

        /** Set by the master on the command lines of the workers it starts. */
        @Option(names = "--worker", paramLabel = "SLOT", hidden = true, defaultValue = "-1")
        int worker;
    }

    public L2fwdFork(PrintStream out, PrintStream err) {
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

    /** Runs the app (app options without {@code --} are moved after it); returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare(NAME, new L2fwdFork(err, err), new AppOptions(), List.of("--vfio-user"), args, err);
        return Eal.run(new L2fwdFork(out, err), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (o.workers < 1 || o.workers > MAX_WORKERS) {
            throw bad("--workers must be 1.." + MAX_WORKERS + " (one queue pair of every port each), got " + o.workers);
        }
        String portProblem = o.ports.problem();
        if (portProblem != null) {
            throw bad(portProblem);
        }
        if (o.maxRestarts < 1) {
            throw bad("--max-restarts must be at least 1, got " + o.maxRestarts);
        }
        ResetMode reset;
        try {
            reset = ResetMode.valueOf(o.reset.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw bad("--reset takes auto, queue or port, got '" + o.reset + "'");
        }
        int[] portIds;
        try {
            portIds = PortMask.parse(o.portmask);
            PortMask.pairs(NAME, portIds, o.portmask);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        boolean worker = o.worker >= 0 || o.spare >= 0;
        if (worker && eal.procType() != ProcType.SECONDARY) {
            throw bad("--worker and --spare are set by the master on the workers it starts (with --proc-type secondary)");
        }
        if (o.spare >= Spares.MAX) {
            throw bad("--spare " + o.spare + " is out of range 0.." + (Spares.MAX - 1));
        }
        boolean floating = o.floating || eal.lcores().isEmpty();
        if (o.spares > Spares.MAX) {
            throw bad("--spares must be 0.." + Spares.MAX + ", got " + o.spares);
        }
        if (!worker && o.spares > 0 && !floating) {
            throw bad("--spares " + o.spares + " needs floating workers (-f): a spare starts before it knows the lcore "
                    + "of the worker it replaces");
        }
        if (worker && o.worker >= o.workers) {
            throw bad("--worker " + o.worker + " is out of range: with --workers " + o.workers + " the slots are 0.."
                    + (o.workers - 1));
        }
        if (!worker && eal.procType() != ProcType.PRIMARY) {
            throw bad("the master of l2fwd-fork is the primary (it starts its workers itself); run it without --proc-type "
                    + eal.procType().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (!worker && !o.floating && !eal.lcores().isEmpty() && eal.lcores().size() < o.workers) {
            throw bad("-l " + eal.lcores() + " has " + eal.lcores().size() + " lcore(s) but --workers " + o.workers
                    + " needs one per worker; give more lcores with -l or -f for floating workers");
        }
        try {
            return worker ? new Worker(this, portIds).run() : new Master(this, portIds, reset).run();
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (RuntimeException e) {
            // what went wrong and what to do, without a stack trace (--log-level debug logs the trace)
            err.println(NAME + ": " + (o.worker >= 0 ? "worker " + o.worker + ": " : o.spare >= 0 ? "spare " + o.spare + ": " : "")
                    + "error: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.getLogger(L2fwdFork.class.getName()).log(System.Logger.Level.DEBUG, NAME + " failed", e);
            return 1;
        }
    }

    PrintStream out() {
        return out;
    }

    PrintStream err() {
        return err;
    }

    CommandLine.ParameterException badInput(String msg) {
        return bad(msg);
    }
}
