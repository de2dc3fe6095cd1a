package io.jnic.mp.ethdev.pdump;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.MpRuntime;
import io.jnic.sys.Proc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * The data path's capture hook (DPDK's pdump RX/TX callbacks), one per forwarding thread. While no capture is on
 * a call costs one opaque read of the control block's {@code active} word. While one is on, each mbuf of a
 * mirrored (port, queue, direction) is copied into a mbuf of the capture pool ({@link CaptureRecord}: timestamp,
 * lengths, port, queue, direction, then up to the snap length of the frame) and the copies are enqueued on the
 * capture ring for the pdump process; the data path's own mbufs are only read. Copies that find the ring full or
 * the pool empty are dropped and counted in the control block. Nothing is allocated per burst.
 *
 * <p>Only the first segment of a chained mbuf is copied (the original length is still recorded).
 */
public final class CaptureTap {
    private static final MemorySegment OFF_SEGMENT = Arena.global().allocate(PdumpControl.BYTES, 64);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int MAX_BURST = 512;

    /** A tap that never captures (no control block in the group). */
    public static final CaptureTap OFF = new CaptureTap(null, null, OFF_SEGMENT, -1);

    private final MemorySegment ctl; // the control block, or a block of zeros
    private final PdumpControl control;
    private final MemoryGroup memory;
    private final int lcore;
    private final Mbuf src = new Mbuf();
    private final Mbuf dst = new Mbuf();
    private final long[] copies = new long[MAX_BURST];
    private final int[] rxMasks = new int[PortTable.MAX_PORTS];
    private final int[] txMasks = new int[PortTable.MAX_PORTS];
    private int seenGeneration = -1;
    private int snapLength;
    private boolean ready;
    private Ring ring;
    private Mempool pool;
    private long realtimeOffset;

    private CaptureTap(PdumpControl control, MemoryGroup memory, MemorySegment ctl, int lcore) {
        this.control = control;
        this.memory = memory;
        this.ctl = ctl;
        this.lcore = lcore;
    }

    /**
     * The tap of a thread of {@code rt} that allocates as {@code lcore}; {@link #OFF} when the group's primary
     * offers no capture.
     */
    public static CaptureTap attach(MpRuntime rt, int lcore) {
        Optional<PdumpControl> c = PdumpControl.find(rt.memory());
        return c.map(pc -> new CaptureTap(pc, rt.memory(), pc.seg, lcore)).orElse(OFF);
    }

    /** A tap over {@code control} of {@code memory} (the group's), for a thread that allocates as {@code lcore}. */
    public static CaptureTap over(PdumpControl control, MemoryGroup memory, int lcore) {
        return new CaptureTap(control, memory, control.seg, lcore);
    }

    /** Mirrors the {@code n} mbufs {@code port}'s queue {@code queue} has just received into {@code b}. */
    public void rx(int port, int queue, MbufBatch b, int n) {
        if ((int) PdumpControl.INT.getOpaque(ctl, PdumpControl.OFF_ACTIVE) != 0) {
            capture(port, queue, CaptureRecord.RX, b.handles(), n);
        }
    }

    /** Mirrors the mbufs of {@code b} about to be sent on {@code port}'s queue {@code queue}. */
    public void tx(int port, int queue, MbufBatch b) {
        if ((int) PdumpControl.INT.getOpaque(ctl, PdumpControl.OFF_ACTIVE) != 0) {
            capture(port, queue, CaptureRecord.TX, b.handles(), b.count());
        }
    }

    private void capture(int port, int queue, int dir, long[] handles, int n) {
        int gen = control.generation();
        if (gen != seenGeneration) {
            refresh(gen);
        }
        if (!ready || port < 0 || port >= PortTable.MAX_PORTS || queue < 0 || queue > 31) {
            return;
        }
        int mask = dir == CaptureRecord.RX ? rxMasks[port] : txMasks[port];
        if ((mask >>> queue & 1) == 0) {
            return;
        }
        long now = System.nanoTime() + realtimeOffset;
        MemorySegment to = pool.segment();
        int room = pool.dataRoom() - CaptureRecord.HEADER;
        int k = 0;
        long nombuf = 0;
        int want = Math.min(n, MAX_BURST);
        boolean bulk = pool.allocBulk(copies, 0, want, lcore); // one ring dequeue for the burst
        for (int i = 0; i < want; i++) {
            long c = bulk ? copies[i] : pool.alloc(lcore);
            if (c == 0) {
                nombuf++;
                continue;
            }
            src.wrap(handles[i]);
            dst.wrap(c);
            int len = Math.min(src.dataLen(), Math.min(snapLength, room));
            long at = dst.dataPosition();
            MemorySegment.copy(src.pool().segment(), src.dataPosition(), to, at + CaptureRecord.HEADER, len);
            to.set(LE64, at + CaptureRecord.OFF_TIMESTAMP, now);
            to.set(LE32, at + CaptureRecord.OFF_ORIG_LEN, src.pktLen());
            to.set(LE16, at + CaptureRecord.OFF_PORT, (short) port);
            to.set(LE16, at + CaptureRecord.OFF_QUEUE, (short) queue);
            to.set(LE64, at + CaptureRecord.OFF_DIRECTION, dir); // direction and 7 zero bytes
            dst.dataLen(CaptureRecord.HEADER + len).pktLen(CaptureRecord.HEADER + len);
            copies[k++] = c;
        }
        int sent = k == 0 ? 0 : ring.enqueueBurst(copies, 0, k);
        if (sent < k) {
            Mempool.freeBulk(copies, sent, k - sent, lcore);
            PdumpControl.LONG.getAndAdd(ctl, PdumpControl.OFF_DROPPED_RING, (long) (k - sent));
        }
        if (sent > 0) {
            PdumpControl.LONG.getAndAdd(ctl, PdumpControl.OFF_CAPTURED, (long) sent);
        }
        if (nombuf > 0) {
            PdumpControl.LONG.getAndAdd(ctl, PdumpControl.OFF_DROPPED_NOMBUF, nombuf);
        }
    }

    /** A capture was switched on or changed: read its settings, find the ring and the pool. */
    private void refresh(int gen) {
        seenGeneration = gen;
        ready = false;
        snapLength = control.snapLength();
        for (int p = 0; p < PortTable.MAX_PORTS; p++) {
            rxMasks[p] = control.rxMask(p);
            txMasks[p] = control.txMask(p);
        }
        try {
            if (ring == null) {
                Memzone rz = memory.find(PdumpControl.RING).orElse(null);
                Memzone pz = memory.find(PdumpControl.POOL).orElse(null);
                if (rz == null || pz == null) {
                    return; // the pdump process has not made them: nothing to capture into
                }
                pool = poolAt(pz.memory());
                ring = Ring.attach(rz.memory());
            }
            realtimeOffset = Proc.clockGettime(Proc.CLOCK_REALTIME) - System.nanoTime();
            ready = snapLength > 0;
        } catch (RuntimeException e) {
            System.getLogger(CaptureTap.class.getName()).log(System.Logger.Level.WARNING,
                    "capture requested but its ring or pool cannot be used: {0}", e.getMessage());
        }
    }

    private static Mempool poolAt(MemorySegment m) {
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null && !p.isClosed() && p.segment().address() == m.address()) {
                return p;
            }
        }
        return Mempool.attach(m);
    }
}
