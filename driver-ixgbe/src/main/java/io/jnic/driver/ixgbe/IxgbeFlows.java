package io.jnic.driver.ixgbe;

import static io.jnic.driver.ixgbe.IxgbeRegs.*;

import io.jnic.ethdev.Flow;
import io.jnic.ethdev.FlowRule;
import io.jnic.pci.PciBar;
import java.util.ArrayList;
import java.util.List;

/**
 * Flow steering on the 82599's queue filters (datasheet 7.1.2): EtherType rules in the 8 L2 EtherType filters
 * (ETQF/ETQS, 7.1.2.3), IPv4 rules in the 128 5-tuple filters (FTQF, SAQF, DAQF, SDPQF, L34T_IMIR, 7.1.2.5). The
 * hardware applies an EtherType filter first, then the matching 5-tuple filter of highest priority, then RSS;
 * frames must pass the MAC address and VLAN filters before any of them.
 *
 * <p>DROP sends matching frames to {@link #DROP_QUEUE}, a queue this driver never enables: the 82599 drops a frame
 * whose queue is disabled and counts it in RNBC (8.2.3.23), which is how its Flow Director drops too (FDIRCTRL's
 * drop queue, DPDK's IXGBE_FDIR_DROP_QUEUE 127).
 *
 * <p>What the hardware cannot hold is refused by {@link #validate} before anything is written: an IP protocol
 * other than TCP, UDP or SCTP (FTQF's protocol field tells only those apart), ports without one of those, IPv6
 * EtherType rules (IPv4 rules are 5-tuple ones), the 1588 EtherType while time sync holds it, and no free slot.
 * A {@link Flow}'s id is its slot: 0-7 EtherType, 8-135 5-tuple ({@link #FTQF_ID0} + index).
 */
final class IxgbeFlows {
    static final int FTQF_ID0 = ETQF_COUNT;
    /** The queue DROP rules steer to: the filters' queue field's last value (7 bits), never enabled by this driver. */
    static final int DROP_QUEUE = 127;
    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;
    private static final int PROTO_SCTP = 132;

    private final PciBar bar;
    private final String name;
    private final int port;
    private final Flow[] slots = new Flow[ETQF_COUNT + FTQF_COUNT];
    private boolean ptpSlotTaken; // time sync holds ETQF[ETQF_SLOT_1588]

    IxgbeFlows(PciBar bar, String name, int port) {
        this.bar = bar;
        this.name = name;
        this.port = port;
    }

    /** Throws, saying why, when the filters cannot hold {@code r} now. */
    void validate(FlowRule r) {
        if (r.isEtherType()) {
            if (r.etherType() == 0x0800 || r.etherType() == 0x86DD) {
                throw new IllegalArgumentException(name + ": an EtherType filter for IPv4/IPv6 (0x"
                        + Integer.toHexString(r.etherType()) + ") would take every IP frame from RSS; match IPv4 "
                        + "fields with a 5-tuple rule instead (IPv6 is not supported by the 82599's 5-tuple filters)");
            }
            if (r.etherType() == ETHERTYPE_1588 && ptpSlotTaken) {
                throw new IllegalStateException(name + ": the IEEE 1588 EtherType 0x88f7 is held by time sync "
                        + "(timesyncEnable); disable it first");
            }
            for (int i = 0; i < ETQF_COUNT; i++) {
                Flow f = slots[i];
                if (f != null && f.rule().etherType() == r.etherType()) {
                    throw new IllegalStateException(name + ": EtherType 0x" + Integer.toHexString(r.etherType())
                            + " already has a rule (flow " + i + "); destroy it first");
                }
            }
            if (freeEtqf() < 0) {
                throw new IllegalStateException(name + ": all " + (ETQF_COUNT - (ptpSlotTaken ? 1 : 0))
                        + " EtherType filters (ETQF) are in use; destroy a rule first");
            }
            return;
        }
        if (r.proto() != -1 && r.proto() != PROTO_TCP && r.proto() != PROTO_UDP && r.proto() != PROTO_SCTP) {
            throw new IllegalArgumentException(name + ": IP protocol " + r.proto() + " cannot be matched: the 82599's "
                    + "5-tuple filter (FTQF) tells only TCP (6), UDP (17) and SCTP (132) apart; leave the protocol out");
        }
        if (r.proto() == -1 && (r.srcPort() != -1 || r.dstPort() != -1)) {
            throw new IllegalArgumentException(name + ": a rule on L4 ports needs the protocol (TCP, UDP or SCTP)");
        }
        if (freeFtqf() < 0) {
            throw new IllegalStateException(name + ": all " + FTQF_COUNT + " 5-tuple filters (FTQF) are in use; "
                    + "destroy a rule first");
        }
    }

    private int freeEtqf() {
        for (int i = 0; i < ETQF_COUNT; i++) {
            if (slots[i] == null && !(ptpSlotTaken && i == ETQF_SLOT_1588)) {
                return i;
            }
        }
        return -1;
    }

