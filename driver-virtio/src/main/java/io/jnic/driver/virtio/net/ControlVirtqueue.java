package io.jnic.driver.virtio.net;

import io.jnic.driver.virtio.Virtqueue;
import io.jnic.driver.virtio.VirtioException;
import io.jnic.driver.virtio.VirtioTransport;
import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The control virtqueue of a device that has one (5.1.6.5): each command is a chain {class, command} +
 * data (device-readable) + ack byte (device-writable), sent and waited for synchronously (control path only).
 */
final class ControlVirtqueue implements NetControl {
    static final int DATA_MAX = 4096;
    private static final long HDR = 0;
    private static final long DATA = 64;
    private static final long ACK = DATA + DATA_MAX;
    static final long BYTES = ACK + 64;
    private static final long TIMEOUT_NANOS = 2_000_000_000L;

    private final String name;
    private final Virtqueue vq;
    private final VirtioTransport.Notifier notifier;
    private final Memzone buffer;
    private final MemorySegment mem;
    private final long[] iovas = new long[3];
    private final int[] lengths = new int[3];
    private final boolean[] writable = {false, false, true};
    private final long[] token = new long[1];
    private final int[] len = new int[1];

    ControlVirtqueue(String name, Virtqueue vq, VirtioTransport.Notifier notifier, Memzone buffer) {
        this.name = name;
        this.vq = vq;
        this.notifier = notifier;
        this.buffer = buffer;
        this.mem = buffer.memory();
    }

    @Override
    public synchronized int command(int cls, int cmd, byte[] data, int length) {
        if (length < 0 || length > DATA_MAX) {
            throw new IllegalArgumentException("control command data of " + length + " bytes exceeds " + DATA_MAX);
        }
        mem.set(ValueLayout.JAVA_BYTE, HDR, (byte) cls);
        mem.set(ValueLayout.JAVA_BYTE, HDR + 1, (byte) cmd);
        MemorySegment.copy(data, 0, mem, ValueLayout.JAVA_BYTE, DATA, length);
        mem.set(ValueLayout.JAVA_BYTE, ACK, (byte) 0xFF);
        int n = 0;
        iovas[n] = buffer.iova(HDR);
        lengths[n++] = 2;
        if (length > 0) {
            iovas[n] = buffer.iova(DATA);
            lengths[n++] = length;
        }
        iovas[n] = buffer.iova(ACK);
        lengths[n++] = 1;
        writable[0] = false;
        writable[1] = n == 2;
        writable[2] = true;
        if (!vq.addChain(iovas, lengths, writable, n, 1)) {
            throw new VirtioException(name + ": control queue full (a previous command never completed)");
        }
        vq.publish();
        if (vq.kickNeeded()) {
            notifier.notifyDevice();
        }
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (vq.poll(token, len, 0, 1) == 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new VirtioException(name + ": the device did not answer control command " + cls + "/" + cmd
                        + " within 2 s");
            }
            Thread.onSpinWait();
        }
        return mem.get(ValueLayout.JAVA_BYTE, ACK) & 0xFF;
    }
}
