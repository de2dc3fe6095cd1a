package io.jnic.apps.pktgen;

import java.util.Locale;

/**
 * An offered rate as the user gave it: frames per second, Mbit/s, a share of the line rate, or as fast as the
 * port takes them. Mbit/s count the frame's bits from the destination address through the FCS (as pktgen-dpdk's
 * TX Mbits); line rate adds the 20 bytes of preamble, start delimiter and inter-frame gap every frame costs
 * on the wire (IEEE 802.3 clause 4.4.2), so 100% of 10 Gbit/s is 14.88 Mpps of 64-byte frames.
 */
public record Rate(Kind kind, double value) {
    /** Bytes a frame occupies on the wire beyond its own: preamble 7, SFD 1, inter-frame gap 12. */
    public static final int WIRE_OVERHEAD = 20;

    public enum Kind { PPS, MBPS, PERCENT, MAX }

    public static final Rate MAX = new Rate(Kind.MAX, 0);

    public Rate {
        if (kind != Kind.MAX && !(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("a rate must be positive, got " + value);
        }
        if (kind == Kind.PERCENT && value > 100) {
            throw new IllegalArgumentException("a rate of " + value + "% is above line rate (at most 100%)");
        }
    }

    /**
     * Parses {@code 1.5mpps}, {@code 200kpps}, {@code 1000pps} (or a bare number: pps), {@code 900mbps},
     * {@code 2gbps}, {@code 10%}, {@code max}.
     */
    public static Rate parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT).replace("_", "");
        try {
            if (t.equals("max") || t.equals("line")) {
                return MAX;
            }
            if (t.endsWith("%")) {
                return new Rate(Kind.PERCENT, Double.parseDouble(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("gbps")) {
                return new Rate(Kind.MBPS, 1000 * Double.parseDouble(t.substring(0, t.length() - 4)));
            }
            if (t.endsWith("mbps")) {
                return new Rate(Kind.MBPS, Double.parseDouble(t.substring(0, t.length() - 4)));
            }
            if (t.endsWith("mpps")) {
                return new Rate(Kind.PPS, 1e6 * Double.parseDouble(t.substring(0, t.length() - 4)));
            }
            if (t.endsWith("kpps")) {
                return new Rate(Kind.PPS, 1e3 * Double.parseDouble(t.substring(0, t.length() - 4)));
            }
            if (t.endsWith("pps")) {
                t = t.substring(0, t.length() - 3);
            }
            return new Rate(Kind.PPS, Double.parseDouble(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("rate '" + s + "' is not one of: N[k|m]pps, N (pps), Nmbps, Ngbps, N%, max");
        }
    }

    /** Frames per second for frames of {@code avgSize} bytes (with FCS) on a {@code linkMbps} link; 0 for max. */
    public double pps(double avgSize, int linkMbps) {
        return switch (kind) {
            case PPS -> value;
            case MBPS -> value * 1e6 / (avgSize * 8);
            case PERCENT -> value / 100 * lineRatePps(avgSize, linkMbps);
            case MAX -> 0;
        };
    }

    /** The most frames per second a {@code linkMbps} link carries at {@code avgSize} bytes per frame. */
    public static double lineRatePps(double avgSize, int linkMbps) {
        return linkMbps * 1e6 / ((avgSize + WIRE_OVERHEAD) * 8);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case PPS -> value >= 1e6 ? fmt(value / 1e6) + "mpps" : value >= 1e3 ? fmt(value / 1e3) + "kpps" : fmt(value) + "pps";
            case MBPS -> fmt(value) + "mbps";
            case PERCENT -> fmt(value) + "%";
            case MAX -> "max";
        };
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.4g", v);
    }
}
