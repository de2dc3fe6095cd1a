package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

class IovaAllocatorTest {
    @Test
    void alignedDisjointAndBounded() {
        try (Arena arena = Arena.ofConfined()) {
            IovaAllocator a = new IovaAllocator(arena.allocate(16, 8));
            a.init(0x1000, 0x1000 + (8L << 20));
            assertEquals(0x1000, a.allocate(100, 4096));
            assertEquals(2L << 20, a.allocate(2L << 20, 2L << 20), "aligned up to 2 MB");
            assertEquals(4L << 20, a.next());
            MemoryException e = assertThrows(MemoryException.class, () -> a.allocate(8L << 20, 4096));
            assertEquals(MemoryException.Reason.OUT_OF_MEMORY, e.reason());
            assertEquals("IOVA space exhausted: 8388608 bytes do not fit between 0x400000 and the limit 0x801000"
                    + " (raise the limit within the IOMMU's address width)", e.getMessage());
            assertEquals(4L << 20, a.next(), "a failed allocation takes nothing");
            assertThrows(IllegalArgumentException.class, () -> a.allocate(10, 3));
            assertThrows(IllegalArgumentException.class, () -> a.allocate(0, 4096));
        }
    }

    @Test
    void concurrentAllocationsDoNotOverlap() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            IovaAllocator a = new IovaAllocator(arena.allocate(16, 8));
            a.init(1L << 32, 1L << 40);
            ConcurrentLinkedQueue<long[]> ranges = new ConcurrentLinkedQueue<>();
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                ts.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 2000; i++) {
                        long size = 4096L * (1 + i % 7);
                        ranges.add(new long[] {a.allocate(size, 4096), size});
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            List<long[]> sorted = new ArrayList<>(ranges);
            sorted.sort((x, y) -> Long.compare(x[0], y[0]));
            assertEquals(8000, sorted.size());
            for (int i = 1; i < sorted.size(); i++) {
                assertTrue(sorted.get(i - 1)[0] + sorted.get(i - 1)[1] <= sorted.get(i)[0], "overlap at " + i);
                assertEquals(0, sorted.get(i)[0] % 4096);
            }
        }
    }
}
