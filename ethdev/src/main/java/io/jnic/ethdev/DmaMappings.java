package io.jnic.ethdev;

import io.jnic.memory.DmaSegment;
import io.jnic.memory.MemoryGroup;
import io.jnic.pci.PciDevice;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

/**
 * Makes a memory group's segments reachable by one PCI device at their IOVAs (PciDevice.dmaMap), each once.
 * Drivers call {@link #require} for every piece of memory they hand to the device (rings, mempools).
 */
public final class DmaMappings {
    private final PciDevice device;
    private final MemoryGroup memory;
    private final Set<Integer> mapped = new HashSet<>();

    public DmaMappings(PciDevice device, MemoryGroup memory) {
        this.device = device;
        this.memory = memory;
    }

    /** Maps the segment holding {@code region} (a slice of the group's memory); throws when it is not in the group. */
    public synchronized void require(MemorySegment region, String what) {
        long a = region.address();
        for (DmaSegment s : memory.segments()) {
            long base = s.memory().address();
            if (a >= base && a + region.byteSize() <= base + s.size()) {
                map(s);
                return;
            }
        }
        throw new IllegalArgumentException(device.name() + ": " + what + " is not in memory group '" + memory.filePrefix()
                + "'; the device can only reach memory of the port's group (create the mempool in a memzone of it)");
    }

    private void map(DmaSegment s) {
        if (!mapped.add(s.id())) {
            return;
        }
        if (device.dmaAddressing() == PciDevice.DmaAddressing.PHYSICAL) {
            s.requirePhysical(device.name());
            return;
        }
        if (!s.iovaContiguous(0, s.size())) {
            mapped.remove(s.id());
            throw new IllegalStateException(device.name() + ": segment " + s.id() + " has no contiguous IOVA range");
        }
        device.dmaMap(s.fd(), 0, s.memory(), s.iovaBase());
    }

    /** Unmaps what this object mapped (before the device is closed). */
    public synchronized void unmapAll() {
        if (device.dmaAddressing() != PciDevice.DmaAddressing.PHYSICAL) {
            for (int id : mapped) {
                DmaSegment s = memory.segment(id);
                try {
                    device.dmaUnmap(s.iovaBase(), s.size());
                } catch (RuntimeException e) {
                    System.getLogger(DmaMappings.class.getName()).log(System.Logger.Level.DEBUG,
                            "unmapping segment " + id + " failed", e);
                }
            }
        }
        mapped.clear();
    }
}
