-- Product-funnel options (doc/product_funnels.md): exclusions (PostHog's and
-- Mixpanel's), optional steps, in every input form, per entity and over the
-- whole table, as window functions, in parallel plans; the errors.  Expected
-- values are worked by hand from the rules in doc/product_funnels.md (the
-- worked example there is the first block); test/posthog_differential.sh
-- compares with a transcription of PostHog on random data.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(138);
SET LOCAL timezone = 'UTC';

-- The worked example: steps signup, activate, subscribe; exclusion
-- support_ticket from 1 to 3; window 1 hour.
CREATE TABLE ex (u text, ts timestamptz, ev text);
INSERT INTO ex VALUES
  ('u1', '2024-01-01 10:00', 'signup'), ('u1', '2024-01-01 10:10', 'activate'), ('u1', '2024-01-01 10:20', 'subscribe'),
  ('u2', '2024-01-01 10:00', 'signup'), ('u2', '2024-01-01 10:05', 'support_ticket'),
  ('u2', '2024-01-01 10:10', 'activate'), ('u2', '2024-01-01 10:20', 'subscribe'),
  ('u3', '2024-01-01 10:00', 'signup'), ('u3', '2024-01-01 10:10', 'activate'), ('u3', '2024-01-01 10:15', 'support_ticket'),
  ('u4', '2024-01-01 10:00', 'signup'), ('u4', '2024-01-01 10:05', 'support_ticket'),
  ('u4', '2024-01-01 10:30', 'signup'), ('u4', '2024-01-01 10:40', 'activate'),
  ('u5', '2024-01-01 10:00', 'signup'), ('u5', '2024-01-01 10:10', 'activate'), ('u5', '2024-01-01 10:20', 'subscribe'),
  ('u5', '2024-01-01 10:30', 'support_ticket'),
  ('u6', '2024-01-01 09:00', 'signup'), ('u6', '2024-01-01 10:30', 'support_ticket');

SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'exclude 4 from 1 to 3', ts, ev,
                            ARRAY['signup', 'activate', 'subscribe', 'support_ticket'])
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 0), ('u3', 0), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions, PostHog: the worked example (event names)');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'exclude 4 from 1 to 3, exclusion_counts_reached', ts, ev,
                            ARRAY['signup', 'activate', 'subscribe', 'support_ticket'])
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 1), ('u3', 2), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions, Mixpanel (exclusion_counts_reached): the worked example');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'exclude 4 from 1 to 3', ts,
                            ev = 'signup', ev = 'activate', ev = 'subscribe', ev = 'support_ticket')
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 0), ('u3', 0), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions: conditions give the same levels');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'exclude 4 from 1 to 3',
                            funnel_event(ts, array_position(ARRAY['signup', 'activate', 'subscribe', 'support_ticket'], ev)))
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 0), ('u3', 0), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions: funnel_event rows give the same levels');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour',
                            array_agg(funnel_event(ts, array_position(ARRAY['signup', 'activate', 'subscribe', 'support_ticket'], ev))
                                      ORDER BY ts DESC),
                            'exclude 4 from 1 to 3')
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 0), ('u3', 0), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions: a stored journey, in any order, gives the same levels');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'exclude 4 from 1 to 3', ts, ev,
                            ARRAY['signup', 'activate', 'subscribe', 'support_ticket'] ORDER BY ts DESC)
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', 3), ('u2', 0), ('u3', 0), ('u4', 2), ('u5', 3), ('u6', 1)$$,
  'exclusions: rows out of time order (the log is re-walked) give the same levels');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'exclude 4 from 1 to 3', u, ts, ev,
                              ARRAY['signup', 'activate', 'subscribe', 'support_ticket']) FROM ex),
  ARRAY[4, 3, 2]::bigint[],
  'exclusions: the dropped entities count at no step (u1 3, u4 2, u5 3, u6 1)');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'exclude 4 from 1 to 3, exclusion_counts_reached', u, ts, ev,
                              ARRAY['signup', 'activate', 'subscribe', 'support_ticket']) FROM ex),
  ARRAY[6, 4, 2]::bigint[],
  'exclusion_counts_reached: every entity counts up to the step it reached');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'exclude 4 from 1 to 3', u,
                              funnel_event(ts, array_position(ARRAY['signup', 'activate', 'subscribe', 'support_ticket'], ev))) FROM ex),
  ARRAY[4, 3, 2]::bigint[],
  'exclusions, funnel_event input: the exclusion position is not a reported step');
SELECT is(
  (SELECT funnel_conversion('1 hour', 'exclude 4 from 1 to 3', u, ts, ev,
                            ARRAY['signup', 'activate', 'subscribe', 'support_ticket']) FROM ex),
  ARRAY[1, 0.75, 2.0 / 3]::float8[],
  'exclusions: funnel_conversion');
SELECT results_eq(
  $$SELECT u, time_to_convert('1 hour', 'exclude 4 from 1 to 3', ts, ev,
                              ARRAY['signup', 'activate', 'subscribe', 'support_ticket'])
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', interval '20 minutes'), ('u2', NULL), ('u3', NULL), ('u4', NULL), ('u5', interval '20 minutes'), ('u6', NULL)$$,
  'exclusions: time_to_convert is NULL for dropped entities');
SELECT results_eq(
  $$SELECT u, time_to_convert('1 hour', 'exclude 4 from 1 to 3', 2, ts, ev,
                              ARRAY['signup', 'activate', 'subscribe', 'support_ticket'])
    FROM ex GROUP BY u ORDER BY u$$,
  $$VALUES ('u1', interval '10 minutes'), ('u2', NULL), ('u3', NULL), ('u4', interval '10 minutes'), ('u5', interval '10 minutes'), ('u6', NULL)$$,
  'exclusions: time_to_convert to step 2 (u4: on its clean second attempt)');
-- Mixpanel's exclusions in time_to_convert (window 1 hour, exclusion x from 1 to 3):
-- u1: a 10:00, x 10:05, b 10:10, c 10:20: the chain ends at step 1: no time to step 2 or 3.
-- u2: a 10:00, b 10:10, x 10:15, c 10:20: the chain ends at step 2: 10 minutes to step 2,
--     none to step 3; PostHog's rule drops both entities (NULL everywhere).
SELECT results_eq(
  $$SELECT u, time_to_convert('1 hour', 'exclude 4 from 1 to 3', 2, ts, ev, ARRAY['a', 'b', 'c', 'x']),
            time_to_convert('1 hour', 'exclude 4 from 1 to 3, exclusion_counts_reached', 2, ts, ev, ARRAY['a', 'b', 'c', 'x']),
            time_to_convert('1 hour', 'exclude 4 from 1 to 3, exclusion_counts_reached', ts, ev, ARRAY['a', 'b', 'c', 'x'])
    FROM (VALUES (1, timestamptz '2024-01-01 10:00+00', 'a'), (1, '2024-01-01 10:05+00', 'x'), (1, '2024-01-01 10:10+00', 'b'),
                 (1, '2024-01-01 10:20+00', 'c'), (2, '2024-01-01 10:00+00', 'a'), (2, '2024-01-01 10:10+00', 'b'),
                 (2, '2024-01-01 10:15+00', 'x'), (2, '2024-01-01 10:20+00', 'c')) v(u, ts, ev)
    GROUP BY u ORDER BY u$$,
  $$VALUES (1, NULL::interval, NULL::interval, NULL::interval), (2, NULL, interval '10 minutes', NULL)$$,
  'exclusion_counts_reached: time_to_convert up to the step the chain had reached');
SELECT is(
  (SELECT array_agg(entities ORDER BY step) FROM funnel_report(
     (SELECT funnel_summary('1 hour', 'exclude 4 from 1 to 3', u, ts, ev,
                            ARRAY['signup', 'activate', 'subscribe', 'support_ticket']) FROM ex))),
  ARRAY[4, 3, 2]::bigint[],
  'exclusions: funnel_summary counts as funnel_stage_counts');
