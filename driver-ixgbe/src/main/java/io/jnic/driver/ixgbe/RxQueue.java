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
 * One receive queue's data path (7.1): reads write-back descriptors whose DD bit is set, hands their mbufs
 * out, and puts fresh mbufs (allocated in bulk) into the same slots; the tail doorbell (RDT) is written once
 * per burst through the mapped queue page. Everything the device wrote is checked before use: a length of 0 or
 * beyond the buffer, a missing EOP (a frame spread over several buffers, which this driver never configures) or
 * an error bit drops the frame, recycles its buffer in place and is counted in the queue's shared state (the port
 * owner's xstats {@code rx_bad_length_writebacks} / {@code rx_bad_status_writebacks}, whichever process drove the
 * queue). Nothing else the device writes is used: its head pointer is never read, and a descriptor it marks done
 * out of turn only hands out the buffer the ring holds in that slot.
 *
 * <p>Each burst starts with one plain read of the queue's generation ({@link QueueGeneration}); when the port
 * owner re-initialised the ring under this process (a device reset) the burst returns 0 while that goes on and
 * then continues from the indices the owner left in the shared state.
 */
final class RxQueue {
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    static final int REFILL = 32;

    final int queue;
    final QueueMemory mem;
    private final MemorySegment state;
    private final QueueGeneration generation;
    /** The generation this object's indices belong to; -1: not yet synchronised with the shared state. */
    private int gen = -1;
    private final MemorySegment desc;
    private final MemorySegment sw;
    private final MemorySegment rdt;
    private final int size;
    final Mempool pool;
    private final MemorySegment poolSeg;
    private final long poolTag;
    private final int headroom;
    private final int bufLen;
    private final int port;
    private final int lcore;
    private final long[] spare = new long[REFILL];
    private int spareCount;
    private int next;
    /** Descriptors processed since the last RDT write. */
    private int pendingTail;

    long packets;
    long bytes;
    long errors;
    long nombuf;

    RxQueue(int queue, QueueMemory mem, PciBar bar, Mempool pool, int port, int lcore) {
        this(queue, mem, bar, pool, port, lcore, false);
    }

    /**
     * {@code attach}: take over a queue another process set up and started; continue at the next index its
     * state records (the ring is full of buffers and the tail one behind it).
     */
    RxQueue(int queue, QueueMemory mem, PciBar bar, Mempool pool, int port, int lcore, boolean attach) {
        this.queue = queue;
        this.mem = mem;
        this.state = mem.state;
        this.generation = new QueueGeneration(mem.state, "port " + port + " RX queue " + queue);
        this.desc = mem.descriptors;
        this.sw = mem.swRing;
        this.size = mem.size;
        this.rdt = bar.mapped(rxq(queue) + RDT, 4);
        this.pool = pool;
        this.poolSeg = pool.segment();
        this.poolTag = (long) pool.poolId() << 48;
        this.headroom = pool.headroom();
        this.bufLen = pool.dataRoom();
        this.port = port;
        this.lcore = lcore;
        if (attach) {
            int n = mem.state.get(I, QueueMemory.S_NEXT);
            if (n < 0 || n >= size) {
                throw new IllegalStateException("RX queue " + queue + ": next index " + n + " outside the ring of " + size
                        + " (corrupted queue state)");
            }
            this.next = n; // the first burst synchronises again (and marks the ring's buffers as this process's)
        } else {
            mem.state.set(I, QueueMemory.S_POOL, pool.poolId());
        }
    }

