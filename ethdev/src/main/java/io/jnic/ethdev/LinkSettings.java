package io.jnic.ethdev;

/**
 * How a port brings its link up (rte_eth_conf's link_speeds): autonegotiate, or one fixed speed.
 *
 * @param speedMbps 0 with autonegotiation (the port's choice among what it offers), else the only speed to use
 */
public record LinkSettings(boolean autoneg, int speedMbps) {
    public static final LinkSettings AUTONEG = new LinkSettings(true, 0);

    public LinkSettings {
        if (autoneg && speedMbps != 0) {
            throw new IllegalArgumentException("autonegotiation picks the speed itself; give speed 0 with it, or a fixed "
                    + "speed without it (not " + speedMbps + " Mb/s)");
        }
        if (!autoneg && speedMbps <= 0) {
            throw new IllegalArgumentException("a fixed link needs a speed in Mb/s (e.g. 10000), not " + speedMbps);
        }
    }

    public static LinkSettings fixed(int speedMbps) {
        return new LinkSettings(false, speedMbps);
    }
}
