-- funnel_breakdown (doc/product_funnels.md, "Breakdown attribution"):
-- properties on random data (the single-valued attributions add up to the
-- whole funnel; all_events is GROUP BY the value; a value constant per
-- entity gives every attribution the same answer; serial = parallel =
-- partitionwise = spilling; the report's top N and other add up to every
-- value), and the errors.  Exact answers: sql/breakdown.sql (hand-worked)
-- and test/posthog_differential.sh (a transcription of PostHog).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(44);
SET LOCAL timezone = 'UTC';
SELECT setseed(0.37);

-- 3000 users, about 60000 rows: steps a..d, exclusion x, channels with NULLs
CREATE TABLE bd (u bigint, ts timestamptz, ev text, channel text, home text);
INSERT INTO bd
SELECT u, '2024-01-01'::timestamptz + (random() * 20000)::int * interval '1 minute',
       (ARRAY['a', 'b', 'c', 'd', 'x', 'other'])[1 + (random() * 5.99)::int],
       (ARRAY['ads', 'email', 'seo', 'social', 'direct', 'partner', NULL])[1 + (random() * 6.99)::int],
       (ARRAY['ads', 'email', 'seo', NULL])[1 + u % 4]
FROM generate_series(1, 3000) u, generate_series(1, 20) k
WHERE random() < 0.9 + 0.1 * (u % 2);
ANALYZE bd;

CREATE TABLE modes (mode text);
INSERT INTO modes VALUES ('breakdown first_touch'), ('breakdown last_touch'), ('breakdown step 2'),
  ('breakdown all_events'), ('optional 3, exclude 5 from 1 to 4, breakdown first_touch'),
  ('optional 3, exclude 5 from 2 to 4, breakdown step 4'), ('any_order, breakdown all_events'),
  ('strict_increase, breakdown last_touch');

-- the sum over the values, per step, of a breakdown result
CREATE FUNCTION pg_temp.summed(r jsonb) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg(s ORDER BY k) FROM (
    SELECT c.k, sum(c.n::bigint) AS s
    FROM jsonb_array_elements(r -> 'values') v, jsonb_array_elements_text(v -> 'entities') WITH ORDINALITY c(n, k)
    GROUP BY c.k) t $$;

