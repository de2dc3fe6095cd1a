package io.jnic.driver.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A virtqueue whose driver "dies" (its object is dropped) with buffers in every state: posted to the device,
 * returned out of order and not consumed, added but never published; {@link VirtqueueState#recover} must sort
 * them, and a driver resumed from the shared state must carry on with exactly the posted ones.
 */
class VirtqueueStateTest {
    private static final long RING_IOVA = 0x1_0000_0000L;
    private static final long BUF_IOVA = 0x2_0000_0000L;
    private static final int BUF = 256;
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void close() {
        arena.close();
    }

    private static long[] sorted(long[] a) {
        long[] b = a.clone();
        Arrays.sort(b);
        return b;
    }

    @Test
    void recoverySortsEveryBufferAndAResumedDriverCarriesOn() {
        for (int start : new int[] {0, 65_530}) {
            int size = 16;
            MemorySegment ring = arena.allocate(SplitVirtqueue.bytes(size), 4096);
            MemorySegment st = arena.allocate(VirtqueueState.bytes(size), 64);
            MemorySegment bufs = arena.allocate((long) BUF * size, 4096);
            SplitVirtqueue q = new SplitVirtqueue(3, size, ring, RING_IOVA, true, start, st);
            SplitVirtqueueTest.Device dev = new SplitVirtqueueTest.Device(q, bufs, start);
            for (int i = 0; i < 10; i++) {
                q.add(BUF_IOVA + (long) BUF * i, BUF, true, 100 + i); // heads 0..9, tokens 100..109
            }
            q.publish();
            assertEquals(10, dev.consume());
            // out of order: heads 9, 8, 7, 6 come back; the driver consumes two of them
            for (int i = 0; i < 4; i++) {
                dev.complete(dev.pending.pollLast());
            }
            long[] got = new long[16];
            int[] lens = new int[16];
            assertEquals(2, q.poll(got, lens, 0, 2));
            assertArrayEquals(new long[] {109, 108}, Arrays.copyOf(got, 2));
            dev.complete(dev.pending.pollLast()); // head 5
            for (int i = 0; i < 3; i++) {
                q.add(BUF_IOVA, BUF, true, 200 + i); // added, never published: the driver dies here
            }
            VirtqueueState s = VirtqueueState.attach(st, 3, size);
            assertResumeRefused(ring, size, s);
            VirtqueueState.Recovery r = s.recover(ring);
            assertArrayEquals(new long[] {105, 106, 107, 200, 201, 202}, sorted(r.release()),
                    "returned and not consumed, or never published: the queue lets go of them");
            assertArrayEquals(new long[] {100, 101, 102, 103, 104}, sorted(r.posted()), "still posted: they stay");
            assertEquals((start + 5) & 0xFFFF, r.lastUsed());

            SplitVirtqueue next = SplitVirtqueue.resume(3, size, ring, RING_IOVA, true, s);
            assertEquals(size - 5, next.freeCount());
            assertEquals(0, next.usedCount());
            dev.completeAll(false);
            int n = next.poll(got, lens, 0, 16);
            assertArrayEquals(new long[] {100, 101, 102, 103, 104}, sorted(Arrays.copyOf(got, n)));
            // the resumed driver posts again and the device sees it, across the avail slots the dead one scribbled on
            for (int i = 0; i < size; i++) {
                next.add(BUF_IOVA + (long) BUF * i, BUF, true, 300 + i);
            }
            next.publish();
            assertEquals(size, dev.consume());
            dev.completeAll(false);
            n = next.poll(got, lens, 0, 16);
            assertEquals(size, n);
            assertEquals(0, s.outstanding().length, "the shared record follows the resumed driver");
        }
    }

    /** Resuming a queue whose driver died, before recovery, is refused: the state says more than the ring. */
    private static void assertResumeRefused(MemorySegment ring, int size, VirtqueueState s) {
        VirtioException e = assertThrows(VirtioException.class,
                () -> SplitVirtqueue.resume(3, size, ring, RING_IOVA, true, s));
        assertEquals("virtqueue 3: the shared state records 11 outstanding buffers, but the ring has 8 between used "
                + s.lastUsed() + " and avail " + ((s.lastUsed() + 8) & 0xFFFF) + " (a driver died without recovery?)",
                e.getMessage());
    }

    @Test
    void aStateOfAnotherQueueOrBuildIsRefused() {
        MemorySegment st = arena.allocate(VirtqueueState.bytes(64), 64);
        VirtqueueState.format(st, 2, 64, 0);
        VirtioException e = assertThrows(VirtioException.class, () -> VirtqueueState.attach(st, 3, 64));
        assertEquals("virtqueue 3: the shared queue state is not one of this build for a queue of 64 entries (magic "
                + "0x5351564a, version 2, size 64, queue 2); is the port started by a primary of the same jnic build?",
                e.getMessage());
        // a state of the build before in-order queues (version 1: no flags) is refused, not misread
        st.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 4, (short) 1);
        e = assertThrows(VirtioException.class, () -> VirtqueueState.attach(st, 2, 64));
        assertTrue(e.getMessage().contains("version 1, size 64, queue 2"), e.getMessage());
        st.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 4, (short) 2);
        VirtqueueState.attach(st, 2, 64);
        st.set(java.lang.foreign.ValueLayout.JAVA_INT, 8, 100);
        e = assertThrows(VirtioException.class, () -> VirtqueueState.recordedSize(st));
        assertEquals("queue state records a queue of 100 entries, which is no power of two in 1..32768 or does not fit "
                + "its memzone of " + st.byteSize() + " bytes", e.getMessage());
    }

    @Test
    void aSharedQueueTakesNoChains() {
        MemorySegment ring = arena.allocate(SplitVirtqueue.bytes(8), 4096);
        SplitVirtqueue q = new SplitVirtqueue(0, 8, ring, RING_IOVA, false, 0, arena.allocate(VirtqueueState.bytes(8), 64));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> q.addChain(
                new long[] {BUF_IOVA, BUF_IOVA + 64}, new int[] {64, 64}, new boolean[] {false, true}, 2, 1));
        assertEquals("virtqueue 0 records its state for other processes, which holds one-descriptor buffers only",
                e.getMessage());
    }
}
