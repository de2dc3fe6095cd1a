package io.jnic.pci.vfio;

import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_FLAGS_CONTAINER_SET;
import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_FLAGS_VIABLE;
import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_GET_DEVICE_FD;
import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_GET_STATUS;
import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_SET_CONTAINER;
import static io.jnic.pci.vfio.Vfio.VFIO_GROUP_UNSET_CONTAINER;

import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A VFIO group ({@code /dev/vfio/N}, or {@code /dev/vfio/noiommu-N} in no-IOMMU mode): the unit of
 * isolation. It is viable when every device in it is bound to vfio-pci (or to no driver).
 */
public final class VfioGroup implements AutoCloseable {
    /** struct vfio_group_status: argsz, flags. */
    static final int STATUS_SIZE = 8;

    private final int fd;
    private final int number;
    private final boolean noiommu;

    private VfioGroup(int fd, int number, boolean noiommu) {
        this.fd = fd;
        this.number = number;
        this.noiommu = noiommu;
    }

    /** Opens group {@code number} under /dev/vfio. */
    public static VfioGroup open(int number) {
        return open(Path.of(Vfio.DEV_VFIO), number);
    }

    public static VfioGroup open(Path devVfio, int number) {
        Path plain = devVfio.resolve(Integer.toString(number));
        Path noiommu = devVfio.resolve("noiommu-" + number);
        boolean isNoiommu = !Files.exists(plain) && Files.exists(noiommu);
        Path p = isNoiommu ? noiommu : plain;
        if (!Files.exists(p)) {
            throw new VfioException("no VFIO group device " + plain + " (nor " + noiommu.getFileName()
                    + "): no device of IOMMU group " + number + " is bound to vfio-pci");
        }
        try {
            return new VfioGroup(Io.open(p.toString(), Io.O_RDWR | Io.O_CLOEXEC), number, isNoiommu);
        } catch (SysException e) {
            throw new VfioException("cannot open VFIO group " + p + ": " + e.getMessage()
                    + (e.errno() == io.jnic.sys.Errno.EBUSY ? " (another process has it open)" : ""), e);
        }
    }

    /** Adopts an open group fd (e.g. received over IPC); this object owns it from now on. */
    public static VfioGroup fromFd(int fd, int number, boolean noiommu) {
        return new VfioGroup(fd, number, noiommu);
    }

    public int fd() {
        return fd;
    }

    public int number() {
        return number;
    }

    public boolean noiommu() {
        return noiommu;
    }

    /** VFIO_GROUP_GET_STATUS flags. */
    public int status() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STATUS_SIZE, 4);
            st.set(ValueLayout.JAVA_INT, 0, STATUS_SIZE);
            Io.ioctl(fd, VFIO_GROUP_GET_STATUS, st);
            return st.get(ValueLayout.JAVA_INT, 4);
        }
    }

    public boolean viable() {
        return (status() & VFIO_GROUP_FLAGS_VIABLE) != 0;
    }

    public boolean containerSet() {
        return (status() & VFIO_GROUP_FLAGS_CONTAINER_SET) != 0;
    }

    public void setContainer(VfioContainer container) {
        if (!viable()) {
            throw new VfioException("VFIO group " + number + " is not viable: every device in IOMMU group " + number
                    + " (see /sys/kernel/iommu_groups/" + number + "/devices) must be bound to vfio-pci or unbound");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.JAVA_INT);
            p.set(ValueLayout.JAVA_INT, 0, container.fd());
            Io.ioctl(fd, VFIO_GROUP_SET_CONTAINER, p);
        }
    }

    public void unsetContainer() {
        Io.ioctl(fd, VFIO_GROUP_UNSET_CONTAINER, 0L);
    }

    /** VFIO_GROUP_GET_DEVICE_FD for a device of this group, named by its PCI address. */
    public int deviceFd(String deviceName) {
        try (Arena a = Arena.ofConfined()) {
            return Io.ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, a.allocateFrom(deviceName));
        } catch (SysException e) {
            throw new VfioException("VFIO_GROUP_GET_DEVICE_FD(" + deviceName + ") on group " + number + " failed: "
                    + e.getMessage() + (e.errno() == io.jnic.sys.Errno.EINVAL
                            ? " (is the container set up with an IOMMU type? is the device in this group?)" : ""), e);
        }
    }

    @Override
    public void close() {
        Io.close(fd);
    }
}
