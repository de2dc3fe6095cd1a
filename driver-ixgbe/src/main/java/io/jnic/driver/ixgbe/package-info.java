/**
 * Driver for Intel's 82599 family (82599, X520; X540 and X550 ids are recognised and refused at probe, naming the
 * part: their PHY, link and NVM procedures differ and are not implemented):
 * {@link io.jnic.driver.ixgbe.IxgbeDriver} is the {@link io.jnic.ethdev.EthDriver} ServiceLoader finds,
 * {@link io.jnic.driver.ixgbe.IxgbeDevice} the port (init of datasheet 4.6.3, receive 4.6.7, transmit 4.6.8,
 * RSS, statistics, MSI-X); the data path over descriptor rings in memzones is the Intel queue kit
 * ({@link io.jnic.driver.intel}: RxQueue, TxQueue), driven through the mapped RDT/TDT registers. Sections cited are
 * those of the Intel 82599 10 GbE Controller Datasheet.
 *
 * <h2>Probe and the datasheet's initialisation flow (4.6.3)</h2>
 * What probe does, in the datasheet's order, and what it leaves out:
 * <ol>
 * <li>4.6.3.1: all interrupts masked (EIMC) before the reset and again after it.</li>
 * <li>4.6.3.2 global reset: CTRL.RST (with LRST), at least 1 ms before polling, then CTRL.RST clear; EEC.ARD (the
 * EEPROM auto-read) and RDRXCTL.DMAIDONE (DMA init done).</li>
 * <li>The NVM (82599 parts, once per probe): its checksum is verified under the EEPROM semaphore (SW_FW_SYNC.EEP,
 * taken through SWSM.SMBI / SWESMBI, 10.5.4): words 0x00-0x3F plus the sections of pointers 0x03-0x0E sum to
 * 0xBABA. A bad checksum refuses the port with both values and what to do, as the hardware loaded its
 * configuration from that image.</li>
 * <li>CTRL_EXT.DRV_LOAD: a driver owns the port.</li>
 * <li>4.6.4 link setup on SFP+ ports (82599 SFP ids): module presence from ESDP.SDP2; the module's serial ID
 * (SFF-8472 at I2C address 0xA0: identifier and compliance codes, bytes 0-8; vendor name, OUI and part number,
 * bytes 20-55) read by bit-banging I2CCTL with the port's PHY semaphore held;
 * 10GBASE-SR/LR optics and passive direct-attach cables are taken, anything else refuses the port naming the
 * module; the NVM's init sequence for that module type (PHY init list, word 0x2B) is written to CORECTL under the
 * MAC CSR semaphore; the laser is switched on (SDP3 low), AUTOC2 selects SFI, AUTOC.LMS 10 Gb/s serial, and link
 * training restarts. An empty cage is not an error (WARNING; the link stays down until a module is plugged in and
 * the port restarted). Backplane ports get AUTOC.LMS 10 Gb/s serial with a restart; copper X540/X550 ports bring
 * their PHY up themselves.</li>
 * <li>4.6.5 statistics: read once and zeroed in software (the reset cleared them).</li>
 * <li>Interrupts (7.3): MSI-X vector 0 for the link, queue vectors at start.</li>
 * <li>4.6.7 receive and 4.6.8 transmit initialisation at start.</li>
 * </ol>
 * Skipped, and why: flow control at probe (4.6.3.2 FCRTL/FCRTH/FCTTV/FCRTV keep their reset values, "no flow
 * control", until {@code flowControl} asks for it: {@link io.jnic.driver.ixgbe.IxgbeFilters}); DCB (4.6.11), virtualisation (4.6.10, VMDq/SR-IOV), FCoE (4.6.9)
 * and the security offloads (4.6.12): not offered by this driver, their reset values are the "off" settings;
 * multispeed fibre (1 Gb/s fallback of dual-rate optics) and the SFP+ hot-plug interrupt (GPI SDP2): the port
 * runs at 10 Gb/s and takes a module change at its next restart; the SAN / alternate MAC addresses and
 * manageability (firmware pass-through): the port uses RAR[0] only and expects no manageability firmware (FWSM
 * mode 0); low-power link settings (D3 link disable, LPLU) concern power management, which the driver does not do.
 *
 * <h2>Run-time control, flow steering, IEEE 1588</h2>
 * {@link io.jnic.driver.ixgbe.IxgbeFilters}: all-multicast (FCTRL.MPE), the multicast hash table (MTA, MCSTCTRL),
 * unicast filters RAR 1-127, the VLAN filter (VFTA, VLNCTRL.VFE with the VLAN_FILTER offload), AUTOC link mode
 * and 802.3x flow control. {@link io.jnic.driver.ixgbe.IxgbeFlows}: rules on the 8 EtherType and 128 5-tuple
 * filters (a queue, or DROP through queue 127, which the driver never enables). {@link io.jnic.driver.ixgbe.IxgbeTimesync}: SYSTIM in
 * nanoseconds (32 ns steps), time stamps of 0x88F7 frames; the RX stamp is read by the process polling the queue
 * when it has the registers (a secondary maps only the queue pages: its PTP frames carry RX_IEEE1588_PTP without a
 * time stamp). All of it is written again after every global reset (restart, recovery).
 *
 * <h2>A device that resets itself</h2>
 * After a reset the driver did not ask for (power glitch, firmware, a PCIe reset; devsim's {@code reset P}) an
 * 82599 holds its registers' reset values: CTRL_EXT.DRV_LOAD, which the driver sets at probe, reads 0, so do
 * RXDCTL/TXDCTL.ENABLE; interrupt causes and masks are cleared (no interrupt tells), DMA stops, the link
 * retrains. Linux's ixgbe notices such conditions in its service task and does a down/up of the interface
 * (rings emptied and refilled); DPDK's ixgbe leaves it to the application (rte_eth_dev_reset, then configure and
 * start). Here the port's slow-path thread (link interrupts, and a watchdog turn every 100 ms: one trapped read
 * of CTRL_EXT) notices DRV_LOAD clear and re-initialises the port by itself, with its queues as they are set up
 * and whichever process drives them:
 * <ol>
 * <li>every queue's generation ({@code QueueMemory}'s state block) is made odd; the process bursting on the queue
 * reads the generation with one plain load per burst, and on a change writes it back as acknowledged and leaves
 * the ring alone. The re-initialiser waits (at most 1 s) for the acknowledgements of the queues' driving
 * processes (recorded by pid in the state; none, dead or zombie: not waited for);</li>
 * <li>the TX rings' mbufs (what the shared state counts in flight) go back to their pools;</li>
 * <li>the 4.6.3 sequence (masks, CTRL.RST, EEPROM auto-read, DMA init done, DRV_LOAD, link setup), the MAC
 * address and link interrupt, then 4.6.7 / 4.6.8 for every queue with the same rings: each RX descriptor gets its
 * slot's own buffer again (no mbuf freed or taken; what the device wrote back and nobody read is lost, as frames
 * are on a reset wire), the rings restart at 0, RX interrupts are routed again;</li>
 * <li>the generation is made even: each driving process reloads its indices from the state on its next burst
 * (an RX ring's buffers are marked as its own again, for the pool audit).</li>
 * </ol>
 * One WARNING line says what happened and how long it took; {@link io.jnic.ethdev.EthDevice#addResetListener}
 * hears the reset noticed and the port running again. A re-initialisation that fails (the device does not come
 * back) leaves the queues paused and is retried on the next watchdog turn. CTRL_EXT reading all ones (removed
 * device, dead PCIe link) is reported once; there is nothing to re-initialise. A process that waits longer than
 * 1 s inside one burst (stopped by a signal mid-burst) is the case the pause cannot cover.
 *
 * <h2>Offloads, jumbo frames, chains</h2>
 * What {@link io.jnic.ethdev.PortConfig#withRxOffloads}/{@code withTxOffloads} enable: RX checksum verdicts
 * (7.1.6.2 IPCS/L4CS with IPE/TCPE to RX_IP/L4_CKSUM_GOOD/BAD, nothing where the device gave none; bad
 * checksums are delivered, flagged), VLAN strip (RXDCTL.VME per queue: vlan_tci, RX_VLAN | RX_VLAN_STRIPPED),
 * SCATTER (a frame over several buffers arrives as a chain); TX checksums, VLAN insert and TSO through an
 * advanced context descriptor (7.2.3.2.3, written only when it differs from the queue's last one; the driver
 * puts the pseudo header's sum in the TCP/UDP checksum field, as 7.2.5 expects), MULTI_SEGS (a chain goes out
 * over several data descriptors, whole or not at all; at most 40 per packet). The MTU (MAXFRS, HLREG0.JUMBOEN)
 * goes up to 9710 and may change on a stopped port. Packets and queues without offloads keep the plain paths:
 * RX picks its loop once per queue, TX tests ol_flags and next with the header line it reads anyway. The
 * offloads sit in the queue's shared state, so a process taking the queue over decodes the same way.
 *
 * <h2>What the device writes is checked</h2>
 * RX write-backs: DD, then EOP present (within 32 descriptors with SCATTER), no RXE, a length of 1 to the buffer's
 * size; anything else drops the frame,
 * reuses its buffer and counts it in the queue's shared state ({@code rx_bad_length_writebacks},
 * {@code rx_bad_status_writebacks} in the port owner's xstats). TX: only the DD bit of RS descriptors is read
 * (RS goes on a packet's last descriptor; a group of descriptors that ends inside a packet is done when that
 * packet's last one is).
 * Head pointers (RDH, TDH) are never read on the data path, so a device reporting heads outside its rings
 * changes nothing.
 */
package io.jnic.driver.ixgbe;
