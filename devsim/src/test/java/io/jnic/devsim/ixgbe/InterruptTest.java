package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.LoopWire;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Interrupt causes, masks, auto-clear and MSI-X routing (datasheet 7.3, registers 8.2.3.5). */
class InterruptTest {
    Harness h;

    @BeforeEach
    void setUp() {
        h = new Harness(0, Harness.mac(1), new LoopWire());
        h.resetAndLinkUp();
        h.vectors.clear();
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void eicsSetsCausesEicrWriteClearsThemAndReadClearsAll() {
        h.w(EICS, 0x5 | EICR_LSC);
        assertEquals(0x5 | EICR_LSC, h.r(EICS), "EICS reads the causes without clearing them");
        h.w(EICR, 0x1);
        assertEquals(0x4 | EICR_LSC, h.r(EICR), "write 1 to clear");
        assertEquals(0, h.r(EICR), "read to clear");
    }

    @Test
    void otherClearDisableKeepsOtherCausesOnRead() {
        h.w(GPIE, GPIE_MSIX_MODE | GPIE_OCD);
        h.w(EICS, 0x3 | EICR_LSC);
        assertEquals(0x3 | EICR_LSC, h.r(EICR));
        assertEquals(0x3, h.r(EICR), "with GPIE.OCD a read clears only the other causes");
        h.w(EICR, 0x3);
        assertEquals(0, h.r(EICR));
    }

    @Test
    void masksGateMsixDeliveryAndAutoClearFollowsEiac() {
        h.w(GPIE, GPIE_MSIX_MODE | GPIE_PBA_SUPPORT);
        h.w(EIAC, 0x1); // vector 0 auto-clears, vector 1 does not
        h.w(EICS, 0x3);
        assertEquals(List.of(), h.vectors, "masked vectors do not fire");
        h.w(EIMS, 0x1);
        assertEquals(List.of(0), h.vectors);
        h.w(EIMS, 0x2);
        assertEquals(List.of(0, 1), h.vectors);
        assertEquals(0x2, h.r(EICS) & 0xFFFF, "EIAC cleared vector 0's cause when its message went out");
        h.w(EIMC, 0x3);
        assertEquals(0, h.r(EIMS) & 0x3);
        h.w(EICS, 0x1);
        h.poll(1);
        assertEquals(List.of(0, 1), h.vectors, "EIMC masks again");
    }

    @Test
    void autoMaskWithEiame() {
        h.w(GPIE, GPIE_MSIX_MODE | GPIE_EIAME);
        h.w(EIAM, 0x4);
        h.w(EIMS, 0x4);
        h.w(EICS, 0x4);
        assertEquals(List.of(2), h.vectors);
        assertEquals(0, h.r(EIMS) & 0x4, "EIAM with GPIE.EIAME masked the vector when it fired");
    }

    @Test
    void queueInterruptsFollowIvarAndLscGoesToTheMiscVector() {
        h.w(GPIE, GPIE_MSIX_MODE);
        h.w(FCTRL, FCTRL_BAM);
        h.w(RXCTRL, RXCTRL_RXEN);
        // RX queue 1 -> vector 5: IVAR[0] bits 23:16
        h.w(IVAR0, (IVAR_ALLOC_VAL | 5) << 16);
        h.w(IVAR_MISC, (IVAR_ALLOC_VAL | 9) << 8);
        h.w(EIMS, (1 << 5) | EICR_LSC);
        h.w(EIAC, 1 << 5);
        h.setupRx(1, 16, 2, false);
        h.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV4);
        for (int i = 0; i < RETA_REGS; i++) {
            h.w(RETA0 + 4 * i, 0x01010101); // every hash to queue 1
        }
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(Frames.broadcast(64)), 0, 64);
        h.poll(1);
        assertEquals(List.of(5), h.vectors);
        h.dev.faultLinkDown(true);
        h.poll(1);
        assertEquals(List.of(5, 9), h.vectors, "link down raised LSC on the misc vector");
        assertEquals(0, h.r(LINKS) & LINKS_UP);
        assertEquals(EICR_LSC, h.r(EICR) & EICR_LSC);
    }

    @Test
    void legacyModeRaisesTheSingleInterrupt() {
        h.w(GPIE, 0);
        h.w(IVAR0, (IVAR_ALLOC_VAL | 3)); // RX queue 0 -> EICR bit 3
        h.w(EIMS, 1 << 3);
        h.w(FCTRL, FCTRL_BAM);
        h.w(RXCTRL, RXCTRL_RXEN);
        h.setupRx(0, 16, 2, false);
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(Frames.broadcast(64)), 0, 64);
        h.poll(1);
        assertEquals(1, h.legacyInterrupts);
        assertEquals(1 << 3, h.r(EICR));
        assertTrue(h.vectors.isEmpty());
    }

    @Test
    void eitrThrottlesAVector() {
        h.w(GPIE, GPIE_MSIX_MODE);
        h.w(EITR0, EITR_INTERVAL_MASK); // the longest interval, about 1 ms
        h.w(EIAC, 1);
        h.w(EIMS, 1);
        long before = System.nanoTime();
        h.w(EICS, 1);
        h.w(EICS, 1);
        long elapsed = System.nanoTime() - before;
        if (elapsed < (EITR_INTERVAL_MASK >>> 3) * EITR_UNIT_NS) { // only meaningful if this ran fast enough
            assertEquals(List.of(0), h.vectors, "the second cause waits for the interval");
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (h.vectors.size() < 2 && System.nanoTime() < deadline) {
            h.poll(1);
        }
        assertEquals(List.of(0, 0), h.vectors, "the held interrupt is sent once the interval passed");
    }
}
