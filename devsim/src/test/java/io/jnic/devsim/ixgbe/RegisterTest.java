package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.LoopWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Register semantics a driver relies on, exercised as a driver would (datasheet chapter 8, 4.6). */
class RegisterTest {
    Harness h;

    @BeforeEach
    void setUp() {
        h = new Harness(1, Harness.mac(0x42), new LoopWire());
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void resetIsSelfClearingAndRestoresDefaults() {
        h.resetAndLinkUp();
        h.w(FCTRL, FCTRL_UPE | FCTRL_BAM);
        h.w(RETA0, 0x01020304);
        h.w(EIMS, 0xFFFF);
        h.w(CTRL, CTRL_RST);
        assertEquals(CTRL_RST, h.r(CTRL) & CTRL_RST, "RST reads 1 until the device has finished resetting");
        assertEquals(0, h.r(EEC) & EEC_ARD, "EEPROM auto-read is not done during reset");
        assertEquals(0, h.r(RDRXCTL) & RDRXCTL_DMAIDONE);
        h.poll(1);
        assertEquals(0, h.r(CTRL) & CTRL_RST);
        assertEquals(EEC_ARD, h.r(EEC) & EEC_ARD);
        assertEquals(RDRXCTL_DMAIDONE, h.r(RDRXCTL) & RDRXCTL_DMAIDONE);
        assertEquals(0, h.r(FCTRL));
        assertEquals(0, h.r(RETA0));
        assertEquals(0, h.r(EIMS));
        assertEquals(HLREG0_DEFAULT, h.r(HLREG0));
        assertEquals(SRRCTL_DEFAULT, h.r(SRRCTL_ALIAS0), "SRRCTL default: 2 KB buffers");
        assertEquals(RXPBSIZE_DEFAULT, h.r(RXPBSIZE0));
    }

    @Test
    void statusCarriesLanIdAndLinkAndLinksCarriesSpeed() {
        assertEquals(1, (h.r(STATUS) & STATUS_LAN_ID_MASK) >>> STATUS_LAN_ID_SHIFT);
        h.resetAndLinkUp();
        assertEquals(STATUS_LINK_UP, h.r(STATUS) & STATUS_LINK_UP);
        int links = h.r(LINKS);
        assertEquals(LINKS_UP, links & LINKS_UP);
        assertEquals(LINKS_SPEED_10G, links & LINKS_SPEED_MASK);
        assertEquals(STATUS_GIO_MASTER_ENABLE, h.r(STATUS) & STATUS_GIO_MASTER_ENABLE);
        h.w(CTRL, CTRL_PCIE_MASTER_DISABLE);
        assertEquals(0, h.r(STATUS) & STATUS_GIO_MASTER_ENABLE, "master disable reflected in STATUS");
    }

    @Test
    void linkComesUpAfterAutonegRestartWithLscInterrupt() {
        h.w(CTRL, CTRL_RST);
        h.poll(1);
        h.w(AUTOC, AUTOC_LMS_10G_SERIAL | AUTOC_AN_RESTART);
        assertEquals(0, h.r(AUTOC) & AUTOC_AN_RESTART, "AN restart is self-clearing");
        assertEquals(0, h.r(LINKS) & LINKS_UP, "link is not up before the device trains it");
        h.poll(1);
        assertEquals(LINKS_UP, h.r(LINKS) & LINKS_UP);
        assertEquals(EICR_LSC, h.r(EICR) & EICR_LSC);
        assertEquals(0, h.r(EICR) & EICR_LSC, "EICR is read-to-clear");
    }

    @Test
    void macAddressComesFromTheEepromAtBothAddresses() {
        h.resetAndLinkUp();
        // 02:00:00:00:00:42: first octet in RAL bits 7:0
        assertEquals(0x00000002, h.r(RAL0));
        assertEquals(RAH_AV | 0x4200, h.r(RAH0));
        assertEquals(h.r(RAL0), h.r(RAL_ALIAS0), "RAL(0) also at the 82598 location 0x5400");
        assertEquals(h.r(RAH0), h.r(RAL_ALIAS0 + 4));
        h.w(RAL_ALIAS0 + 8, 0x12345678);
        assertEquals(0x12345678, h.r(RAL0 + 8));
    }

    @Test
    void statisticsAreClearedOnRead() {
        h.resetAndLinkUp();
        h.w(FCTRL, FCTRL_BAM);
        h.w(RXCTRL, RXCTRL_RXEN);
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(Frames.broadcast(100)), 0, 100);
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(Frames.broadcast(60)), 0, 60);
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(Frames.broadcast(40)), 0, 40);
        assertEquals(2, h.r(GPRC));
        assertEquals(0, h.r(GPRC), "second read finds the counter cleared");
        assertEquals(2, h.r(BPRC));
        assertEquals(1, h.r(RUC), "a 44-byte frame (with FCS) is a runt");
        assertEquals(104 + 64, h.r(GORCL), "octets count DA through FCS");
        assertEquals(0, h.r(GORCH));
        assertEquals(0, h.r(GORCL));
        assertEquals(3, h.r(TPR));
        assertEquals(2, h.r(RNBC0), "no receive queue enabled: no buffers");
        byte[] llc = Frames.broadcast(100);
        llc[12] = 0;
        llc[13] = 86; // an 802.3 length field: 86 = 100 - 14, consistent
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(llc), 0, 100);
        assertEquals(0, h.r(RLEC));
        llc[13] = 90; // claims more data than the frame has
        h.dev.receive(java.lang.foreign.MemorySegment.ofArray(llc), 0, 100);
        assertEquals(1, h.r(RLEC), "receive length error");
        assertEquals(0, h.r(RLEC));
    }

    @Test
    void rssKeyAndRedirectionTableAreReadBack() {
        h.resetAndLinkUp();
        for (int i = 0; i < RSSRK_REGS; i++) {
            h.w(RSSRK0 + 4 * i, 0x01010101 * i);
        }
        for (int i = 0; i < RETA_REGS; i++) {
            h.w(RETA0 + 4 * i, i);
        }
        for (int i = 0; i < RSSRK_REGS; i++) {
            assertEquals(0x01010101 * i, h.r(RSSRK0 + 4 * i));
        }
        for (int i = 0; i < RETA_REGS; i++) {
            assertEquals(i, h.r(RETA0 + 4 * i));
        }
    }

    @Test
    void unknownRegistersReadZeroAndWritesAreIgnored() {
        h.w(0x0F0F0, 0xdeadbeef);
        assertEquals(0, h.r(0x0F0F0));
        assertEquals(0, h.r(0x0F0F0), "reading again neither fails nor changes");
    }

    @Test
    void badOffsetsAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.dev.read32(0x20000));
        assertTrue(e.getMessage().contains("0x20000") && e.getMessage().contains("131072-byte BAR"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> h.dev.write32(0x802, 1));
        assertTrue(e.getMessage().contains("4-byte aligned"), e.getMessage());
    }

    @Test
    void badConstructorArgumentsAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Ixgbe82599(0, new byte[] {1, 0, 0, 0, 0, 1}, h.dma, new LoopWire()));
        assertTrue(e.getMessage().contains("multicast"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Ixgbe82599(4, Harness.mac(1), h.dma, new LoopWire()));
        assertTrue(e.getMessage().contains("LAN id"), e.getMessage());
    }

    @Test
    void queueEnableHandshakeReflectsOnlyValidRings() {
        h.resetAndLinkUp();
        long ring = h.setupRx(3, 32, 2, false);
        assertNotEquals(0, h.r(rxq(3) + RXDCTL) & RXDCTL_ENABLE, "a valid ring stays enabled");
        // a ring outside DMA-mapped memory: hardware never reflects ENABLE
        int base = rxq(4);
        h.w(base + RDBAL, 0x1000);
        h.w(base + RDBAH, 0x7);
        h.w(base + RDLEN, 32 * DESC_SIZE);
        h.w(base + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
        h.w(base + RXDCTL, RXDCTL_ENABLE);
        h.poll(20);
        assertEquals(0, h.r(base + RXDCTL) & RXDCTL_ENABLE);
        // legacy descriptors are not modelled: refused the same way
        int b5 = rxq(5);
        h.w(b5 + RDBAL, (int) ring);
        h.w(b5 + RDLEN, 32 * DESC_SIZE);
        h.w(b5 + SRRCTL, 2);
        h.w(b5 + RXDCTL, RXDCTL_ENABLE);
        h.poll(20);
        assertEquals(0, h.r(b5 + RXDCTL) & RXDCTL_ENABLE);
        long tx = h.setupTx(7, 64, 0);
        assertNotEquals(0, h.r(txq(7) + TXDCTL) & TXDCTL_ENABLE);
        assertTrue(tx != 0);
    }
}
