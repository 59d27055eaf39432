#!/usr/bin/env bash
# paths against test/tools/paths_reference.py, a Python implementation
# written from doc/paths.md: random events (ties in time, repeated events,
# awkward names), random anchors, depths and top_n, each result compared as
# jsonb; half of the seeds with parallel aggregation forced (states
# serialised, combined, deserialised).  Own cluster (test/tools/own_cluster.sh,
# binaries of $PG_CONFIG with the extension installed).
# The last line is "N passed, M failed"; exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster

out=$(mktemp -d /tmp/funnel-paths.XXXXXX)
trap 'rm -rf "$out"; stop_own_cluster' EXIT
passed=0
failed=0
for seed in 1 2 3 4 5 6 7 8 9 10; do
  mode=serial
  [ $((seed % 2)) = 0 ] && mode=parallel
  python3 test/tools/paths_reference.py "$seed" 4 "$mode" > "$out/case.sql"
  if ! psql -X -q -A -t -f "$out/case.sql" > "$out/result.txt" 2> "$out/err.txt"; then
    echo "paths_differential: seed $seed: psql failed"; cat "$out/err.txt"
    failed=$((failed + 1))
    continue
  fi
  ok=$(grep -c '^ok ' "$out/result.txt")
  bad=$(grep -c '^FAILED ' "$out/result.txt")
  passed=$((passed + ok))
  failed=$((failed + bad))
  [ "$bad" -gt 0 ] && grep -A2 '^FAILED ' "$out/result.txt" | head -30
  echo "paths_differential: seed $seed ($mode): $ok ok, $bad failed"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
