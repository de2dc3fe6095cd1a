package io.jnic.driver.ixgbe;

/**
 * 82599 registers and descriptor fields used by the driver, named as in the Intel 82599 10 GbE Controller
 * Datasheet (rev. 3.x), with the section that describes each. Offsets are into BAR0.
 */
final class IxgbeRegs {
    private IxgbeRegs() {
    }

    // 8.2.3.1 General control
    /** 8.2.3.1.1 Device Control. */
    static final int CTRL = 0x00000;
    static final int CTRL_PCIE_MASTER_DISABLE = 1 << 2;
    static final int CTRL_LRST = 1 << 3;
    /** Device reset, self-clearing (4.6.3.2). */
    static final int CTRL_RST = 1 << 26;
    static final int CTRL_RST_MASK = CTRL_LRST | CTRL_RST;
    /** 8.2.3.1.2 Device Status. */
    static final int STATUS = 0x00008;
    static final int STATUS_LAN_ID_SHIFT = 2;
    /** 8.2.3.1.3 Extended Device Control. */
    static final int CTRL_EXT = 0x00018;
    /** No Snoop Disable (4.6.7: set before enabling receive). */
    static final int CTRL_EXT_NS_DIS = 1 << 16;
    /** Driver loaded (tells firmware a driver owns the port). */
    static final int CTRL_EXT_DRV_LOAD = 1 << 28;

    // 8.2.3.2 EEPROM / flash
    /** 8.2.3.2.1 EEPROM/Flash Control. */
    static final int EEC = 0x10010;
    /** EEPROM auto-read done (4.6.3). */
    static final int EEC_ARD = 1 << 9;
    /** EEPROM present. */
    static final int EEC_PRES = 1 << 8;
    /** 8.2.3.2.2 EEPROM Read: START bit 0, DONE bit 1, word address bits 15:2, data bits 31:16. */
    static final int EERD = 0x10014;
    static final int EERD_START = 1;
    static final int EERD_DONE = 1 << 1;
    static final int EERD_ADDR_SHIFT = 2;
    static final int EERD_DATA_SHIFT = 16;

    // 10.5.4 Software / firmware synchronisation
    /** 8.2.3.2.x Software Semaphore: SMBI (taken by reading it as 0), SWESMBI (software/firmware). */
    static final int SWSM = 0x10140;
    static final int SWSM_SMBI = 1;
    static final int SWSM_SWESMBI = 1 << 1;
    /** 8.2.3.2.x Firmware Semaphore: FW_VAL, mode (bits 3:1, 0 = no manageability). */
    static final int FWSM = 0x10148;
    /** 8.2.3.2.x SW_FW_SYNC (GSSR): software bits 4:0, firmware bits 9:5. */
    static final int SW_FW_SYNC = 0x10160;
    static final int SYNC_EEP = 1;
    static final int SYNC_PHY0 = 1 << 1;
    static final int SYNC_PHY1 = 1 << 2;
    static final int SYNC_MAC_CSR = 1 << 3;
    static final int SYNC_FW_SHIFT = 5;

    // SFP+ cage (82599 SFP boards)
    /** 8.2.3.1.x Extended SDP Control: SDP2 = module present (input), SDP3 = TX disable (output). */
    static final int ESDP = 0x00020;
    static final int ESDP_SDP2 = 1 << 2;
    static final int ESDP_SDP3 = 1 << 3;
    static final int ESDP_SDP3_DIR = 1 << 11;
    /** 8.2.3.1.x I2C Control: SCL in/out bits 0/1, SDA in/out bits 2/3. */
    static final int I2CCTL = 0x00028;
    static final int I2C_CLK_IN = 1;
    static final int I2C_CLK_OUT = 1 << 1;
    static final int I2C_DATA_IN = 1 << 2;
    static final int I2C_DATA_OUT = 1 << 3;
    /** 8.2.3.22.x Core Analog Configuration: the SFP+ init sequence from the NVM is written here. */
    static final int CORECTL = 0x14F00;

