package io.jnic.devsim.ixgbe;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The NVM (serial EEPROM) image of one 82599 port, as a driver reads it word by word through EERD: the layout of
 * the datasheet's chapter 6 ("Non-Volatile Memory Map"), with the word offsets the drivers use.
 *
 * <p>What is in it:
 * <ul>
 *   <li>words 0x00-0x3F, the software-visible header: the section pointers 0x03-0x0E, the firmware module pointer
 *       0x0F, the PBA number 0x15/0x16 (0xFAFA and a pointer to a PBA block: the newer format), the option-ROM /
 *       iSCSI block pointer 0x17 (none), the alternate SAN MAC block pointer 0x27 and the SAN MAC pointer 0x28
 *       (none), the SFP+ PHY init list pointer 0x2B, the device capabilities 0x2C, the ETrack id 0x2D/0x2E, and
 *       the checksum 0x3F;</li>
 *   <li>the LAN core 0 and 1 modules (pointers 0x09/0x0A): a length word, then the port's Ethernet address in
 *       three words, low octet first; the reset loads RAL/RAH[0] from the core module of the port's LAN id;</li>
 *   <li>a PCIe analog module (pointer 0x03) with a few configuration words, so that the checksum rule's section
 *       sums matter;</li>
 *   <li>the firmware module (pointer 0x0F) whose word 4 points to the pass-through patch configuration block, whose
 *       word 7 is the firmware patch version (DPDK's 82599 start refuses SFI ports without a version above 5);</li>
 *   <li>the SFP+ PHY init list (pointer 0x2B): pairs of (SFP type id, data offset) ending in 0xFFFF; each data
 *       block is a run of CORECTL values ending in 0xFFFF that the driver writes to set the analog core up for
 *       that module type (datasheet 4.6.4 / 3.3.x; Linux's ixgbe_setup_sfp_modules_82599 walks it).</li>
 * </ul>
 *
 * <p>The checksum (datasheet 6.3.x, "Checksum Word Calculation", and Linux's
 * {@code ixgbe_calc_eeprom_checksum_generic}): words 0x00-0x3E, plus, for every pointer in words 0x03-0x0E that is
 * neither 0 nor 0xFFFF, the words of the section it points to (its first word is the section's length L, and the
 * L words after it are summed; the length word itself is not), plus the checksum word 0x3F, sum to 0xBABA modulo
 * 2^16. The firmware pointer (0x0F) and everything it reaches is outside the sum.
 */
public final class EepromImage {
    /** Image size in 16-bit words: 2048 words (32 Kbit), EEC.SIZE = 5 (words = 1 << (SIZE + 6), 8.2.3.2.1). */
    public static final int WORDS = 2048;
    public static final int EEC_SIZE_FIELD = 5;

    // ---- word offsets (datasheet chapter 6; the same names as the public drivers' headers) -------------------
    public static final int CONTROL_1 = 0x00;
    public static final int PCIE_ANALOG_PTR = 0x03;
    public static final int PHY_PTR = 0x04;
    public static final int OPTION_ROM_PTR = 0x05;
    public static final int PCIE_GENERAL_PTR = 0x06;
    public static final int PCIE_CONFIG0_PTR = 0x07;
    public static final int PCIE_CONFIG1_PTR = 0x08;
    public static final int CORE0_PTR = 0x09;
    public static final int CORE1_PTR = 0x0A;
    public static final int MAC0_PTR = 0x0B;
    public static final int MAC1_PTR = 0x0C;
    public static final int CSR0_CONFIG_PTR = 0x0D;
    public static final int CSR1_CONFIG_PTR = 0x0E;
    public static final int FW_PTR = 0x0F;
    public static final int PBANUM0 = 0x15;
    public static final int PBANUM1 = 0x16;
    public static final int ISCSI_FCOE_OROM_PTR = 0x17;
    public static final int OEM_PROD_VER_PTR = 0x1B;
    public static final int ALT_SAN_MAC_BLK_PTR = 0x27;
    public static final int SAN_MAC_PTR = 0x28;
    public static final int PHY_INIT_LIST_PTR = 0x2B;
    public static final int DEVICE_CAPS = 0x2C;
    public static final int ETRACK_LOW = 0x2D;
    public static final int ETRACK_HIGH = 0x2E;
    public static final int CHECKSUM = 0x3F;
    public static final int CHECKSUM_SUM = 0xBABA;
    public static final int PBA_GUARD = 0xFAFA;
    /** Firmware module word 4: pointer to the pass-through patch configuration block; its word 7: version. */
    public static final int FW_PASSTHROUGH_PATCH_CONFIG_PTR = 0x4;
    public static final int FW_PATCH_VERSION_4 = 0x7;
    /** The end of the PHY init list and of each CORECTL data block. */
    public static final int PHY_INIT_END = 0xFFFF;
    /** SFP type ids in the PHY init list, as the drivers number them (ixgbe_sfp_type_srlr_core0/1). */
    public static final int SFP_TYPE_SRLR_CORE0 = 5;
    public static final int SFP_TYPE_SRLR_CORE1 = 6;
    public static final int SFP_TYPE_DA_CU_CORE0 = 3;
    public static final int SFP_TYPE_DA_CU_CORE1 = 4;
    /** Word 0 bits 7:6 = 01b: the image's signature is valid (hardware loads the image only then). */
    public static final int CONTROL_1_SIGNATURE = 0x1 << 6;

    /** Where the sections live in this image (any free words would do; these are in the 0x40-0x7FF area). */
    static final int ANALOG_SECTION = 0x0040;
    static final int CORE0_SECTION = 0x0050;
    static final int CORE1_SECTION = 0x0058;
    static final int PBA_BLOCK = 0x0060;
    static final int FW_MODULE = 0x0070;
    static final int FW_PATCH_CONFIG = 0x0080;
    static final int PHY_INIT_LIST = 0x0090;
    static final int PHY_INIT_SR_DATA = 0x00A0;
    static final int PHY_INIT_DA_DATA = 0x00B0;

    /** The firmware patch version word: above 5, as DPDK's ixgbe_verify_fw_version_82599 requires for SFI. */
    public static final int FW_PATCH_VERSION = 0x0006;
    /**
     * ETrack id 0x800003C5: word 0x2D holds its high half and 0x2E its low half (a clear bit 15 in word 0x2E
     * tells readers that this is the word order).
     */
    public static final int ETRACK_ID = 0x800003C5;
    public static final String PBA = "E66560-002";

    /**
     * CORECTL values of the SR/LR and DA init blocks: analog core writes (address in bits 15:8, data in 7:0).
     * The model accepts and logs them; what they tune (the SFI analog front end) has no behaviour here.
     */
    static final int[] SR_INIT_CORECTL = {0x0B1D, 0x0C1A, 0x0D38, 0x0E80};
    static final int[] DA_INIT_CORECTL = {0x0B1D, 0x0C14, 0x0D30, 0x0E80};

    private final short[] words;

    private EepromImage(short[] words) {
        this.words = words;
    }

    /** A fresh image for the port with LAN id {@code lanId} (0 or 1) whose address is {@code mac}. */
    public static EepromImage forPort(byte[] mac, int lanId) {
        if (mac == null || mac.length != 6) {
            throw new IllegalArgumentException("an EEPROM image needs a 6-byte MAC address");
        }
        short[] w = new short[WORDS];
        Arrays.fill(w, (short) 0xFFFF); // erased NVM reads as ones
        Arrays.fill(w, 0, CHECKSUM, (short) 0);
        w[CONTROL_1] = (short) CONTROL_1_SIGNATURE;
        for (int p = PCIE_ANALOG_PTR; p <= FW_PTR; p++) {
            w[p] = (short) 0xFFFF; // no section unless set below
        }
        // PCIe analog module: three configuration words (the section sum is part of the checksum)
        section(w, PCIE_ANALOG_PTR, ANALOG_SECTION, 0x0012, 0x3456, 0x789A);
        // LAN core modules: the Ethernet address of LAN 0 and LAN 1 (the other function gets the next address)
        byte[] other = mac.clone();
        other[5] = (byte) (other[5] ^ 1);
        byte[] core0 = lanId == 0 ? mac : other;
        byte[] core1 = lanId == 0 ? other : mac;
        section(w, CORE0_PTR, CORE0_SECTION, macWords(core0));
        section(w, CORE1_PTR, CORE1_SECTION, macWords(core1));
        // firmware module -> pass-through patch configuration block -> patch version (outside the checksum)
        w[FW_PTR] = (short) FW_MODULE;
        w[FW_MODULE] = 0x0010;
        w[FW_MODULE + FW_PASSTHROUGH_PATCH_CONFIG_PTR] = (short) FW_PATCH_CONFIG;
        w[FW_PATCH_CONFIG] = 0x0008;
        w[FW_PATCH_CONFIG + FW_PATCH_VERSION_4] = (short) FW_PATCH_VERSION;
        // PBA number in the block format: guard word, pointer; the block is a length word and ASCII pairs
        w[PBANUM0] = (short) PBA_GUARD;
        w[PBANUM1] = (short) PBA_BLOCK;
        byte[] pba = PBA.getBytes(StandardCharsets.US_ASCII);
        int pbaWords = (pba.length + 1) / 2;
        w[PBA_BLOCK] = (short) (pbaWords + 1); // the length word counts itself
        for (int i = 0; i < pbaWords; i++) {
            int hi = pba[2 * i] & 0xFF;
            int lo = 2 * i + 1 < pba.length ? pba[2 * i + 1] & 0xFF : 0;
            w[PBA_BLOCK + 1 + i] = (short) (hi << 8 | lo);
        }
        w[ISCSI_FCOE_OROM_PTR] = (short) 0xFFFF; // no option ROM / iSCSI block in this image
        w[OEM_PROD_VER_PTR] = (short) 0xFFFF;
        w[ALT_SAN_MAC_BLK_PTR] = (short) 0xFFFF;
        w[SAN_MAC_PTR] = (short) 0xFFFF;
        w[DEVICE_CAPS] = 0; // SFP modules enforced, crosstalk fix wanted (drivers then check SDP2 before LINKS)
        w[ETRACK_LOW] = (short) (ETRACK_ID >>> 16);
        w[ETRACK_HIGH] = (short) ETRACK_ID;
        // SFP+ PHY init list: (type, data offset) pairs; SR/LR for both cores, DA copper for both cores
        w[PHY_INIT_LIST_PTR] = (short) PHY_INIT_LIST;
        int[] list = {0x0000, SFP_TYPE_SRLR_CORE0, PHY_INIT_SR_DATA, SFP_TYPE_SRLR_CORE1, PHY_INIT_SR_DATA,
            SFP_TYPE_DA_CU_CORE0, PHY_INIT_DA_DATA, SFP_TYPE_DA_CU_CORE1, PHY_INIT_DA_DATA, PHY_INIT_END};
        for (int i = 0; i < list.length; i++) {
            w[PHY_INIT_LIST + i] = (short) list[i];
        }
        block(w, PHY_INIT_SR_DATA, SR_INIT_CORECTL);
        block(w, PHY_INIT_DA_DATA, DA_INIT_CORECTL);
        w[CHECKSUM] = (short) checksumFor(w);
        return new EepromImage(w);
    }

    /** An image holding exactly {@code words} (tests build corrupted ones this way). */
    public static EepromImage of(short[] words) {
        if (words.length != WORDS) {
            throw new IllegalArgumentException("an image has " + WORDS + " words, got " + words.length);
        }
        return new EepromImage(words.clone());
    }

    private static void section(short[] w, int pointer, int at, int... data) {
        w[pointer] = (short) at;
        w[at] = (short) data.length;
        for (int i = 0; i < data.length; i++) {
            w[at + 1 + i] = (short) data[i];
        }
    }

    private static void block(short[] w, int at, int[] corectl) {
        w[at] = 0x0000; // the driver pre-increments past this word
        for (int i = 0; i < corectl.length; i++) {
            w[at + 1 + i] = (short) corectl[i];
        }
        w[at + 1 + corectl.length] = (short) PHY_INIT_END;
    }

    private static int[] macWords(byte[] m) {
        return new int[] {(m[0] & 0xFF) | (m[1] & 0xFF) << 8, (m[2] & 0xFF) | (m[3] & 0xFF) << 8,
            (m[4] & 0xFF) | (m[5] & 0xFF) << 8};
    }

    /**
     * The value word 0x3F must hold for {@code w} to be valid: 0xBABA minus the sum of words 0x00-0x3E and of the
     * sections that the pointers 0x03-0x0E reach (see the class comment).
     */
    public static int checksumFor(short[] w) {
        int sum = 0;
        for (int i = 0; i < CHECKSUM; i++) {
            sum += w[i] & 0xFFFF;
        }
        for (int p = PCIE_ANALOG_PTR; p < FW_PTR; p++) {
            int pointer = w[p] & 0xFFFF;
            if (pointer == 0 || pointer == 0xFFFF || pointer >= w.length) {
                continue;
            }
            int length = w[pointer] & 0xFFFF;
            if (length == 0 || length == 0xFFFF) {
                continue;
            }
            for (int j = pointer + 1; j <= pointer + length && j < w.length; j++) {
                sum += w[j] & 0xFFFF;
            }
        }
        return (CHECKSUM_SUM - sum) & 0xFFFF;
    }

    /** True when the checksum word matches the rest of the image. */
    public boolean checksumValid() {
        return (words[CHECKSUM] & 0xFFFF) == checksumFor(words);
    }

    /** Word {@code address}; addresses past the image read as erased NVM (0xFFFF). */
    public int word(int address) {
        return address >= 0 && address < WORDS ? words[address] & 0xFFFF : 0xFFFF;
    }

    /** Writes one word (EEWR); false when the address lies past the image. */
    boolean write(int address, int value) {
        if (address < 0 || address >= WORDS) {
            return false;
        }
        words[address] = (short) value;
        return true;
    }

    /** The Ethernet address of LAN {@code lanId}'s core module, 6 octets (what a reset loads into RAL/RAH[0]). */
    public byte[] macAddress(int lanId) {
        int at = word(lanId == 0 ? CORE0_PTR : CORE1_PTR);
        byte[] m = new byte[6];
        for (int i = 0; i < 3; i++) {
            int v = word(at + 1 + i);
            m[2 * i] = (byte) v;
            m[2 * i + 1] = (byte) (v >>> 8);
        }
        return m;
    }

    /** A copy of every word. */
    public short[] words() {
        return words.clone();
    }
}
