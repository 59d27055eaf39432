#!/usr/bin/env bash
# Upgrade test: a database made with release 1.0 and updated with
# ALTER EXTENSION funnel UPDATE is a fresh install of the current version,
# with its data intact.  The data is written by the released 1.0 library,
# built from test/upgrade/funnel-1.0-src.tar.gz (the sources of a6c87e5, the
# commit that froze funnel--1.0.sql), and read by the current one, as a DBA
# does who installs the new package and then runs the update.  The test makes
# a private copy of the PostgreSQL installation of $PG_CONFIG (binaries and
# share directory, as test/tools/sandbox.sh does) so that it can swap the
# library without touching the system's, and starts its own cluster from it
# (test/tools/own_cluster.sh).  It builds the current tree if needed (make
# install into the copy).  Checks, each printed as "ok" or "FAILED":
#   1.0 sources  the archive's funnel--1.0.sql is the frozen script here;
#   catalog      the catalog listing of every extension member
#                (test/upgrade/catalog.sql) after the update equals that of a
#                fresh install in another database;
#   data         values of every stored type, the accessors and reports on
#                them, btree (amcheck) and hash indexes, index scans and
#                materialized views (test/upgrade/data.sql,
#                test/upgrade/stored.sql) print the same with the 1.0 library,
#                with the current library before the update ("data, new
#                library") and after it, and index scans and REFRESH work;
#   sBG          the one intended change of a reading: the discounted
#                remaining lifetime of the stored sBG model is 1.0's times
#                (1 + discount) (Fader & Hardie's DERL since 1.1);
#   dump         pg_dump -Fc of the updated database restored with pg_restore
#                into a new database: the same catalog listing and the same
#                data (1.0-written values go through the current text input);
#   binary copy  a binary COPY written by the 1.0 send functions, read by
#                the current receive functions, prints the same;
#   1.0 dump     a pg_dump made with 1.0, restored with the current library
#                (a fresh install of the current version), reads the same;
#   journey      values of the journey type (new in 1.1) written after the
#                update from the stored journeys read the same after the dump
#                and restore and through a binary COPY;
#   views        a user's views over the extension's functions
#                (test/upgrade/views.sql) do not stop the update and read the
#                same after it as with the 1.0 library.
# Each reading starts from the data as 1.0 wrote it: the databases read with
# the current library are copies (CREATE DATABASE ... TEMPLATE) made under
# 1.0, since stored.sql refreshes the materialized views.
# Exits non-zero when a check fails; the diffs are printed.  The last line
# is "N passed, M failed" (test/run.sh counts the checks from it).
# FUNNEL_UPGRADE_KEEP=1 keeps the readings (the folder is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(pwd)
export PG_CONFIG=${PG_CONFIG:-pg_config}

out=$(mktemp -d /tmp/funnel-upgrade.XXXXXX)
chmod 0755 "$out"
cleanup() {
  [ "$(type -t stop_own_cluster)" = function ] && stop_own_cluster
  if [ -n "${FUNNEL_UPGRADE_KEEP:-}" ]; then echo "upgrade: outputs kept in $out"
  else rm -rf "$out"; fi
}
trap cleanup EXIT
passed=0
failed=0
ok() { echo "upgrade: $1 ok"; passed=$((passed + 1)); }
fail() { echo "upgrade: $1 FAILED"; failed=$((failed + 1)); }
check() {  # check NAME EXPECTED_FILE ACTUAL_FILE
  if diff -u "$2" "$3" > "$out/$(echo "$1" | tr ' ,' '__').diff"; then ok "$1"
  else fail "$1"; head -100 "$out/$(echo "$1" | tr ' ,' '__').diff"; fi
}
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

default=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" funnel.control)
echo "upgrade: 1.0 -> $default"

