package io.jnic.devsim;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A {@link DmaMemory} that the transport fills with {@link #map} and {@link #unmap}. Windows are kept sorted
 * in a copy-on-write array published through a volatile field: lookups from the device thread take no lock
 * and make no garbage; the last window hit is remembered because descriptors and buffers cluster.
 */
public final class DmaMap implements DmaMemory {
    private volatile DmaWindow[] windows = new DmaWindow[0];
    private DmaWindow last; // device-thread cache, valid only while lastTable is the current array
    private DmaWindow[] lastTable;

    /** Adds a window; throws when it overlaps one already mapped (the IOMMU would refuse too). */
    public synchronized void map(long iova, MemorySegment segment) {
        map(new DmaWindow(iova, segment));
    }

    /** Adds {@code w} (mapped or reached by messages); throws when it overlaps one already mapped. */
    public synchronized void map(DmaWindow w) {
        long iova = w.iova();
        DmaWindow[] old = windows;
        for (DmaWindow o : old) {
            if (Long.compareUnsigned(iova, o.iova() + o.size() - 1) <= 0
                    && Long.compareUnsigned(o.iova(), iova + w.size() - 1) <= 0) {
                throw new IllegalArgumentException("DMA map of " + w + " overlaps the mapped window " + o
                        + ": unmap it first");
            }
        }
        DmaWindow[] next = Arrays.copyOf(old, old.length + 1);
        next[old.length] = w;
        Arrays.sort(next, (a, b) -> Long.compareUnsigned(a.iova(), b.iova()));
        windows = next;
    }

    /**
     * Removes the windows lying inside {@code [iova, iova + size)} and returns how many bytes were unmapped.
     * A window only partly inside the range is refused (vfio-user unmaps whole regions).
     */
    public synchronized long unmap(long iova, long size) {
        DmaWindow[] old = windows;
        int keep = 0;
        long removed = 0;
        long end = iova + size - 1; // unsigned, inclusive
        for (DmaWindow o : old) {
            boolean overlaps = size > 0 && Long.compareUnsigned(iova, o.iova() + o.size() - 1) <= 0
                    && Long.compareUnsigned(o.iova(), end) <= 0;
            if (overlaps && !inside(o, iova, end)) {
                throw new IllegalArgumentException("DMA unmap of [0x" + Long.toHexString(iova) + ", 0x"
                        + Long.toHexString(iova + size) + ") cuts the mapped window " + o + ": unmap whole windows");
            }
        }
        DmaWindow[] next = new DmaWindow[old.length];
        for (DmaWindow o : old) {
            if (size > 0 && inside(o, iova, end)) {
                removed += o.size();
            } else {
                next[keep++] = o;
            }
        }
        windows = Arrays.copyOf(next, keep);
        last = null;
        return removed;
    }

    private static boolean inside(DmaWindow o, long iova, long last) {
        return Long.compareUnsigned(o.iova(), iova) >= 0 && Long.compareUnsigned(o.iova() + o.size() - 1, last) <= 0;
    }

    public void unmapAll() {
        synchronized (this) {
            windows = new DmaWindow[0];
            last = null;
        }
    }

    public int count() {
        return windows.length;
    }

    @Override
    public DmaWindow find(long iova, long length) {
        DmaWindow[] ws = windows;
        DmaWindow l = last;
        if (l != null && lastTable == ws && l.covers(iova, length)) {
            return l; // the cache belongs to the current table, so the window is still mapped
        }
        int lo = 0;
        int hi = ws.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            DmaWindow w = ws[mid];
            if (Long.compareUnsigned(iova, w.iova()) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(iova - w.iova(), w.size()) >= 0) {
                lo = mid + 1;
            } else {
                if (w.covers(iova, length)) {
                    last = w;
                    lastTable = ws;
                    return w;
                }
                return null;
            }
        }
        return null;
    }
}
