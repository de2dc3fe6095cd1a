package io.jnic.apps.pdump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.apps.common.AppProcess;
import io.jnic.apps.common.TelemetryAsk;
import io.jnic.apps.l2fwdmp.L2fwdMp;
import io.jnic.devsim.wire.FramePort;
import io.jnic.devsim.wire.GeneratorWire;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * pdump on a running l2fwd-mp group (a primary and a secondary, each forwarding its queue pair of the simulated
 * ports): tshark reads the file, and every frame is, byte for byte, what the port's traffic generator sent (RX)
 * or that frame with l2fwd's MAC rewrite (TX). A pdump killed mid-capture has its capture switched off by the
 * primary, and the next one captures again.
 */
class PdumpTest {
    private static final int FRAME = 128; // --devsim-size: with FCS
    private static final int SNAP = 100;
    private static final int FLOWS = 64; // SimulatedPorts' generators
    private static final Pattern MAC = Pattern.compile("port (\\d): .* MAC ([0-9a-f:]{17}),");
    private static final Pattern RAW = Pattern.compile("\"frame_raw\": \\[\\s*\"([0-9a-f]*)\"");

    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    private static boolean haveTshark() {
        try {
            Process p = new ProcessBuilder("tshark", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String tshark(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tshark"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "tshark ends");
        assertEquals(0, p.exitValue(), "tshark " + cmd + " reads the file:\n" + out);
        return out;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // five JVMs on a shared machine
    void capturesWhatTheGeneratorsSentByteForByte() throws Exception {
        Assumptions.assumeTrue(haveTshark(), "tshark is missing: apt-get install tshark");
        String prefix = "pd" + ProcessHandle.current().pid();
        Path file = base.resolve("cap.pcapng");
        byte[][] macs = new byte[2][];
        try (AppProcess primary = AppProcess.start(L2fwdMp.class, base, "--no-huge", "--file-prefix", prefix, "--",
                "--num-procs", "2", "--devsim-rate", "20000", "--devsim-size", Integer.toString(FRAME), "-T", "2")) {
            for (int i = 0; i < 2; i++) {
                Matcher m = MAC.matcher(primary.await("MAC "));
                assertTrue(m.find());
                macs[Integer.parseInt(m.group(1))] = HexFormat.ofDelimiter(":").parseHex(m.group(2));
            }
            try (AppProcess s1 = AppProcess.start(L2fwdMp.class, base, "--proc-type", "secondary", "--file-prefix", prefix,
                    "--", "--num-procs", "2", "--proc-id", "1")) {
                s1.await("attached queue 1 of port 1");

                // a capture whose pdump is killed: the primary switches it off
                try (AppProcess killed = AppProcess.start(Pdump.class, base, "--file-prefix", prefix, "--", "-w",
                        base.resolve("killed.pcapng").toString())) {
                    killed.await("pdump: capturing");
                    Path sock = base.resolve("dpdk").resolve(prefix).resolve("dpdk_telemetry.v2");
                    String on = TelemetryAsk.ask(sock, "/jnic/pdump");
                    assertTrue(on.contains("\"active\":1,\"requester_pid\":" + killed.pid() + ","), on);
                    killed.process.destroyForcibly(); // SIGKILL
                    killed.exit();
                    String state = on;
                    for (long end = System.nanoTime() + 60_000_000_000L; state.contains("\"active\":1") && System.nanoTime() < end;) {
                        Thread.sleep(50);
                        state = TelemetryAsk.ask(sock, "/jnic/pdump");
                    }
                    assertTrue(state.startsWith("{\"/jnic/pdump\":{\"active\":0,"), "the primary switched it off: " + state);
                }

                try (AppProcess pd = AppProcess.start(Pdump.class, base, "--file-prefix", prefix, "--", "-w", file.toString(),
                        "-c", "2000", "-s", Integer.toString(SNAP))) {
                    assertEquals(0, pd.exit(), pd.output());
                    assertTrue(pd.output().contains("pdump: 2000 packets written"), pd.output());
                }
                s1.process.destroy();
                s1.exit();
            }
            primary.process.destroy();
            primary.exit();
        }

        String fields = tshark("-r", file.toString(), "-T", "fields", "-e", "frame.interface_id", "-e",
                "frame.packet_flags_direction", "-e", "frame.interface_queue", "-e", "frame.len", "-e", "frame.cap_len");
        String json = tshark("-r", file.toString(), "-T", "json", "-x");
        List<String> rows = fields.lines().toList();
        List<byte[]> frames = new ArrayList<>();
        Matcher m = RAW.matcher(json);
        while (m.find()) {
            frames.add(HexFormat.of().parseHex(m.group(1)));
        }
        assertEquals(2000, rows.size(), fields);
        assertEquals(2000, frames.size());

        // what each generator sent: frame number seq * FLOWS + flow of generator g (= port g), by an independent copy
        Map<Integer, Map<Long, byte[]>> wanted = new HashMap<>();
        int[] seen = new int[8]; // [port * 4 + dir * 2 + queue]
        for (int i = 0; i < frames.size(); i++) {
            String[] f = rows.get(i).split("\t");
            int port = Integer.parseInt(f[0]);
            int dir = Integer.decode(f[1]) & 3;
            int queue = Integer.parseInt(f[2]);
            assertEquals(FRAME - 4, Integer.parseInt(f[3]), "original length: " + rows.get(i));
            assertEquals(SNAP, Integer.parseInt(f[4]), "captured length: " + rows.get(i));
            assertTrue(port < 2 && (dir == 1 || dir == 2) && queue < 2, rows.get(i));
            seen[port * 4 + (dir - 1) * 2 + queue]++;
            ByteBuffer b = ByteBuffer.wrap(frames.get(i));
            int gen = Short.toUnsignedInt(b.getShort(46));
            int flow = Short.toUnsignedInt(b.getShort(48));
            long seq = b.getLong(50);
            assertEquals(dir == 1 ? port : 1 - port, gen, "RX frames come from the port's own generator, TX ones from the pair's");
            wanted.computeIfAbsent(gen, k -> new HashMap<>()).put(seq * FLOWS + flow, null);
        }
        for (int g : wanted.keySet()) {
            generate(g, macs[g], wanted.get(g));
        }
        for (int i = 0; i < frames.size(); i++) {
            String[] f = rows.get(i).split("\t");
            int port = Integer.parseInt(f[0]);
            int dir = Integer.decode(f[1]) & 3;
            ByteBuffer b = ByteBuffer.wrap(frames.get(i));
            int gen = Short.toUnsignedInt(b.getShort(46));
            byte[] sent = wanted.get(gen).get(b.getLong(50) * FLOWS + Short.toUnsignedInt(b.getShort(48)));
            byte[] expect = java.util.Arrays.copyOf(sent, SNAP);
            if (dir == 2) { // l2fwd's rewrite: to 02:00:00:00:00:<port>, from the port's MAC
                System.arraycopy(new byte[] {2, 0, 0, 0, 0, (byte) port}, 0, expect, 0, 6);
                System.arraycopy(macs[port], 0, expect, 6, 6);
            }
            assertArrayEquals(expect, frames.get(i), "frame " + (i + 1) + " (" + rows.get(i) + ")");
        }
        for (int port = 0; port < 2; port++) {
            assertTrue(seen[port * 4] + seen[port * 4 + 1] > 0 && seen[port * 4 + 2] + seen[port * 4 + 3] > 0,
                    "both directions of port " + port + ": " + java.util.Arrays.toString(seen));
        }
        assertTrue(seen[1] + seen[3] + seen[5] + seen[7] > 0, "the secondary's queue 1 too: " + java.util.Arrays.toString(seen));
    }

    /** Runs a generator like the simulated port's until it has made every frame {@code want} names. */
    private static void generate(int id, byte[] mac, Map<Long, byte[]> want) {
        long last = want.keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
        GeneratorWire g = new GeneratorWire(id, mac, 0, FRAME, FLOWS, -1, 0);
        long[] n = {0};
        g.attach(new FramePort() {
            @Override
            public void receive(MemorySegment frame, long offset, int length) {
                if (want.containsKey(n[0])) {
                    want.put(n[0], frame.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE));
                }
                n[0]++;
            }

            @Override
            public String portName() {
                return "expected " + id;
            }
        });
        while (n[0] <= last) {
            g.poll(System.nanoTime());
        }
        g.close();
    }
}
