package io.jnic.driver.intel;

import static io.jnic.driver.intel.AdvDescriptors.*;

import io.jnic.ethdev.RxOffload;
import io.jnic.memory.mbuf.MbufFlags;
import java.util.Set;

/**
 * The receive offloads of one queue as the driver decodes them: bit n of {@link #bits} is the {@link RxOffload}
 * of ordinal n (the form kept in the queue's shared state, {@link QueueMemory#S_OFFLOADS}). Maps the last
 * write-back descriptor of a frame to mbuf flags (7.1.6.2): IPCS with or without IPE to RX_IP_CKSUM_GOOD/BAD,
 * L4CS with or without TCPE to RX_L4_CKSUM_GOOD/BAD (neither: UNKNOWN, the hardware gave no verdict: not IPv4,
 * not TCP/UDP, a fragment, a UDP checksum of 0), VP to RX_VLAN | RX_VLAN_STRIPPED (the 82599 sets VP only when
 * RXDCTL.VME stripped the tag), an RSS type to RX_RSS_HASH.
 */
public final class RxOffloads {
    public static final int COUNT = RxOffload.values().length;

    public final int bits;
    public final boolean checksums;
    public final boolean vlanStrip;
    public final boolean scatter;

    public RxOffloads(int bits) {
        this.bits = bits;
        this.checksums = has(bits, RxOffload.IPV4_CKSUM) || has(bits, RxOffload.TCP_CKSUM) || has(bits, RxOffload.UDP_CKSUM);
        this.vlanStrip = has(bits, RxOffload.VLAN_STRIP);
        this.scatter = has(bits, RxOffload.SCATTER);
    }

    public static int bitsOf(Set<RxOffload> set) {
        int b = 0;
        for (RxOffload o : set) {
            b |= 1 << o.ordinal();
        }
        return b;
    }

    private static boolean has(int bits, RxOffload o) {
        return (bits & 1 << o.ordinal()) != 0;
    }

    /** Whether the queue needs the offload receive path (RSS hashes alone the plain path delivers). */
    public boolean slowPath() {
        return checksums || vlanStrip || scatter;
    }

    /** The ol_flags for a frame whose last descriptor has status/error {@code st} and dword0 {@code info}. */
    long flags(int st, int info) {
        long f = (info & RXD_RSSTYPE_MASK) != 0 ? MbufFlags.RX_RSS_HASH : 0L;
        if (checksums) {
            if ((st & RXD_STAT_IPCS) != 0) {
                f |= (st & RXD_ERR_IPE) != 0 ? MbufFlags.RX_IP_CKSUM_BAD : MbufFlags.RX_IP_CKSUM_GOOD;
            }
            if ((st & RXD_STAT_L4CS) != 0) {
                f |= (st & RXD_ERR_TCPE) != 0 ? MbufFlags.RX_L4_CKSUM_BAD : MbufFlags.RX_L4_CKSUM_GOOD;
            }
        }
        if (vlanStrip && (st & RXD_STAT_VP) != 0) {
            f |= MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED;
        }
        return f;
    }
}
