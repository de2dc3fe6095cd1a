#!/usr/bin/env bash
# jnic l2fwd-mp and DPDK's l2fwd sample as the device under test, same generators, same run, interleaved.
#  A. DPDK as the generator: dpdk-testpmd with two net_vhost ports in flowgen mode (txonly's generator, which
#     also receives and counts what comes back: txonly itself never polls RX, so it cannot meter) drives the DUT's
#     two virtio-user ports; the meter is testpmd's own Rx-pps of the frames the DUT forwarded back.
#  B. jnic pktgen as the generator, through a testpmd io "switch" of four net_vhost ports (paired 0-1, 2-3):
#     pktgen port 0 <-> vhost0 = vhost1 <-> DUT port 0, DUT port 1 <-> vhost2 = vhost3 <-> pktgen port 1;
#     the no-drop rate (RFC 2544 NDR search up to SEARCH_MAX per port; at "max" a flood takes the switch's CPU
#     from the DUT on a 2-core machine), and one-way latency p50/p99 at a rate below capacity (LAT_RATE per port).
#   bench/scripts/dut-vs-dpdk.sh [rounds=3] [seconds=10]      (after ./jnic build; root for hugepages)
#   smoke test: RESULTS_DIR=/tmp/r bench/scripts/dut-vs-dpdk.sh 1 3
# Appends to bench/results/dut-vs-dpdk-<date>.md (RESULTS_DIR overrides the directory).
# Both DUTs alike: 2 MiB hugepages (refused when too few are free), one forwarding thread on CPU $DUT_CPU (-l),
# bursts of 32, MAC updating on, the same generators with the same frame sizes; testpmd (generator, switch and
# meter) runs on hugepages with its forwarding lcore on CPU $BE_CPU, the same command for both DUTs. DPDK's l2fwd is built from Debian's dpdk-doc sources
# (/usr/share/dpdk/examples/l2fwd, make against libdpdk-dev) in a cache directory, never in the repository.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
rounds=${1:-3}
secs=${2:-10}
skip=2
LAT_RATE=${LAT_RATE:-50kpps}
SEARCH_MAX=${SEARCH_MAX:-2mpps}
DUT_CPU=${DUT_CPU:-1}
BE_CPU=${BE_CPU:-0}
BE_MAIN_CPU=${BE_MAIN_CPU:-1}
. bench/scripts/lib/settings.sh
bench_start
. bin/find-jdk.sh; jnic_find_jdk
JAVA="$JAVA_HOME/bin/java"
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing: apt-get install -y dpdk dpdk-dev" >&2; exit 2; }
[ -d /usr/share/dpdk/examples/l2fwd ] || { echo "DPDK's l2fwd source missing: apt-get install -y dpdk-doc" >&2; exit 2; }
pkg-config --exists libdpdk || { echo "libdpdk missing: apt-get install -y libdpdk-dev" >&2; exit 2; }
bench_require_hugepages 400 # testpmd -m 512, then a DUT (-m 256, or l2fwd-mp's memory group)
for j in apps/target/l2fwd-mp.jar apps/target/pktgen.jar; do
  [ -f "$j" ] || { echo "no $j: run ./jnic build first" >&2; exit 1; }
done
cache=${XDG_CACHE_HOME:-$HOME/.cache}/jnic/dpdk-l2fwd-$(pkg-config --modversion libdpdk)
if [ ! -x "$cache/build/l2fwd" ]; then
  rm -rf "$cache"; mkdir -p "$(dirname "$cache")"; cp -r /usr/share/dpdk/examples/l2fwd "$cache"
  make -C "$cache" > "$cache.build.log" 2>&1 || { cat "$cache.build.log" >&2; exit 1; }
