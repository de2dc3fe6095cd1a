package io.jnic.apps.clientserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** mp-server and mp-client as users run them: the server and its clients in separate JVMs on devsim ports. */
class ClientServerMpTest {
    private static final Pattern RECLAIMED = Pattern.compile("mbufs reclaimed so far: (\\d+)");
    private static final String TOTAL = "{\"server_rx\"";
    private static final String[] CLIENT_FIELDS = {"enqueued", "ring_drops", "rx", "tx", "tx_drops", "drained"};

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String prefix(String what) {
        return "cs" + what + ProcessHandle.current().pid();
    }

    private static AppProcess server(String prefix, Path json) throws Exception {
        return AppProcess.start(MpServer.class, base, "--no-huge", "--file-prefix", prefix, "-n", "2", "--devsim-rate",
                "20000", "--stats-json", json.toString());
    }

    private static AppProcess client(String prefix, int id) throws Exception {
        return AppProcess.start(MpClient.class, base, "--file-prefix", prefix, "-n", Integer.toString(id));
    }

    @Test
    void twoClientsForwardEverythingTheServerHandsThemAndTheCountersMatchTheDevices() throws Exception {
        String prefix = prefix("two");
        Path sj = base.resolve("two.json");
        try (AppProcess server = server(prefix, sj)) {
            server.await("serves 2 clients");
            try (AppProcess c0 = client(prefix, 0); AppProcess c1 = client(prefix, 1)) {
                c0.await("forwards ring MProc_Client_0_RX");
                c1.await("forwards ring MProc_Client_1_RX");
                try (AppProcess twin = client(prefix, 1); AppProcess beyond = client(prefix, 2)) {
                    assertEquals(1, twin.exit());
                    assertTrue(twin.output().contains("mp-client: error: client 1 already runs as pid " + c1.pid()
                            + " (it drives queue 2 of port 0)"), twin.output());
                    assertEquals(1, beyond.exit());
                    assertTrue(beyond.output().contains("mp-client: error: -n 2 is out of range: the server (pid "
                            + server.pid() + ") serves 2 clients, ids 0..1"), beyond.output());
                }
                server.await("client pid");
                server.await("client pid");
                server.process.destroy(); // SIGTERM, as Ctrl-C: the server drains, stops its clients, reports
                assertTrue(List.of(0, 143).contains(server.exit()), server.output());
                assertEquals(0, c0.exit(), c0.output());
                assertEquals(0, c1.exit(), c1.output());
            }
            String j = Files.readString(sj);
            long enqueued = 0;
            long ringDrops = 0;
            for (int c = 0; c < 2; c++) {
                long[] v = counters(j, c);
                assertTrue(v[2] > 0, "client " + c + " received nothing: round-robin gives every client bursts\n" + j);
                assertEquals(v[0], v[2] + v[5], "client " + c + ": enqueued = received by it + left in its ring\n" + j);
                assertEquals(v[2], v[3] + v[4], "client " + c + ": received = sent + dropped\n" + j);
                enqueued += v[0];
                ringDrops += v[1];
            }
            long serverRx = 0;
            for (int p = 0; p < 2; p++) {
                int q = p ^ 1;
                String port = "{\"port_id\": " + p + ",";
                String portq = "{\"port_id\": " + q + ",";
                String dev = "{\"port\": " + p + ", \"gen_sent\"";
                String devq = "{\"port\": " + q + ", \"gen_sent\"";
                long rx = Json.in(j, port, "server_rx");
                serverRx += rx;
                assertEquals(Json.in(j, dev, "rx_dma"), rx, "port " + p + ": the server received what the device delivered\n" + j);
                assertEquals(Json.in(j, dev, "gen_sent"), Json.in(j, dev, "rx_dma") + Json.in(j, dev, "rx_no_buffer")
                        + Json.in(j, dev, "rx_missed") + Json.in(j, dev, "fault_drops"), "generator sent = received + dropped\n" + j);
                long txq = Json.in(j, portq, "clients_tx");
                assertEquals(txq, Json.in(j, devq, "tx_dma"), "port " + q + ": the device sent what the clients queued\n" + j);
                assertEquals(txq, Json.in(j, devq, "sink"), "port " + q + ": the far end received it\n" + j);
            }
            assertEquals(serverRx, enqueued + ringDrops, "server rx = handed to clients + dropped at full rings\n" + j);
            assertEquals(serverRx, Json.in(j, TOTAL, "server_rx"));
            assertTrue(j.contains("\"clean\": true"), j);
            assertEquals(0, Json.get(j, "in_use"), "no mbuf outside the pool once the ports stopped\n" + j);
        }
    }

