package io.jnic.devsim.wire;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A traffic generator and sink on the far end of a port. The generator sends Ethernet/IPv4/UDP frames of a
 * fixed size at a fixed rate (or as fast as the device loop turns), cycling through {@code flows} flows
 * (source address and port differ, so RSS spreads them over queues); each carries a magic word, the
 * generator id, its flow and a per-flow sequence number, then an optional fixed pattern. The sink counts what
 * the port sends and checks those fields, so a forwarding application between two generator ports can be
 * checked end to end for loss, reordering within a flow, and corruption.
 */
public final class GeneratorWire implements Wire {
    public static final int MAGIC = 0x4A4E4943; // "JNIC"
    static final int PAYLOAD_OFFSET = 42;
    static final int HEADER_BYTES = PAYLOAD_OFFSET + 16;
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int BATCH = 64;
    private static final int MAX_GENERATORS = 16;

    private final int id;
    private final long ratePps;
    private final int frameSize;
    private final int flows;
    private final int pattern;
    private final long limit;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment frame;
    private final long[] nextSeq;
    private final short[] ipChecksum;
    private FramePort port;
    private volatile boolean running = true;
    private long lastNanos;
    private double tokens;

    // generator counters
    private volatile long sent;
    // sink state and counters
    private final long[][] expected = new long[MAX_GENERATORS][];
    private volatile long sinkFrames;
    private volatile long sinkBytes;
    private volatile long lost;
    private volatile long reordered;
    private volatile long patternErrors;
    private volatile long foreign;

    /**
     * @param id        this generator's id (0-15), carried in every frame so sinks tell sources apart
     * @param dstMac    destination address of generated frames (the port's own MAC for it to accept them)
     * @param ratePps   frames per second, 0 for as many as each device turn takes (64 per turn)
     * @param frameSize frame size including the 4-byte FCS, 64 to 9018
     * @param flows     number of flows, 1 to 65536
     * @param pattern   payload fill byte after the header fields (0-255), or -1 for none (zeros, unchecked)
     * @param limit     frames to send in all, 0 for no limit
     */
    public GeneratorWire(int id, byte[] dstMac, long ratePps, int frameSize, int flows, int pattern, long limit) {
        if (id < 0 || id >= MAX_GENERATORS) {
            throw new IllegalArgumentException("generator id must be 0-" + (MAX_GENERATORS - 1) + ", got " + id);
        }
        if (dstMac == null || dstMac.length != 6) {
            throw new IllegalArgumentException("generator destination MAC must be 6 bytes");
        }
        if (ratePps < 0) {
            throw new IllegalArgumentException("generator rate must be >= 0 pps (0 = unlimited), got " + ratePps);
        }
        if (frameSize < 64 || frameSize > 9018) {
            throw new IllegalArgumentException("generator frame size must be 64-9018 bytes including FCS, got " + frameSize);
        }
        if (flows < 1 || flows > 65536) {
            throw new IllegalArgumentException("generator flows must be 1-65536, got " + flows);
        }
        if (pattern < -1 || pattern > 255) {
            throw new IllegalArgumentException("generator pattern must be a byte 0-255, or -1 for none, got " + pattern);
        }
        if (limit < 0) {
            throw new IllegalArgumentException("generator frame limit must be >= 0, got " + limit);
        }
        this.id = id;
        this.ratePps = ratePps;
        this.frameSize = frameSize;
        this.flows = flows;
        this.pattern = pattern;
        this.limit = limit;
        int len = frameSize - 4;
        this.frame = arena.allocate(len, 64);
        this.nextSeq = new long[flows];
        this.ipChecksum = new short[flows];
        buildTemplate(dstMac, len);
    }

    private void buildTemplate(byte[] dstMac, int len) {
        MemorySegment f = frame;
        MemorySegment.copy(dstMac, 0, f, ValueLayout.JAVA_BYTE, 0, 6);
        byte[] src = {0x02, 0x6a, 0x6e, 0x69, 0x63, (byte) id}; // locally administered
        MemorySegment.copy(src, 0, f, ValueLayout.JAVA_BYTE, 6, 6);
        f.set(BE16, 12, (short) 0x0800);
        int ipLen = len - 14;
        f.set(ValueLayout.JAVA_BYTE, 14, (byte) 0x45);
        f.set(BE16, 16, (short) ipLen);
        f.set(ValueLayout.JAVA_BYTE, 22, (byte) 64); // TTL
        f.set(ValueLayout.JAVA_BYTE, 23, (byte) 17); // UDP
        f.set(BE32, 30, 0x0A010001); // 10.1.0.1
        f.set(BE16, 36, (short) 9); // discard port
        f.set(BE16, 38, (short) (ipLen - 20));
        f.set(BE32, PAYLOAD_OFFSET, MAGIC);
        f.set(BE16, PAYLOAD_OFFSET + 4, (short) id);
        if (pattern >= 0) {
            for (int i = HEADER_BYTES; i < len; i++) {
                f.set(ValueLayout.JAVA_BYTE, i, (byte) pattern);
            }
        }
        for (int flow = 0; flow < flows; flow++) {
            f.set(BE32, 26, sourceAddress(flow));
            f.set(BE16, 24, (short) 0);
            long sum = 0;
            for (int i = 0; i < 20; i += 2) {
                sum += f.get(BE16, 14 + i) & 0xFFFF;
            }
            while ((sum >>> 16) != 0) {
                sum = (sum & 0xFFFF) + (sum >>> 16);
            }
            ipChecksum[flow] = (short) ~sum;
        }
    }

