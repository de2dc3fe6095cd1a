package io.jnic.memory.mbuf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.memory.CrashPoint;
import io.jnic.memory.ring.RingDescriptor;
import io.jnic.memory.ring.SharedFile;
import io.jnic.memory.testing.ChildJvm;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A process killed at each step of the pool's shared operations (the ring side held by a cache refill or flush,
 * the cache's commit, an allocation's header reset, a free's commit): survivors' allocations complete by
 * themselves, recovery of the dead lcore returns exactly what it held, and the audit finds nothing leaked,
 * duplicated or invalid.
 */
class MempoolCrashTest {

    static final int COUNT = 1023;
    static final long POOL_BYTES = Mempool.bytesNeeded(config(0), 4096);
    private static final long SIZE = POOL_BYTES + (1 << 16);
    private static final int DEAD = 1;
    private static final int SURVIVOR = 2;
    private static final Duration HANG = Duration.ofSeconds(60);

    private static MempoolConfig config(int flags) {
        return MempoolConfig.of("crashpool", 30, COUNT).withCacheSize(16).withMaxLcores(4).withFlags(flags);
    }

    @AfterEach
    void closePools() {
        Mempool p = Mempool.lookup(30);
        if (p != null) {
            p.close();
        }
    }

    static Stream<Arguments> points() {
        List<Arguments> a = new ArrayList<>();
        for (String p : List.of(CrashPoint.RING_DEQ_HELD, CrashPoint.POOL_REFILL_COMMITTED, CrashPoint.RING_DEQ_COPIED,
                CrashPoint.RING_ENQ_HELD, CrashPoint.POOL_FLUSH_COMMITTED, CrashPoint.RING_ENQ_COPIED,
                CrashPoint.POOL_ALLOC_RESET, CrashPoint.POOL_FREE_COMMITTED)) {
            a.add(Arguments.of(p, 0, true));
            a.add(Arguments.of(p, 0, false));
        }
        // single producer and consumer on the free ring: no holds, the cache records alone settle the transfer
        a.add(Arguments.of(CrashPoint.POOL_REFILL_COMMITTED, Mempool.F_SP_PUT | Mempool.F_SC_GET, false));
        a.add(Arguments.of(CrashPoint.POOL_FLUSH_COMMITTED, Mempool.F_SP_PUT | Mempool.F_SC_GET, false));
        return a.stream();
    }

    @ParameterizedTest(name = "killed at {0} (flags {1}), survivor first: {2}")
    @MethodSource("points")
    void aProcessKilledMidOperationLosesAndDuplicatesNothing(String point, int flags, boolean survivorFirst) {
        Path path = SharedFile.shmPath("pool-crash");
        try (SharedFile f = SharedFile.create(path, SIZE)) {
            MemorySegment m = f.segment();
            Mempool pool = Mempool.create(m.asSlice(0, POOL_BYTES), config(flags), MempoolTest.IOVA, 4096);
            try (ChildJvm c = ChildJvm.start(List.of("-Djnic.crashPoint=" + point + ":7"), MempoolCrashChild.class, "churn",
                    path.toString(), Long.toString(SIZE), Integer.toString(DEAD))) {
                assertEquals(137, c.waitFor(120), () -> "the child should have died at " + point + ": " + c.output());
            }
            if (survivorFirst) {
                survive(pool, flags);
            }
            // what the primary's recovery does for a dead process: its holds, its lcores' caches, what it owned
            pool.ring().recoverDeadHolders();
            pool.flushCache(DEAD);
            MempoolAudit a = pool.audit(l -> l != DEAD);
            assertArrayEquals(new long[0], a.leaked(), () -> "nothing may be unaccounted for: " + a);
            assertArrayEquals(new long[0], a.duplicates(), () -> "nothing twice: " + a);
            assertArrayEquals(new long[0], a.invalid(), () -> "no garbage: " + a);
            pool.reclaim(a);
            if (!survivorFirst) {
                survive(pool, flags);
            }
            MempoolAudit end = pool.audit(l -> true);
            assertTrue(end.isClean(), end::toString);
            assertEquals(COUNT, pool.availableCount(), end::toString);
            assertEquals(0, RingDescriptor.holder(pool.ring().sideWord(true)));
            assertEquals(0, RingDescriptor.holder(pool.ring().sideWord(false)));
        }
    }

    /** A survivor allocates and frees enough to pass through the ring both ways; it must not hang. */
    private static void survive(Mempool pool, int flags) {
        assertTimeoutPreemptively(HANG, () -> {
            long[] h = new long[40];
            for (int i = 0; i < 50; i++) {
                assertTrue(pool.allocBulk(h, 0, 40, SURVIVOR), "the pool has room for the survivor");
                Mempool.freeBulk(h, 0, 40, SURVIVOR);
            }
        });
        pool.flushCache(SURVIVOR);
    }
}
