-- The aggregates doc/citus.md recommends for a Citus cluster keep a state
-- that Citus can merge: a combine function and a state type that is not a
-- pseudo-type (Citus gathers every row to the coordinator for the others),
-- with text input and output that give the state back (Citus passes the
-- partial states as text).  Their states from outside are checked.  What
-- Citus does with them is test/citus.sh; this file needs no Citus.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(71);

SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'recommended aggregates without a combine function or with a pseudo-type state')
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_type t ON t.oid = a.aggtranstype
WHERE p.oid IN ('funnel_stage_counts(integer, integer)'::regprocedure,
                'funnel_conversion(integer, integer)'::regprocedure,
                'rollup(funnel_summary)'::regprocedure,
                'retention(boolean[])'::regprocedure,
                'rollup(markov_transitions)'::regprocedure,
                'rollup(pipeline_summary)'::regprocedure,
                'bgnbd_fit(float8, float8, float8)'::regprocedure,
                'gamma_gamma_fit(float8, float8)'::regprocedure,
                'rollup(cohort_counts)'::regprocedure)
  AND (a.aggcombinefn = 0 OR t.typtype = 'p' OR p.proparallel <> 's');
SELECT is((SELECT count(*)::int FROM pg_aggregate
           WHERE aggfnoid IN ('funnel_stage_counts(integer, integer)'::regprocedure,
                              'funnel_conversion(integer, integer)'::regprocedure,
                              'rollup(funnel_summary)'::regprocedure,
                              'markov_transitions(anyelement, timestamptz, text, numeric)'::regprocedure)
             AND aggfinalmodify = 'r'), 4, 'their final functions only read the state (window functions)');

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

-- markov attribution from transition counts.  Touchpoints of 300
-- customers: in tp no two touchpoints of a customer share a time (the
-- counts are whole numbers: any order of summing is exact); tp_ties adds a
-- second touchpoint at the instant of some (fractions 1/k, see
-- attribution.c).  Expected values: attribution('markov', ...) itself.
CREATE TABLE tp AS
SELECT c AS customer, timestamptz '2024-02-01 00:00+00' + ((c * 37 + k * 101) % 500) * interval '1 hour' AS ts,
       (ARRAY['search', 'display', 'email', 'social', 'affiliate'])[1 + (c * 7 + k * 3) % 5] AS channel,
       NULL::numeric AS v
FROM generate_series(1, 300) c, generate_series(1, 1 + c % 6) k
UNION ALL
SELECT c, timestamptz '2024-02-01 00:00+00' + ((c * 53) % 520) * interval '1 hour' + interval '1 minute', NULL,
       round(c * 1.37, 2)
FROM generate_series(1, 300) c WHERE c % 3 <> 0;
CREATE TABLE tp_ties AS
SELECT * FROM tp
UNION ALL
SELECT customer, ts, (ARRAY['email', 'search', 'social'])[1 + customer % 3], NULL FROM tp
WHERE v IS NULL AND customer % 4 = 0;
CREATE TABLE tp_per_customer AS
SELECT customer, markov_transitions(customer, ts, channel, v) AS t FROM tp GROUP BY customer;
ANALYZE tp; ANALYZE tp_per_customer;

SELECT is((SELECT markov_attribution(rollup(t))::text FROM tp_per_customer),
          (SELECT attribution('markov', customer, ts, channel, v)::text FROM tp),
          'markov: per-customer transition counts merged = attribution(''markov'') (no ties: to the last bit)');
SELECT is((SELECT markov_attribution(markov_transitions(customer, ts, channel, v))::text FROM tp_ties),
          (SELECT attribution('markov', customer, ts, channel, v)::text FROM tp_ties),
          'markov: whole-table transition counts, with ties = attribution(''markov'')');
CREATE TABLE tp_ties_reports AS
SELECT coalesce(a.channel, b.channel) AS channel, a.conversions AS merged, b.conversions AS direct,
       a.value AS merged_value, b.value AS direct_value, a.journeys = b.journeys AS same_journeys
FROM attribution_report((SELECT markov_attribution(rollup(t))
                           FROM (SELECT customer, markov_transitions(customer, ts, channel, v) AS t
                                   FROM tp_ties GROUP BY customer) x)) a
