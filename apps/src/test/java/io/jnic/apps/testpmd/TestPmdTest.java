package io.jnic.apps.testpmd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.l2fwdmp.L2fwdMp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** testpmd as users run it: child JVMs fed commands through stdin, on simulated ports. */
class TestPmdTest {
    private static final Pattern PORT_BLOCK = Pattern.compile("Forward statistics for port (\\d+)");
    private static final Pattern RX = Pattern.compile("RX-packets: (\\d+)\\s+RX-dropped: (\\d+)");
    private static final Pattern TX = Pattern.compile("TX-packets: (\\d+)\\s+TX-dropped: (\\d+)");
    private static final Pattern STREAM = Pattern.compile(
            "Forward Stats for RX Port= *(\\d+)/Queue= *(\\d+) -> TX Port= *(\\d+)/Queue= *(\\d+)");
    private static final Pattern STREAM_COUNTS = Pattern.compile("RX-packets: (\\d+)\\s+TX-packets: (\\d+)\\s+TX-dropped: (\\d+)");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static String prefix(String what) {
        return "tp" + what + ProcessHandle.current().pid();
    }

    /** A testpmd child with its stdin for commands. */
    private static final class Pmd implements AutoCloseable {
        final AppProcess p;
        final PrintStream in;

        Pmd(String... args) throws Exception {
            p = AppProcess.start(TestPmd.class, base, args);
            in = new PrintStream(p.process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        /** Types {@code line} and waits for the prompt's echo of it; returns the index of that line in the output. */
        int cmd(String line) throws InterruptedException {
            in.println(line);
            await("testpmd> " + line);
            return p.seen.size() - 1;
        }

        String await(String s) throws InterruptedException {
            try {
                return p.await(s);
            } catch (AssertionError e) {
                p.process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                throw new AssertionError((p.process.isAlive() ? "(still running) " : "(exit code "
                        + p.process.exitValue() + ") ") + e.getMessage(), e);
            }
        }

        /** Output from line {@code from} on. */
        List<String> since(int from) {
            return p.seen.subList(from, p.seen.size());
        }

        @Override
        public void close() throws InterruptedException {
            p.close();
        }
    }

    /** Per port of a "stop" (or show fwd stats) block: {rx, rx-dropped, tx, tx-dropped}. */
    private static Map<Integer, long[]> portStats(List<String> lines) {
        Map<Integer, long[]> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher b = PORT_BLOCK.matcher(lines.get(i));
            if (b.find()) {
                Matcher r = RX.matcher(lines.get(i + 1));
                int t = lines.get(i + 2).contains("TX-packets") ? i + 2 : i + 4; // RX-error lines may come between
                Matcher x = TX.matcher(lines.get(t));
                assertTrue(r.find() && x.find(), String.join("\n", lines));
                m.put(Integer.parseInt(b.group(1)), new long[] {Long.parseLong(r.group(1)), Long.parseLong(r.group(2)),
                    Long.parseLong(x.group(1)), Long.parseLong(x.group(2))});
            }
        }
        return m;
    }

    /** Per-stream blocks: "rxport/rxq->txport/txq" to {rx, tx, dropped}. */
    private static Map<String, long[]> streamStats(List<String> lines) {
        Map<String, long[]> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher s = STREAM.matcher(lines.get(i));
            if (s.find()) {
                Matcher c = STREAM_COUNTS.matcher(lines.get(i + 1));
                assertTrue(c.find(), lines.get(i + 1));
                m.put(s.group(1) + "/" + s.group(2) + "->" + s.group(3) + "/" + s.group(4), new long[] {
                    Long.parseLong(c.group(1)), Long.parseLong(c.group(2)), Long.parseLong(c.group(3))});
            }
        }
        return m;
    }

    private static Map<Integer, long[]> stop(Pmd t) throws InterruptedException {
        int from = t.cmd("stop");
        t.await("Accumulated forward statistics");
        t.await("Done.");
        Map<Integer, long[]> s = portStats(t.since(from));
        assertEquals(2, s.size(), String.join("\n", t.since(from)));
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // Every mode, byte for byte, against a peer on the other end of the cables

    private static byte[] frame(int seq, long dst, long src) {
        byte[] f = new byte[80];
        UdpFrames.putMac(f, 0, dst);
        UdpFrames.putMac(f, 6, src);
        UdpFrames.put16(f, 12, 0x88B5); // local experimental ethertype: not IP, so nothing rewrites it
        UdpFrames.put32(f, 14, seq);
        for (int i = 18; i < f.length; i++) {
            f[i] = (byte) (i * 7 + seq);
        }
        return f;
    }

    private static List<byte[]> frames(int n, int salt) {
        List<byte[]> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(frame(salt + i, 0x02_11_22_33_44_55L, 0x02_66_77_88_99_00L + i));
        }
        return l;
    }

