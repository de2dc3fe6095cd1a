package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A child JVM running {@link GroupChild}; reads its stdout line by line. */
final class ChildJvm implements AutoCloseable {
    final Process process;
    private final BufferedReader out;

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static ChildJvm start(String... args) throws IOException {
        return start(List.of(), System.getProperty("java.class.path"), args);
    }

    /** Starts the child behind {@code wrapper} (e.g. setpriv) with an explicit class path. */
    static ChildJvm start(List<String> wrapper, String classPath, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xmx64m");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(GroupChild.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        return new ChildJvm(pb.start());
    }

    /** Class path of the production and test classes only (readable by other users, unlike ~/.m2). */
    static String ownClassPath() {
        return String.join(":", location(MemoryGroup.class), location(io.jnic.sys.Io.class), location(GroupChild.class));
    }

    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next line of output, failing the test when the child ends first. */
    String line() throws IOException {
        String l = out.readLine();
        if (l == null) {
            throw new AssertionError("child ended without output (exit " + waitExit() + ")");
        }
        return l;
    }

    /** Reads lines until one starts with {@code prefix}; returns the rest of it. */
    String expect(String prefix) throws IOException {
        while (true) {
            String l = line();
            if (l.startsWith(prefix)) {
                return l.substring(prefix.length()).trim();
            }
            if (l.startsWith("ERROR")) {
                throw new AssertionError("child failed: " + l);
            }
        }
    }

    int waitExit() {
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("child did not exit within 60 s");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    void assertExitsCleanly() {
        assertEquals(0, waitExit(), "child exit status");
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "killed child did not end");
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
