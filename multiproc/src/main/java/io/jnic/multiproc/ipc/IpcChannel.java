package io.jnic.multiproc.ipc;

import static io.jnic.multiproc.ipc.Wire.BYTE;
import static io.jnic.multiproc.ipc.Wire.LE_INT;
import static io.jnic.multiproc.ipc.Wire.LE_LONG;
import static io.jnic.multiproc.ipc.Wire.LE_SHORT;

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
 * thread, so a handler may make a synchronous request of its own. Rejected datagrams are counted in
 * {@link #stats()} and their descriptors closed.
 */
public final class IpcChannel implements AutoCloseable {
    /** The primary's socket in the runtime directory. */
    public static final String PRIMARY_SOCKET = "mp_socket";
    private static final Pattern SECONDARY_SOCKET = Pattern.compile("mp_socket_[0-9]{1,10}_[0-9]{1,10}");
    /** How long a send waits for room in a peer's full receive queue before giving up on that peer. */
    private static final long SEND_PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);

    private static final System.Logger LOG = System.getLogger(IpcChannel.class.getName());
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private static final int RECEIVED = 0;
    private static final int TRUNCATED = 1;
    private static final int MALFORMED = 2;
    private static final int WRONG_UID = 3;
    private static final int BAD_PEER = 4;
    private static final int UNKNOWN_ACTION = 5;
    private static final int UNEXPECTED_REPLY = 6;

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
    private final Map<String, IpcAction> actions = new ConcurrentHashMap<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicLongArray counters = new AtomicLongArray(7);
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
     * Registers the handler of action {@code name} (rte_mp_action_register).
     *
     * @throws IllegalStateException when the action already has a handler
     */
    public void register(String name, IpcAction action) {
        IpcMessage.checkName(name);
        Objects.requireNonNull(action, "action");
        if (actions.putIfAbsent(name, action) != null) {
            throw new IllegalStateException("IPC action '" + name + "' already has a handler; unregister it first");
        }
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

    /** The counters of accepted and dropped datagrams. */
    public IpcStats stats() {
        return new IpcStats(counters.get(RECEIVED), counters.get(TRUNCATED), counters.get(MALFORMED),
                counters.get(WRONG_UID), counters.get(BAD_PEER), counters.get(UNKNOWN_ACTION),
                counters.get(UNEXPECTED_REPLY));
    }

    /** The sockets this channel talks to now: the primary's, or (for the primary) every secondary's. */
    public List<String> peers() {
        if (!primary) {
            return List.of(primarySocket);
        }
        List<String> list = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "mp_socket_*")) {
            for (Path p : ds) {
                if (SECONDARY_SOCKET.matcher(p.getFileName().toString()).matches()) {
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

    private int sendTo(String peer, byte type, long requestId, IpcMessage m) {
        UnixAddress to = UnixAddress.of(Path.of(peer));
        txLock.lock();
        try {
            if (closed && type != Wire.TYPE_IGN) {
                return FAILED;
            }
            int length = Wire.encode(tx.data(), type, requestId, m);
            long patience = System.nanoTime() + SEND_PATIENCE_NANOS;
            while (tx.send(socket, length, to, m.rawFds(), m.fdCount(), UnixMessage.MSG_DONTWAIT) < 0) {
                if (System.nanoTime() - patience > 0) {
                    LOG.log(System.Logger.Level.WARNING, "IPC peer {0} did not read its socket for {1} ms; "
                            + "{2} ''{3}'' not delivered", peer, SEND_PATIENCE_NANOS / 1_000_000,
                            Wire.typeName(type), m.name());
                    return FAILED;
                }
                LockSupport.parkNanos(50_000);
            }
            return SENT;
        } catch (SysException e) {
            if (e.errno() == Errno.ECONNREFUSED || e.errno() == Errno.ENOENT) {
                if (e.errno() == Errno.ECONNREFUSED && primary && peer.startsWith(dirPrefix)) {
                    unlinkStale(peer); // its process is gone (DPDK removes such sockets too)
                }
                return GONE;
            }
            LOG.log(System.Logger.Level.WARNING, "IPC {0} ''{1}'' to {2} failed: {3}", Wire.typeName(type), m.name(),
                    peer, e.getMessage());
            return FAILED;
        } finally {
            txLock.unlock();
        }
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

    private void drop(int reason, String why) {
        rx.closeReceivedFds();
        counters.incrementAndGet(reason);
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "IPC datagram dropped from " + rx.senderPath() + ": " + why);
        }
    }

    /** Checks one datagram in {@link #rx} and hands it on; anything wrong drops it. */
    private void accept(int length) {
        if (rx.truncated()) {
            drop(TRUNCATED, "longer than " + Wire.MAX_SIZE + " bytes or more than " + IpcMessage.MAX_FDS + " fds");
            return;
        }
        if (!rx.hasCredentials() || (rx.senderUid() != euid && rx.senderUid() != 0)) {
            drop(WRONG_UID, "sender uid " + (rx.hasCredentials() ? rx.senderUid() : "unknown") + ", ours is " + euid);
            return;
        }
        MemorySegment d = rx.data();
        if (length < Wire.HEADER_SIZE) {
            drop(MALFORMED, length + " bytes, shorter than the " + Wire.HEADER_SIZE + "-byte header");
            return;
        }
        int magic = d.get(LE_INT, Wire.OFF_MAGIC);
        int version = d.get(BYTE, Wire.OFF_VERSION);
        int type = d.get(BYTE, Wire.OFF_TYPE);
        int nameLen = d.get(BYTE, Wire.OFF_NAME_LEN) & 0xff;
        int numFds = d.get(BYTE, Wire.OFF_NUM_FDS) & 0xff;
        long requestId = d.get(LE_LONG, Wire.OFF_REQUEST_ID);
        int paramLen = d.get(LE_SHORT, Wire.OFF_PARAM_LEN) & 0xffff;
        int reserved = d.get(LE_SHORT, Wire.OFF_RESERVED);
        String bad = null;
        if (magic != Wire.MAGIC) {
            bad = "bad magic 0x" + Integer.toHexString(magic);
        } else if (version != Wire.VERSION) {
            bad = "wire version " + version + ", this build speaks " + Wire.VERSION;
        } else if (type < Wire.TYPE_MSG || type > Wire.TYPE_IGN) {
            bad = "unknown type " + type;
        } else if (nameLen < 1 || nameLen > IpcMessage.MAX_NAME_LEN) {
            bad = "name length " + nameLen;
        } else if (numFds > IpcMessage.MAX_FDS || numFds != rx.fdCount()) {
            bad = "header says " + numFds + " fds, " + rx.fdCount() + " came";
        } else if (paramLen > IpcMessage.MAX_PARAM_LEN || length != Wire.HEADER_SIZE + paramLen) {
            bad = "param length " + paramLen + " in a datagram of " + length + " bytes";
        } else if (reserved != 0) {
            bad = "reserved field " + reserved;
        } else if ((type == Wire.TYPE_MSG) != (requestId == 0)) {
            bad = Wire.typeName(type) + " with request id " + requestId;
        } else if (!nameValid(d, nameLen)) {
            bad = "action name is not printable ASCII padded with zeros";
        }
        if (bad != null) {
            drop(MALFORMED, bad);
            return;
        }
        String from = rx.senderPath();
        if (!isPeer(from)) {
            drop(BAD_PEER, "not a peer socket of " + (primary ? "the primary" : "this secondary"));
            return;
        }
        char[] name = new char[nameLen];
        for (int i = 0; i < nameLen; i++) {
            name[i] = (char) d.get(BYTE, Wire.OFF_NAME + i);
        }
        byte[] param = d.asSlice(Wire.OFF_PARAM, paramLen).toArray(BYTE);
        int[] fds = new int[numFds];
        for (int i = 0; i < numFds; i++) {
            fds[i] = rx.fd(i);
        }
        IpcMessage message = new IpcMessage(new String(name), param, fds);
        if (type == Wire.TYPE_REP || type == Wire.TYPE_IGN) {
            if (!complete(requestId, from, type == Wire.TYPE_IGN, message)) {
                drop(UNEXPECTED_REPLY, Wire.typeName(type) + " to request " + requestId + " that nobody waits for");
                return;
            }
            counters.incrementAndGet(RECEIVED);
            return;
        }
        IpcAction action = actions.get(message.name());
        boolean request = type == Wire.TYPE_REQ;
        if (action == null) {
            drop(UNKNOWN_ACTION, "no handler for '" + message.name() + "'");
            if (request) { // tell the requester not to wait (DPDK's MP_IGN)
                sendTo(from, Wire.TYPE_IGN, requestId, new IpcMessage(message.name()));
            }
            return;
        }
        counters.incrementAndGet(RECEIVED);
        IpcPeer peer = new IpcPeer(from, rx.senderPid(), rx.senderUid(), requestId, request);
        try {
            handlerThread.execute(() -> runHandler(action, message, peer));
        } catch (RejectedExecutionException closing) {
            message.closeFds();
        }
    }

    private static boolean nameValid(MemorySegment d, int nameLen) {
        for (int i = 0; i < IpcMessage.MAX_NAME_LEN; i++) {
            int c = d.get(BYTE, Wire.OFF_NAME + i);
            if (i < nameLen ? (c <= 0x20 || c >= 0x7f) : c != 0) {
                return false;
            }
        }
        return true;
    }

    private boolean isPeer(String from) {
        if (!primary) {
            return from.equals(primarySocket);
        }
        return from.startsWith(dirPrefix) && SECONDARY_SOCKET.matcher(from.substring(dirPrefix.length())).matches();
    }

    private static void runHandler(IpcAction action, IpcMessage message, IpcPeer peer) {
        try {
            action.handle(message, peer);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "IPC handler for '" + message.name() + "' from " + peer + " failed", e);
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
