#!/usr/bin/env bash
# The materialized-report recipe (doc/materialized_reports.sql) refreshed on a
# schedule by pg_cron: starts a throwaway cluster with pg_cron preloaded,
# creates the materialized view of daily funnel summaries, schedules its
# refresh with cron.schedule, adds events, waits until the job has run, and
# checks that the rolled-up report equals the report computed directly over
# the raw rows.  Expects the funnel extension installed (make install).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  if ! dpkg -s postgresql-15-cron >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15-cron
  fi
  # background workers: the jobs need no password to connect
  exec pg_virtualenv -v 15 -o shared_preload_libraries=pg_cron -o cron.database_name=postgres \
    -o cron.use_background_workers=on -o max_worker_processes=16 bash "$0" --inside
fi

q() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
val() { psql -X -A -t -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

q -c "CREATE EXTENSION funnel" -c "CREATE EXTENSION pg_cron"
# events of 2000 users over 10 days (deterministic)
q <<'SQL'
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.77) AS seed \gset
CREATE TABLE events(user_id bigint, ts timestamptz, event text, channel text);
CREATE FUNCTION add_events(first_user int, last_user int, first_day timestamptz) RETURNS void
LANGUAGE sql AS $f$
  INSERT INTO events
  SELECT u, t0 + (k - 1) * gap, (ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])[k], ch
  FROM (SELECT u, (ARRAY['ads', 'email', 'organic'])[1 + u % 3] AS ch,
               first_day + floor(random() * 10 * 86400) * interval '1 second' AS t0,
               1 + floor(random() * 5)::int AS depth,
               floor(1 + random() * 1800) * interval '1 second' AS gap
        FROM generate_series(first_user, last_user) u) s,
       generate_series(1, 5) k
  WHERE k <= depth
$f$;
SELECT add_events(1, 2000, '2024-05-01') \gset
SQL

q -f doc/materialized_reports.sql
version=$(val "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
# pg_cron 1.5 and later take intervals in seconds; older ones cron lines
if [ "$(printf '%s\n%s\n' "$version" 1.5 | sort -V | head -1)" = "1.5" ]; then
  schedule="5 seconds"
else
  schedule="* * * * *"
fi
echo "pg_cron $version: refresh scheduled as '$schedule'"
# events after the view was built: only a refresh brings them in
val "SELECT add_events(2001, 3000, '2024-05-08')" >/dev/null
before=$(val "SELECT entities FROM funnel_daily_report('2000-01-01', '2100-01-01') WHERE step = 1")
[ "$before" = 2000 ] || { echo "the view should still count 2000 users before the refresh, not $before"; exit 1; }
val "SELECT cron.schedule('refresh funnel_daily', '$schedule',
       'REFRESH MATERIALIZED VIEW CONCURRENTLY funnel_daily')" >/dev/null
start=$(date +%s)
until [ "$(val "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")" -ge 1 ]; do
  failed=$(val "SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE status = 'failed'")
  [ -z "$failed" ] || { echo "pg_cron job failed: $failed"; exit 1; }
  [ $(( $(date +%s) - start )) -lt 150 ] || { echo "pg_cron did not run the refresh within 150 s"; exit 1; }
  sleep 2
done
after=$(val "SELECT entities FROM funnel_daily_report('2000-01-01', '2100-01-01') WHERE step = 1")
echo "pg_cron refreshed funnel_daily after $(( $(date +%s) - start )) s: users at step 1 $before -> $after"

q <<'SQL'
-- the direct summaries over the raw rows, by entry day
CREATE TEMP VIEW direct AS
SELECT e.entry_day, funnel_summary('1 day', ev.user_id, ev.ts, ev.event,
         ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) AS s
FROM events ev
JOIN (SELECT user_id, (min(ts) AT TIME ZONE 'UTC')::date AS entry_day FROM events
      WHERE event = 'visit' GROUP BY user_id) e USING (user_id)
GROUP BY e.entry_day;
DO $t$
DECLARE
  n bigint;
  names text[] := ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase'];
BEGIN
  -- every day: the report of the view equals the report over the raw rows
  SELECT count(*) INTO n FROM (
    (SELECT * FROM funnel_daily_report('2000-01-01', '2100-01-01')
     EXCEPT ALL
     SELECT * FROM funnel_report((SELECT funnel_summary('1 day', user_id, ts, event,
         ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) FROM events), names))
    UNION ALL
    (SELECT * FROM funnel_report((SELECT funnel_summary('1 day', user_id, ts, event,
         ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) FROM events), names)
     EXCEPT ALL
     SELECT * FROM funnel_daily_report('2000-01-01', '2100-01-01'))) x;
  IF n <> 0 THEN RAISE EXCEPTION 'rolled-up report differs from the direct report in % rows', n; END IF;
  IF (SELECT entities FROM funnel_daily_report('2000-01-01', '2100-01-01') WHERE step = 1)
     <> (SELECT count(DISTINCT user_id) FROM events WHERE event = 'visit') THEN
    RAISE EXCEPTION 'the refreshed view misses users';
  END IF;
  -- a date range: the users who entered from 2024-05-09 to 2024-05-12
  SELECT count(*) INTO n FROM (
    (SELECT * FROM funnel_daily_report('2024-05-09', '2024-05-12')
     EXCEPT ALL
     SELECT r.* FROM (SELECT rollup(s) AS s FROM direct WHERE entry_day BETWEEN '2024-05-09' AND '2024-05-12') d,
       funnel_report(d.s, names) r)) x;
  IF n <> 0 THEN RAISE EXCEPTION 'report of 2024-05-09..12 differs in % rows', n; END IF;
  IF (SELECT count(*) FROM funnel_daily_report('2024-05-09', '2024-05-12')) <> 5 THEN
    RAISE EXCEPTION 'report of 2024-05-09..12 is not 5 rows';
  END IF;
  -- the BI view: its rows add up to the whole
  IF (SELECT sum(entities) FROM funnel_weekly_bi WHERE step = 5)
     <> (SELECT entities FROM funnel_daily_report('2000-01-01', '2100-01-01') WHERE step = 5) THEN
    RAISE EXCEPTION 'funnel_weekly_bi purchases do not add up';
  END IF;
END $t$;
SQL
echo "pg_cron: the rolled-up report equals the direct report"
echo "1 passed, 0 failed"
