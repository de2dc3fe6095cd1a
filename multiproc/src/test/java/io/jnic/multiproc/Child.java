package io.jnic.multiproc;

import io.jnic.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A child JVM running {@link MpChild} (the shared launcher with this module's options): send it commands, wait for
 * lines that start with a word.
 */
final class Child implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    final Process process;
    private final ChildJvm child;

    private Child(ChildJvm child) {
        this.child = child;
        this.process = child.process();
    }

    /** Starts a child with the runtime base {@code base}, extra JVM options and runtime options. */
    static Child start(Path base, List<String> jvmOptions, String... args) throws IOException {
        return start(base, jvmOptions, true, args);
    }

    /** Starts a child; {@code noHuge}: with 4 KB pages, else with the hugepages the options name. */
    static Child start(Path base, List<String> jvmOptions, boolean noHuge, String... args) throws IOException {
        ChildJvm.Builder b = ChildJvm.of(MpChild.class).jvmArgs("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m")
                .property(RuntimeDir.BASE_PROPERTY, base)
                .property("java.util.logging.config.file", "/dev/null") // no INFO chatter on stderr
                .jvmArgs(jvmOptions);
        if (noHuge) {
            b.args("--no-huge"); // 4 KB pages: the tests run on machines without hugepages too
        }
        return new Child(b.args(args).failOn("ERROR ").timeout(TIMEOUT).quitCommand("quit", Duration.ofSeconds(10))
                .start());
    }

    static Child start(Path base, String... args) throws IOException {
        return start(base, List.of(), args);
    }

    long pid() {
        return child.pid();
    }

    void send(String command) throws IOException {
        child.send(command);
    }

    /** The next line starting with {@code word} (others are kept in {@link #seen()}); fails after 30 s. */
    String await(String word) throws InterruptedException {
        return child.awaitWord(word);
    }

    /** Waits for READY or ERROR and returns the line ({@code EOF} when the child ended first). */
    String started() throws InterruptedException {
        return child.awaitAny(TIMEOUT, "READY ", "ERROR ");
    }

    List<String> seen() {
        return child.seen();
    }

    @Override
    public void close() throws InterruptedException {
        child.close();
    }
}
