#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs,
# builds with -Wall -Wextra -Werror, installs the extension, and runs
#   - pg_regress (sql/, expected/) and pgTAP (test/*.sql, with pg_prove) in a
#     throwaway cluster (pg_virtualenv), with the differential test of
#     window_funnel against a transcription of the spec (test/tools/differential.py);
#   - every shell test test/*.sh (except the helpers named in $helpers and this
#     script), each with no arguments; each starts the clusters it needs.
#
# Counting (the last line is "N passed, M failed"):
#   - pg_regress: each test (sql/*.sql) is one, from pg_regress's summary
#     ("All N tests passed." or "M of N tests failed.");
#   - pgTAP: each assertion is one: passed = pg_prove's Tests= minus the failed
#     ones, failed = the sum of "Failed: K" of its Test Summary Report, plus one
#     for a file that ended badly without a failed assertion (a bad plan, an
#     error, a non-zero exit);
#   - the differential test is one;
#   - a shell test is one, unless it prints its own "N passed, M failed" line:
#     then its last such line counts (and one failure more if it exits
#     non-zero while reporting none).
# pg_prove's own summary is printed as it comes.  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

packages="postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl make gcc python3"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make clean >/dev/null
make COPT='-Wall -Wextra -Werror'
# several checkouts on one machine share the installed extension: serialise
exec 9>/tmp/funnel-install.lock
flock 9
make install

# scripts in test/ that are not tests (they need arguments)
helpers="run.sh svg_render.sh"

passed=0
failed=0
count() {  # count NAME PASSED FAILED
  passed=$((passed + $2)); failed=$((failed + $3))
  if [ "$3" -eq 0 ]; then echo "== $1: $2 passed"
  else echo "== $1: $2 passed, $3 FAILED"; fi
}

results=$(mktemp -d /tmp/funnel-run.XXXXXX)
chmod 0777 "$results"
export FUNNEL_RESULTS=$results
pg_virtualenv -v 15 bash -c '
  s=0; make installcheck > "$FUNNEL_RESULTS/regress.txt" 2>&1 || s=1
  cat "$FUNNEL_RESULTS/regress.txt"
  [ "$s" = 0 ] || head -200 regression.diffs 2>/dev/null || true
  # window_funnel against a transcription of the spec, every mode
  createdb funnel_diff
  psql -q -d funnel_diff -c "CREATE EXTENSION funnel"
  s=0; PGDATABASE=funnel_diff python3 test/tools/differential.py 1500 "${FUNNEL_TEST_SEED:-$RANDOM}" || s=1
  echo "$s" > "$FUNNEL_RESULTS/differential.status"
  createdb funnel_tap
  psql -q -d funnel_tap -c "CREATE EXTENSION pgtap"
  s=0; pg_prove -d funnel_tap --ext .sql test/ 2>&1 | tee "$FUNNEL_RESULTS/pgtap.txt" || s=1
  echo "$s" > "$FUNNEL_RESULTS/pgtap.status"
' || true

# pg_regress
summary=$(grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$results/regress.txt" | tail -1 || true)
if [[ $summary =~ All\ ([0-9]+)\ tests\ passed ]]; then
  count pg_regress "${BASH_REMATCH[1]}" 0
elif [[ $summary =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
  count pg_regress $((BASH_REMATCH[2] - BASH_REMATCH[1])) "${BASH_REMATCH[1]}"
else
  count "pg_regress (did not run to its summary)" 0 1
fi

# the differential test
s=$(cat "$results/differential.status" 2>/dev/null || echo 1)
if [ "$s" = 0 ]; then count differential 1 0; else count differential 0 1; fi

# pgTAP
tap=$results/pgtap.txt
tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$tap" 2>/dev/null | tail -1)
if [ -z "$tests" ]; then
  count "pgTAP (pg_prove printed no summary)" 0 1
else
  # "test/x.sql (Wstat: 256 (exited 1) Tests: 41 Failed: 2)" and, for
  # files that failed without a failed assertion, "Failed: 0" or a bad plan
  tap_failed=$(awk '
    /^[^ ].*\(Wstat: .*Tests: [0-9]+ Failed: [0-9]+\)/ {
      match($0, /Failed: [0-9]+/); k = substr($0, RSTART + 8, RLENGTH - 8) + 0
      sum += (k > 0 ? k : 1)
    }
    END { print sum + 0 }' "$tap")
  if grep -q '^Result: FAIL' "$tap" && [ "$tap_failed" -eq 0 ]; then tap_failed=1; fi
  count pgTAP $((tests - tap_failed > 0 ? tests - tap_failed : 0)) "$tap_failed"
fi

# shell tests
for t in test/*.sh; do
  case " $helpers " in *" $(basename "$t") "*) continue ;; esac
  echo "== running $t"
  set +e
  bash "$t" 2>&1 | tee "$results/shell.txt"
  s=${PIPESTATUS[0]}
  set -e
  own=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$results/shell.txt" | tail -1 || true)
  if [ -n "$own" ]; then
    p=${own%% passed*}; f=${own#*passed, }; f=${f%% failed}
    [ "$s" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    count "$t" "$p" "$f"
  elif [ "$s" -eq 0 ]; then count "$t" 1 0
  else count "$t" 0 1; fi
done
rm -rf "$results"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
