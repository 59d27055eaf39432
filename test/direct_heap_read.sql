-- The FunnelAggregate node over a sequential scan of a heap table reads the
-- table's pages itself: the rows the snapshot sees on each page, their
-- columns read in place (src/engine/direct_aggregate.c, direct_read_heap).
-- Checked here against hand-worked answers and against PostgreSQL's own
-- scan (funnel.direct_aggregate off: the Aggregate over a Seq Scan): rows
-- deleted, updated or rolled back on the same pages, NULLs, columns after
-- text of every length (short, long, compressed, toasted), a column added
-- since the rows were written, an argument computed over the row, a WHERE
-- clause, row-level security, a parallel scan's pages, a rescan, no rows
-- at all; and what the scan would have left behind: the predicate lock of
-- a serializable transaction, the table's statistics, EXPLAIN ANALYZE's
-- rows.
BEGIN ISOLATION LEVEL SERIALIZABLE;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(33);

-- the planner's hook is installed when the library is loaded: load it
SELECT window_funnel('1 hour', now(), true) IS NOT NULL AS library_loaded \gset

CREATE FUNCTION pg_temp.plan_of(q text, with_analyze boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF'
        || CASE WHEN with_analyze THEN ', ANALYZE, TIMING OFF, SUMMARY OFF' ELSE '' END
        || ') ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;

-- the same query with the node and without it: both answers as text
CREATE FUNCTION pg_temp.both(q text, OUT direct text, OUT aggregate text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT (' || q || ')::text' INTO direct;
    PERFORM set_config('funnel.direct_aggregate', 'off', true);
    EXECUTE 'SELECT (' || q || ')::text' INTO aggregate;
    PERFORM set_config('funnel.direct_aggregate', 'on', true);
END $$;

-- A plain table (the serializable transaction's predicate locks are taken
-- on tables of shared buffers only), its text before the entity and the
-- time, so that each row's later columns sit after text of its own length.
CREATE TABLE heap_rows (event text, pad text, u bigint, ts timestamptz);
ALTER TABLE heap_rows ALTER COLUMN pad SET STORAGE EXTENDED;

-- hand-worked, window 1 hour, steps visit, view, buy (as test/direct_aggregate.sql):
--   u1 visit 10:00, view 10:10, buy 10:20         level 3
--   u2 visit 10:00, view 10:05                    level 2
--   u3 NULL 10:00, view 10:01, buy 10:02          level 0
--   u4 visit 10:00, view 11:30                    level 1
--   NULL entity: visit, view, buy                 ignored
-- each row padded with text of another length: none, NULL, 1 byte (a short
-- header), 200 bytes (a long header), 5,000 repeated bytes (compressed in
-- the row) and 300,000 bytes of random digits (moved to the TOAST table)
INSERT INTO heap_rows
SELECT e, CASE n % 6 WHEN 0 THEN '' WHEN 1 THEN NULL WHEN 2 THEN 'x' WHEN 3 THEN repeat('y', 200)
                     WHEN 4 THEN repeat('z', 5000)
                     ELSE (SELECT string_agg((random() * 9)::int::text, '') FROM generate_series(1, 300000)) END,
       u, ts::timestamptz
FROM (VALUES
  (1, 'visit', 1, '2024-03-01 10:00'), (2, 'view', 1, '2024-03-01 10:10'), (3, 'buy', 1, '2024-03-01 10:20'),
  (4, 'visit', 2, '2024-03-01 10:00'), (5, 'view', 2, '2024-03-01 10:05'),
  (6, NULL, 3, '2024-03-01 10:00'), (7, 'view', 3, '2024-03-01 10:01'), (8, 'buy', 3, '2024-03-01 10:02'),
  (9, 'visit', 4, '2024-03-01 10:00'), (10, 'view', 4, '2024-03-01 11:30'),
  (11, 'visit', NULL, '2024-03-01 10:00'), (12, 'view', NULL, '2024-03-01 10:01'), (13, 'buy', NULL, '2024-03-01 10:02')
) AS v(n, e, u, ts);
ANALYZE heap_rows;

SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows$$),
               'Custom Scan \(FunnelAggregate\)\n\s+->  Seq Scan on heap_rows\n$',
               'a whole heap table: the node over a sequential scan with no condition');
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{3,2,1}'::bigint[], 'hand-worked: columns after text of every length, NULLs');
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy') FROM heap_rows),
          '{3,2,1}'::bigint[], 'hand-worked: the conditions form');
