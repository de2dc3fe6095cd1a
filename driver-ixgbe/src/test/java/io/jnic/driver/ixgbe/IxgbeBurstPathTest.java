package io.jnic.driver.ixgbe;

import io.jnic.driver.intel.QueueMemory;
import io.jnic.driver.intel.RxQueue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The burst paths descriptor by descriptor: the test plays the device on a register-file port (it writes RX
 * write-backs and TX DD bits itself), so it can put any status at any place of a run of four, stop a run where it
 * likes and hold TX completions back, and check every descriptor, software ring slot, mbuf header and doorbell the
 * driver wrote. The pool has no lcore caches, so its free ring's count says where every mbuf is.
 */
class IxgbeBurstPathTest {
    private static final int RING = 64;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final int DD_EOP = 0x3;
    private static final int RXE = 1 << 29;

    @TempDir
    Path dir;

    private MemoryGroup mem;
    private Mempool pool;
    private EthPorts ports;
    private RegisterFileDevice regs;
    private IxgbeDevice dev;
    private MemorySegment rxDesc;
    private MemorySegment rxSw;
    private MemorySegment rxState;
    private MemorySegment txDesc;
    private MemorySegment txState;
    /** The RX descriptor the "device" writes back next. */
    private int devRx;
    /** Frames written back so far: each frame's sequence number is its RSS hash, its length follows from it. */
    private int seq;
    private final Mbuf m = new Mbuf();

