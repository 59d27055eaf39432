-- session_number and session_numbers against the rule written in plain SQL
-- (lag() and a running sum) on random data with ties, and their errors.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(10);
SET LOCAL timezone = 'UTC';

SELECT setseed(0.15);
CREATE TEMP TABLE r AS
SELECT (random() * 40)::int AS u,
       '2024-01-01'::timestamptz + ((random() * 3000)::int) * interval '1 minute' AS ts,
       random() < 0.05 AS flag
  FROM generate_series(1, 20000);

-- the gap rule alone: a new session when the previous row is more than gap before
CREATE FUNCTION pg_temp.by_lag(g interval) RETURNS TABLE (u int, ts timestamptz, s bigint)
LANGUAGE sql AS $$
  SELECT u, ts, sum(CASE WHEN prev IS NULL OR ts - prev > g THEN 1 ELSE 0 END)
                  OVER (PARTITION BY u ORDER BY ts ROWS UNBOUNDED PRECEDING)
    FROM (SELECT u, ts, lag(ts) OVER (PARTITION BY u ORDER BY ts) AS prev FROM r) x $$;

SELECT is((SELECT count(*) FROM (
             SELECT u, ts, session_number(ts, g) OVER (PARTITION BY u ORDER BY ts) FROM r
             EXCEPT ALL SELECT * FROM pg_temp.by_lag(g)) d), 0::bigint,
          format('gap %s: equals the lag() definition', g))
  FROM unnest('{0, 1 minute, 30 minutes, 2 hours}'::interval[]) g;

-- the condition rule: a new session on every flagged row, or after the gap
SELECT is((SELECT count(*) FROM (
  SELECT u, ts, session_number(ts, '1 hour', NULL, flag) OVER (PARTITION BY u ORDER BY ts, flag) FROM r
  EXCEPT ALL
  SELECT u, ts, sum(CASE WHEN prev IS NULL OR ts - prev > '1 hour' OR flag THEN 1 ELSE 0 END)
                  OVER (PARTITION BY u ORDER BY ts, flag ROWS UNBOUNDED PRECEDING)
    FROM (SELECT u, ts, flag, lag(ts) OVER (PARTITION BY u ORDER BY ts, flag) AS prev FROM r) x) d), 0::bigint,
  'new_session: equals the lag() definition');

-- max_length: a recursive walk of each user's rows
SELECT is((SELECT count(*) FROM (
  SELECT u, ts, session_number(ts, '1 hour', '90 minutes') OVER (PARTITION BY u ORDER BY ts) FROM r
  EXCEPT ALL
  (WITH RECURSIVE o AS (SELECT u, ts, row_number() OVER (PARTITION BY u ORDER BY ts) AS n FROM r),
   w AS (SELECT u, ts, n, ts AS start, 1::bigint AS s FROM o WHERE n = 1
         UNION ALL
         SELECT o.u, o.ts, o.n,
                CASE WHEN o.ts - w.ts > '1 hour' OR o.ts - w.start > '90 minutes' THEN o.ts ELSE w.start END,
                CASE WHEN o.ts - w.ts > '1 hour' OR o.ts - w.start > '90 minutes' THEN w.s + 1 ELSE w.s END
           FROM w JOIN o ON o.u = w.u AND o.n = w.n + 1)
   SELECT u, ts, s FROM w)) d), 0::bigint,
  'max_length: equals a recursive walk');

-- session_numbers on each user's journey agrees with the window function
SELECT is((SELECT count(*) FROM (
  SELECT u, e, s FROM (
    SELECT u, j, session_numbers(j, '30 minutes', '2 hours') AS ns
      FROM (SELECT u, array_agg(funnel_event(ts, flag) ORDER BY random()) AS j FROM r GROUP BY u) a) b,
    LATERAL unnest(j, ns) AS x(e, s)
  EXCEPT ALL
  SELECT u, funnel_event(ts, flag),
         session_number(ts, '30 minutes', '2 hours') OVER (PARTITION BY u ORDER BY ts) FROM r) d), 0::bigint,
  'session_numbers of a shuffled journey: as session_number');

SELECT is((SELECT count(*) FROM (
  SELECT u, e, s FROM (
    SELECT u, j, session_numbers(j, '1 hour', NULL, 1) AS ns
      FROM (SELECT u, array_agg(funnel_event(ts, flag) ORDER BY ts, flag) AS j FROM r GROUP BY u) a) b,
    LATERAL unnest(j, ns) AS x(e, s)
  EXCEPT ALL
  SELECT u, funnel_event(ts, flag),
         session_number(ts, '1 hour', NULL, flag) OVER (PARTITION BY u ORDER BY ts, flag) FROM r) d), 0::bigint,
  'session_numbers new_session_step: as session_number with the condition');

SELECT throws_ok($$ SELECT session_number(ts) OVER (ORDER BY ts DESC) FROM r $$, '42P20',
                 'session rows are not in ascending order of time', 'unordered rows: 42P20');
SELECT throws_ok($$ SELECT session_number(ts, '-1 minute') OVER (ORDER BY ts) FROM r $$, '22023',
                 'session gap must be zero or positive', 'negative gap: 22023');
SELECT * FROM finish();
ROLLBACK;