FULL JOIN attribution_report((SELECT attribution('markov', customer, ts, channel, v) FROM tp_ties)) b
  ON coalesce(a.channel, E'\\x01null') = coalesce(b.channel, E'\\x01null');
SELECT is((SELECT count(*) FILTER (WHERE merged IS NULL OR direct IS NULL OR NOT same_journeys
                                     OR abs(merged - direct) > 1e-12 * direct
                                     OR abs(merged_value - direct_value) > 1e-9 * abs(direct_value))
                  || ' of ' || count(*) FROM tp_ties_reports), '0 of 6',
          'markov with ties: per-customer counts merged give the credit of attribution(''markov'') to 1e-12 (fractions summed in another order)');
SELECT is((SELECT markov_transitions(customer, ts, channel, v, '2 days')::text FROM tp),
          (SELECT rollup(t)::text FROM (SELECT customer, markov_transitions(customer, ts, channel, v, '2 days') AS t
                                          FROM tp GROUP BY customer) x),
          'markov_transitions with a lookback: the whole table = per-customer counts merged');
SELECT is((SELECT markov_transitions_merge(rollup(t) FILTER (WHERE customer < 150),
                                           rollup(t::text::markov_transitions) FILTER (WHERE customer >= 150))::text
             FROM tp_per_customer),
          (SELECT rollup(t)::text FROM tp_per_customer),
          'markov_transitions_merge of two partial rollups, one through text, = the rollup');
SELECT is((SELECT t::text::markov_transitions::text = t::text FROM (SELECT rollup(t) AS t FROM (
             SELECT customer, markov_transitions(customer, ts, channel, v) AS t FROM tp_ties GROUP BY customer) x) y),
          true, 'markov_transitions with fractional counts: text reads back to the same value');
SELECT is((SELECT markov_attribution(rollup(t) OVER (ORDER BY customer ROWS BETWEEN 9 PRECEDING AND CURRENT ROW))::text
             FROM tp_per_customer ORDER BY customer DESC LIMIT 1),
          (SELECT attribution('markov', customer, ts, channel, v)::text FROM tp WHERE customer > 290),
          'rollup(markov_transitions) as a window function over a moving frame');
-- serial = parallel, for the one-pass aggregate (internal state) and the rollup
CREATE FUNCTION pg_temp.run(q text, parallel boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    IF parallel THEN
        SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
        SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
        SET LOCAL force_parallel_mode = on;
    ELSE
        SET LOCAL max_parallel_workers_per_gather = 0;
    END IF;
    EXECUTE q INTO r;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather; RESET force_parallel_mode;
    RETURN r;
END $$;
SELECT is(pg_temp.run('SELECT markov_transitions(customer, ts, channel, v)::text FROM tp_ties', true),
          pg_temp.run('SELECT markov_transitions(customer, ts, channel, v)::text FROM tp_ties', false),
          'markov_transitions: a parallel plan gives the serial counts');
SELECT is(pg_temp.run('SELECT rollup(t)::text FROM tp_per_customer', true),
          pg_temp.run('SELECT rollup(t)::text FROM tp_per_customer', false),
          'rollup(markov_transitions): a parallel plan gives the serial counts');
-- what a state from outside may not be
SELECT throws_ok($$SELECT markov_transitions_merge(a, b) FROM
                     (SELECT markov_transitions(customer, ts, channel, v, '2 days') a,
                             markov_transitions(customer, ts, channel, v) b FROM tp) x$$, '22023',
                 'cannot merge markov transitions of different lookbacks (2 days and 30 days)',
                 'counts of different lookbacks do not merge');
SELECT throws_ok($$SELECT '{"lookback": "30 days", "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0,
                    "conversions_without_touchpoint": 0, "value": 1, "value_without_touchpoint": 0,
                    "channels": [{"channel": "a", "start": 1, "conversion": 1, "null": 0, "journeys": 1, "touched": 1}],
                    "transitions": [{"from": "a", "to": "b", "count": 1}]}'::markov_transitions$$, '22P02', NULL,
                 'a transition of a channel not listed is rejected');
