package io.jnic.mp.ethdev;

import io.jnic.memory.mbuf.Mbuf;
import io.jnic.testsupport.Toeplitz;

/**
 * What RSS should do with a received frame, computed here independently of devsim and the driver: the
 * Toeplitz hash ({@link Toeplitz}, 82599 datasheet 7.1.2.8.1, Microsoft's RSS specification) of an IPv4/UDP
 * frame's source address, destination address, source port and destination port, under the driver's default key
 * (the specification's verification key), and the queue the default redirection table names for it.
 */
final class RssOracle {
    /** Microsoft's RSS verification key, which the ixgbe driver programs when none is configured. */
    static final byte[] KEY = Toeplitz.microsoftKey();

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
        return Toeplitz.evenQueue((int) hash, nq);
    }

    static int toeplitz(byte[] in) {
        return Toeplitz.hash(KEY, in);
    }
}
