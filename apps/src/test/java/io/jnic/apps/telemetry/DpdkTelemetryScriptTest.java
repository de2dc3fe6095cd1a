package io.jnic.apps.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;
import io.jnic.apps.l2fwdmp.L2fwdMp;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Debian's dpdk-telemetry.py against a live l2fwd-mp group: it finds the sockets and reads every answer. */
class DpdkTelemetryScriptTest {
    static final Path SCRIPT = Path.of("/usr/bin/dpdk-telemetry.py");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Runs the script with {@code args}, feeding {@code commands}; one output line per command. */
    private static List<String> script(List<String> commands, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python(), SCRIPT.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("RUNTIME_DIRECTORY", base.toString()); // where DPDK's rules look first
        Process p = pb.start();
        p.getOutputStream().write((String.join("\n", commands) + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the script ends");
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertEquals(commands.size(), lines.size(), "one valid JSON reply per command (the script parses each):\n" + out);
        return lines;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // three JVMs and the script on a shared machine
    void theScriptReadsTheGroupsCountersAndGarbageOrStalledClientsStallNothing() throws Exception {
        Assumptions.assumeTrue(Files.exists(SCRIPT), SCRIPT + " is missing: apt-get install -y dpdk-dev");
        String prefix = "tel" + ProcessHandle.current().pid();
        Path dir = base.resolve("dpdk").resolve(prefix);
        try (AppProcess primary = AppProcess.start(L2fwdMp.class, base, "--no-huge", "--file-prefix", prefix, "--",
                "--num-procs", "2", "--devsim-rate", "20000")) {
            primary.await("port 1:");
            try (AppProcess s1 = AppProcess.start(L2fwdMp.class, base, "--proc-type", "secondary", "--file-prefix", prefix,
                    "--", "--num-procs", "2", "--proc-id", "1")) {
                s1.await("attached queue 1 of port 1");
                primary.await("total");
                List<String> r = script(List.of("/", "/info", "/eal/params", "/ethdev/list", "/ethdev/info,0",
                        "/ethdev/stats,0", "/ethdev/xstats,1,hide_zero=true", "/ethdev/link_status,0", "/mempool/list",
                        "/mempool/info,l2fwd_mp_pool", "/jnic/procs", "/jnic/queues", "/help,/ethdev/stats",
                        "/ethdev/stats,9", "/no/such"), "-f", prefix);
                for (String c : List.of("/ethdev/stats", "/ethdev/xstats", "/mempool/info", "/jnic/procs", "/jnic/queues",
                        "/eal/params", "/help", "/info")) {
                    assertTrue(r.get(0).contains("\"" + c + "\""), "listed: " + c + " in " + r.get(0));
                }
                assertEquals(primary.pid(), Json.get(r.get(1), "pid"), r.get(1));
                assertEquals(16384, Json.get(r.get(1), "max_output_len"));
                assertTrue(r.get(2).contains("\"--file-prefix\", \"" + prefix + "\"") && r.get(2).contains("\"--no-huge\""), r.get(2));
                assertEquals("{\"/ethdev/list\": [0, 1]}", r.get(3));
                assertTrue(r.get(4).contains("\"nb_rx_queues\": 2") && r.get(4).contains("\"port_id\": 0")
                        && r.get(4).contains("\"mac_addr\": \""), r.get(4));
                assertTrue(Json.get(r.get(5), "ipackets") > 0 && r.get(5).contains("\"q_ipackets\": ["), r.get(5));
                assertTrue(Json.get(r.get(6), "rx_good_packets") > 0 && !r.get(6).contains(": 0,"), "hide_zero: " + r.get(6));
                assertEquals("{\"/ethdev/link_status\": {\"status\": \"UP\", \"speed\": 10000, \"duplex\": \"full-duplex\"}}",
                        r.get(7));
                assertTrue(r.get(8).contains("\"l2fwd_mp_pool\""), r.get(8));
                long size = Json.get(r.get(9), "size");
                assertTrue(size > 0 && Json.get(r.get(9), "in_use") > 0 && Json.get(r.get(9), "common_pool_count")
                        + Json.get(r.get(9), "total_cache_count") + Json.get(r.get(9), "in_use") == size, r.get(9));
                assertTrue(r.get(10).contains("{\"pid\": " + s1.pid() + ", \"proc_id\": 1, \"type\": \"secondary\"")
                        && r.get(10).contains("{\"pid\": " + primary.pid() + ", \"proc_id\": 0, \"type\": \"primary\""), r.get(10));
                assertTrue(r.get(11).contains("{\"port\": 1, \"queue\": 1, \"owner_pid\": " + s1.pid() + ", \"owner\": \"alive\"}"),
                        r.get(11));
                assertEquals("{\"/help\": {\"/ethdev/stats\": \"Returns the common stats for a port. Parameters: int port_id\"}}",
                        r.get(12));
                assertEquals("{\"/ethdev/stats\": null}", r.get(13));
                assertEquals("{\"/no/such\": null}", r.get(14));

                // the secondary serves as instance 1; its counters come from the primary
                List<String> s = script(List.of("/info", "/ethdev/stats,1", "/jnic/procs"), "-f", prefix, "-i", "1");
                assertEquals(s1.pid(), Json.get(s.get(0), "pid"), s.get(0));
                assertTrue(Json.get(s.get(1), "opackets") > 0, s.get(1));
                assertTrue(s.get(2).contains("\"pid\": " + s1.pid() + ", \"proc_id\": 1, \"type\": \"secondary\""), s.get(2));

                // a client that sends garbage, one that asks and never reads: the others are still answered
                Path sock = dir.resolve("dpdk_telemetry.v2");
                int garbage = Sockets.socket(Sockets.SOCK_SEQPACKET);
                int stalled = Sockets.socket(Sockets.SOCK_SEQPACKET);
                try (UnixMessage m = new UnixMessage(4096, 0)) {
                    Sockets.connect(garbage, UnixAddress.of(sock));
                    Sockets.connect(stalled, UnixAddress.of(sock));
                    for (int i = 0; i < 4096; i++) {
                        m.data().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 131 + 17));
                    }
                    for (int i = 0; i < 50; i++) {
                        m.send(garbage, 1 + i * 80, null, null, 0, UnixMessage.MSG_DONTWAIT);
                    }
                    byte[] ask = "/ethdev/xstats,0".getBytes(StandardCharsets.US_ASCII);
                    MemorySegment.copy(ask, 0, m.data(), ValueLayout.JAVA_BYTE, 0, ask.length);
                    int sent = 0;
                    while (sent < 100_000 && m.send(stalled, ask.length, null, null, 0, UnixMessage.MSG_DONTWAIT) >= 0) {
                        sent++;
                    }
                    long before = Json.get(script(List.of("/ethdev/stats,0"), "-f", prefix).get(0), "ipackets");
                    primary.await("total"); // the data path went on: another statistics period
                    long after = Json.get(script(List.of("/ethdev/stats,0"), "-f", prefix).get(0), "ipackets");
                    assertTrue(after > before, "still forwarding and answering: " + before + " -> " + after);
                } finally {
                    Io.closeQuietly(garbage);
                    Io.closeQuietly(stalled);
                }
                s1.process.destroy();
                s1.exit();
            }
            assertFalse(Files.exists(dir.resolve("dpdk_telemetry.v2:1")), "the secondary removed its socket");
            primary.process.destroy();
            primary.exit();
        }
        assertFalse(Files.exists(dir), "the primary removed its socket and the directory it made");
    }
}
