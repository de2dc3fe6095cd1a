package io.jnic.pci;

import java.lang.foreign.MemorySegment;

/**
 * A PCI function as a driver sees it, whatever carries it: VFIO, UIO or a vfio-user socket. Drivers see
 * only this interface, so the same driver runs on real hardware and on a devsim model.
 *
 * <p>Control-path calls (config space, trapped BAR accesses, DMA mapping, interrupts) may be slow; the data
 * path uses {@link PciBar#mapped} views of doorbell registers and DMA memory mapped by {@link #dmaMap}.
 */
public interface PciDevice extends AutoCloseable {
    /** A name for messages: the PCI address, or the vfio-user socket path. */
    String name();

    /** "vfio", "uio", "vfio-user". */
    String transport();

    /** How the device addresses memory: IOVAs this process maps, or physical addresses. */
    DmaAddressing dmaAddressing();

    /** Reads 1, 2 or 4 bytes of configuration space, little-endian. */
    int configRead(int offset, int size);

    /** Writes 1, 2 or 4 bytes of configuration space, little-endian. */
    void configWrite(int offset, int size, int value);

    /** BAR {@code index} (0-5); an exception naming the device when it has no such memory BAR. */
    PciBar bar(int index);

    /**
     * I/O-port BAR {@code index} (0-5), reached by a system call per access (control path; legacy virtio).
     * Transports that cannot reach port I/O throw; an exception names the device when the BAR is not an I/O BAR.
     */
    default PciIoBar ioBar(int index) {
        throw new UnsupportedOperationException(name() + " (" + transport() + ") offers no access to I/O-port BARs;"
                + " use VFIO or UIO");
    }

    /**
     * Makes {@code memory} (backed by {@code fd} at {@code fdOffset}, which a vfio-user server maps itself)
     * reachable by the device at {@code iova}. For physical addressing the IOVA is the physical address
     * and nothing needs mapping.
     */
    void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova);

    void dmaUnmap(long iova, long size);

    /** How many vectors the device offers of {@code type} (0 when it has none). */
    int interruptCount(InterruptType type);

    /**
     * Routes {@code eventfds.length} vectors of {@code type}, starting at 0, to the given eventfds: the
     * device's interrupts then increment them.
     */
    void enableInterrupts(InterruptType type, int[] eventfds);

    void disableInterrupts(InterruptType type);

    /**
     * Re-enables INTx after the driver handled one: VFIO and uio_pci_generic mask the line each time it
     * fires (it is level-triggered). Transports that cannot do this throw.
     */
    default void unmaskIntx() {
        throw new UnsupportedOperationException(name() + " (" + transport() + ") cannot unmask INTx");
    }

    /**
     * How another process maps this device's BAR {@code bar} (its mappable parts) from a descriptor this process
     * sends it. Transports whose BARs cannot be handed over throw, saying so.
     */
    default BarHandover handOverBar(int bar) {
        throw new UnsupportedOperationException(name() + " is on transport '" + transport() + "', whose BARs cannot be "
                + "handed to another process (vfio-user, vfio and uio can)");
    }

    /**
     * A name another process can {@link #reopen} this device by while this process is gone, or null: only a device
     * that outlives its client and serves one client at a time after another can be (a vfio-user socket); the kernel
     * lets one process open a VFIO group, and UIO's interrupts and config space are the opener's.
     */
    default String reopenName() {
        return null;
    }

    /** Opens the device a {@link #reopenName()} names; an exception says why when nothing serves it now. */
    static PciDevice reopen(String name) {
        if (name.startsWith(io.jnic.pci.vfiouser.VfioUserDevice.REOPEN_PREFIX)) {
            return io.jnic.pci.vfiouser.VfioUserDevice.connect(
                    java.nio.file.Path.of(name.substring(io.jnic.pci.vfiouser.VfioUserDevice.REOPEN_PREFIX.length())));
        }
        throw new IllegalArgumentException("'" + name + "' names no device another process can open (only vfio-user:"
                + "SOCKET does)");
    }

    /** Function-level reset. */
    void reset();

    @Override
    void close();

    /** Interrupt kinds, in the order VFIO numbers its IRQ indices. */
    enum InterruptType { INTX, MSI, MSIX }

    /** What the device puts on the bus when it does DMA. */
    enum DmaAddressing {
        /** Addresses this process chose and mapped through an IOMMU (VFIO type1, vfio-user, vhost-user). */
        IOVA,
        /** Physical addresses (UIO, VFIO no-IOMMU): memory must be pinned hugepages. */
        PHYSICAL
    }
}