SELECT results_eq(
  $$SELECT u, ts, window_funnel('1 hour', 'exclude 4 from 1 to 3', ts, ev,
                                ARRAY['signup', 'activate', 'subscribe', 'support_ticket'])
                  OVER (PARTITION BY u ORDER BY ts)
    FROM ex WHERE u = 'u3' ORDER BY ts$$,
  $$VALUES ('u3', timestamptz '2024-01-01 10:00', 1), ('u3', '2024-01-01 10:10', 2), ('u3', '2024-01-01 10:15', 0)$$,
  'exclusions: as a window function, the level as of each row');

-- Ties and edges
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:10', 'x'), ('2024-01-01 10:10', 'b')) v(ts, ev)),
  0, 'an exclusion at the time of the step ending its range counts (exclusions first)');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:00', 'x'), ('2024-01-01 10:10', 'b')) v(ts, ev)),
  2, 'an exclusion at the time of step 1 comes before the chain starts');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 11:00', 'x'), ('2024-01-01 11:00', 'b')) v(ts, ev)),
  0, 'the window is inclusive for exclusions too');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 11:00:01', 'x'), ('2024-01-01 11:30', 'a'), ('2024-01-01 11:40', 'b')) v(ts, ev)),
  2, 'an exclusion after the window of every chain changes nothing');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 4 from 2 to 3', ts, ev, ARRAY['a', 'b', 'c', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:05', 'x'), ('2024-01-01 10:10', 'b'), ('2024-01-01 10:20', 'c')) v(ts, ev)),
  3, 'an exclusion from step 2 does not look before step 2');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 4 from 1 to 2, exclude 4 from 2 to 3', ts, ev, ARRAY['a', 'b', 'c', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:10', 'b'), ('2024-01-01 10:15', 'x')) v(ts, ev)),
  0, 'one exclusion condition with two ranges');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 4 from 1 to 2, exclude 5 from 2 to 3', ts, ev, ARRAY['a', 'b', 'c', 'x', 'y'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:05', 'y'), ('2024-01-01 10:10', 'b'), ('2024-01-01 10:20', 'c')) v(ts, ev)),
  3, 'two exclusions: each looks at its own range only');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'x')) v(ts, ev)),
  0, 'an entity with only exclusion rows is at level 0');
SELECT is(
  (SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['a', 'b', 'x'])
   FROM (VALUES (timestamptz '294276-12-31 23:00', 'a'), ('294276-12-31 23:59', 'x')) v(ts, ev)),
  0, 'exclusions at the end of the timestamp range');

-- Optional steps (steps view, wishlist (optional), buy)
CREATE TABLE op (u int, ts timestamptz, ev text);
INSERT INTO op VALUES
  (1, '2024-01-01 10:00', 'view'), (1, '2024-01-01 10:10', 'buy'),
  (2, '2024-01-01 10:00', 'view'), (2, '2024-01-01 10:10', 'wishlist'),
  (3, '2024-01-01 10:00', 'view'), (3, '2024-01-01 10:10', 'wishlist'), (3, '2024-01-01 10:20', 'buy'),
  (4, '2024-01-01 10:00', 'view'), (4, '2024-01-01 12:00', 'wishlist'), (4, '2024-01-01 12:10', 'buy'),
  (5, '2024-01-01 10:00', 'wishlist'), (5, '2024-01-01 10:10', 'buy');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'optional 2', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op GROUP BY u ORDER BY u$$,
  $$VALUES (1, 2), (2, 1), (3, 2), (4, 1), (5, 0)$$,
  'optional steps: the depth does not count them (4: both later steps outside the window)');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op GROUP BY u ORDER BY u$$,
  $$VALUES (1, 1), (2, 2), (3, 3), (4, 1), (5, 0)$$,
  'the same funnel without the option (for contrast)');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'optional 2', u, ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op),
  ARRAY[4, 2]::bigint[],
  'optional steps: one stage count per required step');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'optional 2', u, funnel_event(ts, array_position(ARRAY['view', 'wishlist', 'buy'], ev))) FROM op),
  ARRAY[4, 2]::bigint[],
  'optional steps, funnel_event input');
