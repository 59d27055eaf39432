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
-- (literals name their type: journey_merge and journey_trim also take the
-- journey type)
SELECT journey_merge(NULL::funnel_event[], NULL) IS NULL AS both_null,
       journey_merge(NULL, '{}'::funnel_event[]) = '{}' AS empty,
       journey_merge(NULL, '{"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}","2024-03-01 10:00+00 {2}"}'::funnel_event[])
         = '{"2024-03-01 09:00+00 {1}","2024-03-01 10:00+00 {2}"}' AS canonical_alone;
-- the lower bound of the result is 1 even for a journey written [0:1]
SELECT array_lower(journey_merge('[0:1]={"2024-03-01 10:00+00 {2}","2024-03-01 09:00+00 {1}"}'::funnel_event[], '{}'), 1) AS lower_bound;
SELECT journey_merge('{{"2024-03-01 10:00+00 {2}"}}'::funnel_event[], '{}');

-- trim: the events at or after the horizon, in the journey's order
SELECT journey_trim(journey_merge(j, d), '2024-03-01 10:00+00') FROM m;
SELECT journey_trim('{"2024-03-01 11:00+00 {3}","2024-03-01 08:00+00 {1}",NULL,"2024-03-01 10:00+00 {2}"}'::funnel_event[], '2024-03-01 09:00+00');
SELECT journey_trim(journey_merge(j, d), '2024-03-02') = '{}' AS all_trimmed,
       journey_trim(NULL::funnel_event[], '2024-03-02') IS NULL AS null_journey
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
-- journeys of another type: touchpoints with a channel and a conversion
-- value (the attribution example of doc/channels.md), in two refreshes; a
-- touchpoint that arrives twice is kept once
CREATE TYPE touchpoint AS (ts timestamptz, channel text, value numeric);
CREATE TABLE touch_events (customer_id int, ts timestamptz, channel text, conversion_value numeric,
                           inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE TABLE touch_journeys (entity int PRIMARY KEY, journey touchpoint[] NOT NULL);
INSERT INTO touch_events (customer_id, ts, channel, conversion_value) VALUES
  (1, '2024-03-01 10:00+00', 'display', NULL), (1, '2024-03-03 12:00+00', 'search', NULL),
  (1, '2024-03-04 09:30+00', NULL, 120.00), (2, '2024-03-02 08:00+00', 'social', NULL);
SELECT journey_refresh('touch_journeys', 'touch_events', 'customer_id', 'ROW(ts, channel, conversion_value)::touchpoint') AS folded;
INSERT INTO touch_events (customer_id, ts, channel, conversion_value) VALUES
  (1, '2024-03-04 09:00+00', 'email', NULL), (2, '2024-03-05 18:00+00', 'search', NULL),
  (3, '2024-03-06 11:00+00', 'search', NULL), (3, '2024-03-07 11:00+00', NULL, 80.00),
  (4, '2024-03-07 15:00+00', NULL, 25.00), (1, '2024-03-01 10:00+00', 'display', NULL);
SELECT journey_refresh('touch_journeys', 'touch_events', 'customer_id', 'ROW(ts, channel, conversion_value)::touchpoint') AS folded;
SELECT * FROM touch_journeys ORDER BY entity;
-- attribution reads them through unnest: doc/channels.md's linear credit
-- (search 4/3 conversions and 120 of value, display and email 1/3 and 40,
-- social 0, 25 of value without a touchpoint)
SELECT * FROM attribution_report(
  (SELECT attribution('linear', j.entity, t.ts, t.channel, t.value) FROM touch_journeys j, unnest(j.journey) t));
-- a horizon needs funnel_event[] journeys
SELECT journey_refresh('touch_journeys', 'touch_events', 'customer_id', 'ROW(ts, channel, conversion_value)::touchpoint',
                       horizon => '2024-03-01');
DELETE FROM journey_watermark WHERE journeys = 'touch_journeys'::regclass;
DROP TABLE touch_events, touch_journeys;
DROP TYPE touchpoint;

-- random touchpoints of 300 customers in three batches (some rows sent
-- twice), a refresh after each: every attribution model over the journeys
-- equals the model over the distinct rows, and customer_rfm over the same
-- journeys (the conversions as orders) equals it over the distinct rows
SELECT setseed(0.77);
CREATE TYPE touch AS (ts timestamptz, channel text, value numeric);
CREATE TABLE rt (customer_id int, ts timestamptz, channel text, value numeric,
                 inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE TABLE rtj (entity int PRIMARY KEY, journey touch[] NOT NULL);
CREATE FUNCTION pg_temp.add_touches(n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO rt (customer_id, ts, channel, value)
  SELECT 1 + floor(random() * 300)::int, '2024-01-01'::timestamptz + floor(random() * 60 * 24) * interval '1 hour',
         CASE WHEN random() < 0.8 THEN (ARRAY['search', 'email', 'social', 'display'])[1 + floor(random() * 4)::int] END,
         CASE WHEN random() < 0.25 THEN round((random() * 200)::numeric, 2) END
  FROM generate_series(1, n)
$$;
SELECT pg_temp.add_touches(800);
SELECT journey_refresh('rtj', 'rt', 'customer_id', 'ROW(ts, channel, value)::touch') > 0 AS folded;
SELECT pg_temp.add_touches(800);
INSERT INTO rt (customer_id, ts, channel, value) SELECT customer_id, ts, channel, value FROM rt WHERE customer_id % 7 = 0;
SELECT journey_refresh('rtj', 'rt', 'customer_id', 'ROW(ts, channel, value)::touch') > 0 AS folded;
SELECT pg_temp.add_touches(800);
SELECT journey_refresh('rtj', 'rt', 'customer_id', 'ROW(ts, channel, value)::touch') > 0 AS folded;
SELECT (SELECT count(*) FROM rt) > (SELECT count(*) FROM (SELECT DISTINCT customer_id, ts, channel, value FROM rt) d) AS has_duplicates;
CREATE FUNCTION pg_temp.report(q text) RETURNS TABLE (channel text, conversions numeric, value numeric, journeys bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'SELECT channel, round(conversions::numeric, 9), round(value, 6), journeys FROM attribution_report((' || q || '))';
END $$;
SELECT m AS model,
       (SELECT count(*) FROM (
          (SELECT * FROM pg_temp.report(format('SELECT attribution(%L, j.entity, t.ts, t.channel, t.value) FROM rtj j, unnest(j.journey) t', m))
           EXCEPT SELECT * FROM pg_temp.report(format('SELECT attribution(%L, customer_id, ts, channel, value) FROM (SELECT DISTINCT customer_id, ts, channel, value FROM rt) d', m)))
          UNION ALL
          (SELECT * FROM pg_temp.report(format('SELECT attribution(%L, customer_id, ts, channel, value) FROM (SELECT DISTINCT customer_id, ts, channel, value FROM rt) d', m))
           EXCEPT SELECT * FROM pg_temp.report(format('SELECT attribution(%L, j.entity, t.ts, t.channel, t.value) FROM rtj j, unnest(j.journey) t', m)))) x) AS rows_differing
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay(2 days)', 'markov']) m;
-- (the comparison can see a difference: over the rows with their
-- duplicates, the linear credit differs)
SELECT (SELECT count(*) FROM (
          SELECT * FROM pg_temp.report('SELECT attribution(''linear'', j.entity, t.ts, t.channel, t.value) FROM rtj j, unnest(j.journey) t')
          EXCEPT SELECT * FROM pg_temp.report('SELECT attribution(''linear'', customer_id, ts, channel, value) FROM rt')) x) > 0
       AS duplicates_change_the_credit;
SELECT count(*) AS customers_differing FROM (
  (SELECT j.entity, (customer_rfm(t.ts, t.value, '2024-03-15')).* FROM rtj j, unnest(j.journey) t
    WHERE t.value IS NOT NULL GROUP BY j.entity
   EXCEPT
   SELECT customer_id, (customer_rfm(ts, value, '2024-03-15')).* FROM (SELECT DISTINCT customer_id, ts, channel, value FROM rt) d
    WHERE value IS NOT NULL GROUP BY customer_id)
  UNION ALL
  (SELECT customer_id, (customer_rfm(ts, value, '2024-03-15')).* FROM (SELECT DISTINCT customer_id, ts, channel, value FROM rt) d
    WHERE value IS NOT NULL GROUP BY customer_id
   EXCEPT
   SELECT j.entity, (customer_rfm(t.ts, t.value, '2024-03-15')).* FROM rtj j, unnest(j.journey) t
    WHERE t.value IS NOT NULL GROUP BY j.entity)) x;
DELETE FROM journey_watermark WHERE journeys = 'rtj'::regclass;
DROP TABLE rt, rtj;
DROP TYPE touch;

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
