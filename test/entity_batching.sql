-- funnel_stage_counts buffers rows of by-value entities and adds them in
-- batches (src/engine/entities.c).  Its answers must not depend on that:
-- checked against a second, independent route to the same numbers (one
-- window_funnel level per entity, counted by plain SQL), on more rows than
-- one batch, with integer, bigint and text entities, in parallel plans, on a
-- partitioned table, and as a window function whose final function reads
-- the state between rows.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(14);

-- 3000 rows of 97 entities; entity e's rows cycle through steps 1..4 and
-- "none" with gaps that put some chains out of the 1-day window
CREATE TEMP TABLE ev AS
SELECT (i * 7919) % 97 AS e,
       timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => i * ((i % 5) + 1)) AS ts,
       (ARRAY['a', 'b', 'c', 'd', 'x'])[1 + (i / 97 + i % 3) % 5] AS name
FROM generate_series(1, 3000) AS i;

-- the expected counts: entities whose level is >= k, by plain SQL over
-- window_funnel levels (its own code path: one state per group, no batching)
CREATE TEMP TABLE expected AS
SELECT ARRAY[count(*) FILTER (WHERE l >= 1), count(*) FILTER (WHERE l >= 2),
             count(*) FILTER (WHERE l >= 3), count(*) FILTER (WHERE l >= 4)]::bigint[] AS c
FROM (SELECT e, window_funnel('1 day', ts, name = 'a', name = 'b', name = 'c', name = 'd') AS l
      FROM ev GROUP BY e) s;

SELECT ok((SELECT c[4] > 0 AND c[1] > c[4] FROM expected), 'the data reach every level and drop off');

SELECT is((SELECT funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd') FROM ev),
          (SELECT c FROM expected), 'integer entities');
SELECT is((SELECT funnel_stage_counts('1 day', e::bigint, ts, name, ARRAY['a', 'b', 'c', 'd']) FROM ev),
          (SELECT c FROM expected), 'bigint entities, event names');
SELECT is((SELECT funnel_stage_counts('1 day', e::text, ts, name = 'a', name = 'b', name = 'c', name = 'd') FROM ev),
          (SELECT c FROM expected), 'text entities (not batched)');

-- rows in a different order than time order: the tracks re-walk
SELECT is((SELECT funnel_stage_counts('1 day', e::bigint, ts, name = 'a', name = 'b', name = 'c', name = 'd'
                                      ORDER BY ts DESC) FROM ev),
          (SELECT c FROM expected), 'rows in reverse time order');

-- parallel partial aggregation: states are serialised and combined
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is((SELECT funnel_stage_counts('1 day', e::bigint, ts, name = 'a', name = 'b', name = 'c', name = 'd') FROM ev),
          (SELECT c FROM expected), 'parallel plan (temp table: serial, kept for the same answer)');

-- partitionwise partial aggregation on a table hash-partitioned by entity:
-- one state per partition, combined without serialisation
CREATE TABLE pg_temp.ev_hp (e bigint, ts timestamptz, name text) PARTITION BY HASH (e);
CREATE TABLE pg_temp.ev_hp0 PARTITION OF pg_temp.ev_hp FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE pg_temp.ev_hp1 PARTITION OF pg_temp.ev_hp FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE pg_temp.ev_hp2 PARTITION OF pg_temp.ev_hp FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO pg_temp.ev_hp SELECT * FROM ev ORDER BY ts;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is((SELECT funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd') FROM pg_temp.ev_hp),
          (SELECT c FROM expected), 'hash-partitioned table, partitionwise aggregation');

-- as a window function: the final function runs after every row, while
-- rows are still buffered; the last row's answer is the whole answer
SELECT is((SELECT c FROM (
              SELECT funnel_stage_counts('1 day', e::bigint, ts, name = 'a', name = 'b', name = 'c', name = 'd')
                     OVER (ORDER BY ts, e ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c,
                     row_number() OVER (ORDER BY ts DESC, e DESC) AS rn
              FROM ev) s WHERE rn = 1),
          (SELECT c FROM expected), 'window function: running counts end at the total');

-- A large table (9973 entities, 40000 rows: many full batches, buckets
-- and tracks prefetched), against the same independent route.
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET enable_partitionwise_aggregate;
CREATE TEMP TABLE big AS
SELECT ((i * 7919) % 9973)::bigint AS e,
       timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => i / 30) AS ts,
       (ARRAY['a', 'b', 'c', 'd', 'x'])[1 + (i / 9973 + (i % 7 = 0)::int + (i % 11 = 0)::int) % 5] AS name
FROM generate_series(1, 40000) AS i;
CREATE TEMP TABLE big_expected AS
SELECT ARRAY[count(*) FILTER (WHERE l >= 1), count(*) FILTER (WHERE l >= 2),
             count(*) FILTER (WHERE l >= 3), count(*) FILTER (WHERE l >= 4)]::bigint[] AS c
FROM (SELECT e, window_funnel('1 day', ts, name = 'a', name = 'b', name = 'c', name = 'd') AS l
      FROM big GROUP BY e) s;
SELECT ok((SELECT c[1] > 4096 AND c[4] > 0 FROM big_expected), 'thousands of entities, every level reached');
SELECT is((SELECT funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd') FROM big),
          (SELECT c FROM big_expected), 'large table: bigint entities, conditions');
SELECT is((SELECT funnel_stage_counts('1 day', e::int, ts, name, ARRAY['a', 'b', 'c', 'd']) FROM big),
          (SELECT c FROM big_expected), 'large table: integer entities, event names');
SELECT is((SELECT funnel_stage_counts('1 day', 'strict_order', e, ts, name, ARRAY['a', 'b', 'c', 'd']) FROM big),
          (SELECT funnel_stage_counts(l, 4) FROM (SELECT window_funnel('1 day', 'strict_order', ts, name, ARRAY['a', 'b', 'c', 'd']) AS l
                                                  FROM big GROUP BY e) s), 'large table: strict_order');
SELECT is((SELECT funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd' ORDER BY ts DESC) FROM big),
          (SELECT c FROM big_expected), 'large table: rows in reverse time order');
-- running counts per hour: the final function runs with rows still in the
-- batch; each hour's answer equals the aggregate over the rows so far
SELECT is((SELECT count(*) FROM (
              SELECT DISTINCT date_trunc('hour', ts) AS h,
                     funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd')
                       OVER (ORDER BY date_trunc('hour', ts)) AS c
              FROM big) r
           WHERE r.c IS DISTINCT FROM (SELECT funnel_stage_counts('1 day', e, ts, name = 'a', name = 'b', name = 'c', name = 'd')
                                       FROM big WHERE date_trunc('hour', ts) <= r.h)),
          0::bigint, 'large table: running counts by hour equal the counts over the rows so far');

SELECT * FROM finish();
ROLLBACK;
