package io.jnic.devsim.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** AUTOC / AUTOC2 / LINKS / ANLP1 of an SFI port with an SR module, with explicit times. */
class LinkModelTest {
    private static final long DELAY = 30_000_000L;

    @Test
    void linksShowsUpAt10gOnlyAfterTheTrainingDelayFollowingAnRestart() {
        LinkModel l = new LinkModel("test port");
        l.setDelayNanos(DELAY);
        assertEquals(LinkModel.AUTOC_DEFAULT, l.readAutoc(), "LMS = 10 Gb/s serial from the NVM");
        assertEquals(LinkModel.AUTOC2_10G_SFI, l.readAutoc2() & LinkModel.AUTOC2_10G_PMA_PMD_MASK, "SFI");
        assertEquals(0, l.readAnlp1() & LinkModel.ANLP1_AN_STATE_MASK, "AN state 0 before any restart");
        long t = 1_000_000;
        assertFalse(l.writeAutoc(l.readAutoc() | LinkModel.AUTOC_AN_RESTART, t));
        assertEquals(0, l.readAutoc() & LinkModel.AUTOC_AN_RESTART, "AN_RESTART is self-clearing");
        assertNotEquals(0, l.readAnlp1() & LinkModel.ANLP1_AN_STATE_MASK, "AN state left 0 after the restart");
        assertFalse(l.step(t + DELAY - 1, true));
        assertEquals(0, l.readLinks() & LinkModel.LINKS_UP, "not up before the training delay");
        assertTrue(l.step(t + DELAY, true), "the change is reported (LSC)");
        int links = l.readLinks();
        assertEquals(LinkModel.LINKS_UP | LinkModel.LINKS_STATUS, links & (LinkModel.LINKS_UP | LinkModel.LINKS_STATUS));
        assertEquals(LinkModel.LINKS_SPEED_10G, links & LinkModel.LINKS_SPEED_10G, "10 Gb/s");
        assertEquals(0, links & LinkModel.LINKS_KX_AN_COMP, "no backplane AN in 10G serial mode");
        // a restart takes the link down at once and it retrains after the delay again
        assertTrue(l.writeAutoc(l.readAutoc() | LinkModel.AUTOC_AN_RESTART, t + 2 * DELAY));
        assertEquals(0, l.readLinks());
        assertTrue(l.step(t + 3 * DELAY, true));
    }

    @Test
    void signalLossDropsTheLinkAndOneGigModesGiveNone() {
        LinkModel l = new LinkModel("test port");
        l.restart(0);
        assertTrue(l.step(0, true));
        assertTrue(l.step(1, false), "signal lost: link down");
        assertFalse(l.step(2, false));
        assertTrue(l.step(3, true), "signal back: retrained");
        l.writeAutoc((LinkModel.LMS_1G_NO_AN << LinkModel.AUTOC_LMS_SHIFT) | LinkModel.AUTOC_AN_RESTART, 4);
        assertFalse(l.step(5, true), "an SR module has no 1 Gb/s rate");
        assertEquals(0, l.readLinks());
        l.writeAutoc((LinkModel.LMS_10G_SERIAL << LinkModel.AUTOC_LMS_SHIFT) | LinkModel.AUTOC_AN_RESTART, 6);
        assertTrue(l.step(6, true));
        l.writeAutoc2(l.readAutoc2() | LinkModel.AUTOC2_LINK_DISABLE_MASK);
        assertTrue(l.step(7, true), "AUTOC2.LINK_DISABLE takes the link down");
    }
}
