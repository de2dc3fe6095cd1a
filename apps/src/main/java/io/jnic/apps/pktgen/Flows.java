package io.jnic.apps.pktgen;

import java.util.Locale;

/**
 * The header fields that vary frame by frame, as pktgen-dpdk's ranges: each field starts at a value and steps
 * through {@code count} values (frame k of a stream takes start + k mod count), so flows differ in addresses
 * and ports and a receiver's RSS spreads them over its queues.
 */
public record Flows(long srcMac, int srcMacCount, long dstMac, int dstMacCount, int srcIp, int srcIpCount, int dstIp,
        int dstIpCount, int srcPort, int srcPortCount, int dstPort, int dstPortCount) {
    public static final int MAX_COUNT = 1 << 24;

    public Flows {
        for (int c : new int[] {srcMacCount, dstMacCount, srcIpCount, dstIpCount, srcPortCount, dstPortCount}) {
            if (c < 1 || c > MAX_COUNT) {
                throw new IllegalArgumentException("a range takes 1-" + MAX_COUNT + " values, got " + c);
            }
        }
        if (srcPort < 0 || srcPort + srcPortCount > 65536 || dstPort < 0 || dstPort + dstPortCount > 65536) {
            throw new IllegalArgumentException("UDP port ranges must stay within 0-65535");
        }
    }

    /** Port {@code p}'s defaults: source 10.p.0.1, destination 10.(p^1).0.1, UDP 1024 -> 1024, {@code flows} source addresses and ports. */
    public static Flows defaults(int p, long srcMac, long dstMac, int flows) {
        int n = Math.max(1, flows);
        return new Flows(srcMac, 1, dstMac, 1, 0x0A000001 | (p & 0xFF) << 16, n, 0x0A000001 | ((p ^ 1) & 0xFF) << 16, 1,
                1024, Math.min(n, 65536 - 1024), 1024, 1);
    }

    /** The number of distinct frames headers cycle through (the product of the counts, capped). */
    public long distinct() {
        long d = 1;
        for (int c : new int[] {srcMacCount, dstMacCount, srcIpCount, dstIpCount, srcPortCount, dstPortCount}) {
            d = Math.min(d * c, Long.MAX_VALUE / MAX_COUNT);
        }
        return d;
    }

    /**
     * A range from the console or command line: {@code src-mac|dst-mac|src-ip|dst-ip|src-port|dst-port START
     * COUNT}.
     */
    public Flows with(String field, String start, String count) {
        int n;
        try {
            n = Integer.parseInt(count);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("range count '" + count + "' is not a number");
        }
        return switch (field.toLowerCase(Locale.ROOT)) {
            case "src-mac" -> new Flows(parseMac(start), n, dstMac, dstMacCount, srcIp, srcIpCount, dstIp, dstIpCount,
                    srcPort, srcPortCount, dstPort, dstPortCount);
            case "dst-mac" -> new Flows(srcMac, srcMacCount, parseMac(start), n, srcIp, srcIpCount, dstIp, dstIpCount,
                    srcPort, srcPortCount, dstPort, dstPortCount);
            case "src-ip" -> new Flows(srcMac, srcMacCount, dstMac, dstMacCount, parseIp(start), n, dstIp, dstIpCount,
                    srcPort, srcPortCount, dstPort, dstPortCount);
            case "dst-ip" -> new Flows(srcMac, srcMacCount, dstMac, dstMacCount, srcIp, srcIpCount, parseIp(start), n,
                    srcPort, srcPortCount, dstPort, dstPortCount);
            case "src-port" -> new Flows(srcMac, srcMacCount, dstMac, dstMacCount, srcIp, srcIpCount, dstIp, dstIpCount,
                    parsePort(start), n, dstPort, dstPortCount);
            case "dst-port" -> new Flows(srcMac, srcMacCount, dstMac, dstMacCount, srcIp, srcIpCount, dstIp, dstIpCount,
                    srcPort, srcPortCount, parsePort(start), n);
            default -> throw new IllegalArgumentException("range field '" + field
                    + "' is not one of src-mac, dst-mac, src-ip, dst-ip, src-port, dst-port");
        };
    }

    static long parseMac(String s) {
        String[] p = s.split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("MAC address '" + s + "' is not six colon-separated hex octets");
        }
        long v = 0;
        for (String o : p) {
            int b;
            try {
                b = Integer.parseInt(o, 16);
            } catch (NumberFormatException e) {
                b = -1;
            }
            if (b < 0 || b > 255 || o.length() > 2) {
                throw new IllegalArgumentException("MAC address '" + s + "': '" + o + "' is not a hex octet");
            }
            v = v << 8 | b;
        }
        return v;
    }

    static int parseIp(String s) {
        String[] p = s.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("IPv4 address '" + s + "' is not four dot-separated numbers");
        }
        int v = 0;
        for (String o : p) {
            int b;
            try {
                b = Integer.parseInt(o);
            } catch (NumberFormatException e) {
                b = -1;
            }
            if (b < 0 || b > 255) {
                throw new IllegalArgumentException("IPv4 address '" + s + "': '" + o + "' is not 0-255");
            }
            v = v << 8 | b;
        }
        return v;
    }

    static int parsePort(String s) {
        try {
            int v = Integer.parseInt(s);
            if (v >= 0 && v <= 65535) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("UDP port '" + s + "' is not 0-65535");
    }

    static String mac(long v) {
        return String.format(Locale.ROOT, "%02x:%02x:%02x:%02x:%02x:%02x", v >>> 40 & 0xFF, v >>> 32 & 0xFF,
                v >>> 24 & 0xFF, v >>> 16 & 0xFF, v >>> 8 & 0xFF, v & 0xFF);
    }

    static String ip(int v) {
        return (v >>> 24) + "." + (v >>> 16 & 0xFF) + "." + (v >>> 8 & 0xFF) + "." + (v & 0xFF);
    }

    @Override
    public String toString() {
        return "src " + mac(srcMac) + "x" + srcMacCount + " " + ip(srcIp) + "x" + srcIpCount + ":" + srcPort + "x"
                + srcPortCount + " -> dst " + mac(dstMac) + "x" + dstMacCount + " " + ip(dstIp) + "x" + dstIpCount + ":"
                + dstPort + "x" + dstPortCount;
    }
}
