package io.jnic.devsim.ixgbe;

/**
 * The 82599's EEPROM interface (datasheet 8.2.3.2, behaviour in 3.3 / 6): EEC (presence, auto-read done, size,
 * the software request/grant handshake and the bit-banged SPI pins), EERD (word reads) and EEWR (word writes)
 * over one {@link EepromImage}.
 *
 * <ul>
 *   <li>EERD: software writes the word address (bits 15:2) with START (bit 0); the read completes with DONE (bit 1)
 *       and the word in bits 31:16. The model completes it at once, so the first poll sees DONE.</li>
 *   <li>EEWR: the same layout with the data to write in bits 31:16; the word lands in the image (it survives
 *       device resets, as the NVM does) and DONE is set.</li>
 *   <li>EEC: PRES (bit 8) always, ARD (bit 9) unless the device is in reset, ADDR_SIZE (bit 10: 16-bit SPI
 *       addresses) and SIZE (bits 14:11) of the image; EE_REQ (bit 6) is granted at once with EE_GNT (bit 7), as no
 *       firmware competes for the EEPROM; while granted, SK/CS/DI (bits 0-2) drive an SPI serial EEPROM whose DO
 *       (bit 3) the model returns: READ (opcode 0x03, 16-bit byte address, bytes of each word low first), RDSR
 *       (0x05, never busy), WREN/WRDI (0x06/0x04) and WRITE (0x02, with the write-enable latch set).</li>
 * </ul>
 */
public final class Nvm {
    public static final int EEC = 0x10010;
    public static final int EERD = 0x10014;
    public static final int EEWR = 0x10018;

    public static final int EEC_SK = 1;
    public static final int EEC_CS = 1 << 1;
    public static final int EEC_DI = 1 << 2;
    public static final int EEC_DO = 1 << 3;
    public static final int EEC_FWE_MASK = 0x3 << 4;
    /** FWE = 01b: flash writes disabled (the reset value). */
    public static final int EEC_FWE_DIS = 0x1 << 4;
    public static final int EEC_REQ = 1 << 6;
    public static final int EEC_GNT = 1 << 7;
    public static final int EEC_PRES = 1 << 8;
    public static final int EEC_ARD = 1 << 9;
    public static final int EEC_ADDR_SIZE = 1 << 10;
    public static final int EEC_SIZE_SHIFT = 11;
    public static final int EEC_SIZE_MASK = 0xF << EEC_SIZE_SHIFT;

    public static final int RW_START = 1;
    public static final int RW_DONE = 1 << 1;
    public static final int RW_ADDR_SHIFT = 2;
    public static final int RW_ADDR_MASK = 0x3FFF << RW_ADDR_SHIFT;
    public static final int RW_DATA_SHIFT = 16;

    static final int SPI_WRITE = 0x02;
    static final int SPI_READ = 0x03;
    static final int SPI_WRDI = 0x04;
    static final int SPI_RDSR = 0x05;
    static final int SPI_WREN = 0x06;

    private final EepromImage image;
    private final String name;
    private int eecWritable = EEC_CS | EEC_FWE_DIS; // CS high: the SPI part is deselected
    private int eerd;
    private int eewr;
    private long reads;

    // SPI serial EEPROM behind EEC.SK/CS/DI/DO (mode 0: sampled on SK rising, shifted out on SK falling)
    private int spiPhase = 4; // 0 = opcode, 1 = address, 2 = data out, 3 = data in (write), 4 = deselected/ignore
    private int spiShift;
    private int spiBits;
    private int spiOpcode;
    private int spiByteAddr;
    private int spiOutByte;
    private int spiOutBits;
    private boolean spiDo;
    private boolean writeEnabled;

    public Nvm(EepromImage image, String name) {
        this.image = image;
        this.name = name;
    }

    public EepromImage image() {
        return image;
    }

    /** Words read through EERD so far (for status output and tests). */
    public long eerdReads() {
        return reads;
    }

    /** CTRL.RST / power-on: the request/grant handshake and the SPI pins to their idle state. */
    public void reset() {
        eecWritable = EEC_CS | EEC_FWE_DIS;
        eerd = 0;
        eewr = 0;
        spiPhase = 4;
        spiDo = false;
        writeEnabled = false;
    }

    /** EEC as software reads it; {@code autoReadDone} is false while the device is in reset. */
    public int readEec(boolean autoReadDone) {
        int v = eecWritable | EEC_PRES | EEC_ADDR_SIZE | (EepromImage.EEC_SIZE_FIELD << EEC_SIZE_SHIFT);
        if (autoReadDone) {
            v |= EEC_ARD;
        }
        if ((eecWritable & EEC_REQ) != 0) {
            v |= EEC_GNT; // no firmware holds the EEPROM: a request is granted at once
        }
        if (spiDo && granted()) {
            v |= EEC_DO;
        }
        return v;
    }

