-- Properties of the whole-table funnel aggregates and time_to_convert on
-- random data, each checked against a second, obviously correct way to get
-- the same answer:
--  * funnel_stage_counts(w, e, ...) = the two-level query: one window_funnel
--    level per entity (GROUP BY e), then count the levels >= k;
--  * funnel_conversion = the ratios of those counts;
--  * GROUP BY, parallel plans and partitionwise aggregation = the serial,
--    ungrouped, unpartitioned answers;
--  * time_to_convert = a PL/pgSQL walk written from doc/window_funnel.md,
--    non-NULL exactly when window_funnel reaches the target step, and the
--    journey function = the aggregate.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(354);
SET LOCAL timezone = 'UTC';

-- ---------------------------------------------------------------------------
-- Catalog: every one of these aggregates can run in parallel (combine,
-- serialise and deserialise for an internal state, PARALLEL SAFE) and as a
-- window function (the final function only reads the state); every
-- signature has a comment.
-- ---------------------------------------------------------------------------
-- at least 7 + 7 (three step inputs, with and without mode, and from
-- levels) + 9 (fixed-arity overloads of the condition forms add more)
SELECT cmp_ok(count(*)::int, '>=', 23, 'funnel_stage_counts, funnel_conversion and time_to_convert aggregates')
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.proname IN ('funnel_stage_counts', 'funnel_conversion', 'time_to_convert');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL,
          'aggregates lacking combine/serialise/deserialise, PARALLEL SAFE or a read-only final function')
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.proname IN ('funnel_stage_counts', 'funnel_conversion', 'time_to_convert')
  AND (a.aggcombinefn = 0
       OR (a.aggtranstype = 'internal'::regtype AND (a.aggserialfn = 0 OR a.aggdeserialfn = 0))
       OR p.proparallel <> 's' OR a.aggfinalmodify <> 'r');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL,
          'functions and aggregates without a comment')
FROM pg_proc p
WHERE (p.proname IN ('funnel_stage_counts', 'funnel_conversion', 'time_to_convert')
       OR p.proname LIKE 'funnel\_entities\_%' OR p.proname LIKE 'funnel\_level\_histogram\_%'
       OR p.proname LIKE 'time\_to\_convert\_%')
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL,
          'support functions that are not PARALLEL SAFE')
FROM pg_proc p
WHERE (p.proname LIKE 'funnel\_entities\_%' OR p.proname LIKE 'funnel\_level\_histogram\_%'
       OR p.proname LIKE 'time\_to\_convert\_%' OR p.proname = 'funnel_conversion')
  AND p.proparallel <> 's';

-- ---------------------------------------------------------------------------
-- Data: 3000 entities, 1..12 rows each, times on a 1-minute grid over 40
-- minutes (many ties), window 10 minutes.  Events overlap: 'ab' matches
-- steps 1 and 2, 'bc' steps 2 and 3; 'x' matches nothing.  About 1% of the
-- rows have a NULL entity, 1% a NULL time, 3% a NULL third condition.
-- ---------------------------------------------------------------------------
SELECT setseed(0.4242);
CREATE TABLE sc_src AS
SELECT row_number() OVER () AS id, e, ts, ev
FROM (
  SELECT e,
         CASE WHEN random() < 0.01 THEN NULL
              ELSE '2024-05-01'::timestamptz + floor(random() * 40) * interval '1 minute' END AS ts,
         (ARRAY['a','a','a','b','b','b','c','c','d','d','x','ab','bc'])[1 + floor(random() * 13)::int] AS ev
  FROM generate_series(1, 3000) e,
       LATERAL generate_series(1, 1 + floor(random() * 12)::int) r
) q;
CREATE TABLE sc_events AS
SELECT id,
       CASE WHEN random() < 0.01 THEN NULL ELSE e END AS e,
       ts, ev,
       id % 500 AS grp,
       ev IN ('a', 'ab') AS c1,
       ev IN ('b', 'ab', 'bc') AS c2,
       CASE WHEN random() < 0.03 THEN NULL ELSE ev IN ('c', 'bc') END AS c3,
       ev = 'd' AS c4
