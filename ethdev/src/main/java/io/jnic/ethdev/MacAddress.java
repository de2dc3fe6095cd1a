package io.jnic.ethdev;

import java.util.Locale;

/** A 48-bit Ethernet address held in a long, first octet in the most significant used byte (wire order). */
public record MacAddress(long value) {
    public MacAddress {
        if ((value >>> 48) != 0) {
            throw new IllegalArgumentException(String.format("MAC address 0x%x has more than 48 bits", value));
        }
    }

    public static MacAddress of(byte[] octets) {
        if (octets.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 octets, got " + octets.length);
        }
        long v = 0;
        for (byte b : octets) {
            v = v << 8 | (b & 0xFF);
        }
        return new MacAddress(v);
    }

    /** Parses "02:00:00:00:00:01". */
    public static MacAddress parse(String s) {
        String[] p = s.trim().split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("MAC address '" + s + "' must be six hex octets separated by ':'");
        }
        byte[] o = new byte[6];
        for (int i = 0; i < 6; i++) {
            try {
                int v = Integer.parseInt(p[i], 16);
                if (v < 0 || v > 255 || p[i].isEmpty() || p[i].length() > 2) {
                    throw new NumberFormatException();
                }
                o[i] = (byte) v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("MAC address '" + s + "': octet '" + p[i] + "' is not a hex byte");
            }
        }
        return of(o);
    }

    public byte[] octets() {
        byte[] o = new byte[6];
        for (int i = 0; i < 6; i++) {
            o[i] = (byte) (value >>> (40 - 8 * i));
        }
        return o;
    }

    public boolean isMulticast() {
        return ((value >>> 40) & 1) != 0;
    }

    @Override
    public String toString() {
        byte[] o = octets();
        return String.format(Locale.ROOT, "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2], o[3], o[4], o[5]);
    }
}
