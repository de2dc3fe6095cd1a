package io.jnic.devsim;

import static io.jnic.pci.vfiouser.VfioUser.*;

import io.jnic.devsim.ixgbe.Ixgbe82599;
import io.jnic.devsim.ixgbe.IxgbeRegs;
import io.jnic.devsim.ixgbe.PciConfigSpace;
import io.jnic.pci.vfiouser.DmaMemory;
import io.jnic.pci.vfiouser.SparseArea;
import io.jnic.pci.vfiouser.VfioUserDeviceModel;
import io.jnic.pci.vfiouser.VfioUserServer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves one {@link Ixgbe82599} port over vfio-user: BAR0 (region 0) from the model's memfd with the queue
 * pages as sparse mmap areas, BAR4 (MSI-X table and PBA) and the configuration space (region 7) trapped;
 * INTx, MSI and 64 MSI-X vectors as eventfds; the client's DMA_MAP regions become the model's DMA windows.
 * The command register's Bus Master Enable gates DMA, as on PCIe: a driver must set it.
 *
 * <p>The device outlives its client: when the client goes, the port keeps running on the DMA windows it
 * has (secondaries that share the client's memory keep forwarding), and a new client may adopt it as it is.
 * A reset it sees (CTRL.RST, FLR, VFIO_USER_DEVICE_RESET) means a new driver owns it: the windows of
 * departed clients are dropped then ({@link VfioUserServer#dropStaleDma()}).
 */
public final class IxgbeVfioUserModel implements VfioUserDeviceModel {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int RW = REGION_FLAG_READ | REGION_FLAG_WRITE;

    private final Ixgbe82599 device;
    private final DmaMap dma;
    private final PciConfigSpace config;
    private volatile VfioUserServer server;

    /** {@code device} must have been built over {@code dma}, which this adapter fills from DMA_MAP. */
    public IxgbeVfioUserModel(Ixgbe82599 device, DmaMap dma) {
        this.device = device;
        this.dma = dma;
        this.config = new PciConfigSpace(device.lanId());
        device.setBusMaster(false);
    }

    public PciConfigSpace config() {
        return config;
    }

    @Override
    public void attached(VfioUserServer s) {
        this.server = s;
        device.setInterruptSink(new io.jnic.devsim.InterruptSink() {
            @Override
            public void msix(int vector) {
                s.trigger(PCI_MSIX_IRQ_INDEX, vector);
            }

            @Override
            public void legacy() {
                if (!s.trigger(PCI_MSI_IRQ_INDEX, 0)) {
                    s.trigger(PCI_INTX_IRQ_INDEX, 0);
                }
            }
        });
    }

    @Override
    public Region region(int index) {
        return switch (index) {
            case PCI_BAR0_REGION_INDEX -> {
                List<SparseArea> areas = new ArrayList<>();
                for (long[] p : Ixgbe82599.queuePages()) {
                    areas.add(new SparseArea(p[0], p[1]));
                }
                yield new Region(IxgbeRegs.BAR0_SIZE, RW, device.bar0Fd(), 0, areas);
            }
            case IxgbeRegs.MSIX_BAR -> Region.trapped(IxgbeRegs.MSIX_BAR_SIZE, RW);
            case PCI_CONFIG_REGION_INDEX -> Region.trapped(PciConfigSpace.SIZE, RW);
            default -> null;
        };
    }

    @Override
    public Irq irq(int index) {
        return switch (index) {
            case PCI_INTX_IRQ_INDEX, PCI_MSI_IRQ_INDEX -> new Irq(IRQ_INFO_EVENTFD, 1);
            case PCI_MSIX_IRQ_INDEX -> new Irq(IRQ_INFO_EVENTFD | IRQ_INFO_NORESIZE, IxgbeRegs.MSIX_VECTORS);
            default -> null;
        };
    }

    @Override
    public void regionRead(int index, long offset, MemorySegment data) {
        int size = (int) data.byteSize();
        switch (index) {
            case PCI_CONFIG_REGION_INDEX -> {
                for (int done = 0; done < size; ) {
                    int n = Math.min(4, size - done);
                    n = n == 3 ? 2 : n;
                    int v = config.read((int) offset + done, n);
                    for (int i = 0; i < n; i++) {
                        data.set(ValueLayout.JAVA_BYTE, done + i, (byte) (v >>> (8 * i)));
                    }
                    done += n;
                }
            }
            case PCI_BAR0_REGION_INDEX, IxgbeRegs.MSIX_BAR -> {
                dwords(index, offset, size);
                for (int i = 0; i < size; i += 4) {
                    int v = index == 0 ? device.read32(offset + i) : device.readMsix32(offset + i);
                    data.set(LE_INT, i, v);
                }
            }
            default -> throw new IllegalArgumentException("region " + index + " does not exist");
        }
    }

    @Override
    public void regionWrite(int index, long offset, MemorySegment data) {
        int size = (int) data.byteSize();
        switch (index) {
            case PCI_CONFIG_REGION_INDEX -> {
                for (int done = 0; done < size; ) {
                    int n = Math.min(4, size - done);
                    n = n == 3 ? 2 : n;
                    int v = 0;
                    for (int i = n - 1; i >= 0; i--) {
                        v = (v << 8) | (data.get(ValueLayout.JAVA_BYTE, done + i) & 0xFF);
                    }
                    int at = (int) offset + done;
                    config.write(at, n, v);
                    int devctl = PciConfigSpace.CAP_PCIE + 8;
                    if (at <= devctl + 1 && at + n > devctl + 1 && ((v >>> (8 * (devctl + 1 - at))) & 0x80) != 0) {
                        reset(); // Device Control: Initiate Function Level Reset
                    }
                    done += n;
                }
                device.setBusMaster(config.busMaster());
            }
            case PCI_BAR0_REGION_INDEX, IxgbeRegs.MSIX_BAR -> {
                dwords(index, offset, size);
                boolean globalReset = false;
                for (int i = 0; i < size; i += 4) {
                    int v = data.get(LE_INT, i);
                    if (index == 0) {
                        device.write32(offset + i, v);
                        globalReset |= offset + i == IxgbeRegs.CTRL && (v & IxgbeRegs.CTRL_RST) != 0;
                    } else {
                        device.writeMsix32(offset + i, v);
                    }
                }
                if (globalReset) {
                    dropStaleDma();
                }
            }
            default -> throw new IllegalArgumentException("region " + index + " does not exist");
        }
    }

    private static void dwords(int index, long offset, int size) {
        if ((size != 4 && size != 8) || (offset & 3) != 0) {
            throw new IllegalArgumentException("BAR" + index + " of the 82599 takes 32- or 64-bit aligned accesses, not "
                    + size + " bytes at 0x" + Long.toHexString(offset));
        }
    }

    @Override
    public void reset() {
        config.reset();
        device.setBusMaster(false);
        device.functionLevelReset();
        dropStaleDma();
    }

    private void dropStaleDma() {
        VfioUserServer s = server;
        if (s != null) {
            s.dropStaleDma(); // outside the device's lock: the server calls dmaUnmapping, which takes it
        }
    }

    @Override
    public void dmaMapped(DmaMemory.Region region) {
        if (region.mapped()) {
            dma.map(region.iova(), region.segment());
            return;
        }
        // mapped without a descriptor (QEMU does so for ROM and BAR ranges): reached through the server's
        // DMA_READ / DMA_WRITE messages, from the device thread (never from the server thread, which reads
        // the replies); rings there are refused by the model, buffers work, one round trip per copy
        VfioUserServer s = server;
        dma.map(new DmaWindow(region.iova(), region.size(), region.writable(), new DmaWindow.Remote() {
            @Override
            public void read(long iova, MemorySegment dst, long dstOffset, long length) {
                s.dmaRead(iova, dst, dstOffset, length);
            }

            @Override
            public void write(long iova, MemorySegment src, long srcOffset, long length) {
                s.dmaWrite(iova, src, srcOffset, length);
            }
        }));
    }

    @Override
    public void dmaUnmapping(DmaMemory.Region region) {
        synchronized (device) { // the device thread is between turns: after this nothing uses the window
            device.dmaUnmapping(region.iova(), region.size());
            dma.unmap(region.iova(), region.size());
        }
    }

    /** False when the client shrank the memory behind one of its DMA regions (the device's accesses fault). */
    public boolean dmaIntact() {
        VfioUserServer s = server;
        if (s == null) {
            return true;
        }
        for (DmaMemory.Region r : s.dma().regions()) {
            if (!r.intact()) {
                return false;
            }
        }
        return true;
    }

    public VfioUserServer server() {
        return server;
    }
}