SELECT is(pg_temp.summed(funnel_breakdown('2 days', 'breakdown first_touch', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']))::text,
          funnel_stage_counts('2 days', u, ts, ev, ARRAY['a', 'b', 'c', 'd'])::text,
          'first_touch: the values add up to the funnel')
FROM bd;
SELECT is(pg_temp.summed(funnel_breakdown('2 days', 'breakdown last_touch', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']))::text,
          funnel_stage_counts('2 days', u, ts, ev, ARRAY['a', 'b', 'c', 'd'])::text,
          'last_touch: the values add up to the funnel')
FROM bd;
SELECT is(pg_temp.summed(funnel_breakdown('2 days', 'optional 3, exclude 5 from 1 to 4, breakdown first_touch', u, channel,
                                          ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']))::text,
          funnel_stage_counts('2 days', 'optional 3, exclude 5 from 1 to 4', u, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x'])::text,
          'first_touch with an optional step and an exclusion: the values add up to the funnel')
FROM bd;
SELECT is(pg_temp.summed(funnel_breakdown('2 days', 'any_order, breakdown last_touch', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']))::text,
          funnel_stage_counts('2 days', 'any_order', u, ts, ev, ARRAY['a', 'b', 'c', 'd'])::text,
          'last_touch, any order: the values add up to the funnel')
FROM bd;
SELECT is(pg_temp.summed(funnel_breakdown('2 days', 'strict_order, breakdown first_touch', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']))::text,
          funnel_stage_counts('2 days', 'strict_order', u, ts, ev, ARRAY['a', 'b', 'c', 'd'])::text,
          'first_touch, strict_order: the values add up to the funnel')
FROM bd;

-- all_events is the old GROUP BY the value
SELECT set_eq(
  $$SELECT v ->> 'value', (v -> 'entities')::text
    FROM jsonb_array_elements((SELECT funnel_breakdown('2 days', 'breakdown all_events', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd'])
                               FROM bd) -> 'values') v$$,
  $$SELECT channel, replace(replace(c::text, '{', '['), '}', ']')::jsonb::text
    FROM (SELECT channel, funnel_stage_counts('2 days', u, ts, ev, ARRAY['a', 'b', 'c', 'd']) AS c
          FROM bd GROUP BY channel) g WHERE c[1] > 0$$,
  'all_events: each value''s funnel is the funnel of its rows (GROUP BY the value)');
SELECT set_eq(
  $$SELECT v ->> 'value', (v -> 'entities')::text
    FROM jsonb_array_elements((SELECT funnel_breakdown('2 days', 'exclude 5 from 1 to 3, breakdown all_events', u, channel,
                                                       ts, ev, ARRAY['a', 'b', 'c', 'd', 'x'])
                               FROM bd) -> 'values') v$$,
  $$SELECT channel, replace(replace(c::text, '{', '['), '}', ']')::jsonb::text
    FROM (SELECT channel, funnel_stage_counts('2 days', 'exclude 5 from 1 to 3', u, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) AS c
          FROM bd GROUP BY channel) g WHERE c[1] > 0$$,
  'all_events with an exclusion: GROUP BY the value');

-- a value constant per entity: every attribution gives GROUP BY the value
-- (step 3: an entity without a c row is under NULL, so only the entities
-- with one, and the whole funnel, are compared there)
SELECT is(funnel_breakdown('2 days', mode, u, home, ts, ev, ARRAY['a', 'b', 'c', 'd']) -> 'values',
          (SELECT funnel_breakdown('2 days', 'breakdown all_events', u, home, ts, ev, ARRAY['a', 'b', 'c', 'd']) FROM bd) -> 'values',
          mode || ': a value constant per entity gives GROUP BY the value')
FROM bd, (VALUES ('breakdown first_touch'), ('breakdown last_touch'), ('breakdown step 1')) m(mode)
GROUP BY mode ORDER BY mode;
SELECT is(funnel_breakdown('2 days', 'breakdown step 3', u, home, ts, ev, ARRAY['a', 'b', 'c', 'd']) -> 'values',
          (SELECT funnel_breakdown('2 days', 'breakdown all_events', u, home, ts, ev, ARRAY['a', 'b', 'c', 'd'])
           FROM bd WHERE u IN (SELECT u FROM bd WHERE ev = 'c' AND home IS NOT NULL)) -> 'values',
          'step 3: the entities with a c row are under their value')
FROM bd WHERE u IN (SELECT u FROM bd WHERE ev = 'c' AND home IS NOT NULL);

-- serial = parallel = partitionwise = spilling, every mode
CREATE TABLE serial_results AS
SELECT mode, funnel_breakdown('2 days', mode, u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) AS r
FROM bd, modes GROUP BY mode;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; p text := '';
BEGIN FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP p := p || l || E'\n'; END LOOP; RETURN p; END $$;
SELECT matches(pg_temp.plan_of($$SELECT funnel_breakdown('2 days', 'breakdown step 2', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']) FROM bd$$),
               'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the parallel plan has partial aggregates');
SELECT results_eq(
  $$SELECT mode, (SELECT funnel_breakdown('2 days', m.mode, u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) FROM bd)
    FROM modes m ORDER BY mode$$,
  $$SELECT mode, r FROM serial_results ORDER BY mode$$,
  'every mode: a parallel plan gives the serial answer');
SELECT results_eq(
  $$SELECT mode, (SELECT funnel_breakdown('2 days', m.mode, u, channel, ts, ev = 'a', ev = 'b', ev = 'c', ev = 'd', ev = 'x') FROM bd)
    FROM modes m ORDER BY mode$$,
  $$SELECT mode, r FROM serial_results ORDER BY mode$$,
  'every mode: conditions in a parallel plan give the serial answer');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET LOCAL max_parallel_workers_per_gather = 0;

CREATE TABLE bd_parts (u bigint, ts timestamptz, ev text, channel text) PARTITION BY HASH (u);
CREATE TABLE bd_p0 PARTITION OF bd_parts FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE bd_p1 PARTITION OF bd_parts FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE bd_p2 PARTITION OF bd_parts FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE bd_p3 PARTITION OF bd_parts FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO bd_parts SELECT u, ts, ev, channel FROM bd;
ANALYZE bd_parts;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT matches(pg_temp.plan_of($$SELECT funnel_breakdown('2 days', 'breakdown step 2', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd']) FROM bd_parts$$),
               'Finalize Aggregate(.|\n)*Append(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the partitionwise plan has partial aggregates');
SELECT results_eq(
  $$SELECT mode, (SELECT funnel_breakdown('2 days', m.mode, u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) FROM bd_parts)
    FROM modes m ORDER BY mode$$,
  $$SELECT mode, r FROM serial_results ORDER BY mode$$,
  'every mode: a partitionwise plan gives the serial answer');
RESET enable_partitionwise_aggregate;

SET LOCAL funnel.max_state_memory = '1MB';
SELECT results_eq(
  $$SELECT mode, (SELECT funnel_breakdown('2 days', m.mode, u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) FROM bd)
    FROM modes m ORDER BY mode$$,
  $$SELECT mode, r FROM serial_results ORDER BY mode$$,
  'every mode: spilling past a 1 MB limit gives the same answer');
RESET funnel.max_state_memory;

-- a window function (the final function reads the state only)
SELECT is((SELECT DISTINCT funnel_breakdown('2 days', 'breakdown step 2', u, channel, ts, ev, ARRAY['a', 'b', 'c', 'd', 'x']) OVER ()
           FROM bd),
          (SELECT r FROM serial_results WHERE mode = 'breakdown step 2'),
          'as a window function');

-- the report: top N and other add up to every value, step by step
SELECT results_eq(
  $$SELECT step, sum(entities)::bigint FROM funnel_breakdown_report((SELECT r FROM serial_results WHERE mode = 'breakdown all_events'), 2)
    GROUP BY step ORDER BY step$$,
  $$SELECT step, sum(entities)::bigint FROM funnel_breakdown_report((SELECT r FROM serial_results WHERE mode = 'breakdown all_events'))
    GROUP BY step ORDER BY step$$,
  'report: the top 2 and the other row add up to every value');
SELECT results_eq(
  $$SELECT DISTINCT rank, value, is_other FROM funnel_breakdown_report((SELECT r FROM serial_results WHERE mode = 'breakdown first_touch'), 3)
    ORDER BY rank$$,
  $$SELECT (i + 0)::integer, v ->> 'value', false FROM jsonb_array_elements((SELECT r FROM serial_results WHERE mode = 'breakdown first_touch') -> 'values')
      WITH ORDINALITY e(v, i) WHERE i <= 3
    UNION ALL SELECT 4, NULL, true ORDER BY 1$$,
  'report: ranks 1 to 3 are the first three values, rank 4 the other row');
SELECT ok(NOT EXISTS (
  SELECT 1 FROM jsonb_array_elements((SELECT r FROM serial_results WHERE mode = 'breakdown last_touch') -> 'values') WITH ORDINALITY a(v, i),
                jsonb_array_elements((SELECT r FROM serial_results WHERE mode = 'breakdown last_touch') -> 'values') WITH ORDINALITY b(w, j)
  WHERE a.i < b.j AND (v -> 'entities' ->> -1)::bigint < (w -> 'entities' ->> -1)::bigint),
  'values are ordered by the last step''s count');
SELECT is((SELECT count(*) FROM funnel_breakdown_report((SELECT r FROM serial_results WHERE mode = 'breakdown first_touch'), 100)),
          (SELECT 5 * jsonb_array_length(r -> 'values') FROM serial_results WHERE mode = 'breakdown first_touch')::bigint,
          'report: a top_n above the number of values has no other row');

-- errors
SELECT throws_ok($$SELECT funnel_stage_counts('1 day', 'breakdown first_touch', u, ts, ev, ARRAY['a', 'b']) FROM bd$$,
                 '0A000', 'funnel mode "breakdown first_touch" is not used by this function',
                 'breakdown in another aggregate');
SELECT throws_ok($$SELECT window_funnel('1 day', 'breakdown last_touch', ts, ev, ARRAY['a', 'b']) FROM bd GROUP BY u$$,
                 '0A000', NULL, 'breakdown in window_funnel');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'optional 2, breakdown step 2', u, channel, ts, ev, ARRAY['a', 'b', 'c']) FROM bd$$,
                 '0A000', 'breakdown step 2 is an optional step', 'step K on an optional step');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'strict_order, breakdown step 2', u, channel, ts, ev, ARRAY['a', 'b', 'c']) FROM bd$$,
                 '0A000', NULL, 'step K with a ClickHouse mode');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'any_order, breakdown step 1', u, channel, ts, ev, ARRAY['a', 'b', 'c']) FROM bd$$,
                 '0A000', NULL, 'step K in an any-order funnel');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'breakdown step 4', u, channel, ts, ev, ARRAY['a', 'b', 'c']) FROM bd$$,
                 '22023', 'breakdown step 4 is not a step of the funnel', 'step K past the last step');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'breakdown first', u, channel, ts, ev, ARRAY['a', 'b', 'c']) FROM bd$$,
                 '22023', 'unrecognized breakdown attribution "breakdown first"', 'an unknown attribution');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'breakdown first_touch, breakdown last_touch', u, channel, ts, ev, ARRAY['a', 'b']) FROM bd$$,
                 '22023', NULL, 'two attributions');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'step_times', u, channel, ts, ev, ARRAY['a', 'b']) FROM bd$$,
                 '0A000', 'funnel mode "step_times" is not used by this function', 'step_times records nothing here');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'bucket day', u, channel, ts, ev, ARRAY['a', 'b']) FROM bd$$,
                 '0A000', 'funnel mode "bucket" is not used by this function', 'bucket is for trends');
