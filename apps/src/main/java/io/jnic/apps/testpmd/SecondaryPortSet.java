package io.jnic.apps.testpmd;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.PortStatsService;
import io.jnic.mp.ethdev.SecondaryQueues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A secondary's view: the primary's started ports, with this process's queue pairs attached through mp-ethdev
 * (claimed in the queue-owner table, doorbells handed over by the primary). Statistics come from the primary over
 * IPC; clearing them keeps a baseline here, so the device counters the primary and other processes read are left
 * alone. Port start/stop and promiscuous mode belong to the primary.
 */
final class SecondaryPortSet extends PortSet {
    static final String PRIMARY_ONLY = "Operation not supported in a secondary process (the primary owns the ports)";

    private final MpRuntime rt;
    private final SecondaryQueues sq;
    private final PortTable table;
    private final int[] ids;
    private final int first;
    private final int queues;
    private final QueuePair[][] pairs = new QueuePair[PortTable.MAX_PORTS][];
    private final PortStats[] baseline = new PortStats[PortTable.MAX_PORTS];
    private final List<QueuePair> all = new ArrayList<>();

    /**
     * Attaches queue pairs [first, first + queues) of every started port of the primary.
     *
     * @throws IllegalStateException naming what is wrong (no started port, a queue another process drives, ...)
     */
    SecondaryPortSet(MpRuntime rt, SecondaryQueues sq, int first, int queues) {
        this.rt = rt;
        this.sq = sq;
        this.table = sq.table();
        this.first = first;
        this.queues = queues;
        List<Integer> started = new ArrayList<>();
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            if (table.state(p) == PortState.STARTED) {
                started.add(p);
            }
        }
        if (started.isEmpty()) {
            throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") has no started port");
        }
        this.ids = started.stream().mapToInt(Integer::intValue).toArray();
        try {
            for (int p : ids) {
                int nq = Math.min(table.rxQueues(p), table.txQueues(p));
                if (first + queues > nq) {
                    throw new IllegalStateException("port " + p + " has " + nq + " queue pair(s); this process's share is "
                            + "queues " + first + ".." + (first + queues - 1) + " (give the primary's --rxq/--txq and "
                            + "--num-procs)");
                }
                pairs[p] = new QueuePair[first + queues];
                for (int q = first; q < first + queues; q++) {
                    // no lcore cache for the rings: a queue's RX and TX halves may be polled by two forwarding lcores
                    QueuePair s = sq.attach(p, q, Mempool.LCORE_ANY);
                    all.add(s);
                    pairs[p][q] = s;
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    int firstQueue() {
        return first;
    }

    @Override
    int queues() {
        return queues;
    }

    @Override
    int[] ids() {
        return ids;
    }

    @Override
    boolean primary() {
        return false;
    }

    @Override
    String deviceName(int p) {
        return table.deviceName(p);
    }

    @Override
    String driverName(int p) {
        return table.driverName(p);
    }

    @Override
    MacAddress mac(int p) {
        MacAddress m = table.mac(p);
        return m == null ? new MacAddress(0) : m;
    }

    @Override
    LinkStatus link(int p) {
        return table.link(p);
    }

    @Override
    int mtu(int p) {
        return table.mtu(p);
    }

    @Override
    int rxQueues(int p) {
        return table.rxQueues(p);
    }

    @Override
    int txQueues(int p) {
        return table.txQueues(p);
    }

    @Override
    int rxDescriptors() {
        return 0;
    }

    @Override
    int txDescriptors() {
        return 0;
    }

    @Override
    int maxRxQueues(int p) {
        return -1;
    }

    @Override
    int maxTxQueues(int p) {
        return -1;
    }

    @Override
    boolean started(int p) {
        return table.state(p) == PortState.STARTED;
    }

    @Override
    void stop(int p) {
        throw new UnsupportedOperationException(PRIMARY_ONLY);
    }

    @Override
    void start(int p) {
        throw new UnsupportedOperationException(PRIMARY_ONLY);
    }

    @Override
    boolean promiscuous(int p) {
        return true; // unknown here; the primaries of jnic's apps run their ports promiscuous
    }

    @Override
    void promiscuous(int p, boolean on) {
        throw new UnsupportedOperationException(PRIMARY_ONLY);
    }

    @Override
    void stats(int p, PortStats into) {
        PortStats s = PortStatsService.stats(rt, p);
        PortStats b = baseline[p];
        if (b != null) {
            s.ipackets -= b.ipackets;
            s.opackets -= b.opackets;
            s.ibytes -= b.ibytes;
            s.obytes -= b.obytes;
            s.imissed -= b.imissed;
            s.ierrors -= b.ierrors;
            s.oerrors -= b.oerrors;
            s.rxNombuf -= b.rxNombuf;
        }
        into.copyFrom(s);
    }

    @Override
    Map<String, Long> xstats(int p) {
        return new LinkedHashMap<>(PortStatsService.xstats(rt, p));
    }

    @Override
    void clearStats(int p) {
        baseline[p] = PortStatsService.stats(rt, p);
    }

    @Override
    QueuePair queue(int p, int q) {
        return pairs[p][q];
    }

    @Override
    public void close() {
        for (QueuePair q : all) {
            try {
                q.close();
            } catch (RuntimeException e) {
                System.getLogger(SecondaryPortSet.class.getName()).log(System.Logger.Level.WARNING,
                        "releasing " + q + " failed", e);
            }
        }
        all.clear();
    }
}
