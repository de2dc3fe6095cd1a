package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.VfioUser.*;

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
import java.util.concurrent.locks.ReentrantLock;

/**
 * A PCI function served by a vfio-user server on a UNIX socket (QEMU docs/interop/vfio-user.rst). On
 * {@link #connect} it negotiates the version, reads the device, region and BAR layout, and maps the
 * sparse-mmap areas of the BARs through the descriptors the server sends, so doorbells are plain stores.
 * Everything else is a request/reply exchange: one at a time under one lock, each bounded by the
 * configured timeout, the reply matched by message id and checked before any field of it is used.
 *
 * <p>Any failure other than an error reply (timeout, wrong id, bad length, garbage, disconnect) breaks the
 * connection for good: the stream can no longer be trusted, so later calls fail at once, naming the
 * first failure. The server may send VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE while a request is
 * outstanding; they are served from the memory given to {@link #dmaMap}.
 */
public final class VfioUserDevice implements PciDevice {
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
    private String broken;
    private boolean closed;

    private VfioUserDevice(Path socket, Config config, int fd) {
        this.name = socket.toString();
        this.config = config;
        this.channel = new VfioUserChannel(fd,
                VfioUserMessage.HEADER_SIZE + RegionAccess.SIZE + Math.max(config.maxDataXferSize(), REGION_INFO_ARGSZ),
                config.maxMsgFds(), config.timeoutMillis());
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
        long size = memory.byteSize();
        if (fd < 0 || fdOffset < 0 || size <= 0) {
            throw new IllegalArgumentException("DMA map of " + size + " bytes from descriptor " + fd + " at offset "
                    + fdOffset + " (need a descriptor, a non-negative offset and memory)");
        }
        lock.lock();
        try {
            checkUsable(CMD_DMA_MAP);
            if (serverCaps.maxMsgFds() < 1) {
                throw new VfioUserException(CMD_DMA_MAP, "the server accepts no descriptors (max_msg_fds 0)");
            }
            DmaMemory.Region region = dmaTable.add(iova, memory, true, null); // overlap is refused here
            try {
                VfioUserMessage out = begin(CMD_DMA_MAP, DmaMap.SIZE);
                out.putU32(DmaMap.ARGSZ, DmaMap.SIZE);
                out.putU32(DmaMap.FLAGS, DMA_FLAG_READ | DMA_FLAG_WRITE);
                out.putU64(DmaMap.OFFSET, fdOffset);
                out.putU64(DmaMap.ADDRESS, iova);
                out.putU64(DmaMap.SIZE_FIELD, size);
                transact(new int[] {fd}, 1);
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
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            channel.close();
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
                if (attempt > 0 || needed > channel.in().payloadCapacity()) {
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
                if (channel.fdCount() < 1) {
                    throw broken(cmd, "region " + index + " is mappable but no descriptor came with the reply");
                }
                fd = channel.takeFd(0);
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
        if (broken == null) {
            broken = e.getMessage();
            channel.close();
        }
        return e;
    }

    /**
     * Sends the request in the out buffer and waits for its reply, serving server requests meanwhile.
     * Returns the reply (valid until the next exchange); error replies throw with the errno.
     */
    private VfioUserMessage transact(int[] fds, int fdCount) {
        VfioUserMessage out = channel.out();
        int id = out.msgId();
        int command = out.command();
        checkUsable(command);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.timeoutMillis());
        int errno;
        try {
            channel.send(fds, fdCount, deadline);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw broken(command, "no reply to message id " + id + " within " + config.timeoutMillis() + " ms");
                }
                int r = channel.receive((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                if (r == VfioUserChannel.NOTHING) {
                    continue;
                }
                if (r == VfioUserChannel.END_OF_STREAM) {
                    throw broken(command, "server closed the connection before replying to message id " + id);
                }
                VfioUserMessage in = channel.in();
                if (in.isCommand()) {
                    serveServerRequest(in, deadline);
                    continue;
                }
                if (!in.isReply()) {
                    throw broken(command, "message of unknown type " + (in.flags() & FLAG_TYPE_MASK) + " (flags 0x"
                            + Integer.toHexString(in.flags()) + ")");
                }
                if (in.msgId() != id) {
                    throw broken(command, "reply carries message id " + in.msgId() + ", expected " + id);
                }
                if (in.command() != command) {
                    throw broken(command, "reply to message id " + id + " is for " + commandName(in.command()));
                }
                if (!in.isError()) {
                    return in;
                }
                if (in.payloadLength() != 0) {
                    throw broken(command, "error reply with a " + in.payloadLength() + "-byte payload");
                }
                errno = in.error();
                break;
            }
        } catch (VfioUserException e) {
            // a transport failure: the stream is no longer in step
            VfioUserException named = e.command() == 0
                    ? new VfioUserException(command, e.getMessage() + " (server " + name + ")", e) : e;
            if (broken == null) {
                broken = named.getMessage();
                channel.close();
            }
            throw named;
        }
        // an error reply leaves the connection usable
        throw new VfioUserException(command, errno, "server " + name + " replied with error " + errnoName(errno), null);
    }

    /** Serves DMA_READ / DMA_WRITE from the memory registered with {@link #dmaMap}; refuses anything else. */
    private void serveServerRequest(VfioUserMessage in, long deadline) {
        int command = in.command();
        int id = in.msgId();
        boolean reply = !in.noReply();
        VfioUserMessage out = channel.out();
        int errno = 0;
        String problem = null;
        if (command == CMD_DMA_READ || command == CMD_DMA_WRITE) {
            if (in.payloadLength() < DmaAccess.SIZE) {
                errno = Errno.EINVAL.code();
                problem = "payload of " + in.payloadLength() + " bytes";
            } else {
                long address = in.u64(DmaAccess.ADDRESS);
                long count = in.u64(DmaAccess.COUNT);
                boolean write = command == CMD_DMA_WRITE;
                DmaMemory.Region r = dmaTable.find(address, count);
                if (count < 0 || count > config.maxDataXferSize() || count > out.payloadCapacity() - DmaAccess.SIZE) {
                    errno = Errno.EINVAL.code();
                    problem = "count " + Long.toUnsignedString(count) + " exceeds max_data_xfer_size";
                } else if (write && count != in.payloadLength() - DmaAccess.SIZE) {
                    errno = Errno.EINVAL.code();
                    problem = "count " + count + " but " + (in.payloadLength() - DmaAccess.SIZE) + " data bytes";
                } else if (r == null) {
                    errno = Errno.EFAULT.code();
                    problem = "[0x" + Long.toHexString(address) + ", +" + count + ") is not mapped";
                } else if (write) {
                    MemorySegment.copy(in.payload(DmaAccess.DATA, count), 0, r.segment(), address - r.iova(), count);
                    if (reply) {
                        out.begin(id, command, FLAG_TYPE_REPLY, DmaAccess.SIZE);
                        out.putU64(DmaAccess.ADDRESS, address);
                        out.putU64(DmaAccess.COUNT, count);
                    }
                } else if (reply) {
                    out.begin(id, command, FLAG_TYPE_REPLY, DmaAccess.SIZE + (int) count);
                    out.putU64(DmaAccess.ADDRESS, address);
                    out.putU64(DmaAccess.COUNT, count);
                    MemorySegment.copy(r.segment(), address - r.iova(), out.payload(DmaAccess.DATA, count), 0, count);
                }
            }
        } else {
            errno = Errno.EINVAL.code();
            problem = "not a server-to-client command";
        }
        if (problem != null) {
            LOG.log(Level.WARNING, "{0}: refusing {1} from the server: {2}", name, commandName(command), problem);
        }
        if (reply) {
            if (errno != 0) {
                out.beginError(id, command, errno);
            }
            channel.send(null, 0, deadline);
        }
    }

    @Override
    public String toString() {
        return "vfio-user device " + name;
    }
}
