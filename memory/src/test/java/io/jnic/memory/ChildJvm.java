package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** A child JVM running {@link GroupChild} (the shared launcher with this module's options); lines of its stdout. */
final class ChildJvm implements AutoCloseable {
    final Process process;
    private final io.jnic.testsupport.ChildJvm child;

    private ChildJvm(io.jnic.testsupport.ChildJvm child) {
        this.child = child;
        this.process = child.process();
    }

    static ChildJvm start(String... args) throws IOException {
        return start(List.of(), System.getProperty("java.class.path"), args);
    }

    /** Starts the child behind {@code wrapper} (e.g. setpriv) with an explicit class path. */
    static ChildJvm start(List<String> wrapper, String classPath, String... args) throws IOException {
        return new ChildJvm(io.jnic.testsupport.ChildJvm.of(GroupChild.class).wrapper(wrapper).classPath(classPath)
                .jvmArgs("-XX:TieredStopAtLevel=1", "-Xmx64m").args(args).failOn("ERROR")
                .timeout(Duration.ofSeconds(120)).start());
    }

    /** Class path of the production and test classes only (readable by other users, unlike ~/.m2). */
    static String ownClassPath() {
        return String.join(":", io.jnic.testsupport.ChildJvm.location(MemoryGroup.class),
                io.jnic.testsupport.ChildJvm.location(io.jnic.sys.Io.class),
                io.jnic.testsupport.ChildJvm.location(GroupChild.class));
    }

    /** The next line of output, failing the test when the child ends first. */
    String line() throws IOException {
        String l = child.next();
        if (l == io.jnic.testsupport.ChildJvm.EOF) {
            throw new AssertionError("child ended without output (exit " + waitExit() + ")");
        }
        return l;
    }

    /** Reads lines until one starts with {@code prefix}; returns the rest of it. A line starting ERROR fails. */
    String expect(String prefix) throws IOException {
        return child.value(prefix).trim();
    }

    int waitExit() {
        return child.waitFor(Duration.ofSeconds(60));
    }

    void assertExitsCleanly() {
        assertEquals(0, waitExit(), "child exit status");
    }

    void kill() throws InterruptedException {
        child.kill();
    }

    @Override
    public void close() {
        child.close();
    }
}
