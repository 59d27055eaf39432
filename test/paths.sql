-- paths: properties and errors.  The result does not depend on the plan
-- (serial, parallel with serialised states, partitionwise partial
-- aggregation) nor on the order rows arrive in; every error has its
-- SQLSTATE; the state is capped by funnel.max_state_memory.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(17);

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || line || E'\n'; END LOOP;
  RETURN plan;
END $$;

-- 2000 users, 8 event names, 30000 events with ties and repeats
CREATE TABLE paths_ev AS
SELECT (g::bigint * 7919) % 2000 AS u,
       timestamptz '2024-01-01' + ((g::bigint * 104729) % 500000) * interval '1 s' AS ts,
       (ARRAY['home','search','product','cart','checkout','buy','help','home'])[1 + (g * 31 + g / 7) % 8] AS e
FROM generate_series(1, 30000) g;
ANALYZE paths_ev;
CREATE TABLE paths_part (u int, ts timestamptz, e text) PARTITION BY HASH (u);
CREATE TABLE paths_part_0 PARTITION OF paths_part FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE paths_part_1 PARTITION OF paths_part FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE paths_part_2 PARTITION OF paths_part FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO paths_part SELECT * FROM paths_ev;
ANALYZE paths_part;

SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT paths(u, ts, e, 'cart', NULL, 5, 30) AS p_start, paths(u, ts, e, NULL, 'buy', 4, 10) AS p_end,
       paths(u, ts, e) AS p_none, paths(u::text, ts, e, 'cart', NULL, 5, 30) AS p_text
FROM paths_ev;

SELECT ok((SELECT jsonb_array_length(p_start->'edges') = 30 AND (p_start->>'entities')::int > 1000 FROM serial),
          'the test data has more edges than top_n and many entities with a path');
SELECT ok((SELECT p->'edges' @> '[{"from": null}]' OR p->'edges' @> '[{"to": null}]'
           FROM (SELECT paths(u, ts, e, 'cart', NULL, 5, 5) AS p FROM paths_ev) s),
          'top 5 edges fold long-tail nodes into other');
SELECT is((SELECT p_text FROM serial), (SELECT p_start FROM serial), 'text entities give the bigint result');
SELECT is((SELECT paths(u, ts, e, 'cart', NULL, 5, 30) OVER () FROM paths_ev LIMIT 1), (SELECT p_start FROM serial),
          'as a window function (the final function leaves the state as it was)');
SELECT is((SELECT paths(u, ts, e, 'cart', NULL, 5, 30) FROM (SELECT * FROM paths_ev ORDER BY e DESC, ts DESC) s),
          (SELECT p_start FROM serial), 'the result does not depend on the order of the rows');

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT ok(pg_temp.plan_of('SELECT paths(u, ts, e, ''cart'', NULL, 5, 30) FROM paths_ev') ~ 'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)',
          'parallel plan with partial aggregation');
SELECT is((SELECT paths(u, ts, e, 'cart', NULL, 5, 30) FROM paths_ev), (SELECT p_start FROM serial),
          'parallel: start event');
SELECT is((SELECT paths(u, ts, e, NULL, 'buy', 4, 10) FROM paths_ev), (SELECT p_end FROM serial),
          'parallel: end event');
SELECT is((SELECT paths(u, ts, e) FROM paths_ev), (SELECT p_none FROM serial), 'parallel: no anchor');
SELECT is((SELECT paths(u::text, ts, e, 'cart', NULL, 5, 30) FROM paths_ev), (SELECT p_start FROM serial),
          'parallel: text entities');
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is((SELECT paths(u, ts, e, 'cart', NULL, 5, 30) FROM paths_part), (SELECT p_start FROM serial),
          'partitionwise partial aggregation over a partitioned table');
SET LOCAL max_parallel_workers_per_gather = 0;

-- errors and their SQLSTATEs
SELECT throws_ok($$SELECT paths(u, ts, e, 'cart', 'buy', 3, 3) FROM paths_ev$$, '22023',
                 'start_event and end_event cannot both be given', 'both anchors');
SELECT throws_ok($$SELECT paths(u, ts, e, NULL, NULL, 0, 3) FROM paths_ev$$, '22023',
                 'path depth 0 is out of range', 'depth out of range');
SELECT throws_ok($$SELECT paths(u, ts, e, NULL, NULL, 3, 20000) FROM paths_ev$$, '22023',
                 'path top_n 20000 is out of range', 'top_n out of range');
SELECT throws_ok($$SELECT paths(u, ts, e, NULL, NULL, 3, NULL) FROM paths_ev$$, '22004',
                 'path depth and top_n must not be NULL', 'NULL top_n');
SELECT throws_ok($$SELECT paths(u, ts, e, NULL, NULL, 3, (u % 2 + 1)::int) FROM paths_ev$$, '22023',
                 'start_event, end_event, depth and top_n must be the same for every row of a group',
                 'parameters that change between rows');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok($$SELECT paths(g, timestamptz '2024-01-01' + g * interval '1 s', 'e' || g % 10) FROM generate_series(1, 20000) g$$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory',
                 'the state is capped by funnel.max_state_memory');
SELECT * FROM finish();
ROLLBACK;
