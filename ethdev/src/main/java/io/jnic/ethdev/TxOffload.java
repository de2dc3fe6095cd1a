package io.jnic.ethdev;

/**
 * Transmit offloads a port may offer ({@link DeviceInfo#txOffloads()}) and an application may enable
 * ({@link PortConfig#withTxOffloads}): DPDK's RTE_ETH_TX_OFFLOAD_*. Each packet then asks for the work with
 * {@link io.jnic.memory.mbuf.MbufFlags} TX bits and the lengths in its tx_offload word.
 */
public enum TxOffload {
    /** Insert vlan_tci as an 802.1Q tag (TX_VLAN). */
    VLAN_INSERT,
    /** Fill the IPv4 header checksum (TX_IP_CKSUM). */
    IPV4_CKSUM,
    /** Fill the UDP checksum (TX_UDP_CKSUM). */
    UDP_CKSUM,
    /** Fill the TCP checksum (TX_TCP_CKSUM). */
    TCP_CKSUM,
    /** Cut a large TCP packet into MSS-sized segments (TX_TCP_SEG, tso_segsz). */
    TCP_TSO,
    /** Send packets made of several mbufs (nb_segs &gt; 1). */
    MULTI_SEGS
}
