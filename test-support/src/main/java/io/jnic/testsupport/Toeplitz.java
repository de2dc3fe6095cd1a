package io.jnic.testsupport;

import java.nio.ByteBuffer;

/**
 * The RSS Toeplitz hash as the tests' oracle (82599 datasheet 7.1.2.8.1, Microsoft's RSS specification),
 * computed from the definition, bit by bit: for every set bit of the input, left to right, the 32 key bits
 * starting at that bit's position are XORed into the result. Slow and obvious on purpose; the device model and
 * the drivers have their own fast versions, and tests check those against this one. Nothing outside tests uses it.
 */
public final class Toeplitz {
    private static final byte[] MICROSOFT_KEY = {
        0x6d, 0x5a, 0x56, (byte) 0xda, 0x25, 0x5b, 0x0e, (byte) 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, (byte) 0xa3,
        (byte) 0x8f, (byte) 0xb0, (byte) 0xd0, (byte) 0xca, 0x2b, (byte) 0xcb, (byte) 0xae, 0x7b, 0x30, (byte) 0xb4,
        0x77, (byte) 0xcb, 0x2d, (byte) 0xa3, (byte) 0x80, 0x30, (byte) 0xf2, 0x0c, 0x6a, 0x42, (byte) 0xb7, 0x3b,
        (byte) 0xbe, (byte) 0xac, 0x01, (byte) 0xfa};

    private Toeplitz() {
    }

    /** Microsoft's RSS verification key (datasheet 7.1.2.8.3), the 82599 drivers' default key (a copy). */
    public static byte[] microsoftKey() {
        return MICROSOFT_KEY.clone();
    }

    /** The hash of {@code input} under {@code key}; key bits past the key's end count as 0. */
    public static int hash(byte[] key, byte[] input) {
        if (key.length < 4) {
            throw new IllegalArgumentException("a Toeplitz key has at least 4 bytes, got " + key.length);
        }
        int result = 0;
        // the 32-bit window of the key that starts at the current input bit
        long window = ((key[0] & 0xFFL) << 24) | ((key[1] & 0xFFL) << 16) | ((key[2] & 0xFFL) << 8) | (key[3] & 0xFFL);
        int next = 4;
        for (byte b : input) {
            for (int bit = 7; bit >= 0; bit--) {
                if (((b >> bit) & 1) != 0) {
                    result ^= (int) window;
                }
                int kb = next < key.length ? key[next] & 0xFF : 0;
                window = ((window << 1) | ((kb >> bit) & 1)) & 0xFFFFFFFFL;
            }
            next++;
        }
        return result;
    }

    /** The hash input of an IPv4 flow: source address, destination address (then the ports, when given). */
    public static byte[] ipv4(int src, int dst) {
        return ByteBuffer.allocate(8).putInt(src).putInt(dst).array();
    }

    /** The hash input of an IPv4 TCP or UDP flow: source and destination address, source and destination port. */
    public static byte[] ipv4(int src, int dst, int srcPort, int dstPort) {
        return ByteBuffer.allocate(12).putInt(src).putInt(dst).putShort((short) srcPort).putShort((short) dstPort)
                .array();
    }

    /** The queue the redirection table sends {@code hash} to: entry {@code hash mod reta.length} (low bits). */
    public static int queue(int hash, int[] reta) {
        return reta[(int) ((hash & 0xFFFFFFFFL) % reta.length)];
    }

    /** The queue of {@code hash} under the even spread {@code entry i -> i mod queues} of a 128-entry table. */
    public static int evenQueue(int hash, int queues) {
        return (hash & 127) % queues;
    }
}
