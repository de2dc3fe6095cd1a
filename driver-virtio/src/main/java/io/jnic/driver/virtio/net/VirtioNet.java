package io.jnic.driver.virtio.net;

import io.jnic.driver.virtio.PackedVirtqueue;
import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioDevice;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.VirtqueueState;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;

/**
 * A virtio-net device (virtio 1.x, 5.1) over any transport: negotiation, configuration (MAC, link status, queue
 * pairs), the receive/transmit queue pairs in poll mode, and control commands (queue pairs, promiscuous mode,
 * MAC filter table) through the control queue or a transport that handles them itself.
 *
 * <p>Rings live in memzones of the memory group named {@code <zonePrefix>_vq<index>} (looked up again when
 * the port is reopened in the same group, since memzones are never freed).
 */
public final class VirtioNet implements AutoCloseable {
    /** Without these the driver does not start. */
    public static final long REQUIRED = Virtio.bit(Virtio.F_VERSION_1);
    /**
     * Without these the driver does not start over a legacy transport: MRG_RXBUF gives the 12-byte header of
     * virtio 1.x (10 bytes without it, 5.1.6 legacy note), ANY_LAYOUT lets header and frame share a descriptor.
     */
    public static final long LEGACY_REQUIRED = Virtio.bit(VirtioNetSpec.F_MRG_RXBUF) | Virtio.bit(Virtio.F_ANY_LAYOUT);
    /** What the driver can use when offered. */
    /** Pieces of one transmitted frame at most (its indirect table's size): a 64 KB packet in 2 KB mbufs. */
    public static final int MAX_TX_PIECES = 33;
    public static final long WANTED = REQUIRED | Virtio.bit(VirtioNetSpec.F_MAC) | Virtio.bit(VirtioNetSpec.F_STATUS)
            | Virtio.bit(VirtioNetSpec.F_MTU)
            | Virtio.bit(VirtioNetSpec.F_MRG_RXBUF) | Virtio.bit(VirtioNetSpec.F_MQ) | Virtio.bit(VirtioNetSpec.F_CTRL_VQ)
            | Virtio.bit(VirtioNetSpec.F_CTRL_RX) | Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(Virtio.F_ACCESS_PLATFORM)
            | Virtio.bit(Virtio.F_RING_PACKED) // modern PCI when the device offers it; virtio-user with packed_vq=1
            | Virtio.bit(Virtio.F_IN_ORDER); // split and packed rings: data queues in order, the control queue not

    /**
     * @param pairs     queue pairs wanted (capped by the device's max_virtqueue_pairs; 1 without MQ)
     * @param queueSize ring entries (capped by the device's maximum)
     * @param eventIdx  use VIRTIO_F_EVENT_IDX when offered
     */
    public record Config(String zonePrefix, int pairs, int queueSize, boolean eventIdx, long offloadFeatures,
            boolean scatter) {
        /** Offload features the driver may take when asked for (the rest of {@link #OFFLOADS} are never taken). */
        public static final long OFFLOADS = Virtio.bit(VirtioNetSpec.F_CSUM) | Virtio.bit(VirtioNetSpec.F_GUEST_CSUM)
                | Virtio.bit(VirtioNetSpec.F_HOST_TSO4) | Virtio.bit(VirtioNetSpec.F_HOST_TSO6)
                | Virtio.bit(VirtioNetSpec.F_GUEST_TSO4) | Virtio.bit(VirtioNetSpec.F_GUEST_TSO6)
                | Virtio.bit(VirtioNetSpec.F_CTRL_VLAN) | Virtio.bit(Virtio.F_INDIRECT_DESC);

        /** Without offloads; frames spanning several receive buffers dropped. */
        public Config(String zonePrefix, int pairs, int queueSize, boolean eventIdx) {
            this(zonePrefix, pairs, queueSize, eventIdx, 0L, false);
        }

        public Config {
            if ((offloadFeatures & ~OFFLOADS) != 0) {
                throw new IllegalArgumentException("offload features 0x" + Long.toHexString(offloadFeatures & ~OFFLOADS)
                        + " are not offloads this driver takes");
            }
            if (pairs < 1 || pairs > VirtioNetSpec.CTRL_MQ_VQ_PAIRS_MAX) {
                throw new IllegalArgumentException("queue pairs " + pairs + " outside 1.." + VirtioNetSpec.CTRL_MQ_VQ_PAIRS_MAX);
            }
            if (queueSize < 2 || queueSize > SplitVirtqueue.MAX_SIZE || Integer.bitCount(queueSize) != 1) {
                throw new IllegalArgumentException("queue size " + queueSize + " must be a power of two in 2.." + SplitVirtqueue.MAX_SIZE);
            }
        }
    }

