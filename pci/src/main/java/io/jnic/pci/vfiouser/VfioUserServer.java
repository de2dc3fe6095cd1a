package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.VfioUser.*;

import io.jnic.pci.vfiouser.VfioUserLayout.DeviceInfo;
import io.jnic.pci.vfiouser.VfioUserLayout.DmaMap;
import io.jnic.pci.vfiouser.VfioUserLayout.DmaUnmap;
import io.jnic.pci.vfiouser.VfioUserLayout.IrqInfo;
import io.jnic.pci.vfiouser.VfioUserLayout.IrqSet;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionAccess;
import io.jnic.pci.vfiouser.VfioUserLayout.RegionInfo;
import io.jnic.pci.vfiouser.VfioUserLayout.SparseMmap;
import io.jnic.sys.Errno;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.Sockets;
import io.jnic.sys.SysException;
import io.jnic.sys.UnixAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves one {@link VfioUserDeviceModel} on a UNIX socket path: one client at a time (a second
 * connection while one is served is accepted and closed at once, so its VERSION fails instead of
 * hanging), every request decoded and validated before the model sees it, an error reply for a bad
 * request, and the connection dropped when the stream itself is broken (bad size, too many descriptors,
 * a message cut short). Descriptors a client sends are kept only where the protocol says (DMA_MAP, the
 * eventfds of SET_IRQS) and closed everywhere else.
 *
 * <p>A device outlives its client, as a VFIO device outlives one opener while other processes hold it:
 * when a client leaves, its eventfds are closed but the device state and its DMA regions stay (the spec's
 * "Client Disconnection" leaves this to the server), so queues the device runs keep moving packets for the
 * processes that still share that memory. Each region carries the connection ({@link DmaMemory.Region#generation()})
 * that mapped it. A later client may adopt the device as it is, or map its own memory: a DMA_MAP that
 * overlaps regions of a departed connection replaces them (they are unmapped first), while overlap within
 * one connection is still refused. Stale regions also go on VFIO_USER_DEVICE_RESET, when the model reports
 * a reset it saw ({@link #dropStaleDma()}), and when the server closes.
 *
 * <p>A client that shrinks the file behind a DMA region would make the server's accesses fault (SIGBUS): a
 * sealable descriptor (memfd with MFD_ALLOW_SEALING) is sealed against shrinking here at DMA_MAP; files
 * that cannot be sealed (hugetlbfs files, memfds made without MFD_ALLOW_SEALING) are accepted, and the JVM
 * turns a fault on them into an {@link InternalError} in the thread that touched the memory (a model's
 * device thread treats it as a fatal DMA error of that device; {@link DmaMemory.Region#intact()} tells which
 * region broke: the server keeps each region's descriptor to check its file's size).
 *
 * <p>DMA_MAP without a descriptor adds a region the server reaches through VFIO_USER_DMA_READ / DMA_WRITE
 * messages to the client ({@link #dmaRead}, {@link #dmaWrite}, and {@link DmaMemory}'s accessors): a device
 * thread sends one, the server thread matches the client's reply by message id and hands it over; a reply
 * that answers nothing is counted ({@link #unmatchedReplies()}) and dropped. DMA_UNMAP removes every region
 * inside its range (VFIO type1), or all of them with VFIO_DMA_UNMAP_FLAG_ALL.
 *
 * <p>The model gets the client's memory through {@link #dma()} and raises interrupts with
 * {@link #trigger}; both may be used from any thread but the server thread for message DMA.
 */
public final class VfioUserServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VfioUserServer.class.getName());
    private static final long PAGE_SIZE = 4096;

    /**
     * Limits: descriptors accepted per message (announced as max_msg_fds), the largest region read or
     * write (max_data_xfer_size), how long a started message, a reply send, or a new client's VERSION
     * may take, DMA regions.
     */
    public record Config(int maxMsgFds, int maxDataXferSize, int ioTimeoutMillis, int maxDmaRegions) {
        /**
         * Limits QEMU's client accepts in our VERSION reply (hw/vfio-user/protocol.h: VFIO_USER_MAX_MAX_FDS 16,
         * VFIO_USER_MAX_MAX_XFER 64 MiB; a larger value fails its realize with "malformed max_msg_fds").
         */
        public static final int MAX_MSG_FDS = 16;
        public static final int MAX_DATA_XFER_SIZE = 64 << 20;

        public Config {
            if (maxMsgFds < 1 || maxMsgFds > MAX_MSG_FDS || maxDataXferSize < 8
                    || maxDataXferSize > MAX_DATA_XFER_SIZE || ioTimeoutMillis < 1 || maxDmaRegions < 1
                    || maxDmaRegions > 65535) {
                throw new IllegalArgumentException("bad vfio-user server config " + this + " (max_msg_fds 1.."
                        + MAX_MSG_FDS + ", max_data_xfer_size 8.." + MAX_DATA_XFER_SIZE + ", DMA regions 1..65535)");
            }
        }

        public static Config defaults() {
            return new Config(MAX_MSG_FDS, 1 << 20, 2000, 1024);
        }
    }

    private final Path path;
    private final VfioUserDeviceModel model;
    private final Config config;
    private final DmaMemory dma;
    private final int listenFd;
    private final int wakeFd;
    private final Thread thread;
    private final Arena arena = Arena.ofShared();
    private final Object irqLock = new Object();
    private volatile boolean running = true;
    private boolean releaseInThread;

    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong errorReplies = new AtomicLong();
    private final AtomicLong unmatchedReplies = new AtomicLong();
    private final AtomicLong internalFailures = new AtomicLong();
    private final AtomicLong dmaMessages = new AtomicLong();

    // DMA through messages (regions mapped without a descriptor): one request at a time (dmaLock), its reply
    // matched by the server thread under dmaMonitor; sends go through the channel's send lock
    private final java.util.concurrent.locks.ReentrantLock dmaLock = new java.util.concurrent.locks.ReentrantLock();
    private final Object dmaMonitor = new Object();
    private volatile VfioUserChannel liveChannel; // the negotiated connection, for DMA messages
    private VfioUserChannel.Outbox dmaBox;        // under dmaLock, for liveChannel
    private VfioUserChannel dmaBoxChannel;
    private volatile long clientMaxXfer = DEFAULT_MAX_DATA_XFER_SIZE;
    private int dmaNextId;
    private int dmaPendingId = -1;                // under dmaMonitor
    private int dmaPendingCommand;
    private MemorySegment dmaPendingDst;
    private long dmaPendingDstOffset;
    private long dmaPendingAddress;
    private long dmaPendingCount;
    private int dmaPendingState;                  // 0 waiting, 1 done, 2 failed
    private String dmaPendingProblem;
    private Thread serverThread;

    // the current connection; touched only by the server thread (irqFds also under irqLock)
    private VfioUserChannel channel;
    private boolean negotiated;
    private long connectedAt;
    private int clientMaxFds;
    private long generation; // connections accepted so far; the current one's number while connected
    private volatile long liveGeneration; // the connected client's generation, 0 when none
    private int[][] irqFds = new int[0][];

    /** Binds {@code path} (replacing a stale socket file) and starts serving on a daemon thread. */
    public VfioUserServer(Path path, VfioUserDeviceModel model) {
        this(path, model, Config.defaults());
    }

    public VfioUserServer(Path path, VfioUserDeviceModel model, Config config) {
        this.path = path;
        this.model = model;
        this.config = config;
        this.dma = new DmaMemory(config.maxDmaRegions());
        int listen = -1;
        int wake = -1;
        try {
            if (Files.exists(path) && !Files.isRegularFile(path) && !Files.isDirectory(path)) {
                if (someoneListens(path)) {
                    throw new IllegalStateException("another vfio-user server is listening on " + path);
                }
                Files.delete(path); // a socket left by an earlier server
            }
            listen = Sockets.socket(Sockets.SOCK_STREAM | Sockets.SOCK_NONBLOCK);
            Sockets.bind(listen, UnixAddress.of(path));
            Sockets.listen(listen, 4);
            wake = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        } catch (IOException | RuntimeException e) {
            Io.closeQuietly(listen);
            Io.closeQuietly(wake);
            arena.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot replace the stale socket " + path, io);
            }
            throw (RuntimeException) e;
        }
        this.listenFd = listen;
        this.wakeFd = wake;
        dma.remote(new DmaMemory.Remote() {
            @Override
            public void read(long iova, MemorySegment dst, long dstOffset, long length) {
                dmaRead(iova, dst, dstOffset, length);
            }

            @Override
            public void write(long iova, MemorySegment src, long srcOffset, long length) {
                dmaWrite(iova, src, srcOffset, length);
            }
        });
        model.attached(this);
        this.thread = Thread.ofPlatform().daemon().name("vfio-user-server " + path.getFileName()).start(this::run);
    }

    public Path path() {
        return path;
    }

    private static boolean someoneListens(Path path) {
        int probe = Sockets.socket(Sockets.SOCK_STREAM);
        try {
            Sockets.connect(probe, UnixAddress.of(path));
            return true;
        } catch (SysException e) {
            return false;
        } finally {
            Io.closeQuietly(probe);
        }
    }

    /** True when {@code fd} is an eventfd (a client could send a pipe, whose write may block the model). */
    private static boolean isEventfd(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().equals("anon_inode:[eventfd]");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The current client's DMA memory (empty when no client is connected). */
    public DmaMemory dma() {
        return dma;
    }

    /**
     * Signals vector {@code vector} of IRQ type {@code index} through the eventfd the client routed to it.
     * Returns false when there is no such eventfd (no client, vector not enabled).
     */
    public boolean trigger(int index, int vector) {
        synchronized (irqLock) {
            if (index < 0 || index >= irqFds.length || vector < 0 || vector >= irqFds[index].length) {
                return false;
            }
            int fd = irqFds[index][vector];
            if (fd < 0) {
                return false;
            }
            try {
                Events.eventfdWrite(fd, 1);
                return true;
            } catch (SysException e) {
                LOG.log(Level.WARNING, "vfio-user server {0}: cannot signal IRQ {1} vector {2}: {3}", path, index, vector,
                        e.getMessage());
                return false;
            }
        }
    }

    /** True when vector {@code vector} of IRQ {@code index} has an eventfd. */
    public boolean interruptEnabled(int index, int vector) {
        synchronized (irqLock) {
            return index >= 0 && index < irqFds.length && vector >= 0 && vector < irqFds[index].length
                    && irqFds[index][vector] >= 0;
        }
    }

    /** The number of the current (or last) connection: the generation its DMA regions carry. */
    public long generation() {
        return generation;
    }

    /**
     * Drops the DMA regions of departed connections (the model calls this when it sees a device reset: a new
     * driver owns the device and nothing may reach the old memory any more). Returns how many went.
     */
    public int dropStaleDma() {
        long live = liveGeneration;
        return dropDma(live > 0 ? live : Long.MAX_VALUE);
    }

    /** Unmaps the regions of generations below {@code keepFrom}, telling the model first. */
    private synchronized int dropDma(long keepFrom) {
        int n = 0;
        for (DmaMemory.Region r : dma.regions()) {
            if (r.generation() < keepFrom) {
                safely(() -> model.dmaUnmapping(r));
                dma.remove(r.iova(), r.size());
                n++;
            }
        }
        if (n > 0) {
            LOG.log(Level.INFO, "vfio-user server {0}: dropped {1} DMA regions of departed clients", path, n);
        }
        return n;
    }

    /** Connections served so far. */
    public long connections() {
        return connections.get();
    }

    /** Connections refused because one was already being served. */
    public long refusedConnections() {
        return refused.get();
    }

    /** Connections dropped for breaking the protocol. */
    public long droppedConnections() {
        return dropped.get();
    }

    /** Requests answered with an error. */
    public long errorReplies() {
        return errorReplies.get();
    }

    /**
     * Requests that failed inside the server or the model with something other than a refusal (a bug: the
     * client got EIO); the fuzz tests expect none, whatever a client sends.
     */
    public long internalFailures() {
        return internalFailures.get();
    }

    /** Replies from the client that answered no DMA request of ours (dropped). */
    public long unmatchedReplies() {
        return unmatchedReplies.get();
    }

    /** DMA_READ / DMA_WRITE messages sent to the client (regions it mapped without a descriptor). */
    public long dmaMessages() {
        return dmaMessages.get();
    }

    /**
     * Reads {@code length} bytes of client memory at {@code iova} into {@code dst} through VFIO_USER_DMA_READ
     * messages (split by the client's max_data_xfer_size), each bounded by the I/O timeout. For regions the
     * client mapped without a descriptor; {@link DmaMemory}'s accessors call it. Must not be called from the
     * server thread (a model callback): that thread reads the replies.
     */
    public void dmaRead(long iova, MemorySegment dst, long dstOffset, long length) {
        dmaTransfer(CMD_DMA_READ, iova, dst, dstOffset, length);
    }

    /** Writes {@code length} bytes of {@code src} to client memory at {@code iova} through VFIO_USER_DMA_WRITE. */
    public void dmaWrite(long iova, MemorySegment src, long srcOffset, long length) {
        dmaTransfer(CMD_DMA_WRITE, iova, src, srcOffset, length);
    }

    private void dmaTransfer(int command, long iova, MemorySegment data, long offset, long length) {
        if (Thread.currentThread() == serverThread) {
            throw new IllegalStateException(commandName(command) + " from the vfio-user server thread (a model callback)"
                    + " would wait for a reply only that thread can read: do message DMA from the model's own threads");
        }
        if (length < 0 || offset < 0 || offset > data.byteSize() - length) {
            throw new IndexOutOfBoundsException("DMA of " + length + " bytes at offset " + offset + " of a "
                    + data.byteSize() + "-byte buffer");
        }
        dmaLock.lock();
        try {
            long done = 0;
            do {
                VfioUserChannel ch = liveChannel;
                if (ch == null) {
                    throw new IllegalStateException(commandName(command) + " to [0x" + Long.toHexString(iova) + ", +"
                            + length + "): no client is connected to serve it");
                }
                if (dmaBox == null || dmaBoxChannel != ch) {
                    if (dmaBox != null) {
                        dmaBox.close();
                    }
                    dmaBox = ch.newOutbox();
                    dmaBoxChannel = ch;
                }
                VfioUserMessage out = dmaBox.message();
                long room = Math.min(clientMaxXfer, out.payloadCapacity() - VfioUserLayout.DmaAccess.SIZE);
                int n = (int) Math.min(length - done, room);
                boolean write = command == CMD_DMA_WRITE;
                dmaNextId = (dmaNextId + 1) & 0xffff;
                int id = dmaNextId;
                out.begin(id, command, FLAG_TYPE_COMMAND, VfioUserLayout.DmaAccess.SIZE + (write ? n : 0));
                out.putU64(VfioUserLayout.DmaAccess.ADDRESS, iova + done);
                out.putU64(VfioUserLayout.DmaAccess.COUNT, n);
                if (write) {
                    MemorySegment.copy(data, offset + done, out.payload(VfioUserLayout.DmaAccess.DATA, n), 0, n);
                }
                // a read lands in a buffer of its own: the caller's memory may be confined to the caller's thread
                MemorySegment landing = write ? null : MemorySegment.ofArray(new byte[n]);
                synchronized (dmaMonitor) {
                    dmaPendingId = id;
                    dmaPendingCommand = command;
                    dmaPendingDst = landing;
                    dmaPendingDstOffset = 0;
                    dmaPendingAddress = iova + done;
                    dmaPendingCount = n;
                    dmaPendingState = 0;
                    dmaPendingProblem = null;
                }
                long deadline = System.nanoTime() + config.ioTimeoutMillis() * 1_000_000L;
                try {
                    dmaMessages.incrementAndGet();
                    ch.send(dmaBox, null, 0, deadline);
                    synchronized (dmaMonitor) {
                        while (dmaPendingState == 0) {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                throw new IllegalStateException(commandName(command) + " of [0x"
                                        + Long.toHexString(iova + done) + ", +" + n + "): no reply from the client within "
                                        + config.ioTimeoutMillis() + " ms");
                            }
                            dmaMonitor.wait(Math.max(1, left / 1_000_000L));
                        }
                        if (dmaPendingState != 1) {
                            throw new IllegalStateException(commandName(command) + " of [0x" + Long.toHexString(iova + done)
                                    + ", +" + n + ") failed: " + dmaPendingProblem);
                        }
                    }
                    if (landing != null) {
                        MemorySegment.copy(landing, 0, data, offset + done, n);
                    }
                } catch (VfioUserException e) {
                    throw new IllegalStateException(commandName(command) + " could not be sent: " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(commandName(command) + " interrupted", e);
                } finally {
                    synchronized (dmaMonitor) {
                        dmaPendingId = -1;
                        dmaPendingDst = null;
                    }
                }
                done += n;
            } while (done < length);
        } finally {
            dmaLock.unlock();
        }
    }

    /**
     * A reply from the client: completes the DMA request it answers (checked: address, count, data length;
     * an error reply fails it), or is counted and dropped when it answers nothing. Server thread.
     */
    private void dmaReply(VfioUserMessage in) {
        synchronized (dmaMonitor) {
            if (dmaPendingId != in.msgId() || dmaPendingState != 0 || in.command() != dmaPendingCommand) {
                unmatchedReplies.incrementAndGet();
                LOG.log(Level.WARNING, "vfio-user server {0}: dropping a reply to nothing ({1}, id {2})", path,
                        commandName(in.command()), in.msgId());
                return;
            }
            String problem = null;
            boolean read = dmaPendingCommand == CMD_DMA_READ;
            long n = dmaPendingCount;
            if (in.isError()) {
                problem = "the client replied with error " + errnoName(in.error());
            } else if (in.payloadLength() < (read ? VfioUserLayout.DmaAccess.SIZE : VfioUserLayout.DmaAccess.WRITE_REPLY_MIN)) {
                problem = "reply payload of " + in.payloadLength() + " bytes";
            } else if (in.u64(VfioUserLayout.DmaAccess.ADDRESS) != dmaPendingAddress
                    || (read && in.u64(VfioUserLayout.DmaAccess.COUNT) != n)) {
                problem = "reply describes [0x" + Long.toHexString(in.u64(VfioUserLayout.DmaAccess.ADDRESS)) + ", +"
                        + (read ? Long.toUnsignedString(in.u64(VfioUserLayout.DmaAccess.COUNT)) : "?") + "), not the access made";
            } else if (read && in.payloadLength() != VfioUserLayout.DmaAccess.SIZE + n) {
                problem = "reply carries " + (in.payloadLength() - VfioUserLayout.DmaAccess.SIZE) + " data bytes for a read of " + n;
            } else if (read) {
                MemorySegment.copy(in.payload(VfioUserLayout.DmaAccess.DATA, n), 0, dmaPendingDst, dmaPendingDstOffset, n);
            }
            dmaPendingProblem = problem;
            dmaPendingState = problem == null ? 1 : 2;
            dmaMonitor.notifyAll();
        }
    }

    /** Fails the DMA request waiting for a reply (the client left). */
    private void failPendingDma(String why) {
        synchronized (dmaMonitor) {
            if (dmaPendingId >= 0 && dmaPendingState == 0) {
                dmaPendingProblem = why;
                dmaPendingState = 2;
                dmaMonitor.notifyAll();
            }
        }
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        Events.eventfdWrite(wakeFd, 1);
        if (Thread.currentThread() == thread) {
            releaseInThread = true; // closed from a model callback: the loop ends and releases everything
            return;
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.log(Level.WARNING, "vfio-user server {0} did not stop in time", path);
            return;
        }
        release();
    }

    private void release() {
        Io.closeQuietly(listenFd);
        Io.closeQuietly(wakeFd);
        arena.close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot remove {0}: {1}", path, e);
        }
    }

    // ---------------------------------------------------------------- server thread

    private void run() {
        serverThread = Thread.currentThread();
        MemorySegment pfds = Events.allocatePollFds(arena, 3);
        try {
            while (running) {
                try {
                    step(pfds);
                } catch (RuntimeException e) {
                    // e.g. accept failing with EMFILE: log, breathe, go on serving
                    internalFailures.incrementAndGet();
                    LOG.log(Level.ERROR, "vfio-user server " + path + ": unexpected failure", e);
                    pause();
                }
            }
        } finally {
            if (channel != null) {
                disconnect("server closing");
            }
            dropDma(Long.MAX_VALUE);
            dmaLock.lock();
            try {
                if (dmaBox != null) {
                    dmaBox.close();
                    dmaBox = null;
                }
            } finally {
                dmaLock.unlock();
            }
            if (releaseInThread) {
                release();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void step(MemorySegment pfds) {
        Events.setPollFd(pfds, 0, wakeFd, Events.POLLIN);
        Events.setPollFd(pfds, 1, channel != null ? channel.socket() : -1, Events.POLLIN);
        Events.setPollFd(pfds, 2, listenFd, Events.POLLIN);
        int wait = -1;
        if (channel != null && !negotiated) { // a client that never says VERSION must not hold the device
            long left = connectedAt + config.ioTimeoutMillis() * 1_000_000L - System.nanoTime();
            wait = (int) Math.max(0, left / 1_000_000L);
        }
        Events.poll(pfds, wait);
        if (!running) {
            return;
        }
        if (channel != null && !negotiated && Events.pollRevents(pfds, 1) == 0
                && System.nanoTime() - connectedAt >= config.ioTimeoutMillis() * 1_000_000L) {
            dropped.incrementAndGet();
            LOG.log(Level.WARNING, "vfio-user server {0}: dropping a client that sent no VERSION within {1} ms",
                    path, config.ioTimeoutMillis());
            disconnect("no VERSION in time");
        }
        if (channel != null && Events.pollRevents(pfds, 1) != 0) {
            serveOne();
        }
        if ((Events.pollRevents(pfds, 2) & Events.POLLIN) != 0) {
            acceptOne();
        }
    }

    private void acceptOne() {
        int fd = Sockets.accept(listenFd);
        if (fd < 0) {
            return;
        }
        if (channel != null) {
            refused.incrementAndGet();
            LOG.log(Level.WARNING, "vfio-user server {0}: refusing a second client while one is connected", path);
            Io.closeQuietly(fd);
            return;
        }
        try {
            channel = new VfioUserChannel(fd, VfioUserMessage.HEADER_SIZE + RegionAccess.SIZE + config.maxDataXferSize(),
                    config.maxMsgFds(), config.ioTimeoutMillis());
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
        negotiated = false;
        connectedAt = System.nanoTime();
        clientMaxFds = DEFAULT_MAX_MSG_FDS;
        clientMaxXfer = DEFAULT_MAX_DATA_XFER_SIZE;
        generation = connections.incrementAndGet();
        liveGeneration = generation;
        synchronized (irqLock) {
            int n = Math.max(0, Math.min(model.irqCount(), PCI_NUM_IRQS * 16));
            irqFds = new int[n][];
            for (int i = 0; i < n; i++) {
                VfioUserDeviceModel.Irq irq = model.irq(i);
                irqFds[i] = new int[irq == null ? 0 : irq.count()];
                Arrays.fill(irqFds[i], -1);
            }
        }
        LOG.log(Level.DEBUG, "vfio-user server {0}: client connected", path);
    }

    private void disconnect(String why) {
        LOG.log(dma.regionCount() > 0 ? Level.INFO : Level.DEBUG,
                "vfio-user server {0}: client gone ({1}); the device keeps running with {2} DMA regions", path, why,
                dma.regionCount());
        boolean wasNegotiated = negotiated;
        negotiated = false;
        liveGeneration = 0;
        liveChannel = null;
        failPendingDma("the client left (" + why + ")");
        synchronized (irqLock) {
            for (int[] fds : irqFds) {
                for (int fd : fds) {
                    Io.closeQuietly(fd);
                }
            }
            irqFds = new int[0][];
        }
        channel.close();
        channel = null;
        if (wasNegotiated) {
            safely(model::disconnected);
        }
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "device model callback failed", e);
        }
    }

    private void serveOne() {
        int r;
        try {
            r = channel.receive(0);
        } catch (VfioUserException e) {
            dropped.incrementAndGet();
            LOG.log(Level.WARNING, "vfio-user server {0}: dropping the client: {1}", path, e.getMessage());
            disconnect(e.getMessage());
            return;
        }
        if (r == VfioUserChannel.NOTHING) {
            return;
        }
        if (r == VfioUserChannel.END_OF_STREAM) {
            disconnect("end of stream");
            return;
        }
        VfioUserMessage in = channel.in();
        if (in.isReply()) {
            // the answer to a DMA_READ / DMA_WRITE of ours, or a reply to nothing (counted, dropped)
            channel.closeUntakenFds();
            dmaReply(in);
            return;
        }
        int[] sendFds = new int[1];
        int sendCount = 0;
        boolean drop = false;
        try {
            if (!in.isCommand()) {
                throw refuse(in, Errno.EINVAL, "message type " + (in.flags() & FLAG_TYPE_MASK) + " is neither command nor reply");
            }
            if (!negotiated && in.command() != CMD_VERSION) {
                drop = true;
                throw refuse(in, Errno.EINVAL, "the first message must be VFIO_USER_VERSION");
            }
            sendCount = dispatch(in, sendFds);
        } catch (VfioUserException e) {
            errorReplies.incrementAndGet();
            LOG.log(Level.DEBUG, "vfio-user server {0}: {1}", path, e.getMessage());
            int errno = e.errnoValue() != 0 ? e.errnoValue() : Errno.EINVAL.code();
            channel.out().beginError(in.msgId(), in.command(), errno);
            sendCount = 0;
            if (in.command() == CMD_VERSION && !negotiated) {
                drop = true;
            }
        } catch (RuntimeException e) {
            // a bug here or in the model must cost the client one request, not the server its thread
            errorReplies.incrementAndGet();
            internalFailures.incrementAndGet();
            LOG.log(Level.WARNING, "vfio-user server " + path + ": " + commandName(in.command()) + " failed", e);
            channel.out().beginError(in.msgId(), in.command(), Errno.EIO.code());
            sendCount = 0;
        } finally {
            channel.closeUntakenFds();
        }
        if (!in.noReply()) { // No_reply: nothing goes back, not even an error (the log has it)
            try {
                channel.send(sendFds, sendCount, System.nanoTime() + config.ioTimeoutMillis() * 1_000_000L);
            } catch (VfioUserException e) {
                dropped.incrementAndGet();
                disconnect("cannot reply: " + e.getMessage());
                return;
            }
        }
        if (drop) {
            dropped.incrementAndGet();
            disconnect("protocol violation before negotiation");
        }
    }

    private static VfioUserException refuse(VfioUserMessage in, Errno errno, String what) {
        return new VfioUserException(in.command(), errno.code(), what + " (" + errno.name() + ")", null);
    }

    /** Handles one command; builds the reply in channel.out() and returns how many of {@code fds} go with it. */
    private int dispatch(VfioUserMessage in, int[] fds) {
        return switch (in.command()) {
            case CMD_VERSION -> version(in);
            case CMD_DMA_MAP -> dmaMap(in);
            case CMD_DMA_UNMAP -> dmaUnmap(in);
            case CMD_DEVICE_GET_INFO -> deviceInfo(in);
            case CMD_DEVICE_GET_REGION_INFO -> regionInfo(in, fds);
            case CMD_DEVICE_GET_IRQ_INFO -> irqInfo(in);
            case CMD_DEVICE_SET_IRQS -> setIrqs(in);
            case CMD_REGION_READ -> regionRead(in);
            case CMD_REGION_WRITE -> regionWrite(in);
            case CMD_DEVICE_RESET -> reset(in);
            case CMD_DMA_READ, CMD_DMA_WRITE -> throw refuse(in, Errno.EINVAL, "a server-to-client command sent to the server");
            default -> throw refuse(in, Errno.ENOSYS, "unsupported command");
        };
    }

    private VfioUserMessage reply(VfioUserMessage in, int payloadLength) {
        return channel.out().begin(in.msgId(), in.command(), FLAG_TYPE_REPLY, payloadLength);
    }

    private int version(VfioUserMessage in) {
        if (negotiated) {
            throw refuse(in, Errno.EINVAL, "version already negotiated");
        }
        in.requirePayload(VfioUserLayout.Version.SIZE, "version");
        int major = in.u16(VfioUserLayout.Version.MAJOR);
        int minor = in.u16(VfioUserLayout.Version.MINOR);
        if (major != VERSION_MAJOR) {
            throw refuse(in, Errno.EOPNOTSUPP, "client proposes version " + major + "." + minor + ", we speak "
                    + VERSION_MAJOR + "." + VERSION_MINOR);
        }
        Capabilities theirs;
        try {
            theirs = Capabilities.read(in);
        } catch (VfioUserException e) {
            throw refuse(in, Errno.EINVAL, e.getMessage());
        }
        clientMaxFds = theirs.maxMsgFds();
        clientMaxXfer = theirs.maxDataXferSize();
        new Capabilities(config.maxMsgFds(), config.maxDataXferSize()).write(channel.out(), in.msgId(), FLAG_TYPE_REPLY);
        channel.out().putU16(VfioUserLayout.Version.MINOR, Math.min(minor, VERSION_MINOR));
        negotiated = true;
        liveChannel = channel;
        safely(model::connected);
        return 0;
    }

    @SuppressWarnings("restricted") // binds the mapping we just made to its own arena, with its exact size
    private int dmaMap(VfioUserMessage in) {
        in.requirePayload(DmaMap.SIZE, "DMA map");
        int flags = in.u32(DmaMap.FLAGS);
        long fdOffset = in.u64(DmaMap.OFFSET);
        long iova = in.u64(DmaMap.ADDRESS);
        long size = in.u64(DmaMap.SIZE_FIELD);
        if (Integer.toUnsignedLong(in.u32(DmaMap.ARGSZ)) < DmaMap.SIZE) {
            throw refuse(in, Errno.EINVAL, "argsz " + Integer.toUnsignedString(in.u32(DmaMap.ARGSZ)) + " < 32");
        }
        if ((flags & ~(DMA_FLAG_READ | DMA_FLAG_WRITE)) != 0 || (flags & (DMA_FLAG_READ | DMA_FLAG_WRITE)) == 0) {
            throw refuse(in, Errno.EINVAL, "DMA map flags 0x" + Integer.toHexString(flags) + " (need READ and/or WRITE, nothing else)");
        }
        if (channel.fdCount() > 1) {
            throw refuse(in, Errno.EINVAL, "DMA map with " + channel.fdCount() + " descriptors (one, or none for memory"
                    + " reached through DMA_READ/DMA_WRITE messages)");
        }
        if (size <= 0 || size > Long.MAX_VALUE - PAGE_SIZE || fdOffset < 0 || Long.compareUnsigned(iova + size - 1, iova) < 0) {
            throw refuse(in, Errno.EINVAL, "DMA map of " + Long.toUnsignedString(size) + " bytes at IOVA 0x"
                    + Long.toHexString(iova) + " from descriptor offset 0x" + Long.toHexString(fdOffset)
                    + " (size must be positive, offset non-negative, range must not wrap)");
        }
        for (DmaMemory.Region r : dma.overlapping(iova, size)) {
            if (r.generation() == generation) {
                throw refuse(in, Errno.EEXIST, "DMA range [0x" + Long.toHexString(iova) + ", +0x" + Long.toHexString(size)
                        + ") overlaps " + r + ", which this client mapped; unmap it first");
            }
        }
        if (channel.fdCount() == 0) {
            // "VFIO_USER_DMA_MAP": no descriptor, the memory is reached through DMA_READ / DMA_WRITE messages
            // (QEMU maps ROM and BAR ranges of its address space so)
            dropDeparted(iova, size);
            DmaMemory.Region region;
            try {
                region = dma.addUnmapped(iova, size, (flags & DMA_FLAG_WRITE) != 0, generation);
            } catch (DmaMemory.DmaOverlapException e) {
                throw refuse(in, Errno.EEXIST, e.getMessage());
            } catch (RuntimeException e) {
                throw refuse(in, Errno.ENOSPC, e.getMessage());
            }
            safely(() -> model.dmaMapped(region));
            reply(in, 0);
            return 0;
        }
        int fd = channel.takeFd(0);
        MemorySegment mapping;
        try {
            sealAgainstShrinking(in, fd);
            long fileSize = Io.fileSize(fd);
            if (fdOffset > fileSize || size > fileSize - fdOffset) {
                throw refuse(in, Errno.EINVAL, "DMA map of [0x" + Long.toHexString(fdOffset) + ", +" + size
                        + ") beyond the end of the descriptor's file (" + fileSize + " bytes)");
            }
            int prot = Mman.PROT_READ | ((flags & DMA_FLAG_WRITE) != 0 ? Mman.PROT_WRITE : 0);
            // mmap needs a page-aligned offset: map from the page holding fdOffset and skip the head
            long head = fdOffset % PAGE_SIZE;
            mapping = Mman.mmap(size + head, prot, Mman.MAP_SHARED, fd, fdOffset - head);
        } catch (SysException e) {
            Io.closeQuietly(fd);
            throw refuse(in, e.errno(), "cannot map the DMA region: " + e.getMessage());
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
        // the descriptor stays with the region (closed with it): Region.intact() checks the file still covers it
        Arena owner = Arena.ofShared();
        long head = fdOffset % PAGE_SIZE;
        MemorySegment memory = mapping.reinterpret(size + head, owner, m -> {
            Mman.munmap(m);
            Io.closeQuietly(fd);
        }).asSlice(head, size);
        dropDeparted(iova, size);
        DmaMemory.Region region;
        try {
            region = dma.add(iova, memory, (flags & DMA_FLAG_WRITE) != 0, owner, generation, fd, fdOffset);
        } catch (DmaMemory.DmaOverlapException e) {
            owner.close();
            throw refuse(in, Errno.EEXIST, e.getMessage());
        } catch (RuntimeException e) {
            owner.close();
            throw refuse(in, Errno.ENOSPC, e.getMessage());
        }
        safely(() -> model.dmaMapped(region));
        reply(in, 0);
        return 0;
    }

    /** Unmaps the regions of departed connections that overlap {@code [iova, iova + size)} (a new map replaces them). */
    private void dropDeparted(long iova, long size) {
        for (DmaMemory.Region stale : dma.overlapping(iova, size)) { // only departed connections' by now
            LOG.log(Level.INFO, "vfio-user server {0}: DMA map [0x{1}, +0x{2}) replaces {3}", path,
                    Long.toHexString(iova), Long.toHexString(size), stale);
            safely(() -> model.dmaUnmapping(stale));
            dma.remove(stale.iova(), stale.size());
        }
    }

    private static final int F_ADD_SEALS = 1033;
    private static final int F_GET_SEALS = 1034;
    private static final int F_SEAL_SEAL = 0x1;
    private static final int F_SEAL_SHRINK = 0x2;

    /**
     * A client that shrinks a file we map makes our accesses fault: seal a sealable file against shrinking
     * (memfd_create(2) with MFD_ALLOW_SEALING, F_SEAL_SHRINK). Files that cannot be sealed (hugetlbfs files,
     * memfds made without MFD_ALLOW_SEALING, which jnic's memory module creates) are accepted: a fault on them
     * reaches the touching thread as an InternalError, not a crash of the server.
     */
    private void sealAgainstShrinking(VfioUserMessage in, int fd) {
        int seals;
        try {
            seals = Io.fcntl(fd, F_GET_SEALS, 0);
        } catch (SysException e) {
            return; // not a file that supports seals
        }
        if ((seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) == 0) {
            try {
                Io.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
            } catch (SysException e) {
                throw refuse(in, e.errno(), "cannot seal the DMA region's memfd against shrinking: " + e.getMessage());
            }
        }
    }

    private int dmaUnmap(VfioUserMessage in) {
        in.requirePayload(DmaUnmap.SIZE, "DMA unmap");
        int argsz = in.u32(DmaUnmap.ARGSZ);
        int flags = in.u32(DmaUnmap.FLAGS);
        long iova = in.u64(DmaUnmap.ADDRESS);
        long size = in.u64(DmaUnmap.SIZE_FIELD);
        if (Integer.toUnsignedLong(argsz) < DmaUnmap.SIZE) {
            throw refuse(in, Errno.EINVAL, "argsz " + Integer.toUnsignedString(argsz) + " < 24");
        }
        DmaMemory.Region[] gone;
        if ((flags & ~(DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | DMA_UNMAP_FLAG_ALL)) != 0) {
            throw refuse(in, Errno.EINVAL, "DMA unmap flags 0x" + Integer.toHexString(flags));
        }
        if ((flags & DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) != 0) {
            throw refuse(in, Errno.EOPNOTSUPP, "dirty page bitmaps are not supported (no migration)");
        }
        if ((flags & DMA_UNMAP_FLAG_ALL) != 0) {
            if (iova != 0 || size != 0) {
                throw refuse(in, Errno.EINVAL, "unmap-all with address 0x" + Long.toHexString(iova) + " and size "
                        + Long.toUnsignedString(size) + " (both must be 0)");
            }
            gone = dma.regions();
        } else {
            if (size == 0 || Long.compareUnsigned(iova + size - 1, iova) < 0) {
                throw refuse(in, Errno.EINVAL, "DMA unmap of " + Long.toUnsignedString(size) + " bytes at 0x"
                        + Long.toHexString(iova) + " (empty or wrapping range)");
            }
            // as VFIO type1 does: every mapping inside the range goes; one cut by either end refuses the unmap
            gone = dma.inside(iova, size);
            if (gone == null) {
                throw refuse(in, Errno.EINVAL, "DMA unmap of [0x" + Long.toHexString(iova) + ", +0x"
                        + Long.toHexString(size) + ") would cut a mapping in two " + Arrays.toString(
                                dma.overlapping(iova, size)));
            }
        }
        for (DmaMemory.Region r : gone) {
            safely(() -> model.dmaUnmapping(r));
            dma.remove(r.iova(), r.size());
        }
        VfioUserMessage out = reply(in, DmaUnmap.SIZE);
        out.putU32(DmaUnmap.ARGSZ, DmaUnmap.SIZE);
        out.putU32(DmaUnmap.FLAGS, flags);
        out.putU64(DmaUnmap.ADDRESS, iova);
        out.putU64(DmaUnmap.SIZE_FIELD, size);
        return 0;
    }

    private int deviceInfo(VfioUserMessage in) {
        in.requirePayload(DeviceInfo.SIZE, "device info");
        checkArgsz(in, in.u32(DeviceInfo.ARGSZ), DeviceInfo.SIZE);
        VfioUserMessage out = reply(in, DeviceInfo.SIZE);
        out.putU32(DeviceInfo.ARGSZ, DeviceInfo.SIZE);
        out.putU32(DeviceInfo.FLAGS, model.deviceFlags());
        out.putU32(DeviceInfo.NUM_REGIONS, model.regionCount());
        out.putU32(DeviceInfo.NUM_IRQS, model.irqCount());
        return 0;
    }

    private void checkArgsz(VfioUserMessage in, int argsz, int minimum) {
        if (Integer.toUnsignedLong(argsz) < minimum) {
            throw refuse(in, Errno.EINVAL, "argsz " + Integer.toUnsignedString(argsz) + " is below the reply's "
                    + minimum + " bytes");
        }
    }

    private int regionInfo(VfioUserMessage in, int[] fds) {
        in.requirePayload(RegionInfo.SIZE, "region info");
        int argsz = in.u32(RegionInfo.ARGSZ);
        checkArgsz(in, argsz, RegionInfo.SIZE);
        int index = in.u32(RegionInfo.INDEX);
        if (index < 0 || index >= model.regionCount()) {
            throw refuse(in, Errno.EINVAL, "region " + Integer.toUnsignedString(index) + " (the device has "
                    + model.regionCount() + ")");
        }
        VfioUserDeviceModel.Region region = model.region(index);
        long size = region == null ? 0 : region.size();
        int flags = region == null ? 0 : region.flags() & (REGION_FLAG_READ | REGION_FLAG_WRITE);
        boolean mappable = region != null && region.fd() >= 0 && clientMaxFds >= 1 && size > 0;
        int areas = mappable ? region.sparseAreas().size() : 0;
        int full = RegionInfo.SIZE + (areas > 0 ? VfioUserLayout.CapHeader.SIZE + SparseMmap.HEADER_SIZE + areas * SparseMmap.AREA_BYTES : 0);
        boolean fits = Integer.toUnsignedLong(argsz) >= full;
        // "VFIO_USER_DEVICE_GET_REGION_INFO": CAPS says capabilities are *in this reply* and MMAP that a
        // descriptor comes with it; a reply cut to the client's argsz carries neither, only the argsz needed
        // (QEMU refuses CAPS with cap_offset 0)
        if (mappable && fits) {
            flags |= REGION_FLAG_MMAP;
        }
        if (areas > 0 && fits) {
            flags |= REGION_FLAG_CAPS;
        }
        if (full > channel.out().payloadCapacity()) {
            throw refuse(in, Errno.E2BIG, "region " + index + " has too many sparse areas for one message");
        }
        VfioUserMessage out = reply(in, fits ? full : RegionInfo.SIZE);
        out.putU32(RegionInfo.ARGSZ, full);
        out.putU32(RegionInfo.FLAGS, flags);
        out.putU32(RegionInfo.INDEX, index);
        out.putU64(RegionInfo.SIZE_FIELD, size);
        out.putU64(RegionInfo.OFFSET, mappable ? region.fdOffset() : 0);
        if (fits && areas > 0) {
            long cap = RegionInfo.SIZE;
            out.putU32(RegionInfo.CAP_OFFSET, (int) cap);
            out.putU16(cap + VfioUserLayout.CapHeader.ID, REGION_INFO_CAP_SPARSE_MMAP);
            out.putU16(cap + VfioUserLayout.CapHeader.VERSION, SPARSE_MMAP_CAP_VERSION);
            out.putU32(cap + VfioUserLayout.CapHeader.NEXT, 0);
            long body = cap + VfioUserLayout.CapHeader.SIZE;
            out.putU32(body + SparseMmap.NR_AREAS, areas);
            for (int i = 0; i < areas; i++) {
                SparseArea a = region.sparseAreas().get(i);
                long at = body + SparseMmap.AREAS + (long) i * SparseMmap.AREA_BYTES;
                out.putU64(at + SparseMmap.AREA_OFFSET, a.offset());
                out.putU64(at + SparseMmap.AREA_SIZE, a.size());
            }
        }
        if (mappable && fits) {
            fds[0] = region.fd();
            return 1;
        }
        return 0;
    }

    private int irqInfo(VfioUserMessage in) {
        in.requirePayload(IrqInfo.SIZE, "irq info");
        checkArgsz(in, in.u32(IrqInfo.ARGSZ), IrqInfo.SIZE);
        int index = in.u32(IrqInfo.INDEX);
        if (index < 0 || index >= model.irqCount()) {
            throw refuse(in, Errno.EINVAL, "IRQ index " + Integer.toUnsignedString(index) + " (the device has "
                    + model.irqCount() + ")");
        }
        VfioUserDeviceModel.Irq irq = model.irq(index);
        VfioUserMessage out = reply(in, IrqInfo.SIZE);
        out.putU32(IrqInfo.ARGSZ, IrqInfo.SIZE);
        out.putU32(IrqInfo.FLAGS, irq == null ? 0 : irq.flags());
        out.putU32(IrqInfo.INDEX, index);
        out.putU32(IrqInfo.COUNT, irq == null ? 0 : irq.count());
        return 0;
    }

    private int setIrqs(VfioUserMessage in) {
        in.requirePayload(IrqSet.SIZE, "set irqs");
        checkArgsz(in, in.u32(IrqSet.ARGSZ), IrqSet.SIZE);
        int flags = in.u32(IrqSet.FLAGS);
        int index = in.u32(IrqSet.INDEX);
        int start = in.u32(IrqSet.START);
        int count = in.u32(IrqSet.COUNT);
        int data = flags & IRQ_SET_DATA_TYPE_MASK;
        int action = flags & IRQ_SET_ACTION_TYPE_MASK;
        if ((flags & ~(IRQ_SET_DATA_TYPE_MASK | IRQ_SET_ACTION_TYPE_MASK)) != 0 || Integer.bitCount(data) != 1
                || Integer.bitCount(action) != 1) {
            throw refuse(in, Errno.EINVAL, "set-irqs flags 0x" + Integer.toHexString(flags) + " (need one DATA and one ACTION bit)");
        }
        int vectors;
        synchronized (irqLock) {
            if (index < 0 || index >= irqFds.length) {
                throw refuse(in, Errno.EINVAL, "IRQ index " + Integer.toUnsignedString(index));
            }
            vectors = irqFds[index].length;
        }
        if (data == IRQ_SET_DATA_NONE && action == IRQ_SET_ACTION_TRIGGER && count == 0) {
            if (start != 0) {
                throw refuse(in, Errno.EINVAL, "disable-all with start " + start);
            }
            route(index, 0, vectors, null);
            safely(() -> model.interruptsChanged(index));
            reply(in, 0);
            return 0;
        }
        if (start < 0 || count < 0 || start > vectors || count > vectors - start) {
            throw refuse(in, Errno.EINVAL, "vectors [" + Integer.toUnsignedString(start) + ", +"
                    + Integer.toUnsignedString(count) + ") outside the " + vectors + " of IRQ index " + index);
        }
        if (data == IRQ_SET_DATA_BOOL) {
            in.requirePayload(IrqSet.DATA + count, "set irqs bool data");
        }
        if (data == IRQ_SET_DATA_EVENTFD) {
            int n = channel.fdCount();
            if (n != 0 && n != count) {
                throw refuse(in, Errno.EINVAL, n + " eventfds for " + count + " vectors");
            }
            if (action != IRQ_SET_ACTION_TRIGGER) {
                throw refuse(in, Errno.EOPNOTSUPP, "eventfds for mask/unmask events are not supported");
            }
            for (int i = 0; i < n; i++) {
                if (!isEventfd(channel.fdAt(i))) {
                    throw refuse(in, Errno.EINVAL, "descriptor " + i + " of the message is not an eventfd");
                }
            }
            int[] taken = null;
            if (n > 0) {
                taken = new int[n];
                for (int i = 0; i < n; i++) {
                    taken[i] = channel.takeFd(i);
                }
            }
            route(index, start, count, taken);
            safely(() -> model.interruptsChanged(index));
        } else {
            for (int v = start; v < start + count; v++) {
                if (data == IRQ_SET_DATA_BOOL && in.payload(IrqSet.DATA + (v - start), 1).get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) == 0) {
                    continue;
                }
                int vector = v;
                try {
                    switch (action) {
                        case IRQ_SET_ACTION_TRIGGER -> trigger(index, vector);
                        case IRQ_SET_ACTION_MASK -> model.maskInterrupt(index, vector, true);
                        default -> model.maskInterrupt(index, vector, false);
                    }
                } catch (RuntimeException e) {
                    throw modelFailure(in, e);
                }
            }
        }
        reply(in, 0);
        return 0;
    }

    /** Replaces the eventfds of vectors [start, start+count) (null: unroute them), closing the old ones. */
    private void route(int index, int start, int count, int[] eventfds) {
        synchronized (irqLock) {
            int[] table = irqFds[index];
            for (int i = 0; i < count; i++) {
                Io.closeQuietly(table[start + i]);
                table[start + i] = eventfds == null ? -1 : eventfds[i];
            }
        }
    }

    private VfioUserDeviceModel.Region accessible(VfioUserMessage in, int index, long offset, int count, int needFlag) {
        if (index < 0 || index >= model.regionCount()) {
            throw refuse(in, Errno.EINVAL, "region " + Integer.toUnsignedString(index) + " (the device has "
                    + model.regionCount() + ")");
        }
        VfioUserDeviceModel.Region region = model.region(index);
        if (region == null || (region.flags() & needFlag) == 0) {
            throw refuse(in, Errno.EINVAL, "region " + index + " is not " + (needFlag == REGION_FLAG_READ ? "readable" : "writable"));
        }
        if (count < 0 || count > config.maxDataXferSize()) {
            throw refuse(in, Errno.EINVAL, "count " + Integer.toUnsignedString(count) + " exceeds max_data_xfer_size "
                    + config.maxDataXferSize());
        }
        if (offset < 0 || offset > region.size() - count) {
            throw refuse(in, Errno.EINVAL, "access to [0x" + Long.toHexString(offset) + ", +" + count
                    + ") outside region " + index + " of 0x" + Long.toHexString(region.size()) + " bytes");
        }
        return region;
    }

    private int regionRead(VfioUserMessage in) {
        in.requirePayload(RegionAccess.SIZE, "region read");
        long offset = in.u64(RegionAccess.OFFSET);
        int index = in.u32(RegionAccess.REGION);
        int count = in.u32(RegionAccess.COUNT);
        accessible(in, index, offset, count, REGION_FLAG_READ);
        VfioUserMessage out = reply(in, RegionAccess.SIZE + count);
        out.putU64(RegionAccess.OFFSET, offset);
        out.putU32(RegionAccess.REGION, index);
        out.putU32(RegionAccess.COUNT, count);
        try {
            model.regionRead(index, offset, out.payload(RegionAccess.DATA, count));
        } catch (RuntimeException e) {
            throw modelFailure(in, e);
        }
        return 0;
    }

    private int regionWrite(VfioUserMessage in) {
        in.requirePayload(RegionAccess.SIZE, "region write");
        long offset = in.u64(RegionAccess.OFFSET);
        int index = in.u32(RegionAccess.REGION);
        int count = in.u32(RegionAccess.COUNT);
        if (Integer.toUnsignedLong(count) != in.payloadLength() - RegionAccess.SIZE) {
            throw refuse(in, Errno.EINVAL, "count " + Integer.toUnsignedString(count) + " but "
                    + (in.payloadLength() - RegionAccess.SIZE) + " data bytes");
        }
        accessible(in, index, offset, count, REGION_FLAG_WRITE);
        try {
            model.regionWrite(index, offset, in.payload(RegionAccess.DATA, count));
        } catch (RuntimeException e) {
            throw modelFailure(in, e);
        }
        VfioUserMessage out = reply(in, RegionAccess.SIZE);
        out.putU64(RegionAccess.OFFSET, offset);
        out.putU32(RegionAccess.REGION, index);
        out.putU32(RegionAccess.COUNT, count);
        return 0;
    }

    private int reset(VfioUserMessage in) {
        if ((model.deviceFlags() & DEVICE_FLAGS_RESET) == 0) {
            throw refuse(in, Errno.EOPNOTSUPP, "the device does not support reset");
        }
        try {
            model.reset();
        } catch (RuntimeException e) {
            throw modelFailure(in, e);
        }
        dropStaleDma();
        reply(in, 0);
        return 0;
    }

    private VfioUserException modelFailure(VfioUserMessage in, RuntimeException e) {
        Errno errno = e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException ? Errno.EINVAL
                : e instanceof UnsupportedOperationException ? Errno.EOPNOTSUPP : Errno.EIO;
        if (errno == Errno.EIO) {
            internalFailures.incrementAndGet();
            LOG.log(Level.WARNING, "device model failed on " + commandName(in.command()), e);
        }
        return refuse(in, errno, "device model: " + e);
    }
}
