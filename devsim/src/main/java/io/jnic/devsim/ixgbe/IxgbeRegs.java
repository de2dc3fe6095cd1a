package io.jnic.devsim.ixgbe;

/**
 * 82599 register offsets and bits, from the Intel 82599 10 GbE Controller Datasheet, chapter 8
 * ("Programming Interface"), section 8.2.3 (register descriptions). Offsets are into BAR0 (128 KB, 64-bit
 * memory BAR, section 9.3.6.1); the MSI-X table and PBA are in BAR4 (16 KB, section 9.3.6.1 / 9.4.10).
 * Section numbers below are the datasheet's; offsets were cross-checked against public driver headers.
 */
public final class IxgbeRegs {
    private IxgbeRegs() {
    }

    // ---- BAR layout (9.3.6.1, 9.4.10 MSI-X) -------------------------------------------------------
    public static final int BAR0_SIZE = 128 * 1024;
    public static final int MSIX_BAR = 4;
    public static final int MSIX_BAR_SIZE = 16 * 1024;
    public static final int MSIX_TABLE_OFFSET = 0x0000;
    public static final int MSIX_PBA_OFFSET = 0x2000;
    public static final int MSIX_VECTORS = 64;
    public static final int PCI_VENDOR_INTEL = 0x8086;
    /** 82599ES SFI/SFP+ (the X520's controller). */
    public static final int PCI_DEVICE_82599_SFP = 0x10FB;

    public static final int NUM_QUEUES = 128;

    // ---- General (8.2.3.1) -----------------------------------------------------------------------
    public static final int CTRL = 0x00000;
    /** PCIe master disable (GIO_DIS). */
    public static final int CTRL_PCIE_MASTER_DISABLE = 1 << 2;
    /** Link reset (LRST). */
    public static final int CTRL_LRST = 1 << 3;
    /** Device reset (RST), self-clearing. */
    public static final int CTRL_RST = 1 << 26;

    public static final int STATUS = 0x00008;
    public static final int STATUS_LAN_ID_SHIFT = 2;
    public static final int STATUS_LAN_ID_MASK = 0x3 << STATUS_LAN_ID_SHIFT;
    public static final int STATUS_LINK_UP = 1 << 7;
    /** PCIe master enable status (GIO master enable status). */
    public static final int STATUS_GIO_MASTER_ENABLE = 1 << 19;

    public static final int CTRL_EXT = 0x00018;

    // ---- EEPROM / flash (8.2.3.2) ----------------------------------------------------------------
    public static final int EEC = 0x10010;
    public static final int EEC_PRES = 1 << 8;
    /** EEPROM auto-read done. */
    public static final int EEC_ARD = 1 << 9;

    // ---- Interrupts (8.2.3.5, behaviour in 7.3) --------------------------------------------------
    public static final int EICR = 0x00800;
    public static final int EICS = 0x00808;
    public static final int EIAC = 0x00810;
    public static final int EIMS = 0x00880;
    public static final int EIMC = 0x00888;
    public static final int EIAM = 0x00890;
    public static final int GPIE = 0x00898;
    /** EICS1/EICS2, EIMS1/2, EIMC1/2, EIAM1/2: vectors 0-31 and 32-63 in MSI-X mode. */
    public static final int EICS_EX0 = 0x00A90;
    public static final int EIMS_EX0 = 0x00AA0;
    public static final int EIMC_EX0 = 0x00AB0;
    public static final int EIAM_EX0 = 0x00AD0;
    public static final int IVAR0 = 0x00900;
    public static final int IVAR_COUNT = 64;
    public static final int IVAR_MISC = 0x00A00;
    public static final int IVAR_ALLOC_VAL = 0x80;
    public static final int IVAR_VECTOR_MASK = 0x3F;
    /** EITR 0-23 at 0x820, 24-63 at 0x12300. */
    public static final int EITR0 = 0x00820;
    public static final int EITR24 = 0x12300;
    /** ITR interval, bits 11:3, in 2.048 us units (8.2.3.5.12). */
    public static final int EITR_INTERVAL_MASK = 0x00000FF8;
    public static final long EITR_UNIT_NS = 2048;

