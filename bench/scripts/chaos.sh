#!/usr/bin/env bash
# Chaos run: N random SIGKILLs of l2fwd-mp's secondaries, mp-server's clients or l2fwd-fork's workers under traffic,
# each victim restarted, then an orderly stop; appends kills, hangs, recovery times (p50/p99/max) and the final pool
# audit to bench/results/chaos-<date>.md. Exit status 1 on a hang, a leak or a duplicate.
# Usage: bench/scripts/chaos.sh APP N     APP = l2fwd-mp | mp-server | l2fwd-fork   (after ./jnic build; SEED=n)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 l2fwd-mp|mp-server|l2fwd-fork N" >&2; exit 2; }
for a in l2fwd-mp mp-client mp-server l2fwd-fork; do
  [ -f "apps/target/$a.jar" ] || { echo "no apps/target/$a.jar: run ./jnic build first" >&2; exit 1; }
done
exec python3 bench/scripts/chaos.py "$1" "$2"
