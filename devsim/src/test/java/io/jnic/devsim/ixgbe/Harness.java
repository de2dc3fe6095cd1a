package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.DmaMap;
import io.jnic.devsim.InterruptSink;
import io.jnic.devsim.wire.Wire;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays the driver in tests: owns DMA memory registered with the model, writes trapped registers through
 * {@link Ixgbe82599#write32} and queue registers as stores into the shared BAR0 pages, and records
 * interrupts. Written from the datasheet's initialisation sequence (4.6), not from any driver.
 */
final class Harness implements AutoCloseable {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final VarHandle REG = LE_INT.varHandle();
    static final long IOVA_BASE = 0x4000_0000L;

    final Arena arena = Arena.ofShared();
    final DmaMap dma = new DmaMap();
    final MemorySegment mem;
    final Ixgbe82599 dev;
    final MemorySegment page;
    final List<Integer> vectors = new ArrayList<>();
    int legacyInterrupts;
    private long next;

    Harness(int lanId, byte[] mac, Wire wire) {
        mem = arena.allocate(16 << 20, 4096);
        dma.map(IOVA_BASE, mem);
        dev = new Ixgbe82599(lanId, mac, dma, wire);
        page = dev.bar0Memory();
        dev.setInterruptSink(new InterruptSink() {
            @Override
            public void msix(int vector) {
                vectors.add(vector);
            }

            @Override
            public void legacy() {
                legacyInterrupts++;
            }
        });
    }

    static byte[] mac(int last) {
        return new byte[] {0x02, 0x00, 0x00, 0x00, 0x00, (byte) last};
    }

    long alloc(long size) {
        long off = (next + 127) & ~127L;
        next = off + size;
        if (next > mem.byteSize()) {
            throw new IllegalStateException("harness DMA memory exhausted");
        }
        return IOVA_BASE + off;
    }

    MemorySegment at(long iova) {
        return mem.asSlice(iova - IOVA_BASE);
    }

    /** A register write as a driver does it: a store into a mapped queue page, else a trapped write. */
    void w(int off, int value) {
        if (Ixgbe82599.isQueuePage(off, 4)) {
            REG.setRelease(page, (long) off, value);
        } else {
            dev.write32(off, value);
        }
    }

    int r(int off) {
        if (Ixgbe82599.isQueuePage(off, 4)) {
            return (int) REG.getAcquire(page, (long) off);
        }
        return dev.read32(off);
    }

    void poll(int times) {
        for (int i = 0; i < times; i++) {
            dev.poll();
        }
    }

    /** 4.6.3: reset, wait for RST to clear, EEPROM auto-read and DMA init done; then wait for link. */
    void resetAndLinkUp() {
        w(CTRL, CTRL_RST);
        for (int i = 0; i < 100 && (r(CTRL) & CTRL_RST) != 0; i++) {
            dev.poll();
        }
        if ((r(CTRL) & CTRL_RST) != 0 || (r(EEC) & EEC_ARD) == 0 || (r(RDRXCTL) & RDRXCTL_DMAIDONE) == 0) {
            throw new AssertionError("device did not come out of reset");
        }
        w(AUTOC, (r(AUTOC) & ~AUTOC_LMS_MASK) | AUTOC_LMS_10G_SERIAL | AUTOC_AN_RESTART);
        for (int i = 0; i < 100 && (r(LINKS) & LINKS_UP) == 0; i++) {
            dev.poll();
        }
        r(EICR); // drop the LSC of the link coming up
    }

    /** An RX queue of {@code n} descriptors, each with a buffer of {@code bufKb} KB, all given to hardware. */
    long setupRx(int q, int n, int bufKb, boolean dropEn) {
        long ring = alloc((long) n * DESC_SIZE);
        for (int i = 0; i < n; i++) {
            long buf = alloc(bufKb * 1024L);
            armRx(ring, i, buf);
        }
        int base = rxq(q);
        w(base + RDBAL, (int) ring);
        w(base + RDBAH, (int) (ring >>> 32));
        w(base + RDLEN, n * DESC_SIZE);
        w(base + SRRCTL, bufKb | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT) | (dropEn ? SRRCTL_DROP_EN : 0));
        w(base + RDH, 0);
        w(base + RDT, 0);
        w(base + RXDCTL, r(base + RXDCTL) | RXDCTL_ENABLE);
        for (int i = 0; i < 10 && (r(base + RXDCTL) & RXDCTL_ENABLE) == 0; i++) {
            dev.poll();
        }
        dev.poll();
        w(base + RDT, n - 1);
        return ring;
    }

    void armRx(long ring, int i, long buf) {
        MemorySegment d = at(ring + (long) i * DESC_SIZE);
        d.set(LE_LONG, 0, buf);
        d.set(LE_LONG, 8, 0); // header buffer address 0; DD (bit 0 of the high qword) clear
    }

    long setupTx(int q, int n, long headWbIova) {
        long ring = alloc((long) n * DESC_SIZE);
        int base = txq(q);
        w(base + TDBAL, (int) ring);
        w(base + TDBAH, (int) (ring >>> 32));
        w(base + TDLEN, n * DESC_SIZE);
        w(base + TDH, 0);
        w(base + TDT, 0);
        if (headWbIova != 0) {
            w(base + TDWBAL, (int) headWbIova | TDWBAL_HEAD_WB_EN);
            w(base + TDWBAH, (int) (headWbIova >>> 32));
        }
        w(DMATXCTL, DMATXCTL_TE);
        w(base + TXDCTL, r(base + TXDCTL) | TXDCTL_ENABLE);
        dev.poll();
        return ring;
    }

    /** Fills TX descriptor {@code i} with one data buffer holding {@code frame}. */
    void txDescriptor(long ring, int i, long buf, byte[] frame, boolean rs) {
        at(buf).asSlice(0, frame.length).copyFrom(MemorySegment.ofArray(frame));
        MemorySegment d = at(ring + (long) i * DESC_SIZE);
        d.set(LE_LONG, 0, buf);
        int cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_DEXT | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | (rs ? TXD_CMD_RS : 0);
        d.set(LE_INT, 8, cmd | frame.length);
        d.set(LE_INT, 12, frame.length << 14); // PAYLEN
    }

    int rxStatus(long ring, int i) {
        return (int) REG.getAcquire(at(ring + (long) i * DESC_SIZE), 8L);
    }

    int rxLength(long ring, int i) {
        return at(ring + (long) i * DESC_SIZE).get(LE_INT, 12) & 0xFFFF;
    }

    int rxHash(long ring, int i) {
        return at(ring + (long) i * DESC_SIZE).get(LE_INT, 4);
    }

    int rxInfo(long ring, int i) {
        return at(ring + (long) i * DESC_SIZE).get(LE_INT, 0);
    }

    @Override
    public void close() {
        dev.close();
        arena.close();
    }
}