    private final VirtioTransport transport;
    private final VirtioDevice device;
    private final long features;
    private final byte[] mac = new byte[6];
    private final int maxPairs;
    private final int pairs;
    private final VirtioNetRxQueue[] rx;
    private final VirtioNetTxQueue[] tx;
    private final NetControl control;
    private final MemoryGroup memory;
    private final String zonePrefix;
    private int activePairs;
    private boolean closed;

    private VirtioNet(VirtioTransport transport, MemoryGroup memory, java.util.function.IntFunction<BufferOps> rxBuffers,
            BufferOps txBuffers, Config config) {
        this.transport = transport;
        this.memory = memory;
        this.zonePrefix = config.zonePrefix();
        this.device = new VirtioDevice(transport, VirtioNetSpec::featureName);
        boolean legacy = transport.legacy();
        long wanted = (legacy ? WANTED | LEGACY_REQUIRED : WANTED) | config.offloadFeatures();
        if (!config.eventIdx()) {
            wanted &= ~Virtio.bit(Virtio.F_EVENT_IDX);
        }
        try {
            this.features = device.negotiate(legacy ? LEGACY_REQUIRED : REQUIRED, wanted);
        } catch (VirtioException e) {
            if (!legacy) {
                throw e;
            }
            throw new VirtioException(e.getMessage() + "; over the legacy interface jnic needs MRG_RXBUF (the 12-byte"
                    + " header) and ANY_LAYOUT (header and frame in one descriptor), which QEMU offers unless"
                    + " mrg_rxbuf=off or any_layout=off", e);
        }
        if (has(VirtioNetSpec.F_MAC)) {
            for (int i = 0; i < 6; i++) {
                mac[i] = (byte) transport.readConfig(VirtioNetSpec.CFG_MAC + i, 1);
            }
        }
        boolean mq = has(VirtioNetSpec.F_MQ) && has(VirtioNetSpec.F_CTRL_VQ);
        this.maxPairs = mq ? Math.max(1, transport.readConfig(VirtioNetSpec.CFG_MAX_VIRTQUEUE_PAIRS, 2)) : 1;
        this.pairs = Math.min(config.pairs(), maxPairs);
        boolean eventIdx = has(Virtio.F_EVENT_IDX);
        boolean mergeable = has(VirtioNetSpec.F_MRG_RXBUF);
        this.rx = new VirtioNetRxQueue[pairs];
        this.tx = new VirtioNetTxQueue[pairs];
        try {
            for (int p = 0; p < pairs; p++) {
                Virtqueue r = queue(memory, config, VirtioNetSpec.rxQueue(p), eventIdx);
                rx[p] = new VirtioNetRxQueue(r, transport.setupQueue(r), rxBuffers.apply(p), mergeable,
                        config.scatter());
                Virtqueue t = queue(memory, config, VirtioNetSpec.txQueue(p), eventIdx);
                if (has(Virtio.F_INDIRECT_DESC)) {
                    Memzone z = zone(memory, indirectZone(config.zonePrefix(), t.index()),
                            (long) t.size() * MAX_TX_PIECES * SplitVirtqueue.DESC_SIZE);
                    requireContiguous(z);
                    t.useIndirectTables(z.memory(), z.iova(0), MAX_TX_PIECES);
                }
                tx[p] = new VirtioNetTxQueue(t, transport.setupQueue(t), txBuffers);
                r.disableInterrupts();
                t.disableInterrupts();
                rx[p].refill();
            }
            if (has(VirtioNetSpec.F_CTRL_VQ)) {
                if (transport instanceof NetControl own) {
                    control = own;
                } else {
                    int ci = VirtioNetSpec.ctrlQueue(maxPairs, mq);
                    Virtqueue c = queue(memory, new Config(config.zonePrefix(), 1, 64, false), ci, eventIdx);
                    c.disableInterrupts();
                    Memzone buf = zone(memory, config.zonePrefix() + "_ctrl", ControlVirtqueue.BYTES);
                    control = new ControlVirtqueue(transport.name(), c, transport.setupQueue(c), buf);
                }
            } else {
                control = null;
            }
            device.driverOk();
            activePairs = 1;
            if (pairs > 1) {
                setQueuePairs(pairs);
            }
        } catch (RuntimeException e) {
            device.fail();
            for (int p = 0; p < pairs; p++) {
                if (rx[p] != null) {
                    rx[p].drain();
                }
            }
            throw e;
        }
    }

