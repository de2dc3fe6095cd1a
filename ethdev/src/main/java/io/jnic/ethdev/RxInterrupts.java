package io.jnic.ethdev;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Interrupt/poll adaptive receive over several queues, the shape of DPDK's l3fwd-power: poll while packets
 * come; when a thread's queues are idle, {@link #sleep} arms each queue's RX interrupt, blocks on all their
 * eventfds at once (epoll) and disarms them when woken. No allocation per sleep.
 */
public final class RxInterrupts implements AutoCloseable {
    private final List<EthDevice> devs = new ArrayList<>();
    private final List<Integer> queues = new ArrayList<>();
    private final int epfd;
    private final Arena arena = Arena.ofConfined();
    private MemorySegment events;
    private long sleeps;
    private long wakeups;

    public RxInterrupts() {
        this.epfd = Events.epollCreate();
    }

    /** Adds RX queue {@code q} of {@code dev}; throws when the port has no interrupt for it. */
    public RxInterrupts add(EthDevice dev, int q) {
        int fd = dev.rxInterruptFd(q);
        if (fd < 0) {
            throw new IllegalArgumentException(dev.name() + " RX queue " + q + " has no interrupt: configure the port "
                    + "withRxInterrupts(true) on a device with enough MSI-X vectors");
        }
        Events.epollCtl(epfd, Events.EPOLL_CTL_ADD, fd, Events.EPOLLIN, devs.size());
        devs.add(dev);
        queues.add(q);
        events = Events.allocateEpollEvents(arena, devs.size());
        return this;
    }

    /**
     * Arms every queue and blocks up to {@code timeoutMillis} for one of them to interrupt; returns at once,
     * without blocking, when a queue already holds a packet. Returns true when woken by an interrupt.
     */
    public boolean sleep(int timeoutMillis) {
        int n = devs.size();
        int armed = 0;
        boolean ready = false;
        for (; armed < n; armed++) {
            if (!devs.get(armed).rxInterruptEnable(queues.get(armed))) {
                ready = true;
                break;
            }
        }
        boolean woken = false;
        if (!ready) {
            sleeps++;
            int k = Events.epollWait(epfd, events, timeoutMillis);
            for (int i = 0; i < k; i++) {
                int idx = (int) Events.epollData(events, i);
                Events.eventfdRead(devs.get(idx).rxInterruptFd(queues.get(idx)));
            }
            woken = k > 0;
            if (woken) {
                wakeups++;
            }
        }
        for (int i = 0; i < armed; i++) {
            devs.get(i).rxInterruptDisable(queues.get(i));
        }
        return woken;
    }

    /** Times {@link #sleep} blocked, and times an interrupt ended the block. */
    public long sleeps() {
        return sleeps;
    }

    public long wakeups() {
        return wakeups;
    }

    @Override
    public void close() {
        Io.closeQuietly(epfd);
        arena.close();
    }
}
