package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.DmaMemory;
import io.jnic.devsim.DmaWindow;
import io.jnic.devsim.InterruptSink;
import io.jnic.devsim.wire.FramePort;
import io.jnic.devsim.wire.Wire;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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
 * <p>This class puts the port together: it dispatches each trapped register to the model that owns it, resets
 * (4.6.3), follows the link and runs the device loop. The pieces, one concern each: {@link RegisterFile} (BAR0),
 * {@link Statistics} (8.2.3.23), {@link RxEngine} (7.1), {@link TxEngine} (7.2), {@link InterruptModel} (7.3),
 * {@link FlowControl} (3.7.7), {@link FlowFilters}, {@link Timesync}, {@link Faults}, and the NVM, semaphore, SFP+
 * and link models.
 *
 * <p>Threading: one device thread calls {@link #poll}; transports call the trapped accessors from theirs.
 * Both hold this object's monitor, so register state needs no further care.
 */
public final class Ixgbe82599 implements FramePort, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The largest frame the model receives or sends (a jumbo frame with room to spare). */
    static final int MAX_FRAME_BYTES = 16 * 1024;

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

    private final RegisterFile regs;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment bar4;
    private final DmaMemory dma;
    private final InterruptModel irq;
    private final Wire wire;

    // ---- the data path -------------------------------------------------------------------------------
    private final PortState state = new PortState();
    private final Faults faults = new Faults();
    private final Statistics stats;
    private final RxPacketBuffer fifo;
    // runtime filters, flow steering, IEEE 1588 and pause frames
    private final FlowFilters filters;
    private final Timesync timesync = new Timesync();
    private final FlowControl flow;
    private final RxEngine rx;
    private final TxEngine tx;
    private boolean lastModulePresent = true;
    private boolean lastTurnIdle = true;
    private int turn;

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
        this.regs = new RegisterFile(name);
        this.irq = new InterruptModel(regs::reg);
        this.filters = new FlowFilters(regs::reg);
        this.stats = new Statistics(name, regs);
        this.bar4 = arena.allocate(MSIX_BAR_SIZE, 64);
        this.fifo = new RxPacketBuffer(arena.allocate(RXPBSIZE_DEFAULT >>> RXPBSIZE_SHIFT << 10, 64));
        this.flow = new FlowControl(regs, state, fifo, wire, arena.allocate(MIN_FRAME, 64));
        this.rx = new RxEngine(name, regs, stats, state, faults, irq, dma, filters, timesync, flow, fifo, arena);
        this.tx = new TxEngine(name, regs, stats, state, faults, irq, dma, timesync, flow, rx, wire, arena);
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
        return RegisterFile.queuePages();
    }

    /** The memfd holding BAR0; the {@link #queuePages()} may be mmapped from it (MAP_SHARED). */
    public int bar0Fd() {
        return regs.fd();
    }

    /** BAR0 as the model sees it (tests use it as the driver's mapping of the queue pages). */
    public MemorySegment bar0Memory() {
        return regs.memory();
    }

    /** True when {@code [offset, offset + length)} lies in a queue page the driver may map. */
    public static boolean isQueuePage(long offset, long length) {
        return RegisterFile.isQueuePage(offset, length);
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
        RegisterFile.checkOffset(offset, BAR0_SIZE);
        int off = (int) offset;
        if (state.busMaster && !state.resetting && !faults.stall && !sideBand(off)) {
            // a read flushes the driver's earlier writes (PCIe ordering): queue enables and disables it stored in the
            // mapped pages take effect before this read returns, as they would on hardware, not at the next scan
            scanQueueEnables();
        }
        int st = Statistics.counterAt(off);
        if (st >= 0 && !RegisterFile.isRxQueueRegister(off)) {
            return stats.read(st);
        }
        int sth = Statistics.highHalfAt(off);
        if (sth >= 0) {
            return stats.readHigh(sth);
        }
        if (RegisterFile.isQueuePage(off, 4)) {
            return readQueuePage(off);
        }
        if (off >= SRRCTL_ALIAS0 && off < SRRCTL_ALIAS0 + 64) {
            return regs.acquire(rxq((off - SRRCTL_ALIAS0) >>> 2) + SRRCTL);
        }
        if (off >= DCA_RXCTRL_ALIAS0 && off < DCA_RXCTRL_ALIAS0 + 64) {
            return regs.acquire(rxq((off - DCA_RXCTRL_ALIAS0) >>> 2) + DCA_RXCTRL);
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
                return nvm.readEec(!state.resetting);
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
                return reg(RDRXCTL) | (state.resetting ? 0 : RDRXCTL_DMAIDONE);
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
        if (FlowControl.ownsCounter(off)) { // 16-bit counters, clear on read (8.2.3.23)
            return flow.readCounter(off);
        }
        if (RegisterFile.isPlain(off) || FlowFilters.owns(off)) {
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
        RegisterFile.checkOffset(offset, BAR0_SIZE);
        int off = (int) offset;
        if (RegisterFile.isQueuePage(off, 4)) {
            if (Statistics.counterAt(off) < 0 && Statistics.highHalfAt(off) < 0) {
                regs.release(off, value); // counters inside the pages are read-only
            }
            return;
        }
        if (off >= SRRCTL_ALIAS0 && off < SRRCTL_ALIAS0 + 64) {
            regs.release(rxq((off - SRRCTL_ALIAS0) >>> 2) + SRRCTL, value);
            return;
        }
        if (off >= DCA_RXCTRL_ALIAS0 && off < DCA_RXCTRL_ALIAS0 + 64) {
            regs.release(rxq((off - DCA_RXCTRL_ALIAS0) >>> 2) + DCA_RXCTRL, value);
            return;
        }
        if (off >= RAL_ALIAS0 && off < RAL_ALIAS0 + 16 * 8) {
            setReg(RAL0 + off - RAL_ALIAS0, value);
            rx.rebuildReceiveAddresses();
            return;
        }
        if (Statistics.counterAt(off) >= 0 || Statistics.highHalfAt(off) >= 0) {
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
                rx.loadRssKey();
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
        if (FlowControl.ownsCounter(off)) {
            return;
        }
        if (RegisterFile.isPlain(off)) {
            setReg(off, value);
            if (off >= RAL0 && off < RAL0 + 8 * RAR_ENTRIES) {
                rx.rebuildReceiveAddresses();
            }
            return;
        }
        unmodelled.write(off, value);
    }

    /** A trapped read of the MSI-X BAR (table and pending-bit array, PCI 3.0 section 6.8.2). */
    public synchronized int readMsix32(long offset) {
        RegisterFile.checkOffset(offset, MSIX_BAR_SIZE);
        if (offset >= MSIX_PBA_OFFSET && offset < MSIX_PBA_OFFSET + 8) {
            return irq.pendingBits(offset == MSIX_PBA_OFFSET ? 0 : 1);
        }
        return bar4.get(LE_INT, offset);
    }

    public synchronized void writeMsix32(long offset, int value) {
        RegisterFile.checkOffset(offset, MSIX_BAR_SIZE);
        if (offset < MSIX_VECTORS * 16L) {
            bar4.set(LE_INT, offset, value);
        }
    }

    // ================================================================================================
    // Faults (run-time injection)
    // ================================================================================================

    /** Pulls the cable (true) or plugs it back (false): the link drops or retrains, with an LSC interrupt. */
    public synchronized void faultLinkDown(boolean down) {
        faults.linkDown = down;
    }

    /** Loses each arriving frame with this probability before the MAC sees it (counted in the counters' faultDrops). */
    public void faultDropProbability(double p) {
        faults.dropProbability = Faults.probability(p);
    }

    /** Delivers each arriving frame with a bad FCS with this probability (CRCERRS counts them). */
    public void faultCrcErrorProbability(double p) {
        faults.crcErrorProbability = Faults.probability(p);
    }

    /** Stops all processing (no DMA, no interrupts) while true, as a hung device would. */
    public void faultStall(boolean stall) {
        faults.stall = stall;
    }

    /** Writes back descriptor status of each batch last-to-first, so DD bits appear out of order. */
    public void faultReverseWriteBack(boolean on) {
        faults.reverseWriteBack = on;
    }

    /**
     * A hostile or broken device: each RX write-back is, with this probability, corrupted in one of four ways in
     * turn (a length past any buffer, a length of 0, EOP missing, the RXE error bit), and each such write-back
     * also leaves RDH pointing outside the ring until the next frame; TX heads (TDH) then point outside too.
     * Counted in {@link #hostileWriteBacks}: a driver that checks what it reads drops exactly that many frames.
     */
    public void faultHostile(double p) {
        faults.hostile = Faults.probability(p);
    }

    /** RX write-backs corrupted by {@link #faultHostile} so far. */
    public synchronized long hostileWriteBacks() {
        return faults.hostileWriteBacks;
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
        state.busMaster = enabled;
    }

    /**
     * The driver is taking {@code [iova, iova + size)} away: queues whose rings lie there stop (as if the
     * driver had disabled them; their ENABLE bit reads 0) so that nothing touches the memory afterwards.
     * Callers hold no other lock of this device; DMA of in-flight buffers there becomes a DMA error.
     */
    public synchronized void dmaUnmapping(long iova, long size) {
        for (int q = 0; q < NUM_QUEUES; q++) {
            RxEngine.RxQueue r = rx.queue(q);
            if (r.enabled && overlaps(r.ring, iova, size)) {
                r.enabled = false;
                regs.release(rxq(q) + RXDCTL, reg(rxq(q) + RXDCTL) & ~RXDCTL_ENABLE);
                LOG.log(System.Logger.Level.WARNING, "{0}: RX queue {1} stopped: its ring was DMA-unmapped", name, q);
            }
            TxEngine.TxQueue t = tx.queue(q);
            if (t.enabled && (overlaps(t.ring, iova, size) || (t.headWriteBack
                    && t.headWriteBackAddress >= iova && t.headWriteBackAddress - iova < size))) {
                t.enabled = false;
                regs.release(txq(q) + TXDCTL, reg(txq(q) + TXDCTL) & ~TXDCTL_ENABLE);
                LOG.log(System.Logger.Level.WARNING, "{0}: TX queue {1} stopped: its ring was DMA-unmapped", name, q);
            }
        }
    }

    private static boolean overlaps(DmaWindow w, long iova, long size) {
        return w.iova() < iova + size && iova < w.iova() + w.size();
    }

    public boolean isStalled() {
        return faults.stall;
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
            if (state.resetting) {
                completeReset(now);
            }
            if (faults.stall) {
                return 0;
            }
            boolean present = cage.module().present();
            if (present != lastModulePresent) {
                lastModulePresent = present;
                if ((reg(GPIE) & SfpCage.GPIE_SDP2_GPIEN) != 0) {
                    irq.raiseOther(SfpCage.EICR_GPI_SDP2); // module inserted or removed
                }
            }
            if (link.step(now, !faults.linkDown && wire.carrier() && cage.signal())) {
                linkChanged();
            }
            if (!state.busMaster) {
                return 0; // no DMA and no MSI-X (a memory write) without Bus Master Enable
            }
            // a driver reads its own ENABLE back from shared memory at once, so latch promptly: every idle
            // turn, and every 16th busy one (a busy turn moves up to 64 frames per queue: microseconds)
            if (lastTurnIdle || (turn++ & 15) == 0) {
                scanQueueEnables();
            }
            work = wire.poll(now);
            work += rx.drainFifo();
            work += tx.transmit(now);
            // end of the batch: deferred (reordered) write-backs, then interrupts (7.3, InterruptModel)
            faults.flushDeferred();
            irq.endBatch(now);
            lastTurnIdle = work == 0;
        }
        return work;
    }

    /** Follows software's RXDCTL/TXDCTL.ENABLE of every queue (they sit in the mapped pages: no trap tells us). */
    private void scanQueueEnables() {
        for (int q = 0; q < NUM_QUEUES; q++) {
            rx.scanEnable(q);
            tx.scanEnable(q);
        }
    }

    @Override
    public void receive(MemorySegment frame, long offset, int length) {
        receive(frame, offset, length, System.nanoTime());
    }

    @Override
    public void receive(MemorySegment frame, long offset, int length, long arrivalNanos) {
        synchronized (this) {
            rx.receive(frame, offset, length, arrivalNanos);
        }
    }

    /** Snapshot of the running totals (never cleared by register reads), for status output. */
    public synchronized PortCounters counters() {
        return stats.snapshot(link.up(), faults.drops);
    }

    /** 802.3x pause frames this port sent (XOFF, XON) since it was built. */
    public synchronized long[] pauseFramesSent() {
        return flow.sent();
    }

    /** 802.3x pause frames this port honoured (XOFF, XON) since it was built: never cleared by register reads. */
    public synchronized long[] pauseFramesHonoured() {
        return flow.honoured();
    }

    /** Whether a received XOFF holds this port's transmission now. */
    public synchronized boolean txPaused() {
        return flow.pausedAt(System.nanoTime());
    }

    /** Frames steered by the EtherType filters and by the 5-tuple filters, and time stamps latched RX / TX. */
    public synchronized long[] filterCounters() {
        return new long[] {filters.etqfHits, filters.ftqfHits, timesync.rxLatched(), timesync.txLatched()};
    }

    // ================================================================================================
    // Reset and link
    // ================================================================================================

    /** Every register to its power-on value (datasheet 4.2 / chapter 8 initial values). */
    private void resetRegisters() {
        regs.clear();
        state.resetting = true;
        rx.reset();
        tx.reset();
        for (int q = 0; q < NUM_QUEUES; q++) {
            regs.release(rxq(q) + SRRCTL, SRRCTL_DEFAULT);
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
        flow.reset();
        rx.rebuildReceiveAddresses();
        rx.loadRssKey();
        stats.reset();
        irq.reset();
        faults.dropDeferred();
        state.linkUp = false; // no LSC: the interrupt state was just cleared with everything else
    }

    private void completeReset(long now) {
        state.resetting = false;
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
        state.linkUp = link.up();
        irq.raiseOther(EICR_LSC);
    }

    /** The port's name in logs. */
    public String name() {
        return name;
    }

    public synchronized boolean linkUp() {
        return link.up();
    }

    // ================================================================================================
    // Helpers
    // ================================================================================================

    private int readQueuePage(int off) {
        int st = Statistics.counterAt(off);
        if (RegisterFile.isRxQueueRegister(off) && st >= 0) {
            return stats.read(st); // trapped access to a counter inside the RX page
        }
        if (off >= TXQ_BASE && st >= 0) {
            return stats.read(st);
        }
        return regs.acquire(off);
    }

    private int reg(int off) {
        return regs.reg(off);
    }

    private void setReg(int off, int value) {
        regs.setReg(off, value);
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
            regs.close();
        }
        arena.close();
    }
}
