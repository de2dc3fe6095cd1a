#!/usr/bin/env bash
# l2fwd-fork recovery time: the master on simulated ports with 2 floating workers; a worker is killed with
# SIGKILL every few seconds (KILLS times, alternating slots), and the master's own measure -- from the death
# it noticed to the replacement forwarding -- is read from its --stats-json. Run once with a spare (the
# default: the replacement is an attached JVM) and once without (--spares 0: a new JVM per recovery), and once
# with --reset port (the dependent worker is stopped too, the ports restarted). Appends to
# bench/results/l2fwd-fork-<date>.md.
# Usage: bench/scripts/l2fwd-fork-recovery.sh   (after ./jnic build; KILLS=n per mode, default 4)
#   smoke run: RESULTS_DIR=/tmp/r KILLS=1 bench/scripts/l2fwd-fork-recovery.sh   (RESULTS_DIR overrides bench/results)
# jnic only (no DPDK side): the settings section records memory, cores, burst, frame size and the commands.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. bench/scripts/lib/settings.sh
bench_start
. bin/find-jdk.sh; jnic_find_jdk >/dev/null
JAVA="$JAVA_HOME/bin/java"
JAR=apps/target/l2fwd-fork.jar
[ -f "$JAR" ] || { echo "no $JAR: run ./jnic build first" >&2; exit 1; }
KILLS=${KILLS:-4}
GAP=6 # seconds between kills: recovery, then steady traffic again
out=$(bench_results_dir "$root")/l2fwd-fork-$(date -u +%Y-%m-%d).md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# $1 = label, rest = extra master options; prints "label|recovery ms list|median|min|max|mbufs returned"
run() {
    local label=$1; shift
    local json=$tmp/$label.json dur=$(( (KILLS + 1) * GAP + 4 ))
    "$JAVA" -jar "$JAR" --file-prefix frk$$ -- --workers 2 --duration "$dur" -T 0 --max-restarts 100 \
        --stats-json "$json" "$@" > "$tmp/$label.log" 2>&1 &
    local master=$!
    sleep "$GAP"
    for k in $(seq 1 "$KILLS"); do
        local slot=$(( k % 2 ))
        # the worker of a slot owns queue pair SLOT of port 0 (a spare that took over a slot included)
        local pid="" t0=$SECONDS
        # on a loaded machine the workers may not own their queues yet: ask again, within the gap
        while [ $((SECONDS - t0)) -lt "$GAP" ]; do
            pid=$("$JAVA" -jar apps/target/proc-info.jar --file-prefix frk$$ -- --show-queues --json 2>/dev/null \
                | python3 -c "import json,sys; j=json.load(sys.stdin); print(next((q['owner_pid'] for q in j['queues'] if q['port'] == 0 and q['queue'] == $slot and q['owner_pid']), ''))" || true)
            [ -n "$pid" ] && [ "$pid" != 0 ] && break
            sleep 0.5
        done
        if [ -n "$pid" ] && [ "$pid" != 0 ]; then kill -9 "$pid"; else echo "$label: kill $k: no owner of port 0 queue $slot within $GAP s" >&2; fi
        sleep "$GAP"
    done
    wait "$master" || true
    python3 - "$json" "$label" <<'PY'
import json, statistics, sys
j = json.load(open(sys.argv[1]))
r = [x for x in j["recoveries"] if "old_pid" in x and x["recovery_ms"] >= 0]
ms = [x["recovery_ms"] for x in r]
m = sum(x["mbufs_returned"] for x in r)
if ms:
    print("%s|%s|%.0f|%.0f|%.0f|%d|%s" % (sys.argv[2], " ".join("%.0f" % v for v in ms), statistics.median(ms), min(ms),
          max(ms), m, j["audit"]["clean"] if "audit" in j else "?"))
else:
    print("%s|none|-|-|-|0|?" % sys.argv[2])
PY
}

load=$BENCH_LOAD_START
master=("$JAVA" -jar "$JAR" --file-prefix "frk$$" -- --workers 2 --duration "$(( (KILLS + 1) * GAP + 4 ))" -T 0 --max-restarts 100)
bench_hp_watch_start "$tmp/hp"
rows=()
rows+=("$(run spare)")
rows+=("$(run new-jvm --spares 0)")
rows+=("$(run reset-port --reset port)")
bench_set jnic memory "$(bench_memory_kind "$(bench_hp_watch_stop "$tmp/hp")")"
bench_set jnic cores "not pinned: the master, its 2 workers and a spare (JVMs) share $(nproc) CPUs"
bench_set jnic burst "32 (default)"
bench_set jnic "frame size" "64 B with FCS (the simulated ports' generator wires, devsim's default)"
bench_set jnic software "$(bench_jdk_version "$JAVA")"
bench_set jnic "JVM flags" "none; ergonomics: $(bench_jvm_ergonomics "$JAVA")"
bench_set jnic kills "$KILLS per mode, SIGKILL of the worker owning queue pair (k mod 2) of port 0, one every $GAP s"
bench_cmd jnic "${master[*]} --stats-json FILE                  # spare"
bench_cmd jnic "${master[*]} --stats-json FILE --spares 0       # new-jvm"
bench_cmd jnic "${master[*]} --stats-json FILE --reset port     # reset-port"
fresh=1; [ -f "$out" ] && fresh=0  # (the >> below creates the file before the block runs)
{
    [ "$fresh" = 0 ] || printf '# l2fwd-fork recovery (devsim ports)\n\nFrom the death the master noticed to the replacement worker forwarding again (the master'"'"'s own\nmeasure, in its --stats-json); %s kills per mode, one every %s s, alternating between the 2 workers.\n' "$KILLS" "$GAP"
    printf '\n## %s UTC, %s cpus, load average before: %s\n\n' "$(date -u +%H:%M)" "$(nproc)" "$load"
    printf '| mode | recoveries (ms) | median ms | min | max | mbufs returned | pool audit clean |\n|---|---|---|---|---|---|---|\n'
    for r in "${rows[@]}"; do printf '| %s |\n' "${r//|/ | }"; done
    printf '\nModes: *spare* = default (a waiting, already attached worker JVM takes the slot); *new-jvm* =\n'
    printf '`--spares 0` (a new JVM starts and attaches); *reset-port* = `--reset port` (the dependent worker is\n'
    printf 'stopped, the ports stopped and started; the killed slot goes to the spare, the dependent one to a new JVM).\n'
    bench_settings_md
} >> "$out"
printf '%s\n' "${rows[@]}"
echo "-> $out"
