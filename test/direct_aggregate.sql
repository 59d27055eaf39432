-- A plain whole-table funnel aggregate over one table runs in a plan node of
-- its own, Custom Scan (FunnelAggregate), which feeds the same transition
-- and final functions without PostgreSQL's Aggregate node
-- (src/engine/direct_aggregate.c, doc/whole_table.md).  Checked here: which
-- queries get the node and which keep the Aggregate, a hand-worked case,
-- and that the node answers what the Aggregate answers
-- (funnel.direct_aggregate off) on random data with ties, NULLs and several
-- key types, for every aggregate it runs, in subqueries run again for every outer row, with a limit
-- that spills, and with the same errors; and as a partial aggregate, in each
-- process of a parallel plan and over each partition of a partitionwise one.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(77);

-- the planner's hook is installed when the library is loaded: load it
SELECT window_funnel('1 hour', now(), true) IS NOT NULL AS library_loaded \gset

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
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

-- hand-worked, window 1 hour, steps visit, view, buy:
--   u1 visit 10:00, view 10:10, buy 10:20         level 3
--   u2 visit 10:00, view 10:05                    level 2
-- so 3 entities reach step 1 (u1, u2, u4), 2 step 2, 1 step 3
--   u3 NULL 10:00, view 10:01, buy 10:02          level 0
--   u4 visit 10:00, view 11:30                    level 1 (view past the window)
--   NULL entity: visit, view, buy                 ignored
CREATE TEMP TABLE hand (u int, ts timestamptz, event text);
INSERT INTO hand VALUES
  (1, '2024-03-01 10:00', 'visit'), (1, '2024-03-01 10:10', 'view'), (1, '2024-03-01 10:20', 'buy'),
  (2, '2024-03-01 10:00', 'visit'), (2, '2024-03-01 10:05', 'view'),
  (3, '2024-03-01 10:00', NULL), (3, '2024-03-01 10:01', 'view'), (3, '2024-03-01 10:02', 'buy'),
  (4, '2024-03-01 10:00', 'visit'), (4, '2024-03-01 11:30', 'view'),
  (NULL, '2024-03-01 10:00', 'visit'), (NULL, '2024-03-01 10:01', 'view'), (NULL, '2024-03-01 10:02', 'buy');
ANALYZE hand;

-- which plans get the node
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM hand$$),
               'Custom Scan \(FunnelAggregate\)', 'event names: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view') FROM hand$$),
               'Custom Scan \(FunnelAggregate\)', 'equalities (planned as names): the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, (event = 'visit') IS TRUE, event LIKE 'v%') FROM hand$$),
               'Custom Scan \(FunnelAggregate\)', 'conditions PostgreSQL evaluates: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_conversion('1 hour', 'strict_order', u, ts, event, ARRAY['visit', 'view']) FROM hand$$),
               'Custom Scan \(FunnelAggregate\)', 'funnel_conversion with a mode: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_summary('1 hour', u, funnel_event(ts, event = 'visit', event = 'view')) FROM hand$$),
               'Custom Scan \(FunnelAggregate\)', 'funnel_summary over funnel_event: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand WHERE u > 1$$),
               'Custom Scan \(FunnelAggregate\)(.|\n)*Filter', 'a WHERE clause stays in the scan below the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand ORDER BY 1 LIMIT 1$$),
               'Custom Scan \(FunnelAggregate\)', 'ORDER BY and LIMIT above it: the node');
SET LOCAL funnel.direct_aggregate = off;
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand$$),
                    'FunnelAggregate', 'funnel.direct_aggregate off: the Aggregate');
