package io.jnic.driver.virtio.vhost;

import io.jnic.driver.virtio.PackedVirtqueue;
import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.driver.virtio.net.NetControl;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.memory.DmaSegment;
import io.jnic.memory.MemoryGroup;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.security.SecureRandom;
import java.util.List;

/**
 * virtio-net over vhost-user ("virtio-user"): the device is a vhost-user backend (DPDK's net_vhost, a vswitch)
 * reached through a UNIX socket; this class is the frontend, playing the part QEMU plays for a VM.
 *
 * <p>What vhost-user does not carry is emulated here, as DPDK's virtio-user does: the status byte, the
 * configuration space (MAC from {@code mac=} or random, link up while the backend is connected,
 * max_virtqueue_pairs from GET_QUEUE_NUM and {@code queues=}), and the control queue (MAC, STATUS, CTRL_VQ,
 * CTRL_RX are offered by us and never sent to the backend; VQ_PAIRS_SET becomes SET_VRING_ENABLE; the RX mode
 * and MAC table are accepted and recorded: a vhost-user backend delivers every frame, it has no filter).
 *
 * <p>Memory: every segment of the group is declared in SET_MEM_TABLE with its fd; the "guest physical" address
 * of a byte is its IOVA in the group (so descriptors carry {@link DmaSegment#iova}), while SET_VRING_ADDR carries
 * our virtual addresses, as the protocol asks. Segments added to the group after DRIVER_OK are not declared.
 *
 * <p>Order of messages: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_OWNER at connect;
 * SET_FEATURES at FEATURES_OK; SET_MEM_TABLE and per ring SET_VRING_CALL/NUM/BASE/ADDR/KICK at DRIVER_OK, then
 * SET_VRING_ENABLE for the first pair.
 *
 * <p>Packed rings (VIRTIO_F_RING_PACKED) are offered to the driver only with {@code packed_vq=1}, as in DPDK's
 * virtio-user; then SET_VRING_ADDR carries the descriptor ring and the driver/device event-suppression areas in
 * the desc/avail/used fields, and SET_VRING_BASE the position with the wrap counter in bit 15. VIRTIO_F_IN_ORDER
 * is offered when the backend has it, unless {@code in_order=0} (DPDK's devarg and default).
 */
