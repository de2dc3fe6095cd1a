package io.jnic.apps.common;

import io.jnic.sys.testing.TestResources;
import io.jnic.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An app in a child JVM (stdout and stderr merged), with its runtime dirs under {@code base}: the shared launcher
 * ({@link ChildJvm}) with the apps' options and their memory check.
 */
public final class AppProcess implements AutoCloseable {
    public final Process process;
    public final List<String> seen;
    private final ChildJvm child;

    private AppProcess(ChildJvm child) {
        this.child = child;
        this.process = child.process();
        this.seen = child.seen();
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
        ChildJvm.Builder b = ChildJvm.of(main).jvmArgs("-XX:+UseSerialGC", "-Xmx128m").property("jnic.runtime.base", base);
        String sysfs = System.getProperty(PciScan.SYSFS_PROPERTY); // no device bound on this machine is probed
        if (sysfs != null) {
            b.property(PciScan.SYSFS_PROPERTY, sysfs);
        }
        return new AppProcess(b.property("java.util.logging.config.file", "/dev/null").args(args)
                .stderr(ChildJvm.Stderr.MERGE).timeout(Duration.ofSeconds(90)).terminateOnClose().start());
    }

    public long pid() {
        return child.pid();
    }

    /** The next line containing {@code text}; fails when the process ends first or after 90 s. */
    public String await(String text) throws InterruptedException {
        return child.awaitContaining(text);
    }

    /** Waits for the process to end and returns its exit code (all output in {@link #seen}). */
    public int exit() throws InterruptedException {
        return child.waitFor(Duration.ofSeconds(120));
    }

    public String output() {
        return String.join("\n", seen);
    }

    @Override
    public void close() throws InterruptedException {
        child.close();
    }
}
