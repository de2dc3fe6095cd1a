package io.jnic.apps.testpmd;

import java.util.Locale;

/** testpmd's forwarding engines (DPDK's {@code --forward-mode}, {@code set fwd}) that jnic implements. */
enum FwdMode {
    /** Received packets go out unchanged (DPDK's default). */
    IO,
    /** Destination MAC set to the peer's, source to the sending port's. */
    MAC,
    /** Source and destination MAC swapped. */
    MACSWAP,
    /** Received and freed. */
    RXONLY,
    /** UDP/IPv4 frames generated and sent; nothing received. */
    TXONLY,
    /** Received packets freed; UDP/IPv4 frames of many flows (destination addresses) generated and sent. */
    FLOWGEN;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The mode called {@code s}, or null. */
    static FwdMode parse(String s) {
        for (FwdMode m : values()) {
            if (m.label().equals(s)) {
                return m;
            }
        }
        return null;
    }

    static String names() {
        StringBuilder sb = new StringBuilder();
        for (FwdMode m : values()) {
            sb.append(sb.isEmpty() ? "" : "|").append(m.label());
        }
        return sb.toString();
    }
}
