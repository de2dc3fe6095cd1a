package io.jnic.apps.clientserver;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.mp.ethdev.QueueOwners;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * What mp-server shares with its clients (DPDK's {@code struct port_info} in memzone {@code MProc_port_info},
 * plus the counters DPDK keeps in per-process arrays): the ports, their pairing, the client count, and counters
 * that every process can read. Each counter has one writer (the server or one client), stored opaque; readers see
 * each counter whole. A client needs only its id: the rest is here.
 *
 * <pre>
 * 0  magic u64 (written last), 8 version u32, 12 num clients u32, 16 num ports u32, 20 stop u32,
 * 24 server pid u32
 * 64 port ids u32[MAX_PORTS] (the first num ports used), 192 paired port u32[MAX_PORTS] (indexed by port id)
 * 320 server rx per port u64[MAX_PORTS]
 * 576 client slot[MAX_CLIENTS], SLOT bytes each:
 *     0 pid u32, 4 attaches u32, 8 enqueued u64 (server), 16 ring drops u64 (server), 24 rx u64, 32 tx u64,
 *     40 tx drops u64, 48 drained at stop u64 (server), 64 tx per port u64[MAX_PORTS]
 * </pre>
 */
final class PortInfo {
    static final String MEMZONE = "jnic.mp.port_info";
    static final long MAGIC = 0x4f464e4954524f50L; // "PORTINFO"
    static final int VERSION = 1;
    /** Queue pair 0 of every port is the server's (RX); client n transmits on pair n + 1. */
    static final int MAX_CLIENTS = QueueOwners.MAX_QUEUES - 1;

    static final int ENQUEUED = 8;
    static final int RING_DROPS = 16;
    static final int RX = 24;
    static final int TX = 32;
    static final int TX_DROPS = 40;
    static final int DRAINED = 48;

    private static final long OFF_MAGIC = 0;
    private static final long OFF_VERSION = 8;
    private static final long OFF_CLIENTS = 12;
    private static final long OFF_PORTS = 16;
    private static final long OFF_STOP = 20;
    private static final long OFF_SERVER_PID = 24;
    private static final long OFF_PORT_IDS = 64;
    private static final long OFF_PAIRS = OFF_PORT_IDS + 4L * PortTable.MAX_PORTS;
    private static final long OFF_SERVER_RX = OFF_PAIRS + 4L * PortTable.MAX_PORTS;
    private static final long OFF_SLOTS = OFF_SERVER_RX + 8L * PortTable.MAX_PORTS;
    private static final long OFF_SLOT_TX = 64;
    private static final long SLOT = OFF_SLOT_TX + 8L * PortTable.MAX_PORTS;
    static final long BYTES = OFF_SLOTS + SLOT * MAX_CLIENTS;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment seg;
    private final int numClients;
    private final int[] ports;
    private final int[] pairs = new int[PortTable.MAX_PORTS];

    private PortInfo(MemorySegment seg, int numClients, int[] ports, int[] pairs) {
        this.seg = seg;
        this.numClients = numClients;
        this.ports = ports;
        System.arraycopy(pairs, 0, this.pairs, 0, PortTable.MAX_PORTS);
    }

