-- time_to_convert: hand-worked cases.
--
-- The time is measured on the chain with which the funnel walk of
-- doc/window_funnel.md completes the funnel (or first reaches to_step): from
-- that chain's step-1 event to the event that completes it.  Expected values
-- are worked out by hand in the comments; each query shows the result (got)
-- and whether it equals the hand value (ok).
SET timezone = 'UTC';
SET IntervalStyle = 'postgres';

-- ---------------------------------------------------------------------------
-- Journeys over steps a, b, c (x matches no step), window 1 hour unless said.
-- ---------------------------------------------------------------------------
CREATE TABLE journeys (j text, ts timestamptz, ev text);
INSERT INTO journeys VALUES
  -- J1: a 10:00, b 10:05, a 10:30, c 10:40.  The second a restarts step 1
  -- only; step 2 keeps the 10:00 start and c extends it: 40 min (not 10).
  ('J1', '2024-01-01 10:00', 'a'), ('J1', '2024-01-01 10:05', 'b'),
  ('J1', '2024-01-01 10:30', 'a'), ('J1', '2024-01-01 10:40', 'c'),
  -- J2: a 10:00, a 10:30, b 10:35, c 10:40: b extends the 10:30 start: 10 min.
  ('J2', '2024-01-01 10:00', 'a'), ('J2', '2024-01-01 10:30', 'a'),
  ('J2', '2024-01-01 10:35', 'b'), ('J2', '2024-01-01 10:40', 'c'),
  -- J3: a 10:00, b 10:15, a 10:20, b 10:25, c 10:30.  Step 2 is first
  -- reached at 10:15 on the 10:00 chain: to_step 2 = 15 min.  The second b
  -- moves step 2 to the 10:20 chain, which c completes: 10 min.
  ('J3', '2024-01-01 10:00', 'a'), ('J3', '2024-01-01 10:15', 'b'),
  ('J3', '2024-01-01 10:20', 'a'), ('J3', '2024-01-01 10:25', 'b'),
  ('J3', '2024-01-01 10:30', 'c'),
  -- J4: a, b, c as three rows at one instant (ties go in step order): 0.
  -- strict_increase: b is not later than a: level 1, NULL.
  ('J4', '2024-01-01 10:00', 'c'), ('J4', '2024-01-01 10:00', 'b'),
  ('J4', '2024-01-01 10:00', 'a'),
  -- J5: a 10:00, b 10:30, c 11:30: c is 90 min after the start, outside
  -- 1 hour (NULL); with window 90 minutes it is exactly on the (inclusive)
  -- boundary: 1:30.
  ('J5', '2024-01-01 10:00', 'a'), ('J5', '2024-01-01 10:30', 'b'),
  ('J5', '2024-01-01 11:30', 'c'),
  -- J6: a 10:00, b 10:10, a 10:50, c 11:05 (65 min after the 10:00 start
  -- held by step 2: outside), b 11:06 (step 2 now holds 10:50), c 11:07:
  -- 17 min.  to_step 2: first reached at 10:10: 10 min.
  ('J6', '2024-01-01 10:00', 'a'), ('J6', '2024-01-01 10:10', 'b'),
  ('J6', '2024-01-01 10:50', 'a'), ('J6', '2024-01-01 11:05', 'c'),
  ('J6', '2024-01-01 11:06', 'b'), ('J6', '2024-01-01 11:07', 'c'),
  -- J7: a, b, a, b, c one minute apart: default: the second b moves step 2
  -- to the 10:02 chain, c completes it at 10:04: 2 min.
  -- strict_deduplication: the second b finds step 2 held: level 2, NULL.
  ('J7', '2024-01-01 10:00', 'a'), ('J7', '2024-01-01 10:01', 'b'),
  ('J7', '2024-01-01 10:02', 'a'), ('J7', '2024-01-01 10:03', 'b'),
  ('J7', '2024-01-01 10:04', 'c'),
  -- J8: a 10:00, x 10:01, b 10:02, c 10:03: default 3 min; strict_order:
  -- x (no step) ends the chain at 1: NULL.
  ('J8', '2024-01-01 10:00', 'a'), ('J8', '2024-01-01 10:01', 'x'),
  ('J8', '2024-01-01 10:02', 'b'), ('J8', '2024-01-01 10:03', 'c'),
  -- J9: a 10:00, b 10:20 and nothing else: level 2, NULL for the 3-step
  -- funnel; to_step 2: 20 min.
  ('J9', '2024-01-01 10:00', 'a'), ('J9', '2024-01-01 10:20', 'b'),
  -- J10: b and c only: level 0, NULL even for to_step 1.
  ('J10', '2024-01-01 10:00', 'b'), ('J10', '2024-01-01 10:05', 'c'),
  -- J11: a 10:00, c 10:10, b 10:20, c 10:30: default: c at 10:10 is skipped
  -- (step 2 empty): 30 min.  strict_order: c while step 2 is empty ends the
  -- chain: NULL; strict_order, allow_reentry: c skipped: 30 min.
  ('J11', '2024-01-01 10:00', 'a'), ('J11', '2024-01-01 10:10', 'c'),
  ('J11', '2024-01-01 10:20', 'b'), ('J11', '2024-01-01 10:30', 'c');

