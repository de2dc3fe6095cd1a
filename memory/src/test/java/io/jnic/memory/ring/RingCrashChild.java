package io.jnic.memory.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Child of {@link RingCrashTest}: produces or consumes batches of {@link #BATCH} on the ring at offset 0 of the
 * shared file until its crash point (a {@code -Djnic.crashPoint}) kills it. After each completed operation it
 * stores the number done at {@link #DONE_OFF}; a consumer first logs what it got at {@link #LOG_OFF}. Exits 3 when
 * the crash point never came.
 *
 * <pre>
 * produce FILE SIZE      enqueue 0..BATCH-1, BATCH..2*BATCH-1, ...
 * consume FILE SIZE      dequeue BATCH at a time
 * </pre>
 */
public final class RingCrashChild {

    static final int BATCH = 8;
    static final long DONE_OFF = 4096;
    static final long LOG_OFF = DONE_OFF + 64;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    public static void main(String[] args) {
        try (SharedFile f = SharedFile.open(Path.of(args[1]), Long.parseLong(args[2]))) {
            MemorySegment m = f.segment();
            Ring r = Ring.attach(m);
            long[] buf = new long[BATCH];
            long done = 0;
            for (int tries = 0; tries < 1000 && done < 20; tries++) {
                if (args[0].equals("produce")) {
                    for (int i = 0; i < BATCH; i++) {
                        buf[i] = done * BATCH + i;
                    }
                    if (r.enqueueBulk(buf, 0, BATCH) == BATCH) {
                        LONG.setRelease(m, DONE_OFF, ++done);
                    }
                } else if (r.dequeueBulk(buf, 0, BATCH) == BATCH) {
                    MemorySegment.copy(buf, 0, m, ValueLayout.JAVA_LONG, LOG_OFF + 8L * BATCH * done, BATCH);
                    LONG.setRelease(m, DONE_OFF, ++done);
                }
            }
        }
        System.exit(3);
    }
}
