package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ethdev bursts over virtio-net queues, for the port's owner ({@link VirtioEthDevice}) and for a process that
 * attached one queue pair ({@link VirtioSharedQueue}): mbufs in and out of batches, the virtio-net header in each
 * mbuf's headroom. One thread; reusable scratch arrays, no allocation once they have grown.
 */
final class VirtioBursts {
    private static final int ETHERTYPE_VLAN = 0x8100;
    private final int lcore;
    /** {@link VirtioOffloads} bits of the port (set at start, before any burst). */
    private int offloads;
    private final Mbuf mbuf = new Mbuf();
    private final Mbuf segment = new Mbuf();
    private long[] scratchTokens = new long[64];
    private long[] scratchIovas = new long[64];
    private int[] scratchLengths = new int[64];
    /** Mbufs transmit could not carry (multi-segment, shared, no headroom): freed and counted. */
    long txDropped;

    VirtioBursts(int lcore) {
        this.lcore = lcore;
    }

    void offloads(int bits) {
        offloads = bits;
    }

    int rx(VirtioNetRxQueue q, MbufBatch batch) {
        int have = batch.count();
        int room = batch.capacity() - have;
        if (room == 0) {
            return 0;
        }
        int[] lens = lengths(batch.capacity());
        long[] h = batch.handles();
        int got = q.receive(h, have, lens, room); // the queue's MbufOps set each mbuf's lengths and port
        if ((offloads & VirtioOffloads.RX_VLAN_STRIP) != 0) {
            for (int i = have; i < have + got; i++) {
                stripVlan(mbuf.wrap(h[i]));
            }
        }
        batch.count(have + got);
        return got;
    }

    /** Moves an 802.1Q tag from the frame to vlan_tci (the device has no VLAN strip: done here, as DPDK's PMD does). */
    private static void stripVlan(Mbuf m) {
        if (m.dataLen() < 18 || m.getShortBE(12) != ETHERTYPE_VLAN) {
            return;
        }
        int tci = m.getShortBE(14);
        int a = m.getIntBE(0);
        int b = m.getIntBE(4);
        int c = m.getIntBE(8);
        m.setIntBE(4, a).setIntBE(8, b).setIntBE(12, c);
        m.adj(4);
        m.vlanTci(tci).olFlags(m.olFlags() | MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED);
    }

    /** Puts vlan_tci in front of the EtherType as an 802.1Q tag; false without 4 more bytes of headroom. */
    private static boolean insertVlan(Mbuf m) {
        if (m.dataLen() < 12 || !m.prepend(4)) {
            return false;
        }
        int a = m.getIntBE(4);
        int b = m.getIntBE(8);
        int c = m.getIntBE(12);
        m.setIntBE(0, a).setIntBE(4, b).setIntBE(8, c);
        m.setShortBE(12, ETHERTYPE_VLAN).setShortBE(14, m.vlanTci());
        return true;
    }

    /**
     * A TSO packet carries, as for any NIC, the pseudo-header sum without the length in its TCP checksum field;
     * a virtio device segments as Linux does, from the sum with the TCP length in it: added here (as DPDK's PMD
     * does), and the IPv4 header checksum filled. False when the headers do not lie in the first segment.
     */
    private static boolean fixTsoChecksum(Mbuf m, long lens, int shift) {
        int l2 = Mbuf.l2Len(lens) + shift;
        int l3 = Mbuf.l3Len(lens);
        if (m.dataLen() < l2 + l3 + Mbuf.l4Len(lens) || l3 < 20) {
            return false;
        }
        int payload;
        if (m.getByte(l2) >> 4 == 4) {
            m.setShortBE(l2 + 10, 0);
            int sum = 0;
            for (int i = 0; i < l3; i += 2) {
                sum += m.getShortBE(l2 + i);
            }
            m.setShortBE(l2 + 10, ~fold(sum) & 0xFFFF);
            payload = m.getShortBE(l2 + 2) - l3;
        } else {
            payload = m.getShortBE(l2 + 4) - (l3 - 40); // IPv6: extension headers are part of l3_len
        }
        int field = l2 + l3 + 16;
        m.setShortBE(field, fold(m.getShortBE(field) + payload));
        return true;
    }

