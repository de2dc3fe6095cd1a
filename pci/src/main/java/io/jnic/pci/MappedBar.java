package io.jnic.pci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * A {@link PciBar} made of mmap'ed windows (all of the BAR, or the sparse parts a transport allows) with a
 * fallback for the rest (pread/pwrite on the device fd, or an error). Mapped accesses are volatile, as
 * device registers need.
 */
public abstract class MappedBar implements PciBar {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    /** A mapped window: BAR offset and the mapping. */
    public record Window(long barOffset, MemorySegment mapping) {
        boolean contains(long offset, long length) {
            return offset >= barOffset && offset + length <= barOffset + mapping.byteSize();
        }
    }

    private final String owner;
    private final int index;
    private final long size;
    private final List<Window> windows;

    protected MappedBar(String owner, int index, long size, List<Window> windows) {
        this.owner = owner;
        this.index = index;
        this.size = size;
        this.windows = List.copyOf(windows);
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public long size() {
        return size;
    }

    public List<Window> windows() {
        return windows;
    }

    @Override
    public int read32(long offset) {
        check(offset);
        Window w = window(offset, 4);
        return w != null ? (int) U32.getVolatile(w.mapping(), offset - w.barOffset()) : trappedRead32(offset);
    }

    @Override
    public void write32(long offset, int value) {
        check(offset);
        Window w = window(offset, 4);
        if (w != null) {
            U32.setVolatile(w.mapping(), offset - w.barOffset(), value);
        } else {
            trappedWrite32(offset, value);
        }
    }

    @Override
    public boolean isMapped(long offset, long length) {
        return window(offset, length) != null;
    }

    @Override
    public MemorySegment mapped(long offset, long length) {
        Window w = window(offset, length);
        if (w == null) {
            throw new IllegalArgumentException(owner + " BAR" + index + ": [0x" + Long.toHexString(offset) + ", 0x"
                    + Long.toHexString(offset + length) + ") is not mapped into this process (mapped: " + describe() + ")");
        }
        return w.mapping().asSlice(offset - w.barOffset(), length);
    }

    /** Register access for offsets outside the mapped windows. */
    protected abstract int trappedRead32(long offset);

    protected abstract void trappedWrite32(long offset, int value);

    private Window window(long offset, long length) {
        if (offset < 0 || length < 0) {
            return null;
        }
        for (Window w : windows) {
            if (w.contains(offset, length)) {
                return w;
            }
        }
        return null;
    }

    private void check(long offset) {
        if (offset < 0 || offset > size - 4 || (offset & 3) != 0) {
            throw new IndexOutOfBoundsException(owner + " BAR" + index + ": 32-bit access at 0x" + Long.toHexString(offset)
                    + " is outside the BAR (0x" + Long.toHexString(size) + " bytes) or not 4-byte aligned");
        }
    }

    private String describe() {
        StringBuilder sb = new StringBuilder();
        for (Window w : windows) {
            sb.append(sb.isEmpty() ? "" : ", ").append("[0x").append(Long.toHexString(w.barOffset())).append(", 0x")
                    .append(Long.toHexString(w.barOffset() + w.mapping().byteSize())).append(')');
        }
        return sb.isEmpty() ? "nothing" : sb.toString();
    }

    @Override
    public String toString() {
        return owner + " BAR" + index + " (0x" + Long.toHexString(size) + " bytes, mapped " + describe() + ")";
    }
}
