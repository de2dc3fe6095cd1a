#!/usr/bin/env bash
# l2fwd-mp aggregate throughput with 1 and 2 forwarding processes (one per core, -l) on the primary's simulated
# 82599 ports (devsim, generator wires at full speed); appends to bench/results/l2fwd-mp-<date>.md.
# Usage: bench/scripts/l2fwd-mp-scaling.sh   (after ./jnic build; DURATION=seconds per run, default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA="${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"
JAR=apps/target/l2fwd-mp.jar
[ -f "$JAR" ] || { echo "no $JAR: run ./jnic build first" >&2; exit 1; }
D=${DURATION:-10}
PREFIX=l2mpbench$$
date=$(date -u +%Y-%m-%d)
out=bench/results/l2fwd-mp-$date.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpus=$(nproc)

# one run with $1 processes: the primary on lcore 0, secondary i on lcore i; prints the aggregate Mpps
run() {
    local n=$1 i
    local pcmd=("$JAVA" -jar "$JAR" --file-prefix "$PREFIX" -l 0 -- --num-procs "$n" --proc-id 0 --duration "$D" -T 0
        --stats-json "$tmp/p$n.json")
    echo "${pcmd[*]}" > "$tmp/cmd$n"
    "${pcmd[@]}" > "$tmp/p$n.log" 2>&1 &
    local ppid=$!
    for _ in $(seq 1 300); do grep -q '^port 1:' "$tmp/p$n.log" && break; sleep 0.1; done
    for i in $(seq 1 $((n - 1))); do
        local scmd=("$JAVA" -jar "$JAR" --proc-type secondary --file-prefix "$PREFIX" -l "$i" -- --num-procs "$n"
            --proc-id "$i")
        echo "${scmd[*]}" >> "$tmp/cmd$n"
        "${scmd[@]}" > "$tmp/s$n-$i.log" 2>&1 &
    done
    wait "$ppid"
    wait
    # forwarded packets over the forwarding time (start-up excluded, the final drain included)
    python3 - "$tmp/p$n.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("%.3f" % j["total"]["mpps"], " ".join("%d:%d" % (p["proc_id"], sum(x["tx"] for x in p["ports"])) for p in j["procs"]))
PY
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
r1=$(run 1)
r2=$(run 2)
m1=${r1%% *}
m2=${r2%% *}
ratio=$(python3 -c "print('%.2f' % ($m2 / $m1 if $m1 > 0 else 0))")
fresh=1; [ -f "$out" ] && fresh=0  # (the >> below creates the file before the block runs)
{
    [ "$fresh" = 0 ] || printf '# l2fwd-mp scaling (devsim ports)\n\nAggregate forwarded Mpps of all processes; one forwarding process per core (-l).\n'
    printf '\n## %s UTC, %s cpus, %s s per run, load average before: %s\n\n' "$(date -u +%H:%M)" "$cpus" "$D" "$load"
    printf '| processes | aggregate Mpps | packets per proc |\n|---|---|---|\n'
    printf '| 1 | %s | %s |\n| 2 | %s | %s |\n\n' "$m1" "${r1#* }" "$m2" "${r2#* }"
    printf 'Scaling ratio (2 processes / 1): **%s**\n\nCommands:\n\n```\n' "$ratio"
    cat "$tmp/cmd1" "$tmp/cmd2"
    printf '```\n\nThe simulated ports run in the primary JVM (devsim device loop and generators: one more busy thread),\n'
    printf 'so on a machine with %s cpus the forwarding processes share cores with the "hardware"; the ratio\n' "$cpus"
    printf 'shows how the group scales on this machine, not what an 82599 would allow.\n'
} >> "$out"
echo "1 process: $m1 Mpps, 2 processes: $m2 Mpps, ratio $ratio -> $out"
