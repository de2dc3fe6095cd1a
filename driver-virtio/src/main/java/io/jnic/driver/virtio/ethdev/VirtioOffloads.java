package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.Virtio;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which port offloads virtio-net gives and how: checksums and segmentation through the virtio-net header
 * (5.1.6.2, 5.1.6.4: CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6), frames spanning receive buffers through
 * MRG_RXBUF, mbuf chains on transmit through indirect descriptor tables (INDIRECT_DESC), the VLAN filter through
 * the control queue (CTRL_VLAN); VLAN strip and insert have no virtio feature and
 * are done by the driver, as DPDK's virtio PMD does. The offload features are negotiated only when the port's
 * configuration asks for them (a device given GUEST_CSUM may hand over frames with unfinished checksums).
 *
 * <p>The driver's side fits in an int of bits, recorded for processes that attach a queue pair.
 */
final class VirtioOffloads {
    static final int RX_CSUM = 1;
    static final int RX_LRO = 1 << 1;
    static final int RX_VLAN_STRIP = 1 << 2;
    /** Frames spanning several buffers arrive as mbuf chains (SCATTER, implied by LRO). */
    static final int RX_SCATTER = 1 << 3;
    static final int TX_CSUM = 1 << 4;
    static final int TX_TSO = 1 << 5;
    static final int TX_VLAN_INSERT = 1 << 6;
    /** Mbuf chains go out as one frame through an indirect descriptor table (INDIRECT_DESC). */
    static final int TX_MULTI_SEGS = 1 << 7;
    static final int RX_HEADER = RX_CSUM | RX_LRO;
    static final int TX_HEADER = TX_CSUM | TX_TSO;
    static final int ALL = (1 << 8) - 1;

    private VirtioOffloads() {
    }

    static Set<RxOffload> rxOffered(long deviceFeatures) {
        Set<RxOffload> s = EnumSet.of(RxOffload.VLAN_STRIP);
        if (Virtio.has(deviceFeatures, VirtioNetSpec.F_GUEST_CSUM)) {
            s.add(RxOffload.TCP_CKSUM);
            s.add(RxOffload.UDP_CKSUM);
            if (Virtio.has(deviceFeatures, VirtioNetSpec.F_MRG_RXBUF)
                    && (Virtio.has(deviceFeatures, VirtioNetSpec.F_GUEST_TSO4)
                            || Virtio.has(deviceFeatures, VirtioNetSpec.F_GUEST_TSO6))) {
                s.add(RxOffload.TCP_LRO);
            }
        }
        if (Virtio.has(deviceFeatures, VirtioNetSpec.F_MRG_RXBUF)) {
            s.add(RxOffload.SCATTER);
        }
        if (Virtio.has(deviceFeatures, VirtioNetSpec.F_CTRL_VLAN) && Virtio.has(deviceFeatures, VirtioNetSpec.F_CTRL_VQ)) {
            s.add(RxOffload.VLAN_FILTER);
        }
        return s;
    }

    static Set<TxOffload> txOffered(long deviceFeatures) {
        Set<TxOffload> s = EnumSet.of(TxOffload.VLAN_INSERT);
        if (Virtio.has(deviceFeatures, Virtio.F_INDIRECT_DESC)) {
            s.add(TxOffload.MULTI_SEGS);
        }
        if (Virtio.has(deviceFeatures, VirtioNetSpec.F_CSUM)) {
            s.add(TxOffload.TCP_CKSUM);
            s.add(TxOffload.UDP_CKSUM);
            if (Virtio.has(deviceFeatures, VirtioNetSpec.F_HOST_TSO4) || Virtio.has(deviceFeatures, VirtioNetSpec.F_HOST_TSO6)) {
                s.add(TxOffload.TCP_TSO);
            }
        }
        return s;
    }

    /** The offload features to negotiate for {@code c} (each one the device offers; see {@link #rxOffered}). */
    static long features(PortConfig c) {
        long f = 0;
        Set<RxOffload> rx = c.rxOffloads();
        Set<TxOffload> tx = c.txOffloads();
        if (rx.contains(RxOffload.TCP_CKSUM) || rx.contains(RxOffload.UDP_CKSUM) || rx.contains(RxOffload.TCP_LRO)) {
            f |= Virtio.bit(VirtioNetSpec.F_GUEST_CSUM);
        }
        if (rx.contains(RxOffload.TCP_LRO)) {
            f |= Virtio.bit(VirtioNetSpec.F_GUEST_TSO4) | Virtio.bit(VirtioNetSpec.F_GUEST_TSO6);
        }
        if (rx.contains(RxOffload.VLAN_FILTER)) {
            f |= Virtio.bit(VirtioNetSpec.F_CTRL_VLAN);
        }
        if (tx.contains(TxOffload.TCP_CKSUM) || tx.contains(TxOffload.UDP_CKSUM) || tx.contains(TxOffload.TCP_TSO)) {
            f |= Virtio.bit(VirtioNetSpec.F_CSUM);
        }
        if (tx.contains(TxOffload.TCP_TSO)) {
            f |= Virtio.bit(VirtioNetSpec.F_HOST_TSO4) | Virtio.bit(VirtioNetSpec.F_HOST_TSO6);
        }
        if (tx.contains(TxOffload.MULTI_SEGS)) {
            f |= Virtio.bit(Virtio.F_INDIRECT_DESC);
        }
        return f;
    }

    /** The driver's side of {@code c}'s offloads. */
    static int bits(PortConfig c) {
        Set<RxOffload> rx = c.rxOffloads();
        Set<TxOffload> tx = c.txOffloads();
        int b = 0;
        if (rx.contains(RxOffload.TCP_CKSUM) || rx.contains(RxOffload.UDP_CKSUM)) {
            b |= RX_CSUM;
        }
        if (rx.contains(RxOffload.TCP_LRO)) {
            b |= RX_LRO | RX_CSUM | RX_SCATTER;
        }
        if (rx.contains(RxOffload.SCATTER)) {
            b |= RX_SCATTER;
        }
        if (rx.contains(RxOffload.VLAN_STRIP)) {
            b |= RX_VLAN_STRIP;
        }
        if (tx.contains(TxOffload.TCP_CKSUM) || tx.contains(TxOffload.UDP_CKSUM)) {
            b |= TX_CSUM;
        }
        if (tx.contains(TxOffload.TCP_TSO)) {
            b |= TX_TSO | TX_CSUM;
        }
        if (tx.contains(TxOffload.VLAN_INSERT)) {
            b |= TX_VLAN_INSERT;
        }
        if (tx.contains(TxOffload.MULTI_SEGS)) {
            b |= TX_MULTI_SEGS;
        }
        return b;
    }
}
