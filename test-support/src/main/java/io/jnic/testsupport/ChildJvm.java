package io.jnic.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test's child JVM: the same {@code java} as the test, native access enabled, the test's class path unless
 * another is given, and one main class. Its stdout is read line by line on a daemon thread, so the test waits for
 * lines with a timeout and never blocks on a child that stopped talking; everything read is kept ({@link #seen})
 * for failure messages. Commands go to its stdin ({@link #send}). {@link #close} asks it to quit (when a quit
 * command is set), then kills it: a test that fails leaves no child behind.
 *
 * <p>Waits fail with an {@link AssertionError} that names the child's pid and what it printed.
 */
public final class ChildJvm implements AutoCloseable {
    /** What {@link #next} and {@link #awaitAny} return once the child's stdout has ended. */
    public static final String EOF = "EOF";

    /** Where the child's stderr goes. */
    public enum Stderr {
        /** To the test's stderr (the surefire report). */
        INHERIT,
        /** Into stdout: its lines are read and awaited like the others. */
        MERGE,
        /** Into a buffer of its own, read back with {@link #stderr()}. */
        CAPTURE
    }

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    // a distinct object: a child that prints the word "EOF" is not mistaken for its end
    private static final String END = new String(EOF);

    private final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final StringBuilder err = new StringBuilder();
    private Thread errReader;
    private final Duration timeout;
    private final String quitCommand;
    private final Duration quitWait;
    private final boolean terminateFirst;
    private final String failPrefix;
    private boolean ended;

    private ChildJvm(Process process, Builder b) {
        this.process = process;
        this.timeout = b.timeout;
        this.quitCommand = b.quitCommand;
        this.quitWait = b.quitWait;
        this.terminateFirst = b.terminateFirst;
        this.failPrefix = b.failPrefix;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        if (b.outputFile == null) {
            reader(process.getInputStream(), "child-" + process.pid() + "-out", lines::add, true);
        } else {
            ended = true; // its output goes to the file: there are no lines to wait for
        }
        if (b.stderr == Stderr.CAPTURE) {
            errReader = reader(process.getErrorStream(), "child-" + process.pid() + "-err", l -> {
                synchronized (err) {
                    err.append(l).append('\n');
                }
            }, false);
        }
    }

    private Thread reader(InputStream in, String name, java.util.function.Consumer<String> sink, boolean stdout) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    sink.accept(l);
                }
            } catch (IOException ignored) {
                // the child is gone
            }
            if (stdout) {
                lines.add(END);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A child running {@code main}'s {@code main} method. */
    public static Builder of(Class<?> main) {
        return of(main.getName());
    }

    /** A child running the main class named {@code mainClass}. */
    public static Builder of(String mainClass) {
        return new Builder(mainClass);
    }

    /** The path of the class folder or jar {@code c} was loaded from (to build a class path of a few of them). */
    public static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("no file location for " + c.getName(), e);
        }
    }

    /** The options and arguments of a child; {@link #start} launches it. */
    public static final class Builder {
        private final String main;
        private final List<String> wrapper = new ArrayList<>();
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private String classPath = System.getProperty("java.class.path");
        private Stderr stderr = Stderr.INHERIT;
        private Path outputFile;
        private Path directory;
        private Duration timeout = DEFAULT_TIMEOUT;
        private String quitCommand;
        private Duration quitWait = Duration.ZERO;
        private boolean terminateFirst;
        private String failPrefix;

        private Builder(String main) {
            this.main = Objects.requireNonNull(main, "main");
        }

        /** A command the {@code java} command runs under (e.g. {@code setpriv --reuid ...}). */
        public Builder wrapper(List<String> command) {
            wrapper.addAll(command);
            return this;
        }

        /** JVM options after the defaults ({@code --enable-native-access=ALL-UNNAMED -Xshare:auto}). */
        public Builder jvmArgs(String... options) {
            return jvmArgs(List.of(options));
        }

        public Builder jvmArgs(List<String> options) {
            jvmArgs.addAll(options);
            return this;
        }

        /** {@code -Dname=value}. */
        public Builder property(String name, Object value) {
            jvmArgs.add("-D" + name + "=" + value);
            return this;
        }

        public Builder classPath(String cp) {
            classPath = Objects.requireNonNull(cp, "class path");
            return this;
        }

        /** Arguments of the main class. */
        public Builder args(String... a) {
            return args(List.of(a));
        }

        public Builder args(List<String> a) {
            args.addAll(a);
            return this;
        }

        public Builder stderr(Stderr s) {
            stderr = Objects.requireNonNull(s, "stderr");
            return this;
        }

        /** Stdout and stderr into {@code file} (appended); the child's lines are then read from the file. */
        public Builder outputTo(Path file) {
            outputFile = file;
            return this;
        }

        /** The child's working directory. */
        public Builder directory(Path dir) {
            directory = dir;
            return this;
        }

        /** How long an await without a timeout of its own waits (60 s unless set). */
        public Builder timeout(Duration t) {
            timeout = Objects.requireNonNull(t, "timeout");
            return this;
        }

        /** {@link #close} first sends {@code command} and gives the child {@code wait} to end by itself. */
        public Builder quitCommand(String command, Duration wait) {
            quitCommand = Objects.requireNonNull(command, "command");
            quitWait = wait;
            return this;
        }

        /** {@link #close} first gives the child {@code wait} to end by itself (when it ends on its own input). */
        public Builder closeGrace(Duration wait) {
            quitWait = wait;
            return this;
        }

        /** A line starting with {@code prefix} (e.g. {@code "ERROR "}) fails {@link #await(String)} and its kin. */
        public Builder failOn(String prefix) {
            failPrefix = prefix;
            return this;
        }

        /** {@link #close} sends SIGTERM (and waits 15 s) before SIGKILL, so that the child can clean up. */
        public Builder terminateOnClose() {
            terminateFirst = true;
            return this;
        }

        /** The command line {@link #start} runs. */
        public List<String> command() {
            List<String> cmd = new ArrayList<>(wrapper);
            cmd.add(ProcessHandle.current().info().command().orElseThrow(
                    () -> new IllegalStateException("the path of this JVM's java command is unknown")));
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("-Xshare:auto");
            cmd.addAll(jvmArgs);
            cmd.add("-cp");
            cmd.add(classPath);
            cmd.add(main);
            cmd.addAll(args);
            return cmd;
        }

        public ChildJvm start() {
            ProcessBuilder pb = new ProcessBuilder(command());
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            if (outputFile != null) {
                pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
            } else if (stderr == Stderr.MERGE) {
                pb.redirectErrorStream(true);
            } else if (stderr == Stderr.INHERIT) {
                pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            }
            try {
                return new ChildJvm(pb.start(), this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start a child JVM for " + main, e);
            }
        }
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Writes {@code line} and a newline to the child's stdin. */
    public void send(String line) {
        try {
            stdin.write(line + "\n");
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("child " + pid() + " does not take input (" + e.getMessage() + "); saw "
                    + seen, e);
        }
    }

    /** Closes the child's stdin (a child that reads commands until end of input then ends). */
    public void closeInput() {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** The next line of stdout, or {@link #EOF} when it has ended; fails when none comes within {@code t}. */
    public String next(Duration t) {
        if (ended && lines.isEmpty()) {
            return EOF;
        }
        String l;
        try {
            l = lines.poll(t.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for child " + pid(), e);
        }
        if (l == null) {
            throw new AssertionError("no line from child " + pid() + " within " + t.toSeconds() + " s; saw " + seen);
        }
        if (l == END) {
            ended = true;
            return EOF;
        }
        seen.add(l);
        return l;
    }

    /** {@link #next(Duration)} with the child's default timeout. */
    public String next() {
        return next(timeout);
    }

    /**
     * Reads lines until one that {@code want} accepts and returns it. Fails when the child's output ends first, when
     * a line that {@code fail} accepts comes first, or after {@code t}; {@code what} names the line in the message.
     */
    public String await(Predicate<String> want, Predicate<String> fail, Duration t, String what) {
        long end = System.nanoTime() + t.toNanos();
        for (;;) {
            long left = end - System.nanoTime();
            String l;
            try {
                l = next(Duration.ofNanos(Math.max(1, left)));
            } catch (AssertionError e) {
                throw new AssertionError("no " + what + " from child " + pid() + " within " + t.toSeconds()
                        + " s; saw " + seen);
            }
            if (l == EOF) {
                throw new AssertionError("child " + pid() + " ended before " + what + " (exit "
                        + exitValueOrAlive() + "); saw " + seen);
            }
            if (want.test(l)) {
                return l;
            }
            if (fail.test(l)) {
                throw new AssertionError("child " + pid() + " failed waiting for " + what + ": " + l + "; saw " + seen);
            }
        }
    }

    private boolean failing(String line) {
        return failPrefix != null && line.startsWith(failPrefix);
    }

    /**
     * The next line starting with {@code prefix}, within the default timeout; the end of output fails, as does a line
     * starting with the {@link Builder#failOn} prefix.
     */
    public String await(String prefix) {
        return await(l -> l.startsWith(prefix), this::failing, timeout, "a line starting with '" + prefix + "'");
    }

    /** As {@link #await(String)}, returning the rest of the line after {@code prefix}. */
    public String value(String prefix) {
        return await(prefix).substring(prefix.length());
    }

    /** The next line that is {@code word} or starts with {@code word} and a space; fails as {@link #await(String)}. */
    public String awaitWord(String word) {
        return await(l -> l.equals(word) || l.startsWith(word + " "), this::failing, timeout, "'" + word + "'");
    }

    /** The next line containing {@code text}; fails as {@link #await(String)}. */
    public String awaitContaining(String text) {
        return await(l -> l.contains(text), this::failing, timeout, "a line with '" + text + "'");
    }

    /** The next line starting with one of {@code prefixes}, or {@link #EOF} when the output ends first. */
    public String awaitAny(Duration t, String... prefixes) {
        long end = System.nanoTime() + t.toNanos();
        for (;;) {
            String l;
            try {
                l = next(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
            } catch (AssertionError e) {
                throw new AssertionError("child " + pid() + " said none of " + List.of(prefixes) + " within "
                        + t.toSeconds() + " s; saw " + seen);
            }
            if (l == EOF) {
                return EOF;
            }
            for (String p : prefixes) {
                if (l.startsWith(p)) {
                    return l;
                }
            }
        }
    }

    private String exitValueOrAlive() {
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.isAlive() ? "none yet" : String.valueOf(process.exitValue());
    }

    /**
     * Waits for the child to end, then reads the rest of its output into {@link #seen}; returns the exit code. A
     * child still running after {@code t} is killed and the test fails.
     */
    public int waitFor(Duration t) {
        try {
            if (!process.waitFor(t.toNanos(), TimeUnit.NANOSECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("child " + pid() + " did not end within " + t.toSeconds() + " s; saw " + seen);
            }
            drain();
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for child " + pid(), e);
        }
    }

    /**
     * Reads what is left of the output of an ended child, until its end or 5 s without a line (a grandchild that
     * still holds the pipe).
     */
    private void drain() throws InterruptedException {
        while (!ended) {
            String l = lines.poll(5, TimeUnit.SECONDS);
            if (l == null) {
                return;
            }
            if (l == END) {
                ended = true;
            } else {
                seen.add(l);
            }
        }
    }

    /** SIGKILL, as a crash test wants it; fails when the child is not gone within 30 s. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("killed child " + pid() + " did not end within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for child " + pid(), e);
        }
    }

    /** Every stdout line read so far (the test thread's view; for messages and checks). */
    public List<String> seen() {
        return seen;
    }

    /** Waits until the child's stderr has ended (all of it in {@link #stderr()}), at most {@code t}. */
    public void awaitStderrEnd(Duration t) {
        if (errReader == null) {
            throw new IllegalStateException("the child's stderr is not captured (Stderr.CAPTURE)");
        }
        try {
            errReader.join(t);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for child " + pid(), e);
        }
    }

    /** What the child wrote to stderr so far, with {@link Stderr#CAPTURE}. */
    public String stderr() {
        synchronized (err) {
            return err.toString();
        }
    }

    /**
     * Ends the child: the quit command if set and the grace time to end by itself, then SIGTERM if asked for, then
     * SIGKILL; waits for it.
     */
    @Override
    public void close() {
        try {
            if (process.isAlive() && quitCommand != null) {
                try {
                    stdin.write(quitCommand + "\n");
                    stdin.flush();
                } catch (IOException ignored) {
                    // already gone
                }
            }
            if (process.isAlive() && !quitWait.isZero()) {
                process.waitFor(quitWait.toNanos(), TimeUnit.NANOSECONDS);
            }
            if (process.isAlive() && terminateFirst) {
                process.destroy();
                process.waitFor(15, TimeUnit.SECONDS);
            }
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
