-- funnel.max_state_memory is a hard limit: what a final function allocates
-- to re-walk an out-of-order group (decoding and sorting its log) counts
-- with the state; strict_once keeps memory linear in the journey (it was
-- quadratic), with the answers of the literal walk (test/tools/differential.py).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(18);
SET LOCAL TimeZone = 'UTC';

-- one group of 100000 rows, steps 1 and 2 alternating a second apart,
-- arriving newest first: the state logs ~7 bytes a row (about 1 MB), the
-- final function needs 24 bytes a row more to decode and sort them
CREATE TEMP TABLE rev AS
SELECT 1 AS u, timestamptz '2024-01-01' + g * interval '1 second' AS ts, g % 2 = 0 AS s1, g % 2 = 1 AS s2, g
FROM generate_series(1, 100000) g;

SET LOCAL funnel.max_state_memory = '2MB';
SELECT throws_ok($$SELECT window_funnel('1 day', ts, s1, s2 ORDER BY g DESC) FROM rev$$, '54000', NULL,
    'window_funnel: re-walking an out-of-order group past the limit is an error');
SELECT throws_ok($$SELECT time_to_convert('1 day', ts, s1, s2 ORDER BY g DESC) FROM rev$$, '54000', NULL,
    'time_to_convert: the same');
-- in time order there is nothing to re-walk: the same limit is enough
SELECT is((SELECT window_funnel('1 day', ts, s1, s2 ORDER BY g) FROM rev), 2, 'in time order: fits');
-- the whole-table aggregates keep 24 bytes a row (spilled past half the
-- limit) and need 36 a row of the entity's partition to group it, plus the
-- walk's 16 a row to sort an out-of-order entity: the same two cases at 4 MB
SET LOCAL funnel.max_state_memory = '4MB';
SELECT throws_ok($$SELECT funnel_stage_counts('1 day', u, ts, s1, s2 ORDER BY g DESC) FROM rev$$, '54000', NULL,
    'funnel_stage_counts: the same, per entity');
SELECT throws_ok($$SELECT funnel_summary('1 day', u, ts, s1, s2 ORDER BY g DESC) FROM rev$$, '54000', NULL,
    'funnel_summary: the same, per entity');
SELECT is((SELECT funnel_stage_counts('1 day', u, ts, s1, s2 ORDER BY g) FROM rev), ARRAY[1, 1]::bigint[],
    'in time order, per entity: fits');
-- with room for the re-walk, the answers (step 2 at 3 s follows step 1 at 2 s)
SET LOCAL funnel.max_state_memory = '8MB';
SELECT is((SELECT window_funnel('1 day', ts, s1, s2 ORDER BY g DESC) FROM rev), 2, 'window_funnel with room');
SELECT is((SELECT time_to_convert('1 day', ts, s1, s2 ORDER BY g DESC) FROM rev), interval '1 second',
    'time_to_convert with room');
SELECT is((SELECT funnel_stage_counts('1 day', u, ts, s1, s2 ORDER BY g DESC) FROM rev), ARRAY[1, 1]::bigint[],
    'funnel_stage_counts with room');

-- ---------- strict_once over long journeys ----------
-- 20000 events, steps 1 and 2 alternating a second apart, a window that
-- holds them all: kept literally, every step-2 event extends every earlier
-- step-1 chain (10000^2 / 2 chains, gigabytes)
SET LOCAL funnel.max_state_memory = '16MB';
CREATE TEMP TABLE alt AS
SELECT array_agg(funnel_event(timestamptz '2024-01-01' + g * interval '1 second', 1 + g % 2) ORDER BY g) AS j
FROM generate_series(1, 20000) g;
SELECT is((SELECT window_funnel('100 years', j, 'strict_once') FROM alt), 2, 'strict_once journey: level');
SELECT is((SELECT time_to_convert('100 years', j, 'strict_once', 2) FROM alt), interval '1 second',
    'strict_once journey: time of the first chain to reach step 2 (2 s to 3 s)');
SELECT is((SELECT time_to_convert('100 years', j, 'strict_once, strict_deduplication', 2) FROM alt), interval '1 second',
    'strict_once, strict_deduplication: the same');
SELECT is((SELECT window_funnel('100 years', 'strict_once', event_time(e), event_steps(e) @> '{1}', event_steps(e) @> '{2}',
                                event_steps(e) @> '{3}' ORDER BY event_time(e))
           FROM alt, unnest(j) e), 2, 'strict_once aggregate over the same rows');
-- a step 3 at the end, 20000 s after the first start: reached within the window
SELECT is((SELECT time_to_convert('100 years', j || funnel_event('2024-01-01 06:00+00', 3), 'strict_once', 3) FROM alt),
    interval '6 hours' - interval '2 seconds', 'strict_once: step 3 from the earliest start in the window');
-- a window of 10 s: chains start at most 10 s before
SELECT is((SELECT time_to_convert('10 seconds', j || funnel_event('2024-01-01 06:00:05+00', 3), 'strict_once', 3) FROM alt),
    NULL::interval, 'strict_once: nothing within 10 s of step 3');
-- rows of one time that each match several steps: a chain is kept once per
-- set of rows (16 rows for 8 steps: C(16, 8) sets, not 16!/8! orders)
SELECT is((SELECT window_funnel('1 day', array_agg(funnel_event('2024-01-01', true, true, true, true, true, true, true, true)), 'strict_once')
           FROM generate_series(1, 16)), 8, 'strict_once: 16 tied rows matching 8 steps');
SELECT is((SELECT window_funnel('1 day', 'strict_once', '2024-01-01'::timestamptz, true, true, true, true, true, true, true, true, true)
           FROM generate_series(1, 8)), 8, 'strict_once: 8 tied rows cannot reach step 9 (one row per step)');
-- a tied group whose sets of rows still outgrow the limit is an error
SELECT throws_ok($$SELECT window_funnel('1 day', array_agg(funnel_event('2024-01-01', true, true, true)), 'strict_once')
                   FROM generate_series(1, 1000)$$, '54000', NULL,
    'a tied group too large for the limit is an error, not exhausted memory');

SELECT * FROM finish();
ROLLBACK;
