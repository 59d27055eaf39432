-- Demo: journeys kept current (doc/journeys.md).  The web shop's events
-- (10_web_shop.sql) folded into one journey per user by journey_refresh;
-- new events, some of them late, folded in by a second refresh; the funnel
-- read from the journeys equals the funnel over the raw rows.
\set QUIET on
SET timezone = 'UTC';
-- step 1 of the recipe: who inserted each row (every existing row: this
-- transaction), and an index for the refresh's range scans
ALTER TABLE demo_web_events ADD COLUMN inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX ON demo_web_events (inserted_xid);
-- step 2: the journeys table
CREATE TABLE demo_journeys (entity bigint PRIMARY KEY, journey journey NOT NULL);
\set steps 'funnel_event(ts, event = ''visit'', event = ''product_view'', event = ''add_to_cart'', event = ''checkout'', event = ''purchase'')'
\set QUIET off

\echo
\echo '=== Journeys kept current: one journey per user (the compact journey type), refreshed as events arrive ==='
\echo '--- The first refresh folds every row in'
SELECT journey_refresh('demo_journeys', 'demo_web_events', 'user_id', :'steps') AS rows_folded;
SELECT count(*) AS journeys, sum(event_count(journey)) AS events,
       round(pg_table_size('demo_journeys')::numeric / sum(event_count(journey)), 1) AS table_bytes_per_event,
       round(sum(pg_column_size(journey))::numeric / sum(event_count(journey)), 1) AS value_bytes_per_event,
       round(sum(pg_column_size(journey::funnel_event[]))::numeric / sum(event_count(journey)), 1) AS as_funnel_event_array
FROM demo_journeys;
\echo '--- One journey (user 7): events in time order, each with the steps it matches'
SELECT journey FROM demo_journeys WHERE entity = 7;

\echo
\echo '--- New events arrive: 2,000 users come back on 2024-04-01, and 500 events of March arrive late'
\set QUIET on
INSERT INTO demo_web_events (event_id, user_id, ts, event, channel)
SELECT 1000000 + u, u, '2024-04-01'::timestamptz + (u % 1440) * interval '1 minute', 'visit', 'email'
FROM generate_series(1, 2000) u;
INSERT INTO demo_web_events (event_id, user_id, ts, event, channel)
SELECT 2000000 + u, u * 7, '2024-03-05'::timestamptz + (u % 600) * interval '1 minute', 'product_view', 'ads'
FROM generate_series(1, 500) u;
\set QUIET off
SELECT journey_refresh('demo_journeys', 'demo_web_events', 'user_id', :'steps') AS rows_folded;
SELECT journey_refresh('demo_journeys', 'demo_web_events', 'user_id', :'steps') AS again_nothing_new;
SELECT source, rows_folded, refreshed_at IS NOT NULL AS refreshed FROM journey_watermark;

\echo
\echo '--- The funnel from the journeys equals the funnel over the raw rows'
SELECT (SELECT funnel_stage_counts(window_funnel('1 day', journey), 5) FROM demo_journeys) AS from_journeys,
       (SELECT funnel_stage_counts('1 day', user_id, ts, event,
                 ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) FROM demo_web_events) AS from_rows;
SELECT (SELECT funnel_summary('1 day', journey) FROM demo_journeys)::text
     = (SELECT funnel_summary('1 day', user_id, :steps) FROM demo_web_events)::text AS same_summary;

\echo
\echo '--- funnel_report over the journeys'
SELECT step, name, entities AS users, round(conversion_from_start::numeric, 3) AS conv_start,
       date_trunc('second', median_time_from_start) AS median_time
FROM funnel_report((SELECT funnel_summary('1 day', journey) FROM demo_journeys),
                   ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase']);

\echo
\echo '--- Retention: events before 2024-03-15 trimmed away (what a weekly job would do)'
UPDATE demo_journeys SET journey = journey_trim(journey, '2024-03-15')
 WHERE event_time((journey::funnel_event[])[1]) < '2024-03-15';
DELETE FROM demo_journeys WHERE event_count(journey) = 0;
SELECT count(*) AS journeys, sum(event_count(journey)) AS events FROM demo_journeys;

\echo
\echo '--- On a server with pg_cron, the refresh runs on a schedule:'
\echo '---   SELECT cron.schedule(''refresh journeys'', ''*/5 * * * *'','
\echo '---     $$SELECT journey_refresh(''demo_journeys'', ''demo_web_events'', ''user_id'', ...)$$);'
