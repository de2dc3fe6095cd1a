#!/bin/bash
# The vfio-user guest's checks (run by testbed/vfio-user.sh's guest.sh, chrooted into the host's root inside
# the QEMU guest). 0000:00:04.0 is devsim port 0 (TAP wire to HOST_IP in a host namespace), 0000:00:05.0 is
# devsim port 1 (generator wire, stopped until a check starts it). Env from guest.sh: D, ROOT, JAVA_HOME,
# HOST_IP, GEN_RATE. Prints "@@T PASS|FAIL name[: why]" per check and "@@T SUMMARY" last.
set -u
P0=0000:00:04.0
P1=0000:00:05.0
# Only inside the test bed's guest (booted with jnic.dir=): on a host these addresses are its own disk and
# network, which nothing here may bind, unbind or reset. And only when both are devsim's 82599s.
if ! grep -q ' jnic.dir=' /proc/cmdline; then
  echo "vfio-user-guest.sh: not in the test bed's guest (no jnic.dir= on the kernel command line); run testbed/vfio-user.sh" >&2
  exit 2
fi
for p in $P0 $P1; do
  if [ "$(cat /sys/bus/pci/devices/$p/vendor 2>/dev/null):$(cat /sys/bus/pci/devices/$p/device 2>/dev/null)" != 0x8086:0x10fb ]; then
    echo "vfio-user-guest.sh: $p is not a devsim 82599 (8086:10fb); refusing to touch it" >&2
    exit 2
  fi
done
OUT=$D/out
GUEST_IP=${HOST_IP%.*}.2
TRAFFIC_S=3          # seconds of generator traffic per counting check
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

pass() { echo "@@T PASS $1"; }
failc() { echo "@@T FAIL $1: $2"; }
info() { echo "@@INFO $*"; }
# check NAME WHY-IF-FAILED CONDITION...: PASS when the condition (a command) succeeds
check() { local n=$1 why=$2; shift 2; if "$@"; then pass "$n"; else failc "$n" "$why"; fi; }

# --- the host's devsim, through the writable share (vfio-user.sh's agent answers) ------------------------
hostctl() {
  local reqn # numbered through a file: callers in $(...) subshells must not reuse a number
  reqn=$(( $(cat /tmp/hostctl.n 2>/dev/null || echo 0) + 1 ))
  echo "$reqn" > /tmp/hostctl.n
  printf '%s\n' "$*" > "$OUT/req.$reqn.tmp" && mv "$OUT/req.$reqn.tmp" "$OUT/req.$reqn"
  for _ in $(seq 1 300); do
    if [ -f "$OUT/resp.$reqn" ]; then cat "$OUT/resp.$reqn"; rm -f "$OUT/resp.$reqn"; return 0; fi
    sleep 0.1
  done
  echo "error: the host did not answer '$*'"
  return 1
}
# devsim counters of port $1: "rx tx dropped gen_sent sink" (one line of `stats`; rx counts every frame the
# MAC accepted, dropped those it then had no descriptor or room for: missed + nobuf)
devsim_counts() {
  hostctl stats | awk -v p="$1" '$1 == "port" && $2 == p {
    for (i = 1; i < NF; i++) {
      if ($i == "rx" && $(i + 2) == "pkts") rx = $(i + 1)
      if ($i == "tx" && $(i + 2) == "pkts") tx = $(i + 1)
      if ($i == "missed" || $i == "nobuf") missed += $(i + 1) # qdrop is a part of nobuf
      if ($i == "sent") { sent = $(i + 1); sub(/,/, "", sent) }
      if ($i == "sink") { sink = $(i + 1) }
    }
    printf "%d %d %d %d %d\n", rx, tx, missed, sent, sink }'
}
gen() { hostctl gen 1 "$1" | grep -q '^ok' || echo "@@ERR devsim gen 1 $1 refused"; }