    // 8.2.3.5 Interrupts (behaviour: 7.3)
    static final int EICR = 0x00800;
    static final int EICS = 0x00808;
    static final int EIAC = 0x00810;
    static final int EIMS = 0x00880;
    static final int EIMC = 0x00888;
    static final int EIAM = 0x00890;
    /** 8.2.3.5.18 General Purpose Interrupt Enable. */
    static final int GPIE = 0x00898;
    static final int GPIE_MSIX_MODE = 1 << 4;
    static final int GPIE_OCD = 1 << 5;
    static final int GPIE_EIAME = 1 << 30;
    static final int GPIE_PBA_SUPPORT = 1 << 31;
    /** Every cause but the reserved bit 31 (4.6.3.1: "disable interrupts" writes all ones to EIMC). */
    static final int EIMC_ALL = 0x7FFFFFFF;
    /** 8.2.3.5.1: link status change. */
    static final int EICR_LSC = 1 << 20;
    /** 8.2.3.5.15 IVAR[n]: queue 2n / 2n+1, RX in bits 7:0 / 23:16, TX in 15:8 / 31:24. */
    static final int IVAR0 = 0x00900;
    /** 8.2.3.5.16 IVAR_MISC: bits 7:0 route the TCP timer, bits 15:8 the "other" causes (LSC, ...). */
    static final int IVAR_MISC = 0x00A00;
    static final int IVAR_MISC_OTHER_SHIFT = 8;
    static final int IVAR_ALLOC_VAL = 0x80;
    /** 8.2.3.5.12 EITR: interval in bits 11:3, 2.048 us units (10G link). */
    static final int EITR0 = 0x00820;
    static final int EITR24 = 0x12300;
    static final int EITR_INTERVAL_SHIFT = 3;
    static final int EITR_INTERVAL_MAX = 0x1FF;
    static final long EITR_UNIT_NS = 2048;
    /** 8.2.3.5.13 EITR.CNT_WDIS: write the interval without touching the counter. */
    static final int EITR_CNT_WDIS = 1 << 31;

    static int eitr(int vector) {
        return vector < 24 ? EITR0 + 4 * vector : EITR24 + 4 * (vector - 24);
    }

    // 8.2.3.8 Receive DMA
    static final int RDBAL = 0x00;
    static final int RDBAH = 0x04;
    static final int RDLEN = 0x08;
    static final int DCA_RXCTRL = 0x0C;
    /** DCA_RXCTRL bit 12 must be cleared (4.6.7, "Rx descriptor write back relaxed ordering"). */
    static final int DCA_RXCTRL_DESC_WRO_EN = 1 << 12;
    static final int RDH = 0x10;
    /** 8.2.3.8.7 Split Receive Control. */
    static final int SRRCTL = 0x14;
    static final int SRRCTL_BSIZEPKT_SHIFT = 10; // bits 4:0 hold the size in 1 KB units
    static final int SRRCTL_DESCTYPE_ADV_ONEBUF = 1 << 25;
    static final int SRRCTL_DROP_EN = 1 << 28;
    static final int RDT = 0x18;
    /** 8.2.3.8.6 Receive Descriptor Control. */
    static final int RXDCTL = 0x28;
    static final int RXDCTL_ENABLE = 1 << 25;

    /** RX queue register block: queues 0-63 at 0x1000 + 0x40 n, 64-127 at 0xD000 + 0x40 (n - 64). */
    static int rxq(int n) {
        return n < 64 ? 0x01000 + 0x40 * n : 0x0D000 + 0x40 * (n - 64);
    }

    /** 8.2.3.8.8 Receive DMA Control. */
    static final int RDRXCTL = 0x02F00;
    static final int RDRXCTL_CRCSTRIP = 1 << 1;
    /** DMA init cycle done (4.6.3). */
    static final int RDRXCTL_DMAIDONE = 1 << 3;
    /** 8.2.3.8.10 Receive Control. */
    static final int RXCTRL = 0x03000;
    static final int RXCTRL_RXEN = 1;
    /** 8.2.3.8.9 Receive Packet Buffer Size [8]. */
    static final int RXPBSIZE0 = 0x03C00;
    static final int RXPBSIZE_512KB = 512 << 10;

