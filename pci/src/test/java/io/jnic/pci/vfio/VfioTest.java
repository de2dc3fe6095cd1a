package io.jnic.pci.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.pci.PciAddress;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciSysfs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfioTest {
    /** asm-generic/ioctl.h, written out: dir << 30 | size << 16 | type << 8 | nr. */
    private static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    @Test
    void ioctlNumbersFollowTheIoSchemeOfVfioH() {
        int type = ';';
        assertEquals(ioc(0, type, 100, 0), Vfio.VFIO_GET_API_VERSION);
        assertEquals(0x3b64, Vfio.VFIO_GET_API_VERSION); // the value strace shows for VFIO_GET_API_VERSION
        long[] inOrder = {Vfio.VFIO_GET_API_VERSION, Vfio.VFIO_CHECK_EXTENSION, Vfio.VFIO_SET_IOMMU,
            Vfio.VFIO_GROUP_GET_STATUS, Vfio.VFIO_GROUP_SET_CONTAINER, Vfio.VFIO_GROUP_UNSET_CONTAINER,
            Vfio.VFIO_GROUP_GET_DEVICE_FD, Vfio.VFIO_DEVICE_GET_INFO, Vfio.VFIO_DEVICE_GET_REGION_INFO,
            Vfio.VFIO_DEVICE_GET_IRQ_INFO, Vfio.VFIO_DEVICE_SET_IRQS, Vfio.VFIO_DEVICE_RESET};
        for (int n = 0; n < inOrder.length; n++) {
            assertEquals(ioc(0, type, 100 + n, 0), inOrder[n], "VFIO_BASE + " + n);
        }
        // the type1 IOMMU calls share numbers 12-14 with the device's hot-reset calls (different fds)
        assertEquals(ioc(0, type, 112, 0), Vfio.VFIO_IOMMU_GET_INFO);
        assertEquals(ioc(0, type, 113, 0), Vfio.VFIO_IOMMU_MAP_DMA);
        assertEquals(ioc(0, type, 114, 0), Vfio.VFIO_IOMMU_UNMAP_DMA);
        assertThrows(IllegalArgumentException.class, () -> Vfio.io(156));
    }

    @Test
    void containerWithoutDevVfioSaysTheModuleIsNotLoaded(@TempDir Path devVfio) {
        VfioException e = assertThrows(VfioException.class, () -> VfioContainer.open(devVfio));
        assertEquals("VFIO is not available: " + devVfio.resolve("vfio") + " does not exist; the vfio-pci module is not "
                + "loaded (as root: `modprobe vfio-pci`, with the IOMMU enabled, e.g. intel_iommu=on)", e.getMessage());
        VfioException g = assertThrows(VfioException.class, () -> VfioGroup.open(devVfio, 7));
        assertEquals("no VFIO group device " + devVfio.resolve("7") + " (nor noiommu-7): no device of IOMMU group 7 is "
                + "bound to vfio-pci", g.getMessage());
    }

    @Test
    void openingAHostDeviceSaysWhatIsMissingAndHowToBindIt() {
        assumeTrue(!Files.exists(Path.of("/dev/vfio/vfio")), "this kernel has VFIO loaded");
        PciSysfs host = new PciSysfs();
        List<PciDeviceInfo> bound = host.scan().stream().filter(d -> d.driver() != null).toList();
        assumeTrue(!bound.isEmpty(), "no PCI device with a driver here");
        PciDeviceInfo d = bound.get(0);
        // checkUsable only reads sysfs and /dev: nothing is opened or changed
        VfioException e = assertThrows(VfioException.class,
                () -> VfioPciDevice.checkUsable(host, Path.of(Vfio.DEV_VFIO), d.address()));
        assertEquals("cannot open " + d.address() + " with VFIO: VFIO is not available (/dev/vfio/vfio does not exist): "
                + "the vfio-pci module is not loaded; load it as root with `modprobe vfio-pci` (the IOMMU must be on, "
                + "e.g. intel_iommu=on); " + d.address() + " is bound to " + d.driver() + ", not to vfio-pci: bind it with "
                + "`./jnic devbind --bind vfio-pci " + d.address() + "` (or dpdk-devbind.py -b vfio-pci " + d.address() + ")",
                e.getMessage());
        VfioException missing = assertThrows(VfioException.class,
                () -> VfioPciDevice.open(host, Path.of(Vfio.DEV_VFIO), PciAddress.parse("00ff:ff:1f.7"), null));
        assertTrue(missing.getMessage().startsWith("no PCI device 00ff:ff:1f.7 (no /sys/bus/pci/devices/00ff:ff:1f.7)"),
                missing.getMessage());
    }

    /** A struct vfio_region_info as the kernel fills it, with a sparse-mmap capability (as for an MSI-X BAR). */
    private static MemorySegment regionInfo(Arena a, long size, int capOffset, int nrAreas, long[][] areas, int argsz) {
        MemorySegment ri = a.allocate(argsz, 8);
        ri.set(ValueLayout.JAVA_INT, 0, argsz);
        ri.set(ValueLayout.JAVA_INT, 4, Vfio.VFIO_REGION_INFO_FLAG_READ | Vfio.VFIO_REGION_INFO_FLAG_WRITE
                | Vfio.VFIO_REGION_INFO_FLAG_MMAP | Vfio.VFIO_REGION_INFO_FLAG_CAPS);
        ri.set(ValueLayout.JAVA_INT, 8, 3);
        ri.set(ValueLayout.JAVA_INT, 12, capOffset);
        ri.set(ValueLayout.JAVA_LONG, 16, size);
        ri.set(ValueLayout.JAVA_LONG, 24, 3L << 40);
        ri.set(ValueLayout.JAVA_SHORT, 32, (short) Vfio.VFIO_REGION_INFO_CAP_SPARSE_MMAP);
        ri.set(ValueLayout.JAVA_SHORT, 34, (short) 1);
        ri.set(ValueLayout.JAVA_INT, 36, 0);
        ri.set(ValueLayout.JAVA_INT, 40, nrAreas);
        for (int i = 0; i < areas.length; i++) {
            ri.set(ValueLayout.JAVA_LONG, 48 + 16L * i, areas[i][0]);
            ri.set(ValueLayout.JAVA_LONG, 56 + 16L * i, areas[i][1]);
        }
        return ri;
    }

    @Test
    void regionInfoFollowsTheSparseMmapCapability() {
        try (Arena a = Arena.ofConfined()) {
            long[][] areas = {{0, 0x2000}, {0x3000, 0x1000}};
            VfioRegionInfo r = VfioPciDevice.parseRegionInfo("dev", regionInfo(a, 0x4000, 32, 2, areas, 80));
            assertEquals(3, r.index());
            assertEquals(3L << 40, r.offset());
            assertEquals(List.of(new VfioRegionInfo.SparseArea(0, 0x2000), new VfioRegionInfo.SparseArea(0x3000, 0x1000)),
                    r.mmapAreas());
            assertTrue(r.readable() && r.writable() && r.mappable());
        }
    }

    @Test
    void regionInfoFromTheKernelIsBoundsChecked() {
        try (Arena a = Arena.ofConfined()) {
            VfioException tooMany = assertThrows(VfioException.class, () -> VfioPciDevice.parseRegionInfo("dev",
                    regionInfo(a, 0x4000, 32, 1000, new long[][] {{0, 0x1000}}, 64)));
            assertEquals("dev region 3: sparse-mmap capability claims 1000 areas, more than fit in 64 bytes",
                    tooMany.getMessage());
            VfioException outside = assertThrows(VfioException.class, () -> VfioPciDevice.parseRegionInfo("dev",
                    regionInfo(a, 0x4000, 32, 1, new long[][] {{0x3000, 0x2000}}, 64)));
            assertEquals("dev region 3: sparse area [0x3000, +0x2000) lies outside the region (0x4000)", outside.getMessage());
            VfioException badCap = assertThrows(VfioException.class, () -> VfioPciDevice.parseRegionInfo("dev",
                    regionInfo(a, 0x4000, 60, 1, new long[][] {{0, 0x1000}}, 64)));
            assertEquals("dev region 3: bad capability offset 60 (argsz 64)", badCap.getMessage());
        }
    }
}
