"""Tests of bench/tools/benchreport.py on the fixture results in bench/tools/test/results (run them with
bench/report.sh --self-test). The fixtures are cut-down copies of every format the bench scripts have written,
with rows the parser must refuse."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import benchreport as br  # noqa: E402

FIXTURES = os.path.join(HERE, "results")


def by_fid(runs):
    out = {}
    for r in runs:
        for f in r.figures:
            out.setdefault(f.fid, []).append((r, f))
    return out


class ParserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runs, cls.unparsed, cls.names = br.read_results(FIXTURES)
        cls.figs = by_fid(cls.runs)

    def unparsed_in(self, source):
        return [(u.line, u.reason) for u in self.unparsed if u.source == source]

    def test_memory_table_and_its_second_run(self):
        h = self.figs["memory: ring SP/SC bulk 1"]
        self.assertEqual([(r.label, f.jnic, f.dpdk) for r, f in h],
                         [("2026-11-20 #1", 33.71, 13.61), ("2026-11-20 #2", 26.0, 20.0)])
        self.assertAlmostEqual(h[0][1].ratio, 33.71 / 13.61)
        self.assertEqual(h[1][0].load, "10")  # "a load average of about 10"
        self.assertEqual(self.figs["memory: ring SP/SC bulk 32"][0][1].jnic, 1.78)

    def test_missing_values_are_none_not_errors(self):
        (r, f), = self.figs["memory: ring MP/MC bulk 8"]
        self.assertIsNone(f.jnic)
        self.assertEqual(f.dpdk, 4.23)
        self.assertIsNone(f.ratio)
        r, f = [x for x in self.figs["ethdev: net_null io-forward"] if x[0].time == "12:01"][0]
        self.assertEqual(f.jnic, 63.2)
        self.assertIsNone(f.dpdk)

    def test_bad_rows_are_listed_with_their_line(self):
        bad = self.unparsed_in("memory-2026-11-20.md")
        self.assertIn(10, [ln for ln, _ in bad])           # DPDK cell "abc"
        self.assertIn(11, [ln for ln, _ in bad])           # unknown work "ring XY bulk 3"
        self.assertTrue(any("abc" in reason for ln, reason in bad if ln == 10))
        self.assertNotIn("memory: mempool get+put bulk 32, cache 256", self.figs)
        self.assertEqual(len(bad), 2)                      # the rounds and variant tables are details, not errors
        eth = self.unparsed_in("ethdev-2026-11-21.md")
        self.assertEqual(eth, [(13, "ethdev-vs-dpdk table: no cycles figure in '54.3 ns'")])  # LCORE_ANY row
        self.assertEqual(self.unparsed_in("l2fwd-mp-2026-11-21.md")[0][0], 9)   # "two" processes

    def test_unknown_table_and_file_without_figures(self):
        odd = self.unparsed_in("odd-2026-12-01.md")
        self.assertEqual([ln for ln, _ in odd if ln], [3, 5])  # header and row; not the separator
        self.assertTrue(all("unknown header" in r for ln, r in odd if ln))
        self.assertTrue(any("no figures" in r for ln, r in odd if ln == 0))
        notes = self.unparsed_in("notes.md")
        self.assertTrue(any("no date" in r for _, r in notes))
        self.assertTrue(any("no figures" in r for _, r in notes))

    def test_tables_in_code_fences_are_not_read(self):
        self.assertFalse(any("inside a fence" in u.text for u in self.unparsed))

    def test_runs_are_dated_and_in_time_order(self):
        h = self.figs["ethdev: net_null io-forward"]
        # the 2026-11-21 file has 12:02 before 12:01
        self.assertEqual([r.label for r, _ in h], ["2026-11-21 12:01", "2026-11-21 12:02", "2026-12-07 09:25"])
        self.assertEqual([r.load for r, _ in h], ["6.21 4.58 5.87", "7.66 5.14 6.02", "4.47 1.68 1.54"])
        v = self.figs["virtio: io loop 64 B"]
        self.assertEqual([(r.label, r.load, f.jnic, f.dpdk) for r, f in v],
                         [("2026-11-21 12:24", "3-10", 0.15, 0.5), ("2026-11-21 14:14", "1.88 1.87 2.90", 5.05, 8.87)])
        keys = [r.sort_key for r in self.runs]
        self.assertEqual(keys, sorted(keys))

    def test_current_format_with_settings(self):
        """ethdev-2026-12-07.md is what ethdev-vs-dpdk.sh writes now (a smoke run's output)."""
        r, f = self.figs["ethdev: net_null io-forward"][-1]
        self.assertEqual((r.source, f.jnic, f.dpdk), ("ethdev-2026-12-07.md", 38.7, 39.1))
        self.assertEqual(r.memory(), "jnic: hugepages of 2 MiB; DPDK: hugepages of 2 MiB")
        self.assertTrue(r.settings["cores"]["DPDK"].startswith("forwarding lcore 1 on CPU 1"))
        self.assertEqual(r.settings["burst"], {"jnic": "32", "DPDK": "32"})
        self.assertEqual(self.unparsed_in("ethdev-2026-12-07.md"), [])

    def test_virtio_ratio_is_the_paired_one_when_given(self):
        rows = [(5, ["txonly -> rxonly 64 B", "12.00", "14.40", "1.20", "1.05", " 12 30", " 14 19"]),
                (6, ["io loop (tx-first 32) 64 B", "7.00", "4.90", "0.70", "0.66", " 7", " 4.9"]),
                (7, ["io loop (tx-first 32) 64 B", "8.00", "4.00", "0.50", " 8 9", " 4 5"])]   # before the column
        figs, bad = br.VirtioKind().parse(rows)
        self.assertEqual(bad, [])
        self.assertEqual([(f.jnic, f.dpdk, f.ratio) for f in figs], [(14.4, 12.0, 1.05), (4.9, 7.0, 0.66), (4.0, 8.0, 0.5)])

    def test_ethdev_secondary_and_checksum_rows(self):
        rows = [(9, ["ixgbe queue pair attached by another process (secondary) vs the port's own (primary), same fixture",
                     "secondary / primary 1.09", "14.8 ns vs 13.6 ns, 39 vs 35 cycles", "0.0008 / 0.0002 B/op", ""]),
                (8, ["same as the first ixgbe row with checksum offload: RX flags decoded", "24.5 Mpps",
                     "40.9 ns, 106 cycles (2.78 x without)", "0.0004 B/op", ""])]
        figs, bad = br.EthdevKind().parse(rows)
        self.assertEqual(bad, [])
        self.assertEqual([(f.fid, f.jnic) for f in figs], [("ethdev: secondary / primary, same queue pair", 1.09),
                                                          ("ethdev: ixgbe rx+tx per packet, checksum offload", 106.0)])
        self.assertFalse(br.TARGETS[figs[0].fid].met(figs[0]))   # 1.09 > 1.05

    def test_ethdev_ixgbe_cycles(self):
        h = self.figs["ethdev: ixgbe rx+tx per packet, mempool cache"]
        self.assertEqual([f.jnic for _, f in h], [78.0, 104.0, 101.0])
        self.assertTrue(all(f.dpdk is None for _, f in h))

    def test_dut_pairs_jnic_and_dpdk_rows(self):
        (r, f), = self.figs["dut: forwarded Mpps, testpmd flowgen generator"]
        self.assertEqual((f.jnic, f.dpdk, r.time), (4.45, 8.87, "09:05"))
        (r, f), = self.figs["dut: latency p99 (us)"]
        self.assertEqual((f.jnic, f.dpdk, f.better), (16671.0, 21479.0, br.LOWER))

    def test_jnic_only_formats(self):
        self.assertEqual(self.figs["l2fwd-mp: 2 processes, aggregate Mpps"][0][1].jnic, 1.1)
        self.assertEqual(self.figs["l2fwd-mp: 1 process, aggregate Mpps"][0][0].load, "0.42 1.58 3.72")
        self.assertEqual(self.figs["l2fwd-fork: recovery median ms, spare"][0][1].jnic, 221)
        self.assertIsNone(self.figs["l2fwd-fork: recovery median ms, new-jvm"][0][1].jnic)
        self.assertEqual(self.figs["pktgen: generation only (net_null), Mpps sent"][0][1].jnic, 13.513)
        self.assertEqual(self.figs["pktgen: generate + meter (devsim), Mpps metered"][0][1].jnic, 2.708)
        self.assertEqual(self.figs["two-host: NDR Mpps, 1 process"][0][1].jnic, 0.131)
        self.assertEqual(self.figs["pdump: extra CPU ns/packet, on, 64 B"][0][1].jnic, 30.93)
        self.assertNotIn("pdump: extra CPU ns/packet, none, 64 B", self.figs)

    def test_chaos_sections(self):
        (r, f), = self.figs["chaos l2fwd-mp: hangs"]
        self.assertEqual((f.jnic, r.time, r.load), (8, "07:30", "13.12 14.49 18.27"))
        self.assertEqual(self.figs["chaos l2fwd-mp: recovery p99 ms"][0][1].jnic, 3798)
        self.assertEqual(self.figs["chaos mp-server: hangs"][0][1].jnic, 0)
        self.assertIn((14, "a chaos figure line in an unknown form"), self.unparsed_in("chaos-2026-12-07.md"))

    def test_targets(self):
        t = br.TARGETS
        f = br.Figure("memory: ring SP/SC bulk 1", "memory", "cycles/elem", br.LOWER, 26.0, 20.0)
        self.assertTrue(t[f.fid].met(f))                  # 1.30 <= 1.3
        f.jnic = 26.1
        self.assertFalse(t[f.fid].met(f))
        g = br.Figure("ethdev: ixgbe rx+tx per packet, mempool cache", "ethdev", "cycles", br.LOWER, 80.0)
        self.assertTrue(t[g.fid].met(g))                  # on jnic's own figure, no DPDK needed
        v = br.Figure("virtio: io loop 64 B", "virtio", "Mpps", br.HIGHER, 5.0, None)
        self.assertIsNone(t[v.fid].met(v))               # no DPDK figure: no verdict
        for fid in ("virtio: txonly -> vhost rxonly 64 B", "memory: ring MP/MC bulk 32",
                    "memory: mbuf alloc+free bulk 32, cache 0", "ethdev: net_null io-forward",
                    "dut: forwarded Mpps, testpmd flowgen generator"):
            self.assertIn(fid, t)


class SettingsTest(unittest.TestCase):
    """The current format: a settings section after each run's table."""

    def test_settings_after_a_run(self):
        d = tempfile.mkdtemp()
        try:
            with open(os.path.join(d, "ethdev-2026-12-08.md"), "w") as f:
                f.write("""# ethdev benchmarks, 2026-12-08

## Run at 09:30 UTC

| work | jnic | per packet | allocation | DPDK, same run |
|---|---|---|---|---|
| null vdev io-forward, one core (rx 32 + tx 32) | 60.0 Mpps | 16.7 ns, 43 cycles | 0.0001 B/op | 50.0 Mpps (ratio 1.20) |

### Settings

Machine: AMD EPYC, 2 CPUs usable of 2 online (0-1), kernel 6.1.
Load average at the start 0.10 0.20 0.30 (2026-12-08T09:30Z), at the end 1.00 0.50 0.40 (2026-12-08T09:31Z).

| setting | jnic | DPDK |
|---|---|---|
| memory | hugepages of 2 MiB (21 taken at the peak of the run) | hugepages of 2 MiB (128 taken at the peak of the run) (-m 256) |
| cores | JVM confined to CPU 1 (taskset -c 1) | --lcores 0@0,1@1 \\| pipe |

## Run at 10:00 UTC

Machine: 2 vCPUs, load average 2.00 2.00 2.00.

| work | jnic | per packet | allocation | DPDK, same run |
|---|---|---|---|---|
| null vdev io-forward, one core (rx 32 + tx 32) | 61.0 Mpps | 16.4 ns, 42 cycles | 0.0001 B/op | 50.0 Mpps (ratio 1.22) |
""")
            runs, unparsed, _ = br.read_results(d)
            self.assertEqual(unparsed, [])
            self.assertEqual([(r.label, r.load) for r in runs],
                             [("2026-12-08 09:30", "0.10 0.20 0.30"), ("2026-12-08 10:00", "2.00 2.00 2.00")])
            self.assertEqual(runs[0].memory(), "jnic: hugepages of 2 MiB; DPDK: hugepages of 2 MiB")
            self.assertEqual(runs[0].settings["cores"]["DPDK"], "--lcores 0@0,1@1 | pipe")
            self.assertEqual(runs[1].settings, {})
            self.assertTrue(br.TARGETS["ethdev: net_null io-forward"].met(runs[0].figures[0]))
        finally:
            shutil.rmtree(d)


class CurrentFormatTest(unittest.TestCase):
    """test/current: what every script writes now (smoke runs' output, temporary paths replaced; the figures
    come from a shared machine and mean nothing). Every line must be read, every run carry its settings."""

    @classmethod
    def setUpClass(cls):
        cls.runs, cls.unparsed, cls.names = br.read_results(os.path.join(HERE, "current"))

    def test_everything_is_read(self):
        self.assertEqual([(u.source, u.line, u.reason) for u in self.unparsed], [])
        self.assertEqual(sorted({r.source for r in self.runs}), sorted(self.names))

    def test_every_run_has_its_settings_and_load(self):
        for r in self.runs:
            self.assertIn("memory", r.settings, r.source)
            self.assertIn("hugepages of 2 MiB", r.memory(), r.source)
            self.assertRegex(r.load or "", r"^\d+\.\d+ \d+\.\d+ \d+\.\d+$", r.source)
            self.assertEqual(r.date, "2026-12-07", r.source)
            self.assertRegex(r.time or "", r"^\d\d:\d\d$", r.source)

    def test_both_sides_recorded_for_comparisons(self):
        for r in self.runs:
            if r.source.startswith(("memory", "virtio", "dut", "ethdev")):
                self.assertTrue({"jnic", "DPDK"} <= set(r.settings["memory"]), r.source)
                self.assertTrue({"jnic", "DPDK"} <= set(r.settings["cores"]), r.source)

    def test_figures_of_each_script(self):
        figs = by_fid(self.runs)
        counts = {}
        for fid in figs:
            counts[fid.split(":")[0].split(" ")[0]] = counts.get(fid.split(":")[0].split(" ")[0], 0) + 1
        self.assertEqual(counts, {"memory": 14, "virtio": 2, "dut": 4, "ethdev": 3, "pktgen": 2, "two-host": 2,
                                  "l2fwd-mp": 2, "l2fwd-fork": 3})
        (r, f), = figs["memory: ring SP/SC bulk 1"]
        self.assertEqual((f.jnic, f.dpdk, r.time), (18.64, 8.16, "09:28"))
        v = figs["virtio: txonly -> vhost rxonly 64 B"]   # two runs appended to the day's file
        self.assertEqual([(x.time, y.jnic, y.dpdk) for x, y in v], [("09:28", 17.32, 38.07), ("09:30", 0.16, 1.68)])
        r, f = v[-1]
        self.assertIsNotNone(f.jnic)
        self.assertIsNotNone(f.dpdk)
        self.assertEqual(r.settings["burst"]["jnic"], "32")


class SettingsScriptTest(unittest.TestCase):
    """bench/scripts/lib/settings.sh writes the section the report reads back."""

    def test_section_round_trip(self):
        lib = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "lib", "settings.sh")
        script = (". '%s'; bench_start; bench_set jnic memory 'hugepages of 2 MiB (3 more in use)'; "
                  "bench_set DPDK memory '4 KiB pages (none)'; bench_set jnic cores 'CPU 1'; "
                  "bench_set DPDK 'frame size' 'a|b'; bench_cmd jnic \"$(bench_quote java -jar 'x y.jar')\"; "
                  "bench_settings_md" % lib)
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
        lines = out.splitlines()
        self.assertIn("### Settings", lines)
        self.assertIn("| setting | jnic | DPDK |", lines)
        self.assertIn("| frame size | - | a\\|b |", lines)
        self.assertIn("java -jar 'x y.jar'", lines)
        self.assertTrue(any(x.startswith("Load average at the start ") for x in lines))
        block = [(i, x) for i, x in enumerate(lines) if x.startswith("|")]
        t = br.settings_table(block)
        self.assertEqual(t["memory"], {"jnic": "hugepages of 2 MiB (3 more in use)", "DPDK": "4 KiB pages (none)"})
        self.assertEqual(t["frame size"], {"jnic": "-", "DPDK": "a|b"})


