package io.jnic.driver.intel;

/**
 * Intel's advanced receive and transmit descriptors, 16 bytes each, as the 82599 (datasheet 331520, sections
 * cited) and the other advanced-descriptor parts (82576/I350 igb, 82574 e1000e in its extended mode) lay them out:
 * the read formats the driver writes, the write-back formats the device returns, the context descriptor.
 */
public final class AdvDescriptors {
    private AdvDescriptors() {
    }

    public static final int DESC_SIZE = 16;

    // 7.1.6.1 Advanced receive descriptor, read format
    /** Packet buffer address at 0, header buffer address at 8 (0: no header split; also clears DD). */
    public static final long RXD_PKT_ADDR = 0;
    public static final long RXD_HDR_ADDR = 8;

    // 7.1.6.2 Write-back format: dword0 RSS type 3:0 / packet type 16:4, dword1 RSS hash, dword2 status/error,
    // dword3 length 15:0 and VLAN tag 31:16
    public static final long RXD_WB_INFO = 0;
    public static final long RXD_WB_RSS = 4;
    public static final long RXD_WB_STATUS = 8;
    public static final long RXD_WB_LENGTH = 12;
    public static final int RXD_STAT_DD = 1;
    public static final int RXD_STAT_EOP = 1 << 1;
    /** VP: the tag was stripped into dword3 bits 31:16 (only when RXDCTL.VME stripped it). */
    public static final int RXD_STAT_VP = 1 << 3;
    public static final int RXD_STAT_L4CS = 1 << 5;
    public static final int RXD_STAT_IPCS = 1 << 6;
    /** STATUS.TS: the device latched this frame's arrival time (IEEE 1588). */
    public static final int RXD_STAT_TS = 1 << 16;
    /**
     * Extended error RXE (bit 29): a MAC-level error (CRC, length, symbol); the frame is bad. The IPE/TCPE
     * checksum bits (31, 30) describe a well-formed frame carrying a bad checksum, which L2 forwarding passes.
     */
    public static final int RXD_ERR_RXE = 1 << 29;
    public static final int RXD_ERR_TCPE = 1 << 30;
    public static final int RXD_ERR_IPE = 1 << 31;
    public static final int RXD_RSSTYPE_MASK = 0xF;
    /** pkt_info: an EtherType filter matched (bit 15), its index in bits 6:4. */
    public static final int RXD_PKTTYPE_ETQF = 1 << 15;
    public static final int RXD_PKTTYPE_ETQF_SHIFT = 4;
    public static final int RXD_VLAN_SHIFT = 16;

    // 7.2.3.2.4 Advanced transmit data descriptor
    public static final long TXD_ADDR = 0;
    public static final long TXD_CMD_TYPE_LEN = 8;
    public static final long TXD_OLINFO_STATUS = 12;
    /** MAC.1588: latch this packet's departure time (cmd_type_len bit 19). */
    public static final int TXD_MAC_TSTAMP = 1 << 19;
    public static final int TXD_DTYP_DATA = 0x3 << 20;
    public static final int TXD_CMD_EOP = 1 << 24;
    public static final int TXD_CMD_IFCS = 1 << 25;
    public static final int TXD_CMD_RS = 1 << 27;
    public static final int TXD_CMD_DEXT = 1 << 29;
    /** DCMD.VLE (insert the context's tag), DCMD.TSE (segment). */
    public static final int TXD_CMD_VLE = 1 << 30;
    public static final int TXD_CMD_TSE = 1 << 31;
    public static final int TXD_PAYLEN_SHIFT = 14;
    /** Written back into olinfo_status (STA.DD). */
    public static final int TXD_STAT_DD = 1;
    /** olinfo_status: CC (use the context of IDX, 0 here), POPTS.IXSM (IPv4 checksum), POPTS.TXSM (L4 checksum). */
    public static final int TXD_OLINFO_CC = 1 << 7;
    public static final int TXD_POPTS_IXSM = 1 << 8;
    public static final int TXD_POPTS_TXSM = 1 << 9;

    // 7.2.3.2.3 Advanced transmit context descriptor
    /** dword0: IPLEN 8:0, MACLEN 15:9, VLAN 31:16. */
    public static final int TXCTX_MACLEN_SHIFT = 9;
    public static final int TXCTX_VLAN_SHIFT = 16;
    /** dword2: TUCMD IPV4 (bit 10), L4T (12:11: 00 UDP, 01 TCP, 11 reserved = no L4), DTYP 0010b, DEXT. */
    public static final int TXCTX_TUCMD_IPV4 = 1 << 10;
    public static final int TXCTX_TUCMD_L4T_UDP = 0;
    public static final int TXCTX_TUCMD_L4T_TCP = 1 << 11;
    public static final int TXCTX_TUCMD_L4T_RSV = 3 << 11;
    public static final int TXD_DTYP_CTXT = 0x2 << 20;
    /** dword3: IDX 6:4, L4LEN 15:8, MSS 31:16. */
    public static final int TXCTX_L4LEN_SHIFT = 8;
    public static final int TXCTX_MSS_SHIFT = 16;
}
