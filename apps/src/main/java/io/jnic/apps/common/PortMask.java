package io.jnic.apps.common;

import io.jnic.ethdev.PortTable;

/** DPDK's {@code -p PORTMASK}: a hex mask of port ids. */
public final class PortMask {
    private PortMask() {
    }

    /**
     * The port ids in {@code mask} ("0x3", "3"), ascending.
     *
     * @throws IllegalArgumentException with what is wrong (not hex, no port, beyond {@link PortTable#MAX_PORTS})
     */
    public static int[] parse(String mask) {
        long m;
        try {
            m = Long.parseLong(mask.startsWith("0x") || mask.startsWith("0X") ? mask.substring(2) : mask, 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-p takes a hex port mask such as 0x3, got '" + mask + "'");
        }
        if (m <= 0 || m >= 1L << PortTable.MAX_PORTS) {
            throw new IllegalArgumentException("-p " + mask + " names no port or ports beyond " + (PortTable.MAX_PORTS - 1));
        }
        int[] ids = new int[Long.bitCount(m)];
        for (int i = 0, p = 0; p < PortTable.MAX_PORTS; p++) {
            if ((m & (1L << p)) != 0) {
                ids[i++] = p;
            }
        }
        return ids;
    }

    /** Pairs ports as l2fwd does (0<->1, 2<->3 among the mask's ports); {@code name} is the app's, for the message. */
    public static int[] pairs(String name, int[] ports, String mask) {
        if (ports.length % 2 != 0) {
            throw new IllegalArgumentException(name + " forwards between port pairs: -p " + mask + " names " + ports.length
                    + " ports; give an even number");
        }
        int[] dst = new int[PortTable.MAX_PORTS];
        for (int i = 0; i < ports.length; i++) {
            dst[ports[i]] = ports[i ^ 1];
        }
        return dst;
    }
}
