package io.jnic.driver.intel;

import static io.jnic.driver.intel.AdvDescriptors.*;
import static io.jnic.driver.intel.QueueMemory.HANDLE_OFFSET;
import static io.jnic.driver.intel.QueueMemory.HANDLE_POOL;
import static io.jnic.driver.intel.QueueMemory.U16;
import static io.jnic.driver.intel.QueueMemory.U32;
import static io.jnic.driver.intel.QueueMemory.U64;

import io.jnic.memory.PlainAccess;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufDescriptor;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One receive queue's data path (7.1): reads write-back descriptors whose DD bit is set, hands their mbufs
 * out, and puts fresh mbufs (allocated in bulk) into the same slots; the tail doorbell (RDT) is written once
 * per burst through the mapped queue page. Everything the device wrote is checked before use: a length of 0 or
 * beyond the buffer, a missing EOP (a frame spread over several buffers, which needs RX offload SCATTER: then
 * {@link #burstOffload} takes the queue) or
 * an error bit drops the frame, recycles its buffer in place and is counted in the queue's shared state (the port
 * owner's xstats {@code rx_bad_length_writebacks} / {@code rx_bad_status_writebacks}, whichever process drove the
 * queue). Nothing else the device writes is used: its head pointer is never read, and a descriptor it marks done
 * out of turn only hands out the buffer the ring holds in that slot.
 *
 * <p>Each burst starts with one plain read of the queue's generation ({@link QueueGeneration}); when the port
 * owner re-initialised the ring under this process (a device reset) the burst returns 0 while that goes on and
 * then continues from the indices the owner left in the shared state.
 *
 * <p>Per burst, not per packet: the scan for done descriptors (four status words at a time), the fence that
 * orders the rest of their reads, the pool's allocation (a block of {@link #REFILL} fresh buffers), the RDT
 * write and the shared-state store. Per packet: the write-back's two quadwords, the slot's handle (checked
 * against the pool's extent with one compare), four stores into the mbuf header, and the slot re-armed at once
 * with a fresh buffer from the block in hand. Re-arming in place (where DPDK's vector path leaves the slots empty
 * until 32 have gathered) keeps the ring full of buffers after every burst, which a process taking the queue over
 * and the port owner's reset recovery rely on; it costs the same stores, made while the descriptor's line is
 * in cache.
 */
public final class RxQueue {
    private static final ValueLayout.OfInt I = PlainAccess.INT; // ring and mbufs checked aligned once
    private static final ValueLayout.OfLong J = PlainAccess.LONG;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    /** Fresh buffers are taken from the pool this many at a time (DPDK's rx_free_thresh); a power of two. */
    public static final int REFILL = 32;
    /** Descriptors whose status words are read together (DPDK's vector receive: four per step). */
    private static final int STEP = 4;
    /** The status/error bits a good frame's write-back must show, and their values: DD and EOP set, RXE clear. */
    private static final int WB_CHECKED = RXD_STAT_DD | RXD_STAT_EOP | RXD_ERR_RXE;
    private static final int WB_GOOD = RXD_STAT_DD | RXD_STAT_EOP;
    /** Write-back dword3 bits 15:0: the frame's length (7.1.6.2). */
    private static final int RXD_LENGTH_MASK = 0xFFFF;
    /** The upper half of write-back qword 0: dword1, the RSS hash. */
    private static final long RSS_HASH_HALF = 0xFFFF_FFFF_0000_0000L;

    private final int queue;
    private final QueueMemory mem;
    private final MemorySegment state;
    private final QueueGeneration generation;
    /** The generation this object's indices belong to; -1: not yet synchronised with the shared state. */
    private int gen = -1;
    private final MemorySegment desc;
    private final MemorySegment sw;
    private final MemorySegment rdt;
    private final int size;
    private final Mempool pool;
    private final MemorySegment poolSeg;
    private final long poolTag;
    private final int headroom;
    /** Absolute addresses (for {@link QueueMemory#ALL}) of the state block, descriptors, software ring, pool. */
    private final long stateAddr;
    private final long descAddr;
    private final long swAddr;
    private final long poolBase;
    /** The largest offset an mbuf header can have in the pool: a whole header lies inside the pool's memory. */
    private final long poolSpan;
    private final int bufLen;
    private final int port;
    private final int lcore;
    private final long[] spare = new long[REFILL];
    private int spareCount;
    private int next;
    /** The offloads this queue decodes (the port owner's choice, from the shared state). */
    private final RxOffloads offload;
    /**
     * Whether bursts take {@link #burstOffload}: flags to decode, tags or chains (the queue's offloads), or IEEE 1588
     * stamps to read ({@link #timestamps}, which the port owner's thread flips while the lcore polls: read opaque,
     * so that a burst inlined into a polling loop still sees the change; nothing else is ordered by it).
     */
    private boolean slowPath;
    private static final VarHandle SLOW_PATH;

    static {
        try {
            SLOW_PATH = MethodHandles.lookup().findVarHandle(RxQueue.class, "slowPath", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** Descriptors processed since the last RDT write. */
    private int pendingTail;

    private long packets;
    private long bytes;
    private long errors;
    private long nombuf;

    /** Where this process reads RX time stamps; null where the registers are not reachable (a secondary's queue). */
    private final RxTimestamps stamps;

    /**
     * The port owner's queue on {@code mem}, reserved for it: {@code tail} is the mapped RDT register,
     * {@code offloads} the RxOffload bits it decodes ({@link RxOffloads#bitsOf}), {@code stamps} where IEEE 1588
     * receive stamps are read (null: the device has none).
     */
    public RxQueue(int queue, QueueMemory mem, MemorySegment tail, Mempool pool, int port, int lcore, int offloads,
            RxTimestamps stamps) {
        this(queue, mem, tail, pool, port, lcore, false, offloads, stamps);
    }

    /**
     * Takes over a queue another process set up and started: continues at the next index its state records (the
     * ring is full of buffers and the tail one behind it), with the offloads the state records.
     */
    public static RxQueue attach(int queue, QueueMemory mem, MemorySegment tail, Mempool pool, int port, int lcore) {
        return new RxQueue(queue, mem, tail, pool, port, lcore, true, 0, null);
    }

    private RxQueue(int queue, QueueMemory mem, MemorySegment tail, Mempool pool, int port, int lcore, boolean attach,
            int offloads, RxTimestamps stamps) {
        this.queue = queue;
        this.mem = mem;
        this.state = mem.state;
        this.generation = new QueueGeneration(mem.state, "port " + port + " RX queue " + queue);
        this.desc = mem.descriptors;
        this.sw = mem.swRing;
        this.size = mem.size;
        this.rdt = tail;
        this.stamps = stamps;
        this.pool = pool;
        this.poolSeg = pool.segment();
        this.poolTag = (long) pool.poolId() << MempoolDescriptor.HANDLE_SHIFT;
        this.headroom = pool.headroom();
        this.stateAddr = mem.stateAddr;
        this.descAddr = mem.descAddr;
        this.swAddr = mem.swAddr;
        this.poolBase = poolSeg.address();
        this.poolSpan = poolSeg.byteSize() - MbufDescriptor.HEADER_SIZE;
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
            this.offload = new RxOffloads(mem.offloads(RxOffloads.COUNT, "port " + port + " RX queue " + queue));
        } else {
            mem.state.set(I, QueueMemory.S_POOL, pool.poolId());
            mem.state.set(I, QueueMemory.S_OFFLOADS, offloads);
            this.offload = new RxOffloads(offloads);
        }
        this.slowPath = offload.slowPath();
    }

    /** Fills every descriptor with a fresh mbuf (4.6.7: before RDT is moved); false when the pool runs dry. */
    public boolean fill() {
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
    public int repost() {
        int fresh = 0;
        long[] one = new long[1];
        for (int i = 0; i < size; i++) {
            long h = sw.get(J, 8L * i);
            if ((h & HANDLE_POOL) != poolTag) {
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
                if ((h & HANDLE_POOL) == poolTag) {
                    poolSeg.set(ValueLayout.JAVA_SHORT, (h & HANDLE_OFFSET) + MbufDescriptor.OFF_OWNER, (short) lcore);
                }
            }
        }
        gen = g;
        return true;
    }

    /** Lets go of the queue (another process may take it over): the port owner need not wait for this one. */
    public void releaseDriver() {
        generation.release();
    }

    private void setBuffer(int i, long h) {
        long o = h & HANDLE_OFFSET;
        long iova = poolSeg.get(J, o + MbufDescriptor.OFF_BUF_IOVA) + headroom;
        long d = (long) i * DESC_SIZE;
        desc.set(J, d + RXD_PKT_ADDR, iova);
        desc.set(J, d + RXD_HDR_ADDR, 0L); // also clears DD of the write-back format
        sw.set(J, 8L * i, h);
    }

    /** The tail to write at start: the last descriptor (the ring is full of buffers). */
    public int initialTail() {
        return size - 1;
    }

    /** True when the next descriptor has been written back (a packet is ready). */
    public boolean ready() {
        int st = (int) INT.getAcquire(desc, (long) next * DESC_SIZE + RXD_WB_STATUS);
        return (st & RXD_STAT_DD) != 0;
    }

    /**
     * Receives up to the batch's free room. The ring is walked in stretches that do not wrap (so addresses are
     * linear) and are no longer than the fresh buffers in hand. Each stretch is done in two passes, as DPDK's
     * bulk and vector receive paths do: first the run of done descriptors is found by reading status words four
     * at a time (the DD bits in a row from the first of each four); one fence then orders every other read of
     * those descriptors after their DD; then the run is handled in order in one loop. A descriptor without DD
     * ends the run and the burst there: nothing after it is read again. A bad write-back inside a run is dropped
     * (its buffer recycled in place, counted) and the others go on in order.
     */
    public int burst(MbufBatch batch) {
        final MemorySegment all = QueueMemory.ALL;
        int g = all.get(U32, stateAddr + QueueMemory.S_GEN);
        if (g != gen && !resync(g)) {
            return 0; // the port owner is re-initialising the ring
        }
        if ((boolean) SLOW_PATH.getOpaque(this)) {
            return burstOffload(batch);
        }
        final long[] out = batch.handles();
        final int have = batch.count();
        final int max = out.length - have;
        final long[] fresh = spare;
        final long sw0 = swAddr;
        final long pBase = poolBase - poolTag; // + a handle of the pool = the absolute address of its header
        final long tag = poolTag;
        final long span = poolSpan;
        final int hr = headroom;
        final int room = bufLen;
        final short portId = (short) port;
        int i = next;
        int o = have; // next free slot of out
        int done = 0;
        long nbytes = 0;
        boolean more = true;
        while (more && o - have < max) {
            if (spareCount == 0 && !refillSpare()) {
                break; // keep the packets in the ring until mbufs come back (rx_nombuf counted)
            }
            // one stretch: no wrap, at most one fresh buffer per descriptor, at most the batch's room
            final int lim = Math.min(Math.min(max - (o - have), spareCount), size - i);
            // bounded addresses (PlainAccess.address): no bounds check per descriptor and mbuf access
            final long a = PlainAccess.address(descAddr) + Integer.toUnsignedLong(i) * DESC_SIZE;
            // 1: the run of done descriptors from i, four status words at a time (DD is bit 0 of each); a
            // descriptor without DD ends the run and the burst, nothing after it is used
            int run = 0;
            boolean stopped = false;
            while (run + STEP <= lim) {
                final long q = a + (long) run * DESC_SIZE + RXD_WB_STATUS;
                int dd = (all.get(U32, q) & RXD_STAT_DD)
                        | (all.get(U32, q + DESC_SIZE) & RXD_STAT_DD) << 1
                        | (all.get(U32, q + 2 * DESC_SIZE) & RXD_STAT_DD) << 2
                        | (all.get(U32, q + 3 * DESC_SIZE) & RXD_STAT_DD) << 3;
                int r4 = Integer.numberOfTrailingZeros(~dd); // 0..4: the DD bits in a row from the first
                run += r4;
                if (r4 < STEP) {
                    stopped = true;
                    break;
                }
            }
            if (!stopped) {
                while (run < lim && (all.get(U32, a + (long) run * DESC_SIZE + RXD_WB_STATUS) & RXD_STAT_DD) != 0) {
                    run++;
                }
                stopped = run < lim;
            }
            // the rest of a descriptor is read after its DD was seen (a compiler barrier on x86)
            VarHandle.acquireFence();
            // 2: the run in order
            int f = spareCount;
            for (int r = 0; r < run; r++) {
                final long d = a + (long) r * DESC_SIZE;
                final long slot = PlainAccess.address(sw0) + 8L * Integer.toUnsignedLong(i + r);
                // status/error in the low half, length in bits 47:32; RSS type in info's low bits, hash above
                final long wb = all.get(U64, d + RXD_WB_STATUS);
                final int len = (int) (wb >>> 32) & RXD_LENGTH_MASK;
                final long h = all.get(U64, slot);
                if (((int) wb & WB_CHECKED) != WB_GOOD || Integer.compareUnsigned(len - 1, room) >= 0 // 1..room
                        || Long.compareUnsigned(h - tag, span) > 0) {
                    badWriteBack(i + r, d, h, len);
                    continue; // its buffer stays in the slot, handed back to the device
                }
                final long m = PlainAccess.address(pBase + h);
                final long info = all.get(U64, d + RXD_WB_INFO);
                all.set(U64, m + MbufDescriptor.OFF_OL_FLAGS, ((int) info & RXD_RSSTYPE_MASK) != 0 ? MbufFlags.RX_RSS_HASH : 0L);
                all.set(U64, m + MbufDescriptor.OFF_PACKET_TYPE, (long) len << 32); // packet_type 0, pkt_len
                all.set(U64, m + MbufDescriptor.OFF_DATA_LEN, len | (info & RSS_HASH_HALF)); // data_len, vlan_tci 0, rss_hash
                all.set(U16, m + MbufDescriptor.OFF_PORT, portId);
                out[o++] = h;
                nbytes += len;
                // the slot's fresh buffer (the pool checked it when it handed it out)
                final long fh = fresh[--f & (REFILL - 1)];
                all.set(U64, d + RXD_PKT_ADDR, all.get(U64, PlainAccess.address(pBase + fh) + MbufDescriptor.OFF_BUF_IOVA) + hr);
                all.set(U64, d + RXD_HDR_ADDR, 0L); // also clears DD of the write-back format
                all.set(U64, slot, fh);
            }
            final int k = run;
            more = !stopped;
            spareCount = f;
            done += k;
            i += k;
            if (i == size) {
                i = 0;
            }
        }
        final int got = o - have;
        if (done > 0) {
            advance(batch, o, i, done, got, nbytes);
        }
        return got;
    }

    /**
     * The burst with offloads (chosen once per queue, so the plain path above stays as it is): a frame at a time,
     * each from the first descriptor to the one with EOP, all of which must show DD (else the frame stays for the
     * next burst: no half-received chain is ever kept); with SCATTER a frame may take up to {@link #REFILL}
     * descriptors and leaves as a chain (nb_segs, pkt_len on the head, data_len per segment). The status of the
     * last descriptor gives the flags (7.1.6.2): checksums, the stripped tag, the RSS hash. A frame with RXE, a
     * bad length or a descriptor missing EOP within the limit is dropped, its buffers recycled in place.
     */
    private int burstOffload(MbufBatch batch) {
        final MemorySegment all = QueueMemory.ALL;
        final long[] out = batch.handles();
        final int have = batch.count();
        final long pBase = poolBase - poolTag;
        final int maxSegs = offload.scatter ? Math.min(REFILL, size - 1) : 1;
        int i = next;
        int o = have;
        int done = 0;
        long nbytes = 0;
        while (o < out.length) {
            // 1: the frame's descriptors, all done, the last with EOP
            int n = 0;
            int j = i;
            int st = 0;
            boolean complete = false;
            while (n < maxSegs) {
                st = all.get(U32, descAddr + (long) j * DESC_SIZE + RXD_WB_STATUS);
                if ((st & RXD_STAT_DD) == 0) {
                    break;
                }
                n++;
                if ((st & RXD_STAT_EOP) != 0) {
                    complete = true;
                    break;
                }
                j = j + 1 == size ? 0 : j + 1;
            }
            if (!complete && n < maxSegs) {
                break; // the frame is not all written yet (or nothing is there)
            }
            VarHandle.acquireFence();
            if (spareCount < n && !topUpSpare()) {
                break;
            }
            // 2: check every descriptor before anything is handed out
            boolean good = complete && (st & RXD_ERR_RXE) == 0;
            int pktLen = 0;
            for (int k = 0, x = i; k < n && good; k++, x = x + 1 == size ? 0 : x + 1) {
                long d = descAddr + (long) x * DESC_SIZE;
                int len = all.get(U32, d + RXD_WB_LENGTH) & RXD_LENGTH_MASK;
                long h = all.get(U64, swAddr + 8L * x);
                good = len >= 1 && len <= bufLen && Long.compareUnsigned(h - poolTag, poolSpan) <= 0;
                pktLen += len;
            }
            if (!good) {
                for (int k = 0, x = i; k < n; k++, x = x + 1 == size ? 0 : x + 1) {
                    long d = descAddr + (long) x * DESC_SIZE;
                    badWriteBack(x, d, all.get(U64, swAddr + 8L * x), all.get(U32, d + RXD_WB_LENGTH) & RXD_LENGTH_MASK);
                }
            } else {
                // 3: the chain, then each slot re-armed with a fresh buffer
                long last = descAddr + (long) (i + n - 1 < size ? i + n - 1 : i + n - 1 - size) * DESC_SIZE;
                long info = all.get(U64, last + RXD_WB_INFO);
                int vlan = all.get(U32, last + RXD_WB_LENGTH) >>> RXD_VLAN_SHIFT;
                long flags = offload.flags(st, (int) info);
                long prev = 0;
                long head = 0;
                for (int k = 0, x = i; k < n; k++, x = x + 1 == size ? 0 : x + 1) {
                    long d = descAddr + (long) x * DESC_SIZE;
                    long slot = swAddr + 8L * x;
                    long h = all.get(U64, slot);
                    long m = pBase + h;
                    int len = all.get(U32, d + RXD_WB_LENGTH) & RXD_LENGTH_MASK;
                    if (k == 0) {
                        head = h;
                        all.set(U64, m + MbufDescriptor.OFF_OL_FLAGS, flags);
                        all.set(U64, m + MbufDescriptor.OFF_PACKET_TYPE, (long) pktLen << 32);
                        long tci = (flags & MbufFlags.RX_VLAN) != 0 ? vlan & 0xFFFF : 0;
                        all.set(U64, m + MbufDescriptor.OFF_DATA_LEN, len | tci << 16
                                | ((flags & MbufFlags.RX_RSS_HASH) != 0 ? info & RSS_HASH_HALF : 0));
                        all.set(U16, m + MbufDescriptor.OFF_NB_SEGS, (short) n);
                    } else {
                        all.set(U64, m + MbufDescriptor.OFF_DATA_LEN, len);
                        all.set(U64, pBase + prev + MbufDescriptor.OFF_NEXT, h);
                    }
                    all.set(U16, m + MbufDescriptor.OFF_PORT, (short) port);
                    prev = h;
                    long fh = spare[--spareCount];
                    all.set(U64, d + RXD_PKT_ADDR, all.get(U64, pBase + fh + MbufDescriptor.OFF_BUF_IOVA) + headroom);
                    all.set(U64, d + RXD_HDR_ADDR, 0L);
                    all.set(U64, slot, fh);
                }
                if (((st & RXD_STAT_TS) | ((int) info & RXD_PKTTYPE_ETQF)) != 0) {
                    ieee1588(pBase + head, st, (int) info);
                }
                out[o++] = head;
                nbytes += pktLen;
            }
            done += n;
            i = i + n >= size ? i + n - size : i + n;
        }
        final int got = o - have;
        if (done > 0) {
            advance(batch, o, i, done, got, nbytes);
        }
        return got;
    }

    /**
     * IEEE 1588 on or off for this queue (7.9.2.1): on, bursts take {@link #burstOffload}, which marks PTP frames
     * and reads their stamps, so that the plain path pays nothing for a feature it does not use. A queue whose
     * process cannot reach RXSTMPL/H (a secondary's) stays as it is.
     */
    public void timestamps(boolean on) {
        SLOW_PATH.setOpaque(this, offload.slowPath() || on && stamps != null);
    }

    /**
     * The end of a burst that took {@code done} descriptors, up to index {@code i}, and handed out {@code got}
     * packets of {@code nbytes}, the batch now holding {@code o}: indices, counters and the shared state; RDT when
     * a refill's worth was handed back or the burst came up short of the batch (the ring may be idle for a while).
     */
    private void advance(MbufBatch batch, int o, int i, int done, int got, long nbytes) {
        next = i;
        pendingTail += done;
        packets += got;
        bytes += nbytes;
        batch.count(o);
        QueueMemory.ALL.set(U32, stateAddr + QueueMemory.S_NEXT, i);
        if (pendingTail >= REFILL || o < batch.handles().length) {
            // the tail is the last descriptor handed back: one behind the next to read (7.1.9)
            INT.setRelease(rdt, 0L, i == 0 ? size - 1 : i - 1);
            pendingTail = 0;
        }
    }

    /** Tops the fresh buffers in hand up to {@link #REFILL} (a chain may need more than are left). */
    private boolean topUpSpare() {
        int want = REFILL - spareCount;
        if (pool.allocBulk(spare, spareCount, want, lcore)) {
            spareCount = REFILL;
            return true;
        }
        nombuf++;
        return false;
    }

    /**
     * A write-back that is not a whole good frame (no EOP, RXE, length 0 or beyond the buffer): counted, and the
     * slot's buffer goes back to the device as it is. A software ring slot that holds no mbuf of the pool means
     * the queue memory was overwritten: refused.
     */
    private void badWriteBack(int i, long d, long h, int len) {
        if ((h & HANDLE_POOL) != poolTag || Long.compareUnsigned(h - poolTag, poolSpan) > 0) {
            throw new IllegalStateException("RX queue " + queue + ": software ring slot " + i + " holds 0x"
                    + Long.toHexString(h) + ", not an mbuf of pool " + pool.name() + " (corrupted queue memory)");
        }
        errors++;
        long at = stateAddr + (len == 0 || len > bufLen ? QueueMemory.S_BAD_LENGTH : QueueMemory.S_BAD_STATUS);
        QueueMemory.ALL.set(U64, at, QueueMemory.ALL.get(U64, at) + 1);
        QueueMemory.ALL.set(U64, d + RXD_PKT_ADDR, QueueMemory.ALL.get(U64, poolBase + (h & HANDLE_OFFSET) + MbufDescriptor.OFF_BUF_IOVA) + headroom);
        QueueMemory.ALL.set(U64, d + RXD_HDR_ADDR, 0L);
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
    public void releaseSpare() {
        Mempool.freeBulk(spare, 0, spareCount, lcore);
        spareCount = 0;
    }

    /** Returns every mbuf the queue holds to its pool (the device must be stopped). */
    public void release() {
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

    /**
     * 7.9.2.1: a frame the 1588 EtherType filter matched (pkt_info ETQF with the filter's index) is a PTP frame;
     * STATUS.TS says the device latched its arrival time, which {@link RxTimestamps#take} reads and frees.
     */
    private void ieee1588(long m, int status, int info) {
        if (stamps == null) {
            return;
        }
        final MemorySegment all = QueueMemory.ALL;
        long flags = all.get(U64, m + MbufDescriptor.OFF_OL_FLAGS);
        if ((info & RXD_PKTTYPE_ETQF) != 0 && ((info >>> RXD_PKTTYPE_ETQF_SHIFT) & 0x7) == stamps.ptpFilter()) {
            flags |= MbufFlags.RX_IEEE1588_PTP;
        }
        // the latch may have been freed since the frame was stamped (unclaimed for a watchdog period): then no stamp
        long t = (status & RXD_STAT_TS) != 0 ? stamps.take() : -1;
        if (t >= 0) {
            all.set(U64, m + MbufDescriptor.OFF_TIMESTAMP, t);
            flags |= MbufFlags.RX_IEEE1588_TMST;
        }
        all.set(U64, m + MbufDescriptor.OFF_OL_FLAGS, flags);
    }

    public int queue() {
        return queue;
    }

    public QueueMemory memory() {
        return mem;
    }

    public Mempool pool() {
        return pool;
    }

    /** The offloads this queue decodes. */
    public RxOffloads offloads() {
        return offload;
    }

    public long packets() {
        return packets;
    }

    public long bytes() {
        return bytes;
    }

    /** Frames dropped for a bad write-back. */
    public long errors() {
        return errors;
    }

    /** Refills that found the pool empty. */
    public long nombuf() {
        return nombuf;
    }
}