    private static int sourceAddress(int flow) {
        return 0x0A000000 | (flow + 1); // 10.0.x.y
    }

    @Override
    public void attach(FramePort p) {
        this.port = p;
    }

    /** Stops (false) or resumes generating; the sink keeps counting either way. */
    public void setRunning(boolean on) {
        running = on;
    }

    @Override
    public int poll(long nowNanos) {
        if (!running || port == null || (limit != 0 && sent >= limit)) {
            lastNanos = nowNanos;
            return 0;
        }
        int budget = BATCH;
        if (ratePps > 0) {
            if (lastNanos == 0) {
                lastNanos = nowNanos;
            }
            // up to 10 ms of credit: the device thread may sleep between turns when it is idle
            tokens = Math.min(tokens + (nowNanos - lastNanos) * 1e-9 * ratePps, Math.max(BATCH, ratePps / 100.0));
            lastNanos = nowNanos;
            budget = (int) tokens;
            tokens -= budget;
        }
        if (limit != 0) {
            budget = (int) Math.min(budget, limit - sent);
        }
        long s = sent;
        for (int i = 0; i < budget; i++) {
            int flow = (int) (s % flows);
            frame.set(BE32, 26, sourceAddress(flow));
            frame.set(BE16, 24, ipChecksum[flow]);
            frame.set(BE16, 34, (short) (1024 + flow));
            frame.set(BE16, PAYLOAD_OFFSET + 6, (short) flow);
            frame.set(BE64, PAYLOAD_OFFSET + 8, nextSeq[flow]++);
            port.receive(frame, 0, frameSize - 4);
            s++;
        }
        sent = s;
        return budget;
    }

    @Override
    public void transmit(MemorySegment f, long offset, int length) {
        sinkFrames++;
        sinkBytes += length + 4;
        if (length < HEADER_BYTES || f.get(BE32, offset + PAYLOAD_OFFSET) != MAGIC) {
            foreign++;
            return;
        }
        int gen = f.get(BE16, offset + PAYLOAD_OFFSET + 4) & 0xFFFF;
        int flow = f.get(BE16, offset + PAYLOAD_OFFSET + 6) & 0xFFFF;
        long seq = f.get(BE64, offset + PAYLOAD_OFFSET + 8);
        if (gen >= MAX_GENERATORS) {
            foreign++;
            return;
        }
        long[] exp = expected[gen];
        if (exp == null) {
            exp = expected[gen] = new long[65536]; // once per source generator, not per frame
        }
        long e = exp[flow];
        if (seq == e) {
            exp[flow] = seq + 1;
        } else if (seq > e) {
            lost += seq - e;
            exp[flow] = seq + 1;
        } else {
            reordered++;
        }
        if (pattern >= 0) {
            byte p = (byte) pattern;
            for (long i = offset + HEADER_BYTES; i < offset + length; i++) {
                if (f.get(ValueLayout.JAVA_BYTE, i) != p) {
                    patternErrors++;
                    break;
                }
            }
        }
    }

    @Override
    public boolean carrier() {
        return true;
    }

    public long sent() {
        return sent;
    }

    public long sinkFrames() {
        return sinkFrames;
    }

    public long sinkBytes() {
        return sinkBytes;
    }

    /** Frames missing from a flow's sequence (a later one arrived first). */
    public long lost() {
        return lost;
    }

    /** Frames that arrived after a later one of their flow. */
    public long reordered() {
        return reordered;
    }

    public long patternErrors() {
        return patternErrors;
    }

    /** Frames without the generator's header (not from a devsim generator). */
    public long foreign() {
        return foreign;
    }

    @Override
    public String describe() {
        return "gen " + (ratePps == 0 ? "unlimited" : ratePps + " pps") + ", " + frameSize + " B, " + flows
                + " flows" + (pattern >= 0 ? ", pattern 0x" + Integer.toHexString(pattern) : "");
    }

    @Override
    public void close() {
        arena.close();
    }
}