SELECT is(
  (SELECT window_funnel('1 hour', 'optional 2 3', ts, ev, ARRAY['a', 'b', 'c', 'd'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:10', 'd')) v(ts, ev)),
  2, 'two optional steps in a row are both skipped');
SELECT is(
  (SELECT window_funnel('1 hour', 'optional 2', ts, ev, ARRAY['a', 'b', 'c'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:10', 'b'), ('2024-01-01 11:05', 'a'), ('2024-01-01 11:20', 'c')) v(ts, ev)),
  2, 'a step skips an optional step whose chain is out of the window');
SELECT is(
  (SELECT window_funnel('1 hour', 'optional 2', ts, ev, ARRAY['a', 'b', 'c'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:30', 'b'), ('2024-01-01 11:20', 'c')) v(ts, ev)),
  1, 'skipping leads to an earlier chain, not out of the window');
SELECT is(
  (SELECT window_funnel('1 hour', 'optional 2, exclude 4 from 1 to 3', ts, ev, ARRAY['a', 'b', 'c', 'x'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:05', 'x'), ('2024-01-01 10:10', 'c')) v(ts, ev)),
  0, 'optional steps and exclusions together');

-- Times with optional steps (PostHog's timings: between consecutive
-- required steps; the optional steps are neither reported nor timed).
-- op, window 1 hour, wishlist optional: u1 view 10:00, buy 10:10; u3 view
-- 10:00, wishlist 10:10, buy 10:20 (from view: 20 minutes, the optional
-- wishlist between is not a step of the report); u2, u4 stop at level 1.
SELECT results_eq(
  $$SELECT u, time_to_convert('1 hour', 'optional 2', ts, ev, ARRAY['view', 'wishlist', 'buy']),
            time_to_convert('1 hour', 'optional 2', 2, ts, ev, ARRAY['view', 'wishlist', 'buy']),
            time_to_convert('1 hour', 'optional 2', 1, ts, ev, ARRAY['view', 'wishlist', 'buy'])
    FROM op GROUP BY u ORDER BY u$$,
  $$VALUES (1, interval '10 minutes', interval '10 minutes', interval '0'), (2, NULL, NULL, interval '0'),
           (3, interval '20 minutes', interval '20 minutes', interval '0'), (4, NULL, NULL, interval '0'),
           (5, NULL::interval, NULL::interval, NULL::interval)$$,
  'optional steps: time_to_convert to the last required step (default and to_step 2) and to step 1');
SELECT results_eq(
  $$SELECT u, time_to_convert('1 hour', array_agg(funnel_event(ts, array_position(ARRAY['view', 'wishlist', 'buy'], ev)) ORDER BY ts DESC), 'optional 2'),
            time_to_convert('1 hour', array_agg(funnel_event(ts, array_position(ARRAY['view', 'wishlist', 'buy'], ev)))::journey, 'optional 2'),
            time_to_convert('1 hour', 'optional 2', funnel_event(ts, array_position(ARRAY['view', 'wishlist', 'buy'], ev)))
    FROM op GROUP BY u ORDER BY u$$,
  $$VALUES (1, interval '10 minutes', interval '10 minutes', interval '10 minutes'),
           (2, interval '0', interval '0', interval '0'),   -- its highest step is the optional 2: the target is step 1
           (3, interval '20 minutes', interval '20 minutes', interval '20 minutes'), (4, NULL, NULL, NULL),
           (5, NULL::interval, NULL::interval, NULL::interval)$$,
  'optional steps: time_to_convert over both journey forms and funnel_event rows');
SELECT results_eq(
  $$SELECT step, entities, median_from_previous, p90_from_previous, mean_from_previous,
           median_from_start, p90_from_start, mean_from_start
    FROM funnel_step_times((SELECT funnel_summary('1 hour', 'optional 2, step_times', u, ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op))$$,
  $$VALUES (1, 4::bigint, interval '0', interval '0', interval '0', interval '0', interval '0', interval '0'),
           (2, 2::bigint, interval '10 minutes', interval '20 minutes', interval '15 minutes',
            interval '10 minutes', interval '20 minutes', interval '15 minutes')$$,
  'optional steps: funnel_summary with step_times, one row per required step');
-- steps a, b, c (optional): a 10:00, b 10:30, a 10:40, b 10:45, c 10:50.
-- b is first reached at 10:30 (30 minutes: time_to_convert and the time
-- from start); the furthest chain, 10:40 -> 10:45 -> c 10:50, gives the
-- step time 5 minutes (PostHog: the timings of max_step).
CREATE TABLE ot (ts timestamptz, ev text);
INSERT INTO ot VALUES ('2024-01-01 10:00', 'a'), ('2024-01-01 10:30', 'b'), ('2024-01-01 10:40', 'a'),
  ('2024-01-01 10:45', 'b'), ('2024-01-01 10:50', 'c');
SELECT is(
  (SELECT time_to_convert('1 hour', 'optional 3', ts, ev, ARRAY['a', 'b', 'c']) FROM ot),
  interval '30 minutes', 'optional last step: time_to_convert on the chain that first reached the last required step');
SELECT results_eq(
  $$SELECT step, median_from_previous, median_from_start
    FROM funnel_step_times((SELECT funnel_summary('1 hour', 'optional 3, step_times', 1, ts, ev, ARRAY['a', 'b', 'c']) FROM ot))$$,
  $$VALUES (1, interval '0', interval '0'), (2, interval '5 minutes', interval '30 minutes')$$,
  'optional last step: step times on the furthest chain, which went on to the optional step');
-- a 10:00, b 10:10, a 11:05, c 11:20 (b optional): c skips b, whose chain
-- is out of the window, and extends the 11:05 chain: 15 minutes
SELECT is(
  (SELECT array[time_to_convert('1 hour', 'optional 2', ts, ev, ARRAY['a', 'b', 'c']),
                (SELECT median_from_previous FROM funnel_step_times(funnel_summary('1 hour', 'optional 2, step_times', 1, ts, ev, ARRAY['a', 'b', 'c'])) WHERE step = 2)]
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:10', 'b'), ('2024-01-01 11:05', 'a'), ('2024-01-01 11:20', 'c')) v(ts, ev)),
  array[interval '15 minutes', interval '15 minutes'], 'a skipped optional step: the time from the step the chain came from');
-- a 10:00, x 10:05 (excluded from 1 to 3), a 10:30, c 10:40 (b optional):
-- the clean attempt at 10:30 reaches c in 10 minutes
SELECT is(
  (SELECT array[time_to_convert('1 hour', 'optional 2, exclude 4 from 1 to 3', ts, ev, ARRAY['a', 'b', 'c', 'x']),
                (SELECT median_from_previous FROM funnel_step_times(funnel_summary('1 hour', 'optional 2, exclude 4 from 1 to 3, step_times', 1, ts, ev, ARRAY['a', 'b', 'c', 'x'])) WHERE step = 2)]
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'a'), ('2024-01-01 10:05', 'x'), ('2024-01-01 10:30', 'a'), ('2024-01-01 10:40', 'c')) v(ts, ev)),
  array[interval '10 minutes', interval '10 minutes'], 'optional steps and an exclusion: the times of the clean attempt');
-- funnel_correlation walks with times too: with an optional step, its
-- converters are the entities at the last required step
SELECT is(
  (SELECT (funnel_correlation('1 hour', 'optional 2', u, ts, ev, ARRAY['view', 'wishlist', 'buy'], 1, NULL) ->> 'converters')::bigint FROM op),
  2::bigint, 'optional steps: funnel_correlation counts the entities at the last required step as converters (u1, u3)');

-- Parallel plans give the serial answers
CREATE TABLE big AS
SELECT u, timestamptz '2024-01-01' + ((u * 7 + k * 13) % 97) * interval '1 minute' AS ts,
       (ARRAY['a', 'b', 'c', 'x'])[1 + (u * 3 + k * 5) % 4] AS ev
FROM generate_series(1, 3000) u, generate_series(1, 6) k;
ANALYZE big;
CREATE TEMP TABLE serial_answer AS
SELECT funnel_stage_counts('30 minutes', 'optional 2, exclude 4 from 1 to 3', u, ts, ev, ARRAY['a', 'b', 'c', 'x']) AS c,
       funnel_summary('30 minutes', 'optional 2, exclude 4 from 1 to 3, step_times', u, ts, ev, ARRAY['a', 'b', 'c', 'x'])::text AS s
FROM big;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(
  (SELECT funnel_stage_counts('30 minutes', 'optional 2, exclude 4 from 1 to 3', u, ts, ev, ARRAY['a', 'b', 'c', 'x']) FROM big),
  (SELECT c FROM serial_answer),
  'a parallel plan gives the serial stage counts');
SELECT is(
  (SELECT funnel_summary('30 minutes', 'optional 2, exclude 4 from 1 to 3, step_times', u, ts, ev, ARRAY['a', 'b', 'c', 'x'])::text FROM big),
  (SELECT s FROM serial_answer),
  'a parallel plan gives the serial summary with step times of a funnel with an optional step (its state is read back)');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Errors
SELECT throws_ok($$SELECT window_funnel('1 hour', 'strict_order, optional 2', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '0A000', 'optional steps and exclusions cannot be combined with funnel mode "strict_order"', 'no ClickHouse mode with options');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'optional 1', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'step 1 of a funnel cannot be optional', 'step 1 is not optional');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'optional 4', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'optional step 4 is not a step of the funnel', 'optional step past the last');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'optional two', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'optional step "two" in funnel mode "optional two" is not a step number from 1 to 64', 'step numbers are numbers');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 3 from 2 to 2', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'exclusion "exclude 3 from 2 to 2" must end at a later step than it starts', 'empty exclusion range');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 3 from 1 to 3', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'exclusion at position 3 ends at step 3, past the funnel''s last step 2', 'the range is within the steps before the exclusions');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 5 from 1 to 2', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'exclusion position 5 is past the 3 conditions given', 'the exclusion condition exists');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', ts, ev, ARRAY['view', 'wishlist', 'buy', 'x']) FROM op$$,
  '22023', 'condition 4 is neither a funnel step nor an exclusion', 'no stray condition after the steps');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 3 from 1 to 2', funnel_event(ts, 4)) FROM op$$,
  '22023', 'an event names step 4, which is neither a funnel step nor an exclusion', 'funnel_event rows name steps or exclusions');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclusion_counts_reached', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'funnel mode "exclusion_counts_reached" needs an exclusion', 'the Mixpanel variant needs an exclusion');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 3 from 1', ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22023', 'unrecognized funnel mode "exclude 3 from 1"', 'an incomplete exclusion');
SELECT throws_ok($$SELECT time_to_convert('1 hour', 'optional 2', 3, ts, ev, ARRAY['view', 'wishlist', 'buy']) FROM op$$,
  '22003', 'to_step 3 is out of range', 'with optional steps, to_step is a level: optional steps are not counted');
SELECT throws_ok($$SELECT window_funnel('1 hour', v.m, ts, ev, ARRAY['view', 'wishlist', 'buy', 'x'])
                   FROM op, (VALUES ('exclude 4 from 1 to 2'), ('exclude 4 from 1 to 3')) v(m)$$,
  '22023', 'funnel mode differs between rows of one group', 'options must agree between rows of a group');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2, exclude 2 from 1 to 2', ts, ev, ARRAY['view', 'x']) FROM op$$,
  '54000', 'a funnel cannot have more than 16 exclusions', 'at most 16 exclusions');

-- Any-order funnels (steps a, b, c; window 1 hour)
CREATE TABLE ao (u int, ts timestamptz, ev text);
INSERT INTO ao VALUES
  (1, '2024-01-01 10:00', 'c'), (1, '2024-01-01 10:10', 'b'), (1, '2024-01-01 10:20', 'a'),
  (2, '2024-01-01 10:00', 'a'), (2, '2024-01-01 10:10', 'c'), (2, '2024-01-01 10:20', 'b'),
  (3, '2024-01-01 10:00', 'a'), (3, '2024-01-01 10:30', 'b'), (3, '2024-01-01 11:10', 'c'),
  (4, '2024-01-01 10:00', 'b'), (4, '2024-01-01 10:30', 'a'), (4, '2024-01-01 11:20', 'c'),
  (5, '2024-01-01 10:00', 'b'), (5, '2024-01-01 11:00', 'a'), (5, '2024-01-01 11:00', 'c');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'any_order', ts, ev, ARRAY['a', 'b', 'c']) FROM ao GROUP BY u ORDER BY u$$,
  $$VALUES (1, 3), (2, 3), (3, 2), (4, 2), (5, 3)$$,
  'any_order: the most distinct steps within one window (5: the window is inclusive)');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'any_order_first', ts, ev, ARRAY['a', 'b', 'c']) FROM ao GROUP BY u ORDER BY u$$,
  $$VALUES (1, 1), (2, 3), (3, 2), (4, 2), (5, 2)$$,
  'any_order_first: the window starts at a step-1 row');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', 'any_order', funnel_event(ts, array_position(ARRAY['a', 'b', 'c'], ev)) ORDER BY ts DESC)
    FROM ao GROUP BY u ORDER BY u$$,
  $$VALUES (1, 3), (2, 3), (3, 2), (4, 2), (5, 3)$$,
  'any_order: funnel_event rows in any order');