SELECT throws_ok($$SELECT '{"lookback": "30 days", "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0,
                    "conversions_without_touchpoint": 0, "value": 1, "value_without_touchpoint": 0,
                    "channels": [{"channel": "a", "start": 1, "conversion": 1, "null": 0, "journeys": 1, "touched": 1},
                                 {"channel": "b", "start": 0, "conversion": 0, "null": 0, "journeys": 0, "touched": 1}],
                    "transitions": [{"from": "a", "to": "a", "count": 1}]}'::markov_transitions$$, '22P03',
                 'invalid markov_transitions: bad transition', 'a self-loop is rejected (the walk never counts one)');
SELECT throws_ok($$SELECT '{"lookback": "30 days", "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0,
                    "conversions_without_touchpoint": 0, "value": 1.0000000001, "value_without_touchpoint": 0,
                    "channels": [], "transitions": []}'::markov_transitions$$, '22P02', NULL,
                 'a value finer than a billionth is rejected');
SELECT throws_ok($$SELECT '{"lookback": "30 days", "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0,
                    "conversions_without_touchpoint": 0, "value": 1, "value_without_touchpoint": 0,
                    "channels": [{"channel": "a", "start": -1, "conversion": 1, "null": 0, "journeys": 1, "touched": 1}],
                    "transitions": []}'::markov_transitions$$, '22P03',
                 'invalid markov_transitions: bad channel counts', 'a negative count is rejected');
-- hostile bytes to binary input (binary COPY of a damaged value)
CREATE TABLE mk_src (t markov_transitions);
INSERT INTO mk_src SELECT rollup(t) FROM tp_per_customer;
CREATE TABLE mk_dst (t markov_transitions);
CREATE FUNCTION pg_temp.f(name text) RETURNS text LANGUAGE sql AS
    $$ SELECT current_setting('data_directory') || '/' || name $$;
CREATE FUNCTION pg_temp.load(b bytea, tbl text DEFAULT 'mk_dst') RETURNS text LANGUAGE plpgsql AS $$
DECLARE o oid;
BEGIN
    o := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea || '\x0001'::bytea
                          || int4send(length(b)) || b || '\xffff'::bytea);
    PERFORM lo_export(o, pg_temp.f('funnel_mk_bad.bin'));
    PERFORM lo_unlink(o);
    EXECUTE format('COPY %I FROM %L (FORMAT binary)', tbl, pg_temp.f('funnel_mk_bad.bin'));
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;
CREATE TABLE mk_bytes AS SELECT markov_transitions_send(t) AS b FROM mk_src;
SELECT is(pg_temp.load(b), 'loaded', 'binary input: the value''s own bytes load') FROM mk_bytes;
SELECT is((SELECT t::text FROM mk_dst), (SELECT t::text FROM mk_src), 'binary input: the same value');
SELECT is(pg_temp.load(substr(b, 1, length(b) - 3)), 'invalid markov_transitions: bad transition count',
          'binary input: truncated bytes are rejected') FROM mk_bytes;
SELECT is(pg_temp.load(set_byte(b, 0, 2)), 'invalid markov_transitions: unknown version',
          'binary input: another version is rejected') FROM mk_bytes;
SELECT is(pg_temp.load(overlay(b placing '\x7fffffff'::bytea from 74 for 4)), 'invalid markov_transitions: bad channel count',
          'binary input: a huge channel count is rejected') FROM mk_bytes;
SELECT is(pg_temp.load(b || '\x00'::bytea), 'invalid markov_transitions: trailing bytes',
          'binary input: trailing bytes are rejected') FROM mk_bytes;

-- pipeline: per-deal summaries merged = pipeline_model over all the deals.
-- 120 deals entering on different days, some won or lost, the rest open at
-- the end (their stays run to the last row of all deals, which a deal's own
-- summary does not know), deals that go back a stage and make a move twice,
-- and stages entered at one instant.
CREATE TABLE deals AS
SELECT d, timestamptz '2024-01-01 00:00+00' + (d % 40) * interval '1 day' + (k - 1) * ((d * 13) % 7 + 1) * interval '1 day 3 hours' AS ts,
       (ARRAY['new', 'qualified', 'proposal', 'qualified', 'proposal', 'negotiation'])[k] AS stage
