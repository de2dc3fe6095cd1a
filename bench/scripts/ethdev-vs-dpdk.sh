#!/usr/bin/env bash
# ethdev benchmarks (JMH, -prof gc) and DPDK's testpmd null io-forward in the same run; appends one section per
# run to bench/results/ethdev-<date>.md.
#   bench/scripts/ethdev-vs-dpdk.sh [testpmd seconds=8]      (after ./jnic build; hugepages reserved)
#   smoke run: RESULTS_DIR=/tmp/r JMH_OPTS="-wi 1 -i 1 -w 1s -r 1s -f 1" bench/scripts/ethdev-vs-dpdk.sh 5
# Environment: RESULTS_DIR (default bench/results), JMH_OPTS (replaces the default iterations), CPU (the
# forwarding core, default 1), MAIN_CPU (testpmd's main lcore, default 0).
#
# Both sides alike: 2 MiB hugepages (refused when too few are free), two net_null ports of 64-byte frames
# forwarded to each other (io mode, paired), bursts of 32, rings of 1024, a pool of 4095 mbufs with a per-lcore
# cache of 256, the forwarding thread on CPU $CPU (testpmd: lcore 1 pinned there; jnic: the JVM confined to it
# with taskset, as JMH cannot pin its thread; the JVM's compiler threads share that CPU during warm-up).
# testpmd runs after JMH, not beside it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. bench/scripts/lib/settings.sh
bench_start
secs=${1:-8}
CPU=${CPU:-1}
MAIN_CPU=${MAIN_CPU:-0}
if [ -z "${JAVA:-}" ]; then . bin/find-jdk.sh; jnic_find_jdk >/dev/null; JAVA="$JAVA_HOME/bin/java"; fi
JAR=bench/target/benchmarks.jar
[ -f "$JAR" ] || { echo "no $JAR: run ./jnic build first" >&2; exit 1; }
command -v dpdk-testpmd > /dev/null || { echo "dpdk-testpmd missing: apt-get install -y dpdk dpdk-dev" >&2; exit 2; }
# testpmd -m 256 (128 pages) and the benchmark's memory group (~42 MB), one after the other
bench_require_hugepages 160
date=$(date -u +%Y-%m-%d)
out=$(bench_results_dir "$root")/ethdev-$date.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

read -r -a jmh_args <<< "${JMH_OPTS:--wi 3 -i 5 -w 1s -r 1s -f 1}"
jmh_args=(-prof gc "${jmh_args[@]}")
jvm_flags="--enable-native-access=ALL-UNNAMED"
jmh_cmd=(taskset -c "$CPU" "$JAVA" "$jvm_flags" -jar "$JAR" 'io.jnic.bench.ethdev.*' "${jmh_args[@]}")
# JMH runs one instance per machine (/tmp/jmh.lock): wait up to 10 minutes for another one to finish
bench_hp_watch_start "$tmp/hp-jnic"
for attempt in $(seq 1 60); do
    "${jmh_cmd[@]}" -rf csv -rff "$tmp/jmh.csv" > "$tmp/jmh.txt" 2>&1 || true
    grep -q 'Unable to acquire the JMH lock' "$tmp/jmh.txt" || break
    sleep 10
done
hp_jnic=$(bench_hp_watch_stop "$tmp/hp-jnic")
[ -s "$tmp/jmh.csv" ] || { cat "$tmp/jmh.txt" >&2; echo "JMH produced no results" >&2; exit 1; }

# zero garbage, the long way: every benchmark again in a JVM whose collector never frees (Epsilon) with a heap far too
# small for one object per packet; a run that allocated per packet dies with OutOfMemoryError
eps_secs=${EPSILON_SECONDS:-20}
eps_flags="-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xms128m -Xmx128m -Xlog:gc*:stderr"
eps_cmd=(taskset -c "$CPU" "$JAVA" "$jvm_flags" -jar "$JAR" 'io.jnic.bench.ethdev.*' -f 1 -wi 1 -w 5s -i 1 -r "${eps_secs}s"
    -jvmArgsAppend "$eps_flags")
"${eps_cmd[@]}" -rf csv -rff "$tmp/eps.csv" > "$tmp/eps.txt" 2>&1 || true
eps_runs=$(awk -F, 'NR > 1 && $5 != "" {n++} END {print n+0}' "$tmp/eps.csv" 2>/dev/null || echo 0)
eps_ooms=$(grep -c 'OutOfMemoryError' "$tmp/eps.txt" || true)
eps_heap=$(grep -o 'Heap: [^,]*, [^,]*, [0-9.]*[KMG]* ([0-9.]*%) used' "$tmp/eps.txt" | sort -t'(' -k3 -n | tail -1 || true)

