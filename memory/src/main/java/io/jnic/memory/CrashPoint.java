package io.jnic.memory;

import io.jnic.sys.Proc;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points inside shared-memory operations where a crash test can have this process SIGKILL itself.
 * Off unless the JVM runs with {@code -Djnic.crashPoint=NAME} or {@code NAME:N} (die at the N-th hit); the
 * check {@code if (CrashPoint.ENABLED)} is a static final constant, so C2 removes it from production code.
 */
public final class CrashPoint {

    /** Ring: the producer holds its side, nothing copied yet. */
    public static final String RING_ENQ_HELD = "ring.enq.held";
    /** Ring: half of the producer's handles are in their slots. */
    public static final String RING_ENQ_HALF = "ring.enq.half";
    /** Ring: all handles copied, the producer tail not yet published. */
    public static final String RING_ENQ_COPIED = "ring.enq.copied";
    public static final String RING_DEQ_HELD = "ring.deq.held";
    public static final String RING_DEQ_HALF = "ring.deq.half";
    public static final String RING_DEQ_COPIED = "ring.deq.copied";
    /** Mempool refill: the cache holds the ring's entries and has counted them, the ring not yet released. */
    public static final String POOL_REFILL_COMMITTED = "pool.refill.committed";
    /** Mempool flush: the cache has given up its objects, the ring not yet published. */
    public static final String POOL_FLUSH_COMMITTED = "pool.flush.committed";
    /** Mempool alloc: headers reset (reference count 1), the cache not yet shortened. */
    public static final String POOL_ALLOC_RESET = "pool.alloc.reset";
    /** Mempool free: the objects are counted in the cache, their reference counts not yet 0. */
    public static final String POOL_FREE_COMMITTED = "pool.free.committed";

    /** virtio queue state, an in-order burst: every position recorded, none of the burst's tokens yet. */
    public static final String VIRTQ_ADDED_POSITIONS = "virtq.added.positions";
    /** virtio queue state, an in-order burst: half of the burst's tokens recorded. */
    public static final String VIRTQ_ADDED_HALF = "virtq.added.half";

    public static final boolean ENABLED;
    private static final String TARGET;
    private static final AtomicInteger COUNTDOWN = new AtomicInteger();

    static {
        String spec = System.getProperty("jnic.crashPoint");
        ENABLED = spec != null && !spec.isBlank();
        if (ENABLED) {
            int colon = spec.lastIndexOf(':');
            TARGET = colon < 0 ? spec : spec.substring(0, colon);
            COUNTDOWN.set(colon < 0 ? 1 : Integer.parseInt(spec.substring(colon + 1)));
        } else {
            TARGET = null;
        }
    }

    private CrashPoint() {
    }

    /** Dies here (SIGKILL, no shutdown hooks, no unwinding) when this is the chosen point's chosen hit. */
    public static void hit(String point) {
        if (point.equals(TARGET) && COUNTDOWN.decrementAndGet() == 0) {
            Proc.kill(Liveness.SELF_PID, Proc.SIGKILL);
            while (true) {
                Thread.onSpinWait(); // the signal is on its way
            }
        }
    }
}
