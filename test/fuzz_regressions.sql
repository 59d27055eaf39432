-- Inputs the fuzzer (test/fuzz.sh) found accepted wrongly, reduced to one
-- case each: every one must now be rejected with a clean error, or read back
-- to the same value.  Binary input goes through COPY (FORMAT binary) from a
-- file the server writes (lo_export), so this needs a superuser.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(18);

CREATE FUNCTION pg_temp.f(name text) RETURNS text LANGUAGE sql AS
    $$ SELECT current_setting('data_directory') || '/' || name $$;
-- COPY FROM (FORMAT binary) of a file holding one row of one column: v
CREATE FUNCTION pg_temp.copy_in(tbl text, v bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE o oid;
BEGIN
    o := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                          || '\x0001'::bytea || int4send(length(v)) || v || '\xffff'::bytea);
    PERFORM lo_export(o, pg_temp.f('funnel_fuzz_regression.bin'));
    PERFORM lo_unlink(o);
    EXECUTE format('COPY %I FROM %L (FORMAT binary)', tbl, pg_temp.f('funnel_fuzz_regression.bin'));
END $$;

-- attribution_summary: the text form has no -0, so binary -0 read back as 0
-- (a different value).  A summary whose conversions all had a touchpoint:
-- the NULL channel's credit (bytes 58..65) and value (66..73) are 0.
CREATE TABLE a_dst (s attribution_summary);
CREATE TEMP TABLE a_src AS SELECT attribution('linear', e, ts, ch, v) AS s
FROM (VALUES (1, timestamptz '2024-01-01', 'A', NULL::numeric), (1, '2024-01-02', NULL, 10)) x(e, ts, ch, v);
SELECT is(substr(attribution_summary_send(s), 59, 16), '\x00000000000000000000000000000000'::bytea,
          'attribution_summary: the bytes changed below hold the NULL channel''s zero credit and value')
FROM a_src;
SELECT throws_ok(format($$SELECT pg_temp.copy_in('a_dst', %L)$$,
                        overlay(attribution_summary_send(s) placing '\x80'::bytea from 59 for 1)),
                 '22P03', NULL, 'attribution_summary binary input: a credit of -0 is rejected')
FROM a_src;
SELECT throws_ok(format($$SELECT pg_temp.copy_in('a_dst', %L)$$,
                        overlay(attribution_summary_send(s) placing '\x80'::bytea from 67 for 1)),
                 '22P03', NULL, 'attribution_summary binary input: a value of -0 is rejected')
FROM a_src;
-- attribution_summary: counts above 9e15 (the largest the JSON form reads
-- exactly) were accepted in binary input, and their text did not read back.
-- The touchpoint count is bytes 34..41.
SELECT is(substr(attribution_summary_send(s), 35, 8), int8send(1),
          'attribution_summary: the bytes changed below hold the touchpoint count')
FROM a_src;
SELECT throws_ok(format($$SELECT pg_temp.copy_in('a_dst', %L)$$,
                        overlay(attribution_summary_send(s) placing int8send(9000000000000001) from 35 for 8)),
                 '22P03', NULL, 'attribution_summary binary input: a count above 9e15 is rejected')
FROM a_src;
TRUNCATE a_dst;
SELECT pg_temp.copy_in('a_dst', overlay(attribution_summary_send(s) placing int8send(9000000000000000) from 35 for 8))
FROM a_src;
SELECT is((SELECT attribution_summary_send(s::text::attribution_summary) FROM a_dst),
          (SELECT attribution_summary_send(s) FROM a_dst),
          'attribution_summary: a count of 9e15 in binary input reads back from its text');

-- pipeline_summary: stay lengths are sums of whole microseconds; a fraction
-- (or -0) was accepted in binary input and lost by the text form.
CREATE TABLE p_dst (m pipeline_summary);
CREATE TEMP TABLE p_src AS SELECT pipeline_model(d, ts, st, ARRAY['won', 'lost']) AS m
FROM (VALUES (1, timestamptz '2024-01-01', 'lead'), (1, '2024-01-03', 'won'), (2, '2024-01-02', 'lead')) x(d, ts, st);
-- version 1, four int64 totals, the stage count: 'lead' starts at byte 37;
-- its stay length (3 days: deal 1's 2, deal 2's 1 up to the last row) is
-- bytes 78..85; 'lost' (no stays) follows at 86, its
-- stay length is bytes 127..134
SELECT is(substr(pipeline_summary_send(m), 79, 8), float8send(3 * 86400e6),
          'pipeline_summary: the bytes changed below hold the lead stage''s stay length')
FROM p_src;
SELECT is(substr(pipeline_summary_send(m), 91, 4) || substr(pipeline_summary_send(m), 128, 8),
          convert_to('lost', 'UTF8') || float8send(0),
          'pipeline_summary: then the lost stage, with a stay length of 0')
