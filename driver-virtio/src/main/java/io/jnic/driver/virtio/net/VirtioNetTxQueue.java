package io.jnic.driver.virtio.net;

import io.jnic.driver.virtio.SplitVirtqueue;
import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.VirtioTransport;

/**
 * One transmitq (5.1.6.2): each frame goes out as one device-readable descriptor holding the zeroed 12-byte
 * header and the frame behind it (VERSION_1 implies ANY_LAYOUT, so header and data may share a descriptor).
 * Buffers the device has used come back to the pool in bulk when free descriptors run low ({@link #FREE_THRESHOLD}).
 * Polling only; one thread. No allocation.
 */
public final class VirtioNetTxQueue {
    /**
     * Sent buffers are reclaimed when fewer descriptors than this (or than the burst needs) are free, as DPDK's
     * tx_free_thresh: the used ring, which the device writes, is read once per many bursts, and the buffers go back
     * to the pool in large bulks.
     */
    public static final int FREE_THRESHOLD = 32;
    private final Virtqueue vq;
    private final VirtioTransport.Notifier notifier;
    private final BufferOps ops;
    private final long[] done;
    private final int[] doneLengths;
    private long packets;
    private long bytes;
    /** Frames added by {@link #queueChain} since the last publication. */
    private int chained;

    VirtioNetTxQueue(Virtqueue vq, VirtioTransport.Notifier notifier, BufferOps ops) {
        this.vq = vq;
        this.notifier = notifier;
        this.ops = ops;
        this.done = new long[vq.size()];
        this.doneLengths = new int[vq.size()];
    }

    public Virtqueue virtqueue() {
        return vq;
    }

    /** Frees the buffers the device has sent; returns how many (transmit does it when descriptors run low). */
    public int reclaim() {
        int n = vq.poll(done, doneLengths, 0, done.length);
        if (n > 0) {
            ops.freeBulk(done, 0, n);
        }
        return n;
    }

    private void reclaimIfLow(int n) {
        int free = vq.freeCount();
        if (free < n || free < FREE_THRESHOLD) {
            reclaim();
        }
    }

    /**
     * Queues {@code tokens[0..n)} whose frames ({@code frameLengths} bytes each) start {@link VirtioNetSpec#HDR_SIZE}
     * bytes into their buffers. Returns how many were taken; the caller still owns the rest.
     *
     * @throws IllegalArgumentException when a frame does not fit its buffer
     */
    public int transmit(long[] tokens, int[] frameLengths, int n) {
        reclaimIfLow(n);
        int sent = 0;
        while (sent < n && vq.freeCount() > 0) {
            long t = tokens[sent];
            int len = frameLengths[sent];
            long iova = ops.prepareTransmit(t, len);
            if (iova < 0) {
                throw new IllegalArgumentException("frame of " + len + " bytes does not fit its buffer of "
                        + (ops.room(t) - VirtioNetSpec.HDR_SIZE) + " bytes");
            }
            vq.add(iova, VirtioNetSpec.HDR_SIZE + len, false, t);
            bytes += len;
            sent++;
        }
        if (sent > 0) {
            vq.publish();
            if (vq.kickNeeded()) {
                notifier.notifyDevice();
            }
            packets += sent;
        }
        return sent;
    }

    /**
     * Queues buffers the caller has already readied (zeroed header in front of the frame): {@code iovas[i]} is the
     * header's device address, {@code descLengths[i]} the header's and the frame's bytes together
     * ({@link VirtioNetSpec#HDR_SIZE} + frame). For drivers that look each buffer up once anyway (the ethdev
     * driver). One ring operation for the burst; returns how many were taken.
     */
    public int transmitPrepared(long[] tokens, long[] iovas, int[] descLengths, int n) {
        reclaimIfLow(n);
        int sent = vq.addBurst(iovas, descLengths, tokens, 0, n, false);
        if (sent > 0) {
            bytes += (long) frameBytes(descLengths, sent);
            packets += sent;
        }
        if (sent > 0 || chained > 0) {
            chained = 0;
            vq.publish();
            if (vq.kickNeeded()) {
                notifier.notifyDevice();
            }
        }
        return sent;
    }

    /**
     * Reclaims sent buffers when descriptors run low and returns how many buffers the ring takes now: a caller that
     * readies no more than that (changing buffers as it goes) knows each will be taken.
     */
    public int reserve(int n) {
        reclaimIfLow(n);
        return vq.freeCount();
    }

    /**
     * Adds a frame made of {@code n} pieces (the first starts with the header) as one buffer through an indirect
     * table (VIRTIO_F_INDIRECT_DESC); published with the next {@link #transmitPrepared}. The caller
     * {@link #reserve reserved} a slot for it.
     */
    public void queueChain(long token, long[] iovas, int[] lengths, int n) {
        if (!vq.addIndirect(iovas, lengths, n, token)) {
            throw new IllegalStateException("virtqueue " + vq.index() + " is full: reserve a slot first");
        }
        long b = -VirtioNetSpec.HDR_SIZE;
        for (int i = 0; i < n; i++) {
            b += lengths[i];
        }
        bytes += b;
        packets++;
        chained++;
    }

    private static long frameBytes(int[] descLengths, int n) {
        long b = 0;
        for (int i = 0; i < n; i++) {
            b += descLengths[i];
        }
        return b - (long) VirtioNetSpec.HDR_SIZE * n;
    }

    public long packets() {
        return packets;
    }

    public long bytes() {
        return bytes;
    }

    /**
     * Returns every queued buffer to the pool (after the device was reset); from the shared record when the queue's
     * state is shared (another process may have driven it since).
     */
    void drain() {
        if (vq.state() != null) {
            long[] t = vq.state().clear();
            ops.freeBulk(t, 0, t.length);
            return;
        }
        int n = vq.drainOutstanding(done);
        for (int i = 0; i < n; i++) {
            ops.free(done[i]);
        }
    }

    /** The queue as another process left it (its shared state consistent); notifies the device once. */
    public static VirtioNetTxQueue resume(SplitVirtqueue vq, VirtioTransport.Notifier notifier, BufferOps ops) {
        VirtioNetTxQueue q = new VirtioNetTxQueue(vq, notifier, ops);
        q.notifier.notifyDevice();
        return q;
    }

    VirtioTransport.Notifier notifier() {
        return notifier;
    }

    BufferOps ops() {
        return ops;
    }
}
