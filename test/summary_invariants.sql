-- funnel_summary input (text, binary) accepts only what funnel_summary() and
-- rollup() can make: every invariant of the type is checked, by the one
-- function that also checks parallel rollup states.  Malformed text is
-- 22P02, malformed binary 22P03.  Summaries the aggregate makes, over random
-- journeys in every mode, all read back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(26);
SET LOCAL TimeZone = 'UTC';

-- a text summary of 2 steps, window 3600 s, with the given step 2
CREATE FUNCTION pg_temp.two(step2 text, step2_entities int DEFAULT 1, win bigint DEFAULT 3600000000)
RETURNS text LANGUAGE sql AS $$
  SELECT format('{"version": 1, "steps": 2, "window_us": %s, "mode": "", "open_steps": false, '
                '"entities": [2, %s], "times_us": [{"zero": 2, "min": 0, "max": 0, "buckets": []}, %s]}',
                win, step2_entities, step2) $$;
-- bucket of a time in microseconds: ceil(log_gamma(t)), gamma = 1.01 / 0.99
-- (the definition in funnel_summary.h, computed here in numeric)
CREATE FUNCTION pg_temp.bucket(t numeric) RETURNS int LANGUAGE sql AS
  $$ SELECT ceil(ln(t) / ln(1.01 / 0.99))::int $$;

-- ---------- a consistent hand-made summary reads back as written ----------
-- step 2: times 600 s and 1200 s
SELECT is(pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 1200000000, "buckets": [[%s, 1], [%s, 1]]}',
                             pg_temp.bucket(600000000), pg_temp.bucket(1200000000)), 2)::funnel_summary::text,
          pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 1200000000, "buckets": [[%s, 1], [%s, 1]]}',
                             pg_temp.bucket(600000000), pg_temp.bucket(1200000000)), 2),
          'consistent summary reads back');
-- the bucket numbers above are the ones the aggregate gives
SELECT is((SELECT funnel_summary('1 hour', e, ts, s1, s2)::text FROM (VALUES
             (1, timestamptz '2024-01-01 00:00', true, false), (1, '2024-01-01 00:10', false, true),
             (2, '2024-01-01 00:00', true, false), (2, '2024-01-01 00:20', false, true)) v(e, ts, s1, s2)),
          pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 1200000000, "buckets": [[%s, 1], [%s, 1]]}',
                             pg_temp.bucket(600000000), pg_temp.bucket(1200000000)), 2),
          'the aggregate makes the same summary');

-- ---------- inconsistent histograms: 22P02 ----------
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two('{"zero": 0, "min": 600000000, "max": 600000000, "buckets": [[2000, 1]]}')),
    '22P02', 'invalid input syntax for type funnel_summary: the highest bucket is not the maximum time''s',
    'a bucket beyond the maximum');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 600000000, "buckets": [[%s, 1]]}', pg_temp.bucket(600000000) - 5))),
    '22P02', 'invalid input syntax for type funnel_summary: the highest bucket is not the maximum time''s',
    'a bucket below the maximum (and below the minimum)');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 1200000000, "buckets": [[%s, 1], [%s, 1]]}',
                       pg_temp.bucket(600000000) - 3, pg_temp.bucket(1200000000)), 2)),
    '22P02', 'invalid input syntax for type funnel_summary: the lowest bucket is not the minimum time''s',
    'a bucket below the minimum');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 1200000000, "buckets": [[%s, 2]]}',
                       pg_temp.bucket(1200000000)), 2)),
    '22P02', 'invalid input syntax for type funnel_summary: the lowest bucket is not the minimum time''s',
    'no bucket holds the minimum');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two(format('{"zero": 0, "min": 7200000000, "max": 7200000000, "buckets": [[%s, 1]]}', pg_temp.bucket(7200000000)))),
    '22P02', 'invalid input syntax for type funnel_summary: a time exceeds the window',
    'a time beyond the window');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two('{"zero": 0, "min": 5, "max": 5, "buckets": [[81, 1]]}', 1, 0)),
    '22P02', 'invalid input syntax for type funnel_summary: a time exceeds the window',
    'a positive time with window 0');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two(format('{"zero": 0, "min": 600000000, "max": 600000001, "buckets": [[%s, 1]]}', pg_temp.bucket(600000001)))),
    '22P02', 'invalid input syntax for type funnel_summary: one time with different minimum and maximum',
    'one entity, two different times');
