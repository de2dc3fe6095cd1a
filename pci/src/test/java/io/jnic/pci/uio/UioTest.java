package io.jnic.pci.uio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.memory.Pagemap;
import io.jnic.pci.PhysicalDma;
import io.jnic.pci.PciDeviceInfo;
import io.jnic.pci.PciSysfs;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.testing.TestResources;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class UioTest {
    private static final long HUGE = 2L << 20;

    @Test
    void openingAHostDeviceSaysTheModuleIsMissingAndHowToBind() {
        PciSysfs host = new PciSysfs();
        assumeTrue(!host.driverLoaded("uio_pci_generic"), "uio_pci_generic is loaded here");
        List<PciDeviceInfo> bound = host.scan().stream().filter(d -> d.driver() != null).toList();
        assumeTrue(!bound.isEmpty(), "no PCI device with a driver here");
        PciDeviceInfo d = bound.get(0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> UioPciDevice.checkUsable(host, Path.of("/dev"), d.address()));
        assertEquals("cannot open " + d.address() + " with UIO: the uio_pci_generic module is not loaded (as root: "
                + "`modprobe uio_pci_generic`), and " + d.address() + " is bound to " + d.driver() + ", not to "
                + "uio_pci_generic: bind it with `./jnic devbind --bind uio_pci_generic " + d.address()
                + "` (or dpdk-devbind.py -b uio_pci_generic " + d.address() + ")", e.getMessage());
    }

    private static MemorySegment hugepage(int fd) {
        MemorySegment m = Mman.mmap(HUGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        m.set(ValueLayout.JAVA_LONG, 0, 42); // fault it in
        return m;
    }

    @Test
    void physicalAddressesOfHugepagesAreCheckedForDma() {
        TestResources.assumeRoot("reading physical addresses from /proc/self/pagemap");
        // memfd_create(MFD_HUGETLB) succeeds on an empty pool: only mapping a page proves there is one
        TestResources.assumeHugepages(1);
        int fd = Mman.memfdCreate("uio-test", Mman.MFD_CLOEXEC | Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB);
        Io.ftruncate(fd, HUGE);
        MemorySegment m = null;
        try {
            m = hugepage(fd);
            assertEquals(HUGE, PhysicalDma.pageSize(m.address()));
            long phys = Pagemap.physicalAddress(m.address());
            assertEquals(0, phys % HUGE, "a 2 MiB page is 2 MiB-aligned physically");
            assertEquals(phys + 0x1234, Pagemap.physicalAddress(m.address() + 0x1234));
            PhysicalDma.checkPhysical(m, phys);
            PhysicalDma.checkPhysical(m.asSlice(4096, 8192), phys + 4096);
            MemorySegment mm = m;
            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                    () -> PhysicalDma.checkPhysical(mm, phys + HUGE));
            assertEquals("memory at 0x" + Long.toHexString(m.address()) + " is at physical 0x" + Long.toHexString(phys)
                    + ", not 0x" + Long.toHexString(phys + HUGE), wrong.getMessage());
        } finally {
            if (m != null) {
                Mman.munmap(m);
            }
            Io.close(fd);
        }
    }

    @Test
    void smallPagesAreRefusedForPhysicalDma() {
        MemorySegment m = Mman.mmap(8192, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        try {
            m.set(ValueLayout.JAVA_LONG, 0, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PhysicalDma.checkPhysical(m, 0));
            assertEquals("memory at 0x" + Long.toHexString(m.address()) + " is in 4 KiB pages: DMA by physical address "
                    + "needs pinned hugepages (hugetlbfs or MFD_HUGETLB memory)", e.getMessage());
        } finally {
            Mman.munmap(m);
        }
    }
}
