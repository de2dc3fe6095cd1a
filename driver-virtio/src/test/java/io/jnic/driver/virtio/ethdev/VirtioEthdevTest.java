package io.jnic.driver.virtio.ethdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.Testpmd;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortStats;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ethdev port API over virtio-user and DPDK's vhost backend: mbufs out and back per queue, stop/start. */
class VirtioEthdevTest {
    private static final AtomicInteger N = new AtomicInteger();
    static final int COUNT = 2047;

    @TempDir
    Path dir;
    MemoryGroup mem;
    Mempool pool;
    EthPorts ports;

    @BeforeEach
    void setUp() {
        Testpmd.assumeInstalled();
        TestResources.assumeLockable(16L << 20); // the memory group is mlocked
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("vq" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                .runtimeDir(dir.resolve("run")).noHuge().size(16L << 20).iovaMode(IovaMode.ASSIGNED).build());
        MempoolConfig c = MempoolConfig.of("vpool", 900 + N.get() % 100, COUNT);
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("pool.vpool", Mempool.bytesNeeded(c, page), page);
        pool = Mempool.create(z.memory(), c, z::iova, page);
        ports = new EthPorts(mem);
    }

    @AfterEach
    void tearDown() {
        if (pool != null) {
            pool.close();
        }
        if (mem != null) {
            mem.close();
        }
    }

    static byte[] frame(int q, int seq, int len) {
        byte[] f = new byte[len];
        byte[] dst = {2, 0, 0, 0, 0, 2};
        byte[] src = {2, 0, 0, 0, 0, 1};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        f[14] = (byte) q;
        for (int i = 15; i < len; i++) {
            f[i] = (byte) (i + seq * 3 + q);
        }
        return f;
    }

    static byte[] swapped(byte[] f) {
        byte[] g = f.clone();
        System.arraycopy(f, 0, g, 6, 6);
        System.arraycopy(f, 6, g, 0, 6);
        return g;
    }

