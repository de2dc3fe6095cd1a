package io.jnic.driver.intel;

import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PlainAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One queue's shared memory, a memzone named after the port and queue (no virtual address inside, so another
 * process can take the queue over): a 64-byte state block, the descriptor ring (128-byte aligned, IOVA
 * contiguous, as the base address registers need: 82599 8.2.3.8.1), then the software ring of mbuf handles, one per descriptor.
 *
 * <pre>
 * state: 0 magic u32, 4 ring size u32, 8 next index u32 (RX: next to read; TX: tail), 12 clean index u32 (TX),
 *        16 pool id u32 (RX), 20 in-flight u32 (TX),
 *        24 generation u32, 28 acknowledged generation u32, 32 driver pid u32, 36 re-initialiser pid u32,
 *        40 bad write-backs: length u64, 48 status/error u64 (RX),
 *        56 offloads u32: bit n = RxOffload (RX queue) / TxOffload (TX queue) of ordinal n, as the port owner
 *           configured them (a process taking the queue over decodes and refuses the same things)
 * </pre>
 *
 * <p>The generation is how the process driving the queue learns that the port was re-initialised under it (a
 * device reset): even while the ring is in service, odd while the port owner rebuilds it.
 * The driving process reads it with one plain load per burst; when it differs from the one it last saw it writes
 * it back as acknowledged (release) and, once it is even again, reloads its indices from this block. The
 * re-initialiser makes it odd, waits for the acknowledgement (the driver finished the burst it was in and left
 * the ring alone), rebuilds ring and indices and makes it even. The driver pid says whom to wait for: 0 when no
 * process bursts on the queue, a dead pid is not waited for.
 */
public final class QueueMemory {
    public static final int MAGIC_RX = 0x52584a4e; // "NJXR"
    public static final int MAGIC_TX = 0x54584a4e;
    public static final long S_MAGIC = 0;
    public static final long S_SIZE = 4;
    public static final long S_NEXT = 8;
    public static final long S_CLEAN = 12;
    public static final long S_POOL = 16;
    public static final long S_INFLIGHT = 20;
    public static final long S_GEN = 24;
    public static final long S_ACK = 28;
    public static final long S_DRIVER = 32;
    public static final long S_REINIT = 36;
    public static final long S_BAD_LENGTH = 40;
    public static final long S_BAD_STATUS = 48;
    public static final long S_OFFLOADS = 56;
    public static final long STATE_BYTES = 128;

