package io.jnic.apps.testpmd;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.multiproc.MpRuntime;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * testpmd's forwarding configuration and its start/stop: streams laid out as DPDK's rss_fwd_config_setup does
 * (for each of this process's queues, every forwarding port in turn; the TX port chosen by the topology, the TX
 * queue the RX queue's index), streams spread over the forwarding lcores as setup_fwd_config_of_each_lcore does
 * (contiguous runs, the extra ones to the last lcores), and the statistics displays in DPDK's layout. Methods
 * are called by one thread at a time (the console holds the lock).
 */
final class Forwarding {
    enum Topology {
        PAIRED, CHAINED, LOOP;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Heap bytes an lcore may allocate once after its warm-up before stop reports it (see {@link #stop}). */
    private static final long ONE_OFF_BYTES = 4096;
    private static final String FWD_BORDER = "----------------------";
    private static final String STREAM_BORDER = "-------";
    private static final String ACC_BORDER = "+++++++++++++++";
    private static final String NIC_BORDER = "########################";
    private static final String LINE_DASHES = "-".repeat(76);
    private static final String LINE_PLUS = "+".repeat(76);
    private static final String LINE_HASH = "#".repeat(76);
    /** testpmd's default peer address of port N: 02:00:00:00:00:N. */
    private static final long DEFAULT_PEER = 0x02_00_00_00_00_00L;

    private final MpRuntime rt;
    private final PortSet ports;
    private final int[] fwdPorts;
    private final Topology topology;
    private final int[] pinned;
    private final int nbCores;
    private final Mempool pool;
    private final PrintStream out;
    private final long[] peers = new long[PortTable.MAX_PORTS];
    FwdMode mode;
    int burst;
    int txPktLen;
    int txIpSrc;
    int txIpDst;
    int txUdpSrc;
    int txUdpDst;
    int flowgenFlows;
    /** Per-stream statistics even with one stream per port: in a group the port counters are every process's. */
    boolean streamStatsAlways;

    private List<FwdStream> streams = List.of();
    private List<FwdLcore> lcores = List.of();
    private List<Thread> threads = List.of();
    private FwdMode runningMode;
    private int runningBurst;
    private final PortStats[] atStart = new PortStats[PortTable.MAX_PORTS];
    private final long[][] lastShow = new long[PortTable.MAX_PORTS][5];

    /**
     * @param pinned the forwarding lcores (ids from -l after the first), or empty for floating threads
     * @param nbCores forwarding lcores to use (--nb-cores)
     */
    Forwarding(MpRuntime rt, PortSet ports, int[] fwdPorts, Topology topology, int[] pinned, int nbCores, Mempool pool,
            PrintStream out) {
        this.rt = rt;
        this.ports = ports;
        this.fwdPorts = fwdPorts;
        this.topology = topology;
        this.pinned = pinned;
        this.nbCores = nbCores;
        this.pool = pool;
        this.out = out;
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            peers[p] = DEFAULT_PEER | p;
        }
    }

    void peer(int port, long mac) {
        peers[port] = mac;
    }

    boolean running() {
        return !lcores.isEmpty();
    }

    int[] fwdPorts() {
        return fwdPorts;
    }

    // ---------------------------------------------------------------------------------------------
    // Configuration

    private int txPortOf(int rxIndex) {
        int n = fwdPorts.length;
        return switch (topology) {
            case PAIRED -> (rxIndex & 1) == 0 ? (rxIndex + 1 < n ? rxIndex + 1 : rxIndex) : rxIndex - 1;
            case CHAINED -> (rxIndex + 1) % n;
            case LOOP -> rxIndex;
        };
    }

    /** The streams of this process's queues, in DPDK's order. */
    List<FwdStream> buildStreams() {
        List<FwdStream> s = new ArrayList<>();
        int q0 = ports.firstQueue();
        for (int q = q0; q < q0 + ports.queues(); q++) {
            for (int i = 0; i < fwdPorts.length; i++) {
                int rxp = fwdPorts[i];
                int txp = fwdPorts[txPortOf(i)];
                s.add(new FwdStream(rxp, q, txp, q, peers[txp], ports.mac(txp).value(), ports.queue(rxp, q),
                        ports.queue(txp, q)));
            }
        }
        return s;
    }

    /** Streams per lcore: [first stream, count] for each of min(nb-cores, streams) lcores. */
    int[][] lcoreShares(int nbStreams) {
        int nc = Math.min(nbCores, nbStreams);
        int[][] share = new int[nc][2];
        int per = nbStreams / nc;
        int extra = nbStreams % nc;
        int plain = nc - extra;
        int sm = 0;
        for (int lc = 0; lc < nc; lc++) {
            int n = lc < plain ? per : per + 1;
            share[lc][0] = sm;
            share[lc][1] = n;
            sm += n;
        }
        return share;
    }

    // ---------------------------------------------------------------------------------------------
    // start / stop

    /** testpmd's start (and start tx_first). */
    void start(boolean txFirst) throws InterruptedException {
        if (running()) {
            out.println("Packet forwarding already started");
            return;
        }
        for (int p : fwdPorts) {
            if (!ports.started(p)) {
                out.println("Not all ports were started");
                return;
            }
        }
        List<FwdStream> ss = buildStreams();
        int[][] shares = lcoreShares(ss.size());
        FwdLcore.Settings set = new FwdLcore.Settings(mode, burst, txPktLen, txIpSrc, txIpDst, txUdpSrc, txUdpDst,
                flowgenFlows);
        List<FwdLcore> lcs = new ArrayList<>();
        for (int lc = 0; lc < shares.length; lc++) {
            FwdStream[] mine = ss.subList(shares[lc][0], shares[lc][0] + shares[lc][1]).toArray(FwdStream[]::new);
            lcs.add(new FwdLcore(lc, mine, set, pool, txFirst));
        }
        for (int p : fwdPorts) {
            PortStats s = new PortStats();
            ports.stats(p, s);
            atStart[p] = s;
        }
        List<Thread> ts = new ArrayList<>();
        try {
            for (FwdLcore l : lcs) {
                ts.add(pinned.length > 0 ? rt.launch(pinned[l.index], l) : rt.launchFloating("fwd-lcore-" + l.index, l));
            }
        } catch (RuntimeException e) {
            // no lcore for one of them (all ids taken, ...): end the ones that started, forward nothing
            for (FwdLcore l : lcs) {
                l.stop();
            }
            for (Thread t : ts) {
                t.join();
            }
            throw e;
        }
        for (FwdLcore l : lcs) {
            l.awaitReady();
        }
        streams = ss;
        lcores = lcs;
        threads = ts;
        runningMode = mode;
        runningBurst = burst;
        showConfig();
        out.printf(Locale.ROOT, "  %s packet forwarding packets/burst=%d%n", runningMode.label(), runningBurst);
        if (runningMode == FwdMode.TXONLY || runningMode == FwdMode.FLOWGEN) {
            out.printf(Locale.ROOT, "  packet len=%d - nb packet segments=1%n", txPktLen);
        }
        if (runningMode == FwdMode.FLOWGEN) {
            out.printf(Locale.ROOT, "  nb flows=%d%n", flowgenFlows);
        }
        out.printf(Locale.ROOT, "  nb forwarding cores=%d - nb forwarding ports=%d%n", lcs.size(), fwdPorts.length);
        for (int p : fwdPorts) {
            out.printf(Locale.ROOT, "  port %d: RX queue number: %d Tx queue number: %d%n", p, ports.rxQueues(p),
                    ports.txQueues(p));
            out.printf(Locale.ROOT, "    RX desc=%d - TX desc=%d%n", ports.rxDescriptors(), ports.txDescriptors());
        }
    }

    /** testpmd's stop: ends the lcores and prints the forward statistics; returns false when nothing ran. */
    boolean stop() throws InterruptedException {
        if (!running()) {
            out.println("Packet forwarding not started");
            return false;
        }
        out.println("Telling cores to stop...");
        for (FwdLcore l : lcores) {
            l.stop();
        }
        out.println("Waiting for lcores to finish...");
        for (Thread t : threads) {
            t.join();
        }
        for (FwdLcore l : lcores) {
            if (l.failure != null) {
                out.println("Logical core " + l.lcoreId + " stopped on an error: " + l.failure);
                System.getLogger(Forwarding.class.getName()).log(System.Logger.Level.DEBUG, "lcore failed", l.failure);
            }
            long packets = 0;
            for (FwdStream s : l.streams) {
                packets += s.rxPackets + s.txPackets;
            }
            System.getLogger(Forwarding.class.getName()).log(System.Logger.Level.DEBUG, "lcore {0}: {1} bytes allocated on "
                    + "the forwarding path after the warm-up, {2} packets", l.lcoreId, l.allocatedBytes, packets);
            // the forwarding path allocates nothing per packet (garbage per packet would be >= 16 bytes each, per full
            // burst >= 16 per 32); one-off bytes after the warm-up (a first slow path, a deoptimisation: 0-1.5 KB
            // measured) are not worth a line
            if (l.allocatedBytes > ONE_OFF_BYTES + packets / 4) {
                out.println("Logical core " + l.lcoreId + " allocated " + l.allocatedBytes + " bytes on its forwarding path "
                        + "for " + packets + " packets");
            }
            if (l.allocFailures > 0) {
                out.println("Logical core " + l.lcoreId + ": " + l.allocFailures + " bursts not generated (mbuf pool empty)");
            }
        }
        printFwdStats();
        out.println();
        out.println("Done.");
        lcores = List.of();
        threads = List.of();
        return true;
    }

    /** The forward statistics block (stop, show fwd stats all): per stream when there are more streams than ports. */
    void printFwdStats() {
        long[] txDropped = new long[PortTable.MAX_PORTS];
        if (streams.size() > fwdPorts.length || streamStatsAlways) {
            for (FwdStream s : streams) {
                out.printf(Locale.ROOT, "%n  %s Forward Stats for RX Port=%2d/Queue=%2d -> TX Port=%2d/Queue=%2d %s%n",
                        STREAM_BORDER, s.rxPort, s.rxQueue, s.txPort, s.txQueue, STREAM_BORDER);
                out.printf(Locale.ROOT, "  RX-packets: %-14d TX-packets: %-14d TX-dropped: %-14d%n", s.rxPackets,
                        s.txPackets, s.fwdDropped);
            }
        }
        for (FwdStream s : streams) {
            txDropped[s.txPort] += s.fwdDropped;
        }
        long tRx = 0;
        long tRxDrop = 0;
        long tTx = 0;
        long tTxDrop = 0;
        PortStats now = new PortStats();
        for (int p : fwdPorts) {
            ports.stats(p, now);
            PortStats b = atStart[p];
            long rx = now.ipackets - (b == null ? 0 : b.ipackets);
            long missed = now.imissed - (b == null ? 0 : b.imissed);
            long tx = now.opackets - (b == null ? 0 : b.opackets);
            long errors = now.ierrors - (b == null ? 0 : b.ierrors);
            long nombuf = now.rxNombuf - (b == null ? 0 : b.rxNombuf);
            out.printf(Locale.ROOT, "%n  %s Forward statistics for port %-2d %s%n", FWD_BORDER, p, FWD_BORDER);
            out.printf(Locale.ROOT, "  RX-packets: %-14d RX-dropped: %-14dRX-total: %d%n", rx, missed, rx + missed);
            if (errors + nombuf > 0) {
                out.printf(Locale.ROOT, "  RX-error: %d%n  RX-nombufs: %-14d%n", errors, nombuf);
            }
            out.printf(Locale.ROOT, "  TX-packets: %-14d TX-dropped: %-14dTX-total: %d%n", tx, txDropped[p],
                    tx + txDropped[p]);
            out.println("  " + LINE_DASHES);
            tRx += rx;
            tRxDrop += missed;
            tTx += tx;
            tTxDrop += txDropped[p];
        }
        out.printf(Locale.ROOT, "%n  %s Accumulated forward statistics for all ports%s%n", ACC_BORDER, ACC_BORDER);
        out.printf(Locale.ROOT, "  RX-packets: %-14d RX-dropped: %-14dRX-total: %d%n", tRx, tRxDrop, tRx + tRxDrop);
        out.printf(Locale.ROOT, "  TX-packets: %-14d TX-dropped: %-14dTX-total: %d%n", tTx, tTxDrop, tTx + tTxDrop);
        out.println("  " + LINE_PLUS);
    }

    /** Statistics baseline after a clear: the forward statistics of a running session count from here. */
    void statsCleared(int p) {
        if (running()) {
            PortStats s = new PortStats();
            ports.stats(p, s);
            atStart[p] = s;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Displays

    /** show config fwd: the running configuration, or the one the next start would use. */
    void showConfig() {
        List<FwdStream> ss = running() ? streams : buildStreams();
        FwdMode md = running() ? runningMode : mode;
        int[][] shares = lcoreShares(ss.size());
        out.printf(Locale.ROOT, "%s packet forwarding - ports=%d - cores=%d - streams=%d - NUMA support disabled, "
                + "MP allocation mode: native%n", md.label(), fwdPorts.length, shares.length, ss.size());
        for (int lc = 0; lc < shares.length; lc++) {
            String id;
            if (running()) {
                id = Integer.toString(lcores.get(lc).lcoreId);
            } else if (pinned.length > 0) {
                id = Integer.toString(pinned[lc]);
            } else {
                id = "-";
            }
            out.printf(Locale.ROOT, "Logical Core %s (%s) forwards packets on %d streams:%n", id,
                    pinned.length > 0 ? "socket 0" : "floating", shares[lc][1]);
            for (int k = shares[lc][0]; k < shares[lc][0] + shares[lc][1]; k++) {
                FwdStream s = ss.get(k);
                out.printf(Locale.ROOT, "  RX P=%d/Q=%d (socket 0) -> TX P=%d/Q=%d (socket 0) peer=%s%n", s.rxPort,
                        s.rxQueue, s.txPort, s.txQueue, macString(peers[s.txPort]));
            }
        }
        out.println();
    }

    /** The NIC statistics block of port {@code p}, with the throughput since the last one. */
    void nicStats(int p) {
        PortStats s = new PortStats();
        ports.stats(p, s);
        long now = System.nanoTime();
        long[] last = lastShow[p];
        double dt = last[0] == 0 ? 0 : (now - last[0]) / 1e9;
        long rxPps = dt > 0 ? (long) ((s.ipackets - last[1]) / dt) : 0;
        long txPps = dt > 0 ? (long) ((s.opackets - last[2]) / dt) : 0;
        long rxBps = dt > 0 ? (long) ((s.ibytes - last[3]) * 8 / dt) : 0;
        long txBps = dt > 0 ? (long) ((s.obytes - last[4]) * 8 / dt) : 0;
        last[0] = now;
        last[1] = s.ipackets;
        last[2] = s.opackets;
        last[3] = s.ibytes;
        last[4] = s.obytes;
        out.printf(Locale.ROOT, "%n  %s NIC statistics for port %-2d %s%n", NIC_BORDER, p, NIC_BORDER);
        out.printf(Locale.ROOT, "  RX-packets: %-10d RX-missed: %-10d RX-bytes:  %d%n", s.ipackets, s.imissed, s.ibytes);
        out.printf(Locale.ROOT, "  RX-errors: %d%n", s.ierrors);
        out.printf(Locale.ROOT, "  RX-nombuf:  %-10d%n", s.rxNombuf);
        out.printf(Locale.ROOT, "  TX-packets: %-10d TX-errors: %-10d TX-bytes:  %d%n", s.opackets, s.oerrors, s.obytes);
        out.printf(Locale.ROOT, "%n  Throughput (since last show)%n");
        out.printf(Locale.ROOT, "  Rx-pps: %12d          Rx-bps: %12d%n  Tx-pps: %12d          Tx-bps: %12d%n", rxPps, rxBps,
                txPps, txBps);
        out.println("  " + LINE_HASH);
    }

    void xstats(int p) {
        out.printf(Locale.ROOT, "###### NIC extended statistics for port %-2d%n", p);
        for (Map.Entry<String, Long> e : ports.xstats(p).entrySet()) {
            out.println(e.getKey() + ": " + e.getValue());
        }
    }

    void portInfo(int p) {
        LinkStatus l = ports.link(p);
        out.printf(Locale.ROOT, "%n********************* Infos for port %-2d *********************%n", p);
        out.println("MAC address: " + ports.mac(p).toString().toUpperCase(Locale.ROOT));
        out.println("Device name: " + ports.deviceName(p));
        out.println("Driver name: " + ports.driverName(p));
        out.println("Connect to socket: 0");
        out.println("Link status: " + (l.up() ? "up" : "down"));
        out.println("Link speed: " + (l.up() ? speed(l.speedMbps()) : "None"));
        out.println("Link duplex: " + (l.fullDuplex() ? "full-duplex" : "half-duplex"));
        out.println("MTU: " + ports.mtu(p));
        out.println("Promiscuous mode: " + (!ports.primary() ? "set by the primary"
                : ports.promiscuous(p) ? "enabled" : "disabled"));
        if (ports.device(p) != null) {
            out.println("Allmulticast mode: " + (ports.device(p).allmulticast() ? "enabled" : "disabled"));
        }
        out.println("Port state: " + (ports.started(p) ? "started" : "stopped"));
        out.println("Current number of RX queues: " + ports.rxQueues(p));
        if (ports.maxRxQueues(p) >= 0) {
            out.println("Max possible RX queues: " + ports.maxRxQueues(p));
        }
        out.println("Current number of TX queues: " + ports.txQueues(p));
        if (ports.maxTxQueues(p) >= 0) {
            out.println("Max possible TX queues: " + ports.maxTxQueues(p));
        }
        out.println("Queues of this process: " + ports.firstQueue() + ".." + (ports.firstQueue() + ports.queues() - 1));
    }

    private static String speed(int mbps) {
        return mbps >= 1000 && mbps % 1000 == 0 ? mbps / 1000 + " Gbps" : mbps + " Mbps";
    }

    static String macString(long mac) {
        StringBuilder sb = new StringBuilder();
        for (int i = 5; i >= 0; i--) {
            sb.append(String.format(Locale.ROOT, "%02X", (mac >>> (8 * i)) & 0xFF)).append(i > 0 ? ":" : "");
        }
        return sb.toString();
    }
}
