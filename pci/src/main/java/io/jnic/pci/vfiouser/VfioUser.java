package io.jnic.pci.vfiouser;

import io.jnic.sys.Errno;

/**
 * Numbers of the vfio-user protocol (QEMU docs/interop/vfio-user.rst, "Commands", "Header") and the
 * {@code <linux/vfio.h>} values it reuses (device, region, IRQ and DMA flags; PCI region and IRQ indices).
 */
public final class VfioUser {
    /** Protocol version we speak (the spec's "Version" section; QEMU and libvfio-user propose 0.1). */
    public static final int VERSION_MAJOR = 0;
    public static final int VERSION_MINOR = 1;

    // Commands ("Commands" table)
    public static final int CMD_VERSION = 1;
    public static final int CMD_DMA_MAP = 2;
    public static final int CMD_DMA_UNMAP = 3;
    public static final int CMD_DEVICE_GET_INFO = 4;
    public static final int CMD_DEVICE_GET_REGION_INFO = 5;
    public static final int CMD_DEVICE_GET_REGION_IO_FDS = 6;
    public static final int CMD_DEVICE_GET_IRQ_INFO = 7;
    public static final int CMD_DEVICE_SET_IRQS = 8;
    public static final int CMD_REGION_READ = 9;
    public static final int CMD_REGION_WRITE = 10;
    public static final int CMD_DMA_READ = 11;
    public static final int CMD_DMA_WRITE = 12;
    public static final int CMD_DEVICE_RESET = 13;
    public static final int CMD_REGION_WRITE_MULTI = 15;
    public static final int CMD_DEVICE_FEATURE = 16;

    // Header flags ("Header": bits 0-3 type, bit 4 No_reply, bit 5 Error)
    public static final int FLAG_TYPE_MASK = 0xf;
    public static final int FLAG_TYPE_COMMAND = 0x0;
    public static final int FLAG_TYPE_REPLY = 0x1;
    public static final int FLAG_NO_REPLY = 1 << 4;
    public static final int FLAG_ERROR = 1 << 5;

    // VERSION capabilities (JSON names) and their defaults when absent
    public static final String CAP_MAX_MSG_FDS = "max_msg_fds";
    public static final String CAP_MAX_DATA_XFER_SIZE = "max_data_xfer_size";
    public static final String CAP_MAX_DMA_MAPS = "max_dma_maps";
    public static final String CAP_PGSIZES = "pgsizes";
    public static final String CAP_MIGRATION = "migration";
    public static final int DEFAULT_MAX_MSG_FDS = 1;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;

    // DMA_MAP flags
    public static final int DMA_FLAG_READ = 1 << 0;
    public static final int DMA_FLAG_WRITE = 1 << 1;

    // DMA_UNMAP flags (VFIO_DMA_UNMAP_FLAG_*, as QEMU and libvfio-user send them)
    public static final int DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
    public static final int DMA_UNMAP_FLAG_ALL = 1 << 1;

    // DEVICE_GET_INFO flags (VFIO_DEVICE_FLAGS_*)
    public static final int DEVICE_FLAGS_RESET = 1 << 0;
    public static final int DEVICE_FLAGS_PCI = 1 << 1;

    // DEVICE_GET_REGION_INFO flags (VFIO_REGION_INFO_FLAG_*) and capability ids
    public static final int REGION_FLAG_READ = 1 << 0;
    public static final int REGION_FLAG_WRITE = 1 << 1;
    public static final int REGION_FLAG_MMAP = 1 << 2;
    public static final int REGION_FLAG_CAPS = 1 << 3;
    public static final int REGION_INFO_CAP_SPARSE_MMAP = 1;
    public static final int SPARSE_MMAP_CAP_VERSION = 1;

    // VFIO PCI region indices (enum in <linux/vfio.h>)
    public static final int PCI_BAR0_REGION_INDEX = 0;
    public static final int PCI_BAR5_REGION_INDEX = 5;
    public static final int PCI_ROM_REGION_INDEX = 6;
    public static final int PCI_CONFIG_REGION_INDEX = 7;
    public static final int PCI_VGA_REGION_INDEX = 8;
    public static final int PCI_NUM_REGIONS = 9;

