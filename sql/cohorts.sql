-- cohorts: cohort_retention with cohort_report and cohort_heatmap, and
-- ClickHouse's retention aggregate, on hand-worked cases.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- ---------------------------------------------------------------------------
-- cohort_retention.  A cohort is the calendar period (session time zone) of
-- an entity's first event; active[c][k+1] counts the entities of cohort c
-- with an event in the k-th period after it, NULL for periods after the
-- group's last event (April here).
--   a: Jan 5, Feb 10, Apr 1      b: Jan 20, Mar 3
--   c: Jan 31 23:30 UTC (Feb 1 08:30 in Tokyo)
--   d: Feb 2, Feb 20, Mar 15     e: Feb 28      f: Apr 30
-- Monthly, UTC:
--   Jan cohort {a, b, c}: Jan 3, Feb 1 (a), Mar 1 (b), Apr 1 (a)
--   Feb cohort {d, e}:    Feb 2, Mar 1 (d), Apr 0
--   Apr cohort {f}:       Apr 1
-- (no one started in March: no March cohort)
-- ---------------------------------------------------------------------------
CREATE TABLE cohort_activity (customer text, ts timestamptz);
INSERT INTO cohort_activity VALUES
  ('a', '2024-01-05 12:00+00'), ('a', '2024-02-10 12:00+00'), ('a', '2024-04-01 12:00+00'),
  ('b', '2024-01-20 12:00+00'), ('b', '2024-03-03 12:00+00'),
  ('c', '2024-01-31 23:30+00'),
  ('d', '2024-02-02 12:00+00'), ('d', '2024-02-20 12:00+00'), ('d', '2024-03-15 12:00+00'),
  ('e', '2024-02-28 12:00+00'),
  ('f', '2024-04-30 12:00+00');

SELECT m.period, m.periods, m.cohort_start, m.cohort_size,
       m.cohort_start = '{2024-01-01,2024-02-01,2024-04-01}'::date[]
         AND m.cohort_size = '{3,2,1}'::bigint[] AS ok
FROM (SELECT cohort_retention(customer, ts) AS m FROM cohort_activity) s, LATERAL (SELECT (s.m).*) m;

SELECT r.cohort_start, r.cohort_size, r.period, r.active,
       round(r.retention_rate::numeric, 6) AS retention_rate,
       (r.cohort_size, r.active) = (e.size, e.active)
         AND round(r.retention_rate::numeric, 12) = round(e.active / e.size::numeric, 12) AS ok
FROM (SELECT cohort_retention(customer, ts) AS m FROM cohort_activity) s, cohort_report(s.m) r
FULL JOIN (VALUES ('2024-01-01'::date, 3, 0, 3), ('2024-01-01', 3, 1, 1), ('2024-01-01', 3, 2, 1),
                  ('2024-01-01', 3, 3, 1), ('2024-02-01', 2, 0, 2), ('2024-02-01', 2, 1, 1),
                  ('2024-02-01', 2, 2, 0), ('2024-04-01', 1, 0, 1)) e(cohort_start, size, period, active)
  USING (cohort_start, period)
ORDER BY cohort_start, period;

-- Heat table: lpad(round(100 * active / size), 4) and a shade: 100 full
-- block (>= 75%), 50 dark (>= 50%), 33 medium (>= 25%), 0 blank.
SELECT h.cohort_start, h.cohort_size, h.retention,
       h.retention = e.retention AS ok
FROM (SELECT cohort_retention(customer, ts) AS m FROM cohort_activity) s, cohort_heatmap(s.m) h
JOIN (VALUES ('2024-01-01'::date, ' 100█  33▒  33▒  33▒'), ('2024-02-01', ' 100█  50▓   0 '),
             ('2024-04-01', ' 100█')) e(cohort_start, retention) USING (cohort_start)
ORDER BY h.cohort_start;

-- Two periods only: periods 0..2.
SELECT (m).periods, (m).active,
       (m).active = '{{3,1,1},{2,1,0},{1,NULL,NULL}}'::bigint[] AS ok
FROM (SELECT cohort_retention(customer, ts, 'month', 2) AS m FROM cohort_activity) s;

-- Periods follow the session time zone: in Tokyo c's only event is on
-- Feb 1, so the January cohort is {a, b} (Jan 2, Feb 1, Mar 1, Apr 1) and
-- the February cohort {c, d, e} (Feb 3, Mar 1, Apr 0).
SET timezone = 'Asia/Tokyo';
SELECT (m).cohort_start, (m).cohort_size, (m).active[1:2][1:4] AS first_two,
       (m).cohort_size = '{2,3,1}'::bigint[]
         AND (m).active[1:2][1:4] = '{{2,1,1,1},{3,1,0,NULL}}'::bigint[] AS ok
FROM (SELECT cohort_retention(customer, ts) AS m FROM cohort_activity) s;
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- Quarters: Q1 cohort {a, b, c, d, e}: Q1 5, Q2 1 (a); Q2 cohort {f}: 1.
SELECT (m).cohort_start, (m).active[1:2][1:2],
       (m).cohort_start = '{2024-01-01,2024-04-01}'::date[]
         AND (m).active[1:2][1:2] = '{{5,1},{1,NULL}}'::bigint[] AS ok
