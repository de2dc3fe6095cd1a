package io.jnic.driver.intel;

import static io.jnic.driver.intel.AdvDescriptors.*;
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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One transmit queue's data path (7.2): one advanced data descriptor per single-segment packet without
 * offloads (packets with TX offload flags or several segments go through {@code sendComplex}: a context
 * descriptor when it changed, a data descriptor per segment), RS (report
 * status) on every {@code rsThresh}-th descriptor, and cleanup in whole groups of {@code rsThresh}: when the
 * device has written DD back on a group's RS descriptor, every mbuf of the group is freed in one bulk call.
 * The tail doorbell (TDT) is one store into the mapped queue page per burst. Of what the device writes, only
 * the DD bit of RS descriptors is read; its head pointer (TDH) never is. Per packet: the handle checked against
 * the cached pool's extent (one compare), three header loads, two descriptor stores and the software ring slot;
 * the RS test is a mask ({@code rsThresh} is a power of two).
 *
 * <p>Each burst starts with one plain read of the queue's generation ({@link QueueGeneration}): while the port
 * owner re-initialises the ring (a device reset) bursts send nothing, then the queue continues from the indices
 * the owner left in the shared state (an empty ring).
 */
public final class TxQueue {
    private static final ValueLayout.OfInt I = PlainAccess.INT; // ring and mbufs checked aligned once
    private static final ValueLayout.OfLong J = PlainAccess.LONG;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final int CMD = TXD_DTYP_DATA | TXD_CMD_DEXT | TXD_CMD_IFCS | TXD_CMD_EOP;

    private final int queue;
    private final QueueMemory mem;
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
    /** Absolute addresses (for {@link QueueMemory#ALL}) of the state block, descriptors and software ring. */
    private final long stateAddr;
    private final long descAddr;
    private final long swAddr;
    /** Next descriptor to fill (the tail). */
    private int tail;
    /** First descriptor not yet cleaned (a multiple of rsThresh). */
    private int clean;
    /** Descriptors filled and not yet cleaned. */
    private int inFlight;
    /**
     * The last pool seen (packets of one burst nearly always share it): its handles' pool-id bits, the largest
     * offset a header can have in it, its absolute address less the pool-id bits (+ a handle = the header's
     * address), its buffers' size. Until a pool is seen, the tag is one no handle has (pool ids are 16 bits
     * below the sign) with a span of 0, so the check sends every handle to {@link #poolOf}.
     */
    private long lastTag = Long.MIN_VALUE;
    private long lastSpan;
    private long lastBase;
    private int lastBufLen;
    /** The ol_flags that take a packet off the plain path: offloads, and a TX time stamp request (7.9.2.2). */
    private static final long COMPLEX = TxContext.HANDLED | MbufFlags.TX_IEEE1588_TMST;

    /** Offloads and multi-segment packets: the context last written, the checks (off the plain path). */
    private final TxContext context;

    private long packets;
    private long bytes;
    private long errors;

    /**
     * The port owner's queue on {@code mem}, reserved for it: {@code tail} is the mapped TDT register,
     * {@code offloads} the TxOffload bits it may use ({@link TxContext#bitsOf}).
     */
    public TxQueue(int queue, QueueMemory mem, MemorySegment tail, int lcore, int offloads) {
        this(queue, mem, tail, lcore, false, offloads);
    }

    /**
     * Takes over a queue another process set up: tail, clean index and in-flight from its state, and the offloads
     * its owner enabled.
     */
    public static TxQueue attach(int queue, QueueMemory mem, MemorySegment tail, int lcore) {
        return new TxQueue(queue, mem, tail, lcore, true, 0);
    }

