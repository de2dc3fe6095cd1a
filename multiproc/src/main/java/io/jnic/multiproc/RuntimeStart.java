package io.jnic.multiproc;

import static io.jnic.multiproc.MpRuntime.ATTACH_TIMEOUT;
import static io.jnic.multiproc.MpRuntime.CONFIG_FILE;
import static io.jnic.multiproc.MpRuntime.LOCK_FILE;

import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryException;
import io.jnic.memory.MemoryGroup;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.Sched;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a process joins its file prefix's group ({@link MpRuntime#start}): the primary takes the lock file, removes a
 * dead group's files, creates config and memory and serves registrations before it publishes the config; a
 * secondary waits for that config, checks it is the same build, holds it shared, claims its lcores, maps the memory
 * and registers; an orphan joins secondaries whose primary has ended. A failed start undoes what it set up.
 */
final class RuntimeStart {
    private static final System.Logger LOG = System.getLogger(MpRuntime.class.getName());
    private static final Set<Path> OPEN_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();

    private RuntimeStart() {
    }

    /** This process no longer runs the runtime of {@code dir} (it closed): another may start. */
    static void closed(Path dir) {
        OPEN_IN_THIS_PROCESS.remove(dir);
    }

    /**
     * Starts the runtime as the options say: creates the group (primary) or attaches to it (secondary).
     *
     * @throws MpException with what went wrong and what to do: no primary, a second primary, another build,
     *                     an lcore held by another process, a cpu that does not exist, a foreign runtime dir
     */
    static MpRuntime start(EalOptions options) {
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
                    if (options.procType() != ProcType.SECONDARY && RuntimeFiles.lockExclusive(lockFd)) {
                        if (!RuntimeFiles.isLockFileOf(lockFd, dir) && attempt < 5) {
                            Io.closeQuietly(lockFd); // we waited on the lock of a group whose files were removed
                            continue;
                        }
                        return startPrimary(options, dir, lockFd);
                    }
                    if (options.procType() == ProcType.PRIMARY) {
                        int holder = RuntimeFiles.readPid(lockFd);
                        throw new MpException("a primary process " + (holder > 0 ? "(pid " + holder + ") " : "")
                                + "already runs for file prefix '" + options.filePrefix() + "' in " + dir
                                + "; start this one with --proc-type secondary or auto, or pick another --file-prefix");
                    }
                    return startSecondary(options, dir, lockFd);
                } catch (RuntimeException e) {
                    // a failed start leaves nothing of its own: when no primary runs, the files nobody uses go
                    if (Io.flock(lockFd, Io.LOCK_EX | Io.LOCK_NB)) {
                        RuntimeFiles.removeIfUnused(options, dir);
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

    private static MpRuntime startPrimary(EalOptions options, Path dir, int lockFd) {
        int pid = Proc.getpid();
        RuntimeFiles.writePid(lockFd, pid);
        RuntimeFiles.removeStaleGroup(dir, options.filePrefix());
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
            rt.servePrimary();
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

    private static MpRuntime startSecondary(EalOptions options, Path dir, int lockFd) {
        String prefix = options.filePrefix();
        if (Io.flock(lockFd, Io.LOCK_SH | Io.LOCK_NB)) { // nobody holds it exclusively: no primary
            Io.flock(lockFd, Io.LOCK_UN);
            List<Integer> holders = RuntimeFiles.orphanedSecondaries(dir);
            if (holders.isEmpty()) {
                throw noPrimary(prefix, dir);
            }
            return startOrphan(options, dir, lockFd, holders);
        }
        int primaryPid = RuntimeFiles.readPid(lockFd);
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
            RuntimeFiles.removeDeadSockets(dir); // sockets of secondaries that died unnoticed
            ipc = IpcChannel.secondary(dir);
            ipc.expectPrimary(primaryPid);
            watcher = new PidWatcher(prefix);
            MemoryHotplug.followPrimary(memory, ipc);
            int procId = SecondaryRegistry.register(ipc, pid, options.lcores(), primaryPid, prefix);
            MpRuntime rt = new MpRuntime(options, dir, false, lockFd, config, memory, options.lcores(), ipc, watcher,
                    primaryPid, procId);
            watcher.watch(primaryPid, rt::primaryEnded);
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
    static void recoverTakenOver(MemoryGroup memory, LcoreSet takenOver) {
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
                throw new MpException("a primary of file prefix '" + prefix + "' (pid " + RuntimeFiles.readPid(lockFd) + ") started "
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
            rt.markOrphan();
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
                                || c.state() == SharedConfig.STATE_READY && c.primaryPid() == RuntimeFiles.readPid(lockFd)) {
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
                throw new MpException("the primary of file prefix '" + prefix + "' (pid " + RuntimeFiles.readPid(lockFd)
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

}
