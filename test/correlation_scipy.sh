#!/usr/bin/env bash
# funnel_correlation against test/tools/correlation_reference.py: the funnel
# walk transcribed from doc/window_funnel.md, the drivers counted from
# doc/correlation.md, odds ratios as exact fractions and Fisher exact
# p-values from SciPy (python3-scipy, installed with apt when missing).
# Random funnels (2 or 3 steps, one name for two steps, NULL events),
# random events, channels as the property, random min_count; half of the
# seeds with parallel aggregation forced.  Own cluster
# (test/tools/own_cluster.sh, binaries of $PG_CONFIG with the extension
# installed).  The last line is "N passed, M failed"; exits non-zero on a
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."
# the first Python that has SciPy: the one on PATH, else Debian's
py=""
for p in python3 /usr/bin/python3; do
  if "$p" -c "import scipy.stats" 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-scipy >/dev/null
  py=/usr/bin/python3
fi
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster
psql -X -q -c "CREATE EXTENSION funnel"

out=$(mktemp -d /tmp/funnel-correlation.XXXXXX)
trap 'rm -rf "$out"; stop_own_cluster' EXIT
passed=0
failed=0
for seed in 1 2 3 4 5 6 7 8; do
  mode=serial
  [ $((seed % 2)) = 0 ] && mode=parallel
  "$py" test/tools/correlation_reference.py "$seed" 4 "$mode" > "$out/result.txt" 2> "$out/err.txt"
  ok=$(grep -c '^ok ' "$out/result.txt")
  bad=$(grep -c '^FAILED ' "$out/result.txt")
  if [ $((ok + bad)) -lt 4 ]; then
    echo "correlation_scipy: seed $seed stopped early:"; tail -5 "$out/err.txt"
    bad=$((bad + 4 - ok - bad))
  fi
  sed "s/^/correlation_scipy: ($mode) /" "$out/result.txt"
  passed=$((passed + ok))
  failed=$((failed + bad))
done
# p-values of given tables, far into the tails, with relative precision 1e-6
"$py" test/tools/correlation_reference.py tables > "$out/tables.txt" 2> "$out/err.txt"
sed "s/^/correlation_scipy: /" "$out/tables.txt"
ok=$(grep -c '^ok ' "$out/tables.txt")
passed=$((passed + ok))
failed=$((failed + 10 - ok))
[ "$ok" = 10 ] || tail -5 "$out/err.txt"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