SELECT results_eq(
  $$SELECT u, window_funnel('1 hour', array_agg(funnel_event(ts, array_position(ARRAY['a', 'b', 'c'], ev))), 'any_order_first')
    FROM ao GROUP BY u ORDER BY u$$,
  $$VALUES (1, 1), (2, 3), (3, 2), (4, 2), (5, 2)$$,
  'any_order_first: stored journeys');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'any_order', u, ts, ev = 'a', ev = 'b', ev = 'c') FROM ao),
  ARRAY[5, 5, 3]::bigint[], 'any_order: stage counts, conditions');
SELECT is(
  (SELECT funnel_stage_counts('1 hour', 'any_order_first', u, ts, ev, ARRAY['a', 'b', 'c']) FROM ao),
  ARRAY[5, 4, 1]::bigint[], 'any_order_first: stage counts');
SELECT is(
  (SELECT window_funnel('0 seconds', 'any_order', ts, ev, ARRAY['a', 'b', 'c'])
   FROM (VALUES (timestamptz '2024-01-01 10:00', 'c'), ('2024-01-01 10:00', 'a'), ('2024-01-01 10:00', 'b')) v(ts, ev)),
  3, 'any_order: rows of one time, window 0');
SELECT is(
  (SELECT window_funnel('1 hour', 'any_order', ts, a, b, c)
   FROM (VALUES (timestamptz '2024-01-01 10:00', true, true, false), ('2024-01-01 10:10', false, false, true)) v(ts, a, b, c)),
  3, 'any_order: a row matching two steps counts for both');
SELECT is(
  (SELECT window_funnel('1 hour', 'any_order_first', ts, ev, ARRAY['a', 'b', 'c'])
   FROM (VALUES (timestamptz '2024-01-01 09:00', 'a'), ('2024-01-01 09:50', 'b'), ('2024-01-01 10:20', 'a'), ('2024-01-01 10:30', 'c')) v(ts, ev)),
  2, 'any_order_first: each entry has its own window');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'any_order, any_order_first', ts, ev, ARRAY['a', 'b', 'c']) FROM ao$$,
  '22023', 'funnel modes "any_order" and "any_order_first" exclude each other', 'one any-order flavour');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'any_order, optional 2', ts, ev, ARRAY['a', 'b', 'c']) FROM ao$$,
  '0A000', 'any-order funnels cannot have optional steps or exclusions', 'no optional steps in any order');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'strict_order, any_order', ts, ev, ARRAY['a', 'b', 'c']) FROM ao$$,
  '0A000', 'any-order funnels cannot be combined with funnel mode "strict_order"', 'no ClickHouse mode in any order');
SELECT throws_ok($$SELECT time_to_convert('1 hour', 'any_order', ts, ev, ARRAY['a', 'b', 'c']) FROM ao$$,
  '0A000', 'times to convert are not available for any-order funnels', 'no times in any order');

-- Hold a property constant: the entity is the (user, product) pair
CREATE TABLE hp (u text, p int, ts timestamptz, ev text);
INSERT INTO hp VALUES
  ('u1', 1, '2024-01-01 10:00', 'view'), ('u1', 2, '2024-01-01 10:05', 'cart'), ('u1', 2, '2024-01-01 10:10', 'buy'),
  ('u2', 1, '2024-01-01 10:00', 'view'), ('u2', 1, '2024-01-01 10:05', 'cart'), ('u2', 1, '2024-01-01 10:10', 'buy'),
  ('u3', 1, '2024-01-01 10:00', 'view'), ('u3', 2, '2024-01-01 10:01', 'view'), ('u3', 2, '2024-01-01 10:05', 'cart'),
  ('u3', 1, '2024-01-01 10:10', 'buy');
CREATE TYPE pg_temp.user_product AS (u text, p int);
SELECT is(
  (SELECT funnel_stage_counts('1 day', u, ts, ev, ARRAY['view', 'cart', 'buy']) FROM hp),
  ARRAY[3, 3, 3]::bigint[], 'per user, every user converts');
SELECT is(
  (SELECT funnel_stage_counts('1 day', ARRAY[u, p::text], ts, ev, ARRAY['view', 'cart', 'buy']) FROM hp),
  ARRAY[4, 2, 1]::bigint[], 'per (user, product) as an array entity');
SELECT is(
  (SELECT funnel_stage_counts('1 day', ROW(u, p)::pg_temp.user_product, ts, ev, ARRAY['view', 'cart', 'buy']) FROM hp),
  ARRAY[4, 2, 1]::bigint[], 'per (user, product) as a composite entity');
SELECT is(
  (SELECT funnel_stage_counts(level, 3)
   FROM (SELECT u, max(level) AS level
         FROM (SELECT u, p, window_funnel('1 day', ts, ev, ARRAY['view', 'cart', 'buy']) AS level
               FROM hp GROUP BY u, p) per_pair
         GROUP BY u) per_user),
  ARRAY[3, 2, 1]::bigint[], 'users counted once, at their best product');

-- Times from step to step (mode step_times): window 1 hour, steps a, b, c.
-- u1: a 10:00, b 10:10, c 10:40: the chain's steps at 0, 10 and 40 minutes.
-- u2: a 10:00, b 10:50 (step 2 first reached, 50 minutes from its start),
--     a 11:00, b 11:10, c 11:20: level 3 on the chain started at 11:00,
--     steps at 0, 10 and 20 minutes (the first-reached times would give a
--     negative 20 - 50 from step 2 to step 3).
-- u3: a 10:00, b 10:20.
CREATE TABLE st (u int, ts timestamptz, ev text);
INSERT INTO st VALUES
  (1, '2024-01-01 10:00', 'a'), (1, '2024-01-01 10:10', 'b'), (1, '2024-01-01 10:40', 'c'),
  (2, '2024-01-01 10:00', 'a'), (2, '2024-01-01 10:50', 'b'), (2, '2024-01-01 11:00', 'a'),
  (2, '2024-01-01 11:10', 'b'), (2, '2024-01-01 11:20', 'c'),
  (3, '2024-01-01 10:00', 'a'), (3, '2024-01-01 10:20', 'b');
