package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * BAR0's register file (datasheet chapter 8): 128 KB of little-endian registers in a memfd, so that a transport can
 * hand the queue-register pages to the driver as sparse mmap areas while every other offset traps. Knows which
 * offsets are plain storage (no side effects) and which lie in the mapped pages; the registers with side effects
 * are dispatched by {@link Ixgbe82599}. Accessed under the port's monitor; the mapped pages with acquire/release,
 * since the driver stores to them directly.
 */
final class RegisterFile {
    private static final System.Logger LOG = System.getLogger(Ixgbe82599.class.getName());
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Acquire/release access to a little-endian int of any segment (registers, descriptor status words). */
    static final VarHandle REG = LE_INT.varHandle();

    /** {offset, length} of the BAR0 pages offered as sparse mmap areas (all other offsets trap). */
    private static final long[][] QUEUE_PAGES = {{0x1000, 0x1000}, {0x6000, 0x2000}, {0xD000, 0x1000}};

    /** Registers that are plain read/write storage in this model (no side effects). */
    private static final BitSet PLAIN = new BitSet(BAR0_SIZE / 4);

    static {
        int[] singles = {CTRL_EXT, FCTRL, HLREG0, MAXFRS, RXCTRL, DMATXCTL, MRQC, RXCSUM, MTQC, RTTDCS, EIAC,
            EIAM, GPIE, IVAR_MISC, 0x05088 /* VLNCTRL */, 0x05090 /* MCSTCTRL */, 0x04294 /* MFLCN */,
            0x03D00 /* FCCFG */, 0x08800 /* SECTXCTRL */, 0x08D00 /* SECRXCTRL */, 0x08100 /* DTXMXSZRQ */,
            0x02F20 /* RDDCC */, 0x05008 /* RFCTL */, 0x03D04 /* DROPEN */,
            // written at probe / link-up by Linux's ixgbe and DPDK's PMD and read back (read-modify-write): kept
            0x00200 /* LEDCTL */, 0x04208 /* PCS1GLCTL */, 0x04218 /* PCS1GANA */, 0x032A0 /* FCRTV */,
            0x11050 /* GCR_EXT */, 0x00894 /* EITRSEL */, 0x04904 /* RTTDQSEL */, 0x04984 /* RTTBCNRC */,
            0x051B0 /* PFVTCTL */, 0x04330 /* MACC */};
        for (int s : singles) {
            PLAIN.set(s >>> 2);
        }
        range(RXPBSIZE0, 8, 4);
        range(TXPBSIZE0, 8, 4);
        range(RETA0, RETA_REGS, 4);
        range(RSSRK0, RSSRK_REGS, 4);
        range(RAL0, 2 * RAR_ENTRIES, 4);
        range(MTA0, 128, 4);
        range(IVAR0, IVAR_COUNT, 4);
        range(EITR0, 24, 4);
        range(EITR24, 40, 4);
        range(0x02300, 32, 4); // RQSMR: queue -> statistics index
        range(0x08600, 32, 4); // TQSM
        range(0x03220, 8, 4); // FCRTL
        range(0x03260, 8, 4); // FCRTH
        range(0x03200, 4, 4); // FCTTV
        range(0x05480, 16, 4); // PSRTYPE
        range(0x04950, 8, 4); // TXPBTHRESH
        range(0x0A000, 128, 4); // VFTA
    }

    private static void range(int first, int count, int stride) {
        for (int i = 0; i < count; i++) {
            PLAIN.set((first + i * stride) >>> 2);
        }
    }

    private final String name;
    private final int fd;
    private final MemorySegment bar0;
    private final BitSet loggedOffsets = new BitSet(BAR0_SIZE / 4);

    /** A zeroed BAR0 in a new memfd; {@code name} is the port's, for log lines. */
    RegisterFile(String name) {
        this.name = name;
        this.fd = Mman.memfdCreate("devsim-82599-bar0", Mman.MFD_CLOEXEC);
        try {
            Io.ftruncate(fd, BAR0_SIZE);
            this.bar0 = Mman.mmap(BAR0_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        } catch (RuntimeException e) {
            Io.closeQuietly(fd);
            throw e;
        }
    }

    /** See {@link Ixgbe82599#queuePages()}. */
    static List<long[]> queuePages() {
        List<long[]> l = new ArrayList<>();
        for (long[] p : QUEUE_PAGES) {
            l.add(p.clone());
        }
        return l;
    }

    /** True when {@code [offset, offset + length)} lies in a queue page the driver may map. */
    static boolean isQueuePage(long offset, long length) {
        for (long[] p : QUEUE_PAGES) {
            if (offset >= p[0] && offset + length <= p[0] + p[1]) {
                return true;
            }
        }
        return false;
    }

    /** True for the registers that are plain storage in this model. */
    static boolean isPlain(int off) {
        return PLAIN.get(off >>> 2);
    }

    /** True for the registers of RX queues 0-63 (0x1000) and 64-127 (0xD000). */
    static boolean isRxQueueRegister(int off) {
        return (off >= RXQ_BASE_LO && off < RXQ_BASE_LO + 0x1000) || (off >= RXQ_BASE_HI && off < RXQ_BASE_HI + 0x1000);
    }

    static void checkOffset(long offset, long size) {
        if (offset < 0 || offset > size - 4 || (offset & 3) != 0) {
            throw new IllegalArgumentException("register offset 0x" + Long.toHexString(offset)
                    + " is not a 4-byte aligned offset inside the " + size + "-byte BAR");
        }
    }

    int fd() {
        return fd;
    }

    MemorySegment memory() {
        return bar0;
    }

    /** A register the driver reaches only through traps (plain load). */
    int reg(int off) {
        return bar0.get(LE_INT, off);
    }

    void setReg(int off, int value) {
        bar0.set(LE_INT, off, value);
    }

    /** A register in a mapped page, which the driver may have stored to directly. */
    int acquire(int off) {
        return (int) REG.getAcquire(bar0, (long) off);
    }

    /** Stores a register in a mapped page so that the driver's loads see what was written before it. */
    void release(int off, int value) {
        REG.setRelease(bar0, (long) off, value);
    }

    /** Every register 0 (the start of a reset). */
    void clear() {
        bar0.fill((byte) 0);
    }

    /** A value the model cannot act on (a tail outside the ring, an unmodelled descriptor type): logged once per register. */
    void badValue(int off, String what) {
        if (!loggedOffsets.get(off >>> 2)) {
            loggedOffsets.set(off >>> 2);
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} (logged once)", name, what);
        }
    }

    void close() {
        Mman.munmap(bar0);
        Io.closeQuietly(fd);
    }
}
