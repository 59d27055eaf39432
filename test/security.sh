#!/usr/bin/env bash
# Security test: no one gains privileges through the extension.
#
# funnel is trusted: a role with CREATE on a database may CREATE EXTENSION
# funnel, and the script then runs as the bootstrap superuser.  This test
# starts its own cluster (test/tools/own_cluster.sh; binaries of $PG_CONFIG,
# extension installed there) and, as two unprivileged roles, plants
# operators and functions that win over pg_catalog's by an exact type match
# (test/security/plants.sql: each records its call and tries to make the
# attackers superusers when a superuser calls it):
#   eve      has CREATE on the database (and on public, as before
#            PostgreSQL 15); plants in her schema eve_s and in public and
#            installs with CREATE EXTENSION funnel SCHEMA eve_s;
#   mallory  owns the database; plants in public and installs with a plain
#            CREATE EXTENSION funnel (into public).
# For each of them: every available version installed fresh, and every
# version with an update path to the default one installed then updated
# with ALTER EXTENSION funnel UPDATE.  After each, a superuser calls every SQL
# and PL/pgSQL function of the extension (test/security/calls.sql) with the
# attackers' schemas in its search_path, and the results must equal those of
# a clean database.  Checks, one line each, "ok" or "FAILED":
#   - no funnel--*.sql script (installed ones) contains a DO block;
#   - every SQL and PL/pgSQL member has proconfig {search_path=pg_catalog, pg_temp};
#   - every SQL and PL/pgSQL member has a call in test/security/calls.sql;
#   - no plant was ever called (sequence, log table, WARNING) in any database;
#   - no role gained an attribute or a membership;
#   - the installer (owner of the extension, not of its members) cannot drop,
#     replace or alter a member;
#   - the extension installs into a schema named "p%s" and its functions run.
# Exits non-zero when a check fails.  The last line is "N passed, M failed"
# (test/run.sh counts the checks from it).
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
source test/tools/own_cluster.sh
start_own_cluster

out=$(mktemp -d /tmp/funnel-security.XXXXXX)
chmod 0777 "$out"
passed=0
failed=0
ok() { echo "security: $1 ok"; passed=$((passed + 1)); }
fail() { echo "security: $1 FAILED"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -60; failed=$((failed + 1)); }
# the test's own queries never see the attackers' schemas
export PGOPTIONS='-c search_path=pg_catalog,pg_temp'
sq() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -At -q -v ON_ERROR_STOP=1 "$@"; }

# members written in SQL or PL/pgSQL, as signatures relative to their schema
sql_members_query="SELECT p.oid::regprocedure::text FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
  JOIN pg_language l ON l.oid = p.prolang
  WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e' AND l.lanname IN ('sql', 'plpgsql')
    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'funnel') ORDER BY 1"
roles_query="SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit,
  (SELECT string_agg(m.roleid::regrole::text, ',' ORDER BY 1) FROM pg_auth_members m WHERE m.member = r.oid)
  FROM pg_roles r ORDER BY 1"

# ---- static checks of the installed scripts
# (the checkout's scripts and the installed ones, which these tests install)
sharedir=$("$PG_CONFIG" --sharedir)/extension
scripts=$(ls funnel--*.sql "$sharedir"/funnel--*.sql)
do_blocks=$(grep -n -i -E '^[[:space:]]*DO([[:space:]]|$)' $scripts || true)
if [ -z "$do_blocks" ]; then ok "no DO block in $(echo "$scripts" | wc -l) scripts (checkout and installed)"
else fail "no DO block in the scripts" "$do_blocks"; fi

default=$(val -c "SELECT default_version FROM pg_available_extensions WHERE name = 'funnel'")
versions=$(val -c "SELECT version FROM pg_available_extension_versions WHERE name = 'funnel' ORDER BY 1")
updatable=$(val -c "SELECT source FROM pg_extension_update_paths('funnel') WHERE target = '$default' AND path IS NOT NULL ORDER BY 1")
echo "security: versions $(echo $versions), updates to $default from: $(echo $updatable)"

sq -c "CREATE ROLE eve LOGIN" -c "CREATE ROLE mallory LOGIN"
createdb plants
sq -d plants -c "GRANT CREATE ON DATABASE plants TO eve" -c "GRANT CREATE ON SCHEMA public TO eve, mallory"
val -c "$roles_query" > "$out/roles-before.txt"

