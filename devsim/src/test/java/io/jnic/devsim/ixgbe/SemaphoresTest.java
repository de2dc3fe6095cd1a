package io.jnic.devsim.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The software/firmware semaphore protocol (datasheet 10.5.4) with a clock the test steps. */
class SemaphoresTest {
    private long now = 1_000;
    private final Semaphores s = new Semaphores("test port", () -> now);

    /** What a driver does to take SWSM: read SMBI as 0, then set SWESMBI and read it back. */
    private boolean takeSwsm() {
        if ((s.readSwsm() & Semaphores.SWSM_SMBI) != 0) {
            return false;
        }
        s.writeSwsm(s.readSwsm() | Semaphores.SWSM_SWESMBI);
        return (s.readSwsm() & Semaphores.SWSM_SWESMBI) != 0;
    }

    private void releaseSwsm() {
        s.writeSwsm(s.readSwsm() & ~(Semaphores.SWSM_SMBI | Semaphores.SWSM_SWESMBI));
    }

    /** Takes a SW_FW_SYNC resource the way the drivers do; false when someone holds it. */
    private boolean takeResource(int mask) {
        if (!takeSwsm()) {
            return false;
        }
        int sync = s.readSync();
        boolean free = (sync & (mask | mask << Semaphores.SYNC_FW_SHIFT)) == 0;
        if (free) {
            s.writeSync(sync | mask);
        }
        releaseSwsm();
        return free;
    }

    private void releaseResource(int mask) {
        takeSwsm();
        s.writeSync(s.readSync() & ~mask);
        releaseSwsm();
    }

    @Test
    void secondTakerWaitsUntilTheFirstReleases() {
        assertEquals(0, s.readSwsm() & Semaphores.SWSM_SMBI, "the first reader finds SMBI clear (and now owns it)");
        assertEquals(Semaphores.SWSM_SMBI, s.readSwsm() & Semaphores.SWSM_SMBI, "a second reader finds it taken");
        s.writeSwsm(Semaphores.SWSM_SMBI | Semaphores.SWSM_SWESMBI);
        assertEquals(Semaphores.SWSM_SWESMBI, s.readSwsm() & Semaphores.SWSM_SWESMBI, "no firmware: SWESMBI granted");
        releaseSwsm();
        assertEquals(0, s.readSwsm() & Semaphores.SWSM_SMBI, "released: the next reader gets it");
        releaseSwsm();
    }

    @Test
    void resourcesAreTakenUnderSwsmAndExcludeEachOther() {
        assertEquals(true, takeResource(Semaphores.SYNC_PHY0));
        assertEquals(false, takeResource(Semaphores.SYNC_PHY0), "PHY0 is held");
        assertEquals(true, takeResource(Semaphores.SYNC_EEP), "other resources are independent");
        releaseResource(Semaphores.SYNC_PHY0);
        assertEquals(true, takeResource(Semaphores.SYNC_PHY0));
        assertEquals(0, s.readSync() & 0x3E0, "no firmware bit is ever set");
        // a write without SWESMBI held changes nothing
        s.writeSync(0);
        assertEquals(Semaphores.SYNC_PHY0 | Semaphores.SYNC_EEP, s.readSync());
    }

    @Test
    void fwsmSaysValidFirmwareWithoutManageability() {
        int fwsm = s.readFwsm();
        assertEquals(Semaphores.FWSM_FW_VAL, fwsm & Semaphores.FWSM_FW_VAL);
        assertEquals(0, fwsm & Semaphores.FWSM_MODE_MASK);
        assertEquals(0, fwsm & Semaphores.FWSM_EXT_ERR_MASK);
    }

    @Test
    void aHolderThatNeverReleasesIsReleasedAfterTheTimeout() {
        assertEquals(true, takeResource(Semaphores.SYNC_PHY1));
        assertEquals(0, s.readSwsm() & Semaphores.SWSM_SMBI);
        // this taker dies holding SWSM: the next one is locked out until the timeout passes
        now += Semaphores.SWSM_TIMEOUT_NS / 2;
        assertEquals(Semaphores.SWSM_SMBI, s.readSwsm() & Semaphores.SWSM_SMBI);
        now += Semaphores.SWSM_TIMEOUT_NS;
        assertEquals(0, s.readSwsm() & Semaphores.SWSM_SMBI, "a stale SWSM is released");
        releaseSwsm();
        assertEquals(false, takeResource(Semaphores.SYNC_PHY1), "PHY1 is still held within its timeout");
        now += Semaphores.RESOURCE_TIMEOUT_NS + 1;
        assertEquals(true, takeResource(Semaphores.SYNC_PHY1), "a stale resource bit is released");
        assertEquals(2, s.forcedReleases());
    }
}
