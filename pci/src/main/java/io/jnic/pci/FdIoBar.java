package io.jnic.pci;

import io.jnic.sys.Io;
import io.jnic.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A {@link PciIoBar} reached through a file descriptor: each access is one pread/pwrite of exactly 1, 2 or 4 bytes
 * at {@code base + offset} (VFIO's device fd at the region offset, or the sysfs {@code resourceN} file of an I/O
 * BAR, whose read/write handler does the port access, drivers/pci/pci-sysfs.c pci_resource_io). Thread-safe (one
 * small buffer, accesses serialized); no allocation per access.
 */
public final class FdIoBar implements PciIoBar {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final int index;
    private final long size;
    private final int fd;
    private final long base;
    private final MemorySegment buf = Arena.ofAuto().allocate(4, 4);

    /**
     * @param name  the device, for messages
     * @param fd    where the accesses go (not closed by this object)
     * @param base  file offset of the BAR's port 0
     * @param size  ports in the BAR
     */
    public FdIoBar(String name, int index, long size, int fd, long base) {
        if (size <= 0) {
            throw new IllegalArgumentException(name + " BAR" + index + ": I/O BAR size must be positive, not " + size);
        }
        this.name = name;
        this.index = index;
        this.size = size;
        this.fd = fd;
        this.base = base;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int read8(long offset) {
        return read(offset, 1) & 0xFF;
    }

    @Override
    public int read16(long offset) {
        return read(offset, 2) & 0xFFFF;
    }

    @Override
    public int read32(long offset) {
        return read(offset, 4);
    }

    @Override
    public void write8(long offset, int value) {
        write(offset, 1, value);
    }

    @Override
    public void write16(long offset, int value) {
        write(offset, 2, value);
    }

    @Override
    public void write32(long offset, int value) {
        write(offset, 4, value);
    }

    private void check(long offset, int width) {
        if (offset < 0 || offset > size - width) {
            throw new IndexOutOfBoundsException(name + " I/O BAR" + index + ": a " + width + "-byte access at 0x"
                    + Long.toHexString(offset) + " lies outside its 0x" + Long.toHexString(size) + " ports");
        }
    }

    private synchronized int read(long offset, int width) {
        check(offset, width);
        buf.set(U32, 0, 0);
        long n;
        try {
            n = Io.pread(fd, buf, width, base + offset);
        } catch (SysException e) {
            throw failure("read", offset, width, e);
        }
        if (n != width) {
            throw new IllegalStateException(name + " I/O BAR" + index + ": " + width + "-byte read at 0x"
                    + Long.toHexString(offset) + " returned " + n + " bytes");
        }
        return switch (width) {
            case 1 -> buf.get(ValueLayout.JAVA_BYTE, 0);
            case 2 -> buf.get(U16, 0);
            default -> buf.get(U32, 0);
        };
    }

    private synchronized void write(long offset, int width, int value) {
        check(offset, width);
        buf.set(U32, 0, value);
        long n;
        try {
            n = Io.pwrite(fd, buf, width, base + offset);
        } catch (SysException e) {
            throw failure("write", offset, width, e);
        }
        if (n != width) {
            throw new IllegalStateException(name + " I/O BAR" + index + ": " + width + "-byte write at 0x"
                    + Long.toHexString(offset) + " wrote " + n + " bytes");
        }
    }

    private IllegalStateException failure(String what, long offset, int width, SysException e) {
        return new IllegalStateException(name + " I/O BAR" + index + ": " + width + "-byte " + what + " at 0x"
                + Long.toHexString(offset) + " failed (" + e.getMessage() + "); the kernel must allow port access"
                + " through this file (Linux: VFIO region or sysfs resourceN of an I/O BAR, not under lockdown)", e);
    }

    @Override
    public String toString() {
        return name + " I/O BAR" + index + " (0x" + Long.toHexString(size) + " ports)";
    }
}
