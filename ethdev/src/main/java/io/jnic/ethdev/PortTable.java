package io.jnic.ethdev;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The ports of a memory group, in a memzone ({@value #MEMZONE}) so that every process attached to the group
 * sees the same ports (rte_eth_dev_data in DPDK's shared memory). It holds data only: the driver's NAME (each
 * process loads its own driver class for it), the device name, queue counts, MAC, MTU, link and state; no
 * virtual address.
 *
 * <pre>
 * header (64 bytes): magic u64 "JNICPORT", version u32, max ports u32
 * entry i at 64 + 256 * i:
 *   0 state u32 (PortState ordinal; claimed FREE -> PROBED by CAS)   4 owner pid u32
 *   8 driver name [32]   40 device name [64]   104 NUMA socket i32   108 RX queues u32   112 TX queues u32
 *   116 MTU u32   120 MAC u64 (48 bits, first octet highest)   128 link u64 (LinkStatus.pack, release/acquire)
 *   136 link changes u64   144..255 reserved
 * </pre>
 */
public final class PortTable {
    public static final String MEMZONE = "jnic.ethdev.ports";
    /** RTE_MAX_ETHPORTS. */
    public static final int MAX_PORTS = 32;
    public static final long MAGIC = 0x54524f5043494e4aL; // "JNICPORT" little-endian
    public static final int VERSION = 1;
    static final long HEADER = 64;
    static final long ENTRY = 256;
    static final long E_STATE = 0;
    static final long E_PID = 4;
    static final long E_DRIVER = 8;
    static final int DRIVER_BYTES = 32;
    static final long E_DEVICE = 40;
    static final int DEVICE_BYTES = 64;
    static final long E_SOCKET = 104;
    static final long E_RXQ = 108;
    static final long E_TXQ = 112;
    static final long E_MTU = 116;
    static final long E_MAC = 120;
    static final long E_LINK = 128;
    static final long E_LINK_CHANGES = 136;
    public static final long BYTES = HEADER + ENTRY * MAX_PORTS;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment seg;

    private PortTable(MemorySegment seg) {
        this.seg = seg;
    }

    /** The group's port table: created on first use, validated when another process made it. */
    public static synchronized PortTable of(MemoryGroup group) {
        Optional<Memzone> mz = group.find(MEMZONE);
        Memzone z;
        if (mz.isPresent()) {
            z = mz.get();
        } else {
            try {
                z = group.reserve(MEMZONE, BYTES, 64);
            } catch (RuntimeException e) {
                // another process may have reserved it meanwhile
                z = group.find(MEMZONE).orElseThrow(() -> e);
            }
        }
        return over(z.memory());
    }

    /** A table over {@code seg}: formats it when all zero, validates it otherwise. */
    public static PortTable over(MemorySegment seg) {
        if (seg.byteSize() < BYTES) {
            throw new IllegalArgumentException("port table needs " + BYTES + " bytes, the memzone has " + seg.byteSize());
        }
        MemorySegment s = seg.asSlice(0, BYTES);
        long magic = (long) LONG.getAcquire(s, 0L);
        if (magic == 0) {
            INT.set(s, 8L, VERSION);
            INT.set(s, 12L, MAX_PORTS);
            // CAS so that two processes formatting at once agree
            LONG.compareAndSet(s, 0L, 0L, MAGIC);
            magic = (long) LONG.getAcquire(s, 0L);
        }
        if (magic != MAGIC) {
            throw new IllegalStateException(String.format("memzone %s holds no port table (magic 0x%016x); "
                    + "another program uses that name", MEMZONE, magic));
        }
        int v = (int) INT.get(s, 8L);
        int max = (int) INT.get(s, 12L);
        if (v != VERSION || max != MAX_PORTS) {
            throw new IllegalStateException("port table version " + v + " with " + max + " ports; this build has version "
                    + VERSION + " with " + MAX_PORTS + ": run the same jnic build in every process");
        }
        return new PortTable(s);
    }

    private static long entry(int port) {
        if (port < 0 || port >= MAX_PORTS) {
            throw new IllegalArgumentException("port id " + port + " out of range 0.." + (MAX_PORTS - 1));
        }
        return HEADER + ENTRY * port;
    }

    /** Claims the lowest free entry for {@code driver}/{@code device}; returns the port id. */
    public int allocate(String driver, String device, int socket, int pid) {
        for (int p = 0; p < MAX_PORTS; p++) {
            long e = entry(p);
            if ((int) INT.getAcquire(seg, e + E_STATE) == PortState.FREE.ordinal()
                    && INT.compareAndSet(seg, e + E_STATE, PortState.FREE.ordinal(), -1)) {
                seg.asSlice(e + 4, ENTRY - 4).fill((byte) 0);
                INT.set(seg, e + E_PID, pid);
                putString(e + E_DRIVER, DRIVER_BYTES, driver);
                putString(e + E_DEVICE, DEVICE_BYTES, device);
                INT.set(seg, e + E_SOCKET, socket);
                INT.setRelease(seg, e + E_STATE, PortState.PROBED.ordinal());
                return p;
            }
        }
        throw new IllegalStateException("all " + MAX_PORTS + " ports of the port table are in use; close a port first");
    }

    /** Marks the entry free. */
    public void release(int port) {
        long e = entry(port);
        INT.setRelease(seg, e + E_STATE, PortState.FREE.ordinal());
    }

    private void putString(long off, int max, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length >= max) {
            throw new IllegalArgumentException("name '" + s + "' is " + b.length + " bytes; the port table holds up to "
                    + (max - 1));
        }
        seg.asSlice(off, max).fill((byte) 0);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, off, b.length);
    }

    private String getString(long off, int max) {
        byte[] b = new byte[max];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, b, 0, max);
        int n = 0;
        while (n < max && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    public PortState state(int port) {
        int s = (int) INT.getAcquire(seg, entry(port) + E_STATE);
        PortState[] all = PortState.values();
        if (s == -1) {
            return PortState.FREE; // being claimed
        }
        if (s < 0 || s >= all.length) {
            throw new IllegalStateException("port table entry " + port + " has state " + s + ", which is none of "
                    + java.util.Arrays.toString(all) + " (corrupted)");
        }
        return all[s];
    }

    public void state(int port, PortState s) {
        INT.setRelease(seg, entry(port) + E_STATE, s.ordinal());
    }

    public String driverName(int port) {
        return getString(entry(port) + E_DRIVER, DRIVER_BYTES);
    }

    public String deviceName(int port) {
        return getString(entry(port) + E_DEVICE, DEVICE_BYTES);
    }

    public int ownerPid(int port) {
        return (int) INT.get(seg, entry(port) + E_PID);
    }

    public int socket(int port) {
        return (int) INT.get(seg, entry(port) + E_SOCKET);
    }

    public void queues(int port, int rx, int tx) {
        long e = entry(port);
        INT.set(seg, e + E_RXQ, rx);
        INT.setRelease(seg, e + E_TXQ, tx);
    }

    public int rxQueues(int port) {
        return (int) INT.getAcquire(seg, entry(port) + E_RXQ);
    }

    public int txQueues(int port) {
        return (int) INT.getAcquire(seg, entry(port) + E_TXQ);
    }

    public void mtu(int port, int mtu) {
        INT.setRelease(seg, entry(port) + E_MTU, mtu);
    }

    public int mtu(int port) {
        return (int) INT.getAcquire(seg, entry(port) + E_MTU);
    }

    public void mac(int port, MacAddress mac) {
        LONG.setRelease(seg, entry(port) + E_MAC, mac.value());
    }

    public MacAddress mac(int port) {
        return new MacAddress((long) LONG.getAcquire(seg, entry(port) + E_MAC) & 0xFFFF_FFFF_FFFFL);
    }

    /** Records the link; counts a change when it differs from what was recorded. */
    public void link(int port, LinkStatus link) {
        long e = entry(port);
        long old = (long) LONG.getAndSet(seg, e + E_LINK, link.pack());
        if (old != link.pack()) {
            LONG.getAndAdd(seg, e + E_LINK_CHANGES, 1L);
        }
    }

    public LinkStatus link(int port) {
        return LinkStatus.unpack((long) LONG.getAcquire(seg, entry(port) + E_LINK));
    }

    public long linkChanges(int port) {
        return (long) LONG.getAcquire(seg, entry(port) + E_LINK_CHANGES);
    }
}