    /**
     * All of the address space, for the bursts: they address descriptors, the software ring, the state block and
     * mbuf headers by absolute address through this constant, so that C2 drops the per-access segment checks
     * (scope, bounds against a field, alignment), as the mempool's hot paths do. What keeps every access inside
     * its memory is the driver's own check, made once where the value comes in: ring indices are the queue's own
     * (kept in [0, size) by construction, those loaded from the shared state are range-checked), mbuf handles read
     * from the software ring or an application's batch are checked against their pool's extent. The queue memory
     * and the pools must stay mapped while a burst runs (the port is closed before its memory group).
     */
    public static final MemorySegment ALL = PlainAccess.ALL;
    /**
     * Layouts for {@link #ALL}: unaligned, so that no alignment test is made per access; every address used is
     * naturally aligned (descriptors 16 bytes in a 128-byte aligned ring, mbuf headers 64-byte aligned).
     */
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** The offset part of an mbuf handle (the mempool's layout; the pool id is above it). */
    public static final long HANDLE_OFFSET = MempoolDescriptor.OFFSET_MASK;
    /** The pool id part of an mbuf handle. */
    public static final long HANDLE_POOL = ~HANDLE_OFFSET;

    public final Memzone zone;
    public final MemorySegment state;
    public final MemorySegment descriptors;
    public final MemorySegment swRing;
    public final long descIova;
    public final int size;
    /** Absolute addresses of {@link #state}, {@link #descriptors} and {@link #swRing}, for {@link #ALL}. */
    public final long stateAddr;
    public final long descAddr;
    public final long swAddr;

    private QueueMemory(Memzone zone, int size) {
        this.zone = zone;
        this.size = size;
        MemorySegment all = zone.memory();
        this.state = all.asSlice(0, STATE_BYTES);
        long descBytes = (long) size * AdvDescriptors.DESC_SIZE;
        this.descriptors = all.asSlice(STATE_BYTES, descBytes);
        this.swRing = all.asSlice(STATE_BYTES + descBytes, 8L * size);
        this.descIova = zone.iova(STATE_BYTES);
        this.stateAddr = state.address();
        this.descAddr = descriptors.address();
        this.swAddr = swRing.address();
    }

    /**
     * The queue memory another process set up, found by name (a secondary taking the queue over): checks the
     * magic and that the ring size in the state fits the memzone before using either.
     */
    public static QueueMemory attach(MemoryGroup group, String name, int magic, int minRing, int maxRing) {
        Memzone z = group.find(name).orElseThrow(() -> new IllegalStateException("no memzone " + name + " in memory "
                + "group '" + group.filePrefix() + "': the primary has not set up this queue (is the port started with "
                + "enough queues?)"));
        MemorySegment all = z.memory();
        if (all.byteSize() < STATE_BYTES || all.get(ValueLayout.JAVA_INT, S_MAGIC) != magic) {
            throw new IllegalStateException("memzone " + name + " holds no queue state of this driver (bad magic)");
        }
        int size = all.get(ValueLayout.JAVA_INT, S_SIZE);
        long bytes = STATE_BYTES + (long) size * AdvDescriptors.DESC_SIZE + 8L * size;
        if (size < minRing || size > maxRing || bytes > z.length()) {
            throw new IllegalStateException("memzone " + name + " names a ring of " + size + " descriptors, which does "
                    + "not fit its " + z.length() + " bytes (corrupted queue state)");
        }
        return new QueueMemory(z, size);
    }

    /**
     * The offload bits of the state block, checked against the {@code count} offloads there are: a bit above
     * them means the memory was overwritten.
     */
    public int offloads(int count, String what) {
        int bits = state.get(ValueLayout.JAVA_INT, S_OFFLOADS);
        if ((bits & ~((1 << count) - 1)) != 0) {
            throw new IllegalStateException(what + ": offload bits 0x" + Integer.toHexString(bits) + " name offloads "
                    + "that do not exist (corrupted queue state)");
        }
        return bits;
    }

    /** Reserves (or finds, after a stop/setup cycle) the memzone {@code name} for a ring of {@code size}. */
    public static QueueMemory reserve(MemoryGroup group, String name, int size, int magic) {
        long bytes = STATE_BYTES + (long) size * AdvDescriptors.DESC_SIZE + 8L * size;
        Memzone z = group.find(name).orElse(null);
        if (z != null && z.length() < bytes) {
            throw new IllegalStateException("memzone " + name + " of " + z.length() + " bytes is too small for a ring of "
                    + size + " (memzones cannot be freed yet: set up the queue with its first ring size)");
        }
        if (z == null) {
            // aligned to the next power of two so that the ring never crosses a page (PHYSICAL IOVAs)
            long align = Math.max(4096, Long.highestOneBit(bytes - 1) << 1);
            align = Math.min(align, group.pageSize().bytes());
            z = group.reserve(name, bytes, align);
        }
        if (!z.iovaContiguous()) {
            throw new IllegalStateException("memzone " + name + " is not IOVA-contiguous; the descriptor ring must be");
        }
        QueueMemory q = new QueueMemory(z, size);
        // a queue set up again keeps counting generations, so that a process still holding the old one resyncs
        int gen = q.state.get(ValueLayout.JAVA_INT, S_MAGIC) == magic ? (q.state.get(ValueLayout.JAVA_INT, S_GEN) | 1) + 1 : 0;
        q.descriptors.fill((byte) 0);
        q.swRing.fill((byte) 0);
        q.state.fill((byte) 0);
        q.state.set(ValueLayout.JAVA_INT, S_SIZE, size);
        q.state.set(ValueLayout.JAVA_INT, S_GEN, gen);
        q.state.set(ValueLayout.JAVA_INT, S_MAGIC, magic);
        return q;
    }
}
