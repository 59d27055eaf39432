-- Conditions that compare one text expression with constants (event =
-- 'visit', event = 'view', ...) are planned as the event-name form
-- (src/engine/equality_steps.c, doc/whole_table.md).  Checked here: which
-- calls are rewritten and which are left alone (the plans), a hand-worked
-- case, and that every rewritten call answers what PostgreSQL's own
-- evaluation of the conditions answers (funnel.equalities_as_names off).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(49);

-- the hook is installed when the library is loaded: load it
SELECT window_funnel('1 hour', now(), true) IS NOT NULL AS library_loaded \gset

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;

-- hand-worked, window 1 hour, steps visit, view, buy:
--   u1 visit 10:00, view 10:10, buy 10:20         level 3
--   u2 visit 10:00, VIEW 10:05, buy 10:30         level 1 (VIEW is not view)
--   u3 NULL 10:00, view 10:01, buy 10:02          level 0
--   u4 visit 10:00, view 11:30                    level 1 (view past the window)
--   u5 view 10:00                                 level 0
CREATE TEMP TABLE hand (u int, ts timestamptz, event text, kind varchar);
INSERT INTO hand VALUES
  (1, '2024-03-01 10:00', 'visit', 'visit'), (1, '2024-03-01 10:10', 'view', 'view'),
  (1, '2024-03-01 10:20', 'buy', 'buy'),
  (2, '2024-03-01 10:00', 'visit', 'visit'), (2, '2024-03-01 10:05', 'VIEW', 'VIEW'),
  (2, '2024-03-01 10:30', 'buy', 'buy'),
  (3, '2024-03-01 10:00', NULL, NULL), (3, '2024-03-01 10:01', 'view', 'view'),
  (3, '2024-03-01 10:02', 'buy', 'buy'),
  (4, '2024-03-01 10:00', 'visit', 'visit'), (4, '2024-03-01 11:30', 'view', 'view'),
  (5, '2024-03-01 10:00', 'view', 'view');

SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy'),
          '{3,1,1}'::bigint[], 'hand-worked: equalities (rewritten)')
FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, 'visit' = event, 'view' = event, 'buy' = event),
          '{3,1,1}'::bigint[], 'hand-worked: the constant first')
FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, kind = 'visit', kind = 'view', kind = 'buy'),
          '{3,1,1}'::bigint[], 'hand-worked: a varchar column')
FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, (event = 'visit') IS TRUE, (event = 'view') IS TRUE,
                              (event = 'buy') IS TRUE),
          '{3,1,1}'::bigint[], 'hand-worked: conditions PostgreSQL evaluates')
FROM hand;
-- a case-insensitive collation: VIEW is view, so u2 reaches level 3
CREATE COLLATION pg_temp.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit' COLLATE pg_temp.ci,
                              event = 'view' COLLATE pg_temp.ci, event = 'buy' COLLATE pg_temp.ci),
          '{3,2,2}'::bigint[], 'hand-worked: a nondeterministic collation (not rewritten)')
FROM hand;
-- the same with the collation on the column: the constants stay plain
-- constants, the comparison's collation is the column's
CREATE TEMP TABLE hand_ci AS SELECT u, ts, event::text COLLATE pg_temp.ci AS event FROM hand;
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy'),
          '{3,2,2}'::bigint[], 'hand-worked: a column of a nondeterministic collation (not rewritten)')
FROM hand_ci;
-- an entity under a nondeterministic collation: the call's collation is the
-- entity's, which the event-name twin would refuse for its names
CREATE TEMP TABLE hand_ci_user AS SELECT 'User' || u AS u, ts, event FROM hand;
UPDATE hand_ci_user SET u = lower(u) WHERE event = 'view';
ALTER TABLE hand_ci_user ALTER COLUMN u TYPE text COLLATE pg_temp.ci;
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy'),
          '{3,1,1}'::bigint[], 'hand-worked: an entity of a nondeterministic collation (not rewritten)')
