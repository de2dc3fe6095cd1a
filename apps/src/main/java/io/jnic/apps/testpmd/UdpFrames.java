package io.jnic.apps.testpmd;

import io.jnic.memory.mbuf.Mbuf;

/**
 * The Ethernet/IPv4/UDP frames txonly and flowgen send, built without allocating: one template per generator
 * (the payload is zeros), copied into each mbuf; flowgen then rewrites the destination address and both checksums
 * from partial sums computed once (RFC 1071 one's-complement arithmetic, so a changed word is an addition).
 *
 * <p>Offsets: Ethernet 0 (dst 0, src 6, type 12), IPv4 14 (RFC 791: version/IHL 14, total length 16, TTL 22,
 * protocol 23, checksum 24, source 26, destination 30), UDP 34 (RFC 768: ports 34/36, length 38, checksum 40),
 * payload 42.
 */
final class UdpFrames {
    static final int ETH_TYPE = 12;
    static final int IP = 14;
    static final int IP_TOTAL_LENGTH = IP + 2;
    static final int IP_TTL = IP + 8;
    static final int IP_PROTO = IP + 9;
    static final int IP_CHECKSUM = IP + 10;
    static final int IP_SRC = IP + 12;
    static final int IP_DST = IP + 16;
    static final int UDP = IP + 20;
    static final int UDP_SRC_PORT = UDP;
    static final int UDP_DST_PORT = UDP + 2;
    static final int UDP_LENGTH = UDP + 4;
    static final int UDP_CHECKSUM = UDP + 6;
    /** Ethernet + IPv4 + UDP headers: the smallest frame this builds. */
    static final int HEADERS = UDP + 8;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int PROTO_UDP = 17;
    private static final int TTL = 64;

    private final byte[] template;
    private final int length;
    /** One's-complement sum of the IPv4 header without its checksum and destination address. */
    private final int ipBase;
    /** Sum of the UDP pseudo-header, header and payload, without the destination address and checksum. */
    private final int udpBase;

    /**
     * @param length frame length without FCS (at least {@link #HEADERS})
     * @param srcMac the sending port's address; {@code dstMac} the peer's
     */
    UdpFrames(int length, long srcMac, long dstMac, int srcIp, int dstIp, int srcPort, int dstPort) {
        if (length < HEADERS) {
            throw new IllegalArgumentException("a UDP/IPv4 frame takes at least " + HEADERS + " bytes, got " + length);
        }
        this.length = length;
        byte[] f = new byte[length];
        putMac(f, 0, dstMac);
        putMac(f, 6, srcMac);
        put16(f, ETH_TYPE, ETHERTYPE_IPV4);
        f[IP] = 0x45; // version 4, 5 words of header
        put16(f, IP_TOTAL_LENGTH, length - IP);
        f[IP_TTL] = TTL;
        f[IP_PROTO] = PROTO_UDP;
        put32(f, IP_SRC, srcIp);
        put16(f, UDP_SRC_PORT, srcPort);
        put16(f, UDP_DST_PORT, dstPort);
        put16(f, UDP_LENGTH, length - UDP);
        this.ipBase = sum(f, IP, 20);
        // pseudo-header (RFC 768): source, destination (added per frame), zero + protocol, UDP length
        this.udpBase = fold(sum(f, UDP, length - UDP) + (srcIp >>> 16) + (srcIp & 0xFFFF) + PROTO_UDP + (length - UDP));
        this.template = f;
        setDestination(f, dstIp);
    }

    int length() {
        return length;
    }

    /** The template's bytes (tests compare against them). */
    byte[] template() {
        return template.clone();
    }

    /** Writes the template into {@code m} (a freshly allocated mbuf: data length 0); false without room. */
    boolean fill(Mbuf m) {
        if (m.append(length) < 0) {
            return false;
        }
        m.write(0, template, 0, length);
        return true;
    }

    /** Sets the destination address of the frame in {@code m} and both checksums to match. */
    void destination(Mbuf m, int dstIp) {
        int hi = dstIp >>> 16;
        int lo = dstIp & 0xFFFF;
        m.setIntBE(IP_DST, dstIp);
        m.setShortBE(IP_CHECKSUM, ~fold(ipBase + hi + lo) & 0xFFFF);
        m.setShortBE(UDP_CHECKSUM, udpChecksum(udpBase + hi + lo));
    }

    private void setDestination(byte[] f, int dstIp) {
        int hi = dstIp >>> 16;
        int lo = dstIp & 0xFFFF;
        put32(f, IP_DST, dstIp);
        put16(f, IP_CHECKSUM, ~fold(ipBase + hi + lo) & 0xFFFF);
        put16(f, UDP_CHECKSUM, udpChecksum(udpBase + hi + lo));
    }

    /** RFC 768: a computed checksum of zero is sent as all ones (zero means "none"). */
    private static int udpChecksum(int sum) {
        int c = ~fold(sum) & 0xFFFF;
        return c == 0 ? 0xFFFF : c;
    }

    /** One's-complement sum of the big-endian 16-bit words of {@code f[off, off+len)} (an odd tail padded with 0). */
    static int sum(byte[] f, int off, int len) {
        long s = 0;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            s += ((f[off + i] & 0xFF) << 8) | (f[off + i + 1] & 0xFF);
        }
        if (i < len) {
            s += (f[off + i] & 0xFF) << 8;
        }
        return fold(s);
    }

    static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    static void putMac(byte[] f, int off, long mac) {
        for (int i = 0; i < 6; i++) {
            f[off + i] = (byte) (mac >>> (8 * (5 - i)));
        }
    }

    static void put16(byte[] f, int off, int v) {
        f[off] = (byte) (v >>> 8);
        f[off + 1] = (byte) v;
    }

    static void put32(byte[] f, int off, int v) {
        put16(f, off, v >>> 16);
        put16(f, off + 2, v);
    }

    /** Dotted-quad IPv4 address to an int ("198.18.0.1"). */
    static int parseIp(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (a.b.c.d)");
        }
        int v = 0;
        for (String x : p) {
            int o;
            try {
                o = Integer.parseInt(x);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address (a.b.c.d)");
            }
            if (o < 0 || o > 255) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address: " + o + " is not an octet");
            }
            v = v << 8 | o;
        }
        return v;
    }

    static String ip(int v) {
        return (v >>> 24) + "." + (v >>> 16 & 0xFF) + "." + (v >>> 8 & 0xFF) + "." + (v & 0xFF);
    }
}
