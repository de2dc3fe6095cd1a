package io.jnic.memory.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Full and empty at every burst size, for every combination of single and multi sides; a producer and a consumer
 * on two attachments of one ring see each other's moves at every step.
 */
class RingSmallBurstTest {

    private static final int SPSC = Ring.F_SP_ENQ | Ring.F_SC_DEQ;
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private MemorySegment region(int count, int flags) {
        return arena.allocate(Ring.bytesNeeded(count, flags), 64);
    }

    @ParameterizedTest
    @ValueSource(ints = {SPSC, 0, Ring.F_SP_ENQ, Ring.F_SC_DEQ})
    void fullAndEmptyAtEveryBurstSize(int flags) {
        Ring r = Ring.create(region(64, flags), "t", 64, flags); // capacity 63: no size divides it evenly but 1, 3, 7, 9, 21
        long[] in = new long[32];
        long[] out = new long[32];
        long next = 1;
        long expect = 1;
        for (int b = 1; b <= 32; b++) {
            for (boolean bulk : new boolean[] {true, false}) {
                int held = 0;
                while (true) { // fill with bursts of b until the ring refuses
                    for (int i = 0; i < b; i++) {
                        in[i] = next + i;
                    }
                    int k = bulk ? r.enqueueBulk(in, 0, b) : r.enqueueBurst(in, 0, b);
                    next += k;
                    held += k;
                    if (k < b) {
                        break;
                    }
                }
                if (bulk) { // all or nothing: refused with fewer than b free, nothing taken; top up one by one
                    assertEquals(63 - 63 % b, held, "burst " + b + " bulk: refused only when fewer than " + b + " are free");
                    assertEquals(63 % b, r.freeCount());
                    while (held < 63) {
                        assertTrue(r.enqueue(next++));
                        held++;
                    }
                }
                assertEquals(63, held, "burst " + b + (bulk ? " bulk" : " burst") + ": a full ring holds its capacity");
                assertTrue(r.isFull());
                assertEquals(0, r.enqueueBurst(in, 0, 1), "nothing fits a full ring");
                int got = 0;
                while (true) { // empty it with bursts of b, checking the order
                    int k = bulk ? r.dequeueBulk(out, 0, b) : r.dequeueBurst(out, 0, b);
                    for (int i = 0; i < k; i++) {
                        assertEquals(expect++, out[i], "burst " + b + ": FIFO order");
                    }
                    got += k;
                    if (k < b) {
                        break;
                    }
                }
                if (bulk) { // the all-or-nothing dequeue left the remainder; take it one by one
                    while (got < 63) {
                        assertEquals(expect++, r.dequeue(-1));
                        got++;
                    }
                }
                assertEquals(63, got);
                assertTrue(r.isEmpty());
                assertEquals(-1, r.dequeue(-1), "nothing comes out of an empty ring");
            }
        }
    }

    @Test
    void producerAndConsumerAttachmentsSeeEachOther() {
        MemorySegment mem = region(8, SPSC);
        Ring prod = Ring.create(mem, "t", 8, SPSC);
        Ring cons = Ring.attach(mem);
        long v = 1;
        long want = 1;
        for (int round = 0; round < 1000; round++) { // uneven puts and takes: full, empty and between
            int put = 1 + round % 7;
            for (int i = 0; i < put; i++) {
                if (prod.enqueue(v)) {
                    v++;
                }
            }
            int take = 1 + (round * 3) % 7;
            for (int i = 0; i < take; i++) {
                long h = cons.dequeue(0);
                if (h != 0) {
                    assertEquals(want++, h);
                }
            }
            assertEquals(v - want, prod.count());
        }
    }

    @Test
    void aFullRingTakesABulkAgainOnceTheOtherAttachmentEmptiedIt() {
        MemorySegment mem = region(8, SPSC);
        Ring p = Ring.create(mem, "t", 8, SPSC);
        Ring c = Ring.attach(mem);
        for (int i = 1; i <= 7; i++) {
            assertTrue(p.enqueue(i));
        }
        assertFalse(p.enqueue(8)); // full
        long[] out = new long[7];
        assertEquals(7, c.dequeueBulk(out, 0, 7));
        long[] in = {8, 9, 10, 11, 12, 13, 14};
        assertEquals(7, p.enqueueBulk(in, 0, 7), "the other attachment emptied the ring");
        assertEquals(7, c.dequeueBurst(out, 0, 7));
        assertEquals(8, out[0]);
        assertEquals(14, out[6]);
    }
}
