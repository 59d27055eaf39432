-- attribution: hand-worked credit for every model, attribution_report,
-- attribution_bar_chart and attribution_svg.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).  Credits are rounded to 6 places and values to
-- 4: the hand values are exact fractions.
SET timezone = 'UTC';

-- Day n = 2024-01-01 + n days.  A row with a channel and no value is a
-- touchpoint, a row with a value and no channel a conversion.  Default
-- lookback 30 days, default time_decay half-life 7 days.
--   u1: email d0, search d1, social d2, conversion 90 at d3 (3 attr_touches)
--   u2: search d0, conversion 30 at d1 (1 touch)
--   u3: social d0, email d5, conversion 60 at d6 (2 attr_touches)
--   u4: email d0, no conversion (a non-converting journey)
--   u5: conversion 10 at d0, no touchpoint: the NULL channel
--   u6: display d0, conversion 20 at d40: display lies before the 30-day
--       lookback, so it is a non-converting journey and the conversion goes
--       to the NULL channel
-- Conversions: 5 (value 210), 3 of them (value 180) with touchpoints.
-- Journeys with each channel (converting / all): email 2 / 3 (u1, u3 / u4),
-- search 2 / 2, social 2 / 2, display 0 / 1; the NULL channel has 2
-- converting journeys and no conversion rate.
CREATE TABLE attr_touches (u text, ts timestamptz, channel text, value numeric);
INSERT INTO attr_touches VALUES
  ('u1', '2024-01-01', 'email', NULL), ('u1', '2024-01-02', 'search', NULL),
  ('u1', '2024-01-03', 'social', NULL), ('u1', '2024-01-04', NULL, 90),
  ('u2', '2024-01-01', 'search', NULL), ('u2', '2024-01-02', NULL, 30),
  ('u3', '2024-01-01', 'social', NULL), ('u3', '2024-01-06', 'email', NULL),
  ('u3', '2024-01-07', NULL, 60),
  ('u4', '2024-01-01', 'email', NULL),
  ('u5', '2024-01-01', NULL, 10),
  ('u6', '2024-01-01', 'display', NULL), ('u6', '2024-02-10', NULL, 20);

CREATE TABLE attr_summaries AS
SELECT m AS model, (SELECT attribution(m, u, ts, channel, value) FROM attr_touches) AS s
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay',
                  'time_decay(1 day)', 'markov']) m;

-- Hand-worked credit (conversions, value) by model and channel:
--   first_touch: u1 -> email, u2 -> search, u3 -> social:
--     email 1 (90), search 1 (30), social 1 (60), display 0, NULL 2 (30)
--   last_touch: u1 -> social, u2 -> search, u3 -> email:
--     email 1 (60), search 1 (30), social 1 (90)
--   linear: u1 1/3 each (30 each), u2 search 1, u3 1/2 each (30 each):
--     email 5/6 (60), search 4/3 (60), social 5/6 (60)
--   position_based (40/20/40; 2 attr_touches 50/50): u1 email .4, search .2,
--     social .4; u2 search 1; u3 .5 each:
--     email .9 (36 + 30 = 66), search 1.2 (18 + 30 = 48), social .9 (66)
--   time_decay(1 day): weight 2^-(days before the conversion), normalised.
--     u1: 1/8, 1/4, 1/2 of 7/8 -> email 1/7, search 2/7, social 4/7;
--     u3: social 2^-6, email 2^-1 -> social 1/33, email 32/33:
--     email 1/7 + 32/33 = 257/231 (90/7 + 1920/33 = 5470/77),
--     search 9/7 (180/7 + 30 = 390/7), social 4/7 + 1/33 = 139/231
--     (360/7 + 60/33 = 4100/77)
--   time_decay (7 days): u1 weights 2^(-3/7), 2^(-2/7), 2^(-1/7), u3
--     2^(-6/7), 2^(-1/7), each normalised (python3, math.pow):
--     email 0.922232 (64.3616), search 1.332247 (59.9022),
--     social 0.745522 (55.7362)
--   markov: journeys with a touchpoint, start -> ... -> conv | null:
--     u1 start e s o conv, u2 start s conv, u3 start o e conv,
--     u4 start e null, u6 start d null (e email, s search, o social,
--     d display).  start: e 2/5, s 1/5, o 1/5, d 1/5; e: s, conv, null 1/3
--     each; s: o, conv 1/2 each; o: conv, e 1/2 each; d: null.
--     P(conv | c): x_e = x_s/3 + 1/3, x_s = x_o/2 + 1/2, x_o = 1/2 + x_e/2
--     -> x_e = 7/11, x_s = 10/11, x_o = 9/11, x_d = 0; P = 33/55 = 3/5.
--     Without e: x_o = 1/2, x_s = 3/4: P = 3/20 + 1/10 = 1/4, RE = 7/12.
--     Without s: x_e = 1/3, x_o = 2/3: P = 2/15 + 2/15 = 4/15, RE = 5/9.
--     Without o: x_s = 1/2, x_e = 1/2: P = 1/5 + 1/10 = 3/10, RE = 1/2.
--     Without d: P unchanged, RE = 0.  Sum RE = 59/36, so of the 3
--     conversions (180) with touchpoints: email 21/59 -> 63/59 (3780/59),
--     search 20/59 -> 60/59 (3600/59), social 18/59 -> 54/59 (3240/59).
-- In every model: display 0 (0), NULL 2 (30); share = conversions / 5.
CREATE TABLE attr_hand (model text, channel text, conversions numeric, value numeric);
INSERT INTO attr_hand VALUES
  ('first_touch', 'email', 1, 90), ('first_touch', 'search', 1, 30),
  ('first_touch', 'social', 1, 60),
  ('last_touch', 'email', 1, 60), ('last_touch', 'search', 1, 30),
  ('last_touch', 'social', 1, 90),
  ('linear', 'email', 5 / 6.0, 60), ('linear', 'search', 4 / 3.0, 60),
  ('linear', 'social', 5 / 6.0, 60),
  ('position_based', 'email', 0.9, 66), ('position_based', 'search', 1.2, 48),
  ('position_based', 'social', 0.9, 66),
  ('time_decay(1 day)', 'email', 257 / 231.0, 5470 / 77.0),
  ('time_decay(1 day)', 'search', 9 / 7.0, 390 / 7.0),
  ('time_decay(1 day)', 'social', 139 / 231.0, 4100 / 77.0),
  ('time_decay', 'email', 0.922232, 64.3616), ('time_decay', 'search', 1.332247, 59.9022),
  ('time_decay', 'social', 0.745522, 55.7362),
  ('markov', 'email', 63 / 59.0, 3780 / 59.0), ('markov', 'search', 60 / 59.0, 3600 / 59.0),
  ('markov', 'social', 54 / 59.0, 3240 / 59.0);
