package io.jnic.driver.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The indirect tables' refusals: memory too small for the tables asked for, a buffer of more pieces than a table holds. */
class IndirectTablesTest {

    @Test
    void tablesThatDoNotFitTheirMemoryAreRefused() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(64L * 33 * IndirectTables.DESC_SIZE - 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new IndirectTables(2, 64, m, 0x1000, 33));
            assertEquals("virtqueue 2: indirect tables for 64 x 33 descriptors need 33792 bytes, not 33791", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new IndirectTables(2, 64, m, 0x1000, 0));
            assertEquals("virtqueue 2: an indirect table holds at least 1 descriptor, not 0", e.getMessage());
        }
    }

    @Test
    void aBufferOfMorePiecesThanATableHoldsIsRefused() {
        try (Arena a = Arena.ofConfined()) {
            IndirectTables t = new IndirectTables(1, 8, a.allocate(8L * 4 * IndirectTables.DESC_SIZE), 0x2000, 4);
            IndirectTables.checkPieces(t, 1, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IndirectTables.checkPieces(t, 1, 5));
            assertEquals("virtqueue 1: a buffer of 5 pieces; indirect tables hold 1..4", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> IndirectTables.checkPieces(t, 1, 0));
            UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                    () -> IndirectTables.checkPieces(null, 3, 2));
            assertEquals("virtqueue 3 has no indirect tables", u.getMessage());
            assertEquals(2L * 4 * IndirectTables.DESC_SIZE, t.offset(2));
        }
    }
}
