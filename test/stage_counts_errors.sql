-- Every user error of funnel_stage_counts, funnel_conversion and
-- time_to_convert: SQLSTATE and message (and the hint where it tells the
-- user what to do instead).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(59);
SET LOCAL timezone = 'UTC';

CREATE TABLE ev (e bigint, ts timestamptz, name text, w interval, m text, n int);
INSERT INTO ev VALUES
  (1, '2024-01-01 10:00', 'a', '1 hour', '', 3),
  (1, '2024-01-01 10:05', 'b', '2 hours', 'strict_order', 4),
  (2, '2024-01-01 10:10', 'c', '1 hour', '', 3);

-- The error a statement raises, as 'SQLSTATE: message / hint'.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || ' / ' || hint;
END $$;

-- ---------------------------------------------------------------------------
-- Entity types without a default hash operator class (point, json, an
-- anonymous record, whose fields are not known to be hashable)
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', point(e, e), ts, true) FROM ev$$,
                 '42883', 'funnel entity type point has no default hash operator class',
                 'point entity');
SELECT throws_ok($$SELECT funnel_conversion('1 hour', json_build_object('id', e), ts, true) FROM ev$$,
                 '42883', 'funnel entity type json has no default hash operator class',
                 'json entity (funnel_conversion)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', (e, name), funnel_event(ts, 1)) FROM ev$$,
                 '42883', 'funnel entity type record has no default hash operator class',
                 'anonymous record entity');
SELECT is(pg_temp.error_of($$SELECT funnel_stage_counts('1 hour', point(e, e), ts, name, ARRAY['a']) FROM ev$$),
          '42883: funnel entity type point has no default hash operator class / '
          'Use an entity of a hashable type such as bigint, integer, text or uuid, or cast it to one.',
          'the hint names hashable types');
-- ... even when every entity is NULL or there is one row only
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', NULL::point, ts, true) FROM ev$$,
                 '42883', 'funnel entity type point has no default hash operator class',
                 'point entity, all NULL');
-- a cast makes it work
SELECT is(funnel_stage_counts('1 hour', point(e, e)::text, ts, true), '{2}', 'point cast to text')
FROM ev;

-- ---------------------------------------------------------------------------
-- Window, mode and steps must be the same on every row of a group
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT funnel_stage_counts(w, e, ts, true) FROM ev$$,
                 '22023', 'funnel window differs between rows of one group',
                 'window differs (stage counts)');
SELECT throws_ok($$SELECT funnel_conversion(w, e, ts, name, ARRAY['a','b']) FROM ev$$,
                 '22023', 'funnel window differs between rows of one group',
                 'window differs (conversion, names)');
SELECT throws_ok($$SELECT time_to_convert(w, ts, true) FROM ev$$,
                 '22023', 'funnel window differs between rows of one group',
                 'window differs (time_to_convert)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', m, e, ts, name = 'a', name = 'b') FROM ev$$,
                 '22023', 'funnel mode differs between rows of one group',
                 'mode differs (stage counts)');
SELECT throws_ok($$SELECT time_to_convert('1 hour', m, funnel_event(ts, 1)) FROM ev$$,
                 '22023', 'funnel mode differs between rows of one group',
                 'mode differs (time_to_convert)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, VARIADIC array_fill(true, ARRAY[n])) FROM ev$$,
                 '22023', 'funnel step count differs between rows of one group (3 and 4)',
                 'step count differs (conditions)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, name,
                     CASE WHEN e = 1 THEN ARRAY['a','b'] ELSE ARRAY['a','c'] END) FROM ev$$,
                 '22023', 'funnel step names differ between rows of one group',
                 'step names differ');
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', n, ts, true, true, true, true) FROM ev$$,
                 '22023', 'to_step differs between rows of one group',
                 'to_step differs');
-- the same values on every row of a group is fine, even when they differ
-- between groups
SELECT results_eq($$SELECT m, funnel_stage_counts(w, m, e, ts, VARIADIC array_fill(true, ARRAY[n]))
                     FROM ev GROUP BY m ORDER BY m$$,
                  $$VALUES ('', '{2,2,2}'::bigint[]), ('strict_order', '{1,1,1,1}')$$,
                  'window, mode and steps may differ between groups');

