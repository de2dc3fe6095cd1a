package io.jnic.memory.mbuf;

import static io.jnic.memory.mbuf.MbufDescriptor.*;

import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A reusable view of one mbuf (DPDK's {@code struct rte_mbuf}): {@link #wrap(long)} points it at a
 * handle, then the accessors read and write the shared header and the packet data. One instance per
 * thread serves any number of packets, so handling packets allocates nothing.
 *
 * <p>Header layout (128 bytes; the first cache line holds everything rx and tx touch): see
 * {@link io.jnic.memory.mbuf the package documentation}. Lengths and offsets read from the header are
 * checked against the pool's buffer length (held in this process) before any data access.
 */
public final class Mbuf {


    /** Port of an mbuf that came from no port (RTE_MBUF_PORT_INVALID). */
    public static final int PORT_INVALID = 0xFFFF;
    /** Owner of an mbuf allocated without an lcore. */
    public static final int OWNER_NONE = 0xFFFF;
    /** The null handle: no mbuf (a fresh header's next field). */
    public static final long NULL = 0;

    private static final ValueLayout.OfShort U16 = PlainAccess.SHORT; // the header's alignment is checked at wrap
    private static final ValueLayout.OfInt U32 = PlainAccess.INT;
    private static final ValueLayout.OfLong U64 = PlainAccess.LONG;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    /** All of the address space (PlainAccess.ALL; why: Ring.ALL): accesses go to {@code addr}, checked at {@link #wrap}. */
    private static final MemorySegment ALL = PlainAccess.ALL;

    private Mempool pool;
    private MemorySegment seg;
    private long off;
    /** Absolute address of the header (read through {@link #hdr}). */
    private long addr;
    private long handle;

    /** Points this view at {@code handle}; throws when it names no mbuf of a pool attached here. */
    public Mbuf wrap(long handle) {
        Mempool p = Mempool.ofHandle(handle);
        this.off = p.objectOffset(handle);
        this.addr = p.base + off;
        this.pool = p;
        this.seg = p.segment();
        this.handle = handle;
        return this;
    }

    /** The header's address, bounded for the compiler (see PlainAccess.address): no bounds check per field. */
    private long hdr() {
        return PlainAccess.address(addr);
    }

    public long handle() {
        return handle;
    }

    public Mempool pool() {
        return pool;
    }

    // ------------------------------------------------------------------------------------------------
    // Header fields

    /** IOVA of the buffer start (the headroom), as the device sees it. */
    public long bufIova() {
        return ALL.get(U64, hdr() + OFF_BUF_IOVA);
    }

    /** IOVA of the first data byte: what an rx/tx descriptor gets. */
    public long dataIova() {
        return bufIova() + dataOff();
    }

    public int dataOff() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_DATA_OFF));
    }

    public Mbuf dataOff(int v) {
        if (v < 0 || v > pool.bufLen()) {
            throw new IllegalArgumentException("data offset " + v + " outside the buffer (0.." + pool.bufLen() + ")");
        }
        ALL.set(U16, hdr() + OFF_DATA_OFF, (short) v);
        return this;
    }

    public int nbSegs() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_NB_SEGS));
    }

    public Mbuf nbSegs(int v) {
        ALL.set(U16, hdr() + OFF_NB_SEGS, (short) v);
        return this;
    }

    /** Reference count: 0 while the mbuf is in its pool, 1 when allocated, more when shared. */
    public int refcnt() {
        return (int) INT.getAcquire(ALL, hdr() + OFF_REFCNT);
    }

    /** Atomically adds {@code delta} to the reference count and returns the new value (rte_mbuf_refcnt_update). */
    public int refcntUpdate(int delta) {
        return (int) INT.getAndAdd(ALL, hdr() + OFF_REFCNT, delta) + delta;
    }

    public long olFlags() {
        return ALL.get(U64, hdr() + OFF_OL_FLAGS);
    }

    public Mbuf olFlags(long v) {
        ALL.set(U64, hdr() + OFF_OL_FLAGS, v);
        return this;
    }

    public int packetType() {
        return ALL.get(U32, hdr() + OFF_PACKET_TYPE);
    }

    public Mbuf packetType(int v) {
        ALL.set(U32, hdr() + OFF_PACKET_TYPE, v);
        return this;
    }

    /** Length of the whole packet (all segments); meaningful on the first segment. */
    public int pktLen() {
        return ALL.get(U32, hdr() + OFF_PKT_LEN);
    }

    public Mbuf pktLen(int v) {
        ALL.set(U32, hdr() + OFF_PKT_LEN, v);
        return this;
    }

    /** Bytes of data in this segment. */
    public int dataLen() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_DATA_LEN));
    }

    public Mbuf dataLen(int v) {
        if (v < 0 || v > pool.bufLen()) {
            throw new IllegalArgumentException("data length " + v + " outside 0.." + pool.bufLen());
        }
        ALL.set(U16, hdr() + OFF_DATA_LEN, (short) v);
        return this;
    }

    public int vlanTci() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_VLAN_TCI));
    }

    public Mbuf vlanTci(int v) {
        ALL.set(U16, hdr() + OFF_VLAN_TCI, (short) v);
        return this;
    }

    public int rssHash() {
        return ALL.get(U32, hdr() + OFF_RSS_HASH);
    }

    public Mbuf rssHash(int v) {
        ALL.set(U32, hdr() + OFF_RSS_HASH, v);
        return this;
    }

    /** Input port, or {@link #PORT_INVALID}. */
    public int port() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_PORT));
    }

    public Mbuf port(int v) {
        ALL.set(U16, hdr() + OFF_PORT, (short) v);
        return this;
    }

    /** The lcore that allocated the mbuf ({@link #OWNER_NONE} when none). */
    public int owner() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_OWNER));
    }

    /** Records {@code lcore} as the mbuf's owner (who holds it, for the pool audit after a process died). */
    public Mbuf owner(int lcore) {
        ALL.set(U16, hdr() + OFF_OWNER, (short) lcore);
        return this;
    }

    /** Buffer length as the header states it (the pool's value is what accesses are checked against). */
    public int bufLen() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_BUF_LEN));
    }

    public int poolId() {
        return Short.toUnsignedInt(ALL.get(U16, hdr() + OFF_POOL_ID));
    }

    /** Handle of the next segment, or {@link #NULL}. */
    public long next() {
        return ALL.get(U64, hdr() + OFF_NEXT);
    }

    public Mbuf next(long h) {
        ALL.set(U64, hdr() + OFF_NEXT, h);
        return this;
    }

    /**
     * Tx offload lengths packed as DPDK packs them: l2_len bits 6:0, l3_len 15:7, l4_len 23:16, tso_segsz
     * 39:24 (second cache line; not reset at alloc: only read when ol_flags asks for tx offloads).
     */
    public long txOffload() {
        return ALL.get(U64, hdr() + OFF_TX_OFFLOAD);
    }

    public Mbuf txOffload(long v) {
        ALL.set(U64, hdr() + OFF_TX_OFFLOAD, v);
        return this;
    }

    /**
     * Sets the header lengths a TX offload needs (Ethernet with any VLAN tag, IP, TCP/UDP) and the TSO segment
     * size (payload bytes per segment; 0 without {@link MbufFlags#TX_TCP_SEG}).
     */
    public Mbuf txOffload(int l2Len, int l3Len, int l4Len, int tsoSegsz) {
        if (l2Len < 0 || l2Len > 0x7F || l3Len < 0 || l3Len > 0x1FF || l4Len < 0 || l4Len > 0xFF || tsoSegsz < 0
                || tsoSegsz > 0xFFFF) {
            throw new IllegalArgumentException("tx offload lengths l2 " + l2Len + " (0..127), l3 " + l3Len
                    + " (0..511), l4 " + l4Len + " (0..255), tso_segsz " + tsoSegsz + " (0..65535)");
        }
        return txOffload(packTxOffload(l2Len, l3Len, l4Len, tsoSegsz));
    }

    /** The tx_offload word for these lengths (see {@link #txOffload(int, int, int, int)}). */
    public static long packTxOffload(int l2Len, int l3Len, int l4Len, int tsoSegsz) {
        return (l2Len & 0x7FL) | (l3Len & 0x1FFL) << 7 | (l4Len & 0xFFL) << 16 | (tsoSegsz & 0xFFFFL) << 24;
    }

    public static int l2Len(long txOffload) {
        return (int) (txOffload & 0x7F);
    }

    public static int l3Len(long txOffload) {
        return (int) (txOffload >>> 7 & 0x1FF);
    }

    public static int l4Len(long txOffload) {
        return (int) (txOffload >>> 16 & 0xFF);
    }

    public static int tsoSegsz(long txOffload) {
        return (int) (txOffload >>> 24 & 0xFFFF);
    }

    /**
     * The port's timestamp of the frame in nanoseconds of its clock, valid when ol_flags has
     * {@link MbufFlags#RX_IEEE1588_TMST} (second cache line; not reset at alloc).
     */
    public long timestamp() {
        return ALL.get(U64, hdr() + OFF_TIMESTAMP);
    }

    public Mbuf timestamp(long nanos) {
        ALL.set(U64, hdr() + OFF_TIMESTAMP, nanos);
        return this;
    }

    /** Application word in the second cache line (DPDK's dynamic fields serve this purpose). */
    public long userData() {
        return ALL.get(U64, hdr() + OFF_USERDATA);
    }

    public Mbuf userData(long v) {
        ALL.set(U64, hdr() + OFF_USERDATA, v);
        return this;
    }

    // ------------------------------------------------------------------------------------------------
    // Room and length arithmetic (rte_pktmbuf_headroom/tailroom/prepend/append/adj/trim)

    private int checkedDataOff() {
        int d = dataOff();
        if (d > pool.bufLen()) {
            throw corrupted("data offset " + d);
        }
        return d;
    }

    private int checkedDataLen(int dataOff) {
        int l = dataLen();
        if (l > pool.bufLen() - dataOff) {
            throw corrupted("data length " + l + " at offset " + dataOff);
        }
        return l;
    }

    private IllegalStateException corrupted(String what) {
        return new IllegalStateException(String.format("corrupted mbuf 0x%x of pool '%s': %s exceeds the %d-byte buffer",
                handle, pool.name(), what, pool.bufLen()));
    }

    public int headroom() {
        return checkedDataOff();
    }

    public int tailroom() {
        int d = checkedDataOff();
        return pool.bufLen() - d - checkedDataLen(d);
    }

    /** Grows the data at the front by {@code len} bytes; false (nothing changed) without enough headroom. */
    public boolean prepend(int len) {
        int d = checkedDataOff();
        if (len < 0 || len > d) {
            return false;
        }
        ALL.set(U16, hdr() + OFF_DATA_OFF, (short) (d - len));
        ALL.set(U16, hdr() + OFF_DATA_LEN, (short) (checkedDataLen(d) + len));
        ALL.set(U32, hdr() + OFF_PKT_LEN, pktLen() + len);
        return true;
    }

    /**
     * Grows the data at the end of this segment by {@code len} bytes (call on a single-segment packet or the
     * last segment; the packet length of this mbuf grows too) and returns the data position where the new
     * bytes go, or -1 (nothing changed) without enough tailroom.
     */
    public int append(int len) {
        int d = checkedDataOff();
        int l = checkedDataLen(d);
        if (len < 0 || len > pool.bufLen() - d - l) {
            return -1;
        }
        ALL.set(U16, hdr() + OFF_DATA_LEN, (short) (l + len));
        ALL.set(U32, hdr() + OFF_PKT_LEN, pktLen() + len);
        return l;
    }

    /** Removes {@code len} bytes from the front of the data; false when the segment holds fewer. */
    public boolean adj(int len) {
        int d = checkedDataOff();
        int l = checkedDataLen(d);
        if (len < 0 || len > l) {
            return false;
        }
        ALL.set(U16, hdr() + OFF_DATA_OFF, (short) (d + len));
        ALL.set(U16, hdr() + OFF_DATA_LEN, (short) (l - len));
        ALL.set(U32, hdr() + OFF_PKT_LEN, pktLen() - len);
        return true;
    }

    /** Removes {@code len} bytes from the end of this segment's data; false when it holds fewer. */
    public boolean trim(int len) {
        int l = checkedDataLen(checkedDataOff());
        if (len < 0 || len > l) {
            return false;
        }
        ALL.set(U16, hdr() + OFF_DATA_LEN, (short) (l - len));
        ALL.set(U32, hdr() + OFF_PKT_LEN, pktLen() - len);
        return true;
    }

    /**
     * Appends the packet {@code tail} to this one (rte_pktmbuf_chain): links it after this packet's last
     * segment and adds its segment count and length to this head. False (nothing changed) when the segment
     * count would exceed 65535.
     */
    public boolean chain(long tail) {
        long tailAddr = addressOf(tail);
        int segs = nbSegs() + Short.toUnsignedInt(ALL.get(U16, tailAddr + OFF_NB_SEGS));
        if (segs > 0xFFFF) {
            return false;
        }
        long last = lastSegmentAddress();
        ALL.set(U64, last + OFF_NEXT, tail);
        ALL.set(U16, hdr() + OFF_NB_SEGS, (short) segs);
        ALL.set(U32, hdr() + OFF_PKT_LEN, pktLen() + ALL.get(U32, tailAddr + OFF_PKT_LEN));
        return true;
    }

    /**
     * Adds {@code delta} to the reference count of every segment of the packet (rte_pktmbuf_refcnt_update):
     * how a chained packet is shared, since free releases each segment by its own count.
     */
    public void pktRefcntUpdate(int delta) {
        long a = hdr();
        for (int guard = 0; ; guard++) {
            int unused = (int) INT.getAndAdd(ALL, a + OFF_REFCNT, delta);
            long nx = ALL.get(U64, a + OFF_NEXT);
            if (nx == NULL) {
                return;
            }
            if (guard > 0xFFFF) {
                throw new IllegalStateException(String.format("mbuf chain from 0x%x loops", handle));
            }
            a = addressOf(nx);
        }
    }

    private static long addressOf(long h) {
        Mempool p = Mempool.ofHandle(h);
        return PlainAccess.address(p.base + p.objectOffset(h));
    }

    private long lastSegmentAddress() {
        long a = hdr();
        for (int guard = 0; ; guard++) {
            long nx = ALL.get(U64, a + OFF_NEXT);
            if (nx == NULL) {
                return a;
            }
            if (guard > 0xFFFF) {
                throw new IllegalStateException(String.format("mbuf chain from 0x%x loops", handle));
            }
            a = addressOf(nx);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Data

    /** Offset in {@link Mempool#segment()} of the first data byte. */
    public long dataPosition() {
        return off + HEADER_SIZE + checkedDataOff();
    }

    private long at(int pos, int len) {
        int d = checkedDataOff();
        Objects.checkFromIndexSize(pos, len, pool.bufLen() - d);
        return hdr() + HEADER_SIZE + d + pos;
    }

    /** Byte at data position {@code pos} (may lie beyond data_len, up to the end of the buffer). */
    public byte getByte(int pos) {
        return ALL.get(ValueLayout.JAVA_BYTE, at(pos, 1));
    }

    public Mbuf setByte(int pos, byte v) {
        ALL.set(ValueLayout.JAVA_BYTE, at(pos, 1), v);
        return this;
    }

    /** Big-endian (network order) 16-bit value at data position {@code pos}, unsigned. */
    public int getShortBE(int pos) {
        return Short.toUnsignedInt(ALL.get(BE16, at(pos, 2)));
    }

    public Mbuf setShortBE(int pos, int v) {
        ALL.set(BE16, at(pos, 2), (short) v);
        return this;
    }

    /** Big-endian (network order) 32-bit value at data position {@code pos}. */
    public int getIntBE(int pos) {
        return ALL.get(BE32, at(pos, 4));
    }

    public Mbuf setIntBE(int pos, int v) {
        ALL.set(BE32, at(pos, 4), v);
        return this;
    }

    /** Copies {@code len} bytes from {@code src[srcOff..]} to data position {@code pos}. Lengths are not changed. */
    public Mbuf write(int pos, byte[] src, int srcOff, int len) {
        Objects.checkFromIndexSize(srcOff, len, src.length);
        MemorySegment.copy(src, srcOff, ALL, ValueLayout.JAVA_BYTE, at(pos, len), len);
        return this;
    }

    /** Copies {@code len} bytes from data position {@code pos} to {@code dst[dstOff..]}. */
    public Mbuf read(int pos, byte[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        MemorySegment.copy(ALL, ValueLayout.JAVA_BYTE, at(pos, len), dst, dstOff, len);
        return this;
    }

    /** This segment's data as a segment of data_len bytes (creates a slice object: not for per-packet use). */
    public MemorySegment data() {
        int d = checkedDataOff();
        return seg.asSlice(off + HEADER_SIZE + d, checkedDataLen(d));
    }

    @Override
    public String toString() {
        if (pool == null) {
            return "Mbuf[unbound]";
        }
        return String.format("Mbuf[0x%x pool %s, data_off %d, data_len %d, pkt_len %d, refcnt %d, port %d]", handle,
                pool.name(), dataOff(), dataLen(), pktLen(), refcnt(), port());
    }
}
