package io.jnic.mp.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.PortTable;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.SecondaryInfo;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcPeer;
import io.jnic.multiproc.ipc.IpcReply;
import java.lang.System.Logger.Level;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Port statistics for processes that do not hold the device (dpdk-proc-info's {@code --stats} and
 * {@code --xstats}): the counters live in the device and in the driver state of the primary, so the primary
 * {@link #serve}s them over IPC ({@value #ACTION}) and any secondary asks with {@link #stats}, {@link #xstats}
 * and {@link #secondaries} (the group's registered secondaries, which only the primary tracks).
 *
 * <p>Wire format (little endian). Request, 12 bytes: {@code u16 version, u16 op, u32 port, u32 index}.
 * Reply: {@code u32 status (0 ok, 1 refused), u16 version, u16 op}, then for
 * <ul>
 * <li>{@link #OP_STATS}: {@code u64 ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf};</li>
 * <li>{@link #OP_XSTATS}: {@code u32 total, u32 count}, then {@code count} entries {@code u8 name length, name
 * (UTF-8), u64 value} starting at entry {@code index} (a message holds {@value IpcMessage#MAX_PARAM_LEN} bytes, so
 * the asker pages through);</li>
 * <li>{@link #OP_SECONDARIES}: {@code u32 total, u32 count}, then {@code count} x {@code (u32 pid, u32 proc id)}
 * starting at {@code index};</li>
 * <li>a refusal: the reason in UTF-8.</li>
 * </ul>
 * Every count and length in a reply is checked against the bytes that arrived.
 */
public final class PortStatsService implements AutoCloseable {
    public static final String ACTION = "jnic.port.stats";
    public static final int VERSION = 1;
    public static final int OP_STATS = 0;
    public static final int OP_XSTATS = 1;
    public static final int OP_SECONDARIES = 2;
    static final int STATUS_OK = 0;
    static final int STATUS_REFUSED = 1;
    static final int REQUEST_BYTES = 12;
    static final int REPLY_HEADER = 8;
    private static final int STATS_FIELDS = 8;
    /**
     * How long an asker waits for the primary. Generous: on a vfio-user port every counter is a trapped read (a
     * message round trip), and on a loaded machine the ~54 reads of an 82599's counters have taken over 3 s, the
     * more so while another reader (telemetry, JMX) holds the device.
     */
    public static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final System.Logger LOG = System.getLogger(PortStatsService.class.getName());

    private final MpRuntime rt;
    private final Map<Integer, EthDevice> ports = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private PortStatsService(MpRuntime rt) {
        this.rt = rt;
    }

    /** The primary: answers statistics requests for {@code devices} until closed. */
    public static PortStatsService serve(MpRuntime rt, Collection<EthDevice> devices) {
        if (!rt.isPrimary()) {
            throw new IllegalStateException("only the primary holds the devices and serves their statistics");
        }
        PortStatsService s = new PortStatsService(rt);
        for (EthDevice d : devices) {
            s.ports.put(d.portId(), d);
        }
        rt.ipc().register(ACTION, s::onRequest);
        EthdevTelemetry.register(rt, s.ports); // the same counters for dpdk-telemetry.py
        return s;
    }

    // ---- the primary's side (IPC handler thread)

    private void onRequest(IpcMessage m, IpcPeer peer) {
        m.closeFds();
        if (!peer.isRequest()) {
            return;
        }
        ByteBuffer p = m.paramBuffer();
        if (p.remaining() != REQUEST_BYTES) {
            refuse(peer, -1, "malformed statistics request of " + p.remaining() + " bytes (expected " + REQUEST_BYTES + ")");
            return;
        }
        int version = Short.toUnsignedInt(p.getShort());
        int op = Short.toUnsignedInt(p.getShort());
        int port = p.getInt();
        int index = p.getInt();
        if (version != VERSION) {
            refuse(peer, op, "statistics request of version " + version + "; this primary speaks version " + VERSION
                    + " (run tools of the same build)");
            return;
        }
        if (closed) {
            refuse(peer, op, "the primary is shutting down");
            return;
        }
        if (index < 0) {
            refuse(peer, op, "negative index " + index);
            return;
        }
        try {
            switch (op) {
                case OP_STATS -> {
                    EthDevice d = port(peer, op, port);
                    if (d != null) {
                        PortStats s = d.stats();
                        ByteBuffer b = reply(op, REPLY_HEADER + 8 * STATS_FIELDS);
                        b.putLong(s.ipackets).putLong(s.opackets).putLong(s.ibytes).putLong(s.obytes).putLong(s.imissed)
                                .putLong(s.ierrors).putLong(s.oerrors).putLong(s.rxNombuf);
                        rt.ipc().reply(peer, new IpcMessage(ACTION, b.array()));
                    }
                }
                case OP_XSTATS -> {
                    EthDevice d = port(peer, op, port);
                    if (d != null) {
                        replyXstats(peer, d.xstats(), index);
                    }
                }
                case OP_SECONDARIES -> replySecondaries(peer, rt.secondaries(), index);
                default -> refuse(peer, op, "unknown statistics operation " + op);
            }
        } catch (RuntimeException e) {
            refuse(peer, op, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private EthDevice port(IpcPeer peer, int op, int port) {
        EthDevice d = port < 0 || port >= PortTable.MAX_PORTS ? null : ports.get(port);
        if (d == null) {
            refuse(peer, op, "port " + port + " is not a port of the primary (ports: " + ports.keySet() + ")");
        }
        return d;
    }

    private void replyXstats(IpcPeer peer, Map<String, Long> x, int index) {
        List<Map.Entry<String, Long>> all = new ArrayList<>(x.entrySet());
        ByteBuffer b = ByteBuffer.allocate(IpcMessage.MAX_PARAM_LEN).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(STATUS_OK).putShort((short) VERSION).putShort((short) OP_XSTATS).putInt(all.size()).putInt(0);
        int count = 0;
        for (int i = index; i < all.size(); i++) {
            byte[] name = all.get(i).getKey().getBytes(StandardCharsets.UTF_8);
            int len = Math.min(name.length, 255);
            if (b.remaining() < 1 + len + 8) {
                break;
            }
            b.put((byte) len).put(name, 0, len).putLong(all.get(i).getValue());
            count++;
        }
        b.putInt(REPLY_HEADER + 4, count);
        byte[] out = new byte[b.position()];
        b.get(0, out);
        rt.ipc().reply(peer, new IpcMessage(ACTION, out));
    }

    private void replySecondaries(IpcPeer peer, List<SecondaryInfo> all, int index) {
        int room = (IpcMessage.MAX_PARAM_LEN - REPLY_HEADER - 8) / 8;
        int count = Math.max(0, Math.min(room, all.size() - index));
        ByteBuffer b = reply(OP_SECONDARIES, REPLY_HEADER + 8 + 8 * count);
        b.putInt(all.size()).putInt(count);
        for (int i = 0; i < count; i++) {
            SecondaryInfo s = all.get(index + i);
            b.putInt(s.pid()).putInt(s.procId());
        }
        rt.ipc().reply(peer, new IpcMessage(ACTION, b.array()));
    }

    private static ByteBuffer reply(int op, int bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        return b.putInt(STATUS_OK).putShort((short) VERSION).putShort((short) op);
    }

    private void refuse(IpcPeer peer, int op, String why) {
        LOG.log(Level.DEBUG, "refused a statistics request of pid {0,number,#}: {1}", peer.pid(), why);
        byte[] t = why.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(Math.min(IpcMessage.MAX_PARAM_LEN, REPLY_HEADER + t.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(STATUS_REFUSED).putShort((short) VERSION).putShort((short) Math.max(op, 0)).put(t, 0, b.remaining());
        rt.ipc().reply(peer, new IpcMessage(ACTION, b.array()));
    }

    @Override
    public void close() {
        closed = true;
        rt.ipc().unregister(ACTION);
    }

    // ---- the asking side (any secondary)

    /** Why statistics could not be had: no primary, a primary that serves none, a refusal, a malformed reply. */
    public static final class UnavailableException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String msg) {
            super(msg);
        }
    }

    /** A registered secondary as the primary tracks it. */
    public record Secondary(int pid, int procId) {
    }

    /** The port's basic counters, from the primary. */
    public static PortStats stats(MpRuntime rt, int port) {
        ByteBuffer b = ask(rt, OP_STATS, port, 0);
        if (b.remaining() != 8 * STATS_FIELDS) {
            throw new UnavailableException("malformed statistics reply: " + b.remaining() + " bytes of counters, expected "
                    + 8 * STATS_FIELDS);
        }
        PortStats s = new PortStats();
        s.ipackets = b.getLong();
        s.opackets = b.getLong();
        s.ibytes = b.getLong();
        s.obytes = b.getLong();
        s.imissed = b.getLong();
        s.ierrors = b.getLong();
        s.oerrors = b.getLong();
        s.rxNombuf = b.getLong();
        return s;
    }

    /** The port's extended statistics by name, in the driver's order, from the primary. */
    public static Map<String, Long> xstats(MpRuntime rt, int port) {
        Map<String, Long> out = new LinkedHashMap<>();
        int total;
        do {
            ByteBuffer b = ask(rt, OP_XSTATS, port, out.size());
            try {
                total = b.getInt();
                int count = b.getInt();
                if (count < 0 || total < 0 || total > 1 << 16 || count > total - out.size()
                        || count == 0 && out.size() < total) {
                    throw new UnavailableException("malformed xstats reply: " + count + " of " + total + " entries after "
                            + out.size());
                }
                for (int i = 0; i < count; i++) {
                    int len = Byte.toUnsignedInt(b.get());
                    byte[] name = new byte[len];
                    b.get(name);
                    out.put(new String(name, StandardCharsets.UTF_8), b.getLong());
                }
            } catch (BufferUnderflowException e) {
                throw new UnavailableException("malformed xstats reply: entries run past the " + IpcMessage.MAX_PARAM_LEN
                        + "-byte message");
            }
        } while (out.size() < total);
        return out;
    }

    /** The secondaries the primary has registered now. */
    public static List<Secondary> secondaries(MpRuntime rt) {
        List<Secondary> out = new ArrayList<>();
        int total;
        do {
            ByteBuffer b = ask(rt, OP_SECONDARIES, 0, out.size());
            if (b.remaining() < 8) {
                throw new UnavailableException("malformed secondaries reply of " + b.remaining() + " bytes");
            }
            total = b.getInt();
            int count = b.getInt();
            if (count < 0 || total < 0 || count > total - out.size() || b.remaining() != 8L * count
                    || count == 0 && out.size() < total) {
                throw new UnavailableException("malformed secondaries reply: " + count + " of " + total + " in "
                        + b.remaining() + " bytes");
            }
            for (int i = 0; i < count; i++) {
                out.add(new Secondary(b.getInt(), b.getInt()));
            }
        } while (out.size() < total);
        return out;
    }

    /** One request; the reply's payload after the header, or an exception saying why there is none. */
    private static ByteBuffer ask(MpRuntime rt, int op, int port, int index) {
        if (rt.isPrimary()) {
            throw new IllegalStateException("the primary holds the devices: read their statistics directly");
        }
        if (rt.primaryGone()) {
            throw new UnavailableException("the primary (pid " + rt.primaryPid() + ") has ended; statistics come from it");
        }
        ByteBuffer p = ByteBuffer.allocate(REQUEST_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        p.putShort((short) VERSION).putShort((short) op).putInt(port).putInt(index);
        IpcReply r = rt.ipc().requestSync(new IpcMessage(ACTION, p.array()), TIMEOUT);
        if (r.nbReceived() == 0) {
            throw new UnavailableException("the primary (pid " + rt.primaryPid() + ") "
                    + (r.complete() ? "serves no port statistics (no handler for " + ACTION + "; it is not an app that "
                            + "shares its ports' statistics)" : "did not answer a statistics request within "
                            + TIMEOUT.toSeconds() + " s"));
        }
        IpcMessage m = r.messages().getFirst();
        m.closeFds();
        ByteBuffer b = m.paramBuffer();
        if (b.remaining() < REPLY_HEADER) {
            throw new UnavailableException("malformed statistics reply of " + b.remaining() + " bytes");
        }
        int status = b.getInt();
        int version = Short.toUnsignedInt(b.getShort());
        b.getShort();
        if (status != STATUS_OK) {
            byte[] why = new byte[b.remaining()];
            b.get(why);
            throw new UnavailableException("the primary refused: " + new String(why, StandardCharsets.UTF_8));
        }
        if (version != VERSION) {
            throw new UnavailableException("the primary answered with version " + version + " of " + ACTION + "; this "
                    + "tool speaks " + VERSION + " (run tools of the same build)");
        }
        return b.slice().order(ByteOrder.LITTLE_ENDIAN);
    }
}
