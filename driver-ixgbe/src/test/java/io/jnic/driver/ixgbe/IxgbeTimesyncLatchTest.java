package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.RXSTMPH;
import static io.jnic.driver.ixgbe.IxgbeRegs.RXSTMPL;
import static io.jnic.driver.ixgbe.IxgbeRegs.TSYNCRXCTL;
import static io.jnic.driver.ixgbe.IxgbeRegs.TSYNC_VALID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciBar;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The watchdog frees an RX time stamp nobody claims (the frame went to a queue a secondary polls, which cannot read
 * RXSTMPL/H): only one that stayed latched, the same one, for a whole watchdog period.
 */
class IxgbeTimesyncLatchTest {
    /** TSYNCRXCTL.VALID set while a stamp is latched; reading RXSTMPH frees it, as the 82599 does (7.9.2.1). */
    static final class LatchBar implements PciBar {
        final Map<Long, Integer> regs = new HashMap<>();
        int highReads;

        void latch(int low) {
            regs.put((long) RXSTMPL, low);
            regs.put((long) TSYNCRXCTL, regs.getOrDefault((long) TSYNCRXCTL, 0) | TSYNC_VALID);
        }

        @Override
        public int index() {
            return 0;
        }

        @Override
        public long size() {
            return 1 << 19;
        }

        @Override
        public int read32(long offset) {
            if (offset == RXSTMPH) {
                highReads++;
                regs.put((long) TSYNCRXCTL, regs.getOrDefault((long) TSYNCRXCTL, 0) & ~TSYNC_VALID);
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
        public java.lang.foreign.MemorySegment mapped(long offset, long length) {
            throw new UnsupportedOperationException("a register file: no mapping");
        }
    }

    @Test
    void onlyAStampHeldAWholePeriodIsFreed() {
        LatchBar bar = new LatchBar();
        IxgbeTimesync t = new IxgbeTimesync(bar);
        bar.latch(111);
        assertFalse(t.freeUnclaimedRxStamp(), "off: nothing is touched");
        t.enable(); // frees what was latched before
        assertEquals(1, bar.highReads);
        bar.latch(222);
        assertFalse(t.freeUnclaimedRxStamp(), "latched since the last turn: its poller may still read it");
        bar.latch(333); // the poller read 222 and the next frame was stamped
        assertFalse(t.freeUnclaimedRxStamp(), "another stamp: not the one seen");
        assertTrue(t.freeUnclaimedRxStamp(), "the same stamp a whole period later");
        assertEquals(2, bar.highReads);
        assertEquals(0, bar.regs.get((long) TSYNCRXCTL) & TSYNC_VALID, "free for the next frame");
        assertFalse(t.freeUnclaimedRxStamp(), "nothing latched");
        assertEquals(1, t.unclaimedRxStamps());
    }
}
