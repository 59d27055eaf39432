-- The journey type: hand-worked layouts (doc/journeys.md, "The journey
-- type"), text form, casts, and the journey functions over it.
SET timezone = 'UTC';

-- text: any order in, distinct events in time order (then step mask) out;
-- NULL elements are left out, an exact duplicate is kept once, a tie stays
SELECT '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1,2}",NULL,"2024-03-01 09:00+00 {1}","2024-03-01 09:00+00 {1}"}'::journey;
SELECT '{}'::journey, event_count('{}'::journey);
SELECT event_count('{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}","2024-03-01 09:00+00 {1}"}'::journey);

-- the layout, byte by byte: version 01, time unit (00 microseconds,
-- 01 milliseconds, 02 seconds), varint count, varint zigzag(first time in
-- microseconds since 2000-01-01), its step mask, then per event the varint
-- time since the previous event in the unit and the step mask.
-- 2000-01-01 00:00:00 {1}, one second later {2}: 01 02 02 00 01 01 02
SELECT journey_send('{"2000-01-01 00:00:00+00 {1}","2000-01-01 00:00:01+00 {2}"}');
-- half a second apart: milliseconds, 500 = f4 03
SELECT journey_send('{"2000-01-01 00:00:00+00 {1}","2000-01-01 00:00:00.5+00 {1}"}');
-- a microsecond apart: microseconds
SELECT journey_send('{"2000-01-01 00:00:00+00 {1}","2000-01-01 00:00:00.000001+00 {1}"}');
-- one second before 2000: zigzag(-1000000) = 1999999 = ff 88 7a
SELECT journey_send('{"1999-12-31 23:59:59+00 {1}"}');
-- a tie: the same time, masks 1 then 3 (delta 0)
SELECT journey_send('{"2000-01-01 00:00:00+00 {1,2}","2000-01-01 00:00:00+00 {1}"}');
-- the empty journey: 01 02 00
SELECT journey_send('{}');
-- step 64: the mask 2^63 takes 10 bytes (80 80 80 80 80 80 80 80 80 01)
SELECT journey_send('{"2000-01-01 00:00:00+00 {64}"}');

-- the extremes of timestamptz
SELECT '{"294276-12-31 23:59:59.999999+00 {64}","4714-11-24 00:00:00+00 BC {1,64}"}'::journey;

-- sizes: 8 events of whole seconds an hour apart (delta 3600 = 2 bytes)
SELECT pg_column_size(j::journey) AS journey_bytes, pg_column_size(j) AS funnel_event_array_bytes
  FROM (SELECT array_agg(funnel_event(timestamptz '2024-03-01' + g * interval '1 hour', g % 4 + 1)) j
          FROM generate_series(1, 8) g) s;

-- casts both ways
SELECT '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}'::funnel_event[]::journey::funnel_event[];
CREATE TEMP TABLE cj (id int, j journey);
-- assignment: a funnel_event[] is stored as a journey
INSERT INTO cj VALUES (1, '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}'::funnel_event[]);
SELECT id, j, event_count(j) FROM cj;

-- the walk: 09:00 {1}, 09:30 {2}, 11:00 {3}; a 1-hour window reaches step
-- 2, a 2-hour window step 3 (2 hours from 09:00 to 11:00)
SELECT window_funnel('1 hour', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:30+00 {2}","2024-03-01 11:00+00 {3}"}'::journey),
       window_funnel('2 hours', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:30+00 {2}","2024-03-01 11:00+00 {3}"}'::journey),
       time_to_convert('2 hours', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:30+00 {2}","2024-03-01 11:00+00 {3}"}'::journey),
       time_to_convert('2 hours', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:30+00 {2}","2024-03-01 11:00+00 {3}"}'::journey, '', 2);
-- strict_order: a row of no step ({}) between steps 1 and 2 ends the chain
SELECT window_funnel('1 hour', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:10+00 {}","2024-03-01 09:20+00 {2}"}'::journey, 'strict_order'),
       window_funnel('1 hour', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:10+00 {}","2024-03-01 09:20+00 {2}"}'::journey);
-- an exclusion (position 4) between steps 1 and 3 drops the entity (0)
SELECT window_funnel('1 hour', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:10+00 {4}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}'::journey,
                     'exclude 4 from 1 to 3'),
       window_funnel('1 hour', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}'::journey,
                     'exclude 4 from 1 to 3');

-- funnel_summary over journeys, with options: two entities, one reaching
-- step 3 in 30 minutes, one excluded; stage counts 1, 1, 1
SELECT funnel_stage_counts(funnel_summary('1 hour', 'exclude 4 from 1 to 3', j))
  FROM (VALUES ('{"2024-03-01 09:00+00 {1}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}'::journey),
               ('{"2024-03-01 09:00+00 {1}","2024-03-01 09:10+00 {4}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}')) v(j);
-- the same over funnel_event[] journeys
SELECT funnel_stage_counts(funnel_summary('1 hour', 'exclude 4 from 1 to 3', j))
  FROM (VALUES ('{"2024-03-01 09:00+00 {1}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}'::funnel_event[]),
               ('{"2024-03-01 09:00+00 {1}","2024-03-01 09:10+00 {4}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}')) v(j);
-- step_times: from step 1 to 2 took 20 minutes, from step 2 to 3 10 minutes
SELECT step, entities, median_from_previous FROM funnel_step_times(
  (SELECT funnel_summary('1 hour', 'step_times', '{"2024-03-01 09:00+00 {1}","2024-03-01 09:20+00 {2}","2024-03-01 09:30+00 {3}"}'::journey)))
  ORDER BY step;

-- merge and trim
SELECT journey_merge('{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}'::journey,
                     '{"2024-03-01 09:00+00 {1}","2024-03-01 09:00+00 {}","2024-03-01 11:00+00 {3}"}'::journey);
SELECT journey_merge(NULL, '{"2024-03-01 09:00+00 {1}"}'::journey), journey_merge(NULL::journey, NULL);
SELECT journey_trim('{"2024-03-01 09:00+00 {1}","2024-03-01 10:00+00 {2}","2024-03-01 11:00+00 {3}"}'::journey,
                    '2024-03-01 10:00+00'),
       journey_trim('{"2024-03-01 09:00+00 {1}"}'::journey, '2024-03-02');

-- errors
SELECT '{{"2024-03-01 09:00+00 {1}"}}'::journey;
SELECT '{"2024-03-01 09:00+00 {65}"}'::journey;
SELECT '{"infinity {1}"}'::journey;
SELECT 'nonsense'::journey;

-- journey_refresh keeps a journeys table of the type as it keeps a
-- funnel_event[] one: the same rows as sql/journeys.sql, the same journeys
CREATE TABLE cj_events (user_id bigint, ts timestamptz, step int,
                        inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE TABLE cj_journeys (entity bigint PRIMARY KEY, journey journey NOT NULL);
INSERT INTO cj_events (user_id, ts, step) VALUES
  (1, '2024-03-01 09:00+00', 1), (1, '2024-03-01 09:30+00', 2),
  (2, '2024-03-01 10:00+00', 1), (2, '2024-03-01 10:00+00', 1), (NULL, '2024-03-01 10:00+00', 1);
SELECT journey_refresh('cj_journeys', 'cj_events', 'user_id', 'funnel_event(ts, step)') AS folded;
SELECT * FROM cj_journeys ORDER BY entity;
-- a late row with an old time goes in its place; a new user gets a journey
INSERT INTO cj_events (user_id, ts, step) VALUES
  (1, '2024-02-28 08:00+00', 1), (1, '2024-03-01 11:00+00', 3), (3, '2024-03-02 00:00+00', 2);
SELECT journey_refresh('cj_journeys', 'cj_events', 'user_id', 'funnel_event(ts, step)') AS folded;
SELECT * FROM cj_journeys ORDER BY entity;
-- with a retention horizon: the journeys it touches lose older events
INSERT INTO cj_events (user_id, ts, step) VALUES (1, '2024-03-01 12:00+00', 3);
SELECT journey_refresh('cj_journeys', 'cj_events', 'user_id', 'funnel_event(ts, step)',
                       horizon => '2024-03-01 09:15+00') AS folded;
SELECT * FROM cj_journeys ORDER BY entity;
DELETE FROM journey_watermark WHERE journeys = 'cj_journeys'::regclass;
DROP TABLE cj_events, cj_journeys;
