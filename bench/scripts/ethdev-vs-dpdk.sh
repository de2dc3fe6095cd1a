#!/usr/bin/env bash
# ethdev benchmarks (JMH, -prof gc) and DPDK's testpmd null io-forward in the same run; writes
# bench/results/ethdev-<date>.md. Usage: bench/scripts/ethdev-vs-dpdk.sh   (after ./jnic build)
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA="${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"
JAR=bench/target/benchmarks.jar
[ -f "$JAR" ] || { echo "no $JAR: run ./jnic build first" >&2; exit 1; }
date=$(date -u +%Y-%m-%d)
out=bench/results/ethdev-$date.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

jmh_args=(-prof gc -wi 3 -i 5 -w 1s -r 1s -f 1)
# JMH runs one instance per machine (/tmp/jmh.lock): wait up to 10 minutes for another one to finish
for attempt in $(seq 1 60); do
    "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$JAR" 'io.jnic.bench.ethdev.*' "${jmh_args[@]}" -rf csv \
        -rff "$tmp/jmh.csv" > "$tmp/jmh.txt" 2>&1 || true
    grep -q 'Unable to acquire the JMH lock' "$tmp/jmh.txt" || break
    sleep 10
done
[ -s "$tmp/jmh.csv" ] || { cat "$tmp/jmh.txt" >&2; echo "JMH produced no results" >&2; exit 1; }

dpdk_mpps=n/a
dpdk_cmd="dpdk-testpmd --lcores 0@0,1@1 --no-pci --no-huge -m 1024 --file-prefix jnicbench --vdev net_null0 -- --nb-cores=1 --forward-mode=io --port-topology=loop --stats-period 1 --total-num-mbufs 8192"
if command -v dpdk-testpmd > /dev/null; then
    # forwarding core on lcore 1; 8 s, the first two reports (start-up) dropped, the median of the rest
    timeout 8 $dpdk_cmd > "$tmp/testpmd.txt" 2>&1 || true
    dpdk_mpps=$(grep 'Rx-pps' "$tmp/testpmd.txt" | awk '{print $2}' | tail -n +3 | sort -n \
        | awk '{a[NR]=$1} END {if (NR) printf "%.1f", a[int((NR+1)/2)]/1e6; else print "n/a"}')
fi

ghz=$(awk -F: '/cpu MHz/ {printf "%.2f", $2/1000; exit}' /proc/cpuinfo)
# CSV (CRLF lines): "Benchmark",Mode,Threads,Samples,Score,Error,Unit[,params...]; $2 selects by the last parameter (lcore)
score() { awk -F, -v b="$1" -v p="$2" '{sub(/\r$/, "")} $1 == "\"" b "\"" && (p == "" || $NF == p) {print $5; exit}' "$tmp/jmh.csv"; }
alloc() { score "$1:gc.alloc.rate.norm" "$2"; }
null_ns=$(score io.jnic.bench.ethdev.NullForward.ioForward "")
ix_ns=$(score io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst 0)
ix_ns_any=$(score io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst -1)
# one section per run, appended: on a shared machine the spread between runs is part of the result
[ -f "$out" ] || printf '# ethdev benchmarks, %s\n\nWritten by bench/scripts/ethdev-vs-dpdk.sh, one section per run.\n' "$date" > "$out"
{
    echo
    echo "## Run at $(date -u +%H:%M) UTC"
    echo
    echo "Machine: $(nproc) vCPUs, $ghz GHz (cpu MHz of /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Shared with other jobs: figures are noisy; the jnic/DPDK ratio from the same run is the figure to read."
    echo
    echo "| work | jnic | per packet | allocation | DPDK, same run |"
    echo "|---|---|---|---|---|"
    printf "| null vdev io-forward, one core (rx 32 + tx 32) | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | %s Mpps (ratio %s) |\n" \
        "$(awk -v n="$null_ns" 'BEGIN{print 1000/n}')" "$null_ns" "$(awk -v n="$null_ns" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.NullForward.ioForward "")" "$dpdk_mpps" \
        "$(awk -v n="$null_ns" -v d="$dpdk_mpps" 'BEGIN{ if (d+0 > 0) printf "%.2f", (1000/n)/d; else print "n/a"}')"
    printf "| ixgbe rxBurst+txBurst, batch 32, pre-filled rings, mempool cache | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | ixy C ~94 cycles |\n" \
        "$(awk -v n="$ix_ns" 'BEGIN{print 1000/n}')" "$ix_ns" "$(awk -v n="$ix_ns" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst 0)"
    printf "| same, no mempool cache (LCORE_ANY) | %.1f Mpps | %.1f ns, %.0f cycles | %s B/op | |\n" \
        "$(awk -v n="$ix_ns_any" 'BEGIN{print 1000/n}')" "$ix_ns_any" "$(awk -v n="$ix_ns_any" -v g="$ghz" 'BEGIN{print n*g}')" \
        "$(alloc io.jnic.bench.ethdev.IxgbeBurst.rxTxBurst -1)"
    echo
    echo "Notes: the two jnic rows measure different things. The null row is the ethdev layer plus the mempool"
    echo "(net_null allocates on RX, frees on TX). The ixgbe row is the driver's own work per forwarded packet"
    echo "(RX descriptor read, mbuf header fill, refill from the pool, TX descriptor write, free in groups of 32) against"
    echo "rings the fixture re-arms, so no device cost is in it. testpmd pins its forwarding lcore to CPU 1 and runs"
    echo "after JMH, not beside it. On a shared machine one process may get less CPU than the other, so the ratio is"
    echo "only rough: ../shared/anchors quotes ~109 Mpps for testpmd on a quiet machine."
    echo
    echo "Commands:"
    echo
    echo '```'
    echo "$JAVA --enable-native-access=ALL-UNNAMED -jar $JAR 'io.jnic.bench.ethdev.*' ${jmh_args[*]}"
    echo "$dpdk_cmd"
    echo "bench/scripts/ethdev-vs-dpdk.sh   # both, and this file"
    echo '```'
    echo
    echo "JMH output:"
    echo
    echo '```'
    grep -E '^(Benchmark|IxgbeBurst|NullForward)' "$tmp/jmh.txt"
    echo '```'
} | tee -a "$out"
