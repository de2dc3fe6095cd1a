package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.DmaMemory;
import io.jnic.devsim.DmaWindow;
import io.jnic.devsim.InterruptSink;
import io.jnic.devsim.wire.FramePort;
import io.jnic.devsim.wire.Wire;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.BitSet;
import java.util.zip.CRC32;

/**
 * One PCI function (one port) of an Intel 82599, modelled from its datasheet. The driver reaches it through
 * BAR0 (registers), BAR4 (MSI-X table), DMA into its own memory ({@link DmaMemory}) and interrupts
 * ({@link InterruptSink}); frames leave and arrive through a {@link Wire}.
 *
 * <p>BAR0 lives in a memfd. The queue-register pages ({@link #queuePages()}: RX queues 0-63 at 0x1000, TX
 * queues 0-127 at 0x6000-0x7FFF, RX queues 64-127 at 0xD000) are plain shared memory that a transport hands
 * to the driver as sparse mmap areas; tail-pointer writes there are memory stores which {@link #poll} reads,
 * the way vfio-user device emulations poll doorbells. Every other offset is trapped: {@link #read32} and
 * {@link #write32} carry the side effects (reset, read-to-clear, interrupt masks, ...).
 *
 * <p>Threading: one device thread calls {@link #poll}; transports call the trapped accessors from theirs.
 * Both hold this object's monitor, so register state needs no further care.
 */
