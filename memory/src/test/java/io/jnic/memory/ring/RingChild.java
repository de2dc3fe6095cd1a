package io.jnic.memory.ring;

import io.jnic.sys.Mman;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Child process of {@link RingProcessTest}: maps the shared file (after an unrelated mapping, so that it
 * lands at another address than in the parent) and produces or consumes handles.
 *
 * <pre>
 * produce FILE SIZE BASE N         enqueue BASE..BASE+N-1
 * consume FILE SIZE TOTAL PER_PRODUCER   dequeue until TOTAL were consumed by all consumers
 * </pre>
 * File layout: ring at 0, then at {@code SEEN_OFF} one int per handle (times seen), at {@code DONE_OFF} the
 * number consumed so far.
 */
public final class RingChild {

    static final long DONE_OFF = 1 << 16;
    static final long SEEN_OFF = DONE_OFF + 64;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    public static void main(String[] args) throws Exception {
        MemorySegment shift = Mman.mmap(64L << 20, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
        try (SharedFile f = SharedFile.open(Path.of(args[1]), Long.parseLong(args[2]))) {
            MemorySegment m = f.segment();
            System.out.println("addr=" + m.address());
            Ring r = Ring.attach(m);
            switch (args[0]) {
                case "produce" -> produce(r, Long.parseLong(args[3]), Integer.parseInt(args[4]));
                case "consume" -> System.exit(consume(r, m, Long.parseLong(args[3]), Long.parseLong(args[4])));
                default -> throw new IllegalArgumentException(args[0]);
            }
        } finally {
            Mman.munmap(shift);
        }
        System.out.println("done");
    }

    private static void produce(Ring r, long base, int n) {
        long[] buf = new long[32];
        int sent = 0;
        int round = 0;
        while (sent < n) {
            int want = Math.min(n - sent, 1 + (round++ % 32));
            for (int i = 0; i < want; i++) {
                buf[i] = base + sent + i;
            }
            int k = (round & 1) == 0 ? r.enqueueBulk(buf, 0, want) : r.enqueueBurst(buf, 0, want);
            if (k == 0) {
                Thread.onSpinWait();
            }
            sent += k;
        }
    }

    private static int consume(Ring r, MemorySegment m, long total, long perProducer) {
        long[] buf = new long[32];
        long[] last = new long[16];
        java.util.Arrays.fill(last, -1);
        int round = 0;
        while ((long) LONG.getVolatile(m, DONE_OFF) < total) {
            int want = 1 + (round++ % 32);
            int k = (round & 1) == 0 ? r.dequeueBulk(buf, 0, want) : r.dequeueBurst(buf, 0, want);
            if (k == 0) {
                Thread.onSpinWait();
                continue;
            }
            for (int i = 0; i < k; i++) {
                long h = buf[i];
                if (h < 0 || h >= total) {
                    System.out.println("BAD handle " + h);
                    return 2;
                }
                int p = (int) (h / perProducer);
                if (h <= last[p]) {
                    System.out.println("ORDER handle " + h + " after " + last[p]);
                    return 3;
                }
                last[p] = h;
                int seen = (int) INT.getAndAdd(m, SEEN_OFF + 4 * h, 1);
                if (seen != 0) {
                    System.out.println("DUP handle " + h);
                    return 4;
                }
            }
            LONG.getAndAdd(m, DONE_OFF, (long) k);
        }
        return 0;
    }
}