-- Default mode, full funnel.
SELECT j, got, got IS NOT DISTINCT FROM expected AS ok FROM (
  SELECT j, time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c') AS got
  FROM journeys GROUP BY j) s
JOIN (VALUES ('J1', interval '40 min'), ('J2', '10 min'), ('J3', '10 min'), ('J4', '0'),
             ('J5', NULL), ('J6', '17 min'), ('J7', '2 min'), ('J8', '3 min'),
             ('J9', NULL), ('J10', NULL), ('J11', '30 min')) e(j, expected) USING (j)
ORDER BY j;

-- The window is inclusive: J5 with 90 minutes converts in 1:30.
SELECT got, got = '1:30' AS ok FROM (
  SELECT time_to_convert('90 minutes', ts, ev = 'a', ev = 'b', ev = 'c') AS got
  FROM journeys WHERE j = 'J5') s;

-- Modes.  Every journey but the ones named in a comment above keeps its
-- default answer.
-- strict_deduplication: J7 NULL.  J1, J2, J6: a repeated a is never a
-- duplicate; J3: the second b finds step 2 held: NULL; J6's second b also
-- finds step 2 held (since 10:10): NULL; J11: the second c? c at 10:10 is
-- skipped without reaching step 3, so the later c is not a duplicate: 30 min.
SELECT j, got, got IS NOT DISTINCT FROM expected AS ok FROM (
  SELECT j, time_to_convert('1 hour', 'strict_deduplication', ts, ev = 'a', ev = 'b', ev = 'c') AS got
  FROM journeys GROUP BY j) s
JOIN (VALUES ('J1', interval '40 min'), ('J2', '10 min'), ('J3', NULL), ('J4', '0'),
             ('J5', NULL), ('J6', NULL), ('J7', NULL), ('J8', '3 min'),
             ('J9', NULL), ('J10', NULL), ('J11', '30 min')) e(j, expected) USING (j)
ORDER BY j;

-- strict_order: J8 (x) and J11 (early c) NULL.  J6: c at 11:05 comes while
-- step 2 is held (it fails only the window): the walk goes on: 17 min.
-- J10: b and c before any a are skipped.
SELECT j, got, got IS NOT DISTINCT FROM expected AS ok FROM (
  SELECT j, time_to_convert('1 hour', 'strict_order', ts, ev = 'a', ev = 'b', ev = 'c') AS got
  FROM journeys GROUP BY j) s
JOIN (VALUES ('J1', interval '40 min'), ('J2', '10 min'), ('J3', '10 min'), ('J4', '0'),
             ('J5', NULL), ('J6', '17 min'), ('J7', '2 min'), ('J8', NULL),
             ('J9', NULL), ('J10', NULL), ('J11', NULL)) e(j, expected) USING (j)
ORDER BY j;

-- strict_order, allow_reentry: J11 back to 30 min; J8's x still ends it.
-- strict_increase: J4 NULL (ties); the others have increasing times.
SELECT j, reentry, reentry IS NOT DISTINCT FROM e_reentry AS reentry_ok,
       increase, increase IS NOT DISTINCT FROM e_increase AS increase_ok FROM (
  SELECT j,
         time_to_convert('1 hour', 'strict_order,allow_reentry', ts, ev = 'a', ev = 'b', ev = 'c') AS reentry,
         time_to_convert('1 hour', 'strict_increase', ts, ev = 'a', ev = 'b', ev = 'c') AS increase
  FROM journeys GROUP BY j) s
