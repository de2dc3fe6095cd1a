package io.jnic.apps.simplemp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.multiproc.Eal;
import io.jnic.multiproc.RuntimeDir;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** simple-mp as a user runs it: two JVMs, commands piped in, output read back. */
@Timeout(120)
class SimpleMpTest {
    @TempDir
    Path base;

    /** A simple-mp process with piped stdin and stdout. */
    static final class App implements AutoCloseable {
        final Process process;
        final Writer in;
        final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final List<String> seen = new ArrayList<>();
        final StringBuilder err = new StringBuilder();
        final Thread errReader;

        App(Path base, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-Xmx64m", "-D" + RuntimeDir.BASE_PROPERTY + "=" + base, "-cp", System.getProperty("java.class.path"),
                    SimpleMp.class.getName(), "--no-huge", "--file-prefix", "smp"));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).start();
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread t = new Thread(() -> {
                try (BufferedReader r = process.inputReader(StandardCharsets.UTF_8)) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        lines.add(l);
                    }
                } catch (IOException ignored) {
                    // gone
                }
                lines.add("<EOF>");
            });
            t.setDaemon(true);
            t.start();
            errReader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        synchronized (err) {
                            err.append(l).append('\n');
                        }
                    }
                } catch (IOException ignored) {
                    // gone
                }
            });
            errReader.setDaemon(true);
            errReader.start();
        }

        void type(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
        }

        String await(String prefix) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (;;) {
                String l = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null || l.equals("<EOF>")) {
                    synchronized (err) {
                        throw new AssertionError("no line starting with '" + prefix + "'; saw " + seen + ", stderr: " + err);
                    }
                }
                seen.add(l);
                if (l.startsWith(prefix)) {
                    return l;
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
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
            primary.in.close(); // end of input ends it too
            assertTrue(primary.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, primary.process.exitValue());
        }
    }

    @Test
    void aSecondaryWithoutPrimarySaysWhatToDo() throws Exception {
        try (App secondary = new App(base, "--proc-type", "secondary")) {
            assertTrue(secondary.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, secondary.process.exitValue());
            secondary.errReader.join(10_000); // stderr read to its end
            synchronized (secondary.err) {
                assertTrue(secondary.err.toString().contains("simple-mp: no primary process runs for file prefix 'smp' (looked in "
                        + base.resolve("smp") + "); start a primary first"), secondary.err.toString());
            }
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
