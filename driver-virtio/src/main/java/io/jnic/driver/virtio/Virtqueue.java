package io.jnic.driver.virtio;

import java.lang.foreign.MemorySegment;

/**
 * The driver side of one virtqueue, whatever its ring format: {@link SplitVirtqueue} (virtio 1.x 2.7) or
 * {@link PackedVirtqueue} (2.8). Device drivers (virtio-net's queues) add buffers, publish them, ask whether the
 * device wants a notification, and poll used buffers back; everything the device returns is checked, and a
 * device that breaks the ring's rules makes every later call throw {@link VirtioException}.
 *
 * <p>Single-threaded, no allocation.
 */
public interface Virtqueue {
    int index();

    int size();

    /** Device address of the ring's first byte (the descriptor table / ring). */
    long descIova();

    /** The ring's memory as this process sees it. */
    MemorySegment memory();

    int freeCount();

    int inFlightCount();

    boolean eventIdx();

    /** Why the queue is unusable, or null. */
    String brokenReason();

    /**
     * Where the driver adds next: the 16-bit avail index for split rings, the next descriptor position with the
     * avail wrap counter in bit 15 for packed rings.
     */
    int availIndex();

    /**
     * The used position consumed up to, in the same encoding as {@link #availIndex()}: where a device (re)starting
     * on this ring begins (what a vhost backend's SET_VRING_BASE takes).
     */
    int lastUsedIndex();

    /** Adds a one-descriptor buffer (visible to the device after {@link #publish()} at the latest); false when full. */
    boolean add(long iova, int length, boolean deviceWritable, long token);

    /**
     * Adds up to {@code n} one-descriptor buffers ({@code iovas[off..]}, {@code lengths[off..]},
     * {@code tokens[off..]}), all device-writable or all device-readable, as many as fit; returns how many. Rings
     * override it to do per burst what {@link #add} does per buffer.
     */
    default int addBurst(long[] iovas, int[] lengths, long[] tokens, int off, int n, boolean deviceWritable) {
        int k = 0;
        while (k < n && add(iovas[off + k], lengths[off + k], deviceWritable, tokens[off + k])) {
            k++;
        }
        return k;
    }

    /** Whether buffers come back in the order they were added (VIRTIO_F_IN_ORDER negotiated and used). */
    default boolean inOrder() {
        return false;
    }

    /**
     * Gives this queue the memory for indirect descriptor tables (VIRTIO_F_INDIRECT_DESC negotiated): {@code size()}
     * tables of {@code perBuffer} descriptors, table {@code i} at {@code tables + i * perBuffer * 16}, whose device
     * address is {@code tablesIova} onwards. Without it {@link #addIndirect} throws.
     */
    default void useIndirectTables(MemorySegment tables, long tablesIova, int perBuffer) {
        throw new UnsupportedOperationException("virtqueue " + index() + " cannot use indirect descriptors");
    }

    /**
     * Adds one device-readable buffer made of {@code n} pieces ({@code iovas[0..n)}, {@code lengths[0..n)}) through
     * an indirect descriptor table (2.7.5.3, 2.8.19): it takes one ring slot whatever {@code n}. False when the ring
     * is full.
     *
     * @throws IllegalArgumentException when {@code n} exceeds the tables' size
     */
    default boolean addIndirect(long[] iovas, int[] lengths, int n, long token) {
        throw new UnsupportedOperationException("virtqueue " + index() + " cannot use indirect descriptors");
    }

    /** Adds a chain of {@code n} descriptors, device-readable first; false when fewer than {@code n} are free. */
    boolean addChain(long[] iovas, int[] lengths, boolean[] deviceWritable, int n, long token);

    /** Makes every added buffer visible to the device. */
    void publish();

    /** Whether the device wants a notification for what was published since the last call. */
    boolean kickNeeded();

    /** Used buffers ready to be polled. */
    int usedCount();

    /**
     * Takes up to {@code max} used buffers: tokens to {@code tokensOut[off..]}, written bytes to {@code lengthsOut[off..]}.
     * A length the device reports beyond what the buffer offered comes back as -1 (the buffer is the caller's again,
     * its contents untrusted: drop it) and is counted in {@link #badLengths}; an id that names no outstanding buffer
     * breaks the queue (the device must be reset).
     */
    int poll(long[] tokensOut, int[] lengthsOut, int off, int max);

    /** Used buffers whose reported length exceeded what they offered, so far. */
    long badLengths();

    /** Asks the device not to interrupt (poll mode). */
    void disableInterrupts();

    /** Asks for an interrupt when the next buffer is used. */
    void enableInterrupts();

    /** Tokens of every outstanding buffer, which are released (after a device reset); returns how many. */
    int drainOutstanding(long[] tokensOut);

    /**
     * The record in shared memory through which another process can carry on with this queue (split rings of a
     * port whose pairs secondaries drive), or null: the queue lives in this process only.
     */
    default VirtqueueState state() {
        return null;
    }
}
