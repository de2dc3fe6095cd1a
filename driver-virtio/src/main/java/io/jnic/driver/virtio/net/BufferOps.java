package io.jnic.driver.virtio.net;

import java.lang.foreign.MemorySegment;

/**
 * How the virtio-net queues reach packet buffers: the seam to a packet-buffer pool (the mbuf pool once the
 * ethdev driver wraps this one). A buffer is a token ({@code != 0}); its first {@link VirtioNetSpec#HDR_SIZE}
 * bytes hold the virtio-net header, the frame follows. Implementations must not allocate.
 */
public interface BufferOps {
    /** A free buffer's token, or 0 when the pool is empty. */
    long alloc();

    void free(long token);

    /** Frees {@code tokens[off..off+n)}; pools override it with their bulk put. */
    default void freeBulk(long[] tokens, int off, int n) {
        for (int i = 0; i < n; i++) {
            free(tokens[off + i]);
        }
    }

    /**
     * Allocates {@code n} buffers into {@code tokens[off..)}, all or none (pools override it with their bulk
     * get); returns false when the pool has fewer.
     */
    default boolean allocBulk(long[] tokens, int off, int n) {
        for (int i = 0; i < n; i++) {
            long t = alloc();
            if (t == 0) {
                freeBulk(tokens, off, i);
                return false;
            }
            tokens[off + i] = t;
        }
        return true;
    }

    /** The device address of the buffer's first byte (where the header goes). */
    long iova(long token);

    /** Bytes usable from there (header + largest frame). */
    int room(long token);

    /**
     * {@link #iova} and {@link #room} of {@code tokens[off..off+n)} into {@code iovas[off..]} and {@code rooms[off..]}:
     * readies freshly allocated buffers for the receive ring, one lookup per buffer where implementations can.
     */
    default void prepareReceive(long[] tokens, int off, int n, long[] iovas, int[] rooms) {
        for (int i = off; i < off + n; i++) {
            iovas[i] = iova(tokens[i]);
            rooms[i] = room(tokens[i]);
        }
    }

    /**
     * A buffer the device filled with a header and a {@code frameLength}-byte frame: returns the header's num_buffers
     * when {@code mergeable} (VIRTIO_NET_F_MRG_RXBUF; 1 otherwise), and, when that is 1 (the frame is whole), records
     * the frame in the buffer's metadata where the implementation keeps any. One lookup per frame.
     */
    default int received(long token, int frameLength, boolean mergeable) {
        if (!mergeable) {
            return 1;
        }
        return Short.toUnsignedInt(memory().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED
                .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset(token) + VirtioNetSpec.HDR_NUM_BUFFERS));
    }

    /** Memory holding the buffers; {@link #offset} of a token is valid in it. */
    MemorySegment memory();

    long offset(long token);

    /**
     * Readies a buffer holding a {@code frameLength}-byte frame for transmission: zeroes its header and returns
     * the device address of the header, or -1 when header and frame do not fit the buffer. One call per packet,
     * so that implementations over flyweights look the buffer up once.
     */
    default long prepareTransmit(long token, int frameLength) {
        if (frameLength < 0 || frameLength > room(token) - VirtioNetSpec.HDR_SIZE) {
            return -1;
        }
        clearHeader(token);
        return iova(token);
    }

    /** Zeroes the header in front of a frame to transmit (12 bytes at {@link #offset}). */
    default void clearHeader(long token) {
        MemorySegment m = memory();
        long off = offset(token);
        m.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, off, 0L);
        m.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, off + 8, 0);
    }

    /**
     * Links {@code segment}, a continuation buffer of a frame spanning several (MRG_RXBUF: no header, the frame
     * goes on from its first byte, {@code length} bytes), behind {@code last}, the frame's last buffer so far, and
     * adds it to the frame that starts at {@code head}. Implementations that cannot chain buffers throw.
     */
    default void appendSegment(long head, long last, long segment, int length) {
        throw new UnsupportedOperationException("these buffers cannot be chained; receive without scatter");
    }
}
