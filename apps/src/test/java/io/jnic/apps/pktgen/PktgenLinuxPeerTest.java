package io.jnic.apps.pktgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.devsim.Devsim;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linux as the peer: a simulated port on a devsim TAP wire whose interface lives in a network namespace of its
 * own; the kernel's counters ({@code ip -s link}) count exactly the frames pktgen says it sent. Skipped without
 * root, /dev/net/tun or iproute2.
 */
class PktgenLinuxPeerTest {
    @TempDir
    Path dir;

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    static long kernelRxPackets(String ns, String ifname) throws Exception {
        String j = run("ip", "netns", "exec", ns, "ip", "-j", "-s", "link", "show", "dev", ifname);
        Matcher m = Pattern.compile("\"rx\":\\{\"bytes\":\\d+,\"packets\":(\\d+)").matcher(j);
        if (!m.find()) {
            throw new AssertionError("no RX counters in: " + j);
        }
        return Long.parseLong(m.group(1));
    }

    @Test
    void theKernelCountsWhatPktgenSent() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "TAP interfaces and namespaces need root");
        assumeTrue(Files.exists(Path.of("/dev/net/tun")), "no /dev/net/tun: modprobe tun");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
                || Files.isExecutable(Path.of("/usr/bin/ip")), "no ip command: apt-get install -y iproute2");
        long id = ProcessHandle.current().pid() % 100000;
        String ifname = "jpg" + id;
        String ns = "jnicpg" + id;
        run("ip", "netns", "add", ns);
        try (Devsim sim = Devsim.start(new Devsim.Config(1, List.of("tap:" + ifname), new byte[] {2, 0x6a, 0x6e, 0x20, 0, 0},
                0, 64, 1, -1, 0, 0))) {
            run("ip", "link", "set", "dev", ifname, "netns", ns);
            run("ip", "netns", "exec", ns, "ip", "link", "set", "dev", ifname, "up");
            run("ip", "netns", "exec", ns, "ip", "addr", "add", "10.1.0.1/16", "dev", ifname);
            long before = kernelRxPackets(ns, ifname);
            Path sockets = Files.createDirectories(dir.resolve("sockets"));
            List<String> args = new ArrayList<>(List.of("--no-huge", "--file-prefix", "pgtap" + id, "--"));
            for (Path p : sim.serveVfioUser(sockets)) {
                args.addAll(List.of("--vfio-user", p.toString()));
            }
            args.addAll(List.of("--rate", "10kpps", "--count", "2000", "--size", "64-1518/101", "-T", "0", "--quiet-ms",
                    "300", "--json", dir.resolve("tap.json").toString()));
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
            int rc = Pktgen.run(ps, ps, args.toArray(String[]::new));
            String out = buf.toString(StandardCharsets.UTF_8);
            assertEquals(0, rc, out);
            Matcher m = Pattern.compile("port0_tx=(\\d+)").matcher(out);
            assertEquals(true, m.find(), out);
            assertEquals(2000, Long.parseLong(m.group(1)), out);
            long deadline = System.nanoTime() + 5_000_000_000L;
            long got = kernelRxPackets(ns, ifname) - before;
            while (got < 2000 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                got = kernelRxPackets(ns, ifname) - before;
            }
            assertEquals(2000, got, "the kernel's RX counter of " + ifname + " in namespace " + ns + " (ip -s link)");
        } finally {
            run("ip", "netns", "delete", ns);
        }
    }
}
