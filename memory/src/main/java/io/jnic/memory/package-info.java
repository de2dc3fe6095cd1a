/**
 * DMA memory shared between processes: hugepage (or 4 KB) segments that devices can reach by IOVA, and a
 * registry of named memzones in them, which every process of a <em>memory group</em> finds by name and
 * maps wherever its kernel puts it.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link io.jnic.memory.MemoryConfig}: EAL-style knobs (file prefix, huge dir, runtime dir, page size /
 *       {@code --no-huge}, FILE or MEMFD backing, IOVA mode, {@code -m} size, table capacities).</li>
 *   <li>{@link io.jnic.memory.MemoryGroup}: create / attach / addSegment / attachSegment / retireSegment /
 *       detachSegment / reserve / lookup / close (DPDK's memory config + rte_memzone). Behind it, one concern
 *       each: {@code GroupHeader} (the header's own fields, written and validated), {@code SegmentTable} (the
 *       shared segment table), {@code LocalSegments} (this process's mappings: create, attach, drop),
 *       {@code SegmentHotplug} (pending, committed, retired segments), {@code MemzoneRegistry} (the memzone
 *       table) and {@code GroupFiles} (the group's files, their flocks, a dead group's leftovers).</li>
 *   <li>{@link io.jnic.memory.DmaSegment}: one fd-backed, mlocked, zeroed mapping; {@code iova(offset)}.</li>
 *   <li>{@link io.jnic.memory.Memzone}: a named range of a segment (segment id + offset + length + align).</li>
 *   <li>{@link io.jnic.memory.IovaMode}: PHYSICAL (pagemap), ASSIGNED (our allocator, for an IOMMU / vfio-user /
 *       vhost-user), IDENTITY (the creator's virtual address). {@link io.jnic.memory.IovaAllocator},
 *       {@link io.jnic.memory.Pagemap}.</li>
 *   <li>{@link io.jnic.memory.SharedLock}: the cross-process lock that a dead holder cannot wedge.</li>
 *   <li>{@link io.jnic.memory.Hugepages}: pool sizes and hugetlbfs mounts, for errors that say what to do.</li>
 * </ul>
 *
 * <h2>Files</h2>
 * <pre>
 *   &lt;runtimeDir&gt;/&lt;prefix&gt;memconfig   the group header (below), a regular 4 KB-page file (tmpfs under /run)
 *   &lt;hugeDir&gt;/&lt;prefix&gt;map_&lt;id&gt;      DMA segment id as a hugetlbfs file          (FILE, hugepages)
 *   &lt;runtimeDir&gt;/&lt;prefix&gt;map_&lt;id&gt;   DMA segment id as a regular file             (FILE, --no-huge)
 *   memfd "&lt;prefix&gt;memconfig", "&lt;prefix&gt;map_&lt;id&gt;"  the same without names    (MEMFD: fds over SCM_RIGHTS)
 * </pre>
 * Every process that maps a file holds {@code flock(LOCK_SH)} on it for as long as it does. Whoever closes
 * last (takes {@code LOCK_EX} on the header) marks the header dead and unlinks the group's files; the
 * creator of a new group removes a dead group's leftovers (the files of the prefix nobody locks) and refuses
 * if a live process holds the header. Creation and that cleanup run under {@code flock(LOCK_EX)} on the runtime
 * dir, so a file is never removed between its creation and its creator's lock.
 *
 * <p>Pages are allocated when a segment is created ({@code fallocate}, then a {@code MAP_SHARED} mapping,
 * which for hugetlb reserves its pages at {@code mmap} time), populated and {@code mlock}ed. A shortage is
 * therefore an exception at creation that names the fix, never a SIGBUS on first touch; an attacher refuses a
 * file shorter than the table says for the same reason.
 *
 * <h2>The group header</h2>
 * All fields native-endian (little-endian on x86-64) and naturally aligned. Shared things refer to each other
 * by (segment id, offset), never by virtual address. Offsets in bytes:
 * <pre>
 *   0  u64  magic              0x314D454D43494E4A, the ASCII bytes "JNICMEM1"; written last, with release
 *   8  u32  layout version     1; any other value: an attacher refuses (INCOMPATIBLE)
 *  12  u32  header size        bytes of this file: 512 + maxSegments*128 + maxMemzones*64, rounded up to 4 KB
 *  16  u32  state              1 live, 2 dead (the last process is removing the files)
 *  20  u32  IOVA mode          1 PHYSICAL, 2 ASSIGNED, 3 IDENTITY
 *  24  u32  backing            1 FILE, 2 MEMFD
 *  28  u32  page shift         log2 of the segments' page size: 12, 21 or 30
 *  32  u32  maxSegments        capacity of the segment table (1..1024)
 *  36  u32  maxMemzones        capacity of the memzone table (1..65536)
 *  40  u32  segment table      offset of the segment table (512)
 *  44  u32  memzone table      offset of the memzone table (512 + maxSegments*128)
 *  48  u32  segment count      published entries, retired ones included; stored with release after the entry is complete
 *  52  u32  memzone count      published entries; stored with release after the entry is complete
 *  56  u64  IOVA next          ASSIGNED allocator cursor (CAS), see {@link io.jnic.memory.IovaAllocator}
 *  64  u64  IOVA limit         end (exclusive) of the assignable IOVA range
 *  72  u32  creator pid
 *  80  u64  created            CLOCK_REALTIME nanoseconds
 * 128  64 B lock               {@link io.jnic.memory.SharedLock}: u64 owner (generation &lt;&lt; 32 | pid),
 *                              u64 stamp (generation tag, holder start time), u64 recoveries
 * 192  64 B file prefix        NUL-terminated ASCII
 * 256 256 B data dir           NUL-terminated absolute path of the FILE segments' directory; empty for MEMFD
 * 512       segment table      maxSegments entries of 128 bytes
 *   …       memzone table      maxMemzones entries of 64 bytes
 * </pre>
 *
 * Segment table entry (128 bytes, entry {@code i} at {@code 512 + i*128}):
 * <pre>
 *   0  u32  id                 equals the entry's index (checked)
 *   4  u32  backing            1 FILE, 2 MEMFD (must equal the header's)
 *   8  u64  size               bytes, a positive multiple of the page size (at most 2^46)
 *  16  u32  page shift         must equal the header's
 *  20  u32  creator pid        the process that added the segment
 *  24  u64  IOVA base          ASSIGNED: allocated base; IDENTITY: creator's virtual address; PHYSICAL:
 *                              physical address of the first page (an attacher checks it maps the same page)
 *  32  u64  used               memzone bump cursor: bytes from the start already handed out
 *  40  u32  state              {@link io.jnic.memory.SegmentState}: 0 live, 1 retired, 2 pending (stored with
 *                              release; pending to live or retired, live to retired, nothing else changes)
 *  64  64 B file name          "&lt;prefix&gt;map_&lt;id&gt;" (exactly; anything else is refused), "" for a memfd
 * </pre>
 *
 * Memzone table entry (64 bytes, entry {@code i} at {@code memzone table + i*64}):
 * <pre>
 *   0  32 B name               NUL-terminated printable ASCII, at most 31 characters, unique in the group
 *  32  u32  segment id         &lt; segment count (checked on every read)
 *  36  u32  flags              0 (reserved)
 *  40  u64  offset             within the segment; a multiple of align
 *  48  u64  length             offset + length &lt;= segment size (checked on every read)
 *  56  u64  align              a power of two, at most the page size
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Adding a segment or a memzone takes the {@link io.jnic.memory.SharedLock} (any process of the group may
 * do either); entries are written completely and then published by a release store of the count. Lookups read
 * the count with acquire and scan published entries without locking; published entries never change, except
 * a segment entry's state (see below). A holder that dies mid-update leaves at most an unpublished entry
 * (overwritten by the next creator) or unused bytes in a segment. Memzones are never freed (as in DPDK), so their memory is zero when handed out.
 * Zones no larger than a page never straddle a page boundary, so they are IOVA-contiguous in every mode.
 *
 * <h2>Adding segments to a live group</h2>
 * A process calls {@link io.jnic.memory.MemoryGroup#addSegment(long)}; the others learn of it (the multiproc
 * layer sends a message) and call {@link io.jnic.memory.MemoryGroup#attachSegment(int)} (FILE: opened by name)
 * or {@link io.jnic.memory.MemoryGroup#attachSegment(int, int)} with the memfd it received. FILE segments are
 * also mapped on demand when a lookup meets one.
 *
 * <p>A hotplug (multiproc) adds with {@link io.jnic.memory.MemoryGroup#addPendingSegment(long)}: the entry is
 * pending, which every process may map but no reservation uses, until the adder
 * {@linkplain io.jnic.memory.MemoryGroup#commitSegment(int) commits} it once everyone mapped it. When a process
 * cannot follow (DPDK rolls the hotplug back), the adder calls
 * {@link io.jnic.memory.MemoryGroup#retireSegment(int)}: refused while a memzone lives in the segment (its
 * {@code used} is not 0), otherwise, under the lock, the entry's state becomes retired, then the segment is
 * unmapped and closed locally and its file (FILE) unlinked. The others drop their mappings with
 * {@link io.jnic.memory.MemoryGroup#detachSegment(int)}; the memory returns to the kernel when the last
 * mapping goes. A retired entry is never mapped again (attachSegment refuses it with reason RETIRED,
 * attachers skip it, reservations skip it) and its id is not reused: later segments take new ids, so a
 * rolled-back hotplug spends one table slot. {@code segmentCount()} counts table entries, retired ones
 * included; {@code segments()} lists what this process has mapped. Views of a segment are scoped to it:
 * after it is retired, detached or the group closed, a stale view throws IllegalStateException.
 *
 * <p>Compatibility: the state field sits in bytes that layout version 1 already zero-filled, and 0 means
 * live, so headers written before it existed read correctly and the layout version stays 1. An older build
 * would take a pending segment for live, and fails to open a retired FILE segment's (unlinked) file, with an
 * error, rather than mapping it; the multiproc layer refuses mixed builds anyway (build id).
 *
 * <h2>IOVA on the data path</h2>
 * {@link io.jnic.memory.DmaSegment#iova(long)} is a bounds check plus base + offset, or for PHYSICAL one
 * load from a per-page {@code long[]} filled from {@code /proc/self/pagemap} when the segment was mapped.
 * It never makes a system call or allocates.
 */
package io.jnic.memory;
