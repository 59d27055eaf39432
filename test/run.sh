#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs,
# builds with -Wall -Wextra -Werror, installs the extension, starts a throwaway
# cluster (pg_virtualenv) and runs pg_regress (sql/, expected/) and pgTAP
# (test/*.sql, with pg_prove).  Exits non-zero on any failure.
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

passed=0
failed=0
record() {  # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "== $1: ok"
  else failed=$((failed + 1)); echo "== $1: FAILED"; fi
}

run_in_cluster() {
  pg_virtualenv -v 15 bash -c '
    set -e
    status=0
    make installcheck || { cat regression.diffs 2>/dev/null | head -200; status=1; }
    echo "pg_regress=$status" >> "$FUNNEL_RESULTS"
    # window_funnel against a transcription of the spec, every mode
    createdb funnel_diff
    psql -q -d funnel_diff -c "CREATE EXTENSION funnel"
    s=0; PGDATABASE=funnel_diff python3 test/tools/differential.py 1500 "${FUNNEL_TEST_SEED:-$RANDOM}" || s=1
    echo "differential=$s" >> "$FUNNEL_RESULTS"
    createdb funnel_tap
    psql -q -d funnel_tap -c "CREATE EXTENSION pgtap"
    s=0; pg_prove -d funnel_tap --ext .sql test/ || s=1
    echo "pgtap=$s" >> "$FUNNEL_RESULTS"
  '
}

export FUNNEL_RESULTS=$(mktemp)
run_in_cluster || true
for part in pg_regress differential pgtap; do
  s=$(grep "^$part=" "$FUNNEL_RESULTS" | cut -d= -f2)
  record "$part" "${s:-1}"
done
rm -f "$FUNNEL_RESULTS"

# checks that need their own cluster or other programs (each starts its own)
s=0; bash test/funnel_svg.sh || s=1; record "SVG in headless Chromium" $s
s=0; bash test/attribution_svg.sh || s=1; record "attribution SVG in headless Chromium" $s
s=0; bash test/pg_cron.sh || s=1; record "materialized reports refreshed by pg_cron" $s

echo "test suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
