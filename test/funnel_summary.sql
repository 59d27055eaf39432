-- funnel_summary and rollup against independent expectations: journeys
-- generated with known step times (one event per step, in order, inside the
-- window), so that the entities per step and their times from step 1 are
-- plain SQL over the generated data.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(47);
SET LOCAL timezone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;

-- 3000 users: entry at t1 (20 days), depth 1..4 (the last step reached),
-- exponential gaps between steps (mean 1 hour, at least 1 microsecond)
SELECT setseed(0.42);
CREATE TABLE fs_users AS
SELECT u AS uid,
       (ARRAY['ads', 'email', 'search'])[1 + (u % 3)] AS channel,
       '2024-03-01'::timestamptz + floor(random() * 20) * interval '1 day'
           + floor(random() * 86400e6) * interval '1 microsecond' AS t1,
       CASE WHEN r < 0.35 THEN 1 WHEN r < 0.65 THEN 2 WHEN r < 0.85 THEN 3 ELSE 4 END AS depth,
       1 + floor(-ln(1 - random()) * 3600e6)::bigint AS g2,
       1 + floor(-ln(1 - random()) * 3600e6)::bigint AS g3,
       1 + floor(-ln(1 - random()) * 3600e6)::bigint AS g4
FROM (SELECT u, random() AS r FROM generate_series(1, 3000) u) s;
-- the exact time from step 1 of every step reached
CREATE TABLE fs_times AS
SELECT uid, k AS step,
       (CASE k WHEN 1 THEN 0 WHEN 2 THEN g2 WHEN 3 THEN g2 + g3 ELSE g2 + g3 + g4 END) AS t_us
FROM fs_users, generate_series(1, 4) k WHERE k <= depth;
-- the events: one per reached step, plus noise that matches no step and,
-- for 100 more users, a step-2 event without step 1 (level 0: not counted)
CREATE TABLE fs_events AS
SELECT u.uid, u.channel, u.t1 + t.t_us * interval '1 microsecond' AS ts, t.step
FROM fs_users u JOIN fs_times t USING (uid)
UNION ALL
SELECT uid, channel, t1 + interval '5 minutes', 0 FROM fs_users WHERE uid % 7 = 0
UNION ALL
SELECT 100000 + u, 'ads', '2024-03-05'::timestamptz, 2 FROM generate_series(1, 100) u;
ANALYZE fs_events;

CREATE TABLE fs_direct AS
SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) AS s FROM fs_events;

-- 1-2: entities per step
SELECT is(funnel_stage_counts(s),
          (SELECT array_agg(n ORDER BY step) FROM (SELECT step, count(*) AS n FROM fs_times GROUP BY step) c),
          'entities per step are the users whose journey reached it')
