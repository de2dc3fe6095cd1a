package io.jnic.apps.pktgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPDK as the device under test: pktgen on two virtio_user ports whose backend is testpmd with two net_vhost
 * ports in io mode (paired: what arrives on one leaves on the other). At a rate far below testpmd's capacity
 * nothing is lost, and pktgen's counts agree exactly with testpmd's own port statistics: what pktgen's port p
 * sent, testpmd's port p received; what testpmd's port p sent, pktgen's port p received. Skipped without
 * dpdk-testpmd.
 */
class PktgenTestpmdTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    static Path testpmd() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "dpdk-testpmd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void countsAgreeWithTestpmdsOwnStatistics() throws Exception {
        Path bin = testpmd();
        assumeTrue(bin != null, "dpdk-testpmd not found on PATH: install DPDK (apt-get install -y dpdk dpdk-dev)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/stdbuf")), "stdbuf missing: apt-get install -y coreutils");
        Path dir = Files.createDirectories(base.resolve("vhost"));
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        Path log = dir.resolve("testpmd.log");
        String prefix = "pgtp" + ProcessHandle.current().pid();
        // stdbuf: testpmd's printf output to a file is block-buffered, and the statistics are read from it
        Process tp = new ProcessBuilder("stdbuf", "-oL", bin.toString(), "-l", "0-1", "--no-pci", "--no-huge", "-m", "256",
                "--file-prefix=" + prefix + "_tp", "--vdev", "net_vhost0,iface=" + a + ",queues=1", "--vdev",
                "net_vhost1,iface=" + b + ",queues=1", "--", "-i", "--forward-mode=io", "--port-topology=paired",
                "--nb-cores=1", "--total-num-mbufs=8192", "--disable-link-check").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        OutputStream cli = tp.getOutputStream();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(a) || !Files.exists(b)) {
                assertTrue(tp.isAlive() && System.nanoTime() < deadline, "testpmd did not create its sockets:\n"
                        + Files.readString(log));
                Thread.sleep(20);
            }
            command(cli, "start");
            Path json = base.resolve("pktgen.json");
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
            int rc = Pktgen.run(ps, ps, "--no-huge", "--file-prefix", prefix, "--vdev", "virtio_user0,path=" + a, "--vdev",
                    "virtio_user1,path=" + b, "--", "--rate", "5kpps", "--count", "3000", "--ring", "1024", "-T", "0",
                    "--quiet-ms", "3000", "--drain-ms", "30000", "--json", json.toString());
            String out = buf.toString(StandardCharsets.UTF_8);
            assertEquals(0, rc, out);
            @SuppressWarnings("unchecked")
            Map<String, Object> j = (Map<String, Object>) MiniJson.parse(Files.readString(json));
            List<Map<String, Object>> ports = Plot.list(j, "ports");
            long size = Files.size(log);
            command(cli, "show port stats all");
            String stats = "";
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                String all = Files.readString(log);
                stats = all.substring((int) Math.min(size, all.length()));
                if (stats.contains("NIC statistics for port 1") && stats.lastIndexOf("TX-packets")
                        > stats.indexOf("NIC statistics for port 1")) {
                    break;
                }
                Thread.sleep(50);
            }
            for (int p = 0; p < 2; p++) {
                long pgTx = (long) Plot.num(ports.get(p), "tx_frames");
                long pgRx = (long) Plot.num(ports.get(p), "rx_frames");
                assertEquals(3000, pgTx, out);
                assertEquals(pgTx, testpmdCount(stats, p, "RX-packets"), "testpmd port " + p + " received what pktgen "
                        + "port " + p + " sent:\n" + stats);
                assertEquals(pgRx, testpmdCount(stats, p, "TX-packets"), "pktgen port " + p + " received what testpmd "
                        + "port " + p + " sent:\n" + stats);
                assertEquals(3000, pgRx, "nothing lost below capacity:\n" + out);
            }
            for (Map<String, Object> s : Plot.list(j, "streams")) {
                assertEquals(0, (long) Plot.num(s, "lost"), out);
                @SuppressWarnings("unchecked")
                Map<String, Object> lat = (Map<String, Object>) s.get("latency_ns");
                assertEquals(3000, (long) Plot.num(lat, "samples"), "a latency for every frame: " + out);
            }
        } finally {
            try {
                command(cli, "quit");
                cli.close();
            } catch (java.io.IOException ignored) {
                // gone
            }
            if (!tp.waitFor(10, TimeUnit.SECONDS)) {
                tp.destroyForcibly().waitFor();
            }
        }
    }

    private static void command(OutputStream cli, String c) throws java.io.IOException {
        cli.write((c + "\n").getBytes(StandardCharsets.UTF_8));
        cli.flush();
    }

    /** The counter {@code name} in testpmd's "NIC statistics for port p" block. */
    static long testpmdCount(String stats, int port, String name) {
        int at = stats.lastIndexOf("NIC statistics for port " + port);
        assertTrue(at >= 0, "no statistics of port " + port + " in:\n" + stats);
        Matcher m = Pattern.compile(Pattern.quote(name) + ":\\s+(\\d+)").matcher(stats.substring(at));
        assertTrue(m.find(), "no " + name + " for port " + port + " in:\n" + stats);
        return Long.parseLong(m.group(1));
    }
}