# the same work as NullForward: two null ports of 64-byte frames, paired, one forwarding core, burst 32
dpdk_cmd=(dpdk-testpmd --lcores "0@$MAIN_CPU,1@$CPU" --no-pci -m 256 --huge-unlink --file-prefix "jnicbench$$"
    --vdev net_null0,size=64,copy=0 --vdev net_null1,size=64,copy=0 -- --nb-cores=1 --forward-mode=io
    --port-topology=paired --burst=32 --rxd=1024 --txd=1024 --total-num-mbufs=4095 --mbcache=256 --stats-period 1)
bench_hp_watch_start "$tmp/hp-dpdk"
timeout "$secs" "${dpdk_cmd[@]}" > "$tmp/testpmd.txt" 2>&1 || true
hp_dpdk=$(bench_hp_watch_stop "$tmp/hp-dpdk")
rm -rf "/var/run/dpdk/jnicbench$$" 2>/dev/null || true
# per period, the Rx-pps of both ports summed; the first two periods (start-up) dropped, the median of the rest
dpdk_mpps=$(grep -E '^ +Rx-pps:' "$tmp/testpmd.txt" | awk '{s += $2} NR % 2 == 0 {print s; s = 0}' | tail -n +3 | sort -n \
    | awk '{a[NR]=$1} END {if (NR) printf "%.1f", a[int((NR+1)/2)]/1e6; else print "n/a"}')
[ "$dpdk_mpps" != n/a ] || { echo "testpmd printed no rates; its output:" >&2; tail -20 "$tmp/testpmd.txt" >&2; }