-- a percentile of a consistent summary: times 600, 900 and 1200 s; the
-- median (rank 2) is the representative value 2 gamma^i / (gamma + 1) of
-- the bucket of 900 s, rounded to a microsecond
SELECT ok(abs(extract(epoch FROM funnel_time_percentile(format(
              '{"version": 1, "steps": 2, "window_us": 3600000000, "mode": "", "open_steps": false, "entities": [3, 3], '
              '"times_us": [{"zero": 3, "min": 0, "max": 0, "buckets": []}, {"zero": 0, "min": 600000000, "max": 1200000000, '
              '"buckets": [[%s, 1], [%s, 1], [%s, 1]]}]}',
              pg_temp.bucket(600000000), pg_temp.bucket(900000000), pg_temp.bucket(1200000000))::funnel_summary, 2, 0.5)) * 1000000
          - round(2 * (1.01 / 0.99) ^ pg_temp.bucket(900000000) / (1.01 / 0.99 + 1))) <= 1,
          'median of a consistent summary: the representative value of its bucket');

-- ---------- malformed JSON: 22P02, numbers named as written ----------
SELECT throws_ok($$SELECT '{"version": 1, "steps": 99999999999999999999, "window_us": 3600000000, "mode": "", "open_steps": false, "entities": [1], "times_us": []}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: "steps" value 99999999999999999999 is out of range for type bigint',
    'step count beyond bigint');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two('{"zero": 0, "min": 5, "max": 5, "buckets": [[99999999999999999999, 1]]}')),
    '22P02', 'invalid input syntax for type funnel_summary: "bucket index" value 99999999999999999999 is out of range for type bigint',
    'bucket index beyond bigint');
SELECT throws_ok(format($$SELECT %L::funnel_summary$$,
    pg_temp.two('{"zero": 0, "min": 5, "max": 5, "buckets": [[81, -99999999999999999999]]}')),
    '22P02', 'invalid input syntax for type funnel_summary: "bucket count" value -99999999999999999999 is out of range for type bigint',
    'bucket count beyond bigint');
SELECT throws_ok($$SELECT '{"version": 1, "steps": 1, "window_us": 3600000000, "mode": "bogus", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: unrecognized mode "bogus"', 'unrecognized mode');
SELECT throws_ok($$SELECT '{"version": 1, "steps": 1, "window_us": 3600000000, "mode": "strict", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: unrecognized mode "strict"', 'the old mode name');
SELECT throws_ok($$SELECT '{"version": 1, "steps": 1, "window_us": 3600000000, "mode": "allow_reentry", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: allow_reentry without strict_order', 'allow_reentry alone');
SELECT is($$ {"version": 1, "steps": 1, "window_us": 3600000000, "mode": " strict_order , allow_reentry", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]} $$::funnel_summary::text,
    '{"version": 1, "steps": 1, "window_us": 3600000000, "mode": "strict_order,allow_reentry", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}',
    'a mode list with spaces reads');
SELECT throws_ok($$SELECT '{"version": 1, "steps": 1, "window_us": 3600000000, "mode": 7, "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: "mode" must be a string', 'mode not a string');
SELECT throws_ok($$SELECT '{"version": 1, "steps": 1.5, "window_us": 3600000000, "mode": "", "open_steps": false, "entities": [1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary$$,
    '22P02', 'invalid input syntax for type funnel_summary: "steps" must be an integer', 'fractional step count');

