package io.jnic.devsim.ixgbe;

import java.nio.charset.StandardCharsets;

/**
 * An SFP+ optical module in the port's cage: its serial ID EEPROM at I2C address 0xA0 (SFF-8472 table 4-1, the
 * base ID fields, bytes 0-95), identifying a 10GBASE-SR, 850 nm, LC module. It has no digital diagnostics (byte 92
 * = 0), so nothing answers at 0xA2. Whether it is plugged in is {@link #present()} (the cage's MOD_ABS pin, which
 * the 82599 SFP boards wire to SDP2).
 */
public final class SfpModule {
    public static final int I2C_ADDRESS = 0xA0;

    // SFF-8472 base ID field offsets (the ones drivers read)
    public static final int IDENTIFIER = 0;
    public static final int EXT_IDENTIFIER = 1;
    public static final int CONNECTOR = 2;
    /** Transceiver compliance codes start here; byte 3 bits 7:4 are the 10G Ethernet codes. */
    public static final int COMPLIANCE_10G = 3;
    public static final int COMPLIANCE_1G = 6;
    public static final int CABLE_TECHNOLOGY = 8;
    public static final int ENCODING = 11;
    public static final int BR_NOMINAL = 12;
    public static final int LENGTH_OM2 = 16;
    public static final int LENGTH_OM1 = 17;
    public static final int LENGTH_OM3 = 19;
    public static final int VENDOR_NAME = 20;
    public static final int VENDOR_OUI = 37;
    public static final int VENDOR_PN = 40;
    public static final int VENDOR_REV = 56;
    public static final int WAVELENGTH = 60;
    public static final int CC_BASE = 63;
    public static final int OPTIONS = 64;
    public static final int VENDOR_SN = 68;
    public static final int DATE_CODE = 84;
    public static final int DIAGNOSTIC_TYPE = 92;
    public static final int SFF8472_COMPLIANCE = 94;
    public static final int CC_EXT = 95;

    public static final int IDENTIFIER_SFP = 0x03;
    public static final int CONNECTOR_LC = 0x07;
    public static final int COMPLIANCE_10GBASE_SR = 1 << 4;
    public static final int COMPLIANCE_10GBASE_LR = 1 << 5;
    public static final int ENCODING_64B66B = 0x06;
    public static final String VENDOR = "Intel Corp";
    /** Intel's OUI 00-1B-21: drivers that enforce supported modules accept it. */
    public static final int[] OUI_INTEL = {0x00, 0x1B, 0x21};
    public static final String PART_NUMBER = "FTLX8571D3BCV-IT";

    private final byte[] rom = new byte[256];
    private volatile boolean present = true;

    /** A 10GBASE-SR module with serial number {@code serial} (up to 16 ASCII characters). */
    public SfpModule(String serial) {
        rom[IDENTIFIER] = IDENTIFIER_SFP;
        rom[EXT_IDENTIFIER] = 0x04; // serial ID module definition by two-wire interface
        rom[CONNECTOR] = CONNECTOR_LC;
        rom[COMPLIANCE_10G] = (byte) COMPLIANCE_10GBASE_SR;
        rom[ENCODING] = ENCODING_64B66B;
        rom[BR_NOMINAL] = 0x67; // 10.3 Gb/s in 100 Mb/s units
        rom[LENGTH_OM2] = 8; // 80 m (10 m units)
        rom[LENGTH_OM1] = 3; // 30 m
        rom[LENGTH_OM3] = 30; // 300 m
        ascii(VENDOR_NAME, VENDOR, 16);
        for (int i = 0; i < 3; i++) {
            rom[VENDOR_OUI + i] = (byte) OUI_INTEL[i];
        }
        ascii(VENDOR_PN, PART_NUMBER, 16);
        ascii(VENDOR_REV, "A", 4);
        rom[WAVELENGTH] = (byte) (850 >>> 8);
        rom[WAVELENGTH + 1] = (byte) 850;
        rom[CC_BASE] = (byte) sum(0, CC_BASE);
        rom[OPTIONS + 1] = 0x1A; // TX_DISABLE, TX_FAULT and LOS implemented
        ascii(VENDOR_SN, serial, 16);
        ascii(DATE_CODE, "261207", 8);
        rom[DIAGNOSTIC_TYPE] = 0; // no digital diagnostics: nothing at 0xA2
        rom[SFF8472_COMPLIANCE] = 0;
        rom[CC_EXT] = (byte) sum(OPTIONS, CC_EXT);
    }

    private void ascii(int at, String s, int width) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < width; i++) {
            rom[at + i] = i < b.length ? b[i] : (byte) ' ';
        }
    }

    private int sum(int from, int to) {
        int s = 0;
        for (int i = from; i < to; i++) {
            s += rom[i] & 0xFF;
        }
        return s & 0xFF;
    }

    /** Byte {@code offset} of the serial ID EEPROM at 0xA0. */
    public synchronized int read(int offset) {
        return rom[offset & 0xFF] & 0xFF;
    }

    /**
     * Reprograms byte {@code offset} of the serial ID (to play another kind of module: tests, or a driver's refusal
     * path) and keeps the CC_BASE / CC_EXT check codes right.
     */
    public synchronized void program(int offset, int value) {
        if (offset < 0 || offset > 255 || value < 0 || value > 255) {
            throw new IllegalArgumentException("serial ID byte " + offset + " = " + value + ": offset and value must be 0-255");
        }
        rom[offset] = (byte) value;
        rom[CC_BASE] = (byte) sum(0, CC_BASE);
        rom[CC_EXT] = (byte) sum(OPTIONS, CC_EXT);
    }

    /** True while the module sits in the cage. */
    public boolean present() {
        return present;
    }

    /** Plugs the module in (true) or pulls it out (false). */
    public void setPresent(boolean p) {
        present = p;
    }
}
