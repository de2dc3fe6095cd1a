package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.*;

import io.jnic.ethdev.FlowControl;
import io.jnic.ethdev.LinkSettings;
import io.jnic.ethdev.MacAddress;
import io.jnic.pci.PciBar;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A port's receive filters and MAC settings that change at run time: all-multicast (FCTRL.MPE), the multicast
 * hash table (MTA with MCSTCTRL), the extra unicast addresses (RAL/RAH 1..127), the VLAN filter (VFTA with
 * VLNCTRL.VFE), the link mode (AUTOC) and 802.3x flow control (MFLCN, FCCFG, FCTTV, FCRTL/FCRTH, FCRTV).
 *
 * <p>What software asked for is kept here and written again by {@link #apply} after every global reset (a restart
 * or the recovery from a device reset clears the registers). Callers hold the port's monitor.
 */
final class IxgbeFilters {
    /** FCTTV pause time (quanta of 512 bit times) and the refresh at half of it: DPDK's and Linux's default. */
    static final int PAUSE_TIME = 0x680;
    /** FCRTH/FCRTL thresholds in the 512 KB packet buffer 0: XOFF above 480 KB, XON below 448 KB (32-byte units). */
    static final int FC_HIGH_BYTES = 480 * 1024;
    static final int FC_LOW_BYTES = 448 * 1024;

    private final PciBar bar;
    private final String name;
    private final boolean sfp;
    private boolean allmulti;
    private final List<MacAddress> groups = new ArrayList<>();
    private final MacAddress[] extra = new MacAddress[RAR_ENTRIES]; // slot 0 is the port's own address
    private final BitSet vlans = new BitSet(4096);
    private boolean vlanFilter;
    private LinkSettings link = LinkSettings.AUTONEG;
    private FlowControl fc = FlowControl.NONE;

    IxgbeFilters(PciBar bar, String name, boolean sfp) {
        this.bar = bar;
        this.name = name;
        this.sfp = sfp;
    }

    boolean allmulti() {
        return allmulti;
    }

    void allmulti(boolean on) {
        allmulti = on;
    }

    /** The FCTRL value with MPE as promiscuous mode and all-multicast ask (8.2.3.7.1). */
    int fctrl(int fctrl, boolean promisc) {
        int f = promisc ? fctrl | FCTRL_UPE | FCTRL_MPE : fctrl & ~(FCTRL_UPE | FCTRL_MPE);
        return allmulti ? f | FCTRL_MPE : f;
    }

    /**
     * 8.2.3.7.7 MTA: with MCSTCTRL.MO = 00b a group's bit is address bits 47:36 (the last octet and the high nibble
     * of the one before): register bit {@code v & 31} of MTA[{@code v >> 5}].
     */
    static int mtaVector(MacAddress a) {
        byte[] o = a.octets();
        return ((o[4] & 0xFF) >>> 4 | (o[5] & 0xFF) << 4) & 0xFFF;
    }

    void multicast(List<MacAddress> list) {
        groups.clear();
        groups.addAll(list);
        writeMta();
    }

    private void writeMta() {
        int[] mta = new int[MTA_REGS];
        for (MacAddress a : groups) {
            int v = mtaVector(a);
            mta[v >>> 5] |= 1 << (v & 31);
        }
        for (int i = 0; i < MTA_REGS; i++) {
            bar.write32(MTA0 + 4 * i, mta[i]);
        }
        bar.write32(MCSTCTRL, groups.isEmpty() ? 0 : MCSTCTRL_MFE); // MO = 00b
    }

    /** 8.2.3.7.9/10: the address in a free RAL/RAH slot with Address Valid; nothing written when none is free. */
    void macAdd(MacAddress m, MacAddress own) {
        if (m.equals(own)) {
            return;
        }
        int free = -1;
        for (int i = 1; i < RAR_ENTRIES; i++) {
            if (m.equals(extra[i])) {
                return; // already accepted
            }
            if (extra[i] == null && free < 0) {
                free = i;
            }
        }
        if (free < 0) {
            throw new IllegalStateException(name + ": all " + (RAR_ENTRIES - 1) + " extra unicast address filters "
                    + "(RAL/RAH 1-127) are in use; remove one with macAddrRemove, or use promiscuous mode");
        }
        extra[free] = m;
        writeRar(free, m);
    }

    void macRemove(MacAddress m) {
        for (int i = 1; i < RAR_ENTRIES; i++) {
            if (m.equals(extra[i])) {
                extra[i] = null;
                bar.write32(RAH0 + 8 * i, 0); // Address Valid off first
                bar.write32(RAL0 + 8 * i, 0);
                return;
            }
        }
        throw new IllegalArgumentException(name + ": " + m + " was not added with macAddrAdd (the port's own address "
                + "is changed with macAddress)");
    }

