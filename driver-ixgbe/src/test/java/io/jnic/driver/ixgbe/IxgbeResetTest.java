package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device that resets itself is re-initialised by the driver while its queues are driven (one by the port's own
 * thread, one through {@link QueuePair} as a secondary would), and a hostile device's write-backs are dropped,
 * counted and survived; no mbuf is lost or duplicated.
 */
class IxgbeResetTest {
    @TempDir
    Path dir;

    private static void assertNoLeak(Rig rig) {
        var audit = rig.pool.audit(l -> true);
        assertTrue(audit.isClean(), audit.toString());
        assertEquals(0, rig.pool.inUseCount(), audit.toString());
    }

    /** Sends 32 UDP frames of 32 flows starting at {@code flow} on one queue and receives what came back. */
    private static final class Driver implements Runnable {
        final Rig rig;
        final java.util.function.ToIntFunction<MbufBatch> txf;
        final java.util.function.ToIntFunction<MbufBatch> rxf;
        final byte[] dst;
        final int flow;
        final AtomicLong received = new AtomicLong();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Driver(Rig rig, java.util.function.ToIntFunction<MbufBatch> txf, java.util.function.ToIntFunction<MbufBatch> rxf,
                byte[] dst, int flow) {
            this.rig = rig;
            this.txf = txf;
            this.rxf = rxf;
            this.dst = dst;
            this.flow = flow;
        }

