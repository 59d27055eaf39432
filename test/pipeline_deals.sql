-- pipeline_report.deals counts distinct deals (a deal that makes a move
-- twice counts once) while probability stays the move's share of the
-- stage's transitions; pipeline_summary keeps both per transition, and a
-- summary stored by 1.0 (text, binary or on disk) still reads, its deals
-- what 1.0 reported (the transitions).  Hand-worked histories; the 1.0
-- binary layout is written out field by field from the 1.0 format.
-- Binary COPY goes through files in the data directory (needs a superuser).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(15);

CREATE FUNCTION pg_temp.d(n numeric) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT timestamptz '2024-01-01 00:00+00' + n * interval '1 day' $$;
-- pipeline_report as sorted text: stage>next_stage:deals:probability
CREATE FUNCTION pg_temp.report(m pipeline_summary) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(stage || '>' || next_stage || ':' || deals || ':' || round(probability::numeric, 6)
                     ORDER BY stage, next_stage)
    FROM pipeline_report(m) $$;

-- One deal: a 0, c 1, a 2, c 3, b 4 (b terminal).
--   a -> c twice (1 deal), c -> a once, c -> b once.
--   a: 2 stays, both to c (probability 1); c: 2 stays, a 1/2, b 1/2.
CREATE TEMP TABLE once AS
SELECT pipeline_model(1, pg_temp.d(n), s, ARRAY['b']) AS m
FROM (VALUES (0, 'a'), (1, 'c'), (2, 'a'), (3, 'c'), (4, 'b')) h(n, s);
SELECT is(pg_temp.report(m), ARRAY['a>c:1:1.000000', 'c>a:1:0.500000', 'c>b:1:0.500000'],
          'a deal that makes a move twice counts once in deals; probability from the transitions') FROM once;
SELECT is(m::text::jsonb -> 'transitions' -> 0, '{"from": "a", "to": "c", "transitions": 2, "deals": 1}'::jsonb,
          'text form: transitions and distinct deals of a move') FROM once;

-- Several deals.
--   deal 1: lead 0, qualified 1, lead 2, qualified 3, won 4
--   deal 2: lead 0, qualified 2, lost 3
--   deal 3: lead 0, qualified 1, won 5
-- lead -> qualified: 4 transitions by 3 deals, all of lead's 4 stays (1).
-- qualified: 4 stays: lead 1 (deal 1), won 2 (deals 1, 3), lost 1 (deal 2).
CREATE TEMP TABLE several AS
SELECT pipeline_model(deal, pg_temp.d(n), s, ARRAY['won', 'lost']) AS m
FROM (VALUES (1, 0, 'lead'), (1, 1, 'qualified'), (1, 2, 'lead'), (1, 3, 'qualified'), (1, 4, 'won'),
             (2, 0, 'lead'), (2, 2, 'qualified'), (2, 3, 'lost'),
             (3, 0, 'lead'), (3, 1, 'qualified'), (3, 5, 'won')) h(deal, n, s);
SELECT is(pg_temp.report(m),
          ARRAY['lead>qualified:3:1.000000', 'qualified>lead:1:0.250000', 'qualified>lost:1:0.250000',
                'qualified>won:2:0.500000'],
          'several deals making the same move') FROM several;

-- round trips of a 1.1 value
SELECT is(m::text::pipeline_summary::text, m::text, 'text round trip') FROM several;
SELECT is(pg_temp.report(m::text::pipeline_summary), pg_temp.report(m), 'text round trip: the same report') FROM several;

CREATE FUNCTION pg_temp.f(name text) RETURNS text LANGUAGE sql AS
    $$ SELECT current_setting('data_directory') || '/' || name $$;