FROM hand_ci_user;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view') FROM hand_ci_user$$),
               $$\(event = 'visit'::text\), \(event = 'view'::text\)$$,
               'an entity of a nondeterministic collation: not rewritten');
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy') OVER (),
          '{3,1,1}'::bigint[], 'the same as a window function')
FROM hand_ci_user LIMIT 1;
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = NULL, event = 'buy'),
          '{3,0,0}'::bigint[], 'hand-worked: a NULL constant is a step nobody reaches (not rewritten)')
FROM hand;

-- ---------- rewritten: the plans ----------
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy') FROM hand$$),
               $$funnel_stage_counts\('01:00:00'::interval, u, ts, event, '\{visit,view,buy\}'::text\[\]\)$$,
               'three equalities: the event-name form');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, 'visit' = event, event = 'view') FROM hand$$),
               $$funnel_stage_counts\('01:00:00'::interval, u, ts, event, '\{visit,view\}'::text\[\]\)$$,
               'the constant on either side');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, kind = 'visit', kind = 'view') FROM hand$$),
               $$funnel_stage_counts\('01:00:00'::interval, u, ts, \(kind\)::text, '\{visit,view\}'::text\[\]\)$$,
               'a varchar column');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit') FROM hand$$),
               $$funnel_stage_counts\('01:00:00'::interval, u, ts, event, '\{visit\}'::text\[\]\)$$,
               'one condition');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'a', event = 'b', event = 'c',
    event = 'd', event = 'e', event = 'f', event = 'g', event = 'h', event = 'i', event = 'a') FROM hand$$),
               $$funnel_stage_counts\('01:00:00'::interval, u, ts, event, '\{a,b,c,d,e,f,g,h,i,a\}'::text\[\]\)$$,
               'ten conditions (the VARIADIC array), a name twice');
SELECT matches(pg_temp.plan_of($$SELECT funnel_conversion('1 hour', 'strict_order', u, ts, event = 'visit', event = 'view') FROM hand$$),
               $$funnel_conversion\('01:00:00'::interval, 'strict_order'::text, u, ts, event, '\{visit,view\}'::text\[\]\)$$,
               'funnel_conversion with a mode');
SELECT matches(pg_temp.plan_of($$SELECT time_to_convert('1 hour', '', 2, ts, event = 'visit', event = 'view', event = 'buy') FROM hand GROUP BY u$$),
               $$time_to_convert\('01:00:00'::interval, ''::text, 2, ts, event, '\{visit,view,buy\}'::text\[\]\)$$,
               'time_to_convert with to_step');
SELECT matches(pg_temp.plan_of($$SELECT u, window_funnel('1 hour', ts, event = 'visit', event = 'view') OVER (PARTITION BY u) FROM hand$$),
               $$window_funnel\('01:00:00'::interval, ts, event, '\{visit,view\}'::text\[\]\) OVER \(\?\)$$,
               'an aggregate as a window function');
SELECT matches(pg_temp.plan_of($$SELECT * FROM (SELECT funnel_summary('1 hour', u, ts, event = 'visit', event = 'view') FROM hand) s$$),
               $$funnel_summary\('01:00:00'::interval, hand\.u, hand\.ts, hand\.event, '\{visit,view\}'::text\[\]\)$$,
               'in a subquery');
SELECT matches(pg_temp.plan_of($$SELECT (SELECT funnel_trends('1 hour', 'bucket day', u, ts, event = 'visit', event = 'view') FROM hand)$$),
               $$funnel_trends\('01:00:00'::interval, 'bucket day'::text, hand\.u, hand\.ts, hand\.event, '\{visit,view\}'::text\[\]\)$$,
               'in a sublink');
SELECT matches(pg_temp.plan_of($$SELECT funnel_breakdown('1 hour', '', u, kind, ts, event = 'visit', event = 'view') FROM hand$$),
               $$funnel_breakdown\('01:00:00'::interval, ''::text, u, \(kind\)::text, ts, event, '\{visit,view\}'::text\[\]\)$$,
               'funnel_breakdown');

