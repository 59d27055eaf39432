-- funnel_event text input: the timestamp is parsed without catching errors
-- (ParseDateTime and DecodeDateTime return codes, as timestamptz_in does):
-- a parse failure is 22P02, an error PostgreSQL's date parser raises itself
-- stays that error; an out-of-range step is named as written.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(13);
SET LOCAL TimeZone = 'UTC';

CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

-- parse failures: 22P02 with what was wrong with the timestamp
SELECT throws_ok($$SELECT 'yesterday-ish {1}'::funnel_event$$, '22P02',
    'invalid input syntax for type funnel_event: "yesterday-ish {1}"', 'not a timestamp');
SELECT is(pg_temp.detail_of($$SELECT 'yesterday-ish {1}'::funnel_event$$),
    'The timestamp "yesterday-ish " is not valid: invalid input syntax for type timestamp with time zone.',
    'detail: syntax');
SELECT throws_ok($$SELECT '2024-02-30 10:00 {1}'::funnel_event$$, '22P02',
    'invalid input syntax for type funnel_event: "2024-02-30 10:00 {1}"', 'February 30');
SELECT is(pg_temp.detail_of($$SELECT '2024-02-30 10:00 {1}'::funnel_event$$),
    'The timestamp "2024-02-30 10:00 " is not valid: date/time field value out of range.',
    'detail: field out of range');
SELECT is(pg_temp.detail_of($$SELECT '2024-03-01 10:00+99 {1}'::funnel_event$$),
    'The timestamp "2024-03-01 10:00+99 " is not valid: time zone displacement out of range.',
    'detail: time zone displacement');
SELECT is(pg_temp.detail_of($$SELECT '20000000-03-01 {1}'::funnel_event$$),
    'The timestamp "20000000-03-01 " is not valid: timestamp out of range.',
    'detail: beyond the timestamp range');
-- PostgreSQL's own error, raised inside its date parser, is not rewritten
-- (catching it without a subtransaction would be unsafe)
SELECT throws_ok($$SELECT '2024-03-01 10:00 Mars/Olympus_Mons {1}'::funnel_event$$, '22023',
    'time zone "mars/olympus_mons" not recognized', 'unknown time zone: the date parser''s own error');

-- what parses as timestamptz parses here, to the same instant
SELECT is(event_time((x::text || ' {1}')::funnel_event), x, 'same instant as timestamptz: ' || x::text)
FROM unnest(ARRAY['2024-03-01 09:30:00.25+05:30', '1999-12-31 23:59:59.999999-08', '4714-11-24 00:00:00+00 BC']::timestamptz[]) x;
SELECT is(event_time('epoch {2}'::funnel_event), timestamptz 'epoch', 'special value epoch');
SELECT throws_ok($$SELECT 'infinity {1}'::funnel_event$$, '22008',
    'funnel events cannot have an infinite timestamp', 'infinity is still refused');

-- steps out of range, named as written
SELECT throws_ok($$SELECT '2024-03-01 {99999999999999999999}'::funnel_event$$, '22003',
    'funnel step 99999999999999999999 is out of range', 'a step beyond bigint, as written');
