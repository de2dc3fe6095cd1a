package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.InterruptSink;
import java.util.function.IntUnaryOperator;

/**
 * The 82599's interrupt logic (datasheet 7.3): queue and other causes (EICR), their masks (EIMS/EIMC), the extended
 * per-vector registers of MSI-X mode, IVAR's mapping of queues to vectors, auto-clear (EIAC) and auto-mask
 * (EIAM with GPIE.EIAME), and EITR's minimum interval between a vector's messages. The port's data path says which
 * queues it touched; {@link #deliver} then sends what is armed, enabled and not throttled to the sink.
 *
 * <p>Configuration registers it only reads (GPIE, EIAC, EIAM, IVAR, EITR) stay in the port's register file, read
 * through {@code regs}. Not thread-safe: the port calls it under its own lock.
 */
final class InterruptModel {
    private final IntUnaryOperator regs;
    private volatile InterruptSink sink = InterruptSink.NONE;
    // per-vector causes in MSI-X mode (EICR[15:0] = vectors 0-15), EICR[15:0] otherwise
    private long queueCause;
    private long queueArmed;
    private long vecMask;
    private long vecAutoMask;
    private int otherCause; // EICR bits 31:16
    private int otherArmed;
    private int otherMask;
    private final long[] lastFire = new long[MSIX_VECTORS + 1];
    private long rxTouched0;
    private long rxTouched1;
    private long txTouched0;
    private long txTouched1;

    /** @param regs reads a register of the port's file by offset */
    InterruptModel(IntUnaryOperator regs) {
        this.regs = regs;
    }

    void sink(InterruptSink s) {
        this.sink = s == null ? InterruptSink.NONE : s;
    }

    /** Everything cleared and masked, as after a reset (EIMS 0: nothing is sent until the driver enables it). */
    void reset() {
        queueCause = queueArmed = vecMask = vecAutoMask = 0;
        otherCause = otherArmed = otherMask = 0;
        java.util.Arrays.fill(lastFire, 0);
        rxTouched0 = rxTouched1 = txTouched0 = txTouched1 = 0;
    }

    /** True for the registers whose writes this model takes. */
    static boolean ownsWrite(int off) {
        return off == EICR || off == EICS || off == EIMS || off == EIMC || (off & ~4) == EICS_EX0 || (off & ~4) == EIMS_EX0
                || (off & ~4) == EIMC_EX0 || (off & ~4) == EIAM_EX0;
    }

    /** True for the registers whose reads this model answers (EIMC_EX is write-only: the port's file answers). */
    static boolean ownsRead(int off) {
        return ownsWrite(off) && (off & ~4) != EIMC_EX0;
    }

    int read(int off) {
        switch (off) {
            case EICR: {
                int v = eicr();
                // 7.3.4: read-to-clear; with GPIE.OCD only the other-cause bits clear on read (the queue bits then
                // need auto-clear or write-1-to-clear)
                boolean ocd = (regs.applyAsInt(GPIE) & GPIE_OCD) != 0;
                clearCauses(ocd ? ~EICR_RTX_QUEUE : -1);
                return v;
            }
            case EICS:
                return eicr(); // causes without clearing them (what drivers read to avoid read-to-clear)
            case EIMS:
                return (int) (vecMask & 0xFFFF) | otherMask;
            case EIMC:
                return 0;
            default:
                break;
        }
        int shift = (off & 4) == 0 ? 0 : 32;
        return switch (off & ~4) {
            case EIMS_EX0 -> (int) (vecMask >>> shift);
            case EICS_EX0 -> (int) (queueCause >>> shift);
            case EIAM_EX0 -> (int) (vecAutoMask >>> shift);
            default -> throw new IllegalArgumentException("0x" + Integer.toHexString(off) + " is not read here");
        };
    }

    void write(int off, int value, long now) {
        switch (off) {
            case EICR:
                clearCauses(value); // write 1 to clear
                return;
            case EICS:
                setCauses(value & EICR_RTX_QUEUE, value & ~EICR_RTX_QUEUE);
                deliver(now);
                return;
            case EIMS:
                vecMask |= value & 0xFFFF;
                otherMask |= value & ~EICR_RTX_QUEUE;
                deliver(now);
                return;
            case EIMC:
                vecMask &= ~(long) (value & 0xFFFF);
                otherMask &= ~(value & ~EICR_RTX_QUEUE);
                return;
            default:
                break;
        }
        int shift = (off & 4) == 0 ? 0 : 32;
        long bits = (value & 0xFFFFFFFFL) << shift;
        switch (off & ~4) {
            case EICS_EX0 -> {
                queueCause |= bits;
                queueArmed |= bits;
                deliver(now);
            }
            case EIMS_EX0 -> {
                vecMask |= bits;
                deliver(now);
            }
            case EIMC_EX0 -> vecMask &= ~bits;
            case EIAM_EX0 -> vecAutoMask = (vecAutoMask & ~(0xFFFFFFFFL << shift)) | bits;
            default -> throw new IllegalArgumentException("0x" + Integer.toHexString(off) + " is not an interrupt register");
        }
    }

    /** EIAM (the legacy register) was written: its low 16 bits are vectors 0-15's auto-mask. */
    void eiamWritten(int value) {
        vecAutoMask = (vecAutoMask & ~0xFFFFL) | (value & 0xFFFF);
    }

    /** The MSI-X pending-bit array's dword {@code i} (0 or 1): vectors armed and not yet sent. */
    int pendingBits(int i) {
        return (int) (queueArmed >>> (i == 0 ? 0 : 32));
    }

