-- Paths and correlation analysis on the web shop of 10_web_shop.sql
-- (demo_web_events: 20,000 users, visit -> product_view -> add_to_cart ->
-- checkout -> purchase, with search, page views and later visits between):
-- what people did after adding to cart instead of checking out, what buyers
-- did before buying, paths within sessions, a Sankey diagram (written to
-- :outdir), and which events and which first channel go with buying.
\echo '== Paths: what people did before and after an event =='
SET timezone = 'UTC';

\echo '--- What did people do after adding to cart (3 steps, top 12 edges)?'
CREATE TABLE demo_paths_cart AS
SELECT paths(user_id, ts, event, 'add_to_cart', NULL, 3, 12) AS p FROM demo_web_events;
SELECT * FROM paths_chart((SELECT p FROM demo_paths_cart), 30);

\echo '--- ... instead of checking out: the first move of those who did not check out next'
SELECT to_event, entities, round((share * 100)::numeric, 1) AS pct_of_carts, median_time
FROM paths_report((SELECT p FROM demo_paths_cart))
WHERE step = 0 AND to_event IS DISTINCT FROM 'checkout'
ORDER BY entities DESC;

\echo '--- The most frequent whole paths after add_to_cart'
SELECT rank, array_to_string(path, ' > ') AS path, entities, round((share * 100)::numeric, 1) AS pct
FROM paths_top((SELECT p FROM demo_paths_cart)) WHERE rank <= 8;

\echo '--- What did buyers do before buying (4 steps back)?'
SELECT rank, array_to_string(path, ' > ') AS path, entities
FROM paths_top((SELECT paths(user_id, ts, event, NULL, 'purchase', 4, 6) FROM demo_web_events));

\echo '--- Within sessions (a new session after 30 minutes without an event): entity = (user, session)'
WITH gaps AS (
  SELECT user_id, ts, event,
         CASE WHEN ts - lag(ts) OVER w > interval '30 minutes' THEN 1 ELSE 0 END AS new_session
  FROM demo_web_events WINDOW w AS (PARTITION BY user_id ORDER BY ts)
), sessions AS (
  SELECT user_id, ts, event, sum(new_session) OVER (PARTITION BY user_id ORDER BY ts) AS session
  FROM gaps
)
SELECT step, transition, entities AS sessions, median_time
FROM paths_chart((SELECT paths((user_id, session)::text, ts, event, 'add_to_cart', NULL, 2, 6) FROM sessions), 20);

\echo '--- Sankey diagram written to' :outdir/paths_after_cart.svg
\pset format unaligned
\pset tuples_only on
\o :outdir/paths_after_cart.svg
SELECT paths_sankey_svg((SELECT p FROM demo_paths_cart), 'What people did after adding to cart');
\o
\pset format aligned
\pset tuples_only off

\echo '== Correlation: what goes with buying =='
\echo '--- Events between the visit and the purchase (or the end of the 1-day window)'
SELECT direction, rank, driver, converters, non_converters,
       round(conversion_rate::numeric, 3) AS conversion_rate,
       round(odds_ratio::numeric, 3) AS odds_ratio, p_value
FROM funnel_correlation_report(
  (SELECT funnel_correlation('1 day', user_id, ts, event,
                             ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])
   FROM demo_web_events));

\echo '--- Which first channel makes a purchase most likely (kind property), next to the events?'
SELECT direction, rank, kind, driver, converters, non_converters,
       round(conversion_rate::numeric, 3) AS conversion_rate,
       round(odds_ratio::numeric, 3) AS odds_ratio, p_value
FROM funnel_correlation_report(
  (SELECT funnel_correlation('1 day', '', user_id, ts, event,
                             ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'],
                             NULL, first_channel)
   FROM (SELECT user_id, ts, event,
                first_value(channel) OVER (PARTITION BY user_id ORDER BY ts) AS first_channel
         FROM demo_web_events) e));

DROP TABLE demo_paths_cart;
