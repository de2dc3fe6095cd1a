package io.jnic.driver.virtio.pci;

import io.jnic.driver.virtio.PackedVirtqueue;
import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.memory.DmaSegment;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryGroup;
import io.jnic.pci.PciCapabilities;
import io.jnic.pci.PciCapability;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * virtio 1.x over PCI ("modern", virtio 1.x 4.1): the vendor-specific capabilities (4.1.4) name where in which
 * BAR the common configuration, notification area, ISR status and device configuration live; every register
 * is accessed with its natural width (4.1.3.1) through the BAR's mapping in this process (VFIO and UIO map
 * BARs; a trapped-only BAR is refused with a message).
 *
 * <p>Interrupts: queues run without vectors (VIRTIO_MSI_NO_VECTOR: poll mode); configuration changes (link
 * status) get MSI-X vector 0, routed to {@link #configInterruptFd()} when the device has MSI-X.
 *
 * <p>DMA: every segment of the memory group is mapped for the device at its IOVA ({@link PciDevice#dmaMap});
 * with physical addressing the group must use IOVA mode PHYSICAL on hugepages.
 */
public final class ModernPciTransport implements VirtioTransport {
    private static final System.Logger LOG = System.getLogger(ModernPciTransport.class.getName());
    public static final int VENDOR_VIRTIO = 0x1af4;
    /** 4.1.2.1: 0x1040 + device id for modern-only devices; 0x1000-0x103f transitional. */
    public static final int DEVICE_ID_MODERN_BASE = 0x1040;

    // 4.1.4 Virtio Structure PCI Capabilities: struct virtio_pci_cap
    static final int CAP_CFG_TYPE = 3;
    static final int CAP_BAR = 4;
    static final int CAP_OFFSET = 8;
    static final int CAP_LENGTH = 12;
    static final int CAP_NOTIFY_OFF_MULTIPLIER = 16;
    public static final int CFG_COMMON = 1;
    public static final int CFG_NOTIFY = 2;
    public static final int CFG_ISR = 3;
    public static final int CFG_DEVICE = 4;
    public static final int CFG_PCI = 5;

    // 4.1.4.3 struct virtio_pci_common_cfg
    static final long DEVICE_FEATURE_SELECT = 0x00;
    static final long DEVICE_FEATURE = 0x04;
    static final long DRIVER_FEATURE_SELECT = 0x08;
    static final long DRIVER_FEATURE = 0x0c;
    static final long CONFIG_MSIX_VECTOR = 0x10;
    static final long NUM_QUEUES = 0x12;
    static final long DEVICE_STATUS = 0x14;
    static final long CONFIG_GENERATION = 0x15;
    static final long QUEUE_SELECT = 0x16;
    static final long QUEUE_SIZE = 0x18;
    static final long QUEUE_MSIX_VECTOR = 0x1a;
    static final long QUEUE_ENABLE = 0x1c;
    static final long QUEUE_NOTIFY_OFF = 0x1e;
    static final long QUEUE_DESC = 0x20;
    static final long QUEUE_DRIVER = 0x28;
    static final long QUEUE_DEVICE = 0x30;
    static final long COMMON_CFG_MIN_LENGTH = 0x38;
    public static final int NO_VECTOR = 0xffff;
    // 4.1.4.5 ISR status
    public static final int ISR_QUEUE = 1;
    public static final int ISR_CONFIG = 2;

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle VH8 = U8.varHandle();
    private static final VarHandle VH16 = U16.varHandle();
    private static final VarHandle VH32 = U32.varHandle();

    /** A capability's place: BAR, offset, length. */
    public record Region(int type, int bar, long offset, long length, int notifyMultiplier) {
    }

    private final PciDevice device;
    private final MemoryGroup memory;
    private final MemorySegment common;
    private final MemorySegment notify;
    private final Region notifyRegion;
    private final long notifyLength;
    private final int notifyMultiplier;
    private final MemorySegment isr;
    private final MemorySegment deviceCfg;
    private final List<Long> mappedIovas = new ArrayList<>();
    private final java.util.Set<Integer> mappedIds = new java.util.HashSet<>();
    private int configEventFd = -1;
    private boolean closed;

    private ModernPciTransport(PciDevice device, MemoryGroup memory, List<Region> regions) {
        this.device = device;
        this.memory = memory;
        Region c = pick(regions, CFG_COMMON);
        Region n = pick(regions, CFG_NOTIFY);
        Region i = pick(regions, CFG_ISR);
        Region d = regions.stream().filter(r -> r.type() == CFG_DEVICE).findFirst().orElse(null);
        if (c.length() < COMMON_CFG_MIN_LENGTH) {
            throw new VirtioException(device.name() + ": the common configuration is " + c.length() + " bytes, fewer"
                    + " than the " + COMMON_CFG_MIN_LENGTH + " virtio 1.x defines");
        }
        this.common = map(c);
        this.notify = map(n);
        this.notifyRegion = n;
        this.notifyLength = n.length();
        this.notifyMultiplier = n.notifyMultiplier();
        this.isr = map(i);
        this.deviceCfg = d == null ? MemorySegment.NULL : map(d);
    }

    /**
     * Finds the virtio structures of {@code device}, enables bus mastering, maps the group's memory for DMA.
     *
     * @throws VirtioException when the device is not a modern virtio device, or its structures are not mapped
     */
    public static ModernPciTransport open(PciDevice device, MemoryGroup memory) {
        int vendor = device.configRead(PciConfig.VENDOR_ID, 2);
        int id = device.configRead(PciConfig.DEVICE_ID, 2);
        if (vendor != VENDOR_VIRTIO || id < 0x1000 || id > 0x107f) {
            throw new VirtioException(device.name() + " (" + hex4(vendor) + ":" + hex4(id) + ") is not a virtio device"
                    + " (vendor 1af4, device 1000-107f)");
        }
        List<Region> regions = regions(PciCapabilities.of(device));
        if (regions.stream().noneMatch(r -> r.type() == CFG_COMMON)) {
            throw new VirtioException(device.name() + " (1af4:" + hex4(id) + ") has no virtio 1.x common configuration"
                    + " capability: it is a legacy-only device; open it with LegacyPciTransport (VirtioPciTransports.open"
                    + " and the net_virtio driver choose it by themselves)");
        }
        ModernPciTransport t = new ModernPciTransport(device, memory, regions);
        try {
            int cmd = device.configRead(PciConfig.COMMAND, 2);
            device.configWrite(PciConfig.COMMAND, 2, cmd | PciConfig.COMMAND_MEMORY_SPACE | PciConfig.COMMAND_BUS_MASTER);
            t.mapMemory();
            t.setupConfigInterrupt();
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** The virtio structures named by {@code caps} (4.1.4), each checked to lie inside a sane range. */
    public static List<Region> regions(PciCapabilities caps) {
        List<Region> out = new ArrayList<>();
        for (PciCapability cap : caps.findAll(PciCapability.ID_VENDOR_SPECIFIC)) {
            int len = cap.vendorLength();
            if (len < 16) {
                continue; // not a virtio_pci_cap
            }
            int type = cap.read8(CAP_CFG_TYPE);
            int bar = cap.read8(CAP_BAR);
            long off = Integer.toUnsignedLong(cap.read32(CAP_OFFSET));
            long length = Integer.toUnsignedLong(cap.read32(CAP_LENGTH));
            if (bar > 5 || type < CFG_COMMON || type > CFG_DEVICE) {
                continue; // 4.1.4: ignore unknown types and reserved BAR values
            }
            int mult = 0;
            if (type == CFG_NOTIFY) {
                if (len < 20) {
                    continue;
                }
                mult = cap.read32(CAP_NOTIFY_OFF_MULTIPLIER);
            }
            // 4.1.4: the driver uses the first capability of each type it understands
            if (out.stream().noneMatch(r -> r.type() == type)) {
                out.add(new Region(type, bar, off, length, mult));
            }
        }
        return out;
    }

    private Region pick(List<Region> regions, int type) {
        return regions.stream().filter(r -> r.type() == type).findFirst().orElseThrow(() -> new VirtioException(
                device.name() + ": no virtio capability of type " + type + " (1 common, 2 notify, 3 ISR)"));
    }

    private MemorySegment map(Region r) {
        var bar = device.bar(r.bar());
        if (r.offset() + r.length() > bar.size()) {
            throw new VirtioException(device.name() + ": virtio structure type " + r.type() + " at BAR" + r.bar() + "+0x"
                    + Long.toHexString(r.offset()) + " (" + r.length() + " bytes) lies outside the BAR of " + bar.size());
        }
        if (!bar.isMapped(r.offset(), r.length())) {
            throw new VirtioException(device.name() + ": BAR" + r.bar() + " is not mapped into this process (transport "
                    + device.transport() + "); virtio needs 8- and 16-bit register access: use VFIO or UIO");
        }
        return bar.mapped(r.offset(), r.length());
    }

    /** Maps every segment of the group not mapped yet (call after the group grew, before handing memory out). */
    public synchronized void mapMemory() {
        boolean physical = device.dmaAddressing() == PciDevice.DmaAddressing.PHYSICAL;
        for (DmaSegment s : memory.segments()) {
            if (!mappedIds.add(s.id())) {
                continue;
            }
            if (physical) {
                s.requirePhysical(device.name());
            } else {
                if (s.iovaMode() == IovaMode.PHYSICAL) {
                    throw new VirtioException(device.name() + " maps IOVAs through an IOMMU, but the memory group"
                            + " uses physical addresses: create it with IOVA mode ASSIGNED");
                }
                device.dmaMap(s.fd(), 0, s.memory(), s.iovaBase());
                mappedIovas.add(s.iovaBase());
                mappedIovas.add(s.size());
            }
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
    }

    static String hex4(int v) {
        return String.format("%04x", v);
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public long deviceFeatures() {
        VH32.setVolatile(common, DEVICE_FEATURE_SELECT, 0);
        long lo = Integer.toUnsignedLong((int) VH32.getVolatile(common, DEVICE_FEATURE));
        VH32.setVolatile(common, DEVICE_FEATURE_SELECT, 1);
        long hi = Integer.toUnsignedLong((int) VH32.getVolatile(common, DEVICE_FEATURE));
        return hi << 32 | lo; // RING_PACKED too when the device offers it (QEMU: packed=on), as DPDK's PMD takes it
    }

    /**
     * @throws VirtioException over kernel VFIO when ACCESS_PLATFORM is not among {@code features}: such a device
     *                         DMAs with physical addresses around the IOMMU (QEMU bypasses the vIOMMU for it), so
     *                         the IOVAs we mapped would land on unrelated memory
     */
    @Override
    public void driverFeatures(long features) {
        if ("vfio".equals(device.transport()) && device.dmaAddressing() == PciDevice.DmaAddressing.IOVA
                && !io.jnic.driver.virtio.Virtio.has(features, io.jnic.driver.virtio.Virtio.F_ACCESS_PLATFORM)) {
            throw new VirtioException(device.name() + ": the device does not offer (or the driver did not accept)"
                    + " VIRTIO_F_ACCESS_PLATFORM, so it would DMA with physical addresses around the IOMMU that VFIO"
                    + " maps our IOVAs in: give the device iommu_platform=on (QEMU), or bind it to uio_pci_generic");
        }
        VH32.setVolatile(common, DRIVER_FEATURE_SELECT, 0);
        VH32.setVolatile(common, DRIVER_FEATURE, (int) features);
        VH32.setVolatile(common, DRIVER_FEATURE_SELECT, 1);
        VH32.setVolatile(common, DRIVER_FEATURE, (int) (features >>> 32));
    }

    @Override
    public int status() {
        return Byte.toUnsignedInt((byte) VH8.getVolatile(common, DEVICE_STATUS));
    }

    @Override
    public void status(int status) {
        VH8.setVolatile(common, DEVICE_STATUS, (byte) status);
        if (status == 0) {
            // 4.1.4.3.2: after writing 0 the driver waits until it reads 0 back
            long deadline = System.nanoTime() + 1_000_000_000L;
            while (status() != 0) {
                if (System.nanoTime() - deadline > 0) {
                    throw new VirtioException(device.name() + ": the device did not finish its reset within 1 s");
                }
                Thread.onSpinWait();
            }
            if (configEventFd >= 0) {
                VH16.setVolatile(common, CONFIG_MSIX_VECTOR, (short) 0);
                if (Short.toUnsignedInt((short) VH16.getVolatile(common, CONFIG_MSIX_VECTOR)) == NO_VECTOR) {
                    LOG.log(System.Logger.Level.DEBUG, device.name() + ": no vector for configuration changes");
                }
            }
        }
    }

    @Override
    public int maxQueues() {
        return Short.toUnsignedInt((short) VH16.getVolatile(common, NUM_QUEUES));
    }

    @Override
    public int maxQueueSize(int queue) {
        if (queue < 0 || queue >= maxQueues()) {
            return 0;
        }
        VH16.setVolatile(common, QUEUE_SELECT, (short) queue);
        return Short.toUnsignedInt((short) VH16.getVolatile(common, QUEUE_SIZE));
    }

    @Override
    public Notifier setupQueue(SplitVirtqueue vq) {
        return setupQueue(vq.index(), vq.size(), vq.descIova(), vq.availIova(), vq.usedIova());
    }

    /**
     * Either ring format (4.1.4.3): a packed ring's descriptor ring, driver and device event-suppression areas go
     * where a split ring's descriptor table, available and used rings go.
     */
    @Override
    public Notifier setupQueue(Virtqueue vq) {
        return switch (vq) {
            case SplitVirtqueue split -> setupQueue(split);
            case PackedVirtqueue packed -> setupQueue(packed.index(), packed.size(), packed.descIova(),
                    packed.driverAreaIova(), packed.deviceAreaIova());
            default -> throw new VirtioException(name() + ": unknown virtqueue format " + vq);
        };
    }

    private Notifier setupQueue(int q, int size, long desc, long driverArea, long deviceArea) {
        int max = maxQueueSize(q);
        if (max == 0) {
            throw new VirtioException(device.name() + ": the device has no queue " + q);
        }
        if (size > max) {
            throw new VirtioException(device.name() + ": queue " + q + " holds at most " + max + " entries, not " + size);
        }
        VH16.setVolatile(common, QUEUE_SELECT, (short) q);
        VH16.setVolatile(common, QUEUE_SIZE, (short) size);
        write64(QUEUE_DESC, desc);
        write64(QUEUE_DRIVER, driverArea);
        write64(QUEUE_DEVICE, deviceArea);
        VH16.setVolatile(common, QUEUE_MSIX_VECTOR, (short) NO_VECTOR);
        long off = (long) Short.toUnsignedInt((short) VH16.getVolatile(common, QUEUE_NOTIFY_OFF))
                * Integer.toUnsignedLong(notifyMultiplier);
        if (off + 2 > notifyLength) {
            throw new VirtioException(device.name() + ": queue " + q + "'s notification address (offset " + off
                    + ") lies outside the notify structure of " + notifyLength + " bytes");
        }
        VH16.setVolatile(common, QUEUE_ENABLE, (short) 1);
        MemorySegment n = notify;
        short index = (short) q;
        // 4.1.5.2: without NOTIFICATION_DATA the driver writes the queue index
        return () -> VH16.setVolatile(n, off, index);
    }

    /** The BAR holding the notification structure (4.1.4.4): what another process maps to notify queues. */
    public int notifyBar() {
        return notifyRegion.bar();
    }

    /**
     * Where in {@link #notifyBar()} the driver notifies queue {@code queue} (4.1.4.4: cap.offset +
     * queue_notify_off x notify_off_multiplier), checked to lie in the notification structure. Selects the queue
     * in the common configuration: control path only.
     */
    public synchronized long notifyBarOffset(int queue) {
        if (queue < 0 || queue >= maxQueues()) {
            throw new VirtioException(device.name() + ": no queue " + queue);
        }
        VH16.setVolatile(common, QUEUE_SELECT, (short) queue);
        long off = (long) Short.toUnsignedInt((short) VH16.getVolatile(common, QUEUE_NOTIFY_OFF))
                * Integer.toUnsignedLong(notifyMultiplier);
        if (off + 2 > notifyLength) {
            throw new VirtioException(device.name() + ": queue " + queue + "'s notification address (offset " + off
                    + ") lies outside the notify structure of " + notifyLength + " bytes");
        }
        return notifyRegion.offset() + off;
    }

    private void write64(long off, long v) {
        // 4.1.3.1: 64-bit fields may be written as two 32-bit halves, low first
        VH32.setVolatile(common, off, (int) v);
        VH32.setVolatile(common, off + 4, (int) (v >>> 32));
    }

    @Override
    public int readConfig(int offset, int width) {
        if (deviceCfg.byteSize() < (long) offset + width) {
            throw new VirtioException(device.name() + ": device configuration has " + deviceCfg.byteSize()
                    + " bytes, cannot read " + width + " at " + offset);
        }
        return switch (width) {
            case 1 -> Byte.toUnsignedInt((byte) VH8.getVolatile(deviceCfg, (long) offset));
            case 2 -> Short.toUnsignedInt((short) VH16.getVolatile(deviceCfg, (long) offset));
            case 4 -> (int) VH32.getVolatile(deviceCfg, (long) offset);
            default -> throw new IllegalArgumentException("width " + width);
        };
    }

    @Override
    public int configGeneration() {
        return Byte.toUnsignedInt((byte) VH8.getVolatile(common, CONFIG_GENERATION));
    }

    /** Reads (and so clears) the ISR status (4.1.4.5): {@link #ISR_QUEUE}, {@link #ISR_CONFIG}. */
    public int readIsr() {
        return Byte.toUnsignedInt((byte) VH8.getVolatile(isr, 0L));
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
        for (int k = 0; k < mappedIovas.size(); k += 2) {
            try {
                device.dmaUnmap(mappedIovas.get(k), mappedIovas.get(k + 1));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "DMA unmap failed", e);
            }
        }
    }
}
