package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The transmit offloads of one packet gathered from its data descriptors, as the 82599 applies them with the
 * context its first data descriptor names (7.2.3.2.3 advanced context descriptor, 7.2.3.2.4 data descriptor):
 * IPv4 header checksum (POPTS.IXSM), TCP/UDP checksum (POPTS.TXSM, 7.2.5), 802.1Q tag insertion (DCMD.VLE, the
 * tag from the context's VLAN field, 7.4.4.1) and TCP segmentation (DCMD.TSE, 7.2.4): every segment gets the
 * packet's headers, at most MSS payload bytes, the IPv4 total length (or IPv6 payload length) of its own size,
 * an IPv4 identification one above the segment before it, a TCP sequence number advanced by the payload sent
 * before it, FIN and PSH only on the last segment (the reset values of DTXTCPFLGL/H), and fresh checksums.
 */
final class TsoSegmenter {
    private static final ValueLayout.OfShort BE16 = FrameParser.BE16;
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    /** 7.2.4: PAYLEN is 18 bits. */
    static final int MAX_TSO_PAYLOAD = (1 << 18) - 1;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;

    /** Where finished frames go (the MAC). */
    interface Sink {
        void send(MemorySegment frame, long offset, int length);
    }

    private final MemorySegment seg;
    private final int maxFrame;
    /** Segments sent by the last {@link #apply} (for statistics and tests). */
    int segments;

    /** {@code maxFrame}: the largest frame one segment may become (without FCS). */
    TsoSegmenter(MemorySegment scratch, int maxFrame) {
        this.seg = scratch;
        this.maxFrame = maxFrame;
    }

    /** True when the data descriptor's command and olinfo ask for any offload (else the packet goes as it is). */
    static boolean wanted(int cmd, int olinfo) {
        return (cmd & (TXD_CMD_TSE | TXD_CMD_VLE)) != 0 || (olinfo & (TXD_POPTS_IXSM | TXD_POPTS_TXSM)) != 0;
    }

    /**
     * Applies the offloads to the packet of {@code len} bytes in {@code pkt} (changed in place) and sends the
     * resulting frame(s). {@code lens}, {@code tucmd}, {@code mssL4} are the context's dwords 0, 2 and 3;
     * {@code paylen} the data descriptor's PAYLEN. Returns null, or why the packet was dropped.
     */
    String apply(MemorySegment pkt, int len, int cmd, int olinfo, int lens, int tucmd, int mssL4, int paylen, Sink out) {
        segments = 0;
        boolean vle = (cmd & TXD_CMD_VLE) != 0;
        boolean tse = (cmd & TXD_CMD_TSE) != 0;
        boolean ixsm = (olinfo & TXD_POPTS_IXSM) != 0 || tse && (tucmd & TXCTX_TUCMD_IPV4) != 0;
        boolean txsm = (olinfo & TXD_POPTS_TXSM) != 0 || tse;
        int macLen = (lens >>> TXCTX_MACLEN_SHIFT) & TXCTX_MACLEN_MASK;
        int ipLen = lens & TXCTX_IPLEN_MASK;
        int vlan = lens >>> TXCTX_VLAN_SHIFT;
        boolean ipv4 = (tucmd & TXCTX_TUCMD_IPV4) != 0;
        boolean tcp = (tucmd & TXCTX_TUCMD_L4T_MASK) == TXCTX_TUCMD_L4T_TCP;
        boolean udp = (tucmd & TXCTX_TUCMD_L4T_MASK) == TXCTX_TUCMD_L4T_UDP;
        int l4Len = (mssL4 >>> TXCTX_L4LEN_SHIFT) & 0xFF;
        int mss = mssL4 >>> TXCTX_MSS_SHIFT;
        // IPLEN only locates the L4 header for TXSM (a driver need not set TUCMD.IPV4 then, as Linux does not)
        if ((ixsm || txsm) && (macLen < 14 || ipLen < 20 || macLen + ipLen > len)) {
            return "context MACLEN " + macLen + " / IPLEN " + ipLen + " do not fit a " + len + "-byte packet";
        }
        if (ixsm && !ipv4) {
            return "IXSM for a context that is not IPv4 (TUCMD.IPV4 clear)";
        }
        int l4 = macLen + ipLen;
        if (!tse) {
            if (ixsm) {
                ChecksumModel.fillIpv4(pkt, macLen, ipLen);
            }
            if (txsm) {
                int need = tcp ? 20 : 8;
                if (!tcp && !udp || len - l4 < need) {
                    return "TXSM for a " + (len - l4) + "-byte L4 part (TUCMD.L4T " + ((tucmd >>> 11) & 3) + ")";
                }
                ChecksumModel.fillL4(pkt, l4, len - l4, l4 + (tcp ? 16 : 6), udp, 0);
            }
            if (vle) {
                if (len + 4 > seg.byteSize()) {
                    return "a " + len + "-byte packet with a VLAN tag does not fit the frame buffer";
                }
                insertTag(pkt, 0, len, vlan, seg);
                segments = 1;
                out.send(seg, 0, len + 4);
            } else {
                segments = 1;
                out.send(pkt, 0, len);
            }
            return null;
        }
        // TSO (7.2.4)
        int hdr = l4 + l4Len;
        if (!tcp || l4Len < 20 || hdr > len) {
            return "TSE with TUCMD.L4T " + ((tucmd >>> 11) & 3) + ", L4LEN " + l4Len + " (TCP and 20+ bytes needed)";
        }
        int payload = len - hdr;
        if (paylen != payload) {
            return "TSE with PAYLEN " + paylen + " for a packet of " + len + " bytes with " + hdr + " bytes of headers";
        }
        if (mss == 0 || hdr + mss + 4 > seg.byteSize() || hdr + mss + (vle ? 4 : 0) > maxFrame) {
            return "TSE with MSS " + mss + " (headers " + hdr + ", frames of at most " + maxFrame + " bytes)";
        }
        int ipId = ipv4 ? pkt.get(BE16, macLen + 4) & 0xFFFF : 0;
        int seq = pkt.get(BE32, l4 + 4);
        int flags = pkt.get(ValueLayout.JAVA_BYTE, l4 + 13) & 0xFF;
        int n = payload == 0 ? 1 : (payload + mss - 1) / mss;
        int at = 4; // room to insert a tag in front without moving the payload
        for (int i = 0; i < n; i++) {
            int chunk = Math.min(mss, payload - i * mss);
            MemorySegment.copy(pkt, 0, seg, at, hdr);
            MemorySegment.copy(pkt, hdr + (long) i * mss, seg, at + hdr, chunk);
            long ip = at + macLen;
            if (ipv4) {
                seg.set(BE16, ip + 2, (short) (ipLen + l4Len + chunk));
                seg.set(BE16, ip + 4, (short) (ipId + i));
                ChecksumModel.fillIpv4(seg, ip, ipLen);
            } else {
                seg.set(BE16, ip + 4, (short) (ipLen - 40 + l4Len + chunk));
            }
            long th = at + l4;
            seg.set(BE32, th + 4, seq + i * mss);
            boolean last = i == n - 1;
            seg.set(ValueLayout.JAVA_BYTE, th + 13, (byte) (last ? flags : flags & ~(TCP_FIN | TCP_PSH)));
            // the field holds the pseudo header's sum without a length: each segment's own is added
            ChecksumModel.fillL4(seg, th, l4Len + chunk, th + 16, false, l4Len + chunk);
            int flen = hdr + chunk;
            segments++;
            if (vle) {
                MemorySegment.copy(seg, at, seg, 0, 12);
                seg.set(BE16, 12, (short) FrameParser.ETHERTYPE_VLAN);
                seg.set(BE16, 14, (short) vlan);
                out.send(seg, 0, flen + 4);
            } else {
                out.send(seg, at, flen);
            }
        }
        return null;
    }

    /** Copies the frame into {@code dst} with an 802.1Q tag after the source address (7.4.4.1). */
    private static void insertTag(MemorySegment src, long off, int len, int tci, MemorySegment dst) {
        MemorySegment.copy(src, off, dst, 0, 12);
        dst.set(BE16, 12, (short) FrameParser.ETHERTYPE_VLAN);
        dst.set(BE16, 14, (short) tci);
        MemorySegment.copy(src, off + 12, dst, 16, len - 12);
    }
}
