-- Properties of window_funnel over generated data (fixed seed): agreement
-- with a slow reference walk written in PL/pgSQL from the spec, agreement of
-- the input forms, bounds, row-order independence, parallel and
-- partitionwise aggregation, rows that match nothing, window-function use.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(63);

SET LOCAL timezone = 'UTC';
DO $$ BEGIN PERFORM setseed(0.2024); END $$;

-- ---------------------------------------------------------------------------
-- The reference: the spec's walk, step by step, as slowly and plainly as
-- possible.  tss and masks are the rows in the order the aggregate receives
-- them (row id = position); ts in microseconds, NULL = ignored row; bit k-1
-- of mask = step k.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ref_level(tss bigint[], masks int[], n int, win bigint, mode text)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    m text[] := string_to_array(replace(mode, ' ', ''), ',');
    dedup boolean := 'strict_deduplication' = ANY (m);
    sorder boolean := 'strict_order' = ANY (m);
    sinc boolean := 'strict_increase' = ANY (m);
    reentry boolean := 'allow_reentry' = ANY (m);
    start bigint[] := array_fill(NULL::bigint, ARRAY[n]);     -- chain start held by step k
    reached bigint[] := array_fill(NULL::bigint, ARRAY[n]);   -- time step k was reached
    x record;
    lvl int := 0;
BEGIN
    IF 'strict_once' = ANY (m) THEN
        RETURN pg_temp.ref_level_once(tss, masks, n, win, dedup, sorder, sinc, reentry);
    END IF;
    -- entries (ts, k), k = 0 for a row matching no step under strict_order,
    -- in (ts, k) order
    FOR x IN
        SELECT tss[i] AS ts, k
        FROM generate_subscripts(tss, 1) i, generate_series(0, n) k
        WHERE tss[i] IS NOT NULL
          AND CASE WHEN k = 0 THEN sorder AND masks[i] & ((1 << n) - 1) = 0
                   ELSE masks[i] & (1 << (k - 1)) <> 0 END
        ORDER BY ts, k
    LOOP
        IF x.k = 0 THEN
            IF start[1] IS NOT NULL THEN EXIT; END IF;    -- stops a started chain
            CONTINUE;                                     -- skipped before
        END IF;
        IF x.k = 1 THEN
            start[1] := x.ts;                             -- (re)start step 1 only
            reached[1] := x.ts;
            CONTINUE;
        END IF;
        IF dedup AND start[x.k] IS NOT NULL THEN EXIT; END IF;
        IF start[x.k - 1] IS NULL THEN
            IF sorder AND start[1] IS NOT NULL AND NOT reentry THEN EXIT; END IF;
            CONTINUE;
        END IF;
        IF x.ts <= start[x.k - 1] + win AND (NOT sinc OR reached[x.k - 1] < x.ts) THEN
            start[x.k] := start[x.k - 1];
            reached[x.k] := x.ts;
            IF x.k = n THEN EXIT; END IF;
        END IF;
    END LOOP;
    FOR k IN 1 .. n LOOP
        IF start[k] IS NOT NULL THEN lvl := k; END IF;
    END LOOP;
    RETURN lvl;
END $$;

-- strict_once: every chain is kept, with the rows it used
CREATE FUNCTION pg_temp.ref_level_once(tss bigint[], masks int[], n int, win bigint,
                                       dedup boolean, sorder boolean, sinc boolean, reentry boolean)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    -- chain j: level clvl[j] (0 = dropped), start cfirst[j], time of its
    -- last step clast[j], rows used crows[j] (an int[] as text)
    clvl int[] := '{}';
    cfirst bigint[] := '{}';
    clast bigint[] := '{}';
    crows text[] := '{}';
    x record;
    j int;
    nchains int;
    alive int;
    inwin boolean;
    lvl int := 0;
