#!/usr/bin/env bash
# Upgrade test: a database made with release 1.0 and updated with
# ALTER EXTENSION funnel UPDATE is a fresh install of the current version,
# with its data intact.  Starts its own cluster (test/tools/own_cluster.sh)
# from the binaries of $PG_CONFIG and expects the extension installed there
# (make install).  Checks, each printed as "ok" or "FAILED":
#   catalog  the catalog listing of every extension member
#            (test/upgrade/catalog.sql) after the update equals that of a
#            fresh install in another database;
#   data     values of every stored type, the accessors and reports on them,
#            btree (amcheck) and hash indexes, index scans and materialized
#            views (test/upgrade/data.sql, test/upgrade/stored.sql) print the
#            same before and after the update, and index scans and REFRESH
#            work after it;
#   dump     pg_dump -Fc of the updated database restored with pg_restore
#            into a new database: the same catalog listing and the same data;
#   views    a user's views over the extension's functions
#            (test/upgrade/views.sql) do not stop the update and read the
#            same after it.
# Exits non-zero when a check fails; the diffs are printed.  The last line
# is "N passed, M failed" (test/run.sh counts the checks from it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster

out=$(mktemp -d /tmp/funnel-upgrade.XXXXXX)
chmod 0755 "$out"
passed=0
failed=0
ok() { echo "upgrade: $1 ok"; passed=$((passed + 1)); }
fail() { echo "upgrade: $1 FAILED"; failed=$((failed + 1)); }
check() {  # check NAME EXPECTED_FILE ACTUAL_FILE
  if diff -u "$2" "$3" > "$out/$1.diff"; then ok "$1"
  else fail "$1"; head -100 "$out/$1.diff"; fi
}
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

default=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" funnel.control)
echo "upgrade: 1.0 -> $default"

# the old release with data in it, read back before the update
createdb funnel_updated
psql_q -d funnel_updated -c "CREATE EXTENSION funnel VERSION '1.0'"
psql_q -d funnel_updated -f test/upgrade/data.sql
psql_q -d funnel_updated -f test/upgrade/stored.sql > "$out/stored-1.0.txt"
# the indexes were used (the plans are part of what is compared)
for ix in stored_events_btree stored_events_hash; do
  if grep -q "Index.* Scan using $ix" "$out/stored-1.0.txt"; then ok "index scan on $ix"
  else fail "index scan on $ix"; fi
done

psql_q -d funnel_updated -c "ALTER EXTENSION funnel UPDATE"
version=$(psql -X -At -d funnel_updated -c "SELECT extversion FROM pg_extension WHERE extname = 'funnel'")
if [ "$version" = "$default" ]; then ok "updated to $default"; else fail "updated to $default (not $version)"; fi

# (a) the objects: updated = fresh install
createdb funnel_fresh
psql_q -d funnel_fresh -c "CREATE EXTENSION funnel"
psql_q -d funnel_fresh -f test/upgrade/catalog.sql > "$out/catalog-fresh.txt"
psql_q -d funnel_updated -f test/upgrade/catalog.sql > "$out/catalog-updated.txt"
lines=$(wc -l < "$out/catalog-fresh.txt")
if [ "$lines" -gt 300 ]; then ok "catalog listing of $lines objects"; else fail "catalog listing of $lines objects"; fi
check catalog "$out/catalog-fresh.txt" "$out/catalog-updated.txt"

# (b) the data: the same before and after the update
psql_q -d funnel_updated -f test/upgrade/stored.sql > "$out/stored-updated.txt"
check data "$out/stored-1.0.txt" "$out/stored-updated.txt"

# (c) dump and restore of the updated database
pg_dump -Fc -d funnel_updated -f "$out/updated.dump"
createdb funnel_restored
if pg_restore --exit-on-error -d funnel_restored "$out/updated.dump" > "$out/restore.txt" 2>&1; then ok "pg_restore"
else fail "pg_restore"; head -20 "$out/restore.txt"; fi
psql_q -d funnel_restored -f test/upgrade/catalog.sql > "$out/catalog-restored.txt"
psql_q -d funnel_restored -f test/upgrade/stored.sql > "$out/stored-restored.txt" 2>&1 || true
cat "$out/catalog-updated.txt" "$out/stored-updated.txt" > "$out/dump-expected.txt"
cat "$out/catalog-restored.txt" "$out/stored-restored.txt" > "$out/dump-actual.txt"
check dump "$out/dump-expected.txt" "$out/dump-actual.txt"

# (d) a user's views over the extension's functions: the update succeeds with
# them in place, and they read the same after it
createdb funnel_views
psql_q -d funnel_views -c "CREATE EXTENSION funnel VERSION '1.0'"
psql_q -d funnel_views -f test/upgrade/data.sql
psql_q -d funnel_views -f test/upgrade/views.sql
psql_q -d funnel_views -f test/upgrade/read_views.sql > "$out/views-1.0.txt"
if psql_q -d funnel_views -c "ALTER EXTENSION funnel UPDATE" > "$out/views-update.txt" 2>&1; then
  ok "update with views over the extension's functions"
  psql_q -d funnel_views -f test/upgrade/read_views.sql > "$out/views-updated.txt" 2>&1 || true
  check views "$out/views-1.0.txt" "$out/views-updated.txt"
else
  fail "update with views over the extension's functions"; cat "$out/views-update.txt"
fi

if [ -n "${FUNNEL_UPGRADE_KEEP:-}" ]; then echo "upgrade: outputs kept in $out"; else rm -rf "$out"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
