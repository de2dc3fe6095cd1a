package io.jnic.memory.mbuf;

import io.jnic.memory.ring.Ring;
import io.jnic.memory.ring.SharedFile;
import io.jnic.memory.testing.ChildJvm;
import io.jnic.sys.Proc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A pool shared by child JVMs that map it at other addresses. */
class MempoolProcessTest {

    private static final long SIZE = 16L << 20;

    @AfterEach
    void closePools() {
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null) {
                p.close();
            }
        }
    }

    private static Mempool setUp(MemorySegment m, int id) {
        MempoolConfig c = MempoolConfig.of("shared" + id, id, 2047).withCacheSize(64).withMaxLcores(16);
        Mempool p = Mempool.create(m.asSlice(0, MempoolChild.RING_OFF), c, MempoolTest.IOVA, MempoolTest.PAGE);
        Ring.create(m.asSlice(MempoolChild.RING_OFF), "pass", 512, 0);
        return p;
    }

    @Test
    void processesShareThePoolAndItReturnsToFullCount() {
        run(SharedFile.shmPath("pool-churn"));
    }

    @Test
    void processesShareThePoolOnHugepages() {
        Path p = SharedFile.hugePath("pool-churn", 8);
        assumeTrue(p != null, "no free 2 MiB hugepages at /dev/hugepages; reserve them with "
                + "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages && mount -t hugetlbfs nodev /dev/hugepages");
        run(p);
    }

    private void run(Path path) {
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Mempool pool = setUp(m, 20);
            Ring ring = Ring.attach(m.asSlice(MempoolChild.RING_OFF));
            List<ChildJvm> kids = new ArrayList<>();
            try {
                for (int lcore = 1; lcore <= 2; lcore++) {
                    kids.add(ChildJvm.start(MempoolChild.class, "churn", path.toString(), Long.toString(SIZE),
                            Integer.toString(lcore), "30000"));
                }
                for (ChildJvm k : kids) {
                    assertNotEquals(m.address(), Long.parseLong(k.await("addr=")));
                }
                for (ChildJvm k : kids) {
                    assertEquals(0, k.waitFor(120), () -> "child failed: " + k.output());
                }
            } finally {
                kids.forEach(ChildJvm::close);
            }
            // what the children left in flight goes back from here
            MbufBatch rest = new MbufBatch(512);
            rest.dequeue(ring, 512);
            rest.free(Mempool.LCORE_ANY);
            assertEquals(2047, pool.availableCount());
            MempoolAudit a = pool.audit(l -> true);
            assertTrue(a.isClean(), a.toString());
            assertEquals(2047, a.inRing() + a.inCaches());
            pool.flushCache(1);
            pool.flushCache(2);
            assertEquals(2047, pool.ring().count());
        }
    }

    @Test
    void cacheOfAKilledProcessIsFlushedAndNothingLeaks() throws Exception {
        Path path = SharedFile.shmPath("pool-kill");
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Mempool pool = setUp(m, 21);
            int lcore = 7;
            try (ChildJvm kid = ChildJvm.start(MempoolChild.class, "hold", path.toString(), Long.toString(SIZE),
                    Integer.toString(lcore))) {
                kid.await("addr=");
                int cached = Integer.parseInt(kid.await("ready cache="));
                assertTrue(cached > 0);
                assertEquals(cached, pool.cacheCount(lcore));
                assertTrue(Proc.kill((int) kid.pid(), Proc.SIGKILL));
                assertEquals(137, kid.waitFor(30));
                assertEquals(2047 - 5, pool.availableCount(), "the dead lcore's cache still counts as available");
                // the child's lcore is dead: its 5 allocated mbufs show up, nothing else is lost
                MempoolAudit before = pool.audit(l -> l != lcore);
                assertEquals(5, before.deadOwner().length, before.toString());
                assertArrayEquals(new long[0], before.leaked());
                assertEquals(cached, pool.flushCache(lcore));
                assertEquals(0, pool.cacheCount(lcore));
                assertEquals(5, pool.reclaim(before));
                MempoolAudit after = pool.audit(l -> l != lcore);
                assertTrue(after.isClean(), after.toString());
                assertEquals(2047, pool.ring().count());
                assertEquals(2047, pool.availableCount());
                Mbuf mb = new Mbuf();
                assertTrue(Arrays.stream(before.deadOwner()).allMatch(h -> mb.wrap(h).refcnt() == 0));
            }
        }
    }
}
