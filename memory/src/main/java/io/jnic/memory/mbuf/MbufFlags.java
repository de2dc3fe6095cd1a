package io.jnic.memory.mbuf;

/**
 * Bits of an mbuf's {@code ol_flags} (DPDK's RTE_MBUF_F_*, same values, so captures and tools reading the
 * header agree). RX flags are set by drivers; TX flags are set by the application to ask the port for an
 * offload, together with the lengths in {@link Mbuf#txOffload(int, int, int, int)}.
 */
public final class MbufFlags {
    private MbufFlags() {
    }

    // ---- RX: what the port found (RTE_MBUF_F_RX_*)

    /** vlan_tci holds the packet's VLAN tag (stripped or not: see {@link #RX_VLAN_STRIPPED}). */
    public static final long RX_VLAN = 1L;
    /** rss_hash holds the port's RSS hash. */
    public static final long RX_RSS_HASH = 1L << 1;
    /** A flow rule matched (the rule's mark, where the port has one, is in rss_hash). */
    public static final long RX_FDIR = 1L << 2;
    public static final long RX_L4_CKSUM_BAD = 1L << 3;
    public static final long RX_IP_CKSUM_BAD = 1L << 4;
    /** The port removed the VLAN tag from the data; it is in vlan_tci. */
    public static final long RX_VLAN_STRIPPED = 1L << 6;
    public static final long RX_IP_CKSUM_GOOD = 1L << 7;
    public static final long RX_L4_CKSUM_GOOD = 1L << 8;
    /** IP checksum state: UNKNOWN (0, not checked), BAD, GOOD, NONE (both bits: no checksum, e.g. not IPv4). */
    public static final long RX_IP_CKSUM_MASK = RX_IP_CKSUM_BAD | RX_IP_CKSUM_GOOD;
    public static final long RX_IP_CKSUM_NONE = RX_IP_CKSUM_MASK;
    public static final long RX_L4_CKSUM_MASK = RX_L4_CKSUM_BAD | RX_L4_CKSUM_GOOD;
    public static final long RX_L4_CKSUM_NONE = RX_L4_CKSUM_MASK;
    /** An IEEE 1588 (PTP) frame by its EtherType. */
    public static final long RX_IEEE1588_PTP = 1L << 9;
    /** The port timestamped the frame; the time is in {@link Mbuf#timestamp()}. */
    public static final long RX_IEEE1588_TMST = 1L << 10;
    /** The packet spans several segments because the port received it in several buffers (LRO, scatter). */
    public static final long RX_LRO = 1L << 16;

    // ---- TX: what the application asks of the port (RTE_MBUF_F_TX_*)

    /** Segment the TCP payload into tso_segsz-byte segments (implies TCP and, for IPv4, IP checksums). */
    public static final long TX_TCP_SEG = 1L << 50;
    /** Have the port timestamp the frame when it leaves (read it back through the port's timesync API). */
    public static final long TX_IEEE1588_TMST = 1L << 51;
    public static final long TX_TCP_CKSUM = 1L << 52;
    public static final long TX_UDP_CKSUM = 3L << 52;
    public static final long TX_L4_MASK = 3L << 52;
    /** Compute the IPv4 header checksum (needs {@link #TX_IPV4}). */
    public static final long TX_IP_CKSUM = 1L << 54;
    public static final long TX_IPV4 = 1L << 55;
    public static final long TX_IPV6 = 1L << 56;
    /** Insert vlan_tci as an 802.1Q tag. */
    public static final long TX_VLAN = 1L << 57;
    /** Every TX bit that asks a port for work. */
    public static final long TX_OFFLOAD_MASK = TX_TCP_SEG | TX_IEEE1588_TMST | TX_L4_MASK | TX_IP_CKSUM | TX_VLAN;
}
