-- Large stores: rows in memory are cut from blocks that grow to 8 MB (on
-- transparent huge pages where the system has them), capped at a quarter of
-- funnel.max_state_memory, and freed when the rows spill.  A store of some
-- megabytes (bigint entities: compact rows; text entities: aligned rows)
-- must answer as the two-level form does, with no limit (blocks of 2 MB and
-- more), under a limit that makes every block small and spills many times,
-- under one that spills after the blocks have grown, and in parallel (each
-- worker's rows read in shared memory and copied by the combine).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(12);

-- 800000 rows of 80000 entities over 30 days, many ties
CREATE TABLE eb_rows AS
SELECT (hashint4(g) & 1048575) % 80000 AS e,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 1048575) % 43200) * interval '1 minute' AS ts,
       (hashint4(g * 13) & 7) < 3 AS c1, (hashint4(g * 17) & 7) < 3 AS c2,
       (hashint4(g * 19) & 7) < 3 AS c3, (hashint4(g * 23) & 7) < 2 AS c4
FROM generate_series(1, 800000) g;
ALTER TABLE eb_rows ADD COLUMN et text;
UPDATE eb_rows SET et = 'customer number ' || e;
ANALYZE eb_rows;

CREATE TEMP TABLE eb_ref AS
SELECT (SELECT funnel_stage_counts(level, 4) FROM
          (SELECT window_funnel('6 hours', ts, c1, c2, c3, c4) AS level FROM eb_rows GROUP BY e) s) AS ref;
SELECT ok((SELECT ref[1] > 70000 AND ref[4] > 1000 AND ref[4] < ref[1] FROM eb_ref),
          'the data reach every step, not all entities do');

CREATE FUNCTION pg_temp.counts(key text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format('SELECT funnel_stage_counts(''6 hours'', %s, ts, c1, c2, c3, c4) FROM eb_rows', key) INTO r;
  RETURN r;
END $$;

SELECT is(pg_temp.counts('e'), (SELECT ref FROM eb_ref), 'bigint, no limit: blocks of 2 MB and more');
SELECT is(pg_temp.counts('et'), (SELECT ref FROM eb_ref), 'text, no limit');
SET LOCAL funnel.max_state_memory = '2MB';
SELECT is(pg_temp.counts('e'), (SELECT ref FROM eb_ref), 'bigint, 2 MB: small blocks, many spills');
SELECT is(pg_temp.counts('et'), (SELECT ref FROM eb_ref), 'text, 2 MB');
SET LOCAL funnel.max_state_memory = '24MB';
SELECT is(pg_temp.counts('e'), (SELECT ref FROM eb_ref), 'bigint, 24 MB: the blocks grow, then spill');
SELECT is(pg_temp.counts('et'), (SELECT ref FROM eb_ref), 'text, 24 MB');
RESET funnel.max_state_memory;

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('6 hours', e, ts, c1, c2, c3, c4) FROM eb_rows$$),
               'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the plan is parallel');
SELECT is(pg_temp.counts('e'), (SELECT ref FROM eb_ref), 'bigint, parallel');
SELECT is(pg_temp.counts('et'), (SELECT ref FROM eb_ref), 'text, parallel');
SET LOCAL funnel.max_state_memory = '24MB';
SELECT is(pg_temp.counts('e'), (SELECT ref FROM eb_ref), 'bigint, parallel, 24 MB');
SELECT is(pg_temp.counts('et'), (SELECT ref FROM eb_ref), 'text, parallel, 24 MB');

SELECT * FROM finish();
ROLLBACK;