# ---- references from a clean database per version: arguments, results, called names
for v in $versions; do
  createdb "clean_$v"
  sq -d "clean_$v" -c "CREATE EXTENSION funnel SCHEMA public VERSION '$v'"
  val -d "clean_$v" -f test/security/values.sql > "$out/values-$v.txt"
  PGOPTIONS='-c search_path=public' val -d "clean_$v" \
    -v fs="$(sed -n 's/^fs|//p' "$out/values-$v.txt")" -v cm="$(sed -n 's/^cm|//p' "$out/values-$v.txt")" \
    -v attrs="$(sed -n 's/^attrs|//p' "$out/values-$v.txt")" -f test/security/calls.sql > "$out/calls-clean-$v.txt" 2>&1 \
    || fail "calls in a clean database (version $v)" "$(tail -5 "$out/calls-clean-$v.txt")"
  # every call answers something (a section "call ..." with rows under it)
  empty=$(awk '/^call / { if (name != "" && rows == 0) print name; name = $0; rows = 0; next }
               { rows++ } END { if (name != "" && rows == 0) print name }' "$out/calls-clean-$v.txt")
  if [ -z "$empty" ]; then ok "every call answers in a clean database (version $v)"
  else fail "every call answers in a clean database (version $v)" "$empty"; fi
  val -d "clean_$v" -c "SELECT DISTINCT m[1] FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
      JOIN pg_language l ON l.oid = p.prolang,
      regexp_matches(p.prosrc, '([A-Za-z_][A-Za-z0-9_]*)\s*\(', 'g') m
    WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e' AND l.lanname IN ('sql', 'plpgsql')
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'funnel')
      AND EXISTS (SELECT FROM pg_proc b WHERE b.proname = lower(m[1])
                     AND b.pronamespace = 'pg_catalog'::regnamespace)" >> "$out/called.txt"
done
called=$(sort -u "$out/called.txt" | tr 'A-Z' 'a-z' | sort -u)
echo "security: planting functions named $(echo $called)"

# ---- the plants, in a template copied for every installation
val -U eve -d plants -v schema=eve_s -v called="$called" -f test/security/plants.sql > "$out/plants.txt" 2>&1 \
  || fail "planting in eve_s" "$(tail -5 "$out/plants.txt")"
val -U eve -d plants -v schema=public -v called="$called" -f test/security/plants.sql >> "$out/plants.txt" 2>&1 \
  || fail "planting in public" "$(tail -5 "$out/plants.txt")"
grep -o 'planted .*' "$out/plants.txt" | sed 's/^/security: /'
sq -c "ALTER DATABASE plants IS_TEMPLATE true"