INSERT INTO attr_hand SELECT DISTINCT model, 'display', 0, 0 FROM attr_hand;
INSERT INTO attr_hand SELECT DISTINCT model, NULL, 2, 30 FROM attr_hand;

-- The report of each model, most credited first, the NULL channel last.
SELECT s.model, r.channel, round(r.conversions::numeric, 6) AS conversions,
       round(r.value, 4) AS value, round(r.share::numeric, 6) AS share, r.journeys,
       round(r.conversion_rate::numeric, 6) AS conversion_rate,
       round(r.conversions::numeric, 6) = round(h.conversions, 6)
         AND round(r.value, 4) = round(h.value, 4)
         AND round(r.share::numeric, 6) = round(h.conversions / 5, 6) AS ok
FROM attr_summaries s CROSS JOIN LATERAL attribution_report(s.s) WITH ORDINALITY r
LEFT JOIN attr_hand h ON h.model = s.model AND h.channel IS NOT DISTINCT FROM r.channel
ORDER BY s.model, r.ordinality;

-- Journeys and conversion rates do not depend on the model: email 2 of 3
-- journeys, search 2 of 2, social 2 of 2, display 0 of 1, NULL 2 (no rate).
SELECT bool_and(r.journeys = e.journeys
                AND r.conversion_rate IS NOT DISTINCT FROM e.rate) AS ok, count(*) AS rows
FROM attr_summaries s, attribution_report(s.s) r
JOIN (VALUES ('email', 2, 2 / 3.0), ('search', 2, 1), ('social', 2, 1), ('display', 0, 0),
             (NULL, 2, NULL)) e(channel, journeys, rate)
  ON e.channel IS NOT DISTINCT FROM r.channel
 AND round(r.conversion_rate::numeric, 12) IS NOT DISTINCT FROM round(e.rate, 12);

-- Credit is conserved: every model hands out the 5 conversions and 210.
SELECT s.model, round(sum(r.conversions)::numeric, 9) AS conversions,
       round(sum(r.value), 6) AS value
FROM attr_summaries s, attribution_report(s.s) r GROUP BY s.model ORDER BY s.model;

-- The model of a summary.
SELECT model, attribution_model(s) FROM attr_summaries ORDER BY model;

-- (Errors are tested with pgTAP in test/attribution.sql.)

-- A 1-day lookback cuts journeys: u1's conversion (d3) keeps social (d2)
-- only, email and search become a non-converting journey; u2 keeps search
-- (d0, exactly one day before: inclusive); u3 keeps email (d5), social
-- becomes non-converting.  Linear: email 1 (60), search 1 (30), social 1
-- (90), NULL 2 (30).  Converting / all journeys: email 1 / 3 (u1's early
-- journey, u3, u4), search 1 / 2, social 1 / 2, display 0 / 1.
SELECT r.channel, r.conversions, r.value, r.journeys,
       round(r.conversion_rate::numeric, 6) AS conversion_rate,
       (r.conversions, r.value, r.journeys, round(r.conversion_rate::numeric, 6))
         IS NOT DISTINCT FROM (e.conversions, e.value, e.journeys, round(e.rate, 6)) AS ok
