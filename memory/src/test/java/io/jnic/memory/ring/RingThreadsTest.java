package io.jnic.memory.ring;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Producers and consumers on threads: every handle is dequeued exactly once, in per-producer order. */
class RingThreadsTest {

    private static final int PER_PRODUCER = 300_000;

    @Timeout(120)
    @ParameterizedTest(name = "{0} producers, {1} consumers, flags {2}")
    @CsvSource({"2, 2, 0", "2, 1, 2", "1, 2, 1", "1, 1, 3", "2, 2, 4"})
    void exactlyOnce(int producers, int consumers, int flags) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Ring r = Ring.create(arena.allocate(Ring.bytesNeeded(128, flags), 64), "stress", 128, flags, -5000);
            long total = (long) producers * PER_PRODUCER;
            AtomicIntegerArray seen = new AtomicIntegerArray((int) total);
            AtomicLong done = new AtomicLong();
            AtomicReference<String> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                long base = (long) p * PER_PRODUCER;
                threads.add(Thread.ofPlatform().daemon(true).start(() -> {
                    long[] buf = new long[32];
                    int sent = 0;
                    int round = 0;
                    while (sent < PER_PRODUCER && failure.get() == null) {
                        int want = Math.min(PER_PRODUCER - sent, 1 + (round++ % 32));
                        for (int i = 0; i < want; i++) {
                            buf[i] = base + sent + i;
                        }
                        int k = (round & 1) == 0 ? r.enqueueBulk(buf, 0, want) : r.enqueueBurst(buf, 0, want);
                        if (k == 0) {
                            Thread.onSpinWait();
                        }
                        sent += k;
                    }
                }));
            }
            for (int c = 0; c < consumers; c++) {
                threads.add(Thread.ofPlatform().daemon(true).start(() -> {
                    long[] buf = new long[32];
                    long[] last = {-1, -1};
                    int round = 0;
                    while (done.get() < total && failure.get() == null) {
                        int want = 1 + (round++ % 32);
                        int k = (round & 1) == 0 ? r.dequeueBulk(buf, 0, want) : r.dequeueBurst(buf, 0, want);
                        for (int i = 0; i < k; i++) {
                            long h = buf[i];
                            int p = (int) (h / PER_PRODUCER);
                            if (h < 0 || h >= total || h <= last[p] || seen.getAndIncrement((int) h) != 0) {
                                failure.compareAndSet(null, "handle " + h + " (last from its producer " + last[p] + ")");
                            }
                            last[p] = h;
                        }
                        if (k == 0) {
                            Thread.onSpinWait();
                        }
                        done.addAndGet(k);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertNull(failure.get());
            assertEquals(total, done.get());
            for (int i = 0; i < total; i++) {
                assertEquals(1, seen.get(i), "handle " + i);
            }
            assertEquals(0, r.count());
        }
    }
}