-- ---------- left to PostgreSQL: the plans ----------
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', kind = 'view') FROM hand$$),
               $$\(event = 'visit'::text\), \(\(kind\)::text = 'view'::text\)$$,
               'two different expressions: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event <> 'view') FROM hand$$),
               $$\(event = 'visit'::text\), \(event <> 'view'::text\)$$,
               'another operator: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit' COLLATE pg_temp.ci, event = 'view' COLLATE pg_temp.ci) FROM hand$$),
               $$\(event = 'visit'::text COLLATE pg_temp\.ci\), \(event = 'view'::text COLLATE pg_temp\.ci\)$$,
               'a nondeterministic collation: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view') FROM hand_ci$$),
               $$\(event = 'visit'::text\), \(event = 'view'::text\)$$,
               'a column of a nondeterministic collation: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event || (random() > 2)::text = 'visitfalse') FROM hand$$),
               $$random\(\)$$,
               'a volatile expression: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view' ORDER BY ts) FROM hand$$),
               $$\(event = 'visit'::text\), \(event = 'view'::text\) ORDER BY ts$$,
               'ORDER BY inside the call: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', (event = 'view') IS TRUE) FROM hand$$),
               $$\(event = 'visit'::text\), \(\(event = 'view'::text\) IS TRUE\)$$,
               'one condition not an equality: not rewritten');
SELECT matches(pg_temp.plan_of($$SELECT window_funnel('1 hour', ts, VARIADIC ARRAY[event = 'visit', event = 'view']) OVER () FROM hand$$),
               $$ARRAY\[\(event = 'visit'::text\), \(event = 'view'::text\)\]\) OVER \(\?\)$$,
               'a window call given an array: not rewritten');
PREPARE eq_param(text) AS SELECT funnel_stage_counts('1 hour', u, ts, event = $1, event = 'view') FROM hand;
SELECT matches(pg_temp.plan_of($$EXECUTE eq_param('visit')$$),
               $$\(event = 'visit'::text\), \(event = 'view'::text\)$$,
               'a parameter: not rewritten');
SET LOCAL funnel.equalities_as_names = off;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view') FROM hand$$),
               $$\(event = 'visit'::text\), \(event = 'view'::text\)$$,
               'funnel.equalities_as_names off: not rewritten');
SET LOCAL funnel.equalities_as_names = on;

-- an aggregate of the same name and signature that is not this library's
CREATE SCHEMA eq_other;
CREATE FUNCTION eq_other.count_sfunc(s int, w interval, ts timestamptz, VARIADIC c boolean[])
    RETURNS int LANGUAGE sql AS 'SELECT coalesce(s, 0) + 1';
CREATE FUNCTION eq_other.count_sfunc(s int, w interval, ts timestamptz, e text, n text[])
    RETURNS int LANGUAGE sql AS 'SELECT coalesce(s, 0) + 100';
CREATE AGGREGATE eq_other.window_funnel(interval, timestamptz, VARIADIC boolean[])
    (SFUNC = eq_other.count_sfunc, STYPE = int);
CREATE AGGREGATE eq_other.window_funnel(interval, timestamptz, text, text[])
    (SFUNC = eq_other.count_sfunc, STYPE = int);
SELECT is(eq_other.window_funnel('1 hour', ts, event = 'visit', event = 'view'), 12,
          'another module''s window_funnel: not rewritten')
FROM hand;

-- a role that may run the conditions form but not its event-name twin
-- keeps the conditions (and its answer)
CREATE ROLE eq_no_names;
CREATE TABLE eq_hand AS TABLE hand;
GRANT SELECT ON eq_hand TO eq_no_names;
REVOKE EXECUTE ON FUNCTION funnel_stage_counts(interval, anyelement, timestamptz, text, text[]) FROM PUBLIC;
SET LOCAL ROLE eq_no_names;
SELECT is(funnel_stage_counts('1 hour', u, ts, event = 'visit', event = 'view', event = 'buy'),
          '{3,1,1}'::bigint[], 'no EXECUTE on the event-name twin: the conditions, evaluated')
