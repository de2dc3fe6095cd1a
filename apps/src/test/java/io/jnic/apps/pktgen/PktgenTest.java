package io.jnic.apps.pktgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.Devsim;
import io.jnic.devsim.wire.CableWire;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pktgen on simulated 82599 ports whose wires are one devsim cable (port 0 is end A, port 1 end B), so what
 * port 0 sends port 1 receives and the cable's faults are known exactly: the meter must balance against them.
 * Rings of 4096 descriptors hold every frame of a run, so nothing but an injected fault can lose one, however
 * slowly a loaded machine runs the threads.
 */
class PktgenTest {
    @TempDir
    Path dir;

    private final Map<Devsim, List<Path>> served = new java.util.HashMap<>();

    private static final byte[] MAC = {0x02, 0x6a, 0x6e, 0x10, 0, 0};

    record Run(int rc, String output, Map<String, Object> json) {
        Map<String, Object> stream(int txPort) {
            for (Map<String, Object> s : Plot.list(json, "streams")) {
                if ((int) Plot.num(s, "tx_port") == txPort) {
                    return s;
                }
            }
            throw new AssertionError("no stream of port " + txPort + " in " + json);
        }

        long get(int txPort, String key) {
            return (long) Plot.num(stream(txPort), key);
        }
    }

    private Devsim cabled(String name) {
        String wire = "cable:" + dir.resolve(name);
        Devsim d = Devsim.start(new Devsim.Config(2, List.of(wire, wire), MAC, 0, 64, 1, -1, 0, 0));
        return d;
    }

