-- Demo: a web shop.  100,000 events of 20,000 users arriving through four
-- channels (deterministic: setseed), the funnel
--   visit -> product_view -> add_to_cart -> checkout -> purchase
-- within one day of the visit, by channel, with conversion, drop-off, time to
-- convert, a psql chart and an SVG chart (written to :outdir).
\set QUIET on
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;   -- random() in one fixed order
SELECT setseed(0.2024) AS seed \gset

-- one row per user: channel, first visit, and how far and how fast they go
CREATE TABLE demo_web_users AS
SELECT u AS user_id, channel, t0,
       -- steps reached: each step follows the previous one with the channel's rate
       CASE WHEN r2 >= p[1] THEN 1 WHEN r3 >= p[2] THEN 2 WHEN r4 >= p[3] THEN 3
            WHEN r5 >= p[4] THEN 4 ELSE 5 END AS depth,
       -- minutes between steps (exponential); 8% of buyers come back days later
       -ln(1 - random()) * 3 AS g2, -ln(1 - random()) * 6 AS g3,
       -ln(1 - random()) * 4 AS g4,
       CASE WHEN random() < 0.08 THEN 600 + random() * 4000 ELSE -ln(1 - random()) * 3 END AS g5
FROM (
  SELECT u, channel, t0, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
         CASE channel WHEN 'organic' THEN ARRAY[0.70, 0.40, 0.60, 0.75]
                      WHEN 'ads'     THEN ARRAY[0.55, 0.28, 0.55, 0.70]
                      WHEN 'email'   THEN ARRAY[0.80, 0.50, 0.65, 0.80]
                      ELSE                ARRAY[0.45, 0.20, 0.50, 0.60] END AS p
  FROM (
    SELECT u,
           CASE WHEN c < 0.35 THEN 'organic' WHEN c < 0.60 THEN 'ads'
                WHEN c < 0.80 THEN 'email' ELSE 'social' END AS channel,
           '2024-03-01'::timestamptz + floor(random() * 30 * 86400) * interval '1 second' AS t0
    FROM (SELECT u, random() AS c FROM generate_series(1, 20000) u) s0
  ) s1
) s2;

-- five events per user: the funnel steps reached, then browsing that is not
-- a funnel step (search, page views, a later visit)
CREATE TABLE demo_web_events AS
SELECT row_number() OVER (ORDER BY user_id, k) AS event_id, user_id, ts, event, channel
FROM (
  SELECT u.user_id, u.channel, k,
         CASE WHEN k <= u.depth THEN
                u.t0 + (CASE k WHEN 1 THEN 0 WHEN 2 THEN g2 WHEN 3 THEN g2 + g3
                               WHEN 4 THEN g2 + g3 + g4 ELSE g2 + g3 + g4 + g5 END) * interval '1 minute'
              ELSE u.t0 + (30 + floor(random() * 3 * 86400)) * interval '1 second' END AS ts,
         CASE WHEN k <= u.depth THEN (ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])[k]
              ELSE (ARRAY['search', 'page_view', 'visit'])[1 + floor(random() * 3)::int] END AS event
  FROM demo_web_users u, generate_series(1, 5) k
) e;
CREATE INDEX ON demo_web_events (user_id, ts);
ANALYZE demo_web_events;
\set QUIET off

\echo
\echo '=== Web shop: 100,000 events of 20,000 users ==='
SELECT count(*) AS events, count(DISTINCT user_id) AS users, min(ts)::date AS first_day, max(ts)::date AS last_day
FROM demo_web_events;
SELECT event, count(*) FROM demo_web_events GROUP BY event ORDER BY count(*) DESC;

\echo
\echo '--- A 4-step funnel (visit, product view, add to cart, purchase) within 1 day, by channel:'
\echo '--- funnel_stage_counts gives the users at each step, funnel_conversion the step-to-step rate'
SELECT channel,
       funnel_stage_counts('1 day', user_id, ts, event = 'visit', event = 'product_view',
                           event = 'add_to_cart', event = 'purchase') AS users_per_step,
       (SELECT array_agg(round(c::numeric, 3)) FROM unnest(
          funnel_conversion('1 day', user_id, ts, event = 'visit', event = 'product_view',
                            event = 'add_to_cart', event = 'purchase')) c) AS conversion
