package io.jnic.devsim.ixgbe;

/**
 * The port's I2C bus to the SFP+ cage, bit-banged by software through I2CCTL (datasheet 8.2.3.1.x I2CCTL: bit 0
 * I2C_CLK_IN, 1 I2C_CLK_OUT, 2 I2C_DATA_IN, 3 I2C_DATA_OUT), with the module's serial ID EEPROM as the only slave
 * (address 0xA0; {@link SfpModule}). Both lines are open drain: a line reads high only while nobody pulls it low,
 * so DATA_IN is the master's DATA_OUT AND the slave's output, and CLK_IN follows CLK_OUT (the slave never stretches
 * the clock).
 *
 * <p>The slave follows the I2C specification (NXP UM10204): START (SDA falling while SCL is high) and STOP (SDA
 * rising while SCL is high) frame a transaction; bits are sampled while SCL is high and change while it is low;
 * each byte is followed by an acknowledge bit (low = ACK) driven by the receiver. The EEPROM supports the random
 * read (write the word offset, repeated START, read with auto-increment), the current-address read, and byte writes
 * are acknowledged but ignored (the serial ID is read-only). An absent module, or an address other than 0xA0, is
 * never acknowledged (the bus reads as all ones), as on an empty cage.
 */
public final class I2cBus {
    public static final int I2CCTL = 0x00028;
    public static final int CLK_IN = 1;
    public static final int CLK_OUT = 1 << 1;
    public static final int DATA_IN = 1 << 2;
    public static final int DATA_OUT = 1 << 3;

    private enum State { IDLE, RECEIVE, ACK_RECEIVED, SEND, ACK_SENT, IGNORE }

    private final SfpModule module;
    // master outputs (true = released/high)
    private boolean scl = true;
    private boolean sda = true;
    // slave output (true = released)
    private boolean slaveSda = true;
    private State state = State.IDLE;
    private int shift;
    private int bits;
    private boolean addressPhase;
    private boolean readMode;
    private boolean offsetPending;
    private int pointer;
    private int outByte;
    private boolean masterAcked;
    private long bytesRead;

    public I2cBus(SfpModule module) {
        this.module = module;
    }

    public SfpModule module() {
        return module;
    }

    /** Bytes the module has sent so far. */
    public long bytesRead() {
        return bytesRead;
    }

    /** Device reset: the master releases both lines; a transaction in progress is abandoned. */
    public void reset() {
        scl = true;
        sda = true;
        slaveSda = true;
        state = State.IDLE;
    }

    /** I2CCTL as software reads it. */
    public int read() {
        boolean busSda = sda && slaveSda;
        return (scl ? CLK_IN | CLK_OUT : 0) | (sda ? DATA_OUT : 0) | (busSda ? DATA_IN : 0);
    }

    /** I2CCTL write: the new levels of the master's SCL and SDA outputs (a data change is applied first). */
    public void write(int value) {
        boolean newSda = (value & DATA_OUT) != 0;
        boolean newScl = (value & CLK_OUT) != 0;
        if (newSda != sda) {
            sda = newSda;
            if (scl) {
                if (!newSda) {
                    start();
                } else {
                    stop();
                }
            }
        }
        if (newScl != scl) {
            scl = newScl;
            if (newScl) {
                risingEdge();
            } else {
                fallingEdge();
            }
        }
    }

    private void start() {
        // a START (or repeated START) always resets the slave to receive an address byte
        state = module.present() ? State.RECEIVE : State.IGNORE;
        addressPhase = true;
        shift = 0;
        bits = 0;
        slaveSda = true;
    }

    private void stop() {
        state = State.IDLE;
        slaveSda = true;
    }

    private void risingEdge() {
        boolean bus = sda && slaveSda;
        switch (state) {
            case RECEIVE -> {
                shift = (shift << 1) | (bus ? 1 : 0);
                bits++;
            }
            case ACK_SENT -> masterAcked = !bus;
            default -> {
            }
        }
    }

    private void fallingEdge() {
        switch (state) {
            case RECEIVE -> {
                if (bits == 8) {
                    byteReceived(shift & 0xFF);
                }
            }
            case ACK_RECEIVED -> {
                slaveSda = true; // the acknowledge clock is over
                if (readMode) {
                    state = State.SEND;
                    loadByte();
                    putBit();
                } else {
                    state = State.RECEIVE;
                    shift = 0;
                    bits = 0;
                }
            }
            case SEND -> {
                if (bits == 8) {
                    slaveSda = true; // release SDA for the master's acknowledge
                    state = State.ACK_SENT;
                } else {
                    putBit();
                }
            }
            case ACK_SENT -> {
                if (masterAcked) {
                    state = State.SEND;
                    loadByte();
                    putBit();
                } else {
                    state = State.IGNORE; // NACK: the master ends with a STOP or a repeated START
                }
            }
            default -> {
            }
        }
    }

    private void byteReceived(int b) {
        if (addressPhase) {
            addressPhase = false;
            if ((b & 0xFE) != SfpModule.I2C_ADDRESS) {
                state = State.IGNORE; // not us: no acknowledge, the bus floats high
                return;
            }
            readMode = (b & 1) != 0;
            offsetPending = !readMode;
        } else if (offsetPending) {
            pointer = b;
            offsetPending = false;
        }
        // else: a data byte written to the read-only serial ID: acknowledged, not stored
        slaveSda = false; // acknowledge during the ninth clock
        state = State.ACK_RECEIVED;
    }

    private void loadByte() {
        outByte = module.read(pointer);
        pointer = (pointer + 1) & 0xFF;
        bits = 0;
        bytesRead++;
    }

    private void putBit() {
        slaveSda = ((outByte >>> (7 - bits)) & 1) != 0;
        bits++;
    }
}
