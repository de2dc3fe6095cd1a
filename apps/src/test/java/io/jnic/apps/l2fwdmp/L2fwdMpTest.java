package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ControlServer;
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

/** l2fwd-mp as users run it: a primary and secondaries in separate JVMs on the primary's devsim ports. */
class L2fwdMpTest {
    private static final Pattern DEVSIM_DIR = Pattern.compile(" at (\\S+); inject faults");
    private static final Pattern LINK = Pattern.compile("port (\\d+) link (down|up)[^(]*\\(forwarded by the primary (\\d+) us ago\\)");
    private static final Pattern DEV_TX = Pattern.compile("tx (\\d+) pkts");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String prefix(String what) {
        return "mp" + what + ProcessHandle.current().pid();
    }

    @Test
    void threeProcessesForwardEveryFlowAndTheCountersMatchTheWire() throws Exception {
        String prefix = prefix("three");
        Path pj = base.resolve("primary.json");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "3",
                "--proc-id", "0", "--devsim-rate", "30000", "--stats-json", pj.toString())) {
            Matcher dm = DEVSIM_DIR.matcher(primary.await("no device given"));
            assertTrue(dm.find());
            Path ctl = Path.of(dm.group(1)).resolve(L2fwdMp.CONTROL_SOCKET);
            primary.await("port 1:");
            try (AppProcess mismatch = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "2", "--proc-id", "1")) {
                assertEquals(1, mismatch.exit());
                assertTrue(mismatch.output().contains("l2fwd-mp: error: --num-procs 2 does not match the primary's "
                        + "--num-procs 3"), mismatch.output());
            }
            try (AppProcess s1 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "3", "--proc-id", "1");
                    AppProcess s2 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                            "--num-procs", "3", "--proc-id", "2", "--idle", "interrupt")) {
                s1.await("attached queue 1 of port 1");
                s2.await("attached queue 2 of port 1");
                try (AppProcess twin = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                        "--num-procs", "3", "--proc-id", "1")) {
                    assertEquals(1, twin.exit());
                    assertTrue(twin.output().contains("queue 1 of port 0 is already driven by pid " + s1.pid()),
                            twin.output());
                }
                // link down/up on port 0, with no traffic in flight so that every frame stays accounted for
                send(ctl, "gen 0 stop");
                send(ctl, "gen 1 stop");
                waitDeviceQuiet(ctl);
                long downAt = System.nanoTime();
                send(ctl, "link-down 0");
                List<AppProcess> all = List.of(primary, s1, s2);
                for (AppProcess p : all) {
                    String l = p.await("port 0 link down");
                    Matcher m = LINK.matcher(l);
                    assertTrue(m.find(), l);
                    System.out.printf("pid %d saw link down %.1f ms after the injection (%s us after the primary)%n",
                            p.pid(), (System.nanoTime() - downAt) / 1e6, m.group(3));
                }
                send(ctl, "link-up 0");
                for (AppProcess p : all) {
                    p.await("port 0 link up");
                }
                send(ctl, "gen 0 start");
                send(ctl, "gen 1 start");
                primary.await("total");
                primary.await("total");
                primary.process.destroy(); // SIGTERM, as Ctrl-C: the primary drains, stops the group, reports
                assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
                assertEquals(0, s1.exit(), s1.output());
                assertEquals(0, s2.exit(), s2.output());
                // proc 2 slept while the generators were off and an RX interrupt, armed by the primary, woke it
                Matcher w = Pattern.compile("idle interrupt: slept (\\d+) times, (\\d+) woken by an RX interrupt")
                        .matcher(s2.output());
                assertTrue(w.find() && Long.parseLong(w.group(2)) > 0, s2.output());
            }
            String j = Files.readString(pj);
            for (int p = 0; p < 2; p++) {
                int q = p ^ 1;
                long rx = 0;
                long txq = 0;
                long dropsq = 0;
                for (int proc = 0; proc < 3; proc++) {
                    long r = Json.port(j, proc, p, "rx");
                    assertTrue(r > 0, "proc " + proc + " received nothing on port " + p + ": RSS gives every queue flows\n" + j);
                    rx += r;
                    txq += Json.port(j, proc, q, "tx");
                    dropsq += Json.port(j, proc, q, "drops");
                }
                String dev = "{\"port\": " + p + ", \"gen_sent\"";
                String devq = "{\"port\": " + q + ", \"gen_sent\"";
                assertEquals(Json.in(j, dev, "rx_dma"), rx, "port " + p + ": the device delivered what the processes received\n" + j);
                assertEquals(Json.in(j, dev, "gen_sent"), Json.in(j, dev, "rx_dma") + Json.in(j, dev, "rx_no_buffer")
                        + Json.in(j, dev, "rx_missed") + Json.in(j, dev, "fault_drops"), "generator sent = received + dropped\n" + j);
                assertEquals(rx, txq + dropsq, "port " + p + " -> " + q + ": received = forwarded + dropped\n" + j);
                assertEquals(txq, Json.in(j, devq, "sink"), "port " + q + ": the far end received what was forwarded\n" + j);
                assertEquals(txq, Json.in(j, devq, "tx_dma"));
            }
            assertTrue(j.contains("\"clean\": true"), j);
            assertEquals(0, Json.get(j, "in_use"), "no mbuf outside the pool once the ports stopped\n" + j);
        }
    }

    /** --mtu 9000: the generators' 9014-byte frames (9018 with FCS) are received and forwarded whole. */
    @Test
    void jumboFramesForwardWithMtu9000() throws Exception {
        String prefix = prefix("jumbo");
        Path pj = base.resolve("jumbo.json");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--mtu", "9000",
                "--devsim-size", "9018", "--devsim-rate", "2000", "--duration", "3", "--ring", "256",
                "--stats-json", pj.toString())) {
            assertEquals(0, primary.exit(), primary.output());
            String j = Files.readString(pj);
            for (int p = 0; p < 2; p++) {
                int q = p ^ 1;
                long rx = Json.port(j, 0, p, "rx");
                assertTrue(rx > 1000, "port " + p + " received " + rx + " jumbo frames\n" + j);
                String dev = "{\"port\": " + p + ", \"gen_sent\"";
                String devq = "{\"port\": " + q + ", \"gen_sent\"";
                assertEquals(Json.in(j, dev, "rx_dma"), rx, j);
                long tx = Json.port(j, 0, q, "tx");
                assertEquals(rx, tx + Json.port(j, 0, q, "drops"), j);
                assertEquals(tx, Json.in(j, devq, "sink"), "the far end received every forwarded jumbo frame\n" + j);
            }
            assertTrue(j.contains("\"clean\": true"), j);
        }
    }

    @Test
    void aKilledSecondaryIsRecoveredAndItsSuccessorResumesTheQueue() throws Exception {
        String prefix = prefix("kill");
        Path pj = base.resolve("kill.json");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "2",
                "--proc-id", "0", "--devsim-rate", "30000", "--stats-json", pj.toString())) {
            primary.await("port 1:");
            AppProcess s1 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "2", "--proc-id", "1");
            try {
                s1.await("attached queue 1 of port 1");
                primary.await("total"); // a stats period with the secondary forwarding
                primary.await("total");
            } finally {
                s1.process.destroyForcibly(); // SIGKILL, mid-traffic (and no process left behind on a failure)
                s1.process.waitFor();
            }
            String died = primary.await("secondary pid " + s1.pid());
            assertTrue(died.contains("died; queue pairs reset so far: 2"), died);
            try (AppProcess again = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "2", "--proc-id", "1")) {
                again.await("attached queue 1 of port 1");
                primary.await("total");
                primary.await("total");
                primary.process.destroy();
                String done = again.await("forwarded");
                Matcher m = Pattern.compile("forwarded (\\d+) packets").matcher(done);
                assertTrue(m.find() && Long.parseLong(m.group(1)) > 0, "the restarted secondary forwarded on its queue: " + done);
                assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
                assertEquals(0, again.exit(), again.output());
            }
            String j = Files.readString(pj);
            assertEquals(2, Json.get(j, "queues_reset"), j);
            assertTrue(j.contains("\"clean\": true"), j);
            assertEquals(0, Json.get(j, "in_use"), "every mbuf is back in the pool: none leaked by the killed process\n" + j);
            System.out.println("mbufs the killed secondary held outside its rings, reclaimed: " + Json.get(j, "mbufs_reclaimed"));
        }
    }

    @Test
    void whenThePrimaryIsKilledSecondariesRunOnAndTheGroupCannotGrow() throws Exception {
        String prefix = prefix("orphan");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "2",
                "--devsim-rate", "20000")) {
            primary.await("port 1:");
            try (AppProcess s1 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "2", "--proc-id", "1")) {
                s1.await("attached queue 1 of port 1");
                primary.process.destroyForcibly(); // SIGKILL
                primary.process.waitFor();
                s1.await("the primary (pid " + primary.pid() + ") ended; this process keeps forwarding on its queues");
                try (AppProcess late = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                        "--num-procs", "2", "--proc-id", "1")) {
                    assertEquals(1, late.exit());
                    assertTrue(late.output().contains("l2fwd-mp: WARNING: no primary runs for file prefix '" + prefix
                            + "' (pid " + primary.pid() + " ended); joining its running secondaries"), late.output());
                    assertTrue(late.output().contains("queue 1 of port 0 is already driven by pid " + s1.pid()), late.output());
                }
                try (AppProcess again = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs",
                        "2")) {
                    assertEquals(1, again.exit());
                    assertTrue(again.output().contains("secondary processes [" + s1.pid() + "] of an earlier primary"),
                            again.output());
                }
                assertTrue(s1.process.isAlive(), "the secondary outlives its primary");
                s1.process.destroy();
                assertTrue(List.of(0, 143).contains(s1.exit()), s1.output());
            }
        }
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        String r = run("--no-huge", "--file-prefix", prefix("bad1"), "--", "--num-procs", "2", "--proc-id", "2");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("--proc-id 2 is out of range: with --num-procs 2 the ids are 0..1"), r);
        r = run("--proc-type", "secondary", "--file-prefix", prefix("none"), "--", "--num-procs", "2", "--proc-id", "1");
        assertTrue(r.startsWith("rc=1"), r);
        assertTrue(r.contains("l2fwd-mp: error: no primary process runs for file prefix '" + prefix("none") + "'"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad2"), "--num-procs", "2", "--proc-id", "1");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("--proc-id 1 with --proc-type primary: the primary is proc-id 0"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad3"), "-p", "0x7");
        assertTrue(r.contains("l2fwd-mp forwards between port pairs: -p 0x7 names 3 ports"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad4"), "-p", "zz");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("-p takes a hex port mask such as 0x3, got 'zz'"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad5"), "-p", "0x0");
        assertTrue(r.contains("-p 0x0 names no port or ports beyond 31"), r);
        r = run("--no-huge", "--file-prefix", prefix("bad6"), "--burst", "0");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("--burst must be 1-512, got 0"), r);
    }

    private static String run(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = L2fwdMp.run(ps, ps, args);
        return "rc=" + rc + "\n" + buf.toString(StandardCharsets.UTF_8);
    }

    private static void send(Path ctl, String cmd) {
        String a = ControlServer.send(ctl, cmd);
        assertTrue(a.startsWith("ok"), cmd + ": " + a);
    }

    /** Until devsim's transmit counters stop moving (what the processes sent has left the rings). */
    private static void waitDeviceQuiet(Path ctl) throws InterruptedException {
        String last = "";
        for (;;) {
            StringBuilder sb = new StringBuilder();
            Matcher m = DEV_TX.matcher(ControlServer.send(ctl, "stats"));
            while (m.find()) {
                sb.append(m.group(1)).append(' ');
            }
            if (sb.toString().equals(last)) {
                return;
            }
            last = sb.toString();
            Thread.sleep(300);
        }
    }
}
