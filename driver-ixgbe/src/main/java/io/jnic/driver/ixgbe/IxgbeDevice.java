package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.*;

import io.jnic.driver.intel.AdvDescriptors;
import io.jnic.driver.intel.IntelQueuePair;
import io.jnic.driver.intel.QueueGeneration;
import io.jnic.driver.intel.QueueMemory;
import io.jnic.driver.intel.RxOffloads;
import io.jnic.driver.intel.RxQueue;
import io.jnic.driver.intel.TxContext;
import io.jnic.driver.intel.TxQueue;
import io.jnic.ethdev.DeviceInfo;
import io.jnic.ethdev.DmaMappings;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortReset;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueuePair;
import io.jnic.ethdev.RxInterrupts;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.lang.System.Logger.Level;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An 82599-family port. Probe runs the initialisation of datasheet 4.6.3 (interrupts off, global reset,
 * EEPROM auto-read, DMA init done, link setup 4.6.4, statistics reset 4.6.5); {@link #start} runs receive
 * (4.6.7) and transmit (4.6.8) initialisation with the queue-enable handshakes. Interrupts are MSI-X (7.3):
 * vector 0 takes the "other" causes (link status change, routed by IVAR_MISC), vector 1 + q takes RX queue q
 * (IVAR) when RX interrupts are configured.
 *
 * <p>The port owns its {@link PciDevice} and closes it with the port.
 */
public final class IxgbeDevice extends EthDevice {
    private static final System.Logger LOG = System.getLogger(IxgbeDevice.class.getName());
    /** 82599: 128 queues each way; we use up to 64 (one register block page for RX, 16 RSS outputs). */
    public static final int MAX_RX_QUEUES = 16;
    public static final int MAX_TX_QUEUES = 64;
    public static final int MIN_RING = 64;
    public static final int MAX_RING = 4096;
    /** RDLEN/TDLEN must be multiples of 128 bytes (8.2.3.8.3, 8.2.3.9.7): 8 descriptors. */
    public static final int RING_ALIGN = 8;
    public static final int MAX_FRAME = 9728;
    /** Ethernet header + FCS + one VLAN tag: frame size = MTU + this. */
    static final int FRAME_OVERHEAD = 18;
    /** A random-looking default Toeplitz key (the one Microsoft's RSS specification verifies with). */
    static final byte[] DEFAULT_RSS_KEY = {
        0x6d, 0x5a, 0x56, (byte) 0xda, 0x25, 0x5b, 0x0e, (byte) 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, (byte) 0xa3,
        (byte) 0x8f, (byte) 0xb0, (byte) 0xd0, (byte) 0xca, 0x2b, (byte) 0xcb, (byte) 0xae, 0x7b, 0x30, (byte) 0xb4,
        0x77, (byte) 0xcb, 0x2d, (byte) 0xa3, (byte) 0x80, 0x30, (byte) 0xf2, 0x0c, 0x6a, 0x42, (byte) 0xb7, 0x3b,
        (byte) 0xbe, (byte) 0xac, 0x01, (byte) 0xfa};
    private static final long RESET_TIMEOUT_NS = 1_000_000_000L;
    private static final long ENABLE_TIMEOUT_NS = 1_000_000_000L;
    /** How long a stopped queue pair is left alone before it is set up again ({@link #queuePairReset}). */
    static final int QUEUE_STOP_SETTLE_MS = 50;
    /** The watchdog's period: a device that reset itself is noticed within this much (plus a trapped read). */
    static final int WATCHDOG_MS = 100;
    /** How long a re-initialisation waits for the processes driving the queues to pause them. */
    static final int PAUSE_WAIT_MS = 1000;

    private final PciDevice pci;
    private final PciBar bar;
    private final int deviceId;
    // NVM, semaphores and the SFP+ cage: probe checks the NVM once and sets the module up before link setup
    private final SwFwSemaphore semaphore;
    private final IxgbeEeprom eeprom;
    private final IxgbeSfp sfp; // null on ports without an SFP+ cage
    private volatile IxgbeSfp.Module module;
    private boolean nvmVerified;
    private boolean reportedEmptyCage;
    private final DeviceInfo info;
    private final DmaMappings dma;
    private volatile MacAddress mac;
    private int lcore;
    private RxQueue[] rxq = new RxQueue[0];
    private TxQueue[] txq = new TxQueue[0];
    private final IntelQueuePair[] ownPairs = new IntelQueuePair[Math.max(MAX_RX_QUEUES, MAX_TX_QUEUES)]; // those queuePair() gave out
    private final Mempool[] rxPools = new Mempool[MAX_RX_QUEUES];
    private final int[] rxRing = new int[MAX_RX_QUEUES];
    private final int[] txRing = new int[MAX_TX_QUEUES];
    private boolean promisc;
    // run-time filters, flow rules and IEEE 1588 (IxgbeFilters, IxgbeFlows, IxgbeTimesync): rewritten after resets
    private final IxgbeFilters filters;
    private final IxgbeFlows flows;
    private final IxgbeTimesync timesync;

    // interrupts
    private final int msixVectors;
    private int[] eventfds = new int[0];
    private Thread linkThread;
    private volatile boolean closing;
    private volatile boolean started;
    private volatile boolean resetDetected;
    private volatile boolean recoveryPending;
    private volatile long resetsRecovered;
    private volatile long lastRecoveryNanos;
    private long detectedAt;
    private boolean removedReported;
    private boolean startedBefore;
    private final CopyOnWriteArrayList<Consumer<LinkStatus>> linkListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<PortReset>> resetListeners = new CopyOnWriteArrayList<>();
    private volatile LinkStatus lastLink = LinkStatus.DOWN;
    private volatile long interruptsSeen; // written by the link thread only
    private long rxInterrupts;
    private int eitrIntervalUs = 50;

    // 64-bit accumulations of the clear-on-read statistics (8.2.3.23)
    private final long[] hw = new long[HwStat.values().length];
    private final PortStats base = new PortStats();

    enum HwStat {
        GPRC(IxgbeRegs.GPRC), GPTC(IxgbeRegs.GPTC), GORC(IxgbeRegs.GORCL), GOTC(IxgbeRegs.GOTCL), TOR(IxgbeRegs.TORL),
        TPR(IxgbeRegs.TPR), TPT(IxgbeRegs.TPT), BPRC(IxgbeRegs.BPRC), MPRC(IxgbeRegs.MPRC), BPTC(IxgbeRegs.BPTC),
        MPTC(IxgbeRegs.MPTC), CRCERRS(IxgbeRegs.CRCERRS), ILLERRC(IxgbeRegs.ILLERRC), ERRBC(IxgbeRegs.ERRBC),
        RLEC(IxgbeRegs.RLEC), RUC(IxgbeRegs.RUC), RFC(IxgbeRegs.RFC), ROC(IxgbeRegs.ROC), RJC(IxgbeRegs.RJC),
        MPC(IxgbeRegs.MPC0), RNBC(IxgbeRegs.RNBC0), QPRDC(IxgbeRegs.QPRDC0);

        final int reg;

        HwStat(int reg) {
            this.reg = reg;
        }

        /** 36-bit byte counters are read low then high (8.2.3.23: reading the high half clears both). */
        boolean wide() {
            return this == GORC || this == GOTC || this == TOR;
        }

        /** MPC and RNBC exist once per packet buffer (8 of them). */
        boolean perBuffer() {
            return this == MPC || this == RNBC;
        }

        /** QPRDC exists for queues 0-15, 0x40 apart. */
        boolean perQueue() {
            return this == QPRDC;
        }
    }

    IxgbeDevice(PciDevice pci, PortContext ctx, int deviceId, int lcore) {
        super(ctx);
        this.pci = pci;
        this.deviceId = deviceId;
        this.lcore = lcore;
        this.bar = pci.bar(0);
        String who = pci.name() + " (" + IxgbeDriver.NAME + ")";
        this.semaphore = new SwFwSemaphore(bar, who);
        this.eeprom = new IxgbeEeprom(bar, who);
        this.sfp = IxgbeDeviceIds.is82599Sfp(deviceId)
                ? new IxgbeSfp(bar, who, semaphore, (bar.read32(STATUS) >>> STATUS_LAN_ID_SHIFT) & 1) : null;
        this.dma = new DmaMappings(pci, ctx.memory());
        this.msixVectors = pci.interruptCount(PciDevice.InterruptType.MSIX);
        this.info = new DeviceInfo(IxgbeDriver.NAME, MAX_RX_QUEUES, MAX_TX_QUEUES, MIN_RING, MAX_RING, RING_ALIGN,
                RETA_ENTRIES, RSS_KEY_BYTES, EnumSet.allOf(RssHashType.class), 68, MAX_FRAME - FRAME_OVERHEAD, MAX_FRAME,
                Math.min(MAX_RX_QUEUES, Math.max(0, msixVectors - 1)), // vector 0 is the link's (7.3)
                EnumSet.of(RxOffload.RSS_HASH, RxOffload.IPV4_CKSUM, RxOffload.UDP_CKSUM, RxOffload.TCP_CKSUM,
                        RxOffload.VLAN_STRIP, RxOffload.VLAN_FILTER, RxOffload.SCATTER),
                EnumSet.of(TxOffload.VLAN_INSERT, TxOffload.IPV4_CKSUM, TxOffload.UDP_CKSUM, TxOffload.TCP_CKSUM,
                        TxOffload.TCP_TSO, TxOffload.MULTI_SEGS),
                // per queue: RXDCTL.VME (8.2.3.8.10) and the queue's own buffers; TX offloads live in each
                // packet's descriptors (7.2.3), so any TX queue may take them
                EnumSet.of(RxOffload.VLAN_STRIP, RxOffload.SCATTER),
                EnumSet.of(TxOffload.VLAN_INSERT, TxOffload.IPV4_CKSUM, TxOffload.UDP_CKSUM, TxOffload.TCP_CKSUM,
                        TxOffload.TCP_TSO, TxOffload.MULTI_SEGS));
        this.filters = new IxgbeFilters(bar, pci.name() + " (" + IxgbeDriver.NAME + ")", sfp != null);
        this.flows = new IxgbeFlows(bar, pci.name() + " (" + IxgbeDriver.NAME + ")", ctx.portId());
        this.timesync = new IxgbeTimesync(bar);
        // bus mastering on, so that the device may DMA (PCI 3.0, 6.2.2 Command register)
        int cmd = pci.configRead(PCI_COMMAND, 2);
        pci.configWrite(PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        resetAndInit();
        readHwStats(); // 4.6.5: start from zero whatever the device counted before
        java.util.Arrays.fill(hw, 0);
        this.mac = readMac();
        setupLinkInterrupt();
        lastLink = link();
        ctx.table().link(portId, lastLink);
        LOG.log(Level.INFO, "{0}: {1} {2}, MAC {3}, link {4}, {5} MSI-X vectors{6}", name(), String.format("%04x", deviceId),
                pci.transport(), mac, lastLink, msixVectors, module == null ? "" : ", SFP+ " + module);
    }

    // ---------------------------------------------------------------------------------------------
    // 4.6.3 Initialisation sequence

    private void resetAndInit() {
        globalReset();
        awaitNvmAndDma();
        setupLink();
        // 4.6.5 Statistics: the reset cleared the counters (what they held was accumulated before it)
    }

    /** 4.6.3.1 and 4.6.3.2: interrupts masked, CTRL.RST (with LRST, link reset), wait for it to clear. */
    private void globalReset() {
        // 4.6.3.1 Interrupts during initialisation: mask all
        w(EIMC, EIMC_ALL);
        // 4.6.3.2 Global reset: CTRL.RST (with LRST, link reset), then wait for it to clear
        bar.setBits(CTRL, CTRL_RST_MASK);
        sleepMillis(1); // 4.6.3.2: wait at least 1 ms before polling (the device is unreachable meanwhile)
        waitClear(CTRL, CTRL_RST_MASK, RESET_TIMEOUT_NS, "CTRL.RST to clear after a global reset (4.6.3.2)");
        sleepMillis(10); // 8.2.3.1.1: 10 ms before further accesses
        // 4.6.3.1 again: the reset re-enabled nothing, but a reset clears masks only on some parts
        w(EIMC, EIMC_ALL);
    }

    /**
     * 4.6.3: the EEPROM auto-read completes (the NVM checked once, at probe), then the DMA init cycle; firmware is
     * told a driver took the port.
     */
    private void awaitNvmAndDma() {
        waitSet(EEC, EEC_ARD, RESET_TIMEOUT_NS, "EEC.ARD (EEPROM auto-read done, 4.6.3)");
        if (!nvmVerified && IxgbeDeviceIds.is82599(deviceId)) {
            // probe: the NVM the device just loaded its configuration from must be intact (chapter 6 checksum);
            // the EEPROM resource is shared with the other port's driver and firmware (10.5.4)
            semaphore.acquire(SYNC_EEP, "the EEPROM");
            try {
                eeprom.verifyChecksum();
            } finally {
                semaphore.release(SYNC_EEP);
            }
            nvmVerified = true;
        }
        waitSet(RDRXCTL, RDRXCTL_DMAIDONE, RESET_TIMEOUT_NS, "RDRXCTL.DMAIDONE (DMA init done, 4.6.3)");
        // tell firmware a driver took the port (8.2.3.1.3)
        bar.setBits(CTRL_EXT, CTRL_EXT_DRV_LOAD);
    }

    /**
     * 4.6.4 Link setup: 10G serial link mode, XAUI PMA/PMD, restart auto-negotiation. Copper X540/X550 parts bring
     * their PHY up on their own after reset and have no such AUTOC setting.
     */
    private void setupLink() {
        if (sfp != null) {
            setupSfpLink();
        } else if (!isCopper()) {
            int autoc = r(AUTOC);
            autoc = (autoc & ~AUTOC_LMS_MASK) | AUTOC_LMS_10G_SERIAL;
            autoc = (autoc & ~AUTOC_10G_PMA_PMD_MASK) | AUTOC_10G_XAUI;
            w(AUTOC, autoc | AUTOC_AN_RESTART);
        }
    }

    /**
     * 4.6.4 link setup on an SFI port: identify the module in the cage (once; again after a module appeared), write
     * the NVM's analog init sequence for its type to CORECTL (under the MAC CSR semaphore), laser on (SDP3 low),
     * AUTOC2 10G serial PMA/PMD = SFI, AUTOC.LMS = 10 Gb/s serial, restart link training. An empty cage is not an
     * error: the link stays down until a module is plugged in and the port is reset or restarted.
     */
    private void setupSfpLink() {
        if (!sfp.present()) {
            module = null;
            if (!reportedEmptyCage) {
                reportedEmptyCage = true;
                LOG.log(Level.WARNING, "{0}: no module in the SFP+ cage (ESDP.SDP2 reads 0): the link stays down; "
                        + "plug in an SFP+ module and restart the port", pci.name());
            }
        } else {
            reportedEmptyCage = false;
            if (module == null) {
                module = sfp.identify(); // throws for modules this driver cannot set up
                LOG.log(Level.INFO, "{0}: SFP+ {1}", pci.name(), module);
            }
            int[] init = eeprom.phyInitSequence(module.sfpType());
            if (init == null) {
                throw new IllegalStateException(pci.name() + ": the NVM has no SFP+ init sequence for a " + module.kind()
                        + " module (SFP type " + module.sfpType() + " in the PHY init list at word 0x2B); the port is not "
                        + "used: use a module type the NVM supports, or update the NVM");
            }
            semaphore.acquire(SYNC_MAC_CSR, "the analog core (CORECTL)");
            try {
                for (int v : init) {
                    w(CORECTL, v);
                    r(STATUS); // flush: each write is one command to the analog core
                }
            } finally {
                semaphore.release(SYNC_MAC_CSR);
            }
        }
        int esdp = r(ESDP);
        if ((esdp & ESDP_SDP3_DIR) != 0 && (esdp & ESDP_SDP3) != 0) {
            w(ESDP, esdp & ~ESDP_SDP3); // TX_DISABLE low: laser on
        }
        w(AUTOC2, (r(AUTOC2) & ~(AUTOC2_10G_PMA_PMD_MASK | AUTOC2_LINK_DISABLE_MASK)) | AUTOC2_10G_SFI);
        int autoc = (r(AUTOC) & ~AUTOC_LMS_MASK) | AUTOC_LMS_10G_SERIAL;
        w(AUTOC, autoc | AUTOC_AN_RESTART);
    }

    /** The SFP+ module found at probe (or at the last reset), null without one. */
    public String sfpModule() {
        IxgbeSfp.Module m = module;
        return m == null ? null : m.toString();
    }

    private boolean isCopper() {
        return deviceId == IxgbeDeviceIds.IXGBE_X540T || deviceId == IxgbeDeviceIds.IXGBE_X540T1
                || deviceId == IxgbeDeviceIds.IXGBE_X550T || deviceId == IxgbeDeviceIds.IXGBE_X550T1
                || deviceId == IxgbeDeviceIds.IXGBE_X550EM_X_10G_T || deviceId == IxgbeDeviceIds.IXGBE_X550EM_X_1G_T
                || deviceId == IxgbeDeviceIds.IXGBE_X550EM_A_10G_T;
    }

    /** 8.2.3.7.9/10: receive address 0 holds the EEPROM's MAC, loaded at reset; RAL holds octets 0-3. */
    private MacAddress readMac() {
        int ral = r(RAL0);
        int rah = r(RAH0);
        byte[] m = {(byte) ral, (byte) (ral >>> 8), (byte) (ral >>> 16), (byte) (ral >>> 24), (byte) rah, (byte) (rah >>> 8)};
        return MacAddress.of(m);
    }

    // ---------------------------------------------------------------------------------------------
    // Configuration

    @Override
    public String deviceName() {
        return pci.name();
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    public int pciDeviceId() {
        return deviceId;
    }

    @Override
    protected void doConfigure(PortConfig c) {
        if (c.rxInterrupts() && msixVectors < 1 + c.rxQueues()) {
            throw new IllegalArgumentException(name() + ": RX interrupts for " + c.rxQueues() + " queues need "
                    + (1 + c.rxQueues()) + " MSI-X vectors, the device offers " + msixVectors);
        }
        rxq = new RxQueue[c.rxQueues()];
        txq = new TxQueue[c.txQueues()];
        bindPairs();
        promisc = c.promiscuous();
        lcore = c.lcore();
    }

    @Override
    protected void doRxQueueSetup(int q, int ringSize, Mempool pool, Set<RxOffload> offloads) {
        checkRxBuffers(pool, mtu(), offloads);
        if (pool.dataRoom() < 1024) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' data room " + pool.dataRoom()
                    + " is below the 1 KB SRRCTL.BSIZEPACKET unit");
        }
        dma.require(pool.segment(), "mempool '" + pool.name() + "'");
        rxPools[q] = pool;
        rxRing[q] = ringSize;
    }

    @Override
    protected void doTxQueueSetup(int q, int ringSize, Set<TxOffload> offloads) {
        txRing[q] = ringSize;
    }

    private int frameSize() {
        return mtu() + FRAME_OVERHEAD;
    }

    /**
     * Without RX offload SCATTER every frame must fit one buffer (7.1.2: a frame longer than SRRCTL.BSIZEPACKET
     * spans descriptors); with it, frames arrive as chains. The buffer size is set in 1 KB units (SRRCTL).
     */
    private void checkRxBuffers(Mempool pool, int mtu, Set<RxOffload> offloads) {
        int frame = mtu + FRAME_OVERHEAD;
        int bsize = Math.min(pool.dataRoom() >> SRRCTL_BSIZEPKT_SHIFT, 0x1F) << SRRCTL_BSIZEPKT_SHIFT;
        if (bsize < frame && !offloads.contains(RxOffload.SCATTER)) {
            throw new IllegalArgumentException(name() + ": mempool '" + pool.name() + "' has " + pool.dataRoom()
                    + "-byte data rooms; frames of up to " + frame + " bytes (MTU " + mtu + ") need that much, as this "
                    + "driver receives every frame into one buffer unless the queue has RX offload SCATTER "
                    + "(PortConfig.withRxOffloads, or rxQueueSetup's offloads for this queue alone; frames then arrive as "
                    + "mbuf chains)");
        }
    }

    /** 8.2.3.22.13 MAXFRS and 8.2.3.22.8 HLREG0.JUMBOEN for the new MTU (the port is stopped). */
    @Override
    protected void doMtu(int m) {
        for (int q = 0; q < config().rxQueues(); q++) {
            if (rxPools[q] != null) {
                checkRxBuffers(rxPools[q], m, rxQueueOffloads(q));
            }
        }
        int frame = m + FRAME_OVERHEAD;
        int hl = r(HLREG0);
        w(HLREG0, frame > 1518 ? hl | HLREG0_JUMBOEN : hl & ~HLREG0_JUMBOEN);
        w(MAXFRS, frame << MAXFRS_MFS_SHIFT);
    }

    // ---------------------------------------------------------------------------------------------
    // Start: 4.6.7 receive and 4.6.8 transmit initialisation

    @Override
    protected void doStart() {
        // before anything is touched: the MTU or the offloads may have changed since the queues' setup
        for (int q = 0; q < config().rxQueues(); q++) {
            if (rxPools[q] != null) {
                checkRxBuffers(rxPools[q], mtu(), rxQueueOffloads(q));
            }
        }
        if (startedBefore) {
            // Every start after the first begins from a global reset, as DPDK's ixgbe does: queue state the device
            // latched before (head pointers, enables) is then certainly gone, even where the RXDCTL/TXDCTL.ENABLE
            // read-back cannot show that the device saw a disable (devsim's mapped queue pages echo our own write).
            readHwStats(); // keep what the counters hold: the reset clears them
            resetAndInit();
            restoreAfterReset();
        }
        recoveryPending = false;
        resetDetected = false;
        startedBefore = true;
        PortConfig c = config();
        rxq = new RxQueue[c.rxQueues()];
        for (int q = 0; q < rxq.length; q++) {
            rxq[q] = newRx(q);
        }
        txq = new TxQueue[c.txQueues()];
        for (int q = 0; q < txq.length; q++) {
            txq[q] = newTx(q);
        }
        bindPairs();
        programQueues();
        lastLink = link();
        ctx.table().link(portId, lastLink);
        started = true;
    }

    /** After a global reset: the MAC address we set and the link interrupt, which the reset cleared. */
    private void restoreAfterReset() {
        MacAddress m = mac;
        if (!m.equals(readMac())) {
            macAddress(m);
        }
        if (eventfds.length > 0) {
            bar.setBits(GPIE, GPIE_MSIX_MODE | GPIE_PBA_SUPPORT | GPIE_EIAME);
            w(IVAR_MISC, IVAR_ALLOC_VAL << IVAR_MISC_OTHER_SHIFT);
            w(EIMS, EICR_LSC);
        }
    }

    /**
     * 4.6.7 receive and 4.6.8 transmit initialisation of the device for the queues {@link #rxq} and {@link #txq}
     * hold (rings set up in memory, RX rings full of buffers), ending with receive enabled and RX interrupts
     * routed.
     */
    private void programQueues() {
        initReceive();
        initTransmit();
        // 4.6.7: receive enable last, after the queues
        bar.setBits(RXCTRL, RXCTRL_RXEN);
        if (config().rxInterrupts()) {
            setupRxInterrupts(rxq.length);
        }
    }

    /**
     * 4.6.7 Receive initialisation, receive disabled meanwhile: packet buffers, CRC strip and frame size, the
     * address, VLAN and flow filters, time sync, RSS (4.6.10.1), then each queue.
     */
    private void initReceive() {
        int nrx = rxq.length;
        bar.clearBits(RXCTRL, RXCTRL_RXEN);
        // 4.6.11.3.1 (no DCB): all of the 512 KB receive buffer to packet buffer 0
        w(RXPBSIZE0, RXPBSIZE_512KB);
        for (int i = 1; i < 8; i++) {
            w(RXPBSIZE0 + 4 * i, 0);
        }
        // 8.2.3.22.8 / 8.2.3.8.8: strip the CRC, in both places (they must agree)
        int hl = r(HLREG0) | HLREG0_RXCRCSTRP | HLREG0_TXCRCEN | HLREG0_TXPADEN;
        int frame = frameSize();
        hl = frame > 1518 ? hl | HLREG0_JUMBOEN : hl & ~HLREG0_JUMBOEN;
        w(HLREG0, hl);
        w(MAXFRS, frame << MAXFRS_MFS_SHIFT);
        bar.setBits(RDRXCTL, RDRXCTL_CRCSTRIP);
        // 8.2.3.7.1: accept broadcast; promiscuous per the configuration
        applyFilter();
        filters.apply(rxOffload(RxOffload.VLAN_FILTER)); // what the last reset cleared: MTA, RAR 1-127, VFTA, AUTOC, FC
        flows.apply();
        timesync.apply();
        configureRss(config().rss(), nrx);
        for (int q = 0; q < nrx; q++) {
            programRx(q, rxq[q]);
        }
        // 4.6.7 last step: no-snoop disable
        bar.setBits(CTRL_EXT, CTRL_EXT_NS_DIS);
    }

    /**
     * 4.6.8 Transmit initialisation: CRC and padding by hardware (HLREG0, set in {@link #initReceive}), packet
     * buffer 0 of 160 KB, no DCB, transmit DMA on, then each queue.
     */
    private void initTransmit() {
        w(TXPBSIZE0, TXPBSIZE_160KB);
        for (int i = 1; i < 8; i++) {
            w(TXPBSIZE0 + 4 * i, 0);
        }
        w(DTXMXSZRQ, 0xFFFF);
        // 4.6.11.3.4: MTQC may only change with the descriptor arbiter disabled
        bar.setBits(RTTDCS, RTTDCS_ARBDIS);
        w(MTQC, 0); // 64 queues, one traffic class, no VT
        bar.clearBits(RTTDCS, RTTDCS_ARBDIS);
        bar.setBits(DMATXCTL, DMATXCTL_TE);
        for (int q = 0; q < txq.length; q++) {
            programTx(q, txq[q].memory());
        }
    }

    /** RX queue {@code q}'s memory, found or reserved, and a ring full of fresh buffers. */
    private RxQueue newRx(int q) {
        int size = rxRing[q];
        QueueMemory m = QueueMemory.reserve(ctx.memory(), ctx.memzoneName("rxq" + q), size, QueueMemory.MAGIC_RX);
        dma.require(m.zone.memory(), "RX ring " + q);
        RxQueue rx = new RxQueue(q, m, bar.mapped(rxq(q) + RDT, 4), rxPools[q], portId, lcore,
                RxOffloads.bitsOf(rxQueueOffloads(q)), timesync);
        rx.timestamps(timesync.enabled());
        if (!rx.fill()) {
            throw new IllegalStateException(name() + ": mempool '" + rxPools[q].name() + "' has " + rxPools[q].availableCount()
                    + " free mbufs, RX queue " + q + " needs " + size + " to fill its ring; make the pool larger");
        }
        return rx;
    }

    private void programRx(int q, RxQueue rx) {
        QueueMemory m = rx.memory();
        int base = rxq(q);
        // 8.2.3.8.7: advanced one-buffer descriptors, buffer size in 1 KB units, drop when no descriptor is free
        // (so that one full queue does not stall the others: 4.6.7 / 7.1.3.5)
        int bsize = Math.min(rxPools[q].dataRoom() >> SRRCTL_BSIZEPKT_SHIFT, 0x1F);
        w(base + SRRCTL, SRRCTL_DESCTYPE_ADV_ONEBUF | SRRCTL_DROP_EN | bsize);
        w(base + RDBAL, (int) m.descIova);
        w(base + RDBAH, (int) (m.descIova >>> 32));
        w(base + RDLEN, m.size * AdvDescriptors.DESC_SIZE);
        w(base + RDH, 0);
        w(base + RDT, 0);
        bar.clearBits(base + DCA_RXCTRL, DCA_RXCTRL_DESC_WRO_EN);
        // 8.2.3.8.10 RXDCTL.VME: strip 802.1Q tags on this queue (RX offload VLAN_STRIP)
        int vme = rxQueueOffloads(q).contains(RxOffload.VLAN_STRIP) ? RXDCTL_VME : 0;
        bar.modify(base + RXDCTL, RXDCTL_VME, vme);
        // 4.6.7: enable the queue and wait until the device reports it enabled, then move the tail
        bar.setBits(base + RXDCTL, RXDCTL_ENABLE);
        waitSet(base + RXDCTL, RXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "RXDCTL[" + q + "].ENABLE (4.6.7)");
        w(base + RDT, rx.initialTail());
    }

    private TxQueue newTx(int q) {
        QueueMemory m = QueueMemory.reserve(ctx.memory(), ctx.memzoneName("txq" + q), txRing[q], QueueMemory.MAGIC_TX);
        dma.require(m.zone.memory(), "TX ring " + q);
        return new TxQueue(q, m, bar.mapped(txq(q) + TDT, 4), lcore, TxContext.bitsOf(txQueueOffloads(q)));
    }

    private void programTx(int q, QueueMemory m) {
        int base = txq(q);
        w(base + TDBAL, (int) m.descIova);
        w(base + TDBAH, (int) (m.descIova >>> 32));
        w(base + TDLEN, m.size * AdvDescriptors.DESC_SIZE);
        w(base + TDH, 0);
        w(base + TDT, 0);
        // 8.2.3.9.10: prefetch 36, host 8, write-back 4 descriptors (the values Intel recommends for throughput)
        int txdctl = (r(base + TXDCTL) & ~0x7F7F7F) | 36 | (8 << 8) | (4 << 16);
        w(base + TXDCTL, txdctl | TXDCTL_ENABLE);
        waitSet(base + TXDCTL, TXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "TXDCTL[" + q + "].ENABLE (4.6.8)");
    }

    private void applyFilter() {
        w(FCTRL, filters.fctrl(r(FCTRL) | FCTRL_BAM, promisc));
    }

    /** 7.1.2.8: key, redirection table, hash fields; PCSD so that the write-back carries the hash. */
    private void configureRss(RssConfig rss, int nrx) {
        if (rss == null || nrx == 1 && rss.hashTypes().isEmpty()) {
            w(MRQC, 0);
            return;
        }
        byte[] key = rss.key() == null ? DEFAULT_RSS_KEY : rss.key();
        for (int i = 0; i < RSS_KEY_BYTES / 4; i++) {
            w(RSSRK0 + 4 * i, (key[4 * i] & 0xFF) | (key[4 * i + 1] & 0xFF) << 8 | (key[4 * i + 2] & 0xFF) << 16
                    | (key[4 * i + 3] & 0xFF) << 24);
        }
        int[] reta = retaOf(rss, nrx);
        for (int i = 0; i < RETA_ENTRIES / 4; i++) {
            w(RETA0 + 4 * i, reta[4 * i] | reta[4 * i + 1] << 8 | reta[4 * i + 2] << 16 | reta[4 * i + 3] << 24);
        }
        int mrqc = MRQC_RSS_EN;
        for (RssHashType t : rss.hashTypes()) {
            mrqc |= switch (t) {
                case IPV4 -> MRQC_RSS_FIELD_IPV4;
                case IPV4_TCP -> MRQC_RSS_FIELD_IPV4_TCP;
                case IPV4_UDP -> MRQC_RSS_FIELD_IPV4_UDP;
                case IPV6 -> MRQC_RSS_FIELD_IPV6;
                case IPV6_TCP -> MRQC_RSS_FIELD_IPV6_TCP;
                case IPV6_UDP -> MRQC_RSS_FIELD_IPV6_UDP;
            };
        }
        bar.setBits(RXCSUM, RXCSUM_PCSD);
        w(MRQC, mrqc);
    }

    /** The redirection table in effect: the configured one, or queues 0..n-1 round robin. */
    public int[] retaOf(RssConfig rss, int nrx) {
        int[] reta = rss.reta();
        if (reta.length == 0) {
            reta = new int[RETA_ENTRIES];
            for (int i = 0; i < RETA_ENTRIES; i++) {
                reta[i] = i % nrx;
            }
        }
        return reta;
    }

    // ---------------------------------------------------------------------------------------------
    // Stop and close

    @Override
    protected void doStop() {
        started = false;
        bar.clearBits(RXCTRL, RXCTRL_RXEN);
        for (int q = 0; q < rxq.length; q++) {
            int base = rxq(q);
            bar.clearBits(base + RXDCTL, RXDCTL_ENABLE);
            waitClear(base + RXDCTL, RXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "RXDCTL[" + q + "].ENABLE to clear (4.6.7.1)");
        }
        for (int q = 0; q < txq.length; q++) {
            int base = txq(q);
            bar.clearBits(base + TXDCTL, TXDCTL_ENABLE);
            waitClear(base + TXDCTL, TXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "TXDCTL[" + q + "].ENABLE to clear (4.6.8.1)");
        }
        w(EIMC, EIMC_ALL & ~EICR_LSC);
        r(STATUS); // flushes the disables to the device (posted writes) before the rings' buffers are freed
        for (RxQueue q : rxq) {
            if (q != null) {
                q.release();
            }
        }
        for (TxQueue q : txq) {
            if (q != null) {
                q.releaseShared(); // the queue may have been driven by another process: its state says what is in flight
            }
        }
        lastLink = link();
        ctx.table().link(portId, lastLink);
    }

    @Override
    protected void doClose() {
        closing = true;
        Thread t = linkThread;
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            w(EIMC, EIMC_ALL);
            bar.clearBits(CTRL_EXT, CTRL_EXT_DRV_LOAD);
            if (eventfds.length > 0) {
                pci.disableInterrupts(PciDevice.InterruptType.MSIX);
            }
            dma.unmapAll();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, name() + ": device did not take the close cleanly: " + e.getMessage());
        } finally {
            for (int fd : eventfds) {
                Io.closeQuietly(fd);
            }
            eventfds = new int[0];
            pci.close();
        }
    }

    /**
     * Resets queue pair {@code q} alone (4.6.7.1 / 4.6.8.1 per-queue disable, then the 4.6.7 / 4.6.8 queue
     * setup again): used when the process that drove it died. The mbufs its rings held, as the shared queue
     * state records them, go back to their pools; the ring gets fresh buffers from this process.
     */
    @Override
    public boolean resetsQueuePairs() {
        return true;
    }

    @Override
    public synchronized void queuePairReset(int q) {
        if (!started) {
            throw new IllegalStateException(name() + ": queuePairReset(" + q + ") needs a started port");
        }
        if (q < 0 || q >= rxq.length || q >= txq.length) {
            throw new IllegalArgumentException(name() + ": no queue pair " + q + "; " + Math.min(rxq.length, txq.length)
                    + " configured");
        }
        int rb = rxq(q);
        bar.clearBits(rb + RXDCTL, RXDCTL_ENABLE);
        waitClear(rb + RXDCTL, RXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "RXDCTL[" + q + "].ENABLE to clear (4.6.7.1)");
        int tb = txq(q);
        bar.clearBits(tb + TXDCTL, TXDCTL_ENABLE);
        waitClear(tb + TXDCTL, TXDCTL_ENABLE, ENABLE_TIMEOUT_NS, "TXDCTL[" + q + "].ENABLE to clear (4.6.8.1)");
        r(STATUS); // a register read flushes the disables (posted writes) to the device before the rings change
        // the queues stop asynchronously (in-flight DMA completes; a model polls its registers): give the device
        // time to let go of the old rings before they are refilled and enabled again
        sleepMillis(QUEUE_STOP_SETTLE_MS);
        rxq[q].release();
        txq[q].releaseShared();
        rxq[q] = newRx(q);
        programRx(q, rxq[q]);
        txq[q] = newTx(q);
        programTx(q, txq[q].memory());
        bindPairs();
        LOG.log(Level.INFO, "{0}: queue pair {1} reset", name(), q);
    }

    // ---------------------------------------------------------------------------------------------
    // Data path

    @Override
    protected QueuePair newQueuePair(int q) {
        IntelQueuePair p = new IntelQueuePair(this, q);
        ownPairs[q] = p;
        bindPairs();
        return p;
    }

    /** Gives the queue pairs handed out the port's current queues (new ones after configure, start and resets). */
    private void bindPairs() {
        for (int q = 0; q < ownPairs.length; q++) {
            if (ownPairs[q] != null) {
                ownPairs[q].bind(q < rxq.length ? rxq[q] : null, q < txq.length ? txq[q] : null);
            }
        }
    }

    @Override
    public int rxBurst(int q, MbufBatch batch) {
        return rxq[q].burst(batch);
    }

    @Override
    public int txBurst(int q, MbufBatch batch) {
        return txq[q].burst(batch);
    }

    // ---------------------------------------------------------------------------------------------
    // Interrupts (7.3): vector 0 for link and other causes, 1 + q for RX queue q

    private void setupLinkInterrupt() {
        if (msixVectors < 1) {
            LOG.log(Level.INFO, "{0}: no MSI-X; link changes are seen by polling LINKS every {1} ms", name(),
                    WATCHDOG_MS);
        } else {
            routeVectors(1);
            // 8.2.3.5.18: MSI-X mode, PBA support, auto-mask on
            bar.setBits(GPIE, GPIE_MSIX_MODE | GPIE_PBA_SUPPORT | GPIE_EIAME);
            w(IVAR_MISC, IVAR_ALLOC_VAL << IVAR_MISC_OTHER_SHIFT); // other causes -> vector 0
            w(EIMS, EICR_LSC);
        }
        linkThread = Thread.ofPlatform().daemon().name("ixgbe-lsc-" + portId).start(this::linkLoop);
    }

    /** Routes vectors 0..n-1 to fresh eventfds (replacing those before: VFIO takes the whole set). */
    private void routeVectors(int n) {
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            fds[i] = i < eventfds.length ? eventfds[i] : Events.eventfd(0, Events.EFD_NONBLOCK | Events.EFD_CLOEXEC);
        }
        pci.enableInterrupts(PciDevice.InterruptType.MSIX, fds);
        eventfds = fds;
    }

    private void setupRxInterrupts(int nrx) {
        if (eventfds.length < 1 + nrx) {
            routeVectors(1 + nrx);
        }
        for (int q = 0; q < nrx; q++) {
            int v = 1 + q;
            int reg = IVAR0 + 4 * (q >> 1);
            int shift = (q & 1) * 16; // RX entry of queue 2n at bits 7:0, of 2n+1 at 23:16
            w(reg, (r(reg) & ~(0xFF << shift)) | ((v | IVAR_ALLOC_VAL) << shift));
            setEitr(v, eitrIntervalUs);
        }
        // queue vectors auto-clear (EIAC) and auto-mask on the interrupt (EIAM): one interrupt per arm
        int mask = ((1 << nrx) - 1) << 1;
        bar.setBits(EIAC, mask);
        bar.setBits(EIAM, mask);
    }

    /** 8.2.3.5.12: interrupt throttling of {@code vector}, interval in microseconds (0: none). */
    public void setEitr(int vector, int intervalUs) {
        int units = (int) Math.min(EITR_INTERVAL_MAX, intervalUs * 1000L / EITR_UNIT_NS);
        w(eitr(vector), (units << EITR_INTERVAL_SHIFT) | EITR_CNT_WDIS);
    }

    /** Sets the throttling interval used for RX queue vectors set up by later starts (default 50 us). */
    public void rxInterruptInterval(int intervalUs) {
        if (intervalUs < 0 || intervalUs * 1000L / EITR_UNIT_NS > EITR_INTERVAL_MAX) {
            throw new IllegalArgumentException("EITR interval " + intervalUs + " us outside 0.."
                    + EITR_INTERVAL_MAX * EITR_UNIT_NS / 1000 + " us");
        }
        eitrIntervalUs = intervalUs;
    }

    @Override
    public int rxInterruptFd(int q) {
        PortConfig c = config();
        return c != null && c.rxInterrupts() && started && 1 + q < eventfds.length ? eventfds[1 + q] : -1;
    }

    /** EIMS bit of RX queue q's vector (1 + q, 7.3.4); false when a packet is already there. */
    @Override
    public boolean rxInterruptEnable(int q) {
        requireRxInterrupts();
        RxQueue rx = rxq[q];
        if (rx.ready()) {
            return false;
        }
        w(EIMS, 1 << (1 + q));
        if (rx.ready()) { // it arrived before the arm took effect: no interrupt would come for it
            w(EIMC, 1 << (1 + q));
            return false;
        }
        return true;
    }

    @Override
    public void rxInterruptDisable(int q) {
        w(EIMC, 1 << (1 + q));
    }

    private void requireRxInterrupts() {
        if (!config().rxInterrupts()) {
            throw new IllegalStateException(name() + ": RX interrupts are off; configure with withRxInterrupts(true)");
        }
    }

    /**
     * Interrupt/poll adaptive receive on one queue: returns at once when the queue has a packet; otherwise arms
     * the queue's interrupt, and blocks on its eventfd up to {@code timeoutNanos}. {@link RxInterrupts} does the
     * same over several queues. Needs {@link PortConfig#rxInterrupts}.
     */
    @Override
    public boolean rxWait(int q, long timeoutNanos) {
        RxQueue rx = rxq[q];
        if (rx.ready()) {
            return true;
        }
        requireRxInterrupts();
        int fd = eventfds[1 + q];
        Events.eventfdRead(fd); // drop a stale count
        if (!rxInterruptEnable(q)) {
            return true;
        }
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutNanos / 1_000_000));
        if (Events.pollIn(fd, ms)) {
            Events.eventfdRead(fd);
            rxInterrupts++;
        }
        rxInterruptDisable(q);
        return rx.ready();
    }

    @Override
    public boolean rxPending(int q) {
        return rxq[q].ready();
    }

    /**
     * The port's slow-path thread: link-status interrupts (vector 0) as they come, and every {@value #WATCHDOG_MS}
     * ms the watchdog ({@link #watchdog}): a device that reset itself raises no interrupt.
     */
    private void linkLoop() {
        int fd = eventfds.length > 0 ? eventfds[0] : -1;
        long nextCheck = System.nanoTime();
        while (!closing) {
            try {
                if (fd < 0) {
                    sleepMillis(WATCHDOG_MS);
                    linkChanged(link());
                } else if (Events.pollIn(fd, WATCHDOG_MS)) {
                    Events.eventfdRead(fd);
                    interruptsSeen++;
                    int cause = r(EICR); // 7.3.1.2: reading clears the causes
                    if ((cause & EICR_LSC) != 0) {
                        linkChanged(link());
                    }
                    w(EIMS, EICR_LSC); // 7.3.4: re-enable the cause (auto-masked in MSI-X mode)
                }
                long now = System.nanoTime();
                if (now - nextCheck >= 0) {
                    nextCheck = now + WATCHDOG_MS * 1_000_000L;
                    watchdog();
                }
            } catch (RuntimeException e) {
                if (!closing) {
                    LOG.log(Level.WARNING, name() + ": link interrupt handling failed: " + e.getMessage());
                    sleepMillis(WATCHDOG_MS);
                }
            }
        }
    }

    /** Reports {@code l} if it differs from what was reported last (a flap shorter than a round trip changes nothing). */
    private void linkChanged(LinkStatus l) {
        if (l.equals(lastLink)) {
            return;
        }
        LOG.log(Level.INFO, "{0}: link {1}", name(), l);
        lastLink = l;
        ctx.table().link(portId, l);
        for (Consumer<LinkStatus> c : linkListeners) {
            try {
                c.accept(l);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name() + ": link listener failed: " + e.getMessage(), e);
            }
        }
    }

    /**
     * A device that reset itself (power glitch, firmware, a PCIe reset) forgets everything the driver programmed:
     * registers return to their reset values (8.2.3: CTRL_EXT.DRV_LOAD, which the driver sets and only a reset
     * clears, reads 0; RXDCTL/TXDCTL.ENABLE read 0), its interrupt causes and masks are cleared (EIMS reads 0,
     * so no interrupt comes), DMA stops and the link retrains. CTRL_EXT.DRV_LOAD is the sign read here (one trapped
     * read per watchdog turn). All ones is a device that no longer answers (removed, or its link to the host is
     * down): nothing to re-initialise.
     */
    private void watchdog() {
        if (!started || closing) {
            return;
        }
        int ext = r(CTRL_EXT);
        if (ext == -1) {
            if (!removedReported) {
                removedReported = true;
                LOG.log(Level.ERROR, "{0}: CTRL_EXT reads all ones: the device no longer answers (removed, or its PCIe "
                        + "link is down); the port moves no packets", name());
                linkChanged(LinkStatus.DOWN);
            }
            return;
        }
        removedReported = false;
        if (eventfds.length > 0 && !recoveryPending) {
            linkChanged(link()); // an LSC interrupt lost (or masked by a reset) is made up for here
        }
        if ((ext & CTRL_EXT_DRV_LOAD) == 0 || recoveryPending) {
            recoverFromReset(recoveryPending ? "a re-initialisation left unfinished" : "CTRL_EXT.DRV_LOAD is clear");
        } else if (timesync.freeUnclaimedRxStamp()) {
            LOG.log(Level.DEBUG, "{0}: freed an RX time stamp no queue poller read", name());
        }
    }

    /**
     * Re-initialises the port after the device reset itself, with the queue pairs as they are set up, whichever
     * process drives them (Linux's ixgbe does a down/up on its reset task; DPDK leaves it to the application,
     * rte_eth_dev_reset). Every queue is paused through its generation ({@link QueueGeneration}): its driver, in
     * whatever process, acknowledges on its next burst and leaves the ring alone; one that does not within
     * {@value #PAUSE_WAIT_MS} ms (idle, or asleep waiting for an interrupt that the reset cleared) is assumed not
     * to be in a burst. Then the TX rings' mbufs go back to their pools, the device gets the initialisation of
     * 4.6.3 (global reset, EEPROM and DMA init done, link setup) and 4.6.7 / 4.6.8 with the same rings, the RX
     * rings' own buffers handed to it again (no mbuf freed or allocated for them), the link and RX interrupts are
     * routed again and the queues resume: each driver reloads its indices on its next burst. One log line says
     * what happened and how long it took.
     */
    private void recoverFromReset(String sign) {
        long t0 = System.nanoTime();
        synchronized (this) {
            if (!started || closing) {
                return;
            }
            if (!recoveryPending) {
                detectedAt = t0;
                resetDetected = true;
                recoveryPending = true;
                linkChanged(LinkStatus.DOWN);
                resetEvent(new PortReset(false, 0, name() + ": the device reset itself (" + sign + "); re-initialising "
                        + "the port"));
            }
            int[] rxOdd = new int[rxq.length];
            int[] txOdd = new int[txq.length];
            for (int q = 0; q < rxq.length; q++) {
                rxOdd[q] = QueueGeneration.pause(rxq[q].memory().state);
            }
            for (int q = 0; q < txq.length; q++) {
                txOdd[q] = QueueGeneration.pause(txq[q].memory().state);
            }
            java.util.TreeSet<Integer> unpaused = awaitPaused(rxOdd, txOdd);
            long paused = System.nanoTime();
            try {
                int txFreed = 0;
                for (TxQueue t : txq) {
                    txFreed += TxQueue.releaseInRing(t.memory(), Mempool.LCORE_ANY);
                }
                readHwStats(); // what the counters held before the reset is gone; keep what came since
                resetAndInit();
                restoreAfterReset();
                int fresh = 0;
                for (RxQueue rx : rxq) {
                    fresh += rx.repost();
                }
                programQueues();
                for (int q = 0; q < rxq.length; q++) {
                    QueueGeneration.resume(rxq[q].memory().state, rxOdd[q]);
                }
                for (int q = 0; q < txq.length; q++) {
                    QueueGeneration.resume(txq[q].memory().state, txOdd[q]);
                }
                recoveryPending = false;
                resetDetected = false;
                resetsRecovered++;
                long t1 = System.nanoTime();
                lastRecoveryNanos = t1 - detectedAt;
                String line = String.format(java.util.Locale.ROOT, "%s: the device reset itself (%s); "
                        + "re-initialised the port and its %d RX / %d TX queues in %.1f ms (queues paused in %.1f ms%s), "
                        + "%d TX mbufs returned, RX rings re-posted with their own buffers%s; link and interrupts re-armed",
                        name(), sign, rxq.length, txq.length, lastRecoveryNanos / 1e6, (paused - t0) / 1e6,
                        unpaused.isEmpty() ? "" : ", not acknowledged by pid " + unpaused + " within " + PAUSE_WAIT_MS
                                + " ms: assumed idle", txFreed, fresh == 0 ? "" : " (" + fresh + " empty slots refilled)");
                LOG.log(Level.WARNING, line);
                resetEvent(new PortReset(true, lastRecoveryNanos, line));
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, name() + ": re-initialising the port after the device reset itself failed (" + e.getMessage()
                        + "); its queues stay paused, retrying in " + WATCHDOG_MS + " ms", e);
            }
        }
    }

    /** Waits up to {@value #PAUSE_WAIT_MS} ms for the queues' drivers to acknowledge; returns the pids that did not. */
    private java.util.TreeSet<Integer> awaitPaused(int[] rxOdd, int[] txOdd) {
        long end = System.nanoTime() + PAUSE_WAIT_MS * 1_000_000L;
        java.util.TreeSet<Integer> pending = new java.util.TreeSet<>();
        while (true) {
            pending.clear();
            for (int q = 0; q < rxq.length; q++) {
                int pid = QueueGeneration.pendingDriver(rxq[q].memory().state, rxOdd[q]);
                if (pid != 0) {
                    pending.add(pid);
                }
            }
            for (int q = 0; q < txq.length; q++) {
                int pid = QueueGeneration.pendingDriver(txq[q].memory().state, txOdd[q]);
                if (pid != 0) {
                    pending.add(pid);
                }
            }
            if (pending.isEmpty() || System.nanoTime() - end >= 0) {
                return pending;
            }
            sleepMicros(200);
        }
    }

    private void resetEvent(PortReset e) {
        for (Consumer<PortReset> c : resetListeners) {
            try {
                c.accept(e);
            } catch (RuntimeException x) {
                LOG.log(Level.WARNING, name() + ": reset listener failed: " + x.getMessage(), x);
            }
        }
    }

    /** Called from the port's watchdog thread when a device reset is noticed and when the port runs again. */
    @Override
    public void addResetListener(Consumer<PortReset> l) {
        resetListeners.add(l);
    }

    /** True between noticing that the device reset itself and having re-initialised the port. */
    public boolean resetDetected() {
        return resetDetected;
    }

    /** Device resets recovered from so far (re-initialisations that completed). */
    public long resetsRecovered() {
        return resetsRecovered;
    }

    /** Called from the interrupt thread on every link change seen through the LSC interrupt. */
    @Override
    public void addLinkListener(Consumer<LinkStatus> l) {
        linkListeners.add(l);
    }

    /** Link-status interrupts handled so far. */
    public long linkInterrupts() {
        return interruptsSeen;
    }

    public long rxInterruptsSeen() {
        return rxInterrupts;
    }

    // ---------------------------------------------------------------------------------------------
    // Link, MAC, filters

    /** 8.2.3.22.20 LINKS: up bit and speed. */
    @Override
    public LinkStatus link() {
        int links = r(LINKS);
        if ((links & LINKS_UP) == 0) {
            return LinkStatus.DOWN;
        }
        int speed = switch ((links >>> LINKS_SPEED_SHIFT) & LINKS_SPEED_MASK) {
            case LINKS_SPEED_10G -> 10_000;
            case LINKS_SPEED_1G -> 1_000;
            case LINKS_SPEED_100M -> 100;
            default -> 0;
        };
        return new LinkStatus(true, speed, true);
    }

    @Override
    public MacAddress macAddress() {
        return mac;
    }

    /** Writes receive address 0 (8.2.3.7.9/10: RAL octets 0-3, RAH octets 4-5 with Address Valid). */
    @Override
    public synchronized void macAddress(MacAddress m) {
        if (m.isMulticast()) {
            throw new IllegalArgumentException(name() + ": " + m + " is a multicast address; a port's address must be unicast");
        }
        byte[] o = m.octets();
        w(RAL0, (o[0] & 0xFF) | (o[1] & 0xFF) << 8 | (o[2] & 0xFF) << 16 | (o[3] & 0xFF) << 24);
        w(RAH0, (o[4] & 0xFF) | (o[5] & 0xFF) << 8 | RAH_AV);
        mac = m;
        ctx.table().mac(portId, m);
    }

    @Override
    public synchronized void promiscuous(boolean on) {
        promisc = on;
        applyFilter();
    }

    @Override
    public boolean promiscuous() {
        return (r(FCTRL) & FCTRL_UPE) != 0;
    }

    @Override
    public synchronized void allmulticast(boolean on) {
        filters.allmulti(on);
        applyFilter();
    }

    @Override
    public synchronized boolean allmulticast() {
        return filters.allmulti(); // what was asked: FCTRL.MPE is also set by promiscuous mode
    }

    @Override
    protected synchronized void doMulticastAddresses(java.util.List<MacAddress> groups) {
        filters.multicast(groups);
    }

    @Override
    protected synchronized void doMacAddrAdd(MacAddress m) {
        filters.macAdd(m, mac);
    }

    @Override
    protected synchronized void doMacAddrRemove(MacAddress m) {
        filters.macRemove(m);
    }

    @Override
    protected synchronized void doVlanFilter(int vlanId, boolean on) {
        filters.vlan(vlanId, on);
    }

    @Override
    public synchronized void linkSettings(io.jnic.ethdev.LinkSettings s) {
        filters.link(s);
    }

    @Override
    public io.jnic.ethdev.LinkSettings linkSettings() {
        return filters.link();
    }

    @Override
    public synchronized void flowControl(io.jnic.ethdev.FlowControl fc) {
        filters.flowControl(java.util.Objects.requireNonNull(fc, "flow control mode"));
    }

    @Override
    public io.jnic.ethdev.FlowControl flowControl() {
        return filters.flowControl();
    }

    @Override
    public synchronized void timesyncEnable() {
        flows.reservePtp(true);
        timesync.enable();
        stampQueues(true);
    }

    @Override
    public synchronized void timesyncDisable() {
        stampQueues(false);
        timesync.disable();
        flows.reservePtp(false);
    }

    /** The RX queues read stamps only while timesync is on (their plain path has no 1588 check). */
    private void stampQueues(boolean on) {
        RxQueue[] qs = rxq;
        for (int q = 0; qs != null && q < qs.length; q++) {
            if (qs[q] != null) {
                qs[q].timestamps(on);
            }
        }
    }

    @Override
    public synchronized long readTime() {
        requireTimesync();
        return timesync.read();
    }

    @Override
    public synchronized void writeTime(long nanos) {
        requireTimesync();
        if (nanos < 0) {
            throw new IllegalArgumentException(name() + ": time " + nanos + " ns is negative; SYSTIM counts up from 0");
        }
        timesync.write(nanos);
    }

    @Override
    public synchronized void adjustTime(long deltaNanos) {
        requireTimesync();
        timesync.adjust(deltaNanos);
    }

    @Override
    public synchronized long readTxTimestamp() {
        requireTimesync();
        return timesync.readTx();
    }

    private void requireTimesync() {
        if (!timesync.enabled()) {
            throw new IllegalStateException(name() + ": IEEE 1588 time sync is off; call timesyncEnable first");
        }
    }

    @Override
    protected synchronized void doFlowValidate(io.jnic.ethdev.FlowRule rule) {
        flows.validate(rule);
    }

    @Override
    protected synchronized io.jnic.ethdev.Flow doFlowCreate(io.jnic.ethdev.FlowRule rule) {
        return flows.create(rule);
    }

    @Override
    protected synchronized void doFlowDestroy(io.jnic.ethdev.Flow flow) {
        flows.destroy(flow);
    }

    @Override
    public synchronized java.util.List<io.jnic.ethdev.Flow> flows() {
        return flows.flows();
    }

    // ---------------------------------------------------------------------------------------------
    // Statistics

    private synchronized void readHwStats() {
        HwStat[] all = HwStat.values();
        for (int i = 0; i < all.length; i++) {
            HwStat s = all[i];
            long v;
            if (s.wide()) {
                long lo = r(s.reg) & 0xFFFFFFFFL;
                long hi = r(s.reg + 4) & 0xF;
                v = lo | hi << 32;
            } else if (s.perQueue()) {
                v = 0;
                for (int k = 0; k < 16; k++) {
                    v += r(s.reg + 0x40 * k) & 0xFFFFFFFFL;
                }
            } else if (s.perBuffer()) {
                v = 0;
                for (int k = 0; k < 8; k++) {
                    v += r(s.reg + 4 * k) & 0xFFFFFFFFL;
                }
            } else {
                v = r(s.reg) & 0xFFFFFFFFL;
            }
            hw[i] += v;
        }
    }

    @Override
    public synchronized void stats(PortStats s) {
        readHwStats();
        s.clear();
        s.ipackets = hw[HwStat.GPRC.ordinal()];
        s.opackets = hw[HwStat.GPTC.ordinal()];
        s.ibytes = hw[HwStat.GORC.ordinal()];
        s.obytes = hw[HwStat.GOTC.ordinal()];
        // missed: the packet buffer overflowed (MPC) or a queue had no free descriptor and dropped (QPRDC)
        s.imissed = hw[HwStat.MPC.ordinal()] + hw[HwStat.QPRDC.ordinal()];
        s.ierrors = hw[HwStat.CRCERRS.ordinal()] + hw[HwStat.RLEC.ordinal()] + hw[HwStat.ILLERRC.ordinal()]
                + hw[HwStat.ERRBC.ordinal()] + hw[HwStat.RUC.ordinal()] + hw[HwStat.ROC.ordinal()];
        for (int q = 0; q < rxq.length; q++) {
            RxQueue r = rxq[q];
            if (r != null) {
                s.rxNombuf += r.nombuf();
                if (q < PortStats.QUEUE_STATS) {
                    s.qIpackets[q] = r.packets();
                    s.qIbytes[q] = r.bytes();
                    s.qErrors[q] = r.errors();
                }
            }
        }
        for (int q = 0; q < txq.length; q++) {
            TxQueue t = txq[q];
            if (t != null) {
                s.oerrors += t.errors();
                if (q < PortStats.QUEUE_STATS) {
                    s.qOpackets[q] = t.packets();
                    s.qObytes[q] = t.bytes();
                }
            }
        }
        subtractBase(s);
    }

    private void subtractBase(PortStats s) {
        s.ipackets -= base.ipackets;
        s.opackets -= base.opackets;
        s.ibytes -= base.ibytes;
        s.obytes -= base.obytes;
        s.imissed -= base.imissed;
        s.ierrors -= base.ierrors;
        s.oerrors -= base.oerrors;
        s.rxNombuf -= base.rxNombuf;
        for (int q = 0; q < PortStats.QUEUE_STATS; q++) {
            s.qIpackets[q] -= base.qIpackets[q];
            s.qOpackets[q] -= base.qOpackets[q];
            s.qIbytes[q] -= base.qIbytes[q];
            s.qObytes[q] -= base.qObytes[q];
            s.qErrors[q] -= base.qErrors[q];
        }
    }

    @Override
    public synchronized void statsReset() {
        PortStats raw = new PortStats();
        base.clear();
        stats(raw); // with a zero base: the raw totals, which later reads subtract
        base.copyFrom(raw);
    }

    @Override
    public synchronized Map<String, Long> xstats() {
        Map<String, Long> m = new LinkedHashMap<>(super.xstats());
        HwStat[] all = HwStat.values();
        for (int i = 0; i < all.length; i++) {
            m.put(all[i].name().toLowerCase(java.util.Locale.ROOT), hw[i]);
        }
        m.put("lsc_interrupts", interruptsSeen);
        m.put("rx_interrupts", rxInterrupts);
        // counted in the queues' shared state by whichever process drove them
        long badLength = 0;
        long badStatus = 0;
        for (RxQueue r : rxq) {
            if (r != null) {
                badLength += r.memory().state.get(java.lang.foreign.ValueLayout.JAVA_LONG, QueueMemory.S_BAD_LENGTH);
                badStatus += r.memory().state.get(java.lang.foreign.ValueLayout.JAVA_LONG, QueueMemory.S_BAD_STATUS);
            }
        }
        m.put("rx_bad_length_writebacks", badLength);
        m.put("rx_bad_status_writebacks", badStatus);
        m.put("device_resets_recovered", resetsRecovered);
        m.put("device_reset_recovery_us", lastRecoveryNanos / 1000);
        return m;
    }

    // ---------------------------------------------------------------------------------------------
    // Register access (control path: trapped or mapped, the transport decides)

    private int r(int off) {
        return bar.read32(off);
    }

    private void w(int off, int v) {
        bar.write32(off, v);
    }

    private void waitSet(int reg, int bits, long timeoutNs, String what) {
        waitFor(reg, bits, true, timeoutNs, what);
    }

    private void waitClear(int reg, int bits, long timeoutNs, String what) {
        waitFor(reg, bits, false, timeoutNs, what);
    }

    private void waitFor(int reg, int bits, boolean set, long timeoutNs, String what) {
        try {
            bar.waitBits(reg, bits, set ? bits : 0, timeoutNs, what);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(pci.name() + " (" + IxgbeDriver.NAME + "): " + e.getMessage() + ". The device "
                    + "is not responding as the datasheet says: check that it is an 82599-family NIC and that no other "
                    + "driver uses it", e);
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepMicros(long us) {
        try {
            Thread.sleep(0, (int) (us * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
