#!/usr/bin/env bash
# journey_refresh under concurrency and on a pg_cron schedule (the recipe of
# doc/journeys.md).  Starts its own cluster with pg_cron preloaded
# (test/tools/own_cluster.sh; binaries of $PG_CONFIG, extension installed
# there) and checks, one line each, "ok" or "FAILED":
#   open transaction  rows of a transaction still open during a refresh (and
#                     of those that began after it) are folded by the first
#                     refresh after it commits, once;
#   overlap, cancel   a slow refresh is cancelled in the middle of its rows
#                     while two sessions refresh in loops behind it and
#                     writers insert: the cancelled one leaves no trace,
#                     and in the end every row is folded exactly once (the watermark's rows_folded = the rows,
#                     every row distinct) and every journey = journey_agg of
#                     its user's rows;
#   watermarks        a role sees, writes and refreshes only the watermarks of
#                     journeys tables it may UPDATE;
#   pg_cron           the refresh scheduled with cron.schedule brings in rows
#                     inserted after the last refresh;
#   journey type      a journeys table of the journey type kept from the same
#                     events by refreshes overlapping with writers: every row
#                     folded once, every journey that of the funnel_event[]
#                     table.
# Exits non-zero when a check fails.  The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/pg_cron.control" ] && ! dpkg -s postgresql-15-cron >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15-cron
fi
source test/tools/own_cluster.sh
start_own_cluster -c shared_preload_libraries=pg_cron -c cron.database_name=postgres \
  -c cron.use_background_workers=on -c max_worker_processes=16

passed=0
failed=0
ok() { echo "journey_refresh: $1 ok"; passed=$((passed + 1)); }
fail() { echo "journey_refresh: $1 FAILED"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -20; failed=$((failed + 1)); }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -A -t -v ON_ERROR_STOP=1 -c "$1"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; stop_own_cluster; }
trap cleanup EXIT

