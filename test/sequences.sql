-- sequence_match, sequence_count, sequence_next_node: properties (as window
-- functions, sharing one state, parallel plans, the memory cap) and the
-- SQLSTATE of every error.  Exact answers: sql/sequence_*.sql (ClickHouse's
-- cases) and test/sequence_differential.sh (its transcription).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(24);
SET LOCAL timezone = 'UTC';

-- catalog: parallel and window-function ready, every object commented
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'sequence aggregates lacking combine/serialise/deserialise, PARALLEL SAFE or a read-only final function')
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.proname IN ('sequence_match', 'sequence_count', 'sequence_next_node')
   AND (a.aggcombinefn = 0 OR a.aggserialfn = 0 OR a.aggdeserialfn = 0
        OR p.proparallel <> 's' OR a.aggfinalmodify <> 'r');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'sequence and session functions without a comment or not PARALLEL SAFE')
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                 JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'funnel'
 WHERE (p.proname LIKE 'sequence\_%' OR p.proname LIKE 'session\_%')
   AND (obj_description(p.oid, 'pg_proc') IS NULL OR p.proparallel <> 's');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname = 'session_number' AND prokind = 'w'), 1::bigint,
          'session_number is a window function');

SELECT setseed(0.42);
CREATE TEMP TABLE ev AS
SELECT (random() * 50)::int AS u,
       '2024-01-01'::timestamptz + ((random() * 200)::int) * interval '1 minute' AS ts,
       (ARRAY['view', 'cart', 'buy', 'other'])[1 + (random() * 3)::int] AS e
  FROM generate_series(1, 5000);
ANALYZE ev;

-- as a window function: the answer over each prefix equals the aggregate of
-- that prefix (the final function leaves the state usable)
SELECT is((SELECT count(*) FROM (
  SELECT u, ts, sequence_count('(?1).*(?2)', ts, e = 'view', e = 'buy')
                  OVER (PARTITION BY u ORDER BY ts, e RANGE UNBOUNDED PRECEDING) AS c,
         (SELECT sequence_count('(?1).*(?2)', p.ts, p.e = 'view', p.e = 'buy') FROM ev p
           WHERE p.u = ev.u AND (p.ts, p.e) <= (ev.ts, ev.e)) AS want
    FROM ev) x WHERE c IS DISTINCT FROM want), 0::bigint, 'sequence_count over a growing frame = aggregate of the prefix');
SELECT is((SELECT count(*) FROM (
  SELECT sequence_next_node('forward', 'first_match', ts, e, true, e = 'view', e = 'cart')
           OVER (PARTITION BY u ORDER BY ts, e RANGE UNBOUNDED PRECEDING) AS v,
         (SELECT sequence_next_node('forward', 'first_match', p.ts, p.e, true, p.e = 'view', p.e = 'cart') FROM ev p
           WHERE p.u = ev.u AND (p.ts, p.e) <= (ev.ts, ev.e)) AS want
    FROM ev) x WHERE v IS DISTINCT FROM want), 0::bigint, 'sequence_next_node over a growing frame = aggregate of the prefix');

-- empty values only (no byte of values is ever stored), two rows at one
-- time (compared by their values): hand-worked, the head is the first row
-- and the next node the next row's empty value
SELECT is(sequence_next_node('forward', 'head', ts, v, true, v = ''), '',
          'sequence_next_node over empty values only')
FROM (VALUES (timestamptz '2024-01-01 10:00', ''), ('2024-01-01 10:01', ''),
             ('2024-01-01 10:01', '')) x(ts, v);

-- sequence_match and sequence_count share one state in one query
SELECT is((SELECT count(*) FROM (
  SELECT u, sequence_match('(?1)(?t<=3600).*(?2)', ts, e = 'view', e = 'buy') AS m,
            sequence_count('(?1)(?t<=3600).*(?2)', ts, e = 'view', e = 'buy') AS c FROM ev GROUP BY u) a
  JOIN (SELECT u, sequence_match('(?1)(?t<=3600).*(?2)', ts, e = 'view', e = 'buy') AS m FROM ev GROUP BY u) b USING (u)
  JOIN (SELECT u, sequence_count('(?1)(?t<=3600).*(?2)', ts, e = 'view', e = 'buy') AS c FROM ev GROUP BY u) d USING (u)
 WHERE a.m IS DISTINCT FROM b.m OR a.c IS DISTINCT FROM d.c OR a.m <> (a.c > 0)), 0::bigint,
  'sequence_match and sequence_count in one query (one shared state) agree with each alone, and match = count > 0');

