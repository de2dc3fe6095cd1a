#!/usr/bin/env bash
# Ring / mempool / mbuf: jnic (JMH) against DPDK (ring_perf_autotest, shared/anchors/mpbench.c) on this
# machine, in the same run, and writes bench/results/memory-<date>.md.
#
#   bench/scripts/memory-vs-dpdk.sh [rounds]     (default 2 rounds; needs root for apt-get and hugepages)
#   smoke run: RESULTS_DIR=/tmp/r JMH_OPTS="-f 1 -wi 1 -i 1 -w 1s -r 1s" PROBE_ROUNDS=1 bench/scripts/memory-vs-dpdk.sh 1
#
# Environment: JNIC_ANCHORS=dir with mpbench.c (default: ../shared/anchors beside the repo),
#              JMH_OPTS (replaces the default iterations), JNIC_JMH="extra JMH options", PROBE_ROUNDS (7), RESULTS_DIR (default bench/results), JNIC_RESULTS=output file,
#              CPU=the measuring core (default 0), OTHER_CPU=ring_perf's second lcore (default 1).
# Each round runs DPDK's figures and jnic's JMH benchmarks back to back; the table takes the best round
# of each side (every round's figures are listed too). One section per run is appended to the day's file.
# Both sides alike: 2 MiB hugepages (DPDK's EAL memory; jnic's BenchMemory maps them when free, and the script
# refuses to start with too few), the measuring thread on CPU $CPU (DPDK: main lcore 0 pinned there with
# --lcores; jnic: the JVM confined to it with taskset, as JMH cannot pin its thread).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bench/scripts/lib/settings.sh"
bench_start
rounds=${1:-2}
CPU=${CPU:-0}
OTHER_CPU=${OTHER_CPU:-1}
day=$(date -u +%Y-%m-%d)
out=${JNIC_RESULTS:-$(bench_results_dir "$root")/memory-$day.md}
work=$(mktemp -d /tmp/jnic-memory-bench.XXXXXX)
cleanup() { # DPDK leaves its hugepage files and runtime dir behind unless told otherwise
  rm -rf "$work" /var/run/dpdk/jnic-bench-ring /var/run/dpdk/jnic-bench-mp
  rm -f /dev/hugepages/jnic-bench-ringmap_* /dev/hugepages/jnic-bench-mpmap_*
}
trap cleanup EXIT
log() { echo "memory-vs-dpdk: $*" >&2; }

# --- DPDK ------------------------------------------------------------------------------------------
if ! command -v dpdk-test >/dev/null || ! pkg-config --exists libdpdk 2>/dev/null; then
  log "installing DPDK (dpdk dpdk-dev libdpdk-dev)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y dpdk dpdk-dev libdpdk-dev >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y dpdk dpdk-dev libdpdk-dev >/dev/null; }
fi
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ "$(cat $hp/free_hugepages)" -lt 512 ]; then
  log "reserving hugepages"
  echo 1024 > $hp/nr_hugepages
fi
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
[ "$(cat $hp/free_hugepages)" -ge 256 ] || { log "fewer than 256 free 2 MiB hugepages; DPDK cannot run"; exit 1; }

anchors=${JNIC_ANCHORS:-}
for d in "$anchors" "$root/../shared/anchors" "$root/../../shared/anchors"; do
  if [ -n "$d" ] && [ -f "$d/mpbench.c" ]; then anchors=$(cd "$d" && pwd); break; fi
done
[ -f "$anchors/mpbench.c" ] || { log "mpbench.c not found (set JNIC_ANCHORS)"; exit 1; }
mpbench_build="gcc -O2 $anchors/mpbench.c -o $work/mpbench \$(pkg-config --cflags --libs libdpdk)"
# shellcheck disable=SC2046
gcc -O2 "$anchors/mpbench.c" -o "$work/mpbench" $(pkg-config --cflags --libs libdpdk)

ring_eal=(-m 512 --lcores "0@$CPU,1@$OTHER_CPU" --no-pci --huge-unlink --file-prefix jnic-bench-ring)
mp_eal=(--lcores "0@$CPU" -m 256 --no-pci --huge-unlink --file-prefix jnic-bench-mp)
ring_cmd="echo ring_perf_autotest | dpdk-test ${ring_eal[*]}"
mp_cmd="$work/mpbench ${mp_eal[*]}"

# --- jnic ------------------------------------------------------------------------------------------
log "building the benchmarks"
"$root/jnic" build -pl bench -am -q >/dev/null
. "$root/bin/find-jdk.sh"
jnic_find_jdk >/dev/null
java="$JAVA_HOME/bin/java"
jar="$root/bench/target/benchmarks.jar"
jmh_opts="${JMH_OPTS:--f 1 -wi 3 -i 5 -w 1s -r 1s} -prof gc ${JNIC_JMH:-}"
probe_rounds=${PROBE_ROUNDS:-7}
pin=(taskset -c "$CPU")
jmh_cmd="${pin[*]} $java --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar 'RingBench|RingSingleBench|MempoolBench' $jmh_opts -rf json"
probe_cmd="${pin[*]} $java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jnic.bench.CpuTimeProbe $probe_rounds <group>"

