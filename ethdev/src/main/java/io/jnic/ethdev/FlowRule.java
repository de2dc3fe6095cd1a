package io.jnic.ethdev;

import java.util.Objects;

/**
 * A flow steering rule (a small rte_flow): which frames, and where they go. A field left null (or port -1)
 * matches anything. Ports take what their hardware holds and refuse the rest with {@link EthDevice#flowValidate}'s
 * message; nothing is half-installed.
 *
 * @param etherType  match frames of this EtherType (0x0800 ...), or -1; an EtherType rule has no IP fields
 * @param proto      IP protocol (6 TCP, 17 UDP, 132 SCTP), or -1
 * @param srcIp      IPv4 source address as an int (network order value, e.g. 0x0A000001 for 10.0.0.1), or null
 * @param dstIp      IPv4 destination address, or null
 * @param srcPort    L4 source port, or -1
 * @param dstPort    L4 destination port, or -1
 * @param priority   0..7, higher wins where rules overlap (the 82599's 5-tuple priority)
 * @param action     where matching frames go
 * @param queue      the RX queue, for {@link Action#QUEUE}
 */
public record FlowRule(int etherType, int proto, Integer srcIp, Integer dstIp, int srcPort, int dstPort, int priority,
        Action action, int queue) {

    public enum Action {
        /** Deliver to {@link #queue()}. */
        QUEUE,
        /** Discard in the port. */
        DROP
    }

    public FlowRule {
        Objects.requireNonNull(action, "action");
        if (etherType < -1 || etherType > 0xFFFF) {
            throw new IllegalArgumentException("EtherType " + etherType + " outside 0..0xffff");
        }
        if (proto < -1 || proto > 0xFF) {
            throw new IllegalArgumentException("IP protocol " + proto + " outside 0..255");
        }
        if (srcPort < -1 || srcPort > 0xFFFF || dstPort < -1 || dstPort > 0xFFFF) {
            throw new IllegalArgumentException("L4 ports " + srcPort + "/" + dstPort + " outside 0..65535");
        }
        if (priority < 0 || priority > 7) {
            throw new IllegalArgumentException("priority " + priority + " outside 0..7");
        }
        if (action == Action.QUEUE && queue < 0) {
            throw new IllegalArgumentException("a QUEUE rule needs a queue >= 0, not " + queue);
        }
        boolean ipFields = proto != -1 || srcIp != null || dstIp != null || srcPort != -1 || dstPort != -1;
        if (etherType != -1 && ipFields) {
            throw new IllegalArgumentException("a rule matches an EtherType or IPv4 fields, not both");
        }
        if (etherType == -1 && !ipFields) {
            throw new IllegalArgumentException("a rule must match something: an EtherType or some of protocol, "
                    + "addresses and ports");
        }
    }

    /** Frames of {@code etherType} to {@code queue}. */
    public static FlowRule etherType(int etherType, int queue) {
        return new FlowRule(etherType, -1, null, null, -1, -1, 0, Action.QUEUE, queue);
    }

    /** IPv4 frames matching the given fields (null / -1: any) to {@code queue}. */
    public static FlowRule fiveTuple(int proto, Integer srcIp, Integer dstIp, int srcPort, int dstPort, int queue) {
        return new FlowRule(-1, proto, srcIp, dstIp, srcPort, dstPort, 0, Action.QUEUE, queue);
    }

    public FlowRule drop() {
        return new FlowRule(etherType, proto, srcIp, dstIp, srcPort, dstPort, priority, Action.DROP, 0);
    }

    public FlowRule withPriority(int p) {
        return new FlowRule(etherType, proto, srcIp, dstIp, srcPort, dstPort, p, action, queue);
    }

    public boolean isEtherType() {
        return etherType != -1;
    }
}
