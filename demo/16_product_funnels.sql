-- Demo: product-analytics funnels (doc/product_funnels.md) on the web shop of
-- 10_web_shop.sql: an exclusion, an optional step, any order, times from
-- step to step (also with an optional step), conversion trends by entry
-- day in Paris (from the rows and from stored journeys), a property held
-- constant, and breakdowns (from the rows and from stored journeys).
\set QUIET on
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;
\set QUIET off

\echo
\echo '=== Product funnels on the web shop ==='
\echo '--- Exclusion: users who searched between viewing a product and buying drop out (PostHog),'
\echo '--- or keep the steps they had reached (Mixpanel: exclusion_counts_reached)'
SELECT 'no exclusion' AS funnel,
       funnel_stage_counts('1 day', user_id, ts, event,
                           ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']) AS users_per_step
FROM demo_web_events
UNION ALL
SELECT 'exclude search from product_view to purchase',
       funnel_stage_counts('1 day', 'exclude 5 from 2 to 4', user_id, ts, event,
                           ARRAY['visit', 'product_view', 'add_to_cart', 'purchase', 'search'])
FROM demo_web_events
UNION ALL
SELECT 'the same, exclusion_counts_reached',
       funnel_stage_counts('1 day', 'exclude 5 from 2 to 4, exclusion_counts_reached', user_id, ts, event,
                           ARRAY['visit', 'product_view', 'add_to_cart', 'purchase', 'search'])
FROM demo_web_events;

\echo
\echo '--- Optional step: checkout may be skipped (3 counts: the optional step is not reported)'
SELECT funnel_stage_counts('1 day', 'optional 3', user_id, ts, event,
                           ARRAY['product_view', 'add_to_cart', 'checkout', 'purchase']) AS users_per_required_step
FROM demo_web_events;

\echo
\echo '--- Any order: users who viewed a product, searched and viewed a page within one hour, in any order'
SELECT funnel_stage_counts('1 hour', 'any_order', user_id, ts, event,
                           ARRAY['product_view', 'search', 'page_view']) AS any_order,
       funnel_stage_counts('1 hour', 'any_order_first', user_id, ts, event,
                           ARRAY['product_view', 'search', 'page_view']) AS product_view_first
FROM demo_web_events;

\echo
\echo '--- Times from step to step (on the chain each user''s level is counted on)'
SELECT step, name, entities AS users,
       date_trunc('second', median_from_previous) AS median_from_previous,
       date_trunc('second', p90_from_previous) AS p90_from_previous,
       date_trunc('second', mean_from_previous) AS mean_from_previous,
       date_trunc('second', median_from_start) AS median_from_start
FROM funnel_step_times(
  (SELECT funnel_summary('1 day', 'step_times', user_id, ts, event,
                         ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])
   FROM demo_web_events),
  ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase']);

\echo
\echo '--- The same with add to cart optional: the times are between required steps (PostHog''s timings),'
\echo '--- so checkout is timed from the product view, whether the user added to cart or not'
SELECT step, name, entities AS users,
       date_trunc('second', median_from_previous) AS median_from_previous,
       date_trunc('second', mean_from_previous) AS mean_from_previous,
       date_trunc('second', median_from_start) AS median_from_start
FROM funnel_step_times(
  (SELECT funnel_summary('1 day', 'optional 3, step_times', user_id, ts, event,
                         ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])
   FROM demo_web_events),
  ARRAY['visit', 'product view', 'checkout', 'purchase']);

\echo
\echo '--- Conversion by entry day (Paris time), visit to purchase within 1 day; as of 2024-03-31 12:00 UTC'
\echo '--- (the last days are not complete yet: their window has not elapsed)'
SELECT period_start AT TIME ZONE 'Europe/Paris' AS day_in_paris, entered, converted,
       round(conversion_rate::numeric, 3) AS rate, complete
FROM funnel_trend_report(
  (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris', user_id, ts, event,
                        ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])
   FROM demo_web_events),
  '2024-03-31 12:00+00')
WHERE period_start >= '2024-03-25';

\echo
\echo '--- Conversion to add to cart (to_step 3) by entry day, from the stored journeys'
SELECT period_start AT TIME ZONE 'Europe/Paris' AS day_in_paris, entered, converted,
       round(conversion_rate::numeric, 3) AS rate, complete
