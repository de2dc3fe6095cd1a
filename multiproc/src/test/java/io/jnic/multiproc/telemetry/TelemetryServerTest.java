package io.jnic.multiproc.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The telemetry server against clients that behave and clients that do not. */
class TelemetryServerTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    @AfterAll
    static void clear() {
        System.clearProperty("jnic.runtime.base");
    }

    private static Telemetry telemetry() {
        Telemetry t = new Telemetry(4242);
        t.register("/big", (c, p) -> Collections.nCopies(5000, "a string of some length"), "Too much to send");
        t.register("/echo", (c, p) -> Map.of("params", p == null ? "none" : p), "Echoes its parameters");
        return t;
    }

    /** A connected client: sends one message, receives one (with a generous deadline: liveness, not speed). */
    private static final class Client implements AutoCloseable {
        final int fd = Sockets.socket(Sockets.SOCK_SEQPACKET);
        final UnixMessage m = new UnixMessage(64 * 1024, 0);

        Client(Path p) {
            Sockets.connect(fd, UnixAddress.of(p));
        }

        void send(byte[] b) {
            MemorySegment.copy(b, 0, m.data(), ValueLayout.JAVA_BYTE, 0, b.length);
            m.send(fd, b.length, null, null, 0, 0);
        }

        String ask(String cmd) {
            send(cmd.getBytes(StandardCharsets.UTF_8));
            return receive();
        }

        String receive() {
            assertTrue(Events.pollIn(fd, 30_000), "an answer");
            long n = m.receive(fd, UnixMessage.MSG_DONTWAIT);
            return new String(m.data().asSlice(0, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            Io.closeQuietly(fd);
            m.close();
        }
    }

    @Test
    void answersDpdkStyleAndRemovesItsSocket() {
        Path sock;
        try (TelemetryServer s = TelemetryServer.start(telemetry(), "tsa", 0)) {
            sock = s.path();
            assertEquals(base.resolve("dpdk/tsa/dpdk_telemetry.v2"), sock);
            try (Client c = new Client(sock)) {
                assertEquals("{\"version\":\"" + Telemetry.VERSION + "\",\"pid\":4242,\"max_output_len\":16384}", c.receive());
                assertEquals("{\"/\":[\"/\",\"/big\",\"/echo\",\"/help\",\"/info\"]}", c.ask("/"));
                assertEquals("{\"/help\":{\"/echo\":\"Echoes its parameters\"}}", c.ask("/help,/echo"));
                assertEquals("{\"/help\":null}", c.ask("/help"));
                assertEquals("{\"/echo\":{\"params\":\"a,b\"}}", c.ask("/echo,a,b"));
                assertEquals("{\"/nope\":null}", c.ask("/nope"));
                assertEquals("{\"none\":null}", c.ask(",x"));
                String big = c.ask("/big");
                assertTrue(big.length() <= Telemetry.MAX_OUTPUT_LEN && big.startsWith("{\"/big\":[\"a string")
                        && big.endsWith("\"]}"), "cut to max_output_len, still JSON: " + big.length());
            }
            // a second process of the group takes the next name
            try (TelemetryServer s2 = TelemetryServer.start(telemetry(), "tsa", 3)) {
                assertEquals("dpdk_telemetry.v2:3", s2.path().getFileName().toString());
            }
        }
        assertTrue(!Files.exists(sock) && !Files.exists(sock.getParent()), "socket and the dir it made are gone");
    }

    @Test
    void garbageGetsNullAndValidJson() {
        try (TelemetryServer s = TelemetryServer.start(telemetry(), "tsg", 0); Client c = new Client(s.path())) {
            c.receive();
            byte[] junk = new byte[5000];
            for (int i = 0; i < junk.length; i++) {
                junk[i] = (byte) (i * 31 + 7);
            }
            junk[0] = '/';
            String r = c.ask(new String(junk, 0, 40, StandardCharsets.ISO_8859_1));
            assertTrue(r.startsWith("{\"/") && r.endsWith("\":null}"), r);
            c.send(junk); // longer than a request may be: the rest is dropped
            String r2 = c.receive();
            assertTrue(r2.endsWith(":null}") && r2.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f), r2);
            assertEquals("{\"\\\"quoted\\\\\":null}", c.ask("\"quoted\\"));
            assertEquals("{\"/echo\":{\"params\":\"ok\"}}", c.ask("/echo,ok"), "still serving after the garbage");
        }
    }

    @Test
    void aClientThatNeverReadsIsDroppedAndOthersAreServedMeanwhile() throws Exception {
        try (TelemetryServer s = TelemetryServer.start(telemetry(), "tsn", 0); Client stalled = new Client(s.path())) {
            // ask for big replies without reading any, until the socket's buffers are full
            byte[] big = "/big".getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(big, 0, stalled.m.data(), ValueLayout.JAVA_BYTE, 0, big.length);
            int sent = 0;
            while (sent < 100_000 && stalled.m.send(stalled.fd, big.length, null, null, 0, UnixMessage.MSG_DONTWAIT) >= 0) {
                sent++;
            }
            try (Client other = new Client(s.path())) {
                other.receive();
                assertEquals("{\"/echo\":{\"params\":\"x\"}}", other.ask("/echo,x"), "served while a client is stuck");
            }
            long end = System.nanoTime() + 60_000_000_000L;
            while (s.clientCounts()[1] == 0 && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertEquals(1, s.clientCounts()[1], "the client that never read was disconnected (" + sent + " requests)");
        }
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a dead server fills the backlog: connect blocks
    void clientsThatCloseBeforeTheirGreetingLeaveTheServerServing() {
        // what a liveness probe does (another process choosing its socket name, removeStale): connect, close at once
        try (TelemetryServer s = TelemetryServer.start(telemetry(), "tsp", 0)) {
            for (int i = 0; i < 50; i++) {
                int fd = Sockets.socket(Sockets.SOCK_SEQPACKET);
                try {
                    Sockets.connect(fd, UnixAddress.of(s.path()));
                } finally {
                    Io.closeQuietly(fd);
                }
            }
            try (Client c = new Client(s.path())) {
                c.receive();
                assertEquals("{\"/echo\":{\"params\":\"up\"}}", c.ask("/echo,up"), "still serving after the probes");
            }
        }
    }

    @Test
    void clientsBeyondTheLimitAreClosed() {
        try (TelemetryServer s = TelemetryServer.start(telemetry(), "tsl", 0)) {
            List<Client> cs = new ArrayList<>();
            try {
                for (int i = 0; i < TelemetryServer.MAX_CLIENTS; i++) {
                    Client c = new Client(s.path());
                    cs.add(c);
                    c.receive();
                }
                try (Client extra = new Client(s.path())) {
                    assertEquals("", extra.receive(), "closed at once: end of stream");
                }
                assertEquals("{\"/echo\":{\"params\":\"9\"}}", cs.get(9).ask("/echo,9"));
            } finally {
                cs.forEach(Client::close);
            }
        }
    }
}