    private TxQueue(int queue, QueueMemory mem, MemorySegment tail, int lcore, boolean attach, int offloads) {
        this.queue = queue;
        this.mem = mem;
        this.state = mem.state;
        this.generation = new QueueGeneration(mem.state, "TX queue " + queue + " (" + mem.zone.name() + ")");
        this.desc = mem.descriptors;
        this.sw = mem.swRing;
        this.size = mem.size;
        this.tdt = tail;
        this.lcore = lcore;
        // a power of two dividing the ring (sizes are multiples of 8): the RS test is a mask
        this.rsThresh = size % 32 == 0 ? 32 : size % 16 == 0 ? 16 : 8;
        this.stateAddr = mem.stateAddr;
        this.descAddr = mem.descAddr;
        this.swAddr = mem.swAddr;
        this.freeBuf = new long[rsThresh];
        if (attach) {
            loadState();
            this.context = new TxContext(mem.offloads(TxContext.COUNT, "TX queue " + queue + " (" + mem.zone.name() + ")"));
        } else {
            mem.state.set(I, QueueMemory.S_OFFLOADS, offloads);
            this.context = new TxContext(offloads);
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

    public int rsThresh() {
        return rsThresh;
    }

    /**
     * Frees one group of sent packets if the device is done with it; returns whether it did. One DD read per
     * group of {@code rsThresh} (the RS descriptor's), one bulk free.
     */
    private boolean cleanGroup() {
        if (inFlight < rsThresh) {
            return false;
        }
        final MemorySegment all = QueueMemory.ALL;
        int last = clean + rsThresh - 1;
        // a slot inside a multi-descriptor packet holds ~(its last descriptor), which carries the RS instead
        long v = all.get(U64, swAddr + 8L * last);
        if (v < 0) {
            if (~v >= size) {
                throw new IllegalStateException("TX queue " + queue + ": software ring slot " + last + " names descriptor "
                        + ~v + " outside the ring of " + size + " (corrupted queue memory)");
            }
            last = (int) ~v;
        }
        long rs = descAddr + (long) last * DESC_SIZE;
        if ((all.get(U32, rs + TXD_OLINFO_STATUS) & TXD_STAT_DD) == 0) {
            return false;
        }
        VarHandle.acquireFence(); // the slots are read after DD was seen
        long s = PlainAccess.address(swAddr) + 8L * Integer.toUnsignedLong(clean);
        long[] f = freeBuf;
        long any = 0;
        for (int k = 0; k < f.length; k++) {
            long h = all.get(U64, s + 8L * k);
            all.set(U64, s + 8L * k, 0L); // a slot outside [clean, tail) holds nothing a later release could free twice
            f[k] = h;
            any |= h;
        }
        // a context descriptor's slot and a chain's non-last segments hold ~index (< 0): only then is there a gap
        int w = any < 0 ? dropMarks(f) : f.length;
        clean += rsThresh;
        if (clean == size) {
            clean = 0;
        }
        inFlight -= rsThresh;
        // the shared state first: a process dying in between leaves mbufs with a dead owner (reclaimed by an
        // audit), never mbufs the state still counts in flight after they were freed (a double free)
        all.set(U32, stateAddr + QueueMemory.S_CLEAN, clean);
        all.set(U32, stateAddr + QueueMemory.S_INFLIGHT, inFlight);
        Mempool.freeBulk(f, 0, w, lcore);
        return true;
    }

    /** Moves the handles of {@code f} that are not ~index marks to its front; returns how many there are. */
    private static int dropMarks(long[] f) {
        int w = 0;
        for (long h : f) {
            if (h >= 0) {
                f[w++] = h;
            }
        }
        return w;
    }

    /**
     * Sends the batch's packets from its front, as many as the ring has room for; the rest stay in the batch.
     * The ring is filled in stretches that do not wrap; each packet is one descriptor (address, then
     * cmd_type_len and olinfo_status as one 64-bit store), RS on the last of each group of {@code rsThresh}.
     */
    public int burst(MbufBatch batch) {
        int n = batch.count();
        if (n == 0) {
            return 0;
        }
        final MemorySegment all = QueueMemory.ALL;
        int g = all.get(U32, stateAddr + QueueMemory.S_GEN);
        if (g != gen && !resync(g)) {
            return 0; // the port owner is re-initialising the ring: the packets stay in the batch
        }
        // free what the device finished, a group at a time, while the ring is more than half full
        while (size - inFlight <= n + rsThresh && cleanGroup()) {
            // keep cleaning
        }
        final long[] h = batch.handles();
        final int want = Math.min(n, h.length);
        final int room = size - 1 - inFlight; // descriptors free
        final int rsMask = rsThresh - 1;
        int sent = 0;
        int used = 0;
        int t = tail;
        long nbytes = 0;
        IllegalArgumentException bad = null;
        send:
        while (sent < want && used < room) {
            final int lim = Math.min(Math.min(want - sent, room - used), size - t); // a stretch that does not wrap
            // bounded addresses (PlainAccess.address): no bounds check per descriptor and mbuf access
            final long d0 = PlainAccess.address(descAddr) + Integer.toUnsignedLong(t) * DESC_SIZE;
            final long s0 = PlainAccess.address(swAddr) + 8L * Integer.toUnsignedLong(t);
            for (int k = 0; k < lim; k++) {
                final long handle = h[sent + k];
                if (Long.compareUnsigned(handle - lastTag, lastSpan) > 0 && !poolOf(handle)) {
                    bad = badPacket(handle, 0, 0, null);
                    sent += k;
                    used += k;
                    t += k;
                    break send;
                }
                final long m = PlainAccess.address(lastBase + handle); // lastBase is the pool's address less its tag
                final int dataOff = all.get(U16, m + MbufDescriptor.OFF_DATA_OFF) & 0xFFFF;
                final int len = all.get(U16, m + MbufDescriptor.OFF_DATA_LEN) & 0xFFFF;
                final long nextSeg = all.get(U64, m + MbufDescriptor.OFF_NEXT);
                // one load on the line read anyway: offloads and chains leave the plain path
                final long ol = all.get(U64, m + MbufDescriptor.OFF_OL_FLAGS);
                if ((nextSeg | ol & COMPLEX) != 0) {
                    sent += k;
                    used += k;
                    t += k; // < size: k < lim
                    int took = sendComplex(h[sent], t, room - used);
                    if (took < 0) {
                        bad = complexError;
                        complexError = null;
                        break send;
                    }
                    if (took == 0) {
                        break send; // it waits whole for room
                    }
                    nbytes += complexBytes;
                    sent++;
                    used += took;
                    t += took;
                    if (t >= size) {
                        t -= size;
                    }
                    continue send;
                }
                if (dataOff + len > lastBufLen || len == 0) {
                    bad = badPacket(handle, dataOff, len, null);
                    sent += k;
                    used += k;
                    t += k;
                    break send;
                }
                final long d = d0 + (long) k * DESC_SIZE;
                all.set(U64, d + TXD_ADDR, all.get(U64, m + MbufDescriptor.OFF_BUF_IOVA) + dataOff);
                final int rs = ((t + k) & rsMask) == rsMask ? TXD_CMD_RS : 0;
                // cmd_type_len at 8, olinfo_status (PAYLEN) at 12
                all.set(U64, d + TXD_CMD_TYPE_LEN, (long) (len << TXD_PAYLEN_SHIFT) << 32 | (CMD | rs | len));
                all.set(U64, s0 + 8L * k, handle);
                nbytes += len;
            }
            sent += lim;
            used += lim;
            t += lim;
            if (t == size) {
                t = 0;
            }
        }
        if (t == size) {
            t = 0;
        }
        if (sent > 0) {
            tail = t;
            inFlight += used;
            packets += sent;
            bytes += nbytes;
            all.set(U32, stateAddr + QueueMemory.S_NEXT, t);
            all.set(U32, stateAddr + QueueMemory.S_CLEAN, clean);
            all.set(U32, stateAddr + QueueMemory.S_INFLIGHT, inFlight);
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

    /** Why {@link #sendComplex} refused a packet; its byte count when it took one. */
    private IllegalArgumentException complexError;
    private long complexBytes;

    /**
     * Puts one packet with offloads or several segments at descriptor {@code t}: a context descriptor when the
     * packet's differs from the last one written (7.2.3.2.3), then a data descriptor per segment (EOP on the last;
     * 7.2.3.2.4). Every segment is checked first; the head's handle goes in the software ring slot of the last
     * descriptor (freeing the head frees the chain, after the device read all of it), the other slots hold 0.
     * Returns the descriptors used, 0 when fewer than needed are {@code free} (nothing written: the packet waits
     * whole), -1 when it cannot be sent ({@link #complexError} says why).
     */
    private int sendComplex(long head, int t, int free) {
        final MemorySegment all = QueueMemory.ALL;
        final long hm = lastBase + head;
        final long olFlags = all.get(U64, hm + MbufDescriptor.OFF_OL_FLAGS);
        final long flags = olFlags & TxContext.HANDLED;
        final int nbSegs = all.get(U16, hm + MbufDescriptor.OFF_NB_SEGS) & 0xFFFF;
        final boolean chained = all.get(U64, hm + MbufDescriptor.OFF_NEXT) != 0;
        if (chained && !context.has(io.jnic.ethdev.TxOffload.MULTI_SEGS)) {
            return refuse(head, "is chained (" + nbSegs + " segments) and this queue was not set up with TX offload "
                    + "MULTI_SEGS (PortConfig.withTxOffloads)");
        }
        // walk and check the chain: every segment in its pool's memory, with data inside its buffer
        int segs = 0;
        long pktLen = 0;
        long sh = head;
        int firstLen = 0;
        while (sh != 0) {
            if (++segs > TxContext.MAX_SEGS) {
                return refuse(head, "has more than " + TxContext.MAX_SEGS + " segments (the 82599 takes at most "
                        + TxContext.MAX_SEGS + " data descriptors per packet); linearise it");
            }
            if (Long.compareUnsigned(sh - lastTag, lastSpan) > 0 && !poolOf(sh)) {
                return refuse(head, String.format("has segment %d, 0x%x, that is no mbuf of an attached pool", segs, sh));
            }
            long m = lastBase + sh;
            int off = all.get(U16, m + MbufDescriptor.OFF_DATA_OFF) & 0xFFFF;
            int len = all.get(U16, m + MbufDescriptor.OFF_DATA_LEN) & 0xFFFF;
            if (off + len > lastBufLen || len == 0) {
                return refuse(head, "has segment " + segs + " with data_off " + off + " + data_len " + len + " outside its "
                        + lastBufLen + "-byte buffer or no data");
            }
            if (segs == 1) {
                firstLen = len;
            }
            pktLen += len;
            sh = all.get(U64, m + MbufDescriptor.OFF_NEXT);
        }
        // descriptors are freed in groups of rsThresh: up to rsThresh - 1 may stay in flight with nothing after
        // them, so a packet needing more than size - rsThresh might wait for room forever
        if (segs + 1 > size - rsThresh) {
            return refuse(head, "has " + segs + " segments, more than a ring of " + size + " can ever take at once (at "
                    + "most " + (size - rsThresh - 1) + "); use a larger ring or fewer segments");
        }
        boolean ctx = false;
        if (flags != 0) {
            long hm2 = lastBase + head; // poolOf may have moved the cache: the head's pool again
            if (Long.compareUnsigned(head - lastTag, lastSpan) > 0) {
                poolOf(head);
                hm2 = lastBase + head;
            }
            long data = dataAddress(hm2);
            String why = context.prepare(all, data, firstLen, (int) pktLen, flags, all.get(U64, hm2 + MbufDescriptor.OFF_TX_OFFLOAD),
                    all.get(U16, hm2 + MbufDescriptor.OFF_VLAN_TCI) & 0xFFFF);
            if (why != null) {
                return refuse(head, why);
            }
            ctx = context.differs();
        }
        int need = segs + (ctx ? 1 : 0);
        if (need > free) {
            return 0;
        }
        final int rsMask = rsThresh - 1;
        // RS only on the packet's last descriptor (as Linux and DPDK set it), when a group of rsThresh ends
        // anywhere inside the packet; the slots before it name it (~index) for cleanGroup
        int eopAt = (t + need - 1) % size;
        boolean rsHere = false;
        for (int k = 0, x = t; k < need; k++, x = x + 1 == size ? 0 : x + 1) {
            rsHere |= (x & rsMask) == rsMask;
        }
        int x = t;
        if (ctx) {
            long d = descAddr + (long) x * DESC_SIZE;
            all.set(U64, d, context.lens & 0xFFFFFFFFL); // seqnum_seed 0
            all.set(U64, d + 8, (long) context.mssL4 << 32 | context.tucmd & 0xFFFFFFFFL);
            all.set(U64, swAddr + 8L * x, ~(long) eopAt);
            context.written();
            x = x + 1 == size ? 0 : x + 1;
        }
        // MAC.1588 on every data descriptor of a packet that asks for a TX time stamp (7.9.2.2)
        int cmdBits = (flags != 0 ? context.cmd : 0) | ((olFlags & MbufFlags.TX_IEEE1588_TMST) != 0 ? TXD_MAC_TSTAMP : 0);
        int olinfo = flags != 0 ? context.olinfo : (int) pktLen << TXD_PAYLEN_SHIFT;
        sh = head;
        for (int k = 0; k < segs; k++) {
            if (Long.compareUnsigned(sh - lastTag, lastSpan) > 0) {
                poolOf(sh); // checked above
            }
            long m = lastBase + sh;
            int len = all.get(U16, m + MbufDescriptor.OFF_DATA_LEN) & 0xFFFF;
            long next = all.get(U64, m + MbufDescriptor.OFF_NEXT);
            long d = descAddr + (long) x * DESC_SIZE;
            int eop = k == segs - 1 ? TXD_CMD_EOP : 0;
            int rs = eop != 0 && rsHere ? TXD_CMD_RS : 0;
            all.set(U64, d + TXD_ADDR, dataAddressIova(m));
            all.set(U64, d + TXD_CMD_TYPE_LEN, (long) olinfo << 32 | (CMD & ~TXD_CMD_EOP | eop | cmdBits | rs | len) & 0xFFFFFFFFL);
            all.set(U64, swAddr + 8L * x, eop != 0 ? head : ~(long) eopAt);
            x = x + 1 == size ? 0 : x + 1;
            sh = next;
        }
        complexBytes = pktLen;
        return need;
    }

    /** The data's virtual address: the buffer follows its header (the mempool's layout). */
    private static long dataAddress(long m) {
        return m + MbufDescriptor.HEADER_SIZE + (QueueMemory.ALL.get(U16, m + MbufDescriptor.OFF_DATA_OFF) & 0xFFFF);
    }

    private static long dataAddressIova(long m) {
        return QueueMemory.ALL.get(U64, m + MbufDescriptor.OFF_BUF_IOVA) + (QueueMemory.ALL.get(U16, m + MbufDescriptor.OFF_DATA_OFF) & 0xFFFF);
    }

    private int refuse(long head, String why) {
        complexError = badPacket(head, 0, 0, why);
        return -1;
    }

    /**
     * The pool of {@code handle} becomes the cached one; false when the handle names no attached pool or lies
     * outside its pool's memory (then the cache is unchanged).
     */
    private boolean poolOf(long handle) {
        Mempool p;
        try {
            p = Mempool.ofHandle(handle);
        } catch (IllegalArgumentException e) {
            return false; // badPacket says why
        }
        long tag = handle & HANDLE_POOL;
        long span = p.segment().byteSize() - MbufDescriptor.HEADER_SIZE;
        if (Long.compareUnsigned(handle - tag, span) > 0) {
            return false;
        }
        lastTag = tag;
        lastSpan = span;
        lastBase = p.segment().address() - tag;
        lastBufLen = p.bufLen();
        return true;
    }

    private IllegalArgumentException badPacket(long handle, int dataOff, int len, String reason) {
        errors++;
        if (reason == null && Long.compareUnsigned(handle - lastTag, lastSpan) > 0) {
            String why;
            try {
                Mempool p = Mempool.ofHandle(handle);
                why = String.format("mbuf handle 0x%x lies outside the memory of its pool '%s'", handle, p.name());
            } catch (IllegalArgumentException e) {
                why = e.getMessage();
            }
            return new IllegalArgumentException("TX queue " + queue + ": " + why + "; it and the packets after it stay "
                    + "in the batch");
        }
        return new IllegalArgumentException(String.format("TX queue %d: mbuf 0x%x %s; it and the packets "
                + "after it stay in the batch", queue, handle, reason != null ? reason
                : "has data_off " + dataOff + " + data_len " + len + " outside its " + lastBufLen + "-byte buffer or no data"));
    }

    /** The shared state moved to generation {@code g}: false while the ring is rebuilt, else reload the indices. */
    private boolean resync(int g) {
        if (!generation.seen(g)) {
            return false;
        }
        loadState();
        context.invalidate(); // the ring was rebuilt after a reset: the device holds no context
        gen = g;
        return true;
    }

    /** Lets go of the queue (another process may take it over): the port owner need not wait for this one. */
    public void releaseDriver() {
        generation.release();
    }

    /**
     * Frees every packet the shared state counts in the ring, whoever drove the queue (the queue must be
     * stopped; its state may come from a process that died).
     */
    public void releaseShared() {
        releaseInRing(mem, lcore);
        inFlight = 0;
        clean = tail = 0;
    }

    /**
     * Frees the packets the shared state of {@code m} counts in flight, from {@code lcore}, and empties the ring
     * (indices 0, descriptors cleared). Touches shared memory only; a process driving the queue must be paused
     * ({@link QueueGeneration}) or gone. Returns the mbufs freed.
     */
    public static int releaseInRing(QueueMemory m, int lcore) {
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
            if (h > 0) { // not 0 (nothing) nor ~index (inside a multi-descriptor packet)
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

    public int inFlight() {
        return inFlight;
    }

    public int queue() {
        return queue;
    }

    public QueueMemory memory() {
        return mem;
    }

    public long packets() {
        return packets;
    }

    public long bytes() {
        return bytes;
    }

    /** Packets refused (bad handles, lengths or offload requests). */
    public long errors() {
        return errors;
    }
}