    private Run pktgen(Devsim sim, String prefix, String... extra) throws Exception {
        Path sockets = Files.createDirectories(dir.resolve(prefix + "-sockets"));
        List<String> args = new ArrayList<>(List.of("--no-huge", "--file-prefix", "pktgen-test-" + prefix + "-"
                + ProcessHandle.current().pid(), "--"));
        if (sim != null) {
            for (Path p : served.computeIfAbsent(sim, d -> d.serveVfioUser(sockets))) {
                args.add("--vfio-user");
                args.add(p.toString());
            }
        }
        Path json = dir.resolve(prefix + ".json");
        args.addAll(List.of("--ring", "4096", "-T", "0", "--json", json.toString(), "--quiet-ms", "500",
                "--drain-ms", "20000"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = Pktgen.run(ps, ps, args.toArray(String[]::new));
        String out = buf.toString(StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        Map<String, Object> j = rc == 0 && Files.exists(json) ? (Map<String, Object>) MiniJson.parse(Files.readString(json))
                : Map.of();
        return new Run(rc, out, j);
    }

    @Test
    void countsBalanceOnACableWithoutFaults() throws Exception {
        try (Devsim sim = cabled("clean")) {
            Run r = pktgen(sim, "clean", "--rate", "20kpps", "--count", "3000", "--size", "64-1518/97", "--flows", "32");
            assertEquals(0, r.rc(), r.output());
            for (int p = 0; p < 2; p++) {
                assertEquals(3000, r.get(p, "sent"), r.output());
                assertEquals(3000, r.get(p, "received"), r.output());
                assertEquals(0, r.get(p, "lost"), r.output());
                assertEquals(0, r.get(p, "duplicates") + r.get(p, "reordered"), r.output());
                @SuppressWarnings("unchecked")
                Map<String, Object> lat = (Map<String, Object>) r.stream(p).get("latency_ns");
                assertEquals(3000, (long) Plot.num(lat, "samples"));
            }
            // the port counters agree: what port 0 sent is what the hardware of port 1 received
            Map<String, Object> port1 = Plot.list(r.json(), "ports").get(1);
            assertEquals(3000, (long) Plot.num(port1, "rx_frames"));
            assertEquals(3000, (long) Plot.num(port1, "hw_ipackets"));
            CableWire c = (CableWire) sim.wire(0);
            assertEquals(3000, c.sent());
        }
    }

    @Test
    void measuredLossIsTheInjectedLoss() throws Exception {
        try (Devsim sim = cabled("drop")) {
            assertTrue(sim.command("cable 0 drop 0.05").startsWith("ok"));
            Run r = pktgen(sim, "drop", "--rate", "20kpps", "--count", "8000", "--tx-ports", "0");
            assertEquals(0, r.rc(), r.output());
            CableWire c = (CableWire) sim.wire(0);
            long lost = r.get(0, "lost");
            assertEquals(8000, r.get(0, "sent"));
            assertEquals(c.dropped(), lost, "every frame the cable dropped, and only those, is lost: " + r.output());
            // binomial(8000, 0.05): mean 400, sd 19.5; 6 sd either side
            assertTrue(Math.abs(lost - 400) < 117, "lost " + lost + " of 8000 at p = 0.05");
            assertEquals(0, r.get(1, "sent"), "port 1 did not transmit");
        }
    }

    @Test
    void duplicatesAndReorderingAreDetected() throws Exception {
        try (Devsim sim = cabled("dup")) {
            assertTrue(sim.command("cable 0 dup 0.02").startsWith("ok"));
            assertTrue(sim.command("cable 0 reorder 0.02").startsWith("ok"));
            Run r = pktgen(sim, "dup", "--rate", "20kpps", "--count", "5000", "--tx-ports", "0");
            assertEquals(0, r.rc(), r.output());
            CableWire c = (CableWire) sim.wire(0);
            assertTrue(c.duplicated() > 0 && c.reordered() > 0, c.describe());
            assertEquals(5000, r.get(0, "received"), "duplicates are not counted as frames received: " + r.output());
            assertEquals(0, r.get(0, "lost"));
            assertEquals(c.duplicated(), r.get(0, "duplicates"), r.output());
            assertEquals(c.reordered(), r.get(0, "reordered"), r.output());
        }
    }

    @Test
    void latencyOfADelayedCableIsCentredOnItsDelay() throws Exception {
        try (Devsim sim = cabled("delay")) {
            Run base = pktgen(sim, "nodelay", "--rate", "1kpps", "--count", "1000", "--tx-ports", "0");
            assertEquals(0, base.rc(), base.output());
            double baseP50 = latency(base, "p50");
            double baseP99 = latency(base, "p99");
            assertTrue(sim.command("cable 0 delay 100000").startsWith("ok")); // 100 ms
            Run r = pktgen(sim, "delay", "--rate", "1kpps", "--count", "1000", "--tx-ports", "0");
            assertEquals(0, r.rc(), r.output());
            double min = latency(r, "min");
            double p50 = latency(r, "p50");
            String why = "100 ms cable: min " + min / 1e6 + " ms, p50 " + p50 / 1e6 + " ms; without delay p50 "
                    + baseP50 / 1e6 + " ms, p99 " + baseP99 / 1e6 + " ms";
            // no frame is faster than the cable, and the distribution moves by the delay: the median less the delay
            // lies within what the same path adds without it (a loaded 2-core machine adds tens of ms of scheduling
            // to both, so the upper side is loose)
            assertTrue(min >= 100e6 * 0.999, why);
            assertTrue(p50 >= 100e6, why);
            assertTrue(p50 - 100e6 <= 2 * baseP99 + 50e6, why);
            assertEquals(0, r.get(0, "lost"));
        }
    }

    /**
     * --hw-latency on a cable of known delay: the ports' IEEE 1588 clocks stamp the probes as they leave and arrive,
     * so every sample is the cable's delay exactly (the model's clocks tick on one 6.4 ns grid) up to the clock
     * offset pktgen measured between the two ports, whose uncertainty it reports. Software latency on the same
     * path spreads over the polling and scheduling of both ends; these samples may not.
     */
    @Test
    void hardwareTimestampsMeasureTheCableDelay() throws Exception {
        try (Devsim sim = cabled("hwts")) {
            assertTrue(sim.command("cable 0 delay 1000").startsWith("ok")); // 1 ms
            Run r = pktgen(sim, "hwts", "--rate", "1kpps", "--duration", "2", "--tx-ports", "0", "--hw-latency");
            assertEquals(0, r.rc(), r.output());
            @SuppressWarnings("unchecked")
            Map<String, Object> hw = (Map<String, Object>) r.stream(0).get("hw_latency_ns");
            double n = Plot.num(hw, "samples");
            double min = Plot.num(hw, "min");
            double p50 = Plot.num(hw, "p50");
            double max = Plot.num(hw, "max");
            double u = Plot.num(r.stream(0), "hw_offset_uncertainty_ns");
            String why = "1 ms cable: " + hw + ", offset uncertainty " + u + " ns; software: " + r.stream(0).get("latency_ns");
            System.out.println("hw latency: " + why);
            assertTrue(n >= 50, "a probe every 10 ms for 2 s: " + why);
            // the histogram keeps 3 significant digits: 1 us at 1 ms
            assertTrue(Math.abs(p50 - 1e6) <= u + 2000, why);
            assertTrue(max - min <= 2000, "every sample the same delay: " + why);
            assertEquals(0, r.get(0, "lost"), "the probes are not counted as traffic: " + why);
        }
    }

    @Test
    void hwLatencyNeedsPortsWithTimestamps() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int rc = Pktgen.run(ps, ps, "--no-huge", "--file-prefix", "pktgen-test-nullhw-" + ProcessHandle.current().pid(),
                "--vdev", "net_null0", "--vdev", "net_null1", "--", "--duration", "0.1", "--hw-latency");
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(rc != 0, out);
        assertTrue(out.contains("port 0 (net_null) has no IEEE 1588 timestamps; run without --hw-latency"), out);
    }

    @SuppressWarnings("unchecked")
    private static double latency(Run r, String key) {
        return Plot.num((Map<String, Object>) r.stream(0).get("latency_ns"), key);
    }

    @Test
    void badInputGetsAClearError() throws Exception {
        Run r = pktgen(null, "bad1", "--rate", "20mpps", "--duration", "1");
        assertEquals(1, r.rc(), r.output());
        assertTrue(r.output().contains("rate 20mpps (20000000 pps of 64-byte frames) is above port 0's line rate: "
                + "14880952 pps at 10000 Mbit/s"), r.output());
        r = pktgen(null, "bad2", "--size", "63", "--duration", "1");
        assertEquals(2, r.rc(), r.output());
        assertTrue(r.output().contains("frame size 63 is below the Ethernet minimum of 64"), r.output());
        r = pktgen(null, "bad3", "--size", "1600", "--duration", "1");
        assertEquals(1, r.rc(), r.output());
        assertTrue(r.output().contains("frame size 1600 is above port 0's MTU 1500 (frames up to 1518 bytes); for "
                + "jumbo frames start pktgen with --mtu"), r.output());
        r = pktgen(null, "bad4", "--tx-ports", "5", "--duration", "1");
        assertEquals(1, r.rc(), r.output());
        assertTrue(r.output().contains("no port 5: this pktgen has ports 0-1"), r.output());
        r = pktgen(null, "bad5", "--rate", "fast", "--duration", "1");
        assertEquals(2, r.rc(), r.output());
        assertTrue(r.output().contains("rate 'fast' is not one of"), r.output());
    }

    @Test
    void theConsoleTakesPktgenDpdksVerbs() throws Exception {
        try (Devsim sim = cabled("console")) {
            String script = String.join("\n", "set 0 rate 200%", "set 5 rate 1kpps", "set 0 size 2000", "set 0 proto tcp",
                    "set 0 rate 20kpps", "set 0 count 700", "set 0 size 128", "set 0 vlan 12",
                    "set 0 range dst-ip 10.7.0.1 16", "start 0", "delay 3000", "page latency", "page stats", "quit", "");
            Pktgen.console = new java.io.ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8));
            Run r;
            try {
                r = pktgen(sim, "console");
            } finally {
                Pktgen.console = null;
            }
            assertEquals(0, r.rc(), r.output());
            assertTrue(r.output().contains("error: a rate of 200.0% is above line rate"), r.output());
            assertTrue(r.output().contains("error: no port 5: this pktgen has ports 0-1"), r.output());
            assertTrue(r.output().contains("error: frame size 2000 is above port 0's MTU 1500"), r.output());
            assertTrue(r.output().contains("error: pktgen sends IPv4/UDP frames; proto takes udp, got 'tcp'"), r.output());
            assertTrue(r.output().contains("one-way latency"), "page latency: " + r.output());
            assertEquals(700, r.get(0, "sent"), r.output());
            assertEquals(700, r.get(0, "received"), r.output());
            Map<String, Object> port0 = Plot.list(r.json(), "ports").get(0);
            assertEquals(700 * 128, (long) Plot.num(port0, "tx_bytes"), "128-byte frames with a VLAN tag");
            assertEquals(12, (long) Plot.num(port0, "vlan"));
        }
    }