# a private copy of the installation: its pg_config reports the copy's own
# directories (relocatable paths), the server headers are shared
bindir=$("$PG_CONFIG" --bindir)
libroot=$(dirname "$bindir")
sharedir=$("$PG_CONFIG" --sharedir)
incdir=$(dirname "$("$PG_CONFIG" --includedir-server)")
pg=$out/pg
mkdir -p "$pg$(dirname "$libroot")" "$pg$(dirname "$sharedir")" "$pg$(dirname "$incdir")"
cp -a "$libroot" "$pg$(dirname "$libroot")/"
cp -a "$sharedir" "$pg$(dirname "$sharedir")/"
ln -s "$incdir" "$pg$incdir"
export PG_CONFIG=$pg$bindir/pg_config
pkglibdir=$("$PG_CONFIG" --pkglibdir)
extdir=$("$PG_CONFIG" --sharedir)/extension
case "$pkglibdir:$extdir" in
  "$pg"/*:"$pg"/*) ;;
  *) echo "upgrade: the copied pg_config names $pkglibdir, not the copy"; exit 1 ;;
esac

# the 1.0 library, from the released sources; its funnel.control already
# named 1.1 (1.1 began in that commit) but the archive holds only the 1.0
# script, hence EXTVERSION=1.0 for its Makefile's check
old=$out/funnel-1.0
mkdir "$old"
tar -xzf test/upgrade/funnel-1.0-src.tar.gz -C "$old"
if cmp -s funnel--1.0.sql "$old/funnel--1.0.sql"; then ok "1.0 sources: funnel--1.0.sql is the frozen script"
else fail "1.0 sources: funnel--1.0.sql is the frozen script"; fi
if ! make -C "$old" -j2 EXTVERSION=1.0 > "$out/build-1.0.txt" 2>&1 \
   || ! make -C "$old" EXTVERSION=1.0 install >> "$out/build-1.0.txt" 2>&1; then
  tail -30 "$out/build-1.0.txt"; fail "build of the 1.0 library"; echo "$passed passed, $failed failed"; exit 1
fi
# with the scripts of this tree (1.0's is the same file), as on a machine
# where 1.0 is installed and the new package's scripts are not yet in use
cp funnel.control funnel--*.sql "$extdir/"

source test/tools/own_cluster.sh
start_own_cluster
trap cleanup EXIT

# the library the server loads, by content
loaded_is() {  # loaded_is FILE: the installed funnel.so is FILE
  cmp -s "$pkglibdir/funnel.so" "$1"
}

# (1.0) the old release with data in it, read back by the 1.0 library
if loaded_is "$old/funnel.so"; then ok "1.0 library installed"; else fail "1.0 library installed"; fi
createdb funnel_stored
psql_q -d funnel_stored -c "CREATE EXTENSION funnel VERSION '1.0'"
psql_q -d funnel_stored -f test/upgrade/data.sql
psql_q -d funnel_stored -f test/upgrade/stored.sql > "$out/stored-1.0.txt"
# the indexes were used (the plans are part of what is compared)
for ix in stored_events_btree stored_events_hash; do
  if grep -q "Index.* Scan using $ix" "$out/stored-1.0.txt"; then ok "index scan on $ix"
  else fail "index scan on $ix"; fi
done
# what the 1.0 library printed: a dump (its text output), a binary COPY (its
# send functions) of every table and materialized view holding values of the
# extension's types, and the discounted sBG remaining lifetime (1.1 changed
# its formula on purpose, checked on its own below)
pg_dump -Fc -d funnel_stored -f "$out/stored-1.0.dump"
binary_tables="stored_events:id journeys:user_id summaries:kind models:kind daily:day"
for tk in $binary_tables; do
  t=${tk%%:*} k=${tk#*:}
  psql_q -d funnel_stored -c "COPY (SELECT * FROM $t ORDER BY $k) TO STDOUT (FORMAT binary)" > "$out/$t.bin"
  psql_q -At -d funnel_stored -c "SELECT * FROM $t ORDER BY $k" >> "$out/binary-1.0.txt"
done
derl_discounted() {  # derl_discounted DATABASE
  psql_q -At -d "$1" -c "SELECT sbg_expected_remaining_lifetime(sbg, 2, 0.1) FROM models WHERE kind = 'sbg'"
}
derl_1_0=$(derl_discounted funnel_stored)
# the same 1.0-written files for each later reading
createdb -T funnel_stored funnel_new_library
createdb -T funnel_stored funnel_updated
createdb -T funnel_stored funnel_views
psql_q -d funnel_views -f test/upgrade/views.sql
psql_q -d funnel_views -f test/upgrade/read_views.sql > "$out/views-1.0.txt"

# the new package: the current library replaces 1.0's, the server restarts
stop_own_server
make -s -C "$old" EXTVERSION=1.0 uninstall > /dev/null
make -s install > "$out/install.txt" 2>&1 || { cat "$out/install.txt"; exit 1; }
start_own_server
if loaded_is "$tree/funnel.so"; then ok "current library installed"; else fail "current library installed"; fi

# (new library) between the package upgrade and ALTER EXTENSION UPDATE: the
# 1.0 SQL objects on the current library read the 1.0 data the same
psql_q -d funnel_new_library -f test/upgrade/stored.sql > "$out/stored-new-library.txt" 2>&1 || true
check "data, new library" "$out/stored-1.0.txt" "$out/stored-new-library.txt"

psql_q -d funnel_updated -c "ALTER EXTENSION funnel UPDATE"
version=$(psql -X -At -d funnel_updated -c "SELECT extversion FROM pg_extension WHERE extname = 'funnel'")
if [ "$version" = "$default" ]; then ok "updated to $default"; else fail "updated to $default (not $version)"; fi

# sbg_expected_remaining_lifetime with a discount d was Fader & Hardie's
# DERL / (1 + d) in 1.0 and is their DERL in 1.1 (CHANGELOG): on the same
# stored model, the 1.1 value is the 1.0 value times 1.1 (d = 0.1)
derl_new=$(derl_discounted funnel_updated)
if [ "$(psql_q -At -c "SELECT abs(float8 '$derl_new' - float8 '$derl_1_0' * 1.1) <= 1e-12 * float8 '$derl_new'")" = t ]
then ok "sBG discounted remaining lifetime: 1.0's times (1 + d)"
else fail "sBG discounted remaining lifetime: 1.0's times (1 + d) ($derl_1_0, then $derl_new)"; fi

# a stored type new in 1.1 (journey) cannot be written by 1.0: its values
# are written after the update, from the journeys 1.0 stored, and checked
# after pg_dump / pg_restore (c) and through a binary COPY (e)
psql_q -d funnel_updated -c "CREATE TABLE stored_journeys AS SELECT user_id, journey::journey AS cj FROM journeys"
read_journeys() {  # database: the journeys as text and as their binary layout
  psql_q -At -d "$1" -c "SELECT user_id, cj, encode(journey_send(cj), 'hex'), window_funnel('1 day', cj) FROM stored_journeys ORDER BY user_id"
}
read_journeys funnel_updated > "$out/journeys-updated.txt"
if [ "$(wc -l < "$out/journeys-updated.txt")" -gt 0 ] &&
   [ "$(psql_q -At -d funnel_updated -c "SELECT count(*) FROM stored_journeys s JOIN journeys j USING (user_id) WHERE s.cj::funnel_event[] IS DISTINCT FROM journey_merge(j.journey, NULL)")" = 0 ]
then ok "journey values written after the update"; else fail "journey values written after the update"; fi

# (a) the objects: updated = fresh install
createdb funnel_fresh
psql_q -d funnel_fresh -c "CREATE EXTENSION funnel"
psql_q -d funnel_fresh -f test/upgrade/catalog.sql > "$out/catalog-fresh.txt"
psql_q -d funnel_updated -f test/upgrade/catalog.sql > "$out/catalog-updated.txt"
lines=$(wc -l < "$out/catalog-fresh.txt")
if [ "$lines" -gt 300 ]; then ok "catalog listing of $lines objects"; else fail "catalog listing of $lines objects"; fi
check catalog "$out/catalog-fresh.txt" "$out/catalog-updated.txt"

# (b) the data: the same with 1.0 and after the update
psql_q -d funnel_updated -f test/upgrade/stored.sql > "$out/stored-updated.txt" 2>&1 || true
check data "$out/stored-1.0.txt" "$out/stored-updated.txt"

# (c) dump and restore of the updated database
pg_dump -Fc -d funnel_updated -f "$out/updated.dump" || fail "pg_dump of the updated database"
createdb funnel_restored
if pg_restore --exit-on-error -d funnel_restored "$out/updated.dump" > "$out/restore.txt" 2>&1; then ok "pg_restore"
else fail "pg_restore"; head -20 "$out/restore.txt"; fi
psql_q -d funnel_restored -f test/upgrade/catalog.sql > "$out/catalog-restored.txt"
psql_q -d funnel_restored -f test/upgrade/stored.sql > "$out/stored-restored.txt" 2>&1 || true
cat "$out/catalog-updated.txt" "$out/stored-updated.txt" > "$out/dump-expected.txt"
cat "$out/catalog-restored.txt" "$out/stored-restored.txt" > "$out/dump-actual.txt"
check dump "$out/dump-expected.txt" "$out/dump-actual.txt"
read_journeys funnel_restored > "$out/journeys-restored.txt"
check "dump of journey values" "$out/journeys-updated.txt" "$out/journeys-restored.txt"
psql_q -d funnel_updated -c "CREATE TABLE stored_journeys_from_binary (LIKE stored_journeys)"
psql_q -d funnel_updated -c "COPY stored_journeys TO STDOUT (FORMAT binary)" |
  psql_q -d funnel_updated -c "COPY stored_journeys_from_binary FROM STDIN (FORMAT binary)"
psql_q -At -d funnel_updated -c "SELECT user_id, cj, encode(journey_send(cj), 'hex'), window_funnel('1 day', cj) FROM stored_journeys_from_binary ORDER BY user_id" > "$out/journeys-binary.txt"
check "binary copy of journey values" "$out/journeys-updated.txt" "$out/journeys-binary.txt"

# (e) the binary COPY written by 1.0 read by the current receive functions,
# into copies of the tables in the updated database (the same type OIDs, which
# a binary COPY of composite values names)
for tk in $binary_tables; do
  t=${tk%%:*} k=${tk#*:}
  psql_q -d funnel_updated -c "CREATE TABLE ${t}_from_binary AS SELECT * FROM $t WITH NO DATA"
  psql_q -d funnel_updated -c "COPY ${t}_from_binary FROM STDIN (FORMAT binary)" \
    < "$out/$t.bin" >> "$out/binary-new.txt" 2>&1 || true
  psql_q -At -d funnel_updated -c "SELECT * FROM ${t}_from_binary ORDER BY $k" >> "$out/binary-new.txt"
done
check "binary copy" "$out/binary-1.0.txt" "$out/binary-new.txt"

# (f) a dump made with 1.0 (pg_dump / pg_restore to move to the new package)
# restored with the current library: a fresh install of the current version,
# the 1.0 text output of every value read by the current input functions
createdb funnel_restored_1_0
if pg_restore --exit-on-error -d funnel_restored_1_0 "$out/stored-1.0.dump" > "$out/restore-1.0.txt" 2>&1
then ok "pg_restore of a 1.0 dump"
else fail "pg_restore of a 1.0 dump"; head -20 "$out/restore-1.0.txt"; fi
psql_q -d funnel_restored_1_0 -f test/upgrade/stored.sql > "$out/stored-restored-1.0.txt" 2>&1 || true
check "1.0 dump" "$out/stored-1.0.txt" "$out/stored-restored-1.0.txt"

# (d) a user's views over the extension's functions: the update succeeds with
# them in place, and they read after it what they read with 1.0
if psql_q -d funnel_views -c "ALTER EXTENSION funnel UPDATE" > "$out/views-update.txt" 2>&1; then
  ok "update with views over the extension's functions"
  psql_q -d funnel_views -f test/upgrade/read_views.sql > "$out/views-updated.txt" 2>&1 || true
  check views "$out/views-1.0.txt" "$out/views-updated.txt"
else
  fail "update with views over the extension's functions"; cat "$out/views-update.txt"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
