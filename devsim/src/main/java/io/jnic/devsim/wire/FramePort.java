package io.jnic.devsim.wire;

import java.lang.foreign.MemorySegment;

/** The receive side of a simulated port: what a wire hands arriving frames to. */
public interface FramePort {
    /**
     * A frame (Ethernet header to payload, without FCS) arrives from the wire. The port copies what it keeps
     * before returning; the caller may reuse {@code frame} at once.
     */
    void receive(MemorySegment frame, long offset, int length);

    /** As {@link #receive(MemorySegment, long, int)}, for a frame whose first bit arrived at {@code arrivalNanos}. */
    default void receive(MemorySegment frame, long offset, int length, long arrivalNanos) {
        receive(frame, offset, length);
    }

    /** A name for messages, such as "port 0". */
    String portName();
}
