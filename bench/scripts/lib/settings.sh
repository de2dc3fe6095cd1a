# Sourced by the bench scripts (bash): where results go, and the "Settings" section every results file carries,
# so that a reader can check that both sides ran on the same kind of memory, the same cores, the same frame size
# and burst, and see what else ran on the machine (load average at the start and at the end of the run).
#
#   . "$root/bench/scripts/lib/settings.sh"
#   bench_start                                   # load average at the start
#   out=$(bench_results_dir "$root")/kind-$(date -u +%Y-%m-%d).md   # RESULTS_DIR overrides bench/results
#   bench_set jnic memory "2 MiB hugepages"; bench_cmd jnic "java ..."; bench_set DPDK burst 32 ...
#   bench_settings_md                             # prints the section (load average at the end taken now)
#
# The section is a Markdown table with one column per side ("| setting | jnic | DPDK |"), then the commands in
# a fenced block; bench/report.sh reads it back.

declare -gA BENCH_SET=()
BENCH_SIDES=()
BENCH_KEYS=()
declare -gA BENCH_CMDS=()

bench_results_dir() { # $1 = repository root; prints the results directory (created), RESULTS_DIR if set
  local d=${RESULTS_DIR:-$1/bench/results}
  mkdir -p "$d" && (cd "$d" && pwd)
}

bench_start() {
  BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  BENCH_T0=$(date -u +%Y-%m-%dT%H:%MZ)
}

bench_cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs; }

bench_machine() {
  echo "$(bench_cpu_model), $(nproc) CPUs usable of $(getconf _NPROCESSORS_ONLN) online" \
    "($(cat /sys/devices/system/cpu/online 2>/dev/null || echo '?')), kernel $(uname -r)"
}

bench_dpdk_version() {
  local p d
  p=$(pkg-config --modversion libdpdk 2>/dev/null || echo '?')
  d=$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?')
  echo "DPDK $p (pkg-config libdpdk; Debian package dpdk $d)"
}

bench_jdk_version() { # $1 = java: the version and runtime lines
  "$1" -version 2>&1 | head -2 | tr '\n' ' ' | sed 's/ *$//'
}

bench_jvm_ergonomics() { # $1 = java, rest = flags: the collector and heap the JVM chose for this machine
  local j=$1; shift
  "$j" "$@" -XX:+PrintCommandLineFlags -version 2>/dev/null | head -1 | tr ' ' '\n' \
    | grep -E '^-XX:\+Use[A-Za-z0-9]*GC$|HeapSize=|GCThreads=' | tr '\n' ' ' | sed 's/ $//'
}

bench_quote() { # the arguments as one shell-quoted command line
  local a out=""
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}

# --- hugepages: what a run took, sampled machine-wide ---------------------------------------------------------
bench_hp_size_kb() { awk '/^Hugepagesize:/ {print $2}' /proc/meminfo; }
bench_hp_free() { awk '/^HugePages_Free:/ {print $2}' /proc/meminfo; }

bench_hp_watch_start() { # $1 = file: the free count of the default hugepage size, every 0.2 s until stopped
  bench_hp_free > "$1"
  ( while kill -0 $$ 2>/dev/null; do bench_hp_free >> "$1"; sleep 0.2; done ) > /dev/null 2>&1 & # ends with the script, holds no pipe
  BENCH_HP_WATCH=$!
}

bench_hp_watch_stop() { # $1 = file; prints the most pages in use at once beyond the count at the start
  kill "$BENCH_HP_WATCH" 2>/dev/null || true
  wait "$BENCH_HP_WATCH" 2>/dev/null || true
  bench_hp_free >> "$1"
  awk 'NR == 1 {s = $1; m = $1} $1 < m {m = $1} END {print s - m}' "$1"
}

bench_memory_kind() { # $1 = pages taken during the run (bench_hp_watch_stop): the memory the run used
  local kb; kb=$(bench_hp_size_kb)
  if [ "${1:-0}" -gt 0 ]; then
    echo "hugepages of $((kb / 1024)) MiB ($1 more in use machine-wide at the peak of the run)"
  else
    echo "4 KiB pages (no hugepage taken during the run)"
  fi
}

bench_require_hugepages() { # $1 = pages needed free; exits with what to do when fewer are free
  local free; free=$(bench_hp_free)
  if [ "${free:-0}" -lt "$1" ]; then
    echo "$(basename "$0"): $1 free hugepages needed (both sides run on hugepages), ${free:-0} free;" \
      "as root: echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" \
      "and mount -t hugetlbfs nodev /dev/hugepages" >&2
    exit 2
  fi
}

# --- the settings table ---------------------------------------------------------------------------------------
bench_set() { # $1 = side (jnic, DPDK, ...), $2 = setting, $3 = value
  local s k seen
  seen=0; for s in "${BENCH_SIDES[@]}"; do [ "$s" = "$1" ] && seen=1; done
  [ "$seen" = 1 ] || BENCH_SIDES+=("$1")
  seen=0; for k in "${BENCH_KEYS[@]}"; do [ "$k" = "$2" ] && seen=1; done
  [ "$seen" = 1 ] || BENCH_KEYS+=("$2")
  BENCH_SET["$1|$2"]=$3
}

bench_cmd() { # $1 = side, $2 = one command line (repeatable)
  BENCH_CMDS["$1"]+="$2"$'\n'
}

bench_settings_md() {
  local s k cells
  echo
  echo "### Settings"
  echo
  echo "Machine: $(bench_machine)."
  echo "Load average at the start ${BENCH_LOAD_START:-?} ($BENCH_T0), at the end $(cut -d' ' -f1-3 /proc/loadavg)" \
    "($(date -u +%Y-%m-%dT%H:%MZ))."
  echo
  printf '| setting |'; for s in "${BENCH_SIDES[@]}"; do printf ' %s |' "$s"; done; echo
  printf '|---|'; for s in "${BENCH_SIDES[@]}"; do printf -- '---|'; done; echo
  for k in "${BENCH_KEYS[@]}"; do
    cells="| $k |"
    for s in "${BENCH_SIDES[@]}"; do
      cells+=" $(printf '%s' "${BENCH_SET["$s|$k"]:--}" | sed 's/|/\\|/g') |"
    done
    echo "$cells"
  done
  echo
  echo "Commands:"
  echo
  echo '```sh'
  for s in "${BENCH_SIDES[@]}"; do
    [ -n "${BENCH_CMDS[$s]:-}" ] || continue
    echo "# $s"
    printf '%s' "${BENCH_CMDS[$s]}"
  done
  echo '```'
}