    @Test
    void aKilledClientIsRecoveredAndItsSuccessorResumesItsRing() throws Exception {
        String prefix = prefix("kill");
        Path sj = base.resolve("kill.json");
        try (AppProcess server = server(prefix, sj)) {
            server.await("serves 2 clients");
            AppProcess c0 = client(prefix, 0);
            AppProcess c1 = client(prefix, 1);
            try {
                c0.await("forwards ring");
                c1.await("forwards ring");
                server.await("client pid");
                server.await("client pid"); // a period with both forwarding
            } catch (AssertionError | RuntimeException e) {
                c0.close();
                throw e;
            } finally {
                c1.process.destroyForcibly(); // SIGKILL, mid-traffic (and no process left behind on a failure)
                c1.process.waitFor();
            }
            String died = server.await("secondary pid " + c1.pid());
            assertTrue(died.contains("died; queue pairs reset so far: 2"), died);
            Matcher r = RECLAIMED.matcher(died);
            assertTrue(r.find(), died);
            long reclaimed = Long.parseLong(r.group(1));
            // the worst moment: some mbufs taken from the ring, the next ones owned but still in it
            try (AppProcess holder = AppProcess.start(HoldingClient.class, base, prefix, "1")) {
                holder.await("holding " + HoldingClient.HELD + " mbufs taken from MProc_Client_1_RX, " + HoldingClient.HELD
                        + " owned in the ring");
                holder.process.destroyForcibly();
                holder.process.waitFor();
                died = server.await("secondary pid " + holder.pid());
                assertTrue(died.contains("died; queue pairs reset so far: 4, mbufs reclaimed so far: "
                        + (reclaimed + HoldingClient.HELD)), "exactly the mbufs it had dequeued come back; those still in "
                        + "its ring stay there for its successor: " + died);
            }
            try (c0; AppProcess again = client(prefix, 1)) {
                again.await("forwards ring MProc_Client_1_RX (resumed: attach 2 of this id)");
                server.await("client pid");
                server.process.destroy();
                Matcher m = Pattern.compile("forwarded (\\d+) packets").matcher(again.await("forwarded"));
                assertTrue(m.find() && Long.parseLong(m.group(1)) > 0, "the restarted client forwarded from its ring");
                assertTrue(List.of(0, 143).contains(server.exit()), server.output());
                assertEquals(0, again.exit(), again.output());
                assertEquals(0, c0.exit(), c0.output());
            }
            String j = Files.readString(sj);
            assertEquals(4, Json.get(j, "queues_reset"), j);
            assertEquals(2, Json.in(j, "{\"client\": 1,", "attaches"), j);
            assertTrue(j.contains("\"clean\": true"), j);
            assertEquals(0, Json.get(j, "in_use"), "every mbuf is back in the pool: none lost with the killed client\n" + j);
            long serverRx = Json.in(j, TOTAL, "server_rx");
            assertEquals(serverRx, Json.in(j, TOTAL, "enqueued") + Json.in(j, TOTAL, "ring_drops"), j);
            System.out.println("mbufs the two killed clients held outside their rings, reclaimed: " + Json.get(j, "mbufs_reclaimed"));
        }
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        String r = run(true, "--file-prefix", prefix("bad1"));
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("Missing required option: '-n=CLIENT_ID'"), r);
        r = run(true, "--file-prefix", prefix("none"), "-n", "0");
        assertTrue(r.startsWith("rc=1"), r);
        assertTrue(r.contains("mp-client: error: no primary process runs for file prefix '" + prefix("none") + "'"), r);
        r = run(true, "--file-prefix", prefix("bad2"), "-n", "15");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("-n 15 is out of range: client ids are 0..14"), r);
        r = run(false, "--no-huge", "--file-prefix", prefix("bad3"), "-n", "16");
        assertTrue(r.startsWith("rc=2"), r);
        assertTrue(r.contains("-n must be 1..15 clients"), r);
        r = run(false, "--no-huge", "--file-prefix", prefix("bad4"));
        assertTrue(r.startsWith("rc=2") && r.contains("Missing required option: '-n=NUM_CLIENTS'"), r);
    }

    /** enqueued, ring_drops, rx, tx, tx_drops, drained of client {@code c}. */
    private static long[] counters(String json, int c) {
        long[] v = new long[CLIENT_FIELDS.length];
        for (int f = 0; f < v.length; f++) {
            v[f] = Json.in(json, "{\"client\": " + c + ",", CLIENT_FIELDS[f]);
        }
        return v;
    }

    private static String run(boolean client, String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = client ? MpClient.run(ps, ps, args) : MpServer.run(ps, ps, args);
        return "rc=" + rc + "\n" + buf.toString(StandardCharsets.UTF_8);
    }
}
