package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.driver.virtio.pci.LegacyPciTransport;
import io.jnic.driver.virtio.pci.ModernPciTransport;
import io.jnic.driver.virtio.vhost.VirtioUserTransport;
import io.jnic.ethdev.DeviceInfo;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueueAccess;
import io.jnic.ethdev.RssHashType;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.util.EnumSet;
import java.util.Set;

/**
 * A virtio-net port (DPDK's net_virtio / net_virtio_user) over any {@link VirtioTransport}. Queue pairs: RX
 * queue n and TX queue n are the device's receiveq n and transmitq n; the port sets up max(RX, TX) pairs. The
 * device is negotiated and started at {@link #start()} and reset at {@link #stop()} (its buffers go back to
 * their pools), so a port can be stopped and started again.
 *
 * <p>Ring sizes: virtio rings are powers of two; the device may cap them (as DPDK's virtio PMD, the largest
 * requested size is used for every queue, capped by the device). Transmit needs single-segment mbufs with 12
 * bytes of headroom and a reference count of 1 (the header is written in front of the data); others are
 * dropped and counted as errors. Offloads: see {@link VirtioOffloads}; no RSS (the device spreads flows itself with
 * MQ). The MTU: what the device advises with VIRTIO_NET_F_MTU, else up to 9698 (DPDK's 9728-byte frame less the
 * Ethernet, VLAN and virtio-net headers); frames larger than a receive buffer need {@link RxOffload#SCATTER}.
 */
public final class VirtioEthDevice extends EthDevice {
    /** Largest MTU without VIRTIO_NET_F_MTU: a 9728-byte frame (DPDK's VIRTIO_MAX_RX_PKTLEN) less 14 + 4 + 12. */
    private static final int MAX_MTU = 9728 - 14 - 4 - VirtioNetSpec.HDR_SIZE;
    /** Ethernet header and one VLAN tag: what a frame holds beyond the MTU. */
    private static final int FRAME_OVERHEAD = 18;

    private final String deviceName;
    private final String driverName;
    private final VirtioTransport transport;
    private final int maxPairs;
    private final int maxRing;
    private final MacAddress mac;
    private final DeviceInfo info;
    /** The mempool cache the queues go through: PortConfig's lcore, set at configure. */
    private int lcore = Mempool.LCORE_ANY;
    /** One per queue pair: lcores may burst on different queues of the port at once (scratch arrays, flyweight). */
    private VirtioBursts[] bursts = new VirtioBursts[0];
    private Mempool[] pools = new Mempool[0];
    private int ringSize;
    private int pairs;
    private VirtioNet net;
    private boolean promisc;
    private boolean allmulti;
    private int offloads;
    private final java.util.BitSet vlans = new java.util.BitSet(4096);
    private final java.util.List<MacAddress> unicast = new java.util.ArrayList<>();
    private java.util.List<MacAddress> multicast = java.util.List.of();
    private VirtioPortShare share;
    private final PortStats base = new PortStats();
    private final PortStats now = new PortStats();

    VirtioEthDevice(String deviceName, String driverName, VirtioTransport transport, PortContext ctx) {
        super(ctx);
        this.deviceName = deviceName;
        this.driverName = driverName;
        this.transport = transport;
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
        this.info = readInfo();
    }