    public static final int EICR_RTX_QUEUE = 0x0000FFFF;
    public static final int EICR_FLOW_DIR = 1 << 16;
    public static final int EICR_RX_MISS = 1 << 17;
    public static final int EICR_PCI = 1 << 18;
    public static final int EICR_MAILBOX = 1 << 19;
    public static final int EICR_LSC = 1 << 20;
    public static final int EICR_MNG = 1 << 22;
    public static final int EICR_TCP_TIMER = 1 << 30;
    public static final int EICR_OTHER = 1 << 31;
    /** The non-queue causes routed to IVAR_MISC's "other" vector in MSI-X mode. */
    public static final int EICR_OTHER_CAUSES = 0x7FFF0000 & ~EICR_TCP_TIMER;

    public static final int GPIE_MSIX_MODE = 1 << 4;
    /** OCD: reading EICR clears only the other-cause bits (31:16), not the queue bits (15:0). */
    public static final int GPIE_OCD = 1 << 5;
    public static final int GPIE_EIMEN = 1 << 6;
    public static final int GPIE_EIAME = 1 << 30;
    public static final int GPIE_PBA_SUPPORT = 1 << 31;

    // ---- Receive DMA (8.2.3.8) -------------------------------------------------------------------
    /** Queues 0-63: 0x1000 + 0x40*n; 64-127: 0xD000 + 0x40*(n-64). */
    public static final int RXQ_BASE_LO = 0x01000;
    public static final int RXQ_BASE_HI = 0x0D000;
    public static final int QUEUE_STRIDE = 0x40;
    public static final int RDBAL = 0x00;
    public static final int RDBAH = 0x04;
    public static final int RDLEN = 0x08;
    public static final int DCA_RXCTRL = 0x0C;
    public static final int RDH = 0x10;
    public static final int SRRCTL = 0x14;
    public static final int RDT = 0x18;
    public static final int RXDCTL = 0x28;
    public static final int RSCCTL = 0x2C;
    /** QPRC (0-15) sits at 0x1030 + 0x40*n, QBRC_L/H at +0x34/+0x38, QPRDC at 0x1430 + 0x40*n. */
    public static final int QPRC0 = 0x01030;
    public static final int QBRC_L0 = 0x01034;
    public static final int QBRC_H0 = 0x01038;
    public static final int QPRDC0 = 0x01430;
    /** 82598-compatible aliases of SRRCTL / DCA_RXCTRL for queues 0-15. */
    public static final int SRRCTL_ALIAS0 = 0x02100;
    public static final int DCA_RXCTRL_ALIAS0 = 0x02200;

    public static final int RXDCTL_ENABLE = 1 << 25;
    public static final int RXDCTL_SWFLSH = 1 << 26;
    public static final int RXDCTL_VME = 1 << 30;

    public static final int SRRCTL_BSIZEPKT_MASK = 0x1F; // 1 KB units
    public static final int SRRCTL_BSIZEHDR_SHIFT = 8;
    public static final int SRRCTL_BSIZEHDR_MASK = 0x3F << SRRCTL_BSIZEHDR_SHIFT; // 64 B units
    public static final int SRRCTL_DESCTYPE_SHIFT = 25;
    public static final int SRRCTL_DESCTYPE_MASK = 0x7 << SRRCTL_DESCTYPE_SHIFT;
    public static final int SRRCTL_DESCTYPE_LEGACY = 0;
    public static final int SRRCTL_DESCTYPE_ADV_ONEBUF = 1;
    public static final int SRRCTL_DROP_EN = 1 << 28;
    public static final int SRRCTL_DEFAULT = 0x00000402; // 2 KB packet buffer, 256 B header buffer

    public static final int RDRXCTL = 0x02F00;
    public static final int RDRXCTL_CRCSTRIP = 1 << 1;
    /** DMA initialisation cycle done. */
    public static final int RDRXCTL_DMAIDONE = 1 << 3;

    public static final int RXCTRL = 0x03000;
    public static final int RXCTRL_RXEN = 1;

    public static final int RXPBSIZE0 = 0x03C00;
    public static final int RXPBSIZE_DEFAULT = 0x00080000; // 512 KB in bits 19:10
    public static final int RXPBSIZE_SHIFT = 10;
    public static final int TXPBSIZE0 = 0x0CC00;
    public static final int TXPBSIZE_DEFAULT = 0x000A0000; // 160 KB

