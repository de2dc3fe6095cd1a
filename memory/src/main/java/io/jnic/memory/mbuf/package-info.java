/**
 * Packet buffers in shared memory: {@link io.jnic.memory.mbuf.Mempool} (DPDK's {@code rte_pktmbuf_pool}
 * with per-lcore caches), {@link io.jnic.memory.mbuf.Mbuf} (a flyweight over one mbuf header and its data)
 * and {@link io.jnic.memory.mbuf.MbufBatch} (a reusable array of handles).
 *
 * <h2>Handles</h2>
 * A handle is a {@code long}: {@code poolId << 48 | offset}, where offset is the byte offset of the mbuf
 * header from the start of the pool's region (64-byte aligned). Pool id 0 is reserved, so handle 0
 * ({@link io.jnic.memory.mbuf.Mbuf#NULL}) means "no mbuf". Handles are the same in every process; each
 * process finds the pool by id in its own table ({@link io.jnic.memory.mbuf.Mempool#lookup}), an array.
 *
 * <h2>Pool layout (version 2, {@link io.jnic.memory.mbuf.MempoolDescriptor})</h2>
 * Little-endian, at the start of the region; the region's page phase (address modulo page size at
 * creation) is recorded so that every process recomputes the same object placement.
 * <pre>
 * pool header (256 bytes)
 *      0  8 magic          "JNICPOOL" (0x4C4F4F5043494E4A), written last
 *      8  4 version        2
 *     12  4 flags          F_SP_PUT 0x1, F_SC_GET 0x2 (the free ring's producer/consumer mode)
 *     16  4 pool id        1..1023
 *     20  4 count          number of mbufs
 *     24  4 stride         bytes per object: 128-byte header + headroom + data room, rounded to 64
 *     28  4 header size    128
 *     32  4 headroom       default 128 (RTE_PKTMBUF_HEADROOM)
 *     36  4 data room      default 2048
 *     40  4 buf len        headroom + data room
 *     44  4 cache size     objects per lcore cache (0 = no caches)
 *     48  4 flush thresh   1.5 x cache size
 *     52  4 cache capacity slots per lcore cache: 2 x cache size
 *     56  4 max lcores     caches reserved, lcore ids 0..max-1
 *     64  8 page size      no object crosses a page of this size
 *     72  8 page phase     region address modulo page size at creation
 *     80  8 ring offset    the free ring (a {@link io.jnic.memory.ring.Ring}, F_EXACT_SZ, capacity = count)
 *     88  8 caches offset  first lcore cache
 *     96  8 cache stride   bytes per lcore cache
 *    104  8 first object   offset of the first mbuf header
 *    112  8 last object    offset of the last mbuf header
 *    120  8 bytes          total bytes the pool occupies
 *    128 32 name           UTF-8, 1..31 bytes, NUL padded
 *    192 64 recovery lock  a {@link io.jnic.memory.SharedLock}: settling dead lcores' transfers, one at a time
 * free ring                at ring offset
 * lcore cache i            at caches offset + i * cache stride:
 *      0  4 len            objects in the cache (checked against the capacity on every use)
 *      4  4 op             ring transfer in progress: 0 none, 1 refill (ring to cache), 2 flush (cache to ring)
 *      8  4 op len         the cache length before it
 *     12  4 op n           objects moved
 *     16  4 op pos         the ring position its hold starts at
 *     20  4 op holder      the holder id (pid and start-time tag, {@link io.jnic.memory.ring.Holder}) doing it
 *     64  8*capacity objs  handles; the top of the stack is objs[len - 1]
 * objects                  from first object, one every stride bytes, skipping to the next page
 *                          whenever an object would cross a page boundary
 * </pre>
 *
 * <h2>Mbuf header (128 bytes, before the buffer)</h2>
 * The first cache line holds everything rx, tx, alloc and free touch.
 * <pre>
 *      0  8 buf_iova       IOVA of the buffer (headroom start), computed once at pool creation
 *      8  2 data_off       data start in the buffer (headroom after alloc)
 *     10  2 nb_segs        segments in the packet (on the first segment)
 *     12  4 refcnt         0 = in the pool, 1 = allocated, &gt;1 = shared (atomic updates)
 *     16  8 ol_flags       offload flags ({@link io.jnic.memory.mbuf.MbufFlags}, DPDK's values)
 *     24  4 packet_type
 *     28  4 pkt_len        whole packet length (first segment)
 *     32  2 data_len       bytes in this segment
 *     34  2 vlan_tci
 *     36  4 rss hash
 *     40  2 port           input port, 0xFFFF = none
 *     42  2 owner          lcore that allocated it (0xFFFF = none): for the audit after a process dies
 *     44  2 buf_len        headroom + data room
 *     46  2 pool id
 *     48  8 next           handle of the next segment, 0 = none
 *     56  8 self           the mbuf's own handle, written at creation: wrap, free and alloc check that a
 *                          handle names an object start with it (same cache line as refcnt: no extra miss)
 *     64  8 tx_offload     l2_len 6:0, l3_len 15:7, l4_len 23:16, tso_segsz 39:24 (DPDK's packing; not reset
 *                          at alloc: read only when ol_flags asks for a tx offload)
 *     72  8 user data      application word
 *     80  8 timestamp      the port's clock in ns when ol_flags has RX_IEEE1588_TMST (not reset at alloc)
 *     88 40 (reserved)
 * </pre>
 * After alloc the words at 8 and 40 are written whole (data_off | nb_segs=1 | refcnt=1, and port | owner |
 * buf_len | pool id) and those at 16, 24, 32 and 48 zeroed: six stores reset the first line, as
 * {@code rte_pktmbuf_reset} does (it also zeroes tx_offload; here that stays on the untouched second line).
 *
 * <h2>In use, leaks and dead processes</h2>
 * An allocated mbuf has refcnt &gt; 0 and its holder's lcore in owner. {@link io.jnic.memory.mbuf.Mempool#audit}
 * therefore accounts for every object without per-allocation bookkeeping: in the ring, in a cache, in a
 * caller-named ring, allocated by a live lcore, allocated by a dead lcore, or leaked (none of these, refcnt 0).
 * After a process dies, the recovering process calls {@code ring().recoverDeadHolders()}, {@code flushCache} for
 * each of its lcores, then {@code audit} and {@code reclaim} of the dead owners' mbufs.
 *
 * <h2>Crash safety: why no interleaving loses or duplicates an mbuf</h2>
 * A process may be killed at any instruction. The invariant: at every instant each object is in exactly one of
 * (a) the free ring's published entries, (b) a cache's first {@code len} slots, (c) a holder's hands with
 * refcnt &gt;= 1 and owner = the holder's lcore. The audit and recovery return (a) and (b) to the ring as they are
 * and (c) when the owner is dead; so the invariant holding at the kill is all it takes.
 * <ul>
 * <li><b>Ring to cache (refill).</b> The process holds the ring's consumer side (one CAS, see
 *     {@link io.jnic.memory.ring}), records {@code (refill, len, n, pos, holder)} in the cache line, copies the
 *     n entries above {@code len}, stores {@code len + n} (the commit), then releases the side (tail + n). Before
 *     the commit the entries are still published in the ring (the hold is rolled back: (a)); after it they are in
 *     the cache (the hold is completed: (b)). Whoever finds the dead hold - a waiter on the ring, or recovery -
 *     settles it under the pool's recovery lock by reading the record and the cache length, which the dead
 *     process can no longer change; the record is written after the hold is taken, so a hold without a record
 *     never has a commit (rollback is right) and a record names the position its hold starts at, so it cannot be
 *     mistaken for another.</li>
 * <li><b>Cache to ring (flush)</b> mirrors it: hold the producer side, record, copy the cache's objects into the
 *     slots, store {@code len = 0} (commit), publish. Before the commit they are in the cache, after it in the
 *     (completed) ring. Single-producer/consumer rings have no holds: their unpublished tail is the "hold", the
 *     record alone settles it.</li>
 * <li><b>Allocation</b> resets each header (refcnt 1, owner = lcore) while the cache still counts it, then
 *     shortens the cache: killed before, the objects are in (b) (recovery flushes them with refcnt set to 0);
 *     after, they are in (c).</li>
 * <li><b>Free</b> stamps the owner and leaves refcnt at 1, copies into the cache, stores the longer length
 *     (commit), then sets refcnt 0: (c) until the commit, (b) after. A shared mbuf's count is decremented by
 *     CAS and never to 0 by a holder: the last holder leaves 1 and proceeds as above. Frees without an lcore
 *     (and raw {@code getBulk}/{@code putBulk} objects) go to the ring directly with refcnt 0 before the
 *     enqueue; a process killed between the two loses those objects until a quiet audit finds them leaked:
 *     data-path threads therefore run with lcores.</li>
 * </ul>
 * Exactly-once: each transfer's effect becomes visible by one store (the cache length, or the ring side word for
 * a direct ring operation), the resolver decides from the same store, and a settled hold cannot be settled again
 * (its side word changed, so the CAS fails).
 *
 * <h2>Safety</h2>
 * Every handle is range- and alignment-checked against the pool before use, cache lengths are checked
 * against the cache capacity, and data accesses against the pool's buffer length held in this process, so
 * corrupted shared memory cannot make these classes access memory outside the pool. As with
 * {@link io.jnic.memory.ring.Ring}, hot paths use absolute addresses: the region must stay mapped while used.
 */
package io.jnic.memory.mbuf;