SELECT throws_ok($$SELECT * FROM funnel_breakdown_report('{"values": []}', -1)$$,
                 '22023', NULL, 'a negative top_n');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', mode, u, channel, ts, ev, ARRAY['a', 'b'])
                   FROM bd, (VALUES ('breakdown first_touch'), ('breakdown last_touch')) m(mode)$$,
                 '22023', 'funnel mode differs between rows of one group', 'the attribution differs between rows');
SELECT throws_ok($$SELECT funnel_trends('1 day', 'bucket day, breakdown first_touch', u, ts, ev, ARRAY['a', 'b']) FROM bd$$,
                 '0A000', NULL, 'breakdown in funnel_trends');

-- over stored journeys: each journey counts under the value given beside
-- it.  all_events is one journey per (user, value); first_touch and
-- last_touch keep the value beside one journey per user (the value of the
-- earliest or latest row of a step or the exclusion with a value, ties to
-- the least in byte order: doc/journeys.md, "Breakdowns")
CREATE TEMP TABLE bdj_pairs AS
SELECT u, channel, array_agg(funnel_event(ts, array_position(ARRAY['a', 'b', 'c', 'd', 'x'], ev))) AS fe
FROM bd WHERE ev <> 'other' GROUP BY u, channel;
CREATE TEMP TABLE bdj AS
SELECT u, array_agg(funnel_event(ts, array_position(ARRAY['a', 'b', 'c', 'd', 'x'], ev)))::journey AS j,
       (array_agg(channel ORDER BY ts, channel COLLATE "C") FILTER (WHERE channel IS NOT NULL))[1] AS first_touch,
       (array_agg(channel ORDER BY ts DESC, channel COLLATE "C") FILTER (WHERE channel IS NOT NULL))[1] AS last_touch
