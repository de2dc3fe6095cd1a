package io.jnic.apps.pktgen;

import java.util.Arrays;
import org.HdrHistogram.Histogram;

/**
 * What one RX thread saw of one stream (a TX port's queue): frames, duplicates, reordering, latency. Sequence
 * numbers arrive as 32 bits and are widened against the highest seen; a window of the last {@link #WINDOW}
 * numbers remembers which arrived, so a second copy is a duplicate and an earlier number arriving after a
 * later one is reordered. Flows keep to one RX queue under RSS, so each thread sees an increasing subsequence
 * of a stream unless the network reorders. Owned by its thread: no allocation, no locking.
 */
final class StreamMeter {
    static final int WINDOW = 1 << 16;
    /** Latencies up to 10 s, 3 significant digits. */
    static final long MAX_LATENCY_NS = 10_000_000_000L;

    final Histogram latency = new Histogram(MAX_LATENCY_NS, 3);
    private final long[] seen = new long[WINDOW / 64];
    private long max = -1;
    long frames; // frames of the current epoch, duplicates included
    long bytes;
    long duplicates;
    long reordered;
    /** Frames too far behind the window to tell duplicate from reordered (counted as reordered too). */
    long late;

    void clear() {
        Arrays.fill(seen, 0);
        max = -1;
        frames = 0;
        bytes = 0;
        duplicates = 0;
        reordered = 0;
        late = 0;
        latency.reset();
    }

    /** Counts a frame with 32-bit sequence number {@code seq32}, {@code len} bytes with FCS, one-way latency {@code ns} (< 0: unknown). */
    void record(int seq32, int len, long ns) {
        frames++;
        bytes += len;
        long s;
        if (max < 0) {
            s = seq32 & 0xFFFFFFFFL;
        } else {
            s = max + (seq32 - (int) max); // the nearest 64-bit number with these low 32 bits
            if (s < 0) {
                s = seq32 & 0xFFFFFFFFL;
            }
        }
        if (s > max) {
            long gap = s - max;
            if (max < 0 || gap >= WINDOW) {
                Arrays.fill(seen, 0);
            } else {
                for (long x = max + 1; x < s; x++) {
                    seen[(int) (x >>> 6) & (seen.length - 1)] &= ~(1L << x);
                }
            }
            seen[(int) (s >>> 6) & (seen.length - 1)] |= 1L << s;
            max = s;
        } else if (max - s >= WINDOW) {
            late++;
            reordered++;
        } else {
            int w = (int) (s >>> 6) & (seen.length - 1);
            long bit = 1L << s;
            if ((seen[w] & bit) != 0) {
                duplicates++;
                frames--; // a duplicate is not a frame received in the loss balance; counted on its own
                bytes -= len;
                return;
            }
            seen[w] |= bit;
            reordered++;
        }
        if (ns >= 0) {
            latency.recordValue(Math.min(ns, MAX_LATENCY_NS));
        }
    }
}