    /**
     * Initializes the device behind {@code transport} and starts its queues.
     *
     * @param buffers where receive buffers come from and transmitted ones go back to
     * @throws VirtioException when the device lacks a required feature, refuses the negotiated ones, or the
     *                         transport fails
     */
    public static VirtioNet open(VirtioTransport transport, MemoryGroup memory, BufferOps buffers, Config config) {
        return new VirtioNet(transport, memory, p -> buffers, buffers, config);
    }

    /**
     * As {@link #open(VirtioTransport, MemoryGroup, BufferOps, Config)} with receive buffers per queue pair (one
     * mbuf pool per RX queue); {@code txBuffers} takes back what the device has sent.
     */
    public static VirtioNet open(VirtioTransport transport, MemoryGroup memory,
            java.util.function.IntFunction<BufferOps> rxBuffers, BufferOps txBuffers, Config config) {
        return new VirtioNet(transport, memory, rxBuffers, txBuffers, config);
    }

    private Virtqueue queue(MemoryGroup memory, Config config, int index, boolean eventIdx) {
        int max = transport.maxQueueSize(index);
        if (max == 0) {
            throw new VirtioException(transport.name() + ": the device has no virtqueue " + index);
        }
        if (transport.legacy()) {
            // the legacy device fixes the size: the ring must have exactly that many entries
            if (Integer.bitCount(max) != 1 || max > SplitVirtqueue.MAX_SIZE) {
                throw new VirtioException(transport.name() + ": legacy virtqueue " + index + " has " + max
                        + " entries, not a power of two up to " + SplitVirtqueue.MAX_SIZE);
            }
            Memzone z = zone(memory, config.zonePrefix() + "_vq" + index, SplitVirtqueue.legacyBytes(max));
            if (!z.iovaContiguous()) {
                throw new VirtioException("memzone " + z.name() + " (" + z.length() + " bytes) is not physically"
                        + " contiguous; a legacy device needs its ring in one run of pages: use 2 MB hugepages");
            }
            return SplitVirtqueue.legacy(index, max, z.memory(), z.iova(0), eventIdx);
        }
        int size = Math.min(config.queueSize(), Integer.highestOneBit(max));
        if (has(Virtio.F_RING_PACKED)) {
            Memzone z = zone(memory, config.zonePrefix() + "_vq" + index, PackedVirtqueue.bytes(size));
            if (!z.iovaContiguous()) {
                throw new VirtioException("memzone " + z.name() + " is not IOVA-contiguous; use IOVA mode ASSIGNED");
            }
            // the control queue (one command outstanding: each used descriptor its own batch) keeps its id stack
            return new PackedVirtqueue(index, size, z.memory(), z.iova(0), eventIdx,
                    has(Virtio.F_IN_ORDER) && index < 2 * pairs);
        }
        Memzone z = zone(memory, config.zonePrefix() + "_vq" + index, SplitVirtqueue.bytes(size));
        if (!z.iovaContiguous()) {
            throw new VirtioException("memzone " + z.name() + " is not IOVA-contiguous; use IOVA mode ASSIGNED");
        }
        if (index >= 2 * pairs) {
            // the control queue: ours only; one command outstanding at a time, so even with IN_ORDER every used
            // entry is its own batch and the free-list path reads it right
            return new SplitVirtqueue(index, size, z.memory(), z.iova(0), eventIdx, 0);
        }
        // data queues record their state in shared memory, so that another process can take a pair over
        Memzone st = zone(memory, stateZone(config.zonePrefix(), index), VirtqueueState.bytes(size));
        return new SplitVirtqueue(index, size, z.memory(), z.iova(0), eventIdx, 0, st.memory(), has(Virtio.F_IN_ORDER));
    }