    // 8.2.3.7 Receive filtering
    /** 8.2.3.7.5 Receive Checksum Control; PCSD puts the RSS hash in the write-back. */
    static final int RXCSUM = 0x05000;
    static final int RXCSUM_PCSD = 1 << 13;
    /** 8.2.3.7.1 Filter Control. */
    static final int FCTRL = 0x05080;
    static final int FCTRL_MPE = 1 << 8;
    static final int FCTRL_UPE = 1 << 9;
    static final int FCTRL_BAM = 1 << 10;
    /** 8.2.3.7.9/10 Receive Address Low/High [128]: RAL 0xA200 + 8 n, RAH 0xA204 + 8 n. */
    static final int RAL0 = 0x0A200;
    static final int RAH0 = 0x0A204;
    static final int RAH_AV = 1 << 31;
    /**
     * 8.2.3.7.12 Multiple Receive Queues Command, at its 82598-compatible address, which Linux's ixgbe programs on
     * the 82599 too and devsim models; RETA and RSSRK below likewise.
     */
    static final int MRQC = 0x05818;
    static final int MRQC_RSS_EN = 0x1;
    static final int MRQC_RSS_FIELD_IPV4_TCP = 1 << 16;
    static final int MRQC_RSS_FIELD_IPV4 = 1 << 17;
    static final int MRQC_RSS_FIELD_IPV6 = 1 << 20;
    static final int MRQC_RSS_FIELD_IPV6_TCP = 1 << 21;
    static final int MRQC_RSS_FIELD_IPV4_UDP = 1 << 22;
    static final int MRQC_RSS_FIELD_IPV6_UDP = 1 << 23;
    /** 8.2.3.7.13 Redirection Table: 32 registers of four 8-bit entries (bits 3:0 used). */
    static final int RETA0 = 0x05C00;
    static final int RETA_ENTRIES = 128;
    /** 8.2.3.7.14 RSS Random Key: 10 registers, key byte 0 in bits 7:0 of RSSRK[0]. */
    static final int RSSRK0 = 0x05C80;
    static final int RSS_KEY_BYTES = 40;

    // 8.2.3.22 MAC
    /** 8.2.3.22.8 MAC Core Control 0. */
    static final int HLREG0 = 0x04240;
    static final int HLREG0_TXCRCEN = 1;
    static final int HLREG0_RXCRCSTRP = 1 << 1;
    static final int HLREG0_JUMBOEN = 1 << 2;
    static final int HLREG0_TXPADEN = 1 << 10;
    /** 8.2.3.22.13 Max Frame Size (MAXFRS, was MHADD): MFS in bits 31:16. */
    static final int MAXFRS = 0x04268;
    static final int MAXFRS_MFS_SHIFT = 16;
    /** 8.2.3.22.19 Auto Negotiation Control. */
    static final int AUTOC = 0x042A0;
    static final int AUTOC_AN_RESTART = 1 << 12;
    static final int AUTOC_LMS_MASK = 0x7 << 13;
    static final int AUTOC_LMS_10G_SERIAL = 0x3 << 13;
    static final int AUTOC_10G_PMA_PMD_MASK = 0x3 << 7;
    static final int AUTOC_10G_XAUI = 0;
    /** 8.2.3.22.21 AUTOC2: 10G serial PMA/PMD (bits 17:16, 10b = SFI); link disable bits 30:28. */
    static final int AUTOC2 = 0x042A8;
    static final int AUTOC2_10G_PMA_PMD_MASK = 0x3 << 16;
    static final int AUTOC2_10G_SFI = 0x2 << 16;
    static final int AUTOC2_LINK_DISABLE_MASK = 0x7 << 28;
    /** 8.2.3.22.20 Link Status. */
    static final int LINKS = 0x042A4;
    static final int LINKS_UP = 1 << 30;
    static final int LINKS_SPEED_SHIFT = 28;
    static final int LINKS_SPEED_MASK = 0x3;
    static final int LINKS_SPEED_100M = 0x1;
    static final int LINKS_SPEED_1G = 0x2;
    static final int LINKS_SPEED_10G = 0x3;

