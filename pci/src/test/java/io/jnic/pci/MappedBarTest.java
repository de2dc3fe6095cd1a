package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A BAR made of one mapped window over anonymous memory and a trapped remainder, like a sparse VFIO BAR. */
class MappedBarTest {
    @Test
    void mappedWindowIsAccessedDirectlyAndTheRestIsTrapped() {
        MemorySegment page = Mman.mmap(4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        Map<Long, Integer> trapped = new HashMap<>();
        try {
            MappedBar bar = new MappedBar("0000:00:04.0", 3, 0x4000, List.of(new MappedBar.Window(0x1000, page))) {
                @Override
                protected int trappedRead32(long offset) {
                    return trapped.getOrDefault(offset, 0);
                }

                @Override
                protected void trappedWrite32(long offset, int value) {
                    trapped.put(offset, value);
                }
            };
            bar.write32(0x1010, 0xcafe);
            assertEquals(0xcafe, page.get(ValueLayout.JAVA_INT, 0x10), "went to the mapping");
            assertEquals(0xcafe, bar.read32(0x1010));
            bar.write32(0x3000, 7);
            assertEquals(Map.of(0x3000L, 7), trapped, "outside the window: trapped");
            assertEquals(7, bar.read32(0x3000));
            assertTrue(bar.isMapped(0x1000, 0x1000));
            assertFalse(bar.isMapped(0xffc, 8));
            assertEquals(page.address() + 0x20, bar.mapped(0x1020, 16).address());

            IllegalArgumentException notMapped = assertThrows(IllegalArgumentException.class, () -> bar.mapped(0x2ff0, 0x20));
            assertEquals("0000:00:04.0 BAR3: [0x2ff0, 0x3010) is not mapped into this process (mapped: [0x1000, 0x2000))",
                    notMapped.getMessage());
            IndexOutOfBoundsException outside = assertThrows(IndexOutOfBoundsException.class, () -> bar.read32(0x4000));
            assertEquals("0000:00:04.0 BAR3: 32-bit access at 0x4000 is outside the BAR (0x4000 bytes) or not 4-byte aligned",
                    outside.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> bar.write32(0x1002, 1));
        } finally {
            Mman.munmap(page);
        }
    }
}