SELECT is((SELECT funnel_stage_counts('1 hour', u + 0, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{3,2,1}'::bigint[], 'hand-worked: an argument computed over the row');

-- rows of other versions on the same pages, none of them visible:
-- u1's buy deleted (level 2), u4's view moved into the window (level 2),
-- u3's NULL event made a visit (level 3), a buy for u2 inserted and rolled back
DELETE FROM heap_rows WHERE u = 1 AND event = 'buy';
UPDATE heap_rows SET ts = '2024-03-01 10:30' WHERE u = 4 AND event = 'view';
UPDATE heap_rows SET event = 'visit' WHERE u = 3 AND event IS NULL;
SAVEPOINT before_insert;
INSERT INTO heap_rows VALUES ('buy', 'x', 2, '2024-03-01 10:06');
ROLLBACK TO SAVEPOINT before_insert;
-- u1 visit, view: 2; u2 visit, view: 2; u3 visit, view, buy: 3; u4 visit, view: 2
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{4,4,1}'::bigint[], 'hand-worked: deleted, updated and rolled-back rows on the pages are not read');
SELECT is((SELECT funnel_stage_counts('1 hour', u + 0, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{4,4,1}'::bigint[], 'hand-worked, an argument computed over the row: the same');

-- a WHERE clause, checked by the node on each visible row: before 10:06,
-- u1 visit (1), u2 visit, view (2), u3 visit, view, buy (3), u4 visit (1);
-- 10 of the 12 visible rows pass (u1's view at 10:10 and u4's at 10:30 do not)
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows WHERE ts < '2024-03-01 10:06'$$),
               'Custom Scan \(FunnelAggregate\)\n\s+->  Seq Scan on heap_rows\n\s+Filter: ',
               'a WHERE clause: the node over the sequential scan, the condition in it');
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows WHERE ts < '2024-03-01 10:06'),
          '{4,2,1}'::bigint[], 'hand-worked: a WHERE clause');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM heap_rows WHERE ts < '2024-03-01 10:06'$$, true),
               'Seq Scan on heap_rows \(actual rows=10 loops=1\)\n\s+Filter: [^\n]*\n\s+Rows Removed by Filter: 2\n',
               'EXPLAIN ANALYZE with a WHERE clause: 10 rows through, 2 removed by the condition');
-- a condition on a value a subquery computes once: before u2's last event
-- (10:05), u1 visit (1), u2 visit (1), u3 visit, view, buy (3), u4 visit (1)
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows
           WHERE ts < (SELECT max(ts) FROM heap_rows WHERE u = 2)),
          '{4,1,1}'::bigint[], 'hand-worked: a WHERE clause on a value computed once');
-- the condition refers to the outer query's row: checked again for each
SELECT is((SELECT array_agg((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy'])
                             FROM heap_rows WHERE ts < k) ORDER BY k)
           FROM unnest(ARRAY['2024-03-01 10:01', '2024-03-01 10:06', '2024-03-01 12:00']::timestamptz[]) AS k),
          -- before 10:01 only the visits; before 10:06 as above; before 12:00 every row
          '{{4,0,0},{4,2,1},{4,4,1}}'::bigint[],
          'hand-worked: a WHERE clause on the outer row, run again for each');

-- what the scan leaves: EXPLAIN ANALYZE's rows, the table's statistics, the predicate lock
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM heap_rows$$, true),
               'Seq Scan on heap_rows \(actual rows=12 loops=1\)',
               'EXPLAIN ANALYZE: the sequential scan shows the 12 visible rows read');
