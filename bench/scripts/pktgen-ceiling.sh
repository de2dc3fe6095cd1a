#!/usr/bin/env bash
# pktgen's own ceiling on one core (-l 0, one worker thread):
#  1. generation: two net_null ports (TX counts and frees; RX hands back buffers without a probe, so the RX side
#     only parses and rejects): the Mpps pktgen builds and hands to the ports.
#  2. generation and metering: two simulated 82599 ports wired to each other (devsim in pktgen's JVM; the
#     simulator's device thread runs on the other core): every frame is built, sent, received and metered
#     (sequence window, HdrHistogram), so the figure is the lower of pktgen's and the simulator's ceilings.
#   bench/scripts/pktgen-ceiling.sh [seconds=10]        (after ./jnic build) -> bench/results/pktgen-<date>.md
#   smoke run: RESULTS_DIR=/tmp/r bench/scripts/pktgen-ceiling.sh 1      (RESULTS_DIR overrides bench/results)
# jnic only (no DPDK side): the settings section records memory, cores, burst, frame size and the commands.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. bench/scripts/lib/settings.sh
bench_start
secs=${1:-10}
. bin/find-jdk.sh; jnic_find_jdk
JAVA="$JAVA_HOME/bin/java"
[ -f apps/target/pktgen.jar ] || { echo "no apps/target/pktgen.jar: run ./jnic build first" >&2; exit 1; }
out=$(bench_results_dir "$root")/pktgen-$(date -u +%Y-%m-%d).md
work=$(mktemp -d /tmp/jnic-pgceil.XXXXXX)
trap 'rm -rf "$work"' EXIT
jvm_flags="--enable-native-access=ALL-UNNAMED"
pg() { # $1 = label, rest = pktgen arguments; prints the summary line
  local name=$1; shift
  bench_hp_watch_start "$work/hp-$name"
  "$JAVA" $jvm_flags -jar apps/target/pktgen.jar --file-prefix pgceil$$ -l 0 "$@" > "$work/$name.log" 2>&1 \
    || { cat "$work/$name.log" >&2; exit 1; }
  bench_hp_watch_stop "$work/hp-$name" > "$work/hp-$name.used"
  grep '^pktgen: summary' "$work/$name.log"
}
field() { echo "$1" | grep -o "$2=[0-9.]*" | cut -d= -f2; }
mpps() { awk -v n="$1" -v s="$secs" 'BEGIN {printf "%.3f", n / s / 1e6}'; }
pgcmd="$JAVA $jvm_flags -jar apps/target/pktgen.jar --file-prefix pgceil$$ -l 0"
bench_cmd jnic "$pgcmd --vdev net_null0 --vdev net_null1 -- --rate max --duration $secs -T 0 --size 64"
bench_cmd jnic "$pgcmd -- --rate max --duration $secs -T 0 --size 64   # simulated 82599 ports, paired"
null=$(pg null --vdev net_null0 --vdev net_null1 -- --rate max --duration "$secs" -T 0 --size 64)
tx_null=$(( $(field "$null" port0_tx) + $(field "$null" port1_tx) ))
sim=$(pg sim -- --rate max --duration "$secs" -T 0 --size 64)
bench_set jnic memory "net_null run: $(bench_memory_kind "$(cat "$work/hp-null.used")"); devsim run: $(bench_memory_kind "$(cat "$work/hp-sim.used")")"
bench_set jnic cores "pktgen's worker on lcore 0 (-l 0); devsim's device thread (second run) and the JVM's other threads not pinned"
bench_set jnic burst "32 (default)"
bench_set jnic "frame size" "64 B with FCS (--size 64), 16 flows (default)"
bench_set jnic software "$(bench_jdk_version "$JAVA")"
bench_set jnic "JVM flags" "$jvm_flags; ergonomics: $(bench_jvm_ergonomics "$JAVA")"
fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# pktgen ceiling (one worker thread on lcore 0)\n'
  printf '\n## %s UTC, %s s per run\n\n' "$(date -u +%H:%M)" "$secs"
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load at the start $BENCH_LOAD_START."
  echo
  echo "| run | frames sent | Mpps sent | frames metered | Mpps metered | p50 / p99 latency (us) |"
  echo "|---|---|---|---|---|---|"
  echo "| net_null x2 (generation only) | $tx_null | $(mpps "$tx_null") | - | - | - |"
  echo "| devsim ports paired 0<->1 (generate + meter) | $(field "$sim" sent) | $(mpps "$(field "$sim" sent)") | $(field "$sim" received) | $(mpps "$(field "$sim" received)") | $(field "$sim" p50_us) / $(field "$sim" p99_us) |"
  bench_settings_md
} >> "$out"
echo "results: $out" >&2