fi
L2FWD=$cache/build/l2fwd
work=$(mktemp -d /tmp/jnic-dut.XXXXXX)
bg=()
cleanup() {
  for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -f /dev/hugepages/dutd$$* 2>/dev/null || true
  rm -rf "/var/run/dpdk/dutbe$$" "/var/run/dpdk/dutd$$" 2>/dev/null || true  # DPDK leaves its runtime dirs
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
out=$(bench_results_dir "$root")/dut-vs-dpdk-$(date -u +%Y-%m-%d).md
hp_jnic=0; hp_dpdk=0; hp_watch=0
bench_max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }
# the two DUTs' command lines (ports appended): one core, burst 32, MAC updating (both default to it), no stats
jvm_flags="--enable-native-access=ALL-UNNAMED"
jnic_dut=("$JAVA" $jvm_flags -jar apps/target/l2fwd-mp.jar --file-prefix "dutj$$" -l "$DUT_CPU")
jnic_dut_app=(-- -T 0 --burst 32 --mac-updating)
dpdk_dut_eal=(-l "$DUT_CPU" --no-pci -m 256 --single-file-segments --file-prefix "dutd$$")
dpdk_dut_app=(-- -p 0x3 -q 2 -T 0) # l2fwd: MAX_PKT_BURST 32, MAC updating unless --no-mac-updating
be_eal=(--lcores "0@$BE_MAIN_CPU,1@$BE_CPU" --no-pci -m 512 --huge-unlink --file-prefix="dutbe$$")
be_app=(--nb-cores=1 --port-topology=paired --total-num-mbufs=32768 --disable-link-check --stats-period 1 --burst=32 --txpkts=64)
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else print a[int((NR+1)/2)]}'; }

backend() { # $1 = mode, $2 = number of vhost ports; logs to $work/be.log
  rm -f "$work"/v*.sock
  local vdevs=() i
  for i in $(seq 0 $(($2 - 1))); do vdevs+=(--vdev "net_vhost$i,iface=$work/v$i.sock,queues=1"); done
  stdbuf -oL dpdk-testpmd "${be_eal[@]}" "${vdevs[@]}" -- "${be_app[@]}" --forward-mode="$1" > "$work/be.log" 2>&1 &
  bepid=$!; bg+=($bepid)
  for _ in $(seq 100); do [ -S "$work/v$(($2 - 1)).sock" ] && return; sleep 0.1; done
  echo "testpmd did not start:" >&2; cat "$work/be.log" >&2; exit 1
}
stop_backend() { kill -INT "$bepid" 2>/dev/null || true; wait "$bepid" 2>/dev/null || true; }

be_lines() { grep -cE '^ +Rx-pps:' "$work/be.log" || true; }
be_rx_rate() { # median of testpmd's Rx-pps summed over its $1 ports, per period after line $2 and the warm-up
  grep -E '^ +Rx-pps:' "$work/be.log" | awk -v f="$2" 'NR>f {print $2}' | awk -v n="$1" '{s+=$1} NR%n==0 {print s; s=0}' \
    | awk -v s=$skip 'NR>s' | median
}

dut() { # $1 = jnic|dpdk, $2 $3 = the vhost sockets of its ports 0 and 1; runs in the background
  dutkind=$1
  # the DUT's hugepages, sampled while it runs alone with testpmd (A); in B pktgen's would count too
  [ "$hp_watch" = 1 ] && bench_hp_watch_start "$work/hp"
  if [ "$1" = jnic ]; then
    "${jnic_dut[@]}" --vdev "virtio_user0,path=$2" --vdev "virtio_user1,path=$3" "${jnic_dut_app[@]}" > "$work/dut.log" 2>&1 &
  else
    stdbuf -oL "$L2FWD" "${dpdk_dut_eal[@]}" --vdev "net_virtio_user0,path=$2" --vdev "net_virtio_user1,path=$3" \
      "${dpdk_dut_app[@]}" > "$work/dut.log" 2>&1 &
  fi
  dutpid=$!; bg+=($dutpid)
  # ready when its ports are up (a JVM on a loaded machine takes seconds)
  for _ in $(seq 600); do
    grep -qE '^port 1:|L2FWD: entering main loop|entering main loop on lcore' "$work/dut.log" && return
    kill -0 "$dutpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -qE '^port 1:|entering main loop' "$work/dut.log" || { echo "the $1 DUT did not start:" >&2; cat "$work/dut.log" >&2; exit 1; }
}
stop_dut() {
  # SIGTERM: a background job of a script ignores SIGINT, and the JVM keeps it ignored (testpmd and l2fwd do not)
  if [ "$dutkind" = jnic ]; then kill -TERM "$dutpid" 2>/dev/null || true; else kill -INT "$dutpid" 2>/dev/null || true; fi
  wait "$dutpid" 2>/dev/null || true
  rm -f /dev/hugepages/dutd$$* 2>/dev/null || true
  [ "$hp_watch" = 1 ] || return 0
  local used; used=$(bench_hp_watch_stop "$work/hp")
  if [ "$dutkind" = jnic ]; then hp_jnic=$(bench_max "$hp_jnic" "$used"); else hp_dpdk=$(bench_max "$hp_dpdk" "$used"); fi
}

