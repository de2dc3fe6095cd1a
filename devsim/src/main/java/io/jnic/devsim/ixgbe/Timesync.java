package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

/**
 * The 82599's IEEE 1588 clock and time stamp latches (datasheet 7.9 "Time SYNC (IEEE1588 and 802.1AS)", registers
 * 8.2.3.26). SYSTIM advances by TIMINCA.IV every TIMINCA.IP cycles of the 6.4 ns clock of a 10 Gb/s link
 * (7.9.3.1); with TIMINCA zero it stands still. Time is derived from the caller's nanoTime, and the cycles are
 * counted on one grid for every port of the process (multiples of 6.4 ns since nanoTime 0): two ports then tick
 * together, and the SYSTIM difference between two instants {@code d} apart is exactly {@code d / (IP * 6.4 ns) * IV}
 * when {@code d} is a multiple of the increment period.
 *
 * <p>RX (7.9.2.1): a frame the ETQF 1588 filter marks is time stamped when TSYNCRXCTL.EN is set and no earlier
 * time stamp is latched (TSYNCRXCTL.VALID clear); RXSTMPL/H and RXSATRL/H hold it until software reads RXSTMPH,
 * which frees the latch. TX (7.9.2.2): a frame whose descriptor has the 1588 bit latches TXSTMPL/H when it leaves,
 * under the same rule; reading TXSTMPH frees the latch. SYSTIML reads latch SYSTIMH (8.2.3.26.5), so a
 * low-then-high read is consistent; writing SYSTIML then SYSTIMH sets the clock; writing TIMADJH applies
 * TIMADJL/H once (bit 31 of TIMADJH: subtract).
 */
final class Timesync {
    /** One clock cycle of a 10 Gb/s link, in tenths of a nanosecond. */
    static final long CYCLE_DECI_NS = 64;

    private long base; // SYSTIM at period index `anchor`
    private long anchor;
    private int incPeriod;
    private int incValue;
    private int systimlWritten;
    private int systimhLatch;
    private int rxctl;
    private int txctl;
    private long rxStamp;
    private int rxSatrl;
    private int rxSatrh;
    private long txStamp;
    private long rxLatched;
    private long txLatched;
    private int timadjl;

    void reset() {
        base = 0;
        anchor = 0;
        incPeriod = 0;
        incValue = 0;
        systimlWritten = 0;
        systimhLatch = 0;
        rxctl = 0;
        txctl = 0;
        rxStamp = 0;
        txStamp = 0;
        rxSatrl = 0;
        rxSatrh = 0;
        timadjl = 0;
    }

    private long period(long nanos) {
        return incPeriod == 0 ? 0 : Math.floorDiv(nanos * 10, CYCLE_DECI_NS * incPeriod);
    }

    /** SYSTIM at {@code nanos} (System.nanoTime). */
    long systim(long nanos) {
        if (incPeriod == 0 || incValue == 0) {
            return base;
        }
        return base + (period(nanos) - anchor) * incValue;
    }

    private void set(long value, long nanos) {
        base = value;
        anchor = period(nanos);
    }

    static boolean owns(int off) {
        return off == TSYNCRXCTL || off == RXSTMPL || off == RXSTMPH || off == RXSATRL || off == RXSATRH
                || off == TSYNCTXCTL || off == TXSTMPL || off == TXSTMPH || off == SYSTIML || off == SYSTIMH
                || off == TIMINCA || off == TIMADJL || off == TIMADJH;
    }

    int read(int off, long nanos) {
        switch (off) {
            case TSYNCRXCTL:
                return rxctl;
            case RXSTMPL:
                return (int) rxStamp;
            case RXSTMPH:
                rxctl &= ~TSYNC_VALID; // reading the high half frees the latch (7.9.2.1)
                return (int) (rxStamp >>> 32);
            case RXSATRL:
                return rxSatrl;
            case RXSATRH:
                return rxSatrh;
            case TSYNCTXCTL:
                return txctl;
            case TXSTMPL:
                return (int) txStamp;
            case TXSTMPH:
                txctl &= ~TSYNC_VALID;
                return (int) (txStamp >>> 32);
            case SYSTIML: {
                long t = systim(nanos);
                systimhLatch = (int) (t >>> 32);
                return (int) t;
            }
            case SYSTIMH:
                return systimhLatch;
            case TIMINCA:
                return incPeriod << TIMINCA_IP_SHIFT | incValue;
            default:
                return 0; // TIMADJL/H read back as 0 here: they are write-and-apply
        }
    }

    void write(int off, int value, long nanos) {
        switch (off) {
            case TSYNCRXCTL -> rxctl = (rxctl & TSYNC_VALID) | (value & ~TSYNC_VALID);
            case TSYNCTXCTL -> txctl = (txctl & TSYNC_VALID) | (value & ~TSYNC_VALID);
            case SYSTIML -> systimlWritten = value;
            case SYSTIMH -> set((long) value << 32 | (systimlWritten & 0xFFFFFFFFL), nanos);
            case TIMINCA -> {
                long now = systim(nanos);
                incPeriod = value >>> TIMINCA_IP_SHIFT;
                incValue = value & TIMINCA_IV_MASK;
                set(now, nanos);
            }
            case TIMADJL -> timadjl = value;
            case TIMADJH -> {
                long adj = (long) (value & ~TIMADJH_SIGN) << 32 | (timadjl & 0xFFFFFFFFL);
                base += (value & TIMADJH_SIGN) != 0 ? -adj : adj;
            }
            default -> {
                // RXSTMP*, RXSATR*, TXSTMP*: read only
            }
        }
    }

    /** Latches an RX time stamp for a frame that the 1588 ETQF filter marked; true when the frame is stamped. */
    boolean stampRx(long arrivalNanos, int satrl, int satrh) {
        if ((rxctl & TSYNC_ENABLED) == 0 || (rxctl & TSYNC_VALID) != 0) {
            return false;
        }
        rxStamp = systim(arrivalNanos);
        rxSatrl = satrl;
        rxSatrh = satrh;
        rxctl |= TSYNC_VALID;
        rxLatched++;
        return true;
    }

    /** Frees the RX latch of a frame that could not be delivered after all. */
    void unlatchRx() {
        rxctl &= ~TSYNC_VALID;
        rxLatched--;
    }

    /** Latches the TX time stamp of a frame whose descriptor asked for one. */
    boolean stampTx(long departNanos) {
        if ((txctl & TSYNC_ENABLED) == 0 || (txctl & TSYNC_VALID) != 0) {
            return false;
        }
        txStamp = systim(departNanos);
        txctl |= TSYNC_VALID;
        txLatched++;
        return true;
    }

    long rxLatched() {
        return rxLatched;
    }

    long txLatched() {
        return txLatched;
    }
}
