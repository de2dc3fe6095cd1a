package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.driver.virtio.pci.LegacyPciTransport;
import io.jnic.driver.virtio.pci.ModernPciTransport;
import io.jnic.ethdev.DeviceInfo;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;

/**
 * A virtio-net port (DPDK's net_virtio / net_virtio_user) over any {@link VirtioTransport}. Queue pairs: RX
 * queue n and TX queue n are the device's receiveq n and transmitq n; the port sets up max(RX, TX) pairs. The
 * device is negotiated and started at {@link #start()} and reset at {@link #stop()} (its buffers go back to
 * their pools), so a port can be stopped and started again.
 *
 * <p>Ring sizes: virtio rings are powers of two; the device may cap them (as DPDK's virtio PMD, the largest
 * requested size is used for every queue, capped by the device). Transmit needs single-segment mbufs with 12
 * bytes of headroom and a reference count of 1 (the header is written in front of the data); others are
 * dropped and counted as errors. No offloads, no RSS (the device spreads flows itself with MQ).
 */
public final class VirtioEthDevice extends EthDevice {
    private static final int MTU = 1500;

    private final String deviceName;
    private final String driverName;
    private final VirtioTransport transport;
    private final int maxPairs;
    private final int maxRing;
    private final MacAddress mac;
    private final int lcore;
    private final Mbuf mbuf = new Mbuf();
    private Mempool[] pools = new Mempool[0];
    private int ringSize;
    private int pairs;
    private VirtioNet net;
    private boolean promisc;
    private long[] scratchTokens = new long[64];
    private long[] scratchIovas = new long[64];
    private int[] scratchLengths = new int[64];
    private long txDropped;
    private final PortStats base = new PortStats();
    private final PortStats now = new PortStats();

    VirtioEthDevice(String deviceName, String driverName, VirtioTransport transport, int lcore, PortContext ctx) {
        super(ctx);
        this.deviceName = deviceName;
        this.driverName = driverName;
        this.transport = transport;
        this.lcore = lcore;
        long f = transport.deviceFeatures();
        this.maxPairs = Virtio.has(f, VirtioNetSpec.F_MQ) && Virtio.has(f, VirtioNetSpec.F_CTRL_VQ)
                ? Math.max(1, transport.readConfig(VirtioNetSpec.CFG_MAX_VIRTQUEUE_PAIRS, 2)) : 1;
        this.maxRing = Math.min(Integer.highestOneBit(Math.max(1, transport.maxQueueSize(0))), 32768);
        byte[] m = new byte[6];
        if (Virtio.has(f, VirtioNetSpec.F_MAC)) {
            for (int i = 0; i < 6; i++) {
                m[i] = (byte) transport.readConfig(VirtioNetSpec.CFG_MAC + i, 1);
            }
        } else {
            m[0] = 0x02;
            m[5] = (byte) ctx.portId();
        }
        this.mac = MacAddress.of(m);
    }

    @Override
    public String deviceName() {
        return deviceName;
    }

    @Override
    public DeviceInfo info() {
        return new DeviceInfo(driverName, maxPairs, maxPairs, 2, maxRing, 1, 0, 0, EnumSet.noneOf(RssHashType.class),
                68, MTU, MTU + 14);
    }

    public VirtioTransport transport() {
        return transport;
    }

    /** The started device (null while stopped). */
    public VirtioNet net() {
        return net;
    }

    @Override
    protected void doConfigure(PortConfig c) {
        pairs = Math.max(c.rxQueues(), c.txQueues());
        pools = new Mempool[pairs];
        ringSize = 0;
        promisc = c.promiscuous();
    }

