package io.jnic.devsim.ixgbe;

/**
 * The MAC link of an 82599 SFI port (datasheet 3.7 link modes, 4.6.4 link setup, registers 8.2.3.22.19 AUTOC,
 * 8.2.3.22.20 LINKS, 8.2.3.22.21 AUTOC2, 8.2.3.22.22 ANLP1): what the drivers program and poll.
 *
 * <ul>
 *   <li>AUTOC.LMS (bits 15:13) selects the link mode; AUTOC.AN_RESTART (bit 12, self-clearing) restarts link
 *       training, as do a device reset and CTRL.LRST. The reset value (loaded from the NVM on an SFP board) is
 *       LMS = 10 Gb/s serial; AUTOC2's 10G serial PMA/PMD (bits 17:16) = SFI.</li>
 *   <li>With an SR module the link comes up at 10 Gb/s in the 10 Gb/s modes (LMS 1 = 10G no AN, 3 = 10G serial,
 *       and the KX4/KX/KR modes 4, 6, 7, with KX_AN_COMP then set); the 1 Gb/s modes (0, 2, 5) give no link (an
 *       SR optic has no 1 Gb/s rate). AUTOC2.LINK_DISABLE (bits 30:28) keeps it down.</li>
 *   <li>The link needs signal: the cable's far end lit, the module in its cage and its laser on (ESDP.SDP3 low).
 *       It comes up {@link #setDelayNanos} after a restart or after signal returns, and LINKS shows LINK_UP (bit
 *       30), LINK_STATUS (bit 7) and the speed (bits 29:28 = 11b). Every change of LINK_UP is reported to the
 *       caller, which raises EICR.LSC.</li>
 *   <li>ANLP1.AN_STATE (bits 19:16) leaves 0 once link training was restarted: Linux's and DPDK's 82599 pipeline
 *       reset polls for that after toggling LMS.</li>
 * </ul>
 */
public final class LinkModel {
    public static final int AUTOC = 0x042A0;
    public static final int LINKS = 0x042A4;
    public static final int AUTOC2 = 0x042A8;
    public static final int ANLP1 = 0x042B0;

    public static final int AUTOC_FLU = 1;
    public static final int AUTOC_AN_RESTART = 1 << 12;
    public static final int AUTOC_LMS_SHIFT = 13;
    public static final int AUTOC_LMS_MASK = 0x7 << AUTOC_LMS_SHIFT;
    public static final int LMS_1G_NO_AN = 0;
    public static final int LMS_10G_NO_AN = 1;
    public static final int LMS_1G_AN = 2;
    public static final int LMS_10G_SERIAL = 3;
    public static final int LMS_KX4_KX_KR = 4;
    public static final int LMS_SGMII = 5;
    public static final int LMS_KX4_KX_KR_1G_AN = 6;
    public static final int LMS_KX4_KX_KR_SGMII = 7;
    public static final int AUTOC_DEFAULT = LMS_10G_SERIAL << AUTOC_LMS_SHIFT;

    public static final int AUTOC2_10G_PMA_PMD_SHIFT = 16;
    public static final int AUTOC2_10G_PMA_PMD_MASK = 0x3 << AUTOC2_10G_PMA_PMD_SHIFT;
    public static final int AUTOC2_10G_SFI = 0x2 << AUTOC2_10G_PMA_PMD_SHIFT;
    public static final int AUTOC2_LINK_DISABLE_MASK = 0x7 << 28;
    public static final int AUTOC2_DEFAULT = AUTOC2_10G_SFI;

    public static final int LINKS_STATUS = 1 << 7;
    public static final int LINKS_SPEED_10G = 0x3 << 28;
    public static final int LINKS_UP = 1 << 30;
    public static final int LINKS_KX_AN_COMP = 1 << 31;

    public static final int ANLP1_AN_STATE_SHIFT = 16;
    public static final int ANLP1_AN_STATE_MASK = 0xF << ANLP1_AN_STATE_SHIFT;
    /** The AN state reported once training was restarted (any non-zero state means "left state 0"). */
    static final int AN_STATE_TRAINING = 0x4;

