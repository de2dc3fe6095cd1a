package io.jnic.driver.virtio.pci;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.memory.DmaSegment;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryGroup;
import io.jnic.pci.PciCapabilities;
import io.jnic.pci.PciCapability;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice;
import io.jnic.pci.PciIoBar;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * virtio over the legacy PCI interface (virtio 1.x 4.1.4.8 "Legacy Interfaces: A Note on PCI Device Layout"): the
 * registers of a transitional device's I/O BAR0, each accessed at its width through {@link PciIoBar} (one system
 * call per access: user space cannot do port I/O without iopl, and VFIO/UIO turn pread/pwrite into it). This is
 * the interface of QEMU's virtio-net-pci with {@code disable-modern=on} (device 1af4:1000) and of older
 * hypervisors.
 *
 * <p>What differs from the modern interface: only feature bits 0-31; no FEATURES_OK; the device fixes each
 * queue's size (QUEUE_NUM is read-only) and is told only the page frame of the descriptor table (QUEUE_PFN), from
 * which it derives the rest of the ring in the legacy layout (avail ring after the descriptors, used ring on the
 * next 4096-byte boundary: {@link SplitVirtqueue#legacy}); fields are guest-native (little-endian here); the
 * device configuration follows the registers at 0x14, or at 0x18 once MSI-X is enabled (two vector registers come
 * first); no configuration generation counter. Notifications write the queue index to QUEUE_NOTIFY, which is also
 * a system call (a kick per burst, not per packet).
 *
 * <p>DMA: a legacy device cannot negotiate VIRTIO_F_ACCESS_PLATFORM, so it addresses memory physically, around
 * any IOMMU (QEMU bypasses the vIOMMU for such devices). The memory group must therefore use IOVA mode PHYSICAL
 * (hugepages, root), whatever the PCI transport: with UIO or VFIO no-IOMMU that is what the device needs anyway;
 * with VFIO type1 the pages are also mapped 1:1 (IOVA = physical address) in the IOMMU, so that a device that is
 * translated after all finds the same addresses. Any other IOVA mode is refused at {@link #open}.
 *
 * <p>Interrupts: queues run without vectors (poll mode); where MSI-X can be enabled (VFIO) configuration changes
 * get vector 0, signalled on {@link #configInterruptFd()}.
 */
public final class LegacyPciTransport implements VirtioTransport {
    private static final System.Logger LOG = System.getLogger(LegacyPciTransport.class.getName());

    // 4.1.4.8 legacy register layout in I/O BAR0 (Linux include/uapi/linux/virtio_pci.h VIRTIO_PCI_*)
    /** u32, read-only: device features 0-31. */
    public static final int HOST_FEATURES = 0x00;
    /** u32: features the driver accepts. */
    public static final int GUEST_FEATURES = 0x04;
    /** u32: page frame number (address >> 12) of the selected queue; 0 disables it. */
    public static final int QUEUE_PFN = 0x08;
    /** u16, read-only: size of the selected queue (0: no such queue). */
    public static final int QUEUE_NUM = 0x0C;
    /** u16: queue selector. */
    public static final int QUEUE_SEL = 0x0E;
    /** u16: write a queue index to notify the device. */
    public static final int QUEUE_NOTIFY = 0x10;
    /** u8: device status (2.1); 0 resets. */
    public static final int STATUS = 0x12;
    /** u8: ISR status, cleared by reading (bit 0 queue, bit 1 configuration). */
    public static final int ISR = 0x13;
    /** u16, only while MSI-X is enabled: vector for configuration changes. */
    public static final int MSIX_CONFIG_VECTOR = 0x14;
    /** u16, only while MSI-X is enabled: vector of the selected queue. */
    public static final int MSIX_QUEUE_VECTOR = 0x16;
    /** Device-specific configuration without MSI-X ... */
    public static final int CONFIG_OFFSET = 0x14;
    /** ... and with MSI-X enabled. */
    public static final int CONFIG_OFFSET_MSIX = 0x18;
    /** QUEUE_PFN holds the ring address shifted by this (VIRTIO_PCI_QUEUE_ADDR_SHIFT). */
    public static final int QUEUE_ADDR_SHIFT = 12;
    /** The legacy interface is in BAR0 (4.1.4.8: transitional devices MUST expose it in I/O BAR0). */
    public static final int IO_BAR = 0;
    /** 4.1.2.1: transitional devices are 0x1000-0x103f. */
    public static final int DEVICE_ID_TRANSITIONAL_FIRST = 0x1000;
    public static final int DEVICE_ID_TRANSITIONAL_LAST = 0x103f;
    /** Highest queue count probed by {@link #maxQueues()} (QEMU's VIRTIO_QUEUE_MAX). */
    static final int MAX_QUEUES = 1024;

    private final PciDevice device;
    private final PciIoBar io;
    private final MemoryGroup memory;
    private final List<long[]> mappedRanges = new ArrayList<>();
    private final Set<Integer> mappedIds = new HashSet<>();
    private int configOffset = CONFIG_OFFSET;
    private int configEventFd = -1;
    private boolean closed;

    LegacyPciTransport(PciDevice device, PciIoBar io, MemoryGroup memory) {
        this.device = device;
        this.io = io;
        this.memory = memory;
        if (io.size() < CONFIG_OFFSET) {
            throw new VirtioException(device.name() + ": I/O BAR" + io.index() + " has " + io.size() + " ports, fewer than"
                    + " the " + CONFIG_OFFSET + " legacy virtio registers");
        }
    }

    /**
     * Opens the legacy interface of {@code device}: checks the device and the memory group's IOVA mode (before
     * anything is written to the device), enables I/O decoding and bus mastering, maps the group's memory for DMA.
     *
     * @throws VirtioException when the device is not a transitional virtio device with an I/O BAR0, or the memory
     *                         group's addresses cannot be used by a legacy device
     */
    public static LegacyPciTransport open(PciDevice device, MemoryGroup memory) {
        int vendor = device.configRead(PciConfig.VENDOR_ID, 2);
        int id = device.configRead(PciConfig.DEVICE_ID, 2);
        if (vendor != ModernPciTransport.VENDOR_VIRTIO || id < DEVICE_ID_TRANSITIONAL_FIRST || id > DEVICE_ID_TRANSITIONAL_LAST) {
            throw new VirtioException(device.name() + " (" + ModernPciTransport.hex4(vendor) + ":" + ModernPciTransport.hex4(id)
                    + ") has no legacy virtio interface: only transitional devices (1af4:1000-103f) have one; a modern"
                    + " device (1af4:1040-107f) is driven by ModernPciTransport");
        }
        int bar0 = device.configRead(PciConfig.BAR0 + 4 * IO_BAR, 4);
        if ((bar0 & 1) == 0) {
            throw new VirtioException(device.name() + " (1af4:" + ModernPciTransport.hex4(id) + ") has no I/O BAR0 (BAR0 is "
                    + (bar0 == 0 ? "unused" : "a memory BAR") + "), where the legacy virtio interface lives; and no virtio"
                    + " 1.x capabilities either: it cannot be driven (QEMU: leave disable-legacy off for a legacy device)");
        }
        checkMemory(device, memory);
        LegacyPciTransport t = new LegacyPciTransport(device, device.ioBar(IO_BAR), memory);
        try {
            int cmd = device.configRead(PciConfig.COMMAND, 2);
            device.configWrite(PciConfig.COMMAND, 2, cmd | PciConfig.COMMAND_IO_SPACE | PciConfig.COMMAND_BUS_MASTER);
            t.mapMemory();
            t.setupConfigInterrupt();
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** Refuses a memory group whose IOVAs are not physical addresses (the only ones a legacy device can use). */
    static void checkMemory(PciDevice device, MemoryGroup memory) {
        if (memory.iovaMode() != IovaMode.PHYSICAL) {
            throw new VirtioException(device.name() + " is a legacy virtio device: it cannot negotiate ACCESS_PLATFORM,"
                    + " so it DMAs with physical addresses, bypassing any IOMMU; the memory group uses IOVA mode "
                    + memory.iovaMode() + ", whose addresses it would misread: create the group with IOVA mode PHYSICAL"
                    + " (hugepages, as root), or use a modern device (QEMU: disable-legacy=on, iommu_platform=on behind"
                    + " a vIOMMU)");
        }
    }

    /**
     * Checks and maps every segment of the group not seen yet (call after the group grew, before handing its memory
     * to the device): physical addresses of pinned hugepages; with an IOMMU (VFIO type1) also mapped 1:1.
     */
    public synchronized void mapMemory() {
        checkMemory(device, memory);
        boolean iommu = device.dmaAddressing() == PciDevice.DmaAddressing.IOVA;
        for (DmaSegment s : memory.segments()) {
            if (mappedIds.contains(s.id())) {
                continue;
            }
            s.requirePhysical(device.name() + " (legacy virtio)");
            if (iommu) {
                mapIdentity(s);
            }
            mappedIds.add(s.id());
        }
    }

    /** Maps each physically contiguous run of {@code s} at IOVA = its physical address. */
    private void mapIdentity(DmaSegment s) {
        long page = s.pageSize().bytes();
        long start = 0;
        while (start < s.size()) {
            long end = start + page;
            while (end < s.size() && s.iova(end) == s.iova(start) + (end - start)) {
                end += page;
            }
            long pa = s.iova(start);
            device.dmaMap(s.fd(), start, s.memory().asSlice(start, end - start), pa);
            mappedRanges.add(new long[] {pa, end - start});
            start = end;
        }
    }

    private void setupConfigInterrupt() {
        if (device.interruptCount(PciDevice.InterruptType.MSIX) < 1) {
            return;
        }
        int efd = Events.eventfd(0, Events.EFD_NONBLOCK | Events.EFD_CLOEXEC);
        try {
            device.enableInterrupts(PciDevice.InterruptType.MSIX, new int[] {efd});
        } catch (RuntimeException e) {
            Io.closeQuietly(efd);
            LOG.log(System.Logger.Level.WARNING, device.name() + ": no MSI-X for link-status interrupts: " + e.getMessage());
            return;
        }
        configEventFd = efd;
        // the configuration moves behind the two vector registers only while MSI-X is enabled in the function
        PciCapability msix = PciCapabilities.of(device).find(PciCapability.ID_MSIX).orElse(null);
        configOffset = msix != null && msix.asMsix().enabled() ? CONFIG_OFFSET_MSIX : CONFIG_OFFSET;
        assignConfigVector();
    }

    private void assignConfigVector() {
        if (configEventFd >= 0 && configOffset == CONFIG_OFFSET_MSIX) {
            io.write16(MSIX_CONFIG_VECTOR, 0);
            if (io.read16(MSIX_CONFIG_VECTOR) == ModernPciTransport.NO_VECTOR) {
                LOG.log(System.Logger.Level.DEBUG, device.name() + ": no vector for configuration changes");
            }
        }
    }

    /** "legacy virtio-pci (I/O BAR0, 32 ports, vfio, config at 0x18)", for logs. */
    public String describe() {
        return "legacy virtio-pci (I/O BAR" + io.index() + ", " + io.size() + " ports, " + device.transport()
                + ", config at 0x" + Integer.toHexString(configOffset) + ")";
    }

    @Override
    public boolean legacy() {
        return true;
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public long deviceFeatures() {
        return Integer.toUnsignedLong(io.read32(HOST_FEATURES));
    }

    @Override
    public void driverFeatures(long features) {
        if ((features >>> 32) != 0) {
            throw new IllegalArgumentException(device.name() + ": the legacy interface carries feature bits 0-31 only, not 0x"
                    + Long.toHexString(features));
        }
        io.write32(GUEST_FEATURES, (int) features);
    }

    @Override
    public int status() {
        return io.read8(STATUS);
    }

    @Override
    public void status(int status) {
        io.write8(STATUS, status);
        if (status == 0) {
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (status() != 0) {
                if (System.nanoTime() - deadline > 0) {
                    throw new VirtioException(device.name() + ": the device did not finish its reset within 1 s");
                }
                Thread.onSpinWait();
            }
            assignConfigVector(); // a reset clears the vectors
        }
    }

    /** Legacy has no queue count: the queues present are those with a non-zero size, from 0 up. */
    @Override
    public int maxQueues() {
        int n = 0;
        while (n < MAX_QUEUES && maxQueueSize(n) != 0) {
            n++;
        }
        return n;
    }

    /** The queue's size, which the legacy device fixes (the ring must have exactly this many entries). */
    @Override
    public int maxQueueSize(int queue) {
        if (queue < 0 || queue >= MAX_QUEUES) {
            return 0;
        }
        io.write16(QUEUE_SEL, queue);
        return io.read16(QUEUE_NUM);
    }

    @Override
    public Notifier setupQueue(SplitVirtqueue vq) {
        int q = vq.index();
        int num = maxQueueSize(q);
        if (num == 0) {
            throw new VirtioException(device.name() + ": the device has no queue " + q);
        }
        if (vq.size() != num) {
            throw new VirtioException(device.name() + ": queue " + q + " has " + num + " entries, fixed by the legacy device;"
                    + " a ring of " + vq.size() + " cannot be used");
        }
        if (!vq.isLegacyLayout()) {
            throw new VirtioException(device.name() + ": queue " + q + " is laid out for virtio 1.x; a legacy device needs"
                    + " SplitVirtqueue.legacy (used ring 4096-aligned)");
        }
        long iova = vq.descIova();
        if ((iova & (SplitVirtqueue.LEGACY_ALIGN - 1)) != 0 || (iova >>> (32 + QUEUE_ADDR_SHIFT)) != 0) {
            throw new VirtioException(device.name() + ": queue " + q + " at 0x" + Long.toHexString(iova) + " cannot be given"
                    + " to a legacy device, which takes a 32-bit page frame number (4096-aligned, below 16 TB)");
        }
        if (io.read32(QUEUE_PFN) != 0) {
            throw new VirtioException(device.name() + ": queue " + q + " is already in use (QUEUE_PFN set): reset the device"
                    + " first");
        }
        int pfn = (int) (iova >>> QUEUE_ADDR_SHIFT);
        io.write32(QUEUE_PFN, pfn);
        if (io.read32(QUEUE_PFN) != pfn) {
            throw new VirtioException(device.name() + ": the device did not take queue " + q + "'s page frame 0x"
                    + Integer.toHexString(pfn) + " (reads 0x" + Integer.toHexString(io.read32(QUEUE_PFN)) + ")");
        }
        if (configOffset == CONFIG_OFFSET_MSIX) {
            io.write16(MSIX_QUEUE_VECTOR, ModernPciTransport.NO_VECTOR);
        }
        PciIoBar bar = io;
        // 4.1.4.8 / 4.1.5.2: the driver notifies by writing the queue index
        return () -> bar.write16(QUEUE_NOTIFY, q);
    }

    @Override
    public int readConfig(int offset, int width) {
        long at = (long) configOffset + offset;
        if (offset < 0 || at + width > io.size()) {
            throw new VirtioException(device.name() + ": the legacy device configuration ends at port 0x"
                    + Long.toHexString(io.size()) + ", cannot read " + width + " bytes at offset " + offset);
        }
        return switch (width) {
            case 1 -> io.read8(at);
            case 2 -> io.read16(at);
            case 4 -> io.read32(at);
            default -> throw new IllegalArgumentException("width " + width);
        };
    }

    /** The legacy interface has no generation counter (drivers re-read instead). */
    @Override
    public int configGeneration() {
        return 0;
    }

    /** Reads (and so clears) the ISR status: {@link ModernPciTransport#ISR_QUEUE}, {@link ModernPciTransport#ISR_CONFIG}. */
    public int readIsr() {
        return io.read8(ISR);
    }

    /** Where the device configuration starts in the I/O BAR: 0x14, or 0x18 while MSI-X is enabled. */
    public int configOffset() {
        return configOffset;
    }

    @Override
    public int queueInterruptFd(int queue) {
        return -1;
    }

    @Override
    public int configInterruptFd() {
        return configEventFd;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            status(0);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "reset on close failed", e);
        }
        if (configEventFd >= 0) {
            try {
                device.disableInterrupts(PciDevice.InterruptType.MSIX);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "disable MSI-X failed", e);
            }
            Io.closeQuietly(configEventFd);
        }
        for (long[] r : mappedRanges) {
            try {
                device.dmaUnmap(r[0], r[1]);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "DMA unmap failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return device.name() + ": " + describe();
    }
}
