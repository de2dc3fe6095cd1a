package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.VirtqueueState;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.pci.PciDevice;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A primary in this JVM with a virtio_user port of 2 queue pairs on DPDK's vhost-user backend (testpmd, macswap)
 * shares it; a secondary in a child JVM attaches queue pair 1 (kick and call eventfds handed over, rings and
 * their state found by name) and both send and receive byte-checked frames on their own pair. The secondary is
 * killed with SIGKILL mid-flight: the primary recovers the pair (pool audit: every mbuf is in the pool or posted
 * in a ring, none owned by the dead process) and a restarted secondary resumes it.
 */
class VirtioUserMpTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    /** The primary: port 0 virtio_user (2 pairs), port 1 net_null (2 queues), both shared; it drives queue 0. */
    static final class Primary implements AutoCloseable {
        final VhostBackend backend;
        final MpRuntime rt;
        final EthPorts ports;
        final Mempool pool;
        final EthDevice virtio;
        final EthDevice nul;
        final SharedPorts shared;

        Primary(String prefix) throws Exception {
            TestResources.assumeLockable(64L << 20); // -m 64 below: the runtime mlocks its memory
            Path dir = Files.createDirectories(base.resolve("vhost-" + prefix));
            backend = VhostBackend.start(dir, 2);
            rt = MpRuntime.start(EalOptions.parse("--file-prefix", prefix, "--no-huge", "-m", "64"));
            ports = new EthPorts(rt.memory());
            MempoolConfig pc = MempoolConfig.of("mpv_pool", 7, 4095);
            long page = rt.memory().pageSize().bytes();
            Memzone z = rt.reserve("mpv.pool", Mempool.bytesNeeded(pc, page), page);
            pool = Mempool.create(z.memory(), pc, z::iova, page);
            virtio = ports.createVdev("net_virtio_user0,path=" + backend.socket + ",queues=2");
            nul = ports.createVdev("net_null0");
            for (EthDevice d : List.of(virtio, nul)) {
                // virtio with jumbo frames as chains both ways: secondaries learn the offloads from the port's share
                d.configure(d == virtio ? PortConfig.of(2, 2).withMtu(9000)
                        .withRxOffloads(java.util.EnumSet.of(io.jnic.ethdev.RxOffload.SCATTER))
                        .withTxOffloads(java.util.EnumSet.of(io.jnic.ethdev.TxOffload.MULTI_SEGS)) : PortConfig.of(2, 2));
                for (int q = 0; q < 2; q++) {
                    d.rxQueueSetup(q, 256, pool);
                    d.txQueueSetup(q, 256);
                }
                d.start();
            }
            QueueOwners owners = QueueOwners.create(rt.memory(), 2);
            Map<EthDevice, PciDevice> map = new LinkedHashMap<>();
            map.put(virtio, null);
            map.put(nul, null);
            shared = SharedPorts.serve(rt, owners, map, List.of(pool));
            owners.claim(0, 0, rt.pid(), 0);
        }

        String round(int seq0, int n) {
            return VirtioFrames.roundTrip(pool, Mempool.LCORE_ANY, 0, seq0, n, b -> virtio.txBurst(0, b),
                    b -> virtio.rxBurst(0, b));
        }

        /** Mbufs recorded outstanding in the 4 data virtqueues' shared state (posted or returned, not consumed). */
        int inRings() {
            int n = 0;
            for (int i = 0; i < 4; i++) {
                Memzone z = rt.memory().find("jnic.p0.virtio_vq" + i + "s").orElseThrow();
                n += VirtqueueState.attach(z.memory(), i, VirtqueueState.recordedSize(z.memory())).outstanding().length;
            }
            return n;
        }

        @Override
        public void close() throws Exception {
            shared.close();
            virtio.close();
            nul.close();
            MempoolAudit a = pool.audit(l -> l < 0);
            pool.close();
            ports.close();
            rt.close();
            backend.close();
            assertTrue(a.isClean() && a.inUse() == 0, "after the ports closed every mbuf is back: " + a);
        }
    }

    @Test
    void secondaryDrivesPairOneAndARestartedOneResumesAfterSigkill() throws Exception {
        try (Primary p = new Primary("mpv1")) {
            String lcore;
            try (ChildJvm c = ChildJvm.start(base.toString(), VirtioQueueChild.class, "mpv1", "0", "1")) {
                String[] att = c.await("ATTACHED").split(" ");
                assertEquals(String.valueOf(c.pid()), att[1]);
                lcore = att[2];
                assertEquals(c.pid(), p.shared.owners().owner(0, 1), "the secondary owns pair 1");
                c.send("round 0 300");
                assertNull(p.round(0, 300), "the primary's frames on pair 0"); // meanwhile the secondary runs its own
                assertEquals("ROUND ok", c.await("ROUND"), "the secondary's frames on pair 1");
                c.send("round " + VirtioFrames.JUMBO + " 40");
                assertEquals("ROUND ok", c.await("ROUND"), "jumbo frames as chains out and back on the secondary's pair");
                // in flight at the kill: frames sent and returned into the RX ring unconsumed, mbufs held
                c.send("send " + (VirtioFrames.JUMBO + 1000) + " 20"); // chains: their segments come back whole
                c.await("SENT");
                c.send("hold 10");
                c.await("HELD");
                Thread.sleep(200); // the backend returns the 40 frames
                c.process.destroyForcibly();
                assertTrue(c.process.waitFor(10, TimeUnit.SECONDS));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.shared.mbufsReclaimed() < 10 || p.shared.owners().owner(0, 1) != 0) {
                assertTrue(System.nanoTime() < deadline, "no recovery of the dead secondary's pair within 30 s: reset "
                        + p.shared.queuesReset() + ", reclaimed " + p.shared.mbufsReclaimed());
                Thread.sleep(20);
            }
            assertEquals(1, p.shared.queuesReset());
            MempoolAudit a = p.pool.audit(l -> l < 0); // only "no lcore" (this JVM's test thread) is alive
            assertTrue(a.isClean(), "nothing owned by the dead secondary (lcore " + lcore + ") is left: " + a);
            assertEquals(p.inRings(), a.inUse(), "every mbuf outside the pool is posted in a ring: " + a);
            System.out.printf("after SIGKILL: %s, %d reclaimed by owner, %d in rings%n", a, p.shared.mbufsReclaimed(),
                    p.inRings());
            assertNull(p.round(300, 100), "pair 0 unaffected");
            try (ChildJvm c = ChildJvm.start(base.toString(), VirtioQueueChild.class, "mpv1", "0", "1")) {
                c.await("ATTACHED");
                c.send("wake 4000");
                assertEquals("WOKE true true true", c.await("WOKE"), "armed in the ring, woken by the backend's call "
                        + "eventfd (handed over with the pair), the frame back byte for byte");
                c.send("round 5000 300");
                assertEquals("ROUND ok", c.await("ROUND"), "a restarted secondary resumes pair 1");
                c.send("quit");
                String[] done = c.await("DONE").split(" ");
                assertEquals(301, Long.parseLong(done[1]));
                assertEquals(301, Long.parseLong(done[2]));
            }
            MempoolAudit b = p.pool.audit(l -> l < 0);
            assertTrue(b.isClean(), b.toString());
            assertEquals(p.inRings(), b.inUse(), "after a clean detach too: " + b);
        }
    }

    /**
     * The secondary dies inside the shared record of an in-order burst (its RX refill or a TX burst): after every
     * position and before any token, or with half of the tokens recorded. The primary recovers the pair with a
     * clean audit, every mbuf outside the pool is posted in a ring, and a restarted secondary resumes the pair.
     */
    @ParameterizedTest
    @ValueSource(strings = {io.jnic.memory.CrashPoint.VIRTQ_ADDED_POSITIONS, io.jnic.memory.CrashPoint.VIRTQ_ADDED_HALF})
    void secondaryKilledInsideABurstsRecordIsRecovered(String point) throws Exception {
        String prefix = "mpvc" + (point.endsWith("half") ? "h" : "p");
        try (Primary p = new Primary(prefix)) {
            // the 6th recorded burst: past the attach's refill, inside the round's bursts
            try (ChildJvm c = ChildJvm.start(base.toString(), point + ":6", VirtioQueueChild.class, prefix, "0", "1")) {
                c.await("ATTACHED");
                c.send("round 0 300");
                assertTrue(c.process.waitFor(30, TimeUnit.SECONDS), "the secondary did not reach " + point);
                assertEquals(137, c.process.exitValue(), "killed by SIGKILL at " + point);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.shared.queuesReset() < 1 || p.shared.owners().owner(0, 1) != 0) {
                assertTrue(System.nanoTime() < deadline, "no recovery of the pair within 30 s after " + point);
                Thread.sleep(20);
            }
            MempoolAudit a = p.pool.audit(l -> l < 0);
            assertTrue(a.isClean(), "after a kill at " + point + ": " + a);
            assertEquals(p.inRings(), a.inUse(), "every mbuf outside the pool is posted in a ring: " + a);
            assertNull(p.round(0, 100), "pair 0 unaffected");
            try (ChildJvm c = ChildJvm.start(base.toString(), VirtioQueueChild.class, prefix, "0", "1")) {
                c.await("ATTACHED");
                c.send("round 1000 300");
                assertEquals("ROUND ok", c.await("ROUND"), "a restarted secondary resumes pair 1 after " + point);
            }
            MempoolAudit b = p.pool.audit(l -> l < 0);
            assertTrue(b.isClean(), b.toString());
            assertEquals(p.inRings(), b.inUse(), "after a clean detach too: " + b);
        }
    }

    @Test
    void attachRefusalsSayWhatIsWrong() throws Exception {
        try (Primary p = new Primary("mpv2")) {
            try (ChildJvm c = ChildJvm.start(base.toString(), VirtioQueueChild.class, "mpv2", "1", "1")) {
                assertEquals("ERROR the primary refused the attach of queue 1 of port 1: port 1 (net_null0) is a virtual "
                        + "device (net_null) whose queues live in the primary's own memory: it cannot hand a queue pair to "
                        + "another process; only the primary can use it (share a PCI port, a vfio-user device or a "
                        + "virtio_user port instead)", c.awaitAny("ERROR", "ATTACHED"));
            }
            try (ChildJvm c = ChildJvm.start(base.toString(), VirtioQueueChild.class, "mpv2", "0", "5")) {
                assertEquals("ERROR port 0 has 2 queue pairs (0..1), no queue 5", c.awaitAny("ERROR", "ATTACHED"));
            }
            assertEquals(0, p.shared.owners().owner(1, 1), "a refused attach leaves no claim behind");
        }
    }
}