    private final String name;
    private int autoc = AUTOC_DEFAULT;
    private int autoc2 = AUTOC2_DEFAULT;
    private int anState;
    private boolean up;
    private boolean training;
    private long readyAt;
    private long delayNanos;
    private boolean warnedNoRate;

    public LinkModel(String name) {
        this.name = name;
    }

    /** Time the link takes to come up after a restart, or after signal returns. */
    public void setDelayNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("link delay must be >= 0 ns, got " + nanos);
        }
        delayNanos = nanos;
    }

    public boolean up() {
        return up;
    }

    /** Device reset: AUTOC/AUTOC2 back to their NVM values, the link down (no LSC: causes were just cleared). */
    public void reset() {
        autoc = AUTOC_DEFAULT;
        autoc2 = AUTOC2_DEFAULT;
        anState = 0;
        up = false;
        training = false;
    }

    /** Restarts link training (reset done, CTRL.LRST, AUTOC.AN_RESTART); true when the link went down. */
    public boolean restart(long now) {
        boolean wasUp = up;
        up = false;
        training = true;
        readyAt = now + delayNanos;
        anState = AN_STATE_TRAINING;
        return wasUp;
    }

    public int readAutoc() {
        return autoc;
    }

    /** AUTOC write; true when it restarted training and that took the link down. */
    public boolean writeAutoc(int value, long now) {
        autoc = value & ~AUTOC_AN_RESTART;
        return (value & AUTOC_AN_RESTART) != 0 && restart(now);
    }

    public int readAutoc2() {
        return autoc2;
    }

    public void writeAutoc2(int value) {
        autoc2 = value;
    }

    public int readAnlp1() {
        return anState << ANLP1_AN_STATE_SHIFT;
    }

    public int readLinks() {
        if (!up) {
            return 0;
        }
        int v = LINKS_UP | LINKS_STATUS | LINKS_SPEED_10G;
        int lms = lms();
        if (lms == LMS_KX4_KX_KR || lms == LMS_KX4_KX_KR_1G_AN || lms == LMS_KX4_KX_KR_SGMII) {
            v |= LINKS_KX_AN_COMP;
        }
        return v;
    }

    private int lms() {
        return (autoc & AUTOC_LMS_MASK) >>> AUTOC_LMS_SHIFT;
    }

    /** True when the link mode and AUTOC2 allow a 10 Gb/s link with an SR module. */
    private boolean modeAllowsLink() {
        if ((autoc2 & AUTOC2_LINK_DISABLE_MASK) != 0) {
            return false;
        }
        int lms = lms();
        boolean tenGig = lms == LMS_10G_NO_AN || lms == LMS_10G_SERIAL || lms == LMS_KX4_KX_KR
                || lms == LMS_KX4_KX_KR_1G_AN || lms == LMS_KX4_KX_KR_SGMII;
        if (!tenGig && !warnedNoRate) {
            warnedNoRate = true;
            System.getLogger(LinkModel.class.getName()).log(System.Logger.Level.INFO, "{0}: AUTOC.LMS {1} is a 1 Gb/s "
                    + "mode; the 10GBASE-SR module has no 1 Gb/s rate, so the link stays down (logged once)", name, lms);
        }
        return tenGig;
    }

    /**
     * One turn: follows the signal ({@code signal}: far end lit, module present, laser on). True when LINK_UP
     * changed (the caller raises EICR.LSC).
     */
    public boolean step(long now, boolean signal) {
        boolean usable = signal && modeAllowsLink();
        if (up && !usable) {
            up = false;
            training = true; // retrain as soon as signal comes back
            readyAt = Long.MIN_VALUE;
            return true;
        }
        if (!up && usable && training) {
            if (readyAt == Long.MIN_VALUE) {
                readyAt = now + delayNanos;
            }
            if (now - readyAt >= 0) {
                up = true;
                training = false;
                return true;
            }
        }
        return false;
    }
}
