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

pg_virtualenv -v 15 bash -c '
  set -e
  status=0
  make installcheck || { cat regression.diffs 2>/dev/null | head -200; status=1; }
  # window_funnel against a transcription of the spec, every mode
  createdb funnel_diff
  psql -q -d funnel_diff -c "CREATE EXTENSION funnel"
  PGDATABASE=funnel_diff python3 test/tools/differential.py 1500 "${FUNNEL_TEST_SEED:-$RANDOM}" || status=1
  createdb funnel_tap
  psql -q -d funnel_tap -c "CREATE EXTENSION pgtap"
  pg_prove -d funnel_tap --ext .sql test/ || status=1
  exit $status
'