    /** The memzone of transmit queue {@code index}'s indirect descriptor tables ({@code <prefix>_vq<index>i}). */
    public static String indirectZone(String zonePrefix, int index) {
        return zonePrefix + "_vq" + index + "i";
    }

    private static void requireContiguous(Memzone z) {
        if (!z.iovaContiguous()) {
            throw new VirtioException("memzone " + z.name() + " is not IOVA-contiguous; use IOVA mode ASSIGNED");
        }
    }

    /** The memzone holding the shared state of data queue {@code index} ({@code <prefix>_vq<index>s}). */
    public static String stateZone(String zonePrefix, int index) {
        return zonePrefix + "_vq" + index + "s";
    }

    /**
     * Virtqueue {@code index} as the process that started the device left it in the memory group (rings in
     * {@code <prefix>_vq<index>}, state in {@link #stateZone}), for this process to drive (multi-process). The
     * state must be consistent: its last driver let go, or {@link #recoverPair} ran after it died.
     */
    public static SplitVirtqueue resumeQueue(MemoryGroup memory, String zonePrefix, int index, boolean eventIdx) {
        String rn = zonePrefix + "_vq" + index;
        Memzone st = memory.find(stateZone(zonePrefix, index)).orElseThrow(() -> new VirtioException("no memzone "
                + stateZone(zonePrefix, index) + ": virtqueue " + index + " of this port was never started with shared state"));
        Memzone ring = memory.find(rn).orElseThrow(() -> new VirtioException("no memzone " + rn + " for virtqueue " + index));
        int size = VirtqueueState.recordedSize(st.memory());
        if (ring.length() < SplitVirtqueue.bytes(size)) {
            throw new VirtioException("memzone " + rn + " has " + ring.length() + " bytes, fewer than a queue of " + size
                    + " entries needs");
        }
        VirtqueueState s = VirtqueueState.attach(st.memory(), index, size);
        SplitVirtqueue q = SplitVirtqueue.resume(index, size, ring.memory(), ring.iova(0), eventIdx, s);
        useIndirect(memory, zonePrefix, q);
        return q;
    }

    /** Gives a resumed transmit queue the indirect tables its port set up (if it did). */
    private static void useIndirect(MemoryGroup memory, String zonePrefix, SplitVirtqueue q) {
        Memzone z = memory.find(indirectZone(zonePrefix, q.index())).orElse(null);
        if (z != null) {
            requireContiguous(z);
            q.useIndirectTables(z.memory(), z.iova(0), MAX_TX_PIECES);
        }
    }