q <<'SQL'
CREATE EXTENSION funnel;
CREATE EXTENSION pg_cron;
CREATE TABLE events (user_id bigint, ts timestamptz, step int,
                     inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE INDEX ON events (inserted_xid);
CREATE TABLE journeys (entity bigint PRIMARY KEY, journey funnel_event[] NOT NULL);
-- n rows for users 1..50, each at a time no other row has (seq), so that
-- every row is a distinct event and rows_folded can be checked exactly
CREATE SEQUENCE row_seq;
CREATE FUNCTION add_rows(n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO events (user_id, ts, step)
  SELECT 1 + s % 50, timestamptz '2024-05-01' + s * interval '1 s', 1 + s % 4
  FROM (SELECT nextval('row_seq') AS s FROM generate_series(1, n)) x
$$;
-- a step that takes its time: a refresh to cancel in the middle
CREATE FUNCTION slow_step(step int) RETURNS int LANGUAGE sql AS $$ SELECT step FROM pg_sleep(0.01) $$;
-- a transaction kept open until the test says so (each query of the loop
-- takes a new snapshot, so it sees the flag): no timing to race on a busy machine
CREATE TABLE release_flag (released bool);
CREATE FUNCTION wait_for_release() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WHILE NOT EXISTS (SELECT 1 FROM release_flag) LOOP PERFORM pg_sleep(0.05); END LOOP;
END $$;
CREATE VIEW mismatch AS
  SELECT count(*) AS n FROM (
    (SELECT entity, journey::text FROM journeys
     EXCEPT SELECT user_id, journey_agg(funnel_event(ts, step))::text FROM events GROUP BY user_id)
    UNION ALL
    (SELECT user_id, journey_agg(funnel_event(ts, step))::text FROM events GROUP BY user_id
     EXCEPT SELECT entity, journey::text FROM journeys)) d;
SQL
refresh_sql="SELECT journey_refresh('journeys', 'events', 'user_id', 'funnel_event(ts, step)')"
check_all() {  # name: every row folded once, every journey right
  local rows folded mism
  rows=$(val "SELECT count(*) FROM events")
  folded=$(val "SELECT rows_folded FROM journey_watermark WHERE journeys = 'journeys'::regclass")
  mism=$(val "SELECT n FROM mismatch")
  if [ "$rows" = "$folded" ] && [ "$mism" = 0 ]; then ok "$1 ($rows rows, folded $folded)"
  else fail "$1" "rows $rows, folded $folded, journeys differing from journey_agg of the rows: $mism"; fi
}

# ---- a transaction open across a refresh
val "SELECT add_rows(200)" >/dev/null
val "$refresh_sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT add_rows(100)" -c "SELECT wait_for_release()" -c "COMMIT" >/dev/null &
open_pid=$!
pids+=("$open_pid")
until [ "$(val "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT wait_for_release()' AND state = 'active'")" = 1 ]; do sleep 0.1; done
val "SELECT add_rows(10)" >/dev/null
during=$(val "$refresh_sql")
val "INSERT INTO release_flag VALUES (true)" >/dev/null
wait "$open_pid"
after=$(val "$refresh_sql")
# the 10 rows committed after the open transaction began wait with it: the
# watermark stays below the oldest transaction still running
if [ "$during" = 0 ] && [ "$after" = 110 ]; then ok "open transaction: its rows and later ones wait for its commit, then come once"
else fail "open transaction: its rows and later ones wait for its commit, then come once" "folded during it: $during (expected 0), after: $after (expected 110)"; fi
check_all "open transaction: all rows folded once"

# ---- a slow refresh holding the lock, two refreshing sessions and writers
# waiting behind it; the slow one is cancelled in the middle of its rows
val "SELECT add_rows(200)" >/dev/null
psql -X -q -c "SET application_name = 'slow_refresh'" \
  -c "SELECT journey_refresh('journeys', 'events', 'user_id', 'funnel_event(ts, slow_step(step))')" > /tmp/jr-slow.$$ 2>&1 &
slow=$!
pids+=("$slow")
until [ "$(val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'slow_refresh' AND wait_event = 'PgSleep'")" = 1 ]; do sleep 0.05; done
(for i in $(seq 30); do val "SELECT add_rows(37)" >/dev/null; sleep 0.05; done) &
writer=$!
pids+=("$writer")
(for i in $(seq 15); do val "$refresh_sql" >/dev/null || echo "refresh A failed"; sleep 0.07; done) > /tmp/jr-a.$$ 2>&1 &
ra=$!
pids+=("$ra")
(for i in $(seq 15); do val "$refresh_sql" >/dev/null || echo "refresh B failed"; sleep 0.05; done) > /tmp/jr-b.$$ 2>&1 &
rb=$!
pids+=("$rb")
sleep 1
cancelled=$(val "SELECT count(*) FROM (SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'slow_refresh' AND state = 'active') c")
wait "$slow"
wait "$writer" "$ra" "$rb"
errors=$(cat /tmp/jr-a.$$ /tmp/jr-b.$$)
slow_out=$(cat /tmp/jr-slow.$$)
rm -f /tmp/jr-a.$$ /tmp/jr-b.$$ /tmp/jr-slow.$$
if [ "$cancelled" = 1 ] && grep -q "canceling statement due to user request" <<<"$slow_out" && [ -z "$errors" ]; then
  ok "overlap, cancel: the slow refresh was cancelled, the others all succeeded"
else
  fail "overlap, cancel: the slow refresh was cancelled, the others all succeeded" "cancelled $cancelled; slow: $slow_out; $errors"
fi
val "$refresh_sql" >/dev/null
check_all "overlap, cancel: all rows folded once"

# ---- who may touch a watermark: whoever may UPDATE the journeys table
q <<'SQL'
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
GRANT CREATE ON SCHEMA public TO alice;
SET ROLE alice;
CREATE TABLE alice_events (user_id int, ev funnel_event, inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE TABLE alice_journeys (entity int PRIMARY KEY, journey funnel_event[] NOT NULL);
INSERT INTO alice_events (user_id, ev) VALUES (1, '2024-05-01 10:00+00 {1}');
RESET ROLE;
SQL
as() { local who=$1; shift; psql -X -A -t -U "$who" -c "$1" 2>&1; }
alice_refresh="SELECT journey_refresh('alice_journeys', 'alice_events', 'user_id', 'ev')"
r1=$(as alice "$alice_refresh")
b_sees=$(as bob "SELECT count(*) FROM journey_watermark")
b_upd=$(as bob "UPDATE journey_watermark SET xid_horizon = '3' RETURNING 1" | grep -c '^1$')
b_del=$(as bob "DELETE FROM journey_watermark RETURNING 1" | grep -c '^1$')
b_ins=$(as bob "INSERT INTO journey_watermark (journeys, source) VALUES ('journeys', 'events')")
b_ref=$(as bob "$alice_refresh")
q -U alice -c "GRANT SELECT ON alice_events TO bob" -c "GRANT SELECT, INSERT, UPDATE ON alice_journeys TO bob" \
  -c "INSERT INTO alice_events (user_id, ev) VALUES (2, '2024-05-01 11:00+00 {1,2}')"
b_ref2=$(as bob "$alice_refresh")
b_sees2=$(as bob "SELECT count(*) FROM journey_watermark")
if [ "$r1" = 1 ] && [ "$b_sees" = 0 ] && [ "$b_upd" = 0 ] && [ "$b_del" = 0 ] \
   && grep -q "violates row-level security policy" <<<"$b_ins" && grep -q "violates row-level security policy" <<<"$b_ref" \
   && [ "$b_ref2" = 1 ] && [ "$b_sees2" = 1 ]; then
  ok "watermarks: only those who may update the journeys table see, write or refresh them"
else
  fail "watermarks: only those who may update the journeys table see, write or refresh them" \
    "alice refresh: $r1; bob sees $b_sees rows, updates $b_upd, deletes $b_del; bob inserts: $b_ins; bob refreshes: $b_ref; after the grants: $b_ref2, sees $b_sees2"
fi

# ---- pg_cron: the recipe's schedule (pg_cron 1.5 and later take seconds)
version=$(val "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
if [ "$(printf '%s\n%s\n' "$version" 1.5 | sort -V | head -1)" = "1.5" ]; then schedule="5 seconds"; else schedule="* * * * *"; fi
val "SELECT add_rows(123)" >/dev/null
pending=$(val "SELECT count(*) FROM events WHERE inserted_xid >= (SELECT xid_horizon FROM journey_watermark WHERE journeys = 'journeys'::regclass)")
val "SELECT cron.schedule('refresh journeys', '$schedule', \$\$$refresh_sql\$\$)" >/dev/null
start=$(date +%s)
until [ "$(val "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")" -ge 1 ]; do
  failed_runs=$(val "SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE status = 'failed'")
  if [ -n "$failed_runs" ]; then fail "pg_cron: the scheduled refresh" "$failed_runs"; break; fi
  if [ $(( $(date +%s) - start )) -ge 150 ]; then fail "pg_cron: the scheduled refresh" "no run within 150 s"; break; fi
  sleep 2
done
val "SELECT cron.unschedule('refresh journeys')" >/dev/null
if [ "$pending" = 123 ]; then check_all "pg_cron: the scheduled refresh (pg_cron $version, '$schedule') folded the new rows"
else fail "pg_cron: 123 rows pending before the schedule" "pending: $pending"; fi

# ---- a journeys table of the journey type, kept from the same events by
# refreshes overlapping with writers: every row folded once, every journey
# that of the funnel_event[] table
val "CREATE TABLE cjourneys (entity bigint PRIMARY KEY, journey journey NOT NULL)" >/dev/null
c_refresh="SELECT journey_refresh('cjourneys', 'events', 'user_id', 'funnel_event(ts, step)')"
(for i in $(seq 10); do val "SELECT add_rows(41)" >/dev/null; sleep 0.05; done) &
writer=$!
pids+=("$writer")
(for i in $(seq 8); do val "$c_refresh" >/dev/null || echo "refresh failed"; sleep 0.05; done) > /tmp/jr-c.$$ 2>&1 &
rc1=$!
pids+=("$rc1")
(for i in $(seq 8); do val "$c_refresh" >/dev/null || echo "refresh failed"; sleep 0.07; done) >> /tmp/jr-c.$$ 2>&1 &
rc2=$!
pids+=("$rc2")
wait "$writer" "$rc1" "$rc2"
errors=$(cat /tmp/jr-c.$$); rm -f /tmp/jr-c.$$
val "$c_refresh" >/dev/null
val "$refresh_sql" >/dev/null
rows=$(val "SELECT count(*) FROM events")
folded=$(val "SELECT rows_folded FROM journey_watermark WHERE journeys = 'cjourneys'::regclass")
differ=$(val "SELECT count(*) FROM journeys j FULL JOIN cjourneys c USING (entity) WHERE c.journey::funnel_event[] IS DISTINCT FROM j.journey")
mism=$(val "SELECT n FROM mismatch")
if [ -z "$errors" ] && [ "$rows" = "$folded" ] && [ "$differ" = 0 ] && [ "$mism" = 0 ]; then
  ok "journey type: overlapping refreshes with writers ($rows rows, folded $folded, journeys equal to the funnel_event[] ones)"
else
  fail "journey type: overlapping refreshes with writers" "errors: $errors; rows $rows, folded $folded, journeys differing from the funnel_event[] table: $differ, that table differing from journey_agg: $mism"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
