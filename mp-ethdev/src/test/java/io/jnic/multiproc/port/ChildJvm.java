package io.jnic.multiproc.port;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM running a main class of this module's tests: lines out, commands in. */
final class ChildJvm implements AutoCloseable {
    final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final List<String> seen = new ArrayList<>();

    private ChildJvm(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // gone
            }
            lines.add("EOF");
        }, "child-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static ChildJvm start(String base, Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx96m");
        cmd.add("-Djnic.runtime.base=" + base);
        cmd.add("-Djava.util.logging.config.file=/dev/null");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    long pid() {
        return process.pid();
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** The next line starting with {@code word}; an ERROR line or the end of the child fails, as 60 s without. */
    String await(String word) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (;;) {
            String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("no '" + word + "' from child " + pid() + " within 60 s; saw " + seen);
            }
            seen.add(l);
            if (l.startsWith(word)) {
                return l;
            }
            if (l.equals("EOF") || l.startsWith("ERROR ")) {
                throw new AssertionError("child " + pid() + " ended or failed waiting for '" + word + "': " + seen);
            }
        }
    }

    /** The next line starting with any of {@code words} or EOF. */
    String awaitAny(String... words) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (;;) {
            String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("child " + pid() + " said none of " + List.of(words) + " within 60 s; saw " + seen);
            }
            seen.add(l);
            for (String w : words) {
                if (l.startsWith(w)) {
                    return l;
                }
            }
            if (l.equals("EOF")) {
                return l;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            try {
                send("quit");
            } catch (IOException ignored) {
                // gone
            }
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
