package io.jnic.memory.ring;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One {@link Ring} object's private state for a single-producer or single-consumer side: the opposite tail it last
 * read and the tail it last published. On its own cache lines (the superclasses pad before and after, as Agrona
 * does, since the JVM orders fields within a class but not across a hierarchy), so that a producer and a consumer
 * on two cores do not share a line through the Ring object.
 *
 * <p>The copy is trusted only while the ring's side word still holds {@code lastTail} and the token beside it
 * (the side's stamp, unused on a single side otherwise) is this object's: then nobody else moved the side since,
 * and the opposite tail can only have moved on from {@code seen}, so free space (entries) computed from it is a
 * lower bound. Another object taking the side over (a restarted process, a second attach) writes its own token,
 * which also rules out a tail that came back to the same 32-bit value after 2^32 moves by someone else.
 */
final class SideCache extends SideCacheFields {
    @SuppressWarnings("unused")
    private long p10, p11, p12, p13, p14, p15, p16, p17;

    private static final AtomicInteger OBJECTS = new AtomicInteger();

    SideCache() {
        super(((long) OBJECTS.incrementAndGet() << 32) | (Holder.SELF & 0xFFFF_FFFFL)); // never 0: SELF is not
    }
}

abstract class SideCacheFields extends SideCachePad {
    /** This object's id beside the side word: the process ({@link Holder#SELF}) and a counter of objects in it. */
    final long token;
    /** The side's tail this object last published (unsigned), -1 before its first operation. */
    long lastTail = -1;
    /** The opposite side's tail as this object last read it. */
    int seen;

    SideCacheFields(long token) {
        this.token = token;
    }
}

abstract class SideCachePad {
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07;
}