FROM fs_direct;
SELECT is(funnel_stage_counts(s),
          (SELECT funnel_stage_counts('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) FROM fs_events),
          'funnel_summary counts agree with funnel_stage_counts')
FROM fs_direct;

SELECT is((SELECT funnel_summary('30 days', uid, ts, VARIADIC ARRAY[step = 1, step = 2, step = 3, step = 4])::text FROM fs_events),
          (SELECT s::text FROM fs_direct), 'the VARIADIC form equals the fixed-arity form');

-- 3: every percentile within 1% of percentile_disc of the exact times
CREATE TABLE fs_q AS
SELECT k, q,
       extract(epoch FROM funnel_time_percentile(s, k, q)) * 1e6 AS est,
       (SELECT percentile_disc(q) WITHIN GROUP (ORDER BY t_us) FROM fs_times WHERE step = k) AS exact
FROM fs_direct, generate_series(1, 4) k,
     unnest(ARRAY[0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) q;
SELECT is((SELECT count(*) FROM fs_q WHERE abs(est - exact) > 0.01 * exact + 1), 0::bigint,
          'percentiles of the times from step 1 are within 1% of percentile_disc');
-- 4: the error bound is not vacuous: some estimates differ from the exact value
SELECT ok((SELECT count(*) FROM fs_q WHERE est <> exact) > 0, 'estimates are approximate (the test can fail)');
-- 5-6: minimum and maximum are exact
SELECT is((SELECT array_agg(extract(epoch FROM funnel_time_percentile(s, k, 0)) * 1e6 ORDER BY k) FROM fs_direct, generate_series(1, 4) k)::numeric[],
          (SELECT array_agg(m ORDER BY step) FROM (SELECT step, min(t_us) AS m FROM fs_times GROUP BY step) x)::numeric[],
          'fraction 0 gives the exact shortest time');
SELECT is((SELECT array_agg(extract(epoch FROM funnel_time_percentile(s, k, 1)) * 1e6 ORDER BY k) FROM fs_direct, generate_series(1, 4) k)::numeric[],
          (SELECT array_agg(m ORDER BY step) FROM (SELECT step, max(t_us) AS m FROM fs_times GROUP BY step) x)::numeric[],
          'fraction 1 gives the exact longest time');
-- 7: funnel_report's median and p90 are these percentiles
SELECT is((SELECT array_agg(median_time_from_start ORDER BY step) || array_agg(p90_time_from_start ORDER BY step) FROM fs_direct, funnel_report(s)),
          (SELECT array_agg(funnel_time_percentile(s, k, 0.5) ORDER BY k) || array_agg(funnel_time_percentile(s, k, 0.9) ORDER BY k)
           FROM fs_direct, generate_series(1, 4) k),
          'funnel_report median and p90 are the 0.5 and 0.9 percentiles');
-- 8: conversion
SELECT is(funnel_conversion(s),
          (SELECT funnel_conversion('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) FROM fs_events),
          'funnel_conversion of a summary equals the funnel_conversion aggregate')
FROM fs_direct;

-- 9-12: daily summaries by entry day (the day of the first step-1 event)
-- and channel count every entity once; their rollup is the direct summary
CREATE TABLE fs_daily AS
SELECT e.entry_day, e.channel,
       funnel_summary('30 days', ev.uid, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4) AS s
FROM fs_events ev
JOIN (SELECT uid, min(channel) AS channel, date_trunc('day', min(ts)) AS entry_day
      FROM fs_events WHERE step = 1 GROUP BY uid) e USING (uid)
GROUP BY e.entry_day, e.channel;
SELECT is((SELECT count(*) FROM fs_daily), 60::bigint, '20 days x 3 channels of daily summaries');
SELECT is((SELECT rollup(s)::text FROM fs_daily), (SELECT s::text FROM fs_direct),
          'rollup of the daily summaries equals the direct summary (counts and time buckets)');
SELECT is((SELECT array_agg(funnel_time_percentile(r, k, 0.9) ORDER BY k) FROM (SELECT rollup(s) AS r FROM fs_daily) x, generate_series(1, 4) k),
          (SELECT array_agg(funnel_time_percentile(s, k, 0.9) ORDER BY k) FROM fs_direct, generate_series(1, 4) k),
          'percentiles of the rollup equal those of the direct summary');
SELECT is((SELECT funnel_stage_counts(rollup(s)) FROM fs_daily WHERE entry_day BETWEEN '2024-03-03' AND '2024-03-09' AND channel = 'email'),
          (SELECT array_agg(n ORDER BY step) FROM (SELECT step, count(*) AS n FROM fs_times JOIN fs_users USING (uid)
            WHERE t1 >= '2024-03-03' AND t1 < '2024-03-10' AND channel = 'email' GROUP BY step) c),
          'rollup over a date range and channel counts that cohort');

SELECT is((SELECT r::text FROM (SELECT entry_day, channel, rollup(s) OVER (ORDER BY entry_day, channel) AS r FROM fs_daily) c
           ORDER BY entry_day DESC, channel DESC LIMIT 1),
          (SELECT s::text FROM fs_direct), 'rollup as a running (window) aggregate ends at the direct summary');

-- 13-16: parallel aggregation (combine, serialise, deserialise) gives the same
CREATE FUNCTION pg_temp.plan_has(q text, pat text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  FOR r IN EXECUTE 'EXPLAIN ' || q LOOP
    IF r ~ pat THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
CREATE TABLE fs_per_user AS
SELECT uid, funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) AS s FROM fs_events GROUP BY uid;
ALTER TABLE fs_events SET (parallel_workers = 2);
ALTER TABLE fs_per_user SET (parallel_workers = 2);
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT ok(pg_temp.plan_has($$SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) FROM fs_events$$, 'Gather')
          AND pg_temp.plan_has($$SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) FROM fs_events$$, 'Partial Aggregate|FunnelAggregate'),
          'funnel_summary runs as a parallel aggregate');
SELECT is((SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4)::text FROM fs_events),
          (SELECT s::text FROM fs_direct), 'parallel funnel_summary equals the serial one');
SELECT ok(pg_temp.plan_has($$SELECT rollup(s) FROM fs_per_user$$, 'Partial Aggregate'), 'rollup runs as a parallel aggregate');
SELECT is((SELECT rollup(s)::text FROM fs_per_user), (SELECT s::text FROM fs_direct),
          'parallel rollup of per-user summaries equals the direct summary');
SET LOCAL max_parallel_workers_per_gather = 0;

-- 17-18: as a window function (the final function does not modify the state)
SELECT is((SELECT count(DISTINCT s::text) FROM (SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) OVER () AS s FROM fs_events) w),
          1::bigint, 'funnel_summary OVER () gives one value on every row');
SELECT is((SELECT funnel_summary('30 days', uid, ts, step = 1, step = 2, step = 3, step = 4) OVER ()::text FROM fs_events LIMIT 1),
          (SELECT s::text FROM fs_direct), 'and it is the direct summary');

-- 19: funnel_event input (open step count): summaries whose highest step differ roll up
SELECT is((SELECT funnel_stage_counts(rollup(s)) FROM (
             SELECT funnel_summary('1 hour', uid, funnel_event(ts, step)) AS s
             FROM (VALUES (1, '2024-01-01 10:00'::timestamptz, 1), (1, '2024-01-01 10:10', 2)) v(uid, ts, step)
             UNION ALL
             SELECT funnel_summary('1 hour', uid, funnel_event(ts, step))
             FROM (VALUES (2, '2024-01-01 10:00'::timestamptz, 1), (2, '2024-01-01 10:10', 2), (2, '2024-01-01 10:20', 3),
                          (3, '2024-01-01 10:00'::timestamptz, 1)) v(uid, ts, step)) u),
          ARRAY[3, 2, 1]::bigint[], 'open-step summaries roll up to the highest step (user 1: 2 steps; users 2, 3: 3 and 1)');
-- 20-21: NULL summaries are skipped; no summaries give NULL
SELECT is((SELECT rollup(s)::text FROM (SELECT s FROM fs_direct UNION ALL SELECT NULL) x), (SELECT s::text FROM fs_direct),
          'rollup skips NULL summaries');
SELECT ok((SELECT rollup(s) FROM fs_direct WHERE false) IS NULL, 'rollup of no summaries is NULL');

-- 22-23: text and binary round trips
SELECT is((SELECT s::text::funnel_summary::text FROM fs_direct), (SELECT s::text FROM fs_direct), 'text round trip');
-- binary input through COPY (FORMAT binary) of a hand-made stream
CREATE TABLE fs_recv(s funnel_summary);
CREATE FUNCTION pg_temp.recv(hex text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  TRUNCATE fs_recv;
  EXECUTE format('COPY fs_recv FROM PROGRAM %L (FORMAT binary)',
    'perl -e ''$d = pack("H*", "' || hex || '"); print "PGCOPY\n\xff\r\n\0", pack("NN", 0, 0), pack("nN", 1, length($d)), $d, pack("n", 0xffff)''');
  SELECT s::text INTO r FROM fs_recv;
  RETURN r;
END $$;
SELECT is(pg_temp.recv((SELECT encode(funnel_summary_send(s), 'hex') FROM fs_direct)), (SELECT s::text FROM fs_direct),
          'binary round trip (send, then recv through COPY)');

-- 24-42: hostile binary input.  A valid 2-step summary, field by field:
-- version 01, flags 00, mode 00, steps 02, window 3600000000 us;
-- step 1: entities 2, zero 2, min 0, max 0, 0 buckets;
-- step 2: entities 1, zero 0, min 5, max 5, 1 bucket: index 81 (0x51), count 1
CREATE TABLE fs_hex(name text, hex text);
INSERT INTO fs_hex VALUES
 ('head', '01000002' || '00000000d693a400'),
 ('step1', '0000000000000002' || '0000000000000002' || '0000000000000000' || '0000000000000000' || '00000000'),
 ('step2', '0000000000000001' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '00000001' || '0051' || '0000000000000001');
CREATE FUNCTION pg_temp.h(n text) RETURNS text LANGUAGE sql AS $$ SELECT hex FROM fs_hex WHERE name = n $$;
SELECT is(pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || pg_temp.h('step2')),
  '{"version": 1, "steps": 2, "window_us": 3600000000, "mode": "", "open_steps": false, "entities": [2, 1], "times_us": [{"zero": 2, "min": 0, "max": 0, "buckets": []}, {"zero": 0, "min": 5, "max": 5, "buckets": [[81, 1]]}]}',
  'a hand-made binary summary reads as written');
SELECT throws_ok($$SELECT pg_temp.recv('03000002' || '00000000d693a400' || pg_temp.h('step1') || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: unknown version', 'recv: unknown version');
SELECT throws_ok($$SELECT pg_temp.recv('01080002' || '00000000d693a400' || pg_temp.h('step1') || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: unknown flags', 'recv: unknown flags');
SELECT throws_ok($$SELECT pg_temp.recv('01040002' || '00000000d693a400' || '00000000' || pg_temp.h('step1') || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: options flag without options', 'recv: the options flag needs an options_id');
SELECT throws_ok($$SELECT pg_temp.recv('01001002' || '00000000d693a400' || pg_temp.h('step1') || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: allow_reentry without strict_order', 'recv: bad mode');
SELECT throws_ok($$SELECT pg_temp.recv('01000000' || '00000000d693a400')$$,
  '22P03', 'invalid binary funnel_summary: step count out of range', 'recv: no steps');
SELECT throws_ok($$SELECT pg_temp.recv('01000041' || '00000000d693a400' || pg_temp.h('step1'))$$,
  '22P03', 'invalid binary funnel_summary: step count out of range', 'recv: 65 steps');
SELECT throws_ok($$SELECT pg_temp.recv('01000002' || 'ffffffffffffffff' || pg_temp.h('step1') || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: negative window', 'recv: negative window');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1'))$$,
  '08P01', 'insufficient data left in message', 'recv: missing step');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || pg_temp.h('step2') || '00')$$,
  '22P03', 'invalid binary funnel_summary: trailing bytes', 'recv: trailing bytes');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || '0000000000000002' || '0000000000000001' || repeat('0', 40) || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: a step''s time counts do not add up to its entities', 'recv: counts do not add up');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || '0000000000000001' || '0000000000000001' || repeat('0', 40) || '0000000000000002' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '00000001' || '0051' || '0000000000000002')$$,
  '22P03', 'invalid binary funnel_summary: a step has more entities than the step before it', 'recv: step 2 above step 1');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '0000000000000001' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '00000001' || '7fff' || '0000000000000001')$$,
  '22P03', 'invalid binary funnel_summary: bucket index out of order or range', 'recv: bucket index out of range');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '0000000000000002' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '00000002' || '0051' || '0000000000000001' || '0050' || '0000000000000001')$$,
  '22P03', 'invalid binary funnel_summary: bucket index out of order or range', 'recv: buckets out of order');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '0000000000000001' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '00000001' || '0051' || '0000000000000000')$$,
  '22P03', 'invalid binary funnel_summary: bucket count not positive', 'recv: zero bucket count');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '0000000000000001' || '0000000000000000' || '0000000000000005' || '0000000000000005' || '7fffffff' || '0051' || '0000000000000001')$$,
  '22P03', 'invalid binary funnel_summary: bucket count out of range', 'recv: huge bucket count');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || 'ffffffffffffffff' || 'ffffffffffffffff' || repeat('0', 40) || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: negative count', 'recv: negative counts');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || '0000000000000002' || '0000000000000001' || repeat('0', 16) || '0000000000000005' || '00000001' || '0051' || '0000000000000001' || pg_temp.h('step2'))$$,
  '22P03', 'invalid binary funnel_summary: times at step 1 must be 0', 'recv: a time at step 1');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '0000000000000001' || '0000000000000000' || '0000000000000009' || '0000000000000005' || '00000001' || '0051' || '0000000000000001')$$,
  '22P03', 'invalid binary funnel_summary: minimum and maximum times out of order', 'recv: min above max');
