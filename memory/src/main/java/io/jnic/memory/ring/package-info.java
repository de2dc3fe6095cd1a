/**
 * Rings of 64-bit handles in shared memory with DPDK {@code rte_ring} semantics: {@link io.jnic.memory.ring.Ring}.
 *
 * <h2>Shared layout (version 2, {@link io.jnic.memory.ring.RingDescriptor})</h2>
 * A ring occupies {@code Ring.bytesNeeded(count, flags)} bytes at the start of a 64-byte aligned region;
 * all integers are little-endian. Nothing in it is an address, so every process may map it anywhere.
 * <pre>
 * offset size field
 *      0    8 magic       "JNICRING" (0x474E495243494E4A); written last, with release, by create
 *      8    4 version     2
 *     12    4 flags       F_SP_ENQ 0x1, F_SC_DEQ 0x2, F_EXACT_SZ 0x4
 *     16    4 size        slots in the array, a power of two, 2..2^30
 *     20    4 mask        size - 1
 *     24    4 capacity    handles the ring holds: size - 1, or count with F_EXACT_SZ (&lt;= size - 1)
 *     28    4 (reserved)
 *     32   32 name        UTF-8, 1..31 bytes, NUL padded
 *     64   64 (empty line: keeps the adjacent-line prefetcher from pairing the header with the producer line)
 *    128    8 prod        producer tail (low 32 bits: entries below it are published) | holder (high 32, 0 = none)
 *    136    8 prod stamp  (held position &amp; 0xFFFFFF) &lt;&lt; 40 | holder's start time &amp; (2^40 - 1)
 *    144  112 (producer lines, padding)
 *    256    8 cons        consumer tail (slots below it are free again) | holder
 *    264    8 cons stamp
 *    272  112 (consumer lines, padding)
 *    384  8*size slots    handle of entry i at slot (i &amp; mask)
 * </pre>
 * Tails are free-running unsigned 32-bit integers: entries = prod.tail - cons.tail, free = capacity + cons.tail -
 * prod.tail, both modulo 2^32. A holder is {@link io.jnic.memory.ring.Holder}: pid (22 bits) and a 10-bit tag of
 * the process's start time.
 *
 * <h2>Operations and ordering</h2>
 * A side with one producer (consumer) reads its own word plainly, the opposite word with acquire, copies, and
 * publishes by a release store of its word (new tail, no holder). A multi-producer (-consumer) side is taken in
 * turn, as DPDK's HTS mode: acquire-read the word; while a holder is in it, wait; CAS {@code (tail, 0)} to
 * {@code (tail, me)}; write the stamp; copy; release-store {@code (tail + n, 0)}. The acquire of the opposite
 * word pairs with the opposite side's release: a producer never overwrites a slot a consumer has not finished
 * reading, a consumer never reads a slot before its producer's writes. Waiting producers do not copy in parallel
 * as rte_ring's MP mode does; in exchange there is never more than one operation in flight per side.
 *
 * <h2>Crash safety</h2>
 * Each operation takes effect by exactly one store, the release store of its side word; before it the operation
 * has no effect on anyone (its slots are beyond the published tail, or still counted as entries), after it the
 * whole operation has. A process killed at any instruction therefore leaves either nothing (single side) or a
 * hold: a side word naming a dead holder. A waiter spins briefly, then looks at the holder: a pid that is gone,
 * a zombie, or one whose start time no longer matches the tag (pid reused) or the stamp, is dead. The hold is
 * then resolved by one CAS from the exact word the dead holder left: by a registered resolver, which may
 * <i>complete</i> it (tail + n) when the structure built on the ring has proof the copy finished and was counted
 * (the mempool's cache length), or else by a <i>rollback</i> (tail unchanged, holder 0): the dead producer's
 * slots were never published, the dead consumer's entries are still there. Of several resolvers only one CAS
 * succeeds; a later one sees another word and stops. No element is lost (a rollback leaves published entries
 * published; a completed dequeue only when its copies were counted elsewhere) and none is duplicated (a
 * dead holder can publish nothing any more, and a word is settled once). {@code recoverDeadHolders} does the same
 * for a recovering process that does not wait on the ring. Deterministic crash tests kill a child process at each
 * step ({@link io.jnic.memory.CrashPoint}).
 *
 * <h2>Safety</h2>
 * size, mask and capacity are validated at {@code attach} and held in final fields; every slot index is a
 * shared tail masked by the local mask and every count is clamped to the capacity, so a corrupted header
 * yields wrong handles, never an access outside the region. The hot paths address the region through its
 * absolute address (see {@code Ring}), so the region must stay mapped while a {@code Ring} on it is used.
 */
package io.jnic.memory.ring;