    private void checkRing(int size) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(name() + ": virtio ring sizes are powers of two, not " + size);
        }
        ringSize = Math.max(ringSize, size);
    }

    @Override
    protected void doRxQueueSetup(int q, int size, Mempool pool) {
        checkRing(size);
        if (pool.headroom() < VirtioNetSpec.HDR_SIZE) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' has " + pool.headroom()
                    + " bytes of headroom; virtio-net puts its " + VirtioNetSpec.HDR_SIZE + "-byte header there");
        }
        pools[q] = pool;
    }

    @Override
    protected void doTxQueueSetup(int q, int size) {
        checkRing(size);
    }

    @Override
    protected void doStart() {
        if (transport instanceof ModernPciTransport pci) {
            pci.mapMemory(); // mempools may live in segments added since probe
        } else if (transport instanceof LegacyPciTransport legacy) {
            legacy.mapMemory();
        }
        Mempool first = pools.length > 0 && pools[0] != null ? pools[0] : null;
        net = VirtioNet.open(transport, ctx.memory(), p -> new MbufOps(pools[p] != null ? pools[p] : first, lcore),
                new MbufOps(first, lcore), new VirtioNet.Config(ctx.memzoneName("virtio"), pairs, ringSize, true));
        if (promisc && net.has(VirtioNetSpec.F_CTRL_RX)) {
            net.setPromiscuous(true);
        }
        ctx.table().link(portId, link());
    }

    @Override
    protected void doStop() {
        VirtioNet n = net;
        net = null;
        if (n != null) {
            accumulate(n);
            n.stop();
        }
        ctx.table().link(portId, LinkStatus.DOWN);
    }

    @Override
    protected void doClose() {
        transport.close();
    }

    @Override
    public int rxBurst(int q, MbufBatch batch) {
        VirtioNet n = net;
        if (n == null) {
            return 0;
        }
        int have = batch.count();
        int room = batch.capacity() - have;
        if (room == 0) {
            return 0;
        }
        int[] lens = lengths(batch.capacity());
        long[] h = batch.handles();
        int got = n.rx(q).receive(h, have, lens, room);
        Mbuf m = mbuf;
        for (int i = have; i < have + got; i++) {
            m.wrap(h[i]).dataLen(lens[i]).pktLen(lens[i]).port(portId);
        }
        batch.count(have + got);
        return got;
    }

    @Override
    public int txBurst(int q, MbufBatch batch) {
        VirtioNet n = net;
        int count = batch.count();
        if (n == null || count == 0) {
            return 0;
        }
        long[] h = batch.handles();
        long[] tok = tokens(count);
        long[] iovas = iovas(count);
        int[] lens = lengths(count);
        Mbuf m = mbuf;
        int ok = 0;
        int dropped = 0;
        for (int i = 0; i < count; i++) {
            // one lookup per packet: check it, zero the header in its headroom, note the header's IOVA
            m.wrap(h[i]);
            if (m.nbSegs() != 1 || m.headroom() < VirtioNetSpec.HDR_SIZE || m.refcnt() != 1) {
                Mempool.free(h[i], lcore); // cannot carry it: counted, not left to block the queue
                dropped++;
                continue;
            }
            MemorySegment seg = m.pool().segment();
            long hdr = m.dataPosition() - VirtioNetSpec.HDR_SIZE;
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, hdr, 0L);
            seg.set(ValueLayout.JAVA_INT_UNALIGNED, hdr + 8, 0);
            tok[ok] = h[i];
            iovas[ok] = m.dataIova() - VirtioNetSpec.HDR_SIZE;
            lens[ok++] = m.dataLen();
        }
        txDropped += dropped;
        int sent = n.tx(q).transmitPrepared(tok, iovas, lens, ok);
        int left = ok - sent;
        System.arraycopy(tok, sent, h, 0, left);
        batch.count(left);
        return sent + dropped;
    }

    /**
     * The RX queue's interrupt eventfd (with {@link PortConfig#rxInterrupts}): the vhost-user backend's call
     * eventfd. -1 over PCI (its queues run without MSI-X vectors) and while the port is stopped.
     */
    @Override
    public int rxInterruptFd(int q) {
        PortConfig c = config();
        if (net == null || c == null || !c.rxInterrupts()) {
            return -1;
        }
        return transport.queueInterruptFd(VirtioNetSpec.rxQueue(q));
    }

    /**
     * Asks the device for an interrupt on the next frame (used_event, or clearing VIRTQ_AVAIL_F_NO_INTERRUPT), then
     * looks again: false, and disarmed, when a frame is already there.
     */
    @Override
    public boolean rxInterruptEnable(int q) {
        if (rxInterruptFd(q) < 0) {
            throw new UnsupportedOperationException(name() + " has no RX interrupts"
                    + (transport instanceof ModernPciTransport ? " over PCI (queues run without MSI-X vectors)"
                            : " (configure the port with rxInterrupts and start it)"));
        }
        var vq = net.rx(q).virtqueue();
        vq.enableInterrupts();
        if (vq.usedCount() > 0) {
            vq.disableInterrupts();
            return false;
        }
        return true;
    }

    @Override
    public void rxInterruptDisable(int q) {
        VirtioNet n = net;
        if (n != null) {
            n.rx(q).virtqueue().disableInterrupts();
        }
    }

    @Override
    public boolean rxPending(int q) {
        VirtioNet n = net;
        return n != null && n.rx(q).virtqueue().usedCount() > 0;
    }

    /** Sleeps on the RX interrupt eventfd (see {@link #rxInterruptEnable}); without one returns at once. */
    @Override
    public boolean rxWait(int q, long timeoutNanos) {
        int fd = rxInterruptFd(q);
        if (fd < 0) {
            return net != null;
        }
        if (!rxInterruptEnable(q)) {
            return true;
        }
        try {
            int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, (timeoutNanos + 999_999) / 1_000_000));
            if (io.jnic.sys.Events.pollIn(fd, ms)) {
                io.jnic.sys.Events.eventfdRead(fd);
            }
            return rxPending(q);
        } finally {
            rxInterruptDisable(q);
        }
    }

    private long[] iovas(int n) {
        if (scratchIovas.length < n) {
            scratchIovas = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchIovas;
    }

    private long[] tokens(int n) {
        if (scratchTokens.length < n) {
            scratchTokens = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchTokens;
    }

    private int[] lengths(int n) {
        if (scratchLengths.length < n) {
            scratchLengths = new int[Integer.highestOneBit(n) << 1];
        }
        return scratchLengths;
    }

    @Override
    public LinkStatus link() {
        VirtioNet n = net;
        // virtio-net reports no speed without VIRTIO_NET_F_SPEED_DUPLEX: 10G, as DPDK's virtio PMD assumes
        return n != null && n.linkUp() ? new LinkStatus(true, 10_000, true) : LinkStatus.DOWN;
    }

    @Override
    public MacAddress macAddress() {
        return mac;
    }

    @Override
    public void promiscuous(boolean on) {
        VirtioNet n = net;
        if (n != null && n.has(VirtioNetSpec.F_CTRL_RX)) {
            n.setPromiscuous(on);
        }
        promisc = on;
    }

    @Override
    public boolean promiscuous() {
        return promisc;
    }

    private void accumulate(VirtioNet n) {
        for (int q = 0; q < n.queuePairs(); q++) {
            VirtioNetRxQueue r = n.rx(q);
            VirtioNetTxQueue t = n.tx(q);
            base.ipackets -= r.packets();
            base.ibytes -= r.bytes();
            base.ierrors -= r.errors();
            base.rxNombuf -= r.noBuffers();
            base.opackets -= t.packets();
            base.obytes -= t.bytes();
            if (q < PortStats.QUEUE_STATS) {
                base.qIpackets[q] -= r.packets();
                base.qIbytes[q] -= r.bytes();
                base.qOpackets[q] -= t.packets();
                base.qObytes[q] -= t.bytes();
            }
        }
    }

    @Override
    public void stats(PortStats s) {
        now.clear();
        VirtioNet n = net;
        if (n != null) {
            for (int q = 0; q < n.queuePairs(); q++) {
                VirtioNetRxQueue r = n.rx(q);
                VirtioNetTxQueue t = n.tx(q);
                now.ipackets += r.packets();
                now.ibytes += r.bytes();
                now.ierrors += r.errors();
                now.rxNombuf += r.noBuffers();
                now.opackets += t.packets();
                now.obytes += t.bytes();
                if (q < PortStats.QUEUE_STATS) {
                    now.qIpackets[q] = r.packets();
                    now.qIbytes[q] = r.bytes();
                    now.qOpackets[q] = t.packets();
                    now.qObytes[q] = t.bytes();
                }
            }
        }
        now.oerrors += txDropped;
        s.clear();
        s.ipackets = now.ipackets - base.ipackets;
        s.ibytes = now.ibytes - base.ibytes;
        s.ierrors = now.ierrors - base.ierrors;
        s.rxNombuf = now.rxNombuf - base.rxNombuf;
        s.opackets = now.opackets - base.opackets;
        s.obytes = now.obytes - base.obytes;
        s.oerrors = now.oerrors - base.oerrors;
        for (int q = 0; q < PortStats.QUEUE_STATS; q++) {
            s.qIpackets[q] = now.qIpackets[q] - base.qIpackets[q];
            s.qIbytes[q] = now.qIbytes[q] - base.qIbytes[q];
            s.qOpackets[q] = now.qOpackets[q] - base.qOpackets[q];
            s.qObytes[q] = now.qObytes[q] - base.qObytes[q];
        }
    }

    @Override
    public void statsReset() {
        PortStats cur = new PortStats();
        stats(cur);
        // the baseline moves so that what stats() reports restarts from zero
        base.ipackets += cur.ipackets;
        base.ibytes += cur.ibytes;
        base.ierrors += cur.ierrors;
        base.rxNombuf += cur.rxNombuf;
        base.opackets += cur.opackets;
        base.obytes += cur.obytes;
        base.oerrors += cur.oerrors;
        for (int q = 0; q < PortStats.QUEUE_STATS; q++) {
            base.qIpackets[q] += cur.qIpackets[q];
            base.qIbytes[q] += cur.qIbytes[q];
            base.qOpackets[q] += cur.qOpackets[q];
            base.qObytes[q] += cur.qObytes[q];
        }
    }
}