SELECT pg_stat_get_xact_tuples_returned('heap_rows'::regclass) AS returned_before \gset
SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM heap_rows \gset
SELECT is(pg_stat_get_xact_tuples_returned('heap_rows'::regclass) - :returned_before, 12::bigint,
          'the table''s statistics count the 12 rows read, as the scan counts them');
SELECT is((SELECT count(*) FROM pg_locks
           WHERE locktype = 'relation' AND mode = 'SIReadLock' AND pid = pg_backend_pid()
             AND relation = 'heap_rows'::regclass), 1::bigint,
          'a serializable transaction holds the table''s predicate lock');

-- row-level security: the policy's condition is the scan's, checked by the
-- node on each row (u2 visit, view: 2; u3 visit, view, buy: 3)
CREATE ROLE direct_heap_reader;
GRANT SELECT ON heap_rows TO direct_heap_reader;
ALTER TABLE heap_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY heap_rows_u2_u3 ON heap_rows FOR SELECT USING (u IN (2, 3));
SET LOCAL ROLE direct_heap_reader;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows$$),
               'Custom Scan \(FunnelAggregate\)\n\s+->  Seq Scan on heap_rows\n\s+Filter: ',
               'row-level security: the node over the scan, the policy its condition');
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{2,2,1}'::bigint[], 'row-level security: only the rows the policy lets through');
RESET ROLE;
ALTER TABLE heap_rows DISABLE ROW LEVEL SECURITY;

-- a column added since the rows were written (no default: NULL in the old
-- rows, which have fewer columns than the table), as the entity
ALTER TABLE heap_rows ADD COLUMN v bigint;
INSERT INTO heap_rows VALUES ('visit', 'x', 9, '2024-03-01 10:00', 9), ('view', NULL, 9, '2024-03-01 10:01', 9);
SELECT is((SELECT funnel_stage_counts('1 hour', v, ts, event, ARRAY['visit', 'view', 'buy']) FROM heap_rows),
          '{1,1,0}'::bigint[], 'hand-worked: a column added since, NULL in the older rows');

-- random data: ties, NULLs, text of every length before the columns read,
-- deleted and updated rows; the node against the scan node
CREATE TABLE heap_random (pad text, event text, u text, ts timestamptz, n int);
INSERT INTO heap_random
SELECT CASE WHEN i % 97 = 0 THEN repeat('p', 3000 + i % 50) WHEN i % 5 = 0 THEN NULL ELSE repeat('q', i % 130) END,
       CASE WHEN i % 31 = 0 THEN NULL ELSE (ARRAY['a', 'b', 'c', 'd'])[1 + (hashint4(i) & 3)] END,
       CASE WHEN i % 53 = 0 THEN NULL ELSE 'user-' || (hashint4(i * 7) & 4095) END,
       CASE WHEN i % 41 = 0 THEN NULL
            ELSE '2024-01-01'::timestamptz + ((hashint4(i * 13) & 255) * interval '1 minute') END,
       i
FROM generate_series(1, 20000) AS i;
DELETE FROM heap_random WHERE n % 7 = 0;
UPDATE heap_random SET event = 'c' WHERE n % 11 = 0;
ANALYZE heap_random;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random$$),
               'Custom Scan \(FunnelAggregate\)\n\s+->  Seq Scan on heap_random\n$',
               'random data: the node over a sequential scan with no condition');
