package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Proc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SharedLockTest {
    Arena arena;
    MemorySegment mem;
    SharedLock lock;
    Process sleeper;

    @BeforeEach
    void setUp() {
        arena = Arena.ofShared();
        mem = arena.allocate(SharedLock.SIZE, 64);
        lock = new SharedLock(mem);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (sleeper != null) {
            sleeper.destroyForcibly().waitFor();
        }
        arena.close();
    }

    private int liveOtherProcess() throws Exception {
        sleeper = new ProcessBuilder("sleep", "60").start();
        return (int) sleeper.pid();
    }

    /** Makes the lock look held by {@code pid} in generation 7 with the given start time in its stamp. */
    private void pretendHeld(int pid, long genTag, long startTime) {
        mem.set(ValueLayout.JAVA_LONG, SharedLock.OWNER, (7L << 32) | pid);
        mem.set(ValueLayout.JAVA_LONG, SharedLock.STAMP, (genTag << 40) | startTime);
    }

    @Test
    void lockAndUnlock() {
        lock.lock(Duration.ofSeconds(1));
        assertEquals(Proc.getpid(), lock.holderPid());
        assertTrue(lock.heldByThisProcess());
        lock.unlock();
        assertEquals(0, lock.holderPid());
        long w = mem.get(ValueLayout.JAVA_LONG, SharedLock.OWNER);
        assertEquals(1, w >>> 32, "generation advanced once");
    }

    @Test
    void notReentrantAndOnlyTheHolderUnlocks() throws Exception {
        assertThrows(IllegalStateException.class, lock::unlock);
        lock.lock(Duration.ofSeconds(1));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> lock.lock(Duration.ofSeconds(1)));
        assertEquals("SharedLock is not reentrant: this thread already holds it", e.getMessage());
        Thread other = Thread.ofPlatform().start(() -> assertThrows(IllegalStateException.class, lock::unlock));
        other.join();
        lock.unlock();
    }

    @Test
    void excludesThreads() throws Exception {
        int threads = 4;
        int rounds = 5000;
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            SharedLock mine = new SharedLock(mem); // one view per thread, as separate processes would have
            ts.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < rounds; i++) {
                    mine.lock(Duration.ofSeconds(30));
                    // a non-atomic read-modify-write: only exclusion keeps the count exact
                    mem.set(ValueLayout.JAVA_LONG, 24, mem.get(ValueLayout.JAVA_LONG, 24) + 1);
                    mine.unlock();
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals((long) threads * rounds, mem.get(ValueLayout.JAVA_LONG, 24));
        assertEquals(0, lock.recoveries());
    }

    @Test
    void aLiveHolderMakesWaitersTimeOutNamingIt() throws Exception {
        int pid = liveOtherProcess();
        pretendHeld(pid, 7, SharedLock.startTime(pid));
        MemoryException e = assertThrows(MemoryException.class, () -> lock.lock(Duration.ofMillis(200)));
        assertEquals(MemoryException.Reason.LOCK_TIMEOUT, e.reason());
        assertEquals("the memory group lock is held by live process " + pid + " for more than 200 ms: is it stuck?"
                + " (kill it, and the next locker takes over)", e.getMessage());
        assertEquals(pid, lock.holderPid(), "untouched");
    }

    @Test
    void aDeadHolderIsTakenOver() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        int dead = (int) p.pid();
        pretendHeld(dead, 7, 12345);
        lock.lock(Duration.ofSeconds(5));
        assertEquals(Proc.getpid(), lock.holderPid());
        assertEquals(1, lock.recoveries());
        assertEquals(8, mem.get(ValueLayout.JAVA_LONG, SharedLock.OWNER) >>> 32, "a new generation");
        lock.unlock();
    }

    @Test
    void aReusedPidIsRecognisedByItsStartTime() throws Exception {
        // the holder died and the kernel gave its pid to an unrelated process that started later
        int pid = liveOtherProcess();
        pretendHeld(pid, 7, SharedLock.startTime(pid) - 1);
        lock.lock(Duration.ofSeconds(5));
        assertEquals(1, lock.recoveries());
        lock.unlock();
        assertTrue(sleeper.isAlive(), "the unrelated process was not touched");
    }

    @Test
    void aHolderThatHasNotStampedYetCountsAsAlive() throws Exception {
        // stamp from the previous generation (6): the holder took the lock but has not written its stamp
        int pid = liveOtherProcess();
        pretendHeld(pid, 6, 1);
        MemoryException e = assertThrows(MemoryException.class, () -> lock.lock(Duration.ofMillis(100)));
        assertEquals(MemoryException.Reason.LOCK_TIMEOUT, e.reason());
        assertEquals(0, lock.recoveries());
    }

    @Test
    void startTimeOfProcesses() throws Exception {
        assertTrue(SharedLock.startTime(Proc.getpid()) > 0);
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertEquals(-1, SharedLock.startTime((int) p.pid()));
    }

    @Test
    void refusesAMisalignedOrShortRegion() {
        assertThrows(IllegalArgumentException.class, () -> new SharedLock(mem.asSlice(4, 32)));
    }
}
