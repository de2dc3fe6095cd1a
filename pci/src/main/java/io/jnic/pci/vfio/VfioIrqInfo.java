package io.jnic.pci.vfio;

/** VFIO_DEVICE_GET_IRQ_INFO for one IRQ index: how many vectors and how they behave. */
public record VfioIrqInfo(int index, int flags, int count) {
    public boolean eventfd() {
        return (flags & Vfio.VFIO_IRQ_INFO_EVENTFD) != 0;
    }

    public boolean maskable() {
        return (flags & Vfio.VFIO_IRQ_INFO_MASKABLE) != 0;
    }

    /** INTx: the kernel masks the line when it fires; the driver unmasks it after handling. */
    public boolean automasked() {
        return (flags & Vfio.VFIO_IRQ_INFO_AUTOMASKED) != 0;
    }

    public boolean noResize() {
        return (flags & Vfio.VFIO_IRQ_INFO_NORESIZE) != 0;
    }
}