    // ---- Receive filtering and RSS (8.2.3.7) -----------------------------------------------------
    public static final int RXCSUM = 0x05000;
    /** Packet checksum disable: the write-back carries the RSS hash instead of IP id + checksum. */
    public static final int RXCSUM_PCSD = 1 << 13;
    public static final int FCTRL = 0x05080;
    public static final int FCTRL_SBP = 1 << 1;
    public static final int FCTRL_MPE = 1 << 8;
    public static final int FCTRL_UPE = 1 << 9;
    public static final int FCTRL_BAM = 1 << 10;
    /** Multicast table array: 4096 bits in 128 registers (8.2.3.7.x). */
    public static final int MTA0 = 0x05200;
    public static final int MCSTCTRL = 0x05090;
    public static final int MCSTCTRL_MO_MASK = 0x3;
    /** Multicast filter enable. */
    public static final int MCSTCTRL_MFE = 1 << 2;
    /** RAL/RAH 0-127 at 0xA200 + 8*n; 0-15 also at the 82598 location 0x5400 + 8*n. */
    public static final int RAL0 = 0x0A200;
    public static final int RAH0 = 0x0A204;
    public static final int RAL_ALIAS0 = 0x05400;
    public static final int RAR_ENTRIES = 128;
    public static final int RAH_AV = 1 << 31;
    public static final int MRQC = 0x05818;
    public static final int MRQC_MRQE_MASK = 0xF;
    public static final int MRQC_MRQE_RSS = 0x1;
    public static final int MRQC_RSS_FIELD_IPV4_TCP = 1 << 16;
    public static final int MRQC_RSS_FIELD_IPV4 = 1 << 17;
    public static final int MRQC_RSS_FIELD_IPV6_EX_TCP = 1 << 18;
    public static final int MRQC_RSS_FIELD_IPV6_EX = 1 << 19;
    public static final int MRQC_RSS_FIELD_IPV6 = 1 << 20;
    public static final int MRQC_RSS_FIELD_IPV6_TCP = 1 << 21;
    public static final int MRQC_RSS_FIELD_IPV4_UDP = 1 << 22;
    public static final int MRQC_RSS_FIELD_IPV6_UDP = 1 << 23;
    public static final int MRQC_RSS_FIELD_IPV6_EX_UDP = 1 << 24;
    /** 128 one-byte entries in 32 registers; bits 3:0 of an entry are the RSS output index. */
    public static final int RETA0 = 0x05C00;
    public static final int RETA_REGS = 32;
    /** 40-byte key in 10 registers, key byte 0 in bits 7:0 of RSSRK[0]. */
    public static final int RSSRK0 = 0x05C80;
    public static final int RSSRK_REGS = 10;

    // ---- MAC (8.2.3.22) ---------------------------------------------------------------------------
    public static final int HLREG0 = 0x04240;
    public static final int HLREG0_TXCRCEN = 1;
    public static final int HLREG0_RXCRCSTRP = 1 << 1;
    public static final int HLREG0_JUMBOEN = 1 << 2;
    public static final int HLREG0_TXPADEN = 1 << 10;
    public static final int HLREG0_LPBK = 1 << 15;
    public static final int HLREG0_RXLNGTHERREN = 1 << 27;
    public static final int HLREG0_DEFAULT = HLREG0_TXCRCEN | HLREG0_RXCRCSTRP | HLREG0_TXPADEN | HLREG0_RXLNGTHERREN;
    /** MAXFRS (MHADD): MFS in bits 31:16, used when HLREG0.JUMBOEN is set. */
    public static final int MAXFRS = 0x04268;
    public static final int MAXFRS_MFS_SHIFT = 16;
    public static final int MAXFRS_DEFAULT = 1518 << MAXFRS_MFS_SHIFT;
    public static final int STANDARD_MAX_FRAME = 1518;
    public static final int MIN_FRAME = 64;
    public static final int CRC_LEN = 4;

