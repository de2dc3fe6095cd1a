package io.jnic.memory;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One fd-backed, locked, zero-initialised mapping of DMA memory, as this process sees it: the segment's
 * table id, its descriptor (for SCM_RIGHTS, vfio-user DMA_MAP, vhost-user SET_MEM_TABLE), size, page size,
 * file (if any), the mapping, and the IOVA of any byte. Made and released by its {@link MemoryGroup}.
 *
 * <p>{@link #iova(long)} is the data-path translation: base + offset, or for {@link IovaMode#PHYSICAL} one
 * load from a per-page table; no syscall, no allocation.
 */
public final class DmaSegment {
    private final int id;
    private final int fd;
    private final long size;
    private final PageSize pageSize;
    private final Backing backing;
    private final Path path;
    private final MemorySegment raw;
    private final MemorySegment memory;
    private final IovaMode iovaMode;
    private final long iovaBase;
    /** Physical address of each page (PHYSICAL mode), else null. */
    private final long[] pages;
    private final int pageShift;
    private final long pageMask;
    /**
     * Scopes every view of this segment: after {@link #release} (group closed, segment retired or detached) a
     * stale view throws IllegalStateException instead of touching unmapped memory.
     */
    private final Arena arena = Arena.ofShared();
    private volatile boolean closed;

    @SuppressWarnings("restricted") // rescoping our own mmap to the segment's arena
    DmaSegment(int id, int fd, PageSize pageSize, Backing backing, Path path, MemorySegment mapping,
            IovaMode iovaMode, long iovaBase, long[] pages) {
        this.id = id;
        this.fd = fd;
        this.size = mapping.byteSize();
        this.pageSize = pageSize;
        this.backing = backing;
        this.path = path;
        this.raw = mapping;
        this.memory = mapping.reinterpret(arena, null);
        this.iovaMode = iovaMode;
        this.iovaBase = iovaBase;
        this.pages = pages;
        this.pageShift = pageSize.shift();
        this.pageMask = pageSize.bytes() - 1;
    }

    /** Index in the group's segment table; names the file {@code <prefix>map_<id>}. */
    public int id() {
        return id;
    }

    /** The descriptor backing the mapping (owned by the group: dup it to keep it beyond close). */
    public int fd() {
        return fd;
    }

    public long size() {
        return size;
    }

    public PageSize pageSize() {
        return pageSize;
    }

    public Backing backing() {
        return backing;
    }

    /** The backing file, for FILE segments. */
    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }

    /**
     * The whole mapping, at whatever address this process got it. The view (and every slice of it) becomes
     * inaccessible when the group is closed: access then throws IllegalStateException rather than fault.
     */
    public MemorySegment memory() {
        return memory;
    }

    public IovaMode iovaMode() {
        return iovaMode;
    }

    /**
     * The IOVA of the byte at {@code offset}: what a device must be given to reach it.
     *
     * @throws IndexOutOfBoundsException when {@code offset} is outside the segment
     */
    public long iova(long offset) {
        Objects.checkIndex(offset, size);
        long[] p = pages;
        return p == null ? iovaBase + offset : p[(int) (offset >>> pageShift)] + (offset & pageMask);
    }

    /** IOVA of the first byte (for PHYSICAL segments, of the first page). */
    public long iovaBase() {
        return pages == null ? iovaBase : pages[0];
    }

    /** True when {@code [offset, offset + length)} is one contiguous IOVA range (always, except PHYSICAL). */
    public boolean iovaContiguous(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, size);
        if (pages == null || length == 0) {
            return true;
        }
        int first = (int) (offset >>> pageShift);
        int last = (int) ((offset + length - 1) >>> pageShift);
        for (int i = first; i < last; i++) {
            if (pages[i + 1] != pages[i] + pageSize.bytes()) {
                return false;
            }
        }
        return true;
    }

    /**
     * For users that hand physical addresses to hardware (UIO, VFIO no-IOMMU): refuses memory whose
     * physical addresses are unknown or unstable.
     *
     * @param user who needs them, for the message
     */
    public void requirePhysical(String user) {
        if (!pageSize.isHuge()) {
            throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, user + " needs physical addresses,"
                    + " but segment " + id + " is made of 4 KB pages (--no-huge), which the kernel may move: run"
                    + " with hugepages, or use VFIO with an IOMMU or a virtual device");
        }
        if (iovaMode != IovaMode.PHYSICAL) {
            throw new MemoryException(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, user + " needs physical addresses,"
                    + " but the memory group uses IOVA mode " + iovaMode + ": create it with IOVA mode PHYSICAL");
        }
    }

    /**
     * Invalidates the views, then munmap + close; the group unlinks files. When a native call is using the
     * memory right now, the views cannot be invalidated and the mapping is left in place (logged by the caller).
     *
     * @return whether the memory was unmapped
     */
    boolean release() {
        if (closed) {
            return true;
        }
        closed = true;
        boolean unmap = true;
        try {
            arena.close(); // from here on, views throw IllegalStateException instead of faulting
        } catch (IllegalStateException e) {
            unmap = false; // unmapping would pull memory from under a native call
        }
        try {
            if (unmap) {
                Mman.munmap(raw);
            }
        } finally {
            Io.closeQuietly(fd);
        }
        return unmap;
    }

    @Override
    public String toString() {
        return "DmaSegment[" + id + ", " + (size >> 10) + " kB of " + pageSize + " pages, " + backing
                + (path != null ? " " + path : "") + ", iova 0x" + Long.toHexString(iovaBase()) + "]";
    }
}
