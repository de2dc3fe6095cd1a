package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * What the receive parser learns from a frame (datasheet 7.1.2.8 for RSS, 7.1.6.2 for the packet type of the
 * write-back): L2 destination class, L3/L4 type, the RSS hash chosen by the MRQC field bits and its type.
 * One reusable instance per device: the fields are the result of the last {@link #parse} call.
 */
final class FrameParser {
    static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int ETH_HLEN = 14;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_IPV6 = 0x86DD;
    static final int ETHERTYPE_VLAN = 0x8100;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;

    boolean broadcast;
    boolean multicast;
    int packetType;
    int rssType;
    int rssHash;
    int ipId;

    void parse(MemorySegment f, long off, int len, int mrqc, Toeplitz toeplitz) {
        broadcast = false;
        multicast = false;
        packetType = 0;
        rssType = RXD_RSSTYPE_NONE;
        rssHash = 0;
        ipId = 0;
        if (len < ETH_HLEN) {
            return;
        }
        int d0 = f.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
        if ((d0 & 1) != 0) {
            broadcast = f.get(ValueLayout.JAVA_INT_UNALIGNED, off) == -1
                    && f.get(ValueLayout.JAVA_SHORT_UNALIGNED, off + 4) == (short) -1;
            multicast = !broadcast;
        }
        int l3 = ETH_HLEN;
        int type = f.get(BE16, off + 12) & 0xFFFF;
        if (type == ETHERTYPE_VLAN && len >= ETH_HLEN + 4) {
            type = f.get(BE16, off + 16) & 0xFFFF;
            l3 += 4;
        }
        boolean rss = (mrqc & MRQC_MRQE_MASK) == MRQC_MRQE_RSS;
        if (type == ETHERTYPE_IPV4 && len >= l3 + 20) {
            int vihl = f.get(ValueLayout.JAVA_BYTE, off + l3) & 0xFF;
            int ihl = (vihl & 0xF) * 4;
            if ((vihl >>> 4) != 4 || ihl < 20 || len < l3 + ihl) {
                return;
            }
            packetType = ihl == 20 ? RXD_PKTTYPE_IPV4 : RXD_PKTTYPE_IPV4_EX;
            ipId = f.get(BE16, off + l3 + 4) & 0xFFFF;
            int frag = f.get(BE16, off + l3 + 6) & 0x3FFF; // MF flag + fragment offset
            int proto = f.get(ValueLayout.JAVA_BYTE, off + l3 + 9) & 0xFF;
            int l4 = l3 + ihl;
            boolean l4ok = frag == 0 && len >= l4 + 4;
            boolean tcp = l4ok && proto == PROTO_TCP;
            boolean udp = l4ok && proto == PROTO_UDP;
            if (tcp) {
                packetType |= RXD_PKTTYPE_TCP;
            } else if (udp) {
                packetType |= RXD_PKTTYPE_UDP;
            }
            if (!rss) {
                return;
            }
            // 7.1.2.8.1: TCP, then UDP, then plain IPv4, skipping functions that are not enabled
            if (tcp && (mrqc & MRQC_RSS_FIELD_IPV4_TCP) != 0) {
                rssType = RXD_RSSTYPE_IPV4_TCP;
            } else if (udp && (mrqc & MRQC_RSS_FIELD_IPV4_UDP) != 0) {
                rssType = RXD_RSSTYPE_IPV4_UDP;
            } else if ((mrqc & MRQC_RSS_FIELD_IPV4) != 0) {
                rssType = RXD_RSSTYPE_IPV4;
            } else {
                return;
            }
            int h = toeplitz.hash(f, off + l3 + 12, 8, 0); // source then destination address
            if (rssType != RXD_RSSTYPE_IPV4) {
                h ^= toeplitz.hash(f, off + l4, 4, 8); // source then destination port
            }
            rssHash = h;
        } else if (type == ETHERTYPE_IPV6 && len >= l3 + 40) {
            if (((f.get(ValueLayout.JAVA_BYTE, off + l3) & 0xFF) >>> 4) != 6) {
                return;
            }
            packetType = RXD_PKTTYPE_IPV6;
            int next = f.get(ValueLayout.JAVA_BYTE, off + l3 + 6) & 0xFF;
            int l4 = l3 + 40;
            boolean l4ok = len >= l4 + 4; // extension headers are not parsed: they count as plain IPv6
            boolean tcp = l4ok && next == PROTO_TCP;
            boolean udp = l4ok && next == PROTO_UDP;
            if (tcp) {
                packetType |= RXD_PKTTYPE_TCP;
            } else if (udp) {
                packetType |= RXD_PKTTYPE_UDP;
            }
            if (!rss) {
                return;
            }
            if (tcp && (mrqc & MRQC_RSS_FIELD_IPV6_TCP) != 0) {
                rssType = RXD_RSSTYPE_IPV6_TCP;
            } else if (udp && (mrqc & MRQC_RSS_FIELD_IPV6_UDP) != 0) {
                rssType = RXD_RSSTYPE_IPV6_UDP;
            } else if ((mrqc & MRQC_RSS_FIELD_IPV6) != 0) {
                rssType = RXD_RSSTYPE_IPV6;
            } else {
                return;
            }
            int h = toeplitz.hash(f, off + l3 + 8, 32, 0);
            if (rssType != RXD_RSSTYPE_IPV6) {
                h ^= toeplitz.hash(f, off + l4, 4, 32);
            }
            rssHash = h;
        }
    }
}
