package io.jnic.ethdev;

/** IEEE 802.3x pause frames (rte_eth_fc_mode): which way a port honours or sends them. */
public enum FlowControl {
    /** Neither sent nor honoured. */
    NONE,
    /** Received pause frames stop this port's transmission. */
    RX_PAUSE,
    /** This port sends pause frames when its receive buffer fills. */
    TX_PAUSE,
    FULL
}
