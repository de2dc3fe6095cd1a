package io.jnic.pci.vfiouser;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * What a device emulation implements to be served by {@link VfioUserServer}. The server decodes and
 * validates every request before it calls in here: region accesses lie inside the region and match its
 * READ/WRITE flags, IRQ ranges lie inside the IRQ's count, DMA regions are already mapped (see
 * {@link VfioUserServer#dma()}). Calls come from the server thread, one at a time; a model that runs its
 * own threads synchronises with them itself. A callback that throws makes the server answer with an error
 * (IllegalArgumentException / IndexOutOfBoundsException: EINVAL, UnsupportedOperationException:
 * EOPNOTSUPP, anything else: EIO); the server keeps serving.
 */
public interface VfioUserDeviceModel {
    /** Called once by the server's constructor, so the model can keep the server (DMA, interrupts). */
    default void attached(VfioUserServer server) {
    }

    /** VFIO_DEVICE_FLAGS_*: PCI, and RESET when {@link #reset()} is supported. */
    default int deviceFlags() {
        return VfioUser.DEVICE_FLAGS_PCI | VfioUser.DEVICE_FLAGS_RESET;
    }

    default int regionCount() {
        return VfioUser.PCI_NUM_REGIONS;
    }

    /** Region {@code index} (BARs 0-5, ROM 6, config 7, VGA 8), or null when the device has none there. */
    Region region(int index);

    default int irqCount() {
        return VfioUser.PCI_NUM_IRQS;
    }

    /** IRQ type {@code index} (INTx 0, MSI 1, MSI-X 2, ERR 3, REQ 4), or null when the device has none. */
    Irq irq(int index);

    /** Fills {@code data} (its size is the access size) from {@code offset} of region {@code index}. */
    void regionRead(int index, long offset, MemorySegment data);

    /** Writes {@code data} at {@code offset} of region {@code index}. */
    void regionWrite(int index, long offset, MemorySegment data);

    /** Function-level reset (VFIO_USER_DEVICE_RESET). */
    void reset();

    /** The client routed or unrouted vectors of IRQ {@code index} (see {@link VfioUserServer#trigger}). */
    default void interruptsChanged(int index) {
    }

    /** MASK/UNMASK actions of VFIO_USER_DEVICE_SET_IRQS; unsupported unless overridden. */
    default void maskInterrupt(int index, int vector, boolean masked) {
        throw new UnsupportedOperationException("interrupt masking");
    }

    /**
     * A DMA region was added (already in {@link VfioUserServer#dma()}). A region the client mapped without a
     * descriptor is not {@link DmaMemory.Region#mapped()}: reach it through {@link DmaMemory}'s accessors or
     * {@link VfioUserServer#dmaRead} / {@link VfioUserServer#dmaWrite} from the model's own threads.
     */
    default void dmaMapped(DmaMemory.Region region) {
    }

    /** A DMA region is about to be removed: stop using it before returning (spec: release all references). */
    default void dmaUnmapping(DmaMemory.Region region) {
    }

    /** A client finished version negotiation. */
    default void connected() {
    }

    /**
     * The client went away; its eventfds are gone. Device state and DMA regions are kept: the device keeps
     * running for the processes that share the client's memory, until a new client replaces the regions or
     * the device is reset (see {@link VfioUserServer}).
     */
    default void disconnected() {
    }

    /**
     * A device region: {@code size} bytes with VFIO_REGION_INFO_FLAG_READ/WRITE in {@code flags}; when
     * {@code fd >= 0} the parts in {@code sparseAreas} (or the whole region when the list is empty) may be
     * mmapped by the client from {@code fd} at {@code fdOffset} + area offset. The server sends {@code fd}
     * with every region-info reply and never closes it: the model owns it.
     */
    record Region(long size, int flags, int fd, long fdOffset, List<SparseArea> sparseAreas) {
        public Region {
            sparseAreas = List.copyOf(sparseAreas);
            if (size < 0) {
                throw new IllegalArgumentException("region size " + size);
            }
            for (SparseArea a : sparseAreas) {
                if (a.end() > size) {
                    throw new IllegalArgumentException("sparse area " + a + " outside the region of " + size + " bytes");
                }
            }
            if (!sparseAreas.isEmpty() && fd < 0) {
                throw new IllegalArgumentException("sparse areas need a descriptor to map");
            }
        }

        /** A region accessed only through messages. */
        public static Region trapped(long size, int flags) {
            return new Region(size, flags, -1, 0, List.of());
        }
    }

    /** An IRQ type: VFIO_IRQ_INFO_* flags and the number of vectors. */
    record Irq(int flags, int count) {
        public Irq {
            if (count < 0) {
                throw new IllegalArgumentException("irq count " + count);
            }
        }
    }
}
