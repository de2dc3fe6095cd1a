package io.jnic.pci;

import io.jnic.sys.Io;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Configuration space through a device's sysfs {@code config} file (pread/pwrite at the register offset).
 * Works for any bound or unbound device; writes need root and a writable open. The file is 256 bytes, or
 * 4096 for PCIe functions (root only: others see just the first 64).
 */
public final class SysfsConfig implements PciConfigAccess, AutoCloseable {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final Path path;
    private final int fd;
    private final boolean writable;
    private final int size;
    private final MemorySegment buf = Arena.ofAuto().allocate(8, 8);

    private SysfsConfig(Path path, boolean writable) {
        this.path = path;
        this.writable = writable;
        try {
            this.size = (int) Math.min(Files.size(path), PciConfig.EXTENDED_SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the configuration space of " + path.getParent()
                    + " (" + path + ")", e);
        }
        this.fd = Io.open(path.toString(), (writable ? Io.O_RDWR : Io.O_RDONLY) | Io.O_CLOEXEC);
    }

    public static SysfsConfig openReadOnly(PciSysfs sysfs, PciAddress address) {
        return new SysfsConfig(sysfs.device(address).sysfsPath().resolve("config"), false);
    }

    public static SysfsConfig open(PciSysfs sysfs, PciAddress address) {
        return new SysfsConfig(sysfs.device(address).sysfsPath().resolve("config"), true);
    }

    /** Opens a config file by path (e.g. a copy of one, for offline analysis). */
    public static SysfsConfig openFile(Path configFile, boolean writable) {
        return new SysfsConfig(configFile, writable);
    }

    @Override
    public int configSize() {
        return size;
    }

    @Override
    public synchronized int configRead(int offset, int size) {
        PciConfigAccess.checkAccess(path.toString(), offset, size, this.size);
        buf.set(U32, 0, 0);
        long n = Io.pread(fd, buf, size, offset);
        if (n != size) {
            throw new IllegalStateException("short read of " + path + ": " + n + " of " + size + " bytes at 0x"
                    + Integer.toHexString(offset));
        }
        return buf.get(U32, 0);
    }

    @Override
    public synchronized void configWrite(int offset, int size, int value) {
        PciConfigAccess.checkAccess(path.toString(), offset, size, this.size);
        if (!writable) {
            throw new IllegalStateException(path + " was opened read-only; open it with SysfsConfig.open to write");
        }
        buf.set(U32, 0, value);
        long n = Io.pwrite(fd, buf, size, offset);
        if (n != size) {
            throw new IllegalStateException("short write to " + path + ": " + n + " of " + size + " bytes at 0x"
                    + Integer.toHexString(offset));
        }
    }

    @Override
    public void close() {
        Io.close(fd);
    }
}