FROM generate_series(1, 120) d, generate_series(1, 1 + d % 6) k
UNION ALL
SELECT d, timestamptz '2024-01-01 00:00+00' + (d % 40) * interval '1 day' + (1 + d % 6) * interval '9 days',
       CASE WHEN d % 3 = 0 THEN 'won' ELSE 'lost' END
FROM generate_series(1, 120) d WHERE d % 4 <> 0
UNION ALL
SELECT d, timestamptz '2024-01-01 00:00+00' + (d % 40) * interval '1 day', 'qualified'
FROM generate_series(1, 120) d WHERE d % 9 = 0;
CREATE TABLE deal_summaries AS
SELECT d, pipeline_model(d, ts, stage, ARRAY['won', 'lost']) AS m,
       pipeline_model(d, ts, stage, ARRAY['won', 'lost'], ARRAY['new', 'qualified', 'proposal', 'negotiation']) AS mo
FROM deals GROUP BY d;
ANALYZE deals; ANALYZE deal_summaries;
SELECT is((SELECT pipeline_summary_send(rollup(m)) FROM deal_summaries),
          (SELECT pipeline_summary_send(pipeline_model(d, ts, stage, ARRAY['won', 'lost'])) FROM deals),
          'pipeline: per-deal summaries merged = pipeline_model over all deals (the same bytes)');
SELECT is((SELECT pipeline_summary_send(rollup(mo)) FROM deal_summaries),
          (SELECT pipeline_summary_send(pipeline_model(d, ts, stage, ARRAY['won', 'lost'], ARRAY['new', 'qualified', 'proposal', 'negotiation'])) FROM deals),
          'pipeline with a pipeline order: per-deal summaries merged = pipeline_model over all deals');
SELECT is((SELECT array_agg(f::text ORDER BY f::text) FROM pipeline_forecast((SELECT rollup(m) FROM deal_summaries)) f),
          (SELECT array_agg(f::text ORDER BY f::text) FROM pipeline_forecast((SELECT pipeline_model(d, ts, stage, ARRAY['won', 'lost']) FROM deals)) f),
          'pipeline: the same forecast of the open deals');
SELECT is((SELECT (SELECT sum(open)::bigint FROM jsonb_to_recordset(rollup(m)::text::jsonb -> 'stages') AS x(open bigint))
             FROM deal_summaries),
          (SELECT count(*) FROM (SELECT d FROM deals GROUP BY d HAVING bool_and(stage NOT IN ('won', 'lost'))) o),
          'pipeline: the merged summary has every deal without a terminal row open');
SELECT is((SELECT pipeline_summary_send(pipeline_summary_merge(rollup(m) FILTER (WHERE d < 60),
                                                              rollup(m::text::pipeline_summary) FILTER (WHERE d >= 60)))
             FROM deal_summaries),
          (SELECT pipeline_summary_send(rollup(m)) FROM deal_summaries),
          'pipeline_summary_merge of two partial rollups, one through text, = the rollup');
SELECT is(pg_temp.run('SELECT encode(pipeline_summary_send(rollup(m)), ''hex'') FROM deal_summaries', true),
          pg_temp.run('SELECT encode(pipeline_summary_send(rollup(m)), ''hex'') FROM deal_summaries', false),
          'rollup(pipeline_summary): a parallel plan gives the serial summary');
SELECT throws_ok($$SELECT pipeline_summary_merge(
                     (SELECT pipeline_model(d, ts, stage, ARRAY['won', 'lost']) FROM deals WHERE d = 1),
                     (SELECT pipeline_model(d, ts, stage, ARRAY['won', 'qualified']) FROM deals WHERE d = 2))$$, '22023',
                 'cannot merge pipeline summaries that disagree on whether stage "lost" is terminal',
                 'summaries of different terminal stages do not merge');
SELECT is((SELECT pipeline_summary_merge(NULL, m)::text = m::text AND pipeline_summary_merge(m, NULL)::text = m::text
             FROM deal_summaries WHERE d = 7), true, 'pipeline_summary_merge leaves a NULL out');

-- model fits: the state of bgnbd_fit and gamma_gamma_fit is the distinct
-- customer summaries with their customers; statistics counted apart and
-- merged fit the same model, to the last bit (the fit groups the customers
-- into the same sorted distinct summaries).  The CDNOW summaries (weeks).
CREATE TABLE published (id integer, x integer, t_x double precision, "T" double precision,
                        zbar double precision);
