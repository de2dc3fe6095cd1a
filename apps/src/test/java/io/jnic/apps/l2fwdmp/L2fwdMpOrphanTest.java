package io.jnic.apps.l2fwdmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;
import io.jnic.devsim.ControlServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #8, crash behaviour: with the ports served by a standalone devsim (its own JVM), killing the primary
 * (SIGKILL) leaves the secondaries forwarding, and a secondary started afterwards joins the orphaned group
 * and forwards on its own queue pair. Real processes throughout; no timing decides the outcome (generous
 * deadlines, measured latencies printed).
 */
@Timeout(300)
class L2fwdMpOrphanTest {
    private static final Pattern TX = Pattern.compile("port (\\d) link \\S+\\s+rx (\\d+) pkts .*?\\| tx (\\d+) pkts");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    /** Frames both ports have sent to the wire so far (what the group forwarded), from devsim's control socket. */
    private static long wireTx(Path ctl) {
        String stats = ControlServer.send(ctl, "stats");
        Matcher m = TX.matcher(stats);
        long sum = 0;
        int ports = 0;
        while (m.find()) {
            sum += Long.parseLong(m.group(3));
            ports++;
        }
        assertEquals(2, ports, stats);
        return sum;
    }

    /** Waits (up to 90 s) until the ports have sent {@code more} frames beyond {@code from}; returns the wait. */
    private static long awaitForwarded(Path ctl, long from, long more, String what) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(90);
        long now;
        while ((now = wireTx(ctl)) < from + more) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": the ports sent " + (now - from) + " frames in 90 s, expected " + more);
            }
            Thread.sleep(20);
        }
        return System.nanoTime() - t0;
    }

    @Test
    void secondariesForwardAfterThePrimaryIsKilledAndANewOneJoinsTheOrphans() throws Exception {
        String prefix = "mporphan" + ProcessHandle.current().pid();
        Path simDir = Files.createDirectories(base.resolve("standalone-devsim"));
        Path ctl = simDir.resolve("devsim.ctl");
        Path s1Json = base.resolve("s1.json");
        Path s2Json = base.resolve("s2.json");
        try (AppProcess devsim = AppProcess.start(io.jnic.devsim.Main.class, base, "--ports", "2", "--wire", "gen",
                "--gen-rate", "20000", "--socket-dir", simDir.toString())) {
            devsim.await("devsim: control socket");
            try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "3",
                    "--vfio-user", simDir.resolve("port0.sock").toString(), "--vfio-user",
                    simDir.resolve("port1.sock").toString())) {
                primary.await("port 1:");
                try (AppProcess s1 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                        "--num-procs", "3", "--proc-id", "1", "--idle", "interrupt", "--stats-json", s1Json.toString())) {
                    s1.await("attached queue 1 of port 1");
                    awaitForwarded(ctl, wireTx(ctl), 1000, "before the kill");

                    primary.process.destroyForcibly(); // SIGKILL: no goodbye to anyone
                    primary.process.waitFor();
                    long killedAt = System.nanoTime();
                    s1.await("the primary (pid " + primary.pid() + ") ended; this process keeps forwarding on its queues");
                    // idle: it would sleep on RX interrupts, which only the dead primary could arm; it polls instead
                    ControlServer.send(ctl, "gen 0 stop");
                    ControlServer.send(ctl, "gen 1 stop");
                    // (its line may come before or after the "primary ended" one)
                    String idleLine = s1.seen.stream().filter(l -> l.contains("--idle interrupt: ")).findFirst()
                            .orElse(null);
                    if (idleLine == null) {
                        idleLine = s1.await("--idle interrupt: ");
                    }
                    System.out.println(idleLine);
                    // "has ended", or "did not answer" when the last arm request raced with the kill
                    assertTrue(idleLine.contains("--idle interrupt: the primary (pid " + primary.pid() + ") ")
                            && idleLine.endsWith("; polling from now on"), idleLine);
                    ControlServer.send(ctl, "gen 0 start");
                    ControlServer.send(ctl, "gen 1 start");
                    long at = wireTx(ctl);
                    long waited = awaitForwarded(ctl, at, 1000, "after the kill, with only proc 1 forwarding");
                    System.out.printf("after SIGKILL of the primary: 1000 more frames forwarded by the secondary within %.1f ms "
                            + "(%.1f ms after the kill)%n", waited / 1e6, (System.nanoTime() - killedAt) / 1e6);
                    assertTrue(s1.process.isAlive(), s1.output());

                    long joinStart = System.nanoTime();
                    try (AppProcess s2 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                            "--num-procs", "3", "--proc-id", "2", "--duration", "4", "--stats-json", s2Json.toString())) {
                        s2.await("l2fwd-mp: WARNING: no primary runs for file prefix '" + prefix + "' (pid " + primary.pid()
                                + " ended); joining its running secondaries");
                        s2.await("attached queue 2 of port 1");
                        System.out.printf("a new secondary joined the orphaned group and attached its queues in %.0f ms%n",
                                (System.nanoTime() - joinStart) / 1e6);
                        assertEquals(0, s2.exit(), s2.output());
                }
                String j2 = Files.readString(s2Json);
                for (int p = 0; p < 2; p++) {
                    long rx = Json.port(j2, 2, p, "rx");
                    assertTrue(rx > 0, "the late secondary received on its queue of port " + p + "\n" + j2);
                    assertTrue(Json.port(j2, 2, p ^ 1, "tx") > 0, "and forwarded to port " + (p ^ 1) + "\n" + j2);
                }
                // a new primary must not take the group over while the orphans run
                try (AppProcess again = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs",
                        "3", "--vfio-user", simDir.resolve("port0.sock").toString())) {
                    assertEquals(1, again.exit());
                    assertTrue(again.output().contains("secondary processes [" + s1.pid() + "] of an earlier primary of "
                            + "file prefix '" + prefix + "'"), again.output());
                    assertTrue(again.output().contains("stop them before starting a new primary, or use another "
                            + "--file-prefix"), again.output());
                }
                long before = wireTx(ctl);
                awaitForwarded(ctl, before, 500, "proc 1 after the refused primary");
                s1.process.destroy(); // Ctrl-C
                assertTrue(List.of(0, 143).contains(s1.exit()), s1.output());
                }
            }
            String j1 = Files.readString(s1Json);
            long rx1 = Json.port(j1, 1, 0, "rx") + Json.port(j1, 1, 1, "rx");
            assertTrue(rx1 > 0, j1);
            System.out.println("proc 1 received " + rx1 + " frames in all; proc 2 (joined late) "
                    + (Json.port(Files.readString(s2Json), 2, 0, "rx") + Json.port(Files.readString(s2Json), 2, 1, "rx")));
        }
    }
}
