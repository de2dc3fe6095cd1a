package io.jnic.driver.intel;

import static io.jnic.driver.intel.AdvDescriptors.*;
import static io.jnic.driver.intel.QueueMemory.U16;

import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufFlags;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;
import java.util.Set;

/**
 * What a transmit queue needs to send one packet with offloads (7.2.3.2.3 advanced context descriptor, 7.2.3.2.4
 * data descriptor): the context descriptor's three dwords for the packet's flags and lengths, the data
 * descriptors' command and olinfo bits, and the last context written, so that a context descriptor is only
 * written when it changes (as DPDK does; the queue uses context slot 0 only). Also checks that the packets ask
 * only for offloads the port was configured with ({@link #bits}: bit n = the {@link TxOffload} of ordinal n).
 */
public final class TxContext {
    public static final int COUNT = TxOffload.values().length;
    /** The 82599 takes at most this many data descriptors per packet (DPDK's IXGBE_TX_MAX_SEG: 40). */
    static final int MAX_SEGS = 40;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** The TX flags this driver acts on (TX_IEEE1588_TMST is the timesync code's, TX_IPV4/6 only qualify). */
    static final long HANDLED = MbufFlags.TX_TCP_SEG | MbufFlags.TX_L4_MASK | MbufFlags.TX_IP_CKSUM | MbufFlags.TX_VLAN;

    /** RTE_MBUF_F_TX_SCTP_CKSUM: the L4 field's third value (TCP 1, SCTP 2, UDP 3). */
    private static final long TX_SCTP_CKSUM = 2L << 52;

    final int bits;
    private boolean valid;
    private int lastLens;
    private int lastTucmd;
    private int lastMssL4;
    // the packet being prepared
    int lens;
    int tucmd;
    int mssL4;
    int cmd;
    int olinfo;
    int headerLen;

    TxContext(int bits) {
        this.bits = bits;
    }

    public static int bitsOf(Set<TxOffload> set) {
        int b = 0;
        for (TxOffload o : set) {
            b |= bit(o);
        }
        return b;
    }

    public boolean has(TxOffload o) {
        return (bits & bit(o)) != 0;
    }

    /** Forget the context written (a new ring, or another process drove the queue). */
    void invalidate() {
        valid = false;
    }

    /**
     * Prepares {@code flags} (the packet's ol_flags & {@link #HANDLED}, non-zero) and {@code txOffload} of a
     * packet of {@code pktLen} bytes whose first segment holds {@code firstLen} bytes at absolute address
     * {@code data}: computes the context and descriptor bits and writes into the headers what the hardware
     * expects there (IPv4 checksum 0, the pseudo header's sum in the TCP/UDP checksum field: 7.2.5). Returns
     * null, or why the packet cannot go.
     */
    String prepare(MemorySegment all, long data, int firstLen, int pktLen, long flags, long txOffload, int vlanTci) {
        boolean tso = (flags & MbufFlags.TX_TCP_SEG) != 0;
        long l4 = flags & MbufFlags.TX_L4_MASK;
        boolean ipCk = (flags & MbufFlags.TX_IP_CKSUM) != 0;
        boolean vlan = (flags & MbufFlags.TX_VLAN) != 0;
        int asked = (tso ? bit(TxOffload.TCP_TSO) : 0) | (l4 == MbufFlags.TX_TCP_CKSUM ? bit(TxOffload.TCP_CKSUM) : 0)
                | (l4 == MbufFlags.TX_UDP_CKSUM ? bit(TxOffload.UDP_CKSUM) : 0) | (ipCk ? bit(TxOffload.IPV4_CKSUM) : 0)
                | (vlan ? bit(TxOffload.VLAN_INSERT) : 0);
        if ((asked & ~bits) != 0) {
            return "asks (ol_flags 0x" + Long.toHexString(flags) + ") for TX offload " + named(asked & ~bits) + ", which "
                    + "this queue was not set up with (PortConfig.withTxOffloads for the port, or txQueueSetup's offloads "
                    + "for the queue)";
        }
        if (l4 == TX_SCTP_CKSUM) {
            return "asks for an SCTP checksum, which this driver does not offload";
        }
        int l2 = Mbuf.l2Len(txOffload);
        int l3 = Mbuf.l3Len(txOffload);
        int l4Len = Mbuf.l4Len(txOffload);
        boolean ipv4 = ipCk || (flags & MbufFlags.TX_IPV4) != 0;
        boolean csum = ipCk || l4 != 0 || tso;
        lens = vlan ? (vlanTci & 0xFFFF) << TXCTX_VLAN_SHIFT : 0;
        tucmd = TXD_DTYP_CTXT | TXD_CMD_DEXT | TXCTX_TUCMD_L4T_RSV;
        mssL4 = 0;
        cmd = vlan ? TXD_CMD_VLE : 0;
        olinfo = TXD_OLINFO_CC;
        headerLen = 0;
        if (csum) {
            if (l2 < 14 || l3 < (ipv4 ? 20 : 40) || l2 + l3 > firstLen) {
                return "has l2_len " + l2 + " / l3_len " + l3 + " that do not fit its first segment of " + firstLen
                        + " bytes (set them with Mbuf.txOffload; headers must be in the first segment)";
            }
            lens |= l2 << TXCTX_MACLEN_SHIFT | l3;
            tucmd = TXD_DTYP_CTXT | TXD_CMD_DEXT | (ipv4 ? TXCTX_TUCMD_IPV4 : 0);
            long ip = data + l2;
            if (ipv4) {
                all.set(BE16, ip + 10, (short) 0);
            }
            if (ipCk || tso && ipv4) {
                olinfo |= TXD_POPTS_IXSM;
            }
            int proto;
            int csumOff;
            if (tso || l4 == MbufFlags.TX_TCP_CKSUM) {
                tucmd |= TXCTX_TUCMD_L4T_TCP;
                proto = 6;
                csumOff = 16;
            } else if (l4 == MbufFlags.TX_UDP_CKSUM) {
                tucmd |= TXCTX_TUCMD_L4T_UDP;
                proto = 17;
                csumOff = 6;
            } else {
                tucmd |= TXCTX_TUCMD_L4T_RSV;
                proto = -1;
                csumOff = 0;
            }
            if (proto >= 0) {
                int minL4 = proto == 6 ? 20 : 8;
                if (tso && (l4Len < 20 || l2 + l3 + l4Len > firstLen)) {
                    return "asks for TSO with l4_len " + l4Len + " (20..255, headers in the first segment of "
                            + firstLen + " bytes)";
                }
                if (l2 + l3 + minL4 > firstLen) {
                    return "has its L4 header outside its first segment of " + firstLen + " bytes";
                }
                olinfo |= TXD_POPTS_TXSM;
                // 7.2.5: the hardware adds the field's content in; it must hold the pseudo header's sum (without
                // the length under TSO: each segment's own is added)
                int l4Bytes = ipv4 ? (all.get(BE16, ip + 2) & 0xFFFF) - l3 : all.get(BE16, ip + 4) & 0xFFFF;
                long sum = ipv4 ? sum(all, ip + 12, 8) : sum(all, ip + 8, 32);
                sum += proto + (tso ? 0 : l4Bytes);
                all.set(BE16, ip + l3 + csumOff, (short) fold(sum));
            }
        }
        if (tso) {
            int segsz = Mbuf.tsoSegsz(txOffload);
            headerLen = l2 + l3 + l4Len;
            if (segsz == 0 || pktLen - headerLen > (1 << 18) - 1) {
                return "asks for TSO with tso_segsz " + segsz + " and " + (pktLen - headerLen)
                        + " payload bytes (1.. segment size, at most 262143 bytes)";
            }
            mssL4 = l4Len << TXCTX_L4LEN_SHIFT | segsz << TXCTX_MSS_SHIFT;
            cmd |= TXD_CMD_TSE;
            olinfo |= (pktLen - headerLen) << TXD_PAYLEN_SHIFT; // 7.2.4: PAYLEN is the payload without headers
        } else {
            olinfo |= pktLen << TXD_PAYLEN_SHIFT;
        }
        return null;
    }

    /** Whether the prepared context differs from the last one written. */
    boolean differs() {
        return !valid || lens != lastLens || tucmd != lastTucmd || mssL4 != lastMssL4;
    }

    /** The prepared context was written to the ring. */
    void written() {
        valid = true;
        lastLens = lens;
        lastTucmd = tucmd;
        lastMssL4 = mssL4;
    }

    private static long sum(MemorySegment all, long at, int len) {
        long s = 0;
        for (int i = 0; i < len; i += 2) {
            s += all.get(BE16, at + i) & 0xFFFF;
        }
        return s;
    }

    private static int fold(long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    private static int bit(TxOffload o) {
        return 1 << o.ordinal();
    }

    /** The offloads of {@code mask} by name (for a refusal's message). */
    private static java.util.List<TxOffload> named(int mask) {
        java.util.List<TxOffload> l = new java.util.ArrayList<>();
        for (TxOffload o : TxOffload.values()) {
            if ((mask & bit(o)) != 0) {
                l.add(o);
            }
        }
        return l;
    }
}
