#!/usr/bin/env python3
"""Benchmark report: reads bench/results/*.md (every format the bench scripts have written) and writes
bench/report/README.md with PNG plots: jnic against DPDK per figure with the ratio, the history of every
figure over the dated runs, and the performance targets as a column.

Run through bench/report.sh. Only Python 3's standard library is needed to parse; the plots need matplotlib
(Debian: apt-get install -y python3-matplotlib); --no-plots writes the Markdown alone.

How a results file is read: every Markdown table whose header is one of the bench scripts' tables is a run
(one table = one run); the run's date comes from the file name (kind-YYYY-MM-DD.md) or a heading, its time from
the last heading (or a line starting with HH:MMZ) before the table, its load average from the prose around it.
Chaos files are read from their bullet lines. Tables of details (every round, variants, settings) are known and
skipped. Anything else that looks like data (a table row under an unknown header, a row of a known table that
does not have the expected cells) is listed in the report as not parsed, with its file and line number.
"""

import argparse
import datetime
import math
import os
import re
import sys
from dataclasses import dataclass, field

# --- the model ------------------------------------------------------------------------------------------------

LOWER = "lower"    # a cost: cycles, ns, ms, latency
HIGHER = "higher"  # a rate: Mpps


@dataclass
class Figure:
    fid: str            # stable across runs and formats: "memory: ring SP/SC bulk 1"
    group: str          # memory, ethdev, virtio, dut, l2fwd-mp, l2fwd-fork, pktgen, two-host, pdump, chaos
    unit: str
    better: str         # LOWER or HIGHER
    jnic: float = None
    dpdk: float = None
    paired: float = None  # the median of per-round jnic/DPDK ratios, where the script gives one

    @property
    def compared(self):
        """A figure the script measures on both sides (DPDK's may be missing in a run); else jnic's alone."""
        return self.group in ("memory", "virtio", "dut") or self.fid == "ethdev: net_null io-forward"

    @property
    def ratio(self):
        if self.paired is not None:
            return self.paired
        if self.jnic is None or self.dpdk is None or self.dpdk == 0:
            return None
        return self.jnic / self.dpdk


@dataclass
class Run:
    source: str         # file name
    line: int           # line of the table (or heading) the run came from
    date: str           # YYYY-MM-DD, or "?" when neither the file name nor a heading has one
    time: str = None    # HH:MM (UTC) when a heading gives one
    ordinal: int = 1    # n-th run in its file
    load: str = None
    figures: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)   # setting -> {side: value}, from the section after the table

    def memory(self):
        """Each side's memory kind, shortened: what the settings section says (the current format)."""
        m = self.settings.get("memory", {})
        return "; ".join("%s: %s" % (side, v.split(" (")[0]) for side, v in m.items())

    @property
    def label(self):
        return self.date + (" " + self.time if self.time else " #%d" % self.ordinal)

    @property
    def sort_key(self):
        return (self.date, self.time or "", self.source, self.ordinal)


@dataclass
class Unparsed:
    source: str
    line: int
    text: str
    reason: str


@dataclass
class Target:
    """A goal of the performance issue: on the ratio jnic/DPDK (basis "ratio") or on jnic's own figure."""
    op: str             # ">=" or "<="
    value: float
    basis: str          # "ratio" or "jnic"
    text: str           # as the issue words it

    def met(self, fig):
        v = fig.ratio if self.basis == "ratio" else fig.jnic
        if v is None:
            return None
        return v >= self.value if self.op == ">=" else v <= self.value

    def describe(self):
        what = "jnic/DPDK" if self.basis == "ratio" else "jnic"
        return "%s %s %g" % (what, self.op, self.value)


