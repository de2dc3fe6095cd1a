package io.jnic.pci.vfio;

import static io.jnic.pci.vfio.Vfio.VFIO_CHECK_EXTENSION;
import static io.jnic.pci.vfio.Vfio.VFIO_DMA_MAP_FLAG_READ;
import static io.jnic.pci.vfio.Vfio.VFIO_DMA_MAP_FLAG_WRITE;
import static io.jnic.pci.vfio.Vfio.VFIO_GET_API_VERSION;
import static io.jnic.pci.vfio.Vfio.VFIO_IOMMU_GET_INFO;
import static io.jnic.pci.vfio.Vfio.VFIO_IOMMU_INFO_PGSIZES;
import static io.jnic.pci.vfio.Vfio.VFIO_IOMMU_MAP_DMA;
import static io.jnic.pci.vfio.Vfio.VFIO_IOMMU_UNMAP_DMA;
import static io.jnic.pci.vfio.Vfio.VFIO_SET_IOMMU;

import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A VFIO container ({@code /dev/vfio/vfio}): the IOMMU context that groups are attached to and that DMA
 * mappings are made in. The fd can be handed to another process (SCM_RIGHTS) and adopted there with
 * {@link #fromFd}; mappings are shared by every holder of the container.
 */
public final class VfioContainer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VfioContainer.class.getName());
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;
    /** struct vfio_iommu_type1_dma_map: argsz, flags, vaddr, iova, size. */
    static final int DMA_MAP_SIZE = 32;
    /** struct vfio_iommu_type1_dma_unmap: argsz, flags, iova, size. */
    static final int DMA_UNMAP_SIZE = 24;
    /** struct vfio_iommu_type1_info: argsz, flags, iova_pgsizes, cap_offset, pad. */
    static final int IOMMU_INFO_SIZE = 24;
    private static final long PAGE = 4096;

    private final int fd;
    private final boolean owned;
    private volatile int iommuType;

    private VfioContainer(int fd, boolean owned, int iommuType) {
        this.fd = fd;
        this.owned = owned;
        this.iommuType = iommuType;
        int v = Io.ioctl(fd, VFIO_GET_API_VERSION, 0L);
        if (v != Vfio.API_VERSION) {
            if (owned) {
                Io.closeQuietly(fd);
            }
            throw new VfioException("VFIO API version " + v + " is not the supported version " + Vfio.API_VERSION);
        }
    }

    /** Opens {@code /dev/vfio/vfio}. */
    public static VfioContainer open() {
        return open(Path.of(Vfio.DEV_VFIO));
    }

    public static VfioContainer open(Path devVfio) {
        Path p = devVfio.resolve("vfio");
        if (!Files.exists(p)) {
            throw new VfioException("VFIO is not available: " + p + " does not exist; the vfio-pci module is not "
                    + "loaded (as root: `modprobe vfio-pci`, with the IOMMU enabled, e.g. intel_iommu=on)");
        }
        return new VfioContainer(Io.open(p.toString(), Io.O_RDWR | Io.O_CLOEXEC), true, 0);
    }

    /**
     * Adopts an open container fd (e.g. received from a primary over IPC). {@code iommuType} is the type
     * the owner set, or 0 when unknown. This object owns the fd from now on.
     */
    public static VfioContainer fromFd(int fd, int iommuType) {
        return new VfioContainer(fd, true, iommuType);
    }

    public int fd() {
        return fd;
    }

    public int apiVersion() {
        return Io.ioctl(fd, VFIO_GET_API_VERSION, 0L);
    }

    /** VFIO_CHECK_EXTENSION: whether the kernel supports an IOMMU type or extension. */
    public boolean checkExtension(int extension) {
        return Io.ioctl(fd, VFIO_CHECK_EXTENSION, extension) > 0;
    }

    /** The best IOMMU type this kernel offers: type1v2, type1 or noiommu; 0 when none. */
    public int bestIommuType() {
        if (checkExtension(Vfio.VFIO_TYPE1v2_IOMMU)) {
            return Vfio.VFIO_TYPE1v2_IOMMU;
        }
        if (checkExtension(Vfio.VFIO_TYPE1_IOMMU)) {
            return Vfio.VFIO_TYPE1_IOMMU;
        }
        if (checkExtension(Vfio.VFIO_NOIOMMU_IOMMU)) {
            return Vfio.VFIO_NOIOMMU_IOMMU;
        }
        return 0;
    }

    /** VFIO_SET_IOMMU; needs at least one group attached first. */
    public void setIommu(int type) {
        try {
            Io.ioctl(fd, VFIO_SET_IOMMU, type);
        } catch (SysException e) {
            throw new VfioException("VFIO_SET_IOMMU(" + Vfio.iommuTypeName(type) + ") failed: " + e.getMessage()
                    + (e.errno() == io.jnic.sys.Errno.ENODEV
                            ? " (is the vfio_iommu_type1 module loaded? `modprobe vfio_iommu_type1`)" : ""), e);
        }
        iommuType = type;
    }

    /** The IOMMU type set on this container, or 0 when not set or not known (adopted fd). */
    public int iommuType() {
        return iommuType;
    }

    /** Bit mask of IOMMU page sizes (VFIO_IOMMU_GET_INFO), 0 when the kernel does not report them. */
    public long iovaPageSizes() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(IOMMU_INFO_SIZE, 8);
            info.set(U32, 0, IOMMU_INFO_SIZE);
            Io.ioctl(fd, VFIO_IOMMU_GET_INFO, info);
            return (info.get(U32, 4) & VFIO_IOMMU_INFO_PGSIZES) != 0 ? info.get(U64, 8) : 0;
        }
    }

    /** Maps {@code memory} read/write for the device at {@code iova}. */
    public void dmaMap(MemorySegment memory, long iova) {
        dmaMap(memory.address(), iova, memory.byteSize(), VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
    }

    /** VFIO_IOMMU_MAP_DMA: the process's memory at {@code vaddr} becomes device-visible at {@code iova}. */
    public void dmaMap(long vaddr, long iova, long size, int flags) {
        if (vaddr % PAGE != 0 || iova % PAGE != 0 || size <= 0 || size % PAGE != 0) {
            throw new IllegalArgumentException("DMA map needs page-aligned vaddr, iova and size: vaddr=0x"
                    + Long.toHexString(vaddr) + " iova=0x" + Long.toHexString(iova) + " size=0x" + Long.toHexString(size));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(DMA_MAP_SIZE, 8);
            m.set(U32, 0, DMA_MAP_SIZE);
            m.set(U32, 4, flags);
            m.set(U64, 8, vaddr);
            m.set(U64, 16, iova);
            m.set(U64, 24, size);
            Io.ioctl(fd, VFIO_IOMMU_MAP_DMA, m);
        } catch (SysException e) {
            throw new VfioException("VFIO_IOMMU_MAP_DMA of 0x" + Long.toHexString(size) + " bytes at vaddr 0x"
                    + Long.toHexString(vaddr) + " to iova 0x" + Long.toHexString(iova) + " failed: " + e.getMessage()
                    + switch (e.errno()) {
                        case EEXIST -> " (the IOVA range overlaps an existing mapping)";
                        case ENOMEM -> " (over the locked-memory limit: raise RLIMIT_MEMLOCK / ulimit -l)";
                        case EINVAL -> " (no IOMMU type set on the container, or bad alignment)";
                        default -> "";
                    }, e);
        }
        LOG.log(System.Logger.Level.DEBUG, "DMA map vaddr 0x{0} -> iova 0x{1} size 0x{2}",
                Long.toHexString(vaddr), Long.toHexString(iova), Long.toHexString(size));
    }

    /** VFIO_IOMMU_UNMAP_DMA; returns the number of bytes unmapped. */
    public long dmaUnmap(long iova, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(DMA_UNMAP_SIZE, 8);
            m.set(U32, 0, DMA_UNMAP_SIZE);
            m.set(U32, 4, 0);
            m.set(U64, 8, iova);
            m.set(U64, 16, size);
            Io.ioctl(fd, VFIO_IOMMU_UNMAP_DMA, m);
            return m.get(U64, 16);
        }
    }

    @Override
    public void close() {
        if (owned) {
            Io.close(fd);
        }
    }
}