SET LOCAL funnel.direct_aggregate = on;
SELECT doesnt_match(pg_temp.plan_of($$SELECT u % 2, funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand GROUP BY 1$$),
                    'FunnelAggregate', 'GROUP BY: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FILTER (WHERE u > 1) FROM hand$$),
                    'FunnelAggregate', 'FILTER: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']), count(*) FROM hand$$),
                    'FunnelAggregate', 'a second aggregate: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT 'x', funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand$$),
                    'FunnelAggregate', 'another output column: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM hand HAVING count(*) > 0$$),
                    'FunnelAggregate', 'HAVING: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', h.u, h.ts, h.event, ARRAY['visit']) FROM hand h JOIN hand g USING (ts)$$),
                    'FunnelAggregate', 'a join: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT count(*) FROM hand$$),
                    'FunnelAggregate', 'an aggregate of another module: the Aggregate');
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) OVER () FROM hand$$),
                    'FunnelAggregate', 'as a window function: the WindowAgg');
CREATE TEMP TABLE parted (u int, ts timestamptz, event text) PARTITION BY HASH (u);
CREATE TEMP TABLE parted_0 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TEMP TABLE parted_1 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO parted SELECT * FROM hand;
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM parted$$),
                    'FunnelAggregate', 'a partitioned table: the Aggregate');

-- the hand-worked case through the node
SELECT is(funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']),
          '{3,2,1}'::bigint[], 'hand-worked: event names') FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, (event = 'visit') IS TRUE, (event = 'view') IS TRUE,
                              (event = 'buy') IS TRUE),
          '{3,2,1}'::bigint[], 'hand-worked: conditions PostgreSQL evaluates') FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']),
          NULL::bigint[], 'no rows: what the Aggregate answers for no rows') FROM hand WHERE false;
SELECT is((SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM hand WHERE false),
          (SELECT aggregate::bigint[] FROM pg_temp.both($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM hand WHERE false$$)),
          'no rows: the same as the Aggregate');

-- random data: 3,000 rows of 300 entities, ties, NULLs in every column
CREATE TEMP TABLE ev AS
SELECT (CASE WHEN random() < 0.02 THEN NULL ELSE (random() * 300)::int END) AS u,
       (CASE WHEN random() < 0.01 THEN NULL
             ELSE '2024-01-01'::timestamptz + ((random() * 2000)::int) * interval '1 minute' END) AS ts,
       (CASE WHEN random() < 0.02 THEN NULL
             ELSE (ARRAY['visit', 'view', 'cart', 'buy', 'other'])[1 + (random() * 4)::int] END) AS event
FROM generate_series(1, 3000);
ANALYZE ev;

SELECT is(direct, aggregate, 'random: event names') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: equalities') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event = 'visit', event = 'view', event = 'buy') FROM ev$$);
SELECT is(direct, aggregate, 'random: conditions PostgreSQL evaluates') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, (event = 'visit') IS TRUE, event IN ('view', 'cart'), event = 'buy' OR u = 7) FROM ev$$);
SELECT is(direct, aggregate, 'random: strict_order') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', 'strict_order', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: strict_deduplication') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', 'strict_deduplication', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: funnel_conversion') FROM pg_temp.both(
  $$SELECT funnel_conversion('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: funnel_summary') FROM pg_temp.both(
  $$SELECT funnel_summary('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: funnel_event') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, funnel_event(ts, event = 'visit', event = 'view', event = 'buy')) FROM ev WHERE ts IS NOT NULL$$);
