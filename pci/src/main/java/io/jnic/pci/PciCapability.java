package io.jnic.pci;

/**
 * One capability found by {@link PciCapabilities}: its id, where it sits in configuration space, and raw
 * access relative to that offset through the device's own config access. Offsets passed to the read and
 * write methods are relative to {@link #offset()} and must stay inside configuration space.
 */
public record PciCapability(int id, int offset, boolean extended, int version, PciConfigAccess access) {
    // Standard capability ids (PCI Code and ID Assignment Specification, section 2)
    public static final int ID_POWER_MANAGEMENT = 0x01;
    public static final int ID_VPD = 0x03;
    public static final int ID_MSI = 0x05;
    public static final int ID_PCIX = 0x07;
    public static final int ID_VENDOR_SPECIFIC = 0x09;
    public static final int ID_BRIDGE_SUBSYSTEM_VENDOR = 0x0d;
    public static final int ID_PCI_EXPRESS = 0x10;
    public static final int ID_MSIX = 0x11;
    public static final int ID_SATA = 0x12;
    public static final int ID_ADVANCED_FEATURES = 0x13;
    public static final int ID_ENHANCED_ALLOCATION = 0x14;

    // Extended capability ids (same document, section 3)
    public static final int EXT_ID_AER = 0x0001;
    public static final int EXT_ID_VIRTUAL_CHANNEL = 0x0002;
    public static final int EXT_ID_SERIAL_NUMBER = 0x0003;
    public static final int EXT_ID_POWER_BUDGETING = 0x0004;
    public static final int EXT_ID_VENDOR_SPECIFIC = 0x000b;
    public static final int EXT_ID_ACS = 0x000d;
    public static final int EXT_ID_ARI = 0x000e;
    public static final int EXT_ID_ATS = 0x000f;
    public static final int EXT_ID_SRIOV = 0x0010;
    public static final int EXT_ID_LTR = 0x0018;
    public static final int EXT_ID_SECONDARY_PCIE = 0x0019;

    /** A short name for listings, e.g. "MSI-X" or "ext 0x1d". */
    public String name() {
        if (extended) {
            return switch (id) {
                case EXT_ID_AER -> "AER";
                case EXT_ID_VIRTUAL_CHANNEL -> "Virtual Channel";
                case EXT_ID_SERIAL_NUMBER -> "Device Serial Number";
                case EXT_ID_POWER_BUDGETING -> "Power Budgeting";
                case EXT_ID_VENDOR_SPECIFIC -> "Vendor-Specific Extended";
                case EXT_ID_ACS -> "ACS";
                case EXT_ID_ARI -> "ARI";
                case EXT_ID_ATS -> "ATS";
                case EXT_ID_SRIOV -> "SR-IOV";
                case EXT_ID_LTR -> "LTR";
                case EXT_ID_SECONDARY_PCIE -> "Secondary PCIe";
                default -> "ext 0x" + Integer.toHexString(id);
            };
        }
        return switch (id) {
            case ID_POWER_MANAGEMENT -> "Power Management";
            case ID_VPD -> "VPD";
            case ID_MSI -> "MSI";
            case ID_PCIX -> "PCI-X";
            case ID_VENDOR_SPECIFIC -> "Vendor-Specific";
            case ID_BRIDGE_SUBSYSTEM_VENDOR -> "Bridge Subsystem Vendor";
            case ID_PCI_EXPRESS -> "PCI Express";
            case ID_MSIX -> "MSI-X";
            case ID_SATA -> "SATA";
            case ID_ADVANCED_FEATURES -> "Advanced Features";
            case ID_ENHANCED_ALLOCATION -> "Enhanced Allocation";
            default -> "cap 0x" + Integer.toHexString(id);
        };
    }

    public int read8(int rel) {
        return access.configRead(at(rel, 1), 1);
    }

    public int read16(int rel) {
        return access.configRead(at(rel, 2), 2);
    }

    public int read32(int rel) {
        return access.configRead(at(rel, 4), 4);
    }

    public void write8(int rel, int value) {
        access.configWrite(at(rel, 1), 1, value);
    }

    public void write16(int rel, int value) {
        access.configWrite(at(rel, 2), 2, value);
    }

    public void write32(int rel, int value) {
        access.configWrite(at(rel, 4), 4, value);
    }

