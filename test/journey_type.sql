-- The journey type reads like the raw rows it was built from, and like the
-- funnel_event[] journey it was cast from: on random data with ties, exact
-- duplicates and rows matching no step, every function that reads a
-- journey of either form (window_funnel, time_to_convert, funnel_summary
-- with the modes and the product-funnel options) against the same function
-- over the distinct raw rows, an independent path through the engine
-- (per-entity tracks in the entity store, not arrays); journey_merge and
-- journey_trim of the type against those of funnel_event[]; its size.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(40);
SET LOCAL timezone = 'UTC';
SELECT setseed(0.2718);

-- 300 users, times on a 30-second grid over 4 hours (many ties), step 0..5
-- (0: a row matching no step; 5 is used as an exclusion), about 1 row in 20
-- repeated exactly
CREATE TEMP TABLE raw AS
SELECT (random() * 300)::int AS u,
       timestamptz '2024-03-01 00:00:00+00' + floor(random() * 480) * interval '30 seconds' AS ts,
       floor(random() * 6)::int AS k,
       1 + floor(random() * 3)::int AS batch
FROM generate_series(1, 7000);
INSERT INTO raw SELECT * FROM raw WHERE random() < 0.05;
-- a few microsecond times, so that journeys in each time unit are met
UPDATE raw SET ts = ts + interval '1 microsecond' * floor(random() * 3) WHERE u % 10 = 0;
UPDATE raw SET ts = ts + interval '1 millisecond' * floor(random() * 3) WHERE u % 10 = 1;
CREATE TEMP VIEW raw_events AS
SELECT u, funnel_event(ts, k = 1, k = 2, k = 3, k = 4, k = 5) AS ev, ts, batch FROM raw;
CREATE TEMP VIEW distinct_events AS SELECT DISTINCT u, ev FROM raw_events;
CREATE TEMP TABLE j AS SELECT u, journey_agg(ev) AS fe, journey_agg(ev)::journey AS cj
                         FROM raw_events GROUP BY u;
CREATE TEMP TABLE modes (mode text);
INSERT INTO modes VALUES (''), ('strict_deduplication'), ('strict_order'), ('strict_increase'),
    ('strict_once'), ('strict_order, allow_reentry');
-- product-funnel options over the four steps; position 5 an exclusion
CREATE TEMP TABLE options (mode text);
INSERT INTO options VALUES ('exclude 5 from 1 to 3'), ('exclude 5 from 2 to 4, exclusion_counts_reached'),
    ('optional 3'), ('any_order'), ('any_order_first'), ('step_times'), ('optional 3, step_times');

SELECT cmp_ok((SELECT count(*) FROM (SELECT u, ts FROM raw GROUP BY u, ts HAVING count(DISTINCT k) > 1) s),
    '>', 100::bigint, 'generated data: ties (one user, one time, different steps)');
SELECT is((SELECT array_agg(DISTINCT substr(encode(journey_send(cj), 'hex'), 3, 2)) FROM j),
    '{00,01,02}', 'generated data: journeys in microseconds, milliseconds and seconds');

-- the form: the cast back gives the canonical funnel_event[]
SELECT is((SELECT count(*) FROM j WHERE cj::funnel_event[] IS DISTINCT FROM fe), 0::bigint,
    'journey::funnel_event[] = the canonical funnel_event[] it was made from');
SELECT is((SELECT count(*) FROM j WHERE event_count(cj) <> cardinality(fe)), 0::bigint,
    'event_count = cardinality of the funnel_event[]');
SELECT is((SELECT count(*) FROM j WHERE cj::text <> fe::text OR cj::text::journey::text <> cj::text), 0::bigint,
    'text output = that of the funnel_event[], and reads back');
SELECT is((SELECT count(*) FROM j
            WHERE (SELECT array_agg(e ORDER BY random()) FROM unnest(fe) e)::journey::text <> cj::text),
    0::bigint, 'the cast of a shuffled funnel_event[] gives the same journey');
SELECT is((SELECT count(*) FROM j WHERE pg_column_size(cj) >= pg_column_size(fe)), 0::bigint,
    'every journey is smaller as journey than as funnel_event[]');

