#!/usr/bin/env bash
# jnic virtio-user vs DPDK's own virtio-user, both against DPDK's vhost-user backend (net_vhost0), same run,
# interleaved, pinned as in the anchors' vloop.sh (backend forwarding lcore on CPU 0, frontend's on CPU 1).
#   bench/scripts/virtio-vs-dpdk.sh [rounds=3] [seconds=10]
# Writes bench/results/virtio-<date>.md. Needs dpdk-testpmd (apt-get install -y dpdk) and root for hugepages.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rounds=${1:-3}
secs=${2:-10}
skip=3 # warm-up seconds left out of the median
. "$root/bin/find-jdk.sh"; jnic_find_jdk
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing: apt-get install -y dpdk" >&2; exit 2; }
"$root/jnic" build -q -pl driver-virtio -am >&2
cp="$root/sys/target/classes:$root/memory/target/classes:$root/pci/target/classes:$root/ethdev/target/classes:$root/driver-virtio/target/classes"
work=$(mktemp -d /tmp/jnic-vbench.XXXXXX)
sock=$work/vhost.sock
out=$root/bench/results/virtio-$(date -u +%Y-%m-%d).md
declare -A res

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else print a[int((NR+1)/2)]}'; }

backend() { # $1 = forward mode; runs in the background, logs to $work/be.log
  rm -f "$sock"
  timeout $((secs + 25)) dpdk-testpmd --lcores '0@1,1@0' --no-pci --no-huge -m 512 --file-prefix=vbe$$ \
    --vdev "net_vhost0,iface=$sock,queues=1" -- --nb-cores=1 --forward-mode="$1" --port-topology=loop \
    --total-num-mbufs=16384 --disable-link-check --stats-period 1 > "$work/be.log" 2>&1 &
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
  timeout $((secs + 15)) dpdk-testpmd --lcores '0@0,1@1' --no-pci -m 256 --single-file-segments --file-prefix=vfe$$ \
    --vdev "net_virtio_user0,path=$sock,queues=1" -- --nb-cores=1 --forward-mode="$1" --port-topology=loop \
    --disable-link-check --stats-period 1 $extra > "$work/fe.log" 2>&1 &
  local fe=$!; sleep $((secs + skip)); kill -INT $fe 2>/dev/null || true; wait $fe 2>/dev/null || true
  # DPDK keeps its hugepage files after exit (--huge-unlink does not go with --single-file-segments)
  rm -f /dev/hugepages/vfe$$map_* /dev/hugepages/vfe$$seg*
}

run_jnic() { # $1 = txonly|io
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.jnic.driver.virtio.tools.VirtioUserPerf \
    --vdev "virtio_user0,path=$sock" --mode "$1" --tx-first 32 --seconds $((secs + skip)) --cpu 1 > "$work/fe.log" 2>&1 || {
    echo "jnic frontend failed:" >&2; cat "$work/fe.log" >&2; }
}

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

{
  echo "# virtio-user: jnic vs DPDK against DPDK's vhost-user backend ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "DPDK $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?'); JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)."
  echo "$rounds rounds x $secs s per cell (first $skip s dropped), DPDK and jnic interleaved within each round;"
  echo "the figure is the backend's Rx-pps (median of the per-second values of all rounds): the same meter for both."
  echo
  echo "| work | DPDK virtio-user (Mpps) | jnic virtio-user (Mpps) | jnic / DPDK | per-round DPDK | per-round jnic |"
  echo "|---|---|---|---|---|---|"
  for mode in txonly io; do
    d=$(echo ${res[$mode,dpdk]} | tr ' ' '\n' | median); j=$(echo ${res[$mode,jnic]} | tr ' ' '\n' | median)
    awk -v m="$mode" -v d="$d" -v j="$j" -v dr="${res[$mode,dpdk]}" -v jr="${res[$mode,jnic]}" 'BEGIN {
      printf "| %s 64 B | %.2f | %.2f | %.2f |%s |%s |\n", (m=="io" ? "io loop (tx-first 32)" : "txonly -> rxonly"),
        d/1e6, j/1e6, (d>0 ? j/d : 0), dr, jr }'
  done
  echo
  echo "Commands (one cell):"
  echo '```'
  echo "backend:  dpdk-testpmd --lcores '0@1,1@0' --no-pci --no-huge -m 512 --vdev 'net_vhost0,iface=SOCK,queues=1' -- --nb-cores=1 --forward-mode=rxonly|io --port-topology=loop --total-num-mbufs=16384 --disable-link-check --stats-period 1"
  echo "DPDK fe:  dpdk-testpmd --lcores '0@0,1@1' --no-pci -m 256 --single-file-segments --vdev 'net_virtio_user0,path=SOCK,queues=1' -- --nb-cores=1 --forward-mode=txonly|io [--tx-first] --port-topology=loop --disable-link-check --stats-period 1"
  echo "jnic fe:  java -cp sys,memory,pci,ethdev,driver-virtio classes io.jnic.driver.virtio.tools.VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io --cpu 1"
  echo '```'
} > "$out"
rm -rf "$work"
cat "$out"
