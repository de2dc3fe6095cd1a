package io.jnic.apps.l2fwdfork;

import io.jnic.memory.Memzone;
import io.jnic.multiproc.MpRuntime;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The spare-worker table in a memzone: a spare is a worker process started ahead of need (JVM up, runtime
 * attached, floating lcore claimed) that waits for a slot, so that replacing a dead worker costs an attach
 * instead of a JVM start. The spare writes its pid when it is ready; the master writes the slot it gives it; the
 * spare clears its pid once it has taken the slot.
 *
 * <pre>
 * 0 magic u64, 8 entries u32; entry[i] at 64 + 8 * i: 0 pid u32 (the waiting spare), 4 slot i32 (-1: none)
 * </pre>
 */
final class Spares {
    static final String MEMZONE = "l2fwd_fork.spares";
    static final int MAX = 8;
    private static final long MAGIC = 0x5352415045524b46L;
    private static final long BYTES = 64 + 8L * MAX;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment seg;
    private final int entries;

    private Spares(MemorySegment seg, int entries) {
        this.seg = seg;
        this.entries = entries;
    }

    static Spares create(MpRuntime rt, int entries) {
        if (entries < 0 || entries > MAX) {
            throw new IllegalArgumentException("spares must be 0.." + MAX + ", got " + entries);
        }
        Memzone z = rt.reserve(MEMZONE, BYTES, 64);
        MemorySegment m = z.memory().asSlice(0, BYTES);
        m.fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, 8, entries);
        Spares s = new Spares(m, entries);
        for (int i = 0; i < entries; i++) {
            s.assign(i, -1);
        }
        VarHandle.releaseFence();
        m.set(ValueLayout.JAVA_LONG, 0, MAGIC);
        return s;
    }

    static Spares attach(MpRuntime rt) {
        Memzone z = rt.lookup(MEMZONE);
        MemorySegment m = z.memory();
        if (m.byteSize() < BYTES || m.get(ValueLayout.JAVA_LONG, 0) != MAGIC) {
            throw new IllegalStateException("memzone " + MEMZONE + " is not l2fwd-fork's spare table of this build");
        }
        int n = m.get(ValueLayout.JAVA_INT, 8);
        if (n < 0 || n > MAX) {
            throw new IllegalStateException("memzone " + MEMZONE + " says " + n + " entries, at most " + MAX);
        }
        return new Spares(m.asSlice(0, BYTES), n);
    }

    private long entry(int i) {
        if (i < 0 || i >= entries) {
            throw new IllegalArgumentException("spare " + i + " outside 0.." + (entries - 1));
        }
        return 64 + 8L * i;
    }

    int entries() {
        return entries;
    }

    /** The waiting spare's pid, 0 when none waits. */
    int pid(int i) {
        return (int) INT.getAcquire(seg, entry(i));
    }

    void pid(int i, int pid) {
        INT.setRelease(seg, entry(i), pid);
    }

    /** The slot the master gave spare {@code i}, -1 for none. */
    int slot(int i) {
        return (int) INT.getAcquire(seg, entry(i) + 4);
    }

    void assign(int i, int slot) {
        INT.setRelease(seg, entry(i) + 4, slot);
    }
}
