#!/usr/bin/env bash
# The benchmark report: reads bench/results/*.md (every run every bench script wrote, old formats included) and
# writes bench/report/README.md with PNG plots: jnic against DPDK per figure with the ratio, each figure's dated
# history, the performance issue's targets, and the results lines it could not parse.
#   bench/report.sh                     (needs python3 and python3-matplotlib: apt-get install -y python3-matplotlib)
#   bench/report.sh --no-plots          (the Markdown alone: python3 only)
#   bench/report.sh --results DIR --out DIR
#   bench/report.sh --self-test         (the parser's and the report's tests, on bench/tools/test/results)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the first Python 3 that has matplotlib (Debian's python3-matplotlib is for /usr/bin/python3, which another
# python3 on the PATH may hide), else any Python 3 (it says what to install unless --no-plots)
py=""
for cand in "$(command -v python3 || true)" /usr/bin/python3; do
  [ -n "$cand" ] && [ -x "$cand" ] || continue
  [ -n "$py" ] || py=$cand
  if "$cand" -c 'import matplotlib' 2>/dev/null; then py=$cand; break; fi
done
[ -n "$py" ] || { echo "bench/report.sh needs Python 3: apt-get install -y python3 python3-matplotlib" >&2; exit 2; }
exec "$py" "$here/tools/benchreport.py" "$@"
