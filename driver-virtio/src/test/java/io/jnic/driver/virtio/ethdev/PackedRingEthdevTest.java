package io.jnic.driver.virtio.ethdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.PackedVirtqueue;
import io.jnic.driver.virtio.Testpmd;
import io.jnic.driver.virtio.Virtio;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Events;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A port opened with {@code --vdev net_virtio_user0,...,packed_vq=1} against DPDK's vhost backend: packed rings on
 * two queue pairs, mbufs out and back byte for byte, a stop/start (fresh rings, wrap counters back to 1) and
 * an RX interrupt through the driver event-suppression area.
 */
class PackedRingEthdevTest {
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
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("pk" + Proc.getpid() + "_")
                .runtimeDir(dir.resolve("run")).noHuge().size(16L << 20).iovaMode(IovaMode.ASSIGNED).build());
        MempoolConfig c = MempoolConfig.of("ppool", 990, COUNT);
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("pool.ppool", Mempool.bytesNeeded(c, page), page);
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

    private void roundTrip(VirtioEthDevice p, int q, int n, int seq0) {
        Mbuf m = new Mbuf();
        MbufBatch tx = new MbufBatch(32);
        MbufBatch rx = new MbufBatch(32);
        for (int i = 0; i < n; i++) {
            byte[] f = VirtioEthdevTest.frame(q, seq0 + i, 60 + (i * 29) % 1400);
            long h = pool.alloc(Mempool.LCORE_ANY);
            assertTrue(h != 0, "mbufs left");
            m.wrap(h).append(f.length);
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
                    m.wrap(rx.get(0));
                    back = new byte[m.dataLen()];
                    m.read(0, back, 0, back.length);
                    rx.free(Mempool.LCORE_ANY);
                } else {
                    assertTrue(System.nanoTime() < deadline, "frame " + i + " on queue " + q + " did not come back");
                    Thread.onSpinWait();
                }
            }
            assertArrayEquals(VirtioEthdevTest.swapped(f), back, "frame " + i + " on queue " + q);
        }
    }

    @Test
    void packedRingsThroughThePortApi() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 2, "macswap")) {
            VirtioEthDevice p = (VirtioEthDevice) ports.createVdev("net_virtio_user0,path=" + be.socket()
                    + ",queues=2,mac=02:00:00:00:00:01,packed_vq=1");
            p.configure(PortConfig.of(2, 2).withRxInterrupts(true));
            for (int q = 0; q < 2; q++) {
                p.rxQueueSetup(q, 128, pool);
                p.txQueueSetup(q, 128);
            }
            p.start();
            assertTrue(p.net().has(Virtio.F_RING_PACKED), "packed rings negotiated");
            assertTrue(p.net().rx(1).virtqueue() instanceof PackedVirtqueue);
            assertFalse(p.resetsQueuePairs(), "packed rings keep no shared record to rebuild a pair from");
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> new VirtioUserDriver()
                    .attachQueue(new io.jnic.ethdev.PortContext(p.portId(), mem, io.jnic.ethdev.PortTable.of(mem)),
                            new int[] {Events.eventfd(0, 0), Events.eventfd(0, 0), Events.eventfd(0, 0), Events.eventfd(0, 0)}, 1, -1));
            assertEquals("port " + p.portId() + " runs packed virtqueues, which keep no shared state another process "
                    + "could carry on from; to share its pairs run it on split rings (virtio-user: without packed_vq=1; PCI: a "
                    + "device that does not offer RING_PACKED, QEMU's packed=off)", refused.getMessage());
            IllegalStateException noReset = assertThrows(IllegalStateException.class, () -> p.queuePairReset(1));
            assertEquals("queue pair 1 keeps no shared state (packed or legacy rings, or a port not shared with "
                    + "secondaries): nothing another process drove can be recovered", noReset.getMessage());
            assertTrue(p.waitLink(Duration.ofSeconds(5)).up());
            roundTrip(p, 0, 300, 0); // more than two laps of the 128-entry rings
            roundTrip(p, 1, 300, 1000);
            assertEquals(600, p.stats().ipackets);

            p.stop();
            assertEquals(COUNT, pool.availableCount(), "every mbuf back after stop");
            p.start();
            roundTrip(p, 0, 20, 2000);
            roundTrip(p, 1, 20, 3000);

            // RX interrupt: armed in the driver area, the backend writes the call eventfd when it uses a buffer
            int fd = p.rxInterruptFd(0);
            assertTrue(fd >= 0);
            assertTrue(p.rxInterruptEnable(0), "armed: nothing waiting");
            Mbuf m = new Mbuf();
            MbufBatch tx = new MbufBatch(1);
            byte[] f = VirtioEthdevTest.frame(0, 1, 64);
            long h = pool.alloc(Mempool.LCORE_ANY);
            m.wrap(h).append(f.length);
            m.write(0, f, 0, f.length);
            tx.add(h);
            while (!tx.isEmpty()) {
                p.txBurst(0, tx);
            }
            assertTrue(io.jnic.sys.Events.pollIn(fd, 10_000), "the backend wrote the call eventfd");
            p.rxInterruptDisable(0);
            assertTrue(p.rxPending(0));
            MbufBatch rx = new MbufBatch(32);
            assertEquals(1, p.rxBurst(0, rx));
            m.wrap(rx.get(0));
            byte[] back = new byte[m.dataLen()];
            m.read(0, back, 0, back.length);
            assertArrayEquals(VirtioEthdevTest.swapped(f), back);
            rx.free(Mempool.LCORE_ANY);
            assertFalse(p.rxPending(0));
            p.close();
            assertEquals(COUNT, pool.availableCount(), "every mbuf back after close");
        }
    }
}
