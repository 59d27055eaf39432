-- Journeys read like the raw rows they were built from: properties of
-- journey_agg, journey_merge and journey_trim on random data with ties,
-- exact duplicates and rows matching no step, and every function that reads
-- a journey (window_funnel, time_to_convert, funnel_stage_counts from the
-- levels, funnel_summary and what reads a summary) against the same
-- function over the raw rows, in every mode.  The reference is always the
-- raw-row aggregate, an independent path through the engine (per-entity
-- tracks, not arrays).  journey_refresh needs committed transactions: it is
-- tested in test/journey_refresh.sh.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(33);
SET LOCAL timezone = 'UTC';
SELECT setseed(0.3141);

-- 400 users, times on a minute grid over 4 hours (many ties), step 0..4
-- (0: a row matching no step), about 1 row in 20 repeated exactly
CREATE TEMP TABLE raw AS
SELECT (random() * 400)::int AS u,
       timestamptz '2024-03-01 00:00:00+00' + floor(random() * 240) * interval '1 minute' AS ts,
       floor(random() * 5)::int AS k,
       1 + floor(random() * 3)::int AS batch
FROM generate_series(1, 8000);
INSERT INTO raw SELECT * FROM raw WHERE random() < 0.05;
CREATE TEMP VIEW raw_events AS
SELECT u, funnel_event(ts, k = 1, k = 2, k = 3, k = 4) AS ev, ts, batch FROM raw;
-- the same rows without exact duplicates (entity, time, steps)
CREATE TEMP VIEW distinct_events AS SELECT DISTINCT u, ev FROM raw_events;
CREATE TEMP TABLE j AS SELECT u, journey_agg(ev) AS journey FROM raw_events GROUP BY u;
CREATE TEMP TABLE modes (mode text);
INSERT INTO modes VALUES (''), ('strict_deduplication'), ('strict_order'), ('strict_increase'),
    ('strict_once'), ('strict_order, allow_reentry');

SELECT cmp_ok((SELECT count(*) FROM (SELECT u, ev FROM raw_events GROUP BY u, ev HAVING count(*) > 1) s),
    '>', 100::bigint, 'generated data: exact duplicates');
SELECT cmp_ok((SELECT count(*) FROM (SELECT u, ts FROM raw GROUP BY u, ts HAVING count(DISTINCT k) > 1) s),
    '>', 100::bigint, 'generated data: ties (one user, one time, different steps)');
SELECT cmp_ok((SELECT count(*) FROM raw WHERE k = 0), '>', 1000::bigint, 'generated data: rows matching no step');

-- the journey's form
SELECT is((SELECT count(*) FROM j, LATERAL (SELECT e, lag(e) OVER (ORDER BY o) AS prev
                                            FROM unnest(journey) WITH ORDINALITY AS x(e, o)) s
           WHERE s.prev >= s.e), 0::bigint,
    'journey_agg: every journey strictly increasing in funnel_event order');
SELECT is((SELECT sum(cardinality(journey)) FROM j), (SELECT count(*) FROM distinct_events),
    'journey_agg: each distinct event of a user once');
SELECT is((SELECT count(*) FROM (SELECT u, e FROM j, unnest(journey) e
                                 EXCEPT SELECT u, ev FROM distinct_events) x), 0::bigint,
    'journey_agg: no event that is not a row');

