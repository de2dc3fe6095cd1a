package io.jnic.memory;

/**
 * DMA memory could not be provided, or shared memory is not what it should be. The message says what is
 * wrong and what to do about it; {@link #reason()} lets callers react without parsing it.
 */
public final class MemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the operation failed. */
    public enum Reason {
        /** No (or not enough) hugepages of the wanted size are reserved. */
        NO_HUGEPAGES,
        /** The huge dir is not a hugetlbfs mount of the wanted page size. */
        NOT_HUGETLBFS,
        /** The group's segments have no room for a reservation, or the IOVA space is used up. */
        OUT_OF_MEMORY,
        /** A group with this prefix is already alive (create), or is gone (attach). */
        GROUP_EXISTS,
        GROUP_MISSING,
        /** The shared header was written by another program or another layout version. */
        INCOMPATIBLE,
        /** A value read from shared memory is out of range. */
        CORRUPTED,
        /** A memzone with this name already exists. */
        EXISTS,
        /** No memzone or segment of that name or id. */
        NOT_FOUND,
        /** The segment exists in the group but is not mapped in this process yet (see attachSegment). */
        NOT_ATTACHED,
        /** The segment was retired (a failed hotplug rolled back): it can no longer be mapped. */
        RETIRED,
        /** The segment cannot be retired: memzones live in it. */
        IN_USE,
        /** The operation needs physical addresses and cannot get them (4 KB pages, PFNs hidden). */
        NO_PHYSICAL_ADDRESSES,
        /** The cross-process lock could not be taken in time. */
        LOCK_TIMEOUT,
        /** The kernel refused a call (see the cause). */
        SYSTEM
    }

    private final Reason reason;

    public MemoryException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public MemoryException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
