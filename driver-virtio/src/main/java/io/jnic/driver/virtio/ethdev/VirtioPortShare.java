package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.VirtioException;
import io.jnic.ethdev.PortContext;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * What a process attaching a queue pair of a started virtio port needs to know beyond the rings (multi-process):
 * the negotiated features that change the data path, the mempool of each RX queue, and over PCI where each data
 * queue's notification address lies in the notify BAR. Written by the process that starts the port (before it
 * publishes the port), read by secondaries; memzone {@code jnic.p<port>.virtio_mp}.
 *
 * <pre>
 *   0 magic u64 "VVIRTMP1" (release store, written last)   8 version u32   12 queue pairs u32
 *  16 negotiated features u64                              24 notify BAR i32 (-1: vhost-user, kicks are eventfds)
 *  28 driver offloads u32 (VirtioOffloads bits: header parsing, scatter, VLAN strip/insert; version 2)
 *  32 RX mempool id u32[MAX_PAIRS]
 *  32 + 4 MAX_PAIRS: notify offset u64[2 MAX_PAIRS]: BAR offset of data queue i's notification address (PCI)
 * </pre>
 */
final class VirtioPortShare {
    static final long MAGIC = 0x31504d5452495656L; // "VVIRTMP1" little-endian, a layout of this build
    static final int VERSION = 2;
    /** Queue pairs another process can take over (as many as the queue owner table has). */
    static final int MAX_PAIRS = 16;
    private static final long OFF_MAGIC = 0;
    private static final long OFF_VERSION = 8;
    private static final long OFF_PAIRS = 12;
    private static final long OFF_FEATURES = 16;
    private static final long OFF_NOTIFY_BAR = 24;
    private static final long OFF_OFFLOADS = 28;
    private static final long OFF_POOLS = 32;
    private static final long OFF_NOTIFY = OFF_POOLS + 4L * MAX_PAIRS;
    static final long BYTES = OFF_NOTIFY + 8L * 2 * MAX_PAIRS;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment seg;
    private final String zone;

    private VirtioPortShare(MemorySegment seg, String zone) {
        this.seg = seg;
        this.zone = zone;
    }

    static String zone(PortContext ctx) {
        return ctx.memzoneName("virtio_mp");
    }

    /** The port's block, created or found, and marked unpublished until {@link #publish}. */
    static VirtioPortShare create(PortContext ctx) {
        MemoryGroup g = ctx.memory();
        Memzone z = g.find(zone(ctx)).orElseGet(() -> g.reserve(zone(ctx), BYTES, 64));
        if (z.length() < BYTES) {
            throw new VirtioException("memzone " + zone(ctx) + " has " + z.length() + " bytes, " + BYTES + " needed");
        }
        MemorySegment m = z.memory().asSlice(0, BYTES);
        LONG.setRelease(m, OFF_MAGIC, 0L);
        m.asSlice(8).fill((byte) 0);
        m.set(ValueLayout.JAVA_INT, OFF_VERSION, VERSION);
        m.set(ValueLayout.JAVA_INT, OFF_NOTIFY_BAR, -1);
        return new VirtioPortShare(m, zone(ctx));
    }

    /** The block the starting process published; a clear error when there is none or it is another build's. */
    static VirtioPortShare attach(PortContext ctx) {
        Memzone z = ctx.memory().find(zone(ctx)).orElseThrow(() -> new IllegalStateException("port " + ctx.portId()
                + " has no memzone " + zone(ctx) + ": it was not started by a jnic virtio driver that shares queues"));
        if (z.length() < BYTES) {
            throw new IllegalStateException("memzone " + zone(ctx) + " has " + z.length() + " bytes, " + BYTES + " expected");
        }
        MemorySegment m = z.memory().asSlice(0, BYTES);
        long magic = (long) LONG.getAcquire(m, OFF_MAGIC);
        if (magic != MAGIC || m.get(ValueLayout.JAVA_INT, OFF_VERSION) != VERSION) {
            throw new IllegalStateException("port " + ctx.portId() + " is not started (or by another jnic build): memzone "
                    + zone(ctx) + " holds magic 0x" + Long.toHexString(magic));
        }
        return new VirtioPortShare(m, zone(ctx));
    }

    void publish() {
        LONG.setRelease(seg, OFF_MAGIC, MAGIC);
    }

    void unpublish() {
        LONG.setRelease(seg, OFF_MAGIC, 0L);
    }

    void pairs(int n) {
        seg.set(ValueLayout.JAVA_INT, OFF_PAIRS, n);
    }

    int pairs() {
        int n = seg.get(ValueLayout.JAVA_INT, OFF_PAIRS);
        if (n < 0 || n > MAX_PAIRS) {
            throw new IllegalStateException("memzone virtio_mp records " + n + " queue pairs, outside 0.." + MAX_PAIRS);
        }
        return n;
    }

    void features(long f) {
        seg.set(ValueLayout.JAVA_LONG, OFF_FEATURES, f);
    }

    long features() {
        return seg.get(ValueLayout.JAVA_LONG, OFF_FEATURES);
    }

    void notifyBar(int bar) {
        seg.set(ValueLayout.JAVA_INT, OFF_NOTIFY_BAR, bar);
    }

    int notifyBar() {
        return seg.get(ValueLayout.JAVA_INT, OFF_NOTIFY_BAR);
    }

    void pool(int pair, int poolId) {
        seg.set(ValueLayout.JAVA_INT, OFF_POOLS + 4L * pair, poolId);
    }

    int pool(int pair) {
        return seg.get(ValueLayout.JAVA_INT, OFF_POOLS + 4L * checkPair(pair));
    }

    void notifyOffset(int queue, long offset) {
        seg.set(ValueLayout.JAVA_LONG, OFF_NOTIFY + 8L * queue, offset);
    }

    long notifyOffset(int queue) {
        if (queue < 0 || queue >= 2 * MAX_PAIRS) {
            throw new IllegalArgumentException("no data queue " + queue);
        }
        return seg.get(ValueLayout.JAVA_LONG, OFF_NOTIFY + 8L * queue);
    }

    private int checkPair(int pair) {
        if (pair < 0 || pair >= MAX_PAIRS) {
            throw new IllegalArgumentException("queue pair " + pair + " outside 0.." + (MAX_PAIRS - 1));
        }
        return pair;
    }

    void offloads(int bits) {
        seg.set(ValueLayout.JAVA_INT, OFF_OFFLOADS, bits);
    }

    /** The driver offloads the port runs with; bits this build does not know are refused. */
    int offloads() {
        int b = seg.get(ValueLayout.JAVA_INT, OFF_OFFLOADS);
        if ((b & ~VirtioOffloads.ALL) != 0) {
            throw new IllegalStateException("memzone " + zone + " records offload bits 0x" + Integer.toHexString(b)
                    + " this build does not know: the port was started by another jnic build; attach with the same build "
                    + "as the primary's");
        }
        return b;
    }
}
