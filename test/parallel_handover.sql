-- A parallel worker's entity rows reach the leader through the shared
-- memory of the Gather (or Gather Merge) that runs it, found by its handle
-- below the aggregate.  In every plan shape that puts that memory somewhere
-- else (two Gathers under one Append, a Gather Merge under a sorted GROUP
-- BY, a Gather in an InitPlan, one rescanned by a nested loop, a LIMIT that
-- shuts the Gather down) each parallel answer must equal the
-- serial one, and the plan must be the parallel shape it names.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(13);

-- 200000 rows of 20000 entities in 4 channels: each worker's rows are far
-- over the 64 kB that go through shared memory
CREATE TABLE ho_rows AS
SELECT (hashint4(g) & 1048575) % 20000 AS e,
       'ch' || (g % 4) AS channel,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 1048575) % 20000) * interval '1 minute' AS ts,
       (hashint4(g * 13) & 7) < 3 AS c1, (hashint4(g * 17) & 7) < 3 AS c2, (hashint4(g * 19) & 7) < 2 AS c3
FROM generate_series(1, 200000) g;
ANALYZE ho_rows;

-- a query's answer as text, serially or in a forced parallel plan whose
-- workers scan everything; and whether that plan has the shape named
CREATE FUNCTION pg_temp.run(q text, parallel boolean, settings text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE settings;
    IF parallel THEN
        SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
        SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
        SET LOCAL parallel_leader_participation = off;
    ELSE
        SET LOCAL max_parallel_workers_per_gather = 0;
    END IF;
    EXECUTE 'SELECT string_agg(x::text, '' | '') FROM (' || q || ') x' INTO r;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
    RESET enable_material; RESET enable_parallel_append;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.plan_has(q text, shape text, settings text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE l text; t text := '';
BEGIN
    EXECUTE settings;
    SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;
    SET LOCAL min_parallel_table_scan_size = 0; SET LOCAL max_parallel_workers_per_gather = 2;
    SET LOCAL parallel_leader_participation = off;
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        t := t || l || E'\n';
    END LOOP;
    RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
    RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
    RESET enable_material; RESET enable_parallel_append;
    RETURN t ~ shape;
END $$;

CREATE TEMP TABLE shapes (name text, q text, shape text, settings text DEFAULT 'SET LOCAL enable_material = on');
INSERT INTO shapes VALUES
  ('one Gather',
   $$SELECT funnel_stage_counts('1 day', e, ts, c1, c2, c3) FROM ho_rows$$,
   'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)', DEFAULT),
  ('two Gathers under one Append',
   $$SELECT funnel_stage_counts('1 day', e, ts, c1, c2, c3) FROM ho_rows WHERE channel < 'ch2'
     UNION ALL SELECT funnel_stage_counts('2 days', e, ts, c1, c2, c3) FROM ho_rows WHERE channel >= 'ch2'$$,
   'Append(.|\n)*Gather(.|\n)*Gather', 'SET LOCAL enable_parallel_append = off'),
  ('Gather Merge under a sorted GROUP BY',
   $$SELECT channel, funnel_stage_counts('1 day', e, ts, c1, c2, c3) FROM ho_rows GROUP BY channel ORDER BY channel$$,
   'Finalize GroupAggregate(.|\n)*Gather Merge', DEFAULT),
  ('a Gather in an InitPlan',
   $$SELECT (SELECT funnel_summary('1 day', e::text, ts, c1, c2, c3)::text FROM ho_rows) AS s$$,
   'InitPlan(.|\n)*Gather', DEFAULT),
  ('a Gather rescanned inside a nested loop (workers started 3 times)',
   $$SELECT k, s.c FROM generate_series(0, 2) k
     LEFT JOIN (SELECT funnel_stage_counts('1 day', e, ts, c1, c2, c3) AS c FROM ho_rows) s ON k < 5$$,
   'Nested Loop Left Join(.|\n)*Finalize Aggregate(.|\n)*Gather', 'SET LOCAL enable_material = off'),
  ('a LIMIT above a parallel GROUP BY',
   $$SELECT channel, cohort_retention(e, ts, 'week') FROM ho_rows GROUP BY channel ORDER BY channel LIMIT 2$$,
   'Limit(.|\n)*Gather', DEFAULT);

SELECT ok(pg_temp.plan_has(q, shape, settings), name || ': the parallel plan') FROM shapes ORDER BY name;
SELECT is(pg_temp.run(q, true, settings), pg_temp.run(q, false, settings), name || ': parallel = serial')
FROM shapes ORDER BY name;
-- the answers are not empty
SELECT ok(pg_temp.run($$SELECT funnel_stage_counts('1 day', e, ts, c1, c2, c3) FROM ho_rows$$, false, '') ~ '\{1[0-9]{4},',
          'the serial answer counts the entities');

SELECT * FROM finish();
ROLLBACK;