BEGIN
    FOR x IN
        SELECT tss[i] AS ts, k, i AS r
        FROM generate_subscripts(tss, 1) i, generate_series(0, n) k
        WHERE tss[i] IS NOT NULL
          AND CASE WHEN k = 0 THEN sorder AND masks[i] & ((1 << n) - 1) = 0
                   ELSE masks[i] & (1 << (k - 1)) <> 0 END
        ORDER BY ts, k, i
    LOOP
        IF x.k = 0 THEN
            IF 1 = ANY (clvl) THEN EXIT; END IF;
            CONTINUE;
        END IF;
        IF x.k = 1 THEN
            clvl := clvl || 1; cfirst := cfirst || x.ts; clast := clast || x.ts;
            crows := crows || ARRAY[x.r]::text;
            CONTINUE;
        END IF;
        IF dedup AND x.k = ANY (clvl) THEN EXIT; END IF;
        IF NOT (x.k - 1 = ANY (clvl)) THEN
            IF sorder AND 1 = ANY (clvl) AND NOT reentry THEN EXIT; END IF;
            CONTINUE;
        END IF;
        nchains := cardinality(clvl);     -- chains added below are at level k
        FOR j IN 1 .. nchains LOOP
            CONTINUE WHEN clvl[j] <> x.k - 1;
            inwin := x.ts <= cfirst[j] + win;
            SELECT count(*) INTO alive FROM unnest(clvl) l WHERE l = x.k - 1;
            IF NOT inwin AND alive > 1 THEN
                clvl[j] := 0;             -- out of the window: dropped, one stays
                CONTINUE;
            END IF;
            IF inwin AND NOT (x.r = ANY (crows[j]::int[])) AND (NOT sinc OR clast[j] < x.ts) THEN
                clvl := clvl || x.k; cfirst := cfirst || cfirst[j]; clast := clast || x.ts;
                crows := crows || (crows[j]::int[] || x.r)::text;
                IF x.k = n THEN RETURN n; END IF;
            END IF;
        END LOOP;
    END LOOP;
    SELECT coalesce(max(l), 0) INTO lvl FROM unnest(clvl) l;
    RETURN lvl;
END $$;

-- a few hand checks of the reference itself (spec known cases)
SELECT is(pg_temp.ref_level('{1,2,3,4}', '{1,8,2,4}', 3, 100, ''), 3, 'reference: a d b c default 3');
SELECT is(pg_temp.ref_level('{1,2,3,4}', '{1,8,2,4}', 3, 100, 'strict_order'), 1, 'reference: a d b c strict_order 1');
SELECT is(pg_temp.ref_level('{1,2,3}', '{1,4,2}', 3, 100, 'strict_order,allow_reentry'), 2, 'reference: a c b allow_reentry 2');
SELECT is(pg_temp.ref_level('{1,2,3,4,5}', '{1,2,1,2,4}', 3, 100, 'strict_deduplication'), 2, 'reference: a b a b c dedup 2');
SELECT is(pg_temp.ref_level('{180,220,250}', '{3,3,4}', 3, 200, 'strict_once,strict_increase'), 3, 'reference: strict_once chain');
SELECT is(pg_temp.ref_level('{1,1,2}', '{3,2,4}', 3, 10, 'strict_once,strict_deduplication'), 3, 'reference: strict_once row order (P, Q)');
SELECT is(pg_temp.ref_level('{1,1,2}', '{2,3,4}', 3, 10, 'strict_once,strict_deduplication'), 2, 'reference: strict_once row order (Q, P)');

-- ---------------------------------------------------------------------------
-- Generated data: 2000 entities, 0-11 rows each, times on 20 whole seconds
-- (many ties), 1 in 10 moved by 1 us (window edges), 3% NULL times, each
-- of 4 steps true with probability 0.3 (rows matching several steps or
-- none), false conditions sometimes NULL.
-- ---------------------------------------------------------------------------
-- (the random() calls are written differently and kept away from the
-- window function: equal expressions there would be computed only once)
CREATE TEMP TABLE gen AS
SELECT u, row_number() OVER (ORDER BY rnd) AS rid, ts, mask
FROM (SELECT u, random() AS rnd,
             CASE WHEN random() < 0.03 THEN NULL
                  ELSE floor(random() * 20)::bigint * 1000000 + (random() < 0.1)::int END AS ts,
             (random() < 0.3)::int + 2 * (random() <= 0.3)::int + 4 * (0.3 > random())::int
                 + 8 * (0.3 >= random())::int AS mask
      FROM generate_series(1, 2000) u, LATERAL generate_series(1, floor(random() * 12)::int + 0 * u) r
      OFFSET 0) s;
ALTER TABLE gen ADD COLUMN cs boolean[];
UPDATE gen SET cs = ARRAY(SELECT CASE WHEN mask & (1 << (k - 1)) <> 0 THEN true
                                      WHEN random() < 0.2 THEN NULL ELSE false END
                          FROM generate_series(1, 4) k ORDER BY k);