    @Override
    public String deviceName() {
        return deviceName;
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    /** What the device offers does not change after probe: read once. */
    private DeviceInfo readInfo() {
        long f = transport.deviceFeatures();
        int maxMtu = Virtio.has(f, VirtioNetSpec.F_MTU)
                ? Math.max(68, Math.min(MAX_MTU, transport.readConfig(VirtioNetSpec.CFG_MTU, 2))) : MAX_MTU;
        return new DeviceInfo(driverName, maxPairs, maxPairs, 2, maxRing, 1, 0, 0, EnumSet.noneOf(RssHashType.class),
                68, maxMtu, maxMtu + FRAME_OVERHEAD,
                transport instanceof io.jnic.driver.virtio.vhost.VirtioUserTransport ? maxPairs : 0,
                VirtioOffloads.rxOffered(f), VirtioOffloads.txOffered(f),
                // the features are negotiated for the device as a whole: every offload is the port's
                EnumSet.noneOf(RxOffload.class), EnumSet.noneOf(TxOffload.class));
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
        lcore = c.lcore();
        offloads = VirtioOffloads.bits(c);
        vlans.clear();
    }

    /** virtio has no MTU to program: the new one is checked against the receive buffers set up (and again at start). */
    @Override
    protected void doMtu(int m) {
        for (Mempool p : pools) {
            if (p != null) {
                checkFrameFits(p, m);
            }
        }
    }

    /** Without scatter every frame up to the MTU must fit one receive buffer behind the virtio-net header. */
    private void checkFrameFits(Mempool pool, int mtu) {
        int room = pool.bufLen() - pool.headroom();
        if ((offloads & VirtioOffloads.RX_SCATTER) == 0 && mtu + FRAME_OVERHEAD > room) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' has " + room + "-byte buffers; "
                    + "frames of up to " + (mtu + FRAME_OVERHEAD) + " bytes (MTU " + mtu + ") do not fit one: configure "
                    + "RX offload SCATTER or use a pool with a data room of at least " + (mtu + FRAME_OVERHEAD));
        }
    }

    private void checkRing(int size) {
        if (Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(name() + ": virtio ring sizes are powers of two, not " + size);
        }
        ringSize = Math.max(ringSize, size);
    }

    @Override
    protected void doRxQueueSetup(int q, int size, Mempool pool, Set<RxOffload> offloads) {
        checkRing(size);
        if (pool.headroom() < VirtioNetSpec.HDR_SIZE) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' has " + pool.headroom()
                    + " bytes of headroom; virtio-net puts its " + VirtioNetSpec.HDR_SIZE + "-byte header there");
        }
        checkFrameFits(pool, mtu());
        pools[q] = pool;
    }

    @Override
    protected void doTxQueueSetup(int q, int size, Set<TxOffload> offloads) {
        checkRing(size);
    }

    @Override
    protected void doStart() {
        if (transport instanceof ModernPciTransport pci) {
            pci.mapMemory(); // mempools may live in segments added since probe
        } else if (transport instanceof LegacyPciTransport legacy) {
            legacy.mapMemory();
        }
        if (bursts.length < pairs) { // grown, never replaced: their drop counts feed the port's statistics
            VirtioBursts[] b = java.util.Arrays.copyOf(bursts, pairs);
            for (int q = bursts.length; q < pairs; q++) {
                b[q] = new VirtioBursts(lcore);
            }
            bursts = b;
        }
        for (Mempool p : pools) {
            if (p != null) {
                checkFrameFits(p, mtu()); // the MTU may have grown since the queue was set up
            }
        }
        for (VirtioBursts b : bursts) {
            b.offloads(offloads);
        }
        Mempool first = pools.length > 0 && pools[0] != null ? pools[0] : null;
        net = VirtioNet.open(transport, ctx.memory(),
                p -> new MbufOps(pools[p] != null ? pools[p] : first, lcore, portId, offloads),
                new MbufOps(first, lcore), new VirtioNet.Config(ctx.memzoneName("virtio"), pairs, ringSize, true,
                        VirtioOffloads.features(config()), (offloads & VirtioOffloads.RX_SCATTER) != 0));
        try {
            applyRxMode();
        } catch (RuntimeException e) {
            VirtioNet n = net;
            net = null;
            n.stop();
            throw e;
        }
        publishShare();
        ctx.table().link(portId, link());
    }

    /** What a process attaching one of the queue pairs needs to know ({@link VirtioPortShare}). */
    private void publishShare() {
        VirtioPortShare s = share != null ? share : VirtioPortShare.create(ctx);
        share = s;
        int n = Math.min(net.queuePairs(), VirtioPortShare.MAX_PAIRS);
        s.pairs(n);
        s.features(net.features());
        s.offloads(offloads);
        for (int q = 0; q < n; q++) {
            Mempool p = q < pools.length && pools[q] != null ? pools[q] : pools.length > 0 ? pools[0] : null;
            s.pool(q, p == null ? 0 : p.poolId());
        }
        if (transport instanceof ModernPciTransport pci) {
            s.notifyBar(pci.notifyBar());
            for (int i = 0; i < 2 * n; i++) {
                s.notifyOffset(i, pci.notifyBarOffset(i));
            }
        } else {
            s.notifyBar(-1);
        }
        s.publish();
    }

    /**
     * What a secondary needs to drive queue pair {@code q} (multi-process): over vhost-user the kick eventfds of the
     * pair's receiveq and transmitq, then their call eventfds (RX interrupts); over PCI the BAR holding the
     * notification area. Rings and their state are found by name in the group's memory.
     */
    @Override
    public QueueAccess queueAccess(int q) {
        VirtioNet n = net;
        if (n == null) {
            throw new IllegalStateException(name() + " is not started: start it before sharing its queues");
        }
        if (q < 0 || q >= Math.min(n.queuePairs(), VirtioPortShare.MAX_PAIRS)) {
            throw new IllegalArgumentException(name() + ": queue pairs 0.." + (Math.min(n.queuePairs(),
                    VirtioPortShare.MAX_PAIRS) - 1) + " can be shared, not " + q);
        }
        if (transport instanceof VirtioUserTransport u) {
            int rq = VirtioNetSpec.rxQueue(q);
            int tq = VirtioNetSpec.txQueue(q);
            return new QueueAccess(-1, new int[] {u.kickFd(rq), u.kickFd(tq), u.queueInterruptFd(rq),
                    u.queueInterruptFd(tq)});
        }
        if (transport instanceof ModernPciTransport pci) {
            return new QueueAccess(pci.notifyBar(), new int[0]);
        }
        throw new UnsupportedOperationException(name() + ": transport " + transport.name() + " cannot hand queues to "
                + "other processes");
    }

    /**
     * Takes queue pair {@code q} back after the process that drove it died. virtio has no per-queue reset (short of
     * VIRTIO_F_RING_RESET), so the device keeps the pair running: buffers it returned that the dead process had not
     * consumed, and buffers it added but never made available, go back to their pools; buffers still posted stay
     * posted and are recorded as this process's (the pool audit then finds everything else the dead process held
     * by its owner lcore); this process's view of the pair is rebuilt from the ring and refilled. The next owner
     * resumes the pair from there.
     */
    @Override
    public synchronized boolean resetsQueuePairs() {
        VirtioNet n = net;
        // only split rings keep the shared record a pair is rebuilt from (not packed or legacy ones)
        return n != null && n.queuePairs() > 0 && n.rx(0).virtqueue().state() != null;
    }

    @Override
    public synchronized void queuePairReset(int q) {
        VirtioNet n = net;
        if (n == null) {
            throw new IllegalStateException(name() + ": queuePairReset(" + q + ") needs a started port");
        }
        if (q < 0 || q >= n.queuePairs()) {
            throw new IllegalArgumentException(name() + ": no queue pair " + q + "; " + n.queuePairs() + " configured");
        }
        VirtioBursts.own(n.recoverPair(q), lcore < 0 ? Mbuf.OWNER_NONE : lcore);
    }

    @Override
    protected void doStop() {
        if (share != null) {
            share.unpublish();
        }
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
        return n == null ? 0 : bursts[q].rx(n.rx(q), batch);
    }

    @Override
    public int txBurst(int q, MbufBatch batch) {
        VirtioNet n = net;
        return n == null ? 0 : bursts[q].tx(n.tx(q), batch);
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

    /** What the device forgot at its reset (start negotiates it afresh): RX mode, MAC table, VLAN filter. */
    private void applyRxMode() {
        VirtioNet n = net;
        if (n.has(VirtioNetSpec.F_CTRL_RX)) {
            // both ways: a device may start promiscuous (QEMU does), the port says what it is
            n.setPromiscuous(promisc);
            if (allmulti) {
                n.setAllMulticast(true);
            }
            if (!unicast.isEmpty() || !multicast.isEmpty()) {
                sendMacTable(n);
            }
        }
        for (int v = vlans.nextSetBit(0); v >= 0; v = vlans.nextSetBit(v + 1)) {
            n.vlanFilter(v, true);
        }
    }

    private void requireCtrlRx(String what) {
        if (!Virtio.has(transport.deviceFeatures(), VirtioNetSpec.F_CTRL_RX)) {
            throw unsupported(what + " (the device offers no VIRTIO_NET_F_CTRL_RX)");
        }
    }

    @Override
    public synchronized void allmulticast(boolean on) {
        requireCtrlRx("switch all-multicast reception");
        VirtioNet n = net;
        if (n != null) {
            n.setAllMulticast(on);
        }
        allmulti = on;
    }

    @Override
    public boolean allmulticast() {
        return allmulti;
    }

    @Override
    protected synchronized void doMulticastAddresses(java.util.List<MacAddress> groups) {
        requireCtrlRx("filter multicast groups");
        java.util.List<MacAddress> old = multicast;
        multicast = groups;
        updateMacTable(() -> multicast = old);
    }

    @Override
    protected synchronized void doMacAddrAdd(MacAddress a) {
        requireCtrlRx("accept more unicast addresses");
        if (unicast.contains(a) || a.equals(mac)) {
            return;
        }
        unicast.add(a);
        updateMacTable(() -> unicast.remove(a));
    }

    @Override
    protected synchronized void doMacAddrRemove(MacAddress a) {
        if (!unicast.remove(a)) {
            throw new IllegalArgumentException(name() + ": " + a + " was not added (added: " + unicast + ")");
        }
        updateMacTable(() -> unicast.add(a));
    }

    /** Sends the table now on a started port (undoing the change when the device refuses it). */
    private void updateMacTable(Runnable undo) {
        VirtioNet n = net;
        if (n == null) {
            return;
        }
        try {
            sendMacTable(n);
        } catch (RuntimeException e) {
            undo.run();
            throw e;
        }
    }

    private void sendMacTable(VirtioNet n) {
        byte[][] uc = new byte[unicast.size() + 1][];
        uc[0] = mac.octets(); // the table replaces the device's whole filter: our own address stays in it
        for (int i = 0; i < unicast.size(); i++) {
            uc[i + 1] = unicast.get(i).octets();
        }
        byte[][] mc = new byte[multicast.size()][];
        for (int i = 0; i < mc.length; i++) {
            mc[i] = multicast.get(i).octets();
        }
        n.setMacTable(uc, mc);
    }

    @Override
    protected synchronized void doVlanFilter(int vlanId, boolean on) {
        VirtioNet n = net;
        if (n != null) {
            n.vlanFilter(vlanId, on);
        }
        vlans.set(vlanId, on);
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
        for (VirtioBursts b : bursts) {
            now.oerrors += b.txDropped;
        }
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
