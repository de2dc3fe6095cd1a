package io.jnic.memory;

import io.jnic.memory.MemoryException.Reason;
import io.jnic.sys.Errno;
import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * A memory group's files on disk and the flocks that guard them: the runtime dir's creation lock, segment files
 * created under a shared lock, and the removal of a dead group's leftovers (the files of a prefix that no process
 * locks). See the package documentation, "Files", for who holds which lock.
 */
final class GroupFiles {
    private static final System.Logger LOG = System.getLogger(MemoryGroup.class.getName());

    private GroupFiles() {
    }

    /**
     * Removes the files of a dead FILE-backed group with this prefix, under the runtime dir's lock.
     *
     * @return files removed, or -1 when the group is alive
     */
    static int removeStale(MemoryConfig config) {
        if (!Files.isDirectory(config.runtimeDir())) {
            return 0;
        }
        int dirFd = lockDir(config.runtimeDir());
        try {
            return removeStaleLocked(config);
        } finally {
            unlockDir(dirFd);
        }
    }

    /** {@link #removeStale} for a caller that holds the runtime dir's lock. */
    static int removeStaleLocked(MemoryConfig config) {
        Path header = config.headerPath();
        int removed = 0;
        if (Files.exists(header)) {
            if (!removeIfUnlocked(header)) {
                return -1;
            }
            removed++;
        }
        Path dir = config.dataDir();
        if (!Files.isDirectory(dir)) {
            return removed;
        }
        String stem = config.filePrefix() + "map_";
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(stem) && n.length() > stem.length() && n.substring(stem.length()).chars()
                        .allMatch(c -> c >= '0' && c <= '9') && removeIfUnlocked(p)) {
                    removed++;
                }
            }
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot list " + dir + ": " + e, e);
        }
        if (removed > 0) {
            LOG.log(System.Logger.Level.INFO, "removed {0} stale file(s) of dead memory group {1}", removed,
                    config.filePrefix());
        }
        return removed;
    }

    /** Unlinks {@code path} if no process holds a flock on it; false when someone does. */
    static boolean removeIfUnlocked(Path path) {
        int fd;
        try {
            fd = Io.open(path.toString(), Io.O_RDONLY | Io.O_CLOEXEC);
        } catch (SysException e) {
            return e.errno() == Errno.ENOENT;
        }
        try {
            if (!Io.flock(fd, Io.LOCK_EX | Io.LOCK_NB)) {
                return false;
            }
            unlinkQuietly(path);
            return true;
        } finally {
            Io.closeQuietly(fd);
        }
    }

    /**
     * Creates a segment file and takes its shared lock before anyone can see it unlocked. A file of that name left
     * by a process that died between creating it and publishing its segment is removed (once) if nobody locks it.
     */
    static int createSegmentFile(Path path) {
        for (int attempt = 0; ; attempt++) {
            try {
                int fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_EXCL | Io.O_CLOEXEC, 0600);
                try {
                    Io.flock(fd, Io.LOCK_SH);
                } catch (RuntimeException e) {
                    Io.closeQuietly(fd);
                    unlinkQuietly(path);
                    throw e;
                }
                return fd;
            } catch (SysException e) {
                // left by a process that died between creating the file and publishing the segment?
                if (e.errno() != Errno.EEXIST || attempt > 0 || !removeIfUnlocked(path)) {
                    throw e.errno() == Errno.EEXIST
                            ? new MemoryException(Reason.GROUP_EXISTS, path + " exists and is in use by another"
                                    + " process: it belongs to another group with the same prefix", e)
                            : e;
                }
            }
        }
    }

    /** Takes the exclusive flock on a directory (creation and cleanup of a group's files run under it). */
    static int lockDir(Path dir) {
        int fd = Io.open(dir.toString(), Io.O_RDONLY | Io.O_DIRECTORY | Io.O_CLOEXEC);
        try {
            Io.flock(fd, Io.LOCK_EX);
            return fd;
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    static void unlockDir(int fd) {
        Io.closeQuietly(fd); // closing drops the flock
    }

    static void ensureDir(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot create directory " + dir + ": " + e, e);
        }
    }

    static void unlinkQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + p, e);
        }
    }

    /** Size of the file behind {@code fd} (a path, a memfd or anything else fstat can see). */
    static long fdSize(int fd) {
        try {
            return Files.size(Path.of("/proc/self/fd/" + fd));
        } catch (IOException e) {
            throw new MemoryException(Reason.SYSTEM, "cannot stat descriptor " + fd + ": " + e, e);
        }
    }
}