\copy published FROM 'test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
ANALYZE published;
CREATE AGGREGATE pg_temp.bg_stats(double precision, double precision, double precision) (
    SFUNC = fit_stats_bgnbd_sfunc, STYPE = fit_stats, COMBINEFUNC = fit_stats_merge);
CREATE AGGREGATE pg_temp.gg_stats(double precision, double precision) (
    SFUNC = fit_stats_gamma_gamma_sfunc, STYPE = fit_stats, COMBINEFUNC = fit_stats_merge);
SELECT is((SELECT fit_stats_bgnbd_final(fit_stats_merge(pg_temp.bg_stats(x, t_x, "T") FILTER (WHERE id % 3 = 0),
                                                        pg_temp.bg_stats(x, t_x, "T") FILTER (WHERE id % 3 <> 0)::text::fit_stats))::text
             FROM published),
          (SELECT bgnbd_fit(x, t_x, "T")::text FROM published),
          'bgnbd_fit from two sets of customers counted apart, one through text = bgnbd_fit of all (same bits)');
SELECT is((SELECT fit_stats_gamma_gamma_final(fit_stats_merge(pg_temp.gg_stats(x, zbar) FILTER (WHERE id % 3 = 0),
                                                              pg_temp.gg_stats(x, zbar) FILTER (WHERE id % 3 <> 0)::text::fit_stats))::text
             FROM published),
          (SELECT gamma_gamma_fit(x, zbar)::text FROM published),
          'gamma_gamma_fit from two sets of customers counted apart, one through text = gamma_gamma_fit of all (same bits)');
SELECT is((SELECT jsonb_array_length(pg_temp.bg_stats(x, t_x, "T")::text::jsonb -> 'rows') FROM published),
          (SELECT count(DISTINCT (x, t_x, "T"))::int FROM published),
          'the BG/NBD statistics of CDNOW hold one row per distinct (x, t_x, T)');
SELECT is((SELECT sum((r ->> 3)::bigint)::int FROM jsonb_array_elements((SELECT pg_temp.bg_stats(x, t_x, "T") FROM published)::text::jsonb -> 'rows') r),
          2357, 'and count every customer once');
SELECT is((SELECT jsonb_array_length(pg_temp.gg_stats(x, zbar)::text::jsonb -> 'rows') FROM published),
          (SELECT count(DISTINCT (x, zbar))::int FROM published WHERE x > 0),
          'the Gamma-Gamma statistics hold one row per distinct (x, m) of the repeat customers');
SELECT is((SELECT bgnbd_fit(x, t_x, "T")::text FROM (SELECT * FROM published ORDER BY random()) p),
          (SELECT bgnbd_fit(x, t_x, "T")::text FROM published),
          'bgnbd_fit does not depend on the order of the customers');
SELECT is(pg_temp.run('SELECT bgnbd_fit(x, t_x, "T")::text || gamma_gamma_fit(x, zbar)::text FROM published', true),
          pg_temp.run('SELECT bgnbd_fit(x, t_x, "T")::text || gamma_gamma_fit(x, zbar)::text FROM published', false),
          'bgnbd_fit and gamma_gamma_fit: a parallel plan gives the serial fits');
SELECT is((SELECT (bgnbd_fit(x, t_x, "T") OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))::text
             FROM published ORDER BY id LIMIT 1),
          (SELECT bgnbd_fit(x, t_x, "T")::text FROM published), 'bgnbd_fit as a window function');
SELECT is((SELECT bgnbd_fit(x, t_x, "T") FROM published WHERE false), NULL, 'bgnbd_fit of no rows is NULL');
SELECT throws_ok($$SELECT fit_stats_merge(pg_temp.bg_stats(x, t_x, "T"), pg_temp.gg_stats(x, zbar)) FROM published$$,
                 '22023', 'cannot merge fit statistics of different models (bgnbd and gamma_gamma)',
                 'statistics of different models do not merge');
SELECT throws_ok($$SELECT fit_stats_gamma_gamma_final('{"model": "bgnbd", "rows": [[1, 2, 3, 4]]}')$$,
                 '22023', 'fit statistics of the bgnbd model cannot fit the gamma_gamma model',
                 'statistics of one model do not fit the other');
