package io.jnic.apps.l2fwdmp;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.MpRuntime;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Per-process counters of l2fwd-mp in a memzone, so that any process can print every process's rates. Each
 * process writes only its own slot (opaque stores); readers see each counter whole.
 *
 * <pre>
 * header: 0 magic u64, 8 num-procs u32, 12 stop u32 (the primary asks everyone to finish)
 * slot[proc] at 64 + proc * SLOT: 0 pid u32, 4 generation u32, 64 counters[port][RX, TX, TX_BYTES, DROPS] u64
 * </pre>
 */
final class ProcStats {
    static final String MEMZONE = "l2fwd_mp.stats";
    static final long MAGIC = 0x5453504d44574632L;
    static final int MAX_PROCS = 16;
    static final int RX = 0;
    static final int TX = 1;
    static final int TX_BYTES = 2;
    static final int DROPS = 3;
    static final int FIELDS = 4;
    private static final long HEADER = 64;
    private static final long SLOT = 64 + 8L * FIELDS * PortTable.MAX_PORTS;
    private static final long BYTES = HEADER + SLOT * MAX_PROCS;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment seg;

    private ProcStats(MemorySegment seg) {
        this.seg = seg;
    }

    static ProcStats create(MpRuntime rt, int numProcs) {
        Memzone z = rt.memory().find(MEMZONE).orElseGet(() -> rt.reserve(MEMZONE, BYTES, 64));
        MemorySegment m = z.memory().asSlice(0, BYTES);
        m.fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, 8, numProcs);
        VarHandle.releaseFence();
        m.set(ValueLayout.JAVA_LONG, 0, MAGIC);
        return new ProcStats(m);
    }

    static ProcStats attach(MpRuntime rt) {
        Memzone z = rt.memory().find(MEMZONE).orElseThrow(() -> new IllegalStateException("the primary of file prefix '"
                + rt.filePrefix() + "' is not l2fwd-mp (no memzone " + MEMZONE + ")"));
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES || m.get(ValueLayout.JAVA_LONG, 0) != MAGIC) {
            throw new IllegalStateException("memzone " + MEMZONE + " is not l2fwd-mp's statistics of this build");
        }
        return new ProcStats(m.asSlice(0, BYTES));
    }

    private static long slot(int proc) {
        if (proc < 0 || proc >= MAX_PROCS) {
            throw new IllegalArgumentException("proc id " + proc + " outside 0.." + (MAX_PROCS - 1));
        }
        return HEADER + SLOT * proc;
    }

    private static long counter(int proc, int port, int field) {
        if (port < 0 || port >= PortTable.MAX_PORTS) {
            throw new IllegalArgumentException("port " + port + " outside 0.." + (PortTable.MAX_PORTS - 1));
        }
        return slot(proc) + 64 + 8L * (port * FIELDS + field);
    }

    void pid(int proc, int pid) {
        INT.setRelease(seg, slot(proc), pid);
    }

    int pid(int proc) {
        return (int) INT.getAcquire(seg, slot(proc));
    }

    void put(int proc, int port, int field, long v) {
        LONG.setOpaque(seg, counter(proc, port, field), v);
    }

    long get(int proc, int port, int field) {
        return (long) LONG.getOpaque(seg, counter(proc, port, field));
    }

    void requestStop() {
        INT.setRelease(seg, 12L, 1);
    }

    boolean stopRequested() {
        return (int) INT.getAcquire(seg, 12L) != 0;
    }
}
