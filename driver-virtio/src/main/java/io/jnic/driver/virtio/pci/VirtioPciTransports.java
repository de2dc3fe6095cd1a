package io.jnic.driver.virtio.pci;

import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.memory.MemoryGroup;
import io.jnic.pci.PciCapabilities;
import io.jnic.pci.PciConfig;
import io.jnic.pci.PciDevice;

/**
 * Picks the PCI transport of a virtio device: the modern interface (virtio 1.x 4.1.4) when the device declares the
 * virtio capabilities, else the legacy interface in I/O BAR0 (4.1.4.8) of a transitional device, as Linux's
 * virtio_pci and DPDK's virtio PMD do. The choice is logged at INFO.
 */
public final class VirtioPciTransports {
    private static final System.Logger LOG = System.getLogger(VirtioPciTransports.class.getName());

    /** Which interface {@link #open} uses for a device. */
    public enum Kind { MODERN, LEGACY }

    private VirtioPciTransports() {
    }

    /** MODERN when {@code device} has a virtio common-configuration capability, LEGACY when it has I/O BAR0. */
    public static Kind kind(PciDevice device) {
        boolean modern = ModernPciTransport.regions(PciCapabilities.of(device)).stream()
                .anyMatch(r -> r.type() == ModernPciTransport.CFG_COMMON);
        if (modern) {
            return Kind.MODERN;
        }
        int id = device.configRead(PciConfig.DEVICE_ID, 2);
        boolean ioBar0 = (device.configRead(PciConfig.BAR0 + 4 * LegacyPciTransport.IO_BAR, 4) & 1) != 0;
        if (ioBar0 && id >= LegacyPciTransport.DEVICE_ID_TRANSITIONAL_FIRST && id <= LegacyPciTransport.DEVICE_ID_TRANSITIONAL_LAST) {
            return Kind.LEGACY;
        }
        throw new VirtioException(device.name() + " (1af4:" + ModernPciTransport.hex4(id) + ") has neither virtio 1.x"
                + " capabilities nor a legacy I/O BAR0: it is no virtio PCI device jnic can drive");
    }

    /** Opens the transport {@link #kind} picks and logs which one. */
    public static VirtioTransport open(PciDevice device, MemoryGroup memory) {
        int vendor = device.configRead(PciConfig.VENDOR_ID, 2);
        if (vendor != ModernPciTransport.VENDOR_VIRTIO) {
            return ModernPciTransport.open(device, memory); // says what is wrong
        }
        return switch (kind(device)) {
            case MODERN -> {
                ModernPciTransport t = ModernPciTransport.open(device, memory);
                LOG.log(System.Logger.Level.INFO, device.name() + ": virtio 1.x (modern) PCI interface, " + device.transport());
                yield t;
            }
            case LEGACY -> {
                LegacyPciTransport t = LegacyPciTransport.open(device, memory);
                LOG.log(System.Logger.Level.INFO, device.name() + ": no virtio 1.x capabilities, using the "
                        + t.describe() + "; DMA with physical addresses");
                yield t;
            }
        };
    }
}
