package io.jnic.memory.mbuf;

import java.util.Arrays;

/**
 * Where every object of a pool was found by {@link Mempool#audit}.
 *
 * @param pool       pool name
 * @param total      objects in the pool
 * @param inRing     in the free ring
 * @param inCaches   in lcore caches
 * @param inFlight   in the rings the caller listed
 * @param inUse      allocated (reference count > 0) by a live lcore
 * @param leaked     handles of objects found nowhere with reference count 0 (lost between ring, cache and owner,
 *                   e.g. by a process killed mid-operation, or taken with the raw getBulk and not marked)
 * @param deadOwner  handles of allocated objects whose owner lcore is not alive
 * @param duplicates handles found twice (double free)
 * @param invalid    values in the ring or caches that are no object of this pool (or a corrupt cache length)
 */
public record MempoolAudit(String pool, int total, int inRing, int inCaches, int inFlight, int inUse, long[] leaked,
        long[] deadOwner, long[] duplicates, long[] invalid) {

    /** True when every object is accounted for and nothing is duplicated or invalid. */
    public boolean isClean() {
        return leaked.length == 0 && deadOwner.length == 0 && duplicates.length == 0 && invalid.length == 0;
    }

    @Override
    public String toString() {
        return "MempoolAudit[" + pool + ": total " + total + ", ring " + inRing + ", caches " + inCaches + ", in flight "
                + inFlight + ", in use " + inUse + ", leaked " + leaked.length + ", dead owner " + deadOwner.length
                + ", duplicates " + duplicates.length + ", invalid " + invalid.length
                + (leaked.length > 0 ? ", first leaked " + hex(leaked) : "") + "]";
    }

    private static String hex(long[] a) {
        return Arrays.stream(a).limit(4).mapToObj(Long::toHexString).toList().toString();
    }
}