FROM eq_hand;
RESET ROLE;
GRANT EXECUTE ON FUNCTION funnel_stage_counts(interval, anyelement, timestamptz, text, text[]) TO PUBLIC;

-- ---------- rewritten = evaluated, on random data ----------
-- ties (several rows per minute), NULL events, names that differ only in
-- case or by a trailing space, text and uuid entities
CREATE TEMP TABLE rnd AS
SELECT (hashint4(g) & 255) AS u,
       ('00000000-0000-0000-0000-' || lpad(((hashint4(g) & 255))::text, 12, '0'))::uuid AS uu,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 65535) % 3000) * interval '1 minute' AS ts,
       (ARRAY['visit', 'view', 'cart', 'buy', 'Visit', 'view ', NULL, 'other'])[1 + (hashint4(g * 13) & 65535) % 8] AS event,
       (ARRAY['web', 'ads', 'mail'])[1 + (hashint4(g * 17) & 65535) % 3] AS channel
FROM generate_series(1, 30000) g;

CREATE FUNCTION pg_temp.answers() RETURNS TABLE (k text, v text) LANGUAGE sql AS $$
SELECT 'fsc', funnel_stage_counts('1 day', u, ts, event = 'visit', event = 'view', event = 'cart', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'fsc strict_order', funnel_stage_counts('1 day', 'strict_order', u, ts, event = 'visit', event = 'view', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'fsc uuid, 10 steps', funnel_stage_counts('2 hours', uu, ts, event = 'visit', event = 'view', event = 'visit',
    event = 'cart', event = 'view', event = 'buy', event = 'visit', event = 'view', event = 'cart', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'conversion', funnel_conversion('1 day', u::text, ts, event = 'visit', event = 'cart', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'summary', funnel_stage_counts(funnel_summary('1 day', u, ts, event = 'visit', event = 'view', event = 'buy'))::text FROM rnd
UNION ALL
SELECT 'trends', funnel_trends('1 day', 'bucket day', u, ts, event = 'visit', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'breakdown', funnel_breakdown('1 day', '', u, channel, ts, event = 'visit', event = 'view', event = 'buy')::text FROM rnd
UNION ALL
SELECT 'exclusion', funnel_stage_counts('1 day', 'exclude 3 from 1 to 2', u, ts, event = 'visit', event = 'buy', event = 'Visit')::text FROM rnd
UNION ALL
SELECT 'window_funnel', string_agg(u || ':' || l, ',' ORDER BY u) FROM
    (SELECT u, window_funnel('1 day', 'strict_deduplication', ts, event = 'visit', event = 'view', event = 'buy') AS l FROM rnd GROUP BY u) s
UNION ALL
SELECT 'time_to_convert', string_agg(u || ':' || t, ',' ORDER BY u) FROM
    (SELECT u, time_to_convert('1 day', ts, event = 'visit', event = 'cart') AS t FROM rnd GROUP BY u) s
UNION ALL
SELECT 'over', string_agg(u || ':' || l, ',' ORDER BY u) FROM
    (SELECT DISTINCT u, window_funnel('1 day', ts, event = 'view', event = 'buy') OVER (PARTITION BY u) AS l FROM rnd) s
$$;

SET LOCAL funnel.equalities_as_names = off;
CREATE TEMP TABLE evaluated AS SELECT * FROM pg_temp.answers();
SET LOCAL funnel.equalities_as_names = on;
CREATE TEMP TABLE rewritten AS SELECT * FROM pg_temp.answers();
SELECT is((SELECT count(*) FROM evaluated WHERE v IS NOT NULL), 11::bigint, 'every answer computed');
SELECT is(r.v, e.v, 'rewritten = evaluated: ' || r.k)
FROM rewritten r JOIN evaluated e USING (k) ORDER BY k;

-- the SQL function's statements were rewritten (the comparison is not vacuous)
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('1 day', u, ts, event = 'visit', event = 'view', event = 'cart', event = 'buy') FROM rnd$$),
               $$'\{visit,view,cart,buy\}'::text\[\]$$, 'the random-data query is rewritten');

-- random calls: 150 condition lists mixing equalities (either side, names
-- repeated, names absent from the data), a NULL constant, another column,
-- another operator; each run planned and evaluated, answers compared, and
-- the plans counted (most lists are all equalities, so most are planned
-- as names)
CREATE TEMP TABLE random_calls AS
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 150)
SELECT i, (ARRAY['funnel_stage_counts(''1 day'', %s, u, ts, %s)',
                 'funnel_conversion(''1 day'', %s, u, ts, %s)',
                 'funnel_stage_counts(funnel_summary(''1 day'', %s, u, ts, %s))'])[1 + i % 3] AS call,
       (ARRAY['''''', '''strict_order''', '''strict_deduplication''', '''strict_increase'''])[1 + (i / 3) % 4] AS mode,
       (SELECT string_agg(
            CASE WHEN r < 0.45 THEN format('event = %L', nm)
                 WHEN r < 0.9 THEN format('%L = event', nm)
                 WHEN r < 0.93 THEN 'event = NULL'
                 WHEN r < 0.96 THEN format('channel = %L', ch)
                 ELSE format('event <> %L', nm) END, ', ')
        FROM (SELECT (hashint4(i * 100 + k) & 65535) / 65536.0 AS r,
                     (ARRAY['visit', 'view', 'cart', 'buy', 'Visit', 'view ', 'none'])[1 + (hashint4(i * 7 + k) & 65535) % 7] AS nm,
                     (ARRAY['web', 'ads'])[1 + k % 2] AS ch
              FROM generate_series(1, CASE WHEN i % 5 = 0 THEN 1 + (hashint4(i) & 65535) % 12
                                           ELSE (i > 140)::int * 3 + (i % 7) END + 1) k) x) AS conds
FROM c;
CREATE FUNCTION pg_temp.random_call(r random_calls) RETURNS text LANGUAGE sql AS $$
SELECT 'SELECT ' || format(r.call, r.mode, r.conds) || '::text FROM rnd' $$;
CREATE FUNCTION pg_temp.run_text(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text; BEGIN EXECUTE q INTO v; RETURN v; END $$;
SET LOCAL funnel.equalities_as_names = off;
CREATE TEMP TABLE random_evaluated AS
SELECT i, pg_temp.run_text(pg_temp.random_call(r)) AS v,
       pg_temp.plan_of(pg_temp.random_call(r)) AS plan FROM random_calls r;
SET LOCAL funnel.equalities_as_names = on;
CREATE TEMP TABLE random_planned AS
SELECT i, pg_temp.run_text(pg_temp.random_call(r)) AS v,
       pg_temp.plan_of(pg_temp.random_call(r)) AS plan FROM random_calls r;
SELECT is((SELECT count(*) FROM random_planned p JOIN random_evaluated e USING (i)
           WHERE p.v IS DISTINCT FROM e.v), 0::bigint,
          'random calls: planned = evaluated, every one');
SELECT ok((SELECT count(*) FROM random_planned WHERE plan ~ '::text\[\]') BETWEEN 40 AND 140
          AND (SELECT count(*) FROM random_evaluated WHERE plan ~ '::text\[\]') = 0,
          'random calls: some planned as names, some not: ' ||
          (SELECT count(*) FROM random_planned WHERE plan ~ '::text\[\]'));

-- parallel plans: the rewritten call gives the serial answer
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT is(funnel_stage_counts('1 day', u, ts, event = 'visit', event = 'view', event = 'cart', event = 'buy')::text,
          (SELECT v FROM evaluated WHERE k = 'fsc'), 'parallel plan: the serial answer')
FROM rnd;

SELECT * FROM finish();
ROLLBACK;
