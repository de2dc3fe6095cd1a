package io.jnic.apps.pktgen;

/**
 * What a port transmits (immutable: the console swaps in a new one; the TX threads pick it up on their next
 * burst).
 *
 * @param count frames to send per port then stop, 0 for no limit
 * @param vlan  802.1Q VLAN id 0-4095, or -1 for untagged frames
 */
public record TxSettings(Rate rate, SizeSpec size, long count, int vlan, Flows flows) {
    public TxSettings {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0 (0: no limit), got " + count);
        }
        if (vlan < -1 || vlan > 4095) {
            throw new IllegalArgumentException("VLAN id must be 0-4095, got " + vlan);
        }
    }

    public TxSettings withRate(Rate r) {
        return new TxSettings(r, size, count, vlan, flows);
    }

    public TxSettings withSize(SizeSpec s) {
        return new TxSettings(rate, s, count, vlan, flows);
    }

    public TxSettings withCount(long c) {
        return new TxSettings(rate, size, c, vlan, flows);
    }

    public TxSettings withVlan(int v) {
        return new TxSettings(rate, size, count, v, flows);
    }

    public TxSettings withFlows(Flows f) {
        return new TxSettings(rate, size, count, vlan, f);
    }
}
