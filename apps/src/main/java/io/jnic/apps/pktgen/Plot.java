package io.jnic.apps.pktgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * {@code pktgen plot FILE.json [--out PREFIX] [--png]}: two SVG charts from a results file, written here by
 * hand: PREFIX-throughput.svg (received rate and loss against offered rate, one point per trial) and
 * PREFIX-latency.svg (the latency CDF of the run and of each trial, log time axis). With --png, also PNGs
 * through librsvg's rsvg-convert (apt-get install librsvg2-bin) or ImageMagick's convert.
 */
final class Plot {
    private static final int W = 900;
    private static final int H = 540;
    private static final int L = 90;
    private static final int R = 90;
    private static final int T = 50;
    private static final int B = 70;
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

    private Plot() {
    }

    static int run(PrintStream out, PrintStream err, String... args) {
        Path in = null;
        String prefix = null;
        boolean png = false;
        for (int k = 0; k < args.length; k++) {
            switch (args[k]) {
                case "--out" -> {
                    if (k + 1 >= args.length) {
                        err.println("pktgen plot: --out needs a file prefix");
                        return 2;
                    }
                    prefix = args[++k];
                }
                case "--png" -> png = true;
                case "-h", "--help" -> {
                    out.println("usage: pktgen plot FILE.json [--out PREFIX] [--png]");
                    return 0;
                }
                default -> {
                    if (in != null) {
                        err.println("pktgen plot: one results file, got " + in + " and " + args[k]);
                        return 2;
                    }
                    in = Path.of(args[k]);
                }
            }
        }
        if (in == null) {
            err.println("usage: pktgen plot FILE.json [--out PREFIX] [--png]");
            return 2;
        }
        if (prefix == null) {
            String n = in.toString();
            prefix = n.endsWith(".json") ? n.substring(0, n.length() - 5) : n;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = (Map<String, Object>) MiniJson.parse(Files.readString(in));
            List<Path> written = new ArrayList<>();
            Path tp = Path.of(prefix + "-throughput.svg");
            Files.writeString(tp, throughput(r));
            written.add(tp);
            Path lp = Path.of(prefix + "-latency.svg");
            Files.writeString(lp, latency(r));
            written.add(lp);
            for (Path p : written) {
                out.println("pktgen plot: " + p);
                if (png) {
                    Path pngFile = Path.of(p.toString().replaceAll("\\.svg$", ".png"));
                    // librsvg's rsvg-convert when there is one, else ImageMagick's convert
                    boolean rsvg = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
                            .anyMatch(d -> Files.isExecutable(Path.of(d, "rsvg-convert")));
                    Process pr = (rsvg ? new ProcessBuilder("rsvg-convert", p.toString(), "-o", pngFile.toString())
                            : new ProcessBuilder("convert", p.toString(), pngFile.toString())).redirectErrorStream(true)
                            .start();
                    String o = new String(pr.getInputStream().readAllBytes());
                    if (pr.waitFor() != 0) {
                        err.println("pktgen plot: convert failed for " + p + ": " + o);
                    } else {
                        out.println("pktgen plot: " + pngFile);
                    }
                }
            }
            return 0;
        } catch (IOException e) {
            err.println("pktgen plot: " + e.getMessage() + (png ? " (--png needs rsvg-convert from librsvg2-bin, or ImageMagick's convert)" : ""));
            return 1;
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            err.println("pktgen plot: " + in + " is not a pktgen results file: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Map<String, Object> r, String key) {
        Object v = r.get(key);
        return v == null ? List.of() : (List<Map<String, Object>>) v;
    }

    static double num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Double d ? d : 0;
    }

    /** Received rate and loss against offered rate, per trial (sorted by offered rate). */
    static String throughput(Map<String, Object> r) {
        List<Map<String, Object>> trials = new ArrayList<>(list(r, "trials"));
        trials.removeIf(t -> num(t, "sent") == 0); // a trial that sent nothing (the port took no frame) says nothing
        trials.sort((a, b) -> Double.compare(num(a, "offered_pps"), num(b, "offered_pps")));
        Svg s = new Svg("pktgen: throughput and loss against offered rate");
        double minX = Double.MAX_VALUE;
        double maxX = 1;
        double maxY = 1;
        double maxLoss = 0.001;
        for (Map<String, Object> t : trials) {
            minX = Math.min(minX, Math.max(1, num(t, "offered_pps")));
            maxX = Math.max(maxX, num(t, "offered_pps"));
            maxY = Math.max(maxY, num(t, "rx_pps"));
            maxLoss = Math.max(maxLoss, num(t, "loss_ratio") * 100);
        }
        // A search starts at line rate while the interesting trials may be 100x below: a log scale keeps them apart.
        boolean logX = !trials.isEmpty() && maxX / minX > 30;
        double lx = logX ? Math.floor(Math.log10(minX / 1e6)) : 0;
        double hx = logX ? Math.ceil(Math.log10(maxX / 1e6 * 1.001)) : nice(maxX / 1e6);
        DoubleUnaryOperator px = v -> logX ? s.xr(Math.log10(Math.max(v, 1e-9)), lx, hx) : s.x(v, hx);
        double ys = nice(maxY / 1e6 * 1.05);
        double ls = nice(maxLoss);
        s.axes(logX ? "offered rate (Mpps, log scale)" : "offered rate (Mpps)", lx, hx, "received rate (Mpps)", 0, ys, logX);
        s.rightAxis("loss (%)", ls, COLOURS[1]);
        if (trials.isEmpty()) {
            s.text(W / 2.0, H / 2.0, "no trials in this file (run with --sweep or --search)", "middle", "#444");
        }
        List<double[]> diagonal = new ArrayList<>(); // received = offered, up to the top of the plot
        double x0 = logX ? Math.pow(10, lx) : 0;
        double x1 = Math.min(logX ? Math.pow(10, hx) : hx, ys);
        for (int k = 0; k <= 64; k++) {
            double v = logX ? x0 * Math.pow(x1 / x0, k / 64.0) : x1 * k / 64;
            diagonal.add(new double[] {px.applyAsDouble(v), s.y(v, ys)});
        }
        s.polyline(diagonal, "#bbb", false);
        List<double[]> rx = new ArrayList<>();
        List<double[]> loss = new ArrayList<>();
        for (Map<String, Object> t : trials) {
            double x = px.applyAsDouble(num(t, "offered_pps") / 1e6);
            rx.add(new double[] {x, s.y(num(t, "rx_pps") / 1e6, ys)});
            loss.add(new double[] {x, s.y(num(t, "loss_ratio") * 100, ls)});
        }
        s.polyline(rx, COLOURS[0], true);
        s.polyline(loss, COLOURS[1], true);
        s.legend(List.of("received rate", "loss (right axis)", "received = offered"),
                List.of(COLOURS[0], COLOURS[1], "#bbb"));
        Object search = r.get("search");
        if (search instanceof Map<?, ?> m) {
            Object ndr = m.get("ndr_pps");
            if (ndr instanceof Double d) {
                double x = px.applyAsDouble(d / 1e6); // both the NDR and the offered rates count all transmitting ports
                s.line(x, s.y(0, ys), x, s.y(ys, ys), COLOURS[2], "2,3");
                s.text(x + 4, T + 80, String.format(Locale.ROOT, "NDR %.3f Mpps", d / 1e6), "start", COLOURS[2]);
            }
        }
        return s.end();
    }

    /** The CDF of one-way latency: the whole run and each trial. */
    @SuppressWarnings("unchecked")
    static String latency(Map<String, Object> r) {
        List<String> names = new ArrayList<>();
        List<List<Object>> cdfs = new ArrayList<>();
        for (Map<String, Object> t : list(r, "trials")) {
            List<Object> c = (List<Object>) t.get("latency_cdf");
            if (c != null && !c.isEmpty()) {
                names.add(String.format(Locale.ROOT, "trial %d: %.3f Mpps offered", (int) num(t, "trial"),
                        num(t, "offered_pps") / 1e6));
                cdfs.add(c);
            }
        }
        if (cdfs.size() > COLOURS.length) { // keep the legend readable: evenly spaced trials
            List<String> n2 = new ArrayList<>();
            List<List<Object>> c2 = new ArrayList<>();
            for (int k = 0; k < COLOURS.length; k++) {
                int idx = k * (cdfs.size() - 1) / (COLOURS.length - 1);
                n2.add(names.get(idx));
                c2.add(cdfs.get(idx));
            }
            names = n2;
            cdfs = c2;
        }
        List<Object> whole = (List<Object>) r.get("latency_cdf");
        if (cdfs.isEmpty() && whole != null && !whole.isEmpty()) {
            names.add("whole run");
            cdfs.add(whole);
        }
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (List<Object> c : cdfs) {
            for (Object p : c) {
                double v = ((List<Double>) p).get(0) / 1e3;
                lo = Math.min(lo, Math.max(v, 0.01));
                hi = Math.max(hi, v);
            }
        }
        Svg s = new Svg("pktgen: one-way latency CDF");
        if (cdfs.isEmpty()) {
            s.axes("latency (us)", 0, 1, "percentile", 0, 100, false);
            s.text(W / 2.0, H / 2.0, "no latency samples in this file", "middle", "#444");
            return s.end();
        }
        double lx = Math.floor(Math.log10(lo));
        double hx = Math.ceil(Math.log10(hi * 1.01));
        if (hx <= lx) {
            hx = lx + 1;
        }
        s.axes("latency (us, log scale)", lx, hx, "percentile", 0, 100, true);
        for (int k = 0; k < cdfs.size(); k++) {
            List<double[]> pts = new ArrayList<>();
            for (Object p : cdfs.get(k)) {
                List<Double> q = (List<Double>) p;
                double v = Math.log10(Math.max(q.get(0) / 1e3, 0.01));
                pts.add(new double[] {s.xr(v, lx, hx), s.y(q.get(1), 100)});
            }
            s.polyline(pts, COLOURS[k % COLOURS.length], false);
        }
        List<String> colours = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            colours.add(COLOURS[k % COLOURS.length]);
        }
        s.legend(names, colours);
        return s.end();
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}. */
    static double nice(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** Just enough SVG for line charts. */
    static final class Svg {
        private final StringBuilder sb = new StringBuilder();

        Svg(String title) {
            sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">%n", W, H, W, H));
            sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
            text(W / 2.0, 28, title, "middle", "#000");
        }

