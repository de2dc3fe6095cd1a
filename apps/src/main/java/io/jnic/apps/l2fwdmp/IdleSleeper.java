package io.jnic.apps.l2fwdmp;

import io.jnic.ethdev.QueuePair;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** --idle interrupt: sleeps on the queues' interrupt eventfds once they have been idle for a while. */
final class IdleSleeper implements AutoCloseable {
    private static final int IDLE_LOOPS = 256;
    private final QueuePair[] queues;
    private final int[] ports;
    private final int[] fds;
    private final int epfd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment events;
    private int idle;
    long sleeps;
    long wakeups;
    /** Why the sleeper gave up (the primary that arms the interrupts ended): then the loop only polls. */
    volatile String stopped;

    IdleSleeper(QueuePair[] io, int[] ports) {
        this.queues = io;
        this.ports = ports;
        this.fds = new int[ports.length];
        this.epfd = Events.epollCreate();
        this.events = Events.allocateEpollEvents(arena, ports.length);
        for (int i = 0; i < ports.length; i++) {
            fds[i] = queues[ports[i]].rxInterruptFd();
            Events.epollCtl(epfd, Events.EPOLL_CTL_ADD, fds[i], Events.EPOLLIN, i);
        }
    }

    /** Called once per loop with whether it received anything. */
    void loop(boolean got) {
        if (got || stopped != null) {
            idle = 0;
            return;
        }
        if (++idle < IDLE_LOOPS) {
            return;
        }
        idle = 0;
        for (int fd : fds) {
            Events.eventfdRead(fd); // drop a stale count
        }
        for (int p : ports) {
            try {
                if (!queues[p].rxInterruptEnable() || queues[p].rxReady()) {
                    return; // a packet came before the arm: poll on
                }
            } catch (IllegalStateException noPrimary) {
                stopped = noPrimary.getMessage(); // nobody arms the vector any more: poll from now on
                return;
            }
        }
        sleeps++;
        // at most 100 ms, so that statistics and --duration keep their pace
        if (Events.epollWait(epfd, events, 100) > 0) {
            wakeups++;
        }
    }

    @Override
    public void close() {
        Io.closeQuietly(epfd);
        arena.close();
    }
}
