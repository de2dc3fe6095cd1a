package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.CTRL;
import static io.jnic.devsim.ixgbe.IxgbeRegs.CTRL_RST;
import static io.jnic.devsim.ixgbe.IxgbeRegs.RAH0;
import static io.jnic.devsim.ixgbe.IxgbeRegs.RAL0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.LoopWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The EEPROM image and its register interface (EEC, EERD, EEWR, the SPI pins) against the datasheet's rules. */
class NvmTest {
    private Harness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    /** The checksum rule written out independently: words 0x00-0x3F and the sections of pointers 0x03-0x0E. */
    private static int sum(EepromImage img) {
        int s = 0;
        for (int i = 0; i <= 0x3F; i++) {
            s += img.word(i);
        }
        for (int p = 0x03; p <= 0x0E; p++) {
            int ptr = img.word(p);
            if (ptr == 0 || ptr == 0xFFFF) {
                continue;
            }
            int len = img.word(ptr);
            for (int j = 1; j <= len; j++) {
                s += img.word(ptr + j);
            }
        }
        return s & 0xFFFF;
    }

    @Test
    void imageSumsToBabaAndTheRuleCoversPointedSections() {
        EepromImage img = EepromImage.forPort(Harness.mac(0x42), 0);
        assertEquals(0xBABA, sum(img));
        assertTrue(img.checksumValid());
        // a word inside a pointed section (the LAN core module) counts ...
        short[] w = img.words();
        int core = img.word(EepromImage.CORE0_PTR);
        w[core + 2]++;
        assertFalse(EepromImage.of(w).checksumValid(), "a section word is covered by the checksum");
        // ... a word reached only through the firmware pointer does not
        w = img.words();
        int fw = img.word(EepromImage.FW_PTR);
        w[fw + 1]++;
        assertTrue(EepromImage.of(w).checksumValid(), "the firmware module is outside the checksum");
        // nor does anything past the sections
        w = img.words();
        w[0x7F0]++;
        assertTrue(EepromImage.of(w).checksumValid());
    }