-- the row order of the input does not matter
SELECT is((SELECT count(*) FROM (
  SELECT u, sequence_count('(?1).(?2)', ts, e = 'view', e = 'cart') AS c FROM (SELECT * FROM ev ORDER BY ts DESC) x GROUP BY u
  EXCEPT SELECT u, sequence_count('(?1).(?2)', ts, e = 'view', e = 'cart') FROM (SELECT * FROM ev ORDER BY random()) y GROUP BY u) z),
  0::bigint, 'input order does not change sequence_count');

-- parallel plans: partial states serialised, combined, deserialised
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; p text := '';
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP p := p || r || E'\n'; END LOOP;
  RETURN p;
END $$;
CREATE TABLE sequences_par AS SELECT * FROM ev;
ANALYZE sequences_par;
CREATE TEMP TABLE q (sql text);
INSERT INTO q VALUES ($$
SELECT u, sequence_match('(?1).*(?2)(?t<600)(?3)', ts, e = 'view', e = 'cart', e = 'buy') AS m,
       sequence_count('(?1).*(?3)', ts, e = 'view', e = 'cart', e = 'buy') AS c,
       sequence_next_node('backward', 'last_match', ts, e, e <> 'other', e = 'buy', e = 'cart') AS v
  FROM sequences_par GROUP BY u $$);
SET LOCAL max_parallel_workers_per_gather = 0;
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE serial_answer AS ' || (SELECT sql FROM q); END $$;
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2; SET LOCAL enable_hashagg = off;
SELECT alike(pg_temp.plan_of((SELECT sql FROM q)), '%Partial GroupAggregate%', 'the plan is parallel');
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE parallel_answer AS ' || (SELECT sql FROM q); END $$;
SELECT is((SELECT count(*) FROM (SELECT * FROM serial_answer EXCEPT SELECT * FROM parallel_answer) d), 0::bigint,
          'parallel plan: same answers as serial');
SELECT is((SELECT count(*) FROM parallel_answer), (SELECT count(DISTINCT u) FROM ev), 'parallel plan: every group');
RESET max_parallel_workers_per_gather; RESET parallel_setup_cost; RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size; RESET enable_hashagg;
DROP TABLE sequences_par;

-- funnel.max_state_memory caps the row lists
SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok($$ SELECT sequence_count('(?1)', '2024-01-01'::timestamptz + g * interval '1 s', true) FROM generate_series(1, 100000) g $$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory', 'sequence_count: memory cap');
SELECT throws_ok($$ SELECT sequence_next_node('forward', 'head', '2024-01-01'::timestamptz + g * interval '1 s', g::text, true) FROM generate_series(1, 100000) g $$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory', 'sequence_next_node: memory cap');
RESET funnel.max_state_memory;
SELECT is((SELECT sequence_count('(?1)', '2024-01-01'::timestamptz + g * interval '1 s', true) FROM generate_series(1, 100000) g),
          100000::bigint, 'under the default cap the same query works');

-- errors: SQLSTATEs
SELECT throws_ok($$ SELECT sequence_match('(?1', ts, true) FROM ev $$, '22023', NULL, 'unclosed (?: 22023');
SELECT throws_ok($$ SELECT sequence_match('(?t<1)(?t<1)', ts, true) FROM ev $$, '22023', NULL, 'two time conditions: 22023');
SELECT throws_ok($$ SELECT sequence_count('(?2)', ts, true) FROM ev $$, '22003', NULL, 'condition out of range: 22003');
SELECT throws_ok($$ SELECT sequence_count('(?1)', ts, VARIADIC array_fill(true, ARRAY[33])) FROM ev $$, '54000', NULL,
                 'more than 32 conditions: 54000');
SELECT throws_ok($$ SELECT sequence_count(NULL, ts, true) FROM ev $$, '22004', NULL, 'NULL pattern: 22004');
SELECT throws_ok($$ SELECT sequence_count('(?1)', ts, VARIADIC NULL::boolean[]) FROM ev $$, '22004', NULL, 'NULL conditions: 22004');
SELECT throws_ok($$ SELECT sequence_next_node('up', 'head', ts, e, true) FROM ev $$, '22023', NULL, 'direction: 22023');
SELECT throws_ok($$ SELECT sequence_next_node('forward', 'tail', ts, e, true) FROM ev $$, '22023', NULL, 'forward tail: 22023');
SELECT throws_ok($$ SELECT sequence_next_node('forward', 'last_match', ts, e, true) FROM ev $$, '22023', NULL,
                 'last_match without events: 22023');
SELECT throws_ok($$ SELECT sequence_count('(?1).*(?2).*(?1)', to_timestamp(i), i = 0, i > 0) FROM generate_series(0, 5000) i $$,
                 '54000', 'sequence pattern matching exceeded 1000000 steps', 'the iteration limit: 54000');
SELECT * FROM finish();
ROLLBACK;
