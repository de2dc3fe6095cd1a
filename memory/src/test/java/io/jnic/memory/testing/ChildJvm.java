package io.jnic.memory.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A child JVM running a test main class, with line access to its stdout (stderr goes to the same pipe). */
public final class ChildJvm implements AutoCloseable {

    private final Process process;
    private final BufferedReader out;
    private final List<String> lines = new ArrayList<>();

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    public static ChildJvm start(Class<?> main, String... args) {
        return start(List.of(), main, args);
    }

    /** As {@link #start(Class, String...)} with extra JVM options (system properties, e.g. a crash point). */
    public static ChildJvm start(List<String> jvmArgs, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        try {
            return new ChildJvm(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Reads lines until one starts with {@code prefix} and returns the rest of it; fails on EOF. */
    public String await(String prefix) {
        try {
            String l;
            while ((l = out.readLine()) != null) {
                lines.add(l);
                if (l.startsWith(prefix)) {
                    return l.substring(prefix.length());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("child " + process.pid() + " ended without printing '" + prefix + "'; output: " + lines);
    }

    /** Waits for exit (reading the rest of its output) and returns the exit code. */
    public int waitFor(long seconds) {
        try {
            String l;
            while ((l = out.readLine()) != null) {
                lines.add(l);
            }
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("child " + process.pid() + " did not finish in " + seconds + " s; output: " + lines);
            }
            return process.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public List<String> output() {
        return lines;
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
