package io.jnic.apps.l2fwdmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;
import io.jnic.devsim.ControlServer;
import io.jnic.sys.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13, device reset: a port whose device resets itself under traffic (devsim {@code reset P}) is
 * re-initialised by the primary and the group forwards on it again, every process on its own queue pair, with no
 * restart and a clean pool audit; also when a secondary died just before (link flapping meanwhile), and the
 * survivors do not hang when the primary is killed in the middle of the re-initialisation. Real processes; the
 * outcome never depends on timing (generous deadlines, latencies printed).
 */
@Timeout(400)
class L2fwdMpResetTest {
    private static final Pattern DEVSIM_DIR = Pattern.compile(" at (\\S+); inject faults");
    /** A row of the primary's table: proc, pid, rx Mpps, tx Mpps. */
    private static final Pattern ROW = Pattern.compile("^(\\d+)\\s+(\\S+)\\s+([\\d.]+)\\s+([\\d.]+)\\s");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String send(Path ctl, String cmd) {
        String r = ControlServer.send(ctl, cmd);
        assertTrue(r.startsWith("ok"), cmd + ": " + r);
        return r;
    }

    /** The rows (rx, tx Mpps by proc) of the next complete table the primary prints. */
    private static Map<Integer, double[]> nextTable(AppProcess primary) throws InterruptedException {
        primary.await("total"); // the period under way may have begun before what the caller just changed
        primary.await("rx Mpps");
        Map<Integer, double[]> rows = new HashMap<>();
        for (;;) {
            String l = primary.await("");
            if (l.startsWith("total")) {
                return rows;
            }
            Matcher m = ROW.matcher(l);
            if (m.find()) {
                rows.put(Integer.parseInt(m.group(1)), new double[] {Double.parseDouble(m.group(3)),
                        Double.parseDouble(m.group(4)), m.group(2).equals("-") ? 0 : 1});
            }
        }
    }

    /**
     * With only port {@code from}'s generator on, every process in {@code procs} receives on its queue of that port
     * and sends on its queue of the other (a queue left paused or dead would show 0); up to 60 tables (a loaded
     * machine may leave a freshly started JVM without CPU for a while).
     */
    private static void everyProcessForwards(AppProcess primary, Path ctl, int from, int... procs) throws InterruptedException {
        send(ctl, "gen " + (from ^ 1) + " stop");
        send(ctl, "gen " + from + " start");
        Map<Integer, double[]> rows = Map.of();
        for (int tries = 0; tries < 60; tries++) {
            rows = nextTable(primary);
            boolean all = true;
            for (int p : procs) {
                double[] r = rows.get(p);
                all &= r != null && r[0] > 0 && r[1] > 0;
            }
            if (all) {
                send(ctl, "gen " + (from ^ 1) + " start");
                return;
            }
        }
        StringBuilder sb = new StringBuilder();
        rows.forEach((k, v) -> sb.append(" proc ").append(k).append(v[2] == 0 ? " (not forwarding yet)" : "").append(": rx ")
                .append(v[0]).append(" tx ").append(v[1]));
        throw new AssertionError("from port " + from + ", not every process of " + java.util.Arrays.toString(procs)
                + " forwarded:" + sb + "\nprimary: " + tail(primary) + "\nsecondaries: " + SECONDARIES.stream()
                        .map(L2fwdMpResetTest::tail).toList());
    }

    /** The line with {@code text} the process printed already, or the next one (events of two threads race). */
    private static String saw(AppProcess p, String text) throws InterruptedException {
        for (String l : p.seen) {
            if (l.contains(text)) {
                return l;
            }
        }
        return p.await(text);
    }

    /** Secondaries of the test under way, whose last lines a failure shows. */
    private static final List<AppProcess> SECONDARIES = new java.util.concurrent.CopyOnWriteArrayList<>();

    private static String tail(AppProcess p) {
        List<String> l = p.seen.stream().filter(x -> !x.isBlank() && !ROW.matcher(x).find() && !x.startsWith("total")
                && !x.startsWith("proc ")).toList();
        return "pid " + p.pid() + ": " + l.subList(Math.max(0, l.size() - 15), l.size());
    }

    private static AppProcess secondary(String... args) throws java.io.IOException {
        AppProcess p = AppProcess.start(base, args);
        SECONDARIES.add(p);
        return p;
    }

    private static Path ctlOf(AppProcess primary) throws InterruptedException {
        Matcher dm = DEVSIM_DIR.matcher(primary.await("no device given"));
        assertTrue(dm.find());
        return Path.of(dm.group(1)).resolve(L2fwdMp.CONTROL_SOCKET);
    }

    private static void assertCleanAudit(Path json, AppProcess primary) throws java.io.IOException {
        assertTrue(Files.exists(json), "the primary wrote no " + json + ": " + tail(primary));
        String j = Files.readString(json);
        assertTrue(j.contains("\"clean\": true"), j);
        assertEquals(0, Json.get(j, "in_use"), "no mbuf outside the pool once the ports stopped\n" + j);
    }

    @org.junit.jupiter.api.AfterEach
    void forget() {
        SECONDARIES.clear();
    }

