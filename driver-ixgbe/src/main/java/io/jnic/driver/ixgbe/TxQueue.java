package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.*;

import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.pci.PciBar;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One transmit queue's data path (7.2): one advanced data descriptor per single-segment packet, RS (report
 * status) on every {@code rsThresh}-th descriptor, and cleanup in whole groups of {@code rsThresh}: when the
 * device has written DD back on a group's RS descriptor, every mbuf of the group is freed in one bulk call.
 * The tail doorbell (TDT) is one store into the mapped queue page per burst. Of what the device writes, only
 * the DD bit of RS descriptors is read; its head pointer (TDH) never is.
 *
 * <p>Each burst starts with one plain read of the queue's generation ({@link QueueGeneration}): while the port
 * owner re-initialises the ring (a device reset) bursts send nothing, then the queue continues from the indices
 * the owner left in the shared state (an empty ring).
 */
final class TxQueue {
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final long OFFSET_MASK = 0xFFFF_FFFF_FFFFL;
    private static final int CMD = TXD_DTYP_DATA | TXD_CMD_DEXT | TXD_CMD_IFCS | TXD_CMD_EOP;

    final int queue;
    final QueueMemory mem;
    private final MemorySegment state;
    private final QueueGeneration generation;
    /** The generation this object's indices belong to; -1: not yet synchronised with the shared state. */
    private int gen = -1;
    private final MemorySegment desc;
    private final MemorySegment sw;
    private final MemorySegment tdt;
    private final int size;
    private final int rsThresh;
    private final int lcore;
    private final long[] freeBuf;
    /** Next descriptor to fill (the tail). */
    private int tail;
    /** First descriptor not yet cleaned (a multiple of rsThresh). */
    private int clean;
    /** Descriptors filled and not yet cleaned. */
    private int inFlight;
    /** Cached segment of the last pool seen (packets of one burst nearly always share it). */
    private MemorySegment lastSeg;
    private long lastTag = -1;
    private int lastBufLen;

    long packets;
    long bytes;
    long errors;

    TxQueue(int queue, QueueMemory mem, PciBar bar, int lcore) {
        this(queue, mem, bar, lcore, false);
    }

    /** {@code attach}: take over a queue another process set up; tail, clean index and in-flight from its state. */
    TxQueue(int queue, QueueMemory mem, PciBar bar, int lcore, boolean attach) {
        this.queue = queue;
        this.mem = mem;
        this.state = mem.state;
        this.generation = new QueueGeneration(mem.state, "TX queue " + queue + " (" + mem.zone.name() + ")");
        this.desc = mem.descriptors;
        this.sw = mem.swRing;
        this.size = mem.size;
        this.tdt = bar.mapped(txq(queue) + TDT, 4);
        this.lcore = lcore;
        this.rsThresh = size % 32 == 0 ? 32 : size % 16 == 0 ? 16 : 8;
        this.freeBuf = new long[rsThresh];
        if (attach) {
            loadState();
        }
    }

    /** Tail, clean index and in-flight count from the shared state, checked against the ring. */
    private void loadState() {
        int t = mem.state.get(I, QueueMemory.S_NEXT);
        int c = mem.state.get(I, QueueMemory.S_CLEAN);
        int f = mem.state.get(I, QueueMemory.S_INFLIGHT);
        if (t < 0 || t >= size || c < 0 || c >= size || c % rsThresh != 0 || f < 0 || f >= size
                || (c + f) % size != t) {
            throw new IllegalStateException("TX queue " + queue + ": state tail " + t + ", clean " + c + ", in flight " + f
                    + " is inconsistent for a ring of " + size + " (corrupted queue state)");
        }
        tail = t;
        clean = c;
        inFlight = f;
    }

    int rsThresh() {
        return rsThresh;
    }

    /** Frees one group of sent packets if the device is done with it; returns whether it did. */
    private boolean cleanGroup() {
        if (inFlight < rsThresh) {
            return false;
        }
        long rs = (long) (clean + rsThresh - 1) * DESC_SIZE;
        int st = (int) INT.getAcquire(desc, rs + TXD_OLINFO_STATUS);
        if ((st & TXD_STAT_DD) == 0) {
            return false;
        }
        MemorySegment s = sw;
        long[] f = freeBuf;
        for (int k = 0; k < rsThresh; k++) {
            long at = 8L * (clean + k);
            f[k] = s.get(J, at);
            s.set(J, at, 0L); // a slot outside [clean, tail) holds nothing a later release could free twice
        }
        clean += rsThresh;
        if (clean == size) {
            clean = 0;
        }
        inFlight -= rsThresh;
        // the shared state first: a process dying in between leaves mbufs with a dead owner (reclaimed by an
        // audit), never mbufs the state still counts in flight after they were freed (a double free)
        mem.state.set(I, QueueMemory.S_CLEAN, clean);
        mem.state.set(I, QueueMemory.S_INFLIGHT, inFlight);
        Mempool.freeBulk(f, 0, rsThresh, lcore);
        return true;
    }