def _targets():
    t = {}
    t["virtio: txonly -> vhost rxonly 64 B"] = Target(">=", 1.0, "ratio", "virtio txonly->vhost rxonly 64 B >= 1.0")
    t["virtio: io loop 64 B"] = Target(">=", 1.0, "ratio", "virtio io loop >= 1.0")
    # one element: until 2026-12-07 jnic's bulk of 1 against ring_perf's single line; since, single against single
    t["memory: ring SP/SC bulk 1"] = Target("<=", 1.3, "ratio", "ring SP/SC 1 element <= 1.3x cost")
    t["memory: ring SP/SC single"] = Target("<=", 1.3, "ratio", "ring SP/SC 1 element <= 1.3x cost")
    for sync in ("SP/SC", "MP/MC"):  # the issue names no sync mode for the bulk targets: both are held to them
        t["memory: ring %s bulk 8" % sync] = Target("<=", 1.1, "ratio", "ring bulk 8 <= 1.1x")
        t["memory: ring %s bulk 32" % sync] = Target("<=", 0.9, "ratio", "ring bulk 32 <= 0.9x")
    for cache in (256, 0):
        t["memory: mempool get+put bulk 32, cache %d" % cache] = Target("<=", 1.0, "ratio", "mempool get+put bulk 32 <= 1.0x")
        t["memory: mbuf alloc+free bulk 32, cache %d" % cache] = Target("<=", 1.0, "ratio", "mbuf alloc+free bulk 32 <= 1.0x")
    t["ethdev: net_null io-forward"] = Target(">=", 1.2, "ratio", "net_null io-forward >= 1.2")
    t["ethdev: ixgbe rx+tx per packet, mempool cache"] = Target("<=", 80, "jnic", "ixgbe rx+tx per packet <= 80 cycles")
    t["ethdev: secondary / primary, same queue pair"] = Target("<=", 1.05, "jnic", "secondary / primary <= 1.05")
    t["dut: forwarded Mpps, testpmd flowgen generator"] = Target(">=", 1.0, "ratio", "dut-vs-dpdk forwarded Mpps >= 1.0")
    return t


TARGETS = _targets()

# --- numbers --------------------------------------------------------------------------------------------------

MISSING = {"", "n/a", "na", "-", "--", "?", "none"}
NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class BadCell(ValueError):
    pass


def num(cell, pattern=None, what="number"):
    """The first number in a cell (or the one pattern's group 1 finds); None for n/a, -, empty; BadCell else."""
    c = cell.strip().strip("*`").strip()
    if c.lower() in MISSING or c.lower().startswith("n/a"):
        return None
    if pattern:
        m = re.search(pattern, c)
        if not m:
            raise BadCell("no %s in %r" % (what, cell.strip()))
        return float(m.group(1))
    m = NUM.search(c)
    if not m:
        raise BadCell("no number in %r" % cell.strip())
    return float(m.group(0))


# --- the tables the scripts write -----------------------------------------------------------------------------

def _norm(cells):
    return [re.sub(r"\s+", " ", c.strip().lower()) for c in cells]


class Kind:
    """One table format: recognized by its header; parse() turns its rows into figures."""
    name = ""
    group = ""
    figures = True      # False: a table of details, read past in silence

    def matches(self, header):
        raise NotImplementedError

    def parse(self, rows):
        """rows: [(line number, cells)]; returns (figures, [(line number, reason)])."""
        raise NotImplementedError


class MemoryKind(Kind):
    name, group = "memory-vs-dpdk", "memory"

    def matches(self, h):
        return len(h) >= 4 and h[0] == "work" and h[1].startswith("jnic cycles/elem") and h[2].startswith("dpdk cycles")

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            label = re.sub(r",\s*one core$", "", c[0].strip())
            if not re.match(r"(ring (SP/SC|MP/MC) ((bulk|burst) \d+|single)|mempool get\+put bulk \d+, cache \d+|"
                            r"mbuf alloc\+free bulk \d+, cache \d+)$", label):
                bad.append((ln, "unknown work %r" % c[0].strip()))
                continue
            try:
                figs.append(Figure("memory: " + label, self.group, "cycles/elem", LOWER, num(c[1]), num(c[2])))
            except BadCell as e:
                bad.append((ln, str(e)))
        return figs, bad


class EthdevKind(Kind):
    name, group = "ethdev-vs-dpdk", "ethdev"

    def matches(self, h):
        return h[:3] == ["work", "jnic", "per packet"] and any(x.startswith("dpdk") for x in h)

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            if len(c) < 5:
                bad.append((ln, "%d cells, 5 expected" % len(c)))
                continue
            w = c[0].strip().lower()
            try:
                if w.startswith("null vdev io-forward"):
                    figs.append(Figure("ethdev: net_null io-forward", self.group, "Mpps", HIGHER,
                                       num(c[1]), num(c[4])))
                elif w.startswith("ixgbe rxburst+txburst"):
                    figs.append(Figure("ethdev: ixgbe rx+tx per packet, mempool cache", self.group, "cycles", LOWER,
                                       num(c[2], r"([\d.]+)\s*cycles", "cycles figure")))
                elif w.startswith("same, no mempool cache"):
                    figs.append(Figure("ethdev: ixgbe rx+tx per packet, no cache (LCORE_ANY)", self.group, "cycles",
                                       LOWER, num(c[2], r"([\d.]+)\s*cycles", "cycles figure")))
                elif w.startswith("same as the first ixgbe row with checksum offload"):
                    figs.append(Figure("ethdev: ixgbe rx+tx per packet, checksum offload", self.group, "cycles",
                                       LOWER, num(c[2], r"([\d.]+)\s*cycles", "cycles figure")))
                elif w.startswith("ixgbe queue pair attached by another process"):
                    figs.append(Figure("ethdev: secondary / primary, same queue pair", self.group, "x", LOWER,
                                       num(c[1], r"secondary / primary\s*([\d.]+)", "secondary / primary ratio")))
                else:
                    bad.append((ln, "unknown work %r" % c[0].strip()))
            except BadCell as e:
                bad.append((ln, str(e)))
        return figs, bad


