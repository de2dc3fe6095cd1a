package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The 82599's checksum engine as the model needs it: Internet checksums (RFC 1071) over frame bytes, the receive
 * verdict of datasheet 7.1.11 (IPv4 header, TCP and UDP checksums of every received frame, reported in the
 * write-back's IPCS/L4CS/UDPCS status and IPE/TCPE error bits) and the fields the transmit side fills (7.2.5).
 * The model computes every checksum from the bytes on the wire; what a driver wrote in a checksum field counts
 * only where the hardware adds it in too (the L4 field on transmit, which holds the pseudo-header sum).
 */
final class ChecksumModel {
    private static final ValueLayout.OfShort BE16 = FrameParser.BE16;

    private ChecksumModel() {
    }

    /** The one's complement sum (not folded beyond 32 bits, not inverted) of {@code len} bytes from {@code off}. */
    static long sum(MemorySegment s, long off, int len, long acc) {
        long a = acc;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            a += s.get(BE16, off + i) & 0xFFFF;
        }
        if (i < len) {
            a += (s.get(ValueLayout.JAVA_BYTE, off + i) & 0xFF) << 8; // an odd last byte is padded with zero
        }
        return a;
    }

    /** Folds a sum to 16 bits (end-around carry). */
    static int fold(long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /** The IPv4 pseudo header's sum (RFC 793 / 768): addresses, protocol and the L4 length. */
    static long pseudoV4(MemorySegment f, long ip, int proto, int l4Len) {
        return sum(f, ip + 12, 8, 0) + proto + l4Len;
    }

    /** The IPv6 pseudo header's sum (RFC 8200 8.1). */
    static long pseudoV6(MemorySegment f, long ip, int proto, int l4Len) {
        return sum(f, ip + 8, 32, 0) + proto + l4Len;
    }

    /**
     * 7.1.11: the status and error bits for a received frame of {@code len} bytes (no FCS) at {@code off}.
     * IPv4 (any header length, not a fragment for L4): IPCS, and IPE when the header does not sum to 0xFFFF;
     * TCP: L4CS, UDP with a non-zero checksum: L4CS|UDPCS, and TCPE when the segment and pseudo header do not
     * sum to 0xFFFF. IPv6 without extension headers: the same for TCP/UDP. Anything else, or a frame shorter than
     * its IP length says: no bits (the hardware gives no verdict).
     */
    static int rxStatus(MemorySegment f, long off, int len) {
        if (len < FrameParser.ETH_HLEN) {
            return 0;
        }
        int l3 = FrameParser.ETH_HLEN;
        int type = f.get(BE16, off + 12) & 0xFFFF;
        if (type == FrameParser.ETHERTYPE_VLAN && len >= l3 + 4) {
            type = f.get(BE16, off + 16) & 0xFFFF;
            l3 += 4;
        }
        long ip = off + l3;
        if (type == FrameParser.ETHERTYPE_IPV4 && len >= l3 + 20) {
            int vihl = f.get(ValueLayout.JAVA_BYTE, ip) & 0xFF;
            int ihl = (vihl & 0xF) * 4;
            int total = f.get(BE16, ip + 2) & 0xFFFF;
            if ((vihl >>> 4) != 4 || ihl < 20 || total < ihl || len < l3 + total) {
                return 0;
            }
            int st = RXD_STAT_IPCS;
            if (fold(sum(f, ip, ihl, 0)) != 0xFFFF) {
                st |= RXD_ERR_IPE;
            }
            if ((f.get(BE16, ip + 6) & 0x3FFF) != 0) {
                return st; // a fragment: no L4 verdict
            }
            int proto = f.get(ValueLayout.JAVA_BYTE, ip + 9) & 0xFF;
            int l4Len = total - ihl;
            return st | l4Status(f, ip + ihl, proto, l4Len, pseudoV4(f, ip, proto, l4Len));
        }
        if (type == FrameParser.ETHERTYPE_IPV6 && len >= l3 + 40) {
            if (((f.get(ValueLayout.JAVA_BYTE, ip) & 0xFF) >>> 4) != 6) {
                return 0;
            }
            int l4Len = f.get(BE16, ip + 4) & 0xFFFF;
            int next = f.get(ValueLayout.JAVA_BYTE, ip + 6) & 0xFF;
            if (len < l3 + 40 + l4Len) {
                return 0;
            }
            return l4Status(f, ip + 40, next, l4Len, pseudoV6(f, ip, next, l4Len));
        }
        return 0;
    }

    private static int l4Status(MemorySegment f, long l4, int proto, int l4Len, long pseudo) {
        if (proto == FrameParser.PROTO_TCP && l4Len >= 20) {
            return RXD_STAT_L4CS | (fold(sum(f, l4, l4Len, pseudo)) != 0xFFFF ? RXD_ERR_TCPE : 0);
        }
        if (proto == FrameParser.PROTO_UDP && l4Len >= 8) {
            if (f.get(BE16, l4 + 6) == 0) {
                return 0; // 7.1.11: no UDP verdict for a checksum of 0 (none sent)
            }
            return RXD_STAT_L4CS | RXD_STAT_UDPCS | (fold(sum(f, l4, l4Len, pseudo)) != 0xFFFF ? RXD_ERR_TCPE : 0);
        }
        return 0;
    }

    /** 7.2.5 IXSM: the IPv4 header checksum at {@code ip} (header length {@code ihl}) computed and stored. */
    static void fillIpv4(MemorySegment f, long ip, int ihl) {
        f.set(BE16, ip + 10, (short) 0);
        f.set(BE16, ip + 10, (short) ~fold(sum(f, ip, ihl, 0)));
    }

    /**
     * 7.2.5 TXSM: the TCP or UDP checksum over {@code l4Len} bytes at {@code l4}, stored at {@code csumAt}. The
     * field's content is summed with the rest, as the hardware does: the driver leaves the pseudo header's sum
     * there (with the L4 length, or without it under TSO, where {@code addLen} adds each segment's own).
     */
    static void fillL4(MemorySegment f, long l4, int l4Len, long csumAt, boolean udp, int addLen) {
        int c = ~fold(sum(f, l4, l4Len, addLen)) & 0xFFFF;
        if (udp && c == 0) {
            c = 0xFFFF; // RFC 768: a computed 0 is sent as all ones
        }
        f.set(BE16, csumAt, (short) c);
    }
}