    /**
     * Takes queue pair {@code pair} back after the process that drove it died (multi-process recovery): the device
     * keeps running; what it returned but the dead driver had not consumed, and what the dead driver added but never
     * published, goes back to the pools (through this device's buffer ops); buffers still posted stay posted. This
     * process then drives the pair (its view rebuilt from the ring) and refills the receive ring.
     *
     * @return the tokens still posted to the device (receive, then transmit): the caller makes them its own
     */
    public synchronized long[] recoverPair(int pair) {
        if (pair < 0 || pair >= pairs) {
            throw new IllegalArgumentException("queue pair " + pair + " outside 0.." + (pairs - 1));
        }
        VirtioNetRxQueue r = rx[pair];
        VirtioNetTxQueue t = tx[pair];
        if (r.virtqueue().state() == null || t.virtqueue().state() == null) {
            throw new IllegalStateException("queue pair " + pair + " keeps no shared state (packed or legacy rings, or a "
                    + "port not shared with secondaries): nothing another process drove can be recovered");
        }
        VirtqueueState.Recovery rr = r.virtqueue().state().recover(r.virtqueue().memory());
        VirtqueueState.Recovery tr = t.virtqueue().state().recover(t.virtqueue().memory());
        r.ops().freeBulk(rr.release(), 0, rr.release().length);
        t.ops().freeBulk(tr.release(), 0, tr.release().length);
        rx[pair] = VirtioNetRxQueue.resume(resumed(r.virtqueue()), r.notifier(), r.ops(), r.mergeable(), r.scatter());
        SplitVirtqueue tq = resumed(t.virtqueue());
        useIndirect(memory, zonePrefix, tq);
        tx[pair] = VirtioNetTxQueue.resume(tq, t.notifier(), t.ops());
        long[] posted = java.util.Arrays.copyOf(rr.posted(), rr.posted().length + tr.posted().length);
        System.arraycopy(tr.posted(), 0, posted, rr.posted().length, tr.posted().length);
        return posted;
    }

    private static SplitVirtqueue resumed(Virtqueue old) {
        return SplitVirtqueue.resume(old.index(), old.size(), old.memory(), old.descIova(), old.eventIdx(), old.state());
    }

    private static Memzone zone(MemoryGroup memory, String name, long bytes) {
        Memzone z = memory.find(name).orElse(null);
        if (z == null) {
            return memory.reserve(name, bytes, 4096);
        }
        if (z.length() < bytes) {
            throw new VirtioException("memzone " + name + " exists with " + z.length() + " bytes, " + bytes
                    + " needed: it belongs to a port with larger queues; use another zone prefix");
        }
        return z;
    }

    public boolean has(int feature) {
        return Virtio.has(features, feature);
    }

    public long features() {
        return features;
    }

    public VirtioTransport transport() {
        return transport;
    }

    public VirtioDevice device() {
        return device;
    }

    /** The MAC from the device configuration (all zero without VIRTIO_NET_F_MAC). */
    public byte[] mac() {
        return mac.clone();
    }

    /** Link status (5.1.4): always up without VIRTIO_NET_F_STATUS. */
    public boolean linkUp() {
        if (!has(VirtioNetSpec.F_STATUS)) {
            return true;
        }
        return (transport.readConfig(VirtioNetSpec.CFG_STATUS, 2) & VirtioNetSpec.STATUS_LINK_UP) != 0;
    }

    /** Queue pairs set up (usable after {@link #setQueuePairs}). */
    public int queuePairs() {
        return pairs;
    }

    /** Queue pairs the device is currently told to use. */
    public int activeQueuePairs() {
        return activePairs;
    }

    public int maxQueuePairs() {
        return maxPairs;
    }

    public VirtioNetRxQueue rx(int pair) {
        return rx[pair];
    }

    public VirtioNetTxQueue tx(int pair) {
        return tx[pair];
    }