    // VFIO PCI IRQ indices
    public static final int PCI_INTX_IRQ_INDEX = 0;
    public static final int PCI_MSI_IRQ_INDEX = 1;
    public static final int PCI_MSIX_IRQ_INDEX = 2;
    public static final int PCI_ERR_IRQ_INDEX = 3;
    public static final int PCI_REQ_IRQ_INDEX = 4;
    public static final int PCI_NUM_IRQS = 5;

    // DEVICE_GET_IRQ_INFO flags (VFIO_IRQ_INFO_*)
    public static final int IRQ_INFO_EVENTFD = 1 << 0;
    public static final int IRQ_INFO_MASKABLE = 1 << 1;
    public static final int IRQ_INFO_AUTOMASKED = 1 << 2;
    public static final int IRQ_INFO_NORESIZE = 1 << 3;

    // DEVICE_SET_IRQS flags (VFIO_IRQ_SET_*): one DATA and one ACTION bit
    public static final int IRQ_SET_DATA_NONE = 1 << 0;
    public static final int IRQ_SET_DATA_BOOL = 1 << 1;
    public static final int IRQ_SET_DATA_EVENTFD = 1 << 2;
    public static final int IRQ_SET_ACTION_MASK = 1 << 3;
    public static final int IRQ_SET_ACTION_UNMASK = 1 << 4;
    public static final int IRQ_SET_ACTION_TRIGGER = 1 << 5;
    public static final int IRQ_SET_DATA_TYPE_MASK = IRQ_SET_DATA_NONE | IRQ_SET_DATA_BOOL | IRQ_SET_DATA_EVENTFD;
    public static final int IRQ_SET_ACTION_TYPE_MASK = IRQ_SET_ACTION_MASK | IRQ_SET_ACTION_UNMASK | IRQ_SET_ACTION_TRIGGER;

    private VfioUser() {
    }

    /** "VFIO_USER_DMA_MAP" etc., or "command 99" for one the spec does not name. */
    public static String commandName(int command) {
        return switch (command) {
            case CMD_VERSION -> "VFIO_USER_VERSION";
            case CMD_DMA_MAP -> "VFIO_USER_DMA_MAP";
            case CMD_DMA_UNMAP -> "VFIO_USER_DMA_UNMAP";
            case CMD_DEVICE_GET_INFO -> "VFIO_USER_DEVICE_GET_INFO";
            case CMD_DEVICE_GET_REGION_INFO -> "VFIO_USER_DEVICE_GET_REGION_INFO";
            case CMD_DEVICE_GET_REGION_IO_FDS -> "VFIO_USER_DEVICE_GET_REGION_IO_FDS";
            case CMD_DEVICE_GET_IRQ_INFO -> "VFIO_USER_DEVICE_GET_IRQ_INFO";
            case CMD_DEVICE_SET_IRQS -> "VFIO_USER_DEVICE_SET_IRQS";
            case CMD_REGION_READ -> "VFIO_USER_REGION_READ";
            case CMD_REGION_WRITE -> "VFIO_USER_REGION_WRITE";
            case CMD_DMA_READ -> "VFIO_USER_DMA_READ";
            case CMD_DMA_WRITE -> "VFIO_USER_DMA_WRITE";
            case CMD_DEVICE_RESET -> "VFIO_USER_DEVICE_RESET";
            case CMD_REGION_WRITE_MULTI -> "VFIO_USER_REGION_WRITE_MULTI";
            case CMD_DEVICE_FEATURE -> "VFIO_USER_DEVICE_FEATURE";
            default -> "command " + command;
        };
    }

    /** "EINVAL" for 22; "errno 4242" for values without a name. */
    public static String errnoName(int errno) {
        Errno e = Errno.of(errno);
        return e == Errno.EUNKNOWN ? "errno " + errno : e.name();
    }
}
