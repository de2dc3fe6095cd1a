package io.jnic.driver.virtio.net;

import io.jnic.driver.virtio.Virtio;

/** virtio-net constants (virtio 1.x, 5.1): feature bits, configuration layout, header, control commands. */
public final class VirtioNetSpec {
    // 5.1.3 Feature bits
    public static final int F_CSUM = 0;
    public static final int F_GUEST_CSUM = 1;
    public static final int F_CTRL_GUEST_OFFLOADS = 2;
    public static final int F_MTU = 3;
    public static final int F_MAC = 5;
    public static final int F_GUEST_TSO4 = 7;
    public static final int F_GUEST_TSO6 = 8;
    public static final int F_GUEST_ECN = 9;
    public static final int F_GUEST_UFO = 10;
    public static final int F_HOST_TSO4 = 11;
    public static final int F_HOST_TSO6 = 12;
    public static final int F_HOST_ECN = 13;
    public static final int F_HOST_UFO = 14;
    public static final int F_MRG_RXBUF = 15;
    public static final int F_STATUS = 16;
    public static final int F_CTRL_VQ = 17;
    public static final int F_CTRL_RX = 18;
    public static final int F_CTRL_VLAN = 19;
    public static final int F_CTRL_RX_EXTRA = 20;
    public static final int F_GUEST_ANNOUNCE = 21;
    public static final int F_MQ = 22;
    public static final int F_CTRL_MAC_ADDR = 23;
    public static final int F_HASH_REPORT = 57;
    public static final int F_RSS = 60;
    public static final int F_SPEED_DUPLEX = 63;

    // 5.1.4 Device configuration layout
    public static final int CFG_MAC = 0;
    public static final int CFG_STATUS = 6;
    public static final int CFG_MAX_VIRTQUEUE_PAIRS = 8;
    public static final int CFG_MTU = 10;
    public static final int STATUS_LINK_UP = 1;
    public static final int STATUS_ANNOUNCE = 2;

    // 5.1.6 struct virtio_net_hdr: 12 bytes with VERSION_1 (num_buffers always present)
    public static final int HDR_SIZE = 12;
    public static final int HDR_FLAGS = 0;
    public static final int HDR_GSO_TYPE = 1;
    public static final int HDR_HDR_LEN = 2;
    public static final int HDR_GSO_SIZE = 4;
    public static final int HDR_CSUM_START = 6;
    public static final int HDR_CSUM_OFFSET = 8;
    public static final int HDR_NUM_BUFFERS = 10;
    /** flags: the checksum from csum_start to the end goes to csum_start + csum_offset (partial checksum). */
    public static final int HDR_F_NEEDS_CSUM = 1;
    /** flags (device to driver, GUEST_CSUM): the packet's checksums were validated. */
    public static final int HDR_F_DATA_VALID = 2;
    public static final int HDR_GSO_NONE = 0;
    public static final int HDR_GSO_TCPV4 = 1;
    public static final int HDR_GSO_UDP = 3;
    public static final int HDR_GSO_TCPV6 = 4;
    public static final int HDR_GSO_ECN = 0x80;

    // 5.1.6.5 Control virtqueue
    public static final int CTRL_OK = 0;
    public static final int CTRL_ERR = 1;
    public static final int CTRL_RX = 0;
    public static final int CTRL_RX_PROMISC = 0;
    public static final int CTRL_RX_ALLMULTI = 1;
    public static final int CTRL_MAC = 1;
    public static final int CTRL_MAC_TABLE_SET = 0;
    public static final int CTRL_MAC_ADDR_SET = 1;
    public static final int CTRL_VLAN = 2;
    public static final int CTRL_VLAN_ADD = 0;
    public static final int CTRL_VLAN_DEL = 1;
    public static final int CTRL_MQ = 4;
    public static final int CTRL_MQ_VQ_PAIRS_SET = 0;
    public static final int CTRL_MQ_VQ_PAIRS_MIN = 1;
    public static final int CTRL_MQ_VQ_PAIRS_MAX = 0x8000;

    private VirtioNetSpec() {
    }

    /** Virtqueue index of receiveq{@code pair} (5.1.2). */
    public static int rxQueue(int pair) {
        return 2 * pair;
    }

    public static int txQueue(int pair) {
        return 2 * pair + 1;
    }

    /** The control queue's index: after the last pair with MQ, else 2 (5.1.2). */
    public static int ctrlQueue(int maxPairs, boolean mq) {
        return mq ? 2 * maxPairs : 2;
    }

    public static String featureName(int bit) {
        return switch (bit) {
            case F_CSUM -> "CSUM";
            case F_GUEST_CSUM -> "GUEST_CSUM";
            case F_CTRL_GUEST_OFFLOADS -> "CTRL_GUEST_OFFLOADS";
            case F_MTU -> "MTU";
            case F_MAC -> "MAC";
            case F_GUEST_TSO4 -> "GUEST_TSO4";
            case F_GUEST_TSO6 -> "GUEST_TSO6";
            case F_GUEST_ECN -> "GUEST_ECN";
            case F_GUEST_UFO -> "GUEST_UFO";
            case F_HOST_TSO4 -> "HOST_TSO4";
            case F_HOST_TSO6 -> "HOST_TSO6";
            case F_HOST_ECN -> "HOST_ECN";
            case F_HOST_UFO -> "HOST_UFO";
            case F_MRG_RXBUF -> "MRG_RXBUF";
            case F_STATUS -> "STATUS";
            case F_CTRL_VQ -> "CTRL_VQ";
            case F_CTRL_RX -> "CTRL_RX";
            case F_CTRL_VLAN -> "CTRL_VLAN";
            case F_CTRL_RX_EXTRA -> "CTRL_RX_EXTRA";
            case F_GUEST_ANNOUNCE -> "GUEST_ANNOUNCE";
            case F_MQ -> "MQ";
            case F_CTRL_MAC_ADDR -> "CTRL_MAC_ADDR";
            case F_HASH_REPORT -> "HASH_REPORT";
            case F_RSS -> "RSS";
            case F_SPEED_DUPLEX -> "SPEED_DUPLEX";
            default -> Virtio.featureName(bit);
        };
    }
}
