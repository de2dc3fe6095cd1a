package io.jnic.apps.pktgen;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The frames pktgen sends: Ethernet (optionally 802.1Q tagged), IPv4 (RFC 791, no options, DF), UDP (RFC 768)
 * with valid header and UDP checksums (RFC 1071 sums, computed from the field values, no pass over the
 * payload: the payload after the probe is zeros), and a 14-byte probe at the start of the UDP payload:
 * <pre>
 *   0  magic 0x4A50 ("JP")      2  stream (tx port << 4 | tx queue)    3  epoch (changes at "clear")
 *   4  sequence number (32 bits, per stream)    8  TX time (System.nanoTime, low 48 bits)
 * </pre>
 * A 64-byte frame (60 without FCS) holds exactly the headers and the probe; with a VLAN tag frames need 68.
 */
final class Frames {
    static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int FCS = 4;
    static final int ETH_HEADER = 14;
    static final int VLAN_TAG = 4;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_VLAN = 0x8100;
    static final int IP_HEADER = 20;
    static final int UDP_HEADER = 8;
    static final int PROTO_UDP = 17;
    static final int TTL = 64;
    static final int IP_DF = 0x4000;
    static final int PROBE_MAGIC = 0x4A50;
    static final int PROBE_BYTES = 14;
    static final long TS_MASK = (1L << 48) - 1;
    /** The smallest frame (with FCS) that carries the probe, untagged and tagged. */
    static final int MIN_PROBE_FRAME = ETH_HEADER + IP_HEADER + UDP_HEADER + PROBE_BYTES + FCS;
    static final int MIN_PROBE_FRAME_VLAN = MIN_PROBE_FRAME + VLAN_TAG;

    private Frames() {
    }

    /**
     * Writes frame headers and probe at {@code p} in {@code s}; {@code len} is the frame length without FCS.
     * Bytes after the probe are left as they are (zeros in pktgen's TX pool).
     */
    static void write(MemorySegment s, long p, int len, long dstMac, long srcMac, int vlan, int srcIp, int dstIp,
            int srcPort, int dstPort, int ipId, int stream, int epoch, int seq, long ts) {
        s.set(BE32, p, (int) (dstMac >>> 16));
        s.set(BE16, p + 4, (short) dstMac);
        s.set(BE32, p + 6, (int) (srcMac >>> 16));
        s.set(BE16, p + 10, (short) srcMac);
        long l3 = p + ETH_HEADER;
        if (vlan >= 0) {
            s.set(BE16, p + 12, (short) ETHERTYPE_VLAN);
            s.set(BE16, p + 14, (short) vlan); // PCP 0, DEI 0
            s.set(BE16, p + 16, (short) ETHERTYPE_IPV4);
            l3 += VLAN_TAG;
        } else {
            s.set(BE16, p + 12, (short) ETHERTYPE_IPV4);
        }
        int ipLen = len - (int) (l3 - p);
        int udpLen = ipLen - IP_HEADER;
        // IPv4 header checksum: one's complement of the one's complement sum of its 16-bit words (RFC 791, 1071)
        long sum = 0x4500 + ipLen + (ipId & 0xFFFF) + IP_DF + (TTL << 8 | PROTO_UDP) + (srcIp >>> 16) + (srcIp & 0xFFFF)
                + (dstIp >>> 16) + (dstIp & 0xFFFF);
        s.set(BE32, l3, 0x4500 << 16 | ipLen);
        s.set(BE32, l3 + 4, (ipId & 0xFFFF) << 16 | IP_DF);
        s.set(BE32, l3 + 8, (TTL << 24 | PROTO_UDP << 16) | fold(sum) ^ 0xFFFF);
        s.set(BE32, l3 + 12, srcIp);
        s.set(BE32, l3 + 16, dstIp);
        long l4 = l3 + IP_HEADER;
        long pl = l4 + UDP_HEADER;
        int streamEpoch = (stream & 0xFF) << 8 | (epoch & 0xFF);
        int tsHi = (int) (ts >>> 32) & 0xFFFF;
        int tsLo = (int) ts;
        // UDP checksum over the pseudo-header, the UDP header and the payload (RFC 768); the zero filler adds 0
        long u = (srcIp >>> 16) + (srcIp & 0xFFFF) + (dstIp >>> 16) + (dstIp & 0xFFFF) + PROTO_UDP + udpLen
                + srcPort + dstPort + udpLen
                + PROBE_MAGIC + streamEpoch + (seq >>> 16) + (seq & 0xFFFF) + tsHi + (tsLo >>> 16) + (tsLo & 0xFFFF);
        int c = fold(u) ^ 0xFFFF;
        s.set(BE32, l4, srcPort << 16 | dstPort);
        s.set(BE32, l4 + 4, udpLen << 16 | (c == 0 ? 0xFFFF : c)); // 0 means "no checksum": send its twin
        s.set(BE32, pl, PROBE_MAGIC << 16 | streamEpoch);
        s.set(BE32, pl + 4, seq);
        s.set(BE16, pl + 8, (short) tsHi);
        s.set(BE32, pl + 10, tsLo);
    }

    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** Offset of the probe in a frame at {@code p} of {@code len} bytes, or -1 when it is not a pktgen frame. */
    static int probeOffset(MemorySegment s, long p, int len) {
        if (len < MIN_PROBE_FRAME - FCS) {
            return -1;
        }
        int l3 = ETH_HEADER;
        int type = s.get(BE16, p + 12) & 0xFFFF;
        if (type == ETHERTYPE_VLAN) {
            l3 += VLAN_TAG;
            if (len < MIN_PROBE_FRAME_VLAN - FCS) {
                return -1;
            }
            type = s.get(BE16, p + 16) & 0xFFFF;
        }
        if (type != ETHERTYPE_IPV4 || s.get(ValueLayout.JAVA_BYTE, p + l3) != 0x45
                || s.get(ValueLayout.JAVA_BYTE, p + l3 + 9) != PROTO_UDP) {
            return -1;
        }
        int pl = l3 + IP_HEADER + UDP_HEADER;
        if ((s.get(BE16, p + pl) & 0xFFFF) != PROBE_MAGIC) {
            return -1;
        }
        return pl;
    }

