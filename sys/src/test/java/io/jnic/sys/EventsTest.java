package io.jnic.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventsTest {
    @Test
    void eventfdWrittenByAnotherThreadWakesEpoll() throws Exception {
        int efd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        int ep = Events.epollCreate();
        try (Arena arena = Arena.ofConfined()) {
            Events.epollCtl(ep, Events.EPOLL_CTL_ADD, efd, Events.EPOLLIN, 0xABCDEF0123L);
            MemorySegment events = Events.allocateEpollEvents(arena, 4);
            assertEquals(0, Events.epollWait(ep, events, 0), "nothing written yet");
            Thread writer = Thread.ofPlatform().start(() -> {
                sleep(50);
                Events.eventfdWrite(efd, 3);
            });
            long start = System.nanoTime();
            assertEquals(1, Events.epollWait(ep, events, 5000));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4));
            assertEquals(Events.EPOLLIN, Events.epollEvents(events, 0) & Events.EPOLLIN);
            assertEquals(0xABCDEF0123L, Events.epollData(events, 0));
            assertEquals(3, Events.eventfdRead(efd));
            assertEquals(-1, Events.eventfdRead(efd), "counter reset by the read");
            writer.join();
            Events.epollCtl(ep, Events.EPOLL_CTL_DEL, efd, 0, 0);
        } finally {
            Io.close(ep);
            Io.close(efd);
        }
    }

    @Test
    void pollSeesAReadableEventfd() {
        int efd = Events.eventfd(0, Events.EFD_CLOEXEC);
        try {
            assertFalse(Events.pollIn(efd, 10));
            Events.eventfdWrite(efd, 1);
            assertTrue(Events.pollIn(efd, 1000));
        } finally {
            Io.close(efd);
        }
    }

    @Test
    void pidfdBecomesReadableWhenTheChildExits() throws Exception {
        Process child = new ProcessBuilder("sleep", "30").start();
        int pidfd = Events.pidfdOpen((int) child.pid());
        try {
            assertFalse(Events.pollIn(pidfd, 50), "child still running");
            Events.pidfdSendSignal(pidfd, Proc.SIGKILL);
            assertTrue(Events.pollIn(pidfd, 5000), "pidfd readable after SIGKILL");
            assertTrue(child.waitFor(5, TimeUnit.SECONDS));
        } finally {
            Io.close(pidfd);
            child.destroyForcibly();
        }
    }

    @Test
    void pidfdOfANonexistentProcessSaysEsrch() {
        SysException e = assertThrows(SysException.class, () -> Events.pidfdOpen(0x3fffffff));
        assertEquals(Errno.ESRCH, e.errno());
        assertTrue(e.getMessage().contains("pidfd_open(1073741823) failed: ESRCH"), e.getMessage());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
