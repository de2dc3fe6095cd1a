package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.SWSM;
import static io.jnic.driver.ixgbe.IxgbeRegs.SWSM_SMBI;
import static io.jnic.driver.ixgbe.IxgbeRegs.SWSM_SWESMBI;
import static io.jnic.driver.ixgbe.IxgbeRegs.SW_FW_SYNC;
import static io.jnic.driver.ixgbe.IxgbeRegs.SYNC_FW_SHIFT;

import io.jnic.pci.PciBar;
import java.lang.System.Logger.Level;

/**
 * The software/firmware semaphore of datasheet 10.5.4, taken around resources the port shares with the other port's
 * driver and with firmware (the EEPROM, the PHY / I2C bus, the MAC's analog CSRs):
 * <ol>
 * <li>SWSM.SMBI: read SWSM until SMBI reads 0 (the read sets it for the reader);</li>
 * <li>SWSM.SWESMBI: write it 1 and read it back until it sticks;</li>
 * <li>SW_FW_SYNC: the resource is free when neither its software bit nor its firmware bit (bit << 5) is set; then
 *     set the software bit; either way release SWSM (SMBI and SWESMBI to 0). Busy: wait and start over.</li>
 * </ol>
 * Release: take SWSM, clear the bit, release SWSM. Every wait is bounded: a holder that died with a bit set is
 * overridden after the timeout (the bits it held are cleared, with a WARNING), so a killed process cannot lock the
 * port's next driver out.
 */
final class SwFwSemaphore {
    private static final System.Logger LOG = System.getLogger(SwFwSemaphore.class.getName());
    /** SMBI / SWESMBI attempts, 50 us apart (a holder keeps SWSM for a few register accesses). */
    static final int SWSM_ATTEMPTS = 2000;
    /** SW_FW_SYNC attempts, 5 ms apart: about 1 s for a resource (an I2C transaction takes milliseconds). */
    static final int SYNC_ATTEMPTS = 200;

    private final PciBar bar;
    private final String name;

    SwFwSemaphore(PciBar bar, String name) {
        this.bar = bar;
        this.name = name;
    }

    /** Takes SWSM (SMBI then SWESMBI); false when it could not be had, even after overriding a stale holder. */
    private boolean takeSwsm() {
        boolean smbi = false;
        for (int i = 0; i < SWSM_ATTEMPTS && !smbi; i++) {
            smbi = (bar.read32(SWSM) & SWSM_SMBI) == 0;
            if (!smbi) {
                sleepMicros(50);
            }
        }
        if (!smbi) {
            // the holder is gone or stuck: clear both bits and try once more (what Linux's ixgbe does too)
            LOG.log(Level.WARNING, "{0}: SWSM.SMBI held for over {1} ms by someone else: forcing it free", name,
                    SWSM_ATTEMPTS * 50 / 1000);
            releaseSwsm();
            smbi = (bar.read32(SWSM) & SWSM_SMBI) == 0;
            if (!smbi) {
                return false;
            }
        }
        for (int i = 0; i < SWSM_ATTEMPTS; i++) {
            bar.setBits(SWSM, SWSM_SWESMBI);
            if ((bar.read32(SWSM) & SWSM_SWESMBI) != 0) {
                return true;
            }
            sleepMicros(50);
        }
        releaseSwsm();
        return false;
    }

    private void releaseSwsm() {
        bar.clearBits(SWSM, SWSM_SMBI | SWSM_SWESMBI);
    }

    /**
     * Takes the SW_FW_SYNC resources in {@code mask} (software bits); throws, naming the resource, when they stay
     * taken (by firmware or the other port's driver) for longer than about a second even after stale software bits
     * were cleared.
     */
    void acquire(int mask, String what) {
        int fwMask = mask << SYNC_FW_SHIFT;
        int sync = 0;
        for (int i = 0; i < SYNC_ATTEMPTS; i++) {
            if (!takeSwsm()) {
                throw new IllegalStateException(name + ": the software semaphore (SWSM) could not be taken for " + what
                        + ": another driver or firmware holds it; unload the other driver of this port");
            }
            sync = bar.read32(SW_FW_SYNC);
            if ((sync & (mask | fwMask)) == 0) {
                bar.write32(SW_FW_SYNC, sync | mask);
                releaseSwsm();
                return;
            }
            releaseSwsm();
            sleepMillis(5);
        }
        // expired: a holder that died keeps its bits; clear them (ours, and firmware's that cannot be alive this
        // long) and take the resource
        LOG.log(Level.WARNING, "{0}: SW_FW_SYNC 0x{1} held for {2} for over {3} ms: clearing the stale bits", name,
                Integer.toHexString(sync), what, SYNC_ATTEMPTS * 5);
        if (!takeSwsm()) {
            throw new IllegalStateException(name + ": the software semaphore (SWSM) could not be taken for " + what);
        }
        bar.write32(SW_FW_SYNC, (bar.read32(SW_FW_SYNC) & ~fwMask) | mask);
        releaseSwsm();
    }

    /** Releases the SW_FW_SYNC resources in {@code mask}. */
    void release(int mask) {
        if (!takeSwsm()) {
            LOG.log(Level.WARNING, "{0}: SWSM not available to release SW_FW_SYNC 0x{1}; clearing it anyway", name,
                    Integer.toHexString(mask));
        }
        bar.clearBits(SW_FW_SYNC, mask);
        releaseSwsm();
    }

    static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleepMicros(long us) {
        try {
            Thread.sleep(0, (int) (us * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