CREATE TEMP TABLE st_report AS
SELECT * FROM funnel_step_times((SELECT funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']) FROM st),
                                ARRAY['a', 'b', 'c']);
-- quantiles are nearest rank, exact at the minimum and maximum; the other
-- ranks and the means are within 1% (doc/reports.md)
CREATE FUNCTION pg_temp.near(x interval, minutes float8) RETURNS boolean LANGUAGE sql AS
$$ SELECT abs(extract(epoch FROM x) - minutes * 60) <= 0.01 * minutes * 60 $$;
SELECT results_eq(
  $$SELECT step, name, entities, median_from_previous, p90_from_previous FROM st_report ORDER BY step$$,
  $$VALUES (1, 'a', 3::bigint, interval '0', interval '0'), (2, 'b', 3, '10 minutes', '20 minutes'),
           (3, 'c', 2, '10 minutes', '30 minutes')$$,
  'step_times: median and 90th percentile from the step before (10, 10, 20 and 30, 10 minutes)');
SELECT ok((SELECT pg_temp.near(mean_from_previous, 40.0 / 3) FROM st_report WHERE step = 2)
          AND (SELECT pg_temp.near(mean_from_previous, 20) FROM st_report WHERE step = 3)
          AND (SELECT mean_from_previous = '0' FROM st_report WHERE step = 1),
          'step_times: means from the step before (13 1/3 and 20 minutes, within 1%)');
SELECT ok((SELECT p90_from_start = '50 minutes' AND pg_temp.near(median_from_start, 20) AND pg_temp.near(mean_from_start, 80.0 / 3)
           FROM st_report WHERE step = 2)
          AND (SELECT median_from_start = '20 minutes' AND p90_from_start = '40 minutes' AND pg_temp.near(mean_from_start, 30)
               FROM st_report WHERE step = 3),
          'step_times: times from step 1 as funnel_report has them (first reached: 10, 50, 20 and 40, 20 minutes)');
SELECT is(
  (SELECT (funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']))::text::funnel_summary::text FROM st),
  (SELECT (funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']))::text FROM st),
  'step_times: the text form round-trips (version 2)');
SELECT is(
  (SELECT (funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']))::text::jsonb -> 'step_times_us' -> 2 ->> 'max' FROM st),
  '1800000000', 'step_times: the text form has step_times_us');
SELECT is(
  (SELECT rollup(s)::text FROM (SELECT funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']) AS s FROM st GROUP BY u) x),
  (SELECT (funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']))::text FROM st),
  'step_times: a rollup of per-entity summaries is the summary of all');
SELECT throws_ok(
  $$SELECT * FROM funnel_step_times((SELECT rollup(s) FROM (
      SELECT funnel_summary('1 hour', CASE WHEN u = 1 THEN 'step_times' ELSE '' END, u, ts, ev, ARRAY['a', 'b', 'c']) AS s
      FROM st GROUP BY u) x))$$,
  '22023', 'this funnel summary has no times from step to step',
  'step_times: a rollup with a summary without them has none');
SELECT throws_ok(
  $$SELECT * FROM funnel_step_times((SELECT funnel_summary('1 hour', u, ts, ev, ARRAY['a', 'b', 'c']) FROM st))$$,
  '22023', 'this funnel summary has no times from step to step', 'step_times: only when asked for');
SELECT is(
  (SELECT funnel_summary('1 hour', u, ts, ev, ARRAY['a', 'b', 'c'])::text::jsonb ->> 'version' FROM st),
  '1', 'without step_times a summary stays version 1');
SELECT results_eq(
  $$SELECT step, median_from_previous, p90_from_previous FROM funnel_step_times(
      (SELECT funnel_summary('1 hour', 'step_times, exclude 4 from 1 to 3', u, ts, ev,
                             ARRAY['signup', 'activate', 'subscribe', 'support_ticket']) FROM ex))$$,
  $$VALUES (1, interval '0', interval '0'), (2, '10 minutes', '10 minutes'), (3, '10 minutes', '10 minutes')$$,
  'step_times with exclusions: the worked example (u4 on its clean second attempt)');
CREATE TABLE st_many AS
SELECT u % 97 AS g, funnel_summary('2 hours', 'step_times', u, ts, ev, ARRAY['a', 'b', 'c']) AS s
FROM (SELECT u, timestamptz '2024-01-01' + ((u * 13 + k * 29) % 180) * interval '1 minute' AS ts,
             (ARRAY['a', 'b', 'c'])[1 + (u + k * 7) % 3] AS ev
      FROM generate_series(1, 2000) u, generate_series(1, 5) k) x
GROUP BY u % 97;
ANALYZE st_many;
CREATE TEMP TABLE st_serial AS SELECT rollup(s)::text AS t FROM st_many;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is((SELECT rollup(s)::text FROM st_many), (SELECT t FROM st_serial),
  'step_times: a parallel rollup (states sent in the binary form, version 2) gives the serial one');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT throws_ok($$SELECT funnel_summary('1 hour', 'step_times, strict_once', u, ts, ev, ARRAY['a', 'b', 'c']) FROM st$$,
  '0A000', 'funnel mode "step_times" cannot be combined with "strict_once"', 'no step times with strict_once');
SELECT throws_ok($$SELECT funnel_summary('1 hour', 'step_times, any_order', u, ts, ev, ARRAY['a', 'b', 'c']) FROM st$$,
  '0A000', 'funnel mode "step_times" cannot be combined with any-order funnels', 'no step times in any order');
SELECT throws_ok($$SELECT '{"version": 2, "steps": 1, "window_us": 0, "mode": "", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
  '22P02', 'invalid input syntax for type funnel_summary: expected the keys version, steps, window_us, mode, open_steps, entities, times_us and step_times_us',
  'version 2 text needs step_times_us');
SELECT throws_ok($$SELECT '{"version": 2, "steps": 2, "window_us": 3600000000, "mode": "", "open_steps": false, "entities": [2, 1], "times_us": [{"zero": 2, "min": 0, "max": 0, "buckets": []}, {"zero": 1, "min": 0, "max": 0, "buckets": []}], "step_times_us": [{"zero": 2, "min": 0, "max": 0, "buckets": []}, {"zero": 0, "min": 7200000000, "max": 7200000000, "buckets": [[1127, 1]]}]}'::funnel_summary$$,
  '22P02', 'invalid input syntax for type funnel_summary: a time exceeds the window',
  'times from the previous step are checked like the others');

-- Conversion trends by entry period (window 1 hour; steps a, b).  Europe/Paris
-- goes from UTC+1 to UTC+2 on 2024-03-31 at 01:00 UTC: that local day is 23
-- hours, 2024-03-30 23:00 to 2024-03-31 22:00 UTC.
-- u1: a 03-31 00:30 local (23:30 UTC the day before), b 30 minutes later: enters 03-31, converts.
-- u2: a 03-31 23:30 local (21:30 UTC), b 75 minutes later: enters 03-31, does not convert.
-- u3: a 04-01 00:30 local (22:30 UTC on 03-31), b 30 minutes later: enters 04-01, converts.
-- u4: a 03-30 23:59 local, then a 03-31 10:00 local and b 10 minutes later:
--     enters 03-30 (no conversion) and 03-31 (converts).
-- u5: a 04-01 10:00, a 10:50 (restarts its 04-01 attempt), b 11:40 local: converts.
-- u6: a 04-01 10:00, b 10:10, a 12:00 local: one entry, converted; the later a is ignored.
CREATE TABLE tr (u int, ts timestamptz, ev text);
INSERT INTO tr VALUES
  (1, '2024-03-30 23:30+00', 'a'), (1, '2024-03-31 00:00+00', 'b'),
  (2, '2024-03-31 21:30+00', 'a'), (2, '2024-03-31 22:45+00', 'b'),
  (3, '2024-03-31 22:30+00', 'a'), (3, '2024-03-31 23:00+00', 'b'),
  (4, '2024-03-30 22:59+00', 'a'), (4, '2024-03-31 08:00+00', 'a'), (4, '2024-03-31 08:10+00', 'b'),
  (5, '2024-04-01 08:00+00', 'a'), (5, '2024-04-01 08:50+00', 'a'), (5, '2024-04-01 09:40+00', 'b'),
  (6, '2024-04-01 08:00+00', 'a'), (6, '2024-04-01 08:10+00', 'b'), (6, '2024-04-01 10:00+00', 'a');
CREATE TEMP TABLE tr_paris AS
SELECT * FROM funnel_trend_report(
  (SELECT funnel_trends('1 hour', 'bucket day, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b']) FROM tr),
  '2024-04-01 09:30+00');
SELECT results_eq(
  $$SELECT period_start, period_end, entered, converted, complete FROM tr_paris ORDER BY period_start$$,
  $$VALUES (timestamptz '2024-03-29 23:00+00', timestamptz '2024-03-30 23:00+00', 1::bigint, 0::bigint, true),
           ('2024-03-30 23:00+00', '2024-03-31 22:00+00', 3, 2, true),
           ('2024-03-31 22:00+00', '2024-04-01 22:00+00', 3, 3, false)$$,
  'trends: local days across the change to summer time (a 23-hour day), restarts, one attempt per period');
SELECT is((SELECT conversion_rate FROM tr_paris WHERE period_start = '2024-03-30 23:00+00'), 2.0::float8 / 3,
  'trends: the conversion rate');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day', u, ts, ev, ARRAY['a', 'b']) FROM tr)) ORDER BY 1$$,
  $$VALUES (timestamptz '2024-03-30 00:00+00', 2::bigint, 1::bigint), ('2024-03-31 00:00+00', 3, 2), ('2024-04-01 00:00+00', 2, 2)$$,
  'trends: the same rows by UTC day (u1 enters 03-30 and converts on 03-31)');
SELECT results_eq(
  $$SELECT complete FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b']) FROM tr),
      '2024-03-31 22:59:59+00') ORDER BY period_start$$,
  $$VALUES (true), (false), (false)$$,
  'trends: a period is complete once its end plus the window has passed (not a second before)');
SELECT results_eq(
  $$SELECT complete FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b']) FROM tr),
      '2024-03-31 23:00+00') ORDER BY period_start$$,
  $$VALUES (true), (true), (false)$$,
  'trends: complete at exactly the end plus the window');
SELECT results_eq(
  $$SELECT period_end - period_start FROM funnel_trend_report(
      (SELECT funnel_trends('10 minutes', 'bucket day, time_zone Europe/Paris', 1, ts, true)
       FROM (VALUES (timestamptz '2024-10-27 12:00+00')) v(ts)))$$,
  $$VALUES (interval '25 hours')$$,
  'trends: the day summer time ends is 25 hours');
SELECT results_eq(
  $$SELECT period_start, entered FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket month, time_zone America/New_York', u, ts, ev = 'a', ev = 'b') FROM tr))$$,
  $$VALUES (timestamptz '2024-03-01 05:00+00', 4::bigint), ('2024-04-01 04:00+00', 2)$$,
  'trends: months in New York (u4 enters once in March)');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket week', u, funnel_event(ts, array_position(ARRAY['a', 'b'], ev))) FROM tr))$$,
  $$VALUES (timestamptz '2024-03-25 00:00+00', 4::bigint, 3::bigint), ('2024-04-01 00:00+00', 2, 2)$$,
  'trends: weeks (Monday to Monday), funnel_event rows (u1, u3 and u4 convert in the week of 03-25)');
SELECT throws_ok($$SELECT funnel_trends('1 hour', '', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '22023', 'a funnel trend needs a period in the mode', 'trends need a period');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket fortnight', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '22023', 'unrecognized funnel trend bucket "fortnight"', 'hour, day, week or month');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, time_zone Mars/Olympus', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '22023', 'time zone "Mars/Olympus" not recognized', 'PostgreSQL''s own time zone check');
-- trends with an exclusion (trends.rs): window 1 hour, steps a, b, c, x
-- excluded from 1 to 3, UTC days.  e1 converts; e2 (x after a, then b:
-- reached from an excluded step) and e5 (x after b, then c) are dropped with
-- every unconverted attempt; e3 (x after its furthest step b) is not
-- entered; e4 starts afresh at its second a; e6 converts on 05-01, is
-- dropped on 05-02, which drops its unconverted 05-03 attempt too.
CREATE TABLE trx (u int, ts timestamptz, ev text);
INSERT INTO trx VALUES
  (1, '2024-05-01 10:00+00', 'a'), (1, '2024-05-01 10:10+00', 'b'), (1, '2024-05-01 10:20+00', 'c'),
  (2, '2024-05-01 10:00+00', 'a'), (2, '2024-05-01 10:05+00', 'x'), (2, '2024-05-01 10:10+00', 'b'),
  (3, '2024-05-01 10:00+00', 'a'), (3, '2024-05-01 10:10+00', 'b'), (3, '2024-05-01 10:15+00', 'x'),
  (4, '2024-05-01 10:00+00', 'a'), (4, '2024-05-01 10:05+00', 'x'), (4, '2024-05-01 10:30+00', 'a'),
  (4, '2024-05-01 10:40+00', 'b'),
  (5, '2024-05-01 10:00+00', 'a'), (5, '2024-05-01 10:10+00', 'b'), (5, '2024-05-01 10:15+00', 'x'),
  (5, '2024-05-01 10:20+00', 'c'),
  (6, '2024-05-01 09:00+00', 'a'), (6, '2024-05-01 09:10+00', 'b'), (6, '2024-05-01 09:20+00', 'c'),
  (6, '2024-05-02 09:00+00', 'a'), (6, '2024-05-02 09:05+00', 'x'), (6, '2024-05-02 09:10+00', 'b'),
  (6, '2024-05-03 09:00+00', 'a');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, exclude 4 from 1 to 3', u, ts, ev, ARRAY['a', 'b', 'c', 'x']) FROM trx))$$,
  $$VALUES (timestamptz '2024-05-01 00:00+00', 3::bigint, 2::bigint)$$,
  'trends with an exclusion: the worked example (e1, e4, e6 enter on 05-01; 05-02 and 05-03 have no entry left)');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day', u, ts, ev, ARRAY['a', 'b', 'c']) FROM trx))$$,
  $$VALUES (timestamptz '2024-05-01 00:00+00', 6::bigint, 3::bigint), ('2024-05-02 00:00+00', 1, 0), ('2024-05-03 00:00+00', 1, 0)$$,
  'trends: the same rows without the exclusion');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, exclude 3 from 1 to 2, exclusion_counts_reached', u, ts, ev, ARRAY['a', 'b', 'x']) FROM trx$$,
  '0A000', 'funnel trends take no other funnel modes or options', 'trends take PostHog''s exclusions only');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, strict_order', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '0A000', 'funnel trends take no other funnel modes or options', 'trends follow the default walk');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'time_zone UTC', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '22023', 'funnel mode "time_zone" needs a "bucket"', 'a time zone without a period');
CREATE TABLE tr_big AS
SELECT u, timestamptz '2024-03-30' + ((u * 37 + k * 11) % 300) * interval '13 minutes' AS ts,
       (ARRAY['a', 'b', 'c'])[1 + (u + k * 5) % 3] AS ev
FROM generate_series(1, 3000) u, generate_series(1, 6) k;
ANALYZE tr_big;
CREATE TEMP TABLE tr_serial AS
SELECT funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b', 'c']) AS t FROM tr_big;

-- trends over stored journeys (one row per entity) = over the rows
CREATE TEMP TABLE trj AS
SELECT u, array_agg(funnel_event(ts, array_position(ARRAY['a', 'b'], ev))) AS fe,
       array_agg(funnel_event(ts, array_position(ARRAY['a', 'b'], ev)))::journey AS cj
FROM tr GROUP BY u;
SELECT results_eq(
  $$SELECT period_start, period_end, entered, converted, complete FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, time_zone Europe/Paris', fe) FROM trj), '2024-04-01 09:30+00')$$,
  $$VALUES (timestamptz '2024-03-29 23:00+00', timestamptz '2024-03-30 23:00+00', 1::bigint, 0::bigint, true),
           ('2024-03-30 23:00+00', '2024-03-31 22:00+00', 3, 2, true),
           ('2024-03-31 22:00+00', '2024-04-01 22:00+00', 3, 3, false)$$,
  'trends over journeys (funnel_event[]): the worked example across the change to summer time');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, time_zone Europe/Paris', cj ORDER BY u DESC) FROM trj))$$,
  $$SELECT period_start, entered, converted FROM tr_paris$$,
  'trends over journeys (journey type, rows in another order): the worked example');
SELECT results_eq(
  $$SELECT period_start, entered, converted FROM funnel_trend_report(
      (SELECT funnel_trends('1 hour', 'bucket day, exclude 4 from 1 to 3', j)
       FROM (SELECT array_agg(funnel_event(ts, array_position(ARRAY['a', 'b', 'c', 'x'], ev)))::journey AS j
             FROM trx GROUP BY u) g))$$,
  $$VALUES (timestamptz '2024-05-01 00:00+00', 3::bigint, 2::bigint)$$,
  'trends over journeys with an exclusion: the worked example');
-- random journeys across the change to summer time; a fifth of the users
-- never do step c, so whether a journey converts depends on the others
CREATE TEMP TABLE tr_rows AS
SELECT u, ts, array_position(ARRAY['a', 'b', 'c', 'x'], ev) AS pos FROM tr_big WHERE NOT (u % 5 = 0 AND ev = 'c')
UNION ALL
SELECT u, ts + interval '7 minutes', 4 FROM tr_big WHERE u % 3 = 0 AND ev = 'b';
CREATE TEMP TABLE tr_journeys AS
SELECT u, array_agg(funnel_event(ts, pos)) AS fe, array_agg(funnel_event(ts, pos))::journey AS cj FROM tr_rows GROUP BY u;
ANALYZE tr_journeys;
SELECT is((SELECT array[funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', fe ORDER BY u)::text,
                        funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', cj ORDER BY u DESC)::text,
                        funnel_trends('2 hours', 'bucket day, time_zone Europe/Paris, exclude 4 from 1 to 3', fe ORDER BY u % 5, u)::text,
                        funnel_trends('2 hours', 'bucket day, time_zone Europe/Paris, exclude 4 from 1 to 3', cj ORDER BY u DESC)::text]
           FROM tr_journeys),
          (SELECT array[funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', u, funnel_event(ts, pos)) FILTER (WHERE pos <= 3),
                        funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', u, funnel_event(ts, pos)) FILTER (WHERE pos <= 3),
                        funnel_trends('2 hours', 'bucket day, time_zone Europe/Paris, exclude 4 from 1 to 3', u, funnel_event(ts, pos)),
                        funnel_trends('2 hours', 'bucket day, time_zone Europe/Paris, exclude 4 from 1 to 3', u, funnel_event(ts, pos))]::text[]
           FROM tr_rows),
  'trends over journeys = over the rows on random data across a DST change, hours and days, with an exclusion, rows in any order');
SELECT is((SELECT funnel_trends('2 hours', 'bucket hour', fe)::text FROM tr_journeys WHERE u % 5 = 0),
          (SELECT funnel_trends('2 hours', 'bucket hour', u, funnel_event(ts, pos))::text FROM tr_rows WHERE u % 5 = 0 AND pos <= 3),
  'trends over journeys: journeys that all stop before step c have b as their last step, as over the rows');
CREATE TEMP TABLE trj_serial AS
SELECT funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', fe) FILTER (WHERE u % 7 <> 0) AS a,
       funnel_trends('2 hours', 'bucket day, exclude 4 from 1 to 3', cj) AS b FROM tr_journeys;
-- to_step: the trend converts at an earlier step, as the funnel cut to it
SELECT is((SELECT funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris, to_step 2', u, ts, ev, ARRAY['a', 'b', 'c']) FROM tr_big),
          (SELECT funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b']) FROM tr_big),
          'trends: to_step 2 of steps a, b, c = the funnel of steps a, b');
SELECT is((SELECT array[funnel_trends('2 hours', 'bucket hour, to_step 2', fe)::text,
                        funnel_trends('2 hours', 'bucket day, exclude 4 from 1 to 2, to_step 2', cj)::text] FROM tr_journeys),
          (SELECT array[funnel_trends('2 hours', 'bucket hour', u, funnel_event(ts, pos)) FILTER (WHERE pos <= 2),
                        funnel_trends('2 hours', 'bucket day, exclude 3 from 1 to 2', u,
                                      funnel_event(ts, CASE pos WHEN 4 THEN 3 ELSE pos END)) FILTER (WHERE pos <> 3)]::text[]
           FROM tr_rows),
          'trends over journeys: to_step 2 (also with an exclusion) = the rows of the funnel cut to step 2');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, to_step 3', u, ts, ev, ARRAY['a', 'b']) FROM tr$$,
  '22023', 'to_step 3 is not a step of the funnel', 'trends: to_step is one of the steps');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, exclude 4 from 1 to 3, to_step 2', u, ts, ev, ARRAY['a', 'b', 'c', 'x']) FROM trx$$,
  '22023', 'exclusion at position 4 ends at step 3, past to_step 2', 'trends: the exclusions end by to_step');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 'to_step 2', u, ts, ev, ARRAY['a', 'b', 'c']) FROM tr$$,
  '0A000', 'funnel mode "to_step" is not used by this function', 'to_step in the mode is funnel_trends''s');
