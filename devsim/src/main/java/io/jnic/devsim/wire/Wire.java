package io.jnic.devsim.wire;

import java.lang.foreign.MemorySegment;

/**
 * What is plugged into a simulated port: the other end of a cable (another port), a loopback plug, a traffic
 * generator and sink, or a TAP interface. A port calls {@link #transmit} for every frame it sends and
 * {@link #poll} on each turn of its device loop, so that traffic the wire originates can arrive.
 */
public interface Wire extends AutoCloseable {
    /** Binds the wire end to the port it is plugged into; called once, before any traffic. */
    void attach(FramePort port);

    /** A frame (without FCS) leaves the port. The wire must copy what it keeps before returning. */
    void transmit(MemorySegment frame, long offset, int length);

    /**
     * As {@link #transmit(MemorySegment, long, int)}, for a frame that left at {@code departNanos} (System.nanoTime):
     * a wire that carries time (a cable's delay) takes it from there, so that a port's IEEE 1588 time stamps of
     * departure and arrival differ by exactly the wire's delay.
     */
    default void transmit(MemorySegment frame, long offset, int length, long departNanos) {
        transmit(frame, offset, length);
    }

    /** Lets inbound traffic arrive (generator, TAP); returns the number of frames delivered. */
    int poll(long nowNanos);

    /** True while the far end has signal (a cable in, a TAP that exists). */
    boolean carrier();

    /** A one-line description for status output. */
    String describe();

    @Override
    default void close() {
    }
}
