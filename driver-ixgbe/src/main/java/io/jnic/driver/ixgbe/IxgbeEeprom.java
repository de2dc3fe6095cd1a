package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.EERD;
import static io.jnic.driver.ixgbe.IxgbeRegs.EERD_ADDR_SHIFT;
import static io.jnic.driver.ixgbe.IxgbeRegs.EERD_DATA_SHIFT;
import static io.jnic.driver.ixgbe.IxgbeRegs.EERD_DONE;
import static io.jnic.driver.ixgbe.IxgbeRegs.EERD_START;

import io.jnic.pci.PciBar;

/**
 * The port's NVM as the driver reads it, one word at a time through EERD (datasheet 8.2.3.2.2), and the checks and
 * look-ups of probe: the checksum (datasheet chapter 6, "checksum word"), and the SFP+ PHY init sequence for a
 * module type.
 */
final class IxgbeEeprom {
    static final int CHECKSUM = 0x3F;
    static final int CHECKSUM_SUM = 0xBABA;
    /** Pointers 0x03-0x0E reach sections covered by the checksum; 0x0F (firmware) and beyond are not. */
    static final int FIRST_SECTION_PTR = 0x03;
    static final int FW_PTR = 0x0F;
    static final int PHY_INIT_LIST_PTR = 0x2B;
    static final int PHY_INIT_END = 0xFFFF;
    /** EERD completes in microseconds; allow for a slow transport. */
    private static final long READ_TIMEOUT_NS = 100_000_000L;

    private final PciBar bar;
    private final String name;

    IxgbeEeprom(PciBar bar, String name) {
        this.bar = bar;
        this.name = name;
    }

    /** Word {@code address} of the NVM. */
    int read(int address) {
        bar.write32(EERD, address << EERD_ADDR_SHIFT | EERD_START);
        long end = System.nanoTime() + READ_TIMEOUT_NS;
        while (true) {
            int v = bar.read32(EERD);
            if ((v & EERD_DONE) != 0) {
                return v >>> EERD_DATA_SHIFT;
            }
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException(name + ": EEPROM read of word 0x" + Integer.toHexString(address)
                        + " did not complete (EERD.DONE stayed 0 for " + READ_TIMEOUT_NS / 1_000_000 + " ms; EERD reads 0x"
                        + Integer.toHexString(v) + "): the NVM interface is not answering");
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The checksum the NVM should hold: 0xBABA minus the sum of words 0x00-0x3E and of the sections pointed to by
     * words 0x03-0x0E (a pointer of 0 or 0xFFFF points nowhere; a section's first word is its length L and the L
     * words after it are summed).
     */
    int computeChecksum() {
        int sum = 0;
        for (int i = 0; i < CHECKSUM; i++) {
            sum += read(i);
        }
        for (int p = FIRST_SECTION_PTR; p < FW_PTR; p++) {
            int pointer = read(p);
            if (pointer == 0 || pointer == 0xFFFF) {
                continue;
            }
            int length = read(pointer);
            if (length == 0 || length == 0xFFFF) {
                continue;
            }
            for (int j = pointer + 1; j <= pointer + length; j++) {
                sum += read(j);
            }
        }
        return (CHECKSUM_SUM - sum) & 0xFFFF;
    }

    /** Throws with what to do when the NVM's checksum word does not match its contents. */
    void verifyChecksum() {
        int computed = computeChecksum();
        int stored = read(CHECKSUM);
        if (computed != stored) {
            throw new IllegalStateException(String.format("%s: the EEPROM checksum is not valid (word 0x3F holds 0x%04x, "
                    + "the image sums to 0x%04x): the NVM is corrupt or was changed without updating its checksum. The "
                    + "port is not used; restore the NVM image with the vendor's tool (e.g. ethtool -E or Intel's "
                    + "bootutil/nvmupdate)", name, stored, computed));
        }
    }

    /**
     * The CORECTL values of the NVM's SFP+ init sequence for SFP type {@code sfpType} (the PHY init list at word 0x2B:
     * (type, data offset) pairs ending in 0xFFFF; each data block's words after its first, up to 0xFFFF), or null when
     * the NVM has none for that type.
     */
    int[] phyInitSequence(int sfpType) {
        int list = read(PHY_INIT_LIST_PTR);
        if (list == 0 || list == 0xFFFF) {
            return null;
        }
        int at = list + 1;
        for (int guard = 0; guard < 256; guard++, at += 2) {
            int id = read(at);
            if (id == PHY_INIT_END) {
                return null;
            }
            if (id == sfpType) {
                int data = read(at + 1);
                if (data == 0 || data == 0xFFFF) {
                    return null;
                }
                int n = 0;
                while (n < 256 && read(data + 1 + n) != PHY_INIT_END) {
                    n++;
                }
                int[] seq = new int[n];
                for (int i = 0; i < n; i++) {
                    seq[i] = read(data + 1 + i);
                }
                return seq;
            }
        }
        return null;
    }
}