    // 8.2.3.9 Transmit
    /** 8.2.3.9.1 DMA Tx Control. */
    static final int DMATXCTL = 0x04A80;
    static final int DMATXCTL_TE = 1;
    /** 8.2.3.9.16 DCB Transmit Descriptor Plane Control: ARBDIS while MTQC is set (4.6.11.3.4). */
    static final int RTTDCS = 0x04900;
    static final int RTTDCS_ARBDIS = 1 << 6;
    /** 8.2.3.9.15 Multiple Transmit Queues Command. */
    static final int MTQC = 0x08120;
    /** 8.2.3.9.13 Transmit Packet Buffer Size [8]. */
    static final int TXPBSIZE0 = 0x0CC00;
    static final int TXPBSIZE_160KB = 160 << 10;
    /** 8.2.3.9.14 DMA Tx TCP Max Allowed Size Requests. */
    static final int DTXMXSZRQ = 0x08100;
    static final int TDBAL = 0x00;
    static final int TDBAH = 0x04;
    static final int TDLEN = 0x08;
    static final int TDH = 0x10;
    static final int TDT = 0x18;
    /** 8.2.3.9.10 Transmit Descriptor Control: thresholds PTHRESH 6:0, HTHRESH 14:8, WTHRESH 22:16. */
    static final int TXDCTL = 0x28;
    static final int TXDCTL_ENABLE = 1 << 25;

    static int txq(int n) {
        return 0x06000 + 0x40 * n;
    }

    // 8.2.3.23 Statistics (clear on read)
    static final int CRCERRS = 0x04000;
    static final int ILLERRC = 0x04004;
    static final int ERRBC = 0x04008;
    static final int MPC0 = 0x03FA0; // [8]
    static final int RLEC = 0x04040;
    /** 8.2.3.23 QPRDC[16]: packets dropped by queue n for want of a descriptor (SRRCTL.DROP_EN). */
    static final int QPRDC0 = 0x01430;
    static final int GPRC = 0x04074;
    static final int BPRC = 0x04078;
    static final int MPRC = 0x0407C;
    static final int GPTC = 0x04080;
    static final int GORCL = 0x04088;
    static final int GORCH = 0x0408C;
    static final int GOTCL = 0x04090;
    static final int GOTCH = 0x04094;
    static final int RNBC0 = 0x03FC0; // [8]
    static final int RUC = 0x040A4;
    static final int RFC = 0x040A8;
    static final int ROC = 0x040AC;
    static final int RJC = 0x040B0;
    static final int TORL = 0x040C0;
    static final int TORH = 0x040C4;
    static final int TPR = 0x040D0;
    static final int TPT = 0x040D4;
    static final int MPTC = 0x040F0;
    static final int BPTC = 0x040F4;

    // The descriptor formats (7.1.6, 7.2.3): io.jnic.driver.intel.AdvDescriptors

    // PCI config space (9.3.3)
    static final int PCI_COMMAND = 0x04;
    static final int PCI_COMMAND_MEMORY = 1 << 1;
    static final int PCI_COMMAND_MASTER = 1 << 2;