    public void writeEec(int value) {
        int before = eecWritable;
        eecWritable = value & (EEC_SK | EEC_CS | EEC_DI | EEC_FWE_MASK | EEC_REQ);
        if (!granted()) {
            return; // without the grant the pins belong to the hardware's own EEPROM logic
        }
        boolean csWasHigh = (before & EEC_CS) != 0 || (before & EEC_REQ) == 0;
        boolean csHigh = (eecWritable & EEC_CS) != 0;
        if (csHigh) {
            spiDeselect();
            return;
        }
        if (csWasHigh) {
            spiSelect();
        }
        boolean skBefore = (before & EEC_SK) != 0;
        boolean sk = (eecWritable & EEC_SK) != 0;
        if (!skBefore && sk) {
            spiRisingEdge((eecWritable & EEC_DI) != 0);
        } else if (skBefore && !sk) {
            spiFallingEdge();
        }
    }

    private boolean granted() {
        return (eecWritable & EEC_REQ) != 0;
    }

    public int readEerd() {
        return eerd;
    }

    /** EERD write: START reads the word at the address (8.2.3.2.2). */
    public void writeEerd(int value) {
        if ((value & RW_START) == 0) {
            eerd = value & ~RW_DONE;
            return;
        }
        int address = (value & RW_ADDR_MASK) >>> RW_ADDR_SHIFT;
        reads++;
        eerd = (image.word(address) << RW_DATA_SHIFT) | (address << RW_ADDR_SHIFT) | RW_DONE;
    }

    public int readEewr() {
        return eewr;
    }

    /** EEWR write: START writes the data (bits 31:16) to the word at the address (8.2.3.2.3). */
    public void writeEewr(int value) {
        if ((value & RW_START) == 0) {
            eewr = value & ~RW_DONE;
            return;
        }
        int address = (value & RW_ADDR_MASK) >>> RW_ADDR_SHIFT;
        int data = value >>> RW_DATA_SHIFT;
        if (!image.write(address, data)) {
            System.getLogger(Nvm.class.getName()).log(System.Logger.Level.WARNING,
                    "{0}: EEWR to word 0x{1} is past the {2}-word EEPROM: ignored", name, Integer.toHexString(address),
                    EepromImage.WORDS);
        }
        eewr = (value & ~RW_START) | RW_DONE;
    }

    // ---- the SPI serial EEPROM --------------------------------------------------------------------------------

    private void spiSelect() {
        spiPhase = 0;
        spiShift = 0;
        spiBits = 0;
        spiDo = false;
    }

    private void spiDeselect() {
        spiPhase = 4;
        spiDo = false;
    }

    private void spiRisingEdge(boolean di) {
        switch (spiPhase) {
            case 0 -> {
                spiShift = (spiShift << 1) | (di ? 1 : 0);
                if (++spiBits == 8) {
                    spiOpcode = spiShift & 0xFF;
                    spiShift = 0;
                    spiBits = 0;
                    switch (spiOpcode & ~0x08) { // bit 3 is A8 for parts with 8-bit addresses
                        case SPI_READ, SPI_WRITE -> spiPhase = 1;
                        case SPI_RDSR -> {
                            spiPhase = 2;
                            spiOutByte = writeEnabled ? 0x02 : 0x00; // bit 0 (busy) never set; bit 1 = WEL
                            spiOutBits = 0;
                            spiByteAddr = -1;
                        }
                        case SPI_WREN -> {
                            writeEnabled = true;
                            spiPhase = 4;
                        }
                        case SPI_WRDI -> {
                            writeEnabled = false;
                            spiPhase = 4;
                        }
                        default -> spiPhase = 4;
                    }
                }
            }
            case 1 -> {
                spiShift = (spiShift << 1) | (di ? 1 : 0);
                if (++spiBits == 16) {
                    spiByteAddr = spiShift & 0xFFFF;
                    spiShift = 0;
                    spiBits = 0;
                    if ((spiOpcode & ~0x08) == SPI_READ) {
                        spiPhase = 2;
                        spiOutByte = byteAt(spiByteAddr++);
                        spiOutBits = 0;
                    } else {
                        spiPhase = 3;
                    }
                }
            }
            case 3 -> {
                spiShift = (spiShift << 1) | (di ? 1 : 0);
                if (++spiBits == 8) {
                    if (writeEnabled) {
                        int word = spiByteAddr >>> 1;
                        int old = image.word(word);
                        int v = (spiByteAddr & 1) == 0 ? (old & 0xFF00) | (spiShift & 0xFF)
                                : (old & 0x00FF) | (spiShift & 0xFF) << 8;
                        image.write(word, v);
                    }
                    spiByteAddr++;
                    spiShift = 0;
                    spiBits = 0;
                }
            }
            default -> {
            }
        }
    }

    private void spiFallingEdge() {
        if (spiPhase != 2) {
            return;
        }
        if (spiOutBits == 8) {
            spiOutByte = spiByteAddr < 0 ? spiOutByte : byteAt(spiByteAddr++); // RDSR repeats the status
            spiOutBits = 0;
        }
        spiDo = ((spiOutByte >>> (7 - spiOutBits)) & 1) != 0;
        spiOutBits++;
    }

    /** Byte {@code addr} of the SPI part: word {@code addr / 2}, its low octet at the even address. */
    private int byteAt(int addr) {
        int w = image.word((addr >>> 1) & 0x7FFF);
        return (addr & 1) == 0 ? w & 0xFF : w >>> 8;
    }
}