mhz=$(awk -F: '/^cpu MHz/ {gsub(/ /,"",$2); print $2; exit}' /proc/cpuinfo)
ghz=$(awk -v m="$mhz" 'BEGIN {printf "%.4f", m / 1000}')
log "CPU clock from /proc/cpuinfo: $mhz MHz"

hp_dpdk=0; hp_jnic=0
bench_max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }
for r in $(seq 1 "$rounds"); do
  bench_hp_watch_start "$work/hp-dpdk"
  log "round $r/$rounds: DPDK ring_perf_autotest"
  (cd "$work" && echo ring_perf_autotest | dpdk-test "${ring_eal[@]}") > "$work/ring-$r.txt" 2>&1 || true
  log "round $r/$rounds: DPDK mpbench"
  (cd "$work" && "$work/mpbench" "${mp_eal[@]}") > "$work/mp-$r.txt" 2>&1 || true
  hp_dpdk=$(bench_max "$hp_dpdk" "$(bench_hp_watch_stop "$work/hp-dpdk")")
  bench_hp_watch_start "$work/hp-jnic"
  log "round $r/$rounds: jnic JMH"
  (cd "$root" && "${pin[@]}" "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" 'RingBench|RingSingleBench|MempoolBench' $jmh_opts \
      -rf json -rff "$work/jmh-$r.json") > "$work/jmh-$r.txt" 2>&1
  for g in "ring SPSC" "ring MPMC" "cache 256" "cache 0"; do
    "${pin[@]}" "$java" --enable-native-access=ALL-UNNAMED -cp "$jar" io.jnic.bench.CpuTimeProbe "$probe_rounds" "$g" >> "$work/probe-$r.txt"
    "${pin[@]}" "$java" --enable-native-access=ALL-UNNAMED -Djnic.ring.copyThreshold=100000 -cp "$jar" io.jnic.bench.CpuTimeProbe "$probe_rounds" "$g" \
      | grep '^ring' | sed 's/^ring/ring(loop copy)/' >> "$work/probe-$r.txt" || true
  done
  hp_jnic=$(bench_max "$hp_jnic" "$(bench_hp_watch_stop "$work/hp-jnic")")
done

log "zero-garbage check: every loop under Epsilon GC (no collector) with a 48 MiB heap"
epsilon_cmd="${pin[*]} $java --enable-native-access=ALL-UNNAMED -XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xmx48m -Xlog:gc:stderr -cp bench/target/benchmarks.jar io.jnic.bench.CpuTimeProbe 3"
if "${pin[@]}" "$java" --enable-native-access=ALL-UNNAMED -XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xmx48m -Xlog:gc:stderr \
    -cp "$jar" io.jnic.bench.CpuTimeProbe 3 > "$work/epsilon.txt" 2>&1; then
  epsilon="completed; $(grep -c 'ns/elem' "$work/epsilon.txt") loops of 4 million calls each ran; heap at the end: $(grep 'Heap:' "$work/epsilon.txt" | tail -1 | sed 's/.*Heap: //')"
else
  epsilon="FAILED (exit $?): $(tail -3 "$work/epsilon.txt" | tr '\n' ' ')"
fi

mkdir -p "$(dirname "$out")"
PROBE_ROUNDS=$probe_rounds python3 - "$work" "$rounds" "$ghz" "$mhz" "$work/section.md" "$ring_cmd" "$mp_cmd" "$mpbench_build" "$jmh_cmd" "$probe_cmd" "$epsilon_cmd" "$epsilon" <<'PY'
import json, re, sys, os, platform, subprocess
work, rounds, ghz, mhz, out, ring_cmd, mp_cmd, mp_build, jmh_cmd, probe_cmd, epsilon_cmd, epsilon = sys.argv[1:]
rounds = int(rounds); ghz = float(ghz)

def dpdk_ring(path):
    # legacy (8-byte pointer) lines: cycles for one enqueue + dequeue of the whole bulk
    res = {}
    for line in open(path, errors="replace"):
        m = re.match(r"legacy APIs: (SP/SC|MP/MC): (single|burst|bulk)(?: \(size: (\d+)\))?: ([\d.]+)", line.strip())
        if not m:
            continue
        sync, kind, size, cyc = m.groups()
        size = int(size or 1)
        key = ("SPSC" if sync == "SP/SC" else "MPMC", kind, size)
        if key not in res:          # the first block is the one-core test; later blocks are 2-core/empty
            res[key] = float(cyc) / size
    return res

