package io.jnic.driver.ixgbe;

/** Mbuf offload flags the driver sets (DPDK's RTE_MBUF_F_* values, so tools reading them agree). */
final class Mbufs {
    private Mbufs() {
    }

    /** RTE_MBUF_F_RX_RSS_HASH: the rss_hash field is valid. */
    static final long RX_RSS_HASH = 1L << 1;
}