FROM demo_web_events GROUP BY channel ORDER BY channel;

\echo
\echo '--- The full funnel as a summary (storable, mergeable), then as a report and a chart'
\set QUIET on
CREATE TABLE demo_web_funnel AS
SELECT channel, funnel_summary('1 day', user_id, ts, event,
                               ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) AS summary
FROM demo_web_events GROUP BY ROLLUP (channel);
UPDATE demo_web_funnel SET channel = 'all' WHERE channel IS NULL;
\set QUIET off

\echo
\echo '--- funnel_report: every channel together'
SELECT step, name, entities AS users,
       round(conversion_from_previous::numeric, 3) AS conv_prev,
       round(conversion_from_start::numeric, 3) AS conv_start,
       drop_off, round(drop_off_rate::numeric, 3) AS drop_rate,
       date_trunc('second', median_time_from_start) AS median_time,
       date_trunc('second', p90_time_from_start) AS p90_time
FROM demo_web_funnel, funnel_report(summary, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase'])
WHERE channel = 'all';

\echo
\echo '--- funnel_chart: every channel together, then per channel'
\set QUIET on
\pset format unaligned
\pset tuples_only on
SELECT funnel_chart(summary, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase'], 72)
FROM demo_web_funnel WHERE channel = 'all';
SELECT E'\n' || channel || E'\n' || funnel_chart(summary, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase'], 72)
FROM demo_web_funnel WHERE channel <> 'all' ORDER BY channel;
\pset tuples_only off
\pset format aligned
\set QUIET off

\echo
\echo '--- Purchase rate and time to convert by channel (report rows of the last step)'
SELECT channel, r.entities AS buyers, round(r.conversion_from_start::numeric * 100, 1) AS purchase_pct,
       date_trunc('second', r.median_time_from_start) AS median_time_to_buy,
       date_trunc('second', r.p90_time_from_start) AS p90_time_to_buy
FROM demo_web_funnel, funnel_report(summary) r
WHERE r.step = 5 ORDER BY purchase_pct DESC;

\echo
\echo '--- time_to_convert per user, then its distribution (exact, for comparison with the summary):'
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) AS exact_median,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY t) AS exact_p90,
       (SELECT funnel_time_percentile(summary, 5, 0.5) FROM demo_web_funnel WHERE channel = 'all') AS summary_median,
       (SELECT funnel_time_percentile(summary, 5, 0.9) FROM demo_web_funnel WHERE channel = 'all') AS summary_p90
FROM (SELECT time_to_convert('1 day', ts, event, ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) AS t
      FROM demo_web_events GROUP BY user_id) x WHERE t IS NOT NULL;

\echo
\echo '--- Daily summaries by entry day and channel, rolled up to one week (2024-03-04 .. 2024-03-10)'
\set QUIET on
CREATE TABLE demo_web_daily AS
SELECT e.entry_day, e.channel,
       funnel_summary('1 day', ev.user_id, ev.ts, ev.event,
                      ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) AS summary
FROM demo_web_events ev
JOIN (SELECT user_id, min(channel) AS channel, min(ts)::date AS entry_day
      FROM demo_web_events WHERE event = 'visit' GROUP BY user_id) e USING (user_id)
GROUP BY e.entry_day, e.channel;
\set QUIET off
SELECT step, name, entities AS users, round(conversion_from_start::numeric, 3) AS conv_start,
       date_trunc('second', median_time_from_start) AS median_time
FROM (SELECT rollup(summary) AS s FROM demo_web_daily
      WHERE entry_day BETWEEN '2024-03-04' AND '2024-03-10') w,
     funnel_report(s, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase']);

\echo
\echo '--- SVG chart written to' :outdir/web_shop_funnel.svg
\set QUIET on
\pset format unaligned
\pset tuples_only on
\o :outdir/web_shop_funnel.svg
SELECT funnel_svg(summary, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase'])
FROM demo_web_funnel WHERE channel = 'all';
\o
\pset tuples_only off
\pset format aligned
\set QUIET off
