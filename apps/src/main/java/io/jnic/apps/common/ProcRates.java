package io.jnic.apps.common;

/**
 * Per-slot rates of a {@link ProcStats} over the given ports since the last look: what the forwarding apps' periodic
 * tables print, one row per process (l2fwd-mp) or worker (l2fwd-fork). Each app formats its own columns.
 */
public final class ProcRates {
    /** Bytes a frame costs on the wire beyond its own: FCS (4), preamble and SFD (8), inter-frame gap (12). */
    private static final double WIRE_OVERHEAD = 24.0;

    private final ProcStats stats;
    private final int[] ports;
    private final long[][] last;
    private final double[] rxMpps;
    private final double[] txMpps;
    private final double[] gbps;
    private final double[] dropsPerSec;
    private long lastT;

    public ProcRates(ProcStats stats, int[] ports, int slots) {
        this.stats = stats;
        this.ports = ports.clone();
        this.last = new long[slots][ProcStats.FIELDS];
        this.rxMpps = new double[slots];
        this.txMpps = new double[slots];
        this.gbps = new double[slots];
        this.dropsPerSec = new double[slots];
    }

    public int slots() {
        return last.length;
    }

    /** Counter {@code field} of {@code slot}, summed over the ports. */
    public long sum(int slot, int field) {
        long s = 0;
        for (int p : ports) {
            s += stats.get(slot, p, field);
        }
        return s;
    }

    /** Counter {@code field} summed over every slot and port. */
    public long total(int field) {
        long s = 0;
        for (int q = 0; q < last.length; q++) {
            s += sum(q, field);
        }
        return s;
    }

    /** Takes the counters at {@code t} (nanoTime) as the start of the next interval. */
    public void snapshot(long t) {
        for (int q = 0; q < last.length; q++) {
            for (int f = 0; f < ProcStats.FIELDS; f++) {
                last[q][f] = sum(q, f);
            }
        }
        lastT = t;
    }

    /** Computes every slot's rates from the last look to {@code now} (nanoTime), which becomes the next start. */
    public void advance(long now) {
        double dt = (now - lastT) / 1e9;
        for (int q = 0; q < last.length; q++) {
            long[] cur = new long[ProcStats.FIELDS];
            for (int f = 0; f < ProcStats.FIELDS; f++) {
                cur[f] = sum(q, f);
            }
            long txp = cur[ProcStats.TX] - last[q][ProcStats.TX];
            rxMpps[q] = (cur[ProcStats.RX] - last[q][ProcStats.RX]) / dt / 1e6;
            txMpps[q] = txp / dt / 1e6;
            gbps[q] = ((cur[ProcStats.TX_BYTES] - last[q][ProcStats.TX_BYTES]) + WIRE_OVERHEAD * txp) * 8 / dt / 1e9;
            dropsPerSec[q] = (cur[ProcStats.DROPS] - last[q][ProcStats.DROPS]) / dt;
            last[q] = cur;
        }
        lastT = now;
    }

    public double rxMpps(int slot) {
        return rxMpps[slot];
    }

    public double txMpps(int slot) {
        return txMpps[slot];
    }

    /** Transmitted bits per second on the wire, in Gbit/s (frames plus their wire overhead). */
    public double gbps(int slot) {
        return gbps[slot];
    }

    public double dropsPerSec(int slot) {
        return dropsPerSec[slot];
    }
}
