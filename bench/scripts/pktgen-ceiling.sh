#!/usr/bin/env bash
# pktgen's own ceiling on one core (-l 0, one worker thread):
#  1. generation: two net_null ports (TX counts and frees; RX hands back buffers without a probe, so the RX side
#     only parses and rejects): the Mpps pktgen builds and hands to the ports.
#  2. generation and metering: two simulated 82599 ports wired to each other (devsim in pktgen's JVM; the
#     simulator's device thread runs on the other core): every frame is built, sent, received and metered
#     (sequence window, HdrHistogram), so the figure is the lower of pktgen's and the simulator's ceilings.
#   bench/scripts/pktgen-ceiling.sh [seconds=10]        (after ./jnic build) -> bench/results/pktgen-<date>.md
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
secs=${1:-10}
. bin/find-jdk.sh; jnic_find_jdk
JAVA="$JAVA_HOME/bin/java"
[ -f apps/target/pktgen.jar ] || { echo "no apps/target/pktgen.jar: run ./jnic build first" >&2; exit 1; }
out=bench/results/pktgen-$(date -u +%Y-%m-%d).md
work=$(mktemp -d /tmp/jnic-pgceil.XXXXXX)
trap 'rm -rf "$work"' EXIT
pg() { # $1 = label, rest = pktgen arguments; prints the summary line
  local name=$1; shift
  "$JAVA" --enable-native-access=ALL-UNNAMED -jar apps/target/pktgen.jar --file-prefix pgceil$$ -l 0 "$@" > "$work/$name.log" 2>&1 \
    || { cat "$work/$name.log" >&2; exit 1; }
  grep '^pktgen: summary' "$work/$name.log"
}
field() { echo "$1" | grep -o "$2=[0-9.]*" | cut -d= -f2; }
mpps() { awk -v n="$1" -v s="$secs" 'BEGIN {printf "%.3f", n / s / 1e6}'; }
null=$(pg null --vdev net_null0 --vdev net_null1 -- --rate max --duration "$secs" -T 0)
tx_null=$(( $(field "$null" port0_tx) + $(field "$null" port1_tx) ))
sim=$(pg sim -- --rate max --duration "$secs" -T 0)
fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# pktgen ceiling (one worker thread on lcore 0)\n'
  printf '\n## %s UTC, %s s per run\n\n' "$(date -u +%H:%M)" "$secs"
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| run | frames sent | Mpps sent | frames metered | Mpps metered | p50 / p99 latency (us) |"
  echo "|---|---|---|---|---|---|"
  echo "| net_null x2 (generation only) | $tx_null | $(mpps "$tx_null") | - | - | - |"
  echo "| devsim ports paired 0<->1 (generate + meter) | $(field "$sim" sent) | $(mpps "$(field "$sim" sent)") | $(field "$sim" received) | $(mpps "$(field "$sim" received)") | $(field "$sim" p50_us) / $(field "$sim" p99_us) |"
} >> "$out"
echo "results: $out" >&2
