package io.jnic.memory.mbuf;

/**
 * The shared layout of an mbuf header (128 bytes before its buffer; the table is in the package documentation):
 * the offset of each field, for the flyweight {@link Mbuf} and for the drivers and the pool, which read and write
 * headers directly on their fast paths. Handles are {@link MempoolDescriptor}'s ({@code poolId << 48 | offset}).
 */
public final class MbufDescriptor {
    private MbufDescriptor() {
    }

    /** Size of the mbuf header; the buffer (headroom, then data room) follows it. */
    public static final int HEADER_SIZE = 128;

    // first cache line: everything rx, tx, alloc and free touch
    public static final long OFF_BUF_IOVA = 0;
    public static final long OFF_DATA_OFF = 8;
    public static final long OFF_NB_SEGS = 10;
    public static final long OFF_REFCNT = 12;
    public static final long OFF_OL_FLAGS = 16;
    public static final long OFF_PACKET_TYPE = 24;
    public static final long OFF_PKT_LEN = 28;
    public static final long OFF_DATA_LEN = 32;
    public static final long OFF_VLAN_TCI = 34;
    public static final long OFF_RSS_HASH = 36;
    public static final long OFF_PORT = 40;
    public static final long OFF_OWNER = 42;
    public static final long OFF_BUF_LEN = 44;
    public static final long OFF_POOL_ID = 46;
    public static final long OFF_NEXT = 48;
    public static final long OFF_SELF = 56;
    // second cache line: offload metadata, user data, time stamp
    public static final long OFF_TX_OFFLOAD = 64;
    public static final long OFF_USERDATA = 72;
    public static final long OFF_TIMESTAMP = 80;
}
