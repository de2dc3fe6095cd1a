package io.jnic.multiproc;

import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a callback when a watched process exits or is killed: one pidfd per process (pidfd_open), all in one
 * epoll set, read by one thread ("jnic-pid-watch"). The callbacks run on that thread.
 */
final class PidWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PidWatcher.class.getName());
    private static final long WAKE = 0;

    private record Watch(int pid, int pidfd, Runnable onExit) {
    }

    private final int epfd;
    private final int wakeFd;
    private final Map<Long, Watch> watches = new ConcurrentHashMap<>();
    private final Map<Integer, Long> keys = new ConcurrentHashMap<>();
    private final AtomicLong nextKey = new AtomicLong(1);
    private final Thread thread;
    private volatile boolean closed;

    PidWatcher(String name) {
        epfd = Events.epollCreate();
        wakeFd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        Events.epollCtl(epfd, Events.EPOLL_CTL_ADD, wakeFd, Events.EPOLLIN, WAKE);
        thread = new Thread(this::loop, "jnic-pid-watch-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Watches {@code pid}; when it is already gone, runs {@code onExit} at once (on the caller's thread). */
    void watch(int pid, Runnable onExit) {
        int pidfd;
        try {
            pidfd = Events.pidfdOpen(pid);
        } catch (SysException e) {
            if (e.errno() == Errno.ESRCH) {
                onExit.run();
                return;
            }
            throw e;
        }
        long key = nextKey.getAndIncrement();
        watches.put(key, new Watch(pid, pidfd, onExit));
        keys.put(pid, key);
        Events.epollCtl(epfd, Events.EPOLL_CTL_ADD, pidfd, Events.EPOLLIN, key);
    }

    /** Stops watching {@code pid} without running its callback; true when it was watched. */
    boolean unwatch(int pid) {
        Long key = keys.remove(pid);
        Watch w = key == null ? null : watches.remove(key);
        if (w == null) {
            return false;
        }
        Io.closeQuietly(w.pidfd()); // closing removes it from the epoll set
        return true;
    }

    private void loop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = Events.allocateEpollEvents(arena, 16);
            while (!closed) {
                int n = Events.epollWait(epfd, events, -1);
                for (int i = 0; i < n && !closed; i++) {
                    long key = Events.epollData(events, i);
                    if (key == WAKE) {
                        continue;
                    }
                    Watch w = watches.remove(key);
                    if (w == null) {
                        continue;
                    }
                    keys.remove(w.pid(), key);
                    Io.closeQuietly(w.pidfd());
                    try {
                        w.onExit().run();
                    } catch (RuntimeException | Error e) {
                        LOG.log(System.Logger.Level.WARNING, "exit callback for pid " + w.pid() + " failed", e);
                    }
                }
            }
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "process watcher stopped", e);
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Events.eventfdWrite(wakeFd, 1);
        if (Thread.currentThread() != thread) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Watch w : watches.values()) {
            Io.closeQuietly(w.pidfd());
        }
        watches.clear();
        keys.clear();
        Io.closeQuietly(wakeFd);
        Io.closeQuietly(epfd);
    }
}
