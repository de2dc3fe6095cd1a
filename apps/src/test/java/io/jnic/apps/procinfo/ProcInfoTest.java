package io.jnic.apps.procinfo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;
import io.jnic.apps.l2fwdmp.L2fwdMp;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.mp.ethdev.PortStatsService;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** proc-info against running groups, in a JVM of its own as users run it. */
class ProcInfoTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String prefix(String what) {
        return "pi" + what + ProcessHandle.current().pid();
    }

    @Test
    void showsTheDevicesCountersTheQueueOwnersAndThePoolOfAnL2fwdMpGroup() throws Exception {
        String prefix = prefix("l2");
        Path pj = base.resolve("l2.json");
        String json;
        String queuesOnly;
        try (AppProcess primary = AppProcess.start(L2fwdMp.class, base, "--no-huge", "--file-prefix", prefix, "--",
                "--num-procs", "2", "--devsim-rate", "20000", "--stats-json", pj.toString());
                AppProcess s1 = attached(prefix, primary)) {
            primary.await("total"); // a statistics period with traffic
            try (AppProcess all = AppProcess.start(ProcInfo.class, base, "--file-prefix", prefix, "--", "--json");
                    AppProcess queues = AppProcess.start(ProcInfo.class, base, "--file-prefix", prefix, "--show-queues")) {
                assertEquals(0, all.exit(), all.output());
                assertEquals(0, queues.exit(), queues.output());
                json = all.output();
                queuesOnly = queues.output();
            }
            // the secondary's queue, and the secondary among those the primary has registered
            String q1 = object(json, "{\"port\": 0, \"queue\": 1,");
            assertEquals(s1.pid(), Json.get(q1, "owner_pid"), json);
            assertTrue(q1.contains("\"owner\": \"alive\""), q1);
            assertEquals(primary.pid(), Json.in(json, "{\"port\": 1, \"queue\": 0,", "owner_pid"), json);
            assertTrue(json.contains("{\"pid\": " + s1.pid() + ", \"proc_id\": 1, \"self\": false}"), json);
            // the device's counters, from the primary
            for (int p = 0; p < 2; p++) {
                assertTrue(Json.in(json, "{\"port\": " + p + ", \"rx_packets\"", "rx_packets") > 0, json);
                assertTrue(Json.in(json, "{\"port\": " + p + ", \"rx_good_packets\"", "rx_good_packets") > 0, json);
                assertTrue(Json.in(json, "{\"port\": " + p + ", \"rx_good_packets\"", "gprc") > 0, "ixgbe's own xstats");
            }
            assertEquals(2, Json.in(json, "{\"port\": 0, \"device\"", "rx_queues"), json);
            assertTrue(object(json, "{\"port\": 0, \"device\"").contains("\"state\": \"STARTED\""), json);
            assertTrue(json.contains("\"pid\": " + s1.pid() + ", \"process\": \"secondary\", \"alive\": true"), json);
            long total = Json.in(json, "{\"name\": \"l2fwd_mp_pool\"", "total");
            long inUse = Json.in(json, "{\"name\": \"l2fwd_mp_pool\"", "in_use");
            assertTrue(inUse > 0 && inUse < total, "the running group holds mbufs in its rings\n" + json);
            // the primary's IPC counters: it served registrations and requests, and dropped nothing
            String ipc = object(json, "{\"pid\": " + primary.pid() + ", \"received\"");
            assertTrue(Json.get(ipc, "received") > 0, ipc);
            assertEquals(0, Json.get(ipc, "dropped"), ipc);

            assertTrue(queuesOnly.contains("== queues") && queuesOnly.contains("port 0 queue 1: ")
                    && queuesOnly.contains("owner_pid " + s1.pid()), queuesOnly);
            assertFalse(queuesOnly.contains("== mempools") || queuesOnly.contains("== stats"), queuesOnly);

            askTheServiceDirectly(prefix);

            primary.process.destroy();
            assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
            assertEquals(0, s1.exit(), s1.output());
        }
        Path dir = base.resolve(prefix);
        assertFalse(Files.exists(dir), "the group left its runtime dir behind: "
                + (Files.exists(dir) ? java.util.Arrays.toString(dir.toFile().list()) : ""));
        String j = Files.readString(pj);
        assertTrue(j.contains("\"ipc\": {\"received\": "), "the stats JSON has the IPC counters\n" + j);
        assertEquals(Json.get(j.substring(j.indexOf("\"audit\"")), "total"),
                Json.in(json, "{\"name\": \"l2fwd_mp_pool\"", "total"), "proc-info saw the pool the primary audited\n" + j);
    }

    /** PortStatsService from a secondary in this JVM: paging, and what a bad request is told. */
    private static void askTheServiceDirectly(String prefix) {
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", prefix))) {
            assertTrue(PortStatsService.stats(rt, 0).ipackets > 0);
            Map<String, Long> x = PortStatsService.xstats(rt, 1);
            assertTrue(x.size() > 20 && x.containsKey("gprc") && x.get("rx_good_packets") > 0,
                    "more entries than one message holds, all of them: " + x);
            PortStatsService.UnavailableException e = assertThrows(PortStatsService.UnavailableException.class,
                    () -> PortStatsService.stats(rt, 7));
            assertEquals("the primary refused: port 7 is not a port of the primary (ports: [0, 1])", e.getMessage());
            assertEquals("malformed statistics request of 3 bytes (expected 12)", refusal(rt, new byte[3]));
            ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 9).putShort((short) PortStatsService.OP_STATS).putInt(0).putInt(0);
            assertEquals("statistics request of version 9; this primary speaks version 1 (run tools of the same build)",
                    refusal(rt, b.array()));
            b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 1).putShort((short) 77).putInt(0).putInt(0);
            assertEquals("unknown statistics operation 77", refusal(rt, b.array()));
        }
    }

    private static String refusal(MpRuntime rt, byte[] request) {
        IpcReply r = rt.ipc().requestSync(new IpcMessage(PortStatsService.ACTION, request), Duration.ofSeconds(5));
        assertEquals(1, r.nbReceived(), "the primary answers every request");
        ByteBuffer b = r.messages().getFirst().paramBuffer();
        assertEquals(1, b.getInt(), "refused");
        b.getInt();
        byte[] t = new byte[b.remaining()];
        b.get(t);
        return new String(t, StandardCharsets.UTF_8);
    }

    private static AppProcess attached(String prefix, AppProcess primary) throws Exception {
        primary.await("port 1:");
        AppProcess s1 = AppProcess.start(L2fwdMp.class, base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                "--num-procs", "2", "--proc-id", "1");
        s1.await("attached queue 1 of port 1");
        return s1;
    }

    @Test
    void aPrimaryThatServesNoStatisticsGetsTheRestAndTheReason() throws Exception {
        String prefix = prefix("bare");
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--no-huge", "--file-prefix", prefix))) {
            rt.addMemory(4L << 20);
            PortTable t = PortTable.of(rt.memory());
            int port = t.allocate("net_null", "null0", -1, rt.pid());
            t.state(port, PortState.STARTED);
            Memzone z = rt.reserve("pi_ring", Ring.bytesNeeded(64));
            Ring r = Ring.create(z.memory(), "pi_ring", 64, Ring.F_SP_ENQ | Ring.F_SC_DEQ);
            for (int i = 1; i <= 5; i++) {
                assertTrue(r.enqueue(i));
            }
            int raw = io.jnic.sys.Sockets.socket(io.jnic.sys.Sockets.SOCK_DGRAM); // one malformed datagram
            try (io.jnic.sys.UnixMessage m = new io.jnic.sys.UnixMessage(64, 0)) {
                m.send(raw, 10, io.jnic.sys.UnixAddress.of(rt.ipc().socketPath()), null, 0, 0);
            } finally {
                io.jnic.sys.Io.close(raw);
            }
            try (AppProcess ipc = AppProcess.start(ProcInfo.class, base, "--file-prefix", prefix, "--", "--show-ipc")) {
                assertEquals(0, ipc.exit(), ipc.output());
                String out = ipc.output();
                assertTrue(out.contains("== ipc\n  primary pid " + rt.pid() + ": pid " + rt.pid() + ", received "), out);
                assertTrue(out.contains(", malformed 1, "), out);
                assertFalse(out.contains("== ports"), out);
            }
            try (AppProcess info = AppProcess.start(ProcInfo.class, base, "--file-prefix", prefix)) {
                assertEquals(0, info.exit(), info.output());
                String out = info.output();
                assertTrue(out.contains("port " + port + ": port " + port + ", device null0, driver net_null, state STARTED"),
                        out);
                assertTrue(out.contains("ring pi_ring: name pi_ring, memzone pi_ring, flags SP/SC, size 64, capacity 63, "
                        + "count 5, free 58"), out);
                assertTrue(out.contains("(no port statistics: the primary (pid " + rt.pid() + ") serves no port statistics"),
                        out);
                assertTrue(out.contains("(no queue owner table: the primary shares no ports with secondaries)"), out);
                assertTrue(out.contains("== ipc"), "the IPC counters are part of the default output: " + out);
            }
        }
    }

    @Test
    void withoutAGroupItSaysSo() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = ProcInfo.run(ps, ps, "--file-prefix", prefix("none"), "--", "--stats");
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(1, rc, out);
        assertTrue(out.contains("proc-info: error: no primary process runs for file prefix '" + prefix("none") + "'"), out);
        rc = ProcInfo.run(ps, ps, "--proc-type", "primary", "--file-prefix", prefix("none"));
        assertEquals(2, rc);
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("proc-info joins a running group as a secondary"));
    }

    /** The JSON object that starts with {@code start}. */
    private static String object(String json, String start) {
        int at = json.indexOf(start);
        assertTrue(at >= 0, "no " + start + " in " + json);
        return json.substring(at, json.indexOf('}', at) + 1);
    }
}
