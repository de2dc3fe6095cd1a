package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resetting one queue pair (what a primary does when the process that drove it died). */
class IxgbeQueueResetTest {
    @TempDir
    Path dir;

    @Test
    void aResetQueuePairReturnsItsMbufsAndReceivesAgain() {
        try (Rig rig = new Rig(dir, 1, "gen", 4096)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(2, 2).withPromiscuous(true)
                    .withRss(RssConfig.of(EnumSet.allOf(RssHashType.class))), 256);
            MbufBatch b = new MbufBatch(32);
            receive(d, 1, b, 200);
            // leave packets in queue 1's TX ring (sent, not yet cleaned up) and its RX ring full of buffers
            rig.frames(b, 32, 64, 0, new byte[] {0x02, 0, 0, 0, 0, 1});
            assertEquals(32, d.txBurst(1, b));
            assertTrue(d.resetsQueuePairs(), "an 82599 disables and sets up one queue pair alone");
            d.queuePairReset(1);
            assertTrue(receive(d, 1, b, 200) >= 200, "queue 1 receives again after its reset");
            rig.sim.command("gen 0 stop");
            d.stop();
            MempoolAudit a = rig.pool.audit(l -> true);
            assertTrue(a.isClean(), a.toString());
            assertEquals(0, a.inUse(), a.toString());
        }
    }

    @Test
    void resetNeedsAStartedPortAndAQueueItHas() {
        try (Rig rig = new Rig(dir, 1, "gen", 2048)) {
            IxgbeDevice d = rig.probe(0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.queuePairReset(0));
            assertEquals("port 0 (" + d.deviceName() + "): queuePairReset(0) needs a started port", e.getMessage());
            d.configure(PortConfig.of(2, 2));
            d.rxQueueSetup(0, 128, rig.pool);
            d.rxQueueSetup(1, 128, rig.pool);
            d.txQueueSetup(0, 128);
            d.txQueueSetup(1, 128);
            d.start();
            IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> d.queuePairReset(2));
            assertEquals("port 0 (" + d.deviceName() + "): no queue pair 2; 2 configured", a.getMessage());
            rig.sim.command("gen 0 stop");
        }
    }

    /** Receives on queue {@code q} until {@code n} packets came, freeing them (the generator never stops). */
    private static long receive(IxgbeDevice d, int q, MbufBatch b, long n) {
        long got = 0;
        long end = System.nanoTime() + 30_000_000_000L;
        while (got < n) {
            int k = d.rxBurst(q, b);
            got += k;
            b.free(Mempool.LCORE_ANY);
            if (System.nanoTime() > end) {
                throw new AssertionError("queue " + q + " received " + got + " of " + n + " packets in 30 s");
            }
        }
        return got;
    }
}
