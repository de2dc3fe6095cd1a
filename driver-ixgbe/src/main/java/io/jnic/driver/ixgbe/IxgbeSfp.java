package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.ESDP;
import static io.jnic.driver.ixgbe.IxgbeRegs.ESDP_SDP2;
import static io.jnic.driver.ixgbe.IxgbeRegs.I2CCTL;
import static io.jnic.driver.ixgbe.IxgbeRegs.I2C_CLK_IN;
import static io.jnic.driver.ixgbe.IxgbeRegs.I2C_CLK_OUT;
import static io.jnic.driver.ixgbe.IxgbeRegs.I2C_DATA_IN;
import static io.jnic.driver.ixgbe.IxgbeRegs.I2C_DATA_OUT;
import static io.jnic.driver.ixgbe.IxgbeRegs.SYNC_PHY0;
import static io.jnic.driver.ixgbe.IxgbeRegs.SYNC_PHY1;

import io.jnic.pci.PciBar;
import java.nio.charset.StandardCharsets;

/**
 * The SFP+ cage of an 82599 SFI port: module presence on ESDP.SDP2, and the module's serial ID (SFF-8472, I2C
 * address 0xA0) read over the port's I2C bus by bit-banging I2CCTL (datasheet 8.2.3.1.x; the I2C specification
 * NXP UM10204 for the protocol), with the port's PHY semaphore held (SW_FW_SYNC PHY0/PHY1 guard the I2C bus, 10.5.4).
 */
final class IxgbeSfp {
    static final int ADDRESS = 0xA0;
    static final int IDENTIFIER_SFP = 0x03;
    static final int COMPLIANCE_10G = 3;
    static final int COMPLIANCE_1G = 6;
    static final int CABLE_TECHNOLOGY = 8;
    static final int VENDOR_NAME = 20;
    static final int VENDOR_OUI = 37;
    static final int VENDOR_PN = 40;
    static final int COMP_10GBASE_SR = 1 << 4;
    static final int COMP_10GBASE_LR = 1 << 5;
    static final int CABLE_PASSIVE = 1 << 2;
    /** SFP types as the NVM's PHY init list numbers them (same numbering as the public drivers). */
    static final int TYPE_DA_CU_CORE0 = 3;
    static final int TYPE_SRLR_CORE0 = 5;
    /** The maximum time a slave may stretch the clock before the bus is declared stuck. */
    private static final long CLOCK_STRETCH_NS = 1_000_000L;

    /** What the serial ID says. {@code sfpType} is the NVM init list's type for this port's core. */
    record Module(String kind, String vendor, String oui, String partNumber, int sfpType) {
        @Override
        public String toString() {
            return kind + " module " + vendor + " " + partNumber + " (OUI " + oui + ")";
        }
    }

    private final PciBar bar;
    private final String name;
    private final SwFwSemaphore semaphore;
    private final int lanId;
    private int ctl;

    IxgbeSfp(PciBar bar, String name, SwFwSemaphore semaphore, int lanId) {
        this.bar = bar;
        this.name = name;
        this.semaphore = semaphore;
        this.lanId = lanId;
    }

    /** SDP2: the cage holds a module. */
    boolean present() {
        return (bar.read32(ESDP) & ESDP_SDP2) != 0;
    }

    /**
     * Reads the module's serial ID. Throws when it is unreadable or not a module this driver can set up
     * (10GBASE-SR or -LR optics, passive direct-attach copper), saying which module it found.
     */
    Module identify() {
        int phy = lanId == 0 ? SYNC_PHY0 : SYNC_PHY1;
        semaphore.acquire(phy, "the SFP+ I2C bus");
        int[] codes;
        int[] names;
        try {
            // two reads of what identifies the module (every register access may be a round trip to the device):
            // identifier and compliance codes (bytes 0-8), vendor name, OUI and part number (bytes 20-55)
            codes = read(0, CABLE_TECHNOLOGY + 1);
            names = read(VENDOR_NAME, VENDOR_PN + 16 - VENDOR_NAME);
        } finally {
            semaphore.release(phy);
        }
        String vendor = ascii(names, 0, 16);
        String pn = ascii(names, VENDOR_PN - VENDOR_NAME, 16);
        int o = VENDOR_OUI - VENDOR_NAME;
        String oui = String.format("%02x:%02x:%02x", names[o], names[o + 1], names[o + 2]);
        if (codes[0] != IDENTIFIER_SFP) {
            throw new IllegalStateException(String.format("%s: the module in the SFP+ cage is not an SFP/SFP+ module "
                    + "(SFF-8472 identifier 0x%02x, vendor '%s' part '%s'); the port is not used: plug in an SFP+ module",
                    name, codes[0], vendor, pn));
        }
        int core = lanId & 1;
        int codes10g = codes[COMPLIANCE_10G];
        if ((codes10g & COMP_10GBASE_SR) != 0) {
            return new Module("10GBASE-SR", vendor, oui, pn, TYPE_SRLR_CORE0 + core);
        }
        if ((codes10g & COMP_10GBASE_LR) != 0) {
            return new Module("10GBASE-LR", vendor, oui, pn, TYPE_SRLR_CORE0 + core);
        }
        if ((codes[CABLE_TECHNOLOGY] & CABLE_PASSIVE) != 0) {
            return new Module("direct-attach copper", vendor, oui, pn, TYPE_DA_CU_CORE0 + core);
        }
        throw new IllegalStateException(String.format("%s: unsupported SFP+ module '%s' part '%s' (10G compliance codes "
                + "0x%02x, 1G codes 0x%02x, cable technology 0x%02x): this driver sets up 10GBASE-SR and -LR optics and "
                + "passive direct-attach cables; the port is not used", name, vendor, pn, codes10g, codes[COMPLIANCE_1G],
                codes[CABLE_TECHNOLOGY]));
    }

