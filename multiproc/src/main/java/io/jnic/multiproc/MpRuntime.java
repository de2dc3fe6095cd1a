package io.jnic.multiproc;

import io.jnic.memory.DmaSegment;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryException;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.multiproc.ipc.IpcStats;
import io.jnic.multiproc.telemetry.JnicEvents;
import io.jnic.multiproc.telemetry.ProcessCommands;
import io.jnic.multiproc.telemetry.Telemetry;
import io.jnic.multiproc.telemetry.TelemetryServer;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.Sched;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    private static final Pattern SECONDARY_SOCKET = Pattern.compile("mp_socket_([0-9]{1,10})_[0-9]{1,10}");
    private static final Set<Path> OPEN_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();
    private static final ThreadLocal<Integer> CURRENT_LCORE = new ThreadLocal<>();
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
    private final Set<Integer> floating = ConcurrentHashMap.newKeySet();
    private final Telemetry telemetry = new Telemetry(pid);
    private final MemoryHotplug hotplug;
    private TelemetryServer telemetryServer;
    private volatile boolean primaryGone;
    private volatile boolean closed;
    private boolean orphan;

    private MpRuntime(EalOptions options, Path dir, boolean primary, int lockFd, SharedConfig config, MemoryGroup memory,
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
    }

    /**
     * Starts the runtime as the options say: creates the group (primary) or attaches to it (secondary).
     *
     * @throws MpException with what went wrong and what to do: no primary, a second primary, another build,
     *                     an lcore held by another process, a cpu that does not exist, a foreign runtime dir
     */
    public static MpRuntime start(EalOptions options) {
        checkCpus(options.lcores());
        Path dir = RuntimeDir.resolve(options.filePrefix()).toAbsolutePath().normalize();
        if (!OPEN_IN_THIS_PROCESS.add(dir)) {
            throw new MpException("this process already runs the runtime of file prefix '" + options.filePrefix()
                    + "' (" + dir + "); one runtime per prefix and process");
        }
        try {
            for (int attempt = 1;; attempt++) {
                RuntimeDir.prepare(dir);
                int lockFd;
                try {
                    lockFd = Io.open(dir.resolve(LOCK_FILE).toString(), Io.O_RDWR | Io.O_CREAT | Io.O_CLOEXEC, 0600);
                } catch (SysException e) {
                    if (e.errno() == io.jnic.sys.Errno.ENOENT && attempt < 5) {
                        continue; // the last process of an ending group removed the dir just now
                    }
                    throw new MpException("cannot open " + dir.resolve(LOCK_FILE) + ": " + e.getMessage(), e);
                }
                try {
                    if (options.procType() != ProcType.SECONDARY && lockExclusive(lockFd)) {
                        if (!isLockFileOf(lockFd, dir) && attempt < 5) {
                            Io.closeQuietly(lockFd); // we waited on the lock of a group whose files were removed
                            continue;
                        }
                        return startPrimary(options, dir, lockFd);
                    }
                    if (options.procType() == ProcType.PRIMARY) {
                        int holder = readPid(lockFd);
                        throw new MpException("a primary process " + (holder > 0 ? "(pid " + holder + ") " : "")
                                + "already runs for file prefix '" + options.filePrefix() + "' in " + dir
                                + "; start this one with --proc-type secondary or auto, or pick another --file-prefix");
                    }
                    return startSecondary(options, dir, lockFd);
                } catch (RuntimeException e) {
                    // a failed start leaves nothing of its own: when no primary runs, the files nobody uses go
                    if (Io.flock(lockFd, Io.LOCK_EX | Io.LOCK_NB)) {
                        removeIfUnused(options, dir);
                    }
                    Io.closeQuietly(lockFd);
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            OPEN_IN_THIS_PROCESS.remove(dir);
            throw e;
        }
    }

    /** True when {@code lockFd} is still the file {@code <dir>/lock} (an ending group removes it). */
    private static boolean isLockFileOf(int lockFd, Path dir) {
        try {
            Object ours = Files.getAttribute(Path.of("/proc/self/fd/" + lockFd), "unix:ino");
            Object now = Files.getAttribute(dir.resolve(LOCK_FILE), "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return ours.equals(now);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Removes the group's files when no process uses them any more: the caller holds the lock file's exclusive
     * flock (so no primary runs or starts meanwhile). Nothing is removed while a secondary holds the config
     * (shared flock) or the memory; sockets of live processes are kept, and then the dir too.
     *
     * @return true when the runtime dir itself was removed
     */
    static boolean removeIfUnused(EalOptions options, Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        int cfd = -1;
        try {
            if (Files.exists(configFile)) {
                try {
                    cfd = Io.open(configFile.toString(), Io.O_RDWR | Io.O_CLOEXEC);
                } catch (SysException gone) {
                    cfd = -1;
                }
                if (cfd >= 0 && !Io.flock(cfd, Io.LOCK_EX | Io.LOCK_NB)) {
                    return false; // secondaries still use the group
                }
                if (cfd >= 0) {
                    try (SharedConfig c = SharedConfig.map(configFile)) {
                        c.retire(); // one that opened it and waits for its shared flock gives up
                    } catch (RuntimeException ignored) {
                        // not a config of ours: it is removed all the same
                    }
                }
            }
            if (MemoryGroup.removeStale(memoryConfig(options, dir)) < 0) {
                return false; // a process still maps the memory
            }
            Files.deleteIfExists(configFile);
            Files.deleteIfExists(dir.resolve(IpcChannel.PRIMARY_SOCKET));
            boolean live = removeDeadSockets(dir);
            if (live) {
                return false;
            }
            Files.deleteIfExists(dir.resolve(LOCK_FILE));
            try {
                Files.delete(dir);
                LOG.log(System.Logger.Level.DEBUG, "removed runtime dir {0}", dir);
                return true;
            } catch (java.nio.file.DirectoryNotEmptyException others) {
                LOG.log(System.Logger.Level.DEBUG, "runtime dir {0} keeps files that are not the runtime''s", dir);
                return false;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove the files of file prefix ''{0}'' in {1}: {2}",
                    options.filePrefix(), dir, e.getMessage());
            return false;
        } finally {
            Io.closeQuietly(cfd);
        }
    }

    /** Removes the IPC sockets of secondaries whose process has ended; true when some of live ones remain. */
    private static boolean removeDeadSockets(Path dir) {
        boolean[] live = {false};
        int[] removed = {0};
        forEachSecondarySocket(dir, (path, spid) -> {
            if (spid != Proc.getpid() && Proc.isAlive(spid)) {
                live[0] = true;
                return;
            }
            try {
                if (Files.deleteIfExists(path)) {
                    removed[0]++;
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot remove stale socket {0}: {1}", path, e.getMessage());
            }
        });
        if (removed[0] > 0) {
            LOG.log(System.Logger.Level.INFO, "removed {0} IPC socket(s) of ended processes in {1}", removed[0], dir);
        }
        return live[0];
    }

    /** Every requested lcore must name a cpu this process may run on (lcore id = cpu id). */
    private static void checkCpus(LcoreSet requested) {
        if (requested.isEmpty()) {
            return;
        }
        BitSet allowed = Sched.getAffinity(0);
        for (int lcore : requested.ids()) {
            if (!allowed.get(lcore)) {
                throw new MpException("lcore " + lcore + " maps to cpu " + lcore + ", which does not exist or is not "
                        + "available to this process (cpus: " + describe(allowed) + "); choose lcores among them with -l");
            }
        }
    }

    private static String describe(BitSet cpus) {
        return cpus.length() <= LcoreSet.MAX_LCORES ? LcoreSet.fromBitSet(cpus).toString() : cpus.toString();
    }

    /** LOCK_EX|LOCK_NB, riding out a secondary's brief shared probe of a lock nobody holds for good. */
    private static boolean lockExclusive(int lockFd) {
        for (int attempt = 0; attempt < 20; attempt++) {
            if (Io.flock(lockFd, Io.LOCK_EX | Io.LOCK_NB)) {
                return true;
            }
            int holder = readPid(lockFd);
            if (holder > 0 && Proc.isAlive(holder)) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private static MpRuntime startPrimary(EalOptions options, Path dir, int lockFd) {
        int pid = Proc.getpid();
        writePid(lockFd, pid);
        removeStaleGroup(dir, options.filePrefix());
        SharedConfig config = SharedConfig.create(dir.resolve(CONFIG_FILE), pid, BuildId.current());
        IpcChannel ipc = null;
        PidWatcher watcher = null;
        MemoryGroup memory = null;
        try {
            config.lcores().claimAll(options.lcores(), pid, options.filePrefix());
            memory = createMemory(options, dir);
            ipc = IpcChannel.primary(dir);
            watcher = new PidWatcher(options.filePrefix());
            MpRuntime rt = new MpRuntime(options, dir, true, lockFd, config, memory, options.lcores(), ipc, watcher,
                    pid, 0);
            rt.registry.serve();
            rt.hotplug.answerRequests();
            ipc.register(ACTION_IPC_STATS, rt::onIpcStats);
            config.publish(); // only now can a secondary attach: the channel and its handlers are up
            LOG.log(System.Logger.Level.INFO, "primary {0,number,#} of file prefix ''{1}'' in {2}, lcores [{3}]", pid,
                    options.filePrefix(), dir, options.lcores());
            rt.startTelemetry();
            return rt;
        } catch (RuntimeException e) {
            if (ipc != null) {
                ipc.close();
            }
            if (watcher != null) {
                watcher.close();
            }
            if (memory != null) {
                memory.close();
            }
            config.close();
            throw e;
        }
    }

    /** The memory group's settings from the runtime options: same prefix, this runtime dir, -m, --no-huge. */
    static MemoryConfig memoryConfig(EalOptions options, Path dir) {
        MemoryConfig.Builder b = MemoryConfig.builder().filePrefix(options.filePrefix()).runtimeDir(dir)
                .size(options.memoryMb().isPresent() ? (long) options.memoryMb().getAsInt() << 20 : 0);
        options.hugeDir().ifPresent(b::hugeDir);
        if (options.noHuge()) {
            b.noHuge();
        }
        options.iovaMode().ifPresent(b::iovaMode);
        return b.build();
    }

    private static MemoryGroup createMemory(EalOptions options, Path dir) {
        try {
            return MemoryGroup.create(memoryConfig(options, dir));
        } catch (MemoryException e) {
            throw new MpException("cannot create the memory of file prefix '" + options.filePrefix() + "': "
                    + e.getMessage() + (e.getMessage().contains("--no-huge") ? "" : " (or run with --no-huge)"), e);
        }
    }

    /**
     * A dead primary left its files: remove them, unless secondaries of that group still run (they hold a
     * shared flock on its config).
     */
    private static void removeStaleGroup(Path dir, String prefix) {
        Path oldConfig = dir.resolve(CONFIG_FILE);
        if (Files.exists(oldConfig)) {
            int fd = Io.open(oldConfig.toString(), Io.O_RDONLY | Io.O_CLOEXEC);
            try {
                if (!Io.flock(fd, Io.LOCK_EX | Io.LOCK_NB)) {
                    List<Integer> alive = new ArrayList<>();
                    forEachSecondarySocket(dir, (path, spid) -> {
                        if (Proc.isAlive(spid)) {
                            alive.add(spid);
                        }
                    });
                    alive.sort(null);
                    throw new MpException("secondary processes " + (alive.isEmpty() ? "" : alive + " ")
                            + "of an earlier primary of file prefix '" + prefix + "' still use " + dir
                            + " (its memory is theirs; a new primary would reinitialise it); stop them before starting"
                            + " a new primary, or use another --file-prefix");
                }
            } finally {
                Io.closeQuietly(fd);
            }
            LOG.log(System.Logger.Level.INFO, "removing the files of a dead primary in {0}", dir);
        }
        try {
            Files.deleteIfExists(oldConfig);
            Files.deleteIfExists(dir.resolve(IpcChannel.PRIMARY_SOCKET));
            forEachSecondarySocket(dir, (path, spid) -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new MpException("cannot remove stale socket " + path + ": " + e.getMessage(), e);
                }
            });
        } catch (IOException e) {
            throw new MpException("cannot remove the stale files in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void forEachSecondarySocket(Path dir, java.util.function.ObjIntConsumer<Path> action) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "mp_socket_*")) {
            for (Path p : ds) {
                Matcher m = SECONDARY_SOCKET.matcher(p.getFileName().toString());
                if (m.matches()) {
                    action.accept(p, (int) Math.min(Integer.MAX_VALUE, Long.parseLong(m.group(1))));
                }
            }
        } catch (IOException e) {
            throw new MpException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static MpRuntime startSecondary(EalOptions options, Path dir, int lockFd) {
        String prefix = options.filePrefix();
        if (Io.flock(lockFd, Io.LOCK_SH | Io.LOCK_NB)) { // nobody holds it exclusively: no primary
            Io.flock(lockFd, Io.LOCK_UN);
            List<Integer> holders = orphanedSecondaries(dir);
            if (holders.isEmpty()) {
                throw noPrimary(prefix, dir);
            }
            return startOrphan(options, dir, lockFd, holders);
        }
        int primaryPid = readPid(lockFd);
        SharedConfig config = waitForConfig(dir, prefix, lockFd);
        IpcChannel ipc = null;
        PidWatcher watcher = null;
        MemoryGroup memory = null;
        int pid = Proc.getpid();
        try {
            checkCompatible(config, dir);
            primaryPid = config.primaryPid();
            if (primaryPid == pid) {
                throw new MpException("this process is the primary of file prefix '" + prefix + "'; it cannot also be its secondary");
            }
            Io.flock(config.fd(), Io.LOCK_SH); // a new primary must not wipe a group we still use
            if (config.state() != SharedConfig.STATE_READY) {
                throw noPrimary(prefix, dir); // the group ended while we waited for the flock
            }
            // lcores of a dead process go to the primary's recovery first (it reclaims what they held, then frees them)
            LcoreSet takenOver = config.lcores().claimAll(options.lcores(), pid, prefix, ATTACH_TIMEOUT);
            try {
                memory = MemoryGroup.attach(memoryConfig(options, dir));
            } catch (MemoryException e) {
                throw new MpException("cannot attach the memory of file prefix '" + prefix + "' (primary pid "
                        + primaryPid + "): " + e.getMessage(), e);
            }
            recoverTakenOver(memory, takenOver);
            removeDeadSockets(dir); // sockets of secondaries that died unnoticed
            ipc = IpcChannel.secondary(dir);
            ipc.expectPrimary(primaryPid);
            watcher = new PidWatcher(prefix);
            MemoryHotplug.followPrimary(memory, ipc);
            int procId = SecondaryRegistry.register(ipc, pid, options.lcores(), primaryPid, prefix);
            MpRuntime rt = new MpRuntime(options, dir, false, lockFd, config, memory, options.lcores(), ipc, watcher,
                    primaryPid, procId);
            watcher.watch(primaryPid, rt::onPrimaryExit);
            LOG.log(System.Logger.Level.INFO, "secondary {0,number,#} (proc id {1}) of primary {2,number,#}, file prefix ''{3}'', lcores [{4}]",
                    pid, procId, primaryPid, prefix, options.lcores());
            rt.startTelemetry();
            return rt;
        } catch (RuntimeException e) {
            abandonStart(ipc, watcher, memory, config, pid);
            throw e;
        }
    }

    /** Lcores this process took over from dead holders: their caches may hold what those left; recover first. */
    private static void recoverTakenOver(MemoryGroup memory, LcoreSet takenOver) {
        if (!takenOver.isEmpty()) {
            MemoryRecovery.recover(memory, takenOver, "the dead holders of lcores [" + takenOver + "]");
        }
    }

    /** Undoes what a secondary's start had set up when it fails (null: not reached). */
    private static void abandonStart(IpcChannel ipc, PidWatcher watcher, MemoryGroup memory, SharedConfig config, int pid) {
        if (ipc != null) {
            ipc.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (memory != null) {
            memory.close();
        }
        config.lcores().releaseAll(pid);
        config.close();
    }

    /**
     * The live secondaries of a group whose primary has ended: the config is still locked shared by someone,
     * and the IPC sockets name live pids. Empty when nobody uses the group.
     */
    private static List<Integer> orphanedSecondaries(Path dir) {
        Path config = dir.resolve(CONFIG_FILE);
        if (!Files.exists(config)) {
            return List.of();
        }
        int fd;
        try {
            fd = Io.open(config.toString(), Io.O_RDONLY | Io.O_CLOEXEC);
        } catch (SysException gone) {
            return List.of();
        }
        try {
            if (Io.flock(fd, Io.LOCK_EX | Io.LOCK_NB)) {
                Io.flock(fd, Io.LOCK_UN);
                return List.of(); // nobody holds it
            }
        } finally {
            Io.closeQuietly(fd);
        }
        List<Integer> alive = new ArrayList<>();
        forEachSecondarySocket(dir, (path, spid) -> {
            if (Proc.isAlive(spid) && !alive.contains(spid)) {
                alive.add(spid);
            }
        });
        alive.sort(null);
        return alive;
    }

    /** Joins a group whose primary has ended but whose secondaries {@code holders} still run. */
    private static MpRuntime startOrphan(EalOptions options, Path dir, int lockFd, List<Integer> holders) {
        String prefix = options.filePrefix();
        SharedConfig config;
        try {
            config = SharedConfig.map(dir.resolve(CONFIG_FILE));
        } catch (SysException e) {
            throw new MpException("cannot map the config of file prefix '" + prefix + "' left by its ended primary: "
                    + e.getMessage(), e);
        }
        IpcChannel ipc = null;
        PidWatcher watcher = null;
        MemoryGroup memory = null;
        int pid = Proc.getpid();
        try {
            checkCompatible(config, dir);
            if (config.state() != SharedConfig.STATE_READY) {
                throw new MpException("the ended primary (pid " + config.primaryPid() + ") of file prefix '" + prefix
                        + "' never finished setting the group up; stop its secondaries " + holders
                        + " and start a new primary");
            }
            Io.flock(config.fd(), Io.LOCK_SH); // a new primary must not wipe a group we use
            if (!Io.flock(lockFd, Io.LOCK_SH | Io.LOCK_NB)) {
                throw new MpException("a primary of file prefix '" + prefix + "' (pid " + readPid(lockFd) + ") started "
                        + "while this process was joining its orphaned secondaries; start this one again");
            }
            Io.flock(lockFd, Io.LOCK_UN);
            LcoreSet takenOver = config.lcores().claimAll(options.lcores(), pid, prefix);
            try {
                memory = MemoryGroup.attach(memoryConfig(options, dir));
            } catch (MemoryException e) {
                throw new MpException("cannot attach the memory of file prefix '" + prefix + "' (held by secondaries "
                        + holders + ", no primary): " + e.getMessage(), e);
            }
            recoverTakenOver(memory, takenOver);
            ipc = IpcChannel.secondary(dir);
            int primaryPid = config.primaryPid();
            String why = "no primary runs for file prefix '" + prefix + "' (pid " + primaryPid + " ended; this process "
                    + "joined its secondaries " + holders + " in orphan mode)";
            ipc.primaryGone(why);
            watcher = new PidWatcher(prefix);
            MpRuntime rt = new MpRuntime(options, dir, false, lockFd, config, memory, options.lcores(), ipc, watcher,
                    primaryPid, -1);
            rt.orphan = true;
            rt.primaryGone = true;
            LOG.log(System.Logger.Level.WARNING, "secondary {0,number,#} of file prefix ''{1}'' joins an orphaned group: "
                    + "the primary (pid {2,number,#}) has ended, secondaries {3} still run. Shared memory, rings, pools "
                    + "and device queues work; missing without a primary: IPC to it (requests fail at once), memory "
                    + "hotplug, recovery of processes that die from now on, link and RX-interrupt events. Restart the "
                    + "group (stop every process, start a primary) to get them back.", pid, prefix, primaryPid, holders);
            rt.startTelemetry();
            return rt;
        } catch (RuntimeException e) {
            abandonStart(ipc, watcher, memory, config, pid);
            throw e;
        }
    }

    private static MpException noPrimary(String prefix, Path dir) {
        return new MpException("no primary process runs for file prefix '" + prefix + "' (looked in " + dir
                + "); start a primary first (--proc-type primary or auto) with the same --file-prefix");
    }

    /** Opens the config once the primary has published it; fails when the primary goes away meanwhile. */
    private static SharedConfig waitForConfig(Path dir, String prefix, int lockFd) {
        long deadline = System.nanoTime() + ATTACH_TIMEOUT.toNanos();
        Path file = dir.resolve(CONFIG_FILE);
        for (;;) {
            if (Files.exists(file)) {
                try {
                    if (Files.size(file) >= SharedConfig.SIZE) {
                        SharedConfig c = SharedConfig.map(file);
                        // ready, and written by the primary that holds the lock now (not a dead one's leftover)
                        if (c.magic() != SharedConfig.MAGIC
                                || c.state() == SharedConfig.STATE_READY && c.primaryPid() == readPid(lockFd)) {
                            return c;
                        }
                        c.close();
                    }
                } catch (IOException | SysException raced) {
                    // replaced or removed by a starting primary: look again
                }
            }
            if (Io.flock(lockFd, Io.LOCK_SH | Io.LOCK_NB)) {
                Io.flock(lockFd, Io.LOCK_UN);
                throw noPrimary(prefix, dir);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new MpException("the primary of file prefix '" + prefix + "' (pid " + readPid(lockFd)
                        + ") did not publish its config " + file + " within " + ATTACH_TIMEOUT.toSeconds() + " s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MpException("interrupted while waiting for the primary's config " + file);
            }
        }
    }

    private static void checkCompatible(SharedConfig config, Path dir) {
        if (config.magic() != SharedConfig.MAGIC) {
            throw new MpException(config.file() + " is not a jnic runtime config (magic 0x"
                    + Integer.toHexString(config.magic()) + "); remove " + dir + " if no jnic process uses it");
        }
        if (config.layoutVersion() != SharedConfig.LAYOUT_VERSION) {
            throw new MpException("the primary (pid " + config.primaryPid() + ") uses shared layout version "
                    + config.layoutVersion() + ", this process uses " + SharedConfig.LAYOUT_VERSION
                    + "; run the same jnic build in every process of a file prefix");
        }
        String ours = BuildId.current();
        String theirs = config.buildId();
        if (!ours.equals(theirs)) {
            throw new MpException("this process is build '" + ours + "' but the primary (pid " + config.primaryPid()
                    + ") is build '" + theirs + "'; run the same jnic build in every process of a file prefix");
        }
    }

    private void onIpcStats(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        long[] v = ipc.stats().values();
        ByteBuffer r = ByteBuffer.allocate(8 + 8 * v.length).order(ByteOrder.LITTLE_ENDIAN).putInt(STATUS_OK).putInt(v.length);
        for (long x : v) {
            r.putLong(x);
        }
        ipc.reply(peer, new IpcMessage(ACTION_IPC_STATS, r.array()));
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
        IpcReply r = ipc.requestSync(new IpcMessage(ACTION_IPC_STATS), Duration.ofSeconds(3));
        if (r.nbReceived() == 0) {
            throw new MpException("the primary (pid " + primaryPid + ") did not answer a request for its IPC counters");
        }
        IpcMessage m = r.messages().getFirst();
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        int n = b.remaining() >= 8 && b.getInt() == STATUS_OK ? b.getInt() : -1;
        if (n < 0 || n > 64 || b.remaining() != 8 * n) {
            throw new MpException("the primary answered a request for its IPC counters with " + m.paramLength() + " bytes");
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = b.getLong();
        }
        return IpcStats.of(v);
    }

    private void onPrimaryExit() {
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
    private void startTelemetry() {
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
        Integer id = CURRENT_LCORE.get();
        return id == null ? -1 : id;
    }

    /**
     * Pins the calling thread to {@code lcore}'s cpu (one of this process's -l lcores).
     *
     * @throws IllegalArgumentException when this process did not claim it
     */
    public void pinCurrentThread(int lcore) {
        if (!lcores.contains(lcore)) {
            throw new IllegalArgumentException("lcore " + lcore + " is not one of this process's lcores [" + lcores
                    + "]; claim it with -l");
        }
        BitSet cpu = new BitSet();
        cpu.set(lcore);
        Sched.setAffinity(0, cpu);
        CURRENT_LCORE.set(lcore);
    }

    /** Starts a thread pinned to {@code lcore} (rte_eal_remote_launch). */
    public Thread launch(int lcore, Runnable task) {
        if (!lcores.contains(lcore)) {
            throw new IllegalArgumentException("lcore " + lcore + " is not one of this process's lcores [" + lcores
                    + "]; claim it with -l");
        }
        Thread t = new Thread(() -> {
            pinCurrentThread(lcore);
            try {
                task.run();
            } finally {
                CURRENT_LCORE.remove();
            }
        }, "lcore-" + lcore);
        t.start();
        return t;
    }

    /**
     * Gives the calling thread a lcore id of its own without pinning it (a floating thread): an id no
     * process holds, claimed in the shared table until the returned handle is closed.
     *
     * @throws MpException when every lcore id is taken
     */
    public FloatingLcore attachFloatingThread() {
        if (currentLcore() >= 0) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " already has lcore " + currentLcore());
        }
        int id = config.lcores().claimAny(pid, LcoreSet.EMPTY);
        if (id < 0) {
            throw new MpException("no lcore id is free for a floating thread: all " + LcoreTable.SLOTS
                    + " are held by processes of file prefix '" + options.filePrefix() + "'");
        }
        recoverTakenOver(memory, LcoreSet.of(id)); // a dead holder's cache may still hold what it left
        floating.add(id);
        CURRENT_LCORE.set(id);
        return new FloatingLcore(id);
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
                floating.remove(id);
                config.lcores().release(id, pid);
                if (Integer.valueOf(id).equals(CURRENT_LCORE.get())) {
                    CURRENT_LCORE.remove();
                }
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
            removeIfUnused(options, dir);
        }
        Io.closeQuietly(lockFd); // the exclusive lock goes with it
        OPEN_IN_THIS_PROCESS.remove(dir);
    }

    // ---- the lock file holds the primary's pid as decimal text

    private static void writePid(int fd, int pid) {
        byte[] text = (pid + "\n").getBytes(StandardCharsets.US_ASCII);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(text.length);
            MemorySegment.copy(text, 0, b, ValueLayout.JAVA_BYTE, 0, text.length);
            Io.ftruncate(fd, 0);
            Io.pwrite(fd, b, text.length, 0);
        }
    }

    static int readPid(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(16);
            long n = Io.pread(fd, b, 16, 0);
            String s = new String(b.asSlice(0, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            return s.matches("[0-9]{1,10}") ? (int) Math.min(Integer.MAX_VALUE, Long.parseLong(s)) : -1;
        }
    }
}
