#!/usr/bin/env bash
# The packet-capture hook's cost per burst (CaptureTapBench, JMH): no hook, capture off (one read of the
# control word), a capture of another queue, and this queue captured (32 copies into the capture pool and one
# enqueue), for 64- and 1518-byte frames; appends one section per run to bench/results/pdump-<date>.md.
#
#   bench/scripts/pdump-tap.sh            (JNIC_JMH="extra JMH options", RESULTS_DIR=output directory, JNIC_RESULTS=output file)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
day=$(date -u +%Y-%m-%d)
out=${JNIC_RESULTS:-${RESULTS_DIR:-$root/bench/results}/pdump-$day.md}
mkdir -p "$(dirname "$out")"
work=$(mktemp -d /tmp/jnic-pdump-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "pdump-tap: building the benchmarks" >&2
"$root/jnic" build -pl bench -am -q >/dev/null
. "$root/bin/find-jdk.sh"
jnic_find_jdk >/dev/null
cd "$root"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar CaptureTapBench \
  -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc ${JNIC_JMH:-} -rf json -rff "$work/r.json" >&2
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
  io.jnic.bench.pdump.CaptureTapBench > "$work/cpu.txt"
load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work/r.json" "$out" "$load" "$work/cpu.txt" "$day" <<'PY'
import json, os, sys, time
rows = json.load(open(sys.argv[1]))
cpu = {}
for line in open(sys.argv[4]):
    m, fr, ns = line.split()
    cpu[(m, int(fr))] = float(ns)
res = {}
for r in rows:
    p = r["params"]
    key = (p["mode"], int(p["frame"]))
    gc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score", float("nan"))
    res[key] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"], gc)
fresh = not os.path.exists(sys.argv[2])
with open(sys.argv[2], "a") as f:  # one section per run: earlier runs are the history
    if fresh:
        f.write("# Packet capture hook: cost per burst of 32 (%s)\n\nWritten by bench/scripts/pdump-tap.sh, one section per run.\n" % sys.argv[5])
    f.write("\n## Run at %s UTC\n\n" % time.strftime("%H:%M", time.gmtime()))
    f.write("CaptureTapBench (JMH, 1 fork, 3x1 s warm-up, 5x1 s measured) on this machine; load average at the end: %s "
            "(a shared 2-vCPU machine: wall-clock JMH figures are inflated by waiting for a CPU; the CPU-time columns, "
            "thread CPU time of the same loop, best of 5 rounds of 200000 bursts, are the steadier figures). Each op: one `CaptureTap.rx` of 32 mbufs as L2Forwarder calls it, then the consumer's "
            "dequeue and free of what was captured (pdump's work; 0 mbufs unless the mode is `on`).\n\n" % sys.argv[3])
    f.write("| mode | frame B | JMH ns/burst | +- | CPU ns/burst | CPU ns/packet | extra CPU ns/packet vs none | B/op (-prof gc) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
    for frame in (64, 1518):
        base = cpu.get(("none", frame), float("nan"))
        for mode in ("none", "off", "filtered", "on"):
            if (mode, frame) not in res:
                continue
            s, e, gc = res[(mode, frame)]
            c = cpu.get((mode, frame), float("nan"))
            f.write("| %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.3f |\n" % (mode, frame, s, e, c, c / 32, (c - base) / 32, gc))
    f.write("\nModes: `none` no hook call (the floor: the consumer's empty dequeue); `off` the hook with no capture on "
            "(what every burst pays in production); `filtered` a capture on for another queue (settings cached, a mask "
            "test); `on` this queue captured: per packet an mbuf from the capture pool, a copy of the frame (snap length "
            "262144, capture buffers of 2048 bytes), the 24-byte record header, and one ring enqueue per burst.\n")
print("pdump-tap: wrote " + sys.argv[2], file=sys.stderr)
PY
