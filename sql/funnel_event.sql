--
-- funnel_event: text form, constructors, accessors, ordering
--
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- text input takes any timestamptz literal before the braces; output is
-- ISO 8601 at UTC with the steps ascending and without repeats
SELECT i AS input, i::funnel_event AS output
FROM (VALUES ('2024-03-01 09:30:00+00 {1,3}'),
             ('2024-03-01 10:30:00+01 {3,1}'),
             ('2024-03-01 09:30:00.25+00 {2}'),
             ('2024-03-01 09:30:00.000001+00 {}'),
             ('  2024-03-01 09:30:00+00   { 1 , 2 , 2 }  '),
             ('2024-03-01T09:30:00Z {64,1}'),
             ('2024-03-01 09:30:00 America/New_York {+7}'),
             ('epoch {5}'),
             ('0044-03-15 12:00:00+00 BC {1}'),
             ('4714-11-24 00:00:00+00 BC {2}'),
             ('294276-12-31 23:59:59.999999+00 {63,64}')) v(i);

-- text round trip: output read back gives the same value
SELECT bool_and(i::funnel_event::text::funnel_event = i::funnel_event) AS round_trip,
       bool_and(i::funnel_event::text = i::funnel_event::text::funnel_event::text) AS same_text
FROM (VALUES ('2024-03-01 09:30:00+00 {1,3}'), ('2024-03-01 09:30:00.000001+00 {}'),
             ('0044-03-15 12:00:00+00 BC {1}'), ('294276-12-31 23:59:59.999999+00 {63,64}')) v(i);

-- output does not depend on TimeZone or DateStyle; input without an offset
-- is read in the session's time zone (Kolkata is +05:30) and DateStyle
SET timezone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SELECT '2024-03-01 09:30:00+00 {1,3}'::funnel_event AS utc_input,
       '2024-03-01 09:30:00 {1}'::funnel_event AS local_input,
       '02/03/2024 00:00:00+00 {1}'::funnel_event AS dmy_input;
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- constructors (NULL conditions count as false) and accessors
SELECT funnel_event('2024-03-01 09:30+00', 3) AS one_step,
       funnel_event('2024-03-01 09:30+00', 64) AS step_64,
       funnel_event('2024-03-01 09:30+00', true, NULL, true) AS conditions,
       funnel_event('2024-03-01 09:30+00', false, false) AS no_step;
SELECT funnel_event(NULL, 1) IS NULL AS null_time,
       funnel_event('2024-03-01 09:30+00', NULL::int) IS NULL AS null_step;
SELECT event_time('2024-03-01 10:30:00+01 {3,1}') AS event_time,
       event_steps('2024-03-01 10:30:00+01 {3,1}') AS event_steps,
       event_steps('2024-03-01 10:30:00+01 {}') AS no_steps,
       event_steps('2024-03-01 10:30:00+01 {64}') AS step_64;
SELECT array_length(event_steps(funnel_event(now(), VARIADIC array_fill(true, ARRAY[64]))), 1) AS all_64,
       event_steps(funnel_event(now(), VARIADIC array_fill(true, ARRAY[64]))) = ARRAY(SELECT generate_series(1, 64)) AS all_64_in_order;

-- comparison: by time, then by the step set as an unsigned 64-bit mask
-- (bit k-1 = step k): {2} = 2 < {1,3} = 5; {64} = 2^63 is above {1..63}
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
       funnel_event_cmp(a, b) AS cmp
FROM (VALUES ('2024-03-01 09:30+00 {2}'::funnel_event, '2024-03-01 09:30+00 {1,3}'::funnel_event),
             ('2024-03-01 09:30+00 {64}', '2024-03-01 09:31+00 {}'),
             ('2024-03-01 09:30+00 {}', '2024-03-01 09:30+00 {1}'),
             ('2024-03-01 09:30+00 {1,3}', '2024-03-01 10:30+01 {3,1}'),
             ('2024-03-01 09:30:00.000001+00 {1}', '2024-03-01 09:30+00 {1}')) v(a, b);
SELECT '2024-03-01 09:30+00 {64}'::funnel_event
       > funnel_event('2024-03-01 09:30+00', VARIADIC array_fill(true, ARRAY[63])) AS step64_above_all_others;

-- sorting
SELECT e FROM (VALUES ('2024-03-01 09:31+00 {}'::funnel_event), ('2024-03-01 09:30+00 {64}'),
    ('2024-03-01 09:30+00 {1,3}'), ('2024-03-01 09:30+00 {2}'), ('2024-03-01 09:30+00 {}'),
    ('2024-03-01 09:30+00 {1}'), ('0044-03-15 12:00:00+00 BC {1}')) v(e)
ORDER BY e;

-- arrays of funnel_event: element text is quoted, and reads back
SELECT ARRAY['2024-03-01 09:30+00 {1,3}'::funnel_event, '2024-03-01 09:31+00 {}'] AS journey;
SELECT '{"2024-03-01 09:30:00+00 {1,3}","2024-03-01 09:31:00+00 {}"}'::funnel_event[]
       = ARRAY['2024-03-01 09:30+00 {1,3}'::funnel_event, '2024-03-01 09:31+00 {}'] AS array_round_trip;