JOIN (VALUES ('J1', interval '40 min', interval '40 min'), ('J2', '10 min', '10 min'),
             ('J3', '10 min', '10 min'), ('J4', '0', NULL), ('J5', NULL, NULL),
             ('J6', '17 min', '17 min'), ('J7', '2 min', '2 min'), ('J8', NULL, '3 min'),
             ('J9', NULL, NULL), ('J10', NULL, NULL), ('J11', '30 min', '30 min'))
  e(j, e_reentry, e_increase) USING (j)
ORDER BY j;

-- to_step: the time when the walk FIRST reaches that step.
-- to_step 1: 0 for every journey with an a, NULL for J10.
-- to_step 2: J1 5, J2 5 (a 10:30 -> b 10:35), J3 15, J4 0, J5 30, J6 10,
-- J7 1, J8 2, J9 20, J10 NULL, J11 20 (b 10:20 on the 10:00 chain).
-- to_step 3: as the full funnel.
SELECT j, s1, s1 IS NOT DISTINCT FROM e1 AS ok1, s2, s2 IS NOT DISTINCT FROM e2 AS ok2,
       s3 IS NOT DISTINCT FROM full_funnel AS ok3 FROM (
  SELECT j,
         time_to_convert('1 hour', '', 1, ts, ev = 'a', ev = 'b', ev = 'c') AS s1,
         time_to_convert('1 hour', '', 2, ts, ev = 'a', ev = 'b', ev = 'c') AS s2,
         time_to_convert('1 hour', '', 3, ts, ev = 'a', ev = 'b', ev = 'c') AS s3,
         time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c') AS full_funnel
  FROM journeys GROUP BY j) s
JOIN (VALUES ('J1', interval '0', interval '5 min'), ('J2', '0', '5 min'), ('J3', '0', '15 min'),
             ('J4', '0', '0'), ('J5', '0', '30 min'), ('J6', '0', '10 min'), ('J7', '0', '1 min'),
             ('J8', '0', '2 min'), ('J9', '0', '20 min'), ('J10', NULL, NULL), ('J11', '0', '20 min'))
  e(j, e1, e2) USING (j)
ORDER BY j;
-- to_step NULL means the last step.
SELECT bool_and(a IS NOT DISTINCT FROM b) AS ok FROM (
  SELECT time_to_convert('1 hour', '', NULL, ts, ev = 'a', ev = 'b', ev = 'c') AS a,
         time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c') AS b
  FROM journeys GROUP BY j) s;

-- The event-name form and the funnel_event form give the same times.
SELECT bool_and(names IS NOT DISTINCT FROM bools) AS names_ok,
       bool_and(names_mode_same) AS names_mode_ok,
       bool_and(events IS NOT DISTINCT FROM bools) AS events_ok,
       bool_and(names2 IS NOT DISTINCT FROM bools2) AS names_to_step_ok,
       bool_and(events2 IS NOT DISTINCT FROM bools2) AS events_to_step_ok FROM (
  SELECT time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c') AS bools,
         time_to_convert('1 hour', ts, ev, ARRAY['a','b','c']) AS names,
         time_to_convert('1 hour', '', ts, ev, ARRAY['a','b','c']) IS NOT DISTINCT FROM
           time_to_convert('1 hour', ts, ev, ARRAY['a','b','c']) AS names_mode_same,
         time_to_convert('1 hour', funnel_event(ts, ev = 'a', ev = 'b', ev = 'c')) AS events,
         time_to_convert('1 hour', '', 2, ts, ev = 'a', ev = 'b', ev = 'c') AS bools2,
         time_to_convert('1 hour', '', 2, ts, ev, ARRAY['a','b','c']) AS names2,
         time_to_convert('1 hour', '', 2, funnel_event(ts, ev = 'a', ev = 'b', ev = 'c')) AS events2
  FROM journeys WHERE j <> 'J9' GROUP BY j) s;
-- ... except where a funnel_event group names fewer steps: the funnel then
-- ends at the highest step the group names.  J9 names a and b only, so its
-- funnel_event time is to step 2 (20 min) where the 3-condition form says
-- NULL; give to_step to fix the target.
SELECT time_to_convert('1 hour', funnel_event(ts, ev = 'a', ev = 'b', ev = 'c')) AS events,
       time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c') AS bools,
       time_to_convert('1 hour', '', 3, funnel_event(ts, ev = 'a', ev = 'b', ev = 'c')) AS events_to_step_3
FROM journeys WHERE j = 'J9';

