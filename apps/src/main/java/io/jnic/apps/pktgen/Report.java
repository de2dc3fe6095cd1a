package io.jnic.apps.pktgen;

import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/** Text pages and JSON of pktgen's counters. */
final class Report {
    private Report() {
    }

    /** One trial of a sweep or search: an offered rate and what came of it. */
    record Trial(int index, String kind, double offeredPps, double offeredMbps, double seconds, long sent, long received,
            long duplicates, long reordered, Histogram latency, boolean pass) {
        long lost() {
            return sent - received;
        }

        double lossRatio() {
            return sent == 0 ? 0 : (double) Math.max(0, lost()) / sent;
        }
    }

    static String latencySummaryText(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "no latency samples";
        }
        return String.format(Locale.ROOT, "min %.1f mean %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f us",
                h.getMinValue() / 1e3, h.getMean() / 1e3, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3);
    }

    static String latencyJson(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "{\"samples\": 0}";
        }
        return String.format(Locale.ROOT, "{\"samples\": %d, \"min\": %d, \"mean\": %.1f, \"p50\": %d, \"p90\": %d, "
                + "\"p99\": %d, \"p99_9\": %d, \"max\": %d}", h.getTotalCount(), h.getMinValue(), h.getMean(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    /** The latency CDF as [[ns, percentile], ...], at most about 120 points. */
    static String cdfJson(Histogram h) {
        StringBuilder sb = new StringBuilder("[");
        if (h.getTotalCount() > 0) {
            boolean first = true;
            long lastValue = -1;
            for (HistogramIterationValue v : h.percentiles(4)) {
                long value = v.getValueIteratedTo();
                if (value == lastValue && v.getPercentileLevelIteratedTo() < 100) {
                    continue;
                }
                lastValue = value;
                sb.append(first ? "" : ", ").append(String.format(Locale.ROOT, "[%d, %.4f]", value,
                        v.getPercentileLevelIteratedTo()));
                first = false;
                if (v.getPercentileLevelIteratedTo() >= 100) {
                    break;
                }
            }
        }
        return sb.append(']').toString();
    }

    /** The stats page: per port rates and totals, per stream balance. */
    static String statsPage(Engine e, Engine.Snapshot now, Engine.Snapshot prev) {
        double dt = prev == null ? 0 : (now.nanos() - prev.nanos()) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-5s %-4s %-10s %-9s %12s %10s %12s %10s %14s %14s%n", "port", "tx", "rate",
                "size", "tx pps", "tx Mbps", "rx pps", "rx Mbps", "tx total", "rx total"));
        for (Engine.PortSnap p : now.ports()) {
            Engine.PortSnap q = prev == null ? null : prev.ports().get(p.port());
            double txPps = q == null || dt <= 0 ? 0 : (p.txFrames() - q.txFrames()) / dt;
            double rxPps = q == null || dt <= 0 ? 0 : (p.rxFrames() - q.rxFrames()) / dt;
            double txMbps = q == null || dt <= 0 ? 0 : (p.txBytes() - q.txBytes()) * 8 / dt / 1e6;
            double rxMbps = q == null || dt <= 0 ? 0 : (p.rxBytes() - q.rxBytes()) * 8 / dt / 1e6;
            TxSettings s = e.settings(p.port());
            sb.append(String.format(Locale.ROOT, "%-5d %-4s %-10s %-9s %12.0f %10.1f %12.0f %10.1f %14d %14d%n", p.port(),
                    e.transmitting(p.port()) ? "on" : "off", s.rate(), s.size(), txPps, txMbps, rxPps, rxMbps,
                    p.txFrames(), p.rxFrames()));
        }
        sb.append(String.format(Locale.ROOT, "%-9s %14s %14s %12s %10s %10s %10s%n", "stream", "sent", "received", "lost",
                "dup", "reordered", "foreign"));
        for (Engine.StreamSnap s : now.streams()) {
            sb.append(String.format(Locale.ROOT, "%-9s %14d %14d %12d %10d %10d %10d%n", "port " + s.txPort(), s.sent(),
                    s.received(), s.lost(), s.duplicates(), s.reordered(), now.ports().get(s.txPort()).rxForeign()));
        }
        return sb.toString();
    }

    static String latencyPage(Engine.Snapshot now) {
        StringBuilder sb = new StringBuilder("one-way latency, TX burst to RX burst (microseconds):\n");
        for (Engine.StreamSnap s : now.streams()) {
            sb.append(String.format(Locale.ROOT, "  stream port %d: %s%n", s.txPort(), latencySummaryText(s.latency())));
        }
        sb.append("  all: ").append(latencySummaryText(now.latency())).append('\n');
        return sb.toString();
    }

    /** Latency on the ports' clocks per sending port, with the clock offsets' uncertainty. */
    static String hwLatencyPage(Engine e) {
        HwLatency hw = e.hw();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "one-way latency on the ports' clocks (IEEE 1588,"
                + " microseconds; clock offsets known to +-%.3f us):%n", hw.uncertaintyNanos() / 1e3));
        for (int p = 0; p < e.ports(); p++) {
            sb.append(String.format(Locale.ROOT, "  stream port %d: %s%n", p, latencySummaryText(hw.histogram(p))));
        }
        return sb.toString();
    }

    /** " hw_p50_us=.. hw_min_us=.. hw_max_us=.. hw_samples=.. hw_offset_uncertainty_us=.." or "" without it. */
    static String hwSummary(Engine e) {
        HwLatency hw = e.hw();
        if (hw == null) {
            return "";
        }
        Histogram all = new Histogram(StreamMeter.MAX_LATENCY_NS, 3);
        for (int p = 0; p < e.ports(); p++) {
            all.add(hw.histogram(p));
        }
        return String.format(Locale.ROOT, " hw_samples=%d hw_min_us=%.3f hw_p50_us=%.3f hw_max_us=%.3f "
                + "hw_offset_uncertainty_us=%.3f", all.getTotalCount(), all.getTotalCount() == 0 ? 0 : all.getMinValue() / 1e3,
                all.getValueAtPercentile(50) / 1e3, all.getMaxValue() / 1e3, hw.uncertaintyNanos() / 1e3);
    }

    static String json(Engine e, String command, double seconds, Engine.Snapshot s, List<Trial> trials, String search,
            String extra) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"tool\": \"jnic pktgen\",\n");
        sb.append("  \"command\": ").append(quote(command)).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"seconds\": %.3f,%n", seconds));
        sb.append("  \"ports\": [");
        for (Engine.PortSnap p : s.ports()) {
            TxSettings t = e.settings(p.port());
            var d = e.device(p.port());
            var hw = d.stats();
            sb.append(p.port() == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"port\": %d, \"device\": %s, \"driver\": %s, \"link_mbps\": %d, \"rate\": %s, \"size\": %s, "
                            + "\"vlan\": %d, \"flows\": %s, \"tx_frames\": %d, \"tx_bytes\": %d, \"rx_frames\": %d, "
                            + "\"rx_bytes\": %d, \"rx_foreign\": %d, \"tx_pps\": %.1f, \"rx_pps\": %.1f, \"tx_mbps\": %.3f, "
                            + "\"rx_mbps\": %.3f, \"alloc_failures\": %d, \"hw_ipackets\": %d, \"hw_opackets\": %d, "
                            + "\"hw_imissed\": %d, \"hw_ierrors\": %d, \"hw_rx_nombuf\": %d}",
                    p.port(), quote(d.deviceName()), quote(d.info().driverName()), e.linkMbps(p.port()),
                    quote(t.rate().toString()), quote(t.size().toString()), t.vlan(), quote(t.flows().toString()),
                    p.txFrames(), p.txBytes(), p.rxFrames(), p.rxBytes(), p.rxForeign(), rate(p.txFrames(), seconds),
                    rate(p.rxFrames(), seconds), rate(p.txBytes() * 8 / 1e6, seconds), rate(p.rxBytes() * 8 / 1e6, seconds),
                    p.allocFailures(), hw.ipackets, hw.opackets, hw.imissed, hw.ierrors, hw.rxNombuf));
        }
        sb.append("\n  ],\n  \"streams\": [");
        boolean first = true;
        for (Engine.StreamSnap st : s.streams()) {
            sb.append(first ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"tx_port\": %d, \"sent\": %d, \"received\": %d, \"lost\": %d, \"loss_ratio\": %.9f, "
                            + "\"duplicates\": %d, \"reordered\": %d, \"late\": %d, \"latency_ns\": %s, \"latency_cdf\": %s%s}",
                    st.txPort(), st.sent(), st.received(), st.lost(), st.lossRatio(), st.duplicates(), st.reordered(),
                    st.late(), latencyJson(st.latency()), cdfJson(st.latency()), e.hw() == null ? ""
                            : ", \"hw_latency_ns\": " + latencyJson(e.hw().histogram(st.txPort()))
                                    + ", \"hw_offset_uncertainty_ns\": " + e.hw().uncertaintyNanos()
                                    + ", \"hw_tx_stamps_missing\": " + e.hw().txStampsMissing(st.txPort())));
            first = false;
        }
        sb.append("\n  ],\n");
        sb.append(String.format(Locale.ROOT, "  \"stale\": %d,%n", s.stale()));
        Histogram all = s.latency();
        sb.append("  \"latency_ns\": ").append(latencyJson(all)).append(",\n");
        sb.append("  \"latency_cdf\": ").append(cdfJson(all)).append(",\n");
        sb.append("  \"trials\": [");
        first = true;
        for (Trial t : trials) {
            sb.append(first ? "\n" : ",\n").append(String.format(Locale.ROOT,
                    "    {\"trial\": %d, \"kind\": %s, \"offered_pps\": %.1f, \"offered_mbps\": %.3f, \"seconds\": %.6f, "
                            + "\"sent\": %d, \"received\": %d, \"lost\": %d, \"loss_ratio\": %.9f, \"duplicates\": %d, "
                            + "\"reordered\": %d, \"tx_pps\": %.1f, \"rx_pps\": %.1f, \"pass\": %b, \"latency_ns\": %s, \"latency_cdf\": %s}",
                    t.index(), quote(t.kind()), t.offeredPps(), t.offeredMbps(), t.seconds(), t.sent(), t.received(),
                    t.lost(), t.lossRatio(), t.duplicates(), t.reordered(), rate(t.sent(), t.seconds()), rate(t.received(), t.seconds()),
                    t.pass(),
                    latencyJson(t.latency()), cdfJson(t.latency())));
            first = false;
        }
        sb.append(trials.isEmpty() ? "],\n" : "\n  ],\n");
        sb.append("  \"search\": ").append(search == null ? "null" : search);
        if (extra != null) {
            sb.append(",\n").append(extra);
        }
        return sb.append("\n}\n").toString();
    }

    private static double rate(double v, double seconds) {
        return seconds > 0 ? v / seconds : 0;
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
