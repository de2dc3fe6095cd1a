package io.jnic.mp.ethdev.pdump;

import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.sys.Proc;
import java.lang.System.Logger.Level;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Packet capture requests (DPDK's pdump server): the primary creates the group's {@link PdumpControl} and answers
 * {@value #ACTION} requests from a pdump process, which switch a capture of chosen ports, queues and directions on
 * or off. One capture at a time; the primary switches it off when the process that asked for it ends (even
 * killed), so the data path never copies for nobody.
 *
 * <p>Request (20 bytes, little endian): {@code u16 version, u16 op (1 enable, 2 disable), u32 port mask, u32 queue
 * mask, u32 directions (bit 0 RX, bit 1 TX), u32 snap length}. Reply: {@code u32 status (0 ok, 1 refused)}, then
 * the reason of a refusal in UTF-8. Before enabling, the requester must have created the capture ring and pool
 * ({@link PdumpControl#RING}, {@link PdumpControl#POOL}); the primary checks them.
 */
public final class PdumpService {
    public static final String ACTION = "jnic.pdump";
    public static final int VERSION = 1;
    public static final int OP_ENABLE = 1;
    public static final int OP_DISABLE = 2;
    public static final int DIR_RX = 1;
    public static final int DIR_TX = 2;
    /** Largest snap length (dumpcap's default); a capture keeps at most what the capture mbufs hold. */
    public static final int MAX_SNAPLEN = 262144;
    static final int REQUEST_BYTES = 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(PdumpService.class.getName());

    private final MpRuntime rt;
    private final PdumpControl control;

    private PdumpService(MpRuntime rt, PdumpControl control) {
        this.rt = rt;
        this.control = control;
    }

    /** The primary: creates the control block (capture off) and serves requests. */
    public static PdumpService serve(MpRuntime rt) {
        if (!rt.isPrimary()) {
            throw new IllegalStateException("only the primary serves capture requests");
        }
        PdumpService s = new PdumpService(rt, PdumpControl.create(rt.memory()));
        rt.ipc().register(ACTION, s::onRequest);
        rt.telemetry().register("/jnic/pdump", (c, p) -> s.state(), "Returns the packet capture's state. No parameters");
        rt.onSecondaryExit(x -> {
            int asker = s.control.requester();
            if (asker != 0 && x.secondary().pid() == asker && s.control.active()) {
                s.control.disable();
                LOG.log(Level.INFO, "capture switched off: its pdump process {0,number,#} {1}", asker,
                        x.detached() ? "left" : "died");
            }
        });
        return s;
    }

    private java.util.Map<String, Object> state() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("active", control.active() ? 1 : 0);
        m.put("requester_pid", control.requester());
        m.put("snaplen", control.snapLength());
        m.put("captured", control.captured());
        m.put("dropped_ring_full", control.droppedRingFull());
        m.put("dropped_no_mbuf", control.droppedNoMbuf());
        return m;
    }

    public PdumpControl control() {
        return control;
    }

    private void onRequest(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        String refusal;
        try {
            refusal = handle(m.paramBuffer(), peer.pid());
        } catch (RuntimeException e) {
            refusal = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        byte[] t = refusal == null ? new byte[0] : refusal.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(Math.min(IpcMessage.MAX_PARAM_LEN, 4 + t.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(refusal == null ? 0 : 1).put(t, 0, b.remaining());
        rt.ipc().reply(peer, new IpcMessage(ACTION, b.array()));
    }

    /** Null when done, else why not. */
    private String handle(ByteBuffer p, int pid) {
        if (p.remaining() != REQUEST_BYTES) {
            return "malformed capture request of " + p.remaining() + " bytes (expected " + REQUEST_BYTES + ")";
        }
        int version = Short.toUnsignedInt(p.getShort());
        int op = Short.toUnsignedInt(p.getShort());
        int ports = p.getInt();
        int queues = p.getInt();
        int dirs = p.getInt();
        int snap = p.getInt();
        if (version != VERSION) {
            return "capture request of version " + version + "; this primary speaks version " + VERSION
                    + " (run tools of the same build)";
        }
        int holder = control.requester();
        boolean busy = control.active() && holder != 0 && holder != pid && Proc.isAlive(holder);
        if (op == OP_DISABLE) {
            if (busy) {
                return "the capture on belongs to pid " + holder + ", not to " + pid;
            }
            control.disable();
            LOG.log(Level.INFO, "capture switched off by pid {0,number,#}", pid);
            return null;
        }
        if (op != OP_ENABLE) {
            return "unknown capture operation " + op;
        }
        if (busy) {
            return "a capture by pid " + holder + " is already on; one at a time (stop that pdump first)";
        }
        if ((dirs & ~(DIR_RX | DIR_TX)) != 0 || dirs == 0) {
            return "directions " + dirs + ": give RX (1), TX (2) or both (3)";
        }
        if (snap < 1 || snap > MAX_SNAPLEN) {
            return "snap length " + snap + " out of range 1.." + MAX_SNAPLEN;
        }
        if (ports == 0 || queues == 0) {
            return "no " + (ports == 0 ? "port" : "queue") + " chosen";
        }
        PortTable table = PortTable.of(rt.memory());
        int[] rx = new int[PortTable.MAX_PORTS];
        int[] tx = new int[PortTable.MAX_PORTS];
        for (int port = 0; port < PortTable.MAX_PORTS; port++) {
            if ((ports >>> port & 1) == 0) {
                continue;
            }
            if (table.state(port) == PortState.FREE) {
                return "port " + port + " does not exist";
            }
            int nq = Math.max(table.rxQueues(port), table.txQueues(port));
            int highest = 31 - Integer.numberOfLeadingZeros(queues);
            if (highest >= nq) {
                return "port " + port + " has " + nq + " queue(s) (0.." + (nq - 1) + "); queue " + highest + " does not exist";
            }
            rx[port] = (dirs & DIR_RX) != 0 ? queues : 0;
            tx[port] = (dirs & DIR_TX) != 0 ? queues : 0;
        }
        String missing = checkRingAndPool(rt.memory(), snap);
        if (missing != null) {
            return missing;
        }
        control.enable(rx, tx, snap, pid);
        LOG.log(Level.INFO, "capture on for pid {0,number,#}: ports 0x{1}, queues 0x{2}, {3}, snap length {4,number,#}", pid,
                Integer.toHexString(ports), Integer.toHexString(queues), dirs == 3 ? "rx+tx" : dirs == 1 ? "rx" : "tx", snap);
        return null;
    }

    private static String checkRingAndPool(MemoryGroup g, int snap) {
        Memzone rz = g.find(PdumpControl.RING).orElse(null);
        Memzone pz = g.find(PdumpControl.POOL).orElse(null);
        if (rz == null || pz == null) {
            return "create the capture ring (" + PdumpControl.RING + ") and pool (" + PdumpControl.POOL + ") first";
        }
        try {
            Ring.attach(rz.memory());
        } catch (RuntimeException e) {
            return "memzone " + PdumpControl.RING + " holds no usable ring: " + e.getMessage();
        }
        if (!MempoolDescriptor.isMempool(pz.memory())) {
            return "memzone " + PdumpControl.POOL + " holds no mempool";
        }
        return null;
    }

    // ---- the pdump process's side

    /** Asks the primary to mirror {@code ports} x {@code queues} (bit masks) in {@code dirs} into the capture ring. */
    public static void enable(MpRuntime rt, int ports, int queues, int dirs, int snapLength) {
        ask(rt, OP_ENABLE, ports, queues, dirs, snapLength);
    }

    /** Asks the primary to stop the capture. */
    public static void disable(MpRuntime rt) {
        ask(rt, OP_DISABLE, 0, 0, 0, 0);
    }

    private static void ask(MpRuntime rt, int op, int ports, int queues, int dirs, int snap) {
        if (rt.isPrimary() || rt.primaryGone()) {
            throw new IllegalStateException(rt.isPrimary() ? "a capture is asked for by a secondary (pdump), not the primary"
                    : "the primary (pid " + rt.primaryPid() + ") has ended; captures are switched by it");
        }
        ByteBuffer p = ByteBuffer.allocate(REQUEST_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        p.putShort((short) VERSION).putShort((short) op).putInt(ports).putInt(queues).putInt(dirs).putInt(snap);
        IpcReply r = rt.ipc().requestSync(new IpcMessage(ACTION, p.array()), TIMEOUT);
        if (r.nbReceived() == 0) {
            throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") " + (r.complete()
                    ? "offers no packet capture (no handler for " + ACTION + "; l2fwd-mp does)"
                    : "did not answer the capture request within " + TIMEOUT.toSeconds() + " s"));
        }
        IpcMessage m = r.messages().getFirst();
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() < 4) {
            throw new IllegalStateException("malformed capture reply of " + b.remaining() + " bytes");
        }
        if (b.getInt() != 0) {
            byte[] why = new byte[b.remaining()];
            b.get(why);
            throw new IllegalStateException("the primary refused the capture: " + new String(why, StandardCharsets.UTF_8));
        }
    }
}