-- A row matching several steps: one row at 10:00 matching a and b, c at
-- 10:45: the 10:00 chain completes at 10:45: 45 min.  strict_once: the row
-- counts once (level 1 then c needs step 2): NULL.
SELECT time_to_convert('1 hour', ts, a, b, c) AS got,
       time_to_convert('1 hour', ts, a, b, c) = '45 min' AS ok,
       time_to_convert('1 hour', 'strict_once', ts, a, b, c) AS once
FROM (VALUES ('2024-01-01 10:00'::timestamptz, true, true, false),
             ('2024-01-01 10:45', false, false, true)) v(ts, a, b, c);

-- 64 steps, step k at second k: 63 s from step 1 to step 64; to_step 33:
-- 32 s.
SELECT time_to_convert('1 hour', funnel_event('2024-01-01'::timestamptz + k * interval '1 s', k)) AS to_64,
       time_to_convert('1 hour', '', 33, funnel_event('2024-01-01'::timestamptz + k * interval '1 s', k)) AS to_33
FROM generate_series(1, 64) k;

-- ---------------------------------------------------------------------------
-- CRM leads, window 90 days (2024 is a leap year).  Long conversions come
-- back as hours (the interval carries no days).
-- ---------------------------------------------------------------------------
CREATE TABLE crm_leads (lead_id int, created timestamptz, mql timestamptz,
                    sql_at timestamptz, proposal timestamptz, won timestamptz);
INSERT INTO crm_leads VALUES
  -- L1: won 45 days after created: 1080 h; to_step 3 (sql): 19 days.
  (1, '2024-01-01', '2024-01-10', '2024-01-20', '2024-02-01', '2024-02-15'),
  -- L2: created and mql only: NULL; to_step 2: 1 day.
  (2, '2024-01-05', '2024-01-06', NULL, NULL, NULL),
  -- L3: won 121 days after created (outside): NULL; to_step 4: 74 days.
  (3, '2024-01-01', '2024-02-01', '2024-03-01', '2024-03-15', '2024-05-01'),
  -- L4: no mql: NULL; to_step 3: NULL.
  (4, '2024-01-10', NULL, '2024-01-20', '2024-01-25', '2024-02-01'),
  -- L5: proposal dated before sql: level 3; to_step 3: 9 days; to_step 4 NULL.
  (5, '2024-02-01', '2024-02-02', '2024-02-10', '2024-02-05', NULL);
SELECT lead_id, full_funnel, full_funnel IS NOT DISTINCT FROM e_full AS full_ok,
       to_sql, to_sql IS NOT DISTINCT FROM e_sql AS sql_ok,
       to_proposal IS NOT DISTINCT FROM e_proposal AS proposal_ok FROM (
  SELECT l.lead_id,
         time_to_convert('90 days', s.ts, s.stage, ARRAY['created','mql','sql','proposal','won']) AS full_funnel,
         time_to_convert('90 days', '', 3, s.ts, s.stage, ARRAY['created','mql','sql','proposal','won']) AS to_sql,
         time_to_convert('90 days', '', 4, s.ts, s.stage, ARRAY['created','mql','sql','proposal','won']) AS to_proposal
  FROM crm_leads l
  CROSS JOIN LATERAL unnest(ARRAY[l.created, l.mql, l.sql_at, l.proposal, l.won],
                            ARRAY['created','mql','sql','proposal','won']) s(ts, stage)
  GROUP BY l.lead_id) q
JOIN (VALUES (1, interval '1080 hours', interval '19 days', interval '31 days'),
             (2, NULL, NULL, NULL),
             (3, NULL, '60 days', '74 days'),
             (4, NULL, NULL, NULL),
             (5, NULL, '9 days', NULL)) e(lead_id, e_full, e_sql, e_proposal) USING (lead_id)
ORDER BY lead_id;
-- The same with funnel_event input and to_step 5 (the funnel_event form
-- would otherwise stop at the highest stage each lead names).
SELECT lead_id, got, got IS NOT DISTINCT FROM expected AS ok FROM (
  SELECT l.lead_id, time_to_convert('90 days', '', 5, funnel_event(s.ts, s.step)) AS got
  FROM crm_leads l
  CROSS JOIN LATERAL (VALUES (1, l.created), (2, l.mql), (3, l.sql_at),
                             (4, l.proposal), (5, l.won)) s(step, ts)
  GROUP BY l.lead_id) q
