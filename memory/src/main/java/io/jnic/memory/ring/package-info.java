/**
 * Rings of 64-bit handles in shared memory with DPDK {@code rte_ring} semantics: {@link io.jnic.memory.ring.Ring}.
 *
 * <h2>Shared layout (version 1)</h2>
 * A ring occupies {@code Ring.bytesNeeded(count, flags)} bytes at the start of a 64-byte aligned region;
 * all integers are little-endian. Nothing in it is an address, so every process may map it anywhere.
 * <pre>
 * offset size field
 *      0    8 magic       "JNICRING" (0x474E495243494E4A); written last, with release, by create
 *      8    4 version     1
 *     12    4 flags       F_SP_ENQ 0x1, F_SC_DEQ 0x2, F_EXACT_SZ 0x4
 *     16    4 size        slots in the array, a power of two, 2..2^30
 *     20    4 mask        size - 1
 *     24    4 capacity    handles the ring holds: size - 1, or count with F_EXACT_SZ (&lt;= size - 1)
 *     28    4 (reserved)
 *     32   32 name        UTF-8, 1..31 bytes, NUL padded
 *     64   64 (empty line: keeps the adjacent-line prefetcher from pairing the header with the producer line)
 *    128    4 prod.head   producers claim slots by moving it (CAS if multi producer)
 *    132    4 prod.tail   entries below it are published to consumers (release store)
 *    136  120 (producer lines, padding)
 *    256    4 cons.head   consumers claim entries by moving it
 *    260    4 cons.tail   slots below it are free again for producers
 *    264  120 (consumer lines, padding)
 *    384  8*size slots    handle of entry i at slot (i &amp; mask)
 * </pre>
 * Counters are free-running unsigned 32-bit integers: entries = prod.tail - cons.head, free = capacity +
 * cons.tail - prod.head, both computed modulo 2^32, so wrap-around needs no special case.
 *
 * <h2>Ordering</h2>
 * As DPDK's C11 ring: the producer reads cons.tail with acquire, claims, writes slots, waits (multi
 * producer) until prod.tail equals its old head, then stores prod.tail with release; the consumer mirrors it.
 *
 * <h2>Safety</h2>
 * size, mask and capacity are validated at {@code attach} and held in final fields; every slot index is a
 * shared counter masked by the local mask and every count is clamped to the capacity, so a corrupted header
 * yields wrong handles, never an access outside the region. The hot paths address the region through its
 * absolute address (see {@code Ring}), so the region must stay mapped while a {@code Ring} on it is used.
 */
package io.jnic.memory.ring;
