#!/usr/bin/env bash
# Two simulated hosts, cabled like two machines: host A runs devsim (its own 82599 ports) and l2fwd-mp (primary
# and secondaries, file prefix hostA); host B runs devsim and pktgen (file prefix hostB). devsim's cable wires
# join A's port 0 to B's port 0 and A's port 1 to B's port 1. pktgen searches the no-drop rate (RFC 2544 NDR)
# of l2fwd-mp with 1 and 2 forwarding processes, and sweeps the offered rate; results (with the JSON of every
# trial and the plots) go to bench/results/two-host-<date>.md.
#   bench/scripts/two-host.sh                      (after ./jnic build)
#   TRIAL=2 PROCS="1 2" SWEEP=1%,2%,5%,10%,20%,50% PRECISION=2 bench/scripts/two-host.sh
# A smoke test: RESULTS_DIR=/tmp/r TRIAL=0.5 PROCS=1 SWEEP=1% PRECISION=20 bench/scripts/two-host.sh
# RESULTS_DIR overrides bench/results (the results file, the JSON and the plots go there).
# jnic only (no DPDK side): the settings section records memory, cores, burst, frame size and the commands.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. bench/scripts/lib/settings.sh
bench_start
. bin/find-jdk.sh; jnic_find_jdk
JAVA="$JAVA_HOME/bin/java"
for j in devsim/target/devsim.jar apps/target/l2fwd-mp.jar apps/target/pktgen.jar; do
  [ -f "$j" ] || { echo "no $j: run ./jnic build first" >&2; exit 1; }