-- the walk over the type = the walk over the distinct rows
SELECT is((SELECT count(*) FROM j
           WHERE window_funnel('20 minutes', j.cj, m.mode) IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', m.mode, d.ev) FROM distinct_events d WHERE d.u = j.u)),
    0::bigint, format('window_funnel over journey = over the distinct rows, mode %L', m.mode))
FROM modes m ORDER BY m.mode;
SELECT is((SELECT count(*) FROM j
           WHERE time_to_convert('1 hour', j.cj, 'strict_order', 3) IS DISTINCT FROM
                 (SELECT time_to_convert('1 hour', 'strict_order', 3, d.ev) FROM distinct_events d WHERE d.u = j.u)),
    0::bigint, 'time_to_convert over journey = over the rows (strict_order, to step 3)');
SELECT is((SELECT funnel_summary('20 minutes', m.mode, cj)::text FROM j),
          (SELECT funnel_summary('20 minutes', m.mode, u, ev)::text FROM distinct_events),
    format('funnel_summary over journey = over the rows, mode %L', m.mode))
FROM modes m ORDER BY m.mode;

-- the product-funnel options: window_funnel of both journey forms and
-- funnel_summary of both = the aggregates over the rows
SELECT is((SELECT count(*) FROM j
           WHERE window_funnel('20 minutes', j.cj, o.mode) IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', o.mode, d.ev) FROM distinct_events d WHERE d.u = j.u)
              OR window_funnel('20 minutes', j.fe, o.mode) IS DISTINCT FROM
                 (SELECT window_funnel('20 minutes', o.mode, d.ev) FROM distinct_events d WHERE d.u = j.u)),
    0::bigint, format('window_funnel over both journey forms = over the rows, %L', o.mode))
FROM options o WHERE o.mode NOT LIKE '%step_times' ORDER BY o.mode;   -- funnel_summary's option only
SELECT is((SELECT array[funnel_summary('20 minutes', o.mode, cj)::text, funnel_summary('20 minutes', o.mode, fe)::text] FROM j),
          (SELECT array[s, s] FROM (SELECT funnel_summary('20 minutes', o.mode, u, ev)::text AS s FROM distinct_events) x),
    format('funnel_summary over both journey forms = over the rows, %L', o.mode))
FROM options o WHERE o.mode NOT IN ('any_order', 'any_order_first') ORDER BY o.mode;
-- any order has no times: refused as over the rows
SELECT throws_ok($$SELECT funnel_summary('20 minutes', 'any_order', cj) FROM j$$, '0A000',
    'times to convert are not available for any-order funnels', 'funnel_summary over journey, any order: refused as over rows');
SELECT throws_ok($$SELECT funnel_summary('20 minutes', 'any_order', u, ev) FROM distinct_events$$, '0A000',
    'times to convert are not available for any-order funnels', 'funnel_summary over rows, any order: refused');
SELECT throws_ok($$SELECT funnel_summary('20 minutes', m, cj) FROM j, (VALUES ('exclude 5 from 1 to 3'), ('')) v(m)$$,
    '22023', NULL, 'funnel_summary: one funnel per group');
SELECT throws_ok($$SELECT window_funnel('20 minutes', '{"2024-01-01 00:00+00 {6}"}'::journey, 'exclude 5 from 1 to 3')$$,
    '22023', NULL, 'an event naming neither a step nor an exclusion is refused, as for funnel_event[]');

-- growing journeys of the type: the same as funnel_event[] ones
CREATE TEMP TABLE batches AS
SELECT u, batch, journey_agg(ev) AS fe FROM raw_events GROUP BY u, batch;
SELECT is((SELECT count(*) FROM j
           WHERE (SELECT journey_merge(journey_merge(b3.fe::journey, b1.fe::journey), b2.fe::journey)
                    FROM (SELECT 1) x
                    LEFT JOIN batches b1 ON b1.u = j.u AND b1.batch = 1
                    LEFT JOIN batches b2 ON b2.u = j.u AND b2.batch = 2
                    LEFT JOIN batches b3 ON b3.u = j.u AND b3.batch = 3)::text IS DISTINCT FROM j.cj::text),
    0::bigint, 'journey_merge of the batches in any order = the journey of all rows');
SELECT is((SELECT count(*) FROM j WHERE journey_merge(cj, cj)::text <> cj::text), 0::bigint,
    'journey_merge of a journey with itself changes nothing');
SELECT is((SELECT count(*) FROM j, (VALUES (timestamptz '2024-03-01 01:00+00'), ('2024-03-01 02:30:00.000003+00'),
                                           ('2024-01-01'), ('2025-01-01')) h(t)
            WHERE journey_trim(cj, h.t)::text <> journey_trim(fe, h.t)::text), 0::bigint,
    'journey_trim of a journey = of the funnel_event[] (inclusive horizon)');
SELECT ok(journey_merge(NULL::journey, NULL::journey) IS NULL, 'journey_merge(NULL, NULL) is NULL');
SELECT is((SELECT count(*) FROM j WHERE journey_merge(cj, NULL)::text <> cj::text
                                     OR journey_merge(NULL, cj)::text <> cj::text), 0::bigint,
    'journey_merge with NULL: the other journey');

-- parallel plans
CREATE TABLE pj AS SELECT u, cj FROM j, generate_series(1, 20);
ANALYZE pj;
CREATE FUNCTION pg_temp.summary(parallel boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    IF parallel THEN
        SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
        SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
    ELSE
        SET LOCAL max_parallel_workers_per_gather = 0;
    END IF;
    SELECT funnel_summary('20 minutes', 'exclude 5 from 1 to 3', cj)::text INTO r FROM pj;
    RETURN r;
END $$;
SELECT is(pg_temp.summary(true), pg_temp.summary(false), 'funnel_summary over journey in a parallel plan = serially');

SELECT * FROM finish();
ROLLBACK;
