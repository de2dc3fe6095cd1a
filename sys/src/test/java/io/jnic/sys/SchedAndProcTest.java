package io.jnic.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SchedAndProcTest {
    @Test
    void aThreadPinnedToOneCpuRunsThere() throws Exception {
        BitSet allowed = Sched.getAffinity(0);
        assertFalse(allowed.isEmpty());
        int target = allowed.previousSetBit(allowed.length());
        AtomicInteger seen = new AtomicInteger(-1);
        AtomicInteger tid = new AtomicInteger();
        Thread t = Thread.ofPlatform().start(() -> {
            tid.set(Proc.gettid());
            BitSet one = new BitSet();
            one.set(target);
            Sched.setAffinity(0, one);
            seen.set(Sched.currentCpu());
            assertEquals(one, Sched.getAffinity(0));
        });
        t.join();
        assertEquals(target, seen.get());
        assertNotEquals(Proc.getpid(), tid.get(), "a thread has its own tid");
        assertTrue(Sched.currentNumaNode() >= 0);
    }

    @Test
    void anEmptyCpuSetIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Sched.setAffinity(0, new BitSet()));
    }

    @Test
    void affinityOfAMissingThreadSaysEsrch() {
        BitSet one = new BitSet();
        one.set(0);
        assertEquals(Errno.ESRCH, assertThrows(SysException.class, () -> Sched.setAffinity(0x3fffffff, one)).errno());
    }

    @Test
    void identityAndClocks() {
        assertEquals(ProcessHandle.current().pid(), Proc.getpid());
        assertTrue(Proc.isAlive(Proc.getpid()));
        assertFalse(Proc.kill(0x3fffffff, 0));
        long a = Proc.clockGettime(Proc.CLOCK_MONOTONIC);
        long b = Proc.clockGettime(Proc.CLOCK_MONOTONIC);
        assertTrue(b >= a);
        long wall = Proc.clockGettime(Proc.CLOCK_REALTIME) / 1_000_000L;
        assertTrue(Math.abs(wall - System.currentTimeMillis()) < 5_000);
        assertEquals(Errno.EINVAL, assertThrows(SysException.class, () -> Proc.clockGettime(-99)).errno());
        assertTrue(Proc.geteuid() >= 0);
    }

    @Test
    void errnoTableNamesEveryCodeItKnows() {
        for (Errno e : Errno.values()) {
            if (e != Errno.EUNKNOWN) {
                assertEquals(e, Errno.of(e.code()));
            }
        }
        assertEquals(Errno.EUNKNOWN, Errno.of(4000));
        assertTrue(new SysException("x()", 4000).getMessage().startsWith("x() failed: errno 4000"));
    }
}
