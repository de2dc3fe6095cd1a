package io.jnic.devsim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One contiguous piece of the driver's memory the device may reach: IOVAs {@code [iova, iova + size)}. Most
 * windows are memory mapped here ({@link #mapped()}: the bytes of {@link #segment()}); a window the driver
 * shared without a descriptor (vfio-user DMA_MAP with no fd: QEMU maps ROM and BAR ranges so) is reached
 * through a {@link Remote}, one message round trip per access. {@link #read} and {@link #write} work for
 * both; code that keeps structures in the memory (descriptor rings) needs a mapped window. Immutable,
 * created when the driver maps memory, so that looking up an address on the data path allocates nothing.
 */
public final class DmaWindow {
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Reaches memory that is not mapped here (the vfio-user server's DMA_READ / DMA_WRITE messages). */
    public interface Remote {
        void read(long iova, MemorySegment dst, long dstOffset, long length);

        void write(long iova, MemorySegment src, long srcOffset, long length);
    }

    private final long iova;
    private final long size;
    private final boolean writable;
    private final MemorySegment segment; // null: reached through remote
    private final Remote remote;

    public DmaWindow(long iova, MemorySegment segment) {
        this(iova, segment.byteSize(), !segment.isReadOnly(), segment, null);
    }

    /** A window of {@code size} bytes that is not mapped here, reached through {@code remote}. */
    public DmaWindow(long iova, long size, boolean writable, Remote remote) {
        this(iova, size, writable, null, remote);
        if (remote == null) {
            throw new IllegalArgumentException("an unmapped DMA window needs a way to reach it");
        }
    }

    private DmaWindow(long iova, long size, boolean writable, MemorySegment segment, Remote remote) {
        if (size <= 0 || Long.compareUnsigned(iova + size - 1, iova) < 0) { // IOVAs are unsigned 64-bit
            throw new IllegalArgumentException("DMA window at IOVA 0x" + Long.toHexString(iova) + " of "
                    + size + " bytes is empty or wraps the address space");
        }
        this.iova = iova;
        this.size = size;
        this.writable = writable;
        this.segment = segment;
        this.remote = remote;
    }

    public long iova() {
        return iova;
    }

    public long size() {
        return size;
    }

    /** True when the memory is mapped here: {@link #segment()} may be used. */
    public boolean mapped() {
        return segment != null;
    }

    /** The mapped memory (byte 0 at {@link #iova()}); throws for a window reached by messages. */
    public MemorySegment segment() {
        if (segment == null) {
            throw new IllegalStateException("DMA window " + this + " is not mapped here (reach it with read/write)");
        }
        return segment;
    }

    /** False when the driver mapped this memory read-only for the device (then only TX data may come from it). */
    public boolean writable() {
        return writable;
    }

    /** True when {@code [address, address + length)} lies inside this window. */
    public boolean covers(long address, long length) {
        return length >= 0 && length <= size && Long.compareUnsigned(address, iova) >= 0
                && Long.compareUnsigned(address - iova, size - length) <= 0;
    }

    /**
     * Copies {@code length} bytes at IOVA {@code address} into {@code dst} at {@code dstOffset}. False when the
     * range is outside the window or the driver's side failed the access (a DMA error for the device).
     */
    public boolean read(long address, MemorySegment dst, long dstOffset, int length) {
        if (!covers(address, length)) {
            return false;
        }
        if (segment != null) {
            copy(segment, address - iova, dst, dstOffset, length);
            return true;
        }
        try {
            remote.read(address, dst, dstOffset, length);
            return true;
        } catch (RuntimeException e) { // no client, no reply in time, an error reply
            return false;
        }
    }

    /** Copies {@code length} bytes of {@code src} from {@code srcOffset} to IOVA {@code address}; false as for read. */
    public boolean write(long address, MemorySegment src, long srcOffset, int length) {
        if (!writable || !covers(address, length)) {
            return false;
        }
        if (segment != null) {
            copy(src, srcOffset, segment, address - iova, length);
            return true;
        }
        try {
            remote.write(address, src, srcOffset, length);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Frames are short: 8-byte moves beat MemorySegment.copy's set-up below a few hundred bytes. */
    private static void copy(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, int len) {
        if (len > 256) {
            MemorySegment.copy(src, srcOff, dst, dstOff, len);
            return;
        }
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            dst.set(LE_LONG, dstOff + i, src.get(LE_LONG, srcOff + i));
        }
        for (; i < len; i++) {
            dst.set(ValueLayout.JAVA_BYTE, dstOff + i, src.get(ValueLayout.JAVA_BYTE, srcOff + i));
        }
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(iova) + ", 0x" + Long.toHexString(iova + size) + ")"
                + (segment == null ? " by messages" : "");
    }
}
