package io.jnic.pci.testbed;

import io.jnic.pci.PciBar;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Just enough of the Intel 82574 (e1000e) to prove DMA and interrupts through a transport: reset, one
 * legacy TX descriptor, and interrupt causes set by software. Register offsets and bits from the 82574
 * datasheet, chapter 10 (register descriptions) and section 3.3 (transmit descriptors).
 */
final class E1000e {
    static final int VENDOR_INTEL = 0x8086;
    static final int DEVICE_82574L = 0x10d3;

    static final int CTRL = 0x00000;
    static final int STATUS = 0x00008;
    static final int ICR = 0x000c0;
    static final int ICS = 0x000c8;
    static final int IMS = 0x000d0;
    static final int IMC = 0x000d8;
    static final int IVAR = 0x000e4;
    static final int TCTL = 0x00400;
    static final int TDBAL = 0x03800;
    static final int TDBAH = 0x03804;
    static final int TDLEN = 0x03808;
    static final int TDH = 0x03810;
    static final int TDT = 0x03818;
    static final int GPTC = 0x04080;

    static final int CTRL_RST = 1 << 26;
    static final int STATUS_FD = 1 << 0;
    static final int STATUS_LU = 1 << 1;
    static final int ICR_LSC = 1 << 2;
    static final int ICR_OTHER = 1 << 24;
    static final int IVAR_VALID = 0x8;
    static final int IVAR_OTHER_SHIFT = 16;
    static final int TCTL_EN = 1 << 1;
    static final int TCTL_PSP = 1 << 3;
    static final int TCTL_CT_SHIFT = 4;
    static final int TCTL_COLD_SHIFT = 12;

    /** Legacy TX descriptor (datasheet 3.3.3): buffer address, length, CSO, CMD, STA, CSS, special. */
    static final int TXD_SIZE = 16;
    static final int TXD_LENGTH = 8;
    static final int TXD_CMD = 11;
    static final int TXD_STATUS = 12;
    static final int TXD_CMD_EOP = 0x01;
    static final int TXD_CMD_IFCS = 0x02;
    static final int TXD_CMD_RS = 0x08;
    static final int TXD_STA_DD = 0x01;
    static final int RING_ENTRIES = 8;

    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();

    private E1000e() {
    }

    /** Software reset with every interrupt masked; waits for CTRL.RST to self-clear. */
    static void reset(PciBar bar) throws InterruptedException {
        bar.write32(IMC, -1);
        bar.write32(CTRL, bar.read32(CTRL) | CTRL_RST);
        for (int i = 0; i < 1000 && (bar.read32(CTRL) & CTRL_RST) != 0; i++) {
            Thread.sleep(1);
        }
        if ((bar.read32(CTRL) & CTRL_RST) != 0) {
            throw new AssertionError("CTRL.RST did not clear after reset");
        }
        bar.write32(IMC, -1);
        bar.read32(ICR); // clear-on-read: drop causes left from before
    }

    /**
     * Sends one broadcast frame from {@code mem} (ring at offset 0, frame at 4096), which the device reaches
     * at {@code dma}; returns true when the device wrote the descriptor's DD bit back (it read the ring and
     * the frame, and wrote the ring: DMA both ways).
     */
    static boolean transmitOne(PciBar bar, MemorySegment mem, long dma) throws InterruptedException {
        long ring = 0;
        long buf = 4096;
        mem.asSlice(0, 8192).fill((byte) 0);
        for (int i = 0; i < 6; i++) {
            mem.set(ValueLayout.JAVA_BYTE, buf + i, (byte) 0xff);
        }
        mem.set(ValueLayout.JAVA_BYTE, buf + 6, (byte) 0x02); // locally administered source
        mem.set(ValueLayout.JAVA_BYTE, buf + 12, (byte) 0x88); // 0x88b5: IEEE local experimental ethertype
        mem.set(ValueLayout.JAVA_BYTE, buf + 13, (byte) 0xb5);
        mem.set(ValueLayout.JAVA_LONG_UNALIGNED, ring, dma + buf);
        mem.set(ValueLayout.JAVA_SHORT_UNALIGNED, ring + TXD_LENGTH, (short) 60);
        mem.set(ValueLayout.JAVA_BYTE, ring + TXD_CMD, (byte) (TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS));
        bar.write32(TDBAL, (int) (dma + ring));
        bar.write32(TDBAH, (int) ((dma + ring) >>> 32));
        bar.write32(TDLEN, RING_ENTRIES * TXD_SIZE);
        bar.write32(TDH, 0);
        bar.write32(TDT, 0);
        bar.write32(TCTL, TCTL_EN | TCTL_PSP | (0x0f << TCTL_CT_SHIFT) | (0x3f << TCTL_COLD_SHIFT));
        bar.write32(TDT, 1);
        for (int i = 0; i < 2000; i++) {
            if (((byte) BYTE.getVolatile(mem, ring + TXD_STATUS) & TXD_STA_DD) != 0) {
                return true;
            }
            Thread.sleep(1);
        }
        return false;
    }
}
