#!/usr/bin/env python3
"""Chaos run of a jnic multi-process app: N random SIGKILLs of its secondaries (l2fwd-mp), clients (mp-server) or
workers (l2fwd-fork) under traffic, each victim restarted at once (l2fwd-fork's master restarts its own), then an
orderly stop. Writes a Markdown results file with the kills, the hangs, the recovery times and the final pool audit.

A hang is any of: a killed process the primary knew (it had registered) whose recovery the primary never reports;
a restarted process that never attaches its queues; a primary that does not end within the grace after SIGTERM;
no final audit. Recovery time: from the kill to the primary's line that reports the recovery of that pid.

Usage: bench/scripts/chaos.sh APP N   (APP = l2fwd-mp | mp-server | l2fwd-fork; after ./jnic build)
"""
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GRACE = 90  # seconds a recovery, an attach or the final stop may take on a loaded 2-CPU machine
STEADY = 0.7  # share of kills that wait until the victim forwards


def java():
    out = subprocess.run(["bash", "-c", ". bin/find-jdk.sh; jnic_find_jdk >/dev/null; echo $JAVA_HOME"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(out, "bin", "java")


class Proc:
    """A process whose merged output lines are kept with the time each arrived."""

    def __init__(self, name, cmd):
        self.name = name
        self.cmd = cmd
        self.lines = []
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  errors="replace", start_new_session=True)
        self.pid = self.p.pid
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def find(self, pattern, after=0.0):
        rx = re.compile(pattern)
        with self.lock:
            for t, l in self.lines:
                if t >= after and rx.search(l):
                    return t, l
        return None

    def wait_for(self, pattern, timeout, after=0.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hit = self.find(pattern, after)
            if hit:
                return hit
            if self.p.poll() is not None:
                time.sleep(0.2)
                return self.find(pattern, after)
            time.sleep(0.05)
        return None

    def alive(self):
        return self.p.poll() is None

    def text(self):
        with self.lock:
            return "\n".join(l for _, l in self.lines)


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        return [int(x) for x in out]
    except OSError:
        return []


def fork_workers(primary):
    """Pids of attached workers in l2fwd-fork's last stats table (rows: worker pid lcore restarts ...)."""
    rows = {}
    with primary.lock:
        lines = [l for _, l in primary.lines[-40:]]
    for l in lines:
        m = re.match(r"^(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[\d.]+", l)
        if m:
            rows[int(m.group(1))] = int(m.group(2))
    return list(rows.values())


def percentile(v, q):
    if not v:
        return float("nan")
    s = sorted(v)
    k = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[k]


def main():
    app, n = sys.argv[1], int(sys.argv[2])
    seed = int(os.environ.get("SEED", "1"))
    rnd = random.Random(seed)
    j = java()
    prefix = "chaos%d" % os.getpid()
    jar = lambda a: os.path.join(ROOT, "apps", "target", a + ".jar")
    eal = ["--file-prefix", prefix]
    procs = {}

    if app == "l2fwd-mp":
        primary = Proc("primary", [j, "-jar", jar("l2fwd-mp"), *eal, "--", "--num-procs", "3", "-T", "5"])
        sec_cmd = lambda i: [j, "-jar", jar("l2fwd-mp"), "--proc-type", "secondary", *eal, "--", "--num-procs", "3",
                             "--proc-id", str(i)]
        ids = [1, 2]
        ready_rx = r"attached queue \d+ of port 1"
        known_rx = r"secondary \d+ \(proc id"
        recovered_rx = lambda pid: r"secondary pid %d\b" % pid
        primary_ready = r"port 1: .*link"
    elif app == "mp-server":
        primary = Proc("primary", [j, "-jar", jar("mp-server"), *eal, "--", "-n", "2", "-T", "5"])
        sec_cmd = lambda i: [j, "-jar", jar("mp-client"), *eal, "--", "-n", str(i)]
        ids = [0, 1]
        ready_rx = r"mp-client: client \d+ forwards ring"
        known_rx = r"secondary \d+ \(proc id"
        recovered_rx = lambda pid: r"secondary pid %d\b" % pid
        primary_ready = r"serves \d+ clients"
    elif app == "l2fwd-fork":
        primary = Proc("primary", [j, "-jar", jar("l2fwd-fork"), *eal, "--", "--workers", "2", "-T", "1",
                                   "--max-restarts", "100000"])
        sec_cmd = None
        ids = []
        ready_rx = None
        known_rx = None
        recovered_rx = lambda pid: r"worker \d+ \(pid %d\)" % pid
        primary_ready = r"worker\(s\) on"
    else:
        sys.exit("unknown app %s (l2fwd-mp, mp-server, l2fwd-fork)" % app)

    if not primary.wait_for(primary_ready, GRACE):
        print(primary.text())
        sys.exit("the primary did not come up")
    for i in ids:
        procs[i] = Proc("sec%d" % i, sec_cmd(i))
    time.sleep(3)

    kills = []  # (time, pid, known to the primary, slot)
    restarts = []  # (slot, Proc)
    load_before = open("/proc/loadavg").read().split()[:3]
    t0 = time.monotonic()
    limit = time.monotonic() + 60 + 30 * n  # a bound on the kill loop even when victims never come up
    while len(kills) < n and time.monotonic() < limit:
        if app == "l2fwd-fork":
            time.sleep(rnd.uniform(0.3, 2.5))
            # workers that own a slot and are attached, from the master's latest table (spares are left alone:
            # a dead spare is replaced silently, there is no recovery to measure)
            victims = [p for p in fork_workers(primary) if p in children(primary.pid)]
            if not victims:
                continue
            pid = rnd.choice(victims)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            kills.append((time.monotonic(), pid, True, None))
        else:
            slot = rnd.choice(ids)
            victim = procs[slot]
            if rnd.random() < STEADY:  # most kills land while it forwards, the rest while it starts or attaches
                victim.wait_for(ready_rx, GRACE)
                time.sleep(rnd.uniform(0.0, 1.0))
            known = victim.find(known_rx) is not None
            try:
                os.kill(victim.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            victim.p.wait()
            kills.append((time.monotonic(), victim.pid, known, slot))
            procs[slot] = Proc("sec%d" % slot, sec_cmd(slot))
            restarts.append((slot, procs[slot]))
        if not primary.alive():
            break
    t_kills = time.monotonic() - t0

    hangs = []
    rec_ms = []
    for t, pid, known, slot in kills:
        if not known:
            continue
        hit = primary.wait_for(recovered_rx(pid), GRACE, after=t - 0.001)
        if hit is None:
            hangs.append("no recovery reported for pid %d (killed at +%.1f s)" % (pid, t - t0))
        else:
            rec_ms.append((hit[0] - t) * 1000)
    attach_ms = []
    if app != "l2fwd-fork":
        for slot in ids:  # the processes running now must all attach (earlier ones may have been killed first)
            pr = procs[slot]
            hit = pr.wait_for(ready_rx, GRACE)
            if hit is None:
                hangs.append("restarted %s (pid %d) never attached; its output:\n%s" % (pr.name, pr.pid, pr.text()[-2000:]))
        for slot, pr in restarts:
            hit = pr.find(ready_rx)
            if hit:
                attach_ms.append((hit[0] - pr.started) * 1000)
    else:
        # the master's own measure, from the death to the replacement forwarding
        for l in primary.text().splitlines():
            m = re.search(r"forwarding ([\d.]+) ms after the death", l)
            if m:
                attach_ms.append(float(m.group(1)))
    time.sleep(2)
    for pr in procs.values():
        pass  # the primary stops its secondaries itself
    primary.p.send_signal(signal.SIGTERM)
    try:
        primary.p.wait(GRACE)
    except subprocess.TimeoutExpired:
        hangs.append("the primary did not end within %d s of SIGTERM" % GRACE)
        os.killpg(primary.pid, signal.SIGKILL)
    for pr in procs.values():
        try:
            pr.p.wait(GRACE)
        except subprocess.TimeoutExpired:
            hangs.append("%s (pid %d) did not end after the primary stopped" % (pr.name, pr.pid))
            os.killpg(pr.pid, signal.SIGKILL)
    time.sleep(0.5)
    audit = primary.find(r"mempool after stop: ")
    audit_line = audit[1].split("mempool after stop: ", 1)[1] if audit else None
    if audit_line is None:
        hangs.append("no final audit")
    leaked = re.search(r"leaked (\d+)", audit_line or "")
    dups = re.search(r"duplicates (\d+)", audit_line or "")
    leftovers = [p for p in os.listdir("/dev/hugepages") if p.startswith(prefix)] if os.path.isdir("/dev/hugepages") else []
    rundir = [d for d in ("/var/run/jnic/" + prefix, os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"), "jnic", prefix))
              if os.path.exists(d)]

    date = time.strftime("%Y-%m-%d", time.gmtime())
    out = os.path.join(ROOT, "bench", "results", "chaos-%s.md" % date)
    fresh = not os.path.exists(out)
    known_kills = sum(1 for k in kills if k[2])
    with open(out, "a") as f:
        if fresh:
            f.write("# Chaos runs (bench/scripts/chaos.sh APP N)\n\nRandom SIGKILLs of secondaries, clients or workers "
                    "under traffic on the simulated 82599 ports, each victim restarted at once, then an orderly stop. "
                    "Recovery: from the kill to the primary's line reporting that pid's recovery (queue pairs reset, "
                    "mbufs returned). Attach: from a restart to the new process's queues attached (l2fwd-fork: the "
                    "master's own figure, from the death to the replacement forwarding).\n")
        f.write("\n## %s, %d kills, %s UTC\n\n" % (app, len(kills), time.strftime("%H:%M", time.gmtime())))
        f.write("- machine: %d CPUs, load average before %s (other work ran: figures are upper bounds), seed %d\n"
                % (os.cpu_count(), " ".join(load_before), seed))
        f.write("- kills: %d in %.0f s (%d of processes the primary had registered)\n" % (len(kills), t_kills, known_kills))
        f.write("- hangs: %d%s\n" % (len(hangs), "".join("\n  - " + h.splitlines()[0] for h in hangs)))
        if rec_ms:
            f.write("- recovery ms: p50 %.0f, p99 %.0f, max %.0f (%d recoveries)\n"
                    % (percentile(rec_ms, .5), percentile(rec_ms, .99), max(rec_ms), len(rec_ms)))
        if attach_ms:
            f.write("- %s ms: p50 %.0f, p99 %.0f, max %.0f (%d)\n" % (
                "replacement forwarding" if app == "l2fwd-fork" else "restart to attached", percentile(attach_ms, .5),
                percentile(attach_ms, .99), max(attach_ms), len(attach_ms)))
        f.write("- final audit: %s\n" % (audit_line or "none"))
        f.write("- left behind: hugepage files %d, runtime dir %s\n" % (len(leftovers), rundir or "none"))
    print(open(out).read().split("\n## ")[-1])
    ok = not hangs and leaked and leaked.group(1) == "0" and dups and dups.group(1) == "0"
    if not ok:
        log = os.path.join(ROOT, "bench", "results", "chaos-%s-%s-primary.log" % (app, date))
        with open(log, "w") as f:
            f.write(primary.text())
        for h in hangs:
            print(h)
        print("primary output kept in", log)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
