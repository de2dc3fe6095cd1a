package io.jnic.devsim.ixgbe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The receive packet buffer (datasheet 7.1.2.1, RXPBSIZE[0]): frames the port accepted while their queue had no
 * descriptor wait here, in arrival order, with what the parser found (queue, RSS type and hash, packet type, IP id),
 * until {@code drain} moves them (head of line first). A byte ring whose usable size follows RXPBSIZE; an entry is a
 * 24-byte header and the frame, 8-byte aligned, never split at the end (the rest of the ring is skipped, marked).
 */
final class RxPacketBuffer {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int HEADER = 24;
    private static final int WRAP = -1;

    private final MemorySegment ring;
    private int head;
    private int tail;
    private int used;
    private int frames;

    RxPacketBuffer(MemorySegment ring) {
        this.ring = ring;
    }

    void clear() {
        head = tail = used = frames = 0;
    }

    /** Bytes held (frames, their headers and wrap padding): what the flow control thresholds compare. */
    int used() {
        return used;
    }

    boolean isEmpty() {
        return frames == 0;
    }

    private int capacity(int rxpbBytes) {
        return Math.min((int) ring.byteSize(), rxpbBytes);
    }

    /**
     * Appends a frame with its parse results; false when it does not fit in {@code rxpbBytes} (the packet buffer's
     * size as RXPBSIZE[0] sets it now): the frame is missed.
     */
    boolean push(MemorySegment src, long off, int len, int queue, FrameParser parsed, int rxpbBytes) {
        int capacity = capacity(rxpbBytes);
        int entry = HEADER + ((len + 7) & ~7);
        int pos = tail;
        int waste = 0;
        if (pos + entry > capacity) {
            waste = capacity - pos; // wrap: the entry must be contiguous
            pos = 0;
        }
        if (used + waste + entry > capacity) {
            return false;
        }
        if (waste > 0) {
            if (waste >= 4) {
                ring.set(LE_INT, tail, WRAP);
            }
            used += waste;
        }
        ring.set(LE_INT, pos, len);
        ring.set(LE_INT, pos + 4, queue);
        ring.set(LE_INT, pos + 8, parsed.rssType | parsed.packetType);
        ring.set(LE_INT, pos + 12, parsed.rssHash);
        ring.set(LE_INT, pos + 16, parsed.ipId);
        MemorySegment.copy(src, off, ring, pos + HEADER, len);
        tail = pos + entry;
        used += entry;
        frames++;
        return true;
    }

    /**
     * Positions at the oldest frame (skipping a wrap) and restores its parse results into {@code parsed}; returns the
     * offset of its header. Only when not {@link #isEmpty()}.
     */
    int peek(FrameParser parsed, int rxpbBytes) {
        int capacity = capacity(rxpbBytes);
        int pos = head;
        if (pos + HEADER > capacity || ring.get(LE_INT, pos) == WRAP) {
            used -= capacity - pos;
            head = pos = 0;
        }
        int word0 = ring.get(LE_INT, pos + 8);
        parsed.rssType = word0 & 0xF;
        parsed.packetType = word0 & ~0xF;
        parsed.rssHash = ring.get(LE_INT, pos + 12);
        parsed.ipId = ring.get(LE_INT, pos + 16);
        return pos;
    }

    /** The length of the frame whose header is at {@code pos} (from {@link #peek}). */
    int length(int pos) {
        return ring.get(LE_INT, pos);
    }

    /** Its queue. */
    int queue(int pos) {
        return ring.get(LE_INT, pos + 4);
    }

    /** Where its bytes start in {@link #memory()}. */
    long data(int pos) {
        return pos + HEADER;
    }

    MemorySegment memory() {
        return ring;
    }

    /** Removes the oldest frame, whose header is at {@code pos}. */
    void pop(int pos) {
        int entry = HEADER + ((length(pos) + 7) & ~7);
        head = pos + entry;
        used -= entry;
        frames--;
        if (frames == 0) {
            clear();
        }
    }
}