SELECT throws_ok($$SELECT time_to_convert('1 hour', 'to_step 2', ts, ev, ARRAY['a', 'b', 'c']) FROM tr GROUP BY u$$,
  '0A000', 'funnel mode "to_step" is not used by this function', 'time_to_convert takes to_step as an argument, not in the mode');

-- partitionwise: a partial state per partition, combined
CREATE TEMP TABLE tr_journeys_hp (u int, cj journey) PARTITION BY HASH (u);
CREATE TEMP TABLE tr_journeys_hp0 PARTITION OF tr_journeys_hp FOR VALUES WITH (modulus 3, remainder 0);
CREATE TEMP TABLE tr_journeys_hp1 PARTITION OF tr_journeys_hp FOR VALUES WITH (modulus 3, remainder 1);
CREATE TEMP TABLE tr_journeys_hp2 PARTITION OF tr_journeys_hp FOR VALUES WITH (modulus 3, remainder 2);
INSERT INTO tr_journeys_hp SELECT u, cj FROM tr_journeys;
ANALYZE tr_journeys_hp;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is((SELECT funnel_trends('2 hours', 'bucket day, exclude 4 from 1 to 3', cj)::text FROM tr_journeys_hp),
          (SELECT funnel_trends('2 hours', 'bucket day, exclude 4 from 1 to 3', cj)::text FROM tr_journeys),
          'trends over journeys: a partitionwise plan (partial states combined) gives the answer');