        double x(double v, double max) {
            return L + v / max * (W - L - R);
        }

        double xr(double v, double lo, double hi) {
            return L + (v - lo) / (hi - lo) * (W - L - R);
        }

        double y(double v, double max) {
            return H - B - v / max * (H - T - B);
        }

        void axes(String xl, double x0, double x1, String yl, double y0, double y1, boolean logX) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                    + "stroke=\"#000\"/>%n", L, T, W - L - R, H - T - B));
            for (int k = 0; k <= 5; k++) {
                double yv = y0 + (y1 - y0) * k / 5;
                double py = y(yv - y0, y1 - y0);
                line(L, py, W - R, py, "#eee", null);
                text(L - 8, py + 4, fmt(yv), "end", "#000");
            }
            if (logX) {
                for (int d = (int) x0; d <= (int) x1; d++) {
                    double px = xr(d, x0, x1);
                    line(px, T, px, H - B, "#eee", null);
                    text(px, H - B + 18, fmt(Math.pow(10, d)), "middle", "#000");
                }
            } else {
                for (int k = 0; k <= 5; k++) {
                    double xv = x0 + (x1 - x0) * k / 5;
                    double px = xr(xv, x0, x1);
                    line(px, T, px, H - B, "#eee", null);
                    text(px, H - B + 18, fmt(xv), "middle", "#000");
                }
            }
            text((L + W - R) / 2.0, H - 22, xl, "middle", "#000");
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">"
                    + "%s</text>%n", 24, (T + H - B) / 2, 24, (T + H - B) / 2, esc(yl)));
        }

        void rightAxis(String label, double max, String colour) {
            for (int k = 0; k <= 5; k++) {
                double v = max * k / 5;
                text(W - R + 8, y(v, max) + 4, fmt(v), "start", colour);
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" "
                    + "transform=\"rotate(90 %d %d)\">%s</text>%n", W - 24, (T + H - B) / 2, colour, W - 24,
                    (T + H - B) / 2, esc(label)));
        }

        void line(double x1, double y1, double x2, double y2, String colour, String dash) {
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>%n",
                    x1, y1, x2, y2, colour, dash == null ? "" : " stroke-dasharray=\"" + dash + "\""));
        }

        void polyline(List<double[]> pts, String colour, boolean dots) {
            if (pts.isEmpty()) {
                return;
            }
            StringBuilder p = new StringBuilder();
            for (double[] q : pts) {
                p.append(String.format(Locale.ROOT, "%.1f,%.1f ", q[0], q[1]));
            }
            sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                    p.toString().trim(), colour));
            if (dots) {
                for (double[] q : pts) {
                    sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n", q[0],
                            q[1], colour));
                }
            }
        }

        void text(double x, double y, String t, String anchor, String colour) {
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">%s</text>%n",
                    x, y, anchor, colour, esc(t)));
        }

        void legend(List<String> names, List<String> colours) {
            double y = T + 14;
            for (int k = 0; k < names.size(); k++) {
                line(L + 12, y - 4, L + 36, y - 4, colours.get(k), null);
                sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                        + "stroke-width=\"3\"/>%n", L + 12, y - 4, L + 36, y - 4, colours.get(k)));
                text(L + 42, y, names.get(k), "start", "#000");
                y += 17;
            }
        }

        String end() {
            return sb.append("</svg>\n").toString();
        }

        private static String fmt(double v) {
            if (v == Math.rint(v) && Math.abs(v) < 1e9) {
                return Long.toString((long) v);
            }
            return String.format(Locale.ROOT, "%.3g", v);
        }

        private static String esc(String t) {
            return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        }
    }
}
