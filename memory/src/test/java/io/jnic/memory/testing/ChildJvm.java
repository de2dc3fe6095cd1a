package io.jnic.memory.testing;

import java.time.Duration;
import java.util.List;

/**
 * A child JVM running a test main class, with line access to its stdout (stderr goes to the same pipe): the shared
 * launcher ({@link io.jnic.testsupport.ChildJvm}) with the options of this module's process tests.
 */
public final class ChildJvm implements AutoCloseable {
    private final io.jnic.testsupport.ChildJvm child;

    private ChildJvm(io.jnic.testsupport.ChildJvm child) {
        this.child = child;
    }

    public static ChildJvm start(Class<?> main, String... args) {
        return start(List.of(), main, args);
    }

    /** As {@link #start(Class, String...)} with extra JVM options (system properties, e.g. a crash point). */
    public static ChildJvm start(List<String> jvmArgs, Class<?> main, String... args) {
        return new ChildJvm(io.jnic.testsupport.ChildJvm.of(main).jvmArgs("-XX:+UseSerialGC").jvmArgs(jvmArgs).args(args)
                .stderr(io.jnic.testsupport.ChildJvm.Stderr.MERGE).timeout(Duration.ofSeconds(120)).start());
    }

    public long pid() {
        return child.pid();
    }

    public Process process() {
        return child.process();
    }

    /** Reads lines until one starts with {@code prefix} and returns the rest of it; fails on EOF. */
    public String await(String prefix) {
        return child.value(prefix);
    }

    /** Waits for exit (reading the rest of its output) and returns the exit code. */
    public int waitFor(long seconds) {
        return child.waitFor(Duration.ofSeconds(seconds));
    }

    public List<String> output() {
        return child.seen();
    }

    @Override
    public void close() {
        child.close();
    }
}
