package io.jnic.bench.ethdev;

import io.jnic.memory.MemoryGroup;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plays the 82599 for queue 0 of a register-file port ({@code RegisterFileDevice}), whose registers move nothing:
 * it writes a 60-byte frame's write-back (DD | EOP, length) into every RX descriptor at the start and into each
 * one the driver consumed, and marks every 32nd TX descriptor done (the driver sets RS there). That work, two
 * stores per RX descriptor and one per 32 TX descriptors, is part of the benchmarks' figures.
 */
final class DevicePlay {
    static final int RING = 512;
    private static final long STATE = 128; // QueueMemory's state block before the descriptors

    private final MemorySegment rxDesc;
    private final MemorySegment txDesc;
    /** The status word written back: DD | EOP, and whatever else the benchmark wants the driver to decode. */
    private final int status;
    private int rxNext;

    DevicePlay(MemoryGroup group, int port) {
        this(group, port, 0x3);
    }

    DevicePlay(MemoryGroup group, int port, int status) {
        this.status = status;
        rxDesc = group.lookup("jnic.p" + port + ".rxq0").memory().asSlice(STATE, RING * 16L);
        txDesc = group.lookup("jnic.p" + port + ".txq0").memory().asSlice(STATE, RING * 16L);
        for (int i = 0; i < RING; i++) {
            writeBack(i); // the device received a frame into every descriptor
        }
    }

    private void writeBack(int i) {
        long d = i * 16L;
        rxDesc.set(ValueLayout.JAVA_INT, d + 12, 60); // length
        rxDesc.set(ValueLayout.JAVA_INT, d + 8, status); // DD | EOP (| checksum verdicts)
    }

    /** The driver took {@code n} frames and re-armed their descriptors: the device fills them again. */
    void received(int n) {
        int f = rxNext;
        for (int k = 0; k < n; k++) {
            writeBack(f);
            f = f + 1 == RING ? 0 : f + 1;
        }
        rxNext = f;
    }

    /** The device is done with every TX descriptor at once: DD in each RS descriptor's write-back word. */
    void transmitted() {
        for (int i = 0; i < RING; i += 32) {
            txDesc.set(ValueLayout.JAVA_INT, (i + 31) * 16L + 12, 1);
        }
    }
}
