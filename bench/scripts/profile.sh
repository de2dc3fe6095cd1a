#!/usr/bin/env bash
# Where the cycles go: JMH's perfasm profiler (Linux perf sampling the cpu-clock software event, which works in
# VMs without a PMU, and HotSpot's PrintAssembly through bench/tools/hsdis) on one JMH benchmark, pinned to a core.
#
#   bench/scripts/profile.sh 'RingBench.bulk' -p sync=SPSC -p batch=1      (JMH options after the regex)
#
# Writes bench/results/profiles/<date>-<name>.txt (RESULTS_DIR overrides bench/results): the hottest compiled
# regions with each instruction's share of the samples, and the hottest methods. Needs root for apt-get
# (linux-perf, gcc, libcapstone-dev) and a perf_event_paranoid that lets perf sample (it samples its own child).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bench/scripts/lib/settings.sh"
[ $# -ge 1 ] || { echo "usage: bench/scripts/profile.sh BENCHMARK_REGEX [JMH options]" >&2; exit 2; }
bench=$1; shift
CPU=${CPU:-1}
. "$root/bin/find-jdk.sh"; jnic_find_jdk
need=()
command -v perf >/dev/null || need+=(linux-perf)
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/include/capstone/capstone.h ] || need+=(libcapstone-dev)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "missing ${need[*]}: apt-get install -y ${need[*]}" >&2; exit 2; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
hsdis=$(mktemp -d /tmp/jnic-hsdis.XXXXXX)
trap 'rm -rf "$hsdis"' EXIT
gcc -O2 -shared -fPIC -o "$hsdis/hsdis-amd64.so" "$root/bench/tools/hsdis/hsdis-capstone.c" -lcapstone
[ -f "$root/bench/target/benchmarks.jar" ] || "$root/jnic" build -q -pl bench -am >&2
outdir=$(bench_results_dir "$root")/profiles
mkdir -p "$outdir"
out="$outdir/$(date -u +%Y-%m-%d)-$(echo "$bench $*" | tr -c 'A-Za-z0-9=.\n' '_' | tr -s _ | sed 's/_$//').txt"
{
  echo "# perfasm profile: $bench $*"
  echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) vCPUs $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $("$JAVA_HOME/bin/java" -version 2>&1 | head -1); JVM confined to CPU $CPU; perf $(perf --version | cut -d' ' -f3), event cpu-clock"
  LD_LIBRARY_PATH="$hsdis" taskset -c "$CPU" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -jar "$root/bench/target/benchmarks.jar" "$bench" -f 1 -wi 3 -i 4 -w 1s -r 1s \
    -jvmArgsAppend "-XX:+UnlockDiagnosticVMOptions -XX:PrintAssemblyOptions=intel" \
    -prof "perfasm:events=cpu-clock;hotThreshold=0.02;top=3;tooBigThreshold=3000" "$@" 2>&1 \
    | sed -n '/^Secondary result/,$p'
} > "$out"
grep -q "Hottest Region 1" "$out" || { echo "no profile in $out (is perf allowed to sample? see its output)" >&2; exit 1; }
echo "$out"