CREATE FUNCTION pg_temp.t(us bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
$$ SELECT '2024-03-01 00:00:00+00'::timestamptz + us * interval '1 microsecond' $$;

-- configurations: mode, window, number of steps
CREATE TEMP TABLE cfg (c int PRIMARY KEY, mode text, win_s int, n int);
INSERT INTO cfg VALUES
    (1, '', 5, 4), (2, 'strict_deduplication', 5, 4), (3, 'strict_order', 5, 4),
    (4, 'strict_increase', 5, 4), (5, 'strict_order,allow_reentry', 5, 4),
    (6, 'strict_deduplication,strict_increase', 5, 4), (7, 'strict_order,strict_increase', 5, 4),
    (8, 'strict_deduplication,strict_order', 5, 4),
    (9, 'strict_order, allow_reentry, strict_increase, strict_deduplication', 5, 4),
    (10, 'strict_once', 5, 4), (11, 'strict_once,strict_increase', 5, 4),
    (12, 'strict_once,strict_deduplication', 5, 4), (13, 'strict_once,strict_order', 5, 4),
    (14, 'strict_once,strict_order,allow_reentry,strict_increase', 5, 4),
    (15, '', 0, 4), (16, 'strict_order', 0, 4), (17, 'strict_once', 0, 4), (18, '', 86400, 4),
    (19, '', 5, 1), (20, 'strict_order', 5, 1), (21, 'strict_deduplication', 5, 2),
    (22, 'strict_once,strict_deduplication', 5, 3);

CREATE TEMP TABLE res AS
SELECT c.c, g.u,
       window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n] ORDER BY g.rid) AS bools,
       window_funnel(make_interval(secs => c.win_s), c.mode,
                     funnel_event(pg_temp.t(g.ts), VARIADIC g.cs[1:c.n]) ORDER BY g.rid) AS event,
       window_funnel(make_interval(secs => c.win_s),
                     array_agg(funnel_event(pg_temp.t(g.ts), VARIADIC g.cs[1:c.n]) ORDER BY g.rid), c.mode) AS journey,
       window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n] ORDER BY random()) AS shuffled,
       pg_temp.ref_level(array_agg(g.ts ORDER BY g.rid), array_agg(g.mask ORDER BY g.rid), c.n,
                         c.win_s * 1000000::bigint, c.mode) AS ref
FROM cfg c CROSS JOIN gen g
GROUP BY c.c, g.u;

-- the data exercises what it should
SELECT is((SELECT count(DISTINCT u) FROM res), (SELECT count(DISTINCT u) FROM gen), 'every entity has a result');
SELECT is((SELECT array_agg(DISTINCT ref ORDER BY ref) FROM res WHERE c = 1), '{0,1,2,3,4}',
    'default-mode reference levels cover 0..4');
SELECT is((SELECT array_agg(c ORDER BY c) FROM (
              SELECT r.c FROM res r JOIN res d ON d.c = 1 AND d.u = r.u
              WHERE r.c BETWEEN 2 AND 14 GROUP BY r.c HAVING count(*) FILTER (WHERE r.ref <> d.ref) >= 5) s),
          (SELECT array_agg(c ORDER BY c) FROM cfg WHERE c BETWEEN 2 AND 14),
    'every mode differs from the default mode on at least 5 entities');
SELECT cmp_ok((SELECT count(*) FROM res r JOIN res s ON r.u = s.u AND r.c = 12 AND s.c = 10
               WHERE r.ref <> s.ref), '>', 0::bigint,
    'strict_deduplication changes strict_once answers somewhere');

-- agreement with the reference, one test per configuration
SELECT is(count(*) FILTER (WHERE r.bools IS DISTINCT FROM r.ref), 0::bigint,
          format('C walk = reference walk: mode %L, window %s s, %s steps (%s entities)', c.mode, c.win_s, c.n, count(*)))
FROM res r JOIN cfg c USING (c) GROUP BY c.c, c.mode, c.win_s, c.n ORDER BY c.c;

-- the input forms agree
SELECT is((SELECT count(*) FROM res WHERE event IS DISTINCT FROM bools), 0::bigint,
    'funnel_event aggregate = boolean aggregate, every configuration');