    private static int fold(int s) {
        s = (s & 0xFFFF) + (s >>> 16);
        return (s & 0xFFFF) + (s >>> 16);
    }

    /**
     * The virtio-net header for a packet that asks for checksum or segmentation offload (5.1.6.2): NEEDS_CSUM with
     * where the L4 checksum starts and lies (the packet holds the pseudo-header sum there, as for any NIC), and for
     * TSO the GSO type, header length and segment size. {@code shift}: bytes of VLAN tag inserted in front of the
     * headers the lengths describe.
     */
    private static void writeOffloadHeader(MemorySegment seg, long hdr, long ol, long lens, int shift) {
        long l4 = ol & MbufFlags.TX_L4_MASK;
        boolean tso = (ol & MbufFlags.TX_TCP_SEG) != 0;
        int start = Mbuf.l2Len(lens) + Mbuf.l3Len(lens) + shift;
        int flags = 0;
        int csumOffset = 0;
        if (tso || l4 == MbufFlags.TX_TCP_CKSUM) {
            flags = VirtioNetSpec.HDR_F_NEEDS_CSUM;
            csumOffset = 16; // TCP checksum field
        } else if (l4 == MbufFlags.TX_UDP_CKSUM) {
            flags = VirtioNetSpec.HDR_F_NEEDS_CSUM;
            csumOffset = 6; // UDP checksum field
        }
        int gso = VirtioNetSpec.HDR_GSO_NONE;
        int hdrLen = 0;
        int gsoSize = 0;
        if (tso) {
            gso = (ol & MbufFlags.TX_IPV6) != 0 ? VirtioNetSpec.HDR_GSO_TCPV6 : VirtioNetSpec.HDR_GSO_TCPV4;
            hdrLen = start + Mbuf.l4Len(lens);
            gsoSize = Mbuf.tsoSegsz(lens);
        }
        // flags, gso_type, hdr_len, gso_size | csum_start, csum_offset, num_buffers 0
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, hdr, flags | (long) gso << 8 | (long) hdrLen << 16 | (long) gsoSize << 32
                | (long) (start & 0xFFFF) << 48);
        seg.set(ValueLayout.JAVA_INT_UNALIGNED, hdr + 8, flags == 0 ? 0 : csumOffset);
    }

    /**
     * Sends what the ring takes now, in order. Only packets that will be taken are touched (a VLAN tag inserted, the
     * header written), so the rest stay as the caller gave them. A packet the port cannot carry (shared, no headroom,
     * a chain without MULTI_SEGS or with more pieces than a table holds) is freed and counted.
     */
    int tx(VirtioNetTxQueue q, MbufBatch batch) {
        int count = batch.count();
        if (count == 0) {
            return 0;
        }
        long[] h = batch.handles();
        int take = Math.min(count, q.reserve(count));
        long[] tok = tokens(take);
        long[] iovas = iovas(take);
        int[] lens = lengths(take);
        Mbuf m = mbuf;
        int ok = 0;
        int sent = 0;
        int dropped = 0;
        for (int i = 0; i < take; i++) {
            // one lookup per packet: check it, ready the header in its headroom, note the header's IOVA
            m.wrap(h[i]);
            long ol = offloads == 0 ? 0L : m.olFlags() & MbufFlags.TX_OFFLOAD_MASK;
            int segs = m.nbSegs();
            boolean chain = segs != 1;
            if (m.refcnt() != 1 || chain && ((offloads & VirtioOffloads.TX_MULTI_SEGS) == 0
                    || segs > VirtioNet.MAX_TX_PIECES)) {
                Mempool.free(h[i], lcore); // cannot carry it: counted, not left to block the queue
                dropped++;
                continue;
            }
            int shift = 0;
            if ((ol & MbufFlags.TX_VLAN) != 0 && (offloads & VirtioOffloads.TX_VLAN_INSERT) != 0) {
                if (!insertVlan(m)) {
                    Mempool.free(h[i], lcore);
                    dropped++;
                    continue;
                }
                shift = 4;
            }
            int head = m.headroom(); // data_off, read (and checked) once
            if (head < VirtioNetSpec.HDR_SIZE) {
                Mempool.free(h[i], lcore);
                dropped++;
                continue;
            }
            // the header goes in the headroom and is zeroed per packet, as DPDK's in-order path does (a fixed
            // per-slot header would cost a second descriptor per packet, halving what the ring holds)
            MemorySegment seg = m.pool().segment();
            long hdr = m.dataPosition() - VirtioNetSpec.HDR_SIZE;
            if ((ol & (MbufFlags.TX_L4_MASK | MbufFlags.TX_TCP_SEG)) != 0 && (offloads & VirtioOffloads.TX_HEADER) != 0) {
                if ((ol & MbufFlags.TX_TCP_SEG) != 0 && !fixTsoChecksum(m, m.txOffload(), shift)) {
                    Mempool.free(h[i], lcore);
                    dropped++;
                    continue;
                }
                writeOffloadHeader(seg, hdr, ol, m.txOffload(), shift);
            } else {
                seg.set(ValueLayout.JAVA_LONG_UNALIGNED, hdr, 0L);
                seg.set(ValueLayout.JAVA_INT_UNALIGNED, hdr + 8, 0);
            }
            long iova = m.bufIova() + head - VirtioNetSpec.HDR_SIZE;
            int len = VirtioNetSpec.HDR_SIZE + m.dataLen(); // the descriptor: header and frame
            if (chain) {
                if (!piecesOf(m, iova, len, segs)) {
                    Mempool.free(h[i], lcore);
                    dropped++;
                    continue;
                }
                sent += q.transmitPrepared(tok, iovas, lens, ok); // the packets before it first: order kept
                ok = 0;
                q.queueChain(h[i], pieceIovas, pieceLengths, segs);
                sent++;
                continue;
            }
            tok[ok] = h[i];
            iovas[ok] = iova;
            lens[ok++] = len;
        }
        txDropped += dropped;
        sent += q.transmitPrepared(tok, iovas, lens, ok); // takes them all: no more than reserved
        int left = count - take;
        System.arraycopy(h, take, h, 0, left);
        batch.count(left);
        return sent + dropped;
    }

    private final long[] pieceIovas = new long[VirtioNet.MAX_TX_PIECES];
    private final int[] pieceLengths = new int[VirtioNet.MAX_TX_PIECES];

    /**
     * The device addresses and lengths of a chain's segments (the first with the header); false when the chain is
     * not what its head says (a segment count or lengths that disagree: corrupted, not sent).
     */
    private boolean piecesOf(Mbuf m, long firstIova, int firstLen, int segs) {
        int pktLen = m.pktLen();
        pieceIovas[0] = firstIova;
        pieceLengths[0] = firstLen;
        long total = firstLen - VirtioNetSpec.HDR_SIZE;
        long next = m.next();
        Mbuf s = segment;
        for (int k = 1; k < segs; k++) {
            if (next == Mbuf.NULL) {
                return false;
            }
            s.wrap(next);
            pieceIovas[k] = s.dataIova();
            pieceLengths[k] = s.dataLen();
            total += s.dataLen();
            next = s.next();
        }
        return next == Mbuf.NULL && total == pktLen;
    }

    /** Records {@code owner} as the allocating lcore of each mbuf in {@code handles} (for the pool audit). */
    static void own(long[] handles, int owner) {
        Mbuf m = new Mbuf(); // control path: attach, detach, recovery
        for (long h : handles) {
            m.wrap(h).owner(owner);
        }
    }

    private long[] iovas(int n) {
        if (scratchIovas.length < n) {
            scratchIovas = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchIovas;
    }

    private long[] tokens(int n) {
        if (scratchTokens.length < n) {
            scratchTokens = new long[Integer.highestOneBit(n) << 1];
        }
        return scratchTokens;
    }

    private int[] lengths(int n) {
        if (scratchLengths.length < n) {
            scratchLengths = new int[Integer.highestOneBit(n) << 1];
        }
        return scratchLengths;
    }
}