    private static String ascii(int[] b, int at, int n) {
        byte[] s = new byte[n];
        for (int i = 0; i < n; i++) {
            s[i] = (byte) b[at + i];
        }
        return new String(s, StandardCharsets.US_ASCII).trim();
    }

    // ---- I2C master over I2CCTL ---------------------------------------------------------------------------------

    /** Random read of {@code n} bytes from {@code offset}: write the offset, repeated START, sequential read. */
    int[] read(int offset, int n) {
        ctl = -1; // unknown: the first set() writes
        try {
            start();
            if (!writeByte(ADDRESS) || !writeByte(offset)) {
                throw new IllegalStateException(name + ": no answer from the SFP+ module at I2C address 0x"
                        + Integer.toHexString(ADDRESS) + " although SDP2 says the cage is full: reseat the module");
            }
            start();
            if (!writeByte(ADDRESS | 1)) {
                throw new IllegalStateException(name + ": the SFP+ module did not acknowledge a read");
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = readByte(i < n - 1);
            }
            return out;
        } finally {
            stop();
        }
    }

    // Each register access may be a round trip to the device (a trapped access through VFIO or vfio-user), so the
    // master writes SDA only when it changes and reads I2CCTL only where it samples: a byte costs about 27 accesses.

    private void set(boolean scl, boolean sda) {
        int v = (scl ? I2C_CLK_OUT : 0) | (sda ? I2C_DATA_OUT : 0);
        if (v != ctl) {
            ctl = v;
            bar.write32(I2CCTL, v);
        }
    }

    /** Raises SCL and, where the master samples, returns I2CCTL once SCL is high (a slave may stretch it). */
    private int clockHighAndSample(boolean sda) {
        set(true, sda);
        int v = bar.read32(I2CCTL);
        long end = 0;
        while ((v & I2C_CLK_IN) == 0) {
            if (end == 0) {
                end = System.nanoTime() + CLOCK_STRETCH_NS;
            } else if (System.nanoTime() - end > 0) {
                throw new IllegalStateException(name + ": the SFP+ I2C clock is held low: the bus is stuck");
            }
            Thread.onSpinWait();
            v = bar.read32(I2CCTL);
        }
        return v;
    }

    private void start() {
        set((ctl & I2C_CLK_OUT) != 0, true);
        clockHighAndSample(true);
        set(true, false); // SDA falls while SCL is high
        set(false, false);
    }

    private void stop() {
        set(false, false);
        set(true, false);
        set(true, true); // SDA rises while SCL is high
    }

    private boolean writeByte(int b) {
        for (int i = 7; i >= 0; i--) {
            boolean bit = ((b >>> i) & 1) != 0;
            set(false, bit); // SDA changes only while SCL is low
            set(true, bit);
            set(false, bit);
        }
        set(false, true); // release SDA: the slave acknowledges by pulling it low
        boolean ack = (clockHighAndSample(true) & I2C_DATA_IN) == 0;
        set(false, true);
        return ack;
    }

    private int readByte(boolean ack) {
        int b = 0;
        for (int i = 0; i < 8; i++) {
            b = (b << 1) | ((clockHighAndSample(true) & I2C_DATA_IN) != 0 ? 1 : 0);
            set(false, true);
        }
        set(false, !ack); // ACK (low) to go on, NACK (high) after the last byte
        set(true, !ack);
        set(false, !ack);
        set(false, true);
        return b;
    }
}