-- ---------- binary input: the same checks, 22P03 ----------
CREATE TABLE si_recv(s funnel_summary);
CREATE FUNCTION pg_temp.recv(hex text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  TRUNCATE si_recv;
  EXECUTE format('COPY si_recv FROM PROGRAM %L (FORMAT binary)',
    'perl -e ''$d = pack("H*", "' || hex || '"); print "PGCOPY\n\xff\r\n\0", pack("NN", 0, 0), pack("nN", 1, length($d)), $d, pack("n", 0xffff)''');
  SELECT s::text INTO r FROM si_recv;
  RETURN r;
END $$;
-- version 1, 2 steps, window 3600 s; step 1: 2 entities at 0; step 2: one
-- entity at 5 us (bucket 81 = 0x51), or in a bucket of the given hex index
CREATE FUNCTION pg_temp.bin(step2 text, win text DEFAULT '00000000d693a400') RETURNS text LANGUAGE sql AS $$
  SELECT '01000002' || win
         || '0000000000000002' || '0000000000000002' || repeat('0', 32) || '00000000'
         || '0000000000000001' || '0000000000000000' || step2 $$;
SELECT is(pg_temp.recv(pg_temp.bin('0000000000000005' || '0000000000000005' || '00000001' || '0051' || '0000000000000001')),
    pg_temp.two('{"zero": 0, "min": 5, "max": 5, "buckets": [[81, 1]]}'), 'binary: consistent summary reads');
SELECT throws_ok(format('SELECT pg_temp.recv(%L)', pg_temp.bin('0000000000000005' || '0000000000000005' || '00000001' || '07d0' || '0000000000000001')),
    '22P03', 'invalid binary funnel_summary: the highest bucket is not the maximum time''s', 'binary: a bucket beyond the maximum');
SELECT throws_ok(format('SELECT pg_temp.recv(%L)', pg_temp.bin('0000000000000005' || '0000000000000005' || '00000001' || '0051' || '0000000000000001', '0000000000000004')),
    '22P03', 'invalid binary funnel_summary: a time exceeds the window', 'binary: a time beyond the window');

-- ---------- what the aggregate makes always reads back ----------
-- random journeys, every mode, windows from 0 to a day; per-user summaries
-- rolled up too (rollup keeps the invariants)
CREATE TEMP TABLE si_ev AS
SELECT (random() * 300)::int AS u,
       timestamptz '2024-01-01' + random() * interval '2 days' AS ts,
       1 + (random() * 4)::int AS step
FROM generate_series(1, 6000);
CREATE TEMP TABLE si_modes(mode text);
INSERT INTO si_modes VALUES (''), ('strict_deduplication'), ('strict_order'), ('strict_increase'),
  ('strict_once'), ('strict_order, allow_reentry'), ('strict_once, strict_increase');
CREATE TEMP TABLE si_windows(w interval);
INSERT INTO si_windows VALUES ('0'), ('1 second'), ('10 minutes'), ('6 hours'), ('1 day');
CREATE TEMP TABLE si_sum AS
SELECT m.mode, w.w,
       (SELECT funnel_summary(w.w, m.mode, u, ts, step = 1, step = 2, step = 3, step = 4, step = 5) FROM si_ev) AS s,
       (SELECT rollup(s) FROM (SELECT funnel_summary(w.w, m.mode, u, ts, step = 1, step = 2, step = 3, step = 4, step = 5) AS s
                               FROM si_ev GROUP BY u % 7) x) AS r
FROM si_modes m, si_windows w;
SELECT is((SELECT count(*) FROM si_sum WHERE s::text::funnel_summary::text = s::text), 35::bigint,
    'every summary of the aggregate reads back as text (7 modes x 5 windows)');
SELECT is((SELECT count(*) FROM si_sum WHERE r::text::funnel_summary::text = s::text), 35::bigint,
    'every rollup reads back and equals the direct summary');
SELECT is((SELECT count(*) FROM si_sum WHERE pg_temp.recv(encode(funnel_summary_send(s), 'hex')) = s::text), 35::bigint,
    'every summary of the aggregate reads back in binary');
SELECT cmp_ok((SELECT count(*) FROM si_sum WHERE (funnel_stage_counts(s))[3] > 0 AND w > '0'), '>', 10::bigint,
    'the summaries have times at later steps');

SELECT * FROM finish();
ROLLBACK;
