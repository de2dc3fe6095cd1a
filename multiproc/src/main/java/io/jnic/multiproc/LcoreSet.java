package io.jnic.multiproc;

import java.util.BitSet;
import java.util.Objects;

/**
 * A set of lcore ids, as -l/--lcores writes it: comma-separated ids and ranges, e.g. {@code 0-3,5}.
 * Immutable.
 */
public final class LcoreSet {
    /** Lcore ids run from 0 to MAX_LCORES - 1 (RTE_MAX_LCORE). */
    public static final int MAX_LCORES = 128;
    public static final LcoreSet EMPTY = new LcoreSet(new BitSet());

    private final BitSet bits;

    private LcoreSet(BitSet bits) {
        this.bits = bits;
    }

    /** The set of the given ids. */
    public static LcoreSet of(int... ids) {
        BitSet b = new BitSet();
        for (int id : ids) {
            checkId(id, String.valueOf(id));
            b.set(id);
        }
        return new LcoreSet(b);
    }

    /**
     * Parses a list like {@code 0-3,5}.
     *
     * @throws IllegalArgumentException naming what is wrong and what is allowed
     */
    public static LcoreSet parse(String list) {
        Objects.requireNonNull(list, "list");
        BitSet b = new BitSet();
        String s = list.strip();
        if (s.isEmpty()) {
            throw bad(list, "it is empty");
        }
        for (String item : s.split(",", -1)) {
            String t = item.strip();
            if (t.isEmpty()) {
                throw bad(list, "it has an empty item");
            }
            int dash = t.indexOf('-');
            int lo = number(list, dash < 0 ? t : t.substring(0, dash));
            int hi = dash < 0 ? lo : number(list, t.substring(dash + 1));
            if (hi < lo) {
                throw bad(list, "range " + t + " runs backwards");
            }
            b.set(lo, hi + 1);
        }
        return new LcoreSet(b);
    }

    private static int number(String list, String s) {
        String t = s.strip();
        if (t.isEmpty() || t.length() > 4 || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(list, "'" + s + "' is not an lcore id");
        }
        int id = Integer.parseInt(t);
        if (id >= MAX_LCORES) {
            throw bad(list, "lcore " + id + " is out of range");
        }
        return id;
    }

    private static void checkId(int id, String what) {
        if (id < 0 || id >= MAX_LCORES) {
            throw new IllegalArgumentException("lcore " + what + " is out of range: ids run from 0 to " + (MAX_LCORES - 1));
        }
    }

    private static IllegalArgumentException bad(String list, String why) {
        return new IllegalArgumentException("invalid lcore list '" + list + "' (" + why
                + "): expected comma-separated ids and ranges such as 0-3,5, ids 0 to " + (MAX_LCORES - 1));
    }

    public boolean contains(int id) {
        return id >= 0 && bits.get(id);
    }

    public int size() {
        return bits.cardinality();
    }

    public boolean isEmpty() {
        return bits.isEmpty();
    }

    /** The ids in ascending order. */
    public int[] ids() {
        return bits.stream().toArray();
    }

    /** The lowest id (DPDK's main lcore), or -1 when empty. */
    public int first() {
        return bits.nextSetBit(0);
    }

    /** A copy as a BitSet. */
    public BitSet toBitSet() {
        return (BitSet) bits.clone();
    }

    public static LcoreSet fromBitSet(BitSet b) {
        if (b.length() > MAX_LCORES) {
            checkId(b.length() - 1, String.valueOf(b.length() - 1));
        }
        return new LcoreSet((BitSet) b.clone());
    }

    /** The list form, ranges collapsed: {@code 0-3,5}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int i = bits.nextSetBit(0);
        while (i >= 0) {
            int end = bits.nextClearBit(i) - 1;
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            i = bits.nextSetBit(end + 1);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LcoreSet other && bits.equals(other.bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode();
    }
}
