package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.*;

import io.jnic.driver.intel.RxQueue;
import io.jnic.driver.intel.RxTimestamps;
import io.jnic.pci.PciBar;

/**
 * IEEE 1588 on the 82599 (datasheet 7.9 "Time SYNC (IEEE1588 and 802.1AS)", registers 8.2.3.26). Enabling programs
 * TIMINCA so that SYSTIM counts nanoseconds: {@link #INC_PERIOD} cycles of the 6.4 ns clock of a 10 Gb/s link
 * (32 ns) add {@link #INC_VALUE} (32), so time stamps are nanoseconds with a 32 ns resolution. ETQF[3] marks
 * the 1588 EtherType (0x88F7) for time stamps (without a queue of its own: RSS still places the frame),
 * TSYNCRXCTL takes L2 and L4 PTP event messages, TSYNCTXCTL stamps frames whose descriptor has MAC.1588.
 *
 * <p>The RX time stamp is read by the queue's poller ({@link RxQueue}) when a descriptor has STATUS.TS: RXSTMPL then
 * RXSTMPH, whose read frees the latch for the next frame; a stamp nobody claims for a whole watchdog period (the
 * frame went to a queue a secondary polls, without these registers) is freed by the port's watchdog
 * ({@link #freeUnclaimedRxStamp}). The TX one is read here, once ({@link #readTx}).
 */
final class IxgbeTimesync implements RxTimestamps {
    static final int INC_PERIOD = 5;
    static final int INC_VALUE = 32;

    private final PciBar bar;
    private boolean enabled;
    /** RXSTMPL of a latched RX stamp as the last watchdog turn saw it, or -1: none latched then. */
    private long heldLow = -1;
    private long unclaimed;

    IxgbeTimesync(PciBar bar) {
        this.bar = bar;
    }

    boolean enabled() {
        return enabled;
    }

    void enable() {
        bar.write32(TIMINCA, INC_PERIOD << TIMINCA_IP_SHIFT | INC_VALUE);
        if (!enabled) {
            write(0); // DPDK and Linux start the clock at 0 on enable
        }
        bar.write32(ETQS0 + 4 * ETQF_SLOT_1588, 0);
        bar.write32(ETQF0 + 4 * ETQF_SLOT_1588, ETQF_FILTER_EN | ETQF_1588 | ETHERTYPE_1588);
        bar.write32(TSYNCRXCTL, (bar.read32(TSYNCRXCTL) & ~0xE) | TSYNCRXCTL_TYPE_L2_L4_V2 | TSYNC_ENABLED);
        bar.setBits(TSYNCTXCTL, TSYNC_ENABLED);
        // a stamp latched before is stale: read the high halves to free both latches
        bar.read32(RXSTMPH);
        bar.read32(TXSTMPH);
        enabled = true;
    }

    void disable() {
        bar.clearBits(TSYNCRXCTL, TSYNC_ENABLED);
        bar.clearBits(TSYNCTXCTL, TSYNC_ENABLED);
        bar.write32(ETQF0 + 4 * ETQF_SLOT_1588, 0);
        bar.write32(TIMINCA, 0);
        enabled = false;
    }

    /** SYSTIML first: its read latches SYSTIMH (8.2.3.26.5). */
    long read() {
        long lo = bar.read32(SYSTIML) & 0xFFFFFFFFL;
        long hi = bar.read32(SYSTIMH) & 0xFFFFFFFFL;
        return hi << 32 | lo;
    }

    /** SYSTIML then SYSTIMH: the clock takes the value at the high write. */
    void write(long nanos) {
        bar.write32(SYSTIML, (int) nanos);
        bar.write32(SYSTIMH, (int) (nanos >>> 32));
    }

    /** TIMADJL/H: added to (bit 31 of TIMADJH: subtracted from) SYSTIM in one step, without a read-modify-write. */
    void adjust(long delta) {
        long m = Math.abs(delta);
        if (delta == Long.MIN_VALUE || m >>> 63 != 0 || (m >>> 32) > 0x7FFFFFFFL) {
            throw new IllegalArgumentException("time adjustment " + delta + " ns is beyond TIMADJ's 63 bits");
        }
        bar.write32(TIMADJL, (int) m);
        bar.write32(TIMADJH, (int) (m >>> 32) | (delta < 0 ? TIMADJH_SIGN : 0));
    }

    @Override
    public int ptpFilter() {
        return ETQF_SLOT_1588;
    }

    /** RXSTMPL then RXSTMPH, whose read frees the latch (7.9.2.1); -1 when nothing is latched. */
    @Override
    public long take() {
        if ((bar.read32(TSYNCRXCTL) & TSYNC_VALID) == 0) {
            return -1;
        }
        long lo = bar.read32(RXSTMPL) & 0xFFFFFFFFL;
        long hi = bar.read32(RXSTMPH) & 0xFFFFFFFFL;
        return hi << 32 | lo;
    }

    /** The latched TX time stamp, freeing the latch; -1 when none is waiting. */
    long readTx() {
        if ((bar.read32(TSYNCTXCTL) & TSYNC_VALID) == 0) {
            return -1;
        }
        long lo = bar.read32(TXSTMPL) & 0xFFFFFFFFL;
        long hi = bar.read32(TXSTMPH) & 0xFFFFFFFFL;
        return hi << 32 | lo;
    }

    /**
     * Watchdog turn: an RX stamp still latched, the same one, a whole watchdog period later belongs to a frame no
     * poller with the registers will read (a queue a secondary drives: it maps only the queue pages) and would keep
     * every later frame of the port from being stamped; reading RXSTMPH frees it. True when it freed one.
     */
    synchronized boolean freeUnclaimedRxStamp() {
        if (!enabled || (bar.read32(TSYNCRXCTL) & TSYNC_VALID) == 0) {
            heldLow = -1;
            return false;
        }
        long lo = bar.read32(RXSTMPL) & 0xFFFFFFFFL;
        if (lo != heldLow) {
            heldLow = lo; // latched since the last turn: its poller may read it yet
            return false;
        }
        bar.read32(RXSTMPH);
        heldLow = -1;
        unclaimed++;
        return true;
    }

    /** RX stamps {@link #freeUnclaimedRxStamp} freed. */
    synchronized long unclaimedRxStamps() {
        return unclaimed;
    }

    /** After a global reset: the clock restarts from 0 (its value is lost with the registers), stamping resumes. */
    void apply() {
        if (enabled) {
            enabled = false;
            enable();
        }
    }
}
