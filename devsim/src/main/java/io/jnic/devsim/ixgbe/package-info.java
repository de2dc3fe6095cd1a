/**
 * A behavioural model of one Intel 82599 port (PCI function), from the Intel 82599 10 GbE Controller
 * Datasheet. Register offsets and bits are in {@link io.jnic.devsim.ixgbe.IxgbeRegs}.
 *
 * <h2>What is modelled (datasheet sections)</h2>
 * <ul>
 *   <li>PCI: config space with PM, MSI, MSI-X (64 vectors, table/PBA in BAR4) and PCIe capabilities, 64-bit
 *       BAR0 of 128 KB and BAR4 of 16 KB, Bus Master Enable gating DMA, FLR (9.3).</li>
 *   <li>Reset and initialisation (4.6.3): CTRL.RST self-clearing at the next device turn and resetting every
 *       register, EEC.ARD and RDRXCTL.DMAIDONE set when reset completes, CTRL.LRST, STATUS (LAN id, link up,
 *       GIO master enable), the EEPROM MAC address in RAL/RAH[0] (also at the 82598 alias 0x5400).</li>
 *   <li>Link (8.2.3.22): AUTOC.AN_RESTART (self-clearing) and reset start link training, LINKS shows up at
 *       10 Gb/s when the wire has carrier; every change raises EICR.LSC.</li>
 *   <li>Receive (7.1): RXCTRL.RXEN, L2 filtering with FCTRL.UPE/MPE/BAM, the 128 receive addresses and
 *       the multicast table (MTA with MCSTCTRL.MFE/MO) (7.1.1.1), size checks against 64 bytes and 1518 (1522 tagged) or
 *       MAXFRS.MFS with HLREG0.JUMBOEN, HLREG0.RXCRCSTRP (FCS appended when clear), RSS (7.1.2.8): Toeplitz
 *       over IPv4/IPv6 addresses and TCP/UDP ports as enabled by MRQC, hash function priority as in 7.1.2.8.1,
 *       RETA (128 entries, hash bits 6:0, 4-bit queue index), RSSRK; advanced one-buffer descriptors (7.1.6):
 *       read format, write-back with RSS type, packet type, RSS hash (RXCSUM.PCSD) or IP id, status DD/EOP,
 *       length; frames larger than a buffer span descriptors. Checksums (7.1.11, {@code ChecksumModel}): the
 *       IPv4 header and TCP/UDP checksums of every frame are verified, the verdict goes in the last descriptor
 *       (IPCS/L4CS/UDPCS, IPE/TCPE; none for non-IP, fragments, other protocols, UDP checksum 0); RXDCTL.VME
 *       strips an 802.1Q tag (EtherType 0x8100, VLNCTRL.VET not modelled) into the write-back with VP. The packet buffer (RXPBSIZE[0]) holds frames
 *       while their queue has no descriptors (SRRCTL.DROP_EN clear, head-of-line as in hardware) or drops
 *       them at once (DROP_EN set, QPRDC); a full buffer counts MPC and raises EICR.RX_MISS.</li>
 *   <li>Run-time filters and steering ({@link io.jnic.devsim.ixgbe.FlowFilters}): the VLAN filter (VLNCTRL.VFE with
 *       VFTA; VET resets to 0x8100) after the address filter; then the queue filters in 7.1.2's order: an
 *       EtherType filter (ETQF, 8) whose ETQS has QUEUE_EN, the 5-tuple filters (FTQF/SAQF/DAQF/SDPQF/L34T_IMIR,
 *       128, IPv4; the highest FTQF priority wins, the lower index on a tie; mask bits skip fields), then RSS. An
 *       ETQF match reports its index in the write-back's pkt_info (ETQF bit 15, index 6:4).</li>
 *   <li>IEEE 1588 ({@link io.jnic.devsim.ixgbe.Timesync}, 7.9): SYSTIM advanced by TIMINCA (IV per IP cycles of
 *       6.4 ns, on one grid for every port), SYSTIML latching SYSTIMH, SYSTIM writes, TIMADJL/H; frames matching an
 *       ETQF with the 1588 flag are stamped with their arrival time (a cable's due time) when TSYNCRXCTL.EN and
 *       the latch is free (STATUS.TS, RXSTMPL/H, RXSATRL/H; reading RXSTMPH frees it); a frame whose descriptor has
 *       MAC.1588 latches TXSTMPL/H as it leaves (TSYNCTXCTL.VALID; reading TXSTMPH frees it). UDP (L4) PTP
 *       messages are not recognised: only the EtherType filter marks frames.</li>
 *   <li>802.3x flow control (3.7.7): with MFLCN.RFCE a received PAUSE frame stops transmission for its pause
 *       time (51.2 ns quanta) or resumes it (0), is consumed and counted (LXOFFRXCNT/LXONRXCNT); without RFCE it is
 *       an ordinary multicast frame. With FCCFG.TFCE and FCRTH[0].FCEN the packet buffer reaching FCRTH sends an
 *       XOFF with FCTTV[0]'s time, draining below FCRTL sends an XON (XONE); FCRTV refreshes are not modelled.</li>
 *   <li>Transmit (7.2): DMATXCTL.TE, advanced data descriptors and legacy descriptors (DTALEN, EOP, RS, DEXT,
 *       DTYP), advanced context descriptors into the queue's two slots (7.2.3.2.3) and, by the packet's first
 *       data descriptor ({@code TsoSegmenter}): IXSM/TXSM checksums (the L4 field's pseudo-header sum added in,
 *       7.2.5), VLE tag insertion (EtherType 0x8100), TSE segmentation (7.2.4: MSS, per-segment IP length and id,
 *       TCP sequence, FIN/PSH on the last segment, checksums); DD write-back for RS descriptors, TDH, head
 *       write-back (TDWBAL/H), HLREG0.TXPADEN padding to 64 bytes, HLREG0.LPBK MAC loopback.</li>
 *   <li>Queues: 128 RX and 128 TX queues; software sets RXDCTL/TXDCTL.ENABLE, the model latches the ring on
 *       its next turn and clears ENABLE again when the ring is invalid (length not a multiple of 128, base not
 *       128-byte aligned, not DMA-mapped, legacy RX descriptors) with a logged reason.</li>
 *   <li>Interrupts (7.3): EICR read-to-clear (with GPIE.OCD only the other-cause bits 31:16), write-1-to-clear, EICS,
 *       EIMS/EIMC, EIAC auto-clear (vectors 16-63 always auto-clear), EIAM with GPIE.EIAME, the extended
 *       EICS/EIMS/EIMC/EIAM registers for vectors 0-63, IVAR queue-to-vector mapping and IVAR_MISC for other
 *       causes, EITR minimum interval (2.048 us units), MSI-X or, without GPIE.MSIX_MODE, one INTx/MSI.</li>
 *   <li>Statistics (8.2.3.23), clear on read: CRCERRS, RLEC, RUC, RFC, ROC, RJC, PRC64-1522, GPRC, BPRC, MPRC,
 *       GORCL/H, TORL/H, TPR, GPTC, GOTCL/H, TPT, PTC64-1522, MPTC, BPTC, MPC, RNBC, RXDGPC, TXDGPC and the
 *       per-queue QPRC, QBRC, QPRDC, QPTC, QBTC through RQSMR/TQSM (all queues map to index 0 at reset).
 *       64-bit pairs: reading the low half returns and clears the counter and latches the high half.</li>
 *   <li>The NVM ({@link io.jnic.devsim.ixgbe.Nvm}, {@link io.jnic.devsim.ixgbe.EepromImage}; 8.2.3.2, chapter 6):
 *       each port has its own 2048-word image with a valid checksum (words 0x00-0x3F plus the sections of pointers
 *       0x03-0x0E sum to 0xBABA), its MAC address in its LAN core module (what a reset loads into RAL/RAH[0]), a
 *       PBA block, an ETrack id, a firmware module whose pass-through patch version DPDK checks, and the SFP+ PHY
 *       init list with CORECTL sequences. EERD reads, EEWR writes (the image keeps them across resets), EEC shows
 *       PRES, ARD, SIZE and grants EE_REQ at once; while granted, EEC's SK/CS/DI/DO pins talk to an SPI serial
 *       EEPROM (READ, RDSR, WREN/WRDI, WRITE).</li>
 *   <li>Semaphores ({@link io.jnic.devsim.ixgbe.Semaphores}; 10.5.4): SWSM.SMBI taken by the read that finds it
 *       0, SWESMBI by writing it, SW_FW_SYNC software bits changed only under SWESMBI, firmware bits never set;
 *       FWSM = firmware valid, no manageability. Holders that never release are released after 1 s (SWSM) or
 *       10 s (a SW_FW_SYNC bit), with a WARNING.</li>
 *   <li>The SFP+ cage ({@link io.jnic.devsim.ixgbe.SfpCage}, {@link io.jnic.devsim.ixgbe.SfpModule},
 *       {@link io.jnic.devsim.ixgbe.I2cBus}): ESDP.SDP2 = module present (input), SDP3 = TX disable (output, laser
 *       off when high), GPI SDP2 on a module change with GPIE.SDP2_GPIEN; a 10GBASE-SR module's serial ID
 *       (SFF-8472, Intel OUI) at I2C address 0xA0, bit-banged through I2CCTL (open drain, START/STOP, ACK/NACK,
 *       random and sequential reads); nothing answers at 0xA2 or in an empty cage. CORECTL writes are accepted and
 *       logged (DEBUG).</li>
 *   <li>The link ({@link io.jnic.devsim.ixgbe.LinkModel}; 8.2.3.22): AUTOC (LMS, self-clearing AN_RESTART),
 *       AUTOC2 (SFI, link disable), ANLP1's AN state leaving 0 after a restart, LINKS up at 10 Gb/s after the link
 *       delay in the 10 Gb/s modes while the far end has carrier, the module is in and its laser on.</li>
 *   <li>Every register a driver touches that the model does not implement is logged once (name where known, offset,
 *       read or write) and listed by devsim's {@code unmodelled} control command and at exit
 *       ({@link io.jnic.devsim.ixgbe.UnmodelledRegisters}).</li>
 * </ul>
 *
 * <h2>Where each part lives</h2>
 * {@link io.jnic.devsim.ixgbe.Ixgbe82599} puts a port together: it dispatches trapped registers, resets, follows
 * the link and runs the device loop. BAR0 is {@code RegisterFile}; the statistics registers {@code Statistics};
 * receive (filters, RSS, descriptor write-back, packet buffer) {@code RxEngine}; transmit (descriptors, context
 * slots, offloads, loopback) {@code TxEngine}; interrupts {@code InterruptModel}; 802.3x {@code FlowControl};
 * injected faults {@code Faults}; the switches both paths obey (link up, resetting, bus master) {@code PortState}.
 *
 * <h2>Deviations a driver author must know</h2>
 * <ul>
 *   <li>Queue pages (0x1000-0x1FFF, 0x6000-0x7FFF, 0xD000-0xDFFF) are plain shared memory: a write there is
 *       seen by the model on its next turn (so ENABLE reads back 1 at once, and the ring is latched a few
 *       microseconds later), and reads cannot have side effects. The per-queue counters inside those pages
 *       (QPRC/QBRC at 0x1030+0x40n, QPRDC at 0x1430+0x40n, the 82598-layout QPTC at 0x6030+0x40n) read 0
 *       through a mapping; a trapped read (a vfio-user REGION_READ) returns and clears them. QPTC/QBTC at
 *       0x8680/0x8700 are trapped and always work.</li>
 *   <li>Registers, bits and features not listed above (priority flow control, DCB, VMDq/SR-IOV, flow director,
 *       RSC, header split, LinkSec/IPsec, the
 *       flash, MDIO PHY access, manageability, multispeed fibre) are not modelled: their registers read 0 (a few
 *       common ones keep what is written) and the first access of each is logged once.</li>
 *   <li>Wires carry frames without their FCS: transmit always behaves as if DCMD.IFCS and HLREG0.TXCRCEN
 *       were set (the FCS is counted, never taken from the buffer); corrupted FCSs come from the
 *       {@code crc-errors} fault.</li>
 *   <li>The MSI-X table is storage only: vectors are routed by the transport (vfio-user SET_IRQS), as VFIO
 *       does; the PBA shows armed vectors.</li>
 *   <li>RLEC counts 802.3 length-field mismatches (HLREG0.RXLNGTHERREN) but the frame is still received.</li>
 * </ul>
 *
 * <h2>Faults</h2>
 * Link down/up, drops, CRC errors, a stalled device, reordered write-backs, a reset the driver did not ask for
 * ({@link io.jnic.devsim.ixgbe.Ixgbe82599#faultReset}: every register to its reset value, no interrupt), and a
 * hostile device ({@link io.jnic.devsim.ixgbe.Ixgbe82599#faultHostile}: RX write-backs with a length past any
 * buffer, a length of 0, no EOP or the RXE error bit, in turn, and RDH/TDH outside their rings, counted so that a
 * test can check that the driver dropped exactly those).
 */
package io.jnic.devsim.ixgbe;
