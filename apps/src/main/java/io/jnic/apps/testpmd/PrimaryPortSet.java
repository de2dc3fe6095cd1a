package io.jnic.apps.testpmd;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueuePair;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.mbuf.Mempool;
import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The primary's ports: it configures, starts, stops and closes them. */
final class PrimaryPortSet extends PortSet {
    private static final Duration LINK_WAIT = Duration.ofSeconds(10);

    private final List<EthDevice> devs;
    private final int[] ids;
    private final int rxq;
    private final int txq;
    private final int rxd;
    private final int txd;
    private final Mempool pool;
    private final int first;
    private final int queues;
    private final QueuePair[][] pairs;
    /** The promiscuous mode the user set, applied again when a port starts. */
    private final boolean[] promisc;

    PrimaryPortSet(List<EthDevice> devs, int rxq, int txq, int rxd, int txd, Mempool pool, int first, int queues) {
        this.devs = devs;
        this.ids = devs.stream().mapToInt(EthDevice::portId).toArray();
        this.rxq = rxq;
        this.txq = txq;
        this.rxd = rxd;
        this.txd = txd;
        this.pool = pool;
        this.first = first;
        this.queues = queues;
        this.pairs = new QueuePair[devs.size()][Math.max(rxq, txq)];
        this.promisc = new boolean[devs.size()];
        java.util.Arrays.fill(promisc, true); // testpmd's default
        for (EthDevice d : devs) {
            for (int q = 0; q < pairs[d.portId()].length; q++) {
                pairs[d.portId()][q] = d.queuePair(q);
            }
        }
    }

    /** testpmd's init_port_config + start_port: every port configured and started, one line each, then the links. */
    void configureAndStart(PrintStream out) {
        for (EthDevice d : devs) {
            out.println("Configuring Port " + d.portId() + " (socket 0)");
            PortConfig c = PortConfig.of(rxq, txq).withPromiscuous(true);
            if (rxq > 1 && !d.info().rssHashTypes().isEmpty()) {
                c = c.withRss(RssConfig.of(EnumSet.allOf(RssHashType.class)));
            }
            d.configure(c);
            for (int q = 0; q < rxq; q++) {
                d.rxQueueSetup(q, rxd, pool);
            }
            for (int q = 0; q < txq; q++) {
                d.txQueueSetup(q, txd);
            }
            start(d.portId());
            out.println("Port " + d.portId() + ": " + mac(d.portId()).toString().toUpperCase(Locale.ROOT));
        }
        waitLinks(out);
    }

    @Override
    void rxQueueSetup(int p, int q, java.util.Set<io.jnic.ethdev.RxOffload> offloads) {
        dev(p).rxQueueSetup(q, rxd, pool, offloads);
    }

    @Override
    void txQueueSetup(int p, int q, java.util.Set<io.jnic.ethdev.TxOffload> offloads) {
        dev(p).txQueueSetup(q, txd, offloads);
    }

    void waitLinks(PrintStream out) {
        out.println("Checking link statuses...");
        for (EthDevice d : devs) {
            if (d.state() == PortState.STARTED) {
                d.waitLink(LINK_WAIT);
            }
        }
        out.println("Done");
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
        return true;
    }

    private EthDevice dev(int p) {
        return devs.get(p);
    }

    @Override
    EthDevice device(int p) {
        return dev(p);
    }

    @Override
    String deviceName(int p) {
        return dev(p).deviceName();
    }

    @Override
    String driverName(int p) {
        return dev(p).info().driverName();
    }

    @Override
    MacAddress mac(int p) {
        return dev(p).macAddress();
    }

    @Override
    LinkStatus link(int p) {
        return dev(p).state() == PortState.STARTED ? dev(p).link() : LinkStatus.DOWN;
    }

    @Override
    int mtu(int p) {
        int m = dev(p).config() == null ? 0 : dev(p).config().mtu();
        return m == 0 ? 1500 : m;
    }

    @Override
    int rxQueues(int p) {
        return rxq;
    }

    @Override
    int txQueues(int p) {
        return txq;
    }

    @Override
    int rxDescriptors() {
        return rxd;
    }

    @Override
    int txDescriptors() {
        return txd;
    }

    @Override
    int maxRxQueues(int p) {
        return dev(p).info().maxRxQueues();
    }

    @Override
    int maxTxQueues(int p) {
        return dev(p).info().maxTxQueues();
    }

    @Override
    boolean started(int p) {
        return dev(p).state() == PortState.STARTED;
    }

    @Override
    void stop(int p) {
        dev(p).stop();
    }

    @Override
    void start(int p) {
        EthDevice d = dev(p);
        d.start();
        d.promiscuous(promisc[p]);
    }

    @Override
    boolean promiscuous(int p) {
        return dev(p).promiscuous();
    }

    @Override
    void promiscuous(int p, boolean on) {
        dev(p).promiscuous(on);
        promisc[p] = on;
    }

    @Override
    void stats(int p, PortStats into) {
        dev(p).stats(into);
    }

    @Override
    Map<String, Long> xstats(int p) {
        return dev(p).xstats();
    }

    @Override
    void clearStats(int p) {
        dev(p).statsReset();
    }

    @Override
    QueuePair queue(int p, int q) {
        return pairs[p][q];
    }

    @Override
    public void close() {
        // the ports are closed by their owner (PrimaryPorts)
    }
}