SELECT is((SELECT count(*) FROM res WHERE journey IS DISTINCT FROM bools), 0::bigint,
    'journey function = boolean aggregate, every configuration');

-- separate conditions (the fixed-arity overloads, 1 to 8 conditions) =
-- one VARIADIC array; 8 conditions whose last 4 never hold = 4 conditions
-- (rows unordered: not the order-dependent strict_once+strict_deduplication)
SELECT is((SELECT count(*) FROM (
              SELECT c.c, g.u,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.cs[1], g.cs[2], g.cs[3], g.cs[4]) AS fixed,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.cs[1], g.cs[2], g.cs[3], g.cs[4],
                                   false, NULL, false, NULL) AS fixed8,
                     window_funnel(make_interval(secs => c.win_s), pg_temp.t(g.ts), g.cs[1], g.cs[2], g.cs[3], g.cs[4]) AS fixed_no_mode
              FROM cfg c CROSS JOIN gen g WHERE c.n = 4 AND c.c <> 12 GROUP BY c.c, g.u) s
           JOIN res r USING (c, u) JOIN cfg USING (c)
           WHERE fixed IS DISTINCT FROM bools OR fixed8 IS DISTINCT FROM bools
              OR mode = '' AND fixed_no_mode IS DISTINCT FROM bools)
          + (SELECT count(*) FROM (
              SELECT c.c, g.u, CASE c.n
                         WHEN 1 THEN window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.cs[1])
                         WHEN 2 THEN window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.cs[1], g.cs[2])
                         WHEN 3 THEN window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.cs[1], g.cs[2], g.cs[3])
                     END AS fixed
              FROM cfg c CROSS JOIN gen g WHERE c.n < 4 AND c.c <> 22 GROUP BY c.c, g.u) s
           JOIN res r USING (c, u) WHERE fixed IS DISTINCT FROM bools), 0::bigint,
    'separate conditions (1, 2, 3, 4 and 8 of them, with and without a mode) = VARIADIC array');

-- the event-name form = conditions on the name, with names that are
-- prefixes of each other, the empty name, NULL, and one name used for two
-- steps (steps a, ab, '', a)
ALTER TABLE gen ADD COLUMN e text;
UPDATE gen SET e = (ARRAY['a', 'ab', 'b', 'ba', '', 'c', NULL])[1 + floor(random() * 7)::int];
SELECT is((SELECT count(*) FROM (
              SELECT window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), g.e,
                                   (ARRAY['a', 'ab', '', 'a'])[1:c.n] ORDER BY g.rid) AS by_name,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts),
                                   VARIADIC (ARRAY[g.e = 'a', g.e = 'ab', g.e = '', g.e = 'a'])[1:c.n] ORDER BY g.rid) AS by_cond
              FROM cfg c CROSS JOIN gen g GROUP BY c.c, g.u) s
           WHERE by_name IS DISTINCT FROM by_cond), 0::bigint,
    'event-name form = boolean form on the same names, every configuration');

-- bounds
SELECT is((SELECT count(*) FROM res JOIN cfg USING (c) WHERE bools < 0 OR bools > n), 0::bigint,
    'the level is between 0 and the number of steps');

-- row order: shuffling never changes the level, except strict_once with
-- strict_deduplication (configurations 12 and 22)
SELECT is((SELECT count(*) FROM res WHERE shuffled IS DISTINCT FROM bools AND c NOT IN (12, 22)), 0::bigint,
    'shuffled rows give the same level (all but strict_once+strict_deduplication)');

-- rows in two runs, each in time order, as the rows of two parallel workers'
-- states reach the leader's final pass: a stable sort puts equal times in
-- the first run's order, then the second's, which only strict_once with
-- strict_deduplication can tell (its reference gets the rows in that order)
CREATE TEMP TABLE two_runs AS
SELECT c.c, g.u,
       window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n]
                     ORDER BY g.rid % 2, g.ts, g.rid) AS level
FROM cfg c CROSS JOIN gen g
GROUP BY c.c, g.u;
CREATE TEMP TABLE two_runs_ref AS
SELECT c.c, g.u,
       pg_temp.ref_level(array_agg(g.ts ORDER BY g.ts, g.rid % 2, g.rid),
                         array_agg(g.mask ORDER BY g.ts, g.rid % 2, g.rid), c.n,
                         c.win_s * 1000000::bigint, c.mode) AS ref