    @Test
    void theSearchKeepsItsTrialsAndReportsTheHighestPassingRate() throws Exception {
        try (Devsim sim = cabled("search")) {
            Run r = pktgen(sim, "search", "--search", "ndr", "--search-max", "20kpps", "--trial", "0.5", "--precision",
                    "30");
            assertEquals(0, r.rc(), r.output());
            List<Map<String, Object>> trials = Plot.list(r.json(), "trials");
            // RFC 2544 starts at the upper bound: on a quiet machine that trial passes and ends the search
            assertTrue(!trials.isEmpty(), r.output());
            double best = 0;
            for (Map<String, Object> t : trials) {
                boolean pass = (Boolean) t.get("pass");
                boolean offered = Plot.num(t, "sent") >= Search.SENT_SHARE * Plot.num(t, "offered_pps") * Plot.num(t, "seconds");
                assertEquals(Plot.num(t, "lost") == 0 && Plot.num(t, "sent") > 0 && offered, pass, "trial " + t);
                if (pass) {
                    best = Math.max(best, Plot.num(t, "offered_pps"));
                }
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> search = (Map<String, Object>) r.json().get("search");
            assertEquals(best, Plot.num(search, "ndr_pps"), 1, "the NDR is the best passing trial's rate: " + r.output());
            assertTrue(Plot.num(trials.get(0), "offered_pps") > 39_000, "the first trial offers the upper bound on both ports");
        }
    }
}
