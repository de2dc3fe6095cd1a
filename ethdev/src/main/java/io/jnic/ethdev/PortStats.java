package io.jnic.ethdev;

import java.util.Arrays;

/**
 * Port counters (rte_eth_stats): a reusable holder that {@link EthDevice#stats(PortStats)} fills, so that
 * polling stats allocates nothing. Per-queue arrays hold {@link #QUEUE_STATS} queues (RTE_ETHDEV_QUEUE_STAT_CNTRS).
 */
public final class PortStats {
    public static final int QUEUE_STATS = 16;

    /** Frames received (good). */
    public long ipackets;
    public long opackets;
    public long ibytes;
    public long obytes;
    /** Frames the device dropped for want of a free descriptor or buffer space. */
    public long imissed;
    /** Erroneous frames received (CRC, length). */
    public long ierrors;
    public long oerrors;
    /** RX buffer allocation failures (mempool empty when refilling the ring). */
    public long rxNombuf;
    public final long[] qIpackets = new long[QUEUE_STATS];
    public final long[] qOpackets = new long[QUEUE_STATS];
    public final long[] qIbytes = new long[QUEUE_STATS];
    public final long[] qObytes = new long[QUEUE_STATS];
    public final long[] qErrors = new long[QUEUE_STATS];

    public void clear() {
        ipackets = opackets = ibytes = obytes = imissed = ierrors = oerrors = rxNombuf = 0;
        Arrays.fill(qIpackets, 0);
        Arrays.fill(qOpackets, 0);
        Arrays.fill(qIbytes, 0);
        Arrays.fill(qObytes, 0);
        Arrays.fill(qErrors, 0);
    }

    public void copyFrom(PortStats o) {
        ipackets = o.ipackets;
        opackets = o.opackets;
        ibytes = o.ibytes;
        obytes = o.obytes;
        imissed = o.imissed;
        ierrors = o.ierrors;
        oerrors = o.oerrors;
        rxNombuf = o.rxNombuf;
        System.arraycopy(o.qIpackets, 0, qIpackets, 0, QUEUE_STATS);
        System.arraycopy(o.qOpackets, 0, qOpackets, 0, QUEUE_STATS);
        System.arraycopy(o.qIbytes, 0, qIbytes, 0, QUEUE_STATS);
        System.arraycopy(o.qObytes, 0, qObytes, 0, QUEUE_STATS);
        System.arraycopy(o.qErrors, 0, qErrors, 0, QUEUE_STATS);
    }

    @Override
    public String toString() {
        return "PortStats[ipackets " + ipackets + ", opackets " + opackets + ", ibytes " + ibytes + ", obytes " + obytes
                + ", imissed " + imissed + ", ierrors " + ierrors + ", oerrors " + oerrors + ", rx_nombuf " + rxNombuf + "]";
    }
}
