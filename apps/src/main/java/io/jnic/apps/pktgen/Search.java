package io.jnic.apps.pktgen;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Trials at an offered rate, and the throughput search of RFC 2544 section 26.1 built on them: a binary
 * search between 0 and the line rate (or --search-max) for the highest rate with no loss (NDR), then for the
 * highest with loss at most a bound (PDR). A trial clears the counters, sends for its duration, stops, waits
 * for the frames in flight and counts: sent, received, lost, and latency.
 */
final class Search {
    /** A trial must send at least this share of the frames its rate and duration ask for. */
    static final double SENT_SHARE = 0.95;
    private final Engine e;
    private final List<Integer> tx;
    private final double trialSeconds;
    private final long quietMs;
    private final long drainMs;
    private final PrintStream out;
    private final BooleanSupplier interrupted;
    private Engine.Snapshot last;
    private double lastSeconds;
    private int index;
    /** The best passing trials of the searches (null until found). */
    Report.Trial ndrTrial;
    Report.Trial pdrTrial;
    double ndrPps = -1;
    double pdrPps = -1;

    Search(Engine e, List<Integer> tx, double trialSeconds, long quietMs, long drainMs, PrintStream out,
            BooleanSupplier interrupted) {
        this.quietMs = quietMs;
        this.e = e;
        this.tx = tx;
        this.trialSeconds = trialSeconds;
        this.drainMs = drainMs;
        this.out = out;
        this.interrupted = interrupted;
    }

    Engine.Snapshot lastSnapshot() {
        return last;
    }

    double lastSeconds() {
        return lastSeconds;
    }

    /** One trial at {@code r} per transmitting port; passes when the loss ratio is at most {@code lossBound}. */
    Report.Trial trial(String kind, Rate r, double lossBound) throws InterruptedException {
        double offeredPps = 0;
        double offeredMbps = 0;
        for (int p : tx) {
            TxSettings s = e.settings(p).withRate(r).withCount(0);
            e.set(p, s);
            double pps = r.pps(s.size().average(), e.linkMbps(p));
            offeredPps += pps;
            offeredMbps += pps * s.size().average() * 8 / 1e6;
        }
        e.clear();
        long t0 = System.nanoTime();
        for (int p : tx) {
            e.start(p);
        }
        long end = t0 + (long) (trialSeconds * 1e9);
        while (System.nanoTime() - end < 0 && !interrupted.getAsBoolean()) {
            Thread.sleep(2);
        }
        long t1 = System.nanoTime();
        for (int p : tx) {
            e.stop(p);
        }
        e.quiesce(quietMs, drainMs);
        Engine.Snapshot s = e.snapshot();
        double secs = (t1 - t0) / 1e9;
        last = s;
        lastSeconds = secs;
        if (r.kind() == Rate.Kind.MAX) { // offered what the ports took
            offeredPps = s.sent() / secs;
            offeredMbps = 0;
            for (int p : tx) {
                offeredMbps += s.ports().get(p).txBytes() * 8 / 1e6 / secs;
            }
        }
        Report.Trial t = new Report.Trial(index++, kind, offeredPps, offeredMbps, secs, s.sent(), s.received(),
                s.streams().stream().mapToLong(Engine.StreamSnap::duplicates).sum(),
                s.streams().stream().mapToLong(Engine.StreamSnap::reordered).sum(), s.latency(), false);
        // RFC 2544 counts a trial at the rate offered: a generator that could not send it (its ports took fewer
        // frames) has not tried that rate, so the trial fails whatever it lost
        boolean offered = r.kind() == Rate.Kind.MAX || t.sent() >= SENT_SHARE * t.offeredPps() * secs;
        boolean pass = t.sent() > 0 && offered && t.lossRatio() <= lossBound;
        t = new Report.Trial(t.index(), t.kind(), t.offeredPps(), t.offeredMbps(), t.seconds(), t.sent(), t.received(),
                t.duplicates(), t.reordered(), t.latency(), pass);
        out.println(String.format(Locale.ROOT, "pktgen: trial %d (%s) offered %.0f pps (%.1f Mbit/s): sent %d received %d "
                + "lost %d (%.4f%%) -> %s; latency %s", t.index(), kind, t.offeredPps(), t.offeredMbps(), t.sent(),
                t.received(), t.lost(), t.lossRatio() * 100, pass ? "pass" : offered ? "fail"
                        : String.format(Locale.ROOT, "fail (sent only %.0f pps)", t.sent() / secs),
                Report.latencySummaryText(t.latency())));
        return t;
    }

