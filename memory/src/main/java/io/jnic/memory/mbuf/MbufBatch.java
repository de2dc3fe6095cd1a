package io.jnic.memory.mbuf;

import io.jnic.memory.ring.Ring;

import java.util.Objects;

/**
 * A reusable batch of mbuf handles: a {@code long[]} and a count. rx bursts fill it, tx bursts drain it,
 * rings move it between threads and processes; nothing is allocated per packet.
 */
public final class MbufBatch {

    private final long[] handles;
    private int count;

    public MbufBatch(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("batch capacity " + capacity + " must be at least 1");
        }
        this.handles = new long[capacity];
    }

    /** The backing array; valid handles are at [0, count). */
    public long[] handles() {
        return handles;
    }

    public int count() {
        return count;
    }

    /** Sets the count after code wrote handles into {@link #handles()} directly (e.g. an rx burst). */
    public void count(int n) {
        Objects.checkIndex(n, handles.length + 1);
        this.count = n;
    }

    public int capacity() {
        return handles.length;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    public long get(int i) {
        Objects.checkIndex(i, count);
        return handles[i];
    }

    /** Appends a handle; false when the batch is full. */
    public boolean add(long handle) {
        if (count == handles.length) {
            return false;
        }
        handles[count++] = handle;
        return true;
    }

    public void clear() {
        count = 0;
    }

    /** Allocates {@code n} mbufs into an empty batch, all or none (rte_pktmbuf_alloc_bulk). */
    public boolean alloc(Mempool pool, int n, int lcore) {
        if (n > handles.length) {
            throw new IllegalArgumentException("cannot allocate " + n + " mbufs into a batch of " + handles.length);
        }
        if (pool.allocBulk(handles, 0, n, lcore)) {
            count = n;
            return true;
        }
        count = 0;
        return false;
    }

    /** Frees every packet in the batch and empties it (rte_pktmbuf_free_bulk). */
    public void free(int lcore) {
        Mempool.freeBulk(handles, 0, count, lcore);
        count = 0;
    }

    /**
     * Enqueues as many packets as fit into {@code ring} (burst) and keeps the rest, moved to the front, in
     * the batch; returns how many were enqueued.
     */
    public int enqueue(Ring ring) {
        int k = ring.enqueueBurst(handles, 0, count);
        if (k > 0 && k < count) {
            System.arraycopy(handles, k, handles, 0, count - k);
        }
        count -= k;
        return k;
    }

    /** Replaces the batch's contents with up to {@code max} handles dequeued from {@code ring}; returns how many. */
    public int dequeue(Ring ring, int max) {
        count = ring.dequeueBurst(handles, 0, Math.min(max, handles.length));
        return count;
    }
}
