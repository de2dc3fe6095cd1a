package io.jnic.sys;

import static io.jnic.sys.Native.C_INT;
import static io.jnic.sys.Native.C_LONG;
import static io.jnic.sys.Native.C_POINTER;
import static io.jnic.sys.Native.capture;
import static io.jnic.sys.Native.errno;
import static io.jnic.sys.Native.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Waiting and waking: eventfd(2), epoll(7), poll(2), pidfd_open(2) and pidfd_send_signal(2).
 * The event-array helpers work on caller-owned native memory so that a polling loop makes no garbage.
 */
public final class Events {
    public static final int EFD_SEMAPHORE = 0x1;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLET = 1 << 31;

    public static final short POLLIN = 0x001;
    public static final short POLLOUT = 0x004;
    public static final short POLLERR = 0x008;
    public static final short POLLHUP = 0x010;
    public static final short POLLNVAL = 0x020;

    /** struct epoll_event is packed on x86-64: u32 events at 0, u64 data at 4. */
    public static final long EPOLL_EVENT_SIZE = 12;
    /** struct pollfd: int fd, short events, short revents. */
    public static final long POLLFD_SIZE = 8;

    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;

    private static final ValueLayout.OfLong U64_UNALIGNED = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final MethodHandle EVENTFD = Native.downcallErrno("eventfd",
            FunctionDescriptor.of(C_INT, C_INT, C_INT));
    private static final MethodHandle READ = Native.downcallErrno("read",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    private static final MethodHandle WRITE = Native.downcallErrno("write",
            FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_LONG));
    private static final MethodHandle EPOLL_CREATE1 = Native.downcallErrno("epoll_create1",
            FunctionDescriptor.of(C_INT, C_INT));
    private static final MethodHandle EPOLL_CTL = Native.downcallErrno("epoll_ctl",
            FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER));
    private static final MethodHandle EPOLL_WAIT = Native.downcallErrno("epoll_wait",
            FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT, C_INT));
    private static final MethodHandle POLL = Native.downcallErrno("poll",
            FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT));
    private static final MethodHandle SYSCALL_2 = Native.downcallErrno("syscall",
            FunctionDescriptor.of(C_LONG, C_LONG, C_LONG, C_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL_4 = Native.downcallErrno("syscall",
            FunctionDescriptor.of(C_LONG, C_LONG, C_LONG, C_LONG, C_LONG, C_LONG), Linker.Option.firstVariadicArg(1));

    private Events() {
    }

    public static int eventfd(int initialValue, int flags) {
        try {
            int r = (int) EVENTFD.invokeExact(capture(), initialValue, flags);
            if (r < 0) {
                throw fail("eventfd", initialValue, Native.hex(flags));
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Adds {@code value} to an eventfd counter, waking its readers. */
    public static void eventfdWrite(int fd, long value) {
        MemorySegment buf = Native.scratch();
        buf.set(C_LONG, 0, value);
        try {
            long r;
            do {
                r = (long) WRITE.invokeExact(capture(), fd, buf, 8L);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r != 8) {
                throw fail("write(eventfd)", fd, value);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Reads and resets an eventfd counter; -1 when a non-blocking eventfd is zero (EAGAIN). */
    public static long eventfdRead(int fd) {
        MemorySegment buf = Native.scratch();
        try {
            long r;
            do {
                r = (long) READ.invokeExact(capture(), fd, buf, 8L);
            } while (r < 0 && errno() == Errno.EINTR.code());
            if (r == 8) {
                return buf.get(C_LONG, 0);
            }
            if (r < 0 && errno() == Errno.EAGAIN.code()) {
                return -1;
            }
            throw fail("read(eventfd)", fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int epollCreate() {
        try {
            int r = (int) EPOLL_CREATE1.invokeExact(capture(), EPOLL_CLOEXEC);
            if (r < 0) {
                throw fail("epoll_create1", "EPOLL_CLOEXEC");
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** epoll_ctl(2); {@code data} comes back with each event (commonly the fd or a slot index). */
    public static void epollCtl(int epfd, int op, int fd, int events, long data) {
        MemorySegment ev = Native.scratch();
        ev.set(C_INT, 0, events);
        ev.set(U64_UNALIGNED, 4, data);
        MemorySegment arg = op == EPOLL_CTL_DEL ? MemorySegment.NULL : ev;
        try {
            if ((int) EPOLL_CTL.invokeExact(capture(), epfd, op, fd, arg) < 0) {
                throw fail("epoll_ctl", epfd, op, fd, Native.hex(events));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** An array for {@link #epollWait}: {@code capacity} packed epoll_event entries. */
    public static MemorySegment allocateEpollEvents(Arena arena, int capacity) {
        return arena.allocate(EPOLL_EVENT_SIZE * capacity, 8);
    }

    /** epoll_wait(2): number of ready entries in {@code events} (0 on timeout or EINTR). */
    public static int epollWait(int epfd, MemorySegment events, int timeoutMillis) {
        int max = (int) (events.byteSize() / EPOLL_EVENT_SIZE);
        try {
            int r = (int) EPOLL_WAIT.invokeExact(capture(), epfd, events, max, timeoutMillis);
            if (r < 0) {
                if (errno() == Errno.EINTR.code()) {
                    return 0;
                }
                throw fail("epoll_wait", epfd, max, timeoutMillis);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int epollEvents(MemorySegment events, int index) {
        return events.get(C_INT, index * EPOLL_EVENT_SIZE);
    }

    public static long epollData(MemorySegment events, int index) {
        return events.get(U64_UNALIGNED, index * EPOLL_EVENT_SIZE + 4);
    }

    /** An array for {@link #poll}: {@code count} pollfd entries. */
    public static MemorySegment allocatePollFds(Arena arena, int count) {
        return arena.allocate(POLLFD_SIZE * count, 4);
    }

    public static void setPollFd(MemorySegment pollfds, int index, int fd, short events) {
        pollfds.set(C_INT, index * POLLFD_SIZE, fd);
        pollfds.set(Native.C_SHORT, index * POLLFD_SIZE + 4, events);
        pollfds.set(Native.C_SHORT, index * POLLFD_SIZE + 6, (short) 0);
    }

    public static short pollRevents(MemorySegment pollfds, int index) {
        return pollfds.get(Native.C_SHORT, index * POLLFD_SIZE + 6);
    }

    /** poll(2) over every entry of {@code pollfds}: the number with events (0 on timeout or EINTR). */
    public static int poll(MemorySegment pollfds, int timeoutMillis) {
        long n = pollfds.byteSize() / POLLFD_SIZE;
        try {
            int r = (int) POLL.invokeExact(capture(), pollfds, n, timeoutMillis);
            if (r < 0) {
                if (errno() == Errno.EINTR.code()) {
                    return 0;
                }
                throw fail("poll", n, timeoutMillis);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Waits up to {@code timeoutMillis} for {@code fd} to become readable (or hang up). */
    public static boolean pollIn(int fd, int timeoutMillis) {
        MemorySegment pfd = Native.scratch().asSlice(16, POLLFD_SIZE);
        setPollFd(pfd, 0, fd, POLLIN);
        return poll(pfd, timeoutMillis) > 0;
    }

    /** pidfd_open(2): a descriptor that becomes readable when the process exits. */
    public static int pidfdOpen(int pid) {
        try {
            long r = (long) SYSCALL_2.invokeExact(capture(), SYS_PIDFD_OPEN, (long) pid, 0L);
            if (r < 0) {
                throw fail("pidfd_open", pid);
            }
            return (int) r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void pidfdSendSignal(int pidfd, int signal) {
        try {
            long r = (long) SYSCALL_4.invokeExact(capture(), SYS_PIDFD_SEND_SIGNAL, (long) pidfd, (long) signal, 0L, 0L);
            if (r < 0) {
                throw fail("pidfd_send_signal", pidfd, signal);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
