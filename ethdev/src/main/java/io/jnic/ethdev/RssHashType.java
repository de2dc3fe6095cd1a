package io.jnic.ethdev;

import java.util.EnumSet;
import java.util.Set;

/** Packet fields a port may hash to spread flows over RX queues (RTE_ETH_RSS_*). */
public enum RssHashType {
    IPV4,
    IPV4_TCP,
    IPV4_UDP,
    IPV6,
    IPV6_TCP,
    IPV6_UDP;

    /** IPv4/IPv6 addresses and TCP/UDP ports: what l2fwd-style apps ask for. */
    public static Set<RssHashType> ipTcpUdp() {
        return EnumSet.allOf(RssHashType.class);
    }
}