    public static final int AUTOC = 0x042A0;
    public static final int AUTOC_FLU = 1;
    public static final int AUTOC_AN_RESTART = 1 << 12;
    public static final int AUTOC_LMS_SHIFT = 13;
    public static final int AUTOC_LMS_MASK = 0x7 << AUTOC_LMS_SHIFT;
    public static final int AUTOC_LMS_10G_SERIAL = 0x3 << AUTOC_LMS_SHIFT;
    public static final int AUTOC_DEFAULT = AUTOC_LMS_10G_SERIAL;
    /** Analog core control (8.2.3.22.x): the SFP+ init sequence from the NVM is written here. */
    public static final int CORECTL = 0x14F00;
    public static final int LINKS = 0x042A4;
    public static final int LINKS_STATUS = 1 << 7;
    public static final int LINKS_SPEED_SHIFT = 28;
    public static final int LINKS_SPEED_MASK = 0x3 << LINKS_SPEED_SHIFT;
    public static final int LINKS_SPEED_10G = 0x3 << LINKS_SPEED_SHIFT;
    public static final int LINKS_SPEED_1G = 0x2 << LINKS_SPEED_SHIFT;
    public static final int LINKS_UP = 1 << 30;
    public static final int LINKS_KX_AN_COMP = 1 << 31;

    // ---- Transmit (8.2.3.9) ----------------------------------------------------------------------
    public static final int DMATXCTL = 0x04A80;
    public static final int DMATXCTL_TE = 1;
    public static final int TXQ_BASE = 0x06000;
    public static final int TDBAL = 0x00;
    public static final int TDBAH = 0x04;
    public static final int TDLEN = 0x08;
    public static final int TDH = 0x10;
    public static final int TDT = 0x18;
    public static final int TXDCTL = 0x28;
    public static final int TDWBAL = 0x38;
    public static final int TDWBAH = 0x3C;
    public static final int TXDCTL_ENABLE = 1 << 25;
    public static final int TXDCTL_SWFLSH = 1 << 26;
    public static final int TDWBAL_HEAD_WB_EN = 1;
    public static final int MTQC = 0x08120;
    public static final int RTTDCS = 0x04900;

    // ---- Statistics (8.2.3.23), clear on read -----------------------------------------------------
    public static final int CRCERRS = 0x04000;
    public static final int ILLERRC = 0x04004;
    public static final int ERRBC = 0x04008;
    public static final int MPC0 = 0x03FA0; // 8 of them
    public static final int RLEC = 0x04040;
    public static final int PRC64 = 0x0405C;
    public static final int PRC127 = 0x04060;
    public static final int PRC255 = 0x04064;
    public static final int PRC511 = 0x04068;
    public static final int PRC1023 = 0x0406C;
    public static final int PRC1522 = 0x04070;
    public static final int GPRC = 0x04074;
    public static final int BPRC = 0x04078;
    public static final int MPRC = 0x0407C;
    public static final int GPTC = 0x04080;
    public static final int GORCL = 0x04088;
    public static final int GORCH = 0x0408C;
    public static final int GOTCL = 0x04090;
    public static final int GOTCH = 0x04094;
    public static final int RNBC0 = 0x03FC0; // 8 of them
    public static final int RUC = 0x040A4;
    public static final int RFC = 0x040A8;
    public static final int ROC = 0x040AC;
    public static final int RJC = 0x040B0;
    public static final int TORL = 0x040C0;
    public static final int TORH = 0x040C4;
    public static final int TPR = 0x040D0;
    public static final int TPT = 0x040D4;
    public static final int PTC64 = 0x040D8;
    public static final int PTC127 = 0x040DC;
    public static final int PTC255 = 0x040E0;
    public static final int PTC511 = 0x040E4;
    public static final int PTC1023 = 0x040E8;
    public static final int PTC1522 = 0x040EC;
    public static final int MPTC = 0x040F0;
    public static final int BPTC = 0x040F4;
    /** Good packets counted by RX/TX DMA (8.2.3.23.x). */
    public static final int RXDGPC = 0x02F50;
    public static final int TXDGPC = 0x087A0;
    /** QPTC 0-15 (0x8680 + 4*n) and QBTC_L/H (0x8700 + 8*n); QPTC also at 0x6030 + 0x40*n (82598 layout). */
    public static final int QPTC0 = 0x08680;
    public static final int QBTC_L0 = 0x08700;
    public static final int QBTC_H0 = 0x08704;
    public static final int QUEUE_STAT_COUNT = 16;