ghz=$(awk -F: '/cpu MHz/ {printf "%.2f", $2/1000; exit}' /proc/cpuinfo)
# CSV (CRLF lines): "Benchmark",Mode,Threads,Samples,Score,Error,Unit[,params...]; $2 selects by the last parameter (lcore)
# score BENCHMARK ["PARAM=VALUE ..."]: the score of the row whose PARAM columns (found by name in the header) hold
# the VALUEs
score() { awk -F, -v b="$1" -v pv="${2:-}" '{sub(/\r$/, "")}
    NR == 1 {n = split(pv, pairs, " "); for (k = 1; k <= n; k++) {split(pairs[k], kv, "="); want[k] = kv[2]
        for (i = 1; i <= NF; i++) if ($i == "\"Param: " kv[1] "\"") col[k] = i}; next}
    $1 == "\"" b "\"" {ok = 1; for (k = 1; k <= n; k++) if (!col[k] || $col[k] != want[k]) ok = 0; if (ok) {print $5; exit}}' \
    "$tmp/jmh.csv"; }
alloc() { score "$1:gc.alloc.rate.norm" "${2:-}"; }
null_ns=$(score io.jnic.bench.ethdev.NullForward.ioForward)
ix_ns=$(score io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=0 offload=none")
ix_ns_any=$(score io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=-1 offload=none")
ix_ns_ck=$(score io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=0 offload=cksum")
qp_pri=$(score io.jnic.bench.ethdev.QueuePairCost.rxTxBurst process=primary)
qp_sec=$(score io.jnic.bench.ethdev.QueuePairCost.rxTxBurst process=secondary)

bench_set jnic "forwarding work" "NullForward.ioForward: net_null0 and net_null1, each rxBurst forwarded to the other (paired)"
bench_set DPDK "forwarding work" "testpmd io mode, net_null0 and net_null1, --port-topology=paired"
bench_set jnic memory "$(bench_memory_kind "$hp_jnic")"
bench_set DPDK memory "$(bench_memory_kind "$hp_dpdk") (-m 256)"
bench_set jnic cores "JVM confined to CPU $CPU (taskset -c $CPU); JMH's thread forwards there"
bench_set DPDK cores "forwarding lcore 1 on CPU $CPU, main lcore 0 on CPU $MAIN_CPU (--lcores 0@$MAIN_CPU,1@$CPU)"
bench_set jnic burst 32; bench_set DPDK burst 32
bench_set jnic "frame size" "64 B (net_null default)"; bench_set DPDK "frame size" "64 B (size=64)"
bench_set jnic "rings, pool" "1024 RX / 1024 TX descriptors, 4095 mbufs, per-lcore cache 256"
bench_set DPDK "rings, pool" "--rxd=1024 --txd=1024, --total-num-mbufs=4095, --mbcache=256"
bench_set jnic software "$(bench_jdk_version "$JAVA")"; bench_set DPDK software "$(bench_dpdk_version)"
bench_set jnic "JVM flags" "$jvm_flags (forked by JMH with the same); ergonomics: $(bench_jvm_ergonomics "$JAVA")"
bench_set jnic measure "JMH ${jmh_args[*]}: ns per packet; Mpps = 1000 / ns"
bench_set DPDK measure "$secs s, Rx-pps of both ports summed per second, first 2 s dropped, median"
bench_cmd jnic "$(bench_quote "${jmh_cmd[@]}")"
bench_cmd jnic "$(bench_quote "${eps_cmd[@]}")"
bench_cmd DPDK "$(bench_quote timeout "$secs" "${dpdk_cmd[@]}")"

# one section per run, appended: on a shared machine the spread between runs is part of the result
[ -f "$out" ] || printf '# ethdev benchmarks, %s\n\nWritten by bench/scripts/ethdev-vs-dpdk.sh, one section per run.\n' "$date" > "$out"
{
    echo
    echo "## Run at $(date -u +%H:%M) UTC"
    echo
    echo "Machine: $(nproc) vCPUs, $ghz GHz (cpu MHz of /proc/cpuinfo), load average $BENCH_LOAD_START."
    echo "The jnic/DPDK ratio from the same run is the figure to read; figures from a shared machine are not valid."
    echo
    echo "| work | jnic | per packet | allocation | DPDK, same run |"
    echo "|---|---|---|---|---|"
    printf "| null vdev io-forward, one core (rx 32 + tx 32) | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | %s Mpps (ratio %s) |\n" \
        "$(awk -v n="$null_ns" 'BEGIN{print 1000/n}')" "$null_ns" "$(awk -v n="$null_ns" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.NullForward.ioForward)" "$dpdk_mpps" \
        "$(awk -v n="$null_ns" -v d="$dpdk_mpps" 'BEGIN{ if (d+0 > 0) printf "%.2f", (1000/n)/d; else print "n/a"}')"
    printf "| ixgbe rxBurst+txBurst, batch 32, pre-filled rings, mempool cache | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | ixy C ~94 cycles |\n" \
        "$(awk -v n="$ix_ns" 'BEGIN{print 1000/n}')" "$ix_ns" "$(awk -v n="$ix_ns" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=0 offload=none")"
    printf "| same, no mempool cache (LCORE_ANY) | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | |\n" \
        "$(awk -v n="$ix_ns_any" 'BEGIN{print 1000/n}')" "$ix_ns_any" "$(awk -v n="$ix_ns_any" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=-1 offload=none")"
    printf "| same as the first ixgbe row with checksum offload: RX flags decoded, TX IPv4+TCP checksum contexts (the loop sets the mbuf requests) | %.1f Mpps | %.1f ns, %.0f cycles (%s x without) | %s B/op | |\n" \
        "$(awk -v n="$ix_ns_ck" 'BEGIN{print 1000/n}')" "$ix_ns_ck" "$(awk -v n="$ix_ns_ck" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(awk -v a="$ix_ns_ck" -v b="$ix_ns" 'BEGIN{ if (b+0 > 0) printf "%.2f", a/b; else print "n/a"}')" \
        "$(alloc io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst "lcore=0 offload=cksum")"
    printf "| ixgbe queue pair attached by another process (secondary) vs the port's own (primary), same fixture | secondary / primary %s | %.1f ns vs %.1f ns, %.0f vs %.0f cycles | %s / %s B/op | |\n" \
        "$(awk -v a="$qp_sec" -v b="$qp_pri" 'BEGIN{ if (b+0 > 0) printf "%.2f", a/b; else print "n/a"}')" \
        "$qp_sec" "$qp_pri" "$(awk -v n="$qp_sec" -v g="$ghz" 'BEGIN{print n*g}')" "$(awk -v n="$qp_pri" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.QueuePairCost.rxTxBurst process=secondary)" "$(alloc io.jnic.bench.ethdev.QueuePairCost.rxTxBurst process=primary)"
    echo
    echo "Notes: the two jnic rows measure different things. The null row is the ethdev layer plus the mempool"
    echo "(net_null allocates on RX, frees on TX). The ixgbe row is the driver's own work per forwarded packet"
    echo "(RX descriptor read, mbuf header fill, refill from the pool, TX descriptor write, free in groups of 32) against"
    echo "rings the fixture re-arms, so no device cost is in it; DPDK has no matching figure in this run."
    echo
    echo "Zero garbage under Epsilon GC (a collector that never frees, 128 MiB heap), each benchmark for ${eps_secs} s after a 5 s"
    echo "warm-up: $eps_runs benchmark runs completed, $eps_ooms OutOfMemoryError(s); largest heap use at exit: ${eps_heap:-not printed}."
    echo "At tens of millions of packets per run, one 16-byte object per packet would have needed gigabytes."
    echo "The secondary row runs the same fixture through queue 0 of a port another JVM created and keeps (QueuePairCost):"
    echo "this JVM attached the file-backed group, the mempool and the queue as an l2fwd-mp secondary does."
    bench_settings_md
    echo
    echo "JMH output:"
    echo
    echo '```'
    grep -E '^(Benchmark|IxgbeBurst|NullForward|QueuePairCost)' "$tmp/jmh.txt"
    echo '```'
} | tee -a "$out"
