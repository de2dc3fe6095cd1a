package io.jnic.apps.common;

import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.mp.ethdev.pdump.CaptureTap;

/**
 * l2fwd's forwarding step for the queues one process drives: what arrives on a port goes out of its pair
 * (0<->1, 2<->3 among the mask's ports), with DPDK l2fwd's MAC rewrite unless disabled (destination
 * 02:00:00:00:00:&lt;destination port&gt;, source the destination port's MAC). Per-port counters go to one
 * {@link ProcStats} slot and carry on from what the slot holds, so a restarted process continues them and the
 * totals keep matching the devices. Nothing is allocated per burst.
 */
public final class L2Forwarder {
    private static final long L2FWD_DST_MAC = 0x02_00_00_00_00_00L;

    private final int[] ports;
    private final int[] dst;
    private final int[] dstHi = new int[PortTable.MAX_PORTS];
    private final int[] dstLo = new int[PortTable.MAX_PORTS];
    private final int[] srcHi = new int[PortTable.MAX_PORTS];
    private final int[] srcLo = new int[PortTable.MAX_PORTS];
    private final boolean macUpdating;
    private final ProcStats stats;
    private final int slot;
    private final int lcore;
    private final long[][] c = new long[PortTable.MAX_PORTS][ProcStats.FIELDS];
    private final long txBefore;
    private final MbufBatch b;
    private final Mbuf m = new Mbuf();
    private CaptureTap tap = CaptureTap.OFF;
    private int tapQueue;

    /**
     * @param app   the app's name, for messages
     * @param ports the port ids forwarded (an even number; see {@link PortMask#pairs})
     * @param lcore the lcore that frees refused packets (this thread's)
     */
    public L2Forwarder(String app, int[] ports, String mask, PortTable table, boolean macUpdating, ProcStats stats,
            int slot, int burst, int lcore) {
        this.ports = ports.clone();
        this.dst = PortMask.pairs(app, ports, mask);
        this.macUpdating = macUpdating;
        this.stats = stats;
        this.slot = slot;
        this.lcore = lcore;
        this.b = new MbufBatch(burst);
        long tx = 0;
        for (int p : ports) {
            long d = L2FWD_DST_MAC | p;
            MacAddress mac = table.mac(p);
            long s = mac == null ? 0 : mac.value();
            dstHi[p] = (int) (d >>> 16);
            dstLo[p] = (int) (d & 0xFFFF);
            srcHi[p] = (int) (s >>> 16);
            srcLo[p] = (int) (s & 0xFFFF);
            for (int f = 0; f < ProcStats.FIELDS; f++) {
                c[p][f] = stats.get(slot, p, f);
            }
            tx += c[p][ProcStats.TX];
        }
        this.txBefore = tx;
    }

    /**
     * Mirrors what this forwarder receives and sends to a packet capture (pdump) when one is switched on, as
     * queue {@code queue} of each port; costs one read per burst while none is.
     */
    public void capture(CaptureTap t, int queue) {
        this.tap = t;
        this.tapQueue = queue;
    }

    /**
     * One burst from every port in turn, each sent out of its pair; returns the packets received. {@code queues}
     * is indexed by port id: the queue pair this process drives on each port, its own or attached.
     */
    public int poll(QueuePair[] queues) {
        int received = 0;
        for (int p : ports) {
            int got = queues[p].rxBurst(b);
            if (got == 0) {
                continue;
            }
            received += got;
            tap.rx(p, tapQueue, b, got);
            int dp = dst[p];
            long bytes = 0;
            long[] h = b.handles();
            for (int k = 0; k < got; k++) {
                m.wrap(h[k]);
                if (macUpdating) {
                    m.setIntBE(0, dstHi[dp]).setShortBE(4, dstLo[dp]).setIntBE(6, srcHi[dp]).setShortBE(10, srcLo[dp]);
                }
                bytes += m.dataLen();
            }
            tap.tx(dp, tapQueue, b);
            int sent = queues[dp].txBurst(b);
            long[] cp = c[p];
            long[] cd = c[dp];
            cp[ProcStats.RX] += got;
            cd[ProcStats.TX] += sent;
            if (!b.isEmpty()) {
                cd[ProcStats.DROPS] += b.count();
                for (int k = 0; k < b.count(); k++) {
                    bytes -= m.wrap(h[k]).dataLen();
                }
                b.free(lcore);
            }
            cd[ProcStats.TX_BYTES] += bytes;
            stats.put(slot, p, ProcStats.RX, cp[ProcStats.RX]);
            stats.put(slot, dp, ProcStats.TX, cd[ProcStats.TX]);
            stats.put(slot, dp, ProcStats.TX_BYTES, cd[ProcStats.TX_BYTES]);
            stats.put(slot, dp, ProcStats.DROPS, cd[ProcStats.DROPS]);
        }
        return received;
    }

    /** Packets this forwarder sent (not counting what the slot held before it). */
    public long forwarded() {
        long tx = -txBefore;
        for (int p : ports) {
            tx += c[p][ProcStats.TX];
        }
        return tx;
    }
}