    /** Copies {@code length} bytes starting at {@code rel} (e.g. a vendor-specific capability's body). */
    public byte[] readBytes(int rel, int length) {
        at(rel, length);
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) access.configRead(offset + rel + i, 1);
        }
        return b;
    }

    /** Length byte of a vendor-specific capability (offset 2, counting its header). */
    public int vendorLength() {
        requireId(ID_VENDOR_SPECIFIC, false);
        return read8(2);
    }

    public Msix asMsix() {
        requireId(ID_MSIX, false);
        return new Msix(this);
    }

    public Msi asMsi() {
        requireId(ID_MSI, false);
        return new Msi(this);
    }

    public PciExpress asPciExpress() {
        requireId(ID_PCI_EXPRESS, false);
        return new PciExpress(this);
    }

    @Override
    public String toString() {
        return name() + "@0x" + Integer.toHexString(offset);
    }

    private int at(int rel, int size) {
        int limit = extended ? PciConfig.EXTENDED_SIZE : PciConfig.CONVENTIONAL_SIZE;
        if (rel < 0 || size < 0 || offset + rel + size > limit) {
            throw new IllegalArgumentException(this + ": " + size + " bytes at +" + rel
                    + " fall outside configuration space (" + limit + " bytes)");
        }
        return offset + rel;
    }

    private void requireId(int wanted, boolean ext) {
        if (id != wanted || extended != ext) {
            throw new IllegalStateException("capability " + this + " is not " + new PciCapability(wanted, 0, ext, 0, access).name());
        }
    }

    /** MSI-X capability (PCI 3.0 section 6.8.2): table and pending-bit array locations. */
    public record Msix(PciCapability cap) {
        public static final int MESSAGE_CONTROL = 0x02;
        public static final int TABLE = 0x04;
        public static final int PBA = 0x08;
        public static final int CONTROL_TABLE_SIZE_MASK = 0x7ff;
        public static final int CONTROL_FUNCTION_MASK = 1 << 14;
        public static final int CONTROL_ENABLE = 1 << 15;
        public static final int BIR_MASK = 0x7;
        /** Each table entry: message address (8), data (4), vector control (4). */
        public static final int ENTRY_SIZE = 16;

        /** Number of vectors (table size field + 1). */
        public int tableSize() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_TABLE_SIZE_MASK) + 1;
        }

        public boolean enabled() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_ENABLE) != 0;
        }

        public boolean functionMasked() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_FUNCTION_MASK) != 0;
        }

        public int tableBir() {
            return cap.read32(TABLE) & BIR_MASK;
        }

        public long tableOffset() {
            return cap.read32(TABLE) & ~BIR_MASK & 0xffffffffL;
        }

        public int pbaBir() {
            return cap.read32(PBA) & BIR_MASK;
        }

        public long pbaOffset() {
            return cap.read32(PBA) & ~BIR_MASK & 0xffffffffL;
        }
    }

    /** MSI capability (PCI 3.0 section 6.8.1). */
    public record Msi(PciCapability cap) {
        public static final int MESSAGE_CONTROL = 0x02;
        public static final int CONTROL_ENABLE = 1 << 0;
        public static final int CONTROL_MULTI_CAPABLE_SHIFT = 1;
        public static final int CONTROL_MULTI_ENABLE_SHIFT = 4;
        public static final int CONTROL_64BIT = 1 << 7;
        public static final int CONTROL_PER_VECTOR_MASK = 1 << 8;

        public boolean enabled() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_ENABLE) != 0;
        }

        /** Vectors the function can request: 1, 2, 4, 8, 16 or 32. */
        public int vectorsCapable() {
            return 1 << ((cap.read16(MESSAGE_CONTROL) >> CONTROL_MULTI_CAPABLE_SHIFT) & 0x7);
        }

        public boolean is64Bit() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_64BIT) != 0;
        }

        public boolean perVectorMasking() {
            return (cap.read16(MESSAGE_CONTROL) & CONTROL_PER_VECTOR_MASK) != 0;
        }
    }

    /** PCI Express capability (PCIe Base Specification section 7.5.3). */
    public record PciExpress(PciCapability cap) {
        public static final int CAPABILITIES = 0x02;
        public static final int DEVICE_CAPABILITIES = 0x04;
        public static final int DEVICE_CONTROL = 0x08;
        public static final int DEVICE_STATUS = 0x0a;
        public static final int LINK_CAPABILITIES = 0x0c;
        public static final int LINK_STATUS = 0x12;
        public static final int TYPE_ENDPOINT = 0x0;
        public static final int TYPE_LEGACY_ENDPOINT = 0x1;
        public static final int TYPE_ROOT_PORT = 0x4;
        public static final int TYPE_ROOT_COMPLEX_INTEGRATED = 0x9;
        /** Device capabilities bit 28: function-level reset supported. */
        public static final int DEVCAP_FLR = 1 << 28;

        public int capabilityVersion() {
            return cap.read16(CAPABILITIES) & 0xf;
        }

        /** Device/port type (bits 7:4): endpoint, legacy endpoint, root port, ... */
        public int deviceType() {
            return (cap.read16(CAPABILITIES) >> 4) & 0xf;
        }

        public boolean functionLevelReset() {
            return (cap.read32(DEVICE_CAPABILITIES) & DEVCAP_FLR) != 0;
        }

        /** Current link speed code (1 = 2.5 GT/s, 2 = 5, 3 = 8, 4 = 16 GT/s). */
        public int linkSpeed() {
            return cap.read16(LINK_STATUS) & 0xf;
        }

        public int linkWidth() {
            return (cap.read16(LINK_STATUS) >> 4) & 0x3f;
        }
    }
}