    private static long macAt(byte[] f, int off) {
        long v = 0;
        for (int i = 0; i < 6; i++) {
            v = v << 8 | (f[off + i] & 0xFF);
        }
        return v;
    }

    private static int u16(byte[] f, int off) {
        return (f[off] & 0xFF) << 8 | (f[off + 1] & 0xFF);
    }

    private static int u32(byte[] f, int off) {
        return u16(f, off) << 16 | u16(f, off + 2);
    }

    /** Checks a generated UDP/IPv4 frame: lengths, protocol and both checksums (RFC 791, RFC 768). */
    private static void assertValidUdp(byte[] f, int length, long dstMac, long srcMac) {
        assertEquals(length, f.length, "frame length");
        assertEquals(dstMac, macAt(f, 0), "destination MAC");
        assertEquals(srcMac, macAt(f, 6), "source MAC");
        assertEquals(0x0800, u16(f, 12), "ethertype IPv4");
        assertEquals(0x45, f[14] & 0xFF, "IPv4, 20-byte header");
        assertEquals(length - 14, u16(f, 16), "IPv4 total length");
        assertEquals(17, f[23], "protocol UDP");
        assertEquals(0xFFFF, UdpFrames.sum(f, 14, 20), "IPv4 header checksum");
        int udpLen = u16(f, 38);
        assertEquals(length - 34, udpLen, "UDP length");
        assertNotEquals(0, u16(f, 40), "UDP checksum present");
        long pseudo = UdpFrames.sum(f, 26, 8) + 17 + udpLen + UdpFrames.sum(f, 34, udpLen);
        assertEquals(0xFFFF, UdpFrames.fold(pseudo), "UDP checksum");
    }

