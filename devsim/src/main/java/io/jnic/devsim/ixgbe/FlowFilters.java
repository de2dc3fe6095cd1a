package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntUnaryOperator;

/**
 * The receive filters after the MAC address filter: the VLAN filter (VLNCTRL.VFE with VFTA, 7.1.1.2) and the queue
 * filters of 7.1.2 in the datasheet's precedence: an L2 EtherType filter whose ETQS has QUEUE_EN (7.1.2.3), then
 * the 5-tuple filters (7.1.2.5, the matching one of highest FTQF priority, the lower index on a tie), then RSS
 * (which the port applies when {@link #queue} is -1). An EtherType filter with the 1588 flag also marks the frame
 * for an IEEE 1588 time stamp (7.9.2.1) whatever its queue setting.
 *
 * <p>The enabled filters are tracked on register writes ({@link #written}) so that a frame scans only those.
 * One instance per port; the fields are the result of the last {@link #classify}.
 */
final class FlowFilters {
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int PROTO_SCTP = 132;

    private final IntUnaryOperator reg;
    private int etqfEnabled; // bit i: ETQF[i].FILTER_EN
    private final long[] ftqfEnabled = new long[2]; // bit i: FTQF[i].QUEUE_EN
    private int ftqfCount;

    /** Result of {@link #classify}: the queue a filter chose (-1: none, RSS decides). */
    int queue;
    /** The ETQF index that matched (-1: none). */
    int etqf;
    /** The matching EtherType filter asks for an IEEE 1588 time stamp. */
    boolean ptp;
    /** Frames each kind of filter steered (status and tests). */
    long etqfHits;
    long ftqfHits;

    FlowFilters(IntUnaryOperator reg) {
        this.reg = reg;
    }

    static boolean owns(int off) {
        return (off >= ETQF0 && off < ETQF0 + 4 * ETQF_COUNT) || (off >= ETQS0 && off < ETQS0 + 4 * ETQF_COUNT)
                || (off >= SAQF0 && off < L34T_IMIR0 + 4 * FTQF_COUNT);
    }

    /** A write to one of {@link #owns}'s registers was stored: follow the enables. */
    void written(int off, int value) {
        if (off >= ETQF0 && off < ETQF0 + 4 * ETQF_COUNT) {
            int i = (off - ETQF0) >>> 2;
            etqfEnabled = (value & ETQF_FILTER_EN) != 0 ? etqfEnabled | 1 << i : etqfEnabled & ~(1 << i);
        } else if (off >= FTQF0 && off < FTQF0 + 4 * FTQF_COUNT) {
            int i = (off - FTQF0) >>> 2;
            long bit = 1L << (i & 63);
            if ((value & FTQF_QUEUE_EN) != 0) {
                ftqfEnabled[i >>> 6] |= bit;
            } else {
                ftqfEnabled[i >>> 6] &= ~bit;
            }
            ftqfCount = Long.bitCount(ftqfEnabled[0]) + Long.bitCount(ftqfEnabled[1]);
        }
    }

    void reset() {
        etqfEnabled = 0;
        ftqfEnabled[0] = 0;
        ftqfEnabled[1] = 0;
        ftqfCount = 0;
    }

    /**
     * 7.1.1.2: with VLNCTRL.VFE set, a frame tagged with VLNCTRL.VET whose VLAN id has its VFTA bit clear is
     * dropped; untagged frames pass.
     */
    boolean vlanPasses(MemorySegment f, long off, int len) {
        int vlnctrl = reg.applyAsInt(VLNCTRL);
        if ((vlnctrl & VLNCTRL_VFE) == 0 || len < 18) {
            return true;
        }
        int type = f.get(BE16, off + 12) & 0xFFFF;
        if (type != (vlnctrl & VLNCTRL_VET_MASK)) {
            return true;
        }
        int vid = f.get(BE16, off + 14) & 0xFFF;
        return (reg.applyAsInt(VFTA0 + 4 * (vid >>> 5)) & (1 << (vid & 31))) != 0;
    }

