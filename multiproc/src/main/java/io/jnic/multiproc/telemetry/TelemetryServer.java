package io.jnic.multiproc.telemetry;

import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Serves DPDK's telemetry v2 protocol for one process, so that DPDK's {@code dpdk-telemetry.py -f PREFIX} (and
 * any client of that protocol) can ask it: a UNIX SOCK_SEQPACKET socket where the script looks, {@code
 * <runtime>/dpdk/<prefix>/dpdk_telemetry.v2} for the primary and {@code dpdk_telemetry.v2:<n>} for other
 * processes ({@code -i n}; n is the proc id when that name is free, else the first free number), {@code <runtime>}
 * being {@code $RUNTIME_DIRECTORY}, else {@code /var/run} for root, else {@code $XDG_RUNTIME_DIR} or {@code /tmp}
 * (the script's rules; a test's {@code jnic.runtime.base} takes the place of {@code $RUNTIME_DIRECTORY}). The
 * socket is created by the process itself (no symlink to jnic's runtime dir: the script only globs and connects)
 * and removed when the runtime closes; a socket left by a dead process (connect refused) is replaced.
 *
 * <p>Protocol (as DPDK's lib/telemetry): on connect the server sends {@code
 * {"version":...,"pid":...,"max_output_len":16384}}; each message from the client is one request,
 * {@code cmd[,params]}, answered by one JSON message ({@link Telemetry#handle}).
 *
 * <p>Safety: one thread polls the listening socket and the clients, every socket non-blocking. A request is read
 * as one message of at most 1 KB (the rest of a longer one is discarded by the kernel); garbage gets a null reply.
 * A client that does not read its replies has one reply pending at most: until it is sent, its requests are not
 * read, and after {@value #STALL_MILLIS} ms it is disconnected. At most {@value #MAX_CLIENTS} clients are served at
 * once; more are closed at accept. Nothing a client does blocks the server thread, and the data path never meets
 * it.
 */
public final class TelemetryServer implements AutoCloseable {
    /** The socket's name, as DPDK's (and its script's) SOCKET_NAME. */
    public static final String SOCKET_NAME = "dpdk_telemetry.v2";
    /** Clients served at once (DPDK: 10). */
    public static final int MAX_CLIENTS = 10;
    /** How long a reply may wait for a client that does not read, in ms. */
    public static final int STALL_MILLIS = 5000;
    static final int MAX_REQUEST = 1024;
    private static final int POLL_MILLIS = 100;
    /** How long after start the MBeans are published (system property {@code jnic.jmx.delayMs}). */
    static final long MBEAN_DELAY_MS = Long.getLong("jnic.jmx.delayMs", 2000);
    /** Environment variable the script (and DPDK's EAL) read first. */
    private static final String RUNTIME_DIRECTORY = "RUNTIME_DIRECTORY";
    private static final System.Logger LOG = System.getLogger(TelemetryServer.class.getName());

    private final Telemetry telemetry;
    private final Path path;
    private final Path dir;
    private final int listenFd;
    private final Thread thread;
    private final int[] fds = new int[MAX_CLIENTS];
    private final byte[][] pending = new byte[MAX_CLIENTS][];
    private final long[] pendingSince = new long[MAX_CLIENTS];
    private volatile boolean closed;
    private long clientsServed;
    private long clientsDropped;

    private TelemetryServer(Telemetry telemetry, Path path, int listenFd) {
        this.telemetry = telemetry;
        this.path = path;
        this.dir = path.getParent();
        this.listenFd = listenFd;
        java.util.Arrays.fill(fds, -1);
        this.thread = Thread.ofPlatform().daemon().name("telemetry-v2").unstarted(this::loop);
    }

    /**
     * The directory the script looks in for {@code prefix}: {@code <runtime>/dpdk/<prefix>}.
     */
    public static Path socketDir(String prefix) {
        String base = System.getenv(RUNTIME_DIRECTORY);
        String testBase = System.getProperty("jnic.runtime.base");
        if (testBase != null && !testBase.isBlank()) {
            base = testBase;
        } else if (base == null || base.isBlank()) {
            base = Proc.geteuid() == 0 ? "/var/run" : System.getenv().getOrDefault("XDG_RUNTIME_DIR", "/tmp");
        }
        return Path.of(base, "dpdk", prefix).toAbsolutePath();
    }

    /** The socket name of instance {@code n} (0: the script's default, else {@code -i n}). */
    public static String socketName(int n) {
        return n == 0 ? SOCKET_NAME : SOCKET_NAME + ":" + n;
    }

    /**
     * Binds the socket of {@code prefix} (instance {@code preferred}, or the first free one) and starts serving.
     *
     * @throws TelemetryException when the socket cannot be created (what and why; the runtime goes on without it)
     */
    public static TelemetryServer start(Telemetry telemetry, String prefix, int preferred) {
        Path dir = socketDir(prefix);
        makeDir(dir);
        int fd = Sockets.socket(Sockets.SOCK_SEQPACKET | Sockets.SOCK_NONBLOCK);
        try {
            Path p = bindFree(fd, dir, Math.max(0, preferred));
            Sockets.listen(fd, MAX_CLIENTS);
            TelemetryServer s = new TelemetryServer(telemetry, p, fd);
            s.thread.start();
            LOG.log(System.Logger.Level.INFO, "telemetry on {0} (dpdk-telemetry.py -f {1}{2})", p, prefix,
                    p.getFileName().toString().equals(SOCKET_NAME) ? "" : " -i " + p.getFileName().toString().substring(SOCKET_NAME.length() + 1));
            return s;
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    private static void makeDir(Path dir) {
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(dir.getParent());
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // another process of the group made it
                }
            }
        } catch (IOException e) {
            throw new TelemetryException("cannot create " + dir + " for the telemetry socket: " + e.getMessage(), e);
        }
    }

    /** Binds {@code preferred}'s name if free (or stale), else the first free instance from 1. */
    private static Path bindFree(int fd, Path dir, int preferred) {
        for (int attempt = -1; attempt < 256; attempt++) {
            int n = attempt < 0 ? preferred : attempt;
            if (attempt >= 0 && (attempt == preferred || attempt == 0)) {
                continue; // tried first, or the primary's name
            }
            Path p = dir.resolve(socketName(n));
            if (p.toString().length() >= UnixAddress.PATH_CAPACITY) {
                throw new TelemetryException("telemetry socket path " + p + " is too long for a UNIX socket ("
                        + UnixAddress.PATH_CAPACITY + " bytes at most); use a shorter --file-prefix or RUNTIME_DIRECTORY");
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                if (inUse(p)) {
                    continue;
                }
                try {
                    Files.deleteIfExists(p); // a dead process's socket
                } catch (IOException e) {
                    throw new TelemetryException("cannot remove the stale telemetry socket " + p + ": " + e.getMessage(), e);
                }
            }
            try {
                Sockets.bind(fd, UnixAddress.of(p));
                return p;
            } catch (SysException e) {
                if (e.errno() == Errno.ENOENT && attempt < 0) {
                    makeDir(dir); // the last process of the group removed it meanwhile
                    Sockets.bind(fd, UnixAddress.of(p));
                    return p;
                }
                if (e.errno() != Errno.EADDRINUSE) {
                    throw new TelemetryException("cannot bind the telemetry socket " + p + ": " + e.getMessage(), e);
                }
            }
        }
        throw new TelemetryException("no free telemetry socket name in " + dir + " (256 in use)");
    }

    /**
     * Removes the telemetry sockets of {@code prefix} nobody answers on any more (a process killed before it could
     * remove its own); the primary calls it when a secondary dies.
     */
    public static void removeStale(String prefix) {
        Path dir = socketDir(prefix);
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, SOCKET_NAME + "*")) {
            for (Path p : ds) {
                if (!inUse(p)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot tidy {0}: {1}", dir, e.getMessage());
        }
    }

    /** Someone answers on {@code p}. */
    private static boolean inUse(Path p) {
        int s = Sockets.socket(Sockets.SOCK_SEQPACKET);
        try {
            Sockets.connect(s, UnixAddress.of(p));
            return true;
        } catch (SysException e) {
            return e.errno() != Errno.ECONNREFUSED && e.errno() != Errno.ENOENT;
        } finally {
            Io.closeQuietly(s);
        }
    }

    /** Where this process serves. */
    public Path path() {
        return path;
    }

    public Telemetry telemetry() {
        return telemetry;
    }

    // ---- the server thread

    private void loop() {
        try (Arena arena = Arena.ofConfined(); UnixMessage msg = new UnixMessage(Math.max(MAX_REQUEST, Telemetry.MAX_OUTPUT_LEN), 0)) {
            MemorySegment pfds = Events.allocatePollFds(arena, 1 + MAX_CLIENTS);
            long publishAt = System.nanoTime() + MBEAN_DELAY_MS * 1_000_000L;
            boolean published = false;
            while (!closed) {
                if (!published && System.nanoTime() - publishAt >= 0) {
                    published = true;
                    telemetry.publishMBeans();
                }
                Events.setPollFd(pfds, 0, listenFd, Events.POLLIN);
                for (int i = 0; i < MAX_CLIENTS; i++) {
                    short ev = pending[i] != null ? Events.POLLOUT : Events.POLLIN;
                    Events.setPollFd(pfds, 1 + i, fds[i], fds[i] < 0 ? 0 : ev);
                }
                int n = Events.poll(pfds, POLL_MILLIS);
                long now = System.nanoTime();
                if (n > 0 && (Events.pollRevents(pfds, 0) & Events.POLLIN) != 0) {
                    accept(msg);
                }
                for (int i = 0; i < MAX_CLIENTS; i++) {
                    if (fds[i] < 0) {
                        continue;
                    }
                    short re = n > 0 ? Events.pollRevents(pfds, 1 + i) : 0;
                    try {
                        serve(i, re, msg, now);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.DEBUG, "telemetry client dropped: {0}", e.getMessage());
                        drop(i);
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "telemetry server on " + path + " stopped", e);
            }
        } finally {
            for (int i = 0; i < MAX_CLIENTS; i++) {
                drop(i);
            }
        }
    }

    private void accept(UnixMessage msg) {
        int c;
        while ((c = Sockets.accept(listenFd)) >= 0) {
            int slot = -1;
            for (int i = 0; i < MAX_CLIENTS && slot < 0; i++) {
                if (fds[i] < 0) {
                    slot = i;
                }
            }
            if (slot < 0) {
                clientsDropped++;
                LOG.log(System.Logger.Level.DEBUG, "telemetry: {0} clients already, closing a new one", MAX_CLIENTS);
                Io.closeQuietly(c);
                continue;
            }
            Io.setNonBlocking(c, true);
            fds[slot] = c;
            clientsServed++;
            try {
                queue(slot, telemetry.greeting(), msg, System.nanoTime());
            } catch (RuntimeException e) {
                // a client that connects and closes at once (a liveness probe) makes the greeting fail with EPIPE:
                // that client goes, the server stays
                LOG.log(System.Logger.Level.DEBUG, "telemetry client gone before its greeting: {0}", e.getMessage());
                drop(slot);
            }
        }
    }

    private void serve(int i, short revents, UnixMessage msg, long now) {
        if (pending[i] != null) {
            if ((revents & (Events.POLLERR | Events.POLLHUP | Events.POLLNVAL)) != 0) {
                drop(i);
            } else if ((revents & Events.POLLOUT) != 0) {
                flush(i, msg, now);
            } else if (now - pendingSince[i] > STALL_MILLIS * 1_000_000L) {
                LOG.log(System.Logger.Level.INFO, "telemetry: a client read no reply for {0} ms; disconnected", STALL_MILLIS);
                clientsDropped++;
                drop(i);
            }
            return;
        }
        if ((revents & (Events.POLLIN | Events.POLLERR | Events.POLLHUP | Events.POLLNVAL)) == 0) {
            return;
        }
        long got = msg.receive(fds[i], io.jnic.sys.UnixMessage.MSG_DONTWAIT);
        if (got < 0) {
            return; // spurious
        }
        if (got == 0) {
            drop(i); // the client closed
            return;
        }
        int len = (int) Math.min(got, MAX_REQUEST - 1);
        byte[] req = msg.data().asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
        int end = 0;
        while (end < req.length && req[end] != 0) {
            end++; // a C string ends at its NUL
        }
        String request = new String(req, 0, end, StandardCharsets.UTF_8).strip();
        queue(i, telemetry.handle(request), msg, now);
    }

    private void queue(int i, String reply, UnixMessage msg, long now) {
        pending[i] = reply.getBytes(StandardCharsets.UTF_8);
        pendingSince[i] = now;
        flush(i, msg, now);
    }

    private void flush(int i, UnixMessage msg, long now) {
        byte[] b = pending[i];
        MemorySegment.copy(b, 0, msg.data(), ValueLayout.JAVA_BYTE, 0, b.length);
        long sent = msg.send(fds[i], b.length, null, null, 0, UnixMessage.MSG_DONTWAIT);
        if (sent >= 0) {
            pending[i] = null; // SOCK_SEQPACKET: all or nothing
        } else if (now - pendingSince[i] > STALL_MILLIS * 1_000_000L) {
            clientsDropped++;
            drop(i);
        }
    }

    private void drop(int i) {
        if (fds[i] >= 0) {
            Io.closeQuietly(fds[i]);
            fds[i] = -1;
        }
        pending[i] = null;
    }

    /** Clients accepted and clients closed by the server (over the limit, or not reading), so far. */
    public long[] clientCounts() {
        return new long[] {clientsServed, clientsDropped};
    }

    /** Stops serving and removes the socket (and the directory when no other socket is left in it). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Io.closeQuietly(listenFd);
        try {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir); // the last process of the group to leave removes it
        } catch (DirectoryNotEmptyException othersStillServe) {
            // another process of the group serves there
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove {0}: {1}", path, e.getMessage());
        }
    }

    /** The telemetry socket could not be set up. */
    public static final class TelemetryException extends RuntimeException {
        TelemetryException(String message) {
            super(message);
        }

        TelemetryException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