class ReportTest(unittest.TestCase):
    def assertIn(self, member, container, msg=None):
        if member not in container:
            self.fail(msg or "not in the report: %r" % member)

    def test_markdown(self):
        runs, unparsed, names = br.read_results(FIXTURES)
        md = br.markdown(runs, unparsed, names, "fixtures", {"memory": ["memory-latest.png"]}, ["--no-plots"])
        self.assertIn("| [memory: ring SP/SC bulk 1](#memory) | cycles/elem | 2026-11-20 #2 | 26 | 20 | 1.30 | "
                      "jnic/DPDK <= 1.3 | met | 2 |", md)
        self.assertIn("| [ethdev: ixgbe rx+tx per packet, mempool cache](#ethdev) | cycles | 2026-12-07 09:25 | 101 | - | - "
                      "| jnic <= 80 | **not met** | 3 |", md)
        self.assertIn("| 2026-11-21 12:01 | 6.21 4.58 5.87 | 78 | met |  | [ethdev-2026-11-21.md:25](../results/ethdev-2026-11-21.md) |", md)
        self.assertIn("| 2026-12-07 09:25 | 4.47 1.68 1.54 | 38.70 | 39.10 | 0.99 | **not met** | jnic: hugepages of 2 MiB; "
                      "DPDK: hugepages of 2 MiB | [ethdev-2026-12-07.md:10](../results/ethdev-2026-12-07.md) |", md)
        self.assertIn("![memory-latest](memory-latest.png)", md)
        self.assertIn("| odd-2026-12-01.md | 5 | table with an unknown header (colour \\| weight) | `\\| red \\| 3 \\|` |", md)
        self.assertIn("%d line(s) of the results could not be parsed" % len(unparsed), md)
        # a target no results file has a figure for yet is named
        self.assertIn("Targets with no figure in any results file yet:", md)
        self.assertIn("memory: ring SP/SC bulk 8 (jnic/DPDK <= 1.1)", md)

    def test_plots(self):
        if not br.have_matplotlib():
            self.skipTest("matplotlib missing: apt-get install -y python3-matplotlib")
        runs, _, _ = br.read_results(FIXTURES)
        d = tempfile.mkdtemp()
        try:
            made = br.plot(runs, d)
            self.assertEqual(made["memory"], ["memory-latest.png", "memory-history.png"])
            self.assertEqual(made["dut"], ["dut-latest.png"])  # one run: no history plot
            for names in made.values():
                for n in names:
                    with open(os.path.join(d, n), "rb") as f:
                        self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        finally:
            shutil.rmtree(d)

    def test_command_line(self):
        d = tempfile.mkdtemp()
        try:
            self.assertEqual(br.main(["--results", FIXTURES, "--out", d, "--no-plots"]), 0)
            with open(os.path.join(d, "README.md")) as f:
                self.assertIn("# Benchmark report", f.read())
            self.assertEqual(br.main(["--results", os.path.join(d, "nowhere"), "--out", d, "--no-plots"]), 2)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
