#!/usr/bin/env bash
# Peak memory of funnel_stage_counts over 10M events of 1M users.
#
# Starts a throwaway cluster (pg_virtualenv), generates the events (in time
# order, no two events of one user in the same second, event names visit,
# product_view, add_to_cart, checkout, purchase and other with a realistic
# drop-off), then in one fresh session runs, serially,
#   funnel_stage_counts('7 days', user_id, ts, event,
#                       ARRAY['visit','product_view','add_to_cart','purchase'])
# and reads the backend's peak resident memory (VmHWM of
# /proc/<pg_backend_pid()>/status) from the shell while the session is still
# open, before and after.  Fails unless the peak is under 500 MB.  Prints the
# growth per entity.
#
# Slow (a few minutes): not part of test/run.sh.
# Usage: bash bench/memory.sh [users] [mean events per user]  (default 1000000 10)
set -euo pipefail
cd "$(dirname "$0")/.."

users=${1:-1000000}
per_user=${2:-10}
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
make -s COPT='-Wall -Wextra -Werror' >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/generate.sql" <<'SQL'
SET work_mem = '1GB';
SELECT setseed(0.2024) AS seed \gset
CREATE UNLOGGED TABLE events (user_id bigint, ts timestamptz, event text);
-- Each user: a first event at a random second of March 2024, then n - 1
-- more at a fixed gap of 1..900 seconds (never two in one second); n is
-- per_user - 5 .. per_user + 5 (at least 5).  The first "depth" events walk
-- the funnel in order, the others are browsing (other, visit,
-- product_view).  depth 1: 45% of users, 2: 35%, 3: 11%, 4 (checkout but no
-- purchase): 4%, 5 (purchase): 5%.
INSERT INTO events
SELECT u, t0 + i * gap,
       CASE WHEN i < depth
            THEN (ARRAY['visit','product_view','add_to_cart','checkout','purchase'])[i + 1]
            ELSE (ARRAY['other','other','visit','product_view'])[1 + floor(random() * 4)::int] END
FROM (SELECT u,
             timestamptz '2024-03-01 00:00:00+00' + floor(random() * 31 * 86400) * interval '1 second' AS t0,
             (1 + floor(random() * 900)) * interval '1 second' AS gap,
             greatest(5, :per_user - 5 + floor(random() * 11)::int) AS n,
             CASE WHEN r < 0.05 THEN 5 WHEN r < 0.09 THEN 4 WHEN r < 0.20 THEN 3
                  WHEN r < 0.55 THEN 2 ELSE 1 END AS depth
      FROM (SELECT u, random() AS r FROM generate_series(1, :users) u) r) p,
     LATERAL generate_series(0, n - 1) i
ORDER BY t0 + i * gap;
ANALYZE events;
SELECT count(*) AS events, count(DISTINCT user_id) AS users,
       pg_size_pretty(pg_total_relation_size('events')) AS table_size
FROM events;
SELECT event, count(*) FROM events GROUP BY event ORDER BY count(*) DESC;
SQL

cat > "$work/measure.sql" <<'SQL'
\pset footer off
SET max_parallel_workers_per_gather = 0;
SHOW shared_buffers;
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
-- warm up: load the library and scan the table once (shared buffers the
-- scan touches count in VmHWM too, so the baseline is taken after a scan)
SELECT funnel_stage_counts('7 days', user_id, ts, event, ARRAY['visit']) AS warm_up
FROM events WHERE user_id <= 10;
SELECT count(*) AS rows_scanned FROM events;
\! grep -E 'VmHWM|VmRSS' /proc/$BACKEND_PID/status | sed 's/^/before: /' | tee "$FUNNEL_WORK/before"
\timing on
SELECT funnel_stage_counts('7 days', user_id, ts, event,
         ARRAY['visit','product_view','add_to_cart','purchase']) AS stage_counts
FROM events;
\timing off
\! grep -E 'VmHWM|VmRSS' /proc/$BACKEND_PID/status | sed 's/^/after:  /' | tee "$FUNNEL_WORK/after"
-- the same counts the two-level way (one level per user, then counted)
SELECT funnel_stage_counts(level, 4) AS two_level FROM (
  SELECT window_funnel('7 days', ts, event,
           ARRAY['visit','product_view','add_to_cart','purchase']) AS level
  FROM events GROUP BY user_id) s;
SQL

export FUNNEL_USERS=$users FUNNEL_PER_USER=$per_user FUNNEL_WORK=$work
pg_virtualenv -t -v 15 bash -c '
  set -euo pipefail
  echo "generating about $((FUNNEL_USERS * FUNNEL_PER_USER)) events of $FUNNEL_USERS users ..."
  psql -X -q -v ON_ERROR_STOP=1 -v users="$FUNNEL_USERS" -v per_user="$FUNNEL_PER_USER" \
       -f "$FUNNEL_WORK/generate.sql"
  # the installed extension is shared by every checkout on this machine:
  # hold the lock while installing it and measuring with it
  flock /tmp/funnel-install.lock bash -c "
    set -euo pipefail
    make -s install >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -c \"CREATE EXTENSION funnel\"
    psql -X -v ON_ERROR_STOP=1 -f \"\$FUNNEL_WORK/measure.sql\"
  "
'

before=$(awk '/VmHWM/ {print $3}' "$work/before")
after=$(awk '/VmHWM/ {print $3}' "$work/after")
echo
echo "backend peak memory (VmHWM): $before kB before, $after kB after funnel_stage_counts"
echo "growth: $(( (after - before) / 1024 )) MB for $users entities = $(( (after - before) * 1024 / users )) bytes per entity"
if [ "$after" -ge $((500 * 1024)) ]; then
  echo "FAIL: peak memory $((after / 1024)) MB is not under 500 MB"
  exit 1
fi
echo "OK: peak memory $((after / 1024)) MB is under 500 MB"
