-- The aggregates doc/citus.md recommends for a Citus cluster keep a state
-- that Citus can merge: a combine function and a state type that is not a
-- pseudo-type (Citus gathers every row to the coordinator for the others),
-- with text input and output that give the state back (Citus passes the
-- partial states as text).  Their states from outside are checked.  What
-- Citus does with them is test/citus.sh; this file needs no Citus.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(19);

SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'recommended aggregates without a combine function or with a pseudo-type state')
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_type t ON t.oid = a.aggtranstype
WHERE p.oid IN ('funnel_stage_counts(integer, integer)'::regprocedure,
                'funnel_conversion(integer, integer)'::regprocedure,
                'rollup(funnel_summary)'::regprocedure,
                'retention(boolean[])'::regprocedure)
  AND (a.aggcombinefn = 0 OR t.typtype = 'p' OR p.proparallel <> 's');
SELECT is((SELECT count(*)::int FROM pg_aggregate
           WHERE aggfnoid IN ('funnel_stage_counts(integer, integer)'::regprocedure,
                              'funnel_conversion(integer, integer)'::regprocedure,
                              'rollup(funnel_summary)'::regprocedure)
             AND aggfinalmodify = 'r'), 3, 'their final functions only read the state (window functions)');

-- a level histogram: element k + 1 counts the entities at level k
SELECT is(funnel_level_histogram_sfunc(NULL, 2, 3), '{0,0,1,0}'::bigint[], 'first entity, level 2 of 3');
SELECT is(funnel_level_histogram_sfunc('{0,0,1,0}', 0, 3), '{1,0,1,0}'::bigint[], 'a level 0 counts at element 1');
SELECT is(funnel_level_histogram_sfunc('{1,0,1,0}', NULL, 3), '{1,0,1,0}'::bigint[], 'a NULL level is not counted');
SELECT is(funnel_level_histogram_combine('{1,0,1,0}', '{2,5,0,1}'), '{3,5,1,1}'::bigint[], 'combine adds');
SELECT is(funnel_level_histogram_stage_counts('{3,5,1,1}'), '{7,2,1}'::bigint[], 'stage k counts levels >= k');
SELECT is(funnel_level_histogram_conversion('{0,2,0,2}'), '{1,0.5,1}'::float8[], 'conversion of the histogram');
-- the text a worker sends is the state
SELECT is((SELECT funnel_stage_counts(l, 3) FROM (VALUES (1), (3), (3), (0)) v(l)),
          funnel_level_histogram_stage_counts(funnel_level_histogram_combine(
              funnel_level_histogram_sfunc(funnel_level_histogram_sfunc(NULL, 1, 3), 3, 3)::text::bigint[],
              funnel_level_histogram_sfunc(funnel_level_histogram_sfunc(NULL, 3, 3), 0, 3)::text::bigint[])),
          'partial histograms through text add up to the whole');
SELECT throws_ok($$SELECT funnel_level_histogram_stage_counts('{1,-1,2}')$$, '22P03', 'invalid aggregate state',
                 'a negative count is an invalid state');
SELECT throws_ok($$SELECT funnel_level_histogram_stage_counts('{7}')$$, '22P03', 'invalid aggregate state',
                 'a histogram of no step is an invalid state');
SELECT throws_ok($$SELECT funnel_level_histogram_stage_counts(array_fill(0::bigint, ARRAY[66]))$$, '22P03',
                 'invalid aggregate state', 'a histogram of 65 steps is an invalid state');
SELECT throws_ok($$SELECT funnel_level_histogram_stage_counts('{{1,2},{3,4}}')$$, '22P03', 'invalid aggregate state',
                 'a two-dimensional histogram is an invalid state');
SELECT throws_ok($$SELECT funnel_level_histogram_conversion('{1,NULL}')$$, '22P03', 'invalid aggregate state',
                 'a NULL count is an invalid state');
SELECT throws_ok($$SELECT funnel_level_histogram_combine('{1,2}', '{1,2,3}')$$, '22023',
                 'funnel step count differs between rows of one group (1 and 2)',
                 'histograms of different funnels do not combine');
SELECT throws_ok($$SELECT funnel_level_histogram_combine('{9223372036854775807,0}', '{1,0}')$$, '22003',
                 'funnel level count is out of range', 'an overflowing count is an error');

-- rollup: merging per-entity summaries gives the summary of all entities,
-- in a plain call too, and a summary through its text form merges the same
CREATE TEMP TABLE ev AS
SELECT g % 40 AS u, timestamptz '2024-01-01 00:00+00' + (g * 37 % 900) * interval '1 minute' AS ts,
       (ARRAY['a', 'b', 'c'])[1 + (g * 7 % 11) % 3] AS e
FROM generate_series(1, 3000) g;
CREATE TEMP TABLE per_user AS
SELECT u, funnel_summary('1 day', u, ts, e, ARRAY['a', 'b', 'c']) AS s FROM ev GROUP BY u;
SELECT is((SELECT rollup(s)::text FROM per_user),
          (SELECT funnel_summary('1 day', u, ts, e, ARRAY['a', 'b', 'c'])::text FROM ev),
          'rollup of per-entity summaries = the summary of all entities');
SELECT is((SELECT funnel_summary_merge(rollup(s) FILTER (WHERE u < 20), rollup(s::text::funnel_summary) FILTER (WHERE u >= 20))::text
             FROM per_user),
          (SELECT rollup(s)::text FROM per_user),
          'funnel_summary_merge of two partial rollups, one through text, = the rollup');
SELECT is((SELECT funnel_stage_counts(rollup(s) OVER (ORDER BY u ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))
             FROM per_user ORDER BY u DESC LIMIT 1),
          (SELECT funnel_stage_counts(rollup(s)) FROM per_user WHERE u >= 38),
          'rollup as a window function over a moving frame');

SELECT * FROM finish();
ROLLBACK;
