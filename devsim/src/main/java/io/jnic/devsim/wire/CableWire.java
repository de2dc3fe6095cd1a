package io.jnic.devsim.wire;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * A cable between ports served by two devsim processes (two "hosts", each with its own process group): a
 * shared file, mapped by both, holding one single-producer/single-consumer ring of frame slots per direction.
 * The first process to plug into {@code PATH} takes end A, the second end B; an end whose process has died may
 * be taken by a new one (what was in flight towards it is discarded, as on a re-plugged cable).
 *
 * <p>Layout of the file (native byte order, both ends on one machine):
 * <pre>
 *   0    magic "JNICCABL" (8), version (4), slots per direction (4), slot size (4)
 *   64   end A: pid (8), heartbeat nanoTime (8)       128  end B: pid (8), heartbeat (8)
 *   1024 ring A->B: producer index (8) @1024, consumer index (8) @1152
 *   2048 ring B->A: producer index (8) @2048, consumer index (8) @2176
 *   4096 slots A->B, then slots B->A; a slot: frame length (4), pad (4), due nanoTime (8), frame bytes
 * </pre>
 * The indices count frames for ever (slot = index mod slots); the producer publishes a slot with a release
 * store of its index, the consumer frees it with a release store of its own. Carrier is up while the far end
 * is plugged and its process has beaten within the last second (a heartbeat, System.nanoTime, which is
 * CLOCK_MONOTONIC and so comparable between processes, stored every 50 ms by a daemon thread: a port whose
 * driver has not started yet still shows carrier, as a NIC with its cable in does).
 *
 * <p>Faults, per direction, applied by the sending end: added delay (a frame is due {@code delay} after it was
 * sent; the receiving end delivers it no earlier), drop probability, duplicate probability, reorder probability
 * (the frame is held back and sent after the next one, or after 100 us when no next one comes). A full ring
 * drops the frame (counted: {@link #overflows()}), as a receiver too slow for the wire would.
 */
public final class CableWire implements Wire {
    private static final System.Logger LOG = System.getLogger(CableWire.class.getName());
    static final long MAGIC = 0x4C4241434349_4E4AL; // "JNICCABL" read as a little-endian long
    static final int VERSION = 1;
    static final int HEADER_BYTES = 4096;
    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 8;
    static final long OFF_SLOTS = 12;
    static final long OFF_SLOT_SIZE = 16;
    static final long OFF_END = 64; // + 64 * end
    static final long END_STRIDE = 64;
    static final long END_PID = 0;
    static final long END_HEARTBEAT = 8;
    static final long OFF_RING = 1024; // + 1024 * direction
    static final long RING_STRIDE = 1024;
    static final long RING_PROD = 0;
    static final long RING_CONS = 128;
    static final int SLOT_LEN = 0;
    static final int SLOT_DUE = 8;
    static final int SLOT_DATA = 16;

    /** Frames per direction. At 1 Mpps this is 4 ms of added delay before the ring fills. */
    public static final int DEFAULT_SLOTS = 4096;
    /** Largest frame (without FCS) a cable carries: 9018-byte jumbo frames with FCS, plus a VLAN tag. */
    public static final int MAX_FRAME = 9018;
    static final int SLOT_SIZE = (SLOT_DATA + MAX_FRAME + 63) & ~63;
    /** Carrier is lost when the far end's process has not beaten for this long. */
    static final long HEARTBEAT_TIMEOUT_NANOS = 1_000_000_000L;
    static final long HEARTBEAT_PERIOD_MILLIS = 50;
    private static final java.util.List<CableWire> PLUGGED = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static Thread heart;
    static final long REORDER_HOLD_NANOS = 100_000;
    private static final int BATCH = 64;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Path path;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment map;
    private final int end; // 0 = A, 1 = B
    private final long pid = ProcessHandle.current().pid();
    private final int slots;
    private final long txSlots; // offset of the slots this end writes
    private final long rxSlots;
    private final long txRing;
    private final long rxRing;
    private FramePort port;
    private long txProd;
    private long txConsCache;
    private long rxCons;
    private final SplittableRandom random = new SplittableRandom();
    private final MemorySegment held = Arena.ofAuto().allocate(MAX_FRAME, 64);
    private int heldLen = -1;
    private long heldSince;
    private volatile boolean closed;

    // faults of the direction this end sends (volatile: set from the control thread)
    private volatile long delayNanos;
    private volatile double dropProbability;
    private volatile double duplicateProbability;
    private volatile double reorderProbability;

    private volatile long sent;
    private volatile long received;
    private volatile long overflows;
    private volatile long dropped;
    private volatile long duplicated;
    private volatile long reordered;

    /** Plugs into the cable at {@code path} (created if missing) with {@link #DEFAULT_SLOTS} slots per direction. */
    public CableWire(Path path) {
        this(path, DEFAULT_SLOTS);
    }

    public CableWire(Path path, int slots) {
        if (slots < 2 || Integer.bitCount(slots) != 1 || slots > 1 << 16) {
            throw new IllegalArgumentException("cable slots must be a power of two 2-65536, got " + slots);
        }
        this.path = path.toAbsolutePath();
        long size = HEADER_BYTES + 2L * slots * SLOT_SIZE;
        MemorySegment m;
        int e;
        int s;
        try {
            Path dir = this.path.getParent();
            if (dir != null && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException("cable " + this.path + ": directory " + dir + " does not exist; "
                        + "create it (both hosts' devsim must name the same file)");
            }
            try (FileChannel ch = FileChannel.open(this.path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
                if (ch.size() == 0) {
                    ch.truncate(0);
                    m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena); // grows the file (sparse)
                    m.set(ValueLayout.JAVA_INT, OFF_VERSION, VERSION);
                    m.set(ValueLayout.JAVA_INT, OFF_SLOTS, slots);
                    m.set(ValueLayout.JAVA_INT, OFF_SLOT_SIZE, SLOT_SIZE);
                    m.set(ValueLayout.JAVA_LONG, OFF_MAGIC, MAGIC);
                } else {
                    long have = ch.size();
                    if (have < HEADER_BYTES) {
                        throw new IllegalArgumentException("cable " + this.path + " is " + have + " bytes, not a cable file;"
                                + " remove it or name another file");
                    }
                    MemorySegment h = ch.map(FileChannel.MapMode.READ_ONLY, 0, HEADER_BYTES, arena);
                    if (h.get(ValueLayout.JAVA_LONG, OFF_MAGIC) != MAGIC
                            || h.get(ValueLayout.JAVA_INT, OFF_VERSION) != VERSION) {
                        throw new IllegalArgumentException("cable " + this.path + " is not a jnic cable file (version "
                                + VERSION + "); remove it or name another file");
                    }
                    s = h.get(ValueLayout.JAVA_INT, OFF_SLOTS);
                    int ss = h.get(ValueLayout.JAVA_INT, OFF_SLOT_SIZE);
                    if (s < 2 || Integer.bitCount(s) != 1 || s > 1 << 16 || ss != SLOT_SIZE
                            || have < HEADER_BYTES + 2L * s * ss) {
                        throw new IllegalArgumentException("cable " + this.path + " has a layout this devsim does not use ("
                                + s + " slots of " + ss + " bytes in " + have + " bytes); remove it when no devsim uses it");
                    }
                    slots = s;
                    size = HEADER_BYTES + 2L * s * SLOT_SIZE;
                    m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                }
                e = claim(m);
                if (e < 0) {
                    throw new IllegalStateException("cable " + this.path + " has both ends plugged already (pids "
                            + m.get(ValueLayout.JAVA_LONG, OFF_END + END_PID) + " and "
                            + m.get(ValueLayout.JAVA_LONG, OFF_END + END_STRIDE + END_PID)
                            + "); a cable joins two ports: give this port another cable file");
                }
            }
        } catch (IOException x) {
            arena.close();
            throw new IllegalStateException("cable " + this.path + ": " + x.getMessage(), x);
        } catch (RuntimeException x) {
            arena.close();
            throw x;
        }
        this.map = m;
        this.end = e;
        this.slots = slots;
        this.txSlots = HEADER_BYTES + (long) e * slots * SLOT_SIZE;
        this.rxSlots = HEADER_BYTES + (long) (1 - e) * slots * SLOT_SIZE;
        this.txRing = OFF_RING + (long) e * RING_STRIDE;
        this.rxRing = OFF_RING + (long) (1 - e) * RING_STRIDE;
        // what was sent to a previous holder of this end is not ours; what we send starts where it stopped
        this.txProd = (long) LONG.getAcquire(map, txRing + RING_PROD);
        this.txConsCache = (long) LONG.getAcquire(map, txRing + RING_CONS);
        this.rxCons = (long) LONG.getAcquire(map, rxRing + RING_PROD);
        LONG.setRelease(map, rxRing + RING_CONS, rxCons);
        beat(System.nanoTime());
        startHeart(this);
    }

    private static synchronized void startHeart(CableWire c) {
        PLUGGED.add(c);
        if (heart == null) {
            heart = new Thread(() -> {
                while (true) {
                    long now = System.nanoTime();
                    for (CableWire w : PLUGGED) {
                        w.beat(now);
                    }
                    try {
                        Thread.sleep(HEARTBEAT_PERIOD_MILLIS);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "devsim-cable-heartbeat");
            heart.setDaemon(true);
            heart.start();
        }
    }

    private static long holderOf(MemorySegment m, int e) {
        return m.get(ValueLayout.JAVA_LONG, OFF_END + e * END_STRIDE + END_PID);
    }

    /** Takes a free end (or one whose process is gone), under the file lock; -1 when both are held. */
    private int claim(MemorySegment m) {
        for (int e = 0; e < 2; e++) {
            long holder = holderOf(m, e);
            boolean alive = holder != 0 && ProcessHandle.of(holder).map(ProcessHandle::isAlive).orElse(false);
            if (holder == 0 || !alive) {
                if (holder != 0) {
                    LOG.log(System.Logger.Level.INFO, "cable {0}: end {1} was held by pid {2}, which has ended; taking it",
                            path, e == 0 ? "A" : "B", holder);
                }
                m.set(ValueLayout.JAVA_LONG, OFF_END + e * END_STRIDE + END_PID, pid);
                return e;
            }
        }
        return -1;
    }

    private synchronized void beat(long now) {
        if (!closed) {
            LONG.setOpaque(map, OFF_END + end * END_STRIDE + END_HEARTBEAT, now);
        }
    }

    public Path path() {
        return path;
    }

    /** "A" or "B". */
    public String end() {
        return end == 0 ? "A" : "B";
    }

    @Override
    public void attach(FramePort p) {
        this.port = p;
    }

    @Override
    public void transmit(MemorySegment frame, long offset, int length) {
        transmit(frame, offset, length, System.nanoTime());
    }

    /** The frame is due at the far end {@code delay} after {@code departNanos}, exactly (its IEEE 1588 arrival time). */
    @Override
    public void transmit(MemorySegment frame, long offset, int length, long departNanos) {
        if (closed || length <= 0 || length > MAX_FRAME) {
            return;
        }
        sent++;
        double drop = dropProbability;
        if (drop > 0 && random.nextDouble() < drop) {
            dropped++;
            return;
        }
        double reorder = reorderProbability;
        if (heldLen < 0 && reorder > 0 && random.nextDouble() < reorder) {
            MemorySegment.copy(frame, offset, held, 0, length);
            heldLen = length;
            heldSince = System.nanoTime();
            return;
        }
        long now = departNanos;
        push(frame, offset, length, now);
        if (heldLen >= 0) { // the held frame goes after this one: a swap
            push(held, 0, heldLen, now);
            heldLen = -1;
            reordered++;
        }
        double dup = duplicateProbability;
        if (dup > 0 && random.nextDouble() < dup) {
            push(frame, offset, length, now);
            duplicated++;
        }
    }

    private void push(MemorySegment frame, long offset, int length, long now) {
        if (txProd - txConsCache >= slots) {
            txConsCache = (long) LONG.getAcquire(map, txRing + RING_CONS);
            if (txProd - txConsCache >= slots) {
                overflows++;
                return;
            }
        }
        long slot = txSlots + (txProd & (slots - 1)) * SLOT_SIZE;
        map.set(ValueLayout.JAVA_INT, slot + SLOT_LEN, length);
        map.set(ValueLayout.JAVA_LONG, slot + SLOT_DUE, now + delayNanos);
        MemorySegment.copy(frame, offset, map, slot + SLOT_DATA, length);
        txProd++;
        LONG.setRelease(map, txRing + RING_PROD, txProd);
    }

    @Override
    public int poll(long nowNanos) {
        if (closed) {
            return 0;
        }
        if (heldLen >= 0 && nowNanos - heldSince > REORDER_HOLD_NANOS) {
            push(held, 0, heldLen, nowNanos); // nothing came to swap with
            heldLen = -1;
        }
        long prod = (long) LONG.getAcquire(map, rxRing + RING_PROD);
        int n = 0;
        while (rxCons != prod && n < BATCH) {
            if (prod - rxCons > slots || prod - rxCons < 0) { // a confused peer: resynchronise rather than read garbage
                LOG.log(System.Logger.Level.WARNING, "cable {0}: producer index {1} and consumer {2} are {3} apart with {4} "
                        + "slots; dropping what is in flight", path, prod, rxCons, prod - rxCons, slots);
                rxCons = prod;
                break;
            }
            long slot = rxSlots + (rxCons & (slots - 1)) * SLOT_SIZE;
            if (map.get(ValueLayout.JAVA_LONG, slot + SLOT_DUE) - nowNanos > 0) {
                break; // delayed: not due yet (frames are due in the order they were sent)
            }
            int len = map.get(ValueLayout.JAVA_INT, slot + SLOT_LEN);
            if (len > 0 && len <= MAX_FRAME && port != null) {
                port.receive(map, slot + SLOT_DATA, len, map.get(ValueLayout.JAVA_LONG, slot + SLOT_DUE));
                received++;
            }
            rxCons++;
            n++;
        }
        if (n > 0) {
            LONG.setRelease(map, rxRing + RING_CONS, rxCons);
        }
        return n;
    }

    @Override
    public boolean carrier() {
        if (closed) {
            return false;
        }
        long far = OFF_END + (1 - end) * END_STRIDE;
        if ((long) LONG.getOpaque(map, far + END_PID) == 0) {
            return false;
        }
        return System.nanoTime() - (long) LONG.getOpaque(map, far + END_HEARTBEAT) < HEARTBEAT_TIMEOUT_NANOS;
    }

    /** The far end's pid, 0 when nothing is plugged there. */
    public long peerPid() {
        return (long) LONG.getOpaque(map, OFF_END + (1 - end) * END_STRIDE + END_PID);
    }

    /** Added one-way delay of frames this end sends. */
    public void delayNanos(long nanos) {
        if (nanos < 0 || nanos > 1_000_000_000L) {
            throw new IllegalArgumentException("cable delay must be 0-1 s, got " + nanos + " ns");
        }
        delayNanos = nanos;
    }

    public long delayNanos() {
        return delayNanos;
    }

    public void dropProbability(double p) {
        dropProbability = probability("drop", p);
    }

    public void duplicateProbability(double p) {
        duplicateProbability = probability("dup", p);
    }

    public void reorderProbability(double p) {
        reorderProbability = probability("reorder", p);
    }

    private static double probability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("cable " + what + " probability must be 0-1, got " + p);
        }
        return p;
    }

    public long sent() {
        return sent;
    }

    public long received() {
        return received;
    }

    /** Frames lost because the far end had not taken the ring's frames yet (the ring was full). */
    public long overflows() {
        return overflows;
    }

    /** Frames the drop fault took. */
    public long dropped() {
        return dropped;
    }

    public long duplicated() {
        return duplicated;
    }

    public long reordered() {
        return reordered;
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder("cable ").append(path).append(" end ").append(end()).append(", other end ");
        long peer = peerPid();
        sb.append(peer == 0 ? "missing" : carrier() ? "pid " + peer : "pid " + peer + " (not turning)");
        if (delayNanos > 0) {
            sb.append(", delay ").append(delayNanos / 1000).append(" us");
        }
        if (dropProbability > 0) {
            sb.append(", drop ").append(dropProbability);
        }
        if (duplicateProbability > 0) {
            sb.append(", dup ").append(duplicateProbability);
        }
        if (reorderProbability > 0) {
            sb.append(", reorder ").append(reorderProbability);
        }
        return sb.toString();
    }

    /** Unplugs: frees this end; the last end to go removes the file. */
    @Override
    public void close() {
        synchronized (this) { // not while the heart beats into the map
            if (closed) {
                return;
            }
            closed = true;
        }
        PLUGGED.remove(this);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            map.set(ValueLayout.JAVA_LONG, OFF_END + end * END_STRIDE + END_PID, 0L);
            if (map.get(ValueLayout.JAVA_LONG, OFF_END + (1 - end) * END_STRIDE + END_PID) == 0) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | RuntimeException x) {
            LOG.log(System.Logger.Level.DEBUG, "cable " + path + ": unplugging", x);
        } finally {
            arena.close();
        }
    }
}
