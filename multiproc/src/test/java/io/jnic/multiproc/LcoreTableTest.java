package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Proc;
import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LcoreTableTest {
    /** A pid that is not running: a child that already exited. */
    static int deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        int pid = (int) p.pid();
        assertTrue(!Proc.isAlive(pid));
        return pid;
    }

    @Test
    void aTakenLcoreIsRefusedWithItsHolderAndNothingIsHalfClaimed() {
        try (Arena arena = Arena.ofConfined()) {
            LcoreTable t = new LcoreTable(arena.allocate(LcoreTable.BYTES, 8));
            int me = Proc.getpid();
            int other = (int) ProcessHandle.current().parent().orElseThrow().pid(); // alive, not us
            t.claimAll(LcoreSet.of(3), other, "p");
            MpException e = assertThrows(MpException.class, () -> t.claimAll(LcoreSet.parse("1-4"), me, "p"));
            assertEquals("lcore 3 is already used by process " + other + " (file prefix 'p'); give this process other "
                    + "lcores with -l, or stop process " + other, e.getMessage());
            assertEquals(0, t.holder(1), "lcores claimed before the conflict are released again");
            assertEquals(0, t.holder(2));
            t.claimAll(LcoreSet.parse("1-2,4"), me, "p");
            assertEquals(LcoreSet.parse("1-2,4"), t.heldBy(me));
            assertEquals(LcoreSet.of(3), t.heldBy(other));
            assertEquals(LcoreSet.parse("1-2,4"), t.releaseAll(me));
            assertEquals(0, t.holder(1));
        }
    }

    @Test
    void aDeadHoldersLcoreIsReclaimedAndTheGenerationMoves() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            LcoreTable t = new LcoreTable(arena.allocate(LcoreTable.BYTES, 8));
            int dead = deadPid();
            assertEquals(0, t.tryClaim(5, dead));
            assertEquals(1, t.generation(5));
            assertEquals(0, t.tryClaim(5, Proc.getpid()), "the dead holder's slot is taken over");
            assertEquals(Proc.getpid(), t.holder(5));
            assertEquals(2, t.generation(5));
            assertTrue(!t.release(5, dead), "a former holder cannot release it");
            assertTrue(t.release(5, Proc.getpid()));
            assertEquals(2, t.generation(5), "release keeps the generation");
        }
    }

    @Test
    void concurrentClaimsGiveEachLcoreToExactlyOneClaimer() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            LcoreTable t = new LcoreTable(arena.allocate(LcoreTable.BYTES, 8));
            int me = Proc.getpid();
            AtomicInteger claims = new AtomicInteger();
            Set<Integer> ids = java.util.Collections.synchronizedSet(new HashSet<>());
            Thread[] threads = new Thread[4];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = new Thread(() -> {
                    for (int k = 0; k < 32; k++) {
                        int id = t.claimAny(me, LcoreSet.EMPTY); // one pid, four threads: ids must not repeat
                        if (id >= 0) {
                            claims.incrementAndGet();
                            ids.add(id);
                        }
                    }
                });
                threads[i].start();
            }
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(LcoreTable.SLOTS, claims.get());
            assertEquals(LcoreTable.SLOTS, ids.size());
            assertEquals(-1, t.claimAny(me, LcoreSet.EMPTY));
        }
    }
}