FROM cfg c CROSS JOIN gen g
WHERE c.c IN (12, 22)
GROUP BY c.c, g.u;
SELECT is((SELECT count(*) FROM two_runs t JOIN res r USING (c, u)
           WHERE t.level IS DISTINCT FROM r.ref AND c NOT IN (12, 22)), 0::bigint,
    'rows in two runs in time order = reference (all but strict_once+strict_deduplication)');
SELECT is((SELECT count(*) FROM two_runs t JOIN two_runs_ref r USING (c, u)
           WHERE t.level IS DISTINCT FROM r.ref), 0::bigint,
    'rows in two runs, strict_once+strict_deduplication: equal times in the first run''s order, then the second''s');
SELECT cmp_ok((SELECT count(*) FROM two_runs_ref t JOIN res r USING (c, u) WHERE t.ref IS DISTINCT FROM r.ref),
    '>', 0::bigint, 'the order of equal times changes strict_once+strict_deduplication answers in these data');
-- one entity of 400 rows in two runs (sorted by merging, not only by the
-- insertion sort of short runs), every configuration
SELECT is((SELECT count(*) FROM (
              SELECT c.c,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(b.ts), VARIADIC b.cs[1:c.n]
                                   ORDER BY b.i % 2, b.ts, b.i) AS level,
                     pg_temp.ref_level(array_agg(b.ts ORDER BY b.ts, b.i % 2, b.i),
                                       array_agg(b.mask ORDER BY b.ts, b.i % 2, b.i), c.n,
                                       c.win_s * 1000000::bigint, c.mode) AS ref
              FROM cfg c CROSS JOIN (
                  SELECT i, ts, mask,
                         ARRAY[mask & 1 <> 0, mask & 2 <> 0, mask & 4 <> 0, mask & 8 <> 0] AS cs
                  FROM (SELECT i, floor(random() * 120)::bigint * 1000000 AS ts,
                               floor(random() * 16)::int AS mask
                        FROM generate_series(1, 400) i) r) b
              GROUP BY c.c) s WHERE level IS DISTINCT FROM ref), 0::bigint,
    'one entity of 400 rows in two runs = reference, every configuration');

-- 60 more steps that never match (64 in all) change no level
SELECT is((SELECT count(*) FROM (
              SELECT u,
                     window_funnel('5 s', pg_temp.t(ts), VARIADIC cs || array_fill(false, ARRAY[60])) AS l64
              FROM gen GROUP BY u) s JOIN res r USING (u) WHERE r.c = 1 AND s.l64 IS DISTINCT FROM r.bools), 0::bigint,
    'a 64-step funnel whose last 60 steps never match gives the 4-step level');

-- rows that match no step never change a level outside strict_order; NULL
-- times never change any level
CREATE TEMP TABLE extra AS
SELECT u, rid, ts, mask, cs FROM gen
UNION ALL
SELECT u, 100000 + u, floor(random() * 20)::bigint * 1000000, 0, '{false,NULL,false,false}' FROM generate_series(1, 2000) u
UNION ALL
SELECT u, 200000 + u, NULL, 15, '{true,true,true,true}' FROM generate_series(1, 2000) u;
SELECT is((SELECT count(*) FROM (
              SELECT x.u, c.c,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(x.ts), VARIADIC x.cs[1:c.n] ORDER BY x.rid) AS l
              FROM extra x CROSS JOIN cfg c WHERE c.mode NOT LIKE '%strict_order%'
              GROUP BY x.u, c.c) s
           JOIN res r USING (u, c) WHERE s.l IS DISTINCT FROM r.bools), 0::bigint,
    'adding a row matching no step (and a NULL-time row) never changes a level without strict_order');
SELECT is((SELECT count(*) FROM (
              SELECT x.u, c.c,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(x.ts), VARIADIC x.cs[1:c.n] ORDER BY x.rid) AS l
              FROM extra x CROSS JOIN cfg c WHERE x.rid < 100000 OR x.rid > 200000
              GROUP BY x.u, c.c) s
           JOIN res r USING (u, c) WHERE s.l IS DISTINCT FROM r.bools), 0::bigint,
    'adding a NULL-time row never changes a level (strict_order too)');

