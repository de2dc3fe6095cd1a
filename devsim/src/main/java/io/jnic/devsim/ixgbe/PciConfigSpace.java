package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

/**
 * The 82599 function's PCI configuration space (datasheet 9.3 "PCIe configuration space"): identity,
 * command register, 64-bit BAR0 (128 KB registers) and BAR4 (16 KB MSI-X), and the capability list PM
 * (0x40), MSI (0x50), MSI-X (0x70: 64 vectors, table at BAR4 offset 0, PBA at BAR4 0x2000) and PCIe (0xA0,
 * FLR capable). Writable bits follow a per-byte mask, which also gives BAR sizing its usual behaviour
 * (writing all ones reads back the size mask). The I/O BAR, extended capabilities, power states and the VPD
 * are not modelled.
 */
public final class PciConfigSpace {
    public static final int SIZE = 4096;
    public static final int COMMAND = 0x04;
    public static final int COMMAND_MEMORY = 1 << 1;
    public static final int COMMAND_BUS_MASTER = 1 << 2;
    public static final int CAP_PM = 0x40;
    public static final int CAP_MSI = 0x50;
    public static final int CAP_MSIX = 0x70;
    public static final int CAP_PCIE = 0xA0;

    private final byte[] bytes = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final int lanId;

    public PciConfigSpace(int lanId) {
        this.lanId = lanId;
        reset();
    }

    /** Power-on values (also after FLR). */
    public synchronized void reset() {
        java.util.Arrays.fill(bytes, (byte) 0);
        java.util.Arrays.fill(writable, (byte) 0);
        put16(0x00, PCI_VENDOR_INTEL);
        put16(0x02, PCI_DEVICE_82599_SFP);
        mask(COMMAND, 2, 0x0547); // I/O, memory, bus master, parity, SERR, INTx disable
        put16(0x06, 0x0010); // capabilities list
        bytes[0x08] = 0x01; // revision
        put16(0x0A, 0x0200); // class: network, Ethernet
        mask(0x0C, 2, 0xFFFF); // cache line size, latency timer
        bytes[0x0E] = (byte) 0x80; // multi-function: two LAN functions
        put32(0x10, 0x4); // BAR0: 64-bit memory
        mask(0x10, 4, ~(BAR0_SIZE - 1) & 0xFFFFFFF0);
        mask(0x14, 4, 0xFFFFFFFF);
        put32(0x20, 0x4); // BAR4: 64-bit memory (MSI-X)
        mask(0x20, 4, ~(MSIX_BAR_SIZE - 1) & 0xFFFFFFF0);
        mask(0x24, 4, 0xFFFFFFFF);
        put16(0x2C, PCI_VENDOR_INTEL);
        put16(0x2E, 0x000C);
        bytes[0x34] = (byte) CAP_PM;
        mask(0x3C, 1, 0xFF); // interrupt line
        bytes[0x3D] = (byte) (1 + (lanId & 1)); // INTA# / INTB#
        // PM: version 3
        put16(CAP_PM, 0x01 | CAP_MSI << 8);
        put16(CAP_PM + 2, 0x0003);
        mask(CAP_PM + 4, 2, 0x0003);
        // MSI: 64-bit, per-vector masking, 1 vector
        put16(CAP_MSI, 0x05 | CAP_MSIX << 8);
        put16(CAP_MSI + 2, 0x0180);
        mask(CAP_MSI + 2, 2, 0x0001);
        mask(CAP_MSI + 4, 4, 0xFFFFFFFC);
        mask(CAP_MSI + 8, 4, 0xFFFFFFFF);
        mask(CAP_MSI + 12, 2, 0xFFFF);
        mask(CAP_MSI + 16, 4, 0x1);
        // MSI-X: 64 vectors (N-1), enable and function mask writable
        put16(CAP_MSIX, 0x11 | CAP_PCIE << 8);
        put16(CAP_MSIX + 2, MSIX_VECTORS - 1);
        mask(CAP_MSIX + 2, 2, 0xC000);
        put32(CAP_MSIX + 4, MSIX_TABLE_OFFSET | MSIX_BAR);
        put32(CAP_MSIX + 8, MSIX_PBA_OFFSET | MSIX_BAR);
        // PCIe v2 endpoint; device capabilities: function-level reset
        put16(CAP_PCIE, 0x10);
        put16(CAP_PCIE + 2, 0x0002);
        put32(CAP_PCIE + 4, 1 << 28);
        mask(CAP_PCIE + 8, 2, 0x7FFF); // device control (bit 15: initiate FLR is handled by the transport)
    }

    /** Reads {@code size} (1, 2 or 4) bytes at {@code offset}, little-endian. */
    public synchronized int read(int offset, int size) {
        check(offset, size);
        int v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[offset + i] & 0xFF);
        }
        return v;
    }

    /** Writes {@code size} (1, 2 or 4) bytes at {@code offset}; read-only bits keep their value. */
    public synchronized void write(int offset, int size, int value) {
        check(offset, size);
        for (int i = 0; i < size; i++) {
            int b = (value >>> (8 * i)) & 0xFF;
            int m = writable[offset + i] & 0xFF;
            bytes[offset + i] = (byte) ((bytes[offset + i] & ~m) | (b & m));
        }
    }

    public boolean busMaster() {
        return (read(COMMAND, 2) & COMMAND_BUS_MASTER) != 0;
    }

    private static void check(int offset, int size) {
        if ((size != 1 && size != 2 && size != 4) || offset < 0 || offset > SIZE - size) {
            throw new IllegalArgumentException("config space access of " + size + " bytes at 0x"
                    + Integer.toHexString(offset) + " is outside the " + SIZE + " bytes or not 1, 2 or 4 wide");
        }
    }

    private void put16(int off, int v) {
        bytes[off] = (byte) v;
        bytes[off + 1] = (byte) (v >>> 8);
    }

    private void put32(int off, int v) {
        put16(off, v);
        put16(off + 2, v >>> 16);
    }

    private void mask(int off, int len, int m) {
        for (int i = 0; i < len; i++) {
            writable[off + i] = (byte) (m >>> (8 * i));
        }
    }
}
