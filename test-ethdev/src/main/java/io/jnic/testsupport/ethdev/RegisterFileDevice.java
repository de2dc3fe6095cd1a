package io.jnic.testsupport.ethdev;

import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A pretend 82599 for measuring the driver alone: BAR0 is plain memory in which writes stick, except that
 * CTRL.RST clears itself, EERD reads words of a blank NVM image whose checksum is valid (every word 0 but the
 * checksum word 0x3F, 0xBABA), and EEC.ARD, RDRXCTL.DMAIDONE and LINKS (up, 10G) read as a freshly reset device
 * reports them. The SFP+ cage is empty (ESDP.SDP2 reads 0). Nothing moves packets: the benchmark fixture writes
 * descriptor status itself.
 */
public final class RegisterFileDevice implements PciDevice {
    private static final int CTRL = 0x00000;
    private static final int CTRL_RST = 1 << 26 | 1 << 3;
    private static final int EEC = 0x10010;
    private static final int RDRXCTL = 0x02F00;
    private static final int LINKS = 0x042A4;
    private static final int EERD = 0x10014;
    private static final int NVM_CHECKSUM_WORD = 0x3F;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment regs = arena.allocate(128 * 1024, 4096);
    private final Bar bar = new Bar();

    public RegisterFileDevice() {
        regs.set(ValueLayout.JAVA_INT, EEC, 1 << 9 | 1 << 8);
        regs.set(ValueLayout.JAVA_INT, RDRXCTL, 1 << 3);
        regs.set(ValueLayout.JAVA_INT, LINKS, 1 << 30 | 3 << 28);
    }

    @Override
    public String name() {
        return "register-file";
    }

    @Override
    public String transport() {
        return "none";
    }

    @Override
    public DmaAddressing dmaAddressing() {
        return DmaAddressing.IOVA;
    }

    @Override
    public int configRead(int offset, int size) {
        return switch (offset) {
            case 0 -> 0x8086;
            case 2 -> 0x10FB;
            default -> 0;
        };
    }

    @Override
    public void configWrite(int offset, int size, int value) {
    }

    @Override
    public PciBar bar(int index) {
        return bar;
    }

    @Override
    public void dmaMap(int fd, long fdOffset, MemorySegment memory, long iova) {
    }

    @Override
    public void dmaUnmap(long iova, long size) {
    }

    @Override
    public int interruptCount(InterruptType type) {
        return 0;
    }

    @Override
    public void enableInterrupts(InterruptType type, int[] eventfds) {
        throw new UnsupportedOperationException("no interrupts");
    }

    @Override
    public void disableInterrupts(InterruptType type) {
    }

    @Override
    public void reset() {
    }

    @Override
    public void close() {
        arena.close();
    }

    private final class Bar implements PciBar {
        @Override
        public int index() {
            return 0;
        }

        @Override
        public long size() {
            return regs.byteSize();
        }

        @Override
        public int read32(long offset) {
            return regs.get(ValueLayout.JAVA_INT, offset);
        }

        @Override
        public void write32(long offset, int value) {
            if (offset == EERD && (value & 1) != 0) {
                int address = (value >>> 2) & 0x3FFF;
                int word = address == NVM_CHECKSUM_WORD ? 0xBABA : 0;
                regs.set(ValueLayout.JAVA_INT, offset, word << 16 | address << 2 | 2); // DONE
                return;
            }
            regs.set(ValueLayout.JAVA_INT, offset, offset == CTRL ? value & ~CTRL_RST : value);
        }

        @Override
        public boolean isMapped(long offset, long length) {
            return true;
        }

        @Override
        public MemorySegment mapped(long offset, long length) {
            return regs.asSlice(offset, length);
        }
    }
}
