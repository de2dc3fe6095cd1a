package io.jnic.apps.l2fwd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class L2fwdTest {
    private static final Pattern FORWARDED = Pattern.compile("l2fwd: forwarded (\\d+) packets");

    private static String run(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        CommandLine cl = new CommandLine(new L2fwd(out));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        cl.getErr().flush();
        return "rc=" + rc + "\n" + buf.toString(StandardCharsets.UTF_8) + err;
    }

    private static long forwarded(String out) {
        Matcher m = FORWARDED.matcher(out);
        assertTrue(m.find(), out);
        return Long.parseLong(m.group(1));
    }

    @Test
    void forwardsBetweenTwoNullPorts() {
        AppProcess.assumeAppMemory(); // l2fwd locks its 4 KB-page memory
        String out = run("--vdev", "net_null0", "--vdev", "net_null1", "--duration", "1", "--no-huge", "--file-prefix",
                "l2t" + ProcessHandle.current().pid() + "a");
        assertTrue(out.startsWith("rc=0"), out);
        assertTrue(forwarded(out) > 0, out);
    }

    @Test
    void forwardsBetweenTwoSimulated82599PortsByDefault() {
        AppProcess.assumeAppMemory(); // l2fwd locks its 4 KB-page memory
        String out = run("--duration", "2", "--no-huge", "--mbufs", "4095", "--ring", "512", "--devsim-rate", "100000",
                "--file-prefix", "l2t" + ProcessHandle.current().pid() + "b");
        assertTrue(out.startsWith("rc=0"), out);
        assertTrue(out.contains("2 simulated 82599 ports"), out);
        assertTrue(out.contains("total "), "per-period statistics: " + out);
        assertTrue(forwarded(out) > 0, out);
    }

    @Test
    void sleepsOnRxInterruptsWhenIdle() {
        AppProcess.assumeAppMemory(); // l2fwd locks its 4 KB-page memory
        String out = run("--duration", "2", "--no-huge", "--mbufs", "4095", "--ring", "512", "--devsim-rate", "2000",
                "--rx-interrupts", "--file-prefix", "l2t" + ProcessHandle.current().pid() + "d");
        assertTrue(out.startsWith("rc=0"), out);
        assertTrue(forwarded(out) > 0, out);
        Matcher m = Pattern.compile("slept on RX interrupts (\\d+) times, woken by one (\\d+) times").matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Long.parseLong(m.group(1)) > 0, "at 2000 pps the forwarder idles and sleeps: " + out);
        assertTrue(Long.parseLong(m.group(2)) > 0, "and frames wake it: " + out);
    }

    @Test
    void anOddNumberOfPortsIsRefused() {
        String out = run("--vdev", "net_null0", "--no-huge");
        assertTrue(out.startsWith("rc=2"), out);
        assertTrue(out.contains("l2fwd forwards between port pairs: give an even number of ports, got 1"), out);
    }

    @Test
    void anUnknownVdevIsRefused() {
        AppProcess.assumeAppMemory(); // l2fwd locks its 4 KB-page memory
        String out = run("--vdev", "net_nope0", "--vdev", "net_null1", "--no-huge", "--duration", "1", "--file-prefix",
                "l2t" + ProcessHandle.current().pid() + "c");
        assertEquals(1, out.lines().filter(l -> l.contains("unknown virtual device 'net_nope0'")).count(), out);
    }
}
