package io.jnic.mp.ethdev;

import io.jnic.pci.MappedBar;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A secondary's view of a device BAR: only the areas the transport lets any process map (the queue register
 * pages of a vfio-user device's sparse mmap), mapped from the descriptor the primary handed over. Every other
 * register belongs to the primary: touching one is an error that says so.
 */
final class DoorbellBar extends MappedBar implements AutoCloseable {
    private final Arena arena;
    private final String device;

    private DoorbellBar(String device, int index, long size, List<Window> windows, Arena arena) {
        super(device + " (secondary)", index, size, windows);
        this.device = device;
        this.arena = arena;
    }

    /** Maps each {@code areas[i] = {offset, size}} of the region at {@code regionOffset} in {@code fd}. */
    @SuppressWarnings("restricted") // binds mappings we made to our arena, each with its exact size
    static DoorbellBar map(String device, int index, long barSize, int fd, long regionOffset, long[][] areas) {
        Arena arena = Arena.ofShared();
        List<Window> windows = new ArrayList<>();
        try {
            for (long[] a : areas) {
                if (a[0] < 0 || a[1] <= 0 || a[0] + a[1] > barSize || (a[0] & 4095) != 0) {
                    throw new IllegalArgumentException(device + ": doorbell area [" + a[0] + ", +" + a[1] + ") is not a "
                            + "page-aligned part of the " + barSize + "-byte BAR " + index);
                }
                MemorySegment m = Mman.mmap(a[1], Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, regionOffset + a[0]);
                windows.add(new Window(a[0], m.reinterpret(a[1], arena, Mman::munmap)));
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        return new DoorbellBar(device, index, barSize, windows, arena);
    }

    @Override
    protected int trappedRead32(long offset) {
        throw notMine(offset);
    }

    @Override
    protected void trappedWrite32(long offset, int value) {
        throw notMine(offset);
    }

    private IllegalStateException notMine(long offset) {
        return new IllegalStateException(device + " BAR" + index() + " register 0x" + Long.toHexString(offset)
                + " is the primary's: a secondary reaches only the queue doorbell pages (" + this + ")");
    }

    @Override
    public void close() {
        arena.close();
    }
}
