package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static io.jnic.devsim.ixgbe.Ixgbe82599.MAX_FRAME_BYTES;
import static io.jnic.devsim.ixgbe.Statistics.*;

import io.jnic.devsim.DmaMemory;
import io.jnic.devsim.DmaWindow;
import io.jnic.devsim.wire.Wire;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The transmit path (datasheet 7.2): each enabled queue's descriptors from TDH to TDT, advanced and legacy data
 * descriptors gathered into a packet, context descriptors into the queue's two slots (7.2.3.2.3), the packet sent
 * through the offloads its first data descriptor asks for ({@link TsoSegmenter}: checksums, VLAN insertion, TSO),
 * padded (HLREG0.TXPADEN) and counted, onto the wire or back into the receive path (HLREG0.LPBK); DD written back
 * for RS descriptors, TDH and the head write-back (TDWBAL/H) updated. Also the TX queues' latching on
 * TXDCTL.ENABLE. Not thread-safe: the port calls it under its monitor, and nothing on the per-frame path allocates.
 */
final class TxEngine {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());
    private static final ValueLayout.OfInt LE_INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** A TSO packet gathered whole: 7.2.4 PAYLEN (18 bits) of payload and up to 512 bytes of headers. */
    private static final int MAX_TX_GATHER = TsoSegmenter.MAX_TSO_PAYLOAD + 512;
    /** Descriptors processed per queue per turn. */
    private static final int TX_BATCH = 64;

    /** One TX queue's ring as latched at TXDCTL.ENABLE, the packet being gathered and the context slots. */
    static final class TxQueue {
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

    private final String name;
    private final RegisterFile regs;
    private final Statistics stats;
    private final PortState state;
    private final Faults faults;
    private final InterruptModel irq;
    private final DmaMemory dma;
    private final Timesync timesync;
    private final FlowControl flow;
    private final RxEngine loopback;
    private final Wire wire;
    private final TxQueue[] txq = new TxQueue[NUM_QUEUES];
    private final MemorySegment txFrame;
    private final TsoSegmenter tso;
    /** The queue whose packet {@link #tso} is sending, and where its frames go (made once: no allocation per packet). */
    private TxQueue sending;
    private final TsoSegmenter.Sink segmentSink = (f, o, l) -> sendFrame(sending, f, o, l);
    private final MemorySegment zeros;

    /** Buffers come from {@code arena}; {@code loopback} receives frames under HLREG0.LPBK. */
    TxEngine(String name, RegisterFile regs, Statistics stats, PortState state, Faults faults, InterruptModel irq,
            DmaMemory dma, Timesync timesync, FlowControl flow, RxEngine loopback, Wire wire,
            Arena arena) {
        this.name = name;
        this.regs = regs;
        this.stats = stats;
        this.state = state;
        this.faults = faults;
        this.irq = irq;
        this.dma = dma;
        this.timesync = timesync;
        this.flow = flow;
        this.loopback = loopback;
        this.wire = wire;
        this.txFrame = arena.allocate(MAX_TX_GATHER, 64);
        // one frame the transmit offloads make (a TSO segment, a frame with a tag inserted)
        this.tso = new TsoSegmenter(arena.allocate(MAX_FRAME_BYTES + 4, 64), MAX_FRAME_BYTES);
        this.zeros = arena.allocate(MIN_FRAME, 64);
        for (int i = 0; i < NUM_QUEUES; i++) {
            txq[i] = new TxQueue(i);
        }
    }

    TxQueue queue(int q) {
        return txq[q];
    }

    /** Every queue disabled (a reset). */
    void reset() {
        for (int q = 0; q < NUM_QUEUES; q++) {
            txq[q].enabled = false;
        }
    }

    /** Follows software's TXDCTL.ENABLE of queue {@code q}: latch the ring on a set, stop on a clear. */
    void scanEnable(int q) {
        int tbase = txq(q);
        boolean ten = (regs.acquire(tbase + TXDCTL) & TXDCTL_ENABLE) != 0;
        TxQueue t = txq[q];
        if (ten && !t.enabled) {
            enable(t, tbase);
        } else if (!ten && t.enabled) {
            t.enabled = false;
        }
    }

    private void enable(TxQueue t, int base) {
        long addr = (regs.reg(base + TDBAL) & 0xFFFFFFFFL) | ((long) regs.reg(base + TDBAH) << 32);
        int len = regs.reg(base + TDLEN);
        int head = regs.reg(base + TDH);
        int wbal = regs.reg(base + TDWBAL);
        long wbAddr = ((long) regs.reg(base + TDWBAH) << 32) | (wbal & 0xFFFFFFFCL);
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
            regs.release(base + TXDCTL, regs.reg(base + TXDCTL) & ~TXDCTL_ENABLE);
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

    /** One turn of every enabled queue (the turn began at {@code turnNanos}); returns the frames sent. */
    int transmit(long turnNanos) {
        if ((regs.reg(DMATXCTL) & DMATXCTL_TE) == 0) {
            return 0;
        }
        if (flow.pausedAt(turnNanos)) {
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
        int tail = regs.acquire(base + TDT);
        if (tail < 0 || tail >= t.size) {
            regs.badValue(base + TDT, "TDT " + tail + " is outside the ring of " + t.size);
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
                        stats.dmaError("TX queue " + t.index + " buffer 0x" + Long.toHexString(addr) + " is not DMA-mapped");
                        t.frameBad = true;
                    } else {
                        t.frameLength += len;
                    }
                }
                if ((cmdTypeLen & TXD_CMD_EOP) != 0) {
                    if (!t.frameBad) {
                        frames += sendPacket(t);
                    } else {
                        stats.txError();
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
                regs.badValue(base + TDT, "TX descriptor type " + dtyp + " (only data and context are modelled)");
            }
            if ((cmdTypeLen & TXD_CMD_RS) != 0) {
                faults.writeStatus(ring, d + 12, TXD_STAT_DD); // 7.2.3.2.4 write-back: STA.DD
                reported = true;
            }
            t.head = t.head + 1 == t.size ? 0 : t.head + 1;
            processed++;
        }
        regs.release(base + TDH, faults.hostile > 0 ? t.size + 13 : t.head); // hostile: out of the ring
        if (t.headWriteBack) {
            DmaWindow w = dma.find(t.headWriteBackAddress, 4);
            if (w != null && w.writable() && w.mapped()) {
                RegisterFile.REG.setRelease(w.segment(), t.headWriteBackAddress - w.iova(), t.head);
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
                stats.txError();
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
            stats.txError();
            regs.badValue(txq(t.index) + TDT, "TX queue " + t.index + " packet dropped: " + why);
            return 0;
        }
        return tso.segments;
    }

    private void sendFrame(TxQueue t, MemorySegment frame, long offset, int length) {
        int len = length;
        if (len < MIN_FRAME - CRC_LEN && (regs.reg(HLREG0) & HLREG0_TXPADEN) != 0) {
            MemorySegment.copy(zeros, 0, frame, offset + len, MIN_FRAME - CRC_LEN - len);
            len = MIN_FRAME - CRC_LEN;
        }
        int wireLen = len + CRC_LEN;
        int si = stats.txIndex(t.index);
        stats.count(S_TXDGPC, 1);
        stats.count(S_QPTC0 + si, 1);
        stats.count(S_QBTC0 + si, len);
        if (!state.linkUp) {
            return; // the MAC drops frames while the link is down
        }
        // the frame leaves now: not at the turn's start, which a turn busy with register traffic leaves behind by
        // milliseconds (a cable would then deliver frames before they were sent)
        long depart = System.nanoTime();
        if (t.frameStamp) {
            timesync.stampTx(depart); // 7.9.2.2: latched as the frame leaves
        }
        stats.count(S_GPTC, 1);
        stats.count(S_GOTC, wireLen);
        stats.count(S_TPT, 1);
        stats.count(S_PTC64 + sizeBucket(wireLen), 1);
        int d0 = frame.get(ValueLayout.JAVA_BYTE, offset);
        if ((d0 & 1) != 0) {
            boolean bcast = frame.get(ValueLayout.JAVA_INT_UNALIGNED, offset) == -1
                    && frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 4) == (short) -1;
            stats.count(bcast ? S_BPTC : S_MPTC, 1);
        }
        if ((regs.reg(HLREG0) & HLREG0_LPBK) != 0) {
            loopback.receive(frame, offset, len, depart); // MAC loopback (HLREG0.LPBK)
        } else {
            wire.transmit(frame, offset, len, depart);
        }
    }
}