    /** Sends {@code n} frames on queue q and checks that each comes back (macswapped) on q, byte for byte. */
    private void roundTrip(EthDevice p, int q, int n, int seq0) throws InterruptedException {
        Mbuf m = new Mbuf();
        MbufBatch tx = new MbufBatch(32);
        MbufBatch rx = new MbufBatch(32);
        for (int i = 0; i < n; i++) {
            byte[] f = frame(q, seq0 + i, 60 + (i * 29) % 1400);
            long h = pool.alloc(Mempool.LCORE_ANY);
            assertTrue(h != 0, "mbufs left");
            m.wrap(h);
            assertEquals(0, m.append(f.length));
            m.write(0, f, 0, f.length);
            tx.add(h);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!tx.isEmpty()) {
                p.txBurst(q, tx);
                assertTrue(System.nanoTime() < deadline, "transmit stuck");
            }
            byte[] back = null;
            while (back == null) {
                if (p.rxBurst(q, rx) > 0) {
                    long r = rx.get(0);
                    m.wrap(r);
                    back = new byte[m.dataLen()];
                    m.read(0, back, 0, back.length);
                    assertEquals(back.length, m.pktLen());
                    assertEquals(p.portId(), m.port());
                    rx.free(Mempool.LCORE_ANY);
                } else {
                    assertTrue(System.nanoTime() < deadline, "frame " + i + " on queue " + q + " did not come back");
                    Thread.onSpinWait();
                }
            }
            assertArrayEquals(swapped(f), back, "frame " + i + " on queue " + q);
        }
    }

    @Test
    void portCarriesMbufsOnTwoQueuesAndSurvivesStopStart() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 2, "macswap")) {
            EthDevice p = ports.createVdev("net_virtio_user0,path=" + be.socket() + ",queues=2,mac=02:00:00:00:00:01");
            assertEquals("net_virtio_user", p.info().driverName());
            assertEquals(2, p.info().maxRxQueues());
            assertEquals("02:00:00:00:00:01", p.macAddress().toString());
            p.configure(PortConfig.of(2, 2));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> p.rxQueueSetup(0, 100, pool));
            assertEquals(p.name() + ": virtio ring sizes are powers of two, not 100", bad.getMessage());
            for (int q = 0; q < 2; q++) {
                p.rxQueueSetup(q, 256, pool);
                p.txQueueSetup(q, 256);
            }
            p.start();
            assertTrue(p.resetsQueuePairs(), "split rings record their state: one pair can be rebuilt");
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up(), "link up");
            roundTrip(p, 0, 40, 0);
            roundTrip(p, 1, 40, 100);
            PortStats s = p.stats();
            assertEquals(80, s.opackets);
            assertEquals(80, s.ipackets);
            assertEquals(40, s.qIpackets[0]);
            assertEquals(40, s.qIpackets[1]);
            assertEquals(0, s.oerrors);

            p.stop();
            assertFalse(p.link().up());
            assertEquals(COUNT, pool.availableCount(), "every mbuf back in the pool after stop");
            p.start();
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up(), "link up again");
            roundTrip(p, 0, 10, 500);
            roundTrip(p, 1, 10, 600);
            assertEquals(100, p.stats().ipackets, "counters survive stop/start");
            p.statsReset();
            assertEquals(0, p.stats().ipackets);
            p.close();
            assertEquals(COUNT, pool.availableCount(), "every mbuf back in the pool after close");
        }
    }

    @Test
    void queuesGoThroughTheConfiguredLcoresMempoolCache() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "macswap")) {
            EthDevice p = ports.createVdev("net_virtio_user0,path=" + be.socket());
            p.configure(PortConfig.of(1, 1).withLcore(3));
            p.rxQueueSetup(0, 256, pool);
            p.txQueueSetup(0, 256);
            p.start();
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up());
            assertTrue(pool.cacheCount(3) > 0, "the receive ring was filled through lcore 3's cache");
            roundTrip(p, 0, 40, 0);
            Mbuf m = new Mbuf();
            MbufBatch rx = new MbufBatch(32);
            roundTripNoFree(p, rx);
            assertEquals(3, m.wrap(rx.get(0)).owner(), "a received mbuf was allocated by lcore 3");
            rx.free(Mempool.LCORE_ANY);
            for (int l = 0; l < 8; l++) {
                assertEquals(l == 3, pool.cacheCount(l) > 0, "only lcore 3's cache is used, lcore " + l);
            }
            p.stop();
            assertEquals(COUNT, pool.availableCount(), "every mbuf back after stop");
            p.configure(PortConfig.of(1, 1)); // LCORE_ANY again: the queues go to the pool's ring
            p.rxQueueSetup(0, 256, pool);
            p.txQueueSetup(0, 256);
            p.start();
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up());
            roundTrip(p, 0, 10, 100);
            roundTripNoFree(p, rx);
            assertEquals(Mbuf.OWNER_NONE, m.wrap(rx.get(0)).owner(), "allocated from the ring, by no lcore");
            rx.free(Mempool.LCORE_ANY);
            p.close();
            assertEquals(COUNT, pool.availableCount());
        }
    }

    /** Sends one frame on queue 0 and leaves what comes back in {@code rx}. */
    private void roundTripNoFree(EthDevice p, MbufBatch rx) {
        Mbuf m = new Mbuf();
        MbufBatch tx = new MbufBatch(1);
        byte[] f = frame(0, 7, 64);
        m.wrap(pool.alloc(Mempool.LCORE_ANY)).append(f.length);
        m.write(0, f, 0, f.length);
        tx.add(m.handle());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!tx.isEmpty()) {
            p.txBurst(0, tx);
        }
        while (p.rxBurst(0, rx) == 0) {
            assertTrue(System.nanoTime() < deadline, "frame did not come back");
            Thread.onSpinWait();
        }
    }

    @Test
    void rxInterruptsUseTheBackendsCallEventfd() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "macswap")) {
            VirtioEthDevice p = (VirtioEthDevice) ports.createVdev("net_virtio_user0,path=" + be.socket());
            p.configure(PortConfig.of(1, 1).withRxInterrupts(true));
            p.rxQueueSetup(0, 256, pool);
            p.txQueueSetup(0, 256);
            assertEquals(-1, p.rxInterruptFd(0), "no eventfd before start");
            p.start();
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up());
            assertFalse(p.rxWait(0, 50_000_000L), "nothing sent, nothing to wake us");
            assertFalse(p.rxPending(0));
            int fd = p.rxInterruptFd(0);
            assertTrue(fd >= 0);
            assertTrue(p.rxInterruptEnable(0), "armed: nothing waiting");
            roundTripNoWait(p);
            assertTrue(io.jnic.sys.Events.pollIn(fd, 10_000), "the backend wrote the call eventfd");
            assertTrue(io.jnic.sys.Events.eventfdRead(fd) >= 1);
            p.rxInterruptDisable(0);
            assertTrue(p.rxPending(0));
            assertFalse(p.rxInterruptEnable(0), "a frame is waiting: not armed");
            assertTrue(p.rxWait(0, 10_000_000_000L), "a frame is there");
            MbufBatch rx = new MbufBatch(32);
            assertEquals(1, p.rxBurst(0, rx));
            rx.free(Mempool.LCORE_ANY);
            p.close();
        }
    }

    /** Sends one frame and waits (without consuming it) until the device has put it in the used ring. */
    private void roundTripNoWait(VirtioEthDevice p) throws InterruptedException {
        Mbuf m = new Mbuf();
        MbufBatch tx = new MbufBatch(1);
        long h = pool.alloc(Mempool.LCORE_ANY);
        byte[] f = frame(0, 1, 64);
        m.wrap(h).append(f.length);
        m.write(0, f, 0, f.length);
        tx.add(h);
        while (!tx.isEmpty()) {
            p.txBurst(0, tx);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (p.net().rx(0).virtqueue().usedCount() == 0) {
            assertTrue(System.nanoTime() < deadline, "frame did not come back");
            Thread.sleep(1);
        }
    }

    @Test
    void aliasNameAndMissingBackend() throws Exception {
        Path sock = dir.resolve("none.sock");
        VirtioException e = assertThrows(VirtioException.class, () -> ports.createVdev("virtio_user0,path=" + sock));
        assertTrue(e.getMessage().startsWith("no vhost-user backend socket at " + sock + ": start the backend first"),
                e.getMessage());
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                () -> ports.createVdev("net_virtio_user0,path=/x,lcore=abc"));
        // the mempool lcore is PortConfig.withLcore, as for every driver; the devarg it once was is refused
        assertTrue(a.getMessage().contains("net_virtio_user has no option 'lcore'"), a.getMessage());
        try (Testpmd be = Testpmd.start(dir, 1, "macswap")) {
            EthDevice p = ports.createVdev("virtio_user0,path=" + be.socket());
            assertEquals("virtio_user", p.info().driverName());
            assertEquals(1, p.info().maxRxQueues());
            assertTrue((p.macAddress().octets()[0] & 2) != 0, "random MAC is locally administered");
            p.close();
        }
    }
}
