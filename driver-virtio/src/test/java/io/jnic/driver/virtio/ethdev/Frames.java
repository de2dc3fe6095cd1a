package io.jnic.driver.virtio.ethdev;

import java.nio.ByteBuffer;

/** Ethernet/IPv4/TCP or UDP test frames and the Internet checksum (RFC 1071) to check them with. */
public final class Frames {
    public static final int ETH = 14;
    public static final int IP = 20;
    public static final int TCP = 20;
    public static final int UDP = 8;

    private Frames() {
    }

    /**
     * An IPv4 frame carrying TCP ({@code proto} 6) or UDP (17) with {@code payload} bytes; the IPv4 header checksum
     * is right, the L4 checksum field holds the pseudo-header sum (what a NIC's checksum offload starts from).
     */
    public static byte[] ipv4(int proto, int payload, int seed) {
        int l4 = proto == 6 ? TCP : UDP;
        byte[] f = new byte[ETH + IP + l4 + payload];
        ByteBuffer b = ByteBuffer.wrap(f);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (IP + l4 + payload)).putShort((short) seed).putShort((short) 0x4000)
                .put((byte) 64).put((byte) proto).putShort((short) 0).putInt(0x0A000001).putInt(0x0A000002);
        b.putShort(ETH + 10, (short) ~fold(sum(f, ETH, IP, 0)));
        int o = ETH + IP;
        if (proto == 6) {
            b.putShort(o, (short) 40000).putShort(o + 2, (short) 5201).putInt(o + 4, 1000 + seed).putInt(o + 8, 0)
                    .put(o + 12, (byte) 0x50).put(o + 13, (byte) 0x18).putShort(o + 14, (short) 65535);
        } else {
            b.putShort(o, (short) 40000).putShort(o + 2, (short) 5201).putShort(o + 4, (short) (UDP + payload));
        }
        for (int i = 0; i < payload; i++) {
            f[o + l4 + i] = (byte) (i * 7 + seed);
        }
        b.putShort(o + (proto == 6 ? 16 : 6), (short) pseudo(f, proto, l4 + payload));
        return f;
    }

    /** The folded (not inverted) pseudo-header sum: addresses, protocol, L4 length. */
    public static int pseudo(byte[] f, int proto, int l4Len) {
        int s = sum(f, ETH + 12, 8, 0) + proto + l4Len;
        return fold(s);
    }

    /** The L4 checksum the frame should carry: the inverted sum of pseudo-header and L4 bytes (with the field zero). */
    public static int l4Checksum(byte[] f, int proto) {
        int l4Len = f.length - ETH - IP;
        int field = ETH + IP + (proto == 6 ? 16 : 6);
        byte[] g = f.clone();
        g[field] = 0;
        g[field + 1] = 0;
        int c = ~fold(sum(g, ETH + IP, l4Len, 0) + pseudo(f, proto, l4Len)) & 0xFFFF;
        return proto == 17 && c == 0 ? 0xFFFF : c;
    }

    public static int field(byte[] f, int off) {
        return (f[off] & 0xFF) << 8 | f[off + 1] & 0xFF;
    }

    public static int sum(byte[] f, int off, int len, int s) {
        for (int i = 0; i + 1 < len; i += 2) {
            s += (f[off + i] & 0xFF) << 8 | f[off + i + 1] & 0xFF;
        }
        if ((len & 1) != 0) {
            s += (f[off + len - 1] & 0xFF) << 8;
        }
        return s;
    }

    public static int fold(int s) {
        long x = s & 0xFFFFFFFFL;
        while (x >>> 16 != 0) {
            x = (x & 0xFFFF) + (x >>> 16);
        }
        return (int) x;
    }

    /**
     * {@code f} (IPv4/TCP) with the TCP checksum field holding the pseudo-header sum without the length: what a TSO
     * request carries (DPDK's convention, from Intel's NICs).
     */
    public static byte[] tso(byte[] f) {
        int p = fold(sum(f, ETH + 12, 8, 0) + 6);
        f[ETH + IP + 16] = (byte) (p >> 8);
        f[ETH + IP + 17] = (byte) p;
        return f;
    }
}