SELECT throws_ok($$SELECT '{"model": "bgnbd", "rows": [[1, 5, 3, 4]]}'::fit_stats$$, '22P03',
                 'invalid fit_stats: bad customer summary', 'a recency above t is rejected');
SELECT throws_ok($$SELECT '{"model": "bgnbd", "rows": [[1, 2, 3, 4], [1, 2, 3, 1]]}'::fit_stats$$, '22P02', NULL,
                 'a repeated summary is rejected');
SELECT throws_ok($$SELECT '{"model": "gamma_gamma", "rows": [[1, 2, 0.5]]}'::fit_stats$$, '22P02', NULL,
                 'a fractional customer count is rejected');
CREATE TABLE fs_dst (f fit_stats);
SELECT is(pg_temp.load(substr(fit_stats_send(pg_temp.bg_stats(x, t_x, "T")), 1, 50), 'fs_dst'),
          'invalid fit_stats: bad row count', 'binary input: truncated statistics are rejected') FROM published;
SELECT is(pg_temp.load(overlay(fit_stats_send(pg_temp.bg_stats(x, t_x, "T")) placing '\x7ff0000000000000'::bytea from 11 for 8), 'fs_dst'),
          'invalid fit_stats: bad customer summary', 'binary input: an infinite frequency is rejected') FROM published;

-- cohorts: per-customer counts merged = cohort_retention over all customers
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE cdnow_orders AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;
CREATE TABLE cdnow_activity AS
SELECT customer, cohort_counts(customer, ts) AS m, cohort_counts(customer, ts, 'week', 30) AS w
FROM cdnow_orders GROUP BY customer;
ANALYZE cdnow_orders; ANALYZE cdnow_activity;
SELECT is((SELECT cohort_matrix(rollup(m))::text FROM cdnow_activity),
          (SELECT cohort_retention(customer, ts)::text FROM cdnow_orders),
          'cohort_matrix of per-customer cohort_counts merged = cohort_retention (months)');
SELECT is((SELECT cohort_matrix(rollup(w))::text FROM cdnow_activity),
          (SELECT cohort_retention(customer, ts, 'week', 30)::text FROM cdnow_orders),
          'cohort_matrix of per-customer cohort_counts merged = cohort_retention (30 weeks)');
SELECT is((SELECT cohort_matrix(cohort_counts_merge(rollup(w) FILTER (WHERE customer < 1000),
                                                      rollup(w::text::cohort_counts) FILTER (WHERE customer >= 1000)))::text
             FROM cdnow_activity),
          (SELECT cohort_retention(customer, ts, 'week', 30)::text FROM cdnow_orders),
          'cohort_counts_merge of two partial rollups, one through text');
SELECT is(pg_temp.run('SELECT rollup(w)::text FROM cdnow_activity', true),
          pg_temp.run('SELECT rollup(w)::text FROM cdnow_activity', false),
          'rollup(cohort_counts): a parallel plan gives the serial counts');
SELECT throws_ok($$SELECT cohort_counts_merge(m, w) FROM cdnow_activity LIMIT 1$$, '22023',
                 'cannot merge cohort counts of different periods (month, 12 periods and week, 30 periods)',
                 'counts of different periods do not merge');
SELECT throws_ok($$SELECT '{"period": "month", "periods": 2, "last_period": "1997-03-01",
                    "cohorts": [{"cohort_start": "1997-01-01", "active": [1, 2, 0]}]}'::cohort_counts$$, '22P03',
                 'invalid cohort_counts: bad cohort counts', 'more active entities than the cohort holds are rejected');
SELECT throws_ok($$SELECT '{"period": "month", "periods": 2, "last_period": "1997-03-02",
                    "cohorts": []}'::cohort_counts$$, '22P02', NULL, 'a date that starts no period is rejected');
CREATE TABLE ca_dst (a cohort_counts);
SELECT is(pg_temp.load(overlay(cohort_counts_send(m) placing '\x00000000'::bytea from 11 for 4), 'ca_dst'),
          'invalid cohort_counts: bad cohort count', 'binary input: a cohort count of 0 is rejected')
  FROM cdnow_activity WHERE customer = 1;

SELECT * FROM finish();
ROLLBACK;