# install NAME INSTALLER SCHEMA VERSION [UPDATE]: a copy of the planted
# database, the installation as INSTALLER, then the superuser's calls
stage_n=0
install() {
  local name=$1 who=$2 schema=$3 v=$4 update=${5:-}
  local db="s$stage_n" final=$v log="$out/stage-$stage_n.txt"
  stage_n=$((stage_n + 1))
  local owner=postgres; [ "$who" = mallory ] && owner=mallory
  sq -c "CREATE DATABASE $db TEMPLATE plants OWNER $owner" || { fail "$name: create database"; return; }
  sq -d "$db" -c "GRANT CREATE ON DATABASE $db TO eve"
  local clause=""; [ "$schema" != public ] && clause="SCHEMA $schema"
  # the attacker's own session: default search_path, its plants visible
  if ! PGOPTIONS= sq -U "$who" -d "$db" -c "CREATE EXTENSION funnel $clause VERSION '$v'" > "$log" 2>&1; then
    fail "$name: CREATE EXTENSION as $who" "$(cat "$log")"; return
  fi
  if [ -n "$update" ]; then
    final=$default
    if ! PGOPTIONS= sq -U "$who" -d "$db" -c "ALTER EXTENSION funnel UPDATE" >> "$log" 2>&1; then
      fail "$name: ALTER EXTENSION UPDATE as $who" "$(cat "$log")"; return
    fi
  fi
  # the installer owns the extension, not its members: it cannot change them
  local f="$schema.cac_payback_months(numeric, numeric, numeric)" stmt changed=""
  for stmt in "ALTER EXTENSION funnel DROP FUNCTION $f" "DROP FUNCTION $f" \
              "CREATE OR REPLACE FUNCTION $f RETURNS numeric LANGUAGE sql AS 'SELECT 1'" \
              "ALTER FUNCTION $f OWNER TO $who" "ALTER FUNCTION $f SET search_path = public" \
              "ALTER TYPE $schema.funnel_event OWNER TO $who"; do
    PGOPTIONS= psql -X -q -U "$who" -d "$db" -c "$stmt" >/dev/null 2>&1 && changed="$changed
$stmt"
  done
  if [ -z "$changed" ]; then ok "$name: $who cannot change the extension's objects"
  else fail "$name: $who cannot change the extension's objects (these worked)" "$changed"; fi
  # settings of every SQL and PL/pgSQL member
  local bad
  bad=$(val -d "$db" -c "SELECT p.oid::regprocedure, p.proconfig FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
      JOIN pg_language l ON l.oid = p.prolang
      WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e' AND l.lanname IN ('sql', 'plpgsql')
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'funnel')
        AND p.proconfig IS DISTINCT FROM '{\"search_path=pg_catalog, pg_temp\"}'")
  if [ -z "$bad" ]; then ok "$name: SET search_path = pg_catalog, pg_temp on every SQL/PL function"
  else fail "$name: SET search_path = pg_catalog, pg_temp on every SQL/PL function" "$bad"; fi
  # every SQL and PL/pgSQL member is called by calls.sql
  local missing
  missing=$(comm -23 <(PGOPTIONS="-c search_path=$schema" val -d "$db" -c "$sql_members_query" | sort) \
                     <(sed -n 's/^\\echo call //p' test/security/calls.sql | sort))
  if [ -z "$missing" ]; then ok "$name: every SQL/PL member called"
  else fail "$name: every SQL/PL member called (these have no call in test/security/calls.sql)" "$missing"; fi
  # the superuser's calls, attackers' schemas first (pg_catalog implicitly before them)
  PGOPTIONS="-c search_path=\"\$user\",public,eve_s,$schema" val -d "$db" \
    -v fs="$(sed -n 's/^fs|//p' "$out/values-$final.txt")" -v cm="$(sed -n 's/^cm|//p' "$out/values-$final.txt")" \
    -v attrs="$(sed -n 's/^attrs|//p' "$out/values-$final.txt")" -f test/security/calls.sql > "$out/calls-$db.txt" 2>&1
  local d
  d=$(diff "$out/calls-clean-$final.txt" "$out/calls-$db.txt")
  if [ -z "$d" ]; then ok "$name: calls give the clean database's results"
  else fail "$name: calls give the clean database's results" "$d"; fi
  # no plant called, here or by anyone in this database
  local calls
  calls=$(val -d "$db" -c "SELECT 'eve_s: ' || last_value || ' ' || is_called FROM eve_s.plant_calls
                           UNION ALL SELECT 'public: ' || last_value || ' ' || is_called FROM public.plant_calls
                           UNION ALL SELECT 'logged: ' || plant FROM eve_s.plant_log
                           UNION ALL SELECT 'logged: ' || plant FROM public.plant_log")
  if [ "$calls" = "$(printf 'eve_s: 1 false\npublic: 1 false')" ] && ! grep -q 'PLANT CALLED' "$log" "$out/calls-$db.txt"; then
    ok "$name: no plant called"
  else
    fail "$name: no plant called" "$calls
$(grep -h 'PLANT CALLED' "$log" "$out/calls-$db.txt" | sort | uniq -c)"
  fi
  d=$(diff "$out/roles-before.txt" <(val -c "$roles_query"))
  if [ -z "$d" ]; then ok "$name: no role gained an attribute or membership"
  else fail "$name: no role gained an attribute or membership" "$d"; fi
}

for v in $versions; do
  install "eve, $v into eve_s" eve eve_s "$v"
  install "mallory, $v into public" mallory public "$v"
done
for v in $updatable; do
  install "eve, $v into eve_s, updated" eve eve_s "$v" update
  install "mallory, $v into public, updated" mallory public "$v" update
done

# ---- a schema whose name is a format string
createdb pct
# funnel of 5 users: 5 visit, 2 add to cart, 1 buys (test/security/values.sql)
res=$(printf '%s\n' \
  'CREATE SCHEMA "p%s";' 'CREATE EXTENSION funnel SCHEMA "p%s";' \
  'SELECT "p%s".cac_payback_months(120, 25, 0.6);' \
  "SELECT \"p%s\".funnel_conversion(:'fs'::\"p%s\".funnel_summary);" \
  "SELECT count(*) FROM \"p%s\".funnel_report(:'fs'::\"p%s\".funnel_summary, 10::numeric);" \
  | psql -X -At -q -v ON_ERROR_STOP=1 -d pct -v fs="$(sed -n 's/^fs|//p' "$out/values-$default.txt")" -f - 2>&1)
if [ "$res" = "$(printf '8.0000000000000000\n{1,0.4,0.5}\n3')" ]; then ok 'schema "p%s"'
else fail 'schema "p%s"' "$res"; fi

if [ "$failed" = 0 ]; then rm -rf "$out"; else echo "security: outputs kept in $out"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