pktgen() { # $@ = pktgen app options; prints the summary line
  "$JAVA" --enable-native-access=ALL-UNNAMED -jar apps/target/pktgen.jar --file-prefix dutpg$$ \
    --vdev "virtio_user0,path=$work/v0.sock" --vdev "virtio_user1,path=$work/v3.sock" -- -T 0 --flows 64 --size 64 "$@" \
    > "$work/pg.log" 2>&1 || { cat "$work/pg.log" >&2; return 1; }
  grep '^pktgen: summary' "$work/pg.log"
}
field() { echo "$1" | grep -o "$2=[0-9.]*" | cut -d= -f2; }

declare -A gen fwd p50 p99
for r in $(seq "$rounds"); do
  for d in jnic dpdk; do
    # A: testpmd generates (flowgen) on two vhost ports; the DUT forwards; testpmd meters what comes back
    backend flowgen 2
    hp_watch=1
    dut "$d" "$work/v0.sock" "$work/v1.sock"
    l0=$(be_lines)
    sleep $((secs + skip))
    stop_dut; stop_backend
    hp_watch=0
    a=$(be_rx_rate 2 "$l0")
    gen[$d]="${gen[$d]:-} $a"
    # B: pktgen through the io switch: throughput at max, latency below capacity
    backend io 4
    dut "$d" "$work/v1.sock" "$work/v2.sock"
    sleep 2
    s=$(pktgen --search ndr --search-max "$SEARCH_MAX" --trial "$secs" --precision 5)
    m=$(field "$s" ndr_pps)
    fwd[$d]="${fwd[$d]:-} $m"
    s=$(pktgen --rate "$LAT_RATE" --duration "$secs")
    p50[$d]="${p50[$d]:-} $(field "$s" p50_us)"
    p99[$d]="${p99[$d]:-} $(field "$s" p99_us)"
    echo "round $r $d: testpmd-generated forwarded $a pps; pktgen NDR $m pps; at $LAT_RATE per port:" \
      "lost $(field "$s" lost), latency p50 $(field "$s" p50_us) us p99 $(field "$s" p99_us) us" >&2
    stop_dut; stop_backend
  done
done