    // ---- Runtime filters, flow control, link settings, flow steering, IEEE 1588 (issue #19: ixctl) -------------
    /** 8.2.3.7.2 VLNCTRL: VLAN filter enable VFE (bit 30); VET (15:0) stays 0x8100. */
    static final int VLNCTRL = 0x05088;
    static final int VLNCTRL_VFE = 1 << 30;
    /** 8.2.3.7.3 MCSTCTRL: MO (1:0) = 00b takes address bits 47:36 for the MTA index; MFE (bit 2) enables it. */
    static final int MCSTCTRL = 0x05090;
    static final int MCSTCTRL_MFE = 1 << 2;
    /** 8.2.3.7.7 MTA[128]: the 4096-bit multicast hash table. */
    static final int MTA0 = 0x05200;
    static final int MTA_REGS = 128;
    /** 8.2.3.7.9/10: 128 receive address registers. */
    static final int RAR_ENTRIES = 128;
    /** 8.2.3.7.23 VFTA[128]: one bit per VLAN id. */
    static final int VFTA0 = 0x0A000;
    static final int VFTA_REGS = 128;
    /** 8.2.3.7.19 ETQF[8] / 8.2.3.7.20 ETQS[8]: EtherType filters and their queue selection. */
    static final int ETQF0 = 0x05128;
    static final int ETQS0 = 0x0EC00;
    static final int ETQF_COUNT = 8;
    static final int ETQF_1588 = 1 << 30;
    static final int ETQF_FILTER_EN = 1 << 31;
    static final int ETQS_QUEUE_SHIFT = 16;
    static final int ETQS_QUEUE_EN = 1 << 31;
    /** ETQF slot the driver keeps for the IEEE 1588 EtherType while time sync is on (Linux and DPDK use 3). */
    static final int ETQF_SLOT_1588 = 3;
    static final int ETHERTYPE_1588 = 0x88F7;
    /** 8.2.3.7.12-16 5-tuple filters (128): SAQF, DAQF, SDPQF (src 15:0, dst 31:16), FTQF, L34T_IMIR. */
    static final int SAQF0 = 0x0E000;
    static final int DAQF0 = 0x0E200;
    static final int SDPQF0 = 0x0E400;
    static final int FTQF0 = 0x0E600;
    static final int L34T_IMIR0 = 0x0E800;
    static final int FTQF_COUNT = 128;
    static final int FTQF_PROTO_TCP = 0;
    static final int FTQF_PROTO_UDP = 1;
    static final int FTQF_PROTO_SCTP = 2;
    static final int FTQF_PRIO_SHIFT = 2;
    static final int FTQF_MASK_SHIFT = 25;
    static final int FTQF_MASK_SRC_ADDR = 1;
    static final int FTQF_MASK_DST_ADDR = 1 << 1;
    static final int FTQF_MASK_SRC_PORT = 1 << 2;
    static final int FTQF_MASK_DST_PORT = 1 << 3;
    static final int FTQF_MASK_PROTO = 1 << 4;
    static final int FTQF_POOL_MASK_EN = 1 << 30;
    static final int FTQF_QUEUE_EN = 1 << 31;
    /** L34T_IMIR: RX queue (27:21); size and control-bit checks bypassed (bits 12, 19) as DPDK does. */
    static final int L34T_IMIR_QUEUE_SHIFT = 21;
    static final int L34T_IMIR_SIZE_BP = 1 << 12;
    static final int L34T_IMIR_CTRL_BP = 1 << 19;

    /** 8.2.3.22.x MFLCN: receive flow control enable RFCE (bit 3). */
    static final int MFLCN = 0x04294;
    static final int MFLCN_RFCE = 1 << 3;
    /** 8.2.3.3.7 FCCFG: transmit 802.3x flow control TFCE (bits 4:3 = 01b). */
    static final int FCCFG = 0x03D00;
    static final int FCCFG_TFCE_802_3X = 1 << 3;
    /** 8.2.3.3.2-4: pause time FCTTV[4] (two 16-bit values each), low/high thresholds FCRTL/FCRTH[8], refresh FCRTV. */
    static final int FCTTV0 = 0x03200;
    static final int FCRTL0 = 0x03220;
    static final int FCRTH0 = 0x03260;
    static final int FCRTV = 0x032A0;
    static final int FCRTL_XONE = 1 << 31;
    static final int FCRTH_FCEN = 1 << 31;
    /** AUTOC.LMS 001b: 10 Gb/s link, no autonegotiation (8.2.3.22.19). */
    static final int AUTOC_LMS_10G_NO_AN = 0x1 << 13;

    /** 8.2.3.26 time sync (behaviour in 7.9). */
    static final int TSYNCRXCTL = 0x05188;
    static final int RXSTMPL = 0x051E8;
    static final int RXSTMPH = 0x051A4;
    static final int TSYNCTXCTL = 0x08C00;
    static final int TXSTMPL = 0x08C04;
    static final int TXSTMPH = 0x08C08;
    static final int SYSTIML = 0x08C0C;
    static final int SYSTIMH = 0x08C10;
    static final int TIMINCA = 0x08C14;
    static final int TIMADJL = 0x08C18;
    static final int TIMADJH = 0x08C1C;
    static final int TSYNC_VALID = 1;
    static final int TSYNC_ENABLED = 1 << 4;
    /** TSYNCRXCTL.TYPE 010b: L2 and L4 PTP event messages. */
    static final int TSYNCRXCTL_TYPE_L2_L4_V2 = 0x2 << 1;
    static final int TIMINCA_IP_SHIFT = 24;
    static final int TIMADJH_SIGN = 1 << 31;
    // ---- Offloads: checksums, VLAN strip/insert, TSO, multi-segment frames (ixoff) ----------------------
    /** 8.2.3.8.10 RXDCTL.VME: strip 802.1Q tags on this queue (the 82599 strips per queue). */
    static final int RXDCTL_VME = 1 << 30;
}