SELECT throws_ok($$SELECT pg_temp.recv(pg_temp.h('head') || pg_temp.h('step1') || '7fffffffffffffff' || '7fffffffffffffff' || repeat('0', 40))$$,
  '22P03', 'invalid binary funnel_summary: a step has more entities than the step before it', 'recv: huge counts');


-- 45-46: mutated input never crashes: every single-byte change of a valid
-- binary summary, and random digit changes of a valid text form, either
-- raise an error or give a value whose text form reads back to itself
CREATE TABLE fs_fuzz(kind text, ok boolean, consistent boolean);
DO $fuzz$
DECLARE
  good text := pg_temp.h('head') || pg_temp.h('step1') || pg_temp.h('step2');
  txt text := (SELECT s::text FROM fs_direct);
  m text;
  r text;
  pos int;
  i int;
BEGIN
  PERFORM setseed(0.5);
  FOR i IN 1..300 LOOP
    pos := 1 + 2 * floor(random() * (length(good) / 2))::int;
    m := overlay(good PLACING lpad(to_hex(floor(random() * 256)::int), 2, '0') FROM pos FOR 2);
    BEGIN
      r := pg_temp.recv(m);
      INSERT INTO fs_fuzz VALUES ('binary', true, r::funnel_summary::text = r);
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO fs_fuzz VALUES ('binary', false, true);
    END;
  END LOOP;
  FOR i IN 1..300 LOOP
    m := txt;
    -- change one digit somewhere in the document
    pos := 1 + floor(random() * length(m))::int;
    WHILE substr(m, pos, 1) !~ '[0-9]' LOOP pos := 1 + pos % length(m); END LOOP;
    m := overlay(m PLACING floor(random() * 10)::int::text FROM pos FOR 1);
    BEGIN
      r := m::funnel_summary::text;
      INSERT INTO fs_fuzz VALUES ('text', true, r::funnel_summary::text = r);
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO fs_fuzz VALUES ('text', false, true);
    END;
  END LOOP;
END $fuzz$;
SELECT is((SELECT count(*) FILTER (WHERE NOT consistent) FROM fs_fuzz WHERE kind = 'binary'), 0::bigint,
          'mutated binary input: rejected or consistent (' ||
          (SELECT count(*) FILTER (WHERE NOT ok) FROM fs_fuzz WHERE kind = 'binary') || ' of 300 rejected)');
SELECT is((SELECT count(*) FILTER (WHERE NOT consistent) FROM fs_fuzz WHERE kind = 'text'), 0::bigint,
          'mutated text input: rejected or consistent (' ||
          (SELECT count(*) FILTER (WHERE NOT ok) FROM fs_fuzz WHERE kind = 'text') || ' of 300 rejected)');

SELECT * FROM finish();
ROLLBACK;
