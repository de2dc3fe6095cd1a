package io.jnic.pci.vfiouser;

import io.jnic.pci.PciBar;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A BAR of a {@link VfioUserDevice}: 32-bit accesses inside a sparse-mmap area are volatile loads and
 * stores on the mapping of the server's descriptor; everywhere else they become VFIO_USER_REGION_READ /
 * VFIO_USER_REGION_WRITE messages. Offsets are checked against the BAR before either.
 */
public final class VfioUserBar implements PciBar {
    private static final VarHandle INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final VfioUserDevice device;
    private final int index;
    private final long size;
    private final int flags;
    private final SparseArea[] areas;
    private final MemorySegment[] maps;

    VfioUserBar(VfioUserDevice device, int index, long size, int flags, List<SparseArea> areas, List<MemorySegment> maps) {
        this.device = device;
        this.index = index;
        this.size = size;
        this.flags = flags;
        this.areas = areas.toArray(new SparseArea[0]);
        this.maps = maps.toArray(new MemorySegment[0]);
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public long size() {
        return size;
    }

    /** VFIO_REGION_INFO_FLAG_* of the region. */
    public int flags() {
        return flags;
    }

    /** The parts of this BAR mapped into this process. */
    public List<SparseArea> mappedAreas() {
        return List.of(areas);
    }

    @Override
    public int read32(long offset) {
        check(offset, 4, VfioUser.REGION_FLAG_READ);
        for (int i = 0; i < areas.length; i++) {
            if (areas[i].contains(offset, 4)) {
                return (int) INT.getVolatile(maps[i], offset - areas[i].offset());
            }
        }
        return device.trappedRead32(index, offset);
    }

    @Override
    public void write32(long offset, int value) {
        check(offset, 4, VfioUser.REGION_FLAG_WRITE);
        for (int i = 0; i < areas.length; i++) {
            if (areas[i].contains(offset, 4)) {
                INT.setVolatile(maps[i], offset - areas[i].offset(), value);
                return;
            }
        }
        device.trappedWrite32(index, offset, value);
    }

    @Override
    public boolean isMapped(long offset, long length) {
        for (SparseArea a : areas) {
            if (a.contains(offset, length)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public MemorySegment mapped(long offset, long length) {
        for (int i = 0; i < areas.length; i++) {
            if (areas[i].contains(offset, length)) {
                return maps[i].asSlice(offset - areas[i].offset(), length);
            }
        }
        throw new IllegalArgumentException("BAR" + index + " of " + device.name() + ": [0x" + Long.toHexString(offset)
                + ", +" + length + ") is not inside a mapped area (mapped: " + List.of(areas)
                + "); use read32/write32 for trapped registers");
    }

    private void check(long offset, int width, int needFlag) {
        if (offset < 0 || offset > size - width) {
            throw new IllegalArgumentException("BAR" + index + " of " + device.name() + ": offset 0x"
                    + Long.toHexString(offset) + " outside its 0x" + Long.toHexString(size) + " bytes");
        }
        if ((offset & (width - 1)) != 0) {
            throw new IllegalArgumentException("BAR" + index + " of " + device.name() + ": offset 0x"
                    + Long.toHexString(offset) + " is not " + width + "-byte aligned");
        }
        if ((flags & needFlag) == 0) {
            throw new IllegalStateException("BAR" + index + " of " + device.name() + " is not "
                    + (needFlag == VfioUser.REGION_FLAG_READ ? "readable" : "writable"));
        }
    }

    @Override
    public String toString() {
        return "BAR" + index + " of " + device.name() + " (0x" + Long.toHexString(size) + " bytes, mapped " + List.of(areas) + ")";
    }
}
