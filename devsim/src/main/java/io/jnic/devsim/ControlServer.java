package io.jnic.devsim;

import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The control socket: a UNIX stream socket taking one command line per connection and answering with
 * {@link Devsim#command}'s text. {@link #send} is the client side (the {@code ctl} subcommand and tests).
 */
public final class ControlServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlServer.class.getName());
    private static final int MAX_COMMAND = 4096;

    private final Path path;
    private final int listenFd;
    private final Thread thread;
    private final Devsim devsim;
    private volatile boolean running = true;

    public ControlServer(Devsim devsim, Path path) {
        this.devsim = devsim;
        this.path = path;
        try {
            Files.deleteIfExists(path);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot remove stale control socket " + path + ": " + e.getMessage(), e);
        }
        int fd = Sockets.socket(Sockets.SOCK_STREAM);
        try {
            Sockets.bind(fd, UnixAddress.of(path));
            Sockets.listen(fd, 8);
        } catch (SysException e) {
            Io.closeQuietly(fd);
            throw e;
        }
        this.listenFd = fd;
        this.thread = new Thread(this::serve, "devsim-control");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public Path path() {
        return path;
    }

    private void serve() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(MAX_COMMAND);
            while (running) {
                int c;
                try {
                    c = Sockets.accept(listenFd);
                } catch (SysException e) {
                    if (running) {
                        LOG.log(System.Logger.Level.WARNING, "control socket accept failed: {0}", e.getMessage());
                    }
                    return;
                }
                try {
                    String line = readLine(c, buf);
                    String answer = line == null ? "error: empty or over-long command" : devsim.command(line);
                    writeAll(c, arena, answer + "\n");
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "control connection failed: {0}", e.toString());
                } finally {
                    Io.closeQuietly(c);
                }
            }
        }
    }

    private static String readLine(int fd, MemorySegment buf) {
        int n = 0;
        while (n < MAX_COMMAND) {
            long r = Io.read(fd, buf.asSlice(n), MAX_COMMAND - n);
            if (r <= 0) {
                break;
            }
            for (int i = n; i < n + r; i++) {
                if (buf.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                    return new String(buf.asSlice(0, i).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                }
            }
            n += (int) r;
        }
        return n == 0 || n >= MAX_COMMAND ? null
                : new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    private static void writeAll(int fd, Arena arena, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = arena.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        long off = 0;
        while (off < b.length) {
            long w = Io.write(fd, m.asSlice(off), b.length - off);
            if (w <= 0) {
                return;
            }
            off += w;
        }
    }

    /** Sends one command to the control socket at {@code path} and returns the answer. */
    public static String send(Path path, String command) {
        if (command.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a control command is one line");
        }
        int fd = Sockets.socket(Sockets.SOCK_STREAM);
        try (Arena arena = Arena.ofConfined()) {
            try {
                Sockets.connect(fd, UnixAddress.of(path));
            } catch (SysException e) {
                throw new IllegalStateException("no devsim control socket at " + path + " (" + e.getMessage()
                        + "): is devsim running with that --socket-dir?", e);
            }
            writeAll(fd, arena, command + "\n");
            Sockets.shutdown(fd, Sockets.SHUT_WR);
            MemorySegment buf = arena.allocate(65536);
            StringBuilder sb = new StringBuilder();
            while (true) {
                long r = Io.read(fd, buf, buf.byteSize());
                if (r <= 0) {
                    break;
                }
                sb.append(new String(buf.asSlice(0, r).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            }
            return sb.toString().stripTrailing();
        } finally {
            Io.closeQuietly(fd);
        }
    }

    @Override
    public void close() {
        running = false;
        Sockets.shutdown(listenFd, Sockets.SHUT_RDWR);
        Io.closeQuietly(listenFd);
        try {
            thread.join(2000);
            Files.deleteIfExists(path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.io.IOException ignored) {
            // best effort
        }
    }
}
