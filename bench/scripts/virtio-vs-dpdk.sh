#!/usr/bin/env bash
# jnic virtio-user vs DPDK's own virtio-user, both against DPDK's vhost-user backend (net_vhost0), same run,
# interleaved, pinned as in the anchors' vloop.sh (backend forwarding lcore on CPU 0, frontend's on CPU 1).
#   bench/scripts/virtio-vs-dpdk.sh [rounds=5] [seconds=10]
#   smoke run: RESULTS_DIR=/tmp/r bench/scripts/virtio-vs-dpdk.sh 1 4   (shorter cells leave nothing after the warm-up)
# Appends one section per run to bench/results/virtio-<date>.md (RESULTS_DIR overrides the directory). Needs
# dpdk-testpmd (apt-get install -y dpdk dpdk-dev) and hugepages.
# Both frontends alike: 2 MiB hugepages (refused when too few are free), forwarding thread on CPU $FE_CPU (DPDK:
# lcore 1 pinned there; jnic: VirtioUserPerf --cpu pins its thread there), each process confined to CPUs
# $FE_MAIN_CPU,$FE_CPU, bursts of 32, 64-byte frames, 32 frames sent first in io mode. The backend (the meter) is
# the same testpmd command for both, on hugepages, its forwarding lcore on CPU $BE_CPU.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bench/scripts/lib/settings.sh"
bench_start
rounds=${1:-5}
secs=${2:-10}
FE_CPU=${FE_CPU:-1}
FE_MAIN_CPU=${FE_MAIN_CPU:-0}
BE_CPU=${BE_CPU:-0}
BE_MAIN_CPU=${BE_MAIN_CPU:-1}
skip=3 # warm-up seconds left out of the median
. "$root/bin/find-jdk.sh"; jnic_find_jdk
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing: apt-get install -y dpdk dpdk-dev" >&2; exit 2; }
bench_require_hugepages 400 # backend -m 512, then a frontend (-m 256, or jnic's memory group)
"$root/jnic" build -q -pl driver-virtio -am >&2
cp="$root/sys/target/classes:$root/memory/target/classes:$root/pci/target/classes:$root/ethdev/target/classes:$root/driver-virtio/target/classes"
work=$(mktemp -d /tmp/jnic-vbench.XXXXXX)
sock=$work/vhost.sock
out=$(bench_results_dir "$root")/virtio-$(date -u +%Y-%m-%d).md
declare -A res

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else print a[int((NR+1)/2)]}'; }

backend() { # $1 = forward mode; runs in the background, logs to $work/be.log
  rm -f "$sock"
  timeout $((secs + 25)) dpdk-testpmd "${be_eal[@]}" --vdev "net_vhost0,iface=$sock,queues=1" -- "${be_app[@]}" \
    --forward-mode="$1" > "$work/be.log" 2>&1 &
  bepid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && return; sleep 0.1; done
  echo "backend did not start:" >&2; cat "$work/be.log" >&2; exit 1
}

stop_backend() { kill -INT "$bepid" 2>/dev/null || true; wait "$bepid" 2>/dev/null || true; }

be_rate() { # median backend Rx-pps after the warm-up
  grep -E '^ +Rx-pps:' "$work/be.log" | awk '{print $2}' | awk -v s=$skip 'NR>s && $1>0' | median
}

run_dpdk() { # $1 = txonly|io
  local extra=""; [ "$1" = io ] && extra="--tx-first"
  bench_hp_watch_start "$work/hp"
  timeout $((secs + 15)) taskset -c "$FE_MAIN_CPU,$FE_CPU" dpdk-testpmd "${fe_eal[@]}" \
    --vdev "net_virtio_user0,path=$sock,queues=1" -- "${fe_app[@]}" --forward-mode="$1" $extra > "$work/fe.log" 2>&1 &
  local fe=$!; sleep $((secs + skip)); kill -INT $fe 2>/dev/null || true; wait $fe 2>/dev/null || true
  hp_dpdk=$(bench_max "$hp_dpdk" "$(bench_hp_watch_stop "$work/hp")")
  # DPDK keeps its hugepage files after exit (--huge-unlink does not go with --single-file-segments)
  rm -f /dev/hugepages/vfe$$map_* /dev/hugepages/vfe$$seg*
}

run_jnic() { # $1 = txonly|io
  bench_hp_watch_start "$work/hp"
  taskset -c "$FE_MAIN_CPU,$FE_CPU" "$JAVA_HOME/bin/java" $jvm_flags -cp "$cp" io.jnic.driver.virtio.tools.VirtioUserPerf \
    --vdev "virtio_user0,path=$sock" --mode "$1" "${jnic_app[@]}" --seconds $((secs + skip)) > "$work/fe.log" 2>&1 || {
    echo "jnic frontend failed:" >&2; cat "$work/fe.log" >&2; }
  hp_jnic=$(bench_max "$hp_jnic" "$(bench_hp_watch_stop "$work/hp")")
  jnic_said=$(grep -m1 '^# jnic virtio-user' "$work/fe.log" || true)
}

# the two frontends' settings, side by side: same burst, frame size, frames sent first, cores, hugepages
be_eal=(--lcores "0@$BE_MAIN_CPU,1@$BE_CPU" --no-pci -m 512 --huge-unlink --file-prefix=vbe$$)
be_app=(--nb-cores=1 --port-topology=loop --total-num-mbufs=16384 --disable-link-check --stats-period 1)
fe_eal=(--lcores "0@$FE_MAIN_CPU,1@$FE_CPU" --no-pci -m 256 --single-file-segments --file-prefix=vfe$$)
fe_app=(--nb-cores=1 --port-topology=loop --burst=32 --txpkts=64 --disable-link-check --stats-period 1)
jvm_flags="--enable-native-access=ALL-UNNAMED"
jnic_app=(--burst 32 --len 64 --tx-first 32 --cpu "$FE_CPU")
hp_dpdk=0; hp_jnic=0; jnic_said=""
bench_max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }

for r in $(seq "$rounds"); do
  for mode in txonly io; do
    bemode=rxonly; [ "$mode" = io ] && bemode=io
    for fe in dpdk jnic; do
      backend $bemode
      run_$fe $mode
      stop_backend
      rate=$(be_rate)
      echo "round $r $mode $fe: backend rx ${rate} pps" >&2
      res[$mode,$fe]="${res[$mode,$fe]:-} $rate"
    done
  done
done

bench_set jnic memory "$(bench_memory_kind "$hp_jnic") (VirtioUserPerf said: ${jnic_said#\# })"
bench_set DPDK memory "$(bench_memory_kind "$hp_dpdk") (-m 256 --single-file-segments)"
bench_set jnic cores "forwarding thread pinned to CPU $FE_CPU (--cpu $FE_CPU); JVM confined to CPUs $FE_MAIN_CPU,$FE_CPU (taskset)"
bench_set DPDK cores "forwarding lcore 1 on CPU $FE_CPU, main lcore 0 on CPU $FE_MAIN_CPU; process confined to CPUs $FE_MAIN_CPU,$FE_CPU (taskset)"
bench_set jnic burst 32; bench_set DPDK burst "32 (--burst=32)"
bench_set jnic "frame size" "64 B (--len 64)"; bench_set DPDK "frame size" "64 B (--txpkts=64)"
bench_set jnic "io mode start" "32 frames sent first (--tx-first 32)"; bench_set DPDK "io mode start" "one burst of 32 sent first (--tx-first)"
bench_set jnic software "$(bench_jdk_version "$JAVA_HOME/bin/java")"; bench_set DPDK software "$(bench_dpdk_version)"
bench_set jnic "JVM flags" "$jvm_flags; ergonomics: $(bench_jvm_ergonomics "$JAVA_HOME/bin/java")"
bench_set backend memory "hugepages (-m 512 --huge-unlink), the same for both frontends"
bench_set backend cores "forwarding lcore 1 on CPU $BE_CPU, main lcore 0 on CPU $BE_MAIN_CPU"
bench_set backend software "$(bench_dpdk_version)"
bench_cmd jnic "taskset -c $FE_MAIN_CPU,$FE_CPU java $jvm_flags -cp sys,memory,pci,ethdev,driver-virtio/target/classes io.jnic.driver.virtio.tools.VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io ${jnic_app[*]} --seconds $((secs + skip))"
bench_cmd DPDK "taskset -c $FE_MAIN_CPU,$FE_CPU dpdk-testpmd ${fe_eal[*]} --vdev net_virtio_user0,path=SOCK,queues=1 -- ${fe_app[*]} --forward-mode=txonly|io [--tx-first]"
bench_cmd backend "dpdk-testpmd ${be_eal[*]} --vdev net_vhost0,iface=SOCK,queues=1 -- ${be_app[*]} --forward-mode=rxonly|io"

fresh=1; [ -f "$out" ] && fresh=0
{
  [ "$fresh" = 0 ] || printf "# virtio-user: jnic vs DPDK against DPDK's vhost-user backend\n\nWritten by bench/scripts/virtio-vs-dpdk.sh, one section per run.\n"
  echo
  echo "## Run at $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $BENCH_LOAD_START."
  echo "DPDK $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?'); JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)."
  echo "$rounds rounds x $secs s per cell (first $skip s dropped), DPDK and jnic interleaved within each round;"
  echo "the figure is the backend's Rx-pps (median over the rounds of each cell's per-second median): the same meter for"
  echo "both. A round's two cells run back to back, so the per-round ratio is the one least moved by the machine's drift"
  echo "(on this 2-vCPU VM a cell can run 2.5x faster than the same cell a minute later); its median is the figure to quote."
  echo
  echo "| work | DPDK virtio-user (Mpps) | jnic virtio-user (Mpps) | jnic / DPDK | median per-round jnic / DPDK | per-round DPDK | per-round jnic |"
  echo "|---|---|---|---|---|---|---|"
  for mode in txonly io; do
    d=$(echo ${res[$mode,dpdk]} | tr ' ' '\n' | median); j=$(echo ${res[$mode,jnic]} | tr ' ' '\n' | median)
    pr=$(paste <(echo ${res[$mode,dpdk]} | tr ' ' '\n') <(echo ${res[$mode,jnic]} | tr ' ' '\n') \
      | awk '$1 > 0 {printf "%.3f\n", $2 / $1}' | median)
    awk -v m="$mode" -v d="$d" -v j="$j" -v pr="$pr" -v dr="${res[$mode,dpdk]}" -v jr="${res[$mode,jnic]}" 'BEGIN {
      printf "| %s 64 B | %.2f | %.2f | %.2f | %.2f |%s |%s |\n", (m=="io" ? "io loop (tx-first 32)" : "txonly -> rxonly"),
        d/1e6, j/1e6, (d>0 ? j/d : 0), pr, dr, jr }'
  done
  bench_settings_md
} >> "$out"
rm -rf "$work" "/var/run/dpdk/vbe$$" "/var/run/dpdk/vfe$$"  # DPDK leaves its runtime dirs
cat "$out"