-- the options over rows, partitionwise: the options travel in every partial state
CREATE TEMP TABLE tr_rows_hp (u int, ts timestamptz, pos int) PARTITION BY HASH (u);
CREATE TEMP TABLE tr_rows_hp0 PARTITION OF tr_rows_hp FOR VALUES WITH (modulus 3, remainder 0);
CREATE TEMP TABLE tr_rows_hp1 PARTITION OF tr_rows_hp FOR VALUES WITH (modulus 3, remainder 1);
CREATE TEMP TABLE tr_rows_hp2 PARTITION OF tr_rows_hp FOR VALUES WITH (modulus 3, remainder 2);
INSERT INTO tr_rows_hp SELECT u, ts, pos FROM tr_rows;
ANALYZE tr_rows_hp;
CREATE FUNCTION pg_temp.options_answer(tbl text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text;
BEGIN
  EXECUTE format($q$SELECT array[
      funnel_stage_counts('2 hours', 'optional 2, exclude 4 from 1 to 3', u, funnel_event(ts, pos))::text,
      funnel_stage_counts('2 hours', 'exclude 4 from 1 to 3, exclusion_counts_reached', u, ts, pos = 1, pos = 2, pos = 3, pos = 4)::text,
      funnel_stage_counts('2 hours', 'any_order_first', u, ts, pos = 1, pos = 2, pos = 3)::text,
      funnel_summary('2 hours', 'optional 2, step_times', u, funnel_event(ts, pos)) FILTER (WHERE pos < 4)::text,
      funnel_trends('2 hours', 'bucket day, time_zone Europe/Paris, exclude 4 from 1 to 3', u, funnel_event(ts, pos))::text]::text
    FROM %I$q$, tbl) INTO r;
  RETURN r;
END $f$;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE l text; r text := '';
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP r := r || l || E'\n'; END LOOP;
  RETURN r;
END $f$;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', 'optional 2', u, funnel_event(ts, pos)) FROM tr_rows_hp$$),
               'Append(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the plan over the partitioned rows is partitionwise');