def dpdk_mp(path):
    res = {}
    for line in open(path, errors="replace"):
        m = re.match(r"cache=(\d+).*mempool get\+put bulk32: ([\d.]+) cycles/obj", line)
        if m:
            res[("getput", int(m.group(1)))] = float(m.group(2))
        m = re.match(r"cache=(\d+).*alloc_bulk\+free_bulk 32: ([\d.]+) cycles/mbuf", line)
        if m:
            res[("allocfree", int(m.group(1)))] = float(m.group(2))
    return res

def jmh(path):
    res = {}
    for b in json.load(open(path)):
        name = b["benchmark"].rsplit(".", 1)[1]
        p = b.get("params", {})
        alloc = b.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        ns = b["primaryMetric"]["score"]
        if b["benchmark"].endswith("RingSingleBench.single"):
            n = 1; key = (p["sync"], "single", 1)
        elif b["benchmark"].endswith("RingBench." + name):
            n = int(p["batch"]); key = (p["sync"], name, n)
        else:
            n = 32; key = ("getput" if name == "getPutBulk" else "allocfree", int(p["cache"]))
        res[key] = (ns * ghz / n, alloc, ns)
    return res

def probe(path):
    res = {}
    if not os.path.exists(path):
        return res
    for line in open(path):
        m = re.match(r"(.+?)\s+([\d.]+) ns/elem", line)
        if m:
            res[m.group(1).strip()] = float(m.group(2)) * ghz
    return res

rounds_d = [(dpdk_ring(f"{work}/ring-{r}.txt"), dpdk_mp(f"{work}/mp-{r}.txt")) for r in range(1, rounds + 1)]
rounds_j = [jmh(f"{work}/jmh-{r}.json") for r in range(1, rounds + 1)]
rounds_p = [probe(f"{work}/probe-{r}.txt") for r in range(1, rounds + 1)]

def best(vals):
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None

rows = []
# ring_perf's "single" line times rte_ring_sp_enqueue/sc_dequeue (mp/mc), the single-object calls: jnic's
# Ring.enqueue(long)/dequeue(long) (RingSingleBench). jnic's bulk of 1 from an array has no DPDK line.
for sync, label in (("SPSC", "SP/SC"), ("MPMC", "MP/MC")):
    for kind in ("single", "bulk", "burst"):
        for n in ((1,) if kind == "single" else (1, 8, 32)):
            if kind == "burst" and n == 1:
                continue
            key = (sync, kind, n)
            j = best([rj.get(key, (None,))[0] for rj in rounds_j])
            a = best([rj.get(key, (None, None))[1] for rj in rounds_j])
            d = best([rd[0].get(key) for rd in rounds_d])
            pk = f"ring {sync} {kind} {n}"
            cpu = best([rp.get(pk) for rp in rounds_p])
            work = f"ring {label} single" if kind == "single" else f"ring {label} {kind} {n}"
            dpdk_line = f"ring_perf {label} single" if kind == "single" else ("none" if d is None else f"ring_perf {label} {kind} {n}")
            rows.append((f"{work}, one core", j, d, a, cpu, dpdk_line))
for cache in (256, 0):
    for key, label, plabel in ((("getput", cache), f"mempool get+put bulk 32, cache {cache}", f"mempool cache {cache} get+put bulk 32"),
                               (("allocfree", cache), f"mbuf alloc+free bulk 32, cache {cache}", f"mbuf cache {cache} alloc+free bulk 32")):
        j = best([rj.get(key, (None,))[0] for rj in rounds_j])
        a = best([rj.get(key, (None, None))[1] for rj in rounds_j])
        d = best([rd[1].get(key) for rd in rounds_d])
        cpu = best([rp.get(plabel) for rp in rounds_p])
        rows.append((label, j, d, a, cpu, "mpbench.c"))

def f(v, fmt="{:.2f}"):
    return "n/a" if v is None else fmt.format(v)

