package io.jnic.pci.vfiouser;

/**
 * Payload layouts of every command this package speaks: byte offsets from the end of the 16-byte header
 * (QEMU docs/interop/vfio-user.rst, one nested class per section). Read and written through
 * {@link VfioUserMessage}, which bounds-checks every access against the message size.
 */
public final class VfioUserLayout {
    private VfioUserLayout() {
    }

    /** "VFIO_USER_VERSION": major, minor, then optional NUL-terminated JSON. */
    public static final class Version {
        public static final long MAJOR = 0;
        public static final long MINOR = 2;
        public static final long DATA = 4;
        public static final int SIZE = 4;

        private Version() {
        }
    }

    /** "VFIO_USER_DMA_MAP" request (no reply payload); the fd to mmap travels as SCM_RIGHTS. */
    public static final class DmaMap {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long OFFSET = 8;
        public static final long ADDRESS = 16;
        public static final long SIZE_FIELD = 24;
        public static final int SIZE = 32;

        private DmaMap() {
        }
    }

    /** "VFIO_USER_DMA_UNMAP" request; the reply echoes it. */
    public static final class DmaUnmap {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long ADDRESS = 8;
        public static final long SIZE_FIELD = 16;
        public static final int SIZE = 24;

        private DmaUnmap() {
        }
    }

    /** "VFIO_USER_DEVICE_GET_INFO" request and reply (struct vfio_device_info). */
    public static final class DeviceInfo {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long NUM_REGIONS = 8;
        public static final long NUM_IRQS = 12;
        public static final int SIZE = 16;

        private DeviceInfo() {
        }
    }

    /**
     * "VFIO_USER_DEVICE_GET_REGION_INFO" request and reply (struct vfio_region_info); capabilities follow
     * at {@code cap_offset}, relative to the start of this structure.
     */
    public static final class RegionInfo {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long INDEX = 8;
        public static final long CAP_OFFSET = 12;
        public static final long SIZE_FIELD = 16;
        public static final long OFFSET = 24;
        public static final int SIZE = 32;

        private RegionInfo() {
        }
    }

    /** "VFIO cap header format" (struct vfio_info_cap_header); {@code next} is relative to the region info. */
    public static final class CapHeader {
        public static final long ID = 0;
        public static final long VERSION = 2;
        public static final long NEXT = 4;
        public static final int SIZE = 8;

        private CapHeader() {
        }
    }

    /** "VFIO region info cap sparse mmap", after the cap header: nr_areas, then (offset, size) pairs. */
    public static final class SparseMmap {
        public static final long NR_AREAS = 0;
        public static final long RESERVED = 4;
        public static final long AREAS = 8;
        public static final int HEADER_SIZE = 8;
        public static final long AREA_OFFSET = 0;
        public static final long AREA_SIZE = 8;
        public static final int AREA_BYTES = 16;

        private SparseMmap() {
        }
    }

    /** "VFIO_USER_DEVICE_GET_IRQ_INFO" request and reply (struct vfio_irq_info). */
    public static final class IrqInfo {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long INDEX = 8;
        public static final long COUNT = 12;
        public static final int SIZE = 16;

        private IrqInfo() {
        }
    }

    /** "VFIO_USER_DEVICE_SET_IRQS" request (struct vfio_irq_set); BOOL data follows, eventfds travel as SCM_RIGHTS. */
    public static final class IrqSet {
        public static final long ARGSZ = 0;
        public static final long FLAGS = 4;
        public static final long INDEX = 8;
        public static final long START = 12;
        public static final long COUNT = 16;
        public static final long DATA = 20;
        public static final int SIZE = 20;

        private IrqSet() {
        }
    }

    /** "VFIO_USER_REGION_READ" / "VFIO_USER_REGION_WRITE": offset, region, count, then data. */
    public static final class RegionAccess {
        public static final long OFFSET = 0;
        public static final long REGION = 8;
        public static final long COUNT = 12;
        public static final long DATA = 16;
        public static final int SIZE = 16;

        private RegionAccess() {
        }
    }

    /**
     * "VFIO_USER_DMA_READ" / "VFIO_USER_DMA_WRITE": address, count (8 bytes), then data. The spec's
     * DMA_WRITE reply table gives count 4 bytes; the implementations send the 16-byte request header
     * back, so we send 16 and accept 12 or more.
     */
    public static final class DmaAccess {
        public static final long ADDRESS = 0;
        public static final long COUNT = 8;
        public static final long DATA = 16;
        public static final int SIZE = 16;
        public static final int WRITE_REPLY_MIN = 12;

        private DmaAccess() {
        }
    }
}
