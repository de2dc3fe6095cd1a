package io.jnic.multiproc.port;

import io.jnic.memory.mbuf.Mbuf;

/**
 * What RSS should do with a received frame, computed here independently of devsim and the driver: the
 * Toeplitz hash (82599 datasheet 7.1.2.8.1, Microsoft's RSS specification) of an IPv4/UDP frame's
 * source address, destination address, source port and destination port, under the driver's default key
 * (the specification's verification key), and the queue the default redirection table names for it.
 */
final class RssOracle {
    /** Microsoft's RSS verification key, which the ixgbe driver programs when none is configured. */
    static final byte[] KEY = {
        0x6d, 0x5a, 0x56, (byte) 0xda, 0x25, 0x5b, 0x0e, (byte) 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, (byte) 0xa3,
        (byte) 0x8f, (byte) 0xb0, (byte) 0xd0, (byte) 0xca, 0x2b, (byte) 0xcb, (byte) 0xae, 0x7b, 0x30, (byte) 0xb4,
        0x77, (byte) 0xcb, 0x2d, (byte) 0xa3, (byte) 0x80, 0x30, (byte) 0xf2, 0x0c, 0x6a, 0x42, (byte) 0xb7, 0x3b,
        (byte) 0xbe, (byte) 0xac, 0x01, (byte) 0xfa};

    private final byte[] input = new byte[12];

    /** The expected hash of the frame in {@code m}, or -1 when it is no IPv4/UDP frame. */
    long hash(Mbuf m) {
        if (m.dataLen() < 42 || m.getShortBE(12) != 0x0800 || (m.getByte(14) & 0xF0) != 0x40 || m.getByte(23) != 17) {
            return -1;
        }
        int l4 = 14 + (m.getByte(14) & 0x0F) * 4;
        for (int i = 0; i < 8; i++) {
            input[i] = m.getByte(26 + i); // source then destination address
        }
        for (int i = 0; i < 4; i++) {
            input[8 + i] = m.getByte(l4 + i); // source then destination port
        }
        return toeplitz(input) & 0xFFFFFFFFL;
    }

    /** The queue entry {@code hash & 127} of a redirection table spreading round robin over {@code nq} queues. */
    static int queue(long hash, int nq) {
        return (int) (hash & 127) % nq;
    }

    static int toeplitz(byte[] in) {
        int result = 0;
        long window = ((KEY[0] & 0xFFL) << 24) | ((KEY[1] & 0xFFL) << 16) | ((KEY[2] & 0xFFL) << 8) | (KEY[3] & 0xFFL);
        int next = 4;
        for (byte b : in) {
            for (int bit = 7; bit >= 0; bit--) {
                if (((b >> bit) & 1) != 0) {
                    result ^= (int) window;
                }
                window = (window << 1) & 0xFFFFFFFFL;
                window |= ((next < KEY.length ? KEY[next] & 0xFF : 0) >> bit) & 1;
            }
            next++;
        }
        return result;
    }
}
