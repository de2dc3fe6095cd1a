package io.jnic.pci.vfio;

import static io.jnic.pci.vfio.Vfio.VFIO_DEVICE_GET_INFO;
import static io.jnic.pci.vfio.Vfio.VFIO_DEVICE_GET_IRQ_INFO;
import static io.jnic.pci.vfio.Vfio.VFIO_DEVICE_GET_REGION_INFO;
import static io.jnic.pci.vfio.Vfio.VFIO_DEVICE_RESET;
import static io.jnic.pci.vfio.Vfio.VFIO_DEVICE_SET_IRQS;

import io.jnic.pci.MappedBar;
import io.jnic.pci.PhysicalDma;
import io.jnic.pci.PciAddress;
import io.jnic.pci.FdIoBar;
import io.jnic.pci.BarHandover;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciIoBar;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciConfigAccess;
import io.jnic.pci.PciDevice;
import io.jnic.pci.PciSysfs;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PCI function driven through VFIO: BARs mmap'ed from the device fd (sparse-mmap aware, trapped
 * pread/pwrite elsewhere), configuration space through the config region, DMA through the container's
 * type1 IOMMU (IOVAs) or, in no-IOMMU mode, physical addresses, interrupts routed to eventfds with
 * VFIO_DEVICE_SET_IRQS.
 *
 * <p>{@link #open} does the whole setup for one device; {@link #fromFds} adopts the container, group and
 * device fds another process set up (a DPDK-style secondary receives them over IPC), whose DMA mappings
 * and IOMMU type it shares.
 */
public final class VfioPciDevice implements PciDevice, PciConfigAccess {
    private static final System.Logger LOG = System.getLogger(VfioPciDevice.class.getName());
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;
    /** struct vfio_device_info (without the 5.x cap_offset): argsz, flags, num_regions, num_irqs. */
    static final int DEVICE_INFO_SIZE = 16;
    /** struct vfio_region_info: argsz, flags, index, cap_offset, size, offset. */
    static final int REGION_INFO_SIZE = 32;
    /** struct vfio_irq_info: argsz, flags, index, count. */
    static final int IRQ_INFO_SIZE = 16;
    /** struct vfio_irq_set header: argsz, flags, index, start, count; then the data. */
    static final int IRQ_SET_HEADER = 20;
    private static final int CAP_HEADER = 8;
    private static final int SPARSE_AREA = 16;

    private final String name;
    private final VfioContainer container;
    private final boolean ownsContainer;
    private final VfioGroup group;
    private final int deviceFd;
    private final int deviceFlags;
    private final int numRegions;
    private final int numIrqs;
    private final VfioRegionInfo configRegion;
    private final PciBar[] bars = new PciBar[6];
    private final PciIoBar[] ioBars = new PciIoBar[6];
    private final List<MemorySegment> mappings = new ArrayList<>();
    private final MemorySegment cfgBuf = Arena.ofAuto().allocate(8, 8);
    private final int[] enabledVectors = new int[PciDevice.InterruptType.values().length];
    private boolean closed;

    private VfioPciDevice(String name, VfioContainer container, boolean ownsContainer, VfioGroup group, int deviceFd) {
        this.name = name;
        this.container = container;
        this.ownsContainer = ownsContainer;
        this.group = group;
        this.deviceFd = deviceFd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(DEVICE_INFO_SIZE, 8);
            info.set(U32, 0, DEVICE_INFO_SIZE);
            Io.ioctl(deviceFd, VFIO_DEVICE_GET_INFO, info);
            this.deviceFlags = info.get(U32, 4);
            this.numRegions = info.get(U32, 8);
            this.numIrqs = info.get(U32, 12);
        }
        if ((deviceFlags & Vfio.VFIO_DEVICE_FLAGS_PCI) == 0) {
            throw new VfioException(name + " is not a VFIO PCI device (flags 0x" + Integer.toHexString(deviceFlags) + ")");
        }
        if (numRegions <= Vfio.VFIO_PCI_CONFIG_REGION_INDEX) {
            throw new VfioException(name + ": VFIO reports only " + numRegions + " regions, no config region");
        }
        this.configRegion = regionInfo(Vfio.VFIO_PCI_CONFIG_REGION_INDEX);
    }

    /** Opens {@code address} (bound to vfio-pci) in a container of its own. */
    public static VfioPciDevice open(PciAddress address) {
        return open(new PciSysfs(), Path.of(Vfio.DEV_VFIO), address, null);
    }

    /**
     * Opens {@code address}; with a {@code sharedContainer} its group joins that container (several devices,
     * one IOMMU context), else a new container is made and owned by the device.
     */
    public static VfioPciDevice open(PciSysfs sysfs, Path devVfio, PciAddress address, VfioContainer sharedContainer) {
        checkUsable(sysfs, devVfio, address);
        int groupNumber = sysfs.iommuGroup(address);
        VfioContainer container = sharedContainer != null ? sharedContainer : VfioContainer.open(devVfio);
        VfioGroup group = null;
        int fd = -1;
        try {
            group = VfioGroup.open(devVfio, groupNumber);
            group.setContainer(container);
            if (container.iommuType() == 0) {
                int type = group.noiommu() ? Vfio.VFIO_NOIOMMU_IOMMU : container.bestIommuType();
                if (type == 0 || type == Vfio.VFIO_NOIOMMU_IOMMU && !group.noiommu()) {
                    throw new VfioException("the VFIO container offers neither type1 nor type1v2 IOMMU support: is the "
                            + "vfio_iommu_type1 module loaded? (`modprobe vfio_iommu_type1`)");
                }
                container.setIommu(type);
            }
            fd = group.deviceFd(address.toString());
            VfioPciDevice d = new VfioPciDevice(address.toString(), container, sharedContainer == null, group, fd);
            d.setBusMaster(true);
            return d;
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            if (group != null) {
                Io.closeQuietly(group.fd());
            }
            if (sharedContainer == null) {
                Io.closeQuietly(container.fd());
            }
            throw e;
        }
    }

    /**
     * Adopts already-open VFIO fds (e.g. received over SCM_RIGHTS from the process that opened the device):
     * the container already has its IOMMU type and DMA mappings. The new object owns the three fds.
     */
    public static VfioPciDevice fromFds(String name, int containerFd, int iommuType, int groupFd, int groupNumber,
            int deviceFd) {
        VfioContainer c = VfioContainer.fromFd(containerFd, iommuType);
        VfioGroup g = VfioGroup.fromFd(groupFd, groupNumber, iommuType == Vfio.VFIO_NOIOMMU_IOMMU);
        return new VfioPciDevice(name, c, true, g, deviceFd);
    }

    /**
     * Checks, without opening anything, that VFIO can take {@code address}: the device exists, is bound to
     * vfio-pci, has an IOMMU group, and /dev/vfio/vfio exists. The message says what to do otherwise.
     */
    public static void checkUsable(PciSysfs sysfs, Path devVfio, PciAddress address) {
        if (!sysfs.exists(address)) {
            throw new VfioException("no PCI device " + address + " (no " + sysfs.deviceDir(address)
                    + "); `./jnic devbind --status` lists the network devices");
        }
        String driver = sysfs.driver(address);
        boolean moduleMissing = !Files.exists(devVfio.resolve("vfio"));
        List<String> problems = new ArrayList<>();
        if (moduleMissing) {
            problems.add("VFIO is not available (" + devVfio.resolve("vfio") + " does not exist): the vfio-pci module "
                    + "is not loaded; load it as root with `modprobe vfio-pci` (the IOMMU must be on, e.g. intel_iommu=on)");
        }
        if (!"vfio-pci".equals(driver)) {
            problems.add(address + " is " + (driver == null ? "not bound to any driver" : "bound to " + driver)
                    + ", not to vfio-pci: bind it with `./jnic devbind --bind vfio-pci " + address
                    + "` (or dpdk-devbind.py -b vfio-pci " + address + ")");
        }
        if (problems.isEmpty() && sysfs.iommuGroup(address) < 0) {
            problems.add(address + " has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on) or VFIO's "
                    + "no-IOMMU mode (enable_unsafe_noiommu_mode=1 of module vfio)");
        }
        if (!problems.isEmpty()) {
            throw new VfioException("cannot open " + address + " with VFIO: " + String.join("; ", problems));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String transport() {
        return "vfio";
    }

    @Override
    public DmaAddressing dmaAddressing() {
        return group.noiommu() ? DmaAddressing.PHYSICAL : DmaAddressing.IOVA;
    }

    public VfioContainer container() {
        return container;
    }

    public VfioGroup group() {
        return group;
    }

    /** For handing to another process (with {@link #groupFd}, {@link #containerFd}). */
    public int deviceFd() {
        return deviceFd;
    }

    /**
     * The device fd (holding it keeps the group and container open, so the container's IOMMU mappings stay valid in
     * the receiving process too) and the parts of the BAR's region VFIO lets a process mmap.
     */
    @Override
    public BarHandover handOverBar(int bar) {
        return handOver(bar, regionInfo(bar), deviceFd);
    }

    /** {@link #handOverBar} for region info {@code r}, without a device. */
    public static BarHandover handOver(int bar, VfioRegionInfo r, int fd) {
        List<VfioRegionInfo.SparseArea> m = r.mmapAreas();
        if (m.isEmpty()) {
            throw new IllegalStateException("VFIO does not let BAR" + bar + " be mmapped (" + r + ")");
        }
        long[][] areas = new long[m.size()][];
        for (int i = 0; i < areas.length; i++) {
            areas[i] = new long[] {m.get(i).offset(), m.get(i).size()};
        }
        return new BarHandover("vfio", bar, r.size(), r.offset(), areas, fd, false);
    }

    public int groupFd() {
        return group.fd();
    }

    public int containerFd() {
        return container.fd();
    }

    public int deviceFlags() {
        return deviceFlags;
    }

    public int regionCount() {
        return numRegions;
    }

    public int irqCount() {
        return numIrqs;
    }

    /** VFIO_DEVICE_GET_REGION_INFO, following the capability chain for sparse-mmap areas. */
    public VfioRegionInfo regionInfo(int index) {
        if (index < 0 || index >= numRegions) {
            throw new IllegalArgumentException(name + " has regions 0.." + (numRegions - 1) + ", not " + index);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ri = a.allocate(REGION_INFO_SIZE, 8);
            ri.set(U32, 0, REGION_INFO_SIZE);
            ri.set(U32, 8, index);
            Io.ioctl(deviceFd, VFIO_DEVICE_GET_REGION_INFO, ri);
            int argsz = ri.get(U32, 0);
            if ((ri.get(U32, 4) & Vfio.VFIO_REGION_INFO_FLAG_CAPS) != 0 && argsz > REGION_INFO_SIZE) {
                if (argsz > 1 << 16) {
                    throw new VfioException(name + " region " + index + ": implausible argsz " + argsz);
                }
                ri = a.allocate(argsz, 8);
                ri.set(U32, 0, argsz);
                ri.set(U32, 8, index);
                Io.ioctl(deviceFd, VFIO_DEVICE_GET_REGION_INFO, ri);
            }
            return parseRegionInfo(name, ri);
        }
    }

    /** Decodes a filled struct vfio_region_info (with its capabilities); every offset is bounds-checked. */
    static VfioRegionInfo parseRegionInfo(String name, MemorySegment ri) {
        int flags = ri.get(U32, 4);
        int index = ri.get(U32, 8);
        long size = ri.get(U64, 16);
        long offset = ri.get(U64, 24);
        List<VfioRegionInfo.SparseArea> sparse = new ArrayList<>();
        long limit = Math.min(ri.byteSize(), Integer.toUnsignedLong(ri.get(U32, 0)));
        long cap = (flags & Vfio.VFIO_REGION_INFO_FLAG_CAPS) != 0 ? Integer.toUnsignedLong(ri.get(U32, 12)) : 0;
        int hops = 0;
        while (cap != 0) {
            if (cap < REGION_INFO_SIZE || cap + CAP_HEADER > limit || (cap & 3) != 0 || ++hops > 64) {
                throw new VfioException(name + " region " + index + ": bad capability offset " + cap + " (argsz " + limit + ")");
            }
            int id = ri.get(ValueLayout.JAVA_SHORT, cap) & 0xffff;
            long next = Integer.toUnsignedLong(ri.get(U32, cap + 4));
            if (id == Vfio.VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
                if (cap + 16 > limit) {
                    throw new VfioException(name + " region " + index + ": truncated sparse-mmap capability");
                }
                long n = Integer.toUnsignedLong(ri.get(U32, cap + 8));
                long areas = cap + 16;
                if (areas + n * SPARSE_AREA > limit) {
                    throw new VfioException(name + " region " + index + ": sparse-mmap capability claims " + n
                            + " areas, more than fit in " + limit + " bytes");
                }
                for (long i = 0; i < n; i++) {
                    long ao = ri.get(U64, areas + i * SPARSE_AREA);
                    long as = ri.get(U64, areas + i * SPARSE_AREA + 8);
                    if (ao < 0 || as < 0 || ao + as > size) {
                        throw new VfioException(name + " region " + index + ": sparse area [0x" + Long.toHexString(ao)
                                + ", +0x" + Long.toHexString(as) + ") lies outside the region (0x" + Long.toHexString(size) + ")");
                    }
                    if (as > 0) {
                        sparse.add(new VfioRegionInfo.SparseArea(ao, as));
                    }
                }
            }
            if (next != 0 && next <= cap) {
                throw new VfioException(name + " region " + index + ": capability chain loops back to " + next);
            }
            cap = next;
        }
        return new VfioRegionInfo(index, flags, size, offset, sparse);
    }

    /** VFIO_DEVICE_GET_IRQ_INFO. */
    public VfioIrqInfo irqInfo(int index) {
        if (index < 0 || index >= numIrqs) {
            throw new IllegalArgumentException(name + " has IRQ indices 0.." + (numIrqs - 1) + ", not " + index);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ii = a.allocate(IRQ_INFO_SIZE, 8);
            ii.set(U32, 0, IRQ_INFO_SIZE);
            ii.set(U32, 8, index);
            Io.ioctl(deviceFd, VFIO_DEVICE_GET_IRQ_INFO, ii);
            return new VfioIrqInfo(ii.get(U32, 8), ii.get(U32, 4), ii.get(U32, 12));
        }
    }

    @Override
    public int configSize() {
        return (int) Math.min(configRegion.size(), PciConfig.EXTENDED_SIZE);
    }

    @Override
    public synchronized int configRead(int offset, int size) {
        PciConfigAccess.checkAccess(name, offset, size, configSize());
        cfgBuf.set(U32, 0, 0);
        long n = Io.pread(deviceFd, cfgBuf, size, configRegion.offset() + offset);
        if (n != size) {
            throw new VfioException(name + ": short config read at 0x" + Integer.toHexString(offset) + " (" + n + " bytes)");
        }
        return cfgBuf.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    @Override
    public synchronized void configWrite(int offset, int size, int value) {
        PciConfigAccess.checkAccess(name, offset, size, configSize());
        cfgBuf.set(U32, 0, value);
        long n = Io.pwrite(deviceFd, cfgBuf, size, configRegion.offset() + offset);
        if (n != size) {
            throw new VfioException(name + ": short config write at 0x" + Integer.toHexString(offset) + " (" + n + " bytes)");
        }
    }

    /** Sets or clears the command register's bus-master bit: the device may only DMA while it is set. */
    public synchronized void setBusMaster(boolean on) {
        int cmd = configRead(PciConfig.COMMAND, 2);
        int want = on ? cmd | PciConfig.COMMAND_BUS_MASTER : cmd & ~PciConfig.COMMAND_BUS_MASTER;
        if (want != cmd) {
            configWrite(PciConfig.COMMAND, 2, want);
        }
    }

    @Override
    public synchronized PciBar bar(int index) {
        if (index < 0 || index > Vfio.VFIO_PCI_BAR5_REGION_INDEX) {
            throw new IllegalArgumentException(name + ": BAR index must be 0-5, not " + index);
        }
        if (bars[index] == null) {
            VfioRegionInfo r = regionInfo(index);
            if (r.size() == 0) {
                throw new IllegalArgumentException(name + " has no BAR" + index);
            }
            if (isIoBar(index)) {
                throw new IllegalArgumentException(name + " BAR" + index + " is an I/O-port BAR, not a memory BAR");
            }
            List<MappedBar.Window> windows = new ArrayList<>();
            for (VfioRegionInfo.SparseArea area : r.mmapAreas()) {
                MemorySegment m = Mman.mmap(area.size(), Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, deviceFd,
                        r.offset() + area.offset());
                mappings.add(m);
                windows.add(new MappedBar.Window(area.offset(), m));
            }
            bars[index] = new VfioBar(r, windows);
        }
        return bars[index];
    }

    /**
     * I/O-port BAR {@code index}: VFIO exposes it as a region that is read and written (never mapped) through the
     * device fd at the region's offset, 1, 2 or 4 bytes at a time (vfio_pci_ioport_rw).
     */
    @Override
    public synchronized PciIoBar ioBar(int index) {
        if (index < 0 || index > Vfio.VFIO_PCI_BAR5_REGION_INDEX) {
            throw new IllegalArgumentException(name + ": BAR index must be 0-5, not " + index);
        }
        if (ioBars[index] == null) {
            VfioRegionInfo r = regionInfo(index);
            if (r.size() == 0) {
                throw new IllegalArgumentException(name + " has no BAR" + index);
            }
            if (!isIoBar(index)) {
                throw new IllegalArgumentException(name + " BAR" + index + " is a memory BAR, not an I/O-port BAR: use bar("
                        + index + ")");
            }
            if (!r.readable() || !r.writable()) {
                throw new VfioException(name + " BAR" + index + ": VFIO does not allow reading and writing the I/O region ("
                        + r + ")");
            }
            ioBars[index] = new FdIoBar(name, index, r.size(), deviceFd, r.offset());
        }
        return ioBars[index];
    }

    private boolean isIoBar(int index) {
        return (configRead(PciConfig.BAR0 + 4 * index, 4) & 1) != 0;
    }

    /** Region access through the device fd, for the parts of a BAR that are not mmap'ed. */
    private final class VfioBar extends MappedBar {
        private final VfioRegionInfo region;
        private final MemorySegment buf = Arena.ofAuto().allocate(4, 4);

        VfioBar(VfioRegionInfo region, List<Window> windows) {
            super(name, region.index(), region.size(), windows);
            this.region = region;
        }

        @Override
        protected synchronized int trappedRead32(long offset) {
            if (Io.pread(deviceFd, buf, 4, region.offset() + offset) != 4) {
                throw new VfioException(name + " BAR" + region.index() + ": short read at 0x" + Long.toHexString(offset));
            }
            return buf.get(U32, 0);
        }

        @Override
        protected synchronized void trappedWrite32(long offset, int value) {
            buf.set(U32, 0, value);
            if (Io.pwrite(deviceFd, buf, 4, region.offset() + offset) != 4) {
                throw new VfioException(name + " BAR" + region.index() + ": short write at 0x" + Long.toHexString(offset));
            }
        }
    }

    @Override
    public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) {
        if (group.noiommu()) {
            PhysicalDma.checkPhysical(memory, iova);
            return;
        }
        container.dmaMap(memory, iova);
    }

    @Override
    public void dmaUnmap(long iova, long size) {
        if (!group.noiommu()) {
            long n = container.dmaUnmap(iova, size);
            if (n != size) {
                LOG.log(System.Logger.Level.WARNING, "{0}: DMA unmap of 0x{1} bytes at iova 0x{2} unmapped 0x{3}", name,
                        Long.toHexString(size), Long.toHexString(iova), Long.toHexString(n));
            }
        }
    }

    @Override
    public int interruptCount(InterruptType type) {
        int index = type.ordinal();
        return index < numIrqs ? irqInfo(index).count() : 0;
    }

    @Override
    public synchronized void enableInterrupts(InterruptType type, int[] eventfds) {
        int max = interruptCount(type);
        if (eventfds.length == 0 || eventfds.length > max) {
            throw new IllegalArgumentException(name + " offers " + max + " " + type + " vector(s); cannot route "
                    + eventfds.length);
        }
        for (InterruptType other : InterruptType.values()) {
            if (other != type && enabledVectors[other.ordinal()] > 0) {
                throw new IllegalStateException(name + ": " + other + " interrupts are enabled; VFIO allows one kind at "
                        + "a time: disableInterrupts(" + other + ") first");
            }
        }
        if (enabledVectors[type.ordinal()] > 0 && enabledVectors[type.ordinal()] != eventfds.length) {
            disableInterrupts(type); // the vector count of MSI/MSI-X is fixed while enabled
        }
        setIrqs(type.ordinal(), Vfio.VFIO_IRQ_SET_DATA_EVENTFD | Vfio.VFIO_IRQ_SET_ACTION_TRIGGER, 0, eventfds);
        enabledVectors[type.ordinal()] = eventfds.length;
    }

    @Override
    public synchronized void disableInterrupts(InterruptType type) {
        for (InterruptType other : InterruptType.values()) {
            if (other != type && enabledVectors[other.ordinal()] > 0 && enabledVectors[type.ordinal()] == 0) {
                return; // not enabled, and the kernel refuses any change to an index that is not the active one
            }
        }
        setIrqs(type.ordinal(), Vfio.VFIO_IRQ_SET_DATA_NONE | Vfio.VFIO_IRQ_SET_ACTION_TRIGGER, 0, new int[0]);
        enabledVectors[type.ordinal()] = 0;
    }

    /** Unmasks INTx after handling it (VFIO masks the line each time it fires). */
    @Override
    public void unmaskIntx() {
        setIrqsNoData(Vfio.VFIO_PCI_INTX_IRQ_INDEX, Vfio.VFIO_IRQ_SET_DATA_NONE | Vfio.VFIO_IRQ_SET_ACTION_UNMASK, 0, 1);
    }

    private void setIrqs(int index, int flags, int start, int[] fds) {
        try (Arena a = Arena.ofConfined()) {
            int argsz = IRQ_SET_HEADER + 4 * fds.length;
            MemorySegment s = a.allocate(argsz, 4);
            s.set(U32, 0, argsz);
            s.set(U32, 4, flags);
            s.set(U32, 8, index);
            s.set(U32, 12, start);
            s.set(U32, 16, fds.length);
            for (int i = 0; i < fds.length; i++) {
                s.set(U32, IRQ_SET_HEADER + 4L * i, fds[i]);
            }
            Io.ioctl(deviceFd, VFIO_DEVICE_SET_IRQS, s);
        } catch (SysException e) {
            throw new VfioException(name + ": VFIO_DEVICE_SET_IRQS(index " + index + ", flags 0x" + Integer.toHexString(flags)
                    + ", " + fds.length + " vectors) failed: " + e.getMessage(), e);
        }
    }

    private void setIrqsNoData(int index, int flags, int start, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(IRQ_SET_HEADER, 4);
            s.set(U32, 0, IRQ_SET_HEADER);
            s.set(U32, 4, flags);
            s.set(U32, 8, index);
            s.set(U32, 12, start);
            s.set(U32, 16, count);
            Io.ioctl(deviceFd, VFIO_DEVICE_SET_IRQS, s);
        }
    }

    @Override
    public void reset() {
        if ((deviceFlags & Vfio.VFIO_DEVICE_FLAGS_RESET) == 0) {
            throw new VfioException(name + ": VFIO offers no reset for this device (no FLR, PM or bus reset usable)");
        }
        Io.ioctl(deviceFd, VFIO_DEVICE_RESET, 0L);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemorySegment m : mappings) {
            Mman.munmap(m);
        }
        mappings.clear();
        Io.closeQuietly(deviceFd);
        group.close();
        if (ownsContainer) {
            container.close();
        }
    }

    @Override
    public String toString() {
        return "VfioPciDevice[" + name + ", group " + group.number() + ", " + Vfio.iommuTypeName(container.iommuType()) + "]";
    }
}
