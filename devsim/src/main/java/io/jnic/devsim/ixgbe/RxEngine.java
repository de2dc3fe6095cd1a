package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static io.jnic.devsim.ixgbe.Ixgbe82599.MAX_FRAME_BYTES;
import static io.jnic.devsim.ixgbe.Statistics.*;

import io.jnic.devsim.DmaMemory;
import io.jnic.devsim.DmaWindow;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * The receive path (datasheet 7.1): a frame from the wire is size-checked, address-filtered (7.1.1.1: RAR, MTA,
 * FCTRL), VLAN-filtered, steered to a queue (EtherType and 5-tuple filters, then RSS over RETA, 7.1.2), and written
 * into the queue's advanced one-buffer descriptors (7.1.6) with checksum verdict, VLAN strip and time stamp; when
 * the queue has no descriptors it waits in the packet buffer (SRRCTL.DROP_EN clear) or is dropped. Also the RX
 * queues' latching on RXDCTL.ENABLE (4.6.7). Not thread-safe: the port calls it under its monitor, and nothing on
 * the per-frame path allocates.
 */
final class RxEngine {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());
    private static final ValueLayout.OfInt LE_INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT_U = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Frames moved from the packet buffer per turn. */
    static final int RX_BATCH = 64;

    /** One RX queue's ring as latched when software set RXDCTL.ENABLE, and the model's head and tail. */
    static final class RxQueue {
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

    private final String name;
    private final RegisterFile regs;
    private final Statistics stats;
    private final PortState state;
    private final Faults faults;
    private final InterruptModel irq;
    private final DmaMemory dma;
    private final FlowFilters filters;
    private final Timesync timesync;
    private final FlowControl flow;
    private final RxPacketBuffer fifo;
    private final Toeplitz toeplitz = new Toeplitz();
    private final FrameParser parser = new FrameParser();
    private final RxQueue[] rxq = new RxQueue[NUM_QUEUES];
    private final MemorySegment rxScratch;
    /** A received frame without its VLAN tag (RXDCTL.VME). */
    private final MemorySegment stripScratch;
    private final byte[] crcScratch;
    private final CRC32 crc = new CRC32();
    /** The valid receive addresses (RAH.AV set), low 48 bits as RAL/RAH hold them: rebuilt on writes. */
    private final long[] rarValid = new long[RAR_ENTRIES];
    private int rarCount;
    private int rxExtraStatus; // STATUS.TS for the frame being delivered
    private int rxPktInfo = -1; // pkt_info replacing the parser's (an ETQF match), -1: none

    /** Scratch buffers for the largest frame come from {@code arena}. */
    RxEngine(String name, RegisterFile regs, Statistics stats, PortState state, Faults faults, InterruptModel irq,
            DmaMemory dma, FlowFilters filters, Timesync timesync, FlowControl flow, RxPacketBuffer fifo,
            Arena arena) {
        this.name = name;
        this.regs = regs;
        this.stats = stats;
        this.state = state;
        this.faults = faults;
        this.irq = irq;
        this.dma = dma;
        this.filters = filters;
        this.timesync = timesync;
        this.flow = flow;
        this.fifo = fifo;
        this.rxScratch = arena.allocate(MAX_FRAME_BYTES + CRC_LEN, 64);
        this.stripScratch = arena.allocate(MAX_FRAME_BYTES + CRC_LEN, 64);
        this.crcScratch = new byte[MAX_FRAME_BYTES];
        for (int i = 0; i < NUM_QUEUES; i++) {
            rxq[i] = new RxQueue(i);
        }
    }

    RxQueue queue(int q) {
        return rxq[q];
    }

    // ---------------------------------------------------------------------------------------- configuration

    /** RAL/RAH changed: rebuild the list of valid receive addresses. */
    void rebuildReceiveAddresses() {
        int n = 0;
        for (int i = 0; i < RAR_ENTRIES; i++) {
            int rah = regs.reg(RAH0 + 8 * i);
            if ((rah & RAH_AV) != 0) {
                rarValid[n++] = (regs.reg(RAL0 + 8 * i) & 0xFFFFFFFFL) | ((long) (rah & 0xFFFF) << 32);
            }
        }
        rarCount = n;
    }

    /** RSSRK changed: the Toeplitz key follows (7.1.2.8.1). */
    void loadRssKey() {
        byte[] k = new byte[Toeplitz.KEY_BYTES];
        for (int i = 0; i < RSSRK_REGS; i++) {
            int v = regs.reg(RSSRK0 + 4 * i);
            for (int b = 0; b < 4; b++) {
                k[4 * i + b] = (byte) (v >>> (8 * b));
            }
        }
        toeplitz.setKey(k);
    }

    /** Every queue disabled and the packet buffer emptied (a reset). */
    void reset() {
        for (int q = 0; q < NUM_QUEUES; q++) {
            rxq[q].enabled = false;
        }
        fifo.clear();
    }

    private boolean enableWritten(int q) {
        return (regs.acquire(rxq(q) + RXDCTL) & RXDCTL_ENABLE) != 0;
    }

    /** Follows software's RXDCTL.ENABLE of queue {@code q}: latch the ring on a set, stop on a clear. */
    void scanEnable(int q) {
        int base = rxq(q);
        boolean en = (regs.acquire(base + RXDCTL) & RXDCTL_ENABLE) != 0;
        RxQueue r = rxq[q];
        if (en && !r.enabled) {
            enable(r, base);
        } else if (!en && r.enabled) {
            r.enabled = false;
        }
    }

    /** 8.2.3.8 / 4.6.7: latch the ring when software sets RXDCTL.ENABLE; refuse (ENABLE reads 0) if invalid. */
    private void enable(RxQueue r, int base) {
        long addr = (regs.reg(base + RDBAL) & 0xFFFFFFFFL) | ((long) regs.reg(base + RDBAH) << 32);
        int len = regs.reg(base + RDLEN);
        int srrctl = regs.reg(base + SRRCTL);
        int head = regs.reg(base + RDH);
        int tail = regs.reg(base + RDT);
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
            regs.release(base + RXDCTL, regs.reg(base + RXDCTL) & ~RXDCTL_ENABLE);
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

    // ---------------------------------------------------------------------------------------- a frame arrives

    /** A frame from the wire (or MAC loopback) at {@code arrivalNanos}; the caller holds the port's monitor. */
    void receive(MemorySegment frame, long offset, int length, long arrivalNanos) {
        if (state.resetting || !state.linkUp || length <= 0) {
            return; // no link, no frames
        }
        if (faults.dropProbability > 0 && faults.nextRandom() < faults.dropProbability) {
            faults.drops++;
            return;
        }
        int wireLen = length + CRC_LEN; // sizes count DA through FCS (8.2.3.23)
        stats.count(S_TPR, 1);
        stats.count(S_TOR, wireLen);
        if ((regs.reg(RXCTRL) & RXCTRL_RXEN) == 0) {
            return;
        }
        int hl = regs.reg(HLREG0);
        int max = (hl & HLREG0_JUMBOEN) != 0 ? regs.reg(MAXFRS) >>> MAXFRS_MFS_SHIFT : STANDARD_MAX_FRAME;
        boolean vlan = length >= 14 && frame.get(FrameParser.BE16, offset + 12) == (short) FrameParser.ETHERTYPE_VLAN;
        if (vlan && (hl & HLREG0_JUMBOEN) == 0) {
            max += 4;
        }
        boolean badCrc = faults.crcErrorProbability > 0 && faults.nextRandom() < faults.crcErrorProbability;
        if (wireLen < MIN_FRAME) {
            stats.count(badCrc ? S_RFC : S_RUC, 1);
            return;
        }
        if (wireLen > max || length > MAX_FRAME_BYTES) {
            stats.count(badCrc ? S_RJC : S_ROC, 1);
            return;
        }
        if (badCrc) {
            stats.count(S_CRCERRS, 1);
            return;
        }
        if ((hl & HLREG0_RXLNGTHERREN) != 0 && lengthError(frame, offset, length, vlan)) {
            stats.count(S_RLEC, 1); // counted only: the frame is still received
        }
        if (flow.receivePause(frame, offset, length, arrivalNanos)) {
            return;
        }
        int mrqc = regs.reg(MRQC);
        parser.parse(frame, offset, length, mrqc, toeplitz);
        if (!acceptAddress(frame, offset) || !filters.vlanPasses(frame, offset, length)) {
            return; // 7.1.1: filtered out before the host sees it (TPR/TOR counted it; GPRC does not)
        }
        stats.count(S_GPRC, 1);
        stats.count(S_GORC, wireLen);
        if (parser.broadcast) {
            stats.count(S_BPRC, 1);
        } else if (parser.multicast) {
            stats.count(S_MPRC, 1);
        }
        stats.count(S_PRC64 + sizeBucket(wireLen), 1);
        int queue = 0;
        filters.classify(frame, offset, length); // 7.1.2: EtherType, then 5-tuple filters, ahead of RSS
        if (filters.queue >= 0) {
            queue = filters.queue;
        } else if ((mrqc & MRQC_MRQE_MASK) == MRQC_MRQE_RSS && parser.rssType != RXD_RSSTYPE_NONE) {
            queue = regs.memory().get(ValueLayout.JAVA_BYTE, RETA0 + (parser.rssHash & 0x7F)) & 0xF; // 7.1.2.8.2
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
        if (!q.enabled && state.busMaster && enableWritten(queue)) {
            // RXDCTL sits in a mapped page: the driver saw its own ENABLE at once, so a frame for that queue
            // must not race the periodic scan. Latch it now, as hardware would have before ENABLE read 1.
            enable(q, rxq(queue));
        }
        if (!q.enabled) {
            stats.count(S_RNBC0, 1); // 8.2.3.23: no buffers, or the queue is disabled
            return;
        }
        if (fifo.isEmpty() && state.busMaster) {
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
            stats.count(S_RNBC0, 1);
            if (q.dropEnable) {
                stats.count(S_QPRDC0 + stats.rxIndex(queue), 1);
                return;
            }
        }
        if (!fifo.push(src, srcOff, len, queue, parser, rxpbBytes())) {
            stats.count(S_MPC0, 1); // packet buffer full: missed
            irq.raiseOther(EICR_RX_MISS);
        }
        flow.packetBufferChanged();
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

    /** RXSATRL (at 0) / RXSATRH (at 4): the PTP header's source port identity and sequence id (7.9.2.1). */
    private static int ptpSourceId(MemorySegment frame, long offset, int length, int which) {
        long ptp = offset + 14;
        if (length < 14 + 32) {
            return 0;
        }
        return which == 0 ? frame.get(LE_INT_U, ptp + 20)
                : (frame.get(LE_SHORT_U, ptp + 24) & 0xFFFF) | (frame.get(FrameParser.BE16, ptp + 30) & 0xFFFF) << 16;
    }

    /** 7.1.1.1 L2 filtering: broadcast with BAM, multicast with MPE, unicast on UPE or a valid RAR match. */
    private boolean acceptAddress(MemorySegment frame, long off) {
        int fctrl = regs.reg(FCTRL);
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
        int mc = regs.reg(MCSTCTRL);
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
        return (regs.reg(MTA0 + 4 * (vector >>> 5)) & (1 << (vector & 0x1F))) != 0;
    }

    // ---------------------------------------------------------------------------------------- into the ring

    /** DMA one frame into queue {@code q}: false when it lacks the descriptors (nothing written then). */
    private boolean deliver(RxQueue q, MemorySegment src, long srcOff, int len) {
        // 7.1.11: the checksums of every frame are checked; the verdict goes in the last descriptor's status
        int csum = ChecksumModel.rxStatus(src, srcOff, len);
        int vlanTag = 0;
        if ((regs.reg(rxq(q.index) + RXDCTL) & RXDCTL_VME) != 0 && len >= FrameParser.ETH_HLEN + 4
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
            int tail = regs.acquire(rxq(q.index) + RDT);
            if (tail < 0 || tail >= q.size) {
                regs.badValue(rxq(q.index) + RDT, "RDT " + tail + " is outside the ring of " + q.size);
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
        boolean pcsd = (regs.reg(RXCSUM) & RXCSUM_PCSD) != 0;
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
                stats.dmaError("RX queue " + q.index + " buffer 0x" + Long.toHexString(bufAddr) + " is not DMA-mapped");
                error = RXD_ERR_RXE;
            }
            done += chunk;
            boolean eop = done == len;
            int status = RXD_STAT_DD | (eop ? RXD_STAT_EOP | csum | rxExtraStatus : 0) | error;
            int wbLength = chunk & 0xFFFF | (eop ? vlanTag << RXD_VLAN_SHIFT : 0);
            if (faults.hostile > 0 && faults.nextRandom() < faults.hostile) {
                switch ((int) (faults.hostileWriteBacks++ & 3)) {
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
            faults.writeStatus(ring, d + 8, status);
            q.head = q.head + 1 == q.size ? 0 : q.head + 1;
        }
        regs.release(rxq(q.index) + RDH, hostileHead ? q.size + 13 : q.head);
        int si = stats.rxIndex(q.index);
        stats.count(S_QPRC0 + si, 1);
        stats.count(S_QBRC0 + si, len);
        stats.count(S_RXDGPC, 1);
        irq.rxTouched(q.index);
        return true;
    }

    /** The receive packet buffer's size as RXPBSIZE[0] sets it (8.2.3.8.9). */
    private int rxpbBytes() {
        return (regs.reg(RXPBSIZE0) >>> RXPBSIZE_SHIFT) << 10;
    }

    /** Moves held frames from the packet buffer to their queues, in order (8.2.3.8.7 DROP_EN semantics). */
    int drainFifo() {
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
                stats.count(S_QPRDC0 + stats.rxIndex(queue), 1);
                fifo.pop(pos);
            } else {
                break; // head-of-line: the packet buffer waits for descriptors
            }
        }
        if (moved > 0) {
            flow.packetBufferChanged();
        }
        return moved;
    }

    private int fcs(MemorySegment seg, int length) {
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, crcScratch, 0, length);
        crc.reset();
        crc.update(crcScratch, 0, length);
        return (int) crc.getValue();
    }
}