FROM bd WHERE ev <> 'other' GROUP BY u;
ANALYZE bdj;
SELECT is((SELECT funnel_breakdown('2 days', 'optional 3, exclude 5 from 1 to 4', channel, fe) -> 'values' FROM bdj_pairs),
          (SELECT funnel_breakdown('2 days', 'optional 3, exclude 5 from 1 to 4, breakdown all_events', u, channel, ts, ev,
                                   ARRAY['a', 'b', 'c', 'd', 'x']) -> 'values' FROM bd),
          'over journeys: a journey per (user, value) gives all_events');
SELECT is((SELECT array[funnel_breakdown('2 days', 'exclude 5 from 2 to 4', first_touch, j) -> 'values',
                        funnel_breakdown('2 days', 'any_order', last_touch, j::funnel_event[]) -> 'values'] FROM bdj),
          array[(SELECT funnel_breakdown('2 days', 'exclude 5 from 2 to 4, breakdown first_touch', u, channel, ts, ev,
                                         ARRAY['a', 'b', 'c', 'd', 'x']) -> 'values' FROM bd),
                -- in the any-order funnel x is a fifth step, as in the journeys
                (SELECT funnel_breakdown('2 days', 'any_order, breakdown last_touch', u, channel, ts, ev,
                                         ARRAY['a', 'b', 'c', 'd', 'x']) -> 'values' FROM bd)],
          'over journeys: the first (last) touch kept beside the journey gives first_touch (last_touch)');
