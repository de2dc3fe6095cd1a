package io.jnic.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher against a real child JVM: lines, commands, failures, exit codes, kill and close. */
class ChildJvmTest {
    @TempDir
    Path dir;

    private static ChildJvm.Builder echo() {
        return ChildJvm.of(EchoMain.class).jvmArgs("-XX:TieredStopAtLevel=1", "-Xmx32m").property("echo.prop", "p1")
                .args("a", "b");
    }

    @Test
    void readsLinesTakesCommandsAndReportsTheExitCode() {
        try (ChildJvm c = echo().start()) {
            assertEquals("READY a b p1", c.await("READY"));
            c.send("hello");
            assertEquals("echo hello", c.await(l -> l.startsWith("echo"), l -> false, Duration.ofSeconds(30), "echo"));
            c.send("exit 7");
            assertEquals(7, c.waitFor(Duration.ofSeconds(30)));
            assertEquals(List.of("READY a b p1", "echo hello"), c.seen());
            assertEquals(ChildJvm.EOF, c.next(Duration.ofSeconds(1)));
        }
    }

    @Test
    void failsWithTheOutputWhenTheChildEndsOrSaysAFailureLine() {
        try (ChildJvm c = echo().start()) {
            c.send("ERROR broken");
            AssertionError e = assertThrows(AssertionError.class,
                    () -> c.await(l -> l.startsWith("never"), l -> l.startsWith("echo ERROR"), Duration.ofSeconds(30), "x"));
            assertTrue(e.getMessage().contains("echo ERROR broken"), e.getMessage());
            c.send("exit 0");
            e = assertThrows(AssertionError.class, () -> c.await("never"));
            assertTrue(e.getMessage().contains("ended before") && e.getMessage().contains("READY a b p1"), e.getMessage());
        }
    }

    @Test
    void aSilentChildTimesOutAndCloseKillsIt() {
        ChildJvm c = echo().start();
        c.await("READY");
        c.send("hang");
        AssertionError e = assertThrows(AssertionError.class,
                () -> c.await(l -> true, l -> false, Duration.ofMillis(300), "any line"));
        assertTrue(e.getMessage().contains("within"), e.getMessage());
        c.close();
        assertFalse(c.alive());
    }

    @Test
    void quitCommandEndsTheChildCleanlyAndKillEndsItAtOnce() throws Exception {
        ChildJvm c = echo().quitCommand("quit", Duration.ofSeconds(20)).start();
        c.await("READY");
        c.close();
        assertEquals(0, c.process().exitValue(), "ended by its quit command, not killed");
        try (ChildJvm k = echo().start()) {
            k.await("READY");
            k.kill();
            assertFalse(k.alive());
            assertEquals(137, k.process().exitValue());
        }
    }

    @Test
    void stderrIsCapturedMergedOrWrittenToAFile() throws Exception {
        try (ChildJvm c = echo().stderr(ChildJvm.Stderr.CAPTURE).start()) {
            c.await("READY");
            c.send("err to-stderr");
            c.send("quit");
            assertEquals(0, c.waitFor(Duration.ofSeconds(30)));
            long end = System.nanoTime() + 10_000_000_000L;
            while (!c.stderr().contains("to-stderr") && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertEquals("to-stderr\n", c.stderr());
        }
        try (ChildJvm c = echo().stderr(ChildJvm.Stderr.MERGE).start()) {
            c.await("READY");
            c.send("err merged");
            assertEquals("merged", c.await("merged"));
        }
        Path out = dir.resolve("out.txt");
        try (ChildJvm c = echo().outputTo(out).start()) {
            c.send("err in-file");
            c.send("exit 3");
            assertEquals(3, c.waitFor(Duration.ofSeconds(30)));
        }
        String text = Files.readString(out);
        assertTrue(text.contains("READY a b p1") && text.contains("in-file"), text);
    }

    @Test
    void theCommandLineHasTheDefaultsTheWrapperAndTheClassPath() {
        List<String> cmd = ChildJvm.of("x.Main").wrapper(List.of("setpriv", "--x")).classPath("/cp").args("1").command();
        assertEquals("setpriv", cmd.get(0));
        assertEquals("--x", cmd.get(1));
        assertTrue(cmd.containsAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", "/cp", "x.Main", "1")), cmd.toString());
        assertEquals(List.of("x.Main", "1"), cmd.subList(cmd.size() - 2, cmd.size()));
        assertTrue(ChildJvm.location(ChildJvmTest.class).endsWith("test-classes"), ChildJvm.location(ChildJvmTest.class));
    }
}
