package io.jnic.mp.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueueAccess;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.mbuf.MempoolAudit;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.telemetry.JnicEvents;
import io.jnic.multiproc.SecondaryExit;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.pci.BarHandover;
import io.jnic.pci.PciDevice;
import io.jnic.sys.Io;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ports of a process group as the primary shares them (DPDK's multi-process ethdev, with the parts DPDK
 * leaves out): the primary probes, configures (one queue pair per process) and starts the ports, then
 * {@link #serve}s them:
 * <ul>
 * <li>{@value #ACTION_ATTACH}: a secondary that claimed queue pair Q of port P in {@link QueueOwners} asks for
 * what the transport needs to reach the queue's registers; for vfio-user, the BAR's descriptor and its
 * sparse-mmap areas (the queue pages). It maps them itself ({@link SecondaryQueues}) and never asks again.</li>
 * <li>{@value #ACTION_LINK}: link changes, seen only by the primary (the device's interrupts are routed to
 * it), are broadcast to every secondary and given to local {@link LinkListener}s.</li>
 * <li>When a secondary dies, its queue pairs are reset in the device (the mbufs in their rings go back to
 * the pools), the mbufs it held elsewhere (allocated by its lcores, found by a pool audit) are reclaimed,
 * and its queues are freed for a restarted process to claim.</li>
 * </ul>
 */
public final class SharedPorts implements AutoCloseable {
    public static final String ACTION_ATTACH = "jnic.port.attach";
    public static final String ACTION_LINK = "jnic.port.link";
    public static final String ACTION_RX_INTR = "jnic.port.rxintr";
    /** A port's device reset itself: noticed (queues paused) or recovered (port re-initialised), broadcast. */
    public static final String ACTION_RESET = "jnic.port.reset";
    static final int RX_INTR_GET_FD = 0;
    static final int RX_INTR_ARM = 1;
    static final int STATUS_OK = 0;
    static final int STATUS_REFUSED = 1;
    private static final System.Logger LOG = System.getLogger(SharedPorts.class.getName());

    private final MpRuntime rt;
    private final QueueOwners owners;
    private final Map<Integer, EthDevice> ports = new HashMap<>();
    private final Map<Integer, PciDevice> pci = new HashMap<>();
    private final List<Mempool> pools = new CopyOnWriteArrayList<>();
    private final List<LinkListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ResetListener> resetListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong queuesReset = new AtomicLong();
    private final AtomicLong mbufsReclaimed = new AtomicLong();
    private volatile boolean closed;

    private SharedPorts(MpRuntime rt, QueueOwners owners) {
        this.rt = rt;
        this.owners = owners;
    }

    /**
     * The primary shares {@code devices} (started ports, each with the {@link PciDevice} it was probed on, or
     * null for a virtual device)
     * with the group's secondaries; {@code pools} are the mempools their RX queues take buffers from.
     * Publishes {@code owners} last: secondaries start attaching once everything here is in place.
     */
    public static SharedPorts serve(MpRuntime rt, QueueOwners owners, Map<EthDevice, PciDevice> devices,
            List<Mempool> pools) {
        if (!rt.isPrimary()) {
            throw new IllegalStateException("only the primary shares ports; this process is a secondary");
        }
        SharedPorts s = new SharedPorts(rt, owners);
        s.pools.addAll(pools);
        for (Map.Entry<EthDevice, PciDevice> e : devices.entrySet()) {
            EthDevice d = e.getKey();
            s.ports.put(d.portId(), d);
            s.pci.put(d.portId(), e.getValue());
            int port = d.portId();
            try {
                d.addLinkListener(l -> s.linkChanged(port, l));
            } catch (UnsupportedOperationException u) {
                LOG.log(Level.INFO, "{0}: no link interrupts; secondaries see no link events of it", d.name());
            }
            try {
                d.addResetListener(r -> s.resetSeen(port, r));
            } catch (UnsupportedOperationException u) {
                LOG.log(Level.DEBUG, "{0}: does not re-initialise itself after a device reset", d.name());
            }
        }
        rt.ipc().register(ACTION_ATTACH, s::onAttach);
        rt.ipc().register(ACTION_RX_INTR, s::onRxInterrupt);
        rt.addReclaimer(s::recover);
        OrphanAttach.record(rt.memory(), devices); // device sockets, for processes that attach after the primary
        owners.publish(); // secondaries may attach from now on
        EthdevTelemetry.registerQueues(rt, owners);
        return s;
    }

    public QueueOwners owners() {
        return owners;
    }

    /** Link changes of the shared ports, in this process (the primary). */
    public void addLinkListener(LinkListener l) {
        listeners.add(l);
    }

    /** Device resets of the shared ports, in this process (the primary): noticed, then recovered. */
    public void addResetListener(ResetListener l) {
        resetListeners.add(l);
    }

    /** Queue pairs reset after their owner died, so far. */
    public long queuesReset() {
        return queuesReset.get();
    }

    /** Mbufs found held by dead processes (outside the rings) and returned to their pools, so far. */
    public long mbufsReclaimed() {
        return mbufsReclaimed.get();
    }

    // ---- link events

    private void linkChanged(int port, LinkStatus l) {
        long now = System.nanoTime();
        if (closed) {
            return;
        }
        JnicEvents.linkChange(port, l.up(), l.speedMbps());
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(port).putInt(l.up() ? 1 : 0).putLong(l.pack()).putLong(now);
        try {
            rt.ipc().sendMessage(new IpcMessage(ACTION_LINK, b.array()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot forward the link change of port " + port + ": " + e.getMessage());
        }
        for (LinkListener x : listeners) {
            try {
                x.onLink(port, l, now);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "link listener failed", e);
            }
        }
    }

    /**
     * A port re-initialises itself after a device reset: tell the secondaries (their queues pause and resume through
     * the queues' shared state whether or not they hear this; the event is for their logs) and local listeners.
     */
    private void resetSeen(int port, io.jnic.ethdev.PortReset r) {
        long now = System.nanoTime();
        if (closed) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(port).putInt(r.recovered() ? 1 : 0).putLong(r.elapsedNanos()).putLong(now);
        try {
            rt.ipc().sendMessage(new IpcMessage(ACTION_RESET, b.array()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot forward the device reset of port " + port + ": " + e.getMessage());
        }
        for (ResetListener x : resetListeners) {
            try {
                x.onReset(port, r, now);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "reset listener failed", e);
            }
        }
    }

    // ---- attach requests (IPC handler thread)

    private void onAttach(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != 8) {
            refuse(peer, "malformed attach request of " + p.remaining() + " bytes");
            return;
        }
        int port = p.getInt();
        int queue = p.getInt();
        EthDevice d = ports.get(port);
        if (d == null) {
            refuse(peer, "port " + port + " is not shared by the primary (shared: " + ports.keySet() + ")");
            return;
        }
        int nq = d.config() == null ? 0 : Math.min(d.config().rxQueues(), d.config().txQueues());
        if (queue < 0 || queue >= nq) {
            refuse(peer, d.name() + " has " + nq + " queue pairs (0.." + (nq - 1) + "), no queue " + queue
                    + "; start the primary with a larger --num-procs");
            return;
        }
        int owner = owners.owner(port, queue);
        if (owner != peer.pid()) {
            refuse(peer, "queue " + queue + " of port " + port + " is claimed by pid " + owner + ", not by the asking pid "
                    + peer.pid() + "; claim it in the queue owner table first");
            return;
        }
        QueueAccess access;
        try {
            access = d.queueAccess(queue);
        } catch (RuntimeException e) {
            refuse(peer, d.name() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return;
        }
        PciDevice dev = pci.get(port);
        int bar = access != null ? access.bar() : dev != null ? doorbellBar(table(rt.memory()).driverName(port)) : -1;
        int[] eventfds = access != null ? access.eventfds() : new int[0];
        if (bar < 0 && eventfds.length == 0) {
            refuse(peer, d.name() + " is a virtual device (" + d.info().driverName() + ") whose queues live in the "
                    + "primary's own memory: it cannot hand a queue pair to another process; only the primary can "
                    + "use it (share a PCI port, a vfio-user device or a virtio_user port instead)");
            return;
        }
        if (bar >= 0 && eventfds.length > 0) {
            refuse(peer, d.name() + " asks to hand over both BAR" + bar + " and " + eventfds.length + " descriptors; "
                    + "one attach reply carries one of them");
            return;
        }
        if (bar < 0) {
            AttachReply a = new AttachReply(AttachReply.Kind.EVENTFDS, -1, 0, 0, new long[0][], eventfds.length);
            rt.ipc().reply(peer, new IpcMessage(ACTION_ATTACH, a.encode(), eventfds));
            LOG.log(Level.INFO, "pid {0,number,#} attached queue {1} of {2} ({3} eventfds)", peer.pid(), queue, d.name(),
                    eventfds.length);
            return;
        }
        if (dev == null) {
            refuse(peer, d.name() + " names BAR" + bar + " for its queues but was shared without its PCI device");
            return;
        }
        BarHandover h;
        try {
            h = dev.handOverBar(bar);
        } catch (RuntimeException e) {
            refuse(peer, d.name() + ": cannot hand over BAR" + bar + ": " + (e.getMessage() == null ? e.toString()
                    : e.getMessage()));
            return;
        }
        try {
            if (h.areas().length > AttachReply.MAX_AREAS) {
                refuse(peer, d.name() + ": BAR" + bar + " has " + h.areas().length + " mappable areas, more than one "
                        + "message carries (" + AttachReply.MAX_AREAS + ")");
                return;
            }
            AttachReply a = AttachReply.of(h);
            rt.ipc().reply(peer, new IpcMessage(ACTION_ATTACH, a.encode(), h.fd()));
        } finally {
            if (h.closeAfterSend()) {
                Io.closeQuietly(h.fd()); // the secondary got its own copy
            }
        }
        LOG.log(Level.INFO, "pid {0,number,#} attached queue {1} of {2} ({3} BAR{4})", peer.pid(), queue, d.name(),
                h.transport(), bar);
    }

    private static int doorbellBar(String driverName) {
        for (EthDriver x : ServiceLoader.load(EthDriver.class)) {
            if (x.name().equals(driverName)) {
                return x.doorbellBar();
            }
        }
        return 0;
    }

    /**
     * RX-queue interrupts reach only the primary's device handle: the owner of a queue gets the queue's
     * eventfd once (the device increments it in every process that holds it, no forwarding per interrupt)
     * and asks the primary to arm the vector each time it goes to sleep (EIMS is a trapped register).
     */
    private void onRxInterrupt(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != 12) {
            refuse(peer, ACTION_RX_INTR, "malformed RX interrupt request of " + p.remaining() + " bytes");
            return;
        }
        int port = p.getInt();
        int queue = p.getInt();
        int op = p.getInt();
        EthDevice d = ports.get(port);
        if (d == null) {
            refuse(peer, ACTION_RX_INTR, "port " + port + " is not shared by the primary");
            return;
        }
        if (queue < 0 || queue >= QueueOwners.MAX_QUEUES || owners.owner(port, queue) != peer.pid()) {
            refuse(peer, ACTION_RX_INTR, "queue " + queue + " of port " + port + " is not owned by pid " + peer.pid());
            return;
        }
        try {
            if (op == RX_INTR_GET_FD) {
                int fd = d.rxInterruptFd(queue);
                if (fd < 0) {
                    refuse(peer, ACTION_RX_INTR, d.name() + " has no interrupt for RX queue " + queue + " (started "
                            + "without RX interrupts, or a device without them)");
                    return;
                }
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(STATUS_OK).putInt(0);
                rt.ipc().reply(peer, new IpcMessage(ACTION_RX_INTR, b.array(), fd));
            } else if (op == RX_INTR_ARM) {
                boolean armed = d.rxInterruptEnable(queue); // false: a packet is already there
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(STATUS_OK).putInt(armed ? 1 : 0);
                rt.ipc().reply(peer, new IpcMessage(ACTION_RX_INTR, b.array()));
            } else {
                refuse(peer, ACTION_RX_INTR, "unknown RX interrupt operation " + op);
            }
        } catch (RuntimeException e) {
            refuse(peer, ACTION_RX_INTR, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private void refuse(IpcPeer peer, String why) {
        refuse(peer, ACTION_ATTACH, why);
    }

    private void refuse(IpcPeer peer, String action, String why) {
        LOG.log(Level.WARNING, "refused {0} from pid {1,number,#}: {2}", action, peer.pid(), why);
        rt.ipc().reply(peer, new IpcMessage(action, AttachReply.refusal(why)));
    }

    // ---- recovery of a dead secondary (watcher thread, before its lcores are released)

    private void recover(SecondaryExit gone) {
        if (gone.detached() || closed) {
            return; // it let go of its queues itself; their state is consistent for the next owner
        }
        int pid = gone.secondary().pid();
        boolean allReset = true;
        JnicEvents.Recovery event = new JnicEvents.Recovery();
        event.begin();
        long resetBefore = queuesReset.get();
        long reclaimedBefore = mbufsReclaimed.get();
        for (Map.Entry<Integer, EthDevice> e : ports.entrySet()) {
            int port = e.getKey();
            for (int q = 0; q < QueueOwners.MAX_QUEUES; q++) {
                if (owners.owner(port, q) != pid) {
                    continue;
                }
                try {
                    e.getValue().queuePairReset(q);
                    queuesReset.incrementAndGet();
                    JnicEvents.queueReset(port, q, pid, true);
                } catch (RuntimeException ex) {
                    // The ring still holds the dead process's buffers (the device may still write them): the queue
                    // stays with the dead pid (an attach is refused, naming it) and nothing it held is reclaimed,
                    // since that would free those buffers under the ring and the next owner would free them again.
                    allReset = false;
                    JnicEvents.queueReset(port, q, pid, false);
                    LOG.log(Level.ERROR, "cannot reset queue " + q + " of " + e.getValue().name() + " after pid " + pid
                            + " died: " + ex.getMessage() + "; the queue stays unusable and the mbufs pid " + pid
                            + " held are not reclaimed (restart the group to get them back)", ex);
                    continue;
                }
                owners.release(port, q, pid);
                LOG.log(Level.INFO, "queue {0} of {1} recovered from dead pid {2,number,#}", q, e.getValue().name(), pid);
            }
        }
        for (Mempool pool : allReset ? pools : List.<Mempool>of()) {
            MempoolAudit a = pool.audit(l -> !gone.released().contains(l));
            if (a.deadOwner().length == 0) {
                continue;
            }
            // only what the dead lcores held: objects found nowhere with no owner may be in transit elsewhere
            MempoolAudit held = new MempoolAudit(a.pool(), a.total(), a.inRing(), a.inCaches(), a.inFlight(), a.inUse(),
                    new long[0], a.deadOwner(), new long[0], new long[0]);
            int n = pool.reclaim(held);
            mbufsReclaimed.addAndGet(n);
            LOG.log(Level.INFO, "returned {0,number,#} mbufs held by dead pid {1,number,#} to mempool ''{2}''", n, pid,
                    pool.name());
        }
        if (event.shouldCommit()) {
            event.pid = pid;
            event.queuesReset = (int) (queuesReset.get() - resetBefore);
            event.mbufsReclaimed = mbufsReclaimed.get() - reclaimedBefore;
            event.commit();
        }
    }

    /** Every mempool in the group's memzones, attached in this process if it was not yet. */
    static List<Mempool> attachPools(io.jnic.memory.MemoryGroup group) {
        Map<Long, Mempool> attached = new HashMap<>();
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null && !p.isClosed()) {
                attached.put(p.segment().address(), p);
            }
        }
        List<Mempool> out = new ArrayList<>();
        for (Memzone z : group.memzones()) {
            MemorySegment m = z.memory();
            if (!MempoolDescriptor.isMempool(m)) {
                continue;
            }
            Mempool p = attached.get(m.address());
            out.add(p != null ? p : Mempool.attach(m));
        }
        return out;
    }

    static PortTable table(io.jnic.memory.MemoryGroup group) {
        return PortTable.of(group);
    }

    @Override
    public void close() {
        closed = true;
        rt.ipc().unregister(ACTION_ATTACH);
        rt.ipc().unregister(ACTION_RX_INTR);
    }
}