-- ---------------------------------------------------------------------------
-- NULL window, mode or step list; bad windows, modes and steps
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT funnel_stage_counts(NULL, e, ts, true) FROM ev$$,
                 '22004', 'funnel window must not be NULL', 'NULL window (stage counts)');
SELECT throws_ok($$SELECT time_to_convert(NULL, ts, true) FROM ev$$,
                 '22004', 'funnel window must not be NULL', 'NULL window (time_to_convert)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', NULL, e, ts, true) FROM ev$$,
                 '22004', 'funnel mode must not be NULL', 'NULL mode (stage counts)');
SELECT throws_ok($$SELECT funnel_conversion('1 hour', NULL, e, funnel_event(ts, 1)) FROM ev$$,
                 '22004', 'funnel mode must not be NULL', 'NULL mode (conversion, funnel_event)');
SELECT throws_ok($$SELECT time_to_convert('1 hour', NULL, 2, ts, true, true) FROM ev$$,
                 '22004', 'funnel mode must not be NULL', 'NULL mode (time_to_convert)');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, VARIADIC NULL::boolean[]) FROM ev$$,
                 '22004', 'funnel step conditions must not be a NULL array', 'NULL conditions array');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, name, NULL) FROM ev$$,
                 '22004', 'funnel step names must not be a NULL array', 'NULL names array');
SELECT throws_ok($$SELECT funnel_stage_counts('-1 hour', e, ts, true) FROM ev$$,
                 '22023', 'funnel window must not be negative', 'negative window');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 'strict_orde', e, ts, true) FROM ev$$,
                 '22023', 'unrecognized funnel mode "strict_orde"', 'unknown mode');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 'allow_reentry', e, ts, true) FROM ev$$,
                 '22023', 'funnel mode "allow_reentry" requires "strict_order"', 'allow_reentry alone');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, VARIADIC array_fill(true, ARRAY[65])) FROM ev$$,
                 '54000', 'a funnel cannot have more than 64 steps', '65 conditions');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, name, '{}'::text[]) FROM ev$$,
                 '22023', 'a funnel must have at least one step', 'no step names');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, name, ARRAY[['a','b'],['c','d']]) FROM ev$$,
                 '2202E', 'funnel step names must be a one-dimensional array', '2-D step names');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, 'infinity'::timestamptz, true) FROM ev$$,
                 '22008', 'funnel events cannot have an infinite timestamp', 'infinite time');

-- ---------------------------------------------------------------------------
-- funnel_stage_counts(level, steps) / funnel_conversion(level, steps)
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT funnel_stage_counts(l, 3) FROM unnest(ARRAY[1, 4]) l$$,
                 '22003', 'funnel level 4 is out of range', 'level above steps');
SELECT throws_ok($$SELECT funnel_conversion(l, 3) FROM unnest(ARRAY[-1]) l$$,
                 '22003', 'funnel level -1 is out of range', 'negative level');
SELECT throws_ok($$SELECT funnel_stage_counts(l, NULL) FROM unnest(ARRAY[1]) l$$,
                 '22004', 'the number of funnel steps must not be NULL', 'NULL steps');
SELECT throws_ok($$SELECT funnel_stage_counts(l, 0) FROM unnest(ARRAY[0]) l$$,
                 '22023', 'a funnel must have at least one step', 'zero steps');
SELECT throws_ok($$SELECT funnel_stage_counts(l, 65) FROM unnest(ARRAY[0]) l$$,
                 '54000', 'a funnel cannot have more than 64 steps', '65 steps');
SELECT throws_ok($$SELECT funnel_stage_counts(l, s) FROM (VALUES (1, 3), (1, 4)) v(l, s)$$,
                 '22023', 'funnel step count differs between rows of one group (3 and 4)',
                 'steps differ between rows');
SELECT is(funnel_stage_counts(l, 64), array_fill(1::bigint, ARRAY[64]), '64 steps are allowed')
FROM unnest(ARRAY[64]) l;

-- ---------------------------------------------------------------------------
-- funnel_conversion(stage_counts bigint[])
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT funnel_conversion('{5,NULL,1}'::bigint[])$$,
                 '22004', 'stage counts must not contain NULL', 'NULL element');
SELECT throws_ok($$SELECT funnel_conversion('{-1}'::bigint[])$$,
                 '22023', 'stage count -1 at step 1 is negative', 'negative count');