    /** Fills every descriptor with a fresh mbuf (4.6.7: before RDT is moved); false when the pool runs dry. */
    boolean fill() {
        long[] tmp = new long[size];
        if (!pool.allocBulk(tmp, 0, size, lcore)) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            setBuffer(i, tmp[i]);
        }
        next = 0;
        pendingTail = 0;
        mem.state.set(I, QueueMemory.S_NEXT, 0);
        return true;
    }

    /**
     * Port owner, after a device reset, with the queue paused ({@link QueueGeneration#pause}): hands every
     * buffer of the ring to the device again (its descriptors rewritten, DD clear; what the device had written
     * back and nobody read is lost with the reset, as on the wire) and restarts the ring at index 0. A slot that
     * holds no buffer of the pool gets a fresh one. Touches shared memory only, never this object's own indices:
     * its driver resynchronises on its next burst. Returns the fresh buffers taken.
     */
    int repost() {
        int fresh = 0;
        long[] one = new long[1];
        for (int i = 0; i < size; i++) {
            long h = sw.get(J, 8L * i);
            if ((h & ~0xFFFF_FFFF_FFFFL) != poolTag) {
                if (!pool.allocBulk(one, 0, 1, Mempool.LCORE_ANY)) {
                    throw new IllegalStateException("RX queue " + queue + ": mempool '" + pool.name() + "' is empty; "
                            + "cannot refill slot " + i + " of the ring after the device reset");
                }
                h = one[0];
                fresh++;
            }
            setBuffer(i, h);
        }
        state.set(I, QueueMemory.S_NEXT, 0);
        return fresh;
    }

    /** The shared state moved to generation {@code g}: false while the ring is rebuilt, else reload the indices. */
    private boolean resync(int g) {
        if (!generation.seen(g)) {
            return false;
        }
        int n = state.get(I, QueueMemory.S_NEXT);
        if (n < 0 || n >= size) {
            throw new IllegalStateException("RX queue " + queue + ": next index " + n + " outside the ring of " + size
                    + " (corrupted queue state)");
        }
        next = n;
        pendingTail = 0;
        if (lcore >= 0) {
            // the ring's buffers are this process's now: if it dies holding some, an audit finds them by owner
            for (int i = 0; i < size; i++) {
                long h = sw.get(J, 8L * i);
                if ((h & ~0xFFFF_FFFF_FFFFL) == poolTag) {
                    poolSeg.set(ValueLayout.JAVA_SHORT, (h & 0xFFFF_FFFF_FFFFL) + Mbuf.OFF_OWNER, (short) lcore);
                }
            }
        }
        gen = g;
        return true;
    }

    /** Lets go of the queue (another process may take it over): the port owner need not wait for this one. */
    void releaseDriver() {
        generation.release();
    }

    private void setBuffer(int i, long h) {
        long o = h & 0xFFFF_FFFF_FFFFL;
        long iova = poolSeg.get(J, o + Mbuf.OFF_BUF_IOVA) + headroom;
        long d = (long) i * DESC_SIZE;
        desc.set(J, d + RXD_PKT_ADDR, iova);
        desc.set(J, d + RXD_HDR_ADDR, 0L); // also clears DD of the write-back format
        sw.set(J, 8L * i, h);
    }

    /** The tail to write at start: the last descriptor (the ring is full of buffers). */
    int initialTail() {
        return size - 1;
    }

    /** True when the next descriptor has been written back (a packet is ready). */
    boolean ready() {
        int st = (int) INT.getAcquire(desc, (long) next * DESC_SIZE + RXD_WB_STATUS);
        return (st & RXD_STAT_DD) != 0;
    }

    int burst(MbufBatch batch) {
        int g = state.get(I, QueueMemory.S_GEN);
        if (g != gen && !resync(g)) {
            return 0; // the port owner is re-initialising the ring
        }
        final long[] out = batch.handles();
        int have = batch.count();
        final int max = batch.capacity() - have;
        final MemorySegment d = desc;
        final MemorySegment ps = poolSeg;
        int i = next;
        int got = 0;
        int done = 0;
        long nbytes = 0;
        while (got < max) {
            long dOff = (long) i * DESC_SIZE;
            int status = (int) INT.getAcquire(d, dOff + RXD_WB_STATUS);
            if ((status & RXD_STAT_DD) == 0) {
                break;
            }
            if (spareCount == 0 && !refillSpare()) {
                break; // keep the packet in the ring until mbufs come back (rx_nombuf counted)
            }
            long h = sw.get(J, 8L * i);
            int len = d.get(I, dOff + RXD_WB_LENGTH) & 0xFFFF;
            long fresh = spare[--spareCount];
            if ((status & (RXD_STAT_EOP | RXD_ERR_RXE)) != RXD_STAT_EOP || len == 0 || len > bufLen
                    || (h & ~0xFFFF_FFFF_FFFFL) != poolTag) {
                // bad write-back: recycle the buffer in place
                spare[spareCount++] = fresh;
                fresh = h;
                errors++;
                long at = len == 0 || len > bufLen ? QueueMemory.S_BAD_LENGTH : QueueMemory.S_BAD_STATUS;
                state.set(J, at, state.get(J, at) + 1);
                if ((h & ~0xFFFF_FFFF_FFFFL) != poolTag) {
                    throw new IllegalStateException("RX queue " + queue + ": software ring slot " + i + " holds 0x"
                            + Long.toHexString(h) + ", not an mbuf of pool " + pool.name() + " (corrupted queue memory)");
                }
            } else {
                long o = h & 0xFFFF_FFFF_FFFFL;
                int rss = d.get(I, dOff + RXD_WB_RSS);
                ps.set(I, o + Mbuf.OFF_PKT_LEN, len);
                ps.set(ValueLayout.JAVA_SHORT, o + Mbuf.OFF_DATA_LEN, (short) len);
                ps.set(I, o + Mbuf.OFF_RSS_HASH, rss);
                ps.set(ValueLayout.JAVA_SHORT, o + Mbuf.OFF_PORT, (short) port);
                if ((d.get(I, dOff + RXD_WB_INFO) & RXD_RSSTYPE_MASK) != 0) {
                    ps.set(J, o + Mbuf.OFF_OL_FLAGS, Mbufs.RX_RSS_HASH);
                }
                out[have + got++] = h;
                nbytes += len;
            }
            long fo = fresh & 0xFFFF_FFFF_FFFFL;
            d.set(J, dOff + RXD_PKT_ADDR, ps.get(J, fo + Mbuf.OFF_BUF_IOVA) + headroom);
            d.set(J, dOff + RXD_HDR_ADDR, 0L);
            sw.set(J, 8L * i, fresh);
            done++;
            if (++i == size) {
                i = 0;
            }
        }
        if (done > 0) {
            next = i;
            pendingTail += done;
            packets += got;
            bytes += nbytes;
            batch.count(have + got);
            mem.state.set(I, QueueMemory.S_NEXT, i);
            if (pendingTail >= REFILL || got < max) {
                // the tail is the last descriptor handed back: one behind the next to read (7.1.9)
                INT.setRelease(rdt, 0L, i == 0 ? size - 1 : i - 1);
                pendingTail = 0;
            }
        }
        return got;
    }

    private boolean refillSpare() {
        if (pool.allocBulk(spare, 0, REFILL, lcore)) {
            spareCount = REFILL;
            return true;
        }
        nombuf++;
        return false;
    }

    /** Returns the mbufs allocated ahead for refills (when another process takes the queue over). */
    void releaseSpare() {
        Mempool.freeBulk(spare, 0, spareCount, lcore);
        spareCount = 0;
    }

    /** Returns every mbuf the queue holds to its pool (the device must be stopped). */
    void release() {
        long[] tmp = new long[size + spareCount];
        int n = 0;
        for (int i = 0; i < size; i++) {
            long h = sw.get(J, 8L * i);
            if (h != 0) {
                tmp[n++] = h;
                sw.set(J, 8L * i, 0L);
            }
        }
        for (int k = 0; k < spareCount; k++) {
            tmp[n++] = spare[k];
        }
        spareCount = 0;
        Mempool.freeBulk(tmp, 0, n, lcore);
    }
}