public final class VirtioUserTransport implements VirtioTransport, NetControl {
    private static final System.Logger LOG = System.getLogger(VirtioUserTransport.class.getName());
    /** Features we answer for (never sent to the backend). */
    static final long EMULATED = Virtio.bit(VirtioNetSpec.F_MAC) | Virtio.bit(VirtioNetSpec.F_STATUS)
            | Virtio.bit(VirtioNetSpec.F_CTRL_VQ) | Virtio.bit(VirtioNetSpec.F_CTRL_RX);
    /**
     * Backend features passed to the driver (the rest, e.g. IOTLB handling (ACCESS_PLATFORM), never are): checksum
     * and segmentation offloads go to the backend, which implements them (DPDK's vhost turns them into mbuf offload
     * requests and back).
     */
    static final long SUPPORTED_FROM_BACKEND = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX)
            | Virtio.bit(VirtioNetSpec.F_MRG_RXBUF) | Virtio.bit(VirtioNetSpec.F_MQ)
            | Virtio.bit(VirtioNetSpec.F_CSUM) | Virtio.bit(VirtioNetSpec.F_GUEST_CSUM)
            | Virtio.bit(VirtioNetSpec.F_HOST_TSO4) | Virtio.bit(VirtioNetSpec.F_HOST_TSO6)
            | Virtio.bit(VirtioNetSpec.F_GUEST_TSO4) | Virtio.bit(VirtioNetSpec.F_GUEST_TSO6)
            | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(Virtio.VHOST_USER_F_PROTOCOL_FEATURES);
    static final long PROTOCOL_WANTED = Virtio.bit(VhostUserClient.PROTOCOL_F_MQ)
            | Virtio.bit(VhostUserClient.PROTOCOL_F_REPLY_ACK);

    private final VirtioUserArgs args;
    private final MemoryGroup memory;
    private final VhostUserClient client;
    private final long backendFeatures;
    private final long protocolFeatures;
    private final int backendPairs;
    private final int pairs;
    private final byte[] mac;
    private final Virtqueue[] queues;
    private final int[] kickFds;
    private final int[] callFds;
    private int status;
    private long driverFeatures;
    private boolean started;
    private int enabledPairs;
    private boolean promiscuous;
    private boolean allMulticast;
    private int unicastFilters;
    private int multicastFilters;

    private VirtioUserTransport(VirtioUserArgs args, MemoryGroup memory, VhostUserClient client) {
        this.args = args;
        this.memory = memory;
        this.client = client;
        this.backendFeatures = client.getU64(VhostUserClient.GET_FEATURES);
        long proto = 0;
        if (Virtio.has(backendFeatures, Virtio.VHOST_USER_F_PROTOCOL_FEATURES)) {
            proto = client.getU64(VhostUserClient.GET_PROTOCOL_FEATURES) & PROTOCOL_WANTED;
            client.sendU64(VhostUserClient.SET_PROTOCOL_FEATURES, proto);
            client.useReplyAck(Virtio.has(proto, VhostUserClient.PROTOCOL_F_REPLY_ACK));
        }
        this.protocolFeatures = proto;
        int bq = 1;
        if (Virtio.has(proto, VhostUserClient.PROTOCOL_F_MQ)) {
            long n = client.getU64(VhostUserClient.GET_QUEUE_NUM);
            bq = (int) Math.max(1, Math.min(n, VirtioUserArgs.MAX_QUEUES));
        }
        this.backendPairs = bq;
        if (args.queues() > bq) {
            throw new VirtioException("virtio-user " + args.path() + ": " + args.queues() + " queue pairs requested"
                    + " (queues=" + args.queues() + ") but the backend offers " + bq + ": start it with more queues"
                    + " (net_vhost: queues=" + args.queues() + ") or ask for fewer");
        }
        this.pairs = args.queues();
        client.send(VhostUserClient.SET_OWNER);
        this.mac = args.mac().orElseGet(VirtioUserTransport::randomMac);
        int nq = 2 * pairs + 1;
        this.queues = new Virtqueue[nq];
        this.kickFds = new int[nq];
        this.callFds = new int[nq];
        java.util.Arrays.fill(kickFds, -1);
        java.util.Arrays.fill(callFds, -1);
    }

    /**
     * Connects to the backend named by {@code args} and reads what it offers.
     *
     * @throws VirtioException when no backend listens, or it offers too few queues
     */
    public static VirtioUserTransport open(VirtioUserArgs args, MemoryGroup memory) {
        VhostUserClient c = VhostUserClient.connect(args.path());
        try {
            return new VirtioUserTransport(args, memory, c);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static byte[] randomMac() {
        byte[] m = new byte[6];
        new SecureRandom().nextBytes(m);
        m[0] = (byte) ((m[0] & 0xFE) | 0x02); // unicast, locally administered
        return m;
    }

    public VirtioUserArgs args() {
        return args;
    }

    public long backendFeatures() {
        return backendFeatures;
    }

    public long protocolFeatures() {
        return protocolFeatures;
    }

    /** Queue pairs the backend supports (GET_QUEUE_NUM). */
    public int backendQueuePairs() {
        return backendPairs;
    }

    public int enabledPairs() {
        return enabledPairs;
    }

    public boolean promiscuous() {
        return promiscuous;
    }

    public boolean allMulticast() {
        return allMulticast;
    }

    /** Entries of the last MAC table set (unicast, multicast), recorded only. */
    public int[] macFilterCounts() {
        return new int[] {unicastFilters, multicastFilters};
    }

    @Override
    public String name() {
        return "virtio-user:" + args.path();
    }

    @Override
    public long deviceFeatures() {
        long supported = SUPPORTED_FROM_BACKEND | (args.packedVq() ? Virtio.bit(Virtio.F_RING_PACKED) : 0)
                | (args.inOrder() ? Virtio.bit(Virtio.F_IN_ORDER) : 0);
        long f = backendFeatures & supported & ~Virtio.bit(Virtio.VHOST_USER_F_PROTOCOL_FEATURES);
        return f | EMULATED;
    }

    @Override
    public void driverFeatures(long features) {
        driverFeatures = features;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public void status(int s) {
        if (s == 0) {
            if (started) {
                stopRings();
            }
            status = 0;
            return;
        }
        if ((s & Virtio.STATUS_FEATURES_OK) != 0 && (status & Virtio.STATUS_FEATURES_OK) == 0) {
            long toBackend = driverFeatures & ~EMULATED;
            if ((toBackend & ~backendFeatures) != 0) {
                throw new VirtioException(name() + ": features " + Long.toHexString(toBackend & ~backendFeatures)
                        + " were not offered by the backend");
            }
            // the backend expects its PROTOCOL_FEATURES bit acknowledged, or it treats rings as enabled at once
            toBackend |= backendFeatures & Virtio.bit(Virtio.VHOST_USER_F_PROTOCOL_FEATURES);
            try {
                client.sendU64(VhostUserClient.SET_FEATURES, toBackend);
            } catch (VirtioException e) {
                status = s & ~Virtio.STATUS_FEATURES_OK;
                throw new VirtioException(name() + ": the backend refused the features "
                        + Virtio.describe(toBackend, VirtioNetSpec::featureName) + ": " + e.getMessage(), e);
            }
        }
        if ((s & Virtio.STATUS_DRIVER_OK) != 0 && !started) {
            start();
        }
        status = s;
    }

    private void start() {
        if (queues[0] == null || queues[1] == null) {
            throw new VirtioException(name() + ": DRIVER_OK before the first queue pair was set up");
        }
        List<DmaSegment> segs = memory.segments();
        VhostUserClient.Region[] regions = new VhostUserClient.Region[segs.size()];
        int n = 0;
        for (DmaSegment s : segs) {
            if (!s.iovaContiguous(0, s.size())) {
                throw new VirtioException(name() + ": segment " + s.id() + " is not one IOVA range (IOVA mode "
                        + s.iovaMode() + "): create the memory group with IOVA mode ASSIGNED or IDENTITY for virtio-user");
            }
            if (n == VhostUserClient.MAX_REGIONS) {
                throw new VirtioException(name() + ": the memory group has " + segs.size() + " segments but a"
                        + " vhost-user memory table holds " + VhostUserClient.MAX_REGIONS + ": use fewer, larger segments");
            }
            regions[n++] = new VhostUserClient.Region(s.iovaBase(), s.size(), s.memory().address(), 0, s.fd());
        }
        client.sendMemTable(regions, n);
        for (int q = 0; q < 2 * pairs; q++) {
            Virtqueue vq = queues[q];
            if (vq == null) {
                continue;
            }
            long va = vq.memory().address();
            client.sendVringFd(VhostUserClient.SET_VRING_CALL, q, callFds[q]);
            client.sendState(VhostUserClient.SET_VRING_NUM, q, vq.size());
            // where the backend starts reading: the first buffer not consumed yet (buffers added before DRIVER_OK
            // are still to be processed; a split backend would otherwise resync from used->idx, a packed one cannot)
            client.sendState(VhostUserClient.SET_VRING_BASE, q, vq.lastUsedIndex());
            if (vq instanceof PackedVirtqueue p) {
                // vhost-user: desc = descriptor ring, used = device area, avail = driver area
                client.sendVringAddr(q, va, va + (p.deviceAreaIova() - p.descIova()), va + (p.driverAreaIova() - p.descIova()));
            } else {
                SplitVirtqueue sp = (SplitVirtqueue) vq;
                client.sendVringAddr(q, va, va + (sp.usedIova() - sp.descIova()), va + (sp.availIova() - sp.descIova()));
            }
            client.sendVringFd(VhostUserClient.SET_VRING_KICK, q, kickFds[q]);
        }
        started = true;
        enablePairs(1);
    }

    private void enablePairs(int n) {
        boolean proto = Virtio.has(backendFeatures, Virtio.VHOST_USER_F_PROTOCOL_FEATURES);
        for (int q = 0; q < 2 * pairs; q++) {
            if (queues[q] == null) {
                continue;
            }
            boolean on = q < 2 * n;
            if (proto) {
                client.sendState(VhostUserClient.SET_VRING_ENABLE, q, on ? 1 : 0);
            } else if (on) {
                Events.eventfdWrite(kickFds[q], 1); // without protocol features a ring starts on its first kick
            }
        }
        enabledPairs = n;
    }

    private void stopRings() {
        for (int q = 0; q < 2 * pairs; q++) {
            if (queues[q] != null && client.connected()) {
                try {
                    client.getVringBase(q);
                } catch (VirtioException e) {
                    LOG.log(System.Logger.Level.DEBUG, "GET_VRING_BASE " + q + " failed", e);
                    break;
                }
            }
        }
        started = false;
    }

    @Override
    public int maxQueues() {
        return 2 * pairs + 1;
    }

    @Override
    public int maxQueueSize(int queue) {
        return queue >= 0 && queue < 2 * pairs ? SplitVirtqueue.MAX_SIZE : 0;
    }

    @Override
    public Notifier setupQueue(SplitVirtqueue vq) {
        return setupQueue((Virtqueue) vq);
    }

    @Override
    public Notifier setupQueue(Virtqueue vq) {
        boolean packed = Virtio.has(driverFeatures, Virtio.F_RING_PACKED);
        if (vq instanceof PackedVirtqueue != packed) {
            throw new VirtioException(name() + ": queue " + vq.index() + " is " + (packed ? "split" : "packed")
                    + " but RING_PACKED was " + (packed ? "" : "not ") + "negotiated");
        }
        int q = vq.index();
        if (q < 0 || q >= 2 * pairs) {
            throw new VirtioException(name() + ": queue " + q + " does not exist (" + pairs + " pairs, control queue"
                    + " emulated)");
        }
        if (started) {
            throw new VirtioException(name() + ": queues must be set up before DRIVER_OK");
        }
        queues[q] = vq;
        if (kickFds[q] < 0) {
            kickFds[q] = Events.eventfd(0, Events.EFD_NONBLOCK | Events.EFD_CLOEXEC);
            callFds[q] = Events.eventfd(0, Events.EFD_NONBLOCK | Events.EFD_CLOEXEC);
        }
        int fd = kickFds[q];
        return () -> Events.eventfdWrite(fd, 1);
    }

    @Override
    public int readConfig(int offset, int width) {
        int v = 0;
        for (int i = 0; i < width; i++) {
            v |= (configByte(offset + i) & 0xFF) << (8 * i);
        }
        return v;
    }

    private int configByte(int off) {
        if (off >= VirtioNetSpec.CFG_MAC && off < VirtioNetSpec.CFG_MAC + 6) {
            return mac[off];
        }
        int status = client.connected() ? VirtioNetSpec.STATUS_LINK_UP : 0;
        return switch (off) {
            case VirtioNetSpec.CFG_STATUS -> status;
            case VirtioNetSpec.CFG_STATUS + 1 -> 0;
            case VirtioNetSpec.CFG_MAX_VIRTQUEUE_PAIRS -> pairs & 0xFF;
            case VirtioNetSpec.CFG_MAX_VIRTQUEUE_PAIRS + 1 -> pairs >> 8;
            default -> 0;
        };
    }

    @Override
    public int configGeneration() {
        return 0;
    }

    @Override
    public int queueInterruptFd(int queue) {
        return queue >= 0 && queue < callFds.length ? callFds[queue] : -1;
    }

    @Override
    public int configInterruptFd() {
        return -1;
    }

    /**
     * The kick eventfd of queue {@code queue} (set up), which the backend watches: another process of the group
     * that writes to a copy of it notifies the backend about that queue (multi-process). -1 when there is none.
     */
    public int kickFd(int queue) {
        return queue >= 0 && queue < kickFds.length ? kickFds[queue] : -1;
    }

    /** The emulated control queue. */
    @Override
    public int command(int cls, int cmd, byte[] data, int length) {
        if (cls == VirtioNetSpec.CTRL_MQ && cmd == VirtioNetSpec.CTRL_MQ_VQ_PAIRS_SET) {
            if (length != 2) {
                return VirtioNetSpec.CTRL_ERR;
            }
            int n = (data[0] & 0xFF) | (data[1] & 0xFF) << 8;
            if (n < VirtioNetSpec.CTRL_MQ_VQ_PAIRS_MIN || n > pairs || !started) {
                return VirtioNetSpec.CTRL_ERR;
            }
            enablePairs(n);
            return VirtioNetSpec.CTRL_OK;
        }
        if (cls == VirtioNetSpec.CTRL_RX && length == 1
                && (cmd == VirtioNetSpec.CTRL_RX_PROMISC || cmd == VirtioNetSpec.CTRL_RX_ALLMULTI)) {
            if (cmd == VirtioNetSpec.CTRL_RX_PROMISC) {
                promiscuous = data[0] != 0;
            } else {
                allMulticast = data[0] != 0;
            }
            return VirtioNetSpec.CTRL_OK;
        }
        if (cls == VirtioNetSpec.CTRL_MAC && cmd == VirtioNetSpec.CTRL_MAC_TABLE_SET) {
            // two tables {le32 entries; u8 macs[entries][6]} (5.1.6.5.2), checked against the length
            if (length < 4) {
                return VirtioNetSpec.CTRL_ERR;
            }
            long uc = le32(data, 0);
            long off = 4 + uc * 6;
            if (off + 4 > length) {
                return VirtioNetSpec.CTRL_ERR;
            }
            long mc = le32(data, (int) off);
            if (off + 4 + mc * 6 != length) {
                return VirtioNetSpec.CTRL_ERR;
            }
            unicastFilters = (int) uc;
            multicastFilters = (int) mc;
            return VirtioNetSpec.CTRL_OK;
        }
        return VirtioNetSpec.CTRL_ERR;
    }

    private static long le32(byte[] b, int off) {
        return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
    }

    /** True while the backend is connected (the emulated link status). */
    public boolean connected() {
        return client.connected();
    }

    @Override
    public void close() {
        client.close();
        for (int i = 0; i < kickFds.length; i++) {
            if (kickFds[i] >= 0) {
                Io.closeQuietly(kickFds[i]);
                Io.closeQuietly(callFds[i]);
                kickFds[i] = callFds[i] = -1;
            }
        }
    }
}