done
TRIAL=${TRIAL:-2}
PROCS=${PROCS:-"1 2"}
SWEEP=${SWEEP:-1%,2%,5%,10%,20%}
PRECISION=${PRECISION:-2}
date=$(date -u +%Y-%m-%d)
stamp=$(date -u +%H%M)
results=$(bench_results_dir "$root")
out=$results/two-host-$date.md
work=$(mktemp -d /tmp/jnic-2host.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
jvm_flags="--enable-native-access=ALL-UNNAMED"
J=("$JAVA" $jvm_flags -jar)
bench_hp_watch_start "$work/hp"

# the hosts' hardware: each devsim waits (up to 30 s) for the other end of both cables
mkdir -p "$work/a" "$work/b"
"${J[@]}" devsim/target/devsim.jar --ports 2 --wire "cable:$work/cable0,cable:$work/cable1" --socket-dir "$work/a" \
  --mac 02:aa:00:00:00:00 --cable-wait 30 > "$work/devsim-a.log" 2>&1 &
pids+=($!)
"${J[@]}" devsim/target/devsim.jar --ports 2 --wire "cable:$work/cable0,cable:$work/cable1" --socket-dir "$work/b" \
  --mac 02:bb:00:00:00:00 --cable-wait 30 > "$work/devsim-b.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -S "$work/a/devsim.ctl" ] && [ -S "$work/b/devsim.ctl" ] && break; sleep 0.1; done
[ -S "$work/a/devsim.ctl" ] && [ -S "$work/b/devsim.ctl" ] || { cat "$work"/devsim-*.log >&2; exit 1; }

declare -A ndr p50 p99
cmds=$work/commands
: > "$cmds"
for n in $PROCS; do
  # host A: l2fwd-mp, n processes (one queue pair each, RSS spreads pktgen's flows)
  acmd=("${J[@]}" apps/target/l2fwd-mp.jar --file-prefix hostA$$ -- --num-procs "$n" --proc-id 0 -T 0
    --vfio-user "$work/a/port0.sock" --vfio-user "$work/a/port1.sock" --stats-json "$work/l2fwd-$n.json")
  echo "host A: ${acmd[*]}" >> "$cmds"
  "${acmd[@]}" > "$work/l2fwd-$n.log" 2>&1 &
  apid=$!
  pids+=($apid)
  for _ in $(seq 300); do grep -q '^port 1:' "$work/l2fwd-$n.log" && break; sleep 0.1; done
  for i in $(seq 1 $((n - 1))); do
    scmd=("${J[@]}" apps/target/l2fwd-mp.jar --proc-type secondary --file-prefix hostA$$ -- --num-procs "$n" --proc-id "$i")
    echo "host A: ${scmd[*]}" >> "$cmds"
    "${scmd[@]}" > "$work/l2fwd-$n-s$i.log" 2>&1 &
    pids+=($!)
  done
  sleep 2
  # host B: pktgen on both ports, as many queues as A has processes
  json=$results/two-host-$date-$stamp-${n}p.json
  bcmd=("${J[@]}" apps/target/pktgen.jar --file-prefix hostB$$ -- --vfio-user "$work/b/port0.sock"
    --vfio-user "$work/b/port1.sock" --flows 64 --size 64 --sweep "$SWEEP" --search ndr --trial "$TRIAL"
    --precision "$PRECISION" --json "$json")
  echo "host B: ${bcmd[*]}" >> "$cmds"
  "${bcmd[@]}" > "$work/pktgen-$n.log" 2>&1 || { cat "$work/pktgen-$n.log" >&2; exit 1; }
  grep -E '^pktgen: (trial|NDR)' "$work/pktgen-$n.log" >&2 || true
  s=$(grep '^pktgen: summary' "$work/pktgen-$n.log")
  ndr[$n]=$(echo "$s" | grep -o 'ndr_pps=[0-9.]*' | cut -d= -f2)
  p50[$n]=$(echo "$s" | grep -o 'ndr_p50_us=[0-9.]*' | cut -d= -f2 || echo -)
  p99[$n]=$(echo "$s" | grep -o 'ndr_p99_us=[0-9.]*' | cut -d= -f2 || echo -)
  "${J[@]}" apps/target/pktgen.jar plot "$json" --out "${json%.json}" > /dev/null
  kill -TERM "$apid"; wait "$apid" || true  # SIGTERM: a script's background job ignores SIGINT
  sleep 1
done

hp=$(bench_hp_watch_stop "$work/hp")
bench_set "host A (l2fwd-mp)" memory "$(bench_memory_kind "$hp"), all processes of both hosts together"
bench_set "host A (l2fwd-mp)" cores "not pinned: the scheduler places every process of both hosts on $(nproc) CPUs"
bench_set "host A (l2fwd-mp)" burst "32 (default)"
bench_set "host A (l2fwd-mp)" "frame size" "pktgen's 64 B"
bench_set "host A (l2fwd-mp)" software "$(bench_jdk_version "$JAVA")"
bench_set "host A (l2fwd-mp)" "JVM flags" "$jvm_flags; ergonomics: $(bench_jvm_ergonomics "$JAVA")"
bench_set "host B (pktgen)" memory "(see host A)"
bench_set "host B (pktgen)" cores "not pinned"
bench_set "host B (pktgen)" burst "32 (default)"
bench_set "host B (pktgen)" "frame size" "64 B with FCS (--size 64), 64 flows"
bench_set "host B (pktgen)" software "(same JDK)"
bench_set "host B (pktgen)" "JVM flags" "$jvm_flags"
bench_cmd "host A (l2fwd-mp)" "java -jar devsim/target/devsim.jar --ports 2 --wire cable:CABLE0,cable:CABLE1 --socket-dir A --mac 02:aa:00:00:00:00 --cable-wait 30"
bench_cmd "host B (pktgen)" "java -jar devsim/target/devsim.jar --ports 2 --wire cable:CABLE0,cable:CABLE1 --socket-dir B --mac 02:bb:00:00:00:00 --cable-wait 30"
while read -r line; do
  case $line in "host A: "*) bench_cmd "host A (l2fwd-mp)" "${line#host A: }" ;; "host B: "*) bench_cmd "host B (pktgen)" "${line#host B: }" ;; esac
done < "$cmds"
fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# Two hosts: pktgen (host B) against l2fwd-mp (host A) over devsim cables\n'
  printf '\n## %s UTC\n\n' "$(date -u +%H:%M)"
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load at the start $BENCH_LOAD_START."
  echo "JDK $("$JAVA" -version 2>&1 | head -1). Trials of $TRIAL s, 64-byte frames, 64 flows, search precision $PRECISION %."
  echo "Both hosts' devsim, l2fwd-mp and pktgen share this machine's CPUs: the figures are the simulation's, not an 82599's."
  echo
  echo "| l2fwd-mp processes | NDR (Mpps, both directions) | latency p50 at NDR (us) | latency p99 at NDR (us) | JSON |"
  echo "|---|---|---|---|---|"
  for n in $PROCS; do
    printf '| %s | %s | %s | %s | two-host-%s-%s-%sp.json |\n' "$n" \
      "$(awk -v v="${ndr[$n]:-0}" 'BEGIN {printf "%.3f", v / 1e6}')" "${p50[$n]:--}" "${p99[$n]:--}" "$date" "$stamp" "$n"
  done
  echo
  echo "Plots: two-host-$date-$stamp-<n>p-throughput.svg and -latency.svg beside the JSON (pktgen plot)."
  bench_settings_md
} >> "$out"
echo "results: $out" >&2