FROM (SELECT attribution('linear', u, ts, channel, value, '1 day') AS s FROM attr_touches) a
CROSS JOIN LATERAL attribution_report(a.s) WITH ORDINALITY r
LEFT JOIN (VALUES ('email', 1.0, 60.0, 1, 1 / 3.0), ('search', 1, 30, 1, 0.5),
                  ('social', 1, 90, 1, 0.5), ('display', 0, 0, 0, 0), (NULL, 2, 30, 2, NULL))
  e(channel, conversions, value, journeys, rate) ON e.channel IS NOT DISTINCT FROM r.channel
ORDER BY r.ordinality;

-- A group without rows gives NULL; a group of touchpoints only converts
-- nothing: every channel 0 of its journeys.
SELECT attribution('linear', u, ts, channel, value) IS NULL AS empty_is_null
FROM attr_touches WHERE false;
SELECT r.* FROM (SELECT attribution('linear', u, ts, channel, value) AS s
                 FROM attr_touches WHERE u = 'u4') a, attribution_report(a.s) r;

-- A summary stored as text reads back the same report.
SELECT bool_and(a.channel IS NOT DISTINCT FROM b.channel AND a.conversions = b.conversions
                AND a.value = b.value AND a.journeys = b.journeys) AS round_trip_ok
FROM attr_summaries s,
     LATERAL (SELECT * FROM attribution_report(s.s) WITH ORDINALITY) a,
     LATERAL (SELECT * FROM attribution_report(s.s::text::attribution_summary) WITH ORDINALITY) b
WHERE a.ordinality = b.ordinality;

-- ---------------------------------------------------------------------------
-- attribution_bar_chart: bars of width * conversions / (largest
-- conversions of any row) characters in eighths of a block.  Largest: the
-- NULL channel's 2.  Width 10, so 80 eighths for 2 conversions:
--   first_touch email, search, social 1 -> 40 eighths = 5 blocks;
--   linear email 5/6 -> 33.33 -> 33 = 4 blocks + 1/8 (U+258F);
--   linear search 4/3 -> 53.33 -> 53 = 6 blocks + 5/8 (U+258B);
--   display 0 -> empty bar; NULL 2 -> 10 blocks.
-- Rows by channel, channels by their largest credit (search 4/3 first, then
-- email and social at 1 by name, display), the NULL channel last; within a
-- channel the models in array order.
-- ---------------------------------------------------------------------------
SELECT c.channel, c.model, round(c.conversions::numeric, 4) AS conversions, c.bar,
       length(c.bar) AS chars
FROM attribution_bar_chart(ARRAY[(SELECT s FROM attr_summaries WHERE model = 'first_touch'),
                                 (SELECT s FROM attr_summaries WHERE model = 'linear')], 10) c;
SELECT bar = repeat(U&'\2588', 4) || U&'\258F' AS email_linear_ok
FROM attribution_bar_chart(ARRAY[(SELECT s FROM attr_summaries WHERE model = 'first_touch'),
                                 (SELECT s FROM attr_summaries WHERE model = 'linear')], 10)
WHERE channel = 'email' AND model = 'linear';
SELECT bar = repeat(U&'\2588', 6) || U&'\258B' AS search_linear_ok
FROM attribution_bar_chart(ARRAY[(SELECT s FROM attr_summaries WHERE model = 'first_touch'),
                                 (SELECT s FROM attr_summaries WHERE model = 'linear')], 10)
WHERE channel = 'search' AND model = 'linear';

-- ---------------------------------------------------------------------------
-- attribution_svg: one bar per (channel, model) row, 560 px for the largest
-- credit: first_touch email = 1 of 2 -> 280.0 px; linear search 4/3 of 2
-- -> 373.3 px; the title and names are escaped; one legend swatch per model.
-- ---------------------------------------------------------------------------
WITH svg AS (
  SELECT attribution_svg(ARRAY[(SELECT s FROM attr_summaries WHERE model = 'first_touch'),
                               (SELECT s FROM attr_summaries WHERE model = 'linear')],
                         'Credit <by> "channel" & model') AS x)
SELECT x LIKE '<svg xmlns="http://www.w3.org/2000/svg" %' AS starts_svg,
       x LIKE E'%</svg>\n' AS ends_svg,
       (length(x) - length(replace(x, '<rect class="bar"', ''))) / length('<rect class="bar"') AS bars,
       (length(x) - length(replace(x, '<rect class="legend"', ''))) / length('<rect class="legend"') AS legend,
       x LIKE '%Credit &lt;by&gt; &quot;channel&quot; &amp; model%' AS title_escaped,
       x LIKE '%width="280.0"%<title>email, first_touch: 1.00 conversions</title>%' AS email_first_touch,
       x LIKE '%width="373.3"%<title>search, linear: 1.33 conversions</title>%' AS search_linear,
       x LIKE '%(no touchpoint)%' AS null_channel_labelled
FROM svg;
