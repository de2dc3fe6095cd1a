package io.jnic.driver.virtio.net;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.VirtioTransport;

/**
 * One receiveq (5.1.6.3): keeps the ring full of device-writable buffers, hands back received frames as
 * (token, length) with the 12-byte header stripped. With MRG_RXBUF a frame may span buffers (num_buffers in the
 * first one's header): with {@code scatter} the buffers are linked behind the first ({@link BufferOps#appendSegment})
 * and the frame comes back as one token with the whole length; without it such frames are dropped and counted, all
 * their buffers freed. Polling only; one thread. No allocation.
 */
public final class VirtioNetRxQueue {
    private final Virtqueue vq;
    private final VirtioTransport.Notifier notifier;
    private final BufferOps ops;
    private final boolean mergeable;
    private final boolean scatter;
    private final long[] tokens;
    private final int[] lengths;
    private final long[] fresh;
    private final long[] freshIovas;
    private final int[] freshRooms;
    /** Buffers still to come of the frame being received (MRG_RXBUF), and its first and last so far (0: dropping). */
    private int chainLeft;
    private long chainHead;
    private long chainLast;
    private int chainBytes;
    private long packets;
    private long bytes;
    private long errors;
    private long noBuffers;

    VirtioNetRxQueue(Virtqueue vq, VirtioTransport.Notifier notifier, BufferOps ops, boolean mergeable,
            boolean scatter) {
        this.vq = vq;
        this.notifier = notifier;
        this.ops = ops;
        this.mergeable = mergeable;
        this.scatter = scatter && mergeable;
        this.tokens = new long[vq.size()];
        this.lengths = new int[vq.size()];
        this.fresh = new long[vq.size()];
        this.freshIovas = new long[vq.size()];
        this.freshRooms = new int[vq.size()];
    }

    public Virtqueue virtqueue() {
        return vq;
    }

    /** Gives the device every free slot's worth of buffers; returns how many were added. */
    public int refill() {
        int want = vq.freeCount();
        if (want == 0) {
            return 0;
        }
        // in bulk (as DPDK refills), halving the ask when the pool runs short
        int n = 0;
        while (want > 0) {
            if (!ops.allocBulk(fresh, 0, want)) {
                want >>= 1;
                if (want == 0) {
                    noBuffers++;
                }
                continue;
            }
            ops.prepareReceive(fresh, 0, want, freshIovas, freshRooms);
            int added = vq.addBurst(freshIovas, freshRooms, fresh, 0, want, true);
            if (added != want) { // cannot happen (want <= free): the ring would keep buffers it does not hold
                ops.freeBulk(fresh, added, want - added);
                throw new IllegalStateException("virtqueue " + vq.index() + " took " + added + " of " + want
                        + " buffers with " + want + " descriptors free");
            }
            n += want;
            want = vq.freeCount();
        }
        if (n > 0) {
            vq.publish();
            if (vq.kickNeeded()) {
                notifier.notifyDevice();
            }
        }
        return n;
    }

    /**
     * Takes up to {@code max} received frames: tokens to {@code out[0..]}, frame lengths (without the header) to
     * {@code frameLengths[0..]}; the frame starts {@link VirtioNetSpec#HDR_SIZE} bytes into the buffer. Refills.
     */
    public int receive(long[] out, int[] frameLengths, int max) {
        return receive(out, 0, frameLengths, max);
    }

    /** As {@link #receive(long[], int[], int)}, storing from {@code out[off]} and {@code frameLengths[off]}. */
    public int receive(long[] out, int off, int[] frameLengths, int max) {
        int n = vq.poll(tokens, lengths, 0, Math.min(max, tokens.length));
        int got = 0;
        for (int i = 0; i < n; i++) {
            long t = tokens[i];
            int len = lengths[i];
            if (chainLeft > 0) { // a continuation buffer: no header, the frame goes on from its first byte
                chainLeft--;
                if (chainHead == 0) {
                    ops.free(t); // of a frame being dropped
                    continue;
                }
                if (len < 0) { // the device claimed more than the buffer holds: the whole frame goes
                    errors++;
                    ops.free(t);
                    ops.free(chainHead);
                    chainHead = 0;
                    continue;
                }
                ops.appendSegment(chainHead, chainLast, t, len);
                chainLast = t;
                chainBytes += len;
                if (chainLeft == 0) {
                    out[off + got] = chainHead;
                    frameLengths[off + got++] = chainBytes;
                    bytes += chainBytes;
                    chainHead = 0;
                }
                continue;
            }
            if (len < VirtioNetSpec.HDR_SIZE) { // also -1: the device claimed more than the buffer holds
                errors++;
                ops.free(t);
                continue;
            }
            int nb = ops.received(t, len - VirtioNetSpec.HDR_SIZE, mergeable); // one lookup: header read, lengths set
            if (nb == 1) {
                out[off + got] = t;
                frameLengths[off + got] = len - VirtioNetSpec.HDR_SIZE;
                bytes += len - VirtioNetSpec.HDR_SIZE;
                got++;
                continue;
            }
            errors += scatter && nb > 1 && nb <= vq.size() ? 0 : 1;
            chainLeft = nb > 1 && nb <= vq.size() ? nb - 1 : 0; // a count beyond the ring is a lie: skip nothing
            if (chainLeft > 0 && scatter) {
                chainHead = t;
                chainLast = t;
                chainBytes = len - VirtioNetSpec.HDR_SIZE;
            } else {
                ops.free(t);
            }
        }
        packets += got;
        if (n > 0) {
            refill();
        } else if (vq.freeCount() == vq.size()) {
            refill(); // the pool ran dry earlier
        }
        return got;
    }

    public long packets() {
        return packets;
    }

    public long bytes() {
        return bytes;
    }

    /** Frames dropped: shorter than a header, spanning several buffers without scatter, or broken by the device. */
    public long errors() {
        return errors;
    }

    /** Times the pool had no buffer for a free slot. */
    public long noBuffers() {
        return noBuffers;
    }

    /**
     * Returns every posted buffer to the pool (after the device was reset). A queue whose state is shared gives back
     * what the shared record holds: another process may have driven it since this object last did.
     */
    void drain() {
        if (chainHead != 0) { // a frame half received: its buffers left the ring already
            ops.free(chainHead);
            chainHead = 0;
            chainLeft = 0;
        }
        if (vq.state() != null) {
            long[] t = vq.state().clear();
            ops.freeBulk(t, 0, t.length);
            return;
        }
        int n = vq.drainOutstanding(tokens);
        for (int i = 0; i < n; i++) {
            ops.free(tokens[i]);
        }
    }

    /**
     * The queue as another process left it (its shared state consistent): this process drives it from now on.
     * Notifies the device once (the previous driver may have published buffers without it) and refills.
     */
    public static VirtioNetRxQueue resume(SplitVirtqueue vq, VirtioTransport.Notifier notifier, BufferOps ops,
            boolean mergeable, boolean scatter) {
        VirtioNetRxQueue q = new VirtioNetRxQueue(vq, notifier, ops, mergeable, scatter);
        q.notifier.notifyDevice();
        q.refill();
        return q;
    }

    VirtioTransport.Notifier notifier() {
        return notifier;
    }

    BufferOps ops() {
        return ops;
    }

    boolean mergeable() {
        return mergeable;
    }

    boolean scatter() {
        return scatter;
    }
}
