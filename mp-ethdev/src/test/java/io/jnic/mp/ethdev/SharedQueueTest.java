package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.PortCounters;
import io.jnic.devsim.wire.GeneratorWire;
import io.jnic.memory.mbuf.MempoolAudit;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A primary in this JVM shares two devsim ports (two queue pairs each); secondaries in child JVMs attach
 * queue pair 1 and forward port 0 -> port 1 without the primary on their data path.
 */
class SharedQueueTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    @Test
    void secondaryForwardsTheFlowsRssGivesItsQueue() throws Exception {
        Path simDir = Files.createDirectories(base.resolve("sim1"));
        try (PrimaryRig p = new PrimaryRig(simDir, "mpq1", 2, 200_000)) {
            p.forward(2);
            long secRx;
            long secTx;
            long secDropped;
            try (ChildJvm c = ChildJvm.start(base.toString(), QueueChild.class, "mpq1", "0", "1", "1", "2")) {
                String attached = c.await("ATTACHED");
                assertEquals("ATTACHED " + c.pid(), attached);
                assertEquals(c.pid(), p.shared.owners().owner(0, 1), "the secondary owns queue 1 of port 0");
                GeneratorWire gen = (GeneratorWire) p.sim.wire(0);
                long until = gen.sent() + 100_000;
                while (gen.sent() < until) {
                    Thread.sleep(20);
                }
                p.sim.command("gen 0 stop");
                waitQuiet(p);
                c.send("quit");
                String[] done = c.await("DONE").split(" ");
                secRx = Long.parseLong(done[1]);
                secTx = Long.parseLong(done[2]);
                secDropped = Long.parseLong(done[3]);
                assertEquals(0, Long.parseLong(done[4]), "packets on queue 1 that RSS (Toeplitz + RETA oracle) sends "
                        + "elsewhere, or with another hash than the oracle's");
            }
            p.stopForwarding();
            assertEquals(0, p.misrouted, "packets on queue 0 that RSS (Toeplitz + RETA oracle) sends elsewhere");
            assertTrue(secRx > 0 && p.rx > 0, "both queues carried flows: primary " + p.rx + ", secondary " + secRx + "\n"
                    + p.sim.statsText() + p.devs.get(0).xstats());
            PortCounters c0 = p.sim.port(0).counters();
            PortCounters c1 = p.sim.port(1).counters();
            assertEquals(c0.rxDma(), p.rx + secRx, "every frame the device delivered was received by one process");
            assertEquals(secRx, secTx + secDropped);
            assertEquals(p.rx, p.tx + p.dropped);
            long sink = ((GeneratorWire) p.sim.wire(1)).sinkFrames();
            assertEquals(p.tx + secTx, sink, "the far end received every frame the processes sent");
            assertEquals(sink, c1.txDma());
            System.out.printf("secondary queue: primary rx %d, secondary rx %d, device rx %d, sink %d%n", p.rx, secRx,
                    c0.rxDma(), sink);
            MempoolAudit a = p.pool.audit(l -> true);
            assertTrue(a.isClean(), a.toString());
        }
    }

    @Test
    void aSecondClaimantIsRefusedWithTheOwnersPid() throws Exception {
        Path simDir = Files.createDirectories(base.resolve("sim2"));
        try (PrimaryRig p = new PrimaryRig(simDir, "mpq2", 2, 1000);
                ChildJvm first = ChildJvm.start(base.toString(), QueueChild.class, "mpq2", "0", "1", "1", "2")) {
            first.await("ATTACHED");
            try (ChildJvm second = ChildJvm.start(base.toString(), QueueChild.class, "mpq2", "0", "1", "1", "2")) {
                String l = second.awaitAny("ERROR", "ATTACHED");
                assertEquals("ERROR queue 1 of port 0 is already driven by pid " + first.pid() + " (one process per queue); "
                        + "give this process another --proc-id, or stop pid " + first.pid() + " first", l);
            }
            try (ChildJvm third = ChildJvm.start(base.toString(), QueueChild.class, "mpq2", "0", "1", "0", "2")) {
                String l = third.awaitAny("ERROR", "ATTACHED");
                assertTrue(l.contains("already driven by pid " + ProcessHandle.current().pid()), l);
            }
            try (ChildJvm fourth = ChildJvm.start(base.toString(), QueueChild.class, "mpq2", "0", "1", "5", "2")) {
                String l = fourth.awaitAny("ERROR", "ATTACHED");
                assertEquals("ERROR port 0 has 2 queue pairs (0..1), no queue 5", l);
            }
        }
    }

    @Test
    void aSecondaryWithoutPrimaryIsToldToStartOne() throws Exception {
        try (ChildJvm c = ChildJvm.start(base.toString(), QueueChild.class, "mpq-none", "0", "1", "1", "2")) {
            String l = c.awaitAny("ERROR", "ATTACHED");
            assertTrue(l.startsWith("ERROR no primary process runs for file prefix 'mpq-none'"), l);
        }
    }

    /** Until the device delivered no new frame for 200 ms (the generator is stopped: the rings drain). */
    private static void waitQuiet(PrimaryRig p) throws InterruptedException {
        long last = -1;
        for (;;) {
            long now = p.sim.port(0).counters().rxDma();
            if (now == last) {
                return;
            }
            last = now;
            Thread.sleep(200);
        }
    }
}
