package io.jnic.multiproc;

import io.jnic.memory.DmaSegment;
import io.jnic.memory.MemoryException;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcStats;
import io.jnic.multiproc.telemetry.JnicEvents;
import io.jnic.multiproc.telemetry.ProcessCommands;
import io.jnic.multiproc.telemetry.Telemetry;
import io.jnic.multiproc.telemetry.TelemetryServer;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The multi-process runtime of one process (DPDK's EAL after rte_eal_init): its role in a file prefix's
 * group, the shared config, its lcores, the IPC channel, and the tracking of the other processes.
 *
 * <p>The primary holds an exclusive flock on {@code <runtime dir>/lock} for its lifetime (its pid is
 * written in the file), creates the config and answers registrations; {@code auto} becomes a secondary when
 * the lock is taken. A secondary checks the config's magic, layout version and build id, holds a shared
 * flock on the config (so that a new primary cannot wipe a group still in use), claims its lcores, and
 * registers with the primary, which watches it through a pidfd and releases its lcores when it ends.
 *
 * <p>Orphan mode: when the primary has ended but secondaries still run (they hold shared flocks on the config
 * and on the memory's segment files), {@code --proc-type secondary} joins them without a primary: it maps
 * the memory and claims its lcores as usual, but nobody registers it, and every IPC send to the primary fails
 * at once ({@link IpcChannel.NoPrimaryException}). What is missing then is said in a warning: no memory
 * hotplug, no recovery of processes that die, no link or RX-interrupt events. A new primary refuses to
 * start while such processes run (it would reinitialise memory they use).
 *
 * <p>This class is a started process's view of its group; the rest is delegated, one concern each:
 * {@link RuntimeStart} (joining the group as primary, secondary or orphan), {@link RuntimeFiles} (the runtime
 * dir's lock file, sockets and cleanup), {@link SecondaryRegistry} (registration, dead secondaries and their
 * recovery), {@link MemoryHotplug} (adding memory over IPC), {@link LcoreThreads} (pinned and floating threads)
 * and {@link IpcStatsService} (the primary's IPC counters over IPC).
 */
public final class MpRuntime implements AutoCloseable {
    static final String LOCK_FILE = "lock";
    static final String CONFIG_FILE = "config";
    /** The primary's IPC counters, for proc-info and the apps' statistics (reply: u32 status, u32 n, n x u64). */
    static final String ACTION_IPC_STATS = "jnic.mp.ipc.stats";
    /**
     * System property: how long the primary waits for every secondary to map a new segment (default 10000 ms).
     * Tests shorten it to see a stuck secondary fail a hotplug.
     */
    public static final String HOTPLUG_TIMEOUT_PROPERTY = "jnic.mp.hotplugTimeoutMs";
    /** How long a secondary waits for a starting primary to publish its config, and for its registration. */
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger(MpRuntime.class.getName());
    static final int STATUS_OK = 0;
    static final int STATUS_REFUSED = 1;

    private final EalOptions options;
    private final Path dir;
    private final boolean primary;
    private final int pid = Proc.getpid();
    private final int lockFd;
    private final SharedConfig config;
    private final MemoryGroup memory;
    private final LcoreSet lcores;
    private final IpcChannel ipc;
    private final PidWatcher watcher;
    private final int primaryPid;
    private final int procId;
    private final SecondaryRegistry registry;
    private final List<Runnable> primaryExitCallbacks = new CopyOnWriteArrayList<>();
    private final LcoreThreads threads;
    private final Telemetry telemetry = new Telemetry(pid);
    private final MemoryHotplug hotplug;
    private TelemetryServer telemetryServer;
    private volatile boolean primaryGone;
    private volatile boolean closed;
    private boolean orphan;

    /** Made by {@link RuntimeStart} once the process has its place in the group. */
    MpRuntime(EalOptions options, Path dir, boolean primary, int lockFd, SharedConfig config, MemoryGroup memory,
            LcoreSet lcores, IpcChannel ipc, PidWatcher watcher, int primaryPid, int procId) {
        this.options = options;
        this.dir = dir;
        this.primary = primary;
        this.lockFd = lockFd;
        this.config = config;
        this.memory = memory;
        this.lcores = lcores;
        this.ipc = ipc;
        this.watcher = watcher;
        this.primaryPid = primaryPid;
        this.procId = procId;
        this.hotplug = new MemoryHotplug(memory, ipc, options.filePrefix());
        this.registry = new SecondaryRegistry(options.filePrefix(), pid, config, memory, ipc, watcher);
        this.threads = new LcoreThreads(lcores, config.lcores(), memory, pid, options.filePrefix());
    }

    /**
     * Starts the runtime as the options say: creates the group (primary) or attaches to it (secondary).
     *
     * @throws MpException with what went wrong and what to do: no primary, a second primary, another build,
     *                     an lcore held by another process, a cpu that does not exist, a foreign runtime dir
     */
    public static MpRuntime start(EalOptions options) {
        return RuntimeStart.start(options);
    }

    /** The primary's handlers, before it publishes its config: registrations, memory hotplug, its IPC counters. */
    void servePrimary() {
        registry.serve();
        hotplug.answerRequests();
        IpcStatsService.serve(ipc);
    }

    /** This secondary joined without a primary (orphan mode). */
    void markOrphan() {
        orphan = true;
        primaryGone = true;
    }

    /**
     * The primary's IPC counters (the primary's own; a secondary asks the primary): what its channel accepted
     * and dropped, by cause.
     *
     * @throws MpException when the primary has ended or does not answer
     */
    public IpcStats primaryIpcStats() {
        if (primary) {
            return ipc.stats();
        }
        if (primaryGone) {
            throw new MpException("the primary (pid " + primaryPid + ") of file prefix '" + filePrefix() + "' has ended");
        }
        return IpcStatsService.ask(ipc, primaryPid);
    }

    /** The watcher saw the primary end (a secondary's). */
    void primaryEnded() {
        primaryGone = true;
        ipc.primaryGone("the primary (pid " + primaryPid + ") of file prefix '" + options.filePrefix() + "' has ended");
        LOG.log(System.Logger.Level.WARNING, "the primary (pid {0,number,#}) of file prefix ''{1}'' ended", primaryPid,
                options.filePrefix());
        JnicEvents.processExit(primaryPid, 0, true, false, "");
        for (Runnable r : primaryExitCallbacks) {
            runQuietly(r);
        }
    }

    static void runQuietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "runtime callback failed", e);
        }
    }

    /**
     * Adds at least {@code bytes} of DMA memory to the group and returns the new segment, mapped in every
     * process. A secondary asks the primary, which adds it and has every secondary map it before answering.
     *
     * @throws MpException when the memory cannot be added or a process could not map it
     * @throws IllegalStateException when called on the IPC handler thread (it would wait for itself)
     */
    public DmaSegment addMemory(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memory to add must be positive: " + bytes);
        }
        if (ipc.isHandlerThread()) {
            throw new IllegalStateException("addMemory cannot run on the IPC handler thread: the request it makes "
                    + "must be answered by this thread; call it from another thread");
        }
        if (primary) {
            return hotplug.add(bytes);
        }
        if (primaryGone) {
            throw new MpException("cannot add memory: the primary (pid " + primaryPid + ") of file prefix '"
                    + filePrefix() + "' has ended");
        }
        return hotplug.askPrimary(bytes, primaryPid);
    }

    /**
     * Reserves a named memzone (rte_memzone_reserve) from any process; when no segment has room, adds one
     * (through the primary when this is a secondary) and tries again.
     */
    public Memzone reserve(String name, long size) {
        return reserve(name, size, 64);
    }

    /** {@link #reserve(String, long)} aligned to {@code align} (a power of two up to the page size). */
    public Memzone reserve(String name, long size, long align) {
        try {
            return memory.reserve(name, size, align);
        } catch (MemoryException e) {
            if (e.reason() != MemoryException.Reason.OUT_OF_MEMORY) {
                throw e;
            }
        }
        addMemory(Math.max(MemoryHotplug.MIN_GROWTH, size + align + memory.pageSize().bytes()));
        return memory.reserve(name, size, align);
    }

    /** The memzone named {@code name} (rte_memzone_lookup), mapping its segment if needed. */
    public Memzone lookup(String name) {
        return memory.lookup(name);
    }

    /** The group's DMA memory: segments and named memzones. */
    public MemoryGroup memory() {
        return memory;
    }

    // ---- telemetry

    /** Registers the process-level commands and serves them, unless --no-telemetry; a failure is only logged. */
    void startTelemetry() {
        ProcessCommands.register(this, telemetry);
        if (options.noTelemetry()) {
            return;
        }
        try {
            telemetryServer = TelemetryServer.start(telemetry, options.filePrefix(), primary ? 0 : Math.max(procId, 1));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "no telemetry for this process: {0}", e.getMessage());
        }
    }

    /** This process's telemetry commands (DPDK's rte_telemetry_register_cmd); served unless --no-telemetry. */
    public Telemetry telemetry() {
        return telemetry;
    }

    /** Where this process serves telemetry, if it does. */
    public java.util.Optional<java.nio.file.Path> telemetrySocket() {
        TelemetryServer s = telemetryServer;
        return s == null ? java.util.Optional.empty() : java.util.Optional.of(s.path());
    }

    // ---- public API

    public boolean isPrimary() {
        return primary;
    }

    /** PRIMARY or SECONDARY: what {@code auto} resolved to. */
    public ProcType procType() {
        return primary ? ProcType.PRIMARY : ProcType.SECONDARY;
    }

    public String filePrefix() {
        return options.filePrefix();
    }

    public EalOptions options() {
        return options;
    }

    public Path runtimeDir() {
        return dir;
    }

    public int pid() {
        return pid;
    }

    public int primaryPid() {
        return primaryPid;
    }

    /** 0 for the primary; the id the primary gave this secondary; -1 in an orphan secondary (nobody gave one). */
    public int procId() {
        return procId;
    }

    public IpcChannel ipc() {
        return ipc;
    }

    /** The lcores this process claimed with -l. */
    public LcoreSet lcores() {
        return lcores;
    }

    /** The group's lcore table (who holds which lcore). */
    public LcoreTable lcoreTable() {
        return config.lcores();
    }

    public SharedConfig config() {
        return config;
    }

    /** The secondaries registered now (primary only; empty in a secondary). */
    public List<SecondaryInfo> secondaries() {
        return registry.list();
    }

    /**
     * Runs {@code callback} (on the watcher thread) whenever a secondary ends or detaches, after its lcores
     * were released (primary only).
     */
    public void onSecondaryExit(Consumer<SecondaryExit> callback) {
        requirePrimary("onSecondaryExit");
        registry.onExit(callback);
    }

    /**
     * Runs {@code reclaimer} when a secondary ends, before its lcores are released: for state indexed by
     * lcore, such as mempool caches, that must be emptied before another process may take the lcore.
     */
    public void addReclaimer(Consumer<SecondaryExit> reclaimer) {
        requirePrimary("addReclaimer");
        registry.addReclaimer(reclaimer);
    }

    /** Runs {@code callback} when the primary ends (secondary only); at once if it already has. */
    public void onPrimaryExit(Runnable callback) {
        if (primary) {
            throw new IllegalStateException("onPrimaryExit is for secondaries; this process is the primary");
        }
        primaryExitCallbacks.add(callback);
        if (primaryGone && primaryExitCallbacks.remove(callback)) {
            callback.run();
        }
    }

    /**
     * True when this secondary joined a group whose primary had already ended (see the class comment for what
     * works and what does not).
     */
    public boolean isOrphan() {
        return orphan;
    }

    /** True once a secondary has seen its primary end (and from the start in an orphan). */
    public boolean primaryGone() {
        return primaryGone;
    }

    private void requirePrimary(String what) {
        if (!primary) {
            throw new IllegalStateException(what + " is for the primary; this process is a secondary");
        }
    }

    /** The lcore id of the calling thread (pinned or floating), or -1 (DPDK's rte_lcore_id()). */
    public static int currentLcore() {
        return LcoreThreads.current();
    }

    /**
     * Pins the calling thread to {@code lcore}'s cpu (one of this process's -l lcores).
     *
     * @throws IllegalArgumentException when this process did not claim it
     */
    public void pinCurrentThread(int lcore) {
        threads.pin(lcore);
    }

    /** Starts a thread pinned to {@code lcore} (rte_eal_remote_launch). */
    public Thread launch(int lcore, Runnable task) {
        return threads.launch(lcore, task);
    }

    /**
     * Gives the calling thread a lcore id of its own without pinning it (a floating thread): an id no
     * process holds, claimed in the shared table until the returned handle is closed.
     *
     * @throws MpException when every lcore id is taken
     */
    public FloatingLcore attachFloatingThread() {
        return new FloatingLcore(threads.claimFloating());
    }

    /** Starts a floating thread: it gets a free lcore id for its lifetime and gives it back when it ends. */
    public Thread launchFloating(String name, Runnable task) {
        Thread t = new Thread(() -> {
            try (FloatingLcore ignored = attachFloatingThread()) {
                task.run();
            }
        }, name);
        t.start();
        return t;
    }

    /** The lcore id of a floating thread; closing it gives the id back. */
    public final class FloatingLcore implements AutoCloseable {
        private final int id;
        private boolean released;

        private FloatingLcore(int id) {
            this.id = id;
        }

        public int id() {
            return id;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                threads.releaseFloating(id);
            }
        }
    }

    /**
     * Leaves the group: a secondary tells the primary, then every process releases its lcores and stops its
     * threads. The last process of the group (no primary runs any more, no secondary holds the config or the
     * memory) removes the group's files: config, lock, IPC sockets, memory files and the runtime dir.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (telemetryServer != null) {
            telemetryServer.close();
        }
        telemetry.close(); // its MBeans
        if (!primary && !primaryGone) {
            try {
                ipc.sendMessage(new IpcMessage(SecondaryRegistry.ACTION_UNREGISTER));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not tell the primary we leave: {0}", e.getMessage());
            }
        }
        watcher.close();
        ipc.close();
        memory.close();
        config.lcores().releaseAll(pid);
        config.close(); // a secondary's shared flock on it goes with it
        // the primary holds the lock; a secondary gets it when no primary runs: then it may be the last one
        if (primary || Io.flock(lockFd, Io.LOCK_EX | Io.LOCK_NB)) {
            RuntimeFiles.removeIfUnused(options, dir);
        }
        Io.closeQuietly(lockFd); // the exclusive lock goes with it
        RuntimeStart.closed(dir);
    }

}
