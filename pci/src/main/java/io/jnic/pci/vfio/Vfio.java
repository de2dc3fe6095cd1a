package io.jnic.pci.vfio;

/**
 * The VFIO user API's numbers (include/uapi/linux/vfio.h): ioctl requests, extension ids, flags and region
 * and IRQ indices. Every request is {@code _IO(VFIO_TYPE, VFIO_BASE + n)}: no size or direction bits, the
 * structures carry their own {@code argsz}.
 */
public final class Vfio {
    /** The ioctl "type" character of VFIO, ';'. */
    public static final int VFIO_TYPE = ';';
    public static final int VFIO_BASE = 100;
    public static final int API_VERSION = 0;

    // Container (/dev/vfio/vfio)
    public static final long VFIO_GET_API_VERSION = io(0);
    public static final long VFIO_CHECK_EXTENSION = io(1);
    public static final long VFIO_SET_IOMMU = io(2);
    // Group (/dev/vfio/N)
    public static final long VFIO_GROUP_GET_STATUS = io(3);
    public static final long VFIO_GROUP_SET_CONTAINER = io(4);
    public static final long VFIO_GROUP_UNSET_CONTAINER = io(5);
    public static final long VFIO_GROUP_GET_DEVICE_FD = io(6);
    // Device
    public static final long VFIO_DEVICE_GET_INFO = io(7);
    public static final long VFIO_DEVICE_GET_REGION_INFO = io(8);
    public static final long VFIO_DEVICE_GET_IRQ_INFO = io(9);
    public static final long VFIO_DEVICE_SET_IRQS = io(10);
    public static final long VFIO_DEVICE_RESET = io(11);
    // Type1 IOMMU (on the container)
    public static final long VFIO_IOMMU_GET_INFO = io(12);
    public static final long VFIO_IOMMU_MAP_DMA = io(13);
    public static final long VFIO_IOMMU_UNMAP_DMA = io(14);

    // Extensions / IOMMU types (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU)
    public static final int VFIO_TYPE1_IOMMU = 1;
    public static final int VFIO_SPAPR_TCE_IOMMU = 2;
    public static final int VFIO_TYPE1v2_IOMMU = 3;
    public static final int VFIO_DMA_CC_IOMMU = 4;
    public static final int VFIO_NOIOMMU_IOMMU = 8;

    // struct vfio_group_status.flags
    public static final int VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
    public static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

    // struct vfio_device_info.flags
    public static final int VFIO_DEVICE_FLAGS_RESET = 1 << 0;
    public static final int VFIO_DEVICE_FLAGS_PCI = 1 << 1;

    // struct vfio_region_info.flags
    public static final int VFIO_REGION_INFO_FLAG_READ = 1 << 0;
    public static final int VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    public static final int VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
    public static final int VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;
    // region capability ids (struct vfio_info_cap_header.id)
    public static final int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
    public static final int VFIO_REGION_INFO_CAP_TYPE = 2;
    public static final int VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;

    // PCI region indices
    public static final int VFIO_PCI_BAR0_REGION_INDEX = 0;
    public static final int VFIO_PCI_BAR5_REGION_INDEX = 5;
    public static final int VFIO_PCI_ROM_REGION_INDEX = 6;
    public static final int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    public static final int VFIO_PCI_VGA_REGION_INDEX = 8;

    // PCI IRQ indices (same order as PciDevice.InterruptType)
    public static final int VFIO_PCI_INTX_IRQ_INDEX = 0;
    public static final int VFIO_PCI_MSI_IRQ_INDEX = 1;
    public static final int VFIO_PCI_MSIX_IRQ_INDEX = 2;
    public static final int VFIO_PCI_ERR_IRQ_INDEX = 3;
    public static final int VFIO_PCI_REQ_IRQ_INDEX = 4;

    // struct vfio_irq_info.flags
    public static final int VFIO_IRQ_INFO_EVENTFD = 1 << 0;
    public static final int VFIO_IRQ_INFO_MASKABLE = 1 << 1;
    public static final int VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
    public static final int VFIO_IRQ_INFO_NORESIZE = 1 << 3;

    // struct vfio_irq_set.flags
    public static final int VFIO_IRQ_SET_DATA_NONE = 1 << 0;
    public static final int VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
    public static final int VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
    public static final int VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
    public static final int VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
    public static final int VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

    // struct vfio_iommu_type1_dma_map.flags
    public static final int VFIO_DMA_MAP_FLAG_READ = 1 << 0;
    public static final int VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

    // struct vfio_iommu_type1_info.flags
    public static final int VFIO_IOMMU_INFO_PGSIZES = 1 << 0;

    public static final String DEV_VFIO = "/dev/vfio";

    private Vfio() {
    }

    /**
     * {@code _IO(VFIO_TYPE, VFIO_BASE + n)} from asm-generic/ioctl.h: direction (bits 31:30) and size
     * (bits 29:16) are 0, the type goes in bits 15:8 and the number in bits 7:0.
     */
    public static long io(int n) {
        int nr = VFIO_BASE + n;
        if (nr < 0 || nr > 0xff) {
            throw new IllegalArgumentException("ioctl number " + nr + " does not fit the 8-bit nr field");
        }
        return ((long) VFIO_TYPE << 8) | nr;
    }

    /** A name for an IOMMU type, for messages. */
    public static String iommuTypeName(int type) {
        return switch (type) {
            case VFIO_TYPE1_IOMMU -> "type1";
            case VFIO_TYPE1v2_IOMMU -> "type1v2";
            case VFIO_NOIOMMU_IOMMU -> "noiommu";
            case VFIO_SPAPR_TCE_IOMMU -> "spapr-tce";
            default -> "iommu type " + type;
        };
    }
}
