package io.jnic.devsim.ixgbe;

/**
 * The SFP+ cage of an 82599 SFI port as its board wires it (the X520 / 82599 SFP reference design): the module
 * ({@link SfpModule}) on the port's I2C bus ({@link I2cBus}, I2CCTL), and the software-definable pins in ESDP
 * (datasheet 8.2.3.1.x ESDP: bits 7:0 SDP0-7 data, bits 15:8 their direction, 1 = output):
 * <ul>
 *   <li>SDP2, an input: the cage is full (the module present). Linux's and DPDK's 82599 link check reads it
 *       before LINKS ("crosstalk fix") and calls the link down while it reads 0. A change raises EICR GPI SDP2
 *       when GPIE enables that interrupt (the drivers' module-insertion event).</li>
 *   <li>SDP3, an output: the module's TX_DISABLE. While it is driven high the laser is off and the far end sees no
 *       signal; drivers pulse it to restart the link partner and keep it high while the port is down.</li>
 * </ul>
 * The NVM sets SDP3 up as an output (driven low, laser on) at reset; the other pins are inputs that read 0.
 */
public final class SfpCage {
    public static final int ESDP = 0x00020;
    public static final int SDP2 = 1 << 2;
    public static final int SDP3 = 1 << 3;
    public static final int SDP2_DIR = 1 << 10;
    public static final int SDP3_DIR = 1 << 11;
    public static final int ESDP_DIR_MASK = 0xFF00;
    /** Reset value loaded from the NVM: SDP3 an output driven low (laser on). */
    public static final int ESDP_DEFAULT = SDP3_DIR;
    /** GPIE.SDP2_GPIEN: interrupt on SDP2 changes (82599). */
    public static final int GPIE_SDP2_GPIEN = 1 << 2;
    /** EICR.GPI_SDP2 (82599). */
    public static final int EICR_GPI_SDP2 = 1 << 26;

    private final SfpModule module;
    private final I2cBus i2c;
    private int esdp = ESDP_DEFAULT;

    public SfpCage(SfpModule module) {
        this.module = module;
        this.i2c = new I2cBus(module);
    }

    public SfpModule module() {
        return module;
    }

    public I2cBus i2c() {
        return i2c;
    }

    public void reset() {
        esdp = ESDP_DEFAULT;
        i2c.reset();
    }

    /** ESDP as read: outputs read what was written, input SDP2 reads the module's presence, other inputs 0. */
    public int readEsdp() {
        int dir = esdp & ESDP_DIR_MASK;
        int outputs = esdp & (dir >>> 8);
        int inputs = (dir & SDP2_DIR) == 0 && module.present() ? SDP2 : 0;
        return (esdp & ~0xFF) | outputs | inputs;
    }

    public void writeEsdp(int value) {
        esdp = value;
    }

    /** True while the laser is on: SDP3 not driven high. */
    public boolean laserOn() {
        return (esdp & SDP3_DIR) == 0 || (esdp & SDP3) == 0;
    }

    /** True when the far end could see this port's light and this port its partner's: module in, laser on. */
    public boolean signal() {
        return module.present() && laserOn();
    }
}
