package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.VfioUser.*;

import io.jnic.pci.BarHandover;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import io.jnic.pci.vfiouser.VfioUserLayout.CapHeader;
import io.jnic.pci.vfiouser.VfioUserLayout.DeviceInfo;
import io.jnic.pci.vfiouser.VfioUserLayout.DmaAccess;
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
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A PCI function served by a vfio-user server on a UNIX socket (QEMU docs/interop/vfio-user.rst). On
 * {@link #connect} it negotiates the version, reads the device, region and BAR layout, and maps the
 * sparse-mmap areas of the BARs through the descriptors the server sends, so doorbells are plain stores.
 * Everything else is a request/reply exchange: one at a time under one lock, each bounded by the
 * configured timeout, the reply matched by message id and checked before any field of it is used.
 *
 * <p>An error reply (with or without a payload), a reply to nothing (dropped and counted) and a reply with our
 * id for another command leave the connection usable: the stream is still in step. Anything else (timeout,
 * bad size, a message cut short, an unknown message type, too many descriptors, disconnect, a reply that does
 * not describe what was asked) breaks the connection for good: later calls fail at once, naming the first
 * failure. The server may send VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE at any time, between requests too:
 * a reader thread answers them from the memory given to {@link #dmaMap}, within the flags it was mapped
 * with (see the package documentation for how replies and server requests share the socket).
 */
public final class VfioUserDevice implements PciDevice {
    /** {@link #reopenName()}'s prefix before the socket path. */
    public static final String REOPEN_PREFIX = "vfio-user:";
    private static final System.Logger LOG = System.getLogger(VfioUserDevice.class.getName());
    private static final long PAGE_SIZE = 4096;
    /** Room for sparse areas in the first region-info request (the server tells us if it needs more). */
    private static final int REGION_INFO_ARGSZ = RegionInfo.SIZE + CapHeader.SIZE + SparseMmap.HEADER_SIZE
            + 16 * SparseMmap.AREA_BYTES;
    private static final int MAX_SPARSE_AREAS = 1024;
    private static final int MAX_CAPS = 32;

    /**
     * Limits: how long one request may take, descriptors we accept per message (announced as
     * max_msg_fds), and the largest data transfer we accept (max_data_xfer_size).
     */
    public record Config(int timeoutMillis, int maxMsgFds, int maxDataXferSize) {
        public Config {
            if (timeoutMillis < 1 || maxMsgFds < 1 || maxMsgFds > Capabilities.SCM_MAX_FD || maxDataXferSize < 8
                    || maxDataXferSize > Capabilities.MAX_XFER_LIMIT) {
                throw new IllegalArgumentException("bad vfio-user client config " + this);
            }
        }

        public static Config defaults() {
            return new Config(5000, 8, 1 << 20);
        }

        public Config withTimeoutMillis(int millis) {
            return new Config(millis, maxMsgFds, maxDataXferSize);
        }
    }

    /** What DEVICE_GET_REGION_INFO said about a region (sparse areas validated against its size). */
    public record Region(int index, int flags, long size, long offset, List<SparseArea> sparseAreas) {
    }

    /** What DEVICE_GET_IRQ_INFO said about an IRQ type. */
    public record Irq(int index, int flags, int count) {
    }

    private final String name;
    private final Config config;
    private final ReentrantLock lock = new ReentrantLock();
    private final VfioUserChannel channel;
    private final DmaMemory dmaTable = new DmaMemory(65535);
    private final Arena mappings = Arena.ofShared();
    private final Region[] regions = new Region[PCI_NUM_REGIONS];
    private final VfioUserBar[] bars = new VfioUserBar[6];
    private final int[] barFds = {-1, -1, -1, -1, -1, -1};
    private Capabilities serverCaps = new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE);
    private int deviceFlags;
    private int numRegions;
    private int numIrqs;
    private int nextId;
    private volatile String broken;
    private volatile boolean closed;

    // receiving: whoever holds ioLock reads the socket (see transact); the pending request's reply is copied
    // into `reply` (its descriptors into replyFds) under replyMonitor
    private final ReentrantLock ioLock = new ReentrantLock();
    private final Object replyMonitor = new Object();
    private final Arena buffers = Arena.ofShared();
    private final VfioUserMessage reply;
    private final int[] replyFds;
    private int replyFdCount;
    private int pendingId = -1;
    private int pendingCommand;
    private boolean replyReady;
    private String replyProblem;
    private final VfioUserChannel.Outbox replyBox; // replies to server requests, under ioLock
    private final int wakeFd;
    private Thread reader;
    private final AtomicLong refusedRequests = new AtomicLong();
    private final AtomicLong servedDma = new AtomicLong();
    private final AtomicLong unmatchedReplies = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();

    private VfioUserDevice(Path socket, Config config, int fd) {
        this.name = socket.toString();
        this.config = config;
        this.channel = new VfioUserChannel(fd,
                VfioUserMessage.HEADER_SIZE + RegionAccess.SIZE + Math.max(config.maxDataXferSize(), REGION_INFO_ARGSZ),
                config.maxMsgFds(), config.timeoutMillis());
        this.replyBox = channel.newOutbox();
        this.reply = new VfioUserMessage(buffers.allocate(channel.capacity(), 64));
        this.replyFds = new int[config.maxMsgFds()];
        java.util.Arrays.fill(replyFds, -1);
        this.wakeFd = Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
    }

    private void startReader() {
        reader = Thread.ofPlatform().daemon().name("vfio-user client " + name).start(this::readLoop);
    }

    /** Connects with {@link Config#defaults()}. */
    public static VfioUserDevice connect(Path socket) {
        return connect(socket, Config.defaults());
    }

    /** Connects, negotiates and maps the BARs; throws naming the socket and the step that failed. */
    public static VfioUserDevice connect(Path socket, Config config) {
        int fd = Sockets.socket(Sockets.SOCK_STREAM);
        VfioUserDevice d;
        try {
            Sockets.connect(fd, UnixAddress.of(socket));
            d = new VfioUserDevice(socket, config, fd);
            d.startReader();
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e instanceof SysException se
                    ? new VfioUserException(0, "cannot connect to vfio-user server " + socket + ": " + se.getMessage(), se)
                    : e;
        }
        try {
            d.setUp();
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void setUp() {
        lock.lock();
        try {
            negotiateVersion();
            readDeviceInfo();
            for (int i = 0; i < Math.min(numRegions, PCI_NUM_REGIONS); i++) {
                readRegion(i);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ PciDevice

    @Override
    public String name() {
        return name;
    }

    @Override
    public String transport() {
        return "vfio-user";
    }

    @Override
    public DmaAddressing dmaAddressing() {
        return DmaAddressing.IOVA;
    }

    @Override
    public int configRead(int offset, int size) {
        checkConfigAccess(offset, size);
        lock.lock();
        try {
            VfioUserMessage in = regionAccess(CMD_REGION_READ, PCI_CONFIG_REGION_INDEX, offset, size, 0);
            MemorySegment data = in.payload(RegionAccess.DATA, size);
            return switch (size) {
                case 1 -> Byte.toUnsignedInt(data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
                case 2 -> Short.toUnsignedInt(data.get(DmaMemory.LE_SHORT, 0));
                default -> data.get(DmaMemory.LE_INT, 0);
            };
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        checkConfigAccess(offset, size);
        lock.lock();
        try {
            regionAccess(CMD_REGION_WRITE, PCI_CONFIG_REGION_INDEX, offset, size, value);
        } finally {
            lock.unlock();
        }
    }

    private void checkConfigAccess(int offset, int size) {
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalArgumentException("config space access of " + size + " bytes (1, 2 or 4)");
        }
        Region config = regions[PCI_CONFIG_REGION_INDEX];
        if (config == null || config.size() == 0) {
            throw new IllegalStateException(name + " has no config space region");
        }
        if (offset < 0 || offset > config.size() - size) {
            throw new IllegalArgumentException("config space access at 0x" + Integer.toHexString(offset) + " of "
                    + size + " bytes outside the 0x" + Long.toHexString(config.size()) + " bytes of " + name);
        }
    }

    @Override
    public PciBar bar(int index) {
        if (index < 0 || index > PCI_BAR5_REGION_INDEX || bars[index] == null) {
            throw new IllegalArgumentException(name + " has no BAR " + index + " (BARs: " + barList() + ")");
        }
        return bars[index];
    }

    /**
     * The descriptor the server sent for BAR {@code index}'s mappable areas (-1 when it has none), owned by
     * this device until {@link #close}: another process given it (SCM_RIGHTS) maps
     * {@link Region#sparseAreas()} at {@link Region#offset()} + area offset, as this one did.
     */
    public int barDescriptor(int index) {
        bar(index);
        return barFds[index];
    }

    /** The BAR as its vfio-user type (mapped areas, flags). */
    public VfioUserBar vfioUserBar(int index) {
        return (VfioUserBar) bar(index);
    }

    private String barList() {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < bars.length; i++) {
            if (bars[i] != null) {
                l.add(i);
            }
        }
        return l.toString();
    }

    @Override
    public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) {
        if (fd < 0) {
            throw new IllegalArgumentException("DMA map of " + memory.byteSize() + " bytes without a descriptor (use "
                    + "dmaMap(-1, 0, memory, iova, flags) for memory the server reaches only by DMA_READ/DMA_WRITE)");
        }
        dmaMap(fd, fdOffset, memory, iova, DMA_FLAG_READ | DMA_FLAG_WRITE);
    }

    /**
     * VFIO_USER_DMA_MAP with the spec's flags: READ, and WRITE unless the device may only read the memory. With
     * {@code fd < 0} no descriptor is sent ("VFIO_USER_DMA_MAP": the server then reaches the memory only through
     * VFIO_USER_DMA_READ / DMA_WRITE messages, which this client serves from {@code memory} within the flags).
     */
    public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova, int flags) {
        long size = memory.byteSize();
        if (fdOffset < 0 || size <= 0 || (fd < 0 && fdOffset != 0)) {
            throw new IllegalArgumentException("DMA map of " + size + " bytes from descriptor " + fd + " at offset "
                    + fdOffset + " (need memory and a non-negative offset; offset 0 without a descriptor)");
        }
        if (reader != null && !memory.isAccessibleBy(reader)) {
            throw new IllegalArgumentException("DMA map of memory confined to one thread: the client serves the "
                    + "server's DMA_READ/DMA_WRITE from its reader thread, so map shared or global memory");
        }
        if ((flags & DMA_FLAG_READ) == 0 || (flags & ~(DMA_FLAG_READ | DMA_FLAG_WRITE)) != 0) {
            throw new IllegalArgumentException("DMA map flags 0x" + Integer.toHexString(flags)
                    + " (VFIO_DMA_MAP_FLAG_READ, optionally with VFIO_DMA_MAP_FLAG_WRITE)");
        }
        lock.lock();
        try {
            checkUsable(CMD_DMA_MAP);
            if (fd >= 0 && serverCaps.maxMsgFds() < 1) {
                throw new VfioUserException(CMD_DMA_MAP, "the server accepts no descriptors (max_msg_fds 0)");
            }
            DmaMemory.Region region = dmaTable.add(iova, memory, (flags & DMA_FLAG_WRITE) != 0, null); // refuses overlap
            try {
                VfioUserMessage out = begin(CMD_DMA_MAP, DmaMap.SIZE);
                out.putU32(DmaMap.ARGSZ, DmaMap.SIZE);
                out.putU32(DmaMap.FLAGS, flags);
                out.putU64(DmaMap.OFFSET, fdOffset);
                out.putU64(DmaMap.ADDRESS, iova);
                out.putU64(DmaMap.SIZE_FIELD, size);
                if (fd >= 0) {
                    transact(new int[] {fd}, 1);
                } else {
                    transact(null, 0);
                }
            } catch (RuntimeException e) {
                dmaTable.remove(region.iova(), region.size());
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void dmaUnmap(long iova, long size) {
        lock.lock();
        try {
            VfioUserMessage out = begin(CMD_DMA_UNMAP, DmaUnmap.SIZE);
            out.putU32(DmaUnmap.ARGSZ, DmaUnmap.SIZE);
            out.putU64(DmaUnmap.ADDRESS, iova);
            out.putU64(DmaUnmap.SIZE_FIELD, size);
            VfioUserMessage in = transact(null, 0);
            if (in.payloadLength() != 0) { // the spec has the entry echoed; accept servers that send none
                in.requirePayload(DmaUnmap.SIZE, "DMA unmap reply");
                if (in.u64(DmaUnmap.ADDRESS) != iova || in.u64(DmaUnmap.SIZE_FIELD) != size) {
                    throw broken(CMD_DMA_UNMAP, "reply echoes [0x" + Long.toHexString(in.u64(DmaUnmap.ADDRESS)) + ", +"
                            + in.u64(DmaUnmap.SIZE_FIELD) + "), not the unmapped range");
                }
            }
            dmaTable.remove(iova, size);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int interruptCount(InterruptType type) {
        Irq irq = irqInfo(type.ordinal());
        return irq == null ? 0 : irq.count();
    }

    /** DEVICE_GET_IRQ_INFO for IRQ index {@code index}; null when the device has fewer IRQ types. */
    public Irq irqInfo(int index) {
        if (index < 0 || index >= numIrqs) {
            return null;
        }
        lock.lock();
        try {
            VfioUserMessage out = begin(CMD_DEVICE_GET_IRQ_INFO, IrqInfo.SIZE);
            out.putU32(IrqInfo.ARGSZ, IrqInfo.SIZE);
            out.putU32(IrqInfo.INDEX, index);
            VfioUserMessage in = transact(null, 0);
            in.requirePayload(IrqInfo.SIZE, "irq info reply");
            int count = in.u32(IrqInfo.COUNT);
            if (in.u32(IrqInfo.INDEX) != index || count < 0) {
                throw broken(CMD_DEVICE_GET_IRQ_INFO, "reply for IRQ index " + Integer.toUnsignedString(in.u32(IrqInfo.INDEX))
                        + " with count " + Integer.toUnsignedString(count) + " (asked for index " + index + ")");
            }
            return new Irq(index, in.u32(IrqInfo.FLAGS), count);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void enableInterrupts(InterruptType type, int[] eventfds) {
        if (eventfds.length == 0) {
            throw new IllegalArgumentException("no eventfds to route " + type + " vectors to");
        }
        for (int fd : eventfds) {
            if (fd < 0) {
                throw new IllegalArgumentException("eventfd " + fd + " in " + Arrays.toString(eventfds));
            }
        }
        lock.lock();
        try {
            checkUsable(CMD_DEVICE_SET_IRQS);
            int chunk = Math.min(serverCaps.maxMsgFds(), config.maxMsgFds());
            if (chunk < 1) {
                throw new VfioUserException(CMD_DEVICE_SET_IRQS, "the server accepts no descriptors (max_msg_fds 0)");
            }
            for (int start = 0; start < eventfds.length; start += chunk) {
                int n = Math.min(chunk, eventfds.length - start);
                setIrqs(type.ordinal(), IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER, start, n,
                        Arrays.copyOfRange(eventfds, start, start + n));
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void disableInterrupts(InterruptType type) {
        lock.lock();
        try {
            setIrqs(type.ordinal(), IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER, 0, 0, null);
        } finally {
            lock.unlock();
        }
    }

    private void setIrqs(int index, int flags, int start, int count, int[] fds) {
        VfioUserMessage out = begin(CMD_DEVICE_SET_IRQS, IrqSet.SIZE);
        out.putU32(IrqSet.ARGSZ, IrqSet.SIZE);
        out.putU32(IrqSet.FLAGS, flags);
        out.putU32(IrqSet.INDEX, index);
        out.putU32(IrqSet.START, start);
        out.putU32(IrqSet.COUNT, count);
        transact(fds, fds == null ? 0 : fds.length);
    }

    @Override
    public void reset() {
        if ((deviceFlags & DEVICE_FLAGS_RESET) == 0) {
            throw new UnsupportedOperationException(name + " does not support reset (no VFIO_DEVICE_FLAGS_RESET)");
        }
        lock.lock();
        try {
            begin(CMD_DEVICE_RESET, 0);
            transact(null, 0);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        channel.shutdown(); // a request waiting for its reply fails now instead of at its timeout
        Events.eventfdWrite(wakeFd, 1);
        if (reader != null && reader != Thread.currentThread()) {
            try {
                reader.join(config.timeoutMillis() + 1000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        ioLock.lock();
        try {
            channel.close();
            replyBox.close();
            closeReplyFds();
            Io.closeQuietly(wakeFd);
            buffers.close();
            for (int i = 0; i < barFds.length; i++) {
                Io.closeQuietly(barFds[i]);
                barFds[i] = -1;
            }
            try {
                mappings.close();
            } catch (IllegalStateException e) {
                LOG.log(Level.WARNING, "BAR mappings of {0} still in use by a native call: left mapped", name);
            }
        } finally {
            ioLock.unlock();
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ more of the protocol

    /** VFIO_DEVICE_FLAGS_* from DEVICE_GET_INFO. */
    public int deviceFlags() {
        return deviceFlags;
    }

    public int regionCount() {
        return numRegions;
    }

    public int irqCount() {
        return numIrqs;
    }

    /** The server's max_msg_fds and max_data_xfer_size. */
    public int serverMaxMsgFds() {
        return serverCaps.maxMsgFds();
    }

    public long serverMaxDataXferSize() {
        return serverCaps.maxDataXferSize();
    }

    /** The region's descriptor and its sparse-mmap areas (the queue pages), as this process mapped them. */
    @Override
    public BarHandover handOverBar(int bar) {
        Region r = region(bar);
        int fd = barDescriptor(bar);
        if (r == null || fd < 0 || r.sparseAreas().isEmpty()) {
            throw new IllegalStateException(name + ": BAR" + bar + " has no mappable queue pages (no sparse-mmap areas)");
        }
        long[][] areas = new long[r.sparseAreas().size()][];
        for (int i = 0; i < areas.length; i++) {
            areas[i] = new long[] {r.sparseAreas().get(i).offset(), r.sparseAreas().get(i).size()};
        }
        return new BarHandover(transport(), bar, r.size(), r.offset(), areas, fd, false);
    }

    /** The server outlives this client and takes the next one: any process of the group may connect to it. */
    @Override
    public String reopenName() {
        return REOPEN_PREFIX + java.nio.file.Path.of(name).toAbsolutePath().normalize();
    }

    /** Region {@code index} as DEVICE_GET_REGION_INFO described it at connect; null when absent (size 0). */
    public Region region(int index) {
        return index >= 0 && index < regions.length ? regions[index] : null;
    }

    /** Reads {@code dst.byteSize()} bytes of region {@code index} from {@code offset} (REGION_READ, split as needed). */
    public void readRegion(int index, long offset, MemorySegment dst) {
        checkRegionAccess(index, offset, dst.byteSize());
        lock.lock();
        try {
            long done = 0;
            while (done < dst.byteSize()) {
                int n = (int) Math.min(dst.byteSize() - done, maxTransfer());
                VfioUserMessage in = regionAccess(CMD_REGION_READ, index, offset + done, n, 0);
                MemorySegment.copy(in.payload(RegionAccess.DATA, n), 0, dst, done, n);
                done += n;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Writes {@code src} to region {@code index} at {@code offset} (REGION_WRITE, split as needed). */
    public void writeRegion(int index, long offset, MemorySegment src) {
        checkRegionAccess(index, offset, src.byteSize());
        lock.lock();
        try {
            long done = 0;
            while (done < src.byteSize()) {
                int n = (int) Math.min(src.byteSize() - done, maxTransfer());
                VfioUserMessage out = begin(CMD_REGION_WRITE, RegionAccess.SIZE + n);
                out.putU64(RegionAccess.OFFSET, offset + done);
                out.putU32(RegionAccess.REGION, index);
                out.putU32(RegionAccess.COUNT, n);
                MemorySegment.copy(src, done, out.payload(RegionAccess.DATA, n), 0, n);
                checkAccessReply(transact(null, 0), CMD_REGION_WRITE, index, offset + done, n);
                done += n;
            }
        } finally {
            lock.unlock();
        }
    }

    private long maxTransfer() {
        return Math.min(serverCaps.maxDataXferSize(), channel.out().payloadCapacity() - RegionAccess.SIZE);
    }

    private void checkRegionAccess(int index, long offset, long length) {
        Region r = region(index);
        if (r == null) {
            throw new IllegalArgumentException(name + " has no region " + index);
        }
        if (offset < 0 || length < 0 || offset > r.size() - length) {
            throw new IllegalArgumentException("access to [0x" + Long.toHexString(offset) + ", +" + length
                    + ") outside region " + index + " of 0x" + Long.toHexString(r.size()) + " bytes of " + name);
        }
    }

    int trappedRead32(int index, long offset) {
        lock.lock();
        try {
            return regionAccess(CMD_REGION_READ, index, offset, 4, 0).payload(RegionAccess.DATA, 4).get(DmaMemory.LE_INT, 0);
        } finally {
            lock.unlock();
        }
    }

    void trappedWrite32(int index, long offset, int value) {
        lock.lock();
        try {
            regionAccess(CMD_REGION_WRITE, index, offset, 4, value);
        } finally {
            lock.unlock();
        }
    }

    /** One REGION_READ or REGION_WRITE of up to 4 bytes; the reply is checked to echo the access. */
    private VfioUserMessage regionAccess(int command, int index, long offset, int count, int value) {
        boolean write = command == CMD_REGION_WRITE;
        VfioUserMessage out = begin(command, RegionAccess.SIZE + (write ? count : 0));
        out.putU64(RegionAccess.OFFSET, offset);
        out.putU32(RegionAccess.REGION, index);
        out.putU32(RegionAccess.COUNT, count);
        if (write) {
            MemorySegment data = out.payload(RegionAccess.DATA, count);
            switch (count) {
                case 1 -> data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) value);
                case 2 -> data.set(DmaMemory.LE_SHORT, 0, (short) value);
                default -> data.set(DmaMemory.LE_INT, 0, value);
            }
        }
        return checkAccessReply(transact(null, 0), command, index, offset, count);
    }

    private VfioUserMessage checkAccessReply(VfioUserMessage in, int command, int index, long offset, int count) {
        boolean write = command == CMD_REGION_WRITE;
        in.requirePayload(RegionAccess.SIZE, "region access reply");
        if (in.u64(RegionAccess.OFFSET) != offset || in.u32(RegionAccess.REGION) != index || in.u32(RegionAccess.COUNT) != count) {
            throw broken(command, "reply describes region " + Integer.toUnsignedString(in.u32(RegionAccess.REGION))
                    + " [0x" + Long.toHexString(in.u64(RegionAccess.OFFSET)) + ", +"
                    + Integer.toUnsignedString(in.u32(RegionAccess.COUNT)) + "), not the access made (region " + index
                    + " [0x" + Long.toHexString(offset) + ", +" + count + "))");
        }
        if (!write && in.payloadLength() != RegionAccess.SIZE + count) {
            throw broken(command, "reply carries " + (in.payloadLength() - RegionAccess.SIZE) + " data bytes for a read of " + count);
        }
        return in;
    }

    // ------------------------------------------------------------------ set-up steps

    private void negotiateVersion() {
        checkUsable(CMD_VERSION);
        new Capabilities(config.maxMsgFds(), config.maxDataXferSize()).write(channel.out(), nextId(), FLAG_TYPE_COMMAND);
        VfioUserMessage in = transact(null, 0);
        in.requirePayload(VfioUserLayout.Version.SIZE, "version reply");
        int major = in.u16(VfioUserLayout.Version.MAJOR);
        int minor = in.u16(VfioUserLayout.Version.MINOR);
        if (major != VERSION_MAJOR || minor > VERSION_MINOR) {
            throw broken(CMD_VERSION, "server answers version " + major + "." + minor + " to our " + VERSION_MAJOR
                    + "." + VERSION_MINOR);
        }
        try {
            serverCaps = Capabilities.read(in);
        } catch (VfioUserException e) {
            throw broken(CMD_VERSION, e.getMessage().substring(e.getMessage().indexOf(':') + 2));
        }
    }

    private void readDeviceInfo() {
        VfioUserMessage out = begin(CMD_DEVICE_GET_INFO, DeviceInfo.SIZE);
        out.putU32(DeviceInfo.ARGSZ, DeviceInfo.SIZE);
        VfioUserMessage in = transact(null, 0);
        in.requirePayload(DeviceInfo.SIZE, "device info reply");
        deviceFlags = in.u32(DeviceInfo.FLAGS);
        numRegions = in.u32(DeviceInfo.NUM_REGIONS);
        numIrqs = in.u32(DeviceInfo.NUM_IRQS);
        if ((deviceFlags & DEVICE_FLAGS_PCI) == 0) {
            throw broken(CMD_DEVICE_GET_INFO, "the device is not a PCI device (flags 0x" + Integer.toHexString(deviceFlags) + ")");
        }
        if (numRegions < 0 || numRegions > 64 || numIrqs < 0 || numIrqs > 64) {
            throw broken(CMD_DEVICE_GET_INFO, "implausible counts: " + Integer.toUnsignedString(numRegions) + " regions, "
                    + Integer.toUnsignedString(numIrqs) + " IRQ types");
        }
    }

    private void readRegion(int index) {
        int argsz = REGION_INFO_ARGSZ;
        for (int attempt = 0; ; attempt++) {
            VfioUserMessage out = begin(CMD_DEVICE_GET_REGION_INFO, RegionInfo.SIZE);
            out.putU32(RegionInfo.ARGSZ, argsz);
            out.putU32(RegionInfo.INDEX, index);
            VfioUserMessage in = transact(null, 0);
            in.requirePayload(RegionInfo.SIZE, "region info reply");
            long needed = Integer.toUnsignedLong(in.u32(RegionInfo.ARGSZ));
            if (in.u32(RegionInfo.INDEX) != index) {
                throw broken(CMD_DEVICE_GET_REGION_INFO, "reply describes region "
                        + Integer.toUnsignedString(in.u32(RegionInfo.INDEX)) + ", asked for " + index);
            }
            if (needed > argsz) {
                if (attempt > 0 || needed > reply.payloadCapacity()) {
                    throw broken(CMD_DEVICE_GET_REGION_INFO, "region " + index + " info needs " + needed
                            + " bytes (asked with argsz " + argsz + ")");
                }
                argsz = (int) needed;
                continue;
            }
            parseRegion(in, index);
            return;
        }
    }

    private void parseRegion(VfioUserMessage in, int index) {
        int flags = in.u32(RegionInfo.FLAGS);
        long size = in.u64(RegionInfo.SIZE_FIELD);
        long offset = in.u64(RegionInfo.OFFSET);
        int cmd = CMD_DEVICE_GET_REGION_INFO;
        if (size < 0) {
            throw broken(cmd, "region " + index + " size 0x" + Long.toHexString(size));
        }
        if (size == 0) {
            return; // absent
        }
        List<SparseArea> areas = new ArrayList<>();
        boolean sparse = false;
        if ((flags & REGION_FLAG_CAPS) != 0) {
            long limit = in.payloadLength();
            long cap = Integer.toUnsignedLong(in.u32(RegionInfo.CAP_OFFSET));
            for (int n = 0; cap != 0; n++) {
                if (n >= MAX_CAPS || cap < RegionInfo.SIZE || cap > limit - CapHeader.SIZE || (cap & 3) != 0) {
                    throw broken(cmd, "region " + index + " capability at offset " + cap + " outside the "
                            + limit + "-byte reply (or a capability loop)");
                }
                int id = in.u16(cap + CapHeader.ID);
                long next = Integer.toUnsignedLong(in.u32(cap + CapHeader.NEXT));
                if (next != 0 && next <= cap) {
                    throw broken(cmd, "region " + index + " capability list goes backwards (" + cap + " -> " + next + ")");
                }
                if (id == REGION_INFO_CAP_SPARSE_MMAP) {
                    sparse = true;
                    areas.addAll(sparseAreas(in, index, cap + CapHeader.SIZE, limit, size));
                }
                cap = next;
            }
        }
        int fd = -1;
        try {
            if ((flags & REGION_FLAG_MMAP) != 0) {
                fd = takeReplyFd(0);
                if (fd < 0) {
                    throw broken(cmd, "region " + index + " is mappable but no descriptor came with the reply");
                }
                if (!sparse) {
                    areas.add(new SparseArea(0, size));
                }
            } else {
                areas.clear();
            }
            for (SparseArea a : areas) {
                if (a.end() > size) {
                    throw broken(cmd, "region " + index + " sparse area " + a + " outside its 0x" + Long.toHexString(size) + " bytes");
                }
                if (offset < 0 || (offset + a.offset()) % PAGE_SIZE != 0 || offset > Long.MAX_VALUE - a.end()) {
                    throw broken(cmd, "region " + index + " sparse area " + a + " at descriptor offset 0x"
                            + Long.toHexString(offset) + " is not page-aligned");
                }
            }
            areas.sort(Comparator.comparingLong(SparseArea::offset));
            for (int i = 1; i < areas.size(); i++) {
                if (areas.get(i).offset() < areas.get(i - 1).end()) {
                    throw broken(cmd, "region " + index + " sparse areas overlap: " + areas);
                }
            }
            regions[index] = new Region(index, flags, size, offset, List.copyOf(areas));
            if (index <= PCI_BAR5_REGION_INDEX) {
                bars[index] = new VfioUserBar(this, index, size, flags, areas, mapAreas(index, flags, offset, areas, fd));
                if (!areas.isEmpty()) {
                    barFds[index] = fd; // kept for secondaries, which map the same areas themselves
                    fd = -1;
                }
            }
        } finally {
            Io.closeQuietly(fd); // the mappings keep what they need
        }
    }

    private List<SparseArea> sparseAreas(VfioUserMessage in, int index, long at, long limit, long regionSize) {
        int cmd = CMD_DEVICE_GET_REGION_INFO;
        if (at > limit - SparseMmap.HEADER_SIZE) {
            throw broken(cmd, "region " + index + " sparse mmap capability cut short");
        }
        long nr = Integer.toUnsignedLong(in.u32(at + SparseMmap.NR_AREAS));
        if (nr > MAX_SPARSE_AREAS || nr * SparseMmap.AREA_BYTES > limit - at - SparseMmap.HEADER_SIZE) {
            throw broken(cmd, "region " + index + " claims " + nr + " sparse areas, more than the reply holds");
        }
        List<SparseArea> areas = new ArrayList<>();
        for (long i = 0; i < nr; i++) {
            long e = at + SparseMmap.AREAS + i * SparseMmap.AREA_BYTES;
            long off = in.u64(e + SparseMmap.AREA_OFFSET);
            long len = in.u64(e + SparseMmap.AREA_SIZE);
            if (len == 0) {
                continue;
            }
            if (off < 0 || len < 0 || off > regionSize - len || len > regionSize) {
                throw broken(cmd, "region " + index + " sparse area [0x" + Long.toHexString(off) + ", +0x"
                        + Long.toHexString(len) + ") outside its 0x" + Long.toHexString(regionSize) + " bytes");
            }
            areas.add(new SparseArea(off, len));
        }
        return areas;
    }

    @SuppressWarnings("restricted") // binds a mapping we made to our arena, with its exact size
    private List<MemorySegment> mapAreas(int index, int flags, long offset, List<SparseArea> areas, int fd) {
        List<MemorySegment> maps = new ArrayList<>();
        if (areas.isEmpty()) {
            return maps;
        }
        int prot = ((flags & REGION_FLAG_READ) != 0 ? Mman.PROT_READ : 0) | ((flags & REGION_FLAG_WRITE) != 0 ? Mman.PROT_WRITE : 0);
        try {
            long fileSize = Io.fileSize(fd);
            for (SparseArea a : areas) {
                if (offset + a.end() > fileSize) {
                    throw broken(CMD_DEVICE_GET_REGION_INFO, "region " + index + " area " + a + " at offset 0x"
                            + Long.toHexString(offset) + " lies beyond the end of the descriptor's file (" + fileSize + " bytes)");
                }
                MemorySegment m = Mman.mmap(a.size(), prot, Mman.MAP_SHARED, fd, offset + a.offset());
                maps.add(m.reinterpret(a.size(), mappings, Mman::munmap));
            }
        } catch (SysException e) {
            throw broken(CMD_DEVICE_GET_REGION_INFO, "cannot map region " + index + ": " + e.getMessage());
        }
        return maps;
    }

    // ------------------------------------------------------------------ request/reply

    private int nextId() {
        nextId = (nextId + 1) & 0xffff;
        return nextId;
    }

    private VfioUserMessage begin(int command, int payloadLength) {
        checkUsable(command);
        return channel.out().begin(nextId(), command, FLAG_TYPE_COMMAND, payloadLength);
    }

    private void checkUsable(int command) {
        if (closed) {
            throw new VfioUserException(command, name + " is closed");
        }
        if (broken != null) {
            throw new VfioUserException(command, "connection to " + name + " is broken (" + broken + "); reconnect");
        }
    }

    /** Marks the connection unusable and returns the exception to throw. */
    private VfioUserException broken(int command, String what) {
        VfioUserException e = new VfioUserException(command, what + " (server " + name + ")");
        markBroken(e.getMessage());
        return e;
    }

    /**
     * The stream can no longer be trusted (or the server left): later calls fail at once, naming this first
     * failure. The socket is shut down, not closed, so the reader thread and a waiting requester wake up;
     * the descriptor is closed by {@link #close}.
     */
    private void markBroken(String why) {
        synchronized (replyMonitor) {
            if (broken == null) {
                broken = why;
                if (!closed) {
                    LOG.log(Level.WARNING, "{0}: connection broken: {1}", name, why);
                }
            }
            replyMonitor.notifyAll();
        }
        channel.shutdown();
    }

    /** {@link #markBroken} naming the request waiting for a reply, if any ({@code command} when it is known). */
    private void markBroken(int command, String detail) {
        int cmd = command;
        synchronized (replyMonitor) {
            if (cmd == 0 && pendingId >= 0) {
                cmd = pendingCommand;
            }
        }
        markBroken(new VfioUserException(cmd, detail).getMessage());
    }

    /**
     * Sends the request in the out buffer and waits for its reply, serving server requests meanwhile.
     * Returns the reply (valid until the next exchange; its descriptors in {@link #replyFd}); an error reply
     * throws with the errno and leaves the connection usable. Called with {@link #lock} held.
     *
     * <p>Whoever holds {@link #ioLock} reads the socket: this thread while it waits, else the reader thread,
     * which hands a reply to us by copying it into {@link #reply}. Server requests are served by whichever
     * thread reads them, so one arriving between our requests is answered at once (the spec's "Command
     * Concurrency": unrelated server messages can appear between a request and its reply).
     */
    private VfioUserMessage transact(int[] fds, int fdCount) {
        VfioUserMessage out = channel.out();
        int id = out.msgId();
        int command = out.command();
        checkUsable(command);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMillis());
        closeReplyFds();
        synchronized (replyMonitor) {
            if (broken != null) { // broken between checkUsable and here, by the reader thread
                throw new VfioUserException(command, "connection to " + name + " is broken (" + broken + "); reconnect");
            }
            pendingId = id;
            pendingCommand = command;
            replyReady = false;
            replyProblem = null;
        }
        try {
            try {
                channel.send(fds, fdCount, deadline);
            } catch (VfioUserException e) {
                throw broken(command, e.getMessage());
            }
            while (true) {
                synchronized (replyMonitor) {
                    if (replyReady) {
                        break;
                    }
                }
                if (broken != null) { // broke while we waited: this request is the one that failed
                    throw VfioUserException.named(command, broken);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw broken(command, "no reply to message id " + id + " within " + config.timeoutMillis() + " ms");
                }
                int leftMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)));
                if (ioLock.tryLock()) {
                    try {
                        // Only a holder of ioLock hands a reply over, so checked here it cannot change under us: the
                        // reader may have taken our reply between the check above and tryLock, and pumping then
                        // would wait the whole timeout for a reply that already came.
                        boolean ready;
                        synchronized (replyMonitor) {
                            ready = replyReady;
                        }
                        if (!ready) {
                            pump(leftMillis);
                        }
                    } finally {
                        releaseIo();
                    }
                } else {
                    synchronized (replyMonitor) {
                        if (!replyReady && broken == null && ioLock.isLocked()) {
                            replyMonitor.wait(leftMillis);
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw broken(command, "interrupted while waiting for the reply to message id " + id);
        } finally {
            synchronized (replyMonitor) {
                pendingId = -1;
            }
        }
        if (replyProblem != null) {
            protocolErrors.incrementAndGet();
            throw new VfioUserException(command, replyProblem + " (server " + name + ")");
        }
        if (!reply.isError()) {
            return reply;
        }
        int errno = reply.error();
        // an error reply leaves the connection usable, with or without a payload (libvfio-user sends one
        // when a region callback fails; the spec says the header only): the stream is still in step
        throw new VfioUserException(command, errno, "server " + name + " replied with error " + errnoName(errno)
                + (reply.payloadLength() != 0 ? " (and a " + reply.payloadLength() + "-byte payload, ignored)" : ""), null);
    }

    private void releaseIo() {
        ioLock.unlock();
        synchronized (replyMonitor) {
            replyMonitor.notifyAll(); // a requester waiting for the reader to let go of the socket
        }
    }

    /**
     * Receives at most one message (waiting up to {@code waitMillis}) and deals with it: a server request is
     * served, the pending request's reply is handed over, a reply to nothing is counted and dropped. A
     * broken stream (bad size, too many descriptors, cut short, unknown type, end of stream) marks the
     * connection broken. Called with {@link #ioLock} held.
     */
    private void pump(int waitMillis) {
        if (broken != null || closed) {
            return;
        }
        int r;
        try {
            r = channel.receive(waitMillis);
        } catch (VfioUserException e) {
            protocolErrors.incrementAndGet();
            if (e.command() != 0) {
                markBroken(e.getMessage());
            } else {
                markBroken(0, e.getMessage() + " (server " + name + ")");
            }
            return;
        }
        if (r == VfioUserChannel.NOTHING) {
            return;
        }
        if (r == VfioUserChannel.END_OF_STREAM) {
            synchronized (replyMonitor) {
                if (pendingId >= 0) {
                    markBroken(pendingCommand, "server closed the connection before replying to message id " + pendingId
                            + " (server " + name + ")");
                    return;
                }
            }
            markBroken("server " + name + " closed the connection");
            return;
        }
        VfioUserMessage in = channel.in();
        if (in.isCommand()) {
            serveServerRequest(in);
            return;
        }
        if (!in.isReply()) {
            protocolErrors.incrementAndGet();
            markBroken(0, "message of unknown type " + (in.flags() & FLAG_TYPE_MASK) + " (flags 0x"
                    + Integer.toHexString(in.flags()) + ") (server " + name + ")");
            return;
        }
        synchronized (replyMonitor) {
            if (pendingId == in.msgId() && !replyReady) {
                MemorySegment.copy(in.buffer(), 0, reply.buffer(), 0, in.size());
                reply.received(in.size());
                replyFdCount = 0;
                for (int i = 0; i < channel.fdCount(); i++) {
                    replyFds[replyFdCount++] = channel.takeFd(i);
                }
                if (in.command() != pendingCommand) {
                    replyProblem = "reply to message id " + pendingId + " is for " + commandName(in.command())
                            + ", not " + commandName(pendingCommand);
                }
                replyReady = true;
                replyMonitor.notifyAll();
                return;
            }
        }
        // a late reply to a request that timed out, or a server replying to nothing: the stream is in step
        unmatchedReplies.incrementAndGet();
        LOG.log(Level.WARNING, "{0}: dropping a reply to nothing ({1}, message id {2})", name, commandName(in.command()),
                in.msgId());
        channel.closeUntakenFds();
    }

    /** Descriptor {@code index} of the last reply, now owned by the caller; -1 when there is none. */
    private int takeReplyFd(int index) {
        if (index < 0 || index >= replyFdCount || replyFds[index] < 0) {
            return -1;
        }
        int fd = replyFds[index];
        replyFds[index] = -1;
        return fd;
    }

    private void closeReplyFds() {
        for (int i = 0; i < replyFdCount; i++) {
            Io.closeQuietly(replyFds[i]);
            replyFds[i] = -1;
        }
        replyFdCount = 0;
    }

    /** The reader thread: serves what arrives while no request is waiting for its reply. */
    private void readLoop() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment pfds = Events.allocatePollFds(local, 2);
            while (!closed && broken == null) {
                Events.setPollFd(pfds, 0, wakeFd, Events.POLLIN);
                Events.setPollFd(pfds, 1, channel.socket(), Events.POLLIN);
                Events.poll(pfds, -1);
                if (closed || Events.pollRevents(pfds, 0) != 0) {
                    return;
                }
                if (Events.pollRevents(pfds, 1) != 0) {
                    ioLock.lock();
                    try {
                        pump(0);
                    } finally {
                        releaseIo();
                    }
                }
            }
        } catch (RuntimeException e) {
            if (!closed) {
                markBroken("reader thread failed: " + e);
            }
        }
    }

    /**
     * Serves VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE from the memory registered with {@link #dmaMap}, within
     * the access the map allowed; anything else gets an error reply (ENOSYS for commands a server may not
     * send, EINVAL for descriptors, which no server request carries), counted in {@link #refusedServerRequests()}.
     * Called with {@link #ioLock} held; replies go out through {@link #replyBox}.
     */
    private void serveServerRequest(VfioUserMessage in) {
        int command = in.command();
        int id = in.msgId();
        boolean reply = !in.noReply();
        VfioUserMessage out = replyBox.message();
        Errno errno = null;
        String problem = null;
        if (channel.fdCount() > 0) {
            errno = Errno.EINVAL;
            problem = channel.fdCount() + " descriptors with a server request";
            channel.closeUntakenFds();
        } else if (command == CMD_DMA_READ || command == CMD_DMA_WRITE) {
            boolean write = command == CMD_DMA_WRITE;
            if (in.payloadLength() < DmaAccess.SIZE) {
                errno = Errno.EINVAL;
                problem = "payload of " + in.payloadLength() + " bytes (need " + DmaAccess.SIZE + ")";
            } else {
                long address = in.u64(DmaAccess.ADDRESS);
                long count = in.u64(DmaAccess.COUNT);
                DmaMemory.Region r;
                if (count < 0 || count > config.maxDataXferSize() || count > out.payloadCapacity() - DmaAccess.SIZE) {
                    errno = Errno.E2BIG;
                    problem = "count " + Long.toUnsignedString(count) + " exceeds our max_data_xfer_size "
                            + config.maxDataXferSize();
                } else if (write && count != in.payloadLength() - DmaAccess.SIZE) {
                    errno = Errno.EINVAL;
                    problem = "count " + count + " but " + (in.payloadLength() - DmaAccess.SIZE) + " data bytes";
                } else if ((r = dmaTable.find(address, count)) == null) {
                    errno = Errno.EFAULT;
                    problem = "[0x" + Long.toHexString(address) + ", +" + count + ") is not inside one mapped region";
                } else if (write && !r.writable()) {
                    errno = Errno.EPERM;
                    problem = "write to " + r + ", which was mapped without VFIO_DMA_MAP_FLAG_WRITE";
                } else {
                    try {
                        if (write) {
                            MemorySegment.copy(in.payload(DmaAccess.DATA, count), 0, r.segment(), address - r.iova(), count);
                        }
                        if (reply) {
                            out.begin(id, command, FLAG_TYPE_REPLY, DmaAccess.SIZE + (write ? 0 : (int) count));
                            out.putU64(DmaAccess.ADDRESS, address);
                            out.putU64(DmaAccess.COUNT, count);
                            if (!write) {
                                MemorySegment.copy(r.segment(), address - r.iova(), out.payload(DmaAccess.DATA, count), 0, count);
                            }
                        }
                        servedDma.incrementAndGet();
                    } catch (IllegalStateException | WrongThreadException e) { // the memory's arena closed under us
                        errno = Errno.EFAULT;
                        problem = r + " is no longer accessible: " + e.getMessage();
                    }
                }
            }
        } else {
            errno = Errno.ENOSYS;
            problem = "not a server-to-client command";
        }
        if (problem != null) {
            refusedRequests.incrementAndGet();
            LOG.log(Level.WARNING, "{0}: refusing {1} (message id {2}) from the server: {3}", name, commandName(command),
                    id, problem);
        }
        if (reply) {
            if (errno != null) {
                out.beginError(id, command, errno.code());
            }
            try {
                channel.send(replyBox, null, 0, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMillis()));
            } catch (VfioUserException e) {
                markBroken("cannot reply to the server's " + commandName(command) + ": " + e.getMessage());
            }
        }
    }

    /** Server requests refused with an error reply (bad counts or addresses, unknown commands, descriptors). */
    public long refusedServerRequests() {
        return refusedRequests.get();
    }

    /** DMA_READ / DMA_WRITE requests of the server served. */
    public long servedDmaRequests() {
        return servedDma.get();
    }

    /** Replies that matched no outstanding request (dropped), and replies that did not fit their request. */
    public long unmatchedReplies() {
        return unmatchedReplies.get();
    }

    /** Messages that broke the stream or answered a request with the wrong command. */
    public long protocolErrors() {
        return protocolErrors.get();
    }

    /** Why the connection is unusable, or null while it works. */
    public String brokenReason() {
        return broken;
    }

    @Override
    public String toString() {
        return "vfio-user device " + name;
    }
}
