#!/usr/bin/env bash
# Two simulated hosts, cabled like two machines: host A runs devsim (its own 82599 ports) and l2fwd-mp (primary
# and secondaries, file prefix hostA); host B runs devsim and pktgen (file prefix hostB). devsim's cable wires
# join A's port 0 to B's port 0 and A's port 1 to B's port 1. pktgen searches the no-drop rate (RFC 2544 NDR)
# of l2fwd-mp with 1 and 2 forwarding processes, and sweeps the offered rate; results (with the JSON of every
# trial and the plots) go to bench/results/two-host-<date>.md.
#   bench/scripts/two-host.sh                      (after ./jnic build)
#   TRIAL=2 PROCS="1 2" SWEEP=1%,2%,5%,10%,20%,50% PRECISION=2 bench/scripts/two-host.sh
# A smoke test: TRIAL=0.5 PROCS=1 SWEEP=1% PRECISION=20 bench/scripts/two-host.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
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
out=bench/results/two-host-$date.md
work=$(mktemp -d /tmp/jnic-2host.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
J=("$JAVA" --enable-native-access=ALL-UNNAMED -jar)

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
  json=bench/results/two-host-$date-$stamp-${n}p.json
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

fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# Two hosts: pktgen (host B) against l2fwd-mp (host A) over devsim cables\n'
  printf '\n## %s UTC\n\n' "$(date -u +%H:%M)"
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)."
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
  echo
  echo '```'
  cat "$cmds"
  echo '```'
} >> "$out"
echo "results: $out" >&2
