-- test/security.sh: the arguments of test/security/calls.sql, made in a
-- clean database (no plants) and printed as text: a funnel_summary (fs), a
-- cohort_matrix (cm) and an array of attribution summaries (attrs).
\set ON_ERROR_STOP on
SET search_path = pg_catalog, public;
SET TimeZone = 'UTC';
CREATE TEMP TABLE ev (u int, ts timestamptz, e text, ch text, v numeric);
INSERT INTO ev VALUES
  (1, '2024-01-01 10:00+00', 'visit', 'ads', NULL), (1, '2024-01-01 10:05+00', 'cart', 'email', NULL),
  (1, '2024-01-01 10:30+00', 'purchase', NULL, 40),
  (2, '2024-01-02 09:00+00', 'visit', 'email', NULL), (2, '2024-01-02 11:00+00', 'cart', 'ads', NULL),
  (3, '2024-01-03 08:00+00', 'visit', 'organic', NULL), (3, '2024-02-10 08:00+00', 'visit', 'ads', NULL),
  (3, '2024-02-10 08:20+00', 'purchase', NULL, 15),
  (4, '2024-02-04 12:00+00', 'visit', 'ads', NULL), (4, '2024-03-05 12:00+00', 'purchase', NULL, 9),
  (5, '2024-03-01 07:00+00', 'visit', 'social', NULL);
\pset format unaligned
\pset tuples_only on
SELECT 'fs', funnel_summary('1 day', u, ts, e, ARRAY['visit', 'cart', 'purchase'])::text FROM ev;
SELECT 'cm', cohort_retention(u, ts, 'month', 3)::text FROM ev;
SELECT 'attrs', array_agg(s ORDER BY m)::text
  FROM (SELECT m, attribution(m, u, ts, ch, v, '60 days') AS s
          FROM ev, unnest(ARRAY['first_touch', 'linear', 'markov']) m GROUP BY m) x;