    // ---- Descriptors (7.1.6 receive, 7.2.3 transmit) -----------------------------------------------
    public static final int DESC_SIZE = 16;
    // RX write-back (7.1.6.2): dword0 pkt_info/hdr_info, dword1 RSS hash, dword2 status/error, dword3 length/vlan
    public static final int RXD_STAT_DD = 1;
    public static final int RXD_STAT_EOP = 1 << 1;
    public static final int RXD_ERR_RXE = 1 << 29;
    public static final int RXD_RSSTYPE_NONE = 0x0;
    public static final int RXD_RSSTYPE_IPV4_TCP = 0x1;
    public static final int RXD_RSSTYPE_IPV4 = 0x2;
    public static final int RXD_RSSTYPE_IPV6_TCP = 0x3;
    public static final int RXD_RSSTYPE_IPV6 = 0x5;
    public static final int RXD_RSSTYPE_IPV4_UDP = 0x7;
    public static final int RXD_RSSTYPE_IPV6_UDP = 0x8;
    /** Packet type field, dword0 bits 16:4 (already shifted here). */
    public static final int RXD_PKTTYPE_IPV4 = 0x010;
    public static final int RXD_PKTTYPE_IPV4_EX = 0x020;
    public static final int RXD_PKTTYPE_IPV6 = 0x040;
    public static final int RXD_PKTTYPE_TCP = 0x100;
    public static final int RXD_PKTTYPE_UDP = 0x200;
    // TX (7.2.3.2.4): qword1 = cmd_type_len (dword2), olinfo_status (dword3)
    public static final int TXD_DTALEN_MASK = 0xFFFF;
    public static final int TXD_DTYP_SHIFT = 20;
    public static final int TXD_DTYP_MASK = 0xF << TXD_DTYP_SHIFT;
    public static final int TXD_DTYP_CTXT = 0x2;
    public static final int TXD_DTYP_DATA = 0x3;
    public static final int TXD_CMD_EOP = 1 << 24;
    public static final int TXD_CMD_IFCS = 1 << 25;
    public static final int TXD_CMD_RS = 1 << 27;
    public static final int TXD_CMD_DEXT = 1 << 29;
    public static final int TXD_CMD_VLE = 1 << 30;
    public static final int TXD_CMD_TSE = 1 << 31;
    public static final int TXD_STAT_DD = 1;

    // ---- Runtime filters, flow steering, IEEE 1588, flow control (issue #19: ixctl) ----------------------
    /** 8.2.3.7.2 VLNCTRL: VLAN EtherType (15:0), VLAN filter enable VFE (bit 30). */
    public static final int VLNCTRL = 0x05088;
    public static final int VLNCTRL_VET_MASK = 0xFFFF;
    public static final int VLNCTRL_VFE = 1 << 30;
    /** 8.2.3.7.23 VFTA[128]: one bit per VLAN id (word id / 32, bit id % 32). */
    public static final int VFTA0 = 0x0A000;
    /** 8.2.3.7.19 ETQF[8]: EtherType (15:0), IEEE 1588 time stamp (30), filter enable (31). */
    public static final int ETQF0 = 0x05128;
    public static final int ETQF_COUNT = 8;
    public static final int ETQF_ETYPE_MASK = 0xFFFF;
    public static final int ETQF_1588 = 1 << 30;
    public static final int ETQF_FILTER_EN = 1 << 31;
    /** 8.2.3.7.20 ETQS[8]: RX queue (22:16), queue enable (31). */
    public static final int ETQS0 = 0x0EC00;
    public static final int ETQS_QUEUE_SHIFT = 16;
    public static final int ETQS_QUEUE_MASK = 0x7F << ETQS_QUEUE_SHIFT;
    public static final int ETQS_QUEUE_EN = 1 << 31;
    /** 8.2.3.7.12-16 5-tuple filters, 128 of each: SAQF, DAQF (addresses as the bytes sit in the header), SDPQF. */
    public static final int SAQF0 = 0x0E000;
    public static final int DAQF0 = 0x0E200;
    public static final int SDPQF0 = 0x0E400;
    public static final int FTQF0 = 0x0E600;
    public static final int L34T_IMIR0 = 0x0E800;
    public static final int FTQF_COUNT = 128;
    /** FTQF: protocol (1:0: TCP 0, UDP 1, SCTP 2, other 3), priority (4:2), pool (13:8), mask (29:25), pool mask (30), enable (31). */
    public static final int FTQF_PROTO_MASK = 0x3;
    public static final int FTQF_PRIO_SHIFT = 2;
    public static final int FTQF_MASK_SHIFT = 25;
    public static final int FTQF_MASK_SRC_ADDR = 1;
    public static final int FTQF_MASK_DST_ADDR = 1 << 1;
    public static final int FTQF_MASK_SRC_PORT = 1 << 2;
    public static final int FTQF_MASK_DST_PORT = 1 << 3;
    public static final int FTQF_MASK_PROTO = 1 << 4;
    public static final int FTQF_POOL_MASK_EN = 1 << 30;
    public static final int FTQF_QUEUE_EN = 1 << 31;
    /** L34T_IMIR: RX queue (27:21). */
    public static final int L34T_IMIR_QUEUE_SHIFT = 21;
    public static final int L34T_IMIR_QUEUE_MASK = 0x7F << L34T_IMIR_QUEUE_SHIFT;