JOIN (VALUES (1, interval '45 days'), (2, NULL), (3, NULL), (4, NULL), (5, NULL)) e(lead_id, expected)
  USING (lead_id)
ORDER BY lead_id;

-- ---------------------------------------------------------------------------
-- Empty input and NULLs
-- ---------------------------------------------------------------------------
-- No rows: NULL.  Rows with a NULL time only: NULL.  Rows matching no step:
-- NULL (even for to_step 1).
SELECT time_to_convert('1 hour', ts, ev = 'a') AS no_rows FROM journeys WHERE false;
SELECT time_to_convert('1 hour', NULL::timestamptz, true) AS null_times FROM journeys;
SELECT time_to_convert('1 hour', '', 1, ts, false, false) AS no_match FROM journeys;
-- NULL conditions count as false: J1 with b as NULL instead of true: NULL.
SELECT time_to_convert('1 hour', ts, ev = 'a', NULLIF(ev = 'b', true), ev = 'c') AS got
FROM journeys WHERE j = 'J1';

-- ---------------------------------------------------------------------------
-- The journey function: time_to_convert(window, funnel_event[], mode, to_step)
-- ---------------------------------------------------------------------------
-- Stored journeys (array order does not matter) equal the aggregate.
CREATE TABLE stored AS
  SELECT j, array_agg(funnel_event(ts, ev = 'a', ev = 'b', ev = 'c') ORDER BY ts DESC) AS journey
  FROM journeys GROUP BY j;
SELECT j, got, got IS NOT DISTINCT FROM expected AS ok FROM (
  SELECT j, time_to_convert('1 hour', journey) AS got FROM stored) s
JOIN (VALUES ('J1', interval '40 min'), ('J2', '10 min'), ('J3', '10 min'), ('J4', '0'),
             ('J5', NULL), ('J6', '17 min'), ('J7', '2 min'), ('J8', '3 min'),
             ('J9', '20 min'), ('J10', NULL), ('J11', '30 min')) e(j, expected) USING (j)
ORDER BY j;
-- J9 names steps 1 and 2 only: its default target is step 2 (20 min); to
-- ask for step 3 give to_step: NULL.  J10 names steps 2 and 3: target 3,
-- never reached: NULL.
SELECT time_to_convert('1 hour', journey, '', 3) AS j9_to_3 FROM stored WHERE j = 'J9';
-- Modes and to_step as in the aggregate: J7 strict_deduplication NULL;
-- J8 strict_order NULL; J3 to_step 2 15 min; J11 strict_order,allow_reentry
-- 30 min.
SELECT (SELECT time_to_convert('1 hour', journey, 'strict_deduplication') FROM stored WHERE j = 'J7') AS j7_dedup,
       (SELECT time_to_convert('1 hour', journey, 'strict_order') FROM stored WHERE j = 'J8') AS j8_order,
       (SELECT time_to_convert('1 hour', journey, '', 2) = '15 min' FROM stored WHERE j = 'J3') AS j3_to_2_ok,
       (SELECT time_to_convert('1 hour', journey, 'strict_order, allow_reentry') = '30 min'
          FROM stored WHERE j = 'J11') AS j11_reentry_ok,
       (SELECT time_to_convert('1 hour', journey, to_step => 2) = '20 min' FROM stored WHERE j = 'J11') AS named_arg_ok;
-- NULL and empty journeys, NULL window or mode: NULL; to_step NULL: the
-- default target.
SELECT time_to_convert('1 hour', NULL::funnel_event[]) AS null_journey,
       time_to_convert('1 hour', '{}'::funnel_event[]) AS empty_journey,
       time_to_convert(NULL, ARRAY['2024-01-01 10:00+00 {1}'::funnel_event]) AS null_window,
       time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event], NULL) AS null_mode,
       time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event,
                                       '2024-01-01 10:07+00 {2}'], '', NULL) AS to_step_null;
-- A one-event journey naming steps 1..3 at once: 0.
SELECT time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1,2,3}'::funnel_event]) AS one_event;

-- ---------------------------------------------------------------------------
-- As a window function: the running time to convert of each journey.
-- ---------------------------------------------------------------------------
-- J3 row by row: NULL until c at 10:30, then 10 min.
SELECT ts, time_to_convert('1 hour', ts, ev = 'a', ev = 'b', ev = 'c')
         OVER (PARTITION BY j ORDER BY ts) AS running
FROM journeys WHERE j = 'J3' ORDER BY ts;

DROP TABLE journeys, stored, crm_leads;