    /** The server: fills the memzone (counters zero) and publishes it. */
    static PortInfo create(MemoryGroup group, int numClients, int[] ports, int[] pairs, int serverPid) {
        if (numClients < 1 || numClients > MAX_CLIENTS) {
            throw new IllegalArgumentException("-n must be 1.." + MAX_CLIENTS + " clients, got " + numClients);
        }
        Memzone z = group.find(MEMZONE).orElseGet(() -> group.reserve(MEMZONE, BYTES, 64));
        MemorySegment m = z.memory().asSlice(0, BYTES);
        m.fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, OFF_VERSION, VERSION);
        m.set(ValueLayout.JAVA_INT, OFF_CLIENTS, numClients);
        m.set(ValueLayout.JAVA_INT, OFF_PORTS, ports.length);
        m.set(ValueLayout.JAVA_INT, OFF_SERVER_PID, serverPid);
        for (int i = 0; i < ports.length; i++) {
            m.set(ValueLayout.JAVA_INT, OFF_PORT_IDS + 4L * i, ports[i]);
        }
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            m.set(ValueLayout.JAVA_INT, OFF_PAIRS + 4L * p, pairs[p]);
        }
        VarHandle.releaseFence();
        LONG.setRelease(m, OFF_MAGIC, MAGIC);
        return new PortInfo(m, numClients, ports.clone(), pairs);
    }

    /** A client or a tool: the server's published port info, every value checked before use. */
    static PortInfo attach(MemoryGroup group) {
        Memzone z = group.find(MEMZONE).orElseThrow(() -> new IllegalStateException("the primary of file prefix '"
                + group.filePrefix() + "' is not mp-server (it shares no memzone " + MEMZONE + ")"));
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES || (long) LONG.getAcquire(m, OFF_MAGIC) != MAGIC) {
            throw new IllegalStateException("memzone " + MEMZONE + " is not mp-server's port info, or not yet published");
        }
        if (m.get(ValueLayout.JAVA_INT, OFF_VERSION) != VERSION) {
            throw new IllegalStateException("memzone " + MEMZONE + " has version " + m.get(ValueLayout.JAVA_INT, OFF_VERSION)
                    + "; this mp-client reads version " + VERSION + " (run server and clients of the same build)");
        }
        int n = m.get(ValueLayout.JAVA_INT, OFF_CLIENTS);
        int np = m.get(ValueLayout.JAVA_INT, OFF_PORTS);
        if (n < 1 || n > MAX_CLIENTS || np < 1 || np > PortTable.MAX_PORTS) {
            throw new IllegalStateException("memzone " + MEMZONE + " is corrupt: " + n + " clients, " + np + " ports");
        }
        int[] ports = new int[np];
        int[] pairs = new int[PortTable.MAX_PORTS];
        for (int i = 0; i < np; i++) {
            ports[i] = m.get(ValueLayout.JAVA_INT, OFF_PORT_IDS + 4L * i);
            if (ports[i] < 0 || ports[i] >= PortTable.MAX_PORTS) {
                throw new IllegalStateException("memzone " + MEMZONE + " is corrupt: port id " + ports[i]);
            }
        }
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            pairs[p] = m.get(ValueLayout.JAVA_INT, OFF_PAIRS + 4L * p);
            if (pairs[p] < 0 || pairs[p] >= PortTable.MAX_PORTS) {
                throw new IllegalStateException("memzone " + MEMZONE + " is corrupt: port " + p + " paired with " + pairs[p]);
            }
        }
        return new PortInfo(m.asSlice(0, BYTES), n, ports, pairs);
    }

    int numClients() {
        return numClients;
    }

    /** The forwarded ports, ascending. */
    int[] ports() {
        return ports.clone();
    }

    /** The port that traffic arriving on {@code port} leaves by. */
    int pair(int port) {
        return pairs[port];
    }

    int serverPid() {
        return seg.get(ValueLayout.JAVA_INT, OFF_SERVER_PID);
    }

    private static long port(int p) {
        if (p < 0 || p >= PortTable.MAX_PORTS) {
            throw new IllegalArgumentException("port " + p + " outside 0.." + (PortTable.MAX_PORTS - 1));
        }
        return p;
    }

    private long slot(int client) {
        if (client < 0 || client >= numClients) {
            throw new IllegalArgumentException("client " + client + " outside 0.." + (numClients - 1));
        }
        return OFF_SLOTS + SLOT * client;
    }

    void serverRx(int p, long v) {
        LONG.setOpaque(seg, OFF_SERVER_RX + 8 * port(p), v);
    }

    long serverRx(int p) {
        return (long) LONG.getOpaque(seg, OFF_SERVER_RX + 8 * port(p));
    }

    /** A client counter ({@link #ENQUEUED}, {@link #RX}, ...). */
    void put(int client, int field, long v) {
        LONG.setOpaque(seg, slot(client) + field, v);
    }

    long get(int client, int field) {
        return (long) LONG.getOpaque(seg, slot(client) + field);
    }

    void txPort(int client, int p, long v) {
        LONG.setOpaque(seg, slot(client) + OFF_SLOT_TX + 8 * port(p), v);
    }

    long txPort(int client, int p) {
        return (long) LONG.getOpaque(seg, slot(client) + OFF_SLOT_TX + 8 * port(p));
    }

    void pid(int client, int pid) {
        INT.setRelease(seg, slot(client), pid);
    }

    int pid(int client) {
        return (int) INT.getAcquire(seg, slot(client));
    }

    /** Counts the attaches of a client slot (1 for the first client, 2 after a restart, ...). */
    int attached(int client) {
        return (int) INT.getAndAdd(seg, slot(client) + 4, 1) + 1;
    }

    int attaches(int client) {
        return (int) INT.getAcquire(seg, slot(client) + 4);
    }

    void requestStop() {
        INT.setRelease(seg, OFF_STOP, 1);
    }

    boolean stopRequested() {
        return (int) INT.getAcquire(seg, OFF_STOP) != 0;
    }

    /** The ring that carries client {@code n}'s packets (DPDK's MP_CLIENT_RXQ_NAME). */
    static String ringName(int n) {
        return "MProc_Client_" + n + "_RX";
    }
}
