package io.jnic.devsim.wire;

import java.lang.foreign.MemorySegment;

/**
 * A cable between two ports: {@link #a()} and {@link #b()} are its ends. A frame sent on one end arrives on
 * the other during the sender's turn (both ports run on one device thread, so nothing is queued here).
 */
public final class PairWire {
    private final End a = new End("pair");
    private final End b = new End("pair");

    public PairWire() {
        a.peer = b;
        b.peer = a;
    }

    public Wire a() {
        return a;
    }

    public Wire b() {
        return b;
    }

    private static final class End implements Wire {
        private final String name;
        private End peer;
        private FramePort port;

        End(String name) {
            this.name = name;
        }

        @Override
        public void attach(FramePort p) {
            this.port = p;
        }

        @Override
        public void transmit(MemorySegment frame, long offset, int length) {
            transmit(frame, offset, length, System.nanoTime());
        }

        @Override
        public void transmit(MemorySegment frame, long offset, int length, long departNanos) {
            FramePort far = peer.port;
            if (far != null) {
                far.receive(frame, offset, length, departNanos); // a pair has no length: it arrives as it leaves
            }
        }

        @Override
        public int poll(long nowNanos) {
            return 0;
        }

        @Override
        public boolean carrier() {
            return peer.port != null;
        }

        @Override
        public String describe() {
            FramePort far = peer.port;
            return name + " with " + (far == null ? "nothing" : far.portName());
        }
    }
}
