package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

/**
 * The statistics registers (datasheet 8.2.3.23): one counter per index, cleared when the driver reads it; a 64-bit
 * pair's low half returns and clears the counter and latches the high half. Beside them the running totals, which
 * register reads never clear (status output), and the model's own error counts. RQSMR/TQSM map queues to the
 * per-queue counters. Not thread-safe: the port calls it under its monitor.
 */
final class Statistics {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());

    static final int S_CRCERRS = 0, S_ILLERRC = 1, S_ERRBC = 2, S_RLEC = 3, S_PRC64 = 4, S_GPRC = 10,
            S_BPRC = 11, S_MPRC = 12, S_GPTC = 13, S_GORC = 14, S_GOTC = 15, S_RUC = 16, S_RFC = 17, S_ROC = 18,
            S_RJC = 19, S_TOR = 20, S_TPR = 21, S_TPT = 22, S_PTC64 = 23, S_MPTC = 29, S_BPTC = 30,
            S_RXDGPC = 31, S_TXDGPC = 32, S_MPC0 = 33, S_RNBC0 = 41, S_QPRC0 = 49, S_QPRDC0 = 65, S_QBRC0 = 81,
            S_QPTC0 = 97, S_QBTC0 = 113, S_COUNT = 129;
    /** Counter index per BAR0 dword, -1 for none; 64-bit pairs map their low register here. */
    private static final int[] STAT_OF = new int[BAR0_SIZE / 4];
    /** Dwords of the high halves of 64-bit counters: index of the counter, else -1. */
    private static final int[] STAT_HIGH_OF = new int[BAR0_SIZE / 4];

    static {
        java.util.Arrays.fill(STAT_OF, -1);
        java.util.Arrays.fill(STAT_HIGH_OF, -1);
        stat(CRCERRS, S_CRCERRS);
        stat(ILLERRC, S_ILLERRC);
        stat(ERRBC, S_ERRBC);
        stat(RLEC, S_RLEC);
        int[] prc = {PRC64, PRC127, PRC255, PRC511, PRC1023, PRC1522};
        int[] ptc = {PTC64, PTC127, PTC255, PTC511, PTC1023, PTC1522};
        for (int i = 0; i < 6; i++) {
            stat(prc[i], S_PRC64 + i);
            stat(ptc[i], S_PTC64 + i);
        }
        stat(GPRC, S_GPRC);
        stat(BPRC, S_BPRC);
        stat(MPRC, S_MPRC);
        stat(GPTC, S_GPTC);
        stat64(GORCL, GORCH, S_GORC);
        stat64(GOTCL, GOTCH, S_GOTC);
        stat(RUC, S_RUC);
        stat(RFC, S_RFC);
        stat(ROC, S_ROC);
        stat(RJC, S_RJC);
        stat64(TORL, TORH, S_TOR);
        stat(TPR, S_TPR);
        stat(TPT, S_TPT);
        stat(MPTC, S_MPTC);
        stat(BPTC, S_BPTC);
        stat(RXDGPC, S_RXDGPC);
        stat(TXDGPC, S_TXDGPC);
        for (int i = 0; i < 8; i++) {
            stat(MPC0 + 4 * i, S_MPC0 + i);
            stat(RNBC0 + 4 * i, S_RNBC0 + i);
        }
        for (int i = 0; i < QUEUE_STAT_COUNT; i++) {
            stat(QPRC0 + QUEUE_STRIDE * i, S_QPRC0 + i);
            stat(QPRDC0 + QUEUE_STRIDE * i, S_QPRDC0 + i);
            stat64(QBRC_L0 + QUEUE_STRIDE * i, QBRC_H0 + QUEUE_STRIDE * i, S_QBRC0 + i);
            stat(QPTC0 + 4 * i, S_QPTC0 + i);
            stat(TXQ_BASE + 0x30 + QUEUE_STRIDE * i, S_QPTC0 + i); // 82598-layout alias of QPTC
            stat64(QBTC_L0 + 8 * i, QBTC_H0 + 8 * i, S_QBTC0 + i);
        }
    }

    private static void stat(int offset, int index) {
        STAT_OF[offset >>> 2] = index;
    }

    private static void stat64(int low, int high, int index) {
        STAT_OF[low >>> 2] = index;
        STAT_HIGH_OF[high >>> 2] = index;
    }

    private final String name;
    private final RegisterFile regs;
    private final long[] stats = new long[S_COUNT];
    private final long[] totals = new long[S_COUNT];
    private final long[] latchedHigh = new long[S_COUNT];
    private long dmaErrors;
    private long txErrors;

    Statistics(String name, RegisterFile regs) {
        this.name = name;
        this.regs = regs;
    }

    /** The counter whose (low) register is at {@code off}, or -1. */
    static int counterAt(int off) {
        return STAT_OF[off >>> 2];
    }

    /** The 64-bit counter whose high register is at {@code off}, or -1. */
    static int highHalfAt(int off) {
        return STAT_HIGH_OF[off >>> 2];
    }

    /** A driver's read of a counter's (low) register: returns and clears it, latching the high half. */
    int read(int index) {
        long v = stats[index];
        stats[index] = 0;
        latchedHigh[index] = v >>> 32;
        return (int) v;
    }

    /** A driver's read of a 64-bit counter's high register: the half latched by the last low read. */
    int readHigh(int index) {
        long v = latchedHigh[index];
        latchedHigh[index] = 0;
        return (int) v;
    }

    void count(int index, long n) {
        stats[index] += n;
        totals[index] += n;
    }

    /** Index 0-5 of the PRC64..PRC1522 / PTC64..PTC1522 bucket of a frame of this size (DA through FCS). */
    static int sizeBucket(int wireLen) {
        return wireLen <= 64 ? 0 : wireLen <= 127 ? 1 : wireLen <= 255 ? 2 : wireLen <= 511 ? 3 : wireLen <= 1023 ? 4 : 5;
    }

    /** The per-queue statistics index of RX queue {@code queue} (RQSMR). */
    int rxIndex(int queue) {
        return (regs.reg(0x02300 + 4 * (queue >>> 2)) >>> (8 * (queue & 3))) & 0xF; // RQSMR
    }

    /** The per-queue statistics index of TX queue {@code queue} (TQSM). */
    int txIndex(int queue) {
        return (regs.reg(0x08600 + 4 * (queue >>> 2)) >>> (8 * (queue & 3))) & 0xF; // TQSM
    }

    /** A reset clears the registers' counts; the running totals stay. */
    void reset() {
        java.util.Arrays.fill(stats, 0);
        java.util.Arrays.fill(latchedHigh, 0);
    }

    /** A buffer or ring the driver gave is not DMA-mapped: counted, logged at powers of two. */
    void dmaError(String what) {
        dmaErrors++;
        if (dmaErrors == 1 || Long.bitCount(dmaErrors) == 1) {
            LOG.log(System.Logger.Level.WARNING, "{0}: DMA error #{1}: {2}", name, dmaErrors, what);
        }
    }

    /** A packet the transmit path dropped (a bad descriptor chain, a refused offload). */
    void txError() {
        txErrors++;
    }

    PortCounters snapshot(boolean linkUp, long faultDrops) {
        return new PortCounters(name, linkUp, totals[S_GPRC], totals[S_GORC], totals[S_GPTC], totals[S_GOTC],
                totals[S_MPC0], totals[S_RNBC0], sum(totals, S_QPRDC0, 16), totals[S_CRCERRS],
                totals[S_RUC] + totals[S_ROC], totals[S_RXDGPC], totals[S_TXDGPC], faultDrops, dmaErrors,
                txErrors);
    }

    private static long sum(long[] a, int from, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += a[from + i];
        }
        return s;
    }
}