    /** Runs the EtherType and 5-tuple filters over a frame that passed the L2 filters. */
    void classify(MemorySegment f, long off, int len) {
        queue = -1;
        etqf = -1;
        ptp = false;
        if (len < 14 || (etqfEnabled == 0 && ftqfCount == 0)) {
            return;
        }
        int l3 = 14;
        int type = f.get(BE16, off + 12) & 0xFFFF;
        if (type == (reg.applyAsInt(VLNCTRL) & VLNCTRL_VET_MASK) && len >= 18) {
            type = f.get(BE16, off + 16) & 0xFFFF;
            l3 = 18;
        }
        for (int m = etqfEnabled; m != 0; m &= m - 1) {
            int i = Integer.numberOfTrailingZeros(m);
            int etqfReg = reg.applyAsInt(ETQF0 + 4 * i);
            if ((etqfReg & ETQF_ETYPE_MASK) == type) {
                etqf = i;
                ptp = (etqfReg & ETQF_1588) != 0;
                int etqs = reg.applyAsInt(ETQS0 + 4 * i);
                if ((etqs & ETQS_QUEUE_EN) != 0) {
                    queue = (etqs & ETQS_QUEUE_MASK) >>> ETQS_QUEUE_SHIFT;
                    etqfHits++;
                    return; // 7.1.2: the EtherType filter takes precedence over the 5-tuple filters and RSS
                }
                break;
            }
        }
        if (ftqfCount == 0 || type != 0x0800 || len < l3 + 20) {
            return;
        }
        int vihl = f.get(ValueLayout.JAVA_BYTE, off + l3) & 0xFF;
        int ihl = (vihl & 0xF) * 4;
        if ((vihl >>> 4) != 4 || ihl < 20 || len < l3 + ihl) {
            return;
        }
        int proto = f.get(ValueLayout.JAVA_BYTE, off + l3 + 9) & 0xFF;
        int protoCode = switch (proto) {
            case 6 -> 0;
            case 17 -> 1;
            case PROTO_SCTP -> 2;
            default -> 3;
        };
        int src = f.get(LE32, off + l3 + 12); // as the bytes sit in the header, read as SAQF holds them
        int dst = f.get(LE32, off + l3 + 16);
        int l4 = l3 + ihl;
        boolean fragment = (f.get(BE16, off + l3 + 6) & 0x3FFF) != 0;
        boolean ports = protoCode != 3 && !fragment && len >= l4 + 4;
        int sport = ports ? f.get(LE16, off + l4) & 0xFFFF : -1;
        int dport = ports ? f.get(LE16, off + l4 + 2) & 0xFFFF : -1;
        int best = -1;
        int bestPrio = -1;
        for (int w = 0; w < 2; w++) {
            for (long m = ftqfEnabled[w]; m != 0; m &= m - 1) {
                int i = 64 * w + Long.numberOfTrailingZeros(m);
                int ftqf = reg.applyAsInt(FTQF0 + 4 * i);
                int mask = ftqf >>> FTQF_MASK_SHIFT & 0x1F; // a set bit: the field is not compared
                if ((mask & FTQF_MASK_PROTO) == 0 && (ftqf & FTQF_PROTO_MASK) != protoCode) {
                    continue;
                }
                if ((mask & FTQF_MASK_SRC_ADDR) == 0 && reg.applyAsInt(SAQF0 + 4 * i) != src) {
                    continue;
                }
                if ((mask & FTQF_MASK_DST_ADDR) == 0 && reg.applyAsInt(DAQF0 + 4 * i) != dst) {
                    continue;
                }
                int sdp = reg.applyAsInt(SDPQF0 + 4 * i);
                if ((mask & FTQF_MASK_SRC_PORT) == 0 && (sdp & 0xFFFF) != sport) {
                    continue;
                }
                if ((mask & FTQF_MASK_DST_PORT) == 0 && (sdp >>> 16) != dport) {
                    continue;
                }
                int prio = ftqf >>> FTQF_PRIO_SHIFT & 0x7;
                if (prio > bestPrio) {
                    best = i;
                    bestPrio = prio;
                }
            }
        }
        if (best >= 0) {
            queue = (reg.applyAsInt(L34T_IMIR0 + 4 * best) & L34T_IMIR_QUEUE_MASK) >>> L34T_IMIR_QUEUE_SHIFT;
            ftqfHits++;
        }
    }
}