class VirtioKind(Kind):
    name, group = "virtio-vs-dpdk", "virtio"

    def matches(self, h):
        return len(h) >= 3 and h[0] == "work" and h[1].startswith("dpdk virtio-user") and h[2].startswith("jnic virtio-user")

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            w = c[0].strip().lower()
            if w.startswith("txonly"):
                fid = "virtio: txonly -> vhost rxonly 64 B"
            elif w.startswith("io loop"):
                fid = "virtio: io loop 64 B"
            else:
                bad.append((ln, "unknown work %r" % c[0].strip()))
                continue
            try:
                # since 2026-12-07 (7 cells) the fifth is the median of the per-round ratios
                paired = num(c[4]) if len(c) >= 7 else None
                figs.append(Figure(fid, self.group, "Mpps", HIGHER, num(c[2]), num(c[1]), paired))
            except BadCell as e:
                bad.append((ln, str(e)))
        return figs, bad


class DutKind(Kind):
    name, group = "dut-vs-dpdk", "dut"
    COLS = (("dut: forwarded Mpps, testpmd flowgen generator", "Mpps", HIGHER),
            ("dut: NDR Mpps, pktgen through the switch", "Mpps", HIGHER),
            ("dut: latency p50 (us)", "us", LOWER),
            ("dut: latency p99 (us)", "us", LOWER))

    def matches(self, h):
        return len(h) >= 5 and h[0] == "dut" and h[1].startswith("forwarded mpps")

    def parse(self, rows):
        vals, bad = {}, []
        for ln, c in rows:
            who = c[0].strip().lower()
            if who not in ("jnic", "dpdk") or len(c) < 5:
                bad.append((ln, "expected a jnic or dpdk row of 5 cells"))
                continue
            try:
                vals[who] = [num(x) for x in c[1:5]]
            except BadCell as e:
                bad.append((ln, str(e)))
        figs = []
        if vals:
            for i, (fid, unit, better) in enumerate(self.COLS):
                figs.append(Figure(fid, self.group, unit, better, vals.get("jnic", [None] * 4)[i],
                                   vals.get("dpdk", [None] * 4)[i]))
        return figs, bad


class L2fwdMpKind(Kind):
    name, group = "l2fwd-mp-scaling", "l2fwd-mp"

    def matches(self, h):
        return h[:2] == ["processes", "aggregate mpps"]

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            try:
                n = int(num(c[0]))
                figs.append(Figure("l2fwd-mp: %d process%s, aggregate Mpps" % (n, "" if n == 1 else "es"), self.group,
                                   "Mpps", HIGHER, num(c[1])))
            except (BadCell, TypeError) as e:
                bad.append((ln, str(e) or "no process count"))
        return figs, bad


class L2fwdForkKind(Kind):
    name, group = "l2fwd-fork-recovery", "l2fwd-fork"

    def matches(self, h):
        return len(h) >= 3 and h[0] == "mode" and h[1].startswith("recoveries") and h[2].startswith("median")

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            mode = c[0].strip()
            if not mode:
                bad.append((ln, "no mode"))
                continue
            try:
                figs.append(Figure("l2fwd-fork: recovery median ms, " + mode, self.group, "ms", LOWER, num(c[2])))
            except BadCell as e:
                bad.append((ln, str(e)))
        return figs, bad


class PktgenKind(Kind):
    name, group = "pktgen-ceiling", "pktgen"

    def matches(self, h):
        return len(h) >= 5 and h[0] == "run" and h[1] == "frames sent" and h[2] == "mpps sent"

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            w = c[0].strip().lower()
            try:
                if w.startswith("net_null"):
                    figs.append(Figure("pktgen: generation only (net_null), Mpps sent", self.group, "Mpps", HIGHER,
                                       num(c[2])))
                elif w.startswith("devsim"):
                    figs.append(Figure("pktgen: generate + meter (devsim), Mpps metered", self.group, "Mpps", HIGHER,
                                       num(c[4])))
                else:
                    bad.append((ln, "unknown run %r" % c[0].strip()))
            except BadCell as e:
                bad.append((ln, str(e)))
        return figs, bad