drv() { local l; l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && basename "$l"; }
ifname() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -1; }
bind() { # bind BDF DRIVER through sysfs (driver_override), as devbind does
  local d=/sys/bus/pci/devices/$1
  [ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
  echo "$2" > "$d/driver_override"
  echo "$1" > /sys/bus/pci/drivers_probe
  echo > "$d/driver_override"
  [ "$(drv "$1")" = "$2" ]
}
wait_for() { # wait_for SECONDS FILE REGEX [PID]: gives up early when PID has ended
  local i
  for i in $(seq 1 $(($1 * 10))); do
    grep -qE "$3" "$2" 2>/dev/null && return 0
    [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && { grep -qE "$3" "$2" 2>/dev/null; return; }
    sleep 0.1
  done
  return 1
}

for b in $P0 $P1; do info "$b $(cat /sys/bus/pci/devices/$b/vendor):$(cat /sys/bus/pci/devices/$b/device) driver=$(drv $b)"; done

# === 1. Linux's ixgbe (loaded by /init) ======================================================================
dmesg > "$OUT/dmesg-probe.txt"
grep -E 'ixgbe|vfio|DMAR' "$OUT/dmesg-probe.txt" | tail -40 | sed 's/^/@@DMESG /'
bad=$(dmesg -l emerg,alert,crit,err,warn 2>/dev/null | grep -E "ixgbe|$P0|$P1")
if0=$(ifname $P0); if1=$(ifname $P1)
check ixgbe-probe "driver $(drv $P0)/$(drv $P1), netdevs '$if0' '$if1'" \
  test "$(drv $P0)" = ixgbe -a "$(drv $P1)" = ixgbe -a -n "$if0" -a -n "$if1"
check ixgbe-dmesg-clean "$(echo "$bad" | head -3 | tr '\n' '|')" test -z "$bad"

if [ -n "$if0" ] && [ -n "$if1" ]; then
  ip link set "$if0" up; ip link set "$if1" up
  up=0
  for _ in $(seq 1 300); do
    if [ "$(cat /sys/class/net/$if0/carrier 2>/dev/null)" = 1 ] && [ "$(cat /sys/class/net/$if1/carrier 2>/dev/null)" = 1 ]; then up=1; break; fi
    sleep 0.1
  done
  s0=$(cat /sys/class/net/$if0/speed 2>/dev/null); s1=$(cat /sys/class/net/$if1/speed 2>/dev/null)
  check ixgbe-link-10g "carrier $(cat /sys/class/net/$if0/carrier 2>/dev/null)/$(cat /sys/class/net/$if1/carrier 2>/dev/null), speed $s0/$s1" \
    test "$up" = 1 -a "$s0" = 10000 -a "$s1" = 10000
  dmesg | grep -E 'ixgbe.*(Link|link)' | tail -4 | sed 's/^/@@DMESG /'

  # Linux's offload defaults stay on: devsim computes the TX checksums, cuts TSO packets into segments and
  # reports RX checksum status and strips VLAN tags as the 82599 does. Only LRO goes: devsim models no RSC.
  ethtool -K "$if0" lro off >/dev/null 2>&1 || echo "@@ERR ethtool -K $if0 lro off failed"
  offl=$(ethtool -k "$if0" 2>/dev/null | grep -E '^(tx-checksumming|tcp-segmentation-offload|rx-checksumming|rx-vlan-offload):' | tr '\n' ' ')
  offloads_on() {
    for f in tx-checksumming tcp-segmentation-offload rx-checksumming; do
      case "$offl" in *"$f: on"*) ;; *) return 1 ;; esac
    done
  }
  check ixgbe-offloads-on "not on: $offl" offloads_on
  ip addr add "$GUEST_IP/24" dev "$if0"
  check ixgbe-ping "no answer from $HOST_IP" busybox ping -c 3 -W 3 "$HOST_IP"

  # a TCP transfer to the host namespace's sink, which answers with what it received
  python3 - "$HOST_IP" > "$OUT/tcp.txt" 2>&1 <<'PY'
