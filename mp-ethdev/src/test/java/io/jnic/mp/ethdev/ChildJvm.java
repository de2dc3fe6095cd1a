package io.jnic.mp.ethdev;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * A child JVM running a main class of this module's tests, lines out, commands in: the shared launcher
 * ({@link io.jnic.testsupport.ChildJvm}) with this module's options.
 */
final class ChildJvm implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    final Process process;
    final List<String> seen;
    private final io.jnic.testsupport.ChildJvm child;

    private ChildJvm(io.jnic.testsupport.ChildJvm child) {
        this.child = child;
        this.process = child.process();
        this.seen = child.seen();
    }

    static ChildJvm start(String base, Class<?> main, String... args) throws IOException {
        return start(base, null, main, args);
    }

    /** As {@link #start(String, Class, String...)}, the child killing itself at {@code crashPoint} (CrashPoint's NAME:N). */
    static ChildJvm start(String base, String crashPoint, Class<?> main, String... args) throws IOException {
        var b = io.jnic.testsupport.ChildJvm.of(main).jvmArgs("-XX:+UseSerialGC", "-Xmx96m")
                .property("jnic.runtime.base", base).property("java.util.logging.config.file", "/dev/null");
        if (crashPoint != null) {
            b.property("jnic.crashPoint", crashPoint);
        }
        return new ChildJvm(b.args(args).failOn("ERROR ").timeout(TIMEOUT).quitCommand("quit", Duration.ofSeconds(15))
                .start());
    }

    long pid() {
        return child.pid();
    }

    void send(String line) throws IOException {
        child.send(line);
    }

    /** The next line starting with {@code word}; an ERROR line or the end of the child fails, as 60 s without. */
    String await(String word) throws InterruptedException {
        return child.await(word);
    }

    /** The next line starting with any of {@code words}, or EOF. */
    String awaitAny(String... words) throws InterruptedException {
        return child.awaitAny(TIMEOUT, words);
    }

    @Override
    public void close() throws InterruptedException {
        child.close();
    }
}
