package io.jnic.driver.virtio;

import io.jnic.driver.virtio.net.BufferOps;
import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;

/**
 * A minimal buffer source for tests of the queues (the real one is the mbuf pool): {@code count} buffers of
 * {@code room} bytes in one memzone, a free stack, a token = offset in the zone + 1. Counts double frees.
 */
public final class TestBuffers implements BufferOps {
    private final Memzone zone;
    private final int room;
    private final long[] stack;
    private final boolean[] free;
    private int top;

    public TestBuffers(Memzone zone, int room) {
        this.zone = zone;
        this.room = room;
        int count = (int) (zone.length() / room);
        this.stack = new long[count];
        this.free = new boolean[count];
        for (int i = count - 1; i >= 0; i--) {
            stack[top++] = (long) i * room + 1;
            free[i] = true;
        }
    }

    @Override
    public long alloc() {
        if (top == 0) {
            return 0;
        }
        long t = stack[--top];
        free[(int) ((t - 1) / room)] = false;
        return t;
    }

    @Override
    public void free(long token) {
        int i = (int) ((token - 1) / room);
        if (free[i]) {
            throw new IllegalStateException("double free of buffer " + i);
        }
        free[i] = true;
        stack[top++] = token;
    }

    public int available() {
        return top;
    }

    public int capacity() {
        return stack.length;
    }

    @Override
    public long iova(long token) {
        return zone.iova(token - 1);
    }

    @Override
    public int room(long token) {
        return room;
    }

    @Override
    public MemorySegment memory() {
        return zone.memory();
    }

    @Override
    public long offset(long token) {
        return token - 1;
    }
}