SELECT is(direct, aggregate, 'random data, event names: as the scan node reads them')
FROM pg_temp.both($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random$$);
SELECT is(direct, aggregate, 'random data, conditions, strict order: as the scan node reads them')
FROM pg_temp.both($$SELECT funnel_conversion('1 hour', 'strict_order', u, ts, event = 'a', event = 'b' OR event = 'd', event = 'c') FROM heap_random$$);
SELECT is(direct, aggregate, 'random data, paths: as the scan node reads them')
FROM pg_temp.both($$SELECT paths(u, ts, event, NULL, NULL, 4, 10) FROM heap_random$$);
SELECT is(direct, aggregate, 'random data, an argument computed over the row: as the scan node reads them')
FROM pg_temp.both($$SELECT funnel_stage_counts('1 hour', lower(u), ts, event, ARRAY['a', 'b', 'c']) FROM heap_random$$);
SELECT is(direct, aggregate, 'random data, a WHERE clause: as the scan node reads and checks them')
FROM pg_temp.both($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random
                    WHERE n % 3 <> 0 AND ts < '2024-01-01 03:00'$$);
SELECT is(direct, aggregate, 'random data, a WHERE clause and an argument computed over the row: as the scan node reads them')
FROM pg_temp.both($$SELECT funnel_stage_counts('1 hour', upper(u), ts, event = 'a', event = 'b', event = 'c') FROM heap_random
                    WHERE pad IS NOT NULL$$);
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random),
          (SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random WHERE n > 0),
          'random data: a WHERE clause every row passes changes nothing');

-- a parallel plan: the node in each process over the pages the parallel
-- scan hands it, against the serial scan node
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random$$),
               'Gather(.|\n)*Custom Scan \(FunnelAggregate\)\n\s+->  Parallel Seq Scan on heap_random',
               'parallel: the node over a parallel sequential scan');
SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) AS parallel_names,
       funnel_stage_counts('1 hour', lower(u), ts, event = 'a', event = 'b' OR event = 'd', event = 'c') AS parallel_conditions
FROM heap_random \gset
SET LOCAL parallel_leader_participation = off;
SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) AS workers_names
FROM heap_random \gset
RESET parallel_leader_participation;
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL funnel.direct_aggregate = off;
SELECT is(:'parallel_names', (SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random)::text,
          'parallel, event names: as the serial scan node reads them');
SELECT is(:'workers_names', (SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random)::text,
          'parallel, workers only: as the serial scan node reads them');
SELECT is(:'parallel_conditions',
          (SELECT funnel_stage_counts('1 hour', lower(u), ts, event = 'a', event = 'b' OR event = 'd', event = 'c') FROM heap_random)::text,
          'parallel, conditions over a computed entity: as the serial scan node reads them');
SET LOCAL funnel.direct_aggregate = on;

-- a rescan: the node under a subquery run again for every outer row, its
-- argument the outer row's (computed), and the table read whole each time
SELECT is((SELECT array_agg(c ORDER BY k) FROM (
              SELECT k, (SELECT funnel_stage_counts('1 hour', u, ts + k * interval '0 minutes', event, ARRAY['a', 'b', 'c'])
                         FROM heap_random) AS c
              FROM generate_series(1, 3) AS k) AS s),
          (SELECT array_agg(c) FROM (
              SELECT (SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b', 'c']) FROM heap_random) AS c
              FROM generate_series(1, 3)) AS s),
          'a rescan: each run reads the whole table again');
SELECT matches(pg_temp.plan_of($$SELECT k, (SELECT funnel_stage_counts('1 hour', u, ts + k * interval '0 minutes', event, ARRAY['a', 'b', 'c'])
                                            FROM heap_random) FROM generate_series(1, 3) AS k$$, true),
               'Seq Scan on heap_random \(actual rows=\d+ loops=3\)',
               'a rescan: EXPLAIN ANALYZE counts the three reads');

-- no rows at all: NULL (doc/whole_table.md), from a table of no pages and
-- from one whose pages hold no visible row
CREATE TABLE heap_empty (u bigint, ts timestamptz, event text);
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b']) FROM heap_empty),
          NULL::bigint[], 'a table of no pages: NULL');
INSERT INTO heap_empty SELECT i, now(), 'a' FROM generate_series(1, 1000) AS i;
DELETE FROM heap_empty;
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['a', 'b']) FROM heap_empty),
          NULL::bigint[], 'pages with no visible row: NULL');

SELECT * FROM finish();
ROLLBACK;