SELECT throws_ok($$SELECT funnel_conversion('{5,3,-2}'::bigint[])$$,
                 '22023', 'stage count -2 at step 3 is negative', 'negative count later');
SELECT throws_ok($$SELECT funnel_conversion('{5,3,4}'::bigint[])$$,
                 '22023', 'stage counts must not increase: step 2 has 3, step 3 has 4', 'increasing counts');
SELECT is(pg_temp.error_of($$SELECT funnel_conversion('{1,2}'::bigint[])$$),
          '22023: stage counts must not increase: step 1 has 1, step 2 has 2 / '
          'Element k counts the entities that reached step k or further.',
          'increasing counts: the hint says what element k is');
SELECT throws_ok($$SELECT funnel_conversion('{{5,3},{2,1}}'::bigint[])$$,
                 '2202E', 'stage counts must be a one-dimensional array', '2-D counts');
SELECT throws_ok($$SELECT funnel_conversion(array_fill(1::bigint, ARRAY[65]))$$,
                 '54000', 'a funnel cannot have more than 64 steps', '65 counts');

-- ---------------------------------------------------------------------------
-- to_step out of range
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', 0, ts, true, true, true) FROM ev$$,
                 '22003', 'to_step 0 is out of range', 'to_step 0');
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', 4, ts, true, true, true) FROM ev$$,
                 '22003', 'to_step 4 is out of range', 'to_step past the last condition');
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', 3, ts, name, ARRAY['a','b']) FROM ev$$,
                 '22003', 'to_step 3 is out of range', 'to_step past the last step name');
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', 65, funnel_event(ts, 1)) FROM ev$$,
                 '22003', 'to_step 65 is out of range', 'to_step 65 (funnel_event)');
SELECT throws_ok($$SELECT time_to_convert('1 hour', '', -1, funnel_event(ts, 1)) FROM ev$$,
                 '22003', 'to_step -1 is out of range', 'to_step -1 (funnel_event)');
SELECT throws_ok($$SELECT time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event], '', 0)$$,
                 '22003', 'to_step 0 is out of range', 'journey to_step 0');
SELECT throws_ok($$SELECT time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event], '', 65)$$,
                 '22003', 'to_step 65 is out of range', 'journey to_step 65');
SELECT throws_ok($$SELECT time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event], 'strict')$$,
                 '22023', 'funnel mode "strict" is no longer supported', 'journey old mode name');
SELECT throws_ok($$SELECT time_to_convert('1 hour', ARRAY[['2024-01-01 10:00+00 {1}'::funnel_event]])$$,
                 '2202E', 'a funnel journey must be a one-dimensional array', '2-D journey');

-- ---------------------------------------------------------------------------
-- funnel.max_state_memory
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SET funnel.max_state_memory = '63kB'$$, '22023', NULL, 'the setting is at least 64 kB');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(current_setting('funnel.max_state_memory'), '64kB', 'setting is 64kB');
-- 20000 entities need far more than 64 kB: the per-entity store spills its
-- rows to a temporary file and the answer is the same as with room
SELECT is(funnel_stage_counts('1 day', g, '2024-01-01'::timestamptz, true), '{20000}',
          'too many entities for 64 kB: the rows spill, every entity is counted')
FROM generate_series(1, 20000) g;
SELECT is(funnel_conversion('1 day', 'user-' || g, '2024-01-01'::timestamptz, true), '{1}',
          'too many text entities (funnel_conversion): spilled, same answer')
FROM generate_series(1, 20000) g;
-- one entity with very many events grows its event log
SELECT throws_ok($$SELECT time_to_convert('1 day', '2024-01-01'::timestamptz + g * interval '1 min', g % 2 = 0, g % 2 = 1)
                   FROM generate_series(1, 100000) g$$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory',
                 'time_to_convert: one group with 100000 events');
-- a few hundred entities fit; the two-level form never holds all entities
SELECT is(funnel_stage_counts('1 day', g, '2024-01-01'::timestamptz, true), '{100}', '100 entities fit in 64 kB')
FROM generate_series(1, 100) g;
SELECT is(funnel_stage_counts(level, 1), '{20000}', 'the two-level form of the 20000 entities works under 64 kB')
FROM (SELECT window_funnel('1 day', '2024-01-01'::timestamptz, true) AS level
      FROM generate_series(1, 20000) g GROUP BY g) s;

SELECT * FROM finish();
ROLLBACK;
