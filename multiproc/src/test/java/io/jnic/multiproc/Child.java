package io.jnic.multiproc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM running {@link MpChild}: send it commands, wait for lines that start with a word. */
final class Child implements AutoCloseable {
    final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private Child(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // the child is gone
            }
            lines.add("EOF");
        }, "child-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts a child with the runtime base {@code base}, extra JVM options and runtime options. */
    static Child start(Path base, List<String> jvmOptions, String... args) throws IOException {
        return start(base, jvmOptions, true, args);
    }

    /** Starts a child; {@code noHuge}: with 4 KB pages, else with the hugepages the options name. */
    static Child start(Path base, List<String> jvmOptions, boolean noHuge, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx64m");
        cmd.add("-D" + RuntimeDir.BASE_PROPERTY + "=" + base);
        cmd.add("-Djava.util.logging.config.file=/dev/null"); // no INFO chatter on stderr
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MpChild.class.getName());
        if (noHuge) {
            cmd.add("--no-huge"); // 4 KB pages: the tests run on machines without hugepages too
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        return new Child(pb.start());
    }

    static Child start(Path base, String... args) throws IOException {
        return start(base, List.of(), args);
    }

    long pid() {
        return process.pid();
    }

    void send(String command) throws IOException {
        stdin.write(command + "\n");
        stdin.flush();
    }

    /** The next line starting with {@code word} (others are kept in {@link #seen()}); fails after 30 s. */
    String await(String word) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (;;) {
            String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("no '" + word + "' line from child " + pid() + " within 30 s; saw " + seen);
            }
            seen.add(l);
            if (l.startsWith(word + " ") || l.equals(word)) {
                return l;
            }
            if (l.equals("EOF") || l.startsWith("ERROR ")) {
                throw new AssertionError("child " + pid() + " ended or failed waiting for '" + word + "': " + seen);
            }
        }
    }

    /** Waits for READY or ERROR and returns the line. */
    String started() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (;;) {
            String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("child " + pid() + " did not start within 30 s");
            }
            seen.add(l);
            if (l.startsWith("READY ") || l.startsWith("ERROR ") || l.equals("EOF")) {
                return l;
            }
        }
    }

    List<String> seen() {
        return seen;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            try {
                send("quit");
            } catch (IOException ignored) {
                // already gone
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
