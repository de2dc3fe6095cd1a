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

    @Test
    void windowsAboveTwoToTheSixtyThirdAndWindowsReachedByMessagesWork() {
        try (Arena a = Arena.ofConfined()) {
            DmaMap m = new DmaMap();
            long high = 0xffff_ffff_fff0_0000L; // IOVAs are unsigned: the top of the address space is valid
            MemorySegment top = a.allocate(0x10000);
            m.map(high, top);
            m.map(0x10000, a.allocate(0x1000));
            assertSame(top, m.find(high + 0xff00, 0x100).segment());
            assertNull(m.find(high + 0xff00, 0x101), "past the end of the address space");
            assertThrows(IllegalArgumentException.class, () -> m.map(high + 0x8000, a.allocate(0x1000)), "overlap");
            byte[] store = new byte[0x1000];
            int[] calls = new int[1];
            DmaWindow remote = new DmaWindow(0x8000_0000_0000_0000L, store.length, true, new DmaWindow.Remote() {
                @Override
                public void read(long iova, MemorySegment dst, long dstOffset, long length) {
                    calls[0]++;
                    MemorySegment.copy(MemorySegment.ofArray(store), iova - 0x8000_0000_0000_0000L, dst, dstOffset, length);
                }

                @Override
                public void write(long iova, MemorySegment src, long srcOffset, long length) {
                    calls[0]++;
                    MemorySegment.copy(src, srcOffset, MemorySegment.ofArray(store), iova - 0x8000_0000_0000_0000L, length);
                }
            });
            m.map(remote);
            DmaWindow w = m.find(0x8000_0000_0000_0010L, 4);
            assertSame(remote, w);
            assertTrue(!w.mapped());
            assertThrows(IllegalStateException.class, w::segment);
            MemorySegment buf = MemorySegment.ofArray(new byte[] {1, 2, 3, 4});
            assertTrue(w.write(0x8000_0000_0000_0010L, buf, 0, 4));
            assertEquals(3, store[0x12]);
            MemorySegment back = MemorySegment.ofArray(new byte[4]);
            assertTrue(w.read(0x8000_0000_0000_0010L, back, 0, 4));
            assertEquals(4, back.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 3));
            assertTrue(!w.read(0x8000_0000_0000_0ffeL, back, 0, 4), "outside the window");
            assertEquals(2, calls[0]);
            assertEquals(0x10000, m.unmap(high, 0x10000));
            assertEquals(2, m.count());
        }
    }
}
