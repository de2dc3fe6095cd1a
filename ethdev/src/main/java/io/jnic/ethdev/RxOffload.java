package io.jnic.ethdev;

/**
 * Receive offloads a port may offer ({@link DeviceInfo#rxOffloads()}) and an application may ask for
 * ({@link PortConfig#withRxOffloads}): DPDK's RTE_ETH_RX_OFFLOAD_*. What each one puts in the mbuf is in
 * {@link io.jnic.memory.mbuf.MbufFlags}.
 */
public enum RxOffload {
    /** Remove 802.1Q tags; the tag goes to vlan_tci with RX_VLAN | RX_VLAN_STRIPPED. */
    VLAN_STRIP,
    /** IPv4 header checksum verified: RX_IP_CKSUM_GOOD / BAD. */
    IPV4_CKSUM,
    /** UDP checksum verified: RX_L4_CKSUM_GOOD / BAD. */
    UDP_CKSUM,
    /** TCP checksum verified: RX_L4_CKSUM_GOOD / BAD. */
    TCP_CKSUM,
    /** Drop frames whose VLAN is not in the port's filter ({@link EthDevice#vlanFilter}). */
    VLAN_FILTER,
    /** Frames larger than one mbuf arrive as chains of mbufs (needed for an MTU above the buffer size). */
    SCATTER,
    /**
     * Receive TCP segments coalesced into large packets (chains of mbufs, RX_LRO, tso_segsz the segment size the
     * sender used): virtio-net's GUEST_TSO; implies {@link #SCATTER}.
     */
    TCP_LRO,
    /** Deliver the RSS hash in rss_hash with RX_RSS_HASH. */
    RSS_HASH
}