    int burst(MbufBatch batch) {
        int n = batch.count();
        if (n == 0) {
            return 0;
        }
        int g = state.get(I, QueueMemory.S_GEN);
        if (g != gen && !resync(g)) {
            return 0; // the port owner is re-initialising the ring: the packets stay in the batch
        }
        // free what the device finished, a group at a time, while the ring is more than half full
        while (size - inFlight <= n + rsThresh && cleanGroup()) {
            // keep cleaning
        }
        final long[] h = batch.handles();
        final MemorySegment d = desc;
        int room = size - 1 - inFlight;
        int sent = 0;
        int t = tail;
        long nbytes = 0;
        IllegalArgumentException bad = null;
        while (sent < n && sent < room) {
            long handle = h[sent];
            long tag = handle >>> 48;
            if (tag != lastTag) {
                poolOf(handle);
            }
            long o = handle & OFFSET_MASK;
            MemorySegment ps = lastSeg;
            int dataOff = Short.toUnsignedInt(ps.get(ValueLayout.JAVA_SHORT, o + Mbuf.OFF_DATA_OFF));
            int len = Short.toUnsignedInt(ps.get(ValueLayout.JAVA_SHORT, o + Mbuf.OFF_DATA_LEN));
            if (dataOff + len > lastBufLen || len == 0 || ps.get(J, o + Mbuf.OFF_NEXT) != 0) {
                bad = badPacket(handle, dataOff, len, ps.get(J, o + Mbuf.OFF_NEXT) != 0);
                break;
            }
            long dOff = (long) t * DESC_SIZE;
            d.set(J, dOff + TXD_ADDR, ps.get(J, o + Mbuf.OFF_BUF_IOVA) + dataOff);
            int rs = (t % rsThresh) == rsThresh - 1 ? TXD_CMD_RS : 0;
            d.set(I, dOff + TXD_CMD_TYPE_LEN, CMD | rs | len);
            d.set(I, dOff + TXD_OLINFO_STATUS, len << TXD_PAYLEN_SHIFT);
            sw.set(J, 8L * t, handle);
            nbytes += len;
            sent++;
            if (++t == size) {
                t = 0;
            }
        }
        if (sent > 0) {
            tail = t;
            inFlight += sent;
            packets += sent;
            bytes += nbytes;
            mem.state.set(I, QueueMemory.S_NEXT, t);
            mem.state.set(I, QueueMemory.S_CLEAN, clean);
            mem.state.set(I, QueueMemory.S_INFLIGHT, inFlight);
            INT.setRelease(tdt, 0L, t); // 7.2.1.2: descriptors are visible before the tail moves
            if (sent < n) {
                System.arraycopy(h, sent, h, 0, n - sent);
            }
            batch.count(n - sent);
        }
        if (bad != null) {
            throw bad;
        }
        return sent;
    }

    private void poolOf(long handle) {
        Mempool p = Mempool.ofHandle(handle);
        lastSeg = p.segment();
        lastTag = handle >>> 48;
        lastBufLen = p.bufLen();
    }

    private IllegalArgumentException badPacket(long handle, int dataOff, int len, boolean chained) {
        errors++;
        return new IllegalArgumentException(String.format("TX queue %d: mbuf 0x%x %s; it and the packets "
                + "after it stay in the batch", queue, handle, chained ? "is chained (multi-segment TX is not supported by this driver)"
                : "has data_off " + dataOff + " + data_len " + len + " outside its " + lastBufLen + "-byte buffer or no data"));
    }

    /** The shared state moved to generation {@code g}: false while the ring is rebuilt, else reload the indices. */
    private boolean resync(int g) {
        if (!generation.seen(g)) {
            return false;
        }
        loadState();
        gen = g;
        return true;
    }

    /** Lets go of the queue (another process may take it over): the port owner need not wait for this one. */
    void releaseDriver() {
        generation.release();
    }

    /**
     * Frees every packet the shared state counts in the ring, whoever drove the queue (the queue must be
     * stopped; its state may come from a process that died).
     */
    void releaseShared() {
        releaseInRing(mem, lcore);
        inFlight = 0;
        clean = tail = 0;
    }

    /**
     * Frees the packets the shared state of {@code m} counts in flight, from {@code lcore}, and empties the ring
     * (indices 0, descriptors cleared). Touches shared memory only; a process driving the queue must be paused
     * ({@link QueueGeneration}) or gone. Returns the mbufs freed.
     */
    static int releaseInRing(QueueMemory m, int lcore) {
        // the owner may have died between its state stores: trust clean and in-flight as far as they are in
        // range; slots outside what was in flight are zero (cleanGroup clears them), so nothing is freed twice
        int size = m.size;
        int c = m.state.get(I, QueueMemory.S_CLEAN);
        int f = m.state.get(I, QueueMemory.S_INFLIGHT);
        c = c >= 0 && c < size ? c : 0;
        f = f >= 0 && f < size ? f : 0;
        long[] tmp = new long[size];
        int n = 0;
        for (int k = 0; k < f; k++) {
            long h = m.swRing.get(J, 8L * c);
            if (h != 0) {
                tmp[n++] = h;
            }
            m.swRing.set(J, 8L * c, 0L);
            if (++c == size) {
                c = 0;
            }
        }
        m.state.set(I, QueueMemory.S_NEXT, 0);
        m.state.set(I, QueueMemory.S_CLEAN, 0);
        m.state.set(I, QueueMemory.S_INFLIGHT, 0);
        m.descriptors.fill((byte) 0);
        Mempool.freeBulk(tmp, 0, n, lcore);
        return n;
    }

    int inFlight() {
        return inFlight;
    }
}