    @Test
    void aDeviceResetUnderTrafficIsRecoveredAndEveryQueuePairForwardsAgain() throws Exception {
        String prefix = "mpreset" + ProcessHandle.current().pid();
        Path pj = base.resolve("reset.json");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "2",
                "--devsim-rate", "30000", "--stats-json", pj.toString())) {
            Path ctl = ctlOf(primary);
            primary.await("port 1:");
            try (AppProcess s1 = secondary("--proc-type", "secondary", "--file-prefix", prefix, "--",
                    "--num-procs", "2", "--proc-id", "1")) {
                s1.await("attached queue 1 of port 1");
                everyProcessForwards(primary, ctl, 1, 0, 1);
                long at = System.nanoTime();
                send(ctl, "reset 1");
                String done = primary.await("re-initialised the port and its 2 RX / 2 TX queues");
                assertTrue(done.startsWith("l2fwd-mp: proc 0: port 1 (") && done.contains("the device reset itself "
                        + "(CTRL_EXT.DRV_LOAD is clear)"), done);
                String heard = s1.await("port 1 was re-initialised by the primary after its device reset itself");
                System.out.printf("reset noticed and port re-initialised within %.0f ms of the injection:%n  %s%n  %s%n",
                        (System.nanoTime() - at) / 1e6, done, heard);
                assertTrue(!done.contains("assumed idle"), "both processes paused their queues: " + done);
                primary.await("port 1 link up");
                everyProcessForwards(primary, ctl, 1, 0, 1); // port 1 RX on both queue pairs, port 0 TX
                everyProcessForwards(primary, ctl, 0, 0, 1); // port 0 RX, port 1 TX on both queue pairs
                primary.process.destroy();
                assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
                assertEquals(0, s1.exit(), s1.output());
            }
            assertCleanAudit(pj, primary);
        }
    }

    @Test
    void linkFlapsAndAResetWhileADeadSecondarysQueuesAreRecovered() throws Exception {
        String prefix = "mpflap" + ProcessHandle.current().pid();
        Path pj = base.resolve("flap.json");
        try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "2",
                "--devsim-rate", "30000", "--stats-json", pj.toString())) {
            Path ctl = ctlOf(primary);
            primary.await("port 1:");
            AppProcess s1 = secondary("--proc-type", "secondary", "--file-prefix", prefix, "--", "--num-procs", "2",
                    "--proc-id", "1");
            try {
                s1.await("attached queue 1 of port 1");
                everyProcessForwards(primary, ctl, 1, 0, 1);
            } finally {
                s1.process.destroyForcibly(); // SIGKILL mid-traffic
            }
            // while the primary resets the dead process's queue pairs: the link flaps and the device resets
            send(ctl, "link-down 1");
            send(ctl, "link-up 1");
            send(ctl, "reset 1");
            saw(primary, "secondary pid " + s1.pid());
            String done = saw(primary, "re-initialised the port and its 2 RX / 2 TX queues");
            System.out.println(done);
            try (AppProcess s1b = secondary("--proc-type", "secondary", "--file-prefix", prefix, "--", "--num-procs", "2",
                    "--proc-id", "1")) {
                s1b.await("attached queue 1 of port 1");
                everyProcessForwards(primary, ctl, 1, 0, 1);
                everyProcessForwards(primary, ctl, 0, 0, 1);
                primary.process.destroy();
                assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
                assertEquals(0, s1b.exit(), s1b.output());
            }
            assertTrue(primary.output().contains("port 1 link up"), primary.output());
            assertCleanAudit(pj, primary);
        }
    }

    @Test
    void survivorsDoNotHangWhenThePrimaryIsKilledDuringTheReinitialisation() throws Exception {
        String prefix = "mpresetkill" + ProcessHandle.current().pid();
        Path simDir = Files.createDirectories(base.resolve("reset-devsim"));
        Path ctl = simDir.resolve("devsim.ctl");
        Path s1Json = base.resolve("resetkill-s1.json");
        try (AppProcess devsim = AppProcess.start(io.jnic.devsim.Main.class, base, "--ports", "2", "--wire", "gen",
                "--gen-rate", "20000", "--socket-dir", simDir.toString())) {
            devsim.await("devsim: control socket");
            try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--", "--num-procs", "2",
                    "--vfio-user", simDir.resolve("port0.sock").toString(), "--vfio-user",
                    simDir.resolve("port1.sock").toString())) {
                primary.await("port 1:");
                AppProcess s1 = secondary("--proc-type", "secondary", "--file-prefix", prefix, "--",
                        "--num-procs", "2", "--proc-id", "1", "--stats-json", s1Json.toString());
                try {
                    s1.await("attached queue 1 of port 1");
                    everyProcessForwards(primary, ctl, 1, 0, 1);
                    // stopped, the secondary cannot acknowledge the pause: the re-initialisation waits for it, and the
                    // primary is killed meanwhile
                    assertTrue(Proc.kill((int) s1.pid(), 19)); // SIGSTOP
                    boolean midway;
                    try {
                        send(ctl, "reset 1");
                        primary.await("re-initialising the port");
                        primary.process.destroyForcibly();
                        primary.process.waitFor();
                        midway = primary.seen.stream().noneMatch(l -> l.contains("re-initialised the port"));
                    } finally {
                        Proc.kill((int) s1.pid(), 18); // SIGCONT
                    }
                    System.out.println("primary killed " + (midway ? "during" : "after") + " the re-initialisation of port 1");
                    s1.await("the primary (pid " + primary.pid() + ") ended");
                    // the survivor runs on (its port 1 queue stays paused: nobody finishes the re-initialisation) and
                    // ends when asked
                    Thread.sleep(1500);
                    assertTrue(s1.process.isAlive(), s1.output());
                    s1.process.destroy();
                    assertTrue(List.of(0, 143).contains(s1.exit()), s1.output());
                } finally {
                    s1.close();
                }
            }
            String j = Files.readString(s1Json);
            assertTrue(Json.port(j, 1, 0, "rx") > 0, j);
        }
    }
}
