package io.jnic.apps.common;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.multiproc.MpRuntime;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Per-process counters of the multi-process apps (l2fwd-mp, l2fwd-fork) in a memzone, so that any process can
 * print every process's rates and a restarted process continues its slot. Each process writes only its own
 * slot (opaque stores); readers see each counter whole.
 *
 * <pre>
 * header: 0 magic u64, 8 num-procs u32, 12 stop u32 (the primary asks everyone to finish)
 * slot[proc] at 64 + proc * SLOT: 0 pid u32, 4 generation u32, 8 lcore i32, 16 forwarding-since i64
 *   (System.nanoTime, CLOCK_MONOTONIC: one clock for every process of a machine), 64 counters[port][RX, TX,
 *   TX_BYTES, DROPS] u64
 * </pre>
 */
public final class ProcStats {
    /** l2fwd-mp's memzone. */
    public static final String MEMZONE = "l2fwd_mp.stats";
    private static final long MAGIC = 0x5453504d44574632L;
    public static final int MAX_PROCS = 16;
    public static final int RX = 0;
    public static final int TX = 1;
    public static final int TX_BYTES = 2;
    public static final int DROPS = 3;
    public static final int FIELDS = 4;
    private static final long HEADER = 64;
    private static final long SLOT = 64 + 8L * FIELDS * PortTable.MAX_PORTS;
    private static final long BYTES = HEADER + SLOT * MAX_PROCS;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment seg;

    private ProcStats(MemorySegment seg) {
        this.seg = seg;
    }

    /** l2fwd-mp's counters ({@link #MEMZONE}), zeroed, for {@code numProcs} processes (primary). */
    public static ProcStats create(MpRuntime rt, int numProcs) {
        return create(rt, MEMZONE, numProcs);
    }

    /** The counters in memzone {@code memzone}, zeroed, for {@code numProcs} processes (primary). */
    public static ProcStats create(MpRuntime rt, String memzone, int numProcs) {
        if (numProcs < 1 || numProcs > MAX_PROCS) {
            throw new IllegalArgumentException("processes must be 1.." + MAX_PROCS + ", got " + numProcs);
        }
        Memzone z = rt.memory().find(memzone).orElseGet(() -> rt.reserve(memzone, BYTES, 64));
        MemorySegment m = z.memory().asSlice(0, BYTES);
        m.fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, 8, numProcs);
        VarHandle.releaseFence();
        m.set(ValueLayout.JAVA_LONG, 0, MAGIC);
        return new ProcStats(m);
    }

    /** l2fwd-mp's counters, as a secondary finds them. */
    public static ProcStats attach(MpRuntime rt) {
        return attach(rt, MEMZONE, "l2fwd-mp");
    }

    /** The counters in memzone {@code memzone}, which app {@code app} created (for the messages). */
    public static ProcStats attach(MpRuntime rt, String memzone, String app) {
        Memzone z = rt.memory().find(memzone).orElseThrow(() -> new IllegalStateException("the primary of file prefix '"
                + rt.filePrefix() + "' is not " + app + " (no memzone " + memzone + ")"));
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES || m.get(ValueLayout.JAVA_LONG, 0) != MAGIC) {
            throw new IllegalStateException("memzone " + memzone + " is not " + app + "'s statistics of this build");
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

    public void pid(int proc, int pid) {
        INT.setRelease(seg, slot(proc), pid);
    }

    public int pid(int proc) {
        return (int) INT.getAcquire(seg, slot(proc));
    }

    public void put(int proc, int port, int field, long v) {
        LONG.setOpaque(seg, counter(proc, port, field), v);
    }

    public long get(int proc, int port, int field) {
        return (long) LONG.getOpaque(seg, counter(proc, port, field));
    }

    /** The number of process slots the creator asked for. */
    public int numProcs() {
        return seg.get(ValueLayout.JAVA_INT, 8L);
    }

    /** How many times the process in slot {@code proc} was replaced (kept by whoever restarts it). */
    public void generation(int proc, int generation) {
        INT.setRelease(seg, slot(proc) + 4, generation);
    }

    public int generation(int proc) {
        return (int) INT.getAcquire(seg, slot(proc) + 4);
    }

    /** The lcore id the process in slot {@code proc} forwards on (meaningful once its pid is set). */
    public void lcore(int proc, int lcore) {
        INT.setRelease(seg, slot(proc) + 8, lcore);
    }

    public int lcore(int proc) {
        return (int) INT.getAcquire(seg, slot(proc) + 8);
    }

    /** When ({@link System#nanoTime}) the process in slot {@code proc} forwarded its first packets; 0: not yet. */
    public void forwardingSince(int proc, long nanoTime) {
        LONG.setRelease(seg, slot(proc) + 16, nanoTime);
    }

    public long forwardingSince(int proc) {
        return (long) LONG.getAcquire(seg, slot(proc) + 16);
    }

    public void requestStop() {
        INT.setRelease(seg, 12L, 1);
    }

    public boolean stopRequested() {
        return (int) INT.getAcquire(seg, 12L) != 0;
    }
}
