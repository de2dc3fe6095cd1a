package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The register helpers every driver uses on a BAR: read-modify-writes and waiting for bits. */
class PciBarRegistersTest {

    /** Registers in a map; register 0x10 reads {@code ready} once it was read {@code readsUntilReady} times. */
    static final class MapBar implements PciBar {
        final Map<Long, Integer> regs = new HashMap<>();
        int reads;
        int readsUntilReady = Integer.MAX_VALUE;
        int ready;

        @Override
        public int index() {
            return 2;
        }

        @Override
        public long size() {
            return 0x1000;
        }

        @Override
        public int read32(long offset) {
            if (offset == 0x10 && ++reads >= readsUntilReady) {
                return ready;
            }
            return regs.getOrDefault(offset, 0);
        }

        @Override
        public void write32(long offset, int value) {
            regs.put(offset, value);
        }

        @Override
        public boolean isMapped(long offset, long length) {
            return false;
        }

        @Override
        public MemorySegment mapped(long offset, long length) {
            throw new IllegalArgumentException("not mapped");
        }
    }

    @Test
    void setClearAndModifyTouchOnlyTheirBits() {
        MapBar b = new MapBar();
        b.write32(0x20, 0xF0F0_0000);
        b.setBits(0x20, 0x0000_00FF);
        assertEquals(0xF0F0_00FF, b.read32(0x20));
        b.clearBits(0x20, 0xF000_000F);
        assertEquals(0x00F0_00F0, b.read32(0x20));
        b.modify(0x20, 0x0000_0FF0, 0xFFFF_0A50); // value bits outside the mask are ignored
        assertEquals(0x00F0_0A50, b.read32(0x20));
    }

    @Test
    void waitBitsReturnsOnceTheBitsReadAsWanted() {
        MapBar b = new MapBar();
        b.readsUntilReady = 5;
        b.ready = 0x81;
        b.waitBits(0x10, 0x80, 0x80, 1_000_000_000L, "bit 7");
        assertEquals(5, b.reads);
        b.regs.put(0x30L, 0x2);
        b.waitBits(0x30, 0x1, 0, 1_000_000L, "bit 0 clear"); // already as wanted: one read
    }

    @Test
    void aTimeoutNamesTheRegisterItsValueAndWhatWasAwaited() {
        MapBar b = new MapBar();
        b.regs.put(0x40L, 0x1234_5679);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> b.waitBits(0x40, 0x1, 0, 20_000_000L, "CTRL.RST to clear"));
        assertEquals("timed out after 20 ms waiting for CTRL.RST to clear; register 0x00040 of BAR 2 reads 0x12345679 "
                + "(bits 0x00000001 should read 0x00000000)", e.getMessage());
    }
}
