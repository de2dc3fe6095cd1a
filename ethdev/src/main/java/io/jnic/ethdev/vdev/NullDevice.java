package io.jnic.ethdev.vdev;

import io.jnic.ethdev.DeviceInfo;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.RssHashType;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.util.EnumSet;
import java.util.Set;

/**
 * DPDK's net_null: RX hands out mbufs of {@code size} bytes from the queue's mempool (contents untouched
 * unless {@code copy} asks for a frame to be written), TX counts and frees. Measures the cost of the layers
 * above a driver.
 */
public final class NullDevice extends EthDevice {
    public static final int MAX_QUEUES = 16;
    private static final DeviceInfo INFO = new DeviceInfo(NullDriver.NAME, MAX_QUEUES, MAX_QUEUES, 1, 1 << 15, 1, 0, 0,
            EnumSet.noneOf(RssHashType.class), 68, 9600, 9618, 0, EnumSet.noneOf(RxOffload.class),
            EnumSet.noneOf(TxOffload.class), EnumSet.noneOf(RxOffload.class), EnumSet.noneOf(TxOffload.class));

    private final String name;
    private final int size;
    private final boolean copy;
    private final MacAddress mac;
    private final Mbuf mbuf = new Mbuf();
    private Mempool[] pools = new Mempool[MAX_QUEUES];
    private final long[] rxPackets = new long[MAX_QUEUES];
    private final long[] txPackets = new long[MAX_QUEUES];
    private final long[] rxNombuf = new long[MAX_QUEUES];
    private int lcore = Mempool.LCORE_ANY;
    /** The configured queue counts: a burst on another queue is refused before anything is touched. */
    private int rxQueues;
    private int txQueues;
    private boolean promisc;
    private boolean started;

    NullDevice(String name, int size, boolean copy, PortContext ctx) {
        super(ctx);
        this.name = name;
        this.size = size;
        this.copy = copy;
        // locally administered address with the port id in the last octet, as net_null does (random there)
        this.mac = new MacAddress(0x02_00_00_00_00_00L | ctx.portId());
    }

    @Override
    public String deviceName() {
        return name;
    }

    @Override
    public DeviceInfo info() {
        return INFO;
    }

    public int packetSize() {
        return size;
    }

    @Override
    protected void doConfigure(PortConfig c) {
        lcore = c.lcore();
        rxQueues = c.rxQueues();
        txQueues = c.txQueues();
    }

    @Override
    protected void doRxQueueSetup(int q, int ringSize, Mempool pool, Set<RxOffload> offloads) {
        if (pool.dataRoom() < size) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' has " + pool.dataRoom()
                    + "-byte buffers, smaller than the " + size + "-byte packets this null device makes");
        }
        pools[q] = pool;
    }

    @Override
    protected void doTxQueueSetup(int q, int ringSize, Set<TxOffload> offloads) {
    }

    @Override
    protected void doStart() {
        started = true;
        ctx.table().link(portId, link());
    }

    @Override
    protected void doStop() {
        started = false;
        ctx.table().link(portId, LinkStatus.DOWN);
    }

    @Override
    protected void doClose() {
        pools = new Mempool[MAX_QUEUES];
    }

    @Override
    public int rxBurst(int q, MbufBatch batch) {
        java.util.Objects.checkIndex(q, rxQueues);
        if (!started) {
            return 0;
        }
        int have = batch.count();
        int n = batch.capacity() - have;
        Mempool pool = pools[q];
        long[] h = batch.handles();
        if (n == 0 || !pool.allocBulk(h, have, n, lcore, portId, size)) { // lengths and port set with the reset
            rxNombuf[q] += n == 0 ? 0 : 1;
            return 0;
        }
        if (copy) {
            Mbuf m = mbuf;
            for (int i = have; i < have + n; i++) {
                // a broadcast frame of the given size: the header rewriting apps touch
                m.wrap(h[i]).setIntBE(0, 0xFFFFFFFF).setShortBE(4, 0xFFFF).setIntBE(6, (int) (mac.value() >>> 16))
                        .setShortBE(10, (int) mac.value()).setShortBE(12, 0x88B5);
            }
        }
        batch.count(have + n);
        rxPackets[q] += n;
        return n;
    }

    @Override
    public int txBurst(int q, MbufBatch batch) {
        java.util.Objects.checkIndex(q, txQueues);
        int n = batch.count();
        if (!started || n == 0) {
            return 0;
        }
        Mempool.freeBulk(batch.handles(), 0, n, lcore);
        batch.count(0);
        txPackets[q] += n;
        return n;
    }

    @Override
    public LinkStatus link() {
        return started ? new LinkStatus(true, 10_000, true) : LinkStatus.DOWN;
    }

    @Override
    public MacAddress macAddress() {
        return mac;
    }

    @Override
    public void promiscuous(boolean on) {
        promisc = on;
    }

    @Override
    public boolean promiscuous() {
        return promisc;
    }

    @Override
    public void stats(PortStats s) {
        s.clear();
        for (int q = 0; q < MAX_QUEUES; q++) {
            s.ipackets += rxPackets[q];
            s.opackets += txPackets[q];
            s.rxNombuf += rxNombuf[q];
            if (q < PortStats.QUEUE_STATS) {
                s.qIpackets[q] = rxPackets[q];
                s.qOpackets[q] = txPackets[q];
                s.qIbytes[q] = rxPackets[q] * size;
                s.qObytes[q] = txPackets[q] * size;
            }
        }
        s.ibytes = s.ipackets * size;
        s.obytes = s.opackets * size; // as net_null counts: the configured size
    }

    @Override
    public void statsReset() {
        java.util.Arrays.fill(rxPackets, 0);
        java.util.Arrays.fill(txPackets, 0);
        java.util.Arrays.fill(rxNombuf, 0);
    }
}
