package io.jnic.apps.l2fwdmp;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * l2fwd-mp on two virtio_user ports of 2 queue pairs each, whose backend is DPDK's testpmd (two net_vhost ports,
 * io forwarding: what l2fwd-mp sends on one port comes back on the other, on the same queue index). The primary
 * forwards pair 0, a secondary in its own JVM pair 1; testpmd injects the first frames (start tx_first) and they
 * circulate. Skipped without dpdk-testpmd.
 */
class L2fwdMpVirtioTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static Path testpmd() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "dpdk-testpmd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void primaryAndSecondaryForwardTheirQueuePairsOfVirtioUserPorts() throws Exception {
        Path bin = testpmd();
        assumeTrue(bin != null, "dpdk-testpmd not found on PATH: install DPDK (apt-get install -y dpdk dpdk-dev)");
        Path dir = Files.createDirectories(base.resolve("vhost"));
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        String prefix = "mpvirtio" + ProcessHandle.current().pid();
        Process tp = new ProcessBuilder(bin.toString(), "-l", "0-1", "--no-pci", "--no-huge", "-m", "256",
                "--file-prefix=" + prefix + "_tp", "--vdev", "net_vhost0,iface=" + a + ",queues=2", "--vdev",
                "net_vhost1,iface=" + b + ",queues=2", "--", "-i", "--forward-mode=io", "--rxq=2", "--txq=2",
                "--nb-cores=1", "--total-num-mbufs=8192", "--disable-link-check").redirectErrorStream(true)
                .redirectOutput(dir.resolve("testpmd.log").toFile()).start();
        OutputStream cli = tp.getOutputStream();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(a) || !Files.exists(b)) {
                assertTrue(tp.isAlive() && System.nanoTime() < deadline, "testpmd did not create its sockets:\n"
                        + Files.readString(dir.resolve("testpmd.log")));
                Thread.sleep(20);
            }
            Path pj = base.resolve("virtio.json");
            try (AppProcess primary = AppProcess.start(base, "--no-huge", "--file-prefix", prefix, "--vdev",
                    "virtio_user0,path=" + a + ",queues=2", "--vdev", "virtio_user1,path=" + b + ",queues=2", "--",
                    "--num-procs", "2", "--stats-json", pj.toString())) {
                primary.await("port 1:");
                try (AppProcess s1 = AppProcess.start(base, "--proc-type", "secondary", "--file-prefix", prefix, "--",
                        "--num-procs", "2", "--proc-id", "1")) {
                    s1.await("attached queue 1 of port 1");
                    cli.write("start tx_first 8\n".getBytes(StandardCharsets.UTF_8)); // frames on every queue, both ports
                    cli.flush();
                    // until the primary's own row shows traffic (on a loaded machine the first periods may have none)
                    Pattern own = Pattern.compile("^0\\s+\\d+\\s+(\\d+\\.\\d+)");
                    for (int period = 0, seen = primary.seen.size(); period < 60; period++) {
                        primary.await("total");
                        boolean traffic = false;
                        for (String l : primary.seen.subList(seen, primary.seen.size())) {
                            Matcher r = own.matcher(l);
                            traffic |= r.find() && Double.parseDouble(r.group(1)) > 0;
                        }
                        seen = primary.seen.size();
                        if (traffic) {
                            primary.await("total"); // and one period more of both processes forwarding
                            break;
                        }
                    }
                    primary.process.destroy();
                    String done = s1.await("forwarded");
                    Matcher m = Pattern.compile("forwarded (\\d+) packets").matcher(done);
                    assertTrue(m.find() && Long.parseLong(m.group(1)) > 0, "the secondary forwarded on pair 1: " + done);
                    assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
                    assertEquals(0, s1.exit(), s1.output());
                }
            }
            String j = Files.readString(pj);
            for (int proc = 0; proc < 2; proc++) {
                for (int port = 0; port < 2; port++) {
                    assertTrue(Json.port(j, proc, port, "rx") > 0, "proc " + proc + " received on port " + port + ":\n" + j);
                }
            }
            // every frame received was sent on the paired port or counted as dropped
            Matcher t = Pattern.compile("\"total\": \\{\"rx\": (\\d+), \"tx\": (\\d+), \"drops\": (\\d+)").matcher(j);
            assertTrue(t.find(), j);
            assertEquals(Long.parseLong(t.group(1)), Long.parseLong(t.group(2)) + Long.parseLong(t.group(3)), j);
            assertTrue(j.contains("\"clean\": true"), j);
            assertEquals(0, Json.get(j, "in_use"), "every mbuf is back in the pool after the ports stopped\n" + j);
        } finally {
            try {
                cli.write("quit\n".getBytes(StandardCharsets.UTF_8));
                cli.close();
            } catch (IOException ignored) {
                // gone
            }
            if (!tp.waitFor(10, TimeUnit.SECONDS)) {
                tp.destroyForcibly().waitFor();
            }
        }
    }
}