    @BeforeEach
    void setUp() {
        TestResources.assumeLockable(16 << 20);
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("bp" + Proc.getpid() + "_").runtimeDir(dir).noHuge()
                .size(16 << 20).iovaMode(IovaMode.ASSIGNED).build());
        MempoolConfig c = MempoolConfig.of("burstpath", 78, 1023);
        Memzone z = mem.reserve("pool", Mempool.bytesNeeded(c, 4096), 4096);
        pool = Mempool.create(z.memory(), c, z::iova, 4096);
        ports = new EthPorts(mem);
        regs = new RegisterFileDevice();
        dev = (IxgbeDevice) ports.probe(regs);
        dev.configure(PortConfig.of(1, 1));
        dev.rxQueueSetup(0, RING, pool);
        dev.txQueueSetup(0, RING);
        dev.start();
        MemorySegment rz = mem.lookup("jnic.p" + dev.portId() + ".rxq0").memory();
        MemorySegment tz = mem.lookup("jnic.p" + dev.portId() + ".txq0").memory();
        rxState = rz.asSlice(0, QueueMemory.STATE_BYTES);
        rxDesc = rz.asSlice(QueueMemory.STATE_BYTES, RING * 16L);
        rxSw = rz.asSlice(QueueMemory.STATE_BYTES + RING * 16L, RING * 8L);
        txState = tz.asSlice(0, QueueMemory.STATE_BYTES);
        txDesc = tz.asSlice(QueueMemory.STATE_BYTES, RING * 16L);
    }

    @AfterEach
    void tearDown() {
        if (mem != null) {
            ports.close();
            pool.close();
            mem.close();
        }
    }

    // ---------------------------------------------------------------------------------------------- RX

    @Test
    void everyBurstSizeFrom1To32ArrivesInOrderOverManyWraps() {
        MbufBatch b = new MbufBatch(32);
        int total = 0;
        for (int round = 0; round < 12; round++) {
            for (int s = 1; s <= 32; s++) {
                int first = seq;
                writeBackFrames(s);
                assertEquals(s, dev.rxBurst(0, b), "burst of " + s + " in round " + round);
                checkFrames(b, first, s);
                checkRearmedAndTail();
                b.free(Mempool.LCORE_ANY);
                total += s;
            }
        }
        assertEquals(12 * 528, total);
        assertTrue(total / RING > 90, "the ring wrapped " + total / RING + " times");
        assertEquals(total, dev.stats().qIpackets[0]);
        assertEquals(0, dev.stats().qErrors[0]);
    }

    @Test
    void aBurstTakesNoMoreThanTheBatchHasRoomFor() {
        for (int cap = 1; cap <= 9; cap++) {
            MbufBatch b = new MbufBatch(cap);
            int first = seq;
            writeBackFrames(cap + 3);
            assertEquals(cap, dev.rxBurst(0, b));
            checkFrames(b, first, cap);
            b.free(Mempool.LCORE_ANY);
            MbufBatch rest = new MbufBatch(32);
            assertEquals(3, dev.rxBurst(0, rest));
            checkFrames(rest, first + cap, 3);
            checkRearmedAndTail();
            rest.free(Mempool.LCORE_ANY);
        }
        // a batch already holding packets is appended to
        MbufBatch b = new MbufBatch(8);
        assertTrue(b.alloc(pool, 5, Mempool.LCORE_ANY));
        long keep = b.get(4);
        writeBackFrames(6);
        assertEquals(3, dev.rxBurst(0, b));
        assertEquals(keep, b.get(4));
        assertEquals(8, b.count());
        b.free(Mempool.LCORE_ANY);
        MbufBatch rest = new MbufBatch(32);
        assertEquals(3, dev.rxBurst(0, rest));
        rest.free(Mempool.LCORE_ANY);
    }

    @Test
    void aBadWriteBackAtEveryPlaceOfARunIsDroppedAndTheOthersKeepTheirOrder() {
        MbufBatch b = new MbufBatch(32);
        // each kind of bad write-back: status word, length, and which shared counter it goes to
        int[][] kinds = {{DD_EOP | RXE, 60, 0}, {0x1, 60, 0}, {DD_EOP, 0, 1}, {DD_EOP, 4000, 1}};
        long errors = 0;
        for (int start = 0; start < 4; start++) {
            for (int pos = 0; pos < 8; pos++) {
                for (int[] kind : kinds) {
                    // descriptors are read in runs of four from where the ring stands: vary that too
                    int skip = (start - devRx % 4 + 4) % 4;
                    if (skip > 0) {
                        writeBackFrames(skip);
                        assertEquals(skip, dev.rxBurst(0, b));
                        b.free(Mempool.LCORE_ANY);
                    }
                    long badLen = rxState.get(J, QueueMemory.S_BAD_LENGTH);
                    long badStatus = rxState.get(J, QueueMemory.S_BAD_STATUS);
                    int first = seq;
                    int badAt = (devRx + pos) % RING;
                    long bufBefore = rxDesc.get(J, badAt * 16L);
                    long slotBefore = rxSw.get(J, badAt * 8L);
                    for (int k = 0; k < 8; k++) {
                        if (k == pos) {
                            writeBack(devRx, kind[0], kind[1], seq++);
                            devRx = (devRx + 1) % RING;
                        } else {
                            writeBackFrames(1);
                        }
                    }
                    assertEquals(7, dev.rxBurst(0, b), "bad write-back at " + pos + " of a run from " + start);
                    for (int k = 0, n = 0; k < 8; k++) {
                        if (k != pos) {
                            checkFrame(b.get(n++), first + k);
                        }
                    }
                    errors++;
                    assertEquals(errors, dev.stats().qErrors[0]);
                    assertEquals(badLen + kind[2], rxState.get(J, QueueMemory.S_BAD_LENGTH));
                    assertEquals(badStatus + 1 - kind[2], rxState.get(J, QueueMemory.S_BAD_STATUS));
                    // the dropped frame's buffer went back to the device in its own slot, done bit clear
                    assertEquals(bufBefore, rxDesc.get(J, badAt * 16L));
                    assertEquals(slotBefore, rxSw.get(J, badAt * 8L));
                    assertEquals(0, rxDesc.get(I, badAt * 16L + 8));
                    checkRearmedAndTail();
                    b.free(Mempool.LCORE_ANY);
                }
            }
        }
        // only bad write-backs: nothing out, everything counted, the ring still full of buffers
        for (int k = 0; k < 6; k++) {
            writeBack(devRx, DD_EOP | RXE, 60, seq++);
            devRx = (devRx + 1) % RING;
        }
        assertEquals(0, dev.rxBurst(0, b));
        assertEquals(errors + 6, dev.stats().qErrors[0]);
        checkRearmedAndTail();
        int spare = pool.inUseCount() - RING;
        assertTrue(spare >= 0 && spare <= RxQueue.REFILL, "the ring's buffers and at most one refill ahead: " + spare);
    }

    @Test
    void aDescriptorWithoutDoneStopsTheBurstExactlyThere() {
        MbufBatch b = new MbufBatch(32);
        for (int gapAt = 0; gapAt < 9; gapAt++) {
            int first = seq;
            int base = devRx;
            // frames 0..gapAt-1 and gapAt+1..gapAt+4 written back; gapAt not (yet)
            for (int k = 0; k <= gapAt + 4; k++) {
                if (k != gapAt) {
                    writeBack((base + k) % RING, DD_EOP, lengthOf(first + k), first + k);
                }
            }
            assertEquals(gapAt, dev.rxBurst(0, b), "gap at " + gapAt);
            checkFrames(b, first, gapAt);
            b.free(Mempool.LCORE_ANY);
            for (int k = gapAt + 1; k <= gapAt + 4; k++) {
                assertEquals(DD_EOP, rxDesc.get(I, (base + k) % RING * 16L + 8), "descriptor after the gap was touched");
            }
            assertEquals(0, dev.rxBurst(0, b), "still nothing at the gap");
            writeBack((base + gapAt) % RING, DD_EOP, lengthOf(first + gapAt), first + gapAt);
            assertEquals(5, dev.rxBurst(0, b));
            checkFrames(b, first + gapAt, 5);
            b.free(Mempool.LCORE_ANY);
            seq = first + gapAt + 5;
            devRx = (base + gapAt + 5) % RING;
            checkRearmedAndTail();
        }
    }

    @Test
    void anEmptyPoolKeepsFramesInTheRingUntilBuffersComeBack() {
        MbufBatch b = new MbufBatch(32);
        writeBackFrames(40);
        int first = seq - 40;
        long[] all = new long[pool.availableCount()];
        assertTrue(pool.allocBulk(all, 0, all.length, Mempool.LCORE_ANY));
        assertEquals(0, dev.rxBurst(0, b), "no fresh buffer for the slots: the frames wait in the ring");
        assertEquals(1, dev.stats().rxNombuf);
        Mempool.freeBulk(all, 0, all.length, Mempool.LCORE_ANY);
        assertEquals(32, dev.rxBurst(0, b));
        checkFrames(b, first, 32);
        b.free(Mempool.LCORE_ANY);
        assertEquals(8, dev.rxBurst(0, b));
        checkFrames(b, first + 32, 8);
        b.free(Mempool.LCORE_ANY);
        checkRearmedAndTail();
    }

    private static int lengthOf(int s) {
        return 60 + s % 1400;
    }

    private void writeBackFrames(int n) {
        for (int k = 0; k < n; k++) {
            writeBack(devRx, DD_EOP, lengthOf(seq), seq);
            seq++;
            devRx = (devRx + 1) % RING;
        }
    }

    /** A write-back as 7.1.6.2 lays it out: RSS type (1 on odd frames) and hash, status/error, length. */
    private void writeBack(int i, int status, int len, int hash) {
        long d = i * 16L;
        assertNotEquals(0L, rxDesc.get(J, d), "descriptor " + i + " holds no buffer");
        assertEquals(0, rxDesc.get(I, d + 8) & 1, "descriptor " + i + " was not handed back (DD still set)");
        rxDesc.set(I, d, hash & 1);
        rxDesc.set(I, d + 4, hash);
        rxDesc.set(I, d + 12, len);
        rxDesc.set(I, d + 8, status);
    }

    private void checkFrames(MbufBatch b, int first, int n) {
        assertEquals(n, b.count());
        for (int k = 0; k < n; k++) {
            checkFrame(b.get(k), first + k);
        }
    }

    private void checkFrame(long h, int s) {
        m.wrap(h);
        assertEquals(s, m.rssHash(), "frame order");
        assertEquals(lengthOf(s), m.pktLen());
        assertEquals(lengthOf(s), m.dataLen());
        assertEquals(0, m.vlanTci());
        assertEquals(dev.portId(), m.port());
        assertEquals((s & 1) != 0 ? MbufFlags.RX_RSS_HASH : 0, m.olFlags());
        assertEquals(pool.headroom(), m.dataOff());
        assertEquals(1, m.refcnt());
    }

    /** Every descriptor holds the buffer of its slot, distinct mbufs, none marked done; RDT is one behind next. */
    private void checkRearmedAndTail() {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < RING; i++) {
            long h = rxSw.get(J, i * 8L);
            assertTrue(seen.add(h), "slot " + i + " holds mbuf 0x" + Long.toHexString(h) + " twice");
            if (rxDesc.get(I, i * 16L + 8) == 0) { // not a write-back waiting to be read
                assertEquals(m.wrap(h).bufIova() + pool.headroom(), rxDesc.get(J, i * 16L), "descriptor " + i);
            }
        }
        int next = rxState.get(I, QueueMemory.S_NEXT);
        assertEquals(devRx, next);
        assertEquals((next + RING - 1) % RING, regs.bar(0).read32(IxgbeRegs.rxq(0) + IxgbeRegs.RDT));
    }

    // ---------------------------------------------------------------------------------------------- TX

    @Test
    void everyTxBurstSizeIsWrittenDescriptorByDescriptorAndEveryMbufFreedOnce() {
        int base = pool.ring().count(); // the RX ring and its spare buffers are out
        MbufBatch b = new MbufBatch(32);
        int tail = 0;
        int devDone = 0; // descriptors the "device" has completed (mod RING)
        long sent = 0;
        int partial = 0;
        for (int round = 0; round < 10; round++) {
            for (int s = 1; s <= 32; s++) {
                assertTrue(b.alloc(pool, s, Mempool.LCORE_ANY));
                long[] hs = new long[s];
                for (int k = 0; k < s; k++) {
                    hs[k] = b.get(k);
                    m.wrap(hs[k]).dataOff(64 + k).dataLen(60 + k + s).pktLen(60 + k + s);
                }
                for (int off = 0; ; ) {
                    int n = dev.txBurst(0, b);
                    assertEquals(s - off - n, b.count());
                    for (int k = off; k < off + n; k++) {
                        int t = (tail + k - off) % RING;
                        long d = t * 16L;
                        int len = 60 + k + s;
                        assertEquals(m.wrap(hs[k]).bufIova() + 64 + k, txDesc.get(J, d), "address of descriptor " + t);
                        int cmd = txDesc.get(I, d + 8);
                        boolean rs = t % 32 == 31;
                        assertEquals(0x3 << 20 | 1 << 29 | 1 << 25 | 1 << 24 | (rs ? 1 << 27 : 0) | len, cmd, "cmd of " + t);
                        assertEquals(len << 14, txDesc.get(I, d + 12), "olinfo of " + t);
                    }
                    tail = (tail + n) % RING;
                    sent += n;
                    off += n;
                    assertEquals(tail, regs.bar(0).read32(IxgbeRegs.txq(0) + IxgbeRegs.TDT));
                    if (b.count() == 0) {
                        break;
                    }
                    partial++;
                    devDone = complete(devDone, tail); // the ring was full: the device catches up
                }
                // the device completes up to the tail every third burst, lagging otherwise
                if (s % 3 == 0) {
                    devDone = complete(devDone, tail);
                }
                int inFlight = txState.get(I, QueueMemory.S_INFLIGHT);
                assertTrue(inFlight >= 0 && inFlight < RING, "in flight " + inFlight);
                assertEquals(base - inFlight, pool.ring().count(), "every mbuf not in flight is back in the pool, once");
            }
        }
        assertEquals(sent, dev.stats().qOpackets[0]);
        assertTrue(partial > 0, "the ring ran full now and then");
        assertTrue(sent / RING > 60, "the ring wrapped " + sent / RING + " times");
        dev.stop();
        assertEquals(pool.count(), pool.ring().count(), "all mbufs back after stop");
        long[] all = new long[pool.count()];
        assertTrue(pool.allocBulk(all, 0, all.length, Mempool.LCORE_ANY));
        Set<Long> distinct = new HashSet<>();
        for (long h : all) {
            distinct.add(h);
        }
        assertEquals(pool.count(), distinct.size(), "an mbuf was freed twice");
        assertFalse(pool.allocBulk(new long[1], 0, 1, Mempool.LCORE_ANY));
        Mempool.freeBulk(all, 0, all.length, Mempool.LCORE_ANY);
    }

    /** Allocates {@code n} 60-byte frames into the empty batch {@code b}. */
    private boolean frames(MbufBatch b, int n, int lcore) {
        if (!b.alloc(pool, n, lcore)) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            m.wrap(b.get(k)).dataLen(60).pktLen(60);
        }
        return true;
    }

    /** The device's completion up to {@code tail}: DD written back on the RS descriptors it passes. */
    private int complete(int done, int tail) {
        while (done != tail) {
            if (done % 32 == 31) {
                txDesc.set(I, done * 16L + 12, txDesc.get(I, done * 16L + 12) | 1);
            }
            done = (done + 1) % RING;
        }
        return done;
    }

    @Test
    void aFullTxRingKeepsTheRestInTheBatchUntilTheDeviceIsDone() {
        int base = pool.ring().count();
        MbufBatch b = new MbufBatch(32);
        assertTrue(frames(b, 32, Mempool.LCORE_ANY));
        assertEquals(32, dev.txBurst(0, b));
        assertTrue(frames(b, 32, Mempool.LCORE_ANY));
        long kept = b.get(31);
        assertEquals(31, dev.txBurst(0, b), "one descriptor stays free: RING - 1 in flight");
        assertEquals(1, b.count());
        assertEquals(kept, b.get(0), "the unsent packet moved to the front");
        assertEquals(0, dev.txBurst(0, b), "ring full, the device done with nothing");
        assertEquals(1, b.count());
        assertEquals(base - 64, pool.ring().count(), "63 in flight, 1 in the batch");
        // the device finishes the first group: one DD on its RS descriptor frees 32 at once
        txDesc.set(I, 31 * 16L + 12, txDesc.get(I, 31 * 16L + 12) | 1);
        assertEquals(1, dev.txBurst(0, b));
        assertEquals(0, b.count());
        assertEquals(base - 64 + 32, pool.ring().count());
        assertEquals(63 - 32 + 1, txState.get(I, QueueMemory.S_INFLIGHT));
        assertEquals(32, txState.get(I, QueueMemory.S_CLEAN));
        // DD on a descriptor without RS frees nothing
        txDesc.set(I, 40 * 16L + 12, txDesc.get(I, 40 * 16L + 12) | 1);
        assertTrue(frames(b, 31, Mempool.LCORE_ANY));
        assertEquals(31, dev.txBurst(0, b));
        assertTrue(frames(b, 1, Mempool.LCORE_ANY));
        assertEquals(0, dev.txBurst(0, b));
        b.free(Mempool.LCORE_ANY);
        assertEquals(base - 63, pool.ring().count());
    }

    @Test
    void aBadHandleInTheMiddleOfABurstSendsThoseBeforeItAndKeepsTheRest() {
        MbufBatch b = new MbufBatch(8);
        assertTrue(b.alloc(pool, 6, Mempool.LCORE_ANY));
        for (int k = 0; k < 6; k++) {
            m.wrap(b.get(k)).dataLen(100).pktLen(100);
        }
        long good4 = b.get(4);
        long[] h = b.handles();
        h[3] = h[3] + pool.segment().byteSize(); // past the end of its pool's memory
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> dev.txBurst(0, b));
        assertTrue(e.getMessage().contains("outside the memory of its pool"), e.getMessage());
        assertEquals(3, b.count(), "three sent; the bad one and the two after it stay");
        assertEquals(good4, b.get(1));
        assertEquals(3, txState.get(I, QueueMemory.S_INFLIGHT));
        h[0] = 0;
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> dev.txBurst(0, b));
        assertTrue(e.getMessage().contains("null handle"), e.getMessage());
        assertEquals(3, b.count());
    }
}