    /** Runs the search; its trials are added to {@code trials}; returns the result as a JSON object. */
    String search(String kind, Rate max, double pdrLoss, double precision, List<Report.Trial> trials)
            throws InterruptedException {
        int p0 = tx.get(0);
        TxSettings s0 = e.settings(p0);
        double avg = s0.size().average();
        Rate top = max != null ? max : new Rate(Rate.Kind.PERCENT, 100);
        if (top.kind() == Rate.Kind.PERCENT && e.linkMbps(p0) <= 0) {
            throw new IllegalArgumentException("port " + p0 + " does not report a link speed: give the search's upper "
                    + "bound with --search-max (e.g. --search-max 5mpps)");
        }
        if (top.kind() == Rate.Kind.MAX) {
            throw new IllegalArgumentException("--search-max needs a rate (pps, Mbit/s or %), not max");
        }
        double hiPps = top.pps(avg, e.linkMbps(p0));
        StringBuilder sb = new StringBuilder("{");
        sb.append(String.format(Locale.ROOT, "\"upper_pps\": %.1f, \"precision\": %.4f, \"frame_size\": %s, "
                + "\"ports\": %d", hiPps, precision, Report.quote(s0.size().toString()), tx.size()));
        double ndr = 0;
        if (kind.equals("ndr") || kind.equals("both") || kind.equals("pdr")) {
            Result r = binary("ndr", 0, hiPps, 0, precision, trials);
            ndr = r.pps;
            ndrPps = r.pps * tx.size();
            ndrTrial = r.trial < 0 ? null : trials.stream().filter(t -> t.index() == r.trial).findFirst().orElse(null);
            if (!kind.equals("pdr")) {
                sb.append(String.format(Locale.ROOT, ", \"ndr_pps\": %.1f, \"ndr_mbps\": %.3f, \"ndr_trial\": %d",
                        r.pps * tx.size(), r.pps * tx.size() * avg * 8 / 1e6, r.trial));
                out.println(String.format(Locale.ROOT, "pktgen: NDR %.0f pps per port (%d port(s), %.0f pps in all)",
                        r.pps, tx.size(), r.pps * tx.size()));
            }
        }
        if (kind.equals("pdr") || kind.equals("both")) {
            Result r = binary("pdr", ndr, hiPps, pdrLoss, precision, trials);
            pdrPps = r.pps * tx.size();
            pdrTrial = r.trial < 0 ? ndrTrial : trials.stream().filter(t -> t.index() == r.trial).findFirst().orElse(null);
            sb.append(String.format(Locale.ROOT, ", \"pdr_pps\": %.1f, \"pdr_mbps\": %.3f, \"pdr_trial\": %d, "
                    + "\"pdr_loss_bound\": %.6f", r.pps * tx.size(), r.pps * tx.size() * avg * 8 / 1e6, r.trial, pdrLoss));
            out.println(String.format(Locale.ROOT, "pktgen: PDR (loss <= %.4f%%) %.0f pps per port", pdrLoss * 100, r.pps));
        }
        return sb.append('}').toString();
    }

    private record Result(double pps, int trial) {
    }

    /** The highest per-port rate in [lo, hi] whose trial loses at most {@code bound}; lo is taken as passing. */
    private Result binary(String kind, double lo, double hi, double bound, double precision, List<Report.Trial> trials)
            throws InterruptedException {
        double rate = hi;
        int best = -1;
        for (int i = 0; i < 40 && !interrupted.getAsBoolean(); i++) {
            Report.Trial t = trial(kind, new Rate(Rate.Kind.PPS, Math.max(1, rate)), bound);
            trials.add(t);
            if (t.pass()) {
                lo = rate;
                best = t.index();
                if (rate >= hi) {
                    break;
                }
            } else {
                hi = rate;
            }
            if (hi - lo <= precision * hi) {
                break;
            }
            rate = (lo + hi) / 2;
        }
        return new Result(lo, best);
    }
}