    /** 8.2.3.26 time sync registers (behaviour in 7.9). */
    public static final int TSYNCRXCTL = 0x05188;
    public static final int RXSTMPL = 0x051E8;
    public static final int RXSTMPH = 0x051A4;
    public static final int RXSATRL = 0x051A0;
    public static final int RXSATRH = 0x051A8;
    public static final int TSYNCTXCTL = 0x08C00;
    public static final int TXSTMPL = 0x08C04;
    public static final int TXSTMPH = 0x08C08;
    public static final int SYSTIML = 0x08C0C;
    public static final int SYSTIMH = 0x08C10;
    public static final int TIMINCA = 0x08C14;
    public static final int TIMADJL = 0x08C18;
    public static final int TIMADJH = 0x08C1C;
    public static final int TSYNC_VALID = 1;
    public static final int TSYNC_ENABLED = 1 << 4;
    public static final int TSYNCRXCTL_TYPE_MASK = 0x7 << 1;
    /** TSYNCRXCTL.TYPE 010b: time stamp L2 (V2) and L4 (V1/V2) PTP frames. */
    public static final int TSYNCRXCTL_TYPE_L2_L4_V2 = 0x2 << 1;
    /** TIMINCA: increment period (31:24) in 6.4 ns cycles at 10 Gb/s, increment value (23:0). */
    public static final int TIMINCA_IP_SHIFT = 24;
    public static final int TIMINCA_IV_MASK = 0xFFFFFF;
    /** TIMADJH bit 31: subtract the adjustment. */
    public static final int TIMADJH_SIGN = 1 << 31;
    /** 7.1.6.2 advanced RX write-back: STATUS.TS (bit 16) time stamped; pkt_info ETQF match (15) + index (6:4). */
    public static final int RXD_STAT_TS = 1 << 16;
    public static final int RXD_PKTTYPE_ETQF = 1 << 15;
    public static final int RXD_PKTTYPE_ETQF_SHIFT = 4;
    /** 7.2.3.2.4 advanced TX data descriptor DCMD... MAC.1588 (cmd_type_len bit 19): time stamp this frame. */
    public static final int TXD_MAC_TSTAMP = 1 << 19;