    @Test
    void everyModeForwardsExactlyWhatItShouldBetweenCabledPorts() throws Exception {
        Path dir = base.resolve("cabled");
        java.nio.file.Files.createDirectories(dir);
        try (WirePeer peer = new WirePeer(dir, prefix("peer"))) {
            // rings longer than a test's 200 frames: nothing can be lost however late the forwarding thread runs
            List<String> args = new ArrayList<>(List.of("--no-huge", "--file-prefix", prefix("cabled"), "--", "-i", "--rxd",
                    "1024", "--txd", "1024"));
            args.addAll(peer.testpmdPorts());
            try (Pmd t = new Pmd(args.toArray(String[]::new))) {
                t.await("Checking link statuses");
                long port1Mac = WirePeer.mac(3);
                long port0Mac = WirePeer.mac(1);
                int salt = 0;
                for (String mode : List.of("io", "mac", "macswap", "rxonly")) {
                    t.cmd("set fwd " + mode);
                    t.await("Set " + mode + " packet forwarding mode");
                    t.cmd("start");
                    t.await("nb forwarding ports=2");
                    List<byte[]> sent = frames(200, salt += 1000);
                    peer.send(peer.a, sent);
                    List<byte[]> got = mode.equals("rxonly") ? peer.receive(peer.b, 0, Duration.ofSeconds(1))
                            : peer.receive(peer.b, sent.size(), null);
                    Map<Integer, long[]> s = stop(t);
                    assertEquals(200, s.get(0)[0], mode + ": testpmd's port 0 received what the peer sent");
                    assertEquals(0, s.get(1)[0], mode + ": nothing arrives on port 1");
                    if (mode.equals("rxonly")) {
                        assertEquals(0, got.size(), "rxonly sends nothing");
                        assertEquals(0, s.get(1)[2]);
                        continue;
                    }
                    assertEquals(200, got.size(), mode + ": the peer received every frame");
                    assertEquals(200, s.get(1)[2], mode + ": port 1 sent them");
                    assertEquals(0, s.get(0)[2], mode + ": port 0 sent nothing");
                    for (int i = 0; i < sent.size(); i++) {
                        byte[] in = sent.get(i);
                        byte[] out = got.get(i);
                        assertEquals(in.length, out.length);
                        assertTrue(Arrays.equals(in, 12, in.length, out, 12, out.length), mode + ": the payload is untouched");
                        switch (mode) {
                            case "io" -> assertTrue(Arrays.equals(in, out), "io forwards frames unchanged");
                            case "mac" -> {
                                assertEquals(0x02_00_00_00_00_01L, macAt(out, 0), "mac: destination = port 1's peer");
                                assertEquals(port1Mac, macAt(out, 6), "mac: source = port 1's address");
                            }
                            default -> {
                                assertEquals(macAt(in, 6), macAt(out, 0), "macswap: destination = the old source");
                                assertEquals(macAt(in, 0), macAt(out, 6), "macswap: source = the old destination");
                            }
                        }
                    }
                }
                // txonly: both ports send UDP/IPv4 frames to their peers; nothing is received
                t.cmd("set fwd txonly");
                t.cmd("start");
                t.await("nb forwarding ports=2");
                List<byte[]> fromPort1 = peer.receive(peer.b, 100, null);
                List<byte[]> fromPort0 = peer.receive(peer.a, 100, null);
                Map<Integer, long[]> s = stop(t);
                assertTrue(s.get(0)[2] >= 100 && s.get(1)[2] >= 100, "txonly sent on both ports");
                for (byte[] f : fromPort1) {
                    assertValidUdp(f, 64, 0x02_00_00_00_00_01L, port1Mac);
                    assertEquals(UdpFrames.parseIp("198.18.0.1"), u32(f, 26));
                    assertEquals(UdpFrames.parseIp("198.18.0.2"), u32(f, 30));
                    assertEquals(9, u16(f, 34));
                    assertEquals(9, u16(f, 36));
                }
                for (byte[] f : fromPort0) {
                    assertValidUdp(f, 64, 0x02_00_00_00_00_00L, port0Mac);
                }
                peer.receive(peer.a, 0, Duration.ofMillis(500));
                peer.receive(peer.b, 0, Duration.ofMillis(500));
                // flowgen with a longer frame: flows differ in the destination address, every checksum holds
                t.cmd("set fwd flowgen");
                t.cmd("start");
                t.await("nb forwarding ports=2");
                List<byte[]> flows = peer.receive(peer.b, 300, null);
                stop(t);
                Set<Integer> dsts = new HashSet<>();
                for (byte[] f : flows) {
                    assertValidUdp(f, 64, 0x02_00_00_00_00_01L, port1Mac);
                    assertEquals(FwdLcore.FLOWGEN_IP_SRC, u32(f, 26));
                    assertEquals(FwdLcore.FLOWGEN_IP_DST, u32(f, 30) & 0xFFFF_0000, "10.253.x.x");
                    assertEquals(1000, u16(f, 34));
                    assertEquals(1001, u16(f, 36));
                    dsts.add(u32(f, 30));
                }
                assertTrue(dsts.size() >= 100, "flowgen varies the flows: " + dsts.size() + " destinations in 300 frames");
                t.cmd("quit");
                t.await("Bye...");
                assertEquals(0, t.p.exit(), t.p.output());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The prompt on the default simulated ports

    @Test
    void thePromptTakesCommandsAnswersBadOnesAndEveryModeMovesTraffic() throws Exception {
        try (Pmd t = new Pmd("--no-huge", "--file-prefix", prefix("prompt"), "--", "-i", "--devsim-rate", "20000",
                "--rxd", "512")) {
            t.await("2 simulated 82599 ports");
            t.await("Interactive-mode selected");
            t.await("Port 1: 02:6A:6E:00:00:01");
            t.cmd("show port info 0");
            t.await("Driver name: net_ixgbe");
            t.await("Link status: up");
            t.cmd("show config fwd");
            t.await("io packet forwarding - ports=2 - cores=1 - streams=2");
            t.await("RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=02:00:00:00:00:01");
            t.cmd("stop");
            t.await("Packet forwarding not started");
            t.cmd("foo bar");
            t.await("Command not found");
            t.cmd("show port info 7");
            t.await("Invalid port 7");
            t.await("The valid ports array is [ 0 1 ]");
            t.cmd("set fwd bogus");
            t.await("Bad arguments");
            t.cmd("set burst 600");
            t.await("nb pkt per burst must be >= 1 and <= 512");
            t.cmd("set burst 16");
            t.await("Number of packets per burst set to 16");
            for (FwdMode m : FwdMode.values()) {
                t.cmd("set fwd " + m.label());
                t.await("Set " + m.label() + " packet forwarding mode");
                t.cmd("start");
                t.await(m.label() + " packet forwarding packets/burst=16");
                t.cmd("start");
                t.await("Packet forwarding already started");
                Thread.sleep(1500);
                Map<Integer, long[]> s = stop(t);
                for (int p = 0; p < 2; p++) {
                    long rx = s.get(p)[0];
                    long tx = s.get(p)[2];
                    switch (m) {
                        case RXONLY -> {
                            assertTrue(rx > 0, m + ": port " + p + " received");
                            assertEquals(0, tx, m + ": port " + p + " sent nothing");
                        }
                        case TXONLY -> assertTrue(tx > 0, m + ": port " + p + " sent");
                        default -> assertTrue(rx > 0 && tx > 0, m + ": port " + p + " received and sent: " + rx + "/" + tx);
                    }
                }
            }
            int from = t.cmd("show port stats all");
            t.await("NIC statistics for port 1");
            t.await("Tx-pps:");
            assertTrue(t.since(from).stream().anyMatch(l -> l.contains("NIC statistics for port 0")));
            t.cmd("show port xstats 0");
            t.await("rx_good_packets: ");
            t.cmd("clear port stats all");
            t.await("NIC statistics for port 1 cleared");
            t.cmd("set promisc all off");
            t.cmd("show port info 1");
            t.await("Promiscuous mode: disabled");
            t.cmd("set promisc all on");
            t.cmd("port stop all");
            t.await("Stopping ports...");
            t.cmd("start");
            t.await("Not all ports were started");
            t.cmd("port start all");
            t.await("Port 0: 02:6A:6E:00:00:00");
            t.cmd("start tx_first");
            t.await("nb forwarding ports=2");
            t.cmd("port stop 0");
            t.await("Please stop forwarding first");
            t.cmd("show fwd stats all");
            t.await("Accumulated forward statistics");
            t.cmd("quit"); // stops forwarding first, with the statistics
            t.await("Accumulated forward statistics");
            t.await("Port 1 is closed");
            t.await("Bye...");
            assertEquals(0, t.p.exit(), t.p.output());
            assertTrue(!t.p.output().contains("bytes on its forwarding path"), "every engine runs without allocating: "
                    + t.p.output());
        }
    }

    @Test
    void portControlCommandsReachTheDriverAndPrintItsRefusals() throws Exception {
        try (Pmd t = new Pmd("--no-huge", "--file-prefix", prefix("ctl"), "--", "-i", "--rxq", "2", "--txq", "2")) {
            t.await("Interactive-mode selected");
            t.await("Port 1: 02:6A:6E:00:00:01");
            t.cmd("set allmulti 0 on");
            t.cmd("show port info 0");
            t.await("Allmulticast mode: enabled");
            t.cmd("set allmulti 0 off");
            t.cmd("show port info 0");
            t.await("Allmulticast mode: disabled");
            t.cmd("flow create 0 ingress pattern eth type is 0x88f7 / end actions queue index 1 / end");
            t.await("Flow rule #0 created");
            t.cmd("flow create 0 priority 3 ingress pattern ipv4 dst is 10.0.0.2 / udp dst is 4789 / end "
                    + "actions queue index 0 / end");
            t.await("Flow rule #8 created");
            t.cmd("flow list 0");
            t.await("0\t0\tETH type 0x88f7 => QUEUE 1");
            t.await("8\t3\tIPV4 dst 10.0.0.2 UDP dport 4789 => QUEUE 0");
            t.cmd("flow create 0 ingress pattern ipv4 src is 10.0.0.1 / end actions drop / end");
            t.await("Flow rule #9 created");
            t.cmd("flow list 0");
            t.await("9\t0\tIPV4 src 10.0.0.1 => DROP");
            t.cmd("flow create 0 ingress pattern eth type is 0x0800 / end actions queue index 0 / end");
            t.await("flow create failed: ");
            t.cmd("flow create 0 ingress pattern eth type is 0x88b6 / end actions queue index 9 / end");
            t.await("only 2 are configured");
            t.cmd("flow create 0 ingress pattern vxlan / end actions queue index 0 / end");
            t.await("pattern item 'vxlan' is not supported");
            t.cmd("flow destroy 0 rule 0");
            t.await("Flow rule #0 destroyed");
            t.cmd("flow destroy 0 rule 0");
            t.await("no flow rule 0 on port 0");
            t.cmd("mac_addr add 0 02:11:22:33:44:55");
            t.cmd("mac_addr remove 0 02:11:22:33:44:66");
            t.await("was not added with macAddrAdd");
            t.cmd("rx_vlan add 5 0");
            t.await("VLAN_FILTER");
            t.cmd("set flow_ctrl rx on tx off 0");
            t.cmd("set flow_ctrl rx maybe tx off 0");
            t.await("Bad arguments (simplified: set flow_ctrl rx on|off tx on|off <port>)");
            // per-queue offloads, on a stopped port; the port starts again with them
            t.cmd("port 0 rxq 1 rx_offload vlan_strip on");
            t.await("Error: port 0 must be stopped first (port stop 0)");
            t.cmd("port stop 0");
            t.cmd("port 0 rxq 1 rx_offload vlan_strip on");
            t.await("Port 0 RX queue 1 offloads: [VLAN_STRIP]");
            t.cmd("port 0 txq 0 tx_offload tcp_cksum on");
            t.await("Port 0 TX queue 0 offloads: [TCP_CKSUM]");
            t.cmd("port 0 rxq 1 rx_offload ipv4_cksum on");
            t.await("offload IPV4_CKSUM is port-wide on net_ixgbe");
            t.cmd("port 0 rxq 1 rx_offload bogus on");
            t.await("unknown offload 'bogus' (known: vlan_strip,");
            t.cmd("port 0 rxq 1 rx_offload vlan_strip off");
            t.await("Port 0 RX queue 1 offloads: []");
            t.cmd("port start 0");
            t.await("Port 0: 02:6A:6E:00:00:00");
            t.cmd("quit");
            t.await("Bye...");
            assertEquals(0, t.p.exit(), t.p.output());
        }
    }

    @Test
    void withoutThePromptItForwardsForTheDurationPrintingStatistics() throws Exception {
        try (Pmd t = new Pmd("--no-huge", "--file-prefix", prefix("batch"), "-l", "0-1", "--", "--auto-start",
                "--forward-mode=macswap", "--stats-period", "1", "--duration", "3", "--devsim-rate", "20000",
                "--rxq", "2", "--txq", "2")) {
            t.await("macswap packet forwarding - ports=2 - cores=1 - streams=4");
            t.await("Logical Core 1 (socket 0) forwards packets on 4 streams:");
            t.await("Port statistics ====");
            t.await("NIC statistics for port 1");
            t.await("Telling cores to stop");
            int from = t.p.seen.size();
            t.await("Bye...");
            assertEquals(0, t.p.exit(), t.p.output());
            Map<String, long[]> streams = streamStats(t.since(from - 1));
            assertEquals(4, streams.size(), t.p.output());
            for (Map.Entry<String, long[]> e : streams.entrySet()) {
                long[] c = e.getValue();
                assertTrue(c[0] > 0, "stream " + e.getKey() + " received (RSS spreads the flows)");
                assertEquals(c[0], c[1] + c[2], "stream " + e.getKey() + ": received = sent + dropped");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Secondaries

    @Test
    void aSecondaryTakesItsQueuePairsOfATestpmdPrimary() throws Exception {
        String prefix = prefix("group");
        try (Pmd primary = new Pmd("--no-huge", "--file-prefix", prefix, "--", "-i", "--num-procs", "2", "--rxq", "2",
                "--txq", "2", "--devsim-rate", "20000", "--rxd", "512")) {
            primary.await("Checking link statuses");
            primary.cmd("show config fwd");
            primary.await("RX P=1/Q=0 (socket 0) -> TX P=0/Q=0");
            try (Pmd second = new Pmd("--proc-type", "secondary", "--file-prefix", prefix, "--", "-i", "--num-procs", "2",
                    "--proc-id", "1", "--forward-mode", "mac")) {
                second.await("Port 1: 02:6A:6E:00:00:01 (queue pairs 1..1 of 2 attached)");
                second.cmd("port stop all");
                second.await("Operation not supported in a secondary process");
                second.cmd("show port stats all"); // from the primary, over IPC
                second.await("NIC statistics for port 1");
                second.await("Tx-pps:");
                second.cmd("show port info 0");
                second.await("Promiscuous mode: set by the primary");
                second.await("Queues of this process: 1..1");
                second.cmd("show config fwd");
                second.await("RX P=0/Q=1 (socket 0) -> TX P=1/Q=1");
                second.cmd("start");
                second.await("nb forwarding ports=2");
                Thread.sleep(1500);
                int from = second.cmd("stop");
                second.await("Accumulated forward statistics");
                Map<String, long[]> st = streamStats(second.since(from));
                assertEquals(2, st.size(), String.join("\n", second.since(from)));
                for (String k : List.of("0/1->1/1", "1/1->0/1")) {
                    long[] c = st.get(k);
                    assertTrue(c[0] > 0 && c[1] > 0, "the secondary forwarded on queue 1: " + k + " " + Arrays.toString(c));
                    assertEquals(c[0], c[1] + c[2], k);
                }
                second.cmd("quit");
                second.await("Bye...");
                assertEquals(0, second.p.exit(), second.p.output());
            }
            primary.await("left");
            primary.cmd("quit");
            primary.await("Bye...");
            assertEquals(0, primary.p.exit(), primary.p.output());
        }
    }

    @Test
    void aSecondaryJoinsAnL2fwdMpPrimaryAndStopsWithIt() throws Exception {
        String prefix = prefix("l2mp");
        try (AppProcess primary = AppProcess.start(L2fwdMp.class, base, "--no-huge", "--file-prefix", prefix, "--",
                "--num-procs", "2", "--devsim-rate", "20000", "-T", "0")) {
            primary.await("port 1:");
            try (Pmd second = new Pmd("--proc-type", "secondary", "--file-prefix", prefix, "--", "--num-procs", "2",
                    "--proc-id", "1", "--forward-mode", "io")) {
                second.await("queue pairs 1..1 of 2 attached");
                second.await("Press enter to exit");
                Thread.sleep(2000);
                primary.process.destroy(); // SIGTERM: l2fwd-mp ends its group
                second.await("the primary asks this process to stop");
                int from = second.p.seen.size();
                second.await("Bye...");
                assertEquals(0, second.p.exit(), second.p.output());
                Map<String, long[]> st = streamStats(second.since(from));
                long[] c = st.get("0/1->1/1");
                assertTrue(c != null && c[0] > 0 && c[1] > 0, "forwarded on queue 1 of the l2fwd-mp ports: "
                        + second.p.output());
                assertTrue(List.of(0, 143).contains(primary.exit()), primary.output());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Options

    private static String runInProcess(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = TestPmd.run(new ByteArrayInputStream(new byte[0]), ps, ps, args);
        return "rc=" + rc + "\n" + buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void badOptionsAreRefusedWithTheReason() {
        String out = runInProcess("--no-huge", "--", "--forward-mode", "csum");
        assertTrue(out.startsWith("rc=2") && out.contains("--forward-mode takes io, mac, macswap, rxonly, txonly, flowgen; "
                + "got 'csum'"), out);
        out = runInProcess("--no-huge", "-l", "0", "--", "-i");
        assertTrue(out.startsWith("rc=2") && out.contains("leaves testpmd no forwarding lcore"), out);
        out = runInProcess("--no-huge", "--", "--port-topology", "ring");
        assertTrue(out.startsWith("rc=2") && out.contains("--port-topology takes paired, chained or loop"), out);
        out = runInProcess("--no-huge", "--", "--num-procs", "2", "--rxq", "3", "--txq", "3");
        assertTrue(out.startsWith("rc=2") && out.contains("a multiple of it"), out);
        out = runInProcess("--no-huge", "--", "--txpkts", "20");
        assertTrue(out.startsWith("rc=2") && out.contains("--txpkts must be 42-"), out);
        out = runInProcess("--no-huge", "--", "--eth-peer", "0,zz");
        assertTrue(out.startsWith("rc=2") && out.contains("--eth-peer takes N,XX:XX:XX:XX:XX:XX"), out);
    }
}
