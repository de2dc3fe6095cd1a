package io.jnic.pci;

/**
 * Type-0 configuration-space header offsets and bits (PCI Local Bus Specification 3.0, section 6.1;
 * PCI Express Base Specification, section 7.5). Offsets are bytes from the start of configuration space.
 */
public final class PciConfig {
    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    /** Programming interface (0x09), sub-class (0x0a), base class (0x0b): read as 3 bytes from 0x09. */
    public static final int CLASS_PROG_IF = 0x09;
    public static final int CLASS_SUB = 0x0a;
    public static final int CLASS_BASE = 0x0b;
    public static final int HEADER_TYPE = 0x0e;
    public static final int BAR0 = 0x10;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2c;
    public static final int SUBSYSTEM_ID = 0x2e;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3c;
    public static final int INTERRUPT_PIN = 0x3d;

    /** Size of the conventional configuration space; PCIe extends it to {@link #EXTENDED_SIZE}. */
    public static final int CONVENTIONAL_SIZE = 0x100;
    public static final int EXTENDED_SIZE = 0x1000;
    /** First extended capability (PCIe section 7.6). */
    public static final int EXTENDED_CAPABILITIES = 0x100;

    // Command register (PCI 3.0 section 6.2.2)
    public static final int COMMAND_IO_SPACE = 1 << 0;
    public static final int COMMAND_MEMORY_SPACE = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int COMMAND_INTX_DISABLE = 1 << 10;

    // Status register (PCI 3.0 section 6.2.3)
    public static final int STATUS_INTERRUPT = 1 << 3;
    public static final int STATUS_CAPABILITIES_LIST = 1 << 4;

    public static final int HEADER_TYPE_MASK = 0x7f;
    public static final int HEADER_TYPE_NORMAL = 0;

    /** Base class 0x02: network controllers (PCI Code and ID Assignment Specification). */
    public static final int CLASS_NETWORK = 0x02;
    public static final int CLASS_STORAGE = 0x01;
    public static final int CLASS_BRIDGE = 0x06;

    private PciConfig() {
    }
}
