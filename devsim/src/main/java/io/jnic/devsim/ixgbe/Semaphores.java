package io.jnic.devsim.ixgbe;

import java.util.function.LongSupplier;

/**
 * The software/firmware semaphores (datasheet 10.5.4 "Software and Firmware Synchronization", registers
 * 8.2.3.2.x SWSM, SW_FW_SYNC (GSSR) and FWSM).
 *
 * <p>The protocol a driver follows: read SWSM; if SMBI read as 0 the read itself set it and the reader owns the
 * semaphore between drivers (a second reader sees 1). Then set SWESMBI by writing it and read it back (set means
 * the software side owns the software/firmware semaphore). Holding both, read SW_FW_SYNC: a resource (EEPROM bit 0,
 * PHY0/PHY1 bits 1/2 which also guard that port's I2C bus, MAC CSR bit 3, flash bit 4, ...) is free when neither its
 * software bit nor its firmware bit (the software bit shifted left by 5) is set; take it by writing the software bit,
 * then release SWSM (write SMBI and SWESMBI to 0). Release a resource the same way: SWSM first, clear the bit, release
 * SWSM. Firmware bits never get set here: this port has no manageability firmware.
 *
 * <p>FWSM says so: FW_VAL (bit 15: firmware valid, what Linux's ixgbe checks before warning about a firmware error)
 * set, mode (bits 3:1) 0 = no manageability, no external error indication (bits 24:19).
 *
 * <p>A holder that never releases (a driver killed between take and release) must not lock everybody out for
 * good: SWSM held longer than {@link #SWSM_TIMEOUT_NS} and a SW_FW_SYNC software bit held longer than
 * {@link #RESOURCE_TIMEOUT_NS} are released by the model on the next access, with a WARNING. (Real drivers also
 * force the bits free after their own timeouts; the model frees them so that a driver that does not still
 * proceeds.) Nothing in the model ever waits on a semaphore.
 */
public final class Semaphores {
    private static final System.Logger LOG = System.getLogger(Semaphores.class.getName());

    public static final int SWSM = 0x10140;
    public static final int FWSM = 0x10148;
    public static final int SW_FW_SYNC = 0x10160;

    public static final int SWSM_SMBI = 1;
    public static final int SWSM_SWESMBI = 1 << 1;
    public static final int SWSM_WMNG = 1 << 2;

    public static final int SYNC_EEP = 1;
    public static final int SYNC_PHY0 = 1 << 1;
    public static final int SYNC_PHY1 = 1 << 2;
    public static final int SYNC_MAC_CSR = 1 << 3;
    public static final int SYNC_FLASH = 1 << 4;
    /** Software bits 4:0; the firmware's are bits 9:5 (software bit << 5); SW_MNG bit 10. */
    public static final int SYNC_SW_MASK = 0x1F;
    public static final int SYNC_FW_SHIFT = 5;
    public static final int SYNC_SW_MNG = 1 << 10;

    public static final int FWSM_MODE_MASK = 0x7 << 1;
    public static final int FWSM_FW_VAL = 1 << 15;
    public static final int FWSM_EXT_ERR_MASK = 0x3F << 19;
    /** No manageability firmware mode, firmware valid, no errors. */
    public static final int FWSM_VALUE = FWSM_FW_VAL;

    /** How long SWSM may be held: drivers hold it for a handful of register accesses. */
    public static final long SWSM_TIMEOUT_NS = 1_000_000_000L;
    /** How long a SW_FW_SYNC resource may be held: long enough for an I2C or EEPROM transaction. */
    public static final long RESOURCE_TIMEOUT_NS = 10_000_000_000L;

    private final String name;
    private final LongSupplier clock;
    private boolean smbi;
    private boolean swesmbi;
    private long swsmTakenAt;
    private int sync; // software bits held
    private final long[] takenAt = new long[16];
    private long forcedReleases;
    private boolean warnedUnguarded;

    public Semaphores(String name) {
        this(name, System::nanoTime);
    }

    /** With {@code clock} as the time source (tests step it). */
    public Semaphores(String name, LongSupplier clock) {
        this.name = name;
        this.clock = clock;
    }

    /** How many stale holders the model has released. */
    public long forcedReleases() {
        return forcedReleases;
    }

    /** SWSM read: an SMBI reading 0 is set by this very read (the reader now owns it). */
    public int readSwsm() {
        long now = clock.getAsLong();
        expire(now);
        int v = (smbi ? SWSM_SMBI : 0) | (swesmbi ? SWSM_SWESMBI : 0);
        if (!smbi) {
            smbi = true;
            swsmTakenAt = now;
        }
        return v;
    }

    /**
     * SWSM write: SMBI and SWESMBI clear when written 0; SWESMBI sets when written 1 (no firmware holds it); writing
     * SMBI 1 does nothing (only a read takes it).
     */
    public void writeSwsm(int value) {
        long now = clock.getAsLong();
        expire(now);
        if ((value & SWSM_SMBI) == 0) {
            smbi = false;
        }
        if ((value & SWSM_SWESMBI) != 0) {
            if (!swesmbi) {
                swesmbi = true;
                if (!smbi) {
                    swsmTakenAt = now;
                }
            }
        } else {
            swesmbi = false;
        }
    }

    /** SW_FW_SYNC read: the software bits taken; firmware bits are always 0 here. */
    public int readSync() {
        expire(clock.getAsLong());
        return sync;
    }

    /**
     * SW_FW_SYNC write. The datasheet lets software change its bits only while it holds SWESMBI; a write without it
     * is ignored (and logged once), as hardware would keep the register as it was.
     */
    public void writeSync(int value) {
        long now = clock.getAsLong();
        expire(now);
        if (!swesmbi) {
            if (!warnedUnguarded) {
                warnedUnguarded = true;
                LOG.log(System.Logger.Level.WARNING, "{0}: SW_FW_SYNC written (0x{1}) without SWSM.SWESMBI held: ignored "
                        + "(take SWSM.SMBI, then SWESMBI, before touching SW_FW_SYNC; logged once)", name,
                        Integer.toHexString(value));
            }
            return;
        }
        int next = value & (SYNC_SW_MASK | SYNC_SW_MNG);
        int taken = next & ~sync;
        for (int b = 0; b < 16; b++) {
            if ((taken & (1 << b)) != 0) {
                takenAt[b] = now;
            }
        }
        sync = next;
    }

    public int readFwsm() {
        return FWSM_VALUE;
    }

    private void expire(long now) {
        if ((smbi || swesmbi) && now - swsmTakenAt > SWSM_TIMEOUT_NS) {
            smbi = false;
            swesmbi = false;
            forcedReleases++;
            LOG.log(System.Logger.Level.WARNING, "{0}: SWSM held for more than {1} ms: released (its holder is gone or "
                    + "stuck)", name, SWSM_TIMEOUT_NS / 1_000_000);
        }
        for (int b = 0; b < 16 && sync != 0; b++) {
            if ((sync & (1 << b)) != 0 && now - takenAt[b] > RESOURCE_TIMEOUT_NS) {
                sync &= ~(1 << b);
                forcedReleases++;
                LOG.log(System.Logger.Level.WARNING, "{0}: SW_FW_SYNC bit {1} held for more than {2} s: released (its "
                        + "holder is gone or stuck)", name, b, RESOURCE_TIMEOUT_NS / 1_000_000_000L);
            }
        }
    }
}
