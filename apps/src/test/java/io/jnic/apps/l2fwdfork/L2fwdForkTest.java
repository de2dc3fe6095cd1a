package io.jnic.apps.l2fwdfork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** l2fwd-fork as users run it: a master JVM that starts worker JVMs on its devsim ports and restarts them. */
class L2fwdForkTest {
    private static final Pattern ATTACHED = Pattern.compile(
            "worker (\\d+) \\(pid (\\d+)\\) on (floating|pinned) lcore (\\d+) attached");
    private static final Pattern RECOVERED = Pattern.compile(
            "new worker pid (\\d+) \\((a spare|a new process)\\) forwarding ([0-9.]+) ms after the death");
    private static final int RING = 1024;
    private static final int BURST = 32;

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String prefix(String what) {
        return "fork" + what + ProcessHandle.current().pid();
    }

    @Test
    void aKilledWorkerIsReplacedInItsSlotAndAStormIsGivenUp() throws Exception {
        Path json = base.resolve("queue.json");
        try (AppProcess master = AppProcess.start(L2fwdFork.class, base, "--no-huge", "--file-prefix", prefix("q"), "--",
                "--workers", "2", "-f", "--max-restarts", "1", "--devsim-rate", "30000", "--stats-json", json.toString())) {
            master.await("reset per queue (auto)");
            Matcher a = ATTACHED.matcher(master.await("attached queue"));
            Matcher b = ATTACHED.matcher(master.await("attached queue"));
            assertTrue(a.find() && b.find(), master.output());
            assertEquals("floating", a.group(3));
            assertEquals("floating", b.group(3));
            assertNotEquals(a.group(4), b.group(4), "-f: each worker has a lcore id of its own\n" + master.output());
            long victim = Long.parseLong(a.group(1).equals("1") ? a.group(2) : b.group(2));
            master.await("total");
            master.await("total");

            long killed = System.nanoTime();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly(); // SIGKILL, mid-traffic
            String line = master.await("worker 1 (pid " + victim + ") was killed by signal 9 (SIGKILL)");
            double seen = (System.nanoTime() - killed) / 1e6;
            Matcher r = RECOVERED.matcher(line);
            assertTrue(r.find(), line);
            assertTrue(line.contains("reset queue pair 1 of ports [0, 1]; 2 queue pair(s) reset"), line);
            assertTrue(line.contains("(a spare)"), "the waiting spare took the slot: " + line);
            long successor = Long.parseLong(r.group(1));
            System.out.printf("l2fwd-fork recovery: the master measured %s ms from noticing the death to the new worker "
                    + "forwarding; the test saw the report %.1f ms after its kill -9%n", r.group(3), seen);
            master.await("total");

            // a second death of the same slot within the minute: --max-restarts 1 gives up on it
            ProcessHandle.of(successor).orElseThrow().destroyForcibly();
            String gaveUp = master.await("giving up on slot 1");
            assertTrue(gaveUp.contains("worker 1 (pid " + successor + ") was killed by signal 9 (SIGKILL); it was "
                    + "restarted 1 times within 60 s (--max-restarts 1)"), gaveUp);
            master.await("given-up");
            // SIGTERM, as Ctrl-C: the master stops its workers and reports (through the handle: Process.destroy
            // would also close our end of the pipe, and the workers' last lines with it)
            master.process.toHandle().destroy();
            assertTrue(List.of(0, 143).contains(master.exit()), master.output());
            String done = master.output();
            assertTrue(done.contains("l2fwd-fork: worker 0 (pid " + (a.group(1).equals("0") ? a.group(2) : b.group(2))
                    + ") forwarded"), "worker 0 forwarded on while slot 1 was recovered and given up\n" + done);
        }
        String j = Files.readString(json);
        assertTrue(j.contains("\"given_up\": true"), j);
        double ms = Double.parseDouble(find(j, "\"recovery_ms\": ([0-9.]+)"));
        assertTrue(ms > 0, j);
        assertEquals(4, Json.get(j, "queues_reset"), "2 deaths x 2 ports\n" + j);
        checkAccounting(j, 2, true);
    }