public final class Ixgbe82599 implements FramePort, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());

    /** {offset, length} of the BAR0 pages offered as sparse mmap areas (all other offsets trap). */
    private static final long[][] QUEUE_PAGES = {{0x1000, 0x1000}, {0x6000, 0x2000}, {0xD000, 0x1000}};

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT_U = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle REG = LE_INT.varHandle();

    private static final int MAX_FRAME_BYTES = 16 * 1024;
    /** 802.3 annex 31B: the reserved multicast address of MAC control (PAUSE) frames. */
    private static final byte[] PAUSE_DA = {0x01, (byte) 0x80, (byte) 0xC2, 0x00, 0x00, 0x01};
    /** A TSO packet gathered whole: 7.2.4 PAYLEN (18 bits) of payload and up to 512 bytes of headers. */
    private static final int MAX_TX_GATHER = TsoSegmenter.MAX_TSO_PAYLOAD + 512;
    private static final int RX_BATCH = 64;
    private static final int TX_BATCH = 64;

    // ---- statistics: index of each counter; trapped reads clear them (8.2.3.23) ----------------------
    static final int S_CRCERRS = 0, S_ILLERRC = 1, S_ERRBC = 2, S_RLEC = 3, S_PRC64 = 4, S_GPRC = 10,
            S_BPRC = 11, S_MPRC = 12, S_GPTC = 13, S_GORC = 14, S_GOTC = 15, S_RUC = 16, S_RFC = 17, S_ROC = 18,
            S_RJC = 19, S_TOR = 20, S_TPR = 21, S_TPT = 22, S_PTC64 = 23, S_MPTC = 29, S_BPTC = 30,
            S_RXDGPC = 31, S_TXDGPC = 32, S_MPC0 = 33, S_RNBC0 = 41, S_QPRC0 = 49, S_QPRDC0 = 65, S_QBRC0 = 81,
            S_QPTC0 = 97, S_QBTC0 = 113, S_COUNT = 129;
    /** Counter index per BAR0 dword, -1 for none; 64-bit pairs map their low register here. */
    private static final int[] STAT_OF = new int[BAR0_SIZE / 4];
    /** Dwords of the high halves of 64-bit counters: index of the counter, else -1. */
    private static final int[] STAT_HIGH_OF = new int[BAR0_SIZE / 4];

    static {
        java.util.Arrays.fill(STAT_OF, -1);
        java.util.Arrays.fill(STAT_HIGH_OF, -1);
        stat(CRCERRS, S_CRCERRS);
        stat(ILLERRC, S_ILLERRC);
        stat(ERRBC, S_ERRBC);
        stat(RLEC, S_RLEC);
        int[] prc = {PRC64, PRC127, PRC255, PRC511, PRC1023, PRC1522};
        int[] ptc = {PTC64, PTC127, PTC255, PTC511, PTC1023, PTC1522};
        for (int i = 0; i < 6; i++) {
            stat(prc[i], S_PRC64 + i);
            stat(ptc[i], S_PTC64 + i);
        }
        stat(GPRC, S_GPRC);
        stat(BPRC, S_BPRC);
        stat(MPRC, S_MPRC);
        stat(GPTC, S_GPTC);
        stat64(GORCL, GORCH, S_GORC);
        stat64(GOTCL, GOTCH, S_GOTC);
        stat(RUC, S_RUC);
        stat(RFC, S_RFC);
        stat(ROC, S_ROC);
        stat(RJC, S_RJC);
        stat64(TORL, TORH, S_TOR);
        stat(TPR, S_TPR);
        stat(TPT, S_TPT);
        stat(MPTC, S_MPTC);
        stat(BPTC, S_BPTC);
        stat(RXDGPC, S_RXDGPC);
        stat(TXDGPC, S_TXDGPC);
        for (int i = 0; i < 8; i++) {
            stat(MPC0 + 4 * i, S_MPC0 + i);
            stat(RNBC0 + 4 * i, S_RNBC0 + i);
        }
        for (int i = 0; i < QUEUE_STAT_COUNT; i++) {
            stat(QPRC0 + QUEUE_STRIDE * i, S_QPRC0 + i);
            stat(QPRDC0 + QUEUE_STRIDE * i, S_QPRDC0 + i);
            stat64(QBRC_L0 + QUEUE_STRIDE * i, QBRC_H0 + QUEUE_STRIDE * i, S_QBRC0 + i);
            stat(QPTC0 + 4 * i, S_QPTC0 + i);
            stat(TXQ_BASE + 0x30 + QUEUE_STRIDE * i, S_QPTC0 + i); // 82598-layout alias of QPTC
            stat64(QBTC_L0 + 8 * i, QBTC_H0 + 8 * i, S_QBTC0 + i);
        }
    }

    private static void stat(int offset, int index) {
        STAT_OF[offset >>> 2] = index;
    }

    private static void stat64(int low, int high, int index) {
        STAT_OF[low >>> 2] = index;
        STAT_HIGH_OF[high >>> 2] = index;
    }

    /** Registers that are plain read/write storage in this model (no side effects). */
    private static final BitSet PLAIN = new BitSet(BAR0_SIZE / 4);

    static {
        int[] singles = {CTRL_EXT, FCTRL, HLREG0, MAXFRS, RXCTRL, DMATXCTL, MRQC, RXCSUM, MTQC, RTTDCS, EIAC,
            EIAM, GPIE, IVAR_MISC, 0x05088 /* VLNCTRL */, 0x05090 /* MCSTCTRL */, 0x04294 /* MFLCN */,
            0x03D00 /* FCCFG */, 0x08800 /* SECTXCTRL */, 0x08D00 /* SECRXCTRL */, 0x08100 /* DTXMXSZRQ */,
            0x02F20 /* RDDCC */, 0x05008 /* RFCTL */, 0x03D04 /* DROPEN */,
            // written at probe / link-up by Linux's ixgbe and DPDK's PMD and read back (read-modify-write): kept
            0x00200 /* LEDCTL */, 0x04208 /* PCS1GLCTL */, 0x04218 /* PCS1GANA */, 0x032A0 /* FCRTV */,
            0x11050 /* GCR_EXT */, 0x00894 /* EITRSEL */, 0x04904 /* RTTDQSEL */, 0x04984 /* RTTBCNRC */,
            0x051B0 /* PFVTCTL */, 0x04330 /* MACC */};
        for (int s : singles) {
            PLAIN.set(s >>> 2);
        }
        range(RXPBSIZE0, 8, 4);
        range(TXPBSIZE0, 8, 4);
        range(RETA0, RETA_REGS, 4);
        range(RSSRK0, RSSRK_REGS, 4);
        range(RAL0, 2 * RAR_ENTRIES, 4);
        range(MTA0, 128, 4);
        range(IVAR0, IVAR_COUNT, 4);
        range(EITR0, 24, 4);
        range(EITR24, 40, 4);
        range(0x02300, 32, 4); // RQSMR: queue -> statistics index
        range(0x08600, 32, 4); // TQSM
        range(0x03220, 8, 4); // FCRTL
        range(0x03260, 8, 4); // FCRTH
        range(0x03200, 4, 4); // FCTTV
        range(0x05480, 16, 4); // PSRTYPE
        range(0x04950, 8, 4); // TXPBTHRESH
        range(0x0A000, 128, 4); // VFTA
    }

    private static void range(int first, int count, int stride) {
        for (int i = 0; i < count; i++) {
            PLAIN.set((first + i * stride) >>> 2);
        }
    }

    // ---- identity and plumbing ----------------------------------------------------------------------
    private final int lanId;
    // the NVM, semaphores, SFP+ cage and link: small models beside this one, reached through the dispatch below
    private final Nvm nvm;
    private final Semaphores semaphores;
    private final SfpCage cage;
    private final LinkModel link;
    private final UnmodelledRegisters unmodelled;
    private long corectlWrites;
    private final String name;

    private final int bar0Fd;
    private final MemorySegment bar0;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment bar4;
    private final DmaMemory dma;
    private final InterruptModel irq = new InterruptModel(this::reg);
    private final Wire wire;

    // ---- state ---------------------------------------------------------------------------------------
    private final Toeplitz toeplitz = new Toeplitz();
    private final FrameParser parser = new FrameParser();
    private final RxQueue[] rxq = new RxQueue[NUM_QUEUES];
    private final TxQueue[] txq = new TxQueue[NUM_QUEUES];
    private final long[] stats = new long[S_COUNT];
    private final long[] totals = new long[S_COUNT];
    private final long[] latchedHigh = new long[S_COUNT];
    private final BitSet loggedOffsets = new BitSet(BAR0_SIZE / 4);
    private final MemorySegment txFrame;
    /** One frame the transmit offloads make (a TSO segment, a frame with a tag inserted). */
    private final MemorySegment segFrame;
    private final TsoSegmenter tso;
    /** The queue whose packet {@link #tso} is sending, and where its frames go (made once: no allocation per packet). */
    private TxQueue sending;
    private final TsoSegmenter.Sink segmentSink = (f, o, l) -> sendFrame(sending, f, o, l);
    private final MemorySegment rxScratch;
    /** A received frame without its VLAN tag (RXDCTL.VME). */
    private final MemorySegment stripScratch;
    private final MemorySegment zeros;
    private final byte[] crcScratch = new byte[MAX_FRAME_BYTES];
    private final CRC32 crc = new CRC32();
    private final RxPacketBuffer fifo;
    private final MemorySegment pauseFrame;
    // runtime filters, flow steering, IEEE 1588 and pause frames (FlowFilters, Timesync, receivePause)
    private final FlowFilters filters = new FlowFilters(this::reg);
    private final Timesync timesync = new Timesync();
    private long turnNanos; // when this device-loop turn began (pause timing)
    private long txPausedUntil; // 802.3x: no transmission before this nanoTime
    private int rxExtraStatus; // STATUS.TS for the frame being delivered
    private int rxPktInfo = -1; // pkt_info replacing the parser's (an ETQF match), -1: none
    private boolean xoffSent; // transmit flow control: an XOFF went out and no XON since
    private long lxoffSent;
    private long lxonSent;
    private long lxoffReceived;
    private long lxonReceived;
    private long lxoffRead;
    private long lxonRead;

    private boolean resetting;
    /** The valid receive addresses (RAH.AV set), low 48 bits as RAL/RAH hold them: rebuilt on writes. */
    private final long[] rarValid = new long[RAR_ENTRIES];
    private int rarCount;
    private boolean linkUp; // mirrors link.up() for the data path
    private boolean lastModulePresent = true;
    private boolean lastTurnIdle = true;
    private int turn;


    // faults
    private volatile boolean faultLinkDown;
    private volatile boolean faultStall;
    private boolean busMaster = true;
    private volatile double faultDropProbability;
    private volatile double faultCrcErrorProbability;
    private volatile boolean faultReverseWriteBack;
    private volatile double faultHostile;
    private long hostileWriteBacks;
    private long faultDrops;
    private long dmaErrors;
    private long txErrors;
    private long seed = 0x9E3779B97F4A7C15L;
    // deferred RX/TX status writes for the reversed write-back fault
    private final long[] deferredAddr = new long[RX_BATCH * 4];
    private final MemorySegment[] deferredSeg = new MemorySegment[RX_BATCH * 4];
    private final int[] deferredValue = new int[RX_BATCH * 4];
    private int deferredCount;

    /**
     * A port with LAN id {@code lanId} (0 or 1: STATUS.LAN_ID) whose EEPROM holds MAC address {@code mac}
     * (6 bytes), reaching driver memory through {@code dma} and plugged into {@code wire}.
     */
    public Ixgbe82599(int lanId, byte[] mac, DmaMemory dma, Wire wire) {
        this("port " + lanId, lanId, mac, dma, wire);
    }

    /** As above, named {@code name} in messages and status output. */
    public Ixgbe82599(String name, int lanId, byte[] mac, DmaMemory dma, Wire wire) {
        if (lanId < 0 || lanId > 3) {
            throw new IllegalArgumentException("LAN id must be 0-3 (STATUS.LAN_ID has 2 bits), got " + lanId);
        }
        if (mac == null || mac.length != 6) {
            throw new IllegalArgumentException("EEPROM MAC address must be 6 bytes");
        }
        if ((mac[0] & 1) != 0) {
            throw new IllegalArgumentException("EEPROM MAC address " + formatMac(mac)
                    + " is a multicast address: a port needs a unicast one (clear bit 0 of the first octet)");
        }
        this.lanId = lanId;
        this.name = name;
        this.nvm = new Nvm(EepromImage.forPort(mac, lanId), name);
        this.semaphores = new Semaphores(name);
        this.cage = new SfpCage(new SfpModule(String.format("DEVSIM%02X%02X%04d", mac[4] & 0xFF, mac[5] & 0xFF, lanId)));
        this.link = new LinkModel(name);
        this.unmodelled = new UnmodelledRegisters(name);
        this.dma = dma;
        this.wire = wire;
        this.bar0Fd = Mman.memfdCreate("devsim-82599-bar0", Mman.MFD_CLOEXEC);
        try {
            Io.ftruncate(bar0Fd, BAR0_SIZE);
            this.bar0 = Mman.mmap(BAR0_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, bar0Fd, 0);
        } catch (RuntimeException e) {
            Io.closeQuietly(bar0Fd);
            throw e;
        }
        this.bar4 = arena.allocate(MSIX_BAR_SIZE, 64);
        this.txFrame = arena.allocate(MAX_TX_GATHER, 64);
        this.segFrame = arena.allocate(MAX_FRAME_BYTES + 4, 64);
        this.tso = new TsoSegmenter(segFrame, MAX_FRAME_BYTES);
        this.rxScratch = arena.allocate(MAX_FRAME_BYTES + CRC_LEN, 64);
        this.stripScratch = arena.allocate(MAX_FRAME_BYTES + CRC_LEN, 64);
        this.zeros = arena.allocate(MIN_FRAME, 64);
        this.pauseFrame = arena.allocate(MIN_FRAME, 64);
        this.fifo = new RxPacketBuffer(arena.allocate(RXPBSIZE_DEFAULT >>> RXPBSIZE_SHIFT << 10, 64));
        for (int i = 0; i < NUM_QUEUES; i++) {
            rxq[i] = new RxQueue(i);
            txq[i] = new TxQueue(i);
        }
        synchronized (this) {
            resetRegisters();
            completeReset(System.nanoTime());
        }
        wire.attach(this);
    }

    // ================================================================================================
    // Transport-facing API
    // ================================================================================================

    /**
     * The BAR0 pages a transport offers as sparse mmap areas, as {offset, length} pairs: RX queues 0-63
     * (0x1000), TX queues 0-127 (0x6000-0x7FFF) and RX queues 64-127 (0xD000).
     */
    public static java.util.List<long[]> queuePages() {
        java.util.List<long[]> l = new java.util.ArrayList<>();
        for (long[] p : QUEUE_PAGES) {
            l.add(p.clone());
        }
        return l;
    }

    /** The memfd holding BAR0; the {@link #queuePages()} may be mmapped from it (MAP_SHARED). */
    public int bar0Fd() {
        return bar0Fd;
    }

    /** BAR0 as the model sees it (tests use it as the driver's mapping of the queue pages). */
    public MemorySegment bar0Memory() {
        return bar0;
    }

    /** True when {@code [offset, offset + length)} lies in a queue page the driver may map. */
    public static boolean isQueuePage(long offset, long length) {
        for (long[] p : QUEUE_PAGES) {
            if (offset >= p[0] && offset + length <= p[0] + p[1]) {
                return true;
            }
        }
        return false;
    }

    public void setInterruptSink(InterruptSink sink) {
        irq.sink(sink);
    }

    /** Time the link takes to come up after a reset, an AN restart or a cable plugged in (default 0). */
    public synchronized void setLinkDelayNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("link delay must be >= 0 ns, got " + nanos);
        }
        link.setDelayNanos(nanos);
    }

    @Override
    public String portName() {
        return name;
    }

    public int lanId() {
        return lanId;
    }

    public Wire wire() {
        return wire;
    }

    /** The port's NVM image (what EERD reads; EEWR writes change it). */
    public synchronized EepromImage eeprom() {
        return nvm.image();
    }

    /** The SFP+ module in the port's cage. */
    public SfpModule sfpModule() {
        return cage.module();
    }

    /** Plugs the SFP+ module in or pulls it out: SDP2 follows, the link needs it (and GPI SDP2 tells the driver). */
    public void sfpPresent(boolean present) {
        cage.module().setPresent(present);
    }

    /** CORECTL writes seen (the SFP+ analog init sequence the driver copied from the NVM). */
    public synchronized long corectlWrites() {
        return corectlWrites;
    }

    /**
     * The registers drivers touched that the model does not implement, one line each (name, offset, reads,
     * writes, last value written); empty when there were none.
     */
    public String unmodelledReport() {
        return unmodelled.report();
    }

    /** A trapped 32-bit read of BAR0 at {@code offset}, with the register's read side effects. */
    public synchronized int read32(long offset) {
        checkOffset(offset, BAR0_SIZE);
        int off = (int) offset;
        if (busMaster && !resetting && !faultStall && !sideBand(off)) {
            // a read flushes the driver's earlier writes (PCIe ordering): queue enables and disables it stored in the
            // mapped pages take effect before this read returns, as they would on hardware, not at the next scan
            scanQueueEnables();
        }
        int st = STAT_OF[off >>> 2];
        if (st >= 0 && !isRxQueueRegister(off)) {
            return readStat(st);
        }
        int sth = STAT_HIGH_OF[off >>> 2];
        if (sth >= 0) {
            long v = latchedHigh[sth];
            latchedHigh[sth] = 0;
            return (int) v;
        }
        if (isQueuePage(off, 4)) {
            return readQueuePage(off);
        }
        if (off >= SRRCTL_ALIAS0 && off < SRRCTL_ALIAS0 + 64) {
            return (int) REG.getAcquire(bar0, (long) rxq((off - SRRCTL_ALIAS0) >>> 2) + SRRCTL);
        }
        if (off >= DCA_RXCTRL_ALIAS0 && off < DCA_RXCTRL_ALIAS0 + 64) {
            return (int) REG.getAcquire(bar0, (long) rxq((off - DCA_RXCTRL_ALIAS0) >>> 2) + DCA_RXCTRL);
        }
        if (off >= RAL_ALIAS0 && off < RAL_ALIAS0 + 16 * 8) {
            return reg(RAL0 + off - RAL_ALIAS0);
        }
        switch (off) {
            case CTRL:
                return reg(CTRL);
            case STATUS:
                return (lanId << STATUS_LAN_ID_SHIFT) | (link.up() ? STATUS_LINK_UP : 0)
                        | ((reg(CTRL) & CTRL_PCIE_MASTER_DISABLE) == 0 ? STATUS_GIO_MASTER_ENABLE : 0);
            case Nvm.EEC:
                return nvm.readEec(!resetting);
            case Nvm.EERD:
                return nvm.readEerd();
            case Nvm.EEWR:
                return nvm.readEewr();
            case Semaphores.SWSM:
                return semaphores.readSwsm();
            case Semaphores.SW_FW_SYNC:
                return semaphores.readSync();
            case Semaphores.FWSM:
                return semaphores.readFwsm();
            case SfpCage.ESDP:
                return cage.readEsdp();
            case I2cBus.I2CCTL:
                return cage.i2c().read();
            case LinkModel.AUTOC2:
                return link.readAutoc2();
            case LinkModel.ANLP1:
                return link.readAnlp1();
            case CORECTL:
                return 0; // a write-only command register (the analog core's registers are not readable here)
            case RDRXCTL:
                return reg(RDRXCTL) | (resetting ? 0 : RDRXCTL_DMAIDONE);
            case LINKS:
                return link.readLinks();
            case AUTOC:
                return link.readAutoc();
            case 0x08D04: // SECRXSTAT: the security block is always ready (no IPsec/MACsec modelled)
                return 1;
            default:
                break;
        }
        if (InterruptModel.ownsRead(off)) {
            return irq.read(off);
        }
        if (Timesync.owns(off)) {
            return timesync.read(off, System.nanoTime());
        }
        if (off == LXOFFRXCNT || off == LXONRXCNT) { // 16-bit counters, clear on read (8.2.3.23)
            boolean xoff = off == LXOFFRXCNT;
            long v = (xoff ? lxoffReceived - lxoffRead : lxonReceived - lxonRead) & 0xFFFF;
            if (xoff) {
                lxoffRead = lxoffReceived;
            } else {
                lxonRead = lxonReceived;
            }
            return (int) v;
        }
        if (PLAIN.get(off >>> 2) || FlowFilters.owns(off)) {
            return reg(off);
        }
        unmodelled.read(off);
        return 0;
    }

    /**
     * The NVM, semaphore, SDP and I2C registers: drivers read them thousands of times in a row (EEPROM words, I2C
     * bits), never to flush queue-register stores, so their reads skip the queue-enable scan (256 loads) that other
     * trapped reads do: bit-banging the SFP+ serial ID is then not dominated by it.
     */
    private static boolean sideBand(int off) {
        return off == I2cBus.I2CCTL || off == SfpCage.ESDP || (off >= Nvm.EEC && off <= Nvm.EEWR)
                || off == Semaphores.SWSM || off == Semaphores.FWSM || off == Semaphores.SW_FW_SYNC;
    }

    /** A trapped 32-bit write of BAR0 at {@code offset}, with the register's write side effects. */
    public synchronized void write32(long offset, int value) {
        checkOffset(offset, BAR0_SIZE);
        int off = (int) offset;
        if (isQueuePage(off, 4)) {
            if (STAT_OF[off >>> 2] < 0 && STAT_HIGH_OF[off >>> 2] < 0) {
                REG.setRelease(bar0, (long) off, value); // counters inside the pages are read-only
            }
            return;
        }
        if (off >= SRRCTL_ALIAS0 && off < SRRCTL_ALIAS0 + 64) {
            REG.setRelease(bar0, (long) rxq((off - SRRCTL_ALIAS0) >>> 2) + SRRCTL, value);
            return;
        }
        if (off >= DCA_RXCTRL_ALIAS0 && off < DCA_RXCTRL_ALIAS0 + 64) {
            REG.setRelease(bar0, (long) rxq((off - DCA_RXCTRL_ALIAS0) >>> 2) + DCA_RXCTRL, value);
            return;
        }
        if (off >= RAL_ALIAS0 && off < RAL_ALIAS0 + 16 * 8) {
            setReg(RAL0 + off - RAL_ALIAS0, value);
            rebuildReceiveAddresses();
            return;
        }
        if (STAT_OF[off >>> 2] >= 0 || STAT_HIGH_OF[off >>> 2] >= 0) {
            return; // statistics are read-only
        }
        switch (off) {
            case CTRL:
                if ((value & CTRL_RST) != 0) {
                    resetRegisters(); // RST stays visible until the device finishes (next poll)
                    setReg(CTRL, CTRL_RST);
                } else {
                    setReg(CTRL, value & ~CTRL_LRST);
                    if ((value & CTRL_LRST) != 0 && link.restart(System.nanoTime())) {
                        linkChanged();
                    }
                }
                return;
            case STATUS, LINKS, Semaphores.FWSM, LinkModel.ANLP1:
                return;
            case Nvm.EEC:
                nvm.writeEec(value);
                return;
            case Nvm.EERD:
                nvm.writeEerd(value);
                return;
            case Nvm.EEWR:
                nvm.writeEewr(value);
                return;
            case Semaphores.SWSM:
                semaphores.writeSwsm(value);
                return;
            case Semaphores.SW_FW_SYNC:
                semaphores.writeSync(value);
                return;
            case SfpCage.ESDP:
                cage.writeEsdp(value);
                return;
            case I2cBus.I2CCTL:
                cage.i2c().write(value);
                return;
            case LinkModel.AUTOC2:
                link.writeAutoc2(value);
                return;
            case CORECTL:
                // 4.6.4 / SFP+ init: the driver writes the NVM's analog core settings for the module type here;
                // the SFI front end they tune has no behaviour in the model, so they are counted and logged
                corectlWrites++;
                LOG.log(System.Logger.Level.DEBUG, "{0}: CORECTL analog core write: address 0x{1}, data 0x{2}", name,
                        Integer.toHexString((value >>> 8) & 0xFF), Integer.toHexString(value & 0xFF));
                return;
            case RDRXCTL:
                setReg(RDRXCTL, value & ~RDRXCTL_DMAIDONE);
                return;
            case AUTOC:
                if (link.writeAutoc(value, System.nanoTime())) {
                    linkChanged();
                }
                return;
            case EIAM:
                setReg(EIAM, value);
                irq.eiamWritten(value);
                return;
            case RSSRK0, RSSRK0 + 4, RSSRK0 + 8, RSSRK0 + 12, RSSRK0 + 16, RSSRK0 + 20, RSSRK0 + 24, RSSRK0 + 28,
                    RSSRK0 + 32, RSSRK0 + 36:
                setReg(off, value);
                loadRssKey();
                return;
            default:
                break;
        }
        if (InterruptModel.ownsWrite(off)) {
            irq.write(off, value, System.nanoTime());
            return;
        }
        if (Timesync.owns(off)) {
            timesync.write(off, value, System.nanoTime());
            return;
        }
        if (FlowFilters.owns(off)) {
            setReg(off, value);
            filters.written(off, value);
            return;
        }
        if (off == LXOFFRXCNT || off == LXONRXCNT) {
            return;
        }
        if (PLAIN.get(off >>> 2)) {
            setReg(off, value);
            if (off >= RAL0 && off < RAL0 + 8 * RAR_ENTRIES) {
                rebuildReceiveAddresses();
            }
            return;
        }
        unmodelled.write(off, value);
    }

    /** A trapped read of the MSI-X BAR (table and pending-bit array, PCI 3.0 section 6.8.2). */
    public synchronized int readMsix32(long offset) {
        checkOffset(offset, MSIX_BAR_SIZE);
        if (offset >= MSIX_PBA_OFFSET && offset < MSIX_PBA_OFFSET + 8) {
            return irq.pendingBits(offset == MSIX_PBA_OFFSET ? 0 : 1);
        }
        return bar4.get(LE_INT, offset);
    }

    public synchronized void writeMsix32(long offset, int value) {
        checkOffset(offset, MSIX_BAR_SIZE);
        if (offset < MSIX_VECTORS * 16L) {
            bar4.set(LE_INT, offset, value);
        }
    }

    // ================================================================================================
    // Faults (run-time injection)
    // ================================================================================================

    /** Pulls the cable (true) or plugs it back (false): the link drops or retrains, with an LSC interrupt. */
    public synchronized void faultLinkDown(boolean down) {
        faultLinkDown = down;
    }

    /** Loses each arriving frame with this probability before the MAC sees it (counted in {@link #faultDrops}). */
    public void faultDropProbability(double p) {
        faultDropProbability = probability(p);
    }

    /** Delivers each arriving frame with a bad FCS with this probability (CRCERRS counts them). */
    public void faultCrcErrorProbability(double p) {
        faultCrcErrorProbability = probability(p);
    }

    /** Stops all processing (no DMA, no interrupts) while true, as a hung device would. */
    public void faultStall(boolean stall) {
        faultStall = stall;
    }

    /** Writes back descriptor status of each batch last-to-first, so DD bits appear out of order. */
    public void faultReverseWriteBack(boolean on) {
        faultReverseWriteBack = on;
    }

    /**
     * A hostile or broken device: each RX write-back is, with this probability, corrupted in one of four ways in
     * turn (a length past any buffer, a length of 0, EOP missing, the RXE error bit), and each such write-back
     * also leaves RDH pointing outside the ring until the next frame; TX heads (TDH) then point outside too.
     * Counted in {@link #hostileWriteBacks}: a driver that checks what it reads drops exactly that many frames.
     */
    public void faultHostile(double p) {
        faultHostile = probability(p);
    }

    /** RX write-backs corrupted by {@link #faultHostile} so far. */
    public synchronized long hostileWriteBacks() {
        return hostileWriteBacks;
    }

    /** Function-level reset (PCIe FLR / VFIO reset): every register to its default, as CTRL.RST does. */
    public synchronized void functionLevelReset() {
        resetRegisters();
        setReg(CTRL, CTRL_RST);
    }

    /** A device reset the driver did not ask for (power glitch, firmware): every register to its default. */
    public synchronized void faultReset() {
        resetRegisters();
        setReg(CTRL, CTRL_RST);
    }

    /**
     * PCI command register Bus Master Enable: without it the function issues no DMA (no descriptor fetch,
     * no write-back), as on PCIe. The raw model starts enabled; a transport with a config space follows it.
     */
    public synchronized void setBusMaster(boolean enabled) {
        busMaster = enabled;
    }

    /**
     * The driver is taking {@code [iova, iova + size)} away: queues whose rings lie there stop (as if the
     * driver had disabled them; their ENABLE bit reads 0) so that nothing touches the memory afterwards.
     * Callers hold no other lock of this device; DMA of in-flight buffers there becomes a DMA error.
     */
    public synchronized void dmaUnmapping(long iova, long size) {
        for (int q = 0; q < NUM_QUEUES; q++) {
            RxQueue r = rxq[q];
            if (r.enabled && overlaps(r.ring, iova, size)) {
                r.enabled = false;
                REG.setRelease(bar0, (long) rxq(q) + RXDCTL, reg(rxq(q) + RXDCTL) & ~RXDCTL_ENABLE);
                LOG.log(System.Logger.Level.WARNING, "{0}: RX queue {1} stopped: its ring was DMA-unmapped", name, q);
            }
            TxQueue t = txq[q];
            if (t.enabled && (overlaps(t.ring, iova, size) || (t.headWriteBack
                    && t.headWriteBackAddress >= iova && t.headWriteBackAddress - iova < size))) {
                t.enabled = false;
                REG.setRelease(bar0, (long) txq(q) + TXDCTL, reg(txq(q) + TXDCTL) & ~TXDCTL_ENABLE);
                LOG.log(System.Logger.Level.WARNING, "{0}: TX queue {1} stopped: its ring was DMA-unmapped", name, q);
            }
        }
    }

    private static boolean overlaps(DmaWindow w, long iova, long size) {
        return w.iova() < iova + size && iova < w.iova() + w.size();
    }

    public boolean isStalled() {
        return faultStall;
    }

    private static double probability(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability must be within [0, 1], got " + p);
        }
        return p;
    }

    // ================================================================================================
    // The device loop
    // ================================================================================================

    /**
     * One turn of the device: finish a pending reset, follow the link, notice queue enables, move frames
     * (transmit rings to the wire, the wire and the packet buffer to receive rings) and raise interrupts.
     * Returns the amount of work done (0 when idle).
     */
    public int poll() {
        long now = System.nanoTime();
        int work;
        synchronized (this) {
            if (resetting) {
                completeReset(now);
            }
            if (faultStall) {
                return 0;
            }
            boolean present = cage.module().present();
            if (present != lastModulePresent) {
                lastModulePresent = present;
                if ((reg(GPIE) & SfpCage.GPIE_SDP2_GPIEN) != 0) {
                    irq.raiseOther(SfpCage.EICR_GPI_SDP2); // module inserted or removed
                }
            }
            if (link.step(now, !faultLinkDown && wire.carrier() && cage.signal())) {
                linkChanged();
            }
            if (!busMaster) {
                return 0; // no DMA and no MSI-X (a memory write) without Bus Master Enable
            }
            // a driver reads its own ENABLE back from shared memory at once, so latch promptly: every idle
            // turn, and every 16th busy one (a busy turn moves up to 64 frames per queue: microseconds)
            if (lastTurnIdle || (turn++ & 15) == 0) {
                scanQueueEnables();
            }
            turnNanos = now;
            work = wire.poll(now);
            work += drainFifo();
            work += transmit();
            finishBatch(now);
            lastTurnIdle = work == 0;
        }
        return work;
    }

    /** Snapshot of the running totals (never cleared by register reads), for status output. */
    public synchronized PortCounters counters() {
        return new PortCounters(name, link.up(), totals[S_GPRC], totals[S_GORC], totals[S_GPTC], totals[S_GOTC],
                totals[S_MPC0], totals[S_RNBC0], sum(totals, S_QPRDC0, 16), totals[S_CRCERRS],
                totals[S_RUC] + totals[S_ROC], totals[S_RXDGPC], totals[S_TXDGPC], faultDrops, dmaErrors,
                txErrors);
    }

    private static long sum(long[] a, int from, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += a[from + i];
        }
        return s;
    }

    // ================================================================================================
    // Reset and link
    // ================================================================================================

    /** Every register to its power-on value (datasheet 4.2 / chapter 8 initial values). */
    private void resetRegisters() {
        bar0.fill((byte) 0);
        resetting = true;
        for (int q = 0; q < NUM_QUEUES; q++) {
            rxq[q].enabled = false;
            txq[q].enabled = false;
            REG.setRelease(bar0, (long) rxq(q) + SRRCTL, SRRCTL_DEFAULT);
        }
        setReg(HLREG0, HLREG0_DEFAULT);
        setReg(MAXFRS, MAXFRS_DEFAULT);
        setReg(RXPBSIZE0, RXPBSIZE_DEFAULT);
        setReg(TXPBSIZE0, TXPBSIZE_DEFAULT);
        // the EEPROM's MAC address in receive address 0 (datasheet 4.6.x: loaded from the EEPROM at reset)
        byte[] m = nvm.image().macAddress(lanId);
        setReg(RAL0, (m[0] & 0xFF) | (m[1] & 0xFF) << 8 | (m[2] & 0xFF) << 16 | (m[3] & 0xFF) << 24);
        setReg(RAH0, (m[4] & 0xFF) | (m[5] & 0xFF) << 8 | RAH_AV);
        nvm.reset();
        cage.reset();
        link.reset();
        setReg(VLNCTRL, 0x8100); // 8.2.3.7.2: VET resets to the 802.1Q tag type
        filters.reset();
        timesync.reset();
        txPausedUntil = 0;
        xoffSent = false;
        rebuildReceiveAddresses();
        loadRssKey();
        java.util.Arrays.fill(stats, 0);
        java.util.Arrays.fill(latchedHigh, 0);
        irq.reset();
        fifo.clear();
        deferredCount = 0;
        linkUp = false; // no LSC: the interrupt state was just cleared with everything else
    }

    private void completeReset(long now) {
        resetting = false;
        setReg(CTRL, reg(CTRL) & ~CTRL_RST);
        restartLink(now);
    }

    private void restartLink(long now) {
        if (link.restart(now)) {
            linkChanged();
        }
    }

    /** LINKS.LINK_UP changed: the data path follows it, and EICR.LSC tells the driver (7.3.x). */
    private void linkChanged() {
        linkUp = link.up();
        irq.raiseOther(EICR_LSC);
    }

    /** The port's name in logs. */
    public String name() {
        return name;
    }

    public synchronized boolean linkUp() {
        return link.up();
    }

    private void rebuildReceiveAddresses() {
        int n = 0;
        for (int i = 0; i < RAR_ENTRIES; i++) {
            int rah = reg(RAH0 + 8 * i);
            if ((rah & RAH_AV) != 0) {
                rarValid[n++] = (reg(RAL0 + 8 * i) & 0xFFFFFFFFL) | ((long) (rah & 0xFFFF) << 32);
            }
        }
        rarCount = n;
    }

    private void loadRssKey() {
        byte[] k = new byte[Toeplitz.KEY_BYTES];
        for (int i = 0; i < RSSRK_REGS; i++) {
            int v = reg(RSSRK0 + 4 * i);
            for (int b = 0; b < 4; b++) {
                k[4 * i + b] = (byte) (v >>> (8 * b));
            }
        }
        toeplitz.setKey(k);
    }

    // ================================================================================================
    // Queues
    // ================================================================================================

    private static final class RxQueue {
        final int index;
        boolean enabled;
        DmaWindow ring;
        long ringOffset;
        int size;
        int head;
        int tail;
        int bufferSize;
        boolean dropEnable;

        RxQueue(int index) {
            this.index = index;
        }
    }

    private static final class TxQueue {
        final int index;
        boolean enabled;
        DmaWindow ring;
        long ringOffset;
        int size;
        int head;
        boolean headWriteBack;
        long headWriteBackAddress;
        int frameLength; // bytes gathered so far for the frame in progress
        boolean frameBad;
        boolean frameStamp; // a descriptor of the frame asked for an IEEE 1588 time stamp
        // 7.2.3.2.3: the queue's two context slots (dwords 0, 2, 3 of the context descriptor written to each)
        final int[] ctxLens = new int[2];
        final int[] ctxTucmd = new int[2];
        final int[] ctxMssL4 = new int[2];
        // the offload fields of the packet in progress, from its first data descriptor (7.2.3.2.4)
        boolean inPacket;
        int pktCmd;
        int pktOlinfo;

        TxQueue(int index) {
            this.index = index;
        }
    }

    private boolean rxEnableWritten(int q) {
        return ((int) REG.getAcquire(bar0, (long) rxq(q) + RXDCTL) & RXDCTL_ENABLE) != 0;
    }

    private void scanQueueEnables() {
        for (int q = 0; q < NUM_QUEUES; q++) {
            int base = rxq(q);
            boolean en = ((int) REG.getAcquire(bar0, (long) base + RXDCTL) & RXDCTL_ENABLE) != 0;
            RxQueue r = rxq[q];
            if (en && !r.enabled) {
                enableRx(r, base);
            } else if (!en && r.enabled) {
                r.enabled = false;
            }
            int tbase = txq(q);
            boolean ten = ((int) REG.getAcquire(bar0, (long) tbase + TXDCTL) & TXDCTL_ENABLE) != 0;
            TxQueue t = txq[q];
            if (ten && !t.enabled) {
                enableTx(t, tbase);
            } else if (!ten && t.enabled) {
                t.enabled = false;
            }
        }
    }

    /** 8.2.3.8 / 4.6.7: latch the ring when software sets RXDCTL.ENABLE; refuse (ENABLE reads 0) if invalid. */
    private void enableRx(RxQueue r, int base) {
        long addr = (reg(base + RDBAL) & 0xFFFFFFFFL) | ((long) reg(base + RDBAH) << 32);
        int len = reg(base + RDLEN);
        int srrctl = reg(base + SRRCTL);
        int head = reg(base + RDH);
        int tail = reg(base + RDT);
        int descType = (srrctl & SRRCTL_DESCTYPE_MASK) >>> SRRCTL_DESCTYPE_SHIFT;
        int bsize = (srrctl & SRRCTL_BSIZEPKT_MASK) * 1024;
        String why = null;
        DmaWindow w = null;
        if (len <= 0 || len % 128 != 0 || len / DESC_SIZE > 65536) {
            why = "RDLEN " + len + " is not a non-zero multiple of 128 bytes";
        } else if ((addr & 0x7F) != 0) {
            why = "RDBAL/RDBAH 0x" + Long.toHexString(addr) + " is not 128-byte aligned";
        } else if ((w = dma.find(addr, len)) == null || !w.writable() || !w.mapped()) {
            why = "the ring [0x" + Long.toHexString(addr) + ", +" + len + ") is not in writable DMA-mapped memory";
        } else if (descType != SRRCTL_DESCTYPE_ADV_ONEBUF) {
            why = "SRRCTL.DESCTYPE " + descType + " is not 1 (advanced one-buffer); other formats are not modelled";
        } else if (bsize == 0) {
            why = "SRRCTL.BSIZEPACKET is 0";
        } else if (head < 0 || head >= len / DESC_SIZE || tail < 0 || tail >= len / DESC_SIZE) {
            why = "RDH " + head + " / RDT " + tail + " outside a ring of " + len / DESC_SIZE + " descriptors";
        }
        if (why != null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: RX queue {1} not enabled: {2}", name, r.index, why);
            REG.setRelease(bar0, (long) base + RXDCTL, reg(base + RXDCTL) & ~RXDCTL_ENABLE);
            return;
        }
        r.ring = w;
        r.ringOffset = addr - w.iova();
        r.size = len / DESC_SIZE;
        r.head = head;
        r.tail = tail;
        r.bufferSize = bsize;
        r.dropEnable = (srrctl & SRRCTL_DROP_EN) != 0;
        r.enabled = true;
    }

    private void enableTx(TxQueue t, int base) {
        long addr = (reg(base + TDBAL) & 0xFFFFFFFFL) | ((long) reg(base + TDBAH) << 32);
        int len = reg(base + TDLEN);
        int head = reg(base + TDH);
        int wbal = reg(base + TDWBAL);
        long wbAddr = ((long) reg(base + TDWBAH) << 32) | (wbal & 0xFFFFFFFCL);
        String why = null;
        DmaWindow w = null;
        if (len <= 0 || len % 128 != 0 || len / DESC_SIZE > 65536) {
            why = "TDLEN " + len + " is not a non-zero multiple of 128 bytes";
        } else if ((addr & 0x7F) != 0) {
            why = "TDBAL/TDBAH 0x" + Long.toHexString(addr) + " is not 128-byte aligned";
        } else if ((w = dma.find(addr, len)) == null || !w.writable() || !w.mapped()) {
            why = "the ring [0x" + Long.toHexString(addr) + ", +" + len + ") is not in writable DMA-mapped memory";
        } else if (head < 0 || head >= len / DESC_SIZE) {
            why = "TDH " + head + " outside a ring of " + len / DESC_SIZE + " descriptors";
        } else if ((wbal & TDWBAL_HEAD_WB_EN) != 0 && (dma.find(wbAddr, 4) == null || !dma.find(wbAddr, 4).writable()
                || !dma.find(wbAddr, 4).mapped())) {
            why = "the head write-back address 0x" + Long.toHexString(wbAddr) + " is not in DMA-mapped memory";
        }
        if (why != null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: TX queue {1} not enabled: {2}", name, t.index, why);
            REG.setRelease(bar0, (long) base + TXDCTL, reg(base + TXDCTL) & ~TXDCTL_ENABLE);
            return;
        }
        t.ring = w;
        t.ringOffset = addr - w.iova();
        t.size = len / DESC_SIZE;
        t.head = head;
        t.headWriteBack = (wbal & TDWBAL_HEAD_WB_EN) != 0;
        t.headWriteBackAddress = wbAddr;
        t.frameLength = 0;
        t.frameBad = false;
        t.frameStamp = false;
        t.inPacket = false;
        t.enabled = true;
    }

    // ================================================================================================
    // Receive (7.1)
    // ================================================================================================

    @Override
    public void receive(MemorySegment frame, long offset, int length) {
        receive(frame, offset, length, System.nanoTime());
    }

    @Override
    public void receive(MemorySegment frame, long offset, int length, long arrivalNanos) {
        synchronized (this) {
            receiveLocked(frame, offset, length, arrivalNanos);
        }
    }

    private void receiveLocked(MemorySegment frame, long offset, int length, long arrivalNanos) {
        if (resetting || !linkUp || length <= 0) {
            return; // no link, no frames
        }
        if (faultDropProbability > 0 && nextRandom() < faultDropProbability) {
            faultDrops++;
            return;
        }
        int wireLen = length + CRC_LEN; // sizes count DA through FCS (8.2.3.23)
        count(S_TPR, 1);
        count(S_TOR, wireLen);
        if ((reg(RXCTRL) & RXCTRL_RXEN) == 0) {
            return;
        }
        int hl = reg(HLREG0);
        int max = (hl & HLREG0_JUMBOEN) != 0 ? reg(MAXFRS) >>> MAXFRS_MFS_SHIFT : STANDARD_MAX_FRAME;
        boolean vlan = length >= 14 && frame.get(FrameParser.BE16, offset + 12) == (short) FrameParser.ETHERTYPE_VLAN;
        if (vlan && (hl & HLREG0_JUMBOEN) == 0) {
            max += 4;
        }
        boolean badCrc = faultCrcErrorProbability > 0 && nextRandom() < faultCrcErrorProbability;
        if (wireLen < MIN_FRAME) {
            count(badCrc ? S_RFC : S_RUC, 1);
            return;
        }
        if (wireLen > max || length > MAX_FRAME_BYTES) {
            count(badCrc ? S_RJC : S_ROC, 1);
            return;
        }
        if (badCrc) {
            count(S_CRCERRS, 1);
            return;
        }
        if ((hl & HLREG0_RXLNGTHERREN) != 0 && lengthError(frame, offset, length, vlan)) {
            count(S_RLEC, 1); // counted only: the frame is still received
        }
        if (receivePause(frame, offset, length, arrivalNanos)) {
            return;
        }
        int mrqc = reg(MRQC);
        parser.parse(frame, offset, length, mrqc, toeplitz);
        if (!acceptAddress(frame, offset) || !filters.vlanPasses(frame, offset, length)) {
            return; // 7.1.1: filtered out before the host sees it (TPR/TOR counted it; GPRC does not)
        }
        count(S_GPRC, 1);
        count(S_GORC, wireLen);
        if (parser.broadcast) {
            count(S_BPRC, 1);
        } else if (parser.multicast) {
            count(S_MPRC, 1);
        }
        count(S_PRC64 + sizeBucket(wireLen), 1);
        int queue = 0;
        filters.classify(frame, offset, length); // 7.1.2: EtherType, then 5-tuple filters, ahead of RSS
        if (filters.queue >= 0) {
            queue = filters.queue;
        } else if ((mrqc & MRQC_MRQE_MASK) == MRQC_MRQE_RSS && parser.rssType != RXD_RSSTYPE_NONE) {
            queue = bar0.get(ValueLayout.JAVA_BYTE, RETA0 + (parser.rssHash & 0x7F)) & 0xF; // 7.1.2.8.2
        }
        // append the FCS when the MAC does not strip it (HLREG0.RXCRCSTRP clear)
        MemorySegment src = frame;
        long srcOff = offset;
        int len = length;
        if ((hl & HLREG0_RXCRCSTRP) == 0) {
            MemorySegment.copy(frame, offset, rxScratch, 0, length);
            rxScratch.set(LE_INT_U, length, fcs(rxScratch, length));
            src = rxScratch;
            srcOff = 0;
            len = length + CRC_LEN;
        }
        RxQueue q = rxq[queue];
        if (!q.enabled && busMaster && rxEnableWritten(queue)) {
            // RXDCTL sits in a mapped page: the driver saw its own ENABLE at once, so a frame for that queue
            // must not race the periodic scan. Latch it now, as hardware would have before ENABLE read 1.
            enableRx(q, rxq(queue));
        }
        if (!q.enabled) {
            count(S_RNBC0, 1); // 8.2.3.23: no buffers, or the queue is disabled
            return;
        }
        if (fifo.isEmpty() && busMaster) {
            boolean stamped = filters.ptp && timesync.stampRx(arrivalNanos, ptpSourceId(frame, offset, length, 0),
                    ptpSourceId(frame, offset, length, 4));
            rxExtraStatus = stamped ? RXD_STAT_TS : 0;
            rxPktInfo = filters.etqf >= 0 ? RXD_PKTTYPE_ETQF | filters.etqf << RXD_PKTTYPE_ETQF_SHIFT : -1;
            boolean delivered = deliver(q, src, srcOff, len);
            rxExtraStatus = 0;
            rxPktInfo = -1;
            if (delivered) {
                return;
            }
            if (stamped) {
                timesync.unlatchRx(); // not delivered: nothing will tell software to read the latch
            }
            count(S_RNBC0, 1);
            if (q.dropEnable) {
                count(S_QPRDC0 + statIndexRx(queue), 1);
                return;
            }
        }
        if (!fifo.push(src, srcOff, len, queue, parser, rxpbBytes())) {
            count(S_MPC0, 1); // packet buffer full: missed
            irq.raiseOther(EICR_RX_MISS);
        }
        txFlowControl();
    }

    /**
     * An IEEE 802.3 length field (type/length below 1536) that disagrees with the frame: longer than the data,
     * or different from it when the data needs no padding (46 bytes or more).
     */
    private static boolean lengthError(MemorySegment frame, long offset, int length, boolean vlan) {
        int at = vlan ? 16 : 12;
        if (length < at + 2) {
            return false;
        }
        int field = frame.get(FrameParser.BE16, offset + at) & 0xFFFF;
        if (field >= 1536) {
            return false;
        }
        int data = length - at - 2;
        return field > data || (field >= 46 && field != data);
    }

    /**
     * 802.3 annex 31B / datasheet 3.7.7.2 receive flow control: with MFLCN.RFCE a PAUSE frame (EtherType 0x8808,
     * opcode 1, to 01:80:c2:00:00:01) stops transmission for its pause time in 512-bit-time quanta (51.2 ns at
     * 10 Gb/s), a pause time of 0 (XON) resumes it; the MAC consumes the frame and counts it in LXOFFRXCNT or
     * LXONRXCNT. Without RFCE it is an ordinary multicast frame for the address filter. True when consumed.
     */
    private boolean receivePause(MemorySegment frame, long offset, int length, long arrivalNanos) {
        if (length < 18 || frame.get(FrameParser.BE16, offset + 12) != (short) ETHERTYPE_MAC_CONTROL
                || frame.get(FrameParser.BE16, offset + 14) != (short) MAC_CONTROL_PAUSE
                || (reg(MFLCN) & MFLCN_RFCE) == 0) {
            return false;
        }
        int quanta = frame.get(FrameParser.BE16, offset + 16) & 0xFFFF;
        if (quanta == 0) {
            txPausedUntil = arrivalNanos;
            lxonReceived++;
        } else {
            txPausedUntil = arrivalNanos + quanta * PAUSE_QUANTUM_DECI_NS / 10;
            lxoffReceived++;
        }
        return true;
    }

    /**
     * Transmit flow control (3.7.7.1, FCCFG.TFCE = 802.3x with FCRTH[0].FCEN): when packet buffer 0 fills to
     * FCRTH[0].RTH an XOFF with FCTTV[0]'s pause time goes out; when it drains below FCRTL[0].RTL an XON follows
     * if FCRTL[0].XONE is set. (The refresh of a long pause by FCRTV is not modelled: one XOFF per crossing.)
     */
    private void txFlowControl() {
        int fcrth = reg(FCRTH0);
        if ((reg(FCCFG) & FCCFG_TFCE_802_3X) == 0 || (fcrth & FCRTH_FCEN) == 0) {
            xoffSent = false;
            return;
        }
        int used = fifo.used();
        int fcrtl = reg(FCRTL0);
        if (!xoffSent && used >= (fcrth & FC_THRESHOLD_MASK)) {
            xoffSent = true;
            lxoffSent++;
            sendPause(reg(FCTTV0) & 0xFFFF);
        } else if (xoffSent && used < (fcrtl & FC_THRESHOLD_MASK)) {
            xoffSent = false;
            if ((fcrtl & FCRTL_XONE) != 0) {
                lxonSent++;
                sendPause(0);
            }
        }
    }

    /** A PAUSE frame from this port's address (RAR[0]) with {@code quanta}, padded to the minimum size. */
    private void sendPause(int quanta) {
        if (!linkUp) {
            return;
        }
        MemorySegment f = pauseFrame;
        f.fill((byte) 0);
        MemorySegment.copy(PAUSE_DA, 0, f, ValueLayout.JAVA_BYTE, 0, 6);
        f.set(LE_INT_U, 6, reg(RAL0));
        f.set(LE_SHORT_U, 10, (short) reg(RAH0));
        f.set(FrameParser.BE16, 12, (short) ETHERTYPE_MAC_CONTROL);
        f.set(FrameParser.BE16, 14, (short) MAC_CONTROL_PAUSE);
        f.set(FrameParser.BE16, 16, (short) quanta);
        wire.transmit(f, 0, MIN_FRAME - CRC_LEN, System.nanoTime());
    }

    /** 802.3x pause frames this port sent (XOFF, XON) since it was built. */
    public synchronized long[] pauseFramesSent() {
        return new long[] {lxoffSent, lxonSent};
    }

    /** RXSATRL (at 0) / RXSATRH (at 4): the PTP header's source port identity and sequence id (7.9.2.1). */
    private static int ptpSourceId(MemorySegment frame, long offset, int length, int which) {
        long ptp = offset + 14;
        if (length < 14 + 32) {
            return 0;
        }
        return which == 0 ? frame.get(LE_INT_U, ptp + 20)
                : (frame.get(LE_SHORT_U, ptp + 24) & 0xFFFF) | (frame.get(FrameParser.BE16, ptp + 30) & 0xFFFF) << 16;
    }

    /** 802.3x pause frames this port honoured (XOFF, XON) since it was built: never cleared by register reads. */
    public synchronized long[] pauseFramesHonoured() {
        return new long[] {lxoffReceived, lxonReceived};
    }

    /** Whether a received XOFF holds this port's transmission now. */
    public synchronized boolean txPaused() {
        return System.nanoTime() - txPausedUntil < 0;
    }

    /** Frames steered by the EtherType filters and by the 5-tuple filters, and time stamps latched RX / TX. */
    public synchronized long[] filterCounters() {
        return new long[] {filters.etqfHits, filters.ftqfHits, timesync.rxLatched(), timesync.txLatched()};
    }

    /** 7.1.1.1 L2 filtering: broadcast with BAM, multicast with MPE, unicast on UPE or a valid RAR match. */
    private boolean acceptAddress(MemorySegment frame, long off) {
        int fctrl = reg(FCTRL);
        if (parser.broadcast) {
            return (fctrl & FCTRL_BAM) != 0;
        }
        if (parser.multicast) {
            return (fctrl & FCTRL_MPE) != 0 || multicastTableHit(frame, off);
        }
        if ((fctrl & FCTRL_UPE) != 0) {
            return true;
        }
        long dst = (frame.get(LE_INT_U, off) & 0xFFFFFFFFL) | ((long) (frame.get(LE_SHORT_U, off + 4) & 0xFFFF) << 32);
        long[] valid = rarValid;
        for (int i = 0; i < rarCount; i++) {
            if (valid[i] == dst) {
                return true;
            }
        }
        return false;
    }

    /**
     * 8.2.3.7 MTA/MCSTCTRL: with MCSTCTRL.MFE, 12 bits of the destination address (which 12: MCSTCTRL.MO,
     * taken from its last two octets) index the 4096-bit multicast table.
     */
    private boolean multicastTableHit(MemorySegment frame, long off) {
        int mc = reg(MCSTCTRL);
        if ((mc & MCSTCTRL_MFE) == 0) {
            return false;
        }
        int a4 = frame.get(ValueLayout.JAVA_BYTE, off + 4) & 0xFF;
        int a5 = frame.get(ValueLayout.JAVA_BYTE, off + 5) & 0xFF;
        int vector = switch (mc & MCSTCTRL_MO_MASK) {
            case 0 -> (a4 >>> 4) | (a5 << 4);
            case 1 -> (a4 >>> 3) | (a5 << 5);
            case 2 -> (a4 >>> 2) | (a5 << 6);
            default -> a4 | (a5 << 8);
        } & 0xFFF;
        return (reg(MTA0 + 4 * (vector >>> 5)) & (1 << (vector & 0x1F))) != 0;
    }

    /** DMA one frame into queue {@code q}: false when it lacks the descriptors (nothing written then). */
    private boolean deliver(RxQueue q, MemorySegment src, long srcOff, int len) {
        // 7.1.11: the checksums of every frame are checked; the verdict goes in the last descriptor's status
        int csum = ChecksumModel.rxStatus(src, srcOff, len);
        int vlanTag = 0;
        if ((reg(rxq(q.index) + RXDCTL) & RXDCTL_VME) != 0 && len >= FrameParser.ETH_HLEN + 4
                && src.get(FrameParser.BE16, srcOff + 12) == (short) FrameParser.ETHERTYPE_VLAN) {
            // 7.4.5 (RXDCTL.VME, per queue on the 82599): the tag leaves the data, its TCI goes to the write-back
            vlanTag = src.get(FrameParser.BE16, srcOff + 14) & 0xFFFF;
            MemorySegment.copy(src, srcOff, stripScratch, 0, 12);
            MemorySegment.copy(src, srcOff + 16, stripScratch, 12, len - 16);
            src = stripScratch;
            srcOff = 0;
            len -= 4;
            csum |= RXD_STAT_VP;
        }
        int bsize = q.bufferSize;
        int need = (len + bsize - 1) / bsize;
        int free = q.tail - q.head;
        if (free < 0) {
            free += q.size;
        }
        if (free < need) {
            int tail = (int) REG.getAcquire(bar0, (long) rxq(q.index) + RDT);
            if (tail < 0 || tail >= q.size) {
                unimplementedValue(rxq(q.index) + RDT, "RDT " + tail + " is outside the ring of " + q.size);
                return false;
            }
            q.tail = tail;
            free = tail - q.head;
            if (free < 0) {
                free += q.size;
            }
            if (free < need) {
                return false;
            }
        }
        MemorySegment ring = q.ring.segment();
        boolean hostileHead = false;
        boolean pcsd = (reg(RXCSUM) & RXCSUM_PCSD) != 0;
        int dword0 = parser.rssType | (rxPktInfo >= 0 ? rxPktInfo : parser.packetType);
        int dword1 = pcsd ? parser.rssHash : parser.ipId; // without PCSD: IP id + (unmodelled, 0) checksum
        int done = 0;
        for (int i = 0; i < need; i++) {
            long d = q.ringOffset + (long) q.head * DESC_SIZE;
            long bufAddr = ring.get(LE_LONG_U, d);
            int chunk = Math.min(bsize, len - done);
            int error = 0;
            DmaWindow w = dma.find(bufAddr, chunk);
            if (w == null || !w.write(bufAddr, src, srcOff + done, chunk)) {
                dmaError("RX queue " + q.index + " buffer 0x" + Long.toHexString(bufAddr) + " is not DMA-mapped");
                error = RXD_ERR_RXE;
            }
            done += chunk;
            boolean eop = done == len;
            int status = RXD_STAT_DD | (eop ? RXD_STAT_EOP | csum | rxExtraStatus : 0) | error;
            int wbLength = chunk & 0xFFFF | (eop ? vlanTag << RXD_VLAN_SHIFT : 0);
            if (faultHostile > 0 && nextRandom() < faultHostile) {
                switch ((int) (hostileWriteBacks++ & 3)) {
                    case 0 -> wbLength = 0xFFFF; // past any buffer
                    case 1 -> wbLength = 0;
                    case 2 -> status &= ~RXD_STAT_EOP;
                    default -> status |= RXD_ERR_RXE;
                }
                hostileHead = true;
            }
            ring.set(LE_INT_U, d, dword0);
            ring.set(LE_INT_U, d + 4, dword1);
            ring.set(LE_INT_U, d + 12, wbLength); // length; the stripped VLAN tag (0 if none) on the last
            writeStatus(ring, d + 8, status);
            q.head = q.head + 1 == q.size ? 0 : q.head + 1;
        }
        REG.setRelease(bar0, (long) rxq(q.index) + RDH, hostileHead ? q.size + 13 : q.head);
        int si = statIndexRx(q.index);
        count(S_QPRC0 + si, 1);
        count(S_QBRC0 + si, len);
        count(S_RXDGPC, 1);
        irq.rxTouched(q.index);
        return true;
    }

    private void writeStatus(MemorySegment seg, long offset, int value) {
        if (faultReverseWriteBack && deferredCount < deferredAddr.length) {
            deferredSeg[deferredCount] = seg;
            deferredAddr[deferredCount] = offset;
            deferredValue[deferredCount++] = value;
        } else {
            REG.setRelease(seg, offset, value); // DD last: the rest of the descriptor is visible first
        }
    }

    private int statIndexRx(int queue) {
        return (reg(0x02300 + 4 * (queue >>> 2)) >>> (8 * (queue & 3))) & 0xF; // RQSMR
    }

    private int statIndexTx(int queue) {
        return (reg(0x08600 + 4 * (queue >>> 2)) >>> (8 * (queue & 3))) & 0xF; // TQSM
    }

    /** The receive packet buffer's size as RXPBSIZE[0] sets it (8.2.3.8.9). */
    private int rxpbBytes() {
        return (reg(RXPBSIZE0) >>> RXPBSIZE_SHIFT) << 10;
    }

    /** Moves held frames from the packet buffer to their queues, in order (8.2.3.8.7 DROP_EN semantics). */
    private int drainFifo() {
        int moved = 0;
        while (!fifo.isEmpty() && moved < RX_BATCH) {
            int pos = fifo.peek(parser, rxpbBytes());
            int len = fifo.length(pos);
            int queue = fifo.queue(pos);
            RxQueue q = rxq[queue];
            if (!q.enabled) {
                fifo.pop(pos);
            } else if (deliver(q, fifo.memory(), fifo.data(pos), len)) {
                fifo.pop(pos);
                moved++;
            } else if (q.dropEnable) {
                count(S_QPRDC0 + statIndexRx(queue), 1);
                fifo.pop(pos);
            } else {
                break; // head-of-line: the packet buffer waits for descriptors
            }
        }
        if (moved > 0) {
            txFlowControl();
        }
        return moved;
    }

    // ================================================================================================
    // Transmit (7.2)
    // ================================================================================================

    private int transmit() {
        if ((reg(DMATXCTL) & DMATXCTL_TE) == 0) {
            return 0;
        }
        if (turnNanos - txPausedUntil < 0) {
            return 0; // 802.3x: a received XOFF holds transmission for its pause time (MFLCN.RFCE)
        }
        int frames = 0;
        for (int q = 0; q < NUM_QUEUES; q++) {
            TxQueue t = txq[q];
            if (t.enabled) {
                frames += transmitQueue(t);
            }
        }
        return frames;
    }

    private int transmitQueue(TxQueue t) {
        int base = txq(t.index);
        int tail = (int) REG.getAcquire(bar0, (long) base + TDT);
        if (tail < 0 || tail >= t.size) {
            unimplementedValue(base + TDT, "TDT " + tail + " is outside the ring of " + t.size);
            return 0;
        }
        if (tail == t.head) {
            return 0;
        }
        MemorySegment ring = t.ring.segment();
        int frames = 0;
        int processed = 0;
        boolean reported = false;
        while (t.head != tail && processed < TX_BATCH) {
            long d = t.ringOffset + (long) t.head * DESC_SIZE;
            long addr = ring.get(LE_LONG_U, d);
            int cmdTypeLen = ring.get(LE_INT_U, d + 8);
            boolean dext = (cmdTypeLen & TXD_CMD_DEXT) != 0;
            int dtyp = (cmdTypeLen & TXD_DTYP_MASK) >>> TXD_DTYP_SHIFT;
            boolean data = !dext || dtyp == TXD_DTYP_DATA;
            if (data) {
                t.frameStamp |= dext && (cmdTypeLen & TXD_MAC_TSTAMP) != 0;
                int len = cmdTypeLen & TXD_DTALEN_MASK;
                if (!t.inPacket) {
                    // 7.2.3.2.4: the first data descriptor of a packet carries its offload fields
                    t.inPacket = true;
                    t.pktCmd = cmdTypeLen;
                    t.pktOlinfo = ring.get(LE_INT_U, d + 12);
                }
                int limit = (t.pktCmd & TXD_CMD_TSE) != 0 ? MAX_TX_GATHER : MAX_FRAME_BYTES;
                if (t.frameLength + len > limit) {
                    t.frameBad = true;
                } else if (len > 0) {
                    DmaWindow w = dma.find(addr, len);
                    if (w == null || !w.read(addr, txFrame, t.frameLength, len)) {
                        dmaError("TX queue " + t.index + " buffer 0x" + Long.toHexString(addr) + " is not DMA-mapped");
                        t.frameBad = true;
                    } else {
                        t.frameLength += len;
                    }
                }
                if ((cmdTypeLen & TXD_CMD_EOP) != 0) {
                    if (!t.frameBad) {
                        frames += sendPacket(t);
                    } else {
                        txErrors++;
                    }
                    t.frameLength = 0;
                    t.frameBad = false;
                    t.frameStamp = false;
                    t.inPacket = false;
                }
            } else if (dtyp == TXD_DTYP_CTXT) {
                // 7.2.3.2.3: the context goes to slot IDX (dword3 bits 6:4; the 82599 has two per queue)
                int mssL4 = ring.get(LE_INT_U, d + 12);
                int slot = (mssL4 >>> TXCTX_IDX_SHIFT) & 1;
                t.ctxLens[slot] = ring.get(LE_INT_U, d);
                t.ctxTucmd[slot] = cmdTypeLen;
                t.ctxMssL4[slot] = mssL4;
            } else {
                unimplementedValue(base + TDT, "TX descriptor type " + dtyp + " (only data and context are modelled)");
            }
            if ((cmdTypeLen & TXD_CMD_RS) != 0) {
                writeStatus(ring, d + 12, TXD_STAT_DD); // 7.2.3.2.4 write-back: STA.DD
                reported = true;
            }
            t.head = t.head + 1 == t.size ? 0 : t.head + 1;
            processed++;
        }
        REG.setRelease(bar0, (long) base + TDH, faultHostile > 0 ? t.size + 13 : t.head); // hostile: out of the ring
        if (t.headWriteBack) {
            DmaWindow w = dma.find(t.headWriteBackAddress, 4);
            if (w != null && w.writable() && w.mapped()) {
                REG.setRelease(w.segment(), t.headWriteBackAddress - w.iova(), t.head);
            }
        }
        if (reported) {
            irq.txTouched(t.index);
        }
        return frames;
    }

    /** Sends the gathered packet, through the offloads its first descriptor asked for; returns the frames sent. */
    private int sendPacket(TxQueue t) {
        int cmd = t.pktCmd;
        int olinfo = t.pktOlinfo;
        if (!TsoSegmenter.wanted(cmd, olinfo)) {
            if (t.frameLength > MAX_FRAME_BYTES) {
                txErrors++;
                return 0;
            }
            sendFrame(t, txFrame, 0, t.frameLength);
            return 1;
        }
        int slot = (olinfo >>> TXD_OLINFO_IDX_SHIFT) & 1;
        sending = t;
        String why = tso.apply(txFrame, t.frameLength, cmd, olinfo, t.ctxLens[slot], t.ctxTucmd[slot],
                t.ctxMssL4[slot], olinfo >>> TXD_PAYLEN_SHIFT, segmentSink);
        if (why != null) {
            txErrors++;
            unimplementedValue(txq(t.index) + TDT, "TX queue " + t.index + " packet dropped: " + why);
            return 0;
        }
        return tso.segments;
    }

    private void sendFrame(TxQueue t, MemorySegment frame, long offset, int length) {
        int len = length;
        if (len < MIN_FRAME - CRC_LEN && (reg(HLREG0) & HLREG0_TXPADEN) != 0) {
            MemorySegment.copy(zeros, 0, frame, offset + len, MIN_FRAME - CRC_LEN - len);
            len = MIN_FRAME - CRC_LEN;
        }
        int wireLen = len + CRC_LEN;
        int si = statIndexTx(t.index);
        count(S_TXDGPC, 1);
        count(S_QPTC0 + si, 1);
        count(S_QBTC0 + si, len);
        if (!linkUp) {
            return; // the MAC drops frames while the link is down
        }
        // the frame leaves now: not at the turn's start, which a turn busy with register traffic leaves behind by
        // milliseconds (a cable would then deliver frames before they were sent)
        long depart = System.nanoTime();
        if (t.frameStamp) {
            timesync.stampTx(depart); // 7.9.2.2: latched as the frame leaves
        }
        count(S_GPTC, 1);
        count(S_GOTC, wireLen);
        count(S_TPT, 1);
        count(S_PTC64 + sizeBucket(wireLen), 1);
        int d0 = frame.get(ValueLayout.JAVA_BYTE, offset);
        if ((d0 & 1) != 0) {
            boolean bcast = frame.get(ValueLayout.JAVA_INT_UNALIGNED, offset) == -1
                    && frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 4) == (short) -1;
            count(bcast ? S_BPTC : S_MPTC, 1);
        }
        if ((reg(HLREG0) & HLREG0_LPBK) != 0) {
            receiveLocked(frame, offset, len, depart); // MAC loopback (HLREG0.LPBK)
        } else {
            wire.transmit(frame, offset, len, depart);
        }
    }

    // ================================================================================================
    // End of a batch: deferred write-backs, then interrupts (7.3, InterruptModel)
    // ================================================================================================

    private void finishBatch(long now) {
        // flush deferred (reordered) status writes
        for (int i = deferredCount - 1; i >= 0; i--) {
            REG.setRelease(deferredSeg[i], deferredAddr[i], deferredValue[i]);
            deferredSeg[i] = null;
        }
        deferredCount = 0;
        irq.endBatch(now);
    }

    // ================================================================================================
    // Helpers
    // ================================================================================================

    private int readStat(int index) {
        long v = stats[index];
        stats[index] = 0;
        latchedHigh[index] = v >>> 32;
        return (int) v;
    }

    private int readQueuePage(int off) {
        if (isRxQueueRegister(off) && STAT_OF[off >>> 2] >= 0) {
            return readStat(STAT_OF[off >>> 2]); // trapped access to a counter inside the RX page
        }
        if (off >= TXQ_BASE && STAT_OF[off >>> 2] >= 0) {
            return readStat(STAT_OF[off >>> 2]);
        }
        return (int) REG.getAcquire(bar0, (long) off);
    }

    private static boolean isRxQueueRegister(int off) {
        return (off >= RXQ_BASE_LO && off < RXQ_BASE_LO + 0x1000) || (off >= RXQ_BASE_HI && off < RXQ_BASE_HI + 0x1000);
    }

    private int reg(int off) {
        return bar0.get(LE_INT, off);
    }

    private void setReg(int off, int value) {
        bar0.set(LE_INT, off, value);
    }

    private void count(int index, long n) {
        stats[index] += n;
        totals[index] += n;
    }

    private static int sizeBucket(int wireLen) {
        return wireLen <= 64 ? 0 : wireLen <= 127 ? 1 : wireLen <= 255 ? 2 : wireLen <= 511 ? 3 : wireLen <= 1023 ? 4 : 5;
    }

    private int fcs(MemorySegment seg, int length) {
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, crcScratch, 0, length);
        crc.reset();
        crc.update(crcScratch, 0, length);
        return (int) crc.getValue();
    }

    private double nextRandom() {
        long x = seed; // xorshift64*: no allocation, no contention
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        seed = x;
        return ((x * 0x2545F4914F6CDD1DL) >>> 11) * 0x1.0p-53;
    }

    private void dmaError(String what) {
        dmaErrors++;
        if (dmaErrors == 1 || Long.bitCount(dmaErrors) == 1) {
            LOG.log(System.Logger.Level.WARNING, "{0}: DMA error #{1}: {2}", name, dmaErrors, what);
        }
    }

    private void unimplementedValue(int off, String what) {
        if (!loggedOffsets.get(off >>> 2)) {
            loggedOffsets.set(off >>> 2);
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} (logged once)", name, what);
        }
    }

    private static void checkOffset(long offset, long size) {
        if (offset < 0 || offset > size - 4 || (offset & 3) != 0) {
            throw new IllegalArgumentException("register offset 0x" + Long.toHexString(offset)
                    + " is not a 4-byte aligned offset inside the " + size + "-byte BAR");
        }
    }

    static String formatMac(byte[] mac) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < mac.length; i++) {
            sb.append(i == 0 ? "" : ":").append(String.format("%02x", mac[i] & 0xFF));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        synchronized (this) {
            wire.close();
            Mman.munmap(bar0);
            Io.closeQuietly(bar0Fd);
        }
        arena.close();
    }

}
