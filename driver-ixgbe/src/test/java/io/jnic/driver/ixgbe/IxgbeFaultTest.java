package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.PortConfig;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults the model injects: the driver survives them, says what happened, and leaks no mbuf. */
class IxgbeFaultTest {
    @TempDir
    Path dir;

    private static void assertNoLeak(Rig rig) {
        var audit = rig.pool.audit(l -> true);
        assertTrue(audit.isClean(), audit.toString());
        assertEquals(0, rig.pool.inUseCount(), audit.toString());
    }

    /** Sends n frames (retrying while the ring is full, up to 2 s) and drains what arrives; returns frames received. */
    static long traffic(Rig rig, IxgbeDevice d, int n) {
        MbufBatch out = new MbufBatch(32);
        MbufBatch in = new MbufBatch(32);
        long got = 0;
        int sent = 0;
        long end = System.nanoTime() + 2_000_000_000L;
        while (sent < n && System.nanoTime() < end) {
            if (out.isEmpty()) {
                rig.frames(out, Math.min(32, n - sent), 64, sent, d.macAddress().octets());
            }
            sent += d.txBurst(0, out);
            got += d.rxBurst(0, in);
            in.free(Mempool.LCORE_ANY);
        }
        out.free(Mempool.LCORE_ANY);
        for (int i = 0; i < 1000; i++) {
            got += d.rxBurst(0, in);
            in.free(Mempool.LCORE_ANY);
        }
        return got;
    }

    @Test
    void linkFlapAndStallAreSurvived() {
        try (Rig rig = new Rig(dir, 1, "loop", 4096)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(traffic(rig, d, 1000) > 0);
            rig.sim.command("link-down 0");
            traffic(rig, d, 1000); // sent into a dead link: the device drops or holds them
            rig.sim.command("link-up 0");
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(traffic(rig, d, 1000) > 0, "traffic after the flap");
            rig.sim.command("stall 0");
            traffic(rig, d, 2000); // the TX ring fills; txBurst returns 0 instead of blocking
            rig.sim.command("resume 0");
            assertTrue(traffic(rig, d, 1000) > 0, "traffic after the stall");
            d.stop();
            assertNoLeak(rig);
            d.start(); // a restart resets the device (as DPDK's ixgbe does): the link trains again
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(traffic(rig, d, 500) > 0, "traffic after stop/start");
            d.close();
            assertNoLeak(rig);
        }
    }

    @Test
    void rxWaitBlocksOnTheQueueInterruptUntilAFrameArrives() throws Exception {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(2, 1).withRxInterrupts(true), 256);
            Rig.linksUp(a, b);
            assertTrue(b.waitLink(Duration.ofSeconds(10)).up());
            assertFalse(b.rxWait(0, 20_000_000L), "nothing sent yet");
            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> b.rxWait(0, 10_000_000_000L));
            Thread.sleep(100);
            MbufBatch out = new MbufBatch(1);
            rig.frames(out, 1, 64, 0, b.macAddress().octets());
            assertEquals(1, a.txBurst(0, out));
            assertTrue(waiter.get(15, TimeUnit.SECONDS));
            MbufBatch in = new MbufBatch(4);
            assertEquals(1, b.rxBurst(0, in));
            in.free(Mempool.LCORE_ANY);
            assertTrue(b.rxInterruptsSeen() >= 1, "the RX vector fired");
            // 8.2.3.5.12: RX queue 0's vector (1) throttled to 50 us = 24 units of 2.048 us, in bits 11:3
            assertEquals(24, (rig.sim.port(1).read32(IxgbeRegs.eitr(1)) >>> 3) & 0x1FF);
            // IVAR[0] bits 7:0: RX queue 0 -> vector 1, valid
            assertEquals(0x81, rig.sim.port(1).read32(IxgbeRegs.IVAR0) & 0xFF);
        }
    }

    @Test
    void rxInterruptsSleepOverSeveralQueuesAndWakeOnTheFirstPacket() throws Exception {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withRxInterrupts(true), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxInterrupts(true), 256);
            Rig.linksUp(a, b);
            assertTrue(a.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(b.waitLink(Duration.ofSeconds(10)).up());
            try (io.jnic.ethdev.RxInterrupts waiter = new io.jnic.ethdev.RxInterrupts().add(a, 0).add(b, 0)) {
                assertFalse(waiter.sleep(20), "nothing arrives: the sleep times out");
                assertEquals(1, waiter.sleeps());
                MbufBatch out = new MbufBatch(1);
                CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    rig.frames(out, 1, 64, 0, b.macAddress().octets());
                    a.txBurst(0, out);
                });
                assertTrue(waiter.sleep(15_000), "woken by port " + b.portId() + "'s RX interrupt");
                sender.get(15, TimeUnit.SECONDS);
                assertEquals(1, waiter.wakeups());
                // a packet is waiting now: sleep returns at once without blocking
                assertFalse(waiter.sleep(15_000));
                assertEquals(2, waiter.sleeps());
                MbufBatch in = new MbufBatch(4);
                assertEquals(1, b.rxBurst(0, in));
                in.free(Mempool.LCORE_ANY);
            }
        }
    }
}