        @Override
        public void run() {
            MbufBatch out = new MbufBatch(32);
            MbufBatch in = new MbufBatch(32);
            Mbuf m = new Mbuf();
            try {
                long seq = 0;
                while (!stop.get()) {
                    if (out.isEmpty() && rig.pool.availableCount() > 1024) {
                        rig.frames(out, 32, 64, seq, dst);
                        for (int i = 0; i < 32; i++) {
                            IxgbeTrafficTest.udp(m.wrap(out.get(i)), 0x0a000001 + flow + i, 0x0a0000fe, 1024 + flow + i, 4789);
                        }
                        seq += 32;
                    }
                    txf.applyAsInt(out);
                    out.free(Mempool.LCORE_ANY); // what did not fit is dropped, as l2fwd does
                    received.addAndGet(rxf.applyAsInt(in));
                    in.free(Mempool.LCORE_ANY);
                    Thread.onSpinWait();
                }
                for (int i = 0; i < 2000; i++) {
                    rxf.applyAsInt(in);
                    in.free(Mempool.LCORE_ANY);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }

        long awaitMore(long than, long timeoutMs) throws InterruptedException {
            long end = System.nanoTime() + timeoutMs * 1_000_000;
            while (received.get() <= than && System.nanoTime() < end && failure.get() == null) {
                Thread.sleep(5);
            }
            return received.get();
        }
    }

    @Test
    void aDeviceResetIsRecoveredUnderTrafficOnEveryQueuePair() throws Exception {
        try (Rig rig = new Rig(dir, 1, "loop", 8192)) {
            PortConfig cfg = PortConfig.of(2, 2).withRss(RssConfig.of(EnumSet.of(RssHashType.IPV4, RssHashType.IPV4_UDP)));
            IxgbeDevice d = rig.started(0, cfg, 256);
            byte[] mac = d.macAddress().octets();
            // queue pair 1 through the path a secondary takes: rings and state by name, doorbells through a BAR
            QueuePair sq = new IxgbeDriver().attachQueue(new PortContext(d.portId(), rig.mem, rig.ports.table()),
                    rig.pcis.get(0).bar(0), 1, Mempool.LCORE_ANY);
            Driver own = new Driver(rig, b -> d.txBurst(0, b), b -> d.rxBurst(0, b), mac, 0);
            Driver other = new Driver(rig, sq::txBurst, sq::rxBurst, mac, 1000);
            Thread t0 = Thread.ofPlatform().name("q0").start(own);
            Thread t1 = Thread.ofPlatform().name("q1").start(other);
            try {
                assertTrue(own.awaitMore(0, 10_000) > 0, "queue 0 forwards before the reset");
                assertTrue(other.awaitMore(0, 10_000) > 0, "queue 1 forwards before the reset");
                long start = System.nanoTime();
                rig.sim.command("reset 0");
                long end = start + 10_000_000_000L;
                while (d.resetsRecovered() < 1 && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                assertEquals(1, d.resetsRecovered(), "the driver re-initialised the port by itself");
                System.out.printf("device reset recovered %.1f ms after it happened (re-initialisation %d us)%n",
                        (System.nanoTime() - start) / 1e6, d.xstat("device_reset_recovery_us"));
                assertFalse(d.resetDetected());
                assertTrue(d.waitLink(Duration.ofSeconds(10)).up(), "the link came back");
                long a = own.received.get();
                long b = other.received.get();
                assertTrue(own.awaitMore(a, 10_000) > a, "queue 0 forwards after the reset");
                assertTrue(other.awaitMore(b, 10_000) > b, "queue 1 (the attached one) forwards after the reset");
            } finally {
                own.stop.set(true);
                other.stop.set(true);
                t0.join(10_000);
                t1.join(10_000);
            }
            assertEquals(null, own.failure.get());
            assertEquals(null, other.failure.get());
            sq.close();
            d.close();
            assertNoLeak(rig);
        }
    }

    @Test
    void aSecondResetAndAStopStartAfterRecoveryWork() throws Exception {
        try (Rig rig = new Rig(dir, 1, "loop", 4096)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            for (int k = 1; k <= 2; k++) {
                rig.sim.command("reset 0");
                long end = System.nanoTime() + 10_000_000_000L;
                while (d.resetsRecovered() < k && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                assertEquals(k, d.resetsRecovered());
                assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
                assertTrue(IxgbeFaultTest.traffic(rig, d, 500) > 0, "traffic after reset " + k);
            }
            d.stop();
            assertNoLeak(rig);
            d.start();
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(IxgbeFaultTest.traffic(rig, d, 500) > 0, "traffic after stop/start");
            d.close();
            assertNoLeak(rig);
        }
    }

    @Test
    void hostileWriteBacksAreDroppedCountedAndSurvived() throws Exception {
        hostile(PortConfig.of(1, 1));
    }

    /** The same on the receive path with offloads (checksum flags, VLAN strip), which reads each frame apart. */
    @Test
    void hostileWriteBacksAreDroppedCountedAndSurvivedWithOffloads() throws Exception {
        hostile(PortConfig.of(1, 1).withRxOffloads(java.util.EnumSet.of(io.jnic.ethdev.RxOffload.IPV4_CKSUM,
                io.jnic.ethdev.RxOffload.TCP_CKSUM, io.jnic.ethdev.RxOffload.VLAN_STRIP)));
    }

    private void hostile(PortConfig cfg) throws Exception {
        try (Rig rig = new Rig(dir, 1, "loop", 4096)) {
            IxgbeDevice d = rig.started(0, cfg, 256);
            assertEquals("ok", rig.sim.command("hostile 0 0.25"));
            long got = IxgbeFaultTest.traffic(rig, d, 4000);
            // the loop plug still carries what the device had not sent yet: receive until nothing more comes
            MbufBatch in = new MbufBatch(32);
            long injected;
            long dropped;
            long quietSince = System.nanoTime();
            do {
                injected = rig.sim.port(0).hostileWriteBacks();
                int n = d.rxBurst(0, in);
                got += n;
                in.free(Mempool.LCORE_ANY);
                if (n > 0) {
                    quietSince = System.nanoTime();
                }
                dropped = d.xstat("rx_bad_length_writebacks") + d.xstat("rx_bad_status_writebacks");
            } while (System.nanoTime() - quietSince < 500_000_000L);
            assertTrue(injected > 100, "the device corrupted write-backs: " + injected);
            assertEquals(injected, dropped, "every corrupted write-back is a counted drop");
            assertTrue(d.xstat("rx_bad_length_writebacks") > 0 && d.xstat("rx_bad_status_writebacks") > 0);
            assertEquals(dropped, d.stats().qErrors[0]);
            assertTrue(got > 0, "good frames still arrive");
            assertEquals("ok", rig.sim.command("hostile 0 0"));
            assertTrue(IxgbeFaultTest.traffic(rig, d, 1000) > 0, "a sane device again: frames flow");
            assertEquals(dropped, d.xstat("rx_bad_length_writebacks") + d.xstat("rx_bad_status_writebacks"),
                    "and none is dropped any more");
            d.close();
            assertNoLeak(rig);
        }
    }
}
