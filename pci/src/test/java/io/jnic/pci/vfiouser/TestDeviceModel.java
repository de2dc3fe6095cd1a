package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.VfioUser.*;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small device for the tests: BAR0 of 64 KiB in a memfd with one sparse-mmap page at 0x2000 (trapped
 * accesses elsewhere hit the same memory), BAR2 of 4 KiB trapped only, 256 bytes of config space with
 * vendor/device id, INTx (1 vector) and MSI-X (8 vectors), reset.
 */
final class TestDeviceModel implements VfioUserDeviceModel {
    static final long BAR0_SIZE = 0x10000;
    static final long DOORBELL_OFFSET = 0x2000;
    static final long DOORBELL_SIZE = 0x1000;
    static final long BAR2_SIZE = 0x1000;
    static final int VENDOR_ID = 0x8086;
    static final int DEVICE_ID = 0x10fb;
    static final int MSIX_VECTORS = 8;
    /** BAR2 "DMA engine": writing a value to DMA_GO stores it at the IOVA in DMA_ADDR and raises MSI-X 0. */
    static final long DMA_ADDR_LO = 0x100;
    static final long DMA_ADDR_HI = 0x104;
    static final long DMA_GO = 0x108;
    /** A BAR2 offset whose access the model refuses (to produce an error reply). */
    static final long BAR2_POISON = 0xff0;

    final int bar0Fd;
    final MemorySegment bar0;
    final MemorySegment bar2 = MemorySegment.ofArray(new byte[(int) BAR2_SIZE]);
    final MemorySegment config = MemorySegment.ofArray(new byte[256]);
    final AtomicInteger trappedAccesses = new AtomicInteger();
    final AtomicInteger resets = new AtomicInteger();
    final AtomicInteger connects = new AtomicInteger();
    final AtomicInteger disconnects = new AtomicInteger();
    final List<DmaMemory.Region> mapped = new CopyOnWriteArrayList<>();
    final List<DmaMemory.Region> unmapped = new CopyOnWriteArrayList<>();
    volatile VfioUserServer server;
    /** When set, {@link #region} fails for every index (a model bug). */
    volatile boolean broken;

    TestDeviceModel() {
        bar0Fd = Mman.memfdCreate("test-bar0", Mman.MFD_CLOEXEC);
        Io.ftruncate(bar0Fd, BAR0_SIZE);
        bar0 = Mman.mmap(BAR0_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, bar0Fd, 0);
        config.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) VENDOR_ID);
        config.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2, (short) DEVICE_ID);
    }

    void release() {
        Mman.munmap(bar0);
        Io.close(bar0Fd);
    }

    @Override
    public void attached(VfioUserServer s) {
        this.server = s;
    }

    @Override
    public Region region(int index) {
        if (broken) {
            throw new IllegalStateException("model bug");
        }
        return switch (index) {
            case 0 -> new Region(BAR0_SIZE, REGION_FLAG_READ | REGION_FLAG_WRITE, bar0Fd, 0,
                    List.of(new SparseArea(DOORBELL_OFFSET, DOORBELL_SIZE)));
            case 2 -> Region.trapped(BAR2_SIZE, REGION_FLAG_READ | REGION_FLAG_WRITE);
            case PCI_CONFIG_REGION_INDEX -> Region.trapped(config.byteSize(), REGION_FLAG_READ | REGION_FLAG_WRITE);
            default -> null;
        };
    }

    @Override
    public Irq irq(int index) {
        return switch (index) {
            case PCI_INTX_IRQ_INDEX -> new Irq(IRQ_INFO_EVENTFD, 1);
            case PCI_MSIX_IRQ_INDEX -> new Irq(IRQ_INFO_EVENTFD | IRQ_INFO_NORESIZE, MSIX_VECTORS);
            default -> null;
        };
    }

    private MemorySegment memory(int index) {
        return switch (index) {
            case 0 -> bar0;
            case 2 -> bar2;
            case PCI_CONFIG_REGION_INDEX -> config;
            default -> throw new IllegalStateException("no region " + index);
        };
    }

    @Override
    public void regionRead(int index, long offset, MemorySegment data) {
        trappedAccesses.incrementAndGet();
        if (index == 2 && offset == BAR2_POISON) {
            throw new IllegalArgumentException("register 0xff0 is write-only");
        }
        MemorySegment.copy(memory(index), offset, data, 0, data.byteSize());
    }

    @Override
    public void regionWrite(int index, long offset, MemorySegment data) {
        trappedAccesses.incrementAndGet();
        if (index == 2 && offset == BAR2_POISON) {
            throw new IllegalStateException("device wedged");
        }
        MemorySegment.copy(data, 0, memory(index), offset, data.byteSize());
        if (index == 2 && offset == DMA_GO && data.byteSize() == 4) {
            long iova = Integer.toUnsignedLong(bar2.get(ValueLayout.JAVA_INT_UNALIGNED, DMA_ADDR_LO))
                    | Integer.toUnsignedLong(bar2.get(ValueLayout.JAVA_INT_UNALIGNED, DMA_ADDR_HI)) << 32;
            server.dma().putInt(iova, data.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
            server.trigger(PCI_MSIX_IRQ_INDEX, 0);
        }
    }

    @Override
    public void reset() {
        resets.incrementAndGet();
        bar2.fill((byte) 0);
    }

    @Override
    public void dmaMapped(DmaMemory.Region region) {
        mapped.add(region);
    }

    @Override
    public void dmaUnmapping(DmaMemory.Region region) {
        unmapped.add(region);
    }

    @Override
    public void connected() {
        connects.incrementAndGet();
    }

    @Override
    public void disconnected() {
        disconnects.incrementAndGet();
    }
}
