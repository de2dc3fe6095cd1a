package io.jnic.apps.simplemp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.multiproc.Eal;
import io.jnic.multiproc.RuntimeDir;
import io.jnic.testsupport.ChildJvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** simple-mp as a user runs it: two JVMs, commands piped in, output read back. */
@Timeout(120)
class SimpleMpTest {
    @TempDir
    Path base;

    /** A simple-mp process with piped stdin and stdout (stderr kept apart). */
    static final class App implements AutoCloseable {
        final Process process;
        final ChildJvm child;

        App(Path base, String... args) {
            child = ChildJvm.of(SimpleMp.class).jvmArgs("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m")
                    .property(RuntimeDir.BASE_PROPERTY, base).args("--no-huge", "--file-prefix", "smp").args(args)
                    .stderr(ChildJvm.Stderr.CAPTURE).timeout(Duration.ofSeconds(30)).closeGrace(Duration.ofSeconds(10))
                    .start();
            process = child.process();
        }

        void type(String line) {
            child.send(line);
        }

        String await(String prefix) {
            try {
                return child.await(prefix);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ", stderr: " + child.stderr(), e);
            }
        }

        @Override
        public void close() {
            child.close();
        }
    }

    @Test
    void aPrimaryAndASecondaryExchangeMessagesFromPipedScripts() throws Exception {
        try (App primary = new App(base, "--proc-type", "primary")) {
            assertTrue(primary.await("primary ").contains("ready"));
            try (App secondary = new App(base, "--proc-type", "auto")) {
                assertTrue(secondary.await("secondary ").contains("ready"));
                secondary.type("send hello from the secondary");
                assertEquals("sent 'hello from the secondary'", secondary.await("sent"));
                assertTrue(primary.await("lcore ").endsWith(": received 'hello from the secondary'"));
                primary.type("send and back");
                assertTrue(secondary.await("lcore ").endsWith(": received 'and back'"));
                secondary.type("help");
                assertTrue(secondary.await("commands:").contains("send <text>"));
                secondary.type("frobnicate");
                assertEquals("unknown command 'frobnicate'; try help", secondary.await("unknown"));
                secondary.type("quit");
                assertTrue(secondary.process.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, secondary.process.exitValue());
            }
            primary.child.closeInput(); // end of input ends it too
            assertTrue(primary.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, primary.process.exitValue());
        }
    }

    @Test
    void aSecondaryWithoutPrimarySaysWhatToDo() throws Exception {
        try (App secondary = new App(base, "--proc-type", "secondary")) {
            assertTrue(secondary.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, secondary.process.exitValue());
            secondary.child.awaitStderrEnd(Duration.ofSeconds(10)); // stderr read to its end
            assertTrue(secondary.child.stderr().contains("simple-mp: no primary process runs for file prefix 'smp' (looked in "
                    + base.resolve("smp") + "); start a primary first"), secondary.child.stderr());
        }
    }

    @Test
    void helpListsTheRuntimeOptions() {
        StringWriter out = new StringWriter();
        SimpleMp app = new SimpleMp(new PrintStream(new ByteArrayOutputStream()));
        assertEquals(0, Eal.run(app, new PrintWriter(out), new PrintWriter(new StringWriter()), "--help"));
        for (String o : List.of("--proc-type", "--file-prefix", "--lcores", "--no-huge", "--log-level", "send <text>")) {
            assertTrue(out.toString().contains(o), o + " missing from\n" + out);
        }
    }
}