-- a window per group, rows of the groups interleaved (hash aggregation
-- reads them in table order): 40 groups, windows 1..40 s, a@0 then b@10 s:
-- level 2 where the window is 10 s or more
CREATE TEMP TABLE per_group AS
SELECT * FROM (SELECT w, pg_temp.t(0) AS ts, 'a' AS e FROM generate_series(1, 40) w
               UNION ALL SELECT w, pg_temp.t(10000000), 'b' FROM generate_series(1, 40) w) s
ORDER BY random();
SET LOCAL enable_sort = off;
SELECT is((SELECT array_agg(w ORDER BY w) FROM (
              SELECT w, window_funnel(make_interval(secs => w), ts, e = 'a', e = 'b') AS l
              FROM per_group GROUP BY w) s WHERE l = 2),
          ARRAY(SELECT generate_series(10, 40)), 'each group uses its own window (40 windows, interleaved rows)');
RESET enable_sort;

-- ---------------------------------------------------------------------------
-- window function use: the running level, rows in time order
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE running AS
SELECT c.c, g.u, g.ts, g.rid,
       window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n])
           OVER (PARTITION BY c.c, g.u ORDER BY g.ts) AS so_far,
       window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n])
           OVER (PARTITION BY c.c, g.u ORDER BY g.ts, g.rid ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS whole
FROM cfg c CROSS JOIN gen g WHERE c.c IN (1, 2, 3, 4, 5, 10, 11, 13) AND g.ts IS NOT NULL;
SELECT is((SELECT count(*) FROM running r JOIN res USING (c, u) WHERE r.whole <> res.bools), 0::bigint,
    'window aggregate over the whole partition = the group level');
SELECT is((SELECT count(*) FROM (
              SELECT c, u, ts, so_far, lag(so_far) OVER (PARTITION BY c, u ORDER BY ts, rid) AS before FROM running) s
           WHERE so_far < before), 0::bigint,
    'the running level (peers together) never goes down');
SELECT is((SELECT count(*) FROM (
              SELECT r.so_far,
                     window_funnel(make_interval(secs => c.win_s), c.mode, pg_temp.t(g.ts), VARIADIC g.cs[1:c.n]) AS upto
              FROM running r JOIN cfg c USING (c) JOIN gen g ON g.u = r.u AND g.ts <= r.ts
              WHERE r.u % 10 = 0
              GROUP BY r.c, r.u, r.rid, r.so_far, c.mode, c.win_s, c.n) s
           WHERE so_far <> upto), 0::bigint,
    'the running level at each row = the level of the rows up to its time (every 10th entity)');

-- ---------------------------------------------------------------------------
-- parallel aggregation: the same levels as serial, through combine,
-- serialize and deserialize.  Regular tables (parallel workers do not read
-- temporary ones).  Every entity gets 10 copies of its rows, a day apart (far
-- outside the 5 s window), so groups are large enough for the planner to
-- aggregate in parallel, and every group's rows are spread over the table;
-- in the default mode the level of the copies is the entity's level.
-- Parallel plans need a top-level statement without parallel-unsafe
-- functions: results are made by CREATE TABLE AS under EXPLAIN ANALYZE,
-- which also shows the plan really ran in parallel.
-- ---------------------------------------------------------------------------
CREATE TABLE wf_props_big AS
SELECT g.u, g.rid + 100000 * copy AS rid, pg_temp.t(g.ts) + copy * interval '1 day' AS ts, g.cs
FROM gen g, generate_series(0, 9) copy
ORDER BY random();
ANALYZE wf_props_big;
CREATE TABLE wf_props_modes AS SELECT c, mode FROM cfg WHERE c IN (1, 2, 3, 6, 10);
ANALYZE wf_props_modes;
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS
$$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q; END $$;
CREATE FUNCTION pg_temp.run_explained(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;

SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT m.c, b.u, window_funnel('5 s', m.mode, b.ts, VARIADIC b.cs) AS l
FROM wf_props_big b CROSS JOIN wf_props_modes m GROUP BY m.c, b.u;
-- one big group per mode (not strict_once: 11000 rows within 20 s would
-- keep millions of chains)
CREATE TEMP TABLE serial_one AS
SELECT m.c, window_funnel('5 s', m.mode, b.ts, VARIADIC b.cs) AS l
FROM wf_props_big b CROSS JOIN wf_props_modes m WHERE m.c <> 10 GROUP BY m.c;
-- and a window per group (47 distinct windows, more than a call site caches)
CREATE TEMP TABLE serial_win AS
SELECT u, window_funnel(make_interval(secs => u % 47), 'strict_order', ts, VARIADIC cs) AS l
FROM wf_props_big GROUP BY u;
SELECT is((SELECT count(*) FROM serial s JOIN res r USING (c, u) WHERE s.c = 1 AND s.l <> r.bools), 0::bigint,
    'serial, default mode: 10 copies a day apart reach the entity''s level');
SELECT is((SELECT count(*) FROM serial), (SELECT 5 * count(DISTINCT u) FROM gen),
    'serial: every entity, 5 modes');

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
-- per-group states are small (SSPACE), so a serial hash aggregate is cheap:
-- make the transition dearer so that the planner takes the partial plans
SET LOCAL cpu_operator_cost = 0.5;
CREATE TEMP TABLE plans (q text, plan text);
CREATE TEMP TABLE par (c int, u int, l int);
CREATE TEMP TABLE par_one (c int, l int);
DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT c, mode FROM wf_props_modes ORDER BY c LOOP
        INSERT INTO plans SELECT 'GROUP BY, mode ' || quote_literal(m.mode), pg_temp.run_explained(format(
            'CREATE TEMP TABLE par_%s AS SELECT u, window_funnel(''5 s'', %L, ts, VARIADIC cs) AS l FROM wf_props_big GROUP BY u',
            m.c, m.mode));
        EXECUTE format('INSERT INTO par SELECT %s, u, l FROM par_%s', m.c, m.c);
        IF m.c = 3 THEN
            INSERT INTO plans SELECT 'GROUP BY, a window per group', pg_temp.run_explained(
                'CREATE TEMP TABLE par_win AS SELECT u, window_funnel(make_interval(secs => u % 47), ''strict_order'', ts,
                 VARIADIC cs) AS l FROM wf_props_big GROUP BY u');
        END IF;
        CONTINUE WHEN m.c = 10;
        INSERT INTO plans SELECT 'one group, mode ' || quote_literal(m.mode), pg_temp.run_explained(format(
            'CREATE TEMP TABLE par_one_%s AS SELECT window_funnel(''5 s'', %L, ts, VARIADIC cs) AS l FROM wf_props_big',
            m.c, m.mode));
        EXECUTE format('INSERT INTO par_one SELECT %s, l FROM par_one_%s', m.c, m.c);
    END LOOP;
END $$;
SELECT is((SELECT count(*) FROM plans WHERE plan ~ 'Gather(.|\n)*Partial' AND plan ~ 'Workers Launched: [12]'), 10::bigint,
    'all 10 plans are parallel: partial aggregation under Gather, workers launched');
SELECT is((SELECT count(*) FROM par_win FULL JOIN serial_win s USING (u) WHERE par_win.l IS DISTINCT FROM s.l), 0::bigint,
    'parallel GROUP BY with a window per group = serial');
SELECT is((SELECT count(*) FROM par FULL JOIN serial s USING (c, u) WHERE par.l IS DISTINCT FROM s.l), 0::bigint,
    'parallel GROUP BY = serial, 5 modes');
SELECT is((SELECT count(*) FROM par_one FULL JOIN serial_one s USING (c) WHERE par_one.l IS DISTINCT FROM s.l), 0::bigint,
    'parallel aggregate of one big group = serial, 4 modes');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET cpu_operator_cost;

-- ---------------------------------------------------------------------------
-- partitionwise aggregation over hash partitions: by row (each entity's
-- rows in several partitions: partial aggregation + combine) and by entity
-- ---------------------------------------------------------------------------
CREATE TABLE wf_props_by_row (u int, rid int, ts timestamptz, cs boolean[]) PARTITION BY HASH (rid);
CREATE TABLE wf_props_by_row_0 PARTITION OF wf_props_by_row FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE wf_props_by_row_1 PARTITION OF wf_props_by_row FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE wf_props_by_row_2 PARTITION OF wf_props_by_row FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO wf_props_by_row SELECT u, rid, ts, cs FROM wf_props_big;
CREATE TABLE wf_props_by_u (u int, rid int, ts timestamptz, cs boolean[]) PARTITION BY HASH (u);
CREATE TABLE wf_props_by_u_0 PARTITION OF wf_props_by_u FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE wf_props_by_u_1 PARTITION OF wf_props_by_u FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE wf_props_by_u_2 PARTITION OF wf_props_by_u FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO wf_props_by_u SELECT u, rid, ts, cs FROM wf_props_big;
ANALYZE wf_props_by_row;
ANALYZE wf_props_by_u;
SET LOCAL enable_partitionwise_aggregate = on;
-- serial and sort-based, so that the planner's choice is partitionwise
-- aggregation (per-group states are small: one hash aggregate over all
-- partitions would otherwise win)
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL enable_hashagg = off;
SELECT matches((SELECT string_agg(p, E'\n') FROM pg_temp.plan(
                  $q$SELECT u, window_funnel('5 s', 'strict_order', ts, VARIADIC cs) FROM wf_props_by_row GROUP BY u$q$) p),
    'Finalize(.|\n)*Append(.|\n)*Partial(.|\n)*Partial(.|\n)*Partial',
    'partitioned by row: partial aggregation in each partition, then combine');
SELECT matches((SELECT string_agg(p, E'\n') FROM pg_temp.plan(
                  $q$SELECT u, window_funnel('5 s', 'strict_order', ts, VARIADIC cs) FROM wf_props_by_u GROUP BY u$q$) p),
    '^Append(.|\n)*Aggregate(.|\n)*Aggregate(.|\n)*Aggregate',
    'partitioned by entity: a whole aggregation in each partition');
CREATE TEMP TABLE pw (tbl text, c int, u int, l int);
DO $$
DECLARE
    m record;
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['wf_props_by_row', 'wf_props_by_u'] LOOP
        FOR m IN SELECT c, mode FROM wf_props_modes LOOP
            EXECUTE format('INSERT INTO pw SELECT %L, %s, u, window_funnel(''5 s'', %L, ts, VARIADIC cs) FROM %I GROUP BY u',
                           tbl, m.c, m.mode, tbl);
        END LOOP;
    END LOOP;
END $$;
SELECT is((SELECT count(*) FROM (SELECT * FROM pw WHERE tbl = 'wf_props_by_row') p FULL JOIN serial s USING (c, u)
           WHERE p.l IS DISTINCT FROM s.l), 0::bigint, 'partitionwise partial aggregation (by row) = serial, 5 modes');
SELECT is((SELECT count(*) FROM (SELECT * FROM pw WHERE tbl = 'wf_props_by_u') p FULL JOIN serial s USING (c, u)
           WHERE p.l IS DISTINCT FROM s.l), 0::bigint, 'partitionwise aggregation (by entity) = serial, 5 modes');

-- times at PostgreSQL's epoch (2000-01-01 00:00 UTC is 0): a step no chain
-- has reached holds no start, and an event of the next step within the
-- window of that zero time extends nothing.  Hand-worked: entity 1 has
-- steps 2 and 3 without step 1 (level 0); entity 2 has step 1 later, then
-- 3 (level 1); entity 3 steps 1, 2, 3 in turn (level 3).
CREATE TEMP TABLE epoch_rows AS
SELECT * FROM (VALUES (1, timestamptz '2000-01-01 00:00:10+00', 2), (1, '2000-01-01 00:00:20+00', 3),
                      (2, '2000-01-01 00:00:05+00', 1), (2, '2000-01-01 00:00:30+00', 3),
                      (3, '2000-01-01 00:00:00+00', 1), (3, '2000-01-01 00:00:01+00', 2),
                      (3, '2000-01-01 00:00:02+00', 3)) v(e, ts, step);
SELECT is(array_agg(l ORDER BY e), '{0,1,3}', 'at the epoch: window_funnel reaches only the steps of its chains')
FROM (SELECT e, window_funnel('1 hour', ts, step = 1, step = 2, step = 3) AS l FROM epoch_rows GROUP BY e) x;
SELECT is(funnel_stage_counts('1 hour', e, ts, step = 1, step = 2, step = 3), '{2,1,1}',
          'at the epoch: funnel_stage_counts reaches only the steps of its chains')
FROM epoch_rows;
SELECT is(funnel_stage_counts('1 hour', e, ts, step::text, ARRAY['1', '2', '3']), '{2,1,1}',
          'at the epoch: the event-name form the same')
FROM epoch_rows;

SELECT * FROM finish();
ROLLBACK;
