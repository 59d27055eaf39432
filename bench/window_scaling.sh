#!/usr/bin/env bash
# Window-function scaling of window_funnel: one partition of N events,
# window_funnel(...) OVER (PARTITION BY user_id ORDER BY ts).  The final
# function reads the online walk, so the cost per row must stay flat: the
# ratio of 100k to 10k events should be near 10 (quadratic would be 100).
# Usage: bench/window_scaling.sh   (starts its own throwaway cluster;
#        set FUNNEL_BENCH_DB to run in an existing database instead)
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS funnel;
\pset footer off
DROP TABLE IF EXISTS ws_events;
CREATE TABLE ws_events AS
  SELECT 1::bigint AS user_id,
         timestamptz '2024-01-01' + i * interval '1 minute' AS ts,
         (ARRAY['visit','view','cart','buy','other'])[1 + (i * 7919) % 5] AS event
  FROM generate_series(1, 100000) i;
CREATE TEMP TABLE ws_result (events int, ms float8);
DO $$
DECLARE
  n int;
  t0 timestamptz;
  r int;
  best float8;
BEGIN
  FOREACH n IN ARRAY ARRAY[10000, 100000] LOOP
    best := NULL;
    FOR r IN 1..3 LOOP
      t0 := clock_timestamp();
      PERFORM max(l) FROM (
        SELECT window_funnel('1 hour', ts, event = 'visit', event = 'view', event = 'cart', event = 'buy')
                 OVER (PARTITION BY user_id ORDER BY ts) AS l
        FROM (SELECT * FROM ws_events ORDER BY ts LIMIT n) e) s;
      best := least(coalesce(best, 1e18), extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
    INSERT INTO ws_result VALUES (n, best);
  END LOOP;
END $$;
SELECT events, round(ms::numeric, 1) AS best_ms_of_3,
       round((ms * 1e6 / events)::numeric, 0) AS ns_per_row
FROM ws_result ORDER BY events;
SELECT round(((SELECT ms FROM ws_result WHERE events = 100000) /
              (SELECT ms FROM ws_result WHERE events = 10000))::numeric, 1)
       AS "time ratio 100k/10k (linear = 10)";
SQL
}

if [ -n "${FUNNEL_BENCH_DB:-}" ]; then
  PGDATABASE=$FUNNEL_BENCH_DB run
else
  export -f run
  pg_virtualenv -v 15 bash -c run
fi
