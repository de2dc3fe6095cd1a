package io.jnic.ethdev;

import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One port, as applications use it and drivers implement it (rte_ethdev). Control-path methods here check
 * their arguments against {@link #info()} and the port's state, then call the driver's {@code do...} method;
 * the data path ({@link #rxBurst}, {@link #txBurst}) goes straight to the driver.
 *
 * <p>Order, as in DPDK: {@link #configure}, {@link #rxQueueSetup}/{@link #txQueueSetup} for every queue,
 * {@link #start}; then bursts; {@link #stop} (queues keep their setup), {@link #close}.
 *
 * <p>Bursts work on reusable {@link MbufBatch}es and allocate nothing. A queue belongs to one thread at a time.
 */
public abstract class EthDevice implements AutoCloseable {
    protected final PortContext ctx;
    protected final int portId;
    private PortConfig config;
    private boolean[] rxReady = new boolean[0];
    private boolean[] txReady = new boolean[0];
    /** Per queue, what its setup enabled (null until then). */
    private Set<RxOffload>[] rxQueueOffloads;
    private Set<TxOffload>[] txQueueOffloads;
    private PortState state = PortState.PROBED;
    private QueuePair[] pairs;

    protected EthDevice(PortContext ctx) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.portId = ctx.portId();
    }

    public final int portId() {
        return portId;
    }

    /** The device this port drives (PCI address, vdev name). */
    public abstract String deviceName();

    public abstract DeviceInfo info();

    public final PortState state() {
        return state;
    }

    /** The configuration set by {@link #configure}, or null before. */
    public final PortConfig config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------------
    // Configuration

    public final synchronized void configure(PortConfig c) {
        Objects.requireNonNull(c, "config");
        requireNot(PortState.STARTED, "configure");
        requireOpen("configure");
        DeviceInfo i = info();
        if (c.rxQueues() > i.maxRxQueues()) {
            throw new IllegalArgumentException(name() + ": " + c.rxQueues() + " RX queues requested, the device has "
                    + i.maxRxQueues());
        }
        if (c.txQueues() > i.maxTxQueues()) {
            throw new IllegalArgumentException(name() + ": " + c.txQueues() + " TX queues requested, the device has "
                    + i.maxTxQueues());
        }
        if (c.mtu() != 0 && (c.mtu() < i.minMtu() || c.mtu() > i.maxMtu())) {
            throw new IllegalArgumentException(name() + ": MTU " + c.mtu() + " outside " + i.minMtu() + ".." + i.maxMtu());
        }
        if (c.rss() != null) {
            checkRss(c.rss(), c.rxQueues(), i);
        }
        checkOffloads("RX", c.rxOffloads(), i.rxOffloads());
        checkOffloads("TX", c.txOffloads(), i.txOffloads());
        doConfigure(c);
        config = c;
        rxReady = new boolean[c.rxQueues()];
        txReady = new boolean[c.txQueues()];
        @SuppressWarnings("unchecked")
        Set<RxOffload>[] rxo = new Set[c.rxQueues()];
        @SuppressWarnings("unchecked")
        Set<TxOffload>[] txo = new Set[c.txQueues()];
        rxQueueOffloads = rxo;
        txQueueOffloads = txo;
        ctx.table().queues(portId, c.rxQueues(), c.txQueues());
        ctx.table().mtu(portId, c.effectiveMtu());
        setState(PortState.CONFIGURED);
    }

    private <E extends Enum<E>> void checkOffloads(String kind, java.util.Set<E> asked, java.util.Set<E> offered) {
        for (E o : asked) {
            if (!offered.contains(o)) {
                throw new IllegalArgumentException(name() + ": " + kind + " offload " + o + " is not supported by "
                        + info().driverName() + " here (it offers " + offered + "); remove it from the port configuration");
            }
        }
    }

    /** Whether the configuration asks for RX offload {@code o} (false before {@link #configure}). */
    public final boolean rxOffload(RxOffload o) {
        PortConfig c = config;
        return c != null && c.rxOffloads().contains(o);
    }

    /** Whether the configuration enables TX offload {@code o} (false before {@link #configure}). */
    public final boolean txOffload(TxOffload o) {
        PortConfig c = config;
        return c != null && c.txOffloads().contains(o);
    }

    /** The MTU the port runs with (1500 before {@link #configure} or when it asked for the default). */
    public final int mtu() {
        PortConfig c = config;
        return c == null ? 1500 : c.effectiveMtu();
    }

    /**
     * Changes the MTU of a configured port that is not started (rte_eth_dev_set_mtu): the queues keep their setup,
     * and the driver re-checks at {@link #start} that its RX buffers hold the larger frames (or that
     * {@link RxOffload#SCATTER} is on). On failure the old MTU stays.
     */
    public final synchronized void mtu(int m) {
        requireConfigured("change the MTU");
        requireNot(PortState.STARTED, "change the MTU");
        DeviceInfo i = info();
        if (m < i.minMtu() || m > i.maxMtu()) {
            throw new IllegalArgumentException(name() + ": MTU " + m + " outside " + i.minMtu() + ".." + i.maxMtu());
        }
        doMtu(m);
        config = config.withMtu(m);
        ctx.table().mtu(portId, m);
    }

    private void checkRss(RssConfig r, int rxQueues, DeviceInfo i) {
        if (r.key() != null && r.key().length != i.rssKeySize()) {
            throw new IllegalArgumentException(name() + ": RSS key of " + r.key().length + " bytes, the device takes "
                    + i.rssKeySize());
        }
        int[] reta = r.reta();
        if (reta.length != 0 && reta.length != i.retaSize()) {
            throw new IllegalArgumentException(name() + ": RETA of " + reta.length + " entries, the device has "
                    + i.retaSize() + " (or pass none for an even spread)");
        }
        for (int k = 0; k < reta.length; k++) {
            if (reta[k] >= rxQueues) {
                throw new IllegalArgumentException(name() + ": RETA entry " + k + " names queue " + reta[k] + " but only "
                        + rxQueues + " RX queues are configured");
            }
        }
        for (RssHashType t : r.hashTypes()) {
            if (!i.rssHashTypes().contains(t)) {
                throw new IllegalArgumentException(name() + ": RSS hash type " + t + " is not supported (supported: "
                        + i.rssHashTypes() + ")");
            }
        }
    }

    /** Sets up RX queue {@code q} with {@code ringSize} descriptors, filled from {@code pool}, with the port's offloads. */
    public final void rxQueueSetup(int q, int ringSize, Mempool pool) {
        rxQueueSetup(q, ringSize, pool, Set.of());
    }

    /**
     * Sets up RX queue {@code q} as {@link #rxQueueSetup(int, int, Mempool)} does, with {@code offloads} on this
     * queue in addition to the port's (rte_eth_rx_queue_setup with rx_conf.offloads): each one the port does not
     * already enable must be in {@link DeviceInfo#rxQueueOffloads}. On failure nothing is set up.
     */
    public final synchronized void rxQueueSetup(int q, int ringSize, Mempool pool, Set<RxOffload> offloads) {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(offloads, "offloads");
        requireConfigured("rxQueueSetup");
        requireNot(PortState.STARTED, "rxQueueSetup");
        checkQueue(q, config.rxQueues(), "RX");
        checkRing(ringSize);
        Set<RxOffload> all = queueOffloads("RX", q, offloads, config.rxOffloads(), info().rxOffloads(),
                info().rxQueueOffloads(), RxOffload.class);
        doRxQueueSetup(q, ringSize, pool, all);
        rxQueueOffloads[q] = all;
        rxReady[q] = true;
    }

    /** Sets up TX queue {@code q} with {@code ringSize} descriptors and the port's offloads. */
    public final void txQueueSetup(int q, int ringSize) {
        txQueueSetup(q, ringSize, Set.of());
    }

    /**
     * Sets up TX queue {@code q} with {@code offloads} on this queue in addition to the port's
     * (rte_eth_tx_queue_setup with tx_conf.offloads): each one the port does not already enable must be in
     * {@link DeviceInfo#txQueueOffloads}. On failure nothing is set up.
     */
    public final synchronized void txQueueSetup(int q, int ringSize, Set<TxOffload> offloads) {
        Objects.requireNonNull(offloads, "offloads");
        requireConfigured("txQueueSetup");
        requireNot(PortState.STARTED, "txQueueSetup");
        checkQueue(q, config.txQueues(), "TX");
        checkRing(ringSize);
        Set<TxOffload> all = queueOffloads("TX", q, offloads, config.txOffloads(), info().txOffloads(),
                info().txQueueOffloads(), TxOffload.class);
        doTxQueueSetup(q, ringSize, all);
        txQueueOffloads[q] = all;
        txReady[q] = true;
    }

    /** The offloads RX queue {@code q} runs with: the port's and those its setup added. */
    public final synchronized Set<RxOffload> rxQueueOffloads(int q) {
        requireConfigured("rxQueueOffloads");
        checkQueue(q, config.rxQueues(), "RX");
        Set<RxOffload> s = rxQueueOffloads[q];
        return s != null ? s : config.rxOffloads();
    }

    /** The offloads TX queue {@code q} runs with: the port's and those its setup added. */
    public final synchronized Set<TxOffload> txQueueOffloads(int q) {
        requireConfigured("txQueueOffloads");
        checkQueue(q, config.txQueues(), "TX");
        Set<TxOffload> s = txQueueOffloads[q];
        return s != null ? s : config.txOffloads();
    }

    /** The port's offloads and {@code asked}, each of which the port enables already or a queue may enable alone. */
    private <E extends Enum<E>> Set<E> queueOffloads(String kind, int q, Set<E> asked, Set<E> port, Set<E> offered,
            Set<E> perQueue, Class<E> type) {
        EnumSet<E> all = EnumSet.noneOf(type);
        all.addAll(port);
        for (E o : asked) {
            if (port.contains(o)) {
                continue;
            }
            if (!perQueue.contains(o)) {
                throw new IllegalArgumentException(name() + ": " + kind + " queue " + q + ": offload " + o + (offered.contains(o)
                        ? " is port-wide on " + info().driverName() + " (per queue it offers " + perQueue
                                + "); enable it for every queue with PortConfig.with" + kind.charAt(0)
                                + kind.substring(1).toLowerCase(java.util.Locale.ROOT) + "Offloads"
                        : " is not supported by " + info().driverName() + " here (it offers " + offered + ")"));
            }
            all.add(o);
        }
        return DeviceInfo.frozen(all, type);
    }

    private void checkQueue(int q, int n, String kind) {
        if (q < 0 || q >= n) {
            throw new IllegalArgumentException(name() + ": no " + kind + " queue " + q + "; " + n + " configured (0.."
                    + (n - 1) + ")");
        }
    }

    private void checkRing(int ringSize) {
        DeviceInfo i = info();
        if (ringSize < i.minRing() || ringSize > i.maxRing() || ringSize % i.ringAlign() != 0) {
            throw new IllegalArgumentException(name() + ": ring size " + ringSize + " not accepted: it must be "
                    + i.minRing() + ".." + i.maxRing() + " and a multiple of " + i.ringAlign());
        }
    }

    public final synchronized void start() {
        requireConfigured("start");
        if (state == PortState.STARTED) {
            return;
        }
        for (int q = 0; q < rxReady.length; q++) {
            if (!rxReady[q]) {
                throw new IllegalStateException(name() + ": RX queue " + q + " is not set up; call rxQueueSetup first");
            }
        }
        for (int q = 0; q < txReady.length; q++) {
            if (!txReady[q]) {
                throw new IllegalStateException(name() + ": TX queue " + q + " is not set up; call txQueueSetup first");
            }
        }
        doStart();
        setState(PortState.STARTED);
    }

    public final synchronized void stop() {
        if (state != PortState.STARTED) {
            return;
        }
        doStop();
        setState(PortState.STOPPED);
    }

    @Override
    public final synchronized void close() {
        if (state == PortState.CLOSED) {
            return;
        }
        try {
            stop();
        } finally {
            try {
                doClose();
            } finally {
                state = PortState.CLOSED;
                ctx.table().release(portId);
            }
        }
    }

    private void setState(PortState s) {
        state = s;
        ctx.table().state(portId, s);
    }

    private void requireOpen(String what) {
        if (state == PortState.CLOSED) {
            throw new IllegalStateException(name() + " is closed; cannot " + what);
        }
    }

    private void requireConfigured(String what) {
        requireOpen(what);
        if (config == null) {
            throw new IllegalStateException(name() + ": " + what + " before configure(); configure the port first");
        }
    }

    private void requireNot(PortState s, String what) {
        if (state == s) {
            throw new IllegalStateException(name() + ": cannot " + what + " while " + s.name().toLowerCase()
                    + "; stop() the port first");
        }
    }

    /** "port 0 (net_null0)". */
    public final String name() {
        return "port " + portId + " (" + deviceName() + ")";
    }

    // ---------------------------------------------------------------------------------------------
    // Data path

    /**
     * Receives up to {@code batch.capacity() - batch.count()} packets from RX queue {@code q} and appends
     * them to {@code batch}; returns how many.
     */
    public abstract int rxBurst(int q, MbufBatch batch);

    /**
     * Hands the packets of {@code batch} to TX queue {@code q}, in order, as many as there is room for; they
     * leave the batch and the unsent rest moves to its front. Returns how many were queued; the caller frees
     * or retries the rest (as with rte_eth_tx_burst).
     */
    public abstract int txBurst(int q, MbufBatch batch);

    /**
     * Queue pair {@code q} of this port, to forward through (the same type an attaching process gets for a queue
     * of a port it did not start). The object stays valid for the life of the port, across stop, start and queue
     * resets; bursts on it before the queue is set up fail as {@link #rxBurst} does.
     */
    public QueuePair queuePair(int q) {
        int max = Math.max(info().maxRxQueues(), info().maxTxQueues());
        if (q < 0 || q >= max) {
            throw new IllegalArgumentException(name() + " has queues 0.." + (max - 1) + ", not " + q);
        }
        synchronized (this) {
            if (pairs == null) {
                pairs = new QueuePair[max];
            }
            if (pairs[q] == null) {
                pairs[q] = newQueuePair(q);
            }
            return pairs[q];
        }
    }

    /** Makes the object {@link #queuePair} returns; drivers with queue objects of their own give them directly. */
    protected QueuePair newQueuePair(int q) {
        return new PortQueuePair(this, q);
    }

    /**
     * The eventfd RX queue {@code q}'s interrupt increments (rte_eth_dev_rx_intr_ctl_q_get_fd), or -1 when the
     * port has none (no {@link PortConfig#rxInterrupts}, or a device without interrupts). For {@link RxInterrupts}.
     */
    public int rxInterruptFd(int q) {
        return -1;
    }

    /**
     * Arms RX queue {@code q}'s interrupt (rte_eth_dev_rx_intr_enable); returns false, leaving it unarmed, when a
     * packet is already waiting (then poll instead of sleeping).
     */
    public boolean rxInterruptEnable(int q) {
        throw new UnsupportedOperationException(name() + " has no RX interrupts");
    }

    /** Disarms RX queue {@code q}'s interrupt (rte_eth_dev_rx_intr_disable). */
    public void rxInterruptDisable(int q) {
    }

    /**
     * Blocks until RX queue {@code q} has a packet or {@code timeoutNanos} passes (interrupt mode, with
     * {@link PortConfig#rxInterrupts}); returns true when a packet may be there. Drivers without interrupts
     * return at once.
     */
    public boolean rxWait(int q, long timeoutNanos) {
        return true;
    }

    /**
     * True when RX queue {@code q}'s next descriptor holds a received packet (rte_eth_rx_descriptor_status of
     * the next descriptor being DONE), without side effects. Drivers that cannot tell return true.
     */
    public boolean rxPending(int q) {
        return true;
    }

    // ---------------------------------------------------------------------------------------------
    // Link, MAC, filters

    /** The link now (reads the device). */
    public abstract LinkStatus link();

    /** Waits until the link is up or {@code timeout} passes; returns the last status seen. */
    public LinkStatus waitLink(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        LinkStatus l = link();
        while (!l.up() && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            l = link();
        }
        return l;
    }

    /**
     * Calls {@code listener} (on the driver's interrupt thread) on every link change the device reports.
     * Drivers without link interrupts throw.
     */
    public void addLinkListener(java.util.function.Consumer<LinkStatus> listener) {
        throw new UnsupportedOperationException(name() + " (" + info().driverName() + ") reports no link changes");
    }

    /**
     * Calls {@code listener} (on the driver's thread) when the port notices that its device reset itself, and again
     * when it has re-initialised the port and its queues after that. Drivers that do not recover by themselves throw.
     */
    public void addResetListener(java.util.function.Consumer<PortReset> listener) {
        throw new UnsupportedOperationException(name() + " (" + info().driverName() + ") does not re-initialise itself "
                + "after a device reset");
    }

    /**
     * Stops RX/TX queue pair {@code q} in the device, returns the mbufs in its rings to their pools (read from
     * the queue's state in shared memory: the process that drove it may be dead) and sets it up and starts it
     * again with fresh buffers; the other queues keep running. For multi-process recovery.
     */
    public void queuePairReset(int q) {
        throw new UnsupportedOperationException(name() + " (" + info().driverName() + ") cannot reset a single queue");
    }

    /**
     * Whether {@link #queuePairReset} works on this port now: one pair reset while the others run. Where it does
     * not, recovering from a dead queue owner means stopping and starting the whole port.
     */
    public boolean resetsQueuePairs() {
        return false;
    }

    /**
     * What another process needs, beside the group's shared memory, to drive queue pair {@code q} of this port
     * (multi-process; the primary hands it over). Null (the default) when the driver says nothing: a PCI port
     * then hands over its driver's {@link EthDriver#doorbellBar()}, a virtual device cannot be shared.
     */
    public QueueAccess queueAccess(int q) {
        return null;
    }

    public abstract MacAddress macAddress();

    public void macAddress(MacAddress mac) {
        throw new UnsupportedOperationException(name() + " cannot change its MAC address");
    }

    public abstract void promiscuous(boolean on);

    public abstract boolean promiscuous();

    /** Accept every multicast frame (rte_eth_allmulticast_enable/disable). */
    public void allmulticast(boolean on) {
        throw unsupported("switch all-multicast reception");
    }

    public boolean allmulticast() {
        return false;
    }

    /**
     * Accept exactly these multicast groups besides what all-multicast lets in (rte_eth_dev_set_mc_addr_list);
     * an empty list removes them all. Each address must be multicast (low bit of the first octet set).
     */
    public final void multicastAddresses(java.util.List<MacAddress> groups) {
        for (MacAddress a : groups) {
            if (!a.isMulticast()) {
                throw new IllegalArgumentException(name() + ": " + a + " is not a multicast address (the low bit of the "
                        + "first octet is clear); add unicast addresses with macAddrAdd");
            }
        }
        doMulticastAddresses(java.util.List.copyOf(groups));
    }

    /** Also accept frames to unicast address {@code mac} (rte_eth_dev_mac_addr_add), in a free filter slot. */
    public final void macAddrAdd(MacAddress mac) {
        if (mac.isMulticast()) {
            throw new IllegalArgumentException(name() + ": " + mac + " is a multicast address; pass multicast groups "
                    + "to multicastAddresses");
        }
        doMacAddrAdd(mac);
    }

    /** Stops accepting {@code mac}, added before by {@link #macAddrAdd}; the port's own address stays. */
    public final void macAddrRemove(MacAddress mac) {
        doMacAddrRemove(mac);
    }

    /**
     * Lets frames of VLAN {@code vlanId} in ({@code on}) or no longer (rte_eth_dev_vlan_filter); needs
     * {@link RxOffload#VLAN_FILTER} in the configuration, which drops every tagged frame of a VLAN not let in.
     */
    public final void vlanFilter(int vlanId, boolean on) {
        if (vlanId < 0 || vlanId > 4095) {
            throw new IllegalArgumentException(name() + ": VLAN id " + vlanId + " outside 0..4095");
        }
        if (!rxOffload(RxOffload.VLAN_FILTER)) {
            throw new IllegalStateException(name() + ": the VLAN filter is off; configure the port with RX offload "
                    + "VLAN_FILTER first");
        }
        doVlanFilter(vlanId, on);
    }

    /** Fixes the link speed or returns to autonegotiation (takes effect at once, or at start on a stopped port). */
    public void linkSettings(LinkSettings s) {
        throw unsupported("change its link settings");
    }

    public LinkSettings linkSettings() {
        return LinkSettings.AUTONEG;
    }

    /** Pause-frame handling (rte_eth_dev_flow_ctrl_set). */
    public void flowControl(FlowControl fc) {
        throw unsupported("change flow control");
    }

    public FlowControl flowControl() {
        return FlowControl.NONE;
    }

    // ---------------------------------------------------------------------------------------------
    // IEEE 1588 timestamps (rte_eth_timesync_*)

    /**
     * Starts the port's clock and timestamping: received frames the port stamps carry
     * {@link io.jnic.memory.mbuf.MbufFlags#RX_IEEE1588_TMST} and the time in the mbuf; frames sent with
     * {@link io.jnic.memory.mbuf.MbufFlags#TX_IEEE1588_TMST} can be read back with {@link #readTxTimestamp}.
     */
    public void timesyncEnable() {
        throw unsupported("timestamp packets");
    }

    public void timesyncDisable() {
        throw unsupported("timestamp packets");
    }

    /** The port's clock now, in nanoseconds. */
    public long readTime() {
        throw unsupported("timestamp packets");
    }

    public void writeTime(long nanos) {
        throw unsupported("timestamp packets");
    }

    /** Moves the port's clock by {@code deltaNanos}. */
    public void adjustTime(long deltaNanos) {
        throw unsupported("timestamp packets");
    }

    /** The time the last frame marked for a TX timestamp left, or -1 when none is waiting (it is read once). */
    public long readTxTimestamp() {
        throw unsupported("timestamp packets");
    }

    // ---------------------------------------------------------------------------------------------
    // Flow steering (a small rte_flow)

    /**
     * Throws, saying why, when the port could not install {@code rule} now (a field the hardware cannot match,
     * a queue not configured, no free filter); returns when {@link #flowCreate} would succeed.
     */
    public final void flowValidate(FlowRule rule) {
        requireConfigured("validate a flow rule");
        if (rule.action() == FlowRule.Action.QUEUE && rule.queue() >= config.rxQueues()) {
            throw new IllegalArgumentException(name() + ": the rule sends to RX queue " + rule.queue() + " but only "
                    + config.rxQueues() + " are configured");
        }
        doFlowValidate(rule);
    }

    /** Installs {@code rule}; frames it matches go where it says, ahead of RSS. */
    public final synchronized Flow flowCreate(FlowRule rule) {
        flowValidate(rule);
        return doFlowCreate(rule);
    }

    /** Removes a rule installed by {@link #flowCreate} on this port. */
    public final synchronized void flowDestroy(Flow flow) {
        if (flow.port() != portId) {
            throw new IllegalArgumentException(name() + ": " + flow + " belongs to port " + flow.port());
        }
        doFlowDestroy(flow);
    }

    /** The rules installed now. */
    public java.util.List<Flow> flows() {
        return java.util.List.of();
    }

    protected final UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException(name() + " (" + info().driverName() + ") cannot " + what);
    }

    // ---------------------------------------------------------------------------------------------
    // Statistics

    /** Fills {@code into} with the port's counters since start or the last {@link #statsReset}. */
    public abstract void stats(PortStats into);

    public final PortStats stats() {
        PortStats s = new PortStats();
        stats(s);
        return s;
    }

    public abstract void statsReset();

    /** Extended statistics by name (rte_eth_xstats_get_names + get): the basic ones plus the driver's own. */
    public Map<String, Long> xstats() {
        PortStats s = stats();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("rx_good_packets", s.ipackets);
        m.put("tx_good_packets", s.opackets);
        m.put("rx_good_bytes", s.ibytes);
        m.put("tx_good_bytes", s.obytes);
        m.put("rx_missed_errors", s.imissed);
        m.put("rx_errors", s.ierrors);
        m.put("tx_errors", s.oerrors);
        m.put("rx_mbuf_allocation_errors", s.rxNombuf);
        int nq = config == null ? 0 : Math.min(PortStats.QUEUE_STATS, config.rxQueues());
        for (int q = 0; q < nq; q++) {
            m.put("rx_q" + q + "_packets", s.qIpackets[q]);
            m.put("rx_q" + q + "_bytes", s.qIbytes[q]);
        }
        nq = config == null ? 0 : Math.min(PortStats.QUEUE_STATS, config.txQueues());
        for (int q = 0; q < nq; q++) {
            m.put("tx_q" + q + "_packets", s.qOpackets[q]);
            m.put("tx_q" + q + "_bytes", s.qObytes[q]);
        }
        return m;
    }

    /** One extended statistic; throws naming the known ones when there is none called {@code name}. */
    public final long xstat(String name) {
        Map<String, Long> m = xstats();
        Long v = m.get(name);
        if (v == null) {
            throw new IllegalArgumentException(name() + " has no extended statistic '" + name + "'; it has " + m.keySet());
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------------
    // Driver hooks

    protected abstract void doConfigure(PortConfig c);

    /** {@code offloads}: what the queue runs with, the port's and its own (checked against {@link #info}). */
    protected abstract void doRxQueueSetup(int q, int ringSize, Mempool pool, Set<RxOffload> offloads);

    protected abstract void doTxQueueSetup(int q, int ringSize, Set<TxOffload> offloads);

    protected abstract void doStart();

    protected abstract void doStop();

    protected abstract void doClose();

    /** Applies a new MTU on a stopped port; the port's configuration records it after this returns. */
    protected void doMtu(int m) {
        throw unsupported("change its MTU after configure");
    }

    protected void doMulticastAddresses(java.util.List<MacAddress> groups) {
        throw unsupported("filter multicast groups");
    }

    protected void doMacAddrAdd(MacAddress mac) {
        throw unsupported("accept more unicast addresses");
    }

    protected void doMacAddrRemove(MacAddress mac) {
        throw unsupported("accept more unicast addresses");
    }

    protected void doVlanFilter(int vlanId, boolean on) {
        throw unsupported("filter VLANs");
    }

    /** Throws, saying why, when the hardware cannot hold {@code rule} now. */
    protected void doFlowValidate(FlowRule rule) {
        throw unsupported("steer flows");
    }

    protected Flow doFlowCreate(FlowRule rule) {
        throw unsupported("steer flows");
    }

    protected void doFlowDestroy(Flow flow) {
        throw unsupported("steer flows");
    }

    @Override
    public String toString() {
        return name() + " " + info().driverName() + " " + state;
    }
}
