--
-- journeys kept current: journey_merge, journey_trim, journey_agg and
-- journey_refresh, on cases worked out by hand (doc/journeys.md)
--
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- merge: any arrival order, an exact duplicate once, ties (one time,
-- different steps; a row matching no step) kept, NULL elements left out.
-- By hand: 09:00 {} (mask 0), 09:00 {1} (mask 1), 09:00 {1,2} (mask 3),
-- 10:00 {2}, 11:00 {3}.
CREATE TEMP TABLE m AS
SELECT '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}'::funnel_event[] AS j,
       '{"2024-03-01 09:00+00 {1}","2024-03-01 09:00+00 {}",NULL,"2024-03-01 11:00+00 {3}","2024-03-01 09:00+00 {1,2}"}'::funnel_event[] AS d;
SELECT journey_merge(j, d) FROM m;
SELECT journey_merge(j, d) = '{"2024-03-01 09:00+00 {}","2024-03-01 09:00+00 {1}","2024-03-01 09:00+00 {1,2}","2024-03-01 10:00+00 {2}","2024-03-01 11:00+00 {3}"}' AS canonical,
       journey_merge(j, d) = journey_merge(d, j) AS commutes,
       journey_merge(journey_merge(j, d), journey_merge(j, d)) = journey_merge(j, d) AS idempotent,
       journey_merge(journey_merge(j, d), d) = journey_merge(j, d) AS delta_twice_is_once,
       journey_merge(journey_merge(j, d), NULL) = journey_merge(j, d) AS null_delta
FROM m;
-- a NULL journey is empty; NULL when both are
SELECT journey_merge(NULL, NULL) IS NULL AS both_null,
       journey_merge(NULL, '{}') = '{}' AS empty,
       journey_merge(NULL, '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}","2024-03-01 10:00+00 {2}"}')
         = '{"2024-03-01 09:00+00 {1}","2024-03-01 10:00+00 {2}"}' AS canonical_alone;
-- the lower bound of the result is 1 even for a journey written [0:1]
SELECT array_lower(journey_merge('[0:1]={"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}', '{}'), 1) AS lower_bound;
SELECT journey_merge('{{"2024-03-01 10:00+00 {2}"}}', '{}');

-- trim: the events at or after the horizon, in the journey's order
SELECT journey_trim(journey_merge(j, d), '2024-03-01 10:00+00') FROM m;
SELECT journey_trim('{"2024-03-01 11:00+00 {3}","2024-03-01 08:00+00 {1}",NULL,"2024-03-01 10:00+00 {2}"}', '2024-03-01 09:00+00');
SELECT journey_trim(journey_merge(j, d), '2024-03-02') = '{}' AS all_trimmed,
       journey_trim(NULL, '2024-03-02') IS NULL AS null_journey
FROM m;

-- journey_agg: each user's events in canonical form; NULL events left out,
-- NULL over no event
CREATE TEMP TABLE raw (user_id int, ts timestamptz, step int);
INSERT INTO raw VALUES
  (1, '2024-03-01 12:00+00', 3), (1, '2024-03-01 09:00+00', 1), (1, '2024-03-01 09:30+00', 2),
  (1, '2024-03-01 09:00+00', 1),                                   -- exact duplicate
  (2, '2024-03-01 09:00+00', 2), (2, '2024-03-01 09:00+00', 1),    -- a tie
  (2, NULL, 1),                                                    -- NULL event
  (3, NULL, 2);                                                    -- only NULL
SELECT user_id, journey_agg(funnel_event(ts, step)) FROM raw GROUP BY user_id ORDER BY user_id;
-- as a window function: the journey so far
SELECT ts, journey_agg(funnel_event(ts, step)) OVER (ORDER BY ts, step ROWS UNBOUNDED PRECEDING)
FROM raw WHERE user_id = 1 ORDER BY ts, step;
-- the walk over the journey: 09:00 step 1, 09:30 step 2, 12:00 step 3; in a
-- 1-hour window step 3 is out of reach (level 2), in 3 hours it is not (3);
-- time to step 2: 30 minutes
SELECT window_funnel('1 hour', j) AS level_1h, window_funnel('3 hours', j) AS level_3h,
       time_to_convert('1 hour', j, '', 2) AS to_step_2
FROM (SELECT journey_agg(funnel_event(ts, step)) AS j FROM raw WHERE user_id = 1) s;

-- journey_refresh: rows of ended transactions, once each
CREATE TABLE journey_events (user_id bigint, ts timestamptz, step int,
                             inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE INDEX ON journey_events (inserted_xid);
CREATE TABLE user_journeys (entity bigint PRIMARY KEY, journey funnel_event[] NOT NULL);
INSERT INTO journey_events (user_id, ts, step) VALUES
  (1, '2024-03-01 09:00+00', 1), (1, '2024-03-01 09:30+00', 2),
  (2, '2024-03-01 10:00+00', 1), (2, '2024-03-01 10:00+00', 1), (NULL, '2024-03-01 10:00+00', 1);
SELECT journey_refresh('user_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)') AS folded;
SELECT * FROM user_journeys ORDER BY entity;
-- nothing new: nothing folded
SELECT journey_refresh('user_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)') AS folded;
-- a late row with an old time goes in its place; a new user gets a journey
INSERT INTO journey_events (user_id, ts, step) VALUES
  (1, '2024-02-28 08:00+00', 1), (1, '2024-03-01 11:00+00', 3), (3, '2024-03-02 00:00+00', 2);
SELECT journey_refresh('user_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)') AS folded;
SELECT * FROM user_journeys ORDER BY entity;
SELECT source, rows_folded, xid_horizon IS NOT NULL AS has_horizon
FROM journey_watermark WHERE journeys = 'user_journeys'::regclass;
-- with a retention horizon: the journeys it touches lose older events
INSERT INTO journey_events (user_id, ts, step) VALUES (1, '2024-03-01 12:00+00', 3);
SELECT journey_refresh('user_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)',
                       horizon => '2024-03-01 09:15+00') AS folded;
SELECT * FROM user_journeys ORDER BY entity;
-- errors: another source, missing arguments, a missing column
CREATE TABLE other_events (LIKE journey_events INCLUDING DEFAULTS);
SELECT journey_refresh('user_journeys', 'other_events', 'user_id', 'funnel_event(ts, step)');
SELECT journey_refresh('user_journeys', 'raw', 'user_id', 'funnel_event(ts, step)');
SELECT journey_refresh('user_journeys', 'journey_events', NULL, 'funnel_event(ts, step)');
CREATE TABLE other_journeys (entity bigint PRIMARY KEY, journey funnel_event[] NOT NULL);
SELECT journey_refresh('other_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)', xid_column => 'no_such_column');
SELECT journey_refresh('other_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)', xid_column => 'ts');
SELECT journey_refresh('other_journeys', 'journey_events', 'user_id', 'funnel_event(ts, step)', journey_column => 'entity');
SELECT count(*) AS watermark_rows_left FROM journey_watermark WHERE journeys = 'other_journeys'::regclass;
DELETE FROM journey_watermark WHERE journeys IN ('user_journeys'::regclass, 'other_journeys'::regclass);
DROP TABLE journey_events, other_events, user_journeys, other_journeys;