med() { echo $1 | tr ' ' '\n' | median; }
fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf '# jnic l2fwd-mp vs DPDK l2fwd as the device under test\n'
  printf '\n## %s UTC\n\n' "$(date -u +%H:%M)"
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load at the start $BENCH_LOAD_START."
  echo "DPDK $(pkg-config --modversion libdpdk); JDK $("$JAVA" -version 2>&1 | head -1). $rounds round(s) x $secs s per cell,"
  echo "jnic and DPDK interleaved within each round; both DUTs single-threaded on lcore 1, two virtio-user ports."
  echo
  echo "| DUT | forwarded Mpps, testpmd flowgen generator (testpmd meter) | NDR Mpps, pktgen through the switch | latency p50 at $LAT_RATE/port (us) | p99 (us) |"
  echo "|---|---|---|---|---|"
  for d in jnic dpdk; do
    printf '| %s | %s | %s | %s | %s |\n' "$d" "$(awk -v v="$(med "${gen[$d]}")" 'BEGIN {printf "%.3f", v/1e6}')" \
      "$(awk -v v="$(med "${fwd[$d]}")" 'BEGIN {printf "%.3f", v/1e6}')" "$(med "${p50[$d]}")" "$(med "${p99[$d]}")"
  done
  awk -v gj="$(med "${gen[jnic]}")" -v gd="$(med "${gen[dpdk]}")" -v fj="$(med "${fwd[jnic]}")" -v fd="$(med "${fwd[dpdk]}")" \
    'BEGIN {rg = 0; rf = 0; if (gd > 0) rg = gj / gd; if (fd > 0) rf = fj / fd
     printf "\nRatios jnic / DPDK: %.2f (testpmd generator), %.2f (pktgen generator).\n", rg, rf}'
  echo
  echo "Per round (pps): testpmd-generated jnic [${gen[jnic]} ], dpdk [${gen[dpdk]} ]; pktgen NDR jnic [${fwd[jnic]} ], dpdk [${fwd[dpdk]} ]."
  bench_set jnic DUT "l2fwd-mp, one process, two virtio-user ports, MAC updating"
  bench_set DPDK DUT "examples/l2fwd (Debian's dpdk-doc source, built against libdpdk), two virtio-user ports, MAC updating"
  bench_set jnic memory "$(bench_memory_kind "$hp_jnic")"
  bench_set DPDK memory "$(bench_memory_kind "$hp_dpdk") (-m 256 --single-file-segments)"
  bench_set jnic cores "forwarding thread on CPU $DUT_CPU (-l $DUT_CPU); the JVM's other threads not pinned"
  bench_set DPDK cores "lcore on CPU $DUT_CPU (-l $DUT_CPU); EAL's control threads not pinned"
  bench_set jnic burst "32 (--burst 32)"; bench_set DPDK burst "32 (MAX_PKT_BURST)"
  bench_set jnic "frame size" "generators' frames: testpmd flowgen 64 B (--txpkts=64), pktgen 64 B with FCS (--size 64)"
  bench_set DPDK "frame size" "the same generators"
  bench_set jnic software "$(bench_jdk_version "$JAVA")"; bench_set DPDK software "$(bench_dpdk_version)"
  bench_set jnic "JVM flags" "$jvm_flags; ergonomics: $(bench_jvm_ergonomics "$JAVA")"
  bench_set generators "testpmd" "flowgen on 2 net_vhost ports, io switch on 4; hugepages (-m 512), forwarding lcore on CPU $BE_CPU"
  bench_set generators "pktgen" "NDR search up to $SEARCH_MAX per port, trials of $secs s; latency at $LAT_RATE per port; 64 flows"
  bench_cmd jnic "${jnic_dut[*]} --vdev virtio_user0,path=SOCK0 --vdev virtio_user1,path=SOCK1 ${jnic_dut_app[*]}"
  bench_cmd DPDK "$L2FWD ${dpdk_dut_eal[*]} --vdev net_virtio_user0,path=SOCK0 --vdev net_virtio_user1,path=SOCK1 ${dpdk_dut_app[*]}"
  bench_cmd generators "dpdk-testpmd ${be_eal[*]} --vdev net_vhostN,iface=SOCKN,queues=1 ... -- ${be_app[*]} --forward-mode=flowgen|io"
  bench_cmd generators "java -jar apps/target/pktgen.jar --vdev virtio_user0,path=v0.sock --vdev virtio_user1,path=v3.sock -- -T 0 --flows 64 --size 64 --search ndr --search-max $SEARCH_MAX --trial $secs --precision 5"
  bench_cmd generators "java -jar apps/target/pktgen.jar ... -- -T 0 --flows 64 --size 64 --rate $LAT_RATE --duration $secs"
  bench_settings_md
} >> "$out"
echo "results: $out" >&2
