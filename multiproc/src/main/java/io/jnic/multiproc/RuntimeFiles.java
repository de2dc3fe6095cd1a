package io.jnic.multiproc;

import static io.jnic.multiproc.MpRuntime.CONFIG_FILE;
import static io.jnic.multiproc.MpRuntime.LOCK_FILE;

import io.jnic.memory.MemoryGroup;
import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A group's files in its runtime dir and the flocks that say who uses them: the lock file (the primary's
 * exclusive flock, its pid as text), the config (secondaries' shared flocks), the secondaries' IPC sockets (named
 * by pid). Finds who still uses a group, and removes a dead group's files or, for the last process, all of them.
 */
final class RuntimeFiles {
    private static final System.Logger LOG = System.getLogger(MpRuntime.class.getName());
    private static final Pattern SECONDARY_SOCKET = Pattern.compile("mp_socket_([0-9]{1,10})_[0-9]{1,10}");

    private RuntimeFiles() {
    }

    /** True when {@code lockFd} is still the file {@code <dir>/lock} (an ending group removes it). */
    static boolean isLockFileOf(int lockFd, Path dir) {
        try {
            Object ours = Files.getAttribute(Path.of("/proc/self/fd/" + lockFd), "unix:ino");
            Object now = Files.getAttribute(dir.resolve(LOCK_FILE), "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return ours.equals(now);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** LOCK_EX|LOCK_NB, riding out a secondary's brief shared probe of a lock nobody holds for good. */
    static boolean lockExclusive(int lockFd) {
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
            if (MemoryGroup.removeStale(RuntimeStart.memoryConfig(options, dir)) < 0) {
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
    static boolean removeDeadSockets(Path dir) {
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

    /**
     * A dead primary left its files: remove them, unless secondaries of that group still run (they hold a
     * shared flock on its config).
     */
    static void removeStaleGroup(Path dir, String prefix) {
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

    /**
     * The live secondaries of a group whose primary has ended: the config is still locked shared by someone,
     * and the IPC sockets name live pids. Empty when nobody uses the group.
     */
    static List<Integer> orphanedSecondaries(Path dir) {
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

    // ---- the lock file holds the primary's pid as decimal text

    static void writePid(int fd, int pid) {
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
