package io.jnic.driver.ixgbe;

import io.jnic.ethdev.EthDriver.PciId;
import java.util.List;

/** PCI ids of the Intel 10 GbE controllers this driver takes (vendor 0x8086), grouped by family. */
public final class IxgbeDeviceIds {
    private IxgbeDeviceIds() {
    }

    public static final int INTEL = 0x8086;

    // 82599 (the X520 adapters carry it)
    public static final int IXGBE_82599_KX4 = 0x10F7;
    public static final int IXGBE_82599_KX4_MEZZ = 0x1514;
    public static final int IXGBE_82599_KR = 0x1517;
    public static final int IXGBE_82599_COMBO_BACKPLANE = 0x10F8;
    public static final int IXGBE_82599_CX4 = 0x10F9;
    public static final int IXGBE_82599_SFP = 0x10FB;
    public static final int IXGBE_82599_BACKPLANE_FCOE = 0x152A;
    public static final int IXGBE_82599_SFP_FCOE = 0x1529;
    public static final int IXGBE_82599_SFP_EM = 0x1507;
    public static final int IXGBE_82599_SFP_SF2 = 0x154D;
    public static final int IXGBE_82599_SFP_SF_QP = 0x154A;
    public static final int IXGBE_82599_QSFP_SF_QP = 0x1558;
    public static final int IXGBE_82599EN_SFP = 0x1557;
    public static final int IXGBE_82599_XAUI_LOM = 0x10FC;
    public static final int IXGBE_82599_T3_LOM = 0x151C;
    public static final int IXGBE_82599_LS = 0x154F;
    // X540
    public static final int IXGBE_X540T = 0x1528;
    public static final int IXGBE_X540T1 = 0x1560;
    // X550
    public static final int IXGBE_X550T = 0x1563;
    public static final int IXGBE_X550T1 = 0x15D1;
    public static final int IXGBE_X550EM_X_KX4 = 0x15AA;
    public static final int IXGBE_X550EM_X_KR = 0x15AB;
    public static final int IXGBE_X550EM_X_SFP = 0x15AC;
    public static final int IXGBE_X550EM_X_10G_T = 0x15AD;
    public static final int IXGBE_X550EM_X_1G_T = 0x15AE;
    public static final int IXGBE_X550EM_A_KR = 0x15C2;
    public static final int IXGBE_X550EM_A_SFP = 0x15CE;
    public static final int IXGBE_X550EM_A_10G_T = 0x15C8;

    /** 82599-family MACs (the NVM checksum rule and EERD of chapter 6 / 8.2.3.2 apply). */
    public static boolean is82599(int id) {
        return switch (id) {
            case IXGBE_82599_KX4, IXGBE_82599_KX4_MEZZ, IXGBE_82599_KR, IXGBE_82599_COMBO_BACKPLANE, IXGBE_82599_CX4,
                    IXGBE_82599_SFP, IXGBE_82599_BACKPLANE_FCOE, IXGBE_82599_SFP_FCOE, IXGBE_82599_SFP_EM,
                    IXGBE_82599_SFP_SF2, IXGBE_82599_SFP_SF_QP, IXGBE_82599_QSFP_SF_QP, IXGBE_82599EN_SFP,
                    IXGBE_82599_XAUI_LOM, IXGBE_82599_T3_LOM, IXGBE_82599_LS -> true;
            default -> false;
        };
    }

    /** 82599 ports with an SFP+ cage (SDP2 presence, I2CCTL to the module); QSFP+ parts are not among them. */
    public static boolean is82599Sfp(int id) {
        return switch (id) {
            case IXGBE_82599_SFP, IXGBE_82599_SFP_FCOE, IXGBE_82599_SFP_EM, IXGBE_82599_SFP_SF2, IXGBE_82599_SFP_SF_QP,
                    IXGBE_82599EN_SFP -> true;
            default -> false;
        };
    }

    /** Every id above, named. */
    public static final List<PciId> ALL = List.of(
            new PciId(INTEL, IXGBE_82599_KX4, "82599 KX4"),
            new PciId(INTEL, IXGBE_82599_KX4_MEZZ, "82599 KX4 mezzanine"),
            new PciId(INTEL, IXGBE_82599_KR, "82599 KR"),
            new PciId(INTEL, IXGBE_82599_COMBO_BACKPLANE, "82599 combo backplane"),
            new PciId(INTEL, IXGBE_82599_CX4, "82599 CX4"),
            new PciId(INTEL, IXGBE_82599_SFP, "82599ES SFP+ (X520)"),
            new PciId(INTEL, IXGBE_82599_BACKPLANE_FCOE, "82599 backplane FCoE"),
            new PciId(INTEL, IXGBE_82599_SFP_FCOE, "82599 SFP+ FCoE"),
            new PciId(INTEL, IXGBE_82599_SFP_EM, "82599 SFP+ EM"),
            new PciId(INTEL, IXGBE_82599_SFP_SF2, "82599 SFP+ SF2"),
            new PciId(INTEL, IXGBE_82599_SFP_SF_QP, "82599 SFP+ SF QP"),
            new PciId(INTEL, IXGBE_82599_QSFP_SF_QP, "82599 QSFP+ SF QP"),
            new PciId(INTEL, IXGBE_82599EN_SFP, "82599EN SFP+"),
            new PciId(INTEL, IXGBE_82599_XAUI_LOM, "82599 XAUI LOM"),
            new PciId(INTEL, IXGBE_82599_T3_LOM, "82599 T3 LOM"),
            new PciId(INTEL, IXGBE_82599_LS, "82599 LS"),
            new PciId(INTEL, IXGBE_X540T, "X540-T"),
            new PciId(INTEL, IXGBE_X540T1, "X540-T1"),
            new PciId(INTEL, IXGBE_X550T, "X550-T"),
            new PciId(INTEL, IXGBE_X550T1, "X550-T1"),
            new PciId(INTEL, IXGBE_X550EM_X_KX4, "X550EM_x KX4"),
            new PciId(INTEL, IXGBE_X550EM_X_KR, "X550EM_x KR"),
            new PciId(INTEL, IXGBE_X550EM_X_SFP, "X550EM_x SFP+"),
            new PciId(INTEL, IXGBE_X550EM_X_10G_T, "X550EM_x 10GBASE-T"),
            new PciId(INTEL, IXGBE_X550EM_X_1G_T, "X550EM_x 1GBASE-T"),
            new PciId(INTEL, IXGBE_X550EM_A_KR, "X550EM_a KR"),
            new PciId(INTEL, IXGBE_X550EM_A_SFP, "X550EM_a SFP+"),
            new PciId(INTEL, IXGBE_X550EM_A_10G_T, "X550EM_a 10GBASE-T"));
}
