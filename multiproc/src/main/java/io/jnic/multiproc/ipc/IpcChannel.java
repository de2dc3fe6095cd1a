package io.jnic.multiproc.ipc;

import static io.jnic.multiproc.ipc.Wire.BYTE;

import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The IPC channel of one process (rte_mp): a UNIX datagram socket in the runtime directory, named actions
 * with handlers, one-way messages, synchronous and asynchronous requests. The primary's socket is
 * {@value #PRIMARY_SOCKET}; each secondary binds {@code mp_socket_<pid>_<n>}. The primary talks to every
 * secondary (broadcast), a secondary only to the primary.
 *
 * <p>A receive thread reads the socket, checks every datagram (size, layout, sender uid, sender socket)
 * and completes waiting requests; action handlers and asynchronous callbacks run on a separate handler
 * thread, so a handler may make a synchronous request of its own. Rejected datagrams are counted by cause in
 * {@link #stats()}, their descriptors closed, and logged at most once per cause per interval
 * ({@link RateLimitedLog}).
 *
 * <p>Replies (REP, IGN) are sent without waiting: when the peer's socket queue is full the reply is dropped
 * and counted ({@link IpcStats#peerQueueFull()}), so a peer that never reads its socket cannot stall the
 * receive or the handler thread. Once the runtime has told the primary's channel who the members of the
 * group are ({@link #admitMembers}), actions registered {@link Access#MEMBERS} (the default) are served only
 * to registered members, and broadcasts go only to them.
 */
public final class IpcChannel implements AutoCloseable {
    /** The primary's socket in the runtime directory. */
    public static final String PRIMARY_SOCKET = "mp_socket";
    private static final Pattern SECONDARY_SOCKET = Pattern.compile("mp_socket_[0-9]{1,10}_[0-9]{1,10}");
    /** How long a send waits for room in a peer's full receive queue before giving up on that peer. */
    private static final long SEND_PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);

    private static final System.Logger LOG = System.getLogger(IpcChannel.class.getName());
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private static final Pattern SECONDARY_SOCKET_PID = Pattern.compile("mp_socket_([0-9]{1,10})_[0-9]{1,10}");

    /** Who may use an action of the primary's channel once it {@linkplain #admitMembers admits members}. */
    public enum Access {
        /** Registered members of the group only: anything that changes shared state or costs the primary. */
        MEMBERS,
        /** Any peer socket of the runtime dir whose credentials check out (registration itself). */
        ANY_PEER
    }

    /** The group's registered members, as the runtime tracks them (called on the receive thread). */
    @FunctionalInterface
    public interface Membership {
        /** True when process {@code pid}, sending from {@code socketPath}, is a registered member. */
        boolean isMember(int pid, String socketPath);
    }

    private record Handler(IpcAction action, Access access) {
    }

    private final Path dir;
    private final String dirPrefix;
    private final boolean primary;
    private final Path socketPath;
    private final String primarySocket;
    private final int socket;
    private final int wakeFd;
    private final int euid = Proc.geteuid();

    private final UnixMessage rx = new UnixMessage(Wire.MAX_SIZE, IpcMessage.MAX_FDS);
    private final UnixMessage tx = new UnixMessage(Wire.MAX_SIZE, IpcMessage.MAX_FDS);
    private final ReentrantLock txLock = new ReentrantLock();
    private final Map<String, Handler> actions = new ConcurrentHashMap<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);
    private final RateLimitedLog drops = new RateLimitedLog(LOG);
    private volatile Membership members; // primary: who may use MEMBERS actions; null: anyone (a bare channel)
    private volatile int expectedPrimaryPid; // secondary: the primary's pid, 0: not checked
    private final ScheduledThreadPoolExecutor handlerThread;
    private final Thread receiver;
    private volatile Thread handler;
    private volatile boolean closed;
    private volatile String noPrimary; // a secondary's reason why there is no primary to talk to, or null

    private IpcChannel(Path dir, boolean primary) {
        this.dir = dir.toAbsolutePath().normalize();
        this.dirPrefix = this.dir + "/";
        this.primary = primary;
        this.primarySocket = this.dir.resolve(PRIMARY_SOCKET).toString();
        this.socketPath = primary ? this.dir.resolve(PRIMARY_SOCKET)
                : this.dir.resolve("mp_socket_" + Proc.getpid() + "_" + SEQUENCE.incrementAndGet());
        UnixAddress address = UnixAddress.of(socketPath);
        int s = Sockets.socket(Sockets.SOCK_DGRAM);
        int w = -1;
        try {
            // A socket file left by a dead process of the same name: nobody can be bound to it any more
            // (the primary holds the prefix lock; a secondary's name carries its own pid).
            Files.deleteIfExists(socketPath);
            Sockets.bind(s, address);
            Sockets.setIntOption(s, Sockets.SOL_SOCKET, Sockets.SO_PASSCRED, 1);
            w = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        } catch (IOException | RuntimeException e) {
            Io.closeQuietly(s);
            Io.closeQuietly(w);
            rx.close();
            tx.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot create IPC socket " + socketPath + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
        this.socket = s;
        this.wakeFd = w;
        String tag = (primary ? "primary" : "secondary") + "@" + this.dir.getFileName();
        this.handlerThread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "jnic-mp-handler-" + tag);
            t.setDaemon(true);
            handler = t;
            return t;
        });
        handlerThread.setRemoveOnCancelPolicy(true);
        handlerThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // pending timeouts: close() finishes them
        this.receiver = new Thread(this::receiveLoop, "jnic-mp-receive-" + tag);
        receiver.setDaemon(true);
        receiver.start();
    }

    /** Opens the primary's channel in {@code runtimeDir} (binds {@value #PRIMARY_SOCKET}). */
    public static IpcChannel primary(Path runtimeDir) {
        return new IpcChannel(runtimeDir, true);
    }

    /** Opens a secondary's channel in {@code runtimeDir} (binds {@code mp_socket_<pid>_<n>}). */
    public static IpcChannel secondary(Path runtimeDir) {
        return new IpcChannel(runtimeDir, false);
    }

    public boolean isPrimary() {
        return primary;
    }

    /**
     * A secondary: there is no primary to talk to any more (it ended, or this process joined a group whose
     * primary had ended). From now on every message or request to the primary fails at once with
     * {@link NoPrimaryException} carrying {@code why}, instead of being sent into the void and timing out;
     * requests already waiting for the primary's answer end now with what they have (nothing).
     */
    public void primaryGone(String why) {
        if (primary) {
            throw new IllegalStateException("primaryGone is for a secondary's channel");
        }
        noPrimary = why;
        for (Pending p : List.copyOf(pending.values())) {
            if (p.callback != null) {
                finish(p);
            } else {
                synchronized (p) {
                    p.notifyAll();
                }
            }
        }
    }

    /** Thrown by a secondary's sends after {@link #primaryGone}: what is missing, and why. */
    public static final class NoPrimaryException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        NoPrimaryException(String action, String why) {
            super("IPC '" + action + "' to the primary: " + why);
        }
    }

    private void checkPrimary(String action) {
        String why = noPrimary;
        if (why != null) {
            throw new NoPrimaryException(action, why);
        }
    }

    /** This channel's own socket. */
    public Path socketPath() {
        return socketPath;
    }

    public Path runtimeDir() {
        return dir;
    }

    /**
     * Registers the handler of action {@code name} (rte_mp_action_register), for {@link Access#MEMBERS}.
     *
     * @throws IllegalStateException when the action already has a handler
     */
    public void register(String name, IpcAction action) {
        register(name, Access.MEMBERS, action);
    }

    /**
     * Registers the handler of action {@code name}, served to {@code access}: {@link Access#ANY_PEER} only for
     * what a process needs before it is a member (registration), and costs nothing.
     *
     * @throws IllegalStateException when the action already has a handler
     */
    public void register(String name, Access access, IpcAction action) {
        IpcMessage.checkName(name);
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(access, "access");
        if (actions.putIfAbsent(name, new Handler(action, access)) != null) {
            throw new IllegalStateException("IPC action '" + name + "' already has a handler; unregister it first");
        }
    }

    /**
     * The primary: from now on {@link Access#MEMBERS} actions are served only to processes {@code membership}
     * accepts (others' requests and messages are dropped, counted as {@link IpcStats#unregistered()}, and not
     * answered), and messages and requests go only to members' sockets.
     */
    public void admitMembers(Membership membership) {
        if (!primary) {
            throw new IllegalStateException("admitMembers is for the primary's channel");
        }
        members = Objects.requireNonNull(membership, "membership");
    }

    /**
     * A secondary: datagrams from the primary's socket count only when the kernel says pid {@code pid} sent
     * them (others are {@link IpcStats#badCredentials()}).
     */
    public void expectPrimary(int pid) {
        if (primary) {
            throw new IllegalStateException("expectPrimary is for a secondary's channel");
        }
        expectedPrimaryPid = pid;
    }

    /** Removes the handler of action {@code name} (rte_mp_action_unregister); true if there was one. */
    public boolean unregister(String name) {
        return actions.remove(name) != null;
    }

    /**
     * Sends a one-way message (rte_mp_sendmsg): from the primary to every secondary, from a secondary to
     * the primary. Returns how many peers it reached.
     */
    public int sendMessage(IpcMessage message) {
        checkOpen();
        checkPrimary(message.name());
        int sent = 0;
        for (String peer : peers()) {
            if (sendTo(peer, Wire.TYPE_MSG, 0, message) == SENT) {
                sent++;
            }
        }
        return sent;
    }

    /**
     * Sends a request to every peer and waits up to {@code timeout} for their replies
     * (rte_mp_request_sync). Never throws on timeout: compare {@link IpcReply#nbReceived()} with
     * {@link IpcReply#nbSent()}. With no peer, it returns at once with nothing sent.
     */
    public IpcReply requestSync(IpcMessage request, Duration timeout) {
        checkOpen();
        checkPrimary(request.name());
        long deadline = System.nanoTime() + timeout.toNanos();
        Pending p = new Pending(request.name(), null);
        pending.put(p.id, p);
        try {
            sendRequest(p, request);
            synchronized (p) {
                p.sendDone = true;
                long left;
                while (!p.complete() && !closed && noPrimary == null && (left = deadline - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(p, left);
                }
                p.done = true;
                return p.reply();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (p) {
                p.done = true;
                return p.reply();
            }
        } finally {
            pending.remove(p.id);
        }
    }

    /**
     * Sends a request to every peer and returns at once (rte_mp_request_async). {@code callback} runs
     * exactly once on the handler thread: when every peer has answered, when {@code timeout} expires (with
     * the replies so far), at once when there is no peer, or when the channel closes.
     */
    public void requestAsync(IpcMessage request, Duration timeout, Consumer<IpcReply> callback) {
        checkOpen();
        checkPrimary(request.name());
        Objects.requireNonNull(callback, "callback");
        Pending p = new Pending(request.name(), callback);
        pending.put(p.id, p);
        try {
            sendRequest(p, request);
        } catch (RuntimeException e) {
            pending.remove(p.id);
            throw e;
        }
        boolean complete;
        synchronized (p) {
            p.sendDone = true;
            complete = p.complete();
        }
        if (complete) {
            finish(p);
        } else {
            ScheduledFuture<?> f = handlerThread.schedule(() -> finish(p), timeout.toNanos(), TimeUnit.NANOSECONDS);
            synchronized (p) {
                if (p.done) { // every reply came in before the timer was filed
                    f.cancel(false);
                } else {
                    p.timeout = f;
                }
            }
        }
    }

    /**
     * Answers a request (rte_mp_reply). Returns false when the requester is gone.
     *
     * @throws IllegalStateException when {@code peer} sent a one-way message, not a request
     */
    public boolean reply(IpcPeer peer, IpcMessage reply) {
        checkOpen();
        if (!peer.isRequest()) {
            throw new IllegalStateException("cannot reply to " + peer + ": it sent a one-way message, nobody waits for an answer");
        }
        return sendTo(peer.socketPath(), Wire.TYPE_REP, peer.requestId(), reply) == SENT;
    }

    /**
     * True on this channel's handler thread: code that waits for requests this process must itself answer
     * (memory hotplug, for one) cannot run there.
     */
    public boolean isHandlerThread() {
        return Thread.currentThread() == handler;
    }

    /** The counters of accepted and dropped datagrams, by cause. */
    public IpcStats stats() {
        long[] v = new long[counters.length()];
        for (int k = 0; k < v.length; k++) {
            v[k] = counters.get(k);
        }
        return IpcStats.of(v);
    }

    /**
     * The sockets this channel talks to now: the primary's, or (for the primary) every secondary's, only the
     * members' once it {@linkplain #admitMembers admits members}.
     */
    public List<String> peers() {
        if (!primary) {
            return List.of(primarySocket);
        }
        Membership m = members;
        List<String> list = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "mp_socket_*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (SECONDARY_SOCKET.matcher(name).matches() && (m == null || m.isMember(socketPid(name), p.toString()))) {
                    list.add(p.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the IPC sockets in " + dir + ": " + e.getMessage(), e);
        }
        return list;
    }

    // ---- sending

    private static final int SENT = 0;
    private static final int GONE = 1;
    private static final int FAILED = 2;

    private void sendRequest(Pending p, IpcMessage request) {
        for (String peer : peers()) {
            synchronized (p) {
                p.waitingFor.add(peer); // before sending: the reply may beat us back
            }
            if (sendTo(peer, Wire.TYPE_REQ, p.id, request) == SENT) {
                synchronized (p) {
                    p.sent++;
                }
            } else {
                synchronized (p) {
                    p.waitingFor.remove(peer);
                }
            }
        }
    }

    /**
     * Sends one datagram. Replies (REP, IGN) are tried once: a full peer queue drops them (counted), so that
     * neither the receive nor the handler thread ever waits for a peer. Messages and requests wait up to
     * {@link #SEND_PATIENCE_NANOS} for room, on the sender's thread, without holding the send lock between tries.
     */
    private int sendTo(String peer, byte type, long requestId, IpcMessage m) {
        UnixAddress to = UnixAddress.of(Path.of(peer));
        boolean reply = type == Wire.TYPE_REP || type == Wire.TYPE_IGN;
        long patience = System.nanoTime() + SEND_PATIENCE_NANOS;
        for (;;) {
            txLock.lock();
            try {
                if (closed && type != Wire.TYPE_IGN) {
                    return FAILED;
                }
                int length = Wire.encode(tx.data(), type, requestId, m);
                if (tx.send(socket, length, to, m.rawFds(), m.fdCount(), UnixMessage.MSG_DONTWAIT) >= 0) {
                    return SENT;
                }
            } catch (SysException e) {
                if (e.errno() == Errno.ECONNREFUSED || e.errno() == Errno.ENOENT) {
                    if (e.errno() == Errno.ECONNREFUSED && primary && peer.startsWith(dirPrefix)) {
                        unlinkStale(peer); // its process is gone (DPDK removes such sockets too)
                    }
                    return GONE;
                }
                drops.log(System.Logger.Level.WARNING, "IPC send failure", () -> "IPC " + Wire.typeName(type) + " '"
                        + m.name() + "' to " + peer + " failed: " + e.getMessage());
                return FAILED;
            } finally {
                txLock.unlock();
            }
            if (reply) {
                counters.incrementAndGet(Counter.PEER_QUEUE_FULL.ordinal());
                drops.log(System.Logger.Level.WARNING, Counter.PEER_QUEUE_FULL.key, () -> "IPC " + socketPath + ": "
                        + Wire.typeName(type) + " '" + m.name() + "' to " + peer + " dropped: its socket queue is full"
                        + " (the process does not read it)");
                return FAILED;
            }
            if (System.nanoTime() - patience > 0) {
                drops.log(System.Logger.Level.WARNING, "IPC send timeout", () -> "IPC peer " + peer + " did not read its"
                        + " socket for " + SEND_PATIENCE_NANOS / 1_000_000 + " ms; " + Wire.typeName(type) + " '"
                        + m.name() + "' not delivered");
                return FAILED;
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /** The pid in a secondary's socket name {@code mp_socket_<pid>_<n>}, or -1. */
    static int socketPid(String fileName) {
        java.util.regex.Matcher x = SECONDARY_SOCKET_PID.matcher(fileName);
        return x.matches() ? (int) Math.min(Integer.MAX_VALUE, Long.parseLong(x.group(1))) : -1;
    }

    private static void unlinkStale(String peer) {
        try {
            Files.deleteIfExists(Path.of(peer));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove stale IPC socket {0}: {1}", peer, e.getMessage());
        }
    }

    // ---- receiving

    private void receiveLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfds = Events.allocatePollFds(arena, 2);
            while (!closed) {
                Events.setPollFd(pfds, 0, socket, Events.POLLIN);
                Events.setPollFd(pfds, 1, wakeFd, Events.POLLIN);
                Events.poll(pfds, -1);
                while (!closed) {
                    long n = rx.receive(socket, UnixMessage.MSG_DONTWAIT);
                    if (n < 0) {
                        break;
                    }
                    accept((int) n);
                }
            }
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "IPC receive thread of " + socketPath + " stopped", e);
            }
        }
    }

    private void drop(Counter cause, String from, String why) {
        rx.closeReceivedFds();
        counters.incrementAndGet(cause.ordinal());
        boolean routine = cause == Counter.UNKNOWN_ACTION || cause == Counter.UNEXPECTED_REPLY; // IGN, late replies
        drops.log(routine ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING, cause.key,
                () -> "IPC " + socketPath + ": dropped a datagram (" + cause.key + ") from " + (from.isEmpty() ? "an "
                        + "unbound socket" : from) + ": " + why);
    }

    /** Checks one datagram in {@link #rx} and hands it on; anything wrong drops it. */
    private void accept(int length) {
        String from = rx.senderPath();
        if (!rx.truncated() && (!rx.hasCredentials() || (rx.senderUid() != euid && rx.senderUid() != 0))) {
            drop(Counter.WRONG_UID, from, "sender uid " + (rx.hasCredentials() ? rx.senderUid() : "unknown") + ", ours is "
                    + euid);
            return;
        }
        MemorySegment d = rx.data();
        Wire.Header h = Wire.decode(d, length, rx.fdCount(), rx.truncated());
        if (!h.ok()) {
            drop(h.cause(), from, h.why());
            return;
        }
        if (!isPeer(from)) {
            drop(Counter.BAD_PEER, from, "not a peer socket of " + (primary ? "the primary" : "this secondary"));
            return;
        }
        int pid = rx.senderPid();
        int owner = primary ? socketPid(from.substring(dirPrefix.length())) : expectedPrimaryPid;
        if (owner > 0 && pid != owner) {
            drop(Counter.BAD_CREDENTIALS, from, "sent by pid " + pid + ", but the socket is pid " + owner + "'s");
            return;
        }
        int type = h.type();
        long requestId = h.requestId();
        boolean reply = type == Wire.TYPE_REP || type == Wire.TYPE_IGN;
        String name = Wire.name(d, h.nameLength());
        Handler handler = reply ? null : actions.get(name);
        Membership m = members;
        if (!reply && m != null && (handler == null || handler.access() == Access.MEMBERS) && !m.isMember(pid, from)) {
            drop(Counter.UNREGISTERED, from, Wire.typeName(type) + " '" + name + "' from pid " + pid + ", which is not a "
                    + "registered member of the group");
            return;
        }
        int paramLen = h.paramLength();
        int numFds = h.fdCount();
        byte[] param = d.asSlice(Wire.OFF_PARAM, paramLen).toArray(BYTE);
        int[] fds = new int[numFds];
        for (int i = 0; i < numFds; i++) {
            fds[i] = rx.fd(i);
        }
        IpcMessage message = new IpcMessage(name, param, fds);
        if (reply) {
            if (!complete(requestId, from, type == Wire.TYPE_IGN, message)) {
                drop(Counter.UNEXPECTED_REPLY, from, Wire.typeName(type) + " to request " + requestId
                        + " that nobody waits for");
                return;
            }
            counters.incrementAndGet(Counter.RECEIVED.ordinal());
            return;
        }
        boolean request = type == Wire.TYPE_REQ;
        if (handler == null) {
            drop(Counter.UNKNOWN_ACTION, from, "no handler for '" + name + "'");
            if (request) { // tell the requester not to wait (DPDK's MP_IGN); never waits for room
                sendTo(from, Wire.TYPE_IGN, requestId, new IpcMessage(name));
            }
            return;
        }
        counters.incrementAndGet(Counter.RECEIVED.ordinal());
        IpcPeer peer = new IpcPeer(from, pid, rx.senderUid(), requestId, request);
        IpcAction action = handler.action();
        try {
            handlerThread.execute(() -> runHandler(action, message, peer));
        } catch (RejectedExecutionException closing) {
            message.closeFds();
        }
    }

    private boolean isPeer(String from) {
        if (!primary) {
            return from.equals(primarySocket);
        }
        return from.startsWith(dirPrefix) && SECONDARY_SOCKET.matcher(from.substring(dirPrefix.length())).matches();
    }

    private void runHandler(IpcAction action, IpcMessage message, IpcPeer peer) {
        try {
            action.handle(message, peer);
        } catch (RuntimeException | Error e) {
            counters.incrementAndGet(Counter.HANDLER_FAILED.ordinal());
            StackTraceElement[] at = e.getStackTrace();
            drops.log(System.Logger.Level.WARNING, Counter.HANDLER_FAILED.key + " " + message.name(), () -> "IPC handler for '"
                    + message.name() + "' from " + peer + " failed: " + e + (at.length > 0 ? " at " + at[0] : ""));
            LOG.log(System.Logger.Level.DEBUG, "IPC handler for '" + message.name() + "' failed", e);
        }
    }

    /** A reply or IGN arrived: files it with its request; false when nobody waits for it from that peer. */
    private boolean complete(long requestId, String from, boolean ignored, IpcMessage message) {
        Pending p = pending.get(requestId);
        if (p == null) {
            return false;
        }
        boolean finished;
        synchronized (p) {
            if (p.done || !p.waitingFor.remove(from)) {
                return false;
            }
            if (ignored) {
                p.ignored++;
            } else {
                p.replies.add(message);
            }
            finished = p.complete();
            if (p.callback == null) {
                p.notifyAll();
            }
        }
        if (finished && p.callback != null) {
            finish(p);
        }
        return true;
    }

    /** Completes an asynchronous request exactly once and runs its callback on the handler thread. */
    private void finish(Pending p) {
        IpcReply reply;
        synchronized (p) {
            if (p.done) {
                return;
            }
            p.done = true;
            if (p.timeout != null) {
                p.timeout.cancel(false);
            }
            reply = p.reply();
        }
        pending.remove(p.id);
        Runnable call = () -> {
            try {
                p.callback.accept(reply);
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "IPC callback of request '" + p.name + "' failed", e);
            }
        };
        try {
            handlerThread.execute(call);
        } catch (RejectedExecutionException closing) {
            call.run();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("IPC channel " + socketPath + " is closed");
        }
    }

    /** Stops both threads, completes waiting requests with what they have, removes the socket. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Events.eventfdWrite(wakeFd, 1);
        try {
            receiver.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Pending p : List.copyOf(pending.values())) {
            if (p.callback != null) {
                finish(p);
            } else {
                synchronized (p) {
                    p.notifyAll();
                }
            }
        }
        handlerThread.shutdown();
        try {
            // a handler or callback may close its own channel: it cannot wait for itself
            if (Thread.currentThread() != handler && !handlerThread.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "IPC handlers of {0} still running after 5 s", socketPath);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drops.flush(System.Logger.Level.INFO);
        txLock.lock();
        try {
            Io.closeQuietly(socket);
            Io.closeQuietly(wakeFd);
            unlinkStale(socketPath.toString());
            if (!receiver.isAlive()) {
                rx.close();
            }
            tx.close();
        } finally {
            txLock.unlock();
        }
    }

    /** One request in flight. Guarded by its own monitor. */
    private final class Pending {
        final long id = nextRequestId.getAndIncrement();
        final String name;
        final Consumer<IpcReply> callback;
        final Set<String> waitingFor = new HashSet<>();
        final List<IpcMessage> replies = new ArrayList<>();
        int sent;
        int ignored;
        boolean sendDone;
        boolean done;
        ScheduledFuture<?> timeout;

        Pending(String name, Consumer<IpcReply> callback) {
            this.name = name;
            this.callback = callback;
        }

        boolean complete() {
            return sendDone && waitingFor.isEmpty();
        }

        IpcReply reply() {
            return new IpcReply(sent - ignored, replies.size(), replies);
        }
    }
}