SELECT is(direct, aggregate, 'random: funnel_trends') FROM pg_temp.both(
  $$SELECT funnel_trends('2 hours', 'bucket hour', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: funnel_breakdown') FROM pg_temp.both(
  $$SELECT funnel_breakdown('2 hours', 'breakdown first_touch', u, 'c' || (u % 4), ts, event, ARRAY['visit', 'view', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: paths') FROM pg_temp.both(
  $$SELECT paths(u, ts, event, NULL, NULL, 4, 10) FROM ev$$);
SELECT is(direct, aggregate, 'random: funnel_correlation') FROM pg_temp.both(
  $$SELECT funnel_correlation('2 hours', u, ts, event, ARRAY['visit', 'buy']) FROM ev$$);
SELECT matches(pg_temp.plan_of($$SELECT funnel_trends('2 hours', 'bucket hour', u, ts, event, ARRAY['visit', 'view']) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'funnel_trends: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_breakdown('2 hours', 'breakdown first_touch', u, 'c' || (u % 4), ts, event, ARRAY['visit', 'view']) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'funnel_breakdown: the node');
SELECT matches(pg_temp.plan_of($$SELECT paths(u, ts, event, NULL, NULL, 4, 10) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'paths: the node');
SELECT matches(pg_temp.plan_of($$SELECT funnel_correlation('2 hours', u, ts, event, ARRAY['visit', 'buy']) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'funnel_correlation: the node');
SELECT is(direct, aggregate, 'random: text entities') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', 'user ' || u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: uuid entities') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', md5(u::text)::uuid, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
CREATE TYPE pg_temp.ev_key AS (a int, b int);
SELECT is(direct, aggregate, 'random: composite entities') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', CASE WHEN u IS NOT NULL THEN ROW(u % 7, u)::pg_temp.ev_key END, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: collated entities') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', (CASE WHEN u % 2 = 0 THEN 'A' ELSE 'a' END || u) COLLATE "C", ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev$$);
SELECT is(direct, aggregate, 'random: a WHERE clause') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev WHERE u % 3 <> 0$$);
SELECT is(direct, aggregate, 'random: the steps from a parameter-free expression') FROM pg_temp.both(
  $$SELECT funnel_stage_counts(interval '1 hour' * 2, u, ts, lower(upper(event)), string_to_array('visit,view,cart,buy', ',')) FROM ev$$);
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts(interval '1 hour' * 2, u, ts, lower(upper(event)), string_to_array('visit,view,cart,buy', ',')) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'expressions as arguments: the node');

-- run again for every outer row: a subquery, a LATERAL join, each with its parameter
SELECT is(direct, aggregate, 'a subquery run again for each outer row') FROM pg_temp.both(
  $$SELECT array_agg((SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM ev WHERE u < g * 50) ORDER BY g) FROM generate_series(1, 6) g$$);
SELECT matches(pg_temp.plan_of($$SELECT (SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM ev WHERE u < g * 50) FROM generate_series(1, 6) g$$),
               'SubPlan(.|\n)*Custom Scan \(FunnelAggregate\)', 'the subquery runs in the node');
SELECT is(direct, aggregate, 'a LATERAL subquery') FROM pg_temp.both(
  $$SELECT array_agg(c ORDER BY g) FROM generate_series(1, 6) g,
    LATERAL (SELECT funnel_conversion('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) c FROM ev WHERE u < g * 50) s$$);
SELECT is(direct, aggregate, 'a subquery whose second run has no rows') FROM pg_temp.both(
  $$SELECT array_agg(coalesce((SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view']) FROM ev WHERE u < 500 - g * 500)::text, 'none') ORDER BY g) FROM generate_series(0, 1) g$$);

-- a limit that spills the rows to a temporary file
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(direct, aggregate, 'spilled at 64 kB: event names') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM (SELECT * FROM ev UNION ALL SELECT u + 1000, ts, event FROM ev) s$$);
CREATE TEMP TABLE ev_big AS SELECT u + k * 1000 AS u, ts, event FROM ev, generate_series(0, 9) k;
ANALYZE ev_big;
SELECT is(direct, aggregate, 'spilled at 64 kB: 30,000 rows') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev_big$$);
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev_big$$),
               'Custom Scan \(FunnelAggregate\)', 'the spilled case runs in the node');
SET LOCAL funnel.max_state_memory = '1GB';
-- a table with a dropped column, or a column added with a default: the scan
-- cannot hand over its rows as stored, so the Aggregate runs them
CREATE TEMP TABLE altered AS SELECT u, ts, event, 1 AS extra FROM hand;
ALTER TABLE altered DROP COLUMN extra;
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM altered$$),
                    'FunnelAggregate', 'a dropped column: the Aggregate');
SELECT is(funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']),
          '{3,2,1}'::bigint[], 'a dropped column: the hand-worked answer') FROM altered;
CREATE TEMP TABLE widened AS SELECT u, ts, event FROM hand;
ALTER TABLE widened ADD COLUMN note text DEFAULT 'x';
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM widened$$),
                    'FunnelAggregate', 'a column added with a default: the Aggregate');
SELECT is(funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit', 'view', 'buy']),
          '{3,2,1}'::bigint[], 'a column added with a default: the hand-worked answer') FROM widened;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
-- (a table of the transaction: temporary tables are never read in parallel)
CREATE TABLE direct_aggregate_rows AS SELECT * FROM ev_big;
ANALYZE direct_aggregate_rows;

-- partial aggregates: the node in each process of a parallel plan, serialising
-- its state for the Finalize Aggregate, answers what the Aggregate answers
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event, ARRAY['visit']) FROM direct_aggregate_rows$$),
               'Finalize Aggregate\n(.|\n)*Gather\n(.|\n)*Custom Scan \(FunnelAggregate\)\n *->  Parallel Seq Scan',
               'a parallel plan: the node in each process');
