package io.jnic.devsim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class DmaMapTest {
    @Test
    void findsWindowsAndForgetsUnmappedOnes() {
        try (Arena a = Arena.ofConfined()) {
            DmaMap m = new DmaMap();
            MemorySegment s1 = a.allocate(4096);
            MemorySegment s2 = a.allocate(8192);
            m.map(0x10000, s1);
            m.map(0x20000, s2);
            assertSame(s2, m.find(0x21000, 100).segment());
            assertSame(s2, m.find(0x21000, 100).segment(), "cached hit");
            assertNull(m.find(0x10F00, 0x200), "a range crossing the window's end is not mapped");
            assertNull(m.find(0x30000, 1));
            assertEquals(8192, m.unmap(0x20000, 8192));
            assertNull(m.find(0x21000, 100), "the cached window is gone with its mapping");
            assertSame(s1, m.find(0x10000, 4096).segment());
            assertTrue(m.find(0x10000, 4096).writable());
            assertTrue(!new DmaWindow(0, s1.asReadOnly()).writable());
        }
    }

    @Test
    void overlapsAndPartialUnmapsAreRefusedWithAReason() {
        try (Arena a = Arena.ofConfined()) {
            DmaMap m = new DmaMap();
            m.map(0x10000, a.allocate(0x2000));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.map(0x11000, a.allocate(0x1000)));
            assertTrue(e.getMessage().contains("overlaps the mapped window [0x10000, 0x12000)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.unmap(0x10000, 0x1000));
            assertTrue(e.getMessage().contains("cuts the mapped window"), e.getMessage());
            assertEquals(1, m.count());
        }
    }
}
