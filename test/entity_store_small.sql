-- A store per group: the entity store starts with one partition and splits
-- into 256 at 256 rows (ESTORE_SMALL_ROWS), so a GROUP BY of many small
-- groups costs a few hundred bytes per group.  Groups of 1 to 3000 rows,
-- around the split (255, 256, 257 rows), with bigint and text entities,
-- must give the answer of the two-level form (window_funnel per entity, a
-- separate walk state, counted by funnel_stage_counts(level, steps)), serial,
-- spilling under a tiny limit, and in parallel (the workers' small stores
-- are serialised and combined).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(14);

-- group g has sizes[g] rows over 1 + sizes[g] / 8 entities; coarse times
-- (ties); a row may match several steps
CREATE TABLE small_rows AS
SELECT s.g, (hashint4(s.g * 100003 + i) & 65535) % (1 + s.n / 8) AS e,
       timestamptz '2024-01-01' + ((hashint4(i * 7 + s.g) & 65535) % 300) * interval '10 minutes' AS ts,
       (hashint4(i * 13 + s.g) & 7) < 3 AS c1, (hashint4(i * 17 + s.g) & 7) < 3 AS c2,
       (hashint4(i * 19 + s.g) & 7) < 3 AS c3
FROM (SELECT g, (ARRAY[1, 2, 10, 100, 255, 256, 257, 1500, 3000])[g] AS n
      FROM generate_series(1, 9) g) s, generate_series(1, s.n) i;
ALTER TABLE small_rows ADD COLUMN et text;
UPDATE small_rows SET et = 'entity ' || e || repeat('-', (e % 5)::int);
ANALYZE small_rows;
SELECT is((SELECT array_agg(n ORDER BY g) FROM (SELECT g, count(*) AS n FROM small_rows GROUP BY g) c),
          ARRAY[1, 2, 10, 100, 255, 256, 257, 1500, 3000]::bigint[], 'the group sizes');

CREATE TEMP TABLE small_reference AS
SELECT g, funnel_stage_counts(level, 3) AS counts
FROM (SELECT g, e, window_funnel('2 hours', ts, c1, c2, c3) AS level FROM small_rows GROUP BY g, e) w
GROUP BY g;
CREATE FUNCTION pg_temp.per_group(key text) RETURNS TABLE (g int, counts bigint[]) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT g, funnel_stage_counts(''2 hours'', %s, ts, c1, c2, c3) FROM small_rows
                               GROUP BY g', key);
END $$;

SELECT set_eq($$SELECT * FROM pg_temp.per_group('e')$$, $$SELECT * FROM small_reference$$,
              'bigint entities, one store per group: the two-level answer');
SELECT set_eq($$SELECT * FROM pg_temp.per_group('et')$$, $$SELECT * FROM small_reference$$,
              'text entities, one store per group: the two-level answer');
SELECT ok((SELECT sum(counts[1]) > 300 AND bool_or(counts[3] > 0) AND count(*) = 9 FROM small_reference),
          'nine groups, entities at step 1 and some at step 3');
-- the same store for a GROUP BY and for the group alone
SELECT is((SELECT funnel_stage_counts('2 hours', e, ts, c1, c2, c3) FROM small_rows WHERE g = 6),
          (SELECT counts FROM small_reference WHERE g = 6), 'the group of 256 rows alone');
SELECT is((SELECT funnel_stage_counts('2 hours', e, ts, c1, c2, c3) FROM small_rows),
          (SELECT funnel_stage_counts(level, 3) FROM
             (SELECT e, window_funnel('2 hours', ts, c1, c2, c3) AS level FROM small_rows GROUP BY e) w),
          'every row in one store: its entities span the groups');

-- a tiny limit: small stores spill too, and split from the temporary file
SET LOCAL funnel.max_state_memory = '64kB';
SELECT set_eq($$SELECT * FROM pg_temp.per_group('e')$$, $$SELECT * FROM small_reference$$,
              'bigint entities, spilling: the same');
SELECT set_eq($$SELECT * FROM pg_temp.per_group('et')$$, $$SELECT * FROM small_reference$$,
              'text entities, spilling: the same');
-- funnel_summary over the small stores: the same counts
SELECT set_eq($$SELECT g, (SELECT array_agg(entities ORDER BY step) FROM funnel_report(s)) FROM
                (SELECT g, funnel_summary('2 hours', e, ts, c1, c2, c3) AS s FROM small_rows GROUP BY g) x$$,
              $$SELECT * FROM small_reference$$, 'funnel_summary per group, spilling: the same counts');
RESET funnel.max_state_memory;

-- parallel: partial states per group in the workers, serialised and combined
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL enable_hashagg = on;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT g, funnel_stage_counts('2 hours', e, ts, c1, c2, c3) FROM small_rows GROUP BY g$$),
               'Partial', 'the grouped plan is parallel');
SELECT set_eq($$SELECT * FROM pg_temp.per_group('e')$$, $$SELECT * FROM small_reference$$,
              'bigint entities in parallel: the same');
SELECT set_eq($$SELECT * FROM pg_temp.per_group('et')$$, $$SELECT * FROM small_reference$$,
              'text entities in parallel: the same');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT set_eq($$SELECT * FROM pg_temp.per_group('e')$$, $$SELECT * FROM small_reference$$,
              'bigint entities in parallel, spilling: the same');
RESET funnel.max_state_memory;
-- as a window function the store is read and then grows again: the running
-- counts at the end of each group equal the group's answer
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT set_eq($$SELECT DISTINCT ON (g) g, c FROM
                (SELECT g, ts, e, funnel_stage_counts('2 hours', e, ts, c1, c2, c3)
                           OVER (PARTITION BY g ORDER BY ts, e, c1, c2, c3 ROWS UNBOUNDED PRECEDING) AS c,
                        row_number() OVER (PARTITION BY g ORDER BY ts DESC, e DESC, c1 DESC, c2 DESC, c3 DESC) AS rn
                 FROM small_rows) x WHERE rn = 1$$,
              $$SELECT * FROM small_reference$$, 'as a window function, growing past the split');

SELECT * FROM finish();
ROLLBACK;