CREATE FUNCTION pg_temp.each_aggregate(t text) RETURNS TABLE (label text, q text) LANGUAGE sql AS $$
  SELECT label, replace(q, 'TABLE', t) FROM (VALUES
    ('event names', $q$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('conditions', $q$SELECT funnel_stage_counts('2 hours', u, ts, (event = 'visit') IS TRUE, event IN ('view', 'cart'), event = 'buy' OR u = 7) FROM TABLE$q$),
    ('strict_order', $q$SELECT funnel_stage_counts('2 hours', 'strict_order', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('funnel_conversion', $q$SELECT funnel_conversion('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('funnel_summary', $q$SELECT funnel_summary('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('funnel_event', $q$SELECT funnel_stage_counts('2 hours', u, funnel_event(ts, event = 'visit', event = 'view', event = 'buy')) FROM TABLE WHERE ts IS NOT NULL$q$),
    ('funnel_trends', $q$SELECT funnel_trends('2 hours', 'bucket hour', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('funnel_breakdown', $q$SELECT funnel_breakdown('2 hours', 'breakdown first_touch', u, 'c' || (u % 4), ts, event, ARRAY['visit', 'view', 'buy']) FROM TABLE$q$),
    ('paths', $q$SELECT paths(u, ts, event, NULL, NULL, 4, 10) FROM TABLE$q$),
    ('funnel_correlation', $q$SELECT funnel_correlation('2 hours', u, ts, event, ARRAY['visit', 'buy']) FROM TABLE$q$),
    ('text entities', $q$SELECT funnel_stage_counts('2 hours', 'user ' || u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$),
    ('collated entities', $q$SELECT funnel_stage_counts('2 hours', (CASE WHEN u % 2 = 0 THEN 'A' ELSE 'a' END || u) COLLATE "C", ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM TABLE$q$)
  ) v(label, q)
$$;
-- every query of the list gets the node, and answers what the Aggregate answers
CREATE FUNCTION pg_temp.check_each(t text, plan_pattern text) RETURNS TABLE (label text, ok boolean, detail text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    b record;
BEGIN
    FOR r IN SELECT * FROM pg_temp.each_aggregate(t) LOOP
        SELECT * INTO b FROM pg_temp.both(r.q);
        label := r.label;
        ok := pg_temp.plan_of(r.q) ~ plan_pattern AND b.direct IS NOT DISTINCT FROM b.aggregate;
        detail := CASE WHEN ok THEN NULL ELSE pg_temp.plan_of(r.q) || E'\nnode: ' || coalesce(b.direct, 'NULL') ||
                                              E'\nAggregate: ' || coalesce(b.aggregate, 'NULL') END;
        RETURN NEXT;
    END LOOP;
END $$;
SELECT is(string_agg(label || ': ' || detail, E'\n'), NULL,
          'a parallel plan: every aggregate in the node, the Aggregate''s answers')
FROM pg_temp.check_each('direct_aggregate_rows', 'Gather(.|\n)*FunnelAggregate') WHERE NOT ok;
SELECT is((SELECT count(*) FROM pg_temp.each_aggregate('x')), 12::bigint, 'twelve aggregates and forms compared');

-- partitionwise: the node over each whole partition, in a serial plan and
-- in a Parallel Append that gives each worker whole partitions
CREATE TABLE direct_aggregate_parts (u int, ts timestamptz, event text) PARTITION BY HASH (u);
CREATE TABLE direct_aggregate_parts_0 PARTITION OF direct_aggregate_parts FOR VALUES WITH (MODULUS 4, REMAINDER 0) WITH (parallel_workers = 0);
CREATE TABLE direct_aggregate_parts_1 PARTITION OF direct_aggregate_parts FOR VALUES WITH (MODULUS 4, REMAINDER 1) WITH (parallel_workers = 0);
CREATE TABLE direct_aggregate_parts_2 PARTITION OF direct_aggregate_parts FOR VALUES WITH (MODULUS 4, REMAINDER 2) WITH (parallel_workers = 0);
CREATE TABLE direct_aggregate_parts_3 PARTITION OF direct_aggregate_parts FOR VALUES WITH (MODULUS 4, REMAINDER 3) WITH (parallel_workers = 0);
INSERT INTO direct_aggregate_parts SELECT * FROM ev_big;
ANALYZE direct_aggregate_parts;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is(string_agg(label || ': ' || detail, E'\n'), NULL,
          'partitionwise, 2 workers: every aggregate in the node over whole partitions, the Aggregate''s answers')
FROM pg_temp.check_each('direct_aggregate_parts', 'Gather(.|\n)*Parallel Append(.|\n)*FunnelAggregate(.|\n)*FunnelAggregate') WHERE NOT ok;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is(string_agg(label || ': ' || detail, E'\n'), NULL,
          'partitionwise, serial: every aggregate in the node, the Aggregate''s answers')
FROM pg_temp.check_each('direct_aggregate_parts', 'Finalize Aggregate\n *->  Append(.|\n)*FunnelAggregate(.|\n)*FunnelAggregate') WHERE NOT ok;
SELECT is(direct, (SELECT aggregate FROM pg_temp.both($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev_big$$)),
          'partitionwise: the plain table''s answer') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM direct_aggregate_parts$$);
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit']) FROM direct_aggregate_parts WHERE u = 7$$),
               'Finalize Aggregate\n *->  Custom Scan \(FunnelAggregate\)\n *->  Seq Scan on direct_aggregate_parts_',
               'partitions pruned to one: the node over it');
SELECT is(direct, aggregate, 'partitions pruned to one: the Aggregate''s answer') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM direct_aggregate_parts WHERE u = 7$$);
SELECT is(direct, aggregate, 'every partition pruned: the Aggregate''s answer') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit']) FROM direct_aggregate_parts WHERE u = 7 AND u = 8$$);
SELECT is(direct, aggregate, 'a subquery run again for each outer row, partitionwise') FROM pg_temp.both(
  $$SELECT array_agg((SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM direct_aggregate_parts WHERE u < g * 50) ORDER BY g) FROM generate_series(1, 6) g$$);
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(direct, aggregate, 'partitionwise, spilled at 64 kB: the Aggregate''s answer') FROM pg_temp.both(
  $$SELECT funnel_trends('2 hours', 'bucket hour', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM direct_aggregate_parts$$);
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(direct, aggregate, 'parallel, spilled at 64 kB: the Aggregate''s answer') FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM direct_aggregate_rows$$);
SET LOCAL funnel.max_state_memory = '1GB';
-- a second level of partitions: PostgreSQL's partial aggregates, as before
CREATE TABLE direct_aggregate_levels (u int, ts timestamptz, event text) PARTITION BY HASH (u);
CREATE TABLE direct_aggregate_levels_0 PARTITION OF direct_aggregate_levels FOR VALUES WITH (MODULUS 2, REMAINDER 0) PARTITION BY RANGE (ts);
CREATE TABLE direct_aggregate_levels_0a PARTITION OF direct_aggregate_levels_0 DEFAULT;
CREATE TABLE direct_aggregate_levels_1 PARTITION OF direct_aggregate_levels FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO direct_aggregate_levels SELECT * FROM ev_big;
ANALYZE direct_aggregate_levels;
SELECT doesnt_match(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit']) FROM direct_aggregate_levels$$),
                    'FunnelAggregate', 'two levels of partitions: the Aggregate');
SELECT is(funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy'])::text,
          (SELECT aggregate FROM pg_temp.both($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'cart', 'buy']) FROM ev_big$$)),
          'two levels of partitions: the plain table''s answer') FROM direct_aggregate_levels;
RESET enable_partitionwise_aggregate;
SET LOCAL max_parallel_workers_per_gather = 0;

-- a prepared statement, run several times from its cached plan
PREPARE direct_counts(int) AS
  SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM ev WHERE u < $1;
EXECUTE direct_counts(100) \gset first_
EXECUTE direct_counts(100) \gset again_
EXECUTE direct_counts(100) \gset third_
SELECT is(:'third_funnel_stage_counts', (SELECT aggregate FROM pg_temp.both(
  $$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view', 'buy']) FROM ev WHERE u < 100$$)),
  'a prepared statement, the third time');
DEALLOCATE direct_counts;

-- errors: the same as under the Aggregate
SELECT throws_ok($$SELECT funnel_stage_counts('-1 hour', u, ts, event, ARRAY['visit']) FROM ev$$,
                 '22023', NULL, 'a negative window: the same error');
SET LOCAL funnel.direct_aggregate = off;
SELECT throws_ok($$SELECT funnel_stage_counts('-1 hour', u, ts, event, ARRAY['visit']) FROM ev$$,
                 '22023', NULL, 'a negative window: the error under the Aggregate');
SET LOCAL funnel.direct_aggregate = on;
SELECT throws_ok($$SELECT funnel_stage_counts('2 hours', 'no_such_mode', u, ts, event, ARRAY['visit']) FROM ev$$,
                 '22023', NULL, 'an unknown mode: the same error');

-- permissions: those of the Aggregate node (EXECUTE on the aggregate)
CREATE ROLE direct_aggregate_reader;
GRANT SELECT ON ev TO direct_aggregate_reader;
REVOKE EXECUTE ON FUNCTION funnel_stage_counts(interval, anyelement, timestamptz, text, text[]) FROM PUBLIC;
SET LOCAL ROLE direct_aggregate_reader;
SELECT throws_ok($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit']) FROM ev$$,
                 '42501', 'permission denied for aggregate funnel_stage_counts',
                 'no EXECUTE on the aggregate: the Aggregate node''s error');
RESET ROLE;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit']) FROM ev$$),
               'Custom Scan \(FunnelAggregate\)', 'the call refused is one the node runs');
GRANT EXECUTE ON FUNCTION funnel_stage_counts(interval, anyelement, timestamptz, text, text[]) TO PUBLIC;

-- a cursor fetches the one row, then nothing
DECLARE direct_cursor CURSOR FOR
  SELECT funnel_stage_counts('2 hours', u, ts, event, ARRAY['visit', 'view']) FROM ev;
SELECT is((SELECT count(*) FROM pg_cursors WHERE name = 'direct_cursor'), 1::bigint, 'a cursor over the node');
MOVE FORWARD 1 IN direct_cursor;
SELECT ok(true, 'its row fetched');
CLOSE direct_cursor;

SELECT * FROM finish();
ROLLBACK;