FROM sc_src;
ALTER TABLE sc_events
  ADD COLUMN e_big bigint, ADD COLUMN e_int integer, ADD COLUMN e_text text, ADD COLUMN e_uuid uuid;
UPDATE sc_events SET e_big = e * 1000000007::bigint, e_int = e, e_text = 'user-' || e,
                     e_uuid = md5(e::text)::uuid;
ANALYZE sc_events;

SELECT cmp_ok((SELECT count(*) FROM sc_events), '>', 15000::bigint, 'enough rows');

-- The step inputs of one funnel (steps 1..4), as SQL fragments.  The
-- event-name form names 'b' twice, so a 'b' row matches steps 2 and 3.
CREATE FUNCTION pg_temp.step_args(form text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE form
    WHEN 'bools' THEN 'ts, c1, c2, c3, c4'
    WHEN 'variadic' THEN 'ts, VARIADIC ARRAY[c1, c2, c3, c4]'
    WHEN 'names' THEN 'ts, ev, ARRAY[''a'',''b'',''b'',''c'']'
    WHEN 'event' THEN 'funnel_event(ts, c1, c2, c3, c4)'
  END $$;
CREATE FUNCTION pg_temp.mode_arg(mode text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN mode = 'default' THEN '' ELSE quote_literal(mode) || ', ' END $$;
-- strict_once depends on the order rows arrive in: fix it in both.
CREATE FUNCTION pg_temp.order_by(mode text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN mode LIKE '%strict_once%' THEN ' ORDER BY id' ELSE '' END $$;

-- One pass: funnel_stage_counts over tbl (optionally GROUP BY grp).
CREATE FUNCTION pg_temp.one_pass(agg text, tbl text, form text, mode text, ent text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT format('SELECT %s(''10 minutes'', %s%s, %s%s) FROM %s',
                agg, pg_temp.mode_arg(mode), ent, pg_temp.step_args(form),
                pg_temp.order_by(mode), tbl) $$;
-- Two levels: window_funnel per entity, then counts of levels >= k.
CREATE FUNCTION pg_temp.two_level(tbl text, form text, mode text, ent text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT format('SELECT ARRAY[count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
                              count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)]
                 FROM (SELECT window_funnel(''10 minutes'', %s%s%s) AS level
                       FROM %s WHERE %s IS NOT NULL GROUP BY %s) per_entity',
                pg_temp.mode_arg(mode), pg_temp.step_args(form), pg_temp.order_by(mode),
                tbl, ent, ent) $$;
CREATE FUNCTION pg_temp.run(q text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE q INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.run_f(q text) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE r float8[];
BEGIN
  EXECUTE q INTO r;
  RETURN r;
END $$;

CREATE TABLE modes (mode text);
INSERT INTO modes VALUES ('default'), ('strict_deduplication'), ('strict_order'),
  ('strict_increase'), ('strict_order, allow_reentry'),
  ('strict_once'), ('strict_once, strict_deduplication'), ('strict_order,strict_once');
CREATE TABLE forms (form text);
-- bools: four conditions (a fixed-arity overload); variadic: the same as
-- an explicit boolean[]
INSERT INTO forms VALUES ('bools'), ('variadic'), ('names'), ('event');
CREATE TABLE ents (ent text);
INSERT INTO ents VALUES ('e_big'), ('e_int'), ('e_text'), ('e_uuid');

-- The data must make the test meaningful: every stage reached by someone,
-- fewer at each stage, and levels differing between modes.
SELECT ok(c[1] > c[2] AND c[2] > c[3] AND c[3] > c[4] AND c[4] > 20,
          'default counts decrease and all stages are reached: ' || c::text)
FROM (SELECT pg_temp.run(pg_temp.two_level('sc_events', 'bools', 'default', 'e_big')) c) s;
SELECT ok(count(DISTINCT pg_temp.run(pg_temp.two_level('sc_events', 'bools', mode, 'e_big'))) >= 5,
          'the modes give different counts on this data')
FROM modes;

-- one pass = two levels, for every form, mode and entity type
SELECT is(pg_temp.run(pg_temp.one_pass('funnel_stage_counts', 'sc_events', form, mode, ent)),
          pg_temp.run(pg_temp.two_level('sc_events', form, mode, ent)),
          format('stage counts = two-level (%s, %s, %s)', form, mode, ent))
FROM forms, modes, ents
ORDER BY form, mode, ent;

-- funnel_conversion = the ratios of the stage counts, and the level-based
-- aggregates agree with both.
SELECT is(pg_temp.run_f(pg_temp.one_pass('funnel_conversion', 'sc_events', form, mode, 'e_text')),
          (SELECT array_agg(CASE WHEN k = 1 THEN CASE WHEN c[1] > 0 THEN 1::float8 END
                                 ELSE c[k]::float8 / NULLIF(c[k - 1], 0) END ORDER BY k)
           FROM (SELECT pg_temp.run(pg_temp.one_pass('funnel_stage_counts', 'sc_events', form, mode, 'e_text')) c) s,
                generate_series(1, 4) k),
          format('conversion = ratios of the counts (%s, %s)', form, mode))
FROM forms, modes WHERE mode IN ('default', 'strict_order')
ORDER BY form, mode;
SELECT is((SELECT funnel_conversion(level, 4) FROM (
             SELECT window_funnel('10 minutes', ts, c1, c2, c3, c4) AS level
             FROM sc_events WHERE e IS NOT NULL GROUP BY e) s),
          (SELECT funnel_conversion('10 minutes', e, ts, c1, c2, c3, c4) FROM sc_events),
          'funnel_conversion(level, steps) = funnel_conversion over raw rows');
SELECT is((SELECT funnel_conversion(funnel_stage_counts('10 minutes', e, ts, c1, c2, c3, c4)) FROM sc_events),
          (SELECT funnel_conversion('10 minutes', e, ts, c1, c2, c3, c4) FROM sc_events),
          'funnel_conversion(bigint[]) of the counts = funnel_conversion over raw rows');
SELECT is((SELECT funnel_stage_counts(level, 4) FROM (
             SELECT window_funnel('10 minutes', ts, c1, c2, c3, c4) AS level
             FROM sc_events WHERE e IS NOT NULL GROUP BY e) s),
          (SELECT funnel_stage_counts('10 minutes', e, ts, c1, c2, c3, c4) FROM sc_events),
          'funnel_stage_counts(level, steps) = one pass');

-- ---------------------------------------------------------------------------
-- As window functions: running stage counts over 10-minute buckets (rows
-- with a NULL time form the last bucket) = the aggregate over every row up
-- to that bucket.  The final function runs on a state that keeps growing.
-- ---------------------------------------------------------------------------
CREATE TABLE sc_b AS
SELECT *, floor(extract(epoch FROM ts - '2024-05-01 00:00+00') / 600)::int AS b FROM sc_events;
SELECT results_eq(
  format($$SELECT DISTINCT b, funnel_stage_counts('10 minutes', %s%s, %s) OVER (ORDER BY b)
           FROM sc_b ORDER BY b$$, pg_temp.mode_arg(mode), ent, pg_temp.step_args(form)),
  format($$SELECT bs.b, (SELECT funnel_stage_counts('10 minutes', %s%s, %s)
                          FROM sc_b WHERE sc_b.b <= bs.b OR bs.b IS NULL)
           FROM (SELECT DISTINCT b FROM sc_b) bs ORDER BY bs.b$$, pg_temp.mode_arg(mode), ent, pg_temp.step_args(form)),
  format('running stage counts OVER (ORDER BY bucket) = counts up to each bucket (%s, %s, %s)', form, mode, ent))
FROM forms, modes, (VALUES ('e_big'), ('e_text')) e(ent)
WHERE mode IN ('default', 'strict_deduplication', 'strict_order')
ORDER BY form, mode, ent;
SELECT results_eq(
  $$SELECT DISTINCT b, funnel_conversion('10 minutes', e_int, ts, ev, ARRAY['a','b','b','c']) OVER (ORDER BY b)
    FROM sc_b ORDER BY b$$,
  $$SELECT bs.b, (SELECT funnel_conversion('10 minutes', e_int, ts, ev, ARRAY['a','b','b','c'])
                  FROM sc_b WHERE sc_b.b <= bs.b OR bs.b IS NULL)
    FROM (SELECT DISTINCT b FROM sc_b) bs ORDER BY bs.b$$,
  'running funnel_conversion = conversion up to each bucket');
-- time_to_convert per entity, row by row (300 entities)
SELECT is((SELECT count(*)::int FROM (
             SELECT id, e_big,
                    time_to_convert('10 minutes', '', 3, ts, c1, c2, c3, c4)
                      OVER (PARTITION BY e_big ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
             FROM sc_events WHERE e <= 300) r
           WHERE running IS DISTINCT FROM (
             SELECT time_to_convert('10 minutes', '', 3, ts, c1, c2, c3, c4)
             FROM sc_events s WHERE s.e_big = r.e_big AND s.id <= r.id)), 0,
          'running time_to_convert OVER (PARTITION BY entity ORDER BY id) = aggregate over the rows so far');

-- ---------------------------------------------------------------------------
-- GROUP BY: 500 groups (rows of one entity spread over several groups).
-- ---------------------------------------------------------------------------
SELECT results_eq(
  format($$SELECT grp, funnel_stage_counts('10 minutes', %s e_text, %s%s) FROM sc_events GROUP BY grp ORDER BY grp$$,
         pg_temp.mode_arg(mode), pg_temp.step_args(form), pg_temp.order_by(mode)),
  -- with funnel_event input a group's array ends at the highest step any
  -- of its rows names (a group without step 4 rows has 3 elements)
  format($$SELECT grp, (ARRAY[count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
                              count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)])[1:%s]
           FROM (SELECT grp, window_funnel('10 minutes', %s%s%s) AS level,
                        max(CASE WHEN ts IS NULL THEN 0 WHEN c4 THEN 4 WHEN c3 THEN 3
                                 WHEN c2 THEN 2 WHEN c1 THEN 1 ELSE 0 END) AS highest
                 FROM sc_events WHERE e IS NOT NULL GROUP BY grp, e_text) s
           GROUP BY grp ORDER BY grp$$,
         CASE WHEN form = 'event' THEN 'max(highest)' ELSE '4' END,
         pg_temp.mode_arg(mode), pg_temp.step_args(form), pg_temp.order_by(mode)),
  format('500 groups = per-group two-level (%s, %s)', form, mode))
FROM forms, modes WHERE mode IN ('default', 'strict_deduplication', 'strict_once')
ORDER BY form, mode;
SELECT is((SELECT count(DISTINCT grp) FROM sc_events)::int, 500, '500 groups');

-- ---------------------------------------------------------------------------
-- Parallel plans: every row goes through a worker (leader does not
-- participate), so states are serialised, deserialised and combined.
-- Tables: rows in time order (one entity's rows spread over both workers)
-- and rows clustered by entity.
-- ---------------------------------------------------------------------------
CREATE TABLE sc_by_time AS SELECT * FROM sc_events ORDER BY ts, id;
CREATE TABLE sc_by_entity AS SELECT * FROM sc_events ORDER BY e, ts, id;
-- a few copies of the rows so that each worker gets many pages
INSERT INTO sc_by_time SELECT * FROM sc_by_time;
INSERT INTO sc_by_entity SELECT * FROM sc_by_entity;
ANALYZE sc_by_time;
ANALYZE sc_by_entity;

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; l text;
BEGIN
  r := '';
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    r := r || l || E'\n';
  END LOOP;
  RETURN r;
END $$;

-- serial answers first
CREATE TABLE serial_answers AS
SELECT tbl, form, mode, ent,
       pg_temp.run(pg_temp.one_pass('funnel_stage_counts', tbl, form, mode, ent)) AS counts
FROM (VALUES ('sc_by_time'), ('sc_by_entity')) t(tbl), forms, modes,
     (VALUES ('e_big'), ('e_text'), ('e_uuid')) e(ent)
WHERE mode NOT LIKE '%strict_once%';
CREATE TABLE serial_groups AS
SELECT grp, funnel_stage_counts('10 minutes', e_text, ts, c1, c2, c3, c4) AS counts
FROM sc_by_time GROUP BY grp;

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;

SELECT ok(p ~ 'Gather' AND p ~ '(Partial Aggregate|FunnelAggregate)' AND p ~ 'Workers Launched: [12]',
          'parallel plan with partial aggregation (' || tbl || ')')
FROM (VALUES ('sc_by_time'), ('sc_by_entity')) t(tbl),
     LATERAL pg_temp.plan_of(pg_temp.one_pass('funnel_stage_counts', tbl, 'bools', 'default', 'e_text')) p;
SELECT ok(pg_temp.plan_of($$SELECT grp, funnel_stage_counts('10 minutes', e_text, ts, c1, c2, c3, c4)
                            FROM sc_by_time GROUP BY grp$$) ~ 'Partial (Hash|Group)Aggregate',
          'parallel plan with partial grouped aggregation');

-- serial = the two-level answer: every row twice changes no level, except
-- under strict_deduplication, where the copy of a step-k row (k > 1) at the
-- same instant is a repeated step k and stops the walk
SELECT is(counts, pg_temp.run(pg_temp.two_level('sc_events', form, mode, ent)),
          format('doubled rows = two-level (%s, %s, %s, %s)', tbl, form, mode, ent))
FROM serial_answers
WHERE ent = 'e_big' AND tbl = 'sc_by_time' AND form = 'bools' AND mode NOT LIKE '%dedup%';
SELECT is(counts[3:4], '{0,0}',
          'doubled rows under strict_deduplication: nobody passes step 2 (' || tbl || ')')
FROM serial_answers
WHERE ent = 'e_big' AND form = 'bools' AND mode = 'strict_deduplication';
SELECT is(pg_temp.run(pg_temp.one_pass('funnel_stage_counts', tbl, form, mode, ent)), counts,
          format('parallel = serial (%s, %s, %s, %s)', tbl, form, mode, ent))
FROM serial_answers
ORDER BY tbl, form, mode, ent;
SELECT results_eq(
  $$SELECT grp, funnel_stage_counts('10 minutes', e_text, ts, c1, c2, c3, c4) FROM sc_by_time GROUP BY grp ORDER BY grp$$,
  $$SELECT grp, counts FROM serial_groups ORDER BY grp$$,
  'parallel GROUP BY = serial GROUP BY');
-- an entity computed per row as an expanded array (array_append returns
-- one): the state must keep a flat copy, not a pointer into the row's memory
SELECT is(pg_temp.run($$SELECT funnel_stage_counts('10 minutes',
                          CASE WHEN e IS NOT NULL THEN array_append(ARRAY[e], 0::bigint) END,
                          ts, c1, c2, c3, c4) FROM sc_by_time$$),
          (SELECT counts FROM serial_answers
           WHERE tbl = 'sc_by_time' AND form = 'bools' AND mode = 'default' AND ent = 'e_big'),
          'parallel, entity an expanded array = serial');
-- time_to_convert and funnel_conversion in parallel too
SELECT is((SELECT funnel_conversion('10 minutes', e_uuid, ts, c1, c2, c3, c4) FROM sc_by_time),
          (SELECT funnel_conversion(c) FROM serial_answers s(tbl, form, mode, ent, c)
           WHERE tbl = 'sc_by_time' AND form = 'bools' AND mode = 'default' AND ent = 'e_uuid'),
          'parallel funnel_conversion = serial');
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;

-- ---------------------------------------------------------------------------
-- Partitionwise aggregation over a table hash-partitioned by entity.
-- ---------------------------------------------------------------------------
CREATE TABLE sc_parted (LIKE sc_events) PARTITION BY HASH (e_big);
CREATE TABLE sc_parted_0 PARTITION OF sc_parted FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE sc_parted_1 PARTITION OF sc_parted FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE sc_parted_2 PARTITION OF sc_parted FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE sc_parted_3 PARTITION OF sc_parted FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO sc_parted SELECT * FROM sc_events;
ANALYZE sc_parted;
SET LOCAL enable_partitionwise_aggregate = on;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT ok(pg_temp.plan_of(pg_temp.one_pass('funnel_stage_counts', 'sc_parted', 'bools', 'default', 'e_big'))
            ~ '(?s)Finalize Aggregate.*Append.*(Partial Aggregate|FunnelAggregate).*(Partial Aggregate|FunnelAggregate)',
          'partitionwise plan: partial aggregates per partition');
SELECT is(pg_temp.run(pg_temp.one_pass('funnel_stage_counts', 'sc_parted', form, mode, ent)),
          pg_temp.run(pg_temp.one_pass('funnel_stage_counts', 'sc_events', form, mode, ent)),
          format('partitionwise = plain table (%s, %s, %s)', form, mode, ent))
FROM forms, modes, (VALUES ('e_big'), ('e_text')) e(ent)
WHERE mode IN ('default', 'strict_order', 'strict_increase')
ORDER BY form, mode, ent;
SELECT results_eq(
  $$SELECT grp, funnel_stage_counts('10 minutes', e_big, ts, ev, ARRAY['a','b','b','c']) FROM sc_parted GROUP BY grp ORDER BY grp$$,
  $$SELECT grp, funnel_stage_counts('10 minutes', e_big, ts, ev, ARRAY['a','b','b','c']) FROM sc_events GROUP BY grp ORDER BY grp$$,
  'partitionwise GROUP BY grp = plain table');
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;

-- ---------------------------------------------------------------------------
-- time_to_convert against a reference walk written from the spec (all modes
-- but strict_once): for each entity, the level and the time at which each
-- step was first reached on the chain that reached it.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ref_walk(win interval, mode text, tss timestamptz[], steps bool[],
                                 nsteps int, OUT level int, OUT elapsed interval[])
LANGUAGE plpgsql AS $$
DECLARE
  dedup bool := mode LIKE '%strict_deduplication%';
  sorder bool := mode LIKE '%strict_order%';
  reentry bool := mode LIKE '%allow_reentry%';
  incr bool := mode LIKE '%strict_increase%';
  start timestamptz[];       -- start[k]: chain start held by step k
  reached timestamptz[];     -- reached[k]: when step k was reached
  en record;
  s timestamptz;
BEGIN
  elapsed := array_fill(NULL::interval, ARRAY[nsteps]);
  start := array_fill(NULL::timestamptz, ARRAY[nsteps]);
  reached := array_fill(NULL::timestamptz, ARRAY[nsteps]);
  -- entries (ts, k) for every true condition, (ts, 0) for rows matching no
  -- step under strict_order; walked in (ts, k) order
  FOR en IN
    SELECT t, k FROM (
      SELECT tss[i] AS t, k
      FROM generate_subscripts(tss, 1) i, generate_series(1, nsteps) k
      WHERE tss[i] IS NOT NULL AND steps[(i - 1) * nsteps + k]
      UNION ALL
      SELECT tss[i], 0 FROM generate_subscripts(tss, 1) i
      WHERE sorder AND tss[i] IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM generate_series(1, nsteps) k WHERE steps[(i - 1) * nsteps + k])
    ) q ORDER BY t, k
  LOOP
    IF en.k = 0 THEN
      EXIT WHEN start[1] IS NOT NULL;
      CONTINUE;
    END IF;
    IF en.k = 1 THEN
      start[1] := en.t;
      reached[1] := en.t;
      elapsed[1] := coalesce(elapsed[1], interval '0');
      CONTINUE;
    END IF;
    EXIT WHEN dedup AND start[en.k] IS NOT NULL;
    IF start[en.k - 1] IS NULL THEN
      EXIT WHEN sorder AND NOT reentry AND start[1] IS NOT NULL;
      CONTINUE;
    END IF;
    s := start[en.k - 1];
    CONTINUE WHEN en.t > s + win;
    CONTINUE WHEN incr AND NOT (reached[en.k - 1] < en.t);
    start[en.k] := s;
    reached[en.k] := en.t;
    elapsed[en.k] := coalesce(elapsed[en.k], en.t - s);
    EXIT WHEN en.k = nsteps;
  END LOOP;
  level := 0;
  FOR i IN 1 .. nsteps LOOP
    IF start[i] IS NOT NULL THEN level := i; END IF;
  END LOOP;
END $$;

-- per entity (bigint): the reference walk and every form of the aggregate,
-- for each mode ('' is the default; strict_once excluded: the reference
-- does not do it)
CREATE TABLE ttc AS
WITH per_entity AS (
  SELECT m.mode, s.e_big,
         array_agg(s.ts ORDER BY s.id) AS tss,
         array_agg(ARRAY[coalesce(s.c1, false), coalesce(s.c2, false),
                         coalesce(s.c3, false), coalesce(s.c4, false)] ORDER BY s.id) AS conds,
         window_funnel('10 minutes', m.mode, s.ts, s.c1, s.c2, s.c3, s.c4) AS wf_level,
         time_to_convert('10 minutes', m.mode, s.ts, s.c1, s.c2, s.c3, s.c4) AS t_full,
         time_to_convert('10 minutes', m.mode, 1, s.ts, s.c1, s.c2, s.c3, s.c4) AS t1,
         time_to_convert('10 minutes', m.mode, 2, s.ts, s.c1, s.c2, s.c3, s.c4) AS t2,
         time_to_convert('10 minutes', m.mode, 3, s.ts, s.c1, s.c2, s.c3, s.c4) AS t3,
         time_to_convert('10 minutes', m.mode, 4, s.ts, s.c1, s.c2, s.c3, s.c4) AS t4,
         time_to_convert('10 minutes', m.mode, 4, s.ts, VARIADIC ARRAY[s.c1, s.c2, s.c3, s.c4]) AS var_t4,
         time_to_convert('10 minutes', m.mode, s.ts, VARIADIC ARRAY[s.c1, s.c2, s.c3, s.c4]) AS var_full,
         time_to_convert('10 minutes', m.mode, 4, funnel_event(s.ts, s.c1, s.c2, s.c3, s.c4)) AS ev_t4,
         time_to_convert('10 minutes', m.mode, 2, funnel_event(s.ts, s.c1, s.c2, s.c3, s.c4)) AS ev_t2,
         time_to_convert('10 minutes', m.mode, funnel_event(s.ts, s.c1, s.c2, s.c3, s.c4)) AS ev_default,
         time_to_convert('10 minutes',
                         array_agg(funnel_event(s.ts, s.c1, s.c2, s.c3, s.c4) ORDER BY s.id DESC),
                         m.mode) AS journey_default,
         time_to_convert('10 minutes',
                         array_agg(funnel_event(s.ts, s.c1, s.c2, s.c3, s.c4) ORDER BY s.id),
                         m.mode, 3) AS journey_t3,
         max(CASE WHEN s.ts IS NULL THEN NULL WHEN s.c4 THEN 4 WHEN s.c3 THEN 3
                  WHEN s.c2 THEN 2 WHEN s.c1 THEN 1 END) AS highest_step
  FROM sc_events s,
       (VALUES (''), ('strict_deduplication'), ('strict_order'),
               ('strict_increase'), ('strict_order, allow_reentry')) m(mode)
  WHERE s.e_big IS NOT NULL
  GROUP BY m.mode, s.e_big
)
SELECT p.*, (pg_temp.ref_walk('10 minutes', mode, tss, (SELECT array_agg(b ORDER BY o) FROM unnest(conds) WITH ORDINALITY u(b, o)), 4)).*
FROM per_entity p;
SELECT is((SELECT count(*) FROM ttc), 5 * (SELECT count(DISTINCT e_big) FROM sc_events),
          'one row per entity and mode');

SELECT is((SELECT count(*)::int FROM ttc WHERE level IS DISTINCT FROM wf_level), 0,
          'reference walk level = window_funnel level on every entity and mode');
SELECT is((SELECT count(*)::int FROM ttc
           WHERE t_full IS DISTINCT FROM elapsed[4] OR t1 IS DISTINCT FROM elapsed[1]
              OR t2 IS DISTINCT FROM elapsed[2] OR t3 IS DISTINCT FROM elapsed[3]
              OR t4 IS DISTINCT FROM elapsed[4]), 0,
          'time_to_convert (default target and to_step 1..4) = reference walk');
SELECT is((SELECT count(*)::int FROM ttc
           WHERE (t_full IS NOT NULL) <> (wf_level >= 4) OR (t1 IS NOT NULL) <> (wf_level >= 1)
              OR (t2 IS NOT NULL) <> (wf_level >= 2) OR (t3 IS NOT NULL) <> (wf_level >= 3)), 0,
          'time_to_convert is non-NULL exactly when window_funnel reaches the target');
SELECT ok((SELECT count(*) FROM ttc WHERE t_full IS NOT NULL) > 100
          AND (SELECT count(*) FROM ttc WHERE t_full > '0') > 50
          AND (SELECT count(*) FROM ttc WHERE t2 IS NOT NULL AND t_full IS NULL) > 100,
          'the data has conversions, non-zero times and partial funnels');
SELECT is((SELECT count(*)::int FROM ttc WHERE var_t4 IS DISTINCT FROM t4 OR var_full IS DISTINCT FROM t_full), 0,
          'VARIADIC boolean[] form = fixed-arity form');
SELECT is((SELECT count(*)::int FROM ttc WHERE ev_t4 IS DISTINCT FROM t4 OR ev_t2 IS DISTINCT FROM t2), 0,
          'funnel_event form with to_step = conditions form');
SELECT is((SELECT count(*)::int FROM ttc
           WHERE ev_default IS DISTINCT FROM (CASE WHEN highest_step IS NULL THEN NULL ELSE elapsed[highest_step] END)), 0,
          'funnel_event form without to_step: time to the highest step the entity names');
SELECT is((SELECT count(*)::int FROM ttc WHERE journey_default IS DISTINCT FROM ev_default), 0,
          'journey function = aggregate (default target)');
SELECT is((SELECT count(*)::int FROM ttc WHERE journey_t3 IS DISTINCT FROM t3), 0,
          'journey function with to_step 3 = aggregate with to_step 3');

-- strict_once: the journey function and the aggregate agree (rows in id
-- order), and times are non-NULL exactly when the level reaches the target.
SELECT is((SELECT count(*)::int FROM (
             SELECT window_funnel('10 minutes', 'strict_once', ts, c1, c2, c3, c4 ORDER BY id) AS level,
                    time_to_convert('10 minutes', 'strict_once', 3, ts, c1, c2, c3, c4 ORDER BY id) AS t3,
                    time_to_convert('10 minutes', 'strict_once', 3, funnel_event(ts, c1, c2, c3, c4) ORDER BY id) AS ev_t3,
                    time_to_convert('10 minutes', array_agg(funnel_event(ts, c1, c2, c3, c4) ORDER BY id),
                                    'strict_once', 3) AS journey_t3
             FROM sc_events WHERE e IS NOT NULL GROUP BY e) s
           WHERE (t3 IS NOT NULL) <> (level >= 3) OR ev_t3 IS DISTINCT FROM t3
              OR journey_t3 IS DISTINCT FROM t3), 0,
          'strict_once: time_to_convert consistent with window_funnel and the journey function');

SELECT * FROM finish();
ROLLBACK;
