package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.wire.Wire;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * IEEE 802.3x flow control (datasheet 3.7.7): received PAUSE frames hold this port's transmission (MFLCN.RFCE), and
 * the receive packet buffer filling past FCRTH[0] sends an XOFF, draining below FCRTL[0] an XON (FCCFG.TFCE with
 * FCRTH[0].FCEN). Counts what it honoured and sent; LXOFFRXCNT/LXONRXCNT read and clear the honoured ones. Not
 * thread-safe: the port calls it under its monitor.
 */
final class FlowControl {
    private static final ValueLayout.OfInt LE_INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT_U = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** 802.3 annex 31B: the reserved multicast address of MAC control (PAUSE) frames. */
    private static final byte[] PAUSE_DA = {0x01, (byte) 0x80, (byte) 0xC2, 0x00, 0x00, 0x01};

    private final RegisterFile regs;
    private final PortState state;
    private final RxPacketBuffer fifo;
    private final Wire wire;
    private final MemorySegment pauseFrame;
    private long txPausedUntil; // 802.3x: no transmission before this nanoTime
    private boolean xoffSent; // transmit flow control: an XOFF went out and no XON since
    private long lxoffSent;
    private long lxonSent;
    private long lxoffReceived;
    private long lxonReceived;
    private long lxoffRead;
    private long lxonRead;

    /** @param pauseFrame {@code MIN_FRAME} bytes where PAUSE frames are built */
    FlowControl(RegisterFile regs, PortState state, RxPacketBuffer fifo, Wire wire, MemorySegment pauseFrame) {
        this.regs = regs;
        this.state = state;
        this.fifo = fifo;
        this.wire = wire;
        this.pauseFrame = pauseFrame;
    }

    /** Transmission resumes at once and no XOFF is outstanding (a reset); the counters stay. */
    void reset() {
        txPausedUntil = 0;
        xoffSent = false;
    }

    /** True for the 16-bit clear-on-read counters of PAUSE frames received. */
    static boolean ownsCounter(int off) {
        return off == LXOFFRXCNT || off == LXONRXCNT;
    }

    /** A read of LXOFFRXCNT or LXONRXCNT (8.2.3.23): what was honoured since the last read, 16 bits. */
    int readCounter(int off) {
        boolean xoff = off == LXOFFRXCNT;
        long v = (xoff ? lxoffReceived - lxoffRead : lxonReceived - lxonRead) & 0xFFFF;
        if (xoff) {
            lxoffRead = lxoffReceived;
        } else {
            lxonRead = lxonReceived;
        }
        return (int) v;
    }

    /** Whether a received XOFF holds transmission at {@code nanos}. */
    boolean pausedAt(long nanos) {
        return nanos - txPausedUntil < 0;
    }

    /**
     * 802.3 annex 31B / datasheet 3.7.7.2 receive flow control: with MFLCN.RFCE a PAUSE frame (EtherType 0x8808,
     * opcode 1, to 01:80:c2:00:00:01) stops transmission for its pause time in 512-bit-time quanta (51.2 ns at
     * 10 Gb/s), a pause time of 0 (XON) resumes it; the MAC consumes the frame and counts it in LXOFFRXCNT or
     * LXONRXCNT. Without RFCE it is an ordinary multicast frame for the address filter. True when consumed.
     */
    boolean receivePause(MemorySegment frame, long offset, int length, long arrivalNanos) {
        if (length < 18 || frame.get(FrameParser.BE16, offset + 12) != (short) ETHERTYPE_MAC_CONTROL
                || frame.get(FrameParser.BE16, offset + 14) != (short) MAC_CONTROL_PAUSE
                || (regs.reg(MFLCN) & MFLCN_RFCE) == 0) {
            return false;
        }
        int quanta = frame.get(FrameParser.BE16, offset + 16) & 0xFFFF;
        if (quanta == 0) {
            txPausedUntil = arrivalNanos;
            lxonReceived++;
        } else {
            txPausedUntil = arrivalNanos + quanta * PAUSE_QUANTUM_DECI_NS / 10;
            lxoffReceived++;
        }
        return true;
    }

    /**
     * Transmit flow control (3.7.7.1, FCCFG.TFCE = 802.3x with FCRTH[0].FCEN): when packet buffer 0 fills to
     * FCRTH[0].RTH an XOFF with FCTTV[0]'s pause time goes out; when it drains below FCRTL[0].RTL an XON follows
     * if FCRTL[0].XONE is set. (The refresh of a long pause by FCRTV is not modelled: one XOFF per crossing.)
     */
    void packetBufferChanged() {
        int fcrth = regs.reg(FCRTH0);
        if ((regs.reg(FCCFG) & FCCFG_TFCE_802_3X) == 0 || (fcrth & FCRTH_FCEN) == 0) {
            xoffSent = false;
            return;
        }
        int used = fifo.used();
        int fcrtl = regs.reg(FCRTL0);
        if (!xoffSent && used >= (fcrth & FC_THRESHOLD_MASK)) {
            xoffSent = true;
            lxoffSent++;
            sendPause(regs.reg(FCTTV0) & 0xFFFF);
        } else if (xoffSent && used < (fcrtl & FC_THRESHOLD_MASK)) {
            xoffSent = false;
            if ((fcrtl & FCRTL_XONE) != 0) {
                lxonSent++;
                sendPause(0);
            }
        }
    }

    /** A PAUSE frame from this port's address (RAR[0]) with {@code quanta}, padded to the minimum size. */
    private void sendPause(int quanta) {
        if (!state.linkUp) {
            return;
        }
        MemorySegment f = pauseFrame;
        f.fill((byte) 0);
        MemorySegment.copy(PAUSE_DA, 0, f, ValueLayout.JAVA_BYTE, 0, 6);
        f.set(LE_INT_U, 6, regs.reg(RAL0));
        f.set(LE_SHORT_U, 10, (short) regs.reg(RAH0));
        f.set(FrameParser.BE16, 12, (short) ETHERTYPE_MAC_CONTROL);
        f.set(FrameParser.BE16, 14, (short) MAC_CONTROL_PAUSE);
        f.set(FrameParser.BE16, 16, (short) quanta);
        wire.transmit(f, 0, MIN_FRAME - CRC_LEN, System.nanoTime());
    }

    /** PAUSE frames sent (XOFF, XON) since the port was built. */
    long[] sent() {
        return new long[] {lxoffSent, lxonSent};
    }

    /** PAUSE frames honoured (XOFF, XON) since the port was built: never cleared by register reads. */
    long[] honoured() {
        return new long[] {lxoffReceived, lxonReceived};
    }
}