    private int freeFtqf() {
        for (int i = 0; i < FTQF_COUNT; i++) {
            if (slots[FTQF_ID0 + i] == null) {
                return i;
            }
        }
        return -1;
    }

    /** Installs a validated rule. */
    Flow create(FlowRule r) {
        validate(r);
        int id = r.isEtherType() ? freeEtqf() : FTQF_ID0 + freeFtqf();
        Flow f = new Flow(port, id, r);
        slots[id] = f;
        write(f);
        return f;
    }

    void destroy(Flow f) {
        int id = f.id();
        if (id < 0 || id >= slots.length || !f.equals(slots[id])) {
            throw new IllegalArgumentException(name + ": " + f + " is not installed on this port (see flows())");
        }
        slots[id] = null;
        clear(id);
    }

    List<Flow> flows() {
        List<Flow> l = new ArrayList<>();
        for (Flow f : slots) {
            if (f != null) {
                l.add(f);
            }
        }
        return l;
    }

    /** Time sync takes (or gives back) ETQF[3] for the 1588 EtherType; refused when a flow rule holds that slot. */
    void reservePtp(boolean on) {
        if (on && slots[ETQF_SLOT_1588] != null) {
            throw new IllegalStateException(name + ": EtherType filter " + ETQF_SLOT_1588 + " is used by " + slots[
                    ETQF_SLOT_1588] + "; time sync needs it for the IEEE 1588 EtherType: destroy that rule first");
        }
        ptpSlotTaken = on;
    }

    private static int queueOf(FlowRule r) {
        return r.action() == FlowRule.Action.DROP ? DROP_QUEUE : r.queue();
    }

    private void write(Flow f) {
        FlowRule r = f.rule();
        int id = f.id();
        if (id < FTQF_ID0) {
            // ETQS first: the filter must not match before its queue is set
            bar.write32(ETQS0 + 4 * id, ETQS_QUEUE_EN | queueOf(r) << ETQS_QUEUE_SHIFT);
            bar.write32(ETQF0 + 4 * id, ETQF_FILTER_EN | r.etherType());
            return;
        }
        int i = id - FTQF_ID0;
        int mask = 0;
        int proto = 0;
        if (r.proto() == -1) {
            mask |= FTQF_MASK_PROTO;
        } else {
            proto = r.proto() == PROTO_TCP ? FTQF_PROTO_TCP : r.proto() == PROTO_UDP ? FTQF_PROTO_UDP : FTQF_PROTO_SCTP;
        }
        if (r.srcIp() == null) {
            mask |= FTQF_MASK_SRC_ADDR;
        }
        if (r.dstIp() == null) {
            mask |= FTQF_MASK_DST_ADDR;
        }
        if (r.srcPort() == -1) {
            mask |= FTQF_MASK_SRC_PORT;
        }
        if (r.dstPort() == -1) {
            mask |= FTQF_MASK_DST_PORT;
        }
        // addresses and ports as their bytes sit in the header (network order), as DPDK's ixgbe writes them
        bar.write32(SAQF0 + 4 * i, r.srcIp() == null ? 0 : Integer.reverseBytes(r.srcIp()));
        bar.write32(DAQF0 + 4 * i, r.dstIp() == null ? 0 : Integer.reverseBytes(r.dstIp()));
        int sp = r.srcPort() == -1 ? 0 : Short.reverseBytes((short) r.srcPort()) & 0xFFFF;
        int dp = r.dstPort() == -1 ? 0 : Short.reverseBytes((short) r.dstPort()) & 0xFFFF;
        bar.write32(SDPQF0 + 4 * i, sp | dp << 16);
        bar.write32(L34T_IMIR0 + 4 * i, L34T_IMIR_SIZE_BP | L34T_IMIR_CTRL_BP | queueOf(r) << L34T_IMIR_QUEUE_SHIFT);
        // FTQF last: QUEUE_EN makes the filter live; no pool (no virtualisation): pool mask set
        bar.write32(FTQF0 + 4 * i, FTQF_QUEUE_EN | FTQF_POOL_MASK_EN | mask << FTQF_MASK_SHIFT
                | r.priority() << FTQF_PRIO_SHIFT | proto);
    }

    private void clear(int id) {
        if (id < FTQF_ID0) {
            bar.write32(ETQF0 + 4 * id, 0);
            bar.write32(ETQS0 + 4 * id, 0);
            return;
        }
        int i = id - FTQF_ID0;
        bar.write32(FTQF0 + 4 * i, 0); // disable first
        bar.write32(SAQF0 + 4 * i, 0);
        bar.write32(DAQF0 + 4 * i, 0);
        bar.write32(SDPQF0 + 4 * i, 0);
        bar.write32(L34T_IMIR0 + 4 * i, 0);
    }

    /** Writes every installed rule again (after a global reset). */
    void apply() {
        for (Flow f : slots) {
            if (f != null) {
                write(f);
            }
        }
    }
}