    @Test
    void imageCarriesMacPbaFirmwareVersionAndSfpInitList() {
        byte[] mac = Harness.mac(0x42);
        EepromImage img = EepromImage.forPort(mac, 1);
        assertArrayEquals(mac, img.macAddress(1), "LAN 1's core module holds the port's address");
        assertNotEquals(mac[5], img.macAddress(0)[5], "LAN 0 has its own address");
        // DPDK's chain: word 0x0F -> firmware module; its word 4 -> patch config; its word 7 = version > 5
        int fw = img.word(EepromImage.FW_PTR);
        int cfg = img.word(fw + EepromImage.FW_PASSTHROUGH_PATCH_CONFIG_PTR);
        assertTrue(img.word(cfg + EepromImage.FW_PATCH_VERSION_4) > 5);
        // PBA: guard word, pointer to a block of length (counting itself) and two ASCII characters per word
        assertEquals(0xFAFA, img.word(EepromImage.PBANUM0));
        int pba = img.word(EepromImage.PBANUM1);
        int len = img.word(pba);
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < len; i++) {
            sb.append((char) (img.word(pba + i) >>> 8)).append((char) (img.word(pba + i) & 0xFF));
        }
        assertEquals(EepromImage.PBA, sb.toString());
        // the SFP+ init list has an entry for an SR module on core 1, and its CORECTL block ends in 0xFFFF
        int list = img.word(EepromImage.PHY_INIT_LIST_PTR) + 1;
        int data = -1;
        for (int id = img.word(list); id != 0xFFFF; list += 2, id = img.word(list)) {
            if (id == EepromImage.SFP_TYPE_SRLR_CORE1) {
                data = img.word(list + 1);
                break;
            }
        }
        assertTrue(data > 0, "no init sequence for an SR module");
        int n = 0;
        for (int a = data + 1; img.word(a) != 0xFFFF; a++) {
            n++;
        }
        assertEquals(EepromImage.SR_INIT_CORECTL.length, n);
    }

    @Test
    void eerdReadsWordsAndEecSaysPresentDoneAndSize() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        int eec = h.r(Nvm.EEC);
        assertEquals(Nvm.EEC_PRES | Nvm.EEC_ARD, eec & (Nvm.EEC_PRES | Nvm.EEC_ARD));
        int size = (eec & Nvm.EEC_SIZE_MASK) >>> Nvm.EEC_SIZE_SHIFT;
        assertEquals(EepromImage.WORDS, 1 << (size + 6), "EEC.SIZE gives the image's word count");
        EepromImage img = h.dev.eeprom();
        for (int a : new int[] {0x00, EepromImage.CHECKSUM, EepromImage.FW_PTR, img.word(EepromImage.CORE0_PTR) + 1}) {
            h.w(Nvm.EERD, a << Nvm.RW_ADDR_SHIFT | Nvm.RW_START);
            int v = h.r(Nvm.EERD);
            assertEquals(Nvm.RW_DONE, v & Nvm.RW_DONE, "DONE after START");
            assertEquals(img.word(a), v >>> Nvm.RW_DATA_SHIFT, "word 0x" + Integer.toHexString(a));
        }
    }

    @Test
    void eewrWritesTheImageAndAResetLoadsTheNewMac() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        int core = h.dev.eeprom().word(EepromImage.CORE0_PTR);
        // new address 02:00:00:00:77:66: word 3 of the core module holds octets 4 and 5
        h.w(Nvm.EEWR, 0x6677 << Nvm.RW_DATA_SHIFT | (core + 3) << Nvm.RW_ADDR_SHIFT | Nvm.RW_START);
        assertEquals(Nvm.RW_DONE, h.r(Nvm.EEWR) & Nvm.RW_DONE);
        assertFalse(h.dev.eeprom().checksumValid(), "the checksum was not updated");
        h.w(CTRL, CTRL_RST);
        h.poll(1);
        assertEquals(0x6677, h.r(RAH0) & 0xFFFF, "RAH[0] comes from the EEPROM at reset");
        assertEquals(0x00000002, h.r(RAL0));
    }

    @Test
    void requestIsGrantedAndTheSpiPinsReadTheSameWords() {
        h = new Harness(0, Harness.mac(0x42), new LoopWire());
        EepromImage img = h.dev.eeprom();
        int eec = h.r(Nvm.EEC);
        assertEquals(0, eec & Nvm.EEC_GNT);
        h.w(Nvm.EEC, eec | Nvm.EEC_REQ);
        eec = h.r(Nvm.EEC);
        assertEquals(Nvm.EEC_GNT, eec & Nvm.EEC_GNT, "no firmware competes: the request is granted");
        // select the part (CS low, SK low), then read the status register and two words by bit-banging
        eec &= ~(Nvm.EEC_CS | Nvm.EEC_SK);
        h.w(Nvm.EEC, eec);
        shiftOut(eec, Nvm.SPI_RDSR, 8);
        assertEquals(0, shiftIn(eec, 8) & 1, "the part is never busy");
        for (int word : new int[] {EepromImage.CHECKSUM, img.word(EepromImage.PBANUM1) + 1}) {
            h.w(Nvm.EEC, eec | Nvm.EEC_CS); // standby: deselect and select again
            h.w(Nvm.EEC, eec);
            shiftOut(eec, Nvm.SPI_READ, 8);
            shiftOut(eec, word * 2, 16);
            int in = shiftIn(eec, 16);
            assertEquals(img.word(word), (in >>> 8) | (in << 8) & 0xFF00, "word 0x" + Integer.toHexString(word));
        }
        h.w(Nvm.EEC, (eec | Nvm.EEC_CS) & ~Nvm.EEC_REQ);
        assertEquals(0, h.r(Nvm.EEC) & Nvm.EEC_GNT, "grant withdrawn with the request");
    }

    private void shiftOut(int eec, int data, int bits) {
        for (int i = bits - 1; i >= 0; i--) {
            int v = ((data >>> i) & 1) != 0 ? eec | Nvm.EEC_DI : eec & ~Nvm.EEC_DI;
            h.w(Nvm.EEC, v);
            h.w(Nvm.EEC, v | Nvm.EEC_SK);
            h.w(Nvm.EEC, v);
        }
        h.w(Nvm.EEC, eec & ~Nvm.EEC_DI);
    }

    private int shiftIn(int eec, int bits) {
        int data = 0;
        for (int i = 0; i < bits; i++) {
            h.w(Nvm.EEC, eec | Nvm.EEC_SK);
            data = (data << 1) | ((h.r(Nvm.EEC) & Nvm.EEC_DO) != 0 ? 1 : 0);
            h.w(Nvm.EEC, eec);
        }
        return data;
    }
}
