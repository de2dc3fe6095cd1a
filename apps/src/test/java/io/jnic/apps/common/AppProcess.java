package io.jnic.apps.common;

import io.jnic.sys.TestResources;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An app in a child JVM (stdout and stderr merged), with its runtime dirs under {@code base}. */
public final class AppProcess implements AutoCloseable {
    public final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    public final List<String> seen = new ArrayList<>();

    private AppProcess(Process p) {
        this.process = p;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                }
            } catch (IOException ignored) {
                // gone
            }
            lines.add("EOF");
        }, "app-reader");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Locked memory the app processes of these tests need, each: their groups use 4 KB pages (--no-huge), which
     * are mlocked like hugepages; the largest, l2fwd-mp's for 3 processes, is 144 MB.
     */
    public static final long APP_LOCKED_BYTES = 160L << 20;
    private static volatile boolean memoryChecked;

    /** Skips the test unless an app process can lock {@link #APP_LOCKED_BYTES} (checked once per test JVM). */
    public static void assumeAppMemory() {
        if (!memoryChecked) {
            TestResources.assumeLockable(APP_LOCKED_BYTES);
            memoryChecked = true;
        }
    }

    /** l2fwd-mp. */
    public static AppProcess start(Path base, String... args) throws IOException {
        return start(io.jnic.apps.l2fwdmp.L2fwdMp.class, base, args);
    }

    /** The app whose {@code main} is in {@code main}. */
    public static AppProcess start(Class<?> main, Path base, String... args) throws IOException {
        if (main != io.jnic.devsim.Main.class) { // devsim serves ports, it locks no group memory
            assumeAppMemory();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xshare:auto");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Xmx128m");
        cmd.add("-Djnic.runtime.base=" + base);
        String sysfs = System.getProperty(PciScan.SYSFS_PROPERTY); // no device bound on this machine is probed
        if (sysfs != null) {
            cmd.add("-D" + PciScan.SYSFS_PROPERTY + "=" + sysfs);
        }
        cmd.add("-Djava.util.logging.config.file=/dev/null");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return new AppProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    public long pid() {
        return process.pid();
    }

    /** The next line containing {@code text}; fails when the process ends first or after 90 s. */
    public String await(String text) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        for (;;) {
            String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                throw new AssertionError("no line with '" + text + "' from pid " + pid() + " within 90 s; saw " + seen);
            }
            seen.add(l);
            if (l.contains(text)) {
                return l;
            }
            if (l.equals("EOF")) {
                throw new AssertionError("pid " + pid() + " ended before saying '" + text + "': " + seen);
            }
        }
    }

    /** Waits for the process to end and returns its exit code (all output in {@link #seen}). */
    public int exit() throws InterruptedException {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("pid " + pid() + " did not end within 120 s; saw " + seen);
        }
        for (;;) {
            String l = lines.poll(5, TimeUnit.SECONDS);
            if (l == null || l.equals("EOF")) {
                break;
            }
            seen.add(l);
        }
        return process.exitValue();
    }

    public String output() {
        return String.join("\n", seen);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