    static int stream(MemorySegment s, long probe) {
        return s.get(ValueLayout.JAVA_BYTE, probe + 2) & 0xFF;
    }

    static int epoch(MemorySegment s, long probe) {
        return s.get(ValueLayout.JAVA_BYTE, probe + 3) & 0xFF;
    }

    static int seq(MemorySegment s, long probe) {
        return s.get(BE32, probe + 4);
    }

    static long timestamp(MemorySegment s, long probe) {
        return ((long) (s.get(BE16, probe + 8) & 0xFFFF) << 32) | (s.get(BE32, probe + 10) & 0xFFFFFFFFL);
    }

    /** True when the IPv4 header checksum and the UDP checksum of the frame at {@code p} verify (for tests). */
    static boolean checksumsValid(MemorySegment s, long p, int len) {
        int l3 = (s.get(BE16, p + 12) & 0xFFFF) == ETHERTYPE_VLAN ? ETH_HEADER + VLAN_TAG : ETH_HEADER;
        long sum = 0;
        for (int i = 0; i < IP_HEADER; i += 2) {
            sum += s.get(BE16, p + l3 + i) & 0xFFFF;
        }
        if (fold(sum) != 0xFFFF) {
            return false;
        }
        int udpLen = s.get(BE16, p + l3 + IP_HEADER + 4) & 0xFFFF;
        if (udpLen != len - l3 - IP_HEADER) {
            return false;
        }
        long u = PROTO_UDP + udpLen;
        for (int i = 12; i < 20; i += 2) {
            u += s.get(BE16, p + l3 + i) & 0xFFFF;
        }
        long l4 = p + l3 + IP_HEADER;
        for (int i = 0; i + 1 < udpLen; i += 2) {
            u += s.get(BE16, l4 + i) & 0xFFFF;
        }
        if ((udpLen & 1) != 0) {
            u += (s.get(ValueLayout.JAVA_BYTE, l4 + udpLen - 1) & 0xFF) << 8;
        }
        return fold(u) == 0xFFFF;
    }

    // ---- hardware-timestamped probes (--hw-latency)

    /** IEEE 1588 over Ethernet: the EtherType ports timestamp in hardware. */
    static final int ETHERTYPE_PTP = 0x88F7;
    /** PTP v2 common header (IEEE 1588-2008 13.3): messageType Sync (an event message), versionPTP 2. */
    static final int PTP_HEADER = 34;
    /** A PTP probe: Ethernet, the PTP header, then the 14-byte probe; 62 bytes without FCS. */
    static final int PTP_PROBE_FRAME = ETH_HEADER + PTP_HEADER + PROBE_BYTES;

    /** Writes a PTP Sync frame carrying the probe (stream, epoch, seq; no software time) at {@code p}. */
    static void writePtpProbe(MemorySegment s, long p, long dstMac, long srcMac, int stream, int epoch, int seq) {
        s.set(BE32, p, (int) (dstMac >>> 16));
        s.set(BE16, p + 4, (short) dstMac);
        s.set(BE32, p + 6, (int) (srcMac >>> 16));
        s.set(BE16, p + 10, (short) srcMac);
        s.set(BE16, p + 12, (short) ETHERTYPE_PTP);
        long h = p + ETH_HEADER;
        s.asSlice(h, PTP_HEADER).fill((byte) 0);
        s.set(ValueLayout.JAVA_BYTE, h, (byte) 0x00); // transportSpecific 0, messageType 0 = Sync
        s.set(ValueLayout.JAVA_BYTE, h + 1, (byte) 0x02); // versionPTP 2
        s.set(BE16, h + 2, (short) (PTP_HEADER + PROBE_BYTES)); // messageLength
        s.set(BE16, h + 30, (short) seq); // sequenceId
        long q = h + PTP_HEADER;
        s.set(BE16, q, (short) PROBE_MAGIC);
        s.set(ValueLayout.JAVA_BYTE, q + 2, (byte) stream);
        s.set(ValueLayout.JAVA_BYTE, q + 3, (byte) epoch);
        s.set(BE32, q + 4, seq);
        s.set(BE16, q + 8, (short) 0);
        s.set(BE32, q + 10, 0);
    }

    /** Offset of the probe in a PTP probe frame at {@code p}, or -1 when the frame is not one. */
    static int ptpProbeOffset(MemorySegment s, long p, int len) {
        if (len < PTP_PROBE_FRAME || (s.get(BE16, p + 12) & 0xFFFF) != ETHERTYPE_PTP
                || (s.get(BE16, p + ETH_HEADER + PTP_HEADER) & 0xFFFF) != PROBE_MAGIC) {
            return -1;
        }
        return ETH_HEADER + PTP_HEADER;
    }
}
