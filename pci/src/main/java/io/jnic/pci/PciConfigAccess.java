package io.jnic.pci;

/**
 * Reads and writes configuration space, whatever carries it: a sysfs {@code config} file, a VFIO config
 * region, a vfio-user socket. {@code PciConfigAccess.of(device)} adapts any {@link PciDevice}, so the
 * capability walk ({@link PciCapabilities}) works for every transport.
 */
public interface PciConfigAccess {
    /** Reads 1, 2 or 4 bytes at {@code offset}, little-endian, zero-extended. */
    int configRead(int offset, int size);

    /** Writes 1, 2 or 4 bytes at {@code offset}, little-endian. */
    void configWrite(int offset, int size, int value);

    /** Bytes of configuration space readable through this access: 256, or 4096 for PCIe extended space. */
    default int configSize() {
        return PciConfig.CONVENTIONAL_SIZE;
    }

    static PciConfigAccess of(PciDevice device) {
        return new PciConfigAccess() {
            @Override
            public int configRead(int offset, int size) {
                return device.configRead(offset, size);
            }

            @Override
            public void configWrite(int offset, int size, int value) {
                device.configWrite(offset, size, value);
            }
        };
    }

    /** Checks an access against the configuration space size and the 1/2/4 byte sizes, naming what is wrong. */
    static void checkAccess(String what, int offset, int size, int configSize) {
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalArgumentException(what + ": config access size must be 1, 2 or 4 bytes, not " + size);
        }
        if (offset < 0 || offset + size > configSize) {
            throw new IllegalArgumentException(what + ": config access of " + size + " bytes at 0x"
                    + Integer.toHexString(offset) + " is outside the " + configSize + "-byte configuration space");
        }
    }
}