SELECT is((SELECT funnel_breakdown('2 days', '', first_touch, j) ->> 'attribution' FROM bdj), 'given',
          'over journeys: the attribution is "given"');
SELECT results_eq(
  $$SELECT rank, value, is_other, step, entities FROM funnel_breakdown_report(
      (SELECT funnel_breakdown('2 days', '', first_touch, j) FROM bdj), 2)$$,
  $$SELECT rank, value, is_other, step, entities FROM funnel_breakdown_report(
      (SELECT funnel_breakdown('2 days', 'breakdown first_touch', u, channel, funnel_event(ts, array_position(ARRAY['a', 'b', 'c', 'd', 'x'], ev)))
       FROM bd WHERE ev <> 'other'), 2)$$,
  'over journeys: funnel_breakdown_report reads the result (top 2 and the rest)');
CREATE TEMP TABLE bdj_serial AS
SELECT funnel_breakdown('2 days', 'optional 3', first_touch, j)::text AS a FROM bdj;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is((SELECT funnel_breakdown('2 days', 'optional 3', first_touch, j)::text FROM bdj), (SELECT a FROM bdj_serial),
          'over journeys: a parallel plan gives the serial answer');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
CREATE TEMP TABLE bdj_hp (u bigint, j journey, first_touch text) PARTITION BY HASH (u);
CREATE TEMP TABLE bdj_hp0 PARTITION OF bdj_hp FOR VALUES WITH (modulus 2, remainder 0);
CREATE TEMP TABLE bdj_hp1 PARTITION OF bdj_hp FOR VALUES WITH (modulus 2, remainder 1);
INSERT INTO bdj_hp SELECT u, j, first_touch FROM bdj;
ANALYZE bdj_hp;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is((SELECT funnel_breakdown('2 days', 'optional 3', first_touch, j)::text FROM bdj_hp), (SELECT a FROM bdj_serial),
          'over journeys: a partitionwise plan gives the serial answer');
RESET enable_partitionwise_aggregate;
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'breakdown first_touch', first_touch, j) FROM bdj$$,
                 '0A000', 'breakdown attribution cannot be taken from stored journeys', 'over journeys: no attribution in the mode');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', 'step_times', first_touch, j) FROM bdj$$,
                 '0A000', 'funnel mode "step_times" is not used by this function', 'over journeys: step_times records nothing here');
SELECT throws_ok($$SELECT funnel_breakdown('1 day', m, first_touch, j) FROM bdj, (VALUES (''), ('optional 2')) v(m)$$,
                 '22023', NULL, 'over journeys: one funnel per group');

SELECT * FROM finish();
ROLLBACK;