class TwoHostKind(Kind):
    name, group = "two-host", "two-host"

    def matches(self, h):
        return len(h) >= 4 and h[0] == "l2fwd-mp processes" and h[1].startswith("ndr")

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            try:
                n = int(num(c[0]))
                p = "%d process%s" % (n, "" if n == 1 else "es")
                figs.append(Figure("two-host: NDR Mpps, " + p, self.group, "Mpps", HIGHER, num(c[1])))
                figs.append(Figure("two-host: latency p99 at NDR (us), " + p, self.group, "us", LOWER, num(c[3])))
            except (BadCell, TypeError) as e:
                bad.append((ln, str(e) or "no process count"))
        return figs, bad


class PdumpKind(Kind):
    name, group = "pdump-tap", "pdump"

    def matches(self, h):
        return len(h) >= 7 and h[0] == "mode" and h[1] == "frame b" and h[6].startswith("extra cpu ns/packet")

    def parse(self, rows):
        figs, bad = [], []
        for ln, c in rows:
            mode = c[0].strip()
            try:
                frame = int(num(c[1]))
                if mode != "none":  # the floor the others are measured from: 0 by construction
                    figs.append(Figure("pdump: extra CPU ns/packet, %s, %d B" % (mode, frame), self.group, "ns",
                                       LOWER, num(c[6])))
            except (BadCell, TypeError) as e:
                bad.append((ln, str(e) or "no frame size"))
        return figs, bad


class DetailKind(Kind):
    """Tables of details the report does not chart: every round, variants, the settings of both sides."""
    figures = False
    HEADERS = (["round", "work"], ["work", "memorysegment.copy (default)"], ["setting"])

    def matches(self, h):
        return any(h[:len(p)] == p for p in self.HEADERS)

    def parse(self, rows):
        return [], []


KINDS = [MemoryKind(), EthdevKind(), VirtioKind(), DutKind(), L2fwdMpKind(), L2fwdForkKind(), PktgenKind(),
         TwoHostKind(), PdumpKind(), DetailKind()]

# --- reading a file -------------------------------------------------------------------------------------------

DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
ISO = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{1,2}:\d{2})Z")
HHMM = re.compile(r"\b(\d{1,2}:\d{2})\s*(?:UTC|Z)\b")
LEADING_TIME = re.compile(r"^(\d{1,2}:\d{2})Z\b")
LOAD = re.compile(r"\bload(?: average)?(?: before| at the start| at the end)?:?\s+(?:of about\s+)?(\d+(?:\.\d+)?(?:[ ,/-]+\d+(?:\.\d+)?){0,2})",
                  re.IGNORECASE)
CHAOS_HEAD = re.compile(r"^##\s+(\S+),\s+(\d+)\s+kills,\s+(\d{1,2}:\d{2})\s+UTC")
CHAOS_HANGS = re.compile(r"^- hangs:\s+(\d+)")
CHAOS_RECOVERY = re.compile(r"^- recovery ms:\s+p50\s+([\d.]+),\s+p99\s+([\d.]+)")


def split_row(line):
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", s)]


def is_separator(cells):
    return all(re.fullmatch(r"\s*:?-{2,}:?\s*", c) for c in cells) and cells