import hashlib, os, socket, sys
data = os.urandom(4 << 20)
s = socket.create_connection((sys.argv[1], 5001), timeout=60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
answer = b""
while not answer.endswith(b"\n"):
    b = s.recv(4096)
    if not b:
        break
    answer += b
sent = "%d %s" % (len(data), hashlib.sha256(data).hexdigest())
print("sent", sent)
print("sink", answer.decode().strip())
sys.exit(0 if answer.decode().strip() == sent else 1)
PY
  tcp_rc=$?
  check ixgbe-tcp-4MiB-sha256 "$(tr '\n' ' ' < "$OUT/tcp.txt")" test "$tcp_rc" = 0

  # RX counters follow the generator: frames the kernel counts = frames devsim accepted and did not drop
  r0=$(cat /sys/class/net/$if1/statistics/rx_packets); read -r drx0 _ dmiss0 sent0 _ <<< "$(devsim_counts 1)"
  gen start; sleep $TRAFFIC_S; gen stop; sleep 1
  r1=$(cat /sys/class/net/$if1/statistics/rx_packets); read -r drx1 _ dmiss1 sent1 _ <<< "$(devsim_counts 1)"
  rx=$((r1 - r0)); drx=$((drx1 - drx0)); sent=$((sent1 - sent0)); miss=$((dmiss1 - dmiss0))
  info "ixgbe rx: kernel $rx, devsim accepted $drx, dropped $miss, generator sent $sent"
  check ixgbe-rx-counts "kernel $rx, devsim $drx, dropped $miss, sent $sent" \
    test "$rx" -gt 0 -a "$rx" = $((drx - miss)) -a "$drx" -le "$sent"
  ip link set "$if0" down; ip link set "$if1" down
fi

# === 2. DPDK's testpmd (ixgbe PMD) on vfio-pci ===================================================================
bind $P0 vfio-pci; bind $P1 vfio-pci
check dpdk-bind-vfio-pci "drivers $(drv $P0)/$(drv $P1)" test "$(drv $P0)" = vfio-pci -a "$(drv $P1)" = vfio-pci
# testpmd MODE SECONDS EAL-ALLOW... : runs it until it forwards, TRAFFIC_S s of traffic, SIGINT; output in
# $OUT/testpmd-MODE.txt. While it runs, the generator runs when GEN=1.
testpmd() {
  local mode=$1; shift
  local log=$OUT/testpmd-$mode.txt topo=paired
  [ $# = 2 ] || topo=loop
  local allow=(); for b in "$@"; do allow+=(-a "$b"); done
  # Two queue pairs per port (RSS spreads the generator's 64 flows): with more streams than ports testpmd
  # prints each stream's own packet counts, which is what the checks read. Its per-port totals come from
  # the 82599's per-queue statistics registers (QPRC...), which sit in the RX queue page devsim maps into
  # the driver's memory and do not count there (see README).
  dpdk-testpmd -l 0,1 -n 1 --file-prefix tp --huge-dir /dev/hugepages "${allow[@]}" --log-level=pmd.net.ixgbe:info -- \
    --forward-mode="$mode" --port-topology="$topo" --stats-period 1 --nb-cores=1 --rxq=2 --txq=2 \
    --rxd=512 --txd=512 --total-num-mbufs=4096 --txpkts=64 < /dev/null > "$log" 2>&1 &
  local pid=$!
  if wait_for 120 "$log" 'Port statistics' $pid; then
    [ "${GEN:-0}" = 1 ] && gen start
    sleep $TRAFFIC_S
    [ "${GEN:-0}" = 1 ] && gen stop
    sleep 1
  else
    echo "@@ERR testpmd $mode did not start forwarding in 120 s"
  fi
  kill -INT $pid 2>/dev/null
  for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  grep -E 'EAL: Error|Fail|fail|[Ee]rror[^s]' "$log" | grep -v 'RX-errors\|TX-errors' | head -5 | sed "s/^/@@INFO testpmd-$mode: /"
}
# tp_count LOG PORT RX|TX: testpmd's final count of that port, summed over its streams ("Forward Stats for
# RX Port= 1/Queue= 0 -> TX Port= 0/Queue= 0", then "RX-packets: N TX-packets: N TX-dropped: N")
tp_count() {
  awk -v p="$2" -v k="$3" '
    /Forward Stats for RX Port=/ { line = $0; gsub(/[=\/]/, " ", line); split(line, w, " ")
      for (i = 1; w[i] != ""; i++) { if (w[i] == "RX" && w[i + 1] == "Port") rp = w[i + 2]; if (w[i] == "TX" && w[i + 1] == "Port") tp = w[i + 2] }
      want = (k == "RX" && rp == p) || (k == "TX" && tp == p); next }
    want && $1 == "RX-packets:" { v += (k == "RX" ? $2 : $4); want = 0 }
    END { print v + 0 }' "$1"
}
if [ "$(drv $P0)" = vfio-pci ] && [ "$(drv $P1)" = vfio-pci ]; then
  # rxonly on port 1: what the generator sends, testpmd counts
  read -r drx0 _ dmiss0 sent0 _ <<< "$(devsim_counts 1)"
  GEN=1 testpmd rxonly $P1
  read -r drx1 _ dmiss1 sent1 _ <<< "$(devsim_counts 1)"
  rx=$(tp_count "$OUT/testpmd-rxonly.txt" 0 RX); drx=$((drx1 - drx0)); sent=$((sent1 - sent0)); miss=$((dmiss1 - dmiss0))
  info "testpmd rxonly: testpmd RX $rx, devsim accepted $drx, dropped $miss, generator sent $sent"
  check dpdk-testpmd-rxonly "testpmd RX $rx, devsim $drx, dropped $miss, sent $sent" \
    test "$rx" -gt 0 -a "$rx" = $((drx - miss))

  # txonly on port 1: what testpmd sends, devsim counts
  read -r _ dtx0 _ _ _ <<< "$(devsim_counts 1)"
  GEN=0 testpmd txonly $P1
  read -r _ dtx1 _ _ _ <<< "$(devsim_counts 1)"
  tx=$(tp_count "$OUT/testpmd-txonly.txt" 0 TX); dtx=$((dtx1 - dtx0))
  info "testpmd txonly: testpmd TX $tx, devsim sent $dtx"
  check dpdk-testpmd-txonly "testpmd TX $tx, devsim $dtx" test "$tx" -gt 0 -a "$tx" = "$dtx"

  # io between the ports: generator -> port 1 -> testpmd -> port 0 -> TAP
  read -r _ p0tx0 _ _ _ <<< "$(devsim_counts 0)"
  GEN=1 testpmd io $P0 $P1
  read -r _ p0tx1 _ _ _ <<< "$(devsim_counts 0)"
  rx1=$(tp_count "$OUT/testpmd-io.txt" 1 RX); tx0=$(tp_count "$OUT/testpmd-io.txt" 0 TX); dtx=$((p0tx1 - p0tx0))
  info "testpmd io: port 1 RX $rx1, port 0 TX $tx0, devsim port 0 sent $dtx"
  check dpdk-testpmd-io "port 1 RX $rx1, port 0 TX $tx0, devsim port 0 sent $dtx" \
    test "$rx1" -gt 0 -a "$tx0" = "$dtx" -a "$tx0" -ge $((rx1 * 9 / 10))
else
  for c in rxonly txonly io; do failc dpdk-testpmd-$c "ports not on vfio-pci"; done
fi

# === 3. jnic: devbind, l2fwd-mp primary + secondary, kill -9 of the secondary ======================================
cd "$ROOT" || exit 2
# the JVMs under TCG: C1 only, small heaps (as run.sh's guest); the apps' own launcher otherwise
export JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m"
# mp DRIVER: one run of the group over ports bound to DRIVER
mp() {
  local drvn=$1 tag=mp-$1
  ./jnic devbind --bind "$drvn" $P0 $P1 > "$OUT/$tag-devbind.txt" 2>&1
  check "jnic-devbind-$drvn" "exit $?, drivers $(drv $P0)/$(drv $P1): $(tail -1 "$OUT/$tag-devbind.txt")" \
    test "$(drv $P0)" = "$drvn" -a "$(drv $P1)" = "$drvn"
  [ "$(drv $P0)" = "$drvn" ] && [ "$(drv $P1)" = "$drvn" ] || { failc "jnic-l2fwd-mp-$drvn" "ports not bound"; return; }
  local plog=$OUT/$tag-primary.txt slog=$OUT/$tag-secondary.txt json=$OUT/$tag.json
  rm -f "$json"
  ./jnic l2fwd-mp --file-prefix vu -a $P0 -a $P1 -- --num-procs 2 --stats-json "$json" > "$plog" 2>&1 &
  local ppid=$!
  if ! wait_for 180 "$plog" '^port 1: ' $ppid; then
    failc "jnic-l2fwd-mp-$drvn" "primary did not start its ports: $(tail -3 "$plog" | tr '\n' '|')"
    kill -KILL $ppid 2>/dev/null; wait $ppid 2>/dev/null; return
  fi
  ./jnic l2fwd-mp --proc-type secondary --file-prefix vu -a $P0 -a $P1 -- --num-procs 2 --proc-id 1 > "$slog" 2>&1 &
  local spid=$!
  wait_for 180 "$slog" 'attached queue' $spid || echo "@@ERR $tag: no 'attached queue' from the secondary: $(tail -3 "$slog" | tr '\n' '|')"
  read -r _ t0 _ _ _ <<< "$(devsim_counts 0)"
  gen start; sleep $TRAFFIC_S
  read -r _ t1 _ _ _ <<< "$(devsim_counts 0)"
  info "$tag: port 0 sent $((t1 - t0)) in ${TRAFFIC_S}s with both processes"
  check "jnic-l2fwd-mp-$drvn" "devsim port 0 sent $((t1 - t0)) (generator -> port 1 -> l2fwd-mp -> port 0)" test $((t1 - t0)) -gt 0
  # the secondary's own counters: it drove its RSS queue pair (the proc stats are in shared memory)
  kill -KILL $spid 2>/dev/null; wait $spid 2>/dev/null
  check "jnic-mp-$drvn-secondary-killed-recovered" "the primary did not report it: $(tail -2 "$plog" | tr '\n' '|')" \
    wait_for 60 "$plog" "secondary pid $spid .*died"
  read -r _ t2 _ _ _ <<< "$(devsim_counts 0)"
  sleep $TRAFFIC_S
  read -r _ t3 _ _ _ <<< "$(devsim_counts 0)"
  gen stop
  check "jnic-mp-$drvn-traffic-after-kill" "devsim port 0 sent $((t3 - t2)) after the kill" test $((t3 - t2)) -gt 0
  kill -TERM $ppid 2>/dev/null # the primary ends the group on SIGTERM as on Ctrl-C (a background job ignores SIGINT)
  for _ in $(seq 1 600); do kill -0 $ppid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $ppid 2>/dev/null; wait $ppid 2>/dev/null
  grep -E 'l2fwd-mp: (secondary|mempool)|error|Exception' "$plog" | head -6 | sed "s/^/@@INFO $tag primary: /"
  if [ -f "$json" ]; then
    local srx
    srx=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(sum(p["rx"] for q in j["procs"] if q["proc_id"]==1 for p in q["ports"]), j.get("audit",{}).get("clean"))' "$json" 2>&1)
    info "$tag: secondary's RX, audit clean: $srx"
    check "jnic-mp-$drvn-secondary-rss-queue" "secondary RX/audit: $srx" test "${srx% *}" -gt 0 2>/dev/null
    check "jnic-mp-$drvn-audit-clean" "secondary RX/audit: $srx" test "${srx#* }" = True
  else
    failc "jnic-mp-$drvn-secondary-rss-queue" "no --stats-json from the primary: $(tail -3 "$plog" | tr '\n' '|')"
  fi
}
mp vfio-pci
mp uio_pci_generic

dmesg | grep -iE 'DMAR.*fault|vfio|uio|ixgbe' | tail -20 | sed 's/^/@@DMESG /'
echo "@@T SUMMARY done"