FROM p_src;
SELECT throws_ok(format($$SELECT pg_temp.copy_in('p_dst', %L)$$,
                        set_byte(pipeline_summary_send(m), 85, get_byte(pipeline_summary_send(m), 85) # 1)),
                 '22P03', NULL, 'pipeline_summary binary input: a stay length with a fraction of a microsecond is rejected')
FROM p_src;
SELECT throws_ok(format($$SELECT pg_temp.copy_in('p_dst', %L)$$,
                        overlay(pipeline_summary_send(m) placing '\x80'::bytea from 128 for 1)),
                 '22P03', NULL, 'pipeline_summary binary input: a stay length of -0 is rejected')
FROM p_src;
-- and a count above 9e15: the lead stage's open deals are bytes 54..61
SELECT throws_ok(format($$SELECT pg_temp.copy_in('p_dst', %L)$$,
                        overlay(pipeline_summary_send(m) placing int8send(9000000000000001) from 55 for 8)),
                 '22P03', NULL, 'pipeline_summary binary input: a count above 9e15 is rejected')
FROM p_src;
-- text input still takes any number of days (rounded to the microsecond)
SELECT is(pipeline_summary_send(t::pipeline_summary),
          pipeline_summary_send(t::pipeline_summary::text::pipeline_summary),
          'pipeline_summary text input: stay days are read to the whole microsecond, and round-trip')
FROM (SELECT replace(m::text, '"stay_days": 3', '"stay_days": 3.0000000000001') AS t FROM p_src) x
WHERE t LIKE '%3.0000000000001%';

-- cohort_report and cohort_heatmap walked periods 1 .. "periods" + 1 of a
-- cohort_matrix written by hand: 10^8 periods ran for minutes (and 2^31 - 1
-- overflowed); they read the periods the matrix holds.  23 cells are not NULL.
SET LOCAL statement_timeout = '10s';
SELECT is((SELECT count(*) FROM cohort_report(m)), 23::bigint,
          'cohort_report of a matrix claiming 10^8 periods reads the 13 it holds')
FROM (SELECT '(month,100000000,"{2023-01-01,2023-03-01,2023-12-01}","{2,1,1}","{{2,1,0,0,0,1,0,0,0,0,0,0,NULL},{1,0,0,0,0,0,1,0,0,0,NULL,NULL,NULL},{1,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL}}")'::cohort_matrix AS m) x;
SELECT is((SELECT string_agg(retention, '|') FROM cohort_heatmap(m)),
          ' 100█  50▓   0    0    0   50▓   0    0    0    0    0    0 | 100█   0    0    0    0    0  100█   0    0    0 | 100█',
          'cohort_heatmap of a matrix claiming 2^31 - 1 periods')
FROM (SELECT '(month,2147483647,"{2023-01-01,2023-03-01,2023-12-01}","{2,1,1}","{{2,1,0,0,0,1,0,0,0,0,0,0,NULL},{1,0,0,0,0,0,1,0,0,0,NULL,NULL,NULL},{1,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL}}")'::cohort_matrix AS m) x;
RESET statement_timeout;

-- amounts are int128 billionths: the binary form took the most negative,
-- -2^127 billionths, whose text (-170141183460469231731687303715.884105728)
-- the text input refused (it read the magnitude as a positive int128 first).
-- The range is [-2^127, 2^127 - 1] billionths both ways now.
CREATE TEMP TABLE mk_template AS SELECT $${"lookback": "30 days", "touchpoints": 4, "converting_journeys": 2, "other_journeys": 1, "conversions_without_touchpoint": 0, "value": 140.492406784, "value_without_touchpoint": %s, "channels": [{"channel": "email", "start": 0, "conversion": 1, "null": 0, "journeys": 1, "touched": 1}, {"channel": "search", "start": 2, "conversion": 0, "null": 1, "journeys": 1, "touched": 2}, {"channel": "social", "start": 1, "conversion": 1, "null": 0, "journeys": 1, "touched": 1}], "transitions": [{"from": "search", "to": "email", "count": 1}]}$$::text AS t;
SELECT is((SELECT v::text::markov_transitions::text FROM (SELECT format(t, '-170141183460469231731687303715.884105728')::markov_transitions AS v FROM mk_template) x),
          format((SELECT t FROM mk_template), '-170141183460469231731687303715.884105728'),
          'markov_transitions: the most negative amount reads in and back');
SELECT is((SELECT format(t, '170141183460469231731687303715.884105727')::markov_transitions::text FROM mk_template),
          format((SELECT t FROM mk_template), '170141183460469231731687303715.884105727'),
          'markov_transitions: the largest amount reads in and back');
SELECT throws_ok(format($$SELECT %L::markov_transitions$$, format((SELECT t FROM mk_template), '170141183460469231731687303715.884105728')),
                 '22P02', NULL, 'markov_transitions: an amount past the largest is refused');
SELECT throws_ok(format($$SELECT %L::markov_transitions$$, format((SELECT t FROM mk_template), '-170141183460469231731687303715.884105729')),
                 '22P02', NULL, 'markov_transitions: an amount below the most negative is refused');

SELECT * FROM finish();
ROLLBACK;
