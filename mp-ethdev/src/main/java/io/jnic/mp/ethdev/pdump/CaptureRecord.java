package io.jnic.mp.ethdev.pdump;

/**
 * What a {@link CaptureTap} puts in a capture mbuf: a 24-byte little-endian record header, then the first bytes
 * of the frame (data_len = header + captured bytes).
 *
 * <pre>
 *  0 timestamp u64 (ns since the Unix epoch)   8 original frame length u32
 * 12 port u16   14 queue u16   16 direction u8 (1 RX, 2 TX)   17..23 zero
 * 24 frame bytes
 * </pre>
 */
public final class CaptureRecord {
    public static final int HEADER = 24;
    public static final int OFF_TIMESTAMP = 0;
    public static final int OFF_ORIG_LEN = 8;
    public static final int OFF_PORT = 12;
    public static final int OFF_QUEUE = 14;
    public static final int OFF_DIRECTION = 16;
    public static final int RX = 1;
    public static final int TX = 2;

    private CaptureRecord() {
    }
}