    @Test
    void resetPortStopsTheDependentWorkerAndRestartsBoth() throws Exception {
        Path json = base.resolve("port.json");
        long slot1Forwarded;
        try (AppProcess master = AppProcess.start(L2fwdFork.class, base, "--no-huge", "--file-prefix", prefix("p"), "-l",
                "0-1", "--", "--workers", "2", "--reset", "port", "--devsim-rate", "30000", "--stats-json", json.toString())) {
            master.await("reset per port,");
            Matcher a = ATTACHED.matcher(master.await("attached queue"));
            Matcher b = ATTACHED.matcher(master.await("attached queue"));
            assertTrue(a.find() && b.find(), master.output());
            assertEquals("pinned", a.group(3));
            assertEquals(a.group(1), a.group(4), "without -f worker w takes the w-th lcore of -l 0-1");
            assertEquals(b.group(1), b.group(4));
            long w0 = Long.parseLong(a.group(1).equals("0") ? a.group(2) : b.group(2));
            long w1 = Long.parseLong(a.group(1).equals("1") ? a.group(2) : b.group(2));
            master.await("total");
            long killed = System.nanoTime();
            ProcessHandle.of(w0).orElseThrow().destroyForcibly();
            String line = master.await("worker 0 (pid " + w0 + ") was killed by signal 9");
            double seen = (System.nanoTime() - killed) / 1e6;
            assertTrue(line.contains("reset ports [0, 1] stopped and started"), line);
            assertTrue(line.contains("workers [1] stopped and restarted too"), line);
            assertTrue(line.contains("(a new process)"), "pinned workers have no spares: " + line);
            Matcher r = RECOVERED.matcher(line);
            assertTrue(r.find(), line);
            System.out.printf("l2fwd-fork --reset port recovery: %s ms measured by the master, report seen %.1f ms after "
                    + "the kill -9%n", r.group(3), seen);
            assertTrue(master.output().contains("worker 1 (pid " + w1 + ") forwarded"),
                    "the dependent worker was stopped (SIGTERM) and said what it forwarded\n" + master.output());
            long w1again = newWorker(master, 1, w1);
            master.await("total");
            master.await("total");
            master.process.toHandle().destroy();
            assertTrue(List.of(0, 143).contains(master.exit()), master.output());
            // both workers of slot 1 ended cleanly: the slot's count is exactly the sum of theirs
            slot1Forwarded = forwarded(master.output(), w1) + forwarded(master.output(), w1again);
        }
        String j = Files.readString(json);
        assertEquals(slot1Forwarded, slotPort(j, 1, 0, "tx") + slotPort(j, 1, 1, "tx"),
                "a restarted worker continues its slot's counters\n" + j);
        assertTrue(j.contains("\"dependent\": true"), j);
        assertEquals(1, Json.in(j, "\"slot\": 0, \"pid\"", "restarts"), j);
        assertEquals(1, Json.in(j, "\"slot\": 1, \"pid\"", "restarts"), j);
        checkAccounting(j, 2, false);
    }

    /**
     * The devices' counters against the slots': exact where nothing died between a burst and its count; a killed
     * worker or a reset may leave one ring and one burst per queue uncounted on either side. A port reset also
     * loses the frames that arrive while the port is stopped (no device counter sees them).
     */
    private static void checkAccounting(String j, int workers, boolean devicesRanThrough) {
        assertTrue(j.contains("\"clean\": true"), j);
        assertEquals(0, Json.get(j, "in_use"), "every mbuf is back in the pool\n" + j);
        long slack = (long) workers * (RING + BURST) * 2;
        for (int p = 0; p < 2; p++) {
            int q = p ^ 1;
            long rx = 0;
            long tx = 0;
            for (int w = 0; w < workers; w++) {
                rx += slotPort(j, w, p, "rx");
                tx += slotPort(j, w, q, "tx");
            }
            String dev = "{\"port\": " + p + ", \"gen_sent\"";
            String devq = "{\"port\": " + q + ", \"gen_sent\"";
            long rxDma = Json.in(j, dev, "rx_dma");
            assertTrue(rx > 0 && rx <= rxDma && rxDma - rx <= slack, "port " + p + ": received " + rx + ", device " + rxDma
                    + "\n" + j);
            long seen = rxDma + Json.in(j, dev, "rx_no_buffer") + Json.in(j, dev, "rx_missed") + Json.in(j, dev, "fault_drops");
            long generated = Json.in(j, dev, "gen_sent");
            if (devicesRanThrough) {
                assertEquals(generated, seen, "generated = received + dropped\n" + j);
            } else {
                assertTrue(generated >= seen, "generated >= received + dropped\n" + j);
            }
            long txDma = Json.in(j, devq, "tx_dma");
            assertEquals(txDma, Json.in(j, devq, "sink"), "the far end received what the device sent\n" + j);
            assertTrue(Math.abs(txDma - tx) <= slack, "port " + q + ": forwarded " + tx + ", device sent " + txDma + "\n" + j);
        }
    }

