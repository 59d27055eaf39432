-- Every aggregate with an entity gives in a forced parallel plan what it
-- gives serially, for entity types without binary send/receive (aclitem:
-- hashable, no send/recv), fixed-length by reference (name, uuid), by value
-- but not bigint or integer ("char", smallint, timestamptz) and varlena
-- (text, numeric).  The partial states carry
-- the keys as the value's own bytes.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(21);
SET LOCAL TimeZone = 'UTC';
SET LOCAL client_min_messages = warning;

-- 60 entities with many rows, 100 with one; every entity sees all steps.
-- Each worker's rows are over 64 kB, so they reach the leader through the
-- query's shared memory (as test/entity_store_tmpfiles.sh sees in DEBUG1)
CREATE TABLE pe AS
SELECT makeaclitem((10 + k)::oid, 10::oid, 'SELECT', false) AS a,
       ('user ' || k)::name AS nm,
       md5(k::text)::uuid AS id,
       chr(65 + k)::"char" AS ch,
       repeat('customer ', 1 + k % 5) || k AS txt,
       k / 7.0 AS num,
       k,
       timestamptz '2024-01-01' + (abs(hashint4(g)) % 2000) * interval '1 hour' AS ts,
       1 + (g / 60) % 3 AS step,
       (g % 17) * 3.25 AS amount
FROM (SELECT g, CASE WHEN g <= 119900 THEN g % 60 ELSE g - 119840 END AS k
      FROM generate_series(1, 120000) g) x;
ANALYZE pe;

-- the text of a query's result, serially or in a forced parallel plan
CREATE FUNCTION pg_temp.run(q text, parallel boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    IF parallel THEN
        SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
        SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
        SET LOCAL force_parallel_mode = on;
        -- the workers scan everything (a leader that scans could leave them
        -- too few rows to go through shared memory)
        SET LOCAL parallel_leader_participation = off;
    ELSE
        SET LOCAL max_parallel_workers_per_gather = 0;
    END IF;
    EXECUTE 'SELECT (' || q || ')::text FROM pe' INTO r;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather; RESET force_parallel_mode; RESET parallel_leader_participation;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.parallel_plan(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE l text; found boolean := false;
BEGIN
    SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
    SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT ' || q || ' FROM pe' LOOP
        -- PostgreSQL's partial aggregate, or the plan node of its own as one
        found := found OR l LIKE '%Partial Aggregate%' OR l LIKE '%Custom Scan (FunnelAggregate)%';
    END LOOP;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather;
    RETURN found;
END $$;

SELECT ok(pg_temp.parallel_plan($$funnel_stage_counts('1 day', a, ts, step = 1, step = 2, step = 3)$$),
    'the plan is a parallel aggregate');

SELECT is(pg_temp.run(q, true), pg_temp.run(q, false), 'parallel = serial: ' || q)
FROM unnest(ARRAY[
    $$funnel_stage_counts('1 day', a, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_conversion('1 day', 'strict_once', a, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_summary('1 day', a, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_stage_counts('1 day', nm, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_stage_counts('1 day', id, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_stage_counts('1 day', ch, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_stage_counts('1 day', k::smallint, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_summary('1 day', timestamptz '2000-01-01' + k * interval '1 day', ts, step = 1, step = 2, step = 3)$$,
    $$funnel_summary('1 day', txt, ts, step = 1, step = 2, step = 3)$$,
    $$funnel_summary('1 day', num, ts, step = 1, step = 2, step = 3)$$,
    $$ltv_report(a, ts, amount::numeric)$$,
    $$ltv_report(ch, ts, amount::numeric)$$,
    $$ltv_report(nm, ts, amount::numeric)$$,
    $$cohort_retention(a, ts, 'week')$$,
    $$cohort_retention(txt, ts, 'week')$$,
    $$attribution('linear', a, ts, CASE step WHEN 3 THEN NULL ELSE 'ch' || step END, CASE step WHEN 3 THEN amount::numeric END)$$,
    $$pipeline_model(a, ts, 'stage ' || step, ARRAY['stage 3'])$$
]) q;
-- the answers are not empty
SELECT is(pg_temp.run($$funnel_stage_counts('1 day', a, ts, step = 1, step = 2, step = 3)$$, true),
    pg_temp.run($$funnel_stage_counts('1 day', nm, ts, step = 1, step = 2, step = 3)$$, false),
    'aclitem and name entities (one per user) count the same');
SELECT is(pg_temp.run($$funnel_stage_counts('1 day', a, ts, step = 1, step = 2, step = 3)$$, true),
    (SELECT array_agg((SELECT count(*) FROM (SELECT window_funnel('1 day', ts, step = 1, step = 2, step = 3) AS l
                                             FROM pe GROUP BY nm) w WHERE l >= k) ORDER BY k)::text
     FROM generate_series(1, 3) k),
    'the counts of window_funnel per entity');
SELECT is(pg_temp.run($$(funnel_stage_counts('1 day', ch, ts, step = 1, step = 2, step = 3))[1]$$, true),
    (SELECT count(DISTINCT ch)::text FROM pe WHERE step = 1), '"char" entities at step 1: as many as distinct values');

SELECT * FROM finish();
ROLLBACK;
