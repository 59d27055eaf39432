#!/usr/bin/env bash
# Attribution benchmark: ROWS touchpoints and conversions (default 10M) of
# ENTITIES entities (default 1M), generated deterministically, then every
# attribution model timed against the funnel baseline over the same rows in
# the same run: funnel_stage_counts(...) (one pass, per-entity hash table);
# window_funnel(...) GROUP BY entity is timed too, for reference.
# Prints per query the best of RUNS runs (default 3) in ms, the ratio to the
# baseline and the budget of the issue (heuristic models 2x, markov 3x).
# Builds and installs the extension and holds the install lock while it runs
# (every query runs in one session, so one build of funnel.so is timed).
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-10000000}
export ENTITIES=${ENTITIES:-1000000}
export RUNS=${RUNS:-3}
export PARALLEL=${PARALLEL:-2}
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
make -s >/dev/null
exec 9>/tmp/funnel-install.lock
flock 9
make -s install >/dev/null
out=$(mktemp -d)
models="first_touch last_touch linear position_based time_decay markov"
{
  cat <<SQL
\set ON_ERROR_STOP 1
CREATE EXTENSION funnel;
SELECT setseed(0.42);
-- rows spread over 90 days; 6 channels (search twice as likely); about 4%
-- of the rows are conversions with a value of 10 to 200
CREATE TABLE touchpoints AS
SELECT (1 + floor(random() * $ENTITIES))::bigint AS entity,
       timestamptz '2024-01-01 00:00:00+00' + random() * interval '90 days' AS ts,
       CASE WHEN r >= 0.04 THEN (ARRAY['search', 'search', 'social', 'email', 'display',
                                      'referral', 'affiliate'])[1 + floor(random() * 7)::int]
       END AS channel,
       CASE WHEN r < 0.04 THEN round((10 + random() * 190)::numeric, 2) END AS conversion_value
FROM (SELECT random() AS r FROM generate_series(1, $ROWS)) g;
VACUUM ANALYZE touchpoints;
SET max_parallel_workers_per_gather = $PARALLEL;
SET work_mem = '1GB';
SELECT count(*) FROM touchpoints;
\timing on
SQL
  for i in $(seq 1 "$RUNS"); do
    echo "\\echo @baseline"
    echo "SELECT funnel_stage_counts('30 days', entity, ts, channel IS NOT NULL, conversion_value IS NOT NULL) FROM touchpoints;"
    echo "\\echo @groupby"
    echo "SELECT count(*) FROM (SELECT entity, window_funnel('30 days', ts, channel IS NOT NULL, conversion_value IS NOT NULL) AS level FROM touchpoints GROUP BY entity) x;"
    for m in $models; do
      echo "\\echo @$m"
      echo "SELECT attribution_model(attribution('$m', entity, ts, channel, conversion_value)) FROM touchpoints;"
    done
  done
} > "$out/bench.sql"
pg_virtualenv -v 15 psql -X -q -f "$out/bench.sql" > "$out/bench.out"
awk -v rows="$ROWS" -v ents="$ENTITIES" -v par="$PARALLEL" '
  /^@/ { name = substr($0, 2); next }
  /^Time: / { ms = $2 + 0; if (!(name in best) || ms < best[name]) best[name] = ms; if (!(name in seen)) { order[++n] = name; seen[name] = 1 } }
  END {
    printf "attribution benchmark: %d rows, %d entities, max_parallel_workers_per_gather = %d\n", rows, ents, par
    b = best["baseline"]
    printf "%-40s %10.1f ms\n", "baseline: funnel_stage_counts", b
    printf "%-40s %10.1f ms  %5.2fx\n", "window_funnel GROUP BY entity", best["groupby"], best["groupby"] / b
    fail = 0
    for (i = 1; i <= n; i++) {
      m = order[i]; if (m == "baseline" || m == "groupby") continue
      budget = (m == "markov") ? 3 : 2
      r = best[m] / b
      printf "%-40s %10.1f ms  %5.2fx  (budget %dx) %s\n", "attribution " m, best[m], r, budget, (r <= budget ? "ok" : "OVER")
      if (r > budget) fail = 1
    }
    exit fail
  }' "$out/bench.out"
