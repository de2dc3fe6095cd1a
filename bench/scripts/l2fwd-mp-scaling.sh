#!/usr/bin/env bash
# l2fwd-mp aggregate throughput with 1 and 2 forwarding processes (one per core, -l) on the primary's simulated
# 82599 ports (devsim, generator wires at full speed); appends to bench/results/l2fwd-mp-<date>.md.
# Usage: bench/scripts/l2fwd-mp-scaling.sh   (after ./jnic build; DURATION=seconds per run, default 10)
#   smoke run: RESULTS_DIR=/tmp/r DURATION=2 bench/scripts/l2fwd-mp-scaling.sh   (RESULTS_DIR overrides bench/results)
# jnic only (no DPDK side): the settings section records memory, cores, burst, frame size and the commands.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. bench/scripts/lib/settings.sh
bench_start
if [ -z "${JAVA:-}" ]; then . bin/find-jdk.sh; jnic_find_jdk >/dev/null; JAVA="$JAVA_HOME/bin/java"; fi
JAR=apps/target/l2fwd-mp.jar
[ -f "$JAR" ] || { echo "no $JAR: run ./jnic build first" >&2; exit 1; }
D=${DURATION:-10}
PREFIX=l2mpbench$$
date=$(date -u +%Y-%m-%d)
out=$(bench_results_dir "$root")/l2fwd-mp-$date.md
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

load=$BENCH_LOAD_START
bench_hp_watch_start "$tmp/hp1"
r1=$(run 1)
hp1=$(bench_hp_watch_stop "$tmp/hp1")
bench_hp_watch_start "$tmp/hp2"
r2=$(run 2)
hp2=$(bench_hp_watch_stop "$tmp/hp2")
bench_set jnic memory "1 process: $(bench_memory_kind "$hp1"); 2 processes: $(bench_memory_kind "$hp2")"
bench_set jnic cores "primary's forwarding thread on CPU 0 (-l 0), secondary i on CPU i (-l i); devsim's threads in the primary and the JVMs' other threads not pinned"
bench_set jnic burst "32 (default)"
bench_set jnic "frame size" "64 B with FCS (the simulated ports' generator wires, devsim's default)"
bench_set jnic software "$(bench_jdk_version "$JAVA")"
bench_set jnic "JVM flags" "none; ergonomics: $(bench_jvm_ergonomics "$JAVA")"
while read -r line; do bench_cmd jnic "$line"; done < <(cat "$tmp/cmd1" "$tmp/cmd2")
m1=${r1%% *}
m2=${r2%% *}
ratio=$(python3 -c "print('%.2f' % ($m2 / $m1 if $m1 > 0 else 0))")
fresh=1; [ -f "$out" ] && fresh=0  # (the >> below creates the file before the block runs)
{
    [ "$fresh" = 0 ] || printf '# l2fwd-mp scaling (devsim ports)\n\nAggregate forwarded Mpps of all processes; one forwarding process per core (-l).\n'
    printf '\n## %s UTC, %s cpus, %s s per run, load average before: %s\n\n' "$(date -u +%H:%M)" "$cpus" "$D" "$load"
    printf '| processes | aggregate Mpps | packets per proc |\n|---|---|---|\n'
    printf '| 1 | %s | %s |\n| 2 | %s | %s |\n\n' "$m1" "${r1#* }" "$m2" "${r2#* }"
    printf 'Scaling ratio (2 processes / 1): **%s**\n\nThe simulated ports run in the primary JVM (devsim device loop and generators: one more busy thread),\n' "$ratio"
    printf 'so on a machine with %s cpus the forwarding processes share cores with the "hardware"; the ratio\n' "$cpus"
    printf 'shows how the group scales on this machine, not what an 82599 would allow.\n'
    bench_settings_md
} >> "$out"
echo "1 process: $m1 Mpps, 2 processes: $m2 Mpps, ratio $ratio -> $out"
