package io.jnic.apps.pktgen;

import java.util.Locale;

/**
 * Frame sizes (with FCS): one size, a range stepped through frame by frame (pktgen-dpdk's "range size"), or
 * simple IMIX (64:7, 570:4, 1518:1, the usual 7:4:1 mix, interleaved so a burst carries the mix).
 */
public final class SizeSpec {
    public static final int MIN_FRAME = 64;
    /** 7 x 64, 4 x 570, 1 x 1518, interleaved. */
    private static final int[] IMIX = {64, 570, 64, 1518, 64, 570, 64, 570, 64, 64, 570, 64};

    private final String text;
    private final int[] cycle; // sizes repeated frame by frame (fixed: one; imix: 12); null for a range
    private final int min;
    private final int max;
    private final int step;

    private SizeSpec(String text, int[] cycle, int min, int max, int step) {
        this.text = text;
        this.cycle = cycle;
        this.min = min;
        this.max = max;
        this.step = step;
    }

    /** {@code 64}, {@code 64-1518} (step 1), {@code 64-1518/64} (step 64), {@code imix}. */
    public static SizeSpec parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.equals("imix")) {
                return new SizeSpec("imix", IMIX.clone(), 64, 1518, 0);
            }
            int dash = t.indexOf('-');
            if (dash > 0) {
                int slash = t.indexOf('/');
                int lo = Integer.parseInt(t.substring(0, dash));
                int hi = Integer.parseInt(t.substring(dash + 1, slash > 0 ? slash : t.length()));
                int st = slash > 0 ? Integer.parseInt(t.substring(slash + 1)) : 1;
                if (lo < MIN_FRAME || hi < lo || st < 1) {
                    throw new IllegalArgumentException("size range '" + s + "' must be MIN-MAX[/STEP] with " + MIN_FRAME
                            + " <= MIN <= MAX and STEP >= 1");
                }
                return new SizeSpec(t, null, lo, hi, st);
            }
            int v = Integer.parseInt(t);
            if (v < MIN_FRAME) {
                throw new IllegalArgumentException("frame size " + v + " is below the Ethernet minimum of " + MIN_FRAME
                        + " bytes (sizes count the FCS)");
            }
            return new SizeSpec(t, new int[] {v}, v, v, 0);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("frame size '" + s + "' is not N, MIN-MAX[/STEP] or imix");
        }
    }

    public int min() {
        return min;
    }

    public int max() {
        return max;
    }

    /** The size of frame number {@code k} of a stream. */
    public int sizeOf(long k) {
        if (cycle != null) {
            return cycle[(int) (k % cycle.length)];
        }
        int steps = (max - min) / step + 1;
        return min + (int) (k % steps) * step;
    }

    /** The mean frame size over a cycle (for converting Mbit/s and line rate to frames per second). */
    public double average() {
        if (cycle != null) {
            double s = 0;
            for (int v : cycle) {
                s += v;
            }
            return s / cycle.length;
        }
        int steps = (max - min) / step + 1;
        return min + (steps - 1) * step / 2.0;
    }

    @Override
    public String toString() {
        return text;
    }
}