FROM funnel_trend_report(
  (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris, to_step 3', journey) FROM demo_journeys),
  '2024-03-31 12:00+00')
WHERE period_start AT TIME ZONE 'Europe/Paris' >= '2024-03-27';

\echo
\echo '--- The same trend from the stored journeys of 15_journeys.sql (one row per user, trimmed to'
\echo '--- 2024-03-15): the answer of the rows since then'
SELECT period_start AT TIME ZONE 'Europe/Paris' AS day_in_paris, entered, converted,
       round(conversion_rate::numeric, 3) AS rate, complete
FROM funnel_trend_report(
  (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris', journey) FROM demo_journeys),
  '2024-03-31 12:00+00')
WHERE period_start >= '2024-03-25';
SELECT (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris', journey) FROM demo_journeys)
     = (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris', user_id, ts, event,
                             ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])
        FROM demo_web_events WHERE ts >= '2024-03-15') AS journeys_equal_rows;

\echo
\echo '--- The same trend with PostHog''s exclusions: a search between visit and purchase drops the attempt'
SELECT period_start AT TIME ZONE 'Europe/Paris' AS day_in_paris, entered, converted,
       round(conversion_rate::numeric, 3) AS rate, complete
FROM funnel_trend_report(
  (SELECT funnel_trends('1 day', 'bucket day, time_zone Europe/Paris, exclude 6 from 1 to 5', user_id, ts, event,
                        ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase', 'search'])
   FROM demo_web_events),
  '2024-03-31 12:00+00')
WHERE period_start >= '2024-03-25';

\echo
\echo '--- Hold a property constant: the funnel per (user, channel) pair, users at their best channel'
\echo '--- (each user of this shop arrives through one channel: both equal the per-user funnel)'
SELECT funnel_stage_counts('1 day', ARRAY[user_id::text, channel], ts, event,
                           ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']) AS user_channel_pairs,
       (SELECT funnel_stage_counts(level, 4)
        FROM (SELECT user_id, max(level) AS level
              FROM (SELECT user_id, channel,
                           window_funnel('1 day', ts, event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']) AS level
                    FROM demo_web_events GROUP BY user_id, channel) p
              GROUP BY user_id) u) AS users_at_best_channel
FROM demo_web_events;

\echo
\echo '--- Breakdown attribution: the funnel by the device of a row (users switch devices between'
\echo '--- rows here), each user under one device: the first one (first_touch), the last one'
\echo '--- (last_touch) or the purchase''s (step 4); the top 2 devices and the rest as "other".'
\echo '--- For first_touch and last_touch the devices add up to the whole funnel.'
CREATE TEMP VIEW demo_device_events AS
SELECT user_id, ts, event, (ARRAY['desktop', 'mobile', 'tablet', 'tv'])[1 + (hashint8(event_id) & 3)] AS device
FROM demo_web_events;
SELECT a.mode AS attribution, r.rank, coalesce(r.value, CASE WHEN r.is_other THEN '(other)' ELSE '(none)' END) AS device,
       r.step, r.entities AS users, round(r.conversion_from_start::numeric, 3) AS from_start
FROM (VALUES ('breakdown first_touch'), ('breakdown last_touch'), ('breakdown step 4')) a(mode),
     LATERAL funnel_breakdown_report(
       (SELECT funnel_breakdown('1 day', a.mode, user_id, device, ts, event,
                                ARRAY['visit', 'product_view', 'add_to_cart', 'purchase'])
        FROM demo_device_events), 2) r
WHERE r.step IN (1, 4)
ORDER BY a.mode, r.rank, r.step;
SELECT funnel_stage_counts('1 day', user_id, ts, event,
                           ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']) AS whole_funnel
FROM demo_web_events;

\echo
\echo '--- Breakdown over stored journeys: a journey keeps no value per row, so the first device is kept'
\echo '--- beside each user''s journey; counted under it, the journeys give first_touch''s answer'
\set QUIET on
CREATE TEMP TABLE demo_journeys_device AS
SELECT user_id AS entity,
       array_agg(funnel_event(ts, event = 'visit', event = 'product_view', event = 'add_to_cart', event = 'purchase'))::journey AS journey,
       (array_agg(device ORDER BY ts, device COLLATE "C"))[1] AS first_device
FROM demo_device_events
WHERE event IN ('visit', 'product_view', 'add_to_cart', 'purchase')
GROUP BY user_id;
\set QUIET off
SELECT rank, coalesce(value, '(other)') AS device, step, entities AS users
FROM funnel_breakdown_report(
  (SELECT funnel_breakdown('1 day', '', first_device, journey) FROM demo_journeys_device), 2)
WHERE step IN (1, 4)
ORDER BY rank, step;
SELECT (SELECT funnel_breakdown('1 day', '', first_device, journey) -> 'values' FROM demo_journeys_device)
     = (SELECT funnel_breakdown('1 day', 'breakdown first_touch', user_id, device, ts, event,
                                ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']) -> 'values'
        FROM demo_device_events) AS journeys_equal_rows;