    void rxTouched(int q) {
        if (q < 64) {
            rxTouched0 |= 1L << q;
        } else {
            rxTouched1 |= 1L << (q - 64);
        }
    }

    void txTouched(int q) {
        if (q < 64) {
            txTouched0 |= 1L << q;
        } else {
            txTouched1 |= 1L << (q - 64);
        }
    }

    /** Sets an other cause (EICR bits 31:16: link, SFP, RX miss...), to be sent by the next {@link #deliver}. */
    void raiseOther(int cause) {
        otherCause |= cause;
        otherArmed |= cause;
    }

    /** The end of a batch of data-path work: the touched queues' causes are raised, then what is ready is sent. */
    void endBatch(long now) {
        if ((rxTouched0 | rxTouched1 | txTouched0 | txTouched1) != 0) {
            raiseQueueCauses(rxTouched0, 0, 0);
            raiseQueueCauses(rxTouched1, 64, 0);
            raiseQueueCauses(txTouched0, 0, 8);
            raiseQueueCauses(txTouched1, 64, 8);
            rxTouched0 = rxTouched1 = txTouched0 = txTouched1 = 0;
        }
        if ((queueArmed | otherArmed) != 0) {
            deliver(now);
        }
    }

    /** 8.2.3.5.14 IVAR: entry for RX queue 2n in bits 7:0, TX 2n in 15:8, RX 2n+1 in 23:16, TX 2n+1 in 31:24. */
    private void raiseQueueCauses(long touched, int firstQueue, int txShift) {
        while (touched != 0) {
            int bit = Long.numberOfTrailingZeros(touched);
            touched &= touched - 1;
            int q = firstQueue + bit;
            int ivar = regs.applyAsInt(IVAR0 + 4 * (q >>> 1));
            int entry = (ivar >>> (((q & 1) << 4) + txShift)) & 0xFF;
            if ((entry & IVAR_ALLOC_VAL) != 0) {
                int vector = entry & IVAR_VECTOR_MASK;
                if (!msixMode()) {
                    vector &= 0xF; // legacy/MSI: the entry names an EICR bit
                }
                queueCause |= 1L << vector;
                queueArmed |= 1L << vector;
            }
        }
    }

    private boolean msixMode() {
        return (regs.applyAsInt(GPIE) & GPIE_MSIX_MODE) != 0;
    }

    private int eicr() {
        return (int) (queueCause & 0xFFFF) | otherCause;
    }

    private void setCauses(int queueBits, int otherBits) {
        queueCause |= queueBits & 0xFFFFL;
        queueArmed |= queueBits & 0xFFFFL;
        otherCause |= otherBits & ~EICR_RTX_QUEUE;
        otherArmed |= otherBits & ~EICR_RTX_QUEUE;
    }

    private void clearCauses(int bits) {
        queueCause &= ~(bits & 0xFFFFL);
        queueArmed &= ~(bits & 0xFFFFL);
        otherCause &= ~(bits & ~EICR_RTX_QUEUE);
        otherArmed &= ~(bits & ~EICR_RTX_QUEUE);
    }

    /**
     * Sends what is armed, enabled and not throttled. MSI-X (7.3.1.3): one message per vector; EIAC auto-clears
     * the causes of vectors 0-15 and the other causes it names (vectors 16-63 always auto-clear); with
     * GPIE.EIAME, EIAM auto-masks. EITR (7.3.2.1) keeps a minimum interval between a vector's messages.
     */
    void deliver(long now) {
        int eiac = regs.applyAsInt(EIAC);
        boolean eiame = (regs.applyAsInt(GPIE) & GPIE_EIAME) != 0;
        if (msixMode()) {
            long ready = queueArmed & vecMask;
            while (ready != 0) {
                int v = Long.numberOfTrailingZeros(ready);
                ready &= ready - 1;
                if (throttled(v, now)) {
                    continue;
                }
                long bit = 1L << v;
                queueArmed &= ~bit;
                if (v >= 16 || (eiac & (1 << v)) != 0) {
                    queueCause &= ~bit;
                }
                if (eiame && (vecAutoMask & bit) != 0) {
                    vecMask &= ~bit;
                }
                sink.msix(v);
            }
            int misc = regs.applyAsInt(IVAR_MISC) >>> 8;
            int other = otherArmed & otherMask & EICR_OTHER_CAUSES;
            if (other != 0 && (misc & IVAR_ALLOC_VAL) != 0) {
                int v = misc & IVAR_VECTOR_MASK;
                if (!throttled(v, now)) {
                    otherArmed &= ~other;
                    otherCause &= ~(other & eiac);
                    if (eiame) {
                        otherMask &= ~(other & regs.applyAsInt(EIAM));
                    }
                    sink.msix(v);
                }
            }
        } else {
            int pending = (int) (queueArmed & vecMask & 0xFFFF) | (otherArmed & otherMask);
            if (pending != 0 && !throttled(MSIX_VECTORS, now)) {
                queueArmed &= ~(pending & 0xFFFFL);
                otherArmed &= ~pending;
                sink.legacy();
            }
        }
    }

    private boolean throttled(int vector, long now) {
        int interval = vector < MSIX_VECTORS ? (regs.applyAsInt(eitr(vector)) & EITR_INTERVAL_MASK) >>> 3 : 0;
        if (interval != 0 && lastFire[vector] != 0 && now - lastFire[vector] < interval * EITR_UNIT_NS) {
            return true;
        }
        lastFire[vector] = now == 0 ? 1 : now;
        return false;
    }
}
