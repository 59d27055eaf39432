#!/usr/bin/env bash
# Mutation fuzzer of every text and binary input of the extension (type
# input and receive functions, the aggregates' deserialise functions, text
# arguments such as modes, event and period names, models, JSON summaries).
#
#   bash test/fuzz.sh [--cases N] [--seed S] [--timeout SECONDS] [--only REGEX]
#                     [--show-errors] [--verbose]
#   bash test/fuzz.sh --replay FILE.sql   (runs a finding's statements, as the
#                                          same role, in the same setup)
#
# Starts its own throwaway cluster with the PostgreSQL of $PG_CONFIG (where
# the extension must be installed, as test/run.sh does); without PG_CONFIG
# it runs itself inside test/tools/sandbox.sh, which builds and installs this
# checkout into a private copy of PostgreSQL.  The cases run as a role that
# is not a superuser (the extension is trusted).  Prints the seed, the counts
# per target and outcome, and every finding; exits 1 if there is any.
# doc/testing.md says how to read the output.
#
# FUNNEL_SERVER_ENV (e.g. "UBSAN_OPTIONS=...") is put in the
# server's environment: test/tools/sanitize.sh uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PG_CONFIG:-}" ]; then
  exec bash test/tools/sandbox.sh bash test/fuzz.sh "$@"
fi
bindir=$("$PG_CONFIG" --bindir)
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/funnel.control" ]; then
  echo "fuzz: the extension is not installed in $("$PG_CONFIG" --sharedir)" >&2
  exit 2
fi

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

run=$(mktemp -d /tmp/funnel-fuzz.XXXXXX)
chmod 755 "$run"
[ "$(id -u)" -eq 0 ] && chown postgres: "$run"
stop() {
  as_postgres "$bindir/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$run"
}
trap stop EXIT

# the test-only module, built beside the cluster and loaded by absolute path
mkdir "$run/harness"
cp test/fuzz/funnel_fuzz.c test/fuzz/Makefile "$run/harness/"
make -s -C "$run/harness" PG_CONFIG="$PG_CONFIG" COPT='-Wall -Wextra -Werror' >/dev/null
chmod -R a+rX "$run/harness"

port=$(( 40000 + RANDOM % 20000 ))
while as_postgres "$bindir/pg_isready" -q -h "$run" -p "$port" 2>/dev/null; do port=$((port + 1)); done
as_postgres "$bindir/initdb" -D "$run/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# a runaway allocation must fail (out of memory) rather than take the machine
limit="ulimit -v 4194304;"
case "${FUNNEL_SERVER_ENV:-}" in *asan*|*ASAN*) limit="";; esac
as_postgres bash -c "$limit exec env ${FUNNEL_SERVER_ENV:-} '$bindir/pg_ctl' -D '$run/data' -l '$run/log' -w \
  -o \"-p $port -k $run -c listen_addresses='' -c fsync=off -c max_worker_processes=4 -c log_min_messages=log -c log_min_error_statement=panic\" start" >/dev/null

export PGHOST=$run PGPORT=$port
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql -U postgres -d postgres <<SQL
CREATE ROLE funnel_fuzz LOGIN;
CREATE DATABASE funnel_fuzz OWNER funnel_fuzz;
ALTER ROLE funnel_fuzz SET statement_timeout = '20s';
SQL
# the extension is trusted: the plain role installs it
psql -U funnel_fuzz -d funnel_fuzz <<SQL
CREATE EXTENSION funnel;
-- binary and text cases load values here (TRUNCATE between cases)
CREATE TABLE fz_funnel_event (v funnel_event);
CREATE TABLE fz_funnel_summary (v funnel_summary);
CREATE TABLE fz_attribution_summary (v attribution_summary);
CREATE TABLE fz_pipeline_summary (v pipeline_summary);
CREATE TABLE fz_journey (v journey);
CREATE TABLE fz_markov_transitions (v markov_transitions);
CREATE TABLE fz_fit_stats (v fit_stats);
CREATE TABLE fz_cohort_counts (v cohort_counts);
SQL
psql -U postgres -d funnel_fuzz -v harness="$run/harness/funnel_fuzz.so" -f test/fuzz/harness.sql

status=0
# the deserialise findings so far, as pgTAP (they need the test-only module)
psql -U postgres -d funnel_fuzz -c 'CREATE EXTENSION pgtap' >/dev/null
if ! PGUSER=funnel_fuzz PGDATABASE=funnel_fuzz PATH=$bindir:$PATH pg_prove -Q test/fuzz/state_regressions.sql; then
  echo "fuzz: test/fuzz/state_regressions.sql FAILED"
  status=1
fi
if [ "${1:-}" = "--replay" ]; then
  PGUSER=funnel_fuzz PGDATABASE=funnel_fuzz "$bindir/psql" -X -v VERBOSITY=verbose -f "$2" || status=$?
  grep -E 'terminated by signal|runtime error|AddressSanitizer|TRAP' "$run/log" || true
  exit $status
fi
PATH=$bindir:$PATH PGUSER=funnel_fuzz PGDATABASE=funnel_fuzz FUZZ_SERVER_LOG=$run/log \
  python3 test/fuzz/fuzz.py --workdir "$run" "$@" || status=$?
exit $status