kernel = platform.release()
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
with open(out, "w") as o:
    o.write(f"Machine: {cpu}, {os.cpu_count()} vCPUs, kernel {kernel}. "
            f"Clock: {mhz} MHz from /proc/cpuinfo (the TSC; DPDK reports TSC cycles); jnic cycles = ns x {ghz:.3f}. "
            f"Best of {rounds} rounds per side; each round ran DPDK and jnic back to back.\n\n")
    o.write("Cycles per element: for rings, one enqueue plus one dequeue of the batch divided by the batch size "
            "(ring_perf_autotest prints cycles per enqueue+dequeue of the whole batch; divided here); for pools, "
            "one get+put (alloc+free) per object. Ratio = jnic / DPDK (below 1 = jnic faster).\n\n")
    o.write("| work | jnic cycles/elem (JMH) | DPDK cycles/elem | ratio | jnic B/op (-prof gc) | jnic cycles/elem (CPU time) | DPDK figure |\n")
    o.write("|---|---:|---:|---:|---:|---:|---|\n")
    for label, j, d, a, cpu_, src in rows:
        ratio = None if (j is None or d is None or d == 0) else j / d
        o.write(f"| {label} | {f(j)} | {f(d)} | {f(ratio)} | {f(a, '{:.3f}')} | {f(cpu_)} | {src} |\n")
    o.write("\nThe CPU-time column times the same loops by thread CPU time (io.jnic.bench.CpuTimeProbe, best of %s): "
            "unlike wall time it does not count time spent waiting for a CPU, so it is "
            "the steadier jnic figure; DPDK has no such column (its loops are timed with rdtsc).\n\n" % os.environ["PROBE_ROUNDS"])
    o.write("### Every round\n\n| round | work | jnic JMH ns/op | jnic cycles/elem | DPDK cycles/elem |\n|---|---|---:|---:|---:|\n")
    for r in range(rounds):
        for key, (c, a, ns) in sorted(rounds_j[r].items(), key=str):
            d = rounds_d[r][0].get(key) if len(key) == 3 else rounds_d[r][1].get(key)
            o.write(f"| {r + 1} | {' '.join(map(str, key))} | {ns:.2f} | {c:.2f} | {f(d)} |\n")
    o.write("\n### Variant: copy loop instead of MemorySegment.copy (CPU time, cycles/elem)\n\n")
    o.write("| work | MemorySegment.copy (default) | element loop |\n|---|---:|---:|\n")
    for sync in ("SPSC", "MPMC"):
        for n in (1, 8, 32):
            k = f"ring {sync} bulk {n}"
            lo = best([rp.get(f"ring(loop copy) {sync} bulk {n}") for rp in rounds_p])
            o.write(f"| {k} | {f(best([rp.get(k) for rp in rounds_p]))} | {f(lo)} |\n")
    o.write("\n### Zero garbage under Epsilon GC\n\n")
    o.write("Every loop of the table (rings, mempool, mbuf), with Epsilon (a GC that never frees) and a 48 MiB heap: "
            f"{epsilon}. One 16-byte object per call would have needed gigabytes.\n")
    o.write("\nScript: `bench/scripts/memory-vs-dpdk.sh " + str(rounds) + "`; CpuTimeProbe groups: 'ring SPSC' 'ring MPMC' 'cache 256' 'cache 0'.\n")
PY

bench_set jnic memory "$(bench_memory_kind "$hp_jnic") (BenchMemory: anonymous MAP_HUGETLB when free)"
bench_set DPDK memory "$(bench_memory_kind "$hp_dpdk") (EAL -m 512 / -m 256, --huge-unlink)"
bench_set jnic cores "JVM confined to CPU $CPU (taskset -c $CPU); JMH's measuring thread runs there"
bench_set DPDK cores "measuring thread: main lcore 0 on CPU $CPU (--lcores 0@$CPU; ring_perf's second lcore on CPU $OTHER_CPU)"
bench_set jnic "bulk sizes" "rings 1, 8, 32 (bulk and burst); pools 32"
bench_set DPDK "bulk sizes" "ring_perf 1, 8, 32 (bulk and burst); mpbench 32"
bench_set jnic "pool caches" "256 and 0 objects per lcore"; bench_set DPDK "pool caches" "256 and 0 (mpbench.c)"
bench_set jnic software "$(bench_jdk_version "$java")"; bench_set DPDK software "$(bench_dpdk_version)"
bench_set jnic "JVM flags" "--enable-native-access=ALL-UNNAMED; ergonomics: $(bench_jvm_ergonomics "$java")"
bench_set jnic measure "JMH $jmh_opts, best of $rounds rounds; CPU time: CpuTimeProbe, best of $probe_rounds"
bench_set DPDK measure "rdtsc cycles as printed by ring_perf_autotest and mpbench, best of $rounds rounds"
bench_cmd jnic "$jmh_cmd"; bench_cmd jnic "$probe_cmd"; bench_cmd jnic "$epsilon_cmd"
bench_cmd DPDK "$ring_cmd"; bench_cmd DPDK "$mpbench_build"; bench_cmd DPDK "$mp_cmd"

notes="$root/bench/scripts/memory-notes.md"
fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# Ring, mempool and mbuf: jnic vs DPDK (%s)\n\nWritten by bench/scripts/memory-vs-dpdk.sh, one section per run; where the cycles go: [memory-notes.md](../scripts/memory-notes.md).\n' "$day"
  printf '\n## Run at %s UTC\n\n' "$(date -u +%H:%M)"
  cat "$work/section.md"
  bench_settings_md
} >> "$out"
log "wrote $out"