    /** 8.2.3.22.x MFLCN: receive flow control enable RFCE (bit 3), pass MAC control frames (0), discard pause (1). */
    public static final int MFLCN = 0x04294;
    public static final int MFLCN_PMCF = 1;
    public static final int MFLCN_DPF = 1 << 1;
    public static final int MFLCN_RFCE = 1 << 3;
    /** 8.2.3.3.7 FCCFG: transmit 802.3x flow control enable TFCE (bits 4:3 = 01b). */
    public static final int FCCFG = 0x03D00;
    public static final int FCCFG_TFCE_802_3X = 1 << 3;
    /** 8.2.3.3.2-4 FCTTV[0] pause time (15:0), FCRTL[0] low threshold with XONE (31), FCRTH[0] high with FCEN (31). */
    public static final int FCTTV0 = 0x03200;
    public static final int FCRTL0 = 0x03220;
    public static final int FCRTH0 = 0x03260;
    public static final int FC_THRESHOLD_MASK = 0x7FFE0; // bytes, 32-byte granularity (bits 18:5)
    public static final int FCRTL_XONE = 1 << 31;
    public static final int FCRTH_FCEN = 1 << 31;
    /** 8.2.3.23 LXONRXCNT / LXOFFRXCNT: link XON / XOFF received (16 bits, clear on read). */
    public static final int LXONRXCNT = 0x041A4;
    public static final int LXOFFRXCNT = 0x041A8;
    /** 802.3 annex 31B: MAC control frames (EtherType 0x8808), PAUSE opcode 1, quanta of 512 bit times. */
    public static final int ETHERTYPE_MAC_CONTROL = 0x8808;
    public static final int MAC_CONTROL_PAUSE = 0x0001;
    /** One pause quantum at 10 Gb/s: 512 bit times = 51.2 ns, in tenths of a ns. */
    public static final long PAUSE_QUANTUM_DECI_NS = 512;
    // ---- Offloads: checksums, VLAN, TSO, jumbo frames (ixoff) -----------------------------------------
    /** 8.2.3.7.5 RXCSUM.IPPCSE: fragment checksum in write-back dword1 (when PCSD is clear). */
    public static final int RXCSUM_IPPCSE = 1 << 12;
    /** 7.1.6.2 write-back status: VP (802.1Q tag stripped, RXDCTL.VME), UDPCS, L4CS, IPCS. */
    public static final int RXD_STAT_VP = 1 << 3;
    public static final int RXD_STAT_UDPCS = 1 << 4;
    public static final int RXD_STAT_L4CS = 1 << 5;
    public static final int RXD_STAT_IPCS = 1 << 6;
    /** 7.1.6.2 write-back errors: TCPE (TCP/UDP checksum), IPE (IPv4 header checksum). */
    public static final int RXD_ERR_TCPE = 1 << 30;
    public static final int RXD_ERR_IPE = 1 << 31;
    /** 7.1.6.2 write-back dword3 bits 31:16: the stripped VLAN tag. */
    public static final int RXD_VLAN_SHIFT = 16;
    /** 7.2.3.2.3 advanced context descriptor: dword0 IPLEN 8:0, MACLEN 15:9, VLAN 31:16. */
    public static final int TXCTX_IPLEN_MASK = 0x1FF;
    public static final int TXCTX_MACLEN_SHIFT = 9;
    public static final int TXCTX_MACLEN_MASK = 0x7F;
    public static final int TXCTX_VLAN_SHIFT = 16;
    /** dword2 TUCMD (bits 19:9): IPV4 (bit 10), L4T (bits 12:11: 00 UDP, 01 TCP). */
    public static final int TXCTX_TUCMD_IPV4 = 1 << 10;
    public static final int TXCTX_TUCMD_L4T_MASK = 3 << 11;
    public static final int TXCTX_TUCMD_L4T_UDP = 0;
    public static final int TXCTX_TUCMD_L4T_TCP = 1 << 11;
    /** dword3: IDX 6:4, L4LEN 15:8, MSS 31:16. */
    public static final int TXCTX_IDX_SHIFT = 4;
    public static final int TXCTX_L4LEN_SHIFT = 8;
    public static final int TXCTX_MSS_SHIFT = 16;
    /** 7.2.3.2.4 advanced data descriptor olinfo_status: IDX 6:4, CC bit 7, POPTS IXSM bit 8, TXSM bit 9, PAYLEN 31:14. */
    public static final int TXD_OLINFO_IDX_SHIFT = 4;
    public static final int TXD_OLINFO_CC = 1 << 7;
    public static final int TXD_POPTS_IXSM = 1 << 8;
    public static final int TXD_POPTS_TXSM = 1 << 9;
    public static final int TXD_PAYLEN_SHIFT = 14;

    /** Offset of RX queue {@code n}'s register block. */
    public static int rxq(int n) {
        return n < 64 ? RXQ_BASE_LO + QUEUE_STRIDE * n : RXQ_BASE_HI + QUEUE_STRIDE * (n - 64);
    }

    /** Offset of TX queue {@code n}'s register block. */
    public static int txq(int n) {
        return TXQ_BASE + QUEUE_STRIDE * n;
    }

    public static int eitr(int vector) {
        return vector < 24 ? EITR0 + 4 * vector : EITR24 + 4 * (vector - 24);
    }
}