def parse_file(path):
    """Returns (runs, unparsed) for one results file."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    m = DATE_IN_NAME.search(name)
    file_date = m.group(1) if m else None
    runs, unparsed = [], []
    date, time, load = file_date, None, None
    chaos = None
    fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("```"):
            fence = not fence
            i += 1
            continue
        if fence:
            i += 1
            continue
        if s.startswith("|"):
            start = i
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append((i + 1, lines[i]))
                i += 1
            run = table(name, block, date or "?", time, load, len(runs) + 1, unparsed)
            header = _norm(split_row(block[0][1]))
            if header[:1] == ["setting"] and runs and not runs[-1].settings:
                runs[-1].settings = settings_table(block)
            if run:
                if run.load is None:
                    run.load = load_after(lines, i)
                runs.append(run)
                time, load = None, None  # the next run names its own
            continue
        if re.match(r"#{1,2}\s", s):  # a new section: its run names its own time and load
            time, load = None, None
        ld = LOAD.search(s)
        if ld and load is None:
            load = ld.group(1)
            if chaos is not None and chaos.load is None:
                chaos.load = load
        if s.startswith("#"):
            iso = ISO.search(s)
            if iso:
                date, time = iso.group(1), iso.group(2)
            else:
                t = HHMM.search(s)
                if t:
                    time = t.group(1)
                d = DATE_IN_NAME.search(s)
                if d and not file_date:
                    date = d.group(1)
            c = CHAOS_HEAD.match(s)
            chaos = None
            if c:
                chaos = Run(name, i + 1, date or "?", c.group(3), len(runs) + 1, load)
                chaos.app = c.group(1)
                runs.append(chaos)
        else:
            t = LEADING_TIME.match(s)
            if t:
                time = t.group(1)
            if chaos is not None:
                g = "chaos"
                h = CHAOS_HANGS.match(s)
                r = CHAOS_RECOVERY.match(s)
                if h:
                    chaos.figures.append(Figure("chaos %s: hangs" % chaos.app, g, "hangs", LOWER, float(h.group(1))))
                elif r:
                    chaos.figures.append(Figure("chaos %s: recovery p50 ms" % chaos.app, g, "ms", LOWER, float(r.group(1))))
                    chaos.figures.append(Figure("chaos %s: recovery p99 ms" % chaos.app, g, "ms", LOWER, float(r.group(2))))
                elif re.match(r"^- (hangs|recovery ms):", s):
                    unparsed.append(Unparsed(name, i + 1, line, "a chaos figure line in an unknown form"))
        i += 1
    runs = [r for r in runs if r.figures]
    if not runs:
        unparsed.append(Unparsed(name, 0, "", "no figures found in this file (no table or line in a known format)"))
    if date is None:
        unparsed.append(Unparsed(name, 0, "", "no date in the file name (kind-YYYY-MM-DD.md) or a heading: runs dated ?"))
    return runs, unparsed


def settings_table(block):
    header = [c.strip() for c in split_row(block[0][1])]
    out = {}
    for _, text in block[1:]:
        cells = [c.strip() for c in split_row(text)]
        if is_separator(cells) or not cells:
            continue
        out[cells[0]] = {side: v for side, v in zip(header[1:], cells[1:])}
    return out


def load_after(lines, i):
    """The load average at the start in the settings section that follows a table (the current format)."""
    for j in range(i, min(len(lines), i + 400)):
        s = lines[j].strip()
        if re.match(r"#{1,2}\s", s):
            return None
        m = re.search(r"Load average at the start\s+(\d+(?:\.\d+)?(?:\s+\d+(?:\.\d+)?){0,2})", s)
        if m:
            return m.group(1)
    return None


def table(name, block, date, time, load, ordinal, unparsed):
    """One Markdown table: a Run when it is a figures table, None otherwise (its bad rows go to unparsed)."""
    header = split_row(block[0][1])
    h = _norm(header)
    rows = []
    for ln, text in block[1:]:
        cells = split_row(text)
        if is_separator(cells):
            continue
        rows.append((ln, cells))
    kind = next((k for k in KINDS if k.matches(h)), None)
    if kind is None:
        for ln, text in block:
            if is_separator(split_row(text)):
                continue
            unparsed.append(Unparsed(name, ln, text, "table with an unknown header (%s)" % " | ".join(c.strip() for c in header)))
        return None
    figs, bad = kind.parse(rows)
    texts = dict(block)
    for ln, reason in bad:
        unparsed.append(Unparsed(name, ln, texts[ln], "%s table: %s" % (kind.name, reason)))
    if not kind.figures or not figs:
        return None
    return Run(name, block[0][0], date, time, ordinal, load, figs)


def read_results(directory):
    runs, unparsed = [], []
    names = sorted(n for n in os.listdir(directory) if n.endswith(".md") and n.lower() != "readme.md")
    for n in names:
        r, u = parse_file(os.path.join(directory, n))
        runs += r
        unparsed += u
    runs.sort(key=lambda r: r.sort_key)
    return runs, unparsed, names


# --- the report -----------------------------------------------------------------------------------------------

GROUP_TITLES = {
    "memory": "Ring, mempool and mbuf (memory-vs-dpdk.sh)",
    "ethdev": "ethdev: net_null io-forward and the ixgbe burst (ethdev-vs-dpdk.sh)",
    "virtio": "virtio-user against DPDK's vhost-user backend (virtio-vs-dpdk.sh)",
    "dut": "l2fwd-mp vs DPDK l2fwd as the device under test (dut-vs-dpdk.sh)",
    "l2fwd-mp": "l2fwd-mp scaling on devsim ports (l2fwd-mp-scaling.sh, jnic only)",
    "l2fwd-fork": "l2fwd-fork recovery (l2fwd-fork-recovery.sh, jnic only)",
    "pktgen": "pktgen ceiling (pktgen-ceiling.sh, jnic only)",
    "two-host": "Two hosts over devsim cables (two-host.sh, jnic only)",
    "pdump": "Packet capture hook (pdump-tap.sh, jnic only)",
    "chaos": "Chaos runs (chaos.sh, jnic only)",
}
GROUP_ORDER = list(GROUP_TITLES)


def fmt(v):
    if v is None:
        return "n/a"
    if v == int(v) and abs(v) < 1e9:
        return "%d" % v
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def status(fig):
    t = TARGETS.get(fig.fid)
    if t is None:
        return ""
    m = t.met(fig)
    return "no data" if m is None else ("met" if m else "**not met**")


def history(runs):
    """fid -> [(run, figure)] in run order; and fid -> group, in first-seen order."""
    h, groups = {}, {}
    for r in runs:
        for f in r.figures:
            h.setdefault(f.fid, []).append((r, f))
            groups.setdefault(f.fid, f.group)
    return h, groups


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def markdown(runs, unparsed, names, results_dir, plots, argv, link="../results"):
    hist, groups = history(runs)
    out = []
    w = out.append
    w("# Benchmark report")
    w("")
    w("Generated by `bench/report.sh%s` from %d results files in `%s` (%d runs, %d figures) at %s UTC. Do not edit: "
      "rerun the command." % ("".join(" " + a for a in argv), len(names), results_dir, len(runs), len(hist),
                                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")))
    w("")
    w("Ratio = jnic / DPDK for the same figure in the same run. For costs (cycles, ns, us, ms) below 1 means jnic is "
      "cheaper; for rates (Mpps) above 1 means jnic is faster. Targets are those of the performance issue; a target "
      "on \"jnic\" is on jnic's own figure. The latest run of each figure is the one compared with its target; "
      "the history of every figure follows, oldest first. Runs on a shared machine are not valid figures: read "
      "each run's load average (and the settings section of its results file) before quoting one.")
    w("")
    if unparsed:
        w("**%d line(s) of the results could not be parsed**: see [Not parsed](#not-parsed)." % len(unparsed))
        w("")
    w("## Summary: latest run of every figure")
    w("")
    w("| figure | unit | latest run | jnic | DPDK | jnic/DPDK | target | status | runs |")
    w("|---|---|---|---:|---:|---:|---|---|---:|")
    for g in GROUP_ORDER:
        for fid in [f for f in hist if groups[f] == g]:
            r, f = hist[fid][-1]
            t = TARGETS.get(fid)
            jnic_only = not f.compared
            w("| [%s](#%s) | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                fid, slug(g), f.unit, r.label, fmt(f.jnic), "-" if jnic_only else fmt(f.dpdk),
                "-" if jnic_only else fmt(f.ratio), t.describe() if t else "", status(f), len(hist[fid])))
    missing = [fid for fid in TARGETS if fid not in hist]
    if missing:
        w("")
        w("Targets with no figure in any results file yet: " + "; ".join("%s (%s)" % (fid, TARGETS[fid].describe())
                                                                          for fid in missing) + ".")
    for g in GROUP_ORDER:
        fids = [f for f in hist if groups[f] == g]
        if not fids:
            continue
        w("")
        w("## %s" % g)
        w("")
        w(GROUP_TITLES[g] + ".")
        w("")
        for p in plots.get(g, []):
            w("![%s](%s)" % (os.path.splitext(p)[0], p))
            w("")
        for fid in fids:
            t = TARGETS.get(fid)
            has_dpdk = any(f.dpdk is not None for _, f in hist[fid])
            has_mem = any(r.memory() for r, _ in hist[fid])
            w("### %s" % fid)
            w("")
            unit = hist[fid][0][1].unit
            w("Unit: %s, %s is better.%s" % (unit, hist[fid][0][1].better, (" Target: %s (issue: %s)." % (t.describe(), t.text)) if t else ""))
            w("")
            head = ["run", "load", "jnic"] + (["DPDK", "jnic/DPDK"] if has_dpdk else []) + ["target"]
            head += (["memory"] if has_mem else []) + ["source"]
            w("| " + " | ".join(head) + " |")
            w("|---|---|---:|" + ("---:|---:|" if has_dpdk else "") + "---|" + ("---|" if has_mem else "") + "---|")
            for r, f in hist[fid]:
                cells = [r.label, r.load or "", fmt(f.jnic)]
                if has_dpdk:
                    cells += [fmt(f.dpdk), fmt(f.ratio)]
                cells += [status(f)]
                if has_mem:
                    cells += [r.memory().replace("|", "\\|")]
                cells += ["[%s:%d](%s/%s)" % (r.source, r.line, link, r.source)]
                w("| " + " | ".join(cells) + " |")
            w("")
    w("")
    w("## Not parsed")
    w("")
    if not unparsed:
        w("Every table row of every results file was read.")
    else:
        w("Lines that look like data (table rows, chaos figure lines) but that the report could not read, and files "
          "without any figure. Prose and notes are not read and not listed.")
        w("")
        w("| file | line | reason | text |")
        w("|---|---:|---|---|")
        for u in unparsed:
            text = u.text.strip()
            if len(text) > 120:
                text = text[:117] + "..."
            w("| %s | %s | %s | %s |" % (u.source, u.line or "", u.reason.replace("|", "\\|"),
                                          ("`" + text.replace("`", "'").replace("|", "\\|") + "`") if text else ""))
    w("")
    return "\n".join(out)


def plot(runs, out_dir):
    """Two PNGs per group: the latest run (values and ratio against the target), and the history."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist, groups = history(runs)
    made = {}
    for g in GROUP_ORDER:
        fids = [f for f in hist if groups[f] == g]
        if not fids:
            continue
        latest = [(fid,) + hist[fid][-1] for fid in fids]
        has_dpdk = any(f.dpdk is not None for _, _, f in latest)
        short = [fid.split(": ", 1)[-1] for fid in fids]
        labelled = ["%s [%s]" % (x, hist[fid][0][1].unit) for x, fid in zip(short, fids)]
        n = len(fids)
        height = max(2.5, 0.45 * n + 1.5)
        # latest run
        cols = 2 if has_dpdk else 1
        fig, axes = plt.subplots(1, cols, figsize=(6 * cols + 2, height), squeeze=False)
        ax = axes[0][0]
        y = list(range(n))
        jv = [f.jnic if f.jnic is not None else 0 for _, _, f in latest]
        if has_dpdk:
            dv = [f.dpdk if f.dpdk is not None else 0 for _, _, f in latest]
            ax.barh([v - 0.2 for v in y], jv, 0.4, label="jnic", color="#1f77b4")
            ax.barh([v + 0.2 for v in y], dv, 0.4, label="DPDK", color="#ff7f0e")
            ax.legend(loc="lower right", fontsize=8)
        else:
            ax.barh(y, jv, 0.6, label="jnic", color="#1f77b4")
        for k, (fid, _, f) in enumerate(latest):
            t = TARGETS.get(fid)
            if t and t.basis == "jnic":
                ax.plot([t.value, t.value], [k - 0.45, k + 0.45], color="red", lw=2)
        vals = [v for v in jv + (dv if has_dpdk else []) if v > 0]
        if vals and max(vals) / min(vals) > 30:
            ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(labelled, fontsize=8)
        ax.invert_yaxis()
        units = sorted({f.unit for _, _, f in latest})
        ax.set_xlabel(", ".join(units))
        ax.set_title("latest run of each figure", fontsize=9)
        if has_dpdk:
            ax = axes[0][1]
            rv = [f.ratio if f.ratio is not None else 0 for _, _, f in latest]
            colors = []
            for fid, _, f in latest:
                t = TARGETS.get(fid)
                m = t.met(f) if t else None
                colors.append("#2ca02c" if m else ("#d62728" if m is False else "#7f7f7f"))
            ax.barh(y, rv, 0.6, color=colors)
            ax.axvline(1.0, color="black", lw=0.8)
            for k, (fid, _, f) in enumerate(latest):
                t = TARGETS.get(fid)
                if t and t.basis == "ratio":
                    ax.plot([t.value, t.value], [k - 0.45, k + 0.45], color="red", lw=2)
                if f.ratio is not None:
                    ax.text(f.ratio, k, " %.2f" % f.ratio, va="center", fontsize=7)
            ax.set_yticks(y)
            ax.set_yticklabels([])
            ax.invert_yaxis()
            ax.set_xlabel("jnic / DPDK (red: target; green met, red not met, grey no target)")
            ax.set_title("ratio", fontsize=9)
        fig.suptitle(GROUP_TITLES[g], fontsize=10)
        fig.tight_layout()
        name = "%s-latest.png" % g
        fig.savefig(os.path.join(out_dir, name), dpi=90)
        plt.close(fig)
        made.setdefault(g, []).append(name)
        # history, one line per figure: the ratio of the figures measured on both sides, jnic's own figure of
        # the others (a second panel when a group has both kinds)
        order = sorted({r.sort_key: r for fid in fids for r, _ in hist[fid]}.items())
        if len(order) < 2:
            continue
        index = {k: i for i, (k, _) in enumerate(order)}
        panels = [(basis, [(fid, s) for fid, s in zip(fids, short) if (hist[fid][0][1].compared) == (basis == "ratio")])
                  for basis in ("ratio", "jnic")]
        panels = [p for p in panels if p[1]]
        fig, axes = plt.subplots(1, len(panels), figsize=(max(7, 0.5 * len(order) + 4) * len(panels), 4.5), squeeze=False)
        for ax, (basis, members) in zip(axes[0], panels):
            for fid, s in members:
                pts = [(index[r.sort_key], f.ratio if basis == "ratio" else f.jnic) for r, f in hist[fid]]
                pts = [(x, v) for x, v in pts if v is not None and not math.isnan(v)]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1, label=s)
            if basis == "ratio":
                ax.axhline(1.0, color="black", lw=0.8)
                ax.set_ylabel("jnic / DPDK")
            else:
                ax.set_ylabel(", ".join(sorted({hist[fid][0][1].unit for fid, _ in members})) + " (jnic)")
            for tv in sorted({TARGETS[fid].value for fid, _ in members if fid in TARGETS and TARGETS[fid].basis == basis}):
                ax.axhline(tv, color="red", lw=0.8, ls="--")
            ax.set_xticks(range(len(order)))
            ax.set_xticklabels([r.label for _, r in order], rotation=60, ha="right", fontsize=7)
            ax.set_title("history (red dashed: targets)", fontsize=9)
            ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
        name = "%s-history.png" % g
        fig.savefig(os.path.join(out_dir, name), dpi=90)
        plt.close(fig)
        made[g].append(name)
    return made


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    bench = os.path.dirname(here)
    p = argparse.ArgumentParser(prog="bench/report.sh", description="Build bench/report/README.md and PNG plots "
                                "from bench/results/*.md.")
    p.add_argument("--results", default=os.path.join(bench, "results"), help="results directory (default bench/results)")
    p.add_argument("--out", default=os.path.join(bench, "report"), help="report directory (default bench/report)")
    p.add_argument("--no-plots", action="store_true", help="the Markdown alone (no matplotlib needed)")
    p.add_argument("--self-test", action="store_true", help="run the parser's and the report's tests, then exit")
    a = p.parse_args(argv)
    if a.self_test:
        import unittest
        sys.path.insert(0, os.path.join(here, "test"))
        suite = unittest.defaultTestLoader.discover(os.path.join(here, "test"), pattern="test_*.py")
        ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
        return 0 if ok else 1
    if not os.path.isdir(a.results):
        print("bench/report.sh: no results directory %s (run a script in bench/scripts, or pass --results DIR)"
              % a.results, file=sys.stderr)
        return 2
    if not a.no_plots and not have_matplotlib():
        print("bench/report.sh: the plots need matplotlib: apt-get install -y python3-matplotlib "
              "(or run with --no-plots for the Markdown alone)", file=sys.stderr)
        return 2
    runs, unparsed, names = read_results(a.results)
    os.makedirs(a.out, exist_ok=True)
    for n in os.listdir(a.out):  # plots of groups that no longer have figures would be stale
        if n.endswith(".png"):
            os.remove(os.path.join(a.out, n))
    plots = {} if a.no_plots else plot(runs, a.out)
    shown = [x for x in (argv if argv is not None else sys.argv[1:])]
    rel = os.path.relpath(a.results, os.path.dirname(bench)) if os.path.isabs(a.results) else a.results
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write(markdown(runs, unparsed, names, rel, plots, shown,
                         os.path.relpath(os.path.abspath(a.results), os.path.abspath(a.out))))
    print("bench/report.sh: %d runs, %d figures from %d files -> %s (%d PNG)" % (
        len(runs), len(history(runs)[0]), len(names), os.path.join(a.out, "README.md"), sum(map(len, plots.values()))),
        file=sys.stderr)
    for u in unparsed:
        print("bench/report.sh: not parsed: %s:%s: %s" % (u.source, u.line, u.reason), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
