package io.jnic.driver.virtio.vhost;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnic.driver.virtio.TestBuffers;
import io.jnic.driver.virtio.Testpmd;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jnic's virtio-user frontend against DPDK's vhost-user backend (dpdk-testpmd with net_vhost0): frames out and
 * back with every byte checked, two queue pairs, link status, the backend going away, and the errors a user
 * sees for a missing socket or a backend with too few queues.
 */
class VirtioUserDpdkTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    static final int ROOM = 2048;

    @TempDir
    Path dir;
    MemoryGroup memory;
    TestBuffers buffers;

    @BeforeEach
    void memory() {
        Testpmd.assumeInstalled();
        TestResources.assumeLockable(8L << 20); // the memory group is mlocked
        memory = MemoryGroup.create(MemoryConfig.builder()
                .filePrefix("vu" + Proc.getpid() + "_" + COUNTER.incrementAndGet() + "_").runtimeDir(dir.resolve("run"))
                .noHuge().iovaMode(IovaMode.ASSIGNED).size(8L << 20).build());
        buffers = new TestBuffers(memory.reserve("bufs", 2048L * ROOM, 4096), ROOM);
    }

    @AfterEach
    void close() {
        if (memory != null) {
            memory.close();
        }
    }

    private VirtioNet open(Path socket, int queues) {
        return open(socket, queues, "", "vu0");
    }

    private VirtioNet open(Path socket, int queues, String extra, String zonePrefix) {
        VirtioUserArgs args = VirtioUserArgs.parse("virtio_user0,path=" + socket + ",queues=" + queues
                + ",mac=02:00:00:00:00:01" + extra);
        VirtioUserTransport t = VirtioUserTransport.open(args, memory);
        try {
            return VirtioNet.open(t, memory, buffers, new VirtioNet.Config(zonePrefix, queues, 256, true));
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** A frame to a fixed peer with a payload that identifies (pair, seq), {@code len} bytes. */
    static byte[] frame(int pair, int seq, int len) {
        byte[] f = new byte[len];
        byte[] dst = {0x02, 0, 0, 0, 0, 0x02};
        byte[] src = {0x02, 0, 0, 0, 0, 0x01};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5; // local experimental ethertype
        f[14] = (byte) pair;
        f[15] = (byte) (seq >> 8);
        f[16] = (byte) seq;
        for (int i = 17; i < len; i++) {
            f[i] = (byte) (i * 31 + seq * 7 + pair);
        }
        return f;
    }

    /** What macswap sends back: the two addresses exchanged, every other byte as sent. */
    static byte[] swapped(byte[] f) {
        byte[] g = f.clone();
        System.arraycopy(f, 0, g, 6, 6);
        System.arraycopy(f, 6, g, 0, 6);
        return g;
    }

    private void send(VirtioNetTxQueue tx, byte[] f) {
        long t = buffers.alloc();
        assertTrue(t != 0, "buffers left");
        MemorySegment.copy(f, 0, buffers.memory(), ValueLayout.JAVA_BYTE, buffers.offset(t) + VirtioNetSpec.HDR_SIZE,
                f.length);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (tx.transmit(new long[] {t}, new int[] {f.length}, 1) == 0) {
            if (System.nanoTime() > deadline) {
                fail("transmit queue stayed full for 10 s");
            }
            Thread.onSpinWait();
        }
    }

    private byte[] receive(VirtioNetRxQueue rx) {
        long[] t = new long[1];
        int[] l = new int[1];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (rx.receive(t, l, 1) == 0) {
            if (System.nanoTime() > deadline) {
                return null;
            }
            Thread.onSpinWait();
        }
        byte[] f = new byte[l[0]];
        MemorySegment.copy(buffers.memory(), ValueLayout.JAVA_BYTE, buffers.offset(t[0]) + VirtioNetSpec.HDR_SIZE, f, 0,
                l[0]);
        buffers.free(t[0]);
        return f;
    }

    /**
     * Frames of every size out and back through macswap, one at a time and 200 in flight, with VIRTIO_F_IN_ORDER
     * (DPDK's vhost offers it; in_order=1 is the default) and without it (in_order=0: the free-list path).
     */
    @Test
    void framesGoOutAndComeBackByteForByte() throws Exception {
        for (boolean inOrder : new boolean[] {true, false}) {
            framesGoOutAndComeBack(inOrder);
        }
    }

    private void framesGoOutAndComeBack(boolean inOrder) throws Exception {
        try (Testpmd be = Testpmd.start(Files.createDirectories(dir.resolve(inOrder ? "in-order" : "any-order")), 1,
                "macswap"); VirtioNet net = open(be.socket(), 1, inOrder ? "" : ",in_order=0", inOrder ? "vi" : "va")) {
            assertEquals(inOrder, net.has(Virtio.F_IN_ORDER), "IN_ORDER negotiated unless in_order=0");
            assertEquals(inOrder, net.rx(0).virtqueue().inOrder());
            assertEquals(inOrder, net.tx(0).virtqueue().inOrder());
            assertTrue(net.has(Virtio.F_VERSION_1));
            assertTrue(net.linkUp(), "link up while the backend is connected");
            assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 1}, net.mac());
            assertEquals(1, net.queuePairs());
            int[] lengths = {60, 64, 65, 128, 511, 1000, 1514};
            int seq = 0;
            for (int round = 0; round < 30; round++) {
                for (int len : lengths) {
                    byte[] f = frame(0, seq++, len);
                    send(net.tx(0), f);
                    byte[] back = receive(net.rx(0));
                    if (back == null) {
                        fail("frame " + (seq - 1) + " (" + len + " bytes) did not come back; testpmd log:\n" + be.log());
                    }
                    assertArrayEquals(swapped(f), back, "frame " + (seq - 1) + " of " + len + " bytes");
                }
            }
            assertEquals(seq, net.rx(0).packets());
            assertEquals(0, net.rx(0).errors());
            // a burst: many frames in flight at once, in order
            int burst = 200;
            for (int i = 0; i < burst; i++) {
                send(net.tx(0), frame(0, 5000 + i, 60 + i));
            }
            for (int i = 0; i < burst; i++) {
                byte[] back = receive(net.rx(0));
                assertTrue(back != null, "burst frame " + i + " came back");
                assertArrayEquals(swapped(frame(0, 5000 + i, 60 + i)), back, "burst frame " + i);
            }
        }
        // close reset the device and returned every buffer
        assertEquals(buffers.capacity(), buffers.available());
    }

    /**
     * packed_vq=1: the rings are packed (VIRTIO_F_RING_PACKED negotiated with DPDK's vhost backend, which reads
     * our descriptor ring and writes used descriptors into it); frames of every size out and back through macswap
     * with every byte checked, over many laps of both rings (the wrap counters flip), with EVENT_IDX and IN_ORDER
     * and without either.
     */
    @Test
    void packedRingsCarryFramesByteForByte() throws Exception {
        for (boolean eventIdx : new boolean[] {true, false}) {
            try (Testpmd be = Testpmd.start(Files.createDirectories(dir.resolve(eventIdx ? "ev" : "noev")), 1, "macswap")) {
                // in order with EVENT_IDX (DPDK's backend then returns TX buffers in batches: one used descriptor
                // naming the batch's last), the id-stack path without
                VirtioUserArgs args = VirtioUserArgs.parse("virtio_user0,path=" + be.socket()
                        + ",mac=02:00:00:00:00:01,packed_vq=1" + (eventIdx ? "" : ",in_order=0"));
                VirtioUserTransport t = VirtioUserTransport.open(args, memory);
                try (VirtioNet net = VirtioNet.open(t, memory, buffers, new VirtioNet.Config("vp" + eventIdx, 1, 64,
                        eventIdx))) {
                    assertTrue(net.has(Virtio.F_RING_PACKED), "RING_PACKED negotiated");
                    assertEquals(eventIdx, net.has(Virtio.F_IN_ORDER), "IN_ORDER unless in_order=0");
                    assertEquals(eventIdx, net.tx(0).virtqueue().inOrder());
                    assertEquals(eventIdx, net.has(Virtio.F_EVENT_IDX));
                    assertTrue(net.rx(0).virtqueue() instanceof io.jnic.driver.virtio.PackedVirtqueue);
                    int[] lengths = {60, 64, 65, 128, 511, 1000, 1514};
                    int seq = 0;
                    for (int round = 0; round < 40; round++) { // 280 frames: over four laps of 64-entry rings
                        for (int len : lengths) {
                            byte[] f = frame(0, seq++, len);
                            send(net.tx(0), f);
                            byte[] back = receive(net.rx(0));
                            if (back == null) {
                                fail("frame " + (seq - 1) + " (" + len + " bytes) did not come back over packed rings;"
                                        + " testpmd log:\n" + be.log());
                            }
                            assertArrayEquals(swapped(f), back, "frame " + (seq - 1) + " of " + len + " bytes");
                        }
                    }
                    int burst = 50; // more than fits at once: the transmit side reclaims while the ring is full
                    for (int i = 0; i < burst; i++) {
                        send(net.tx(0), frame(0, 7000 + i, 60 + i));
                    }
                    for (int i = 0; i < burst; i++) {
                        byte[] back = receive(net.rx(0));
                        assertTrue(back != null, "burst frame " + i + " came back");
                        assertArrayEquals(swapped(frame(0, 7000 + i, 60 + i)), back, "burst frame " + i);
                    }
                    assertEquals(0, net.rx(0).errors());
                }
                assertEquals(buffers.capacity(), buffers.available(), "every buffer back after close");
            }
        }
    }

    @Test
    void withoutPackedVqTheRingsStaySplit() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io"); VirtioNet net = open(be.socket(), 1)) {
            assertFalse(net.has(Virtio.F_RING_PACKED), "packed rings only when asked (packed_vq=1)");
            assertTrue(net.rx(0).virtqueue() instanceof io.jnic.driver.virtio.SplitVirtqueue);
        }
    }

    @Test
    void twoQueuePairsEachCarryTheirOwnTraffic() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 2, "io"); VirtioNet net = open(be.socket(), 2)) {
            assertTrue(net.has(VirtioNetSpec.F_MQ));
            assertEquals(2, net.queuePairs());
            assertEquals(2, net.activeQueuePairs());
            VirtioUserTransport t = (VirtioUserTransport) net.transport();
            assertEquals(2, t.enabledPairs());
            for (int seq = 0; seq < 50; seq++) {
                for (int pair = 0; pair < 2; pair++) {
                    byte[] f = frame(pair, seq, 64 + seq);
                    send(net.tx(pair), f);
                    byte[] back = receive(net.rx(pair));
                    if (back == null) {
                        fail("frame " + seq + " on pair " + pair + " did not come back on that pair; testpmd log:\n"
                                + be.log());
                    }
                    assertArrayEquals(f, back, "io mode returns the frame unchanged, on the same pair");
                }
            }
            assertEquals(50, net.rx(0).packets());
            assertEquals(50, net.rx(1).packets());
            // back to one pair: the second pair's rings are disabled at the backend
            net.setQueuePairs(1);
            assertEquals(1, t.enabledPairs());
            byte[] f = frame(0, 999, 100);
            send(net.tx(0), f);
            assertArrayEquals(f, receive(net.rx(0)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.setQueuePairs(3));
            assertEquals("queue pairs 3 outside 1..2 (set up at open)", e.getMessage());
        }
    }

    @Test
    void rxModeAndMacTableAreAcceptedAndRecorded() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io"); VirtioNet net = open(be.socket(), 1)) {
            VirtioUserTransport t = (VirtioUserTransport) net.transport();
            net.setPromiscuous(true);
            assertTrue(t.promiscuous());
            net.setAllMulticast(true);
            assertTrue(t.allMulticast());
            net.setPromiscuous(false);
            assertFalse(t.promiscuous());
            net.setMacTable(new byte[][] {{2, 0, 0, 0, 0, 9}}, new byte[][] {{1, 0, 0x5e, 0, 0, 1}, {0x33, 0x33, 0, 0, 0, 1}});
            assertArrayEquals(new int[] {1, 2}, t.macFilterCounts());
        }
    }

    @Test
    void backendGoingAwayTakesTheLinkDownAndSaysSo() throws Exception {
        Testpmd be = Testpmd.start(dir, 1, "io");
        try (VirtioNet net = open(be.socket(), 1)) {
            assertTrue(net.linkUp());
            be.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (net.linkUp() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertFalse(net.linkUp(), "link down once the backend is gone");
            // the data path keeps working on our side: frames queue up, nothing comes back
            send(net.tx(0), frame(0, 1, 60));
            VirtioException e = assertThrows(VirtioException.class, () -> net.setQueuePairs(1));
            assertTrue(e.getMessage().startsWith("vhost-user backend at " + be.socket() + " is gone"), e.getMessage());
            assertTrue(e.getMessage().endsWith("restart the backend, then restart the port"), e.getMessage());
        } finally {
            be.close();
        }
        // and after a restart of the backend, a new port works on the same memory (its rings reused by name)
        Files.deleteIfExists(dir.resolve("vhost.sock"));
        try (Testpmd be2 = Testpmd.start(dir, 1, "macswap"); VirtioNet net = open(be2.socket(), 1)) {
            byte[] f = frame(0, 2, 80);
            send(net.tx(0), f);
            assertArrayEquals(swapped(f), receive(net.rx(0)));
        }
        assertEquals(buffers.capacity(), buffers.available());
    }

    @Test
    void missingSocketSaysToStartTheBackend() {
        Path sock = dir.resolve("nobody.sock");
        VirtioException e = assertThrows(VirtioException.class, () -> open(sock, 1));
        assertEquals("no vhost-user backend socket at " + sock + ": start the backend first (for example dpdk-testpmd"
                + " --no-pci --vdev 'net_vhost0,iface=" + sock + "' -- -i), then retry", e.getMessage());
    }

    @Test
    void staleSocketFileSaysNobodyListens() throws Exception {
        Path sock = dir.resolve("stale.sock");
        int fd = io.jnic.sys.Sockets.socket(io.jnic.sys.Sockets.SOCK_STREAM);
        io.jnic.sys.Sockets.bind(fd, io.jnic.sys.UnixAddress.of(sock));
        io.jnic.sys.Io.close(fd); // bound, never listening: what a crashed backend leaves behind
        VirtioException e = assertThrows(VirtioException.class, () -> open(sock, 1));
        assertEquals("nobody listens on the vhost-user socket " + sock + " (a stale socket file of a backend that"
                + " exited?): start the backend, then retry", e.getMessage());
    }
}
