package io.jnic.pci;

/**
 * An I/O-port BAR (PCI 3.0 6.2.5.1: bit 0 of the BAR set). User space cannot map port I/O, so every access is a
 * system call (VFIO: pread/pwrite on the device fd at the region's offset; UIO: pread/pwrite on the sysfs
 * {@code resourceN} file, which the kernel turns into inb/outb and friends). Accesses are 1, 2 or 4 bytes,
 * little-endian, at offsets checked against the BAR's size.
 */
public interface PciIoBar {
    /** BAR index (0-5). */
    int index();

    /** Ports the BAR spans. */
    long size();

    int read8(long offset);

    int read16(long offset);

    int read32(long offset);

    void write8(long offset, int value);

    void write16(long offset, int value);

    void write32(long offset, int value);
}