CREATE FUNCTION pg_temp.put(path text, b bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE o oid;
BEGIN
    o := lo_from_bytea(0, b);
    PERFORM lo_export(o, path);
    PERFORM lo_unlink(o);
END $$;
-- load one pipeline_summary from its bytes through a binary COPY file
CREATE TABLE p_dst (m pipeline_summary);
CREATE FUNCTION pg_temp.load(v bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.put(pg_temp.f('funnel_pipe_deals.bin'),
                        '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea || '\x0001'::bytea
                        || int4send(length(v)) || v || '\xffff'::bytea);
    TRUNCATE p_dst;
    EXECUTE format('COPY p_dst FROM %L (FORMAT binary)', pg_temp.f('funnel_pipe_deals.bin'));
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;
CREATE TABLE p_src AS SELECT m FROM several;
CREATE FUNCTION pg_temp.copy(tbl text, dir text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY %I %s %L (FORMAT binary)', tbl, dir, pg_temp.f('funnel_pipe_deals_rt.bin'));
END $$;
SELECT pg_temp.copy('p_src', 'TO');
SELECT pg_temp.copy('p_dst', 'FROM');
SELECT is((SELECT m::text FROM p_dst), (SELECT m::text FROM p_src), 'binary COPY round trip');

-- The same history as "once", stored by 1.0: transitions only, "deals"
-- meaning the transitions.  Its text form:
CREATE TEMP TABLE old_text(t text);
INSERT INTO old_text VALUES ('{"deals": 1, "first_entry": "2024-01-01 00:00:00+00", "last_entry": "2024-01-01 00:00:00+00", "as_of": "2024-01-05 00:00:00+00", "stages": [{"stage": "a", "terminal": false, "entries": 1, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}, {"stage": "b", "terminal": true, "entries": 0, "open": 0, "ended": 1, "stays": 0, "stay_days": 0}, {"stage": "c", "terminal": false, "entries": 0, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}], "transitions": [{"from": "a", "to": "c", "deals": 2}, {"from": "c", "to": "a", "deals": 1}, {"from": "c", "to": "b", "deals": 1}]}');
-- its stored bytes in the 1.0 layout: version 1, deals, first entry, last
-- entry, as of; stages by name (length, name, terminal, entries, open,
-- ended, stays, stay microseconds); transitions (from, to, count)
CREATE FUNCTION pg_temp.us(n numeric) RETURNS bytea LANGUAGE sql AS
    $$ SELECT int8send(((extract(epoch FROM pg_temp.d(n)) - 946684800) * 1000000)::bigint) $$;
CREATE TEMP TABLE old_bytes AS
SELECT '\x01'::bytea || int8send(1) || pg_temp.us(0) || pg_temp.us(0) || pg_temp.us(4) || int4send(3)
       || int4send(1) || 'a'::bytea || '\x00'::bytea || int8send(1) || int8send(0) || int8send(0) || int8send(2) || float8send(2 * 86400e6)
       || int4send(1) || 'b'::bytea || '\x01'::bytea || int8send(0) || int8send(0) || int8send(1) || int8send(0) || float8send(0)
       || int4send(1) || 'c'::bytea || '\x00'::bytea || int8send(0) || int8send(0) || int8send(0) || int8send(2) || float8send(2 * 86400e6)
       || int4send(3) || int4send(0) || int4send(2) || int8send(2) || int4send(2) || int4send(0) || int8send(1)
       || int4send(2) || int4send(1) || int8send(1) AS b;

SELECT is(pg_temp.report(t::pipeline_summary), ARRAY['a>c:2:1.000000', 'c>a:1:0.500000', 'c>b:1:0.500000'],
          '1.0 text form accepted; its deals are what 1.0 reported (the transitions)') FROM old_text;
SELECT is(t::pipeline_summary::text::jsonb, t::jsonb, '1.0 text form: the value keeps the 1.0 form') FROM old_text;
SELECT is(pipeline_summary_send(t::pipeline_summary), b, '1.0 text form: the 1.0 stored bytes') FROM old_text, old_bytes;
SELECT is(pg_temp.load(b), 'loaded', '1.0 binary form accepted') FROM old_bytes;
SELECT is((SELECT pg_temp.report(m) FROM p_dst), ARRAY['a>c:2:1.000000', 'c>a:1:0.500000', 'c>b:1:0.500000'],
          '1.0 binary form: the report of a 1.0 value');
SELECT is((SELECT array_agg(r::text ORDER BY r.outcome) FROM p_dst, pipeline_forecast(m, 'a', 4) r),
          (SELECT array_agg(r::text ORDER BY r.outcome) FROM once, pipeline_forecast(m, 'a', 4) r),
          'the forecast of a 1.0 value and of the 1.1 value of the same history agree');

-- damaged values
SELECT throws_ok($$SELECT '{"deals": 1, "first_entry": "2024-01-01 00:00:00+00", "last_entry": "2024-01-01 00:00:00+00", "as_of": "2024-01-05 00:00:00+00", "stages": [{"stage": "a", "terminal": false, "entries": 1, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}, {"stage": "b", "terminal": true, "entries": 0, "open": 0, "ended": 1, "stays": 0, "stay_days": 0}, {"stage": "c", "terminal": false, "entries": 0, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}], "transitions": [{"from": "a", "to": "c", "transitions": 2, "deals": 1}, {"from": "c", "to": "a", "deals": 1}, {"from": "c", "to": "b", "deals": 1}]}'::pipeline_summary$$,
                 '22P02', NULL, 'text form: transitions with and without distinct deals rejected');
SELECT throws_ok($$SELECT '{"deals": 1, "first_entry": "2024-01-01 00:00:00+00", "last_entry": "2024-01-01 00:00:00+00", "as_of": "2024-01-05 00:00:00+00", "stages": [{"stage": "a", "terminal": false, "entries": 1, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}, {"stage": "b", "terminal": true, "entries": 0, "open": 0, "ended": 1, "stays": 0, "stay_days": 0}, {"stage": "c", "terminal": false, "entries": 0, "open": 0, "ended": 0, "stays": 2, "stay_days": 2}], "transitions": [{"from": "a", "to": "c", "transitions": 2, "deals": 3}, {"from": "c", "to": "a", "transitions": 1, "deals": 1}, {"from": "c", "to": "b", "transitions": 1, "deals": 1}]}'::pipeline_summary$$,
                 '22P03', 'invalid pipeline_summary: bad transition', 'text form: more deals than transitions rejected');
-- the last transition's distinct deals (its last 8 bytes) set to 2: more
-- than its 1 transition
SELECT is(pg_temp.load(overlay(pipeline_summary_send(m) PLACING int8send(2) FROM length(pipeline_summary_send(m)) - 7 FOR 8)),
          'invalid pipeline_summary: bad transition', 'binary form: more deals than transitions rejected') FROM once;

SELECT * FROM finish();
ROLLBACK;