    private static long slotPort(String j, int slot, int port, String key) {
        int at = j.indexOf("{\"slot\": " + slot + ", \"pid\"");
        assertTrue(at >= 0, "no slot " + slot + " in " + j);
        int p = j.indexOf("{\"port\": " + port + ",", at);
        return Json.get(j.substring(p, j.indexOf('}', p) + 1), key);
    }

    /** The pid of the worker that attached in {@code slot} after {@code old}, waiting for its line if need be. */
    private static long newWorker(AppProcess master, int slot, long old) throws InterruptedException {
        for (;;) {
            Matcher m = ATTACHED.matcher(master.output());
            while (m.find()) {
                if (Integer.parseInt(m.group(1)) == slot && Long.parseLong(m.group(2)) != old) {
                    return Long.parseLong(m.group(2));
                }
            }
            master.await("attached queue");
        }
    }

    private static long forwarded(String out, long pid) {
        return Long.parseLong(find(out, "\\(pid " + pid + "\\) forwarded (\\d+) packets"));
    }

    private static String find(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        assertTrue(m.find(), "no " + regex + " in " + s);
        return m.group(1);
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        String r = run("--no-huge", "--file-prefix", prefix("bad"), "--", "--workers", "0");
        assertTrue(r.startsWith("rc=2") && r.contains("--workers must be 1..16 (one queue pair of every port each), got 0"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad"), "--", "--workers", "17");
        assertTrue(r.startsWith("rc=2") && r.contains("--workers must be 1..16"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad"), "-l", "0", "--", "--workers", "2");
        assertTrue(r.startsWith("rc=2") && r.contains("-l 0 has 1 lcore(s) but --workers 2 needs one per worker; give more "
                + "lcores with -l or -f for floating workers"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad"), "--", "--reset", "device");
        assertTrue(r.startsWith("rc=2") && r.contains("--reset takes auto, queue or port, got 'device'"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad"), "--", "--worker", "0");
        assertTrue(r.startsWith("rc=2") && r.contains("--worker and --spare are set by the master on the workers it starts"), r);
        r = run("--proc-type", "secondary", "--file-prefix", prefix("bad"), "--", "--workers", "2");
        assertTrue(r.startsWith("rc=2") && r.contains("the master of l2fwd-fork is the primary"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad"), "-p", "0x7");
        assertTrue(r.contains("l2fwd-fork forwards between port pairs: -p 0x7 names 3 ports"), r);
    }

    @Test
    void portsWorkersCannotReachAreRefusedUpFront() throws Exception {
        try (AppProcess master = AppProcess.start(L2fwdFork.class, base, "--no-huge", "--file-prefix", prefix("n"),
                "--vdev", "net_null0", "--vdev", "net_null1", "--", "--workers", "1")) {
            assertEquals(1, master.exit(), master.output());
            assertTrue(master.output().contains("l2fwd-fork: error: port 0 (net_null0, net_null) cannot be handed to worker "
                    + "processes: its queues live in the master's own memory"),
                    master.output());
        }
    }

    @Test
    void exitStatusesAreNamed() {
        assertEquals("was killed by signal 9 (SIGKILL)", Master.describeExit(137, true));
        assertEquals("exited with status 1 before it attached its queues (its error is above)", Master.describeExit(1, false));
    }

    private static String run(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = L2fwdFork.run(ps, ps, args);
        return "rc=" + rc + "\n" + buf.toString(StandardCharsets.UTF_8);
    }
}