FROM (SELECT cohort_retention(customer, ts, 'quarter') AS m FROM cohort_activity) s;

-- Weeks start on Monday (2024-01-01 was one): Sunday Jan 7 and Monday
-- Jan 8 fall in weeks 0 and 1 of the cohort of Jan 1; Monday Jan 15 in the
-- cohort of Jan 15.  The last event (Jan 15) is in week 2 of the first
-- cohort, so its week 2 counts (0 active) and only the second cohort has
-- NULL periods.  Days: the cohort of Jan 7 is active on day 1 (Jan 8).
SELECT (m).cohort_start, (m).active,
       (m).cohort_start = '{2024-01-01,2024-01-15}'::date[]
         AND (m).active = '{{1,1,0},{1,NULL,NULL}}'::bigint[] AS ok
FROM (SELECT cohort_retention(u, ts, 'week', 2) AS m
      FROM (VALUES (1, '2024-01-07 12:00+00'::timestamptz), (1, '2024-01-08 12:00+00'),
                   (2, '2024-01-15 12:00+00')) v(u, ts)) s;
SELECT (m).cohort_start, (m).active,
       (m).active = '{{1,1}}'::bigint[] AS ok
FROM (SELECT cohort_retention(u, ts, 'day', 1) AS m
      FROM (VALUES (1, '2024-01-07 12:00+00'::timestamptz), (1, '2024-01-08 12:00+00')) v(u, ts)) s;

-- Entities of other types group as GROUP BY would: uuids 1..4, each with
-- two equal rows, odd ones in February, even ones in January: cohorts of
-- 2 and 2, the January cohort 2 then 0.
SELECT (m).cohort_size, (m).active[1:1][1:2],
       (m).cohort_size = '{2,2}'::bigint[] AND (m).active[1:1][1:2] = '{{2,0}}'::bigint[] AS ok
FROM (SELECT cohort_retention(('{' || lpad(i::text, 8, '0') || '-0000-0000-0000-000000000000}')::uuid,
                              '2024-01-01'::timestamptz + (i % 2) * interval '1 month') AS m
      FROM generate_series(1, 4) i, generate_series(1, 2) rep) s;

-- ---------------------------------------------------------------------------
-- retention (ClickHouse): element 1 is 1 when condition 1 held on some row,
-- element k is 1 when conditions 1 and k each held on some row.
-- ClickHouse's documented example: uids 0-4 on 2020-01-01, uids 0-9 on
-- 2020-01-02, uids 5-14 on 2020-01-03 give [1,1,0] for uids 0-4 and
-- [0,0,0] for uids 5-14; summed per position: [5,5,0].
-- ---------------------------------------------------------------------------
CREATE TABLE ch_retention (uid int, d date);
INSERT INTO ch_retention
SELECT uid, date '2020-01-01' FROM generate_series(0, 4) uid UNION ALL
SELECT uid, date '2020-01-02' FROM generate_series(0, 9) uid UNION ALL
SELECT uid, date '2020-01-03' FROM generate_series(5, 14) uid;

SELECT uid, r,
       r = CASE WHEN uid <= 4 THEN '{1,1,0}'::int[] ELSE '{0,0,0}' END AS ok
FROM (SELECT uid, retention(d = '2020-01-01', d = '2020-01-02', d = '2020-01-03') AS r
      FROM ch_retention GROUP BY uid) s
ORDER BY uid;

SELECT array_agg(total ORDER BY k) AS sums, array_agg(total ORDER BY k) = '{5,5,0}' AS ok
FROM (SELECT k, sum(r[k]) AS total
      FROM (SELECT retention(d = '2020-01-01', d = '2020-01-02', d = '2020-01-03') AS r
            FROM ch_retention GROUP BY uid) s, generate_series(1, 3) k
      GROUP BY k) t;

-- Conditions need not hold on one row, and a NULL condition counts as
-- false: rows (t, f, f), (f, NULL, t) give [1, 0, 1]; without condition 1
-- everything is 0; one condition gives a one-element array.
SELECT retention(c1, c2, c3) AS r, retention(c1, c2, c3) = '{1,0,1}' AS ok
FROM (VALUES (true, false, false), (false, NULL, true)) v(c1, c2, c3);
SELECT retention(c2, c1, c3) AS r, retention(c2, c1, c3) = '{0,0,0}' AS ok
FROM (VALUES (true, false, false), (false, NULL, true)) v(c1, c2, c3);
SELECT retention(c1) AS r FROM (VALUES (true), (NULL)) v(c1);
SELECT retention(c1) AS r FROM (VALUES (false), (NULL)) v(c1);
-- no rows: NULL (the number of conditions is not known)
SELECT retention(c1, c2) AS r FROM (VALUES (true, true)) v(c1, c2) WHERE false;
