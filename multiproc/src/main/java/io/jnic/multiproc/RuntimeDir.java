package io.jnic.multiproc;

import io.jnic.sys.Proc;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Where a file prefix keeps its config, lock and IPC sockets: {@code /var/run/jnic/<prefix>} for root,
 * {@code $XDG_RUNTIME_DIR/jnic/<prefix>} for other users, {@code /tmp/jnic-<uid>/<prefix>} (with a warning)
 * when XDG_RUNTIME_DIR is unset. Mode 0700 and owned by us: a directory that is not is refused.
 */
public final class RuntimeDir {
    /**
     * System property naming another base directory ({@code <base>/<prefix>}): tests use temp dirs so that
     * they neither collide with each other nor touch a real /var/run/jnic.
     */
    public static final String BASE_PROPERTY = "jnic.runtime.base";

    private static final System.Logger LOG = System.getLogger(RuntimeDir.class.getName());

    private RuntimeDir() {
    }

    /** The runtime dir of {@code prefix} for this process (not created). */
    public static Path resolve(String prefix) {
        String base = System.getProperty(BASE_PROPERTY);
        if (base != null && !base.isBlank()) {
            return Path.of(base).toAbsolutePath().resolve(prefix);
        }
        if (Proc.geteuid() == 0) {
            return Path.of("/var/run/jnic", prefix);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "jnic", prefix);
        }
        Path fallback = Path.of("/tmp", "jnic-" + Proc.geteuid(), prefix);
        LOG.log(System.Logger.Level.WARNING, "XDG_RUNTIME_DIR is not set; using {0} for the runtime dir", fallback);
        return fallback;
    }

    /**
     * Creates {@code dir} (and a missing parent) with mode 0700, or checks an existing one.
     *
     * @throws MpException when it belongs to another user, is a symbolic link or is open to others
     */
    public static Path prepare(Path dir) {
        Path parent = dir.toAbsolutePath().getParent();
        boolean ownParent = System.getProperty(BASE_PROPERTY, "").isBlank(); // .../jnic or /tmp/jnic-<uid>: ours
        if (parent != null && !Files.exists(parent, LinkOption.NOFOLLOW_LINKS)) {
            create(parent);
        }
        if (parent != null && ownParent) {
            check(parent);
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            create(dir);
        }
        check(dir);
        return dir;
    }

    private static void create(Path dir) {
        try {
            Files.createDirectories(dir.getParent());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException raced) {
            // another process made it first: it is checked like any existing dir
        } catch (IOException e) {
            throw new MpException("cannot create runtime dir " + dir + ": " + e.getMessage()
                    + "; check the permissions of " + dir.getParent(), e);
        }
    }

    /** Owner must be our euid, mode 0700 exactly, not a link. */
    static void check(Path dir) {
        try {
            if (Files.isSymbolicLink(dir)) {
                throw new MpException("runtime dir " + dir + " is a symbolic link; refusing to follow it: remove it");
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new MpException("runtime dir " + dir + " exists but is not a directory: remove it");
            }
            int uid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int euid = Proc.geteuid();
            if (uid != euid) {
                throw new MpException("runtime dir " + dir + " belongs to uid " + uid + ", not to this process (uid "
                        + euid + "); another user's jnic uses it: pick another --file-prefix or run as that user");
            }
            int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
            if (mode != 0700) {
                throw new MpException("runtime dir " + dir + " has mode 0" + Integer.toOctalString(mode)
                        + "; it must be 0700 (private to its owner): chmod 700 " + dir);
            }
        } catch (IOException e) {
            throw new MpException("cannot check runtime dir " + dir + ": " + e.getMessage(), e);
        }
    }
}