    /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.5): the device spreads traffic over the first {@code n} pairs. */
    public void setQueuePairs(int n) {
        if (n < 1 || n > pairs) {
            throw new IllegalArgumentException("queue pairs " + n + " outside 1.." + pairs + " (set up at open)");
        }
        if (n > 1 && !has(VirtioNetSpec.F_MQ)) {
            throw new VirtioException(transport.name() + ": the device does not offer MQ");
        }
        ack("set " + n + " queue pairs", VirtioNetSpec.CTRL_MQ, VirtioNetSpec.CTRL_MQ_VQ_PAIRS_SET,
                new byte[] {(byte) n, (byte) (n >> 8)});
        activePairs = n;
    }

    /** VIRTIO_NET_CTRL_RX_PROMISC (5.1.6.5.1). */
    public void setPromiscuous(boolean on) {
        requireCtrlRx();
        ack("promiscuous " + (on ? "on" : "off"), VirtioNetSpec.CTRL_RX, VirtioNetSpec.CTRL_RX_PROMISC,
                new byte[] {(byte) (on ? 1 : 0)});
    }

    /** VIRTIO_NET_CTRL_RX_ALLMULTI (5.1.6.5.1). */
    public void setAllMulticast(boolean on) {
        requireCtrlRx();
        ack("all-multicast " + (on ? "on" : "off"), VirtioNetSpec.CTRL_RX, VirtioNetSpec.CTRL_RX_ALLMULTI,
                new byte[] {(byte) (on ? 1 : 0)});
    }

    /**
     * VIRTIO_NET_CTRL_VLAN_ADD / _DEL (5.1.6.5.3): with CTRL_VLAN negotiated the device drops tagged frames of VLANs
     * not added.
     */
    public void vlanFilter(int vlanId, boolean on) {
        if (control == null || !has(VirtioNetSpec.F_CTRL_VLAN)) {
            throw new VirtioException(transport.name() + ": VLAN filtering was not negotiated (VIRTIO_NET_F_CTRL_VLAN)");
        }
        ack((on ? "add" : "remove") + " VLAN " + vlanId, VirtioNetSpec.CTRL_VLAN,
                on ? VirtioNetSpec.CTRL_VLAN_ADD : VirtioNetSpec.CTRL_VLAN_DEL,
                new byte[] {(byte) vlanId, (byte) (vlanId >> 8)});
    }

    /** VIRTIO_NET_CTRL_MAC_TABLE_SET (5.1.6.5.2): the unicast and multicast addresses to accept. */
    public void setMacTable(byte[][] unicast, byte[][] multicast) {
        requireCtrlRx();
        byte[] d = new byte[8 + 6 * (unicast.length + multicast.length)];
        int o = putTable(d, 0, unicast);
        putTable(d, o, multicast);
        ack("set the MAC table", VirtioNetSpec.CTRL_MAC, VirtioNetSpec.CTRL_MAC_TABLE_SET, d);
    }

    private static int putTable(byte[] d, int o, byte[][] macs) {
        int n = macs.length;
        d[o] = (byte) n;
        d[o + 1] = (byte) (n >> 8);
        d[o + 2] = (byte) (n >> 16);
        d[o + 3] = (byte) (n >> 24);
        o += 4;
        for (byte[] m : macs) {
            if (m.length != 6) {
                throw new IllegalArgumentException("a MAC address has 6 bytes, not " + m.length);
            }
            System.arraycopy(m, 0, d, o, 6);
            o += 6;
        }
        return o;
    }

    private void requireCtrlRx() {
        if (control == null || !has(VirtioNetSpec.F_CTRL_RX)) {
            throw new VirtioException(transport.name() + ": the device offers no RX-mode control (VIRTIO_NET_F_CTRL_RX)");
        }
    }

    private void ack(String what, int cls, int cmd, byte[] data) {
        if (control == null) {
            throw new VirtioException(transport.name() + ": cannot " + what + ": the device has no control queue");
        }
        int r = control.command(cls, cmd, data, data.length);
        if (r != VirtioNetSpec.CTRL_OK) {
            throw new VirtioException(transport.name() + ": the device refused to " + what + " (ack " + r + ")");
        }
    }

    /**
     * Resets the device (it stops using every buffer) and returns all buffers to their pools; the transport stays
     * open, so a new {@link #open} over it starts the device again.
     */
    public void stop() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            transport.status(0);
        } catch (RuntimeException e) {
            System.getLogger(VirtioNet.class.getName()).log(System.Logger.Level.DEBUG, "reset failed", e);
        }
        for (int p = 0; p < pairs; p++) {
            if (rx[p] != null) {
                rx[p].drain();
            }
            if (tx[p] != null) {
                tx[p].drain();
            }
        }
    }

    /** {@link #stop()}, then closes the transport. */
    @Override
    public void close() {
        stop();
        transport.close();
    }
}