    int macCount() {
        int n = 0;
        for (int i = 1; i < RAR_ENTRIES; i++) {
            n += extra[i] == null ? 0 : 1;
        }
        return n;
    }

    private void writeRar(int i, MacAddress m) {
        byte[] o = m.octets();
        bar.write32(RAL0 + 8 * i, (o[0] & 0xFF) | (o[1] & 0xFF) << 8 | (o[2] & 0xFF) << 16 | (o[3] & 0xFF) << 24);
        bar.write32(RAH0 + 8 * i, (o[4] & 0xFF) | (o[5] & 0xFF) << 8 | RAH_AV);
    }

    /** The VLAN filter follows the configuration's VLAN_FILTER offload (VLNCTRL.VFE, 8.2.3.7.2). */
    void vlanFilterEnabled(boolean on) {
        vlanFilter = on;
        writeVlnctrl();
    }

    private void writeVlnctrl() {
        int v = bar.read32(VLNCTRL);
        bar.write32(VLNCTRL, vlanFilter ? v | VLNCTRL_VFE : v & ~VLNCTRL_VFE);
    }

    void vlan(int id, boolean on) {
        vlans.set(id, on);
        writeVfta(id >>> 5);
    }

    private void writeVfta(int word) {
        int v = 0;
        for (int b = 0; b < 32; b++) {
            if (vlans.get(32 * word + b)) {
                v |= 1 << b;
            }
        }
        bar.write32(VFTA0 + 4 * word, v);
    }

    LinkSettings link() {
        return link;
    }

    /**
     * 8.2.3.22.19 AUTOC.LMS: the port's 10 Gb/s serial mode (what probe sets; an SFI link has no autonegotiation)
     * or a fixed 10 Gb/s link without it (001b). 1 Gb/s would need the multispeed-fiber sequence of the module,
     * which this driver does not run, so it is refused, as is any other speed.
     */
    void link(LinkSettings s) {
        if (!s.autoneg() && s.speedMbps() != 10_000) {
            throw new IllegalArgumentException(name + ": a fixed " + s.speedMbps() + " Mb/s link is not supported: this "
                    + "driver runs the 82599 at 10000 Mb/s" + (sfp ? " on SFP+ (1 Gb/s multispeed fiber is not "
                    + "implemented)" : "") + "; use LinkSettings.fixed(10000) or LinkSettings.AUTONEG");
        }
        link = s;
        writeAutoc();
    }

    private void writeAutoc() {
        int lms = link.autoneg() ? AUTOC_LMS_10G_SERIAL : AUTOC_LMS_10G_NO_AN;
        bar.write32(AUTOC, (bar.read32(AUTOC) & ~AUTOC_LMS_MASK) | lms | AUTOC_AN_RESTART);
    }

    FlowControl flowControl() {
        return fc;
    }

    /**
     * 802.3x flow control (datasheet 3.7.7): RX_PAUSE/FULL honour received pause frames (MFLCN.RFCE); TX_PAUSE/FULL
     * send XOFF when packet buffer 0 fills past FCRTH and XON when it drains below FCRTL (FCCFG.TFCE = 802.3x), with
     * the pause time in FCTTV and its refresh in FCRTV.
     */
    void flowControl(FlowControl f) {
        fc = f;
        writeFlowControl();
    }

    private void writeFlowControl() {
        boolean rx = fc == FlowControl.RX_PAUSE || fc == FlowControl.FULL;
        boolean tx = fc == FlowControl.TX_PAUSE || fc == FlowControl.FULL;
        int mflcn = bar.read32(MFLCN);
        bar.write32(MFLCN, rx ? mflcn | MFLCN_RFCE : mflcn & ~MFLCN_RFCE);
        bar.write32(FCCFG, tx ? FCCFG_TFCE_802_3X : 0);
        bar.write32(FCTTV0, PAUSE_TIME | PAUSE_TIME << 16);
        bar.write32(FCRTV, PAUSE_TIME / 2);
        bar.write32(FCRTL0, tx ? (FC_LOW_BYTES & 0x7FFE0) | FCRTL_XONE : 0);
        bar.write32(FCRTH0, tx ? (FC_HIGH_BYTES & 0x7FFE0) | FCRTH_FCEN : 0);
    }

    /** Writes everything above again (after a global reset). */
    void apply(boolean vlanFilterOn) {
        writeMta();
        for (int i = 1; i < RAR_ENTRIES; i++) {
            if (extra[i] != null) {
                writeRar(i, extra[i]);
            }
        }
        vlanFilter = vlanFilterOn;
        for (int w = 0; w < VFTA_REGS; w++) {
            writeVfta(w);
        }
        writeVlnctrl();
        if (!link.autoneg()) {
            writeAutoc();
        }
        if (fc != FlowControl.NONE) {
            writeFlowControl();
        }
    }
}
