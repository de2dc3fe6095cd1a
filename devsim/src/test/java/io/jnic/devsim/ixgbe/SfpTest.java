package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.EICR;
import static io.jnic.devsim.ixgbe.IxgbeRegs.EICR_LSC;
import static io.jnic.devsim.ixgbe.IxgbeRegs.GPIE;
import static io.jnic.devsim.ixgbe.IxgbeRegs.LINKS;
import static io.jnic.devsim.ixgbe.IxgbeRegs.LINKS_UP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.LoopWire;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The SFP+ cage: the module's serial ID read byte by byte over I2C bit-banged through I2CCTL (an I2C master written
 * from the I2C specification, UM10204), presence on ESDP.SDP2, the laser on SDP3.
 */
class SfpTest {
    private Harness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    // ---- an I2C master over I2CCTL -----------------------------------------------------------------------------
    private int ctl;

    private void set(boolean scl, boolean sda) {
        ctl = (scl ? I2cBus.CLK_OUT : 0) | (sda ? I2cBus.DATA_OUT : 0);
        h.w(I2cBus.I2CCTL, ctl);
    }

    private boolean sdaIn() {
        return (h.r(I2cBus.I2CCTL) & I2cBus.DATA_IN) != 0;
    }

    private void start() {
        set((ctl & I2cBus.CLK_OUT) != 0, true);
        set(true, true);
        set(true, false);
        set(false, false);
    }

    private void stop() {
        set(false, false);
        set(true, false);
        set(true, true);
    }

    /** Clocks a byte out and returns true when the slave acknowledged it. */
    private boolean writeByte(int b) {
        for (int i = 7; i >= 0; i--) {
            boolean bit = ((b >>> i) & 1) != 0;
            set(false, bit);
            assertEquals(bit, sdaIn(), "SDA reads back what the master drives");
            set(true, bit);
            set(false, bit);
        }
        set(false, true); // release SDA for the acknowledge
        set(true, true);
        boolean ack = !sdaIn();
        set(false, true);
        return ack;
    }

    private int readByte(boolean ack) {
        int b = 0;
        for (int i = 0; i < 8; i++) {
            set(true, true);
            b = (b << 1) | (sdaIn() ? 1 : 0);
            set(false, true);
        }
        set(false, !ack);
        set(true, !ack);
        set(false, !ack);
        set(false, true);
        return b;
    }

    /** Random read: START, 0xA0, offset, repeated START, 0xA1, n bytes (ACK all but the last), STOP. */
    private int[] read(int offset, int n) {
        start();
        assertTrue(writeByte(0xA0), "the module acknowledges its address");
        assertTrue(writeByte(offset));
        start();
        assertTrue(writeByte(0xA1));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = readByte(i < n - 1);
        }
        stop();
        return out;
    }

    @Test
    void serialIdReadsAsA10gbaseSrModule() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        set(true, true);
        assertEquals(SfpModule.IDENTIFIER_SFP, read(SfpModule.IDENTIFIER, 1)[0], "identifier: SFP/SFP+");
        assertEquals(SfpModule.COMPLIANCE_10GBASE_SR, read(SfpModule.COMPLIANCE_10G, 1)[0] & 0xF0, "10GBASE-SR");
        assertEquals(0, read(SfpModule.COMPLIANCE_1G, 1)[0], "no 1 Gb/s rate");
        int[] oui = read(SfpModule.VENDOR_OUI, 3);
        assertEquals(0x00, oui[0]);
        assertEquals(0x1B, oui[1]);
        assertEquals(0x21, oui[2]);
        int[] name = read(SfpModule.VENDOR_NAME, 16);
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) name[i];
        }
        assertEquals(SfpModule.VENDOR, new String(b, StandardCharsets.US_ASCII).trim());
        int[] base = read(0, 64);
        int sum = 0;
        for (int i = 0; i < 63; i++) {
            sum += base[i];
        }
        assertEquals(sum & 0xFF, base[SfpModule.CC_BASE], "CC_BASE checksum of bytes 0-62");
    }

    @Test
    void nothingAnswersAtOtherAddressesOrInAnEmptyCage() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        set(true, true);
        start();
        assertEquals(false, writeByte(0xA2), "no diagnostics page");
        stop();
        assertEquals(SfpCage.SDP2, h.r(SfpCage.ESDP) & SfpCage.SDP2, "SDP2: the cage is full");
        h.dev.sfpPresent(false);
        assertEquals(0, h.r(SfpCage.ESDP) & SfpCage.SDP2, "SDP2 reads 0 with the cage empty");
        start();
        assertEquals(false, writeByte(0xA0), "an empty cage does not acknowledge");
        stop();
    }

    @Test
    void linkNeedsTheModuleAndTheLaser() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        h.resetAndLinkUp();
        assertEquals(LINKS_UP, h.r(LINKS) & LINKS_UP);
        h.w(GPIE, SfpCage.GPIE_SDP2_GPIEN);
        h.dev.sfpPresent(false);
        h.poll(1);
        assertEquals(0, h.r(LINKS) & LINKS_UP, "module out: no link");
        int eicr = h.r(EICR);
        assertEquals(EICR_LSC | SfpCage.EICR_GPI_SDP2, eicr & (EICR_LSC | SfpCage.EICR_GPI_SDP2));
        h.dev.sfpPresent(true);
        h.poll(1);
        assertEquals(LINKS_UP, h.r(LINKS) & LINKS_UP, "module back: link retrains");
        // TX_DISABLE (SDP3 driven high) turns the laser off
        h.w(SfpCage.ESDP, h.r(SfpCage.ESDP) | SfpCage.SDP3);
        h.poll(1);
        assertEquals(0, h.r(LINKS) & LINKS_UP, "laser off: no link");
        h.w(SfpCage.ESDP, h.r(SfpCage.ESDP) & ~SfpCage.SDP3);
        h.poll(1);
        assertEquals(LINKS_UP, h.r(LINKS) & LINKS_UP);
    }
}
