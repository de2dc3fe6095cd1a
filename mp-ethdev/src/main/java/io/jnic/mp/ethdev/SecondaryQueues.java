package io.jnic.mp.ethdev;

import io.jnic.ethdev.EthDriver;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.ethdev.VdevDriver;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.sys.Io;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A secondary's side of {@link SharedPorts}: attaches queue pairs of the primary's ports and hears the link
 * changes the primary forwards.
 */
public final class SecondaryQueues implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SecondaryQueues.class.getName());
    /** How long a claim waits for the primary to recover a queue whose previous owner died. */
    static final Duration RECOVERY_WAIT = Duration.ofSeconds(5);
    static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(5);
    /** How long a secondary waits for a primary that is still setting its ports up. */
    static final Duration PUBLISH_WAIT = Duration.ofSeconds(30);

    private final MpRuntime rt;
    private final QueueOwners owners;
    private final PortTable table;
    private final List<LinkListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ResetListener> resetListeners = new CopyOnWriteArrayList<>();
    private final List<QueuePair> attached = new ArrayList<>();

    private SecondaryQueues(MpRuntime rt, QueueOwners owners, PortTable table) {
        this.rt = rt;
        this.owners = owners;
        this.table = table;
    }

    /** Joins the primary's shared ports (a clear error when it shares none) and listens for its link events. */
    public static SecondaryQueues join(MpRuntime rt) {
        if (rt.isPrimary()) {
            throw new IllegalStateException("SecondaryQueues is for secondaries; the primary uses SharedPorts");
        }
        QueueOwners owners = QueueOwners.attach(rt.memory(), PUBLISH_WAIT.toNanos());
        SecondaryQueues s = new SecondaryQueues(rt, owners, SharedPorts.table(rt.memory()));
        rt.ipc().register(SharedPorts.ACTION_LINK, s::onLink);
        rt.ipc().register(SharedPorts.ACTION_RESET, s::onReset);
        EthdevTelemetry.register(rt, null); // counters through the primary
        EthdevTelemetry.registerQueues(rt, owners);
        return s;
    }

    public QueueOwners owners() {
        return owners;
    }

    public PortTable table() {
        return table;
    }

    /** Link changes the primary forwards (called on the IPC handler thread). */
    public void addLinkListener(LinkListener l) {
        listeners.add(l);
    }

    /**
     * Device resets of the primary's ports, as it broadcasts them (IPC handler thread). This process's queues pause
     * and resume through their shared state whether or not it hears this.
     */
    public void addResetListener(ResetListener l) {
        resetListeners.add(l);
    }

    private void onReset(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() != 24) {
            LOG.log(Level.WARNING, "ignored a device reset event of {0} bytes", b.remaining());
            return;
        }
        int port = b.getInt();
        boolean recovered = b.getInt() == 1;
        long elapsed = b.getLong();
        long at = b.getLong();
        if (port < 0 || port >= PortTable.MAX_PORTS || elapsed < 0) {
            LOG.log(Level.WARNING, "ignored a device reset event of port {0}", port);
            return;
        }
        String what = recovered ? String.format(java.util.Locale.ROOT, "port %d was re-initialised by the primary "
                + "after its device reset itself (%.1f ms); this process's queues resume", port, elapsed / 1e6)
                : "port " + port + ": its device reset itself; the primary re-initialises it (this process's queues "
                        + "pause meanwhile)";
        io.jnic.ethdev.PortReset r = new io.jnic.ethdev.PortReset(recovered, elapsed, what);
        for (ResetListener x : resetListeners) {
            try {
                x.onReset(port, r, at);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "reset listener failed", e);
            }
        }
    }

    private void onLink(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() != 24) {
            LOG.log(Level.WARNING, "ignored a link event of {0} bytes", b.remaining());
            return;
        }
        int port = b.getInt();
        b.getInt();
        LinkStatus l = LinkStatus.unpack(b.getLong());
        long at = b.getLong();
        if (port < 0 || port >= PortTable.MAX_PORTS) {
            LOG.log(Level.WARNING, "ignored a link event of port {0}", port);
            return;
        }
        io.jnic.multiproc.telemetry.JnicEvents.linkChange(port, l.up(), l.speedMbps());
        for (LinkListener x : listeners) {
            try {
                x.onLink(port, l, at);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "link listener failed", e);
            }
        }
    }

    /**
     * Claims queue pair {@code queue} of {@code port} for this process and maps it: rings and state by name
     * in shared memory, doorbells from the descriptor the primary hands over. Bursts on the result never
     * involve the primary.
     *
     * @throws QueueOwners.QueueBusyException when another live process drives the queue (its pid in the message)
     * @throws IllegalStateException          when the port is not started, has no such queue, or the primary refuses
     */
    public synchronized QueuePair attach(int port, int queue, int lcore) {
        if (port < 0 || port >= PortTable.MAX_PORTS || table.state(port) != PortState.STARTED) {
            throw new IllegalStateException("port " + port + " is not a started port of the primary (port table: "
                    + (port >= 0 && port < PortTable.MAX_PORTS ? table.state(port) : "no such entry") + ")");
        }
        int nq = Math.min(table.rxQueues(port), table.txQueues(port));
        if (queue < 0 || queue >= nq) {
            throw new IllegalStateException("port " + port + " has " + nq + " queue pairs (0.." + (nq - 1) + "), no queue "
                    + queue);
        }
        String driverName = table.driverName(port);
        EthDriver driver = null;
        VdevDriver vdev = null;
        for (EthDriver d : ServiceLoader.load(EthDriver.class)) {
            if (d.name().equals(driverName)) {
                driver = d;
            }
        }
        for (VdevDriver d : ServiceLoader.load(VdevDriver.class)) {
            if (d.name().equals(driverName)) {
                vdev = d;
            }
        }
        if (driver == null && vdev == null) {
            throw new IllegalStateException("port " + port + " is driven by '" + driverName + "', which is not on this "
                    + "process's class path");
        }
        int pid = rt.pid();
        if (rt.primaryGone()) {
            OrphanAttach.checkClaimable(owners, rt, port, queue); // nobody left to recover a dead owner's queue
        }
        owners.claim(port, queue, pid, RECOVERY_WAIT.toNanos());
        Handover h = null;
        try {
            SharedPorts.attachPools(rt.memory());
            h = requestHandover(port, queue);
            PortContext ctx = new PortContext(port, rt.memory(), table);
            QueuePair q;
            if (h.bar != null) {
                if (driver == null) {
                    throw new IllegalStateException("the primary handed over BAR" + h.bar.index() + " for port " + port
                            + ", but its driver '" + driverName + "' is a virtual-device driver here");
                }
                q = driver.attachQueue(ctx, h.bar, queue, lcore);
            } else {
                if (vdev == null) {
                    throw new IllegalStateException("the primary handed over " + h.fds.length + " descriptors for port "
                            + port + ", but its driver '" + driverName + "' is a PCI driver here, which needs a BAR");
                }
                int[] fds = h.fds;
                h.fds = new int[0]; // the queue owns them now, even when attaching fails
                q = vdev.attachQueue(ctx, fds, queue, lcore);
            }
            DoorbellBar bar = h.bar;
            attached.add(q);
            q.onClose(() -> detached(q, bar));
            if (q.rxInterruptFd() < 0) { // the driver cannot reach it from here: the primary arms it on request
                q.routeRxInterrupt(new PrimaryRxInterrupt(port, queue));
            }
            LOG.log(Level.INFO, "attached queue {0} of port {1} ({2})", queue, port, table.deviceName(port));
            return q;
        } catch (RuntimeException e) {
            if (h != null) {
                h.close();
            }
            owners.release(port, queue, pid);
            throw e;
        }
    }

    /** What the primary handed over: a BAR mapped here, or descriptors (owned until given to a queue). */
    private static final class Handover {
        final DoorbellBar bar;
        int[] fds;

        Handover(DoorbellBar bar, int[] fds) {
            this.bar = bar;
            this.fds = fds;
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
            for (int fd : fds) {
                Io.closeQuietly(fd);
            }
        }
    }

    private Handover requestHandover(int port, int queue) {
        if (rt.primaryGone()) {
            return new Handover(OrphanAttach.doorbells(rt, table, port), new int[0]); // from the device itself
        }
        ByteBuffer p = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(port).putInt(queue);
        IpcReply r = rt.ipc().requestSync(new IpcMessage(SharedPorts.ACTION_ATTACH, p.array()), ATTACH_TIMEOUT);
        if (r.nbReceived() == 0) {
            throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") did not answer the attach of queue "
                    + queue + " of port " + port + " within " + ATTACH_TIMEOUT.toSeconds() + " s");
        }
        IpcMessage m = r.messages().getFirst();
        boolean keepFds = false;
        try {
            AttachReply a = AttachReply.decode(m.paramBuffer(), m.fdCount(), "queue " + queue + " of port " + port);
            if (a.kind() == AttachReply.Kind.EVENTFDS) {
                keepFds = true;
                return new Handover(null, m.fds());
            }
            return new Handover(DoorbellBar.map(table.deviceName(port), a.bar(), a.barSize(), m.fd(0), a.regionOffset(),
                    a.areas()), new int[0]);
        } finally {
            if (!keepFds) {
                m.closeFds(); // the mappings keep what they need
            }
        }
    }

    /**
     * A copy of the eventfd the device increments for RX queue {@code queue} of {@code port} (a queue this process
     * attached; the caller owns the copy). The port must have been started with RX interrupts. The same as the
     * attached {@link QueuePair#rxInterruptFd()}, which owns its descriptor.
     */
    public int rxInterruptFd(int port, int queue) {
        return Io.dup(attachedPair(port, queue).rxInterruptFd());
    }

    /**
     * Arms RX queue {@code queue}'s interrupt once; false when a packet was already waiting, so that the interrupt
     * was left unarmed (poll instead of sleeping). The same as the attached {@link QueuePair#rxInterruptEnable()}.
     */
    public boolean rxInterruptEnable(int port, int queue) {
        return attachedPair(port, queue).rxInterruptEnable();
    }

    private synchronized QueuePair attachedPair(int port, int queue) {
        for (QueuePair a : attached) {
            if (a.portId() == port && a.queue() == queue) {
                return a;
            }
        }
        throw new IllegalStateException("queue " + queue + " of port " + port + " is not attached by this process");
    }

    /**
     * An attached queue's RX interrupt through the primary, which alone reaches the device's interrupt registers:
     * the eventfd is asked for once (this process owns it), each arm is a synchronous request.
     */
    private final class PrimaryRxInterrupt implements QueuePair.RxInterruptRoute {
        private final int port;
        private final int queue;
        private int fd = -1;

        PrimaryRxInterrupt(int port, int queue) {
            this.port = port;
            this.queue = queue;
        }

        @Override
        public synchronized int fd() {
            if (fd < 0) {
                IpcMessage m = rxInterrupt(port, queue, SharedPorts.RX_INTR_GET_FD);
                if (m.fdCount() != 1) {
                    m.closeFds();
                    throw new IllegalStateException("the primary sent " + m.fdCount() + " descriptors for the RX "
                            + "interrupt of queue " + queue + " of port " + port);
                }
                fd = m.fd(0);
            }
            return fd;
        }

        @Override
        public boolean enable() {
            IpcMessage m = rxInterrupt(port, queue, SharedPorts.RX_INTR_ARM);
            m.closeFds();
            ByteBuffer b = m.paramBuffer();
            b.getInt();
            return b.getInt() == 1;
        }

        @Override
        public synchronized void close() {
            Io.closeQuietly(fd);
            fd = -1;
        }
    }

    private IpcMessage rxInterrupt(int port, int queue, int op) {
        if (rt.primaryGone()) {
            throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") has ended; RX interrupts go "
                    + "through it");
        }
        ByteBuffer p = ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(port).putInt(queue).putInt(op);
        IpcReply r = rt.ipc().requestSync(new IpcMessage(SharedPorts.ACTION_RX_INTR, p.array()), ATTACH_TIMEOUT);
        if (r.nbReceived() == 0) {
            throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") did not answer an RX interrupt "
                    + "request for queue " + queue + " of port " + port);
        }
        IpcMessage m = r.messages().getFirst();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() < 8 || b.getInt() != SharedPorts.STATUS_OK) {
            m.closeFds();
            String why = "";
            if (b.remaining() >= 4) {
                b.getInt();
                byte[] t = new byte[b.remaining()];
                b.get(t);
                why = new String(t, StandardCharsets.UTF_8);
            }
            throw new IllegalStateException("the primary refused the RX interrupt request for queue " + queue + " of port "
                    + port + ": " + why);
        }
        return m;
    }

    @Override
    public void close() {
        List<QueuePair> all;
        synchronized (this) {
            all = new ArrayList<>(attached);
        }
        for (QueuePair q : all) {
            q.close();
        }
        rt.ipc().unregister(SharedPorts.ACTION_LINK);
        rt.ipc().unregister(SharedPorts.ACTION_RESET);
    }

    /** A pair this process attached was closed: its claim and doorbell mapping go too. */
    private void detached(QueuePair q, DoorbellBar bar) {
        synchronized (this) {
            attached.remove(q);
        }
        owners.release(q.portId(), q.queue(), rt.pid());
        if (bar != null) {
            bar.close();
        }
    }

    static void closeQuietly(int fd) {
        Io.closeQuietly(fd);
    }
}