SELECT is(pg_temp.options_answer('tr_rows_hp'), pg_temp.options_answer('tr_rows'),
          'optional steps, exclusions, any order, step times and trends over rows: a partitionwise plan gives the serial answer');
RESET enable_partitionwise_aggregate;
SELECT throws_ok($$SELECT funnel_trends('1 hour', '', fe) FROM trj$$,
  '22023', 'a funnel trend needs a period in the mode', 'trends over journeys need a period');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, optional 2', cj) FROM trj$$,
  '0A000', 'funnel trends take no other funnel modes or options', 'trends over journeys: no optional steps, as over the rows');
SELECT throws_ok($$SELECT funnel_trends('1 hour', 'bucket day, exclude 3 from 1 to 2', '{"2024-01-01 00:00+00 {4}"}'::journey)$$,
  '22023', 'an event names step 4, which is neither a funnel step nor an exclusion', 'trends over journeys: steps past the exclusions are refused');
SELECT is((SELECT funnel_trends('1 hour', 'bucket day', fe) FROM trj WHERE false), NULL, 'trends over no journey: NULL');
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is((SELECT funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', u, ts, ev, ARRAY['a', 'b', 'c']) FROM tr_big),
          (SELECT t FROM tr_serial), 'trends: a parallel plan gives the serial answer');
SELECT is((SELECT array[funnel_trends('2 hours', 'bucket hour, time_zone Europe/Paris', fe) FILTER (WHERE u % 7 <> 0),
                        funnel_trends('2 hours', 'bucket day, exclude 4 from 1 to 3', cj)]::text FROM tr_journeys),
          (SELECT array[a, b]::text FROM trj_serial), 'trends over journeys: a parallel plan gives the serial answer');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- mode items a function does not use are errors, not ignored
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b']) FROM ex$$,
  '0A000', 'funnel mode "step_times" is not used by this function', 'step_times in funnel_stage_counts');
SELECT throws_ok($$SELECT funnel_conversion('1 hour', 'bucket day', u, ts, ev, ARRAY['a', 'b']) FROM ex$$,
  '0A000', 'funnel mode "bucket" is not used by this function', 'bucket in funnel_conversion');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 'bucket day, time_zone UTC', u, ts, ev, ARRAY['a', 'b']) FROM ex$$,
  '0A000', 'funnel mode "bucket" is not used by this function', 'bucket and time_zone in funnel_stage_counts');
SELECT throws_ok($$SELECT window_funnel('1 hour', 'step_times', ts, ev, ARRAY['a', 'b']) FROM ex GROUP BY u$$,
  '0A000', 'funnel mode "step_times" is not used by this function', 'step_times in window_funnel');
SELECT throws_ok($$SELECT time_to_convert('1 hour', 'bucket hour', ts, ev, ARRAY['a', 'b']) FROM ex GROUP BY u$$,
  '0A000', 'funnel mode "bucket" is not used by this function', 'bucket in time_to_convert');
SELECT throws_ok($$SELECT window_funnel('1 hour', ARRAY[funnel_event('2024-01-01', 1)], 'step_times')$$,
  '0A000', 'funnel mode "step_times" is not used by this function', 'step_times in window_funnel over a journey');
SELECT throws_ok($$SELECT funnel_summary('1 hour', 'bucket day', u, ts, ev, ARRAY['a', 'b']) FROM ex$$,
  '0A000', 'funnel mode "bucket" is not used by this function', 'bucket in funnel_summary');
SELECT lives_ok($$SELECT funnel_summary('1 hour', 'step_times', u, ts, ev, ARRAY['a', 'b']) FROM ex$$,
  'step_times in funnel_summary is used');

-- summaries of funnels with different exclusions are not rolled up together
CREATE TABLE sx AS
SELECT mode, funnel_summary('1 hour', mode, u, ts, ev, ARRAY['signup', 'activate', 'subscribe', 'support_ticket', 'x']) AS s
FROM ex, (VALUES ('exclude 4 from 1 to 3, exclude 5 from 1 to 2'), ('exclude 5 from 1 to 2, exclude 4 from 1 to 3'),
                 ('exclude 4 from 1 to 2, exclude 5 from 1 to 2'), ('exclude 4 from 1 to 3, exclude 5 from 1 to 2, exclusion_counts_reached')) m(mode)
GROUP BY mode;
SELECT throws_ok($$SELECT rollup(s) FROM (SELECT s FROM sx UNION ALL SELECT funnel_summary('1 hour', u, ts, ev, ARRAY['signup', 'activate', 'subscribe']) FROM ex) x$$,
  '22023', 'cannot roll up funnel summaries with different product-funnel options',
  'rollup: a summary with exclusions and one without');
SELECT throws_ok($$SELECT funnel_summary_merge((SELECT s FROM sx WHERE mode = 'exclude 4 from 1 to 3, exclude 5 from 1 to 2'),
                                              (SELECT s FROM sx WHERE mode = 'exclude 4 from 1 to 2, exclude 5 from 1 to 2'))$$,
  '22023', 'cannot roll up funnel summaries with different product-funnel options', 'merge: different exclusion ranges');
SELECT throws_ok($$SELECT funnel_summary_merge((SELECT s FROM sx WHERE mode = 'exclude 4 from 1 to 3, exclude 5 from 1 to 2'),
                                              (SELECT s FROM sx WHERE mode LIKE '%exclusion_counts_reached'))$$,
  '22023', 'cannot roll up funnel summaries with different product-funnel options', 'merge: PostHog''s and Mixpanel''s exclusions');
SELECT is((SELECT (funnel_summary_merge(a.s, b.s)::text::jsonb -> 'entities')::text FROM sx a, sx b
           WHERE a.mode = 'exclude 4 from 1 to 3, exclude 5 from 1 to 2' AND b.mode = 'exclude 5 from 1 to 2, exclude 4 from 1 to 3'),
          '[8, 6, 4]', 'merge: the same exclusions in another order are the same funnel (levels 3, 0, 0, 2, 3, 1, counted twice)');
SELECT is((SELECT s::text::funnel_summary::text FROM sx WHERE mode LIKE '%reached'),
          (SELECT s::text FROM sx WHERE mode LIKE '%reached'), 'the text form with options_id round-trips');
SELECT ok((SELECT s::text::jsonb ? 'options_id' FROM sx LIMIT 1)
          AND NOT (SELECT funnel_summary('1 hour', u, ts, ev, ARRAY['signup', 'activate']) FROM ex)::text::jsonb ? 'options_id',
          'options_id only in summaries with options');

SELECT * FROM finish();
ROLLBACK;
