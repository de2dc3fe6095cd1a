package io.jnic.mp.ethdev.pdump;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The capture switch of a group, in a memzone ({@value #MEMZONE}) the primary creates: whether a capture is on,
 * which (port, queue, direction) it mirrors, the snap length, and counters. Every forwarding process's
 * {@link CaptureTap} reads the {@code active} word once per burst; everything else only while it is set.
 *
 * <pre>
 *   0 magic u64 "JNICPDMP"        8 version u32        12 reserved
 *  16 generation u32 (bumped at every change; a tap re-reads the rest when it moves)
 *  20 active u32 (0 off, 1 on; written last when switching on, first when switching off)
 *  24 snap length u32             28 requester pid u32 (the pdump process; the primary switches off when it ends)
 *  32 captured u64                40 dropped: ring full u64       48 dropped: capture pool empty u64
 *  64 RX queue masks: u32 per port (bit q = queue q), 32 ports
 * 192 TX queue masks: u32 per port, 32 ports
 * </pre>
 * The capture ring ({@value #RING}, multi-producer, single-consumer) and pool ({@value #POOL}) are memzones the
 * pdump process creates (or reuses) before it asks for a capture.
 */
public final class PdumpControl {
    public static final String MEMZONE = "jnic.pdump.ctl";
    /** Memzone of the capture ring. */
    public static final String RING = "jnic.pdump.ring";
    /** Memzone of the capture pool. */
    public static final String POOL = "jnic.pdump.pool";
    public static final long MAGIC = 0x504d4450434e494aL; // "JNICPDMP"
    public static final int VERSION = 1;
    public static final long BYTES = 320;
    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 8;
    static final long OFF_GENERATION = 16;
    static final long OFF_ACTIVE = 20;
    static final long OFF_SNAPLEN = 24;
    static final long OFF_REQUESTER = 28;
    static final long OFF_CAPTURED = 32;
    static final long OFF_DROPPED_RING = 40;
    static final long OFF_DROPPED_NOMBUF = 48;
    static final long OFF_RX_MASKS = 64;
    static final long OFF_TX_MASKS = 64 + 4L * PortTable.MAX_PORTS;
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    final MemorySegment seg;

    private PdumpControl(MemorySegment seg) {
        this.seg = seg;
    }

    /** The primary: creates the (switched off) control block. */
    public static PdumpControl create(MemoryGroup group) {
        Memzone z = group.find(MEMZONE).orElseGet(() -> group.reserve(MEMZONE, BYTES, 64));
        MemorySegment m = z.memory().asSlice(0, BYTES);
        m.fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, OFF_VERSION, VERSION);
        LONG.setRelease(m, OFF_MAGIC, MAGIC);
        return new PdumpControl(m);
    }

    /** Any process: the group's control block, if its primary made one. */
    public static Optional<PdumpControl> find(MemoryGroup group) {
        return group.find(MEMZONE).map(z -> {
            MemorySegment m = z.memory();
            if (m.byteSize() < BYTES || (long) LONG.getAcquire(m, OFF_MAGIC) != MAGIC
                    || m.get(ValueLayout.JAVA_INT, OFF_VERSION) != VERSION) {
                throw new IllegalStateException("memzone " + MEMZONE + " is not a capture control block of this build");
            }
            return new PdumpControl(m.asSlice(0, BYTES));
        });
    }

    public boolean active() {
        return (int) INT.getAcquire(seg, OFF_ACTIVE) != 0;
    }

    public int generation() {
        return (int) INT.getAcquire(seg, OFF_GENERATION);
    }

    public int snapLength() {
        return seg.get(ValueLayout.JAVA_INT, OFF_SNAPLEN);
    }

    public int requester() {
        return seg.get(ValueLayout.JAVA_INT, OFF_REQUESTER);
    }

    public int rxMask(int port) {
        return seg.get(ValueLayout.JAVA_INT, OFF_RX_MASKS + 4L * port);
    }

    public int txMask(int port) {
        return seg.get(ValueLayout.JAVA_INT, OFF_TX_MASKS + 4L * port);
    }

    public long captured() {
        return (long) LONG.getAcquire(seg, OFF_CAPTURED);
    }

    public long droppedRingFull() {
        return (long) LONG.getAcquire(seg, OFF_DROPPED_RING);
    }

    public long droppedNoMbuf() {
        return (long) LONG.getAcquire(seg, OFF_DROPPED_NOMBUF);
    }

    /**
     * Switches a capture on: masks (bit q of {@code rx[port]} mirrors RX queue q) and snap length first, then a new
     * generation, then the flag. The primary's {@link PdumpService} calls it for a pdump process (and benchmarks).
     */
    public synchronized void enable(int[] rx, int[] tx, int snapLength, int requester) {
        INT.setRelease(seg, OFF_ACTIVE, 0);
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            seg.set(ValueLayout.JAVA_INT, OFF_RX_MASKS + 4L * p, rx[p]);
            seg.set(ValueLayout.JAVA_INT, OFF_TX_MASKS + 4L * p, tx[p]);
        }
        seg.set(ValueLayout.JAVA_INT, OFF_SNAPLEN, snapLength);
        seg.set(ValueLayout.JAVA_INT, OFF_REQUESTER, requester);
        LONG.setRelease(seg, OFF_CAPTURED, 0L);
        LONG.setRelease(seg, OFF_DROPPED_RING, 0L);
        LONG.setRelease(seg, OFF_DROPPED_NOMBUF, 0L);
        INT.getAndAdd(seg, OFF_GENERATION, 1);
        INT.setRelease(seg, OFF_ACTIVE, 1);
    }

    /** Switches the capture off (taps stop at their next burst). */
    public synchronized void disable() {
        INT.setRelease(seg, OFF_ACTIVE, 0);
        INT.getAndAdd(seg, OFF_GENERATION, 1);
        seg.set(ValueLayout.JAVA_INT, OFF_REQUESTER, 0);
    }
}
