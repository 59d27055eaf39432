-- Multichannel attribution: touchpoints of 3000 customers over 60 days,
-- credit by channel under every model, cost per acquisition and return on
-- ad spend by channel and model, a bar chart and an SVG chart.
\echo '== Channels: attribution across models =='
SET max_parallel_workers_per_gather = 0;  -- the same rows in the same order every run
SET TimeZone = 'UTC';
SELECT setseed(0.8);

-- Each customer has 1 to 6 touchpoints.  Awareness channels (display,
-- social) tend to come first, search in the middle, email and referral last.
-- The chance to convert grows with search, email and referral touches.
CREATE TABLE demo_touchpoints (customer_id int, ts timestamptz, channel text, conversion_value numeric);
INSERT INTO demo_touchpoints
SELECT c.id, c.start + (k * 1.5 + random()) * interval '1 day',
       CASE WHEN k = 0 THEN (ARRAY['display', 'social', 'social', 'search', 'display'])[1 + floor(random() * 5)::int]
            WHEN k = c.n - 1 THEN (ARRAY['email', 'email', 'referral', 'search', 'social'])[1 + floor(random() * 5)::int]
            ELSE (ARRAY['search', 'search', 'email', 'social', 'display'])[1 + floor(random() * 5)::int]
       END, NULL
FROM (SELECT id, timestamptz '2024-03-01 00:00+00' + random() * interval '50 days' AS start,
             1 + floor(random() * 6)::int AS n
      FROM generate_series(1, 3000) id) c,
     LATERAL generate_series(0, c.n - 1) k;
-- conversions: 2 days after the last touchpoint, with a chance set by the
-- channels of the journey; a few customers buy without any touchpoint
INSERT INTO demo_touchpoints
SELECT customer_id, max(ts) + interval '2 days', NULL, round((20 + random() * 180)::numeric, 2)
FROM demo_touchpoints
GROUP BY customer_id
HAVING random() < 0.05 + 0.12 * bool_or(channel = 'search')::int + 0.18 * bool_or(channel = 'email')::int
                 + 0.15 * bool_or(channel = 'referral')::int + 0.02 * bool_or(channel = 'display')::int;
INSERT INTO demo_touchpoints
SELECT 100000 + i, timestamptz '2024-03-01 00:00+00' + random() * interval '60 days', NULL, round((20 + random() * 180)::numeric, 2)
FROM generate_series(1, 40) i;

SELECT count(*) FILTER (WHERE channel IS NOT NULL) AS touchpoints,
       count(*) FILTER (WHERE conversion_value IS NOT NULL) AS conversions,
       sum(conversion_value) AS revenue,
       count(DISTINCT customer_id) AS customers
FROM demo_touchpoints;

-- one summary per model, stored
CREATE TABLE demo_attribution AS
SELECT m AS model, (SELECT attribution(m, customer_id, ts, channel, conversion_value, '30 days') FROM demo_touchpoints) AS summary
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'markov']) m;

\echo 'Conversions credited to each channel, by model:'
SELECT coalesce(r.channel, '(no touchpoint)') AS channel,
       round(sum(r.conversions) FILTER (WHERE a.model = 'first_touch')::numeric, 1) AS first_touch,
       round(sum(r.conversions) FILTER (WHERE a.model = 'last_touch')::numeric, 1) AS last_touch,
       round(sum(r.conversions) FILTER (WHERE a.model = 'linear')::numeric, 1) AS linear,
       round(sum(r.conversions) FILTER (WHERE a.model = 'position_based')::numeric, 1) AS position_based,
       round(sum(r.conversions) FILTER (WHERE a.model = 'time_decay')::numeric, 1) AS time_decay,
       round(sum(r.conversions) FILTER (WHERE a.model = 'markov')::numeric, 1) AS markov
FROM demo_attribution a, attribution_report(a.summary) r
GROUP BY r.channel
ORDER BY r.channel IS NULL, sum(r.conversions) DESC;

\echo 'The Markov model in full:'
SELECT channel, round(conversions::numeric, 2) AS conversions, round(value, 2) AS value,
       round(share::numeric, 3) AS share, journeys, round(conversion_rate::numeric, 3) AS conversion_rate
FROM attribution_report((SELECT summary FROM demo_attribution WHERE model = 'markov'));

\echo 'Per-channel funnel (a touch of the channel, then a conversion within 30 days) beside the Markov credit:'
SELECT r.channel, f1.entities AS customers_touched, f2.entities AS converted_after,
       round(f2.conversion_from_start::numeric, 3) AS conversion_rate,
       justify_hours(date_trunc('minute', f2.median_time_from_start)) AS median_time_to_convert,
       round(r.conversions::numeric, 1) AS markov_conversions
FROM attribution_report((SELECT summary FROM demo_attribution WHERE model = 'markov')) r,
     LATERAL (SELECT funnel_summary('30 days', customer_id, ts, coalesce(channel = r.channel, false),
                                   conversion_value IS NOT NULL) AS fs
              FROM demo_touchpoints) x,
     LATERAL (SELECT * FROM funnel_report(x.fs) WHERE step = 1) f1,
     LATERAL (SELECT * FROM funnel_report(x.fs) WHERE step = 2) f2
WHERE r.channel IS NOT NULL
ORDER BY r.conversions DESC;

-- spend by channel: cost per acquisition and return on ad spend
CREATE TABLE demo_channel_spend (channel text PRIMARY KEY, spend numeric);
INSERT INTO demo_channel_spend VALUES ('display', 9000), ('social', 7000), ('search', 12000),
                                 ('email', 1500), ('referral', 3000);
\echo 'Cost per acquisition (CPA) and return on ad spend (ROAS), last touch against Markov:'
SELECT r.channel, a.model, s.spend,
       round(r.conversions::numeric, 1) AS conversions,
       round(s.spend / nullif(r.conversions, 0)::numeric, 2) AS cpa,
       round(r.value / s.spend, 2) AS roas
FROM demo_attribution a, attribution_report(a.summary) r
JOIN demo_channel_spend s ON s.channel = r.channel
WHERE a.model IN ('last_touch', 'markov')
ORDER BY r.channel, a.model;

\echo 'Bar chart, first touch / last touch / Markov:'
SELECT coalesce(channel, '(none)') AS channel, model, round(conversions::numeric, 1) AS conversions, bar
FROM attribution_bar_chart((SELECT array_agg(summary ORDER BY array_position(ARRAY['first_touch', 'last_touch', 'markov'], model))
                            FROM demo_attribution WHERE model IN ('first_touch', 'last_touch', 'markov')), 30);

\pset format unaligned
\pset tuples_only on
\o :outdir/attribution.svg
SELECT attribution_svg((SELECT array_agg(summary ORDER BY array_position(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'markov'], model))
                        FROM demo_attribution));
\o
\pset format aligned
\pset tuples_only off
\echo 'Wrote' :outdir/attribution.svg
