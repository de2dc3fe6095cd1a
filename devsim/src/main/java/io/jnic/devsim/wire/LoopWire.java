package io.jnic.devsim.wire;

import java.lang.foreign.MemorySegment;

/** A loopback plug: every frame the port sends comes straight back to it. */
public final class LoopWire implements Wire {
    private FramePort port;

    @Override
    public void attach(FramePort p) {
        this.port = p;
    }

    @Override
    public void transmit(MemorySegment frame, long offset, int length) {
        port.receive(frame, offset, length);
    }

    @Override
    public int poll(long nowNanos) {
        return 0;
    }

    @Override
    public boolean carrier() {
        return port != null;
    }

    @Override
    public String describe() {
        return "loop";
    }
}