-- the walk over journeys equals the walk over rows (without exact
-- duplicates: a journey keeps one; strict_deduplication and strict_once can
-- tell a repeat)
SELECT is((SELECT count(*) FROM modes m, j
           WHERE window_funnel('20 minutes', j.journey, m.mode) IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', m.mode, d.ev) FROM distinct_events d WHERE d.u = j.u)),
    0::bigint, format('window_funnel over journeys = over the distinct rows, mode %L', mode))
FROM modes ORDER BY mode;
-- modes that cannot tell a repeated row: equal to the raw rows themselves
SELECT is((SELECT count(*) FROM j
           WHERE window_funnel('20 minutes', j.journey, m.mode) IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', m.mode, r.ev) FROM raw_events r WHERE r.u = j.u)),
    0::bigint, format('window_funnel over journeys = over the raw rows with duplicates, mode %L', m.mode))
FROM modes m WHERE m.mode IN ('', 'strict_order', 'strict_increase', 'strict_order, allow_reentry') ORDER BY m.mode;
-- and the one documented difference: strict_deduplication tells a repeated
-- row from one, which the journey keeps once (so these tests can see one)
SELECT cmp_ok((SELECT count(*) FROM j
           WHERE window_funnel('20 minutes', j.journey, 'strict_deduplication') IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', 'strict_deduplication', r.ev) FROM raw_events r WHERE r.u = j.u)),
    '>', 0::bigint, 'strict_deduplication over raw rows with exact duplicates can differ from the journey');
SELECT is((SELECT count(*) FROM j
           WHERE time_to_convert('1 hour', j.journey, 'strict_order', 3) IS DISTINCT FROM
                 (SELECT time_to_convert('1 hour', 'strict_order', 3, d.ev) FROM distinct_events d WHERE d.u = j.u)),
    0::bigint, 'time_to_convert over journeys = over the rows (strict_order, to step 3)');

-- whole-table answers
SELECT is((SELECT funnel_stage_counts(window_funnel('20 minutes', journey, 'strict_increase'), 4) FROM j),
          (SELECT funnel_stage_counts('20 minutes', 'strict_increase', u, ev) FROM raw_events),
    'funnel_stage_counts of the journeys'' levels = funnel_stage_counts over the rows');
SELECT is((SELECT funnel_summary('20 minutes', journey)::text FROM j),
          (SELECT funnel_summary('20 minutes', u, ev)::text FROM raw_events),
    'funnel_summary over journeys = over the rows (default mode)');
SELECT is((SELECT funnel_summary('20 minutes', m.mode, journey)::text FROM j),
          (SELECT funnel_summary('20 minutes', m.mode, u, ev)::text FROM distinct_events),
    format('funnel_summary over journeys = over the distinct rows, mode %L', m.mode))
FROM modes m WHERE m.mode IN ('strict_deduplication', 'strict_once') ORDER BY m.mode;
SELECT is((SELECT funnel_conversion(funnel_summary('2 hours', 'strict_order', journey)) FROM j),
          (SELECT funnel_conversion('2 hours', 'strict_order', u, ev) FROM raw_events),
    'funnel_conversion of the journeys'' summary = funnel_conversion over the rows');
SELECT results_eq(
    $$SELECT * FROM funnel_report((SELECT funnel_summary('1 hour', journey) FROM j), 100::numeric)$$,
    $$SELECT * FROM funnel_report((SELECT funnel_summary('1 hour', u, ev) FROM raw_events), 100::numeric)$$,
    'funnel_report of the journeys'' summary = of the rows'' summary');
SELECT is((SELECT funnel_summary('20 minutes', journey)::text FROM j WHERE false), NULL,
    'funnel_summary over no journey is NULL');
SELECT throws_ok($$SELECT funnel_summary(w, journey) FROM j, (VALUES (interval '1 hour'), ('2 hours')) v(w)$$,
    '22023', 'funnel window differs between rows of one group', 'funnel_summary over journeys: one window');

-- merge: batches folded in any order, and again, give the whole journey
SELECT is((SELECT count(*) FROM j
           WHERE journey IS DISTINCT FROM journey_merge(journey_merge(
                   (SELECT journey_agg(ev) FROM raw_events r WHERE r.u = j.u AND batch = 3),
                   (SELECT journey_agg(ev) FROM raw_events r WHERE r.u = j.u AND batch = 1)),
                   (SELECT journey_agg(ev) FROM raw_events r WHERE r.u = j.u AND batch = 2))),
    0::bigint, 'journey_merge of the batches'' journeys, out of order = the whole journey');
SELECT is((SELECT count(*) FROM j
           WHERE journey IS DISTINCT FROM journey_merge(journey,
                   (SELECT journey_agg(ev) FROM raw_events r WHERE r.u = j.u AND batch = 2))),
    0::bigint, 'journey_merge of a batch already in: no change');
SELECT is((SELECT count(*) FROM j
           WHERE journey IS DISTINCT FROM journey_merge(NULL,
                   (SELECT array_agg(ev ORDER BY random()) FROM raw_events r WHERE r.u = j.u))),
    0::bigint, 'journey_merge of an array_agg in random order = journey_agg');
-- trim
SELECT is((SELECT count(*) FROM j
           WHERE journey_trim(journey, '2024-03-01 02:00:00+00') IS DISTINCT FROM
                 coalesce((SELECT journey_agg(ev) FROM raw_events r WHERE r.u = j.u AND ts >= '2024-03-01 02:00:00+00'), '{}')),
    0::bigint, 'journey_trim = journey_agg of the rows at or after the horizon');

-- parallel aggregation (combine, serialise, deserialise) gives the same
CREATE TABLE pj AS SELECT u % 50 AS u, ev FROM raw_events, generate_series(1, 4);
CREATE TABLE pjourneys AS SELECT u, journey_agg(ev) AS journey FROM raw_events GROUP BY u;
ANALYZE pj;
ANALYZE pjourneys;
CREATE FUNCTION pg_temp.run(q text, parallel boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; l text; partial boolean := false;
BEGIN
    IF parallel THEN
        SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
        SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
        SET LOCAL force_parallel_mode = on;
        FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
            partial := partial OR l LIKE '%Partial%Aggregate%';
        END LOOP;
        IF NOT partial THEN RETURN 'not a parallel aggregate'; END IF;
    ELSE
        SET LOCAL max_parallel_workers_per_gather = 0;
    END IF;
    EXECUTE 'SELECT string_agg(x::text, '';'' ORDER BY x::text) FROM (' || q || ') x' INTO r;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather; RESET force_parallel_mode;
    RETURN r;
END $$;
SELECT is(pg_temp.run('SELECT u, journey_agg(ev) FROM pj GROUP BY u', true),
          pg_temp.run('SELECT u, journey_agg(ev) FROM pj GROUP BY u', false),
    'journey_agg in a parallel plan = serially');
SELECT is(pg_temp.run($q$SELECT funnel_summary('20 minutes', 'strict_order', journey) FROM pjourneys$q$, true),
          pg_temp.run($q$SELECT funnel_summary('20 minutes', 'strict_order', journey) FROM pjourneys$q$, false),
    'funnel_summary over journeys in a parallel plan = serially');

-- the memory cap holds the state of one group
SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok($$SELECT journey_agg(funnel_event(timestamptz '2024-01-01' + g * interval '1 s', 1)) FROM generate_series(1, 10000) g$$,
    '54000', 'aggregate state exceeds funnel.max_state_memory', 'journey_agg: capped by funnel.max_state_memory');
RESET funnel.max_state_memory;

SELECT * FROM finish();
ROLLBACK;
