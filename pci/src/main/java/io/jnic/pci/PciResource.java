package io.jnic.pci;

/**
 * One line of a device's sysfs {@code resource} file: a BAR (index 0-5) or the expansion ROM (6), with
 * the kernel's IORESOURCE_* flags (include/linux/ioport.h).
 */
public record PciResource(int index, long start, long end, long flags) {
    public static final long IORESOURCE_IO = 0x00000100L;
    public static final long IORESOURCE_MEM = 0x00000200L;
    public static final long IORESOURCE_PREFETCH = 0x00002000L;
    public static final long IORESOURCE_MEM_64 = 0x00100000L;
    public static final int ROM_INDEX = 6;

    /** Bytes the resource spans; 0 for an unused BAR. */
    public long size() {
        return start == 0 && end == 0 ? 0 : end - start + 1;
    }

    public boolean isMemory() {
        return (flags & IORESOURCE_MEM) != 0 && size() > 0;
    }

    public boolean isIo() {
        return (flags & IORESOURCE_IO) != 0 && size() > 0;
    }

    public boolean isPrefetchable() {
        return (flags & IORESOURCE_PREFETCH) != 0;
    }

    public boolean is64Bit() {
        return (flags & IORESOURCE_MEM_64) != 0;
    }

    @Override
    public String toString() {
        String kind = isMemory() ? (is64Bit() ? "mem64" : "mem32") + (isPrefetchable() ? ",prefetch" : "")
                : isIo() ? "io" : "unused";
        return (index == ROM_INDEX ? "ROM" : "BAR" + index) + "[" + kind + " 0x" + Long.toHexString(start)
                + " size 0x" + Long.toHexString(size()) + "]";
    }
}
