-- funnel_stage_counts and funnel_conversion: hand-worked cases.
--
-- Every expected value below is worked out by hand from the funnel walk of
-- doc/window_funnel.md; the reasoning is in the comments.  Each query shows
-- what the function returned (got) next to the hand-computed value and
-- whether they are equal (ok), so a wrong answer shows up as "f" in the diff.
SET timezone = 'UTC';
SET extra_float_digits = 0;

-- ---------------------------------------------------------------------------
-- A 5-stage e-commerce funnel (visit, product_view, add_to_cart, checkout,
-- purchase), window 1 day, three acquisition channels.
-- ---------------------------------------------------------------------------
CREATE TABLE shop (user_id bigint, channel text, ts timestamptz, event text);
INSERT INTO shop VALUES
  -- ads
  -- u1: all five stages in 20 minutes: level 5.
  (1, 'ads', '2024-03-01 10:00', 'visit'),
  (1, 'ads', '2024-03-01 10:05', 'product_view'),
  (1, 'ads', '2024-03-01 10:10', 'add_to_cart'),
  (1, 'ads', '2024-03-01 10:15', 'checkout'),
  (1, 'ads', '2024-03-01 10:20', 'purchase'),
  -- u2: add_to_cart comes 25 h after the visit that started the chain,
  -- outside the 1-day window: level 2.
  (2, 'ads', '2024-03-01 10:00', 'visit'),
  (2, 'ads', '2024-03-01 10:01', 'product_view'),
  (2, 'ads', '2024-03-02 11:00', 'add_to_cart'),
  -- u3: product_view before any visit does not count; after the visit,
  -- add_to_cart needs step 2: level 1.
  (3, 'ads', '2024-03-01 09:00', 'product_view'),
  (3, 'ads', '2024-03-01 09:30', 'visit'),
  (3, 'ads', '2024-03-01 09:40', 'add_to_cart'),
  -- u4: a visit only: level 1.
  (4, 'ads', '2024-03-02 12:00', 'visit'),
  -- u5: a purchase without a visit: level 0 (counted nowhere).
  (5, 'ads', '2024-03-02 13:00', 'purchase'),
  -- email
  -- u6: stops at checkout: level 4.
  (6, 'email', '2024-03-01 08:00', 'visit'),
  (6, 'email', '2024-03-01 08:30', 'product_view'),
  (6, 'email', '2024-03-01 09:00', 'add_to_cart'),
  (6, 'email', '2024-03-01 09:10', 'checkout'),
  -- u7: visit and product_view on day 1 (chain start 03-01 10:00); the
  -- second visit (03-02 09:00) restarts step 1 only, step 2 keeps the start
  -- 03-01 10:00.  add_to_cart 03-02 09:30 and checkout 09:40 are within a day
  -- of that start: steps 3 and 4 hold it.  purchase 03-02 10:05 is 24h05m
  -- after it: outside.  The 03-02 09:00 chain never reached step 2, so
  -- nothing can extend it: level 4.
  (7, 'email', '2024-03-01 10:00', 'visit'),
  (7, 'email', '2024-03-01 10:10', 'product_view'),
  (7, 'email', '2024-03-02 09:00', 'visit'),
  (7, 'email', '2024-03-02 09:30', 'add_to_cart'),
  (7, 'email', '2024-03-02 09:40', 'checkout'),
  (7, 'email', '2024-03-02 10:05', 'purchase'),
  -- organic
  -- u8: all five stages at the same instant (ties go in step order): level 5.
  (8, 'organic', '2024-03-03 12:00', 'purchase'),
  (8, 'organic', '2024-03-03 12:00', 'checkout'),
  (8, 'organic', '2024-03-03 12:00', 'add_to_cart'),
  (8, 'organic', '2024-03-03 12:00', 'product_view'),
  (8, 'organic', '2024-03-03 12:00', 'visit'),
  -- u9: visit, product_view, visit, product_view, add_to_cart: level 3
  -- (strict_deduplication: the second product_view finds step 2 held, stop
  -- at 2).
  (9, 'organic', '2024-03-03 09:00', 'visit'),
  (9, 'organic', '2024-03-03 09:05', 'product_view'),
  (9, 'organic', '2024-03-03 09:10', 'visit'),
  (9, 'organic', '2024-03-03 09:15', 'product_view'),
  (9, 'organic', '2024-03-03 09:20', 'add_to_cart'),
  -- u10: an 'other' event between visit and product_view: level 3
  -- (strict_order: the row matching no step ends the chain at 1).
  (10, 'organic', '2024-03-03 10:00', 'visit'),
  (10, 'organic', '2024-03-03 10:01', 'other'),
  (10, 'organic', '2024-03-03 10:02', 'product_view'),
  (10, 'organic', '2024-03-03 10:03', 'add_to_cart'),
  -- u1 again, in another channel, after it already converted: in the organic
  -- group u1 has level 1; in the whole table u1 stays at 5.
  (1, 'organic', '2024-03-03 15:00', 'visit');

-- Whole table, default mode.  Levels: u1 5, u2 2, u3 1, u4 1, u5 0, u6 4,
-- u7 4, u8 5, u9 3, u10 3.  >=1: 9 (all but u5); >=2: u1 u2 u6 u7 u8 u9 u10
-- = 7; >=3: u1 u6 u7 u8 u9 u10 = 6; >=4: u1 u6 u7 u8 = 4; >=5: u1 u8 = 2.
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop) s;

-- The same funnel given as conditions and as funnel_event values.
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', user_id, ts, event = 'visit', event = 'product_view',
           event = 'add_to_cart', event = 'checkout', event = 'purchase') AS got
  FROM shop) s;
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', user_id,
           funnel_event(ts, event = 'visit', event = 'product_view',
                        event = 'add_to_cart', event = 'checkout', event = 'purchase')) AS got
  FROM shop) s;

-- Per channel.
-- ads: u1 5, u2 2, u3 1, u4 1, u5 0 -> {4,2,1,1,1}.
-- email: u6 4, u7 4 -> {2,2,2,2,0}.
-- organic: u8 5, u9 3, u10 3, u1 1 -> {4,3,3,1,1}.
SELECT channel, got, got = expected AS ok FROM (
  SELECT channel,
         funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop GROUP BY channel) s
JOIN (VALUES ('ads', '{4,2,1,1,1}'::bigint[]),
             ('email', '{2,2,2,2,0}'),
             ('organic', '{4,3,3,1,1}')) e(channel, expected) USING (channel)
ORDER BY channel;

-- A report with a total row (GROUP BY ROLLUP): the channels as above and
-- the whole table {9,7,6,4,2} (u1, in two channels, counted once).
SELECT e.channel, got, got = expected AS ok FROM (
  SELECT channel,
         funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop GROUP BY ROLLUP (channel)) s
JOIN (VALUES ('ads', '{4,2,1,1,1}'::bigint[]),
             ('email', '{2,2,2,2,0}'),
             ('organic', '{4,3,3,1,1}'),
             ('total', '{9,7,6,4,2}')) e(channel, expected) ON coalesce(s.channel, 'total') = e.channel
ORDER BY e.channel;

-- Conversion per channel: element 1 is 1, element k = count_k / count_(k-1);
-- email's purchase step is 0/2 = 0.
SELECT channel, got, got = expected AS ok FROM (
  SELECT channel,
         funnel_conversion('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop GROUP BY channel) s
JOIN (VALUES ('ads', ARRAY[1, 2/4::float8, 1/2::float8, 1/1::float8, 1/1::float8]),
             ('email', ARRAY[1, 2/2::float8, 2/2::float8, 2/2::float8, 0/2::float8]),
             ('organic', ARRAY[1, 3/4::float8, 3/3::float8, 1/3::float8, 1/1::float8])) e(channel, expected)
  USING (channel)
ORDER BY channel;

-- Whole table conversion: {1, 7/9, 6/7, 4/6, 2/4}.
SELECT got = ARRAY[1, 7/9::float8, 6/7::float8, 4/6::float8, 2/4::float8] AS ok FROM (
  SELECT funnel_conversion('1 day', user_id, ts, event = 'visit', event = 'product_view',
           event = 'add_to_cart', event = 'checkout', event = 'purchase') AS got
  FROM shop) s;

-- Modes over the whole table.
-- strict_deduplication: u9 stops at 2 (second product_view); u7: the second
-- visit is step 1 (never a duplicate), add_to_cart finds step 3 empty: 4.
-- Levels 5,2,1,1,0,4,4,5,2,3 -> {9,7,5,4,2}.
SELECT got, got = '{9,7,5,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', 'strict_deduplication', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop) s;
-- strict_order: u10's 'other' row (matches no step) ends its chain at 1; u3's
-- add_to_cart arrives while step 2 holds nothing: stop at 1 (it was 1
-- anyway); u9's second product_view extends step 1 (not a violation): 3.
-- Levels 5,2,1,1,0,4,4,5,3,1 -> {9,6,5,4,2}.
SELECT got, got = '{9,6,5,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', 'strict_order', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop) s;
-- the same with funnel_event input: 'other' rows are events with no step.
SELECT got, got = '{9,6,5,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', 'strict_order', user_id,
           funnel_event(ts, event = 'visit', event = 'product_view',
                        event = 'add_to_cart', event = 'checkout', event = 'purchase')) AS got
  FROM shop) s;
-- strict_increase: only u8 has equal timestamps; its five steps at one
-- instant give level 1.  Levels 5,2,1,1,0,4,4,1,3,3 -> {9,6,5,3,1}.
SELECT got, got = '{9,6,5,3,1}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', 'strict_increase', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop) s;

-- funnel_conversion with a mode: the ratios of the strict_order counts
-- {9,6,5,4,2} and of the strict_deduplication counts {9,7,5,4,2} (as
-- funnel_event values).
SELECT got = ARRAY[1, 6/9::float8, 5/6::float8, 4/5::float8, 2/4::float8] AS ok FROM (
  SELECT funnel_conversion('1 day', 'strict_order', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM shop) s;
SELECT got = ARRAY[1, 7/9::float8, 5/7::float8, 4/5::float8, 2/4::float8] AS ok FROM (
  SELECT funnel_conversion('1 day', 'strict_deduplication', user_id,
           funnel_event(ts, event = 'visit', event = 'product_view',
                        event = 'add_to_cart', event = 'checkout', event = 'purchase')) AS got
  FROM shop) s;

-- ---------------------------------------------------------------------------
-- The spec's known cases, one entity each, steps a, b, c, window 1 hour.
-- Times are seconds after 2024-01-01 00:00.  The 'abc' row matches all three
-- steps (conditions overlap).
-- ---------------------------------------------------------------------------
CREATE TABLE known (entity text, sec int, ev text);
INSERT INTO known VALUES
  ('E1', 1, 'a'), ('E1', 2, 'd'), ('E1', 3, 'b'), ('E1', 4, 'c'),
  ('E2', 1, 'c'), ('E2', 2, 'c'), ('E2', 3, 'b'), ('E2', 4, 'b'), ('E2', 5, 'a'), ('E2', 6, 'a'),
  ('E3', 1, 'a'), ('E3', 2, 'b'), ('E3', 3, 'a'), ('E3', 4, 'c'),
  ('E4', 1, 'a'), ('E4', 2, 'c'), ('E4', 3, 'b'),
  ('E5', 1, 'a'), ('E5', 2, 'b'), ('E5', 3, 'a'), ('E5', 4, 'b'), ('E5', 5, 'c'),
  ('E6', 1, 'abc'),
  ('E7', 1, 'c'), ('E7', 1, 'b'), ('E7', 1, 'a'),
  ('E8', 1, 'a'), ('E8', 2, 'b'), ('E8', 2, 'c'),
  ('E9', 1, 'a'), ('E9', 5000, 'b'),
  ('E10', 1, 'b'), ('E10', 2, 'c');

-- Levels per mode (hand walk):
--            E1 E2 E3 E4 E5 E6 E7 E8 E9 E10   counts >=1,>=2,>=3
-- default     3  1  3  2  3  3  3  3  1  0    {9,7,6}
--   E1: d matches nothing; E2: c, b before any a are skipped; E3: the second
--   a restarts step 1 only, c extends a->b; E4: c skipped, b gives 2;
--   E9: b 4999 s after a, outside 1 hour.
-- strict_deduplication
--             3  1  3  2  2  3  3  3  1  0    {9,7,5}
--   E5: the second b finds step 2 held: stop at 2.
-- strict_order
--             1  1  3  1  3  3  3  3  1  0    {9,5,5}
--   E1: d (no step) ends the chain; E4: c while step 2 is empty ends it.
-- strict_order, allow_reentry
--             1  1  3  2  3  3  3  3  1  0    {9,6,5}
--   E4: c is skipped instead, b gives 2.
-- strict_increase
--             3  1  3  2  3  1  1  2  1  0    {9,5,3}
--   E6, E7: b at the same second as a is not later: 1; E8: c at the second
--   b was reached: 2.
-- strict_once
--             3  1  3  2  3  1  3  3  1  0    {9,6,5}
--   E6: one row counts once: 1; E7: three rows may: 3.
SELECT mode, got, got = expected AS ok FROM (
  SELECT m.mode, m.expected,
         funnel_stage_counts('1 hour', m.mode, entity,
           '2024-01-01'::timestamptz + sec * interval '1 second',
           ev IN ('a', 'abc'), ev IN ('b', 'abc'), ev IN ('c', 'abc')) AS got
  FROM known,
       (VALUES ('', '{9,7,6}'::bigint[]),
               ('strict_deduplication', '{9,7,5}'),
               ('strict_order', '{9,5,5}'),
               ('strict_order, allow_reentry', '{9,6,5}'),
               ('strict_increase', '{9,5,3}'),
               ('strict_once', '{9,6,5}')) m(mode, expected)
  GROUP BY m.mode, m.expected) s
ORDER BY mode;

-- A one-step funnel: level 1 as soon as a row matches (E1..E9 have an a).
SELECT got, got = '{9}' AS ok FROM (
  SELECT funnel_stage_counts('1 hour', entity, '2024-01-01'::timestamptz + sec * interval '1 second',
           ev IN ('a', 'abc')) AS got
  FROM known) s;

-- Window 0: steps must share the chain start's instant.  E6 (one row) and
-- E7 (three rows at one second) reach 3, E8 (b, c one second after a) and
-- every other entity with an a stay at 1: {9,2,2}.
SELECT got, got = '{9,2,2}' AS ok FROM (
  SELECT funnel_stage_counts('0', entity, '2024-01-01'::timestamptz + sec * interval '1 second',
           ev IN ('a', 'abc'), ev IN ('b', 'abc'), ev IN ('c', 'abc')) AS got
  FROM known) s;

-- ---------------------------------------------------------------------------
-- A CRM leads table: one timestamp column per stage, NULL for stages not
-- reached; window 90 days.  2024 is a leap year.
-- ---------------------------------------------------------------------------
CREATE TABLE leads (lead_id int, region text, created timestamptz, mql timestamptz,
                    sql_at timestamptz, proposal timestamptz, won timestamptz);
INSERT INTO leads VALUES
  -- L1: every stage, won 45 days after created: level 5.
  (1, 'north', '2024-01-01', '2024-01-10', '2024-01-20', '2024-02-01', '2024-02-15'),
  -- L2: created and mql only: level 2.
  (2, 'north', '2024-01-05', '2024-01-06', NULL, NULL, NULL),
  -- L3: proposal 74 days after created (in the window), won 121 days after
  -- (out of it): level 4.
  (3, 'north', '2024-01-01', '2024-02-01', '2024-03-01', '2024-03-15', '2024-05-01'),
  -- L4: no mql: the later stages cannot follow: level 1.
  (4, 'north', '2024-01-10', NULL, '2024-01-20', '2024-01-25', '2024-02-01'),
  -- L5: proposal dated before sql (step 4 needs step 3 first): level 3.
  (5, 'south', '2024-02-01', '2024-02-02', '2024-02-10', '2024-02-05', NULL),
  -- L6: created only: level 1.
  (6, 'south', '2024-03-01', NULL, NULL, NULL, NULL),
  -- L7: imported without a created date: level 0.
  (7, 'south', NULL, '2024-03-01', NULL, NULL, NULL);

-- Whole table: levels 5,2,4,1,3,1,0 -> {6,4,3,2,1}.
-- As funnel events (LATERAL VALUES; NULL stages make NULL events, ignored):
SELECT got, got = '{6,4,3,2,1}' AS ok FROM (
  SELECT funnel_stage_counts('90 days', l.lead_id, funnel_event(s.ts, s.step)) AS got
  FROM leads l
  CROSS JOIN LATERAL (VALUES (1, l.created), (2, l.mql), (3, l.sql_at),
                             (4, l.proposal), (5, l.won)) s(step, ts)) q;
-- As event names (unnest of two arrays; rows with a NULL time are ignored):
SELECT got, got = '{6,4,3,2,1}' AS ok FROM (
  SELECT funnel_stage_counts('90 days', l.lead_id, s.ts, s.stage,
           ARRAY['created','mql','sql','proposal','won']) AS got
  FROM leads l
  CROSS JOIN LATERAL unnest(ARRAY[l.created, l.mql, l.sql_at, l.proposal, l.won],
                            ARRAY['created','mql','sql','proposal','won']) s(ts, stage)) q;

-- Per region.  north: 5,2,4,1 -> {4,3,2,2,1}.  south: 3,1,0 -> {2,1,1,0,0}
-- with five named steps; with funnel_event input the funnel has as many
-- steps as the highest step a row names, and no south lead was won, so the
-- south array has 4 elements: {2,1,1,0}.
SELECT region, got, got = expected AS ok FROM (
  SELECT l.region,
         funnel_stage_counts('90 days', l.lead_id, s.ts, s.stage,
           ARRAY['created','mql','sql','proposal','won']) AS got
  FROM leads l
  CROSS JOIN LATERAL unnest(ARRAY[l.created, l.mql, l.sql_at, l.proposal, l.won],
                            ARRAY['created','mql','sql','proposal','won']) s(ts, stage)
  GROUP BY l.region) q
JOIN (VALUES ('north', '{4,3,2,2,1}'::bigint[]), ('south', '{2,1,1,0,0}')) e(region, expected)
  USING (region)
ORDER BY region;
SELECT region, got, got = expected AS ok FROM (
  SELECT l.region, funnel_stage_counts('90 days', l.lead_id, funnel_event(s.ts, s.step)) AS got
  FROM leads l
  CROSS JOIN LATERAL (VALUES (1, l.created), (2, l.mql), (3, l.sql_at),
                             (4, l.proposal), (5, l.won)) s(step, ts)
  GROUP BY l.region) q
JOIN (VALUES ('north', '{4,3,2,2,1}'::bigint[]), ('south', '{2,1,1,0}')) e(region, expected)
  USING (region)
ORDER BY region;
-- funnel_conversion: north {1, 3/4, 2/3, 2/2, 1/2}; south {1, 1/2, 1/1, 0/1}.
SELECT region, got = expected AS ok FROM (
  SELECT l.region, funnel_conversion('90 days', l.lead_id, funnel_event(s.ts, s.step)) AS got
  FROM leads l
  CROSS JOIN LATERAL (VALUES (1, l.created), (2, l.mql), (3, l.sql_at),
                             (4, l.proposal), (5, l.won)) s(step, ts)
  GROUP BY l.region) q
JOIN (VALUES ('north', ARRAY[1, 3/4::float8, 2/3::float8, 2/2::float8, 1/2::float8]),
             ('south', ARRAY[1, 1/2::float8, 1/1::float8, 0/1::float8])) e(region, expected)
  USING (region)
ORDER BY region;
-- The funnel_event output length is the highest step named anywhere in the
-- group: events naming only step 7 give 7 elements, all 0 (no entity has
-- step 1).
SELECT funnel_stage_counts('1 day', 1, funnel_event('2024-01-01', 7)) AS got,
       funnel_stage_counts('1 day', 1, funnel_event('2024-01-01', 7)) = '{0,0,0,0,0,0,0}' AS ok;

-- The longest funnel, 64 steps: entity 1 has step k at second k (all 64
-- reached), entity 2 the same without step 33 (stops at 32): 64 elements,
-- 2 for steps 1..32, 1 for steps 33..64; the same with 64 conditions.
SELECT got = array_fill(2::bigint, ARRAY[32]) || array_fill(1::bigint, ARRAY[32]) AS ok FROM (
  SELECT funnel_stage_counts('1 hour', e, funnel_event('2024-01-01'::timestamptz + k * interval '1 s', k)) AS got
  FROM generate_series(1, 2) e, generate_series(1, 64) k WHERE e = 1 OR k <> 33) s;
SELECT got = array_fill(2::bigint, ARRAY[32]) || array_fill(1::bigint, ARRAY[32]) AS ok FROM (
  SELECT funnel_stage_counts('1 hour', e, '2024-01-01'::timestamptz + k * interval '1 s',
           VARIADIC (SELECT array_agg(j = k ORDER BY j) FROM generate_series(1, 64) j)) AS got
  FROM generate_series(1, 2) e, generate_series(1, 64) k WHERE e = 1 OR k <> 33) s;

-- Extreme timestamps.  Entity 1: step 1 at the first and step 2 at the last
-- representable second, about 299,000 years apart: outside a window of
-- 290000 years (an interval year is 360 days: 104,400,000 days).  Entity 2:
-- both steps in the last hour; entity 3: both in the first second.  {3,2}
-- for either window.
SELECT got_wide, got_wide = '{3,2}' AS wide_ok, got_day = '{3,2}' AS day_ok FROM (
  SELECT funnel_stage_counts('290000 years', e, ts, s = 1, s = 2) AS got_wide,
         funnel_stage_counts('1 day', e, ts, s = 1, s = 2) AS got_day
  FROM (VALUES (1, '4713-11-24 00:00:00 BC'::timestamptz, 1), (1, '294276-12-31 23:59:59', 2),
               (2, '294276-12-31 23:00:00', 1), (2, '294276-12-31 23:59:59.999999', 2),
               (3, '4713-11-24 00:00:00 BC', 1), (3, '4713-11-24 00:00:01 BC', 2)) v(e, ts, s)) q;

-- ---------------------------------------------------------------------------
-- Empty input and NULL entities
-- ---------------------------------------------------------------------------
-- No rows at all: NULL, for every form.
SELECT funnel_stage_counts('1 day', user_id, ts, event = 'visit', event = 'purchase') IS NULL AS bools_null,
       funnel_stage_counts('1 day', 'strict_order', user_id, ts, event, ARRAY['visit']) IS NULL AS names_null,
       funnel_stage_counts('1 day', user_id, funnel_event(ts, 1)) IS NULL AS event_null,
       funnel_conversion('1 day', user_id, ts, event = 'visit', event = 'purchase') IS NULL AS conversion_null
FROM shop WHERE false;
-- GROUP BY over no rows: no groups.
SELECT channel, funnel_stage_counts('1 day', user_id, ts, event = 'visit') FROM shop WHERE false GROUP BY channel;
-- Rows whose entity is NULL are ignored.  When every entity is NULL there
-- are rows but no entity: every count is 0, and conversion is NULL (nobody
-- entered; 0/0 after).  With funnel_event input no step was named by a
-- counted row: an empty array.
SELECT funnel_stage_counts('1 day', NULL::bigint, ts, event = 'visit', event = 'product_view') AS counts,
       funnel_conversion('1 day', NULL::bigint, ts, event = 'visit', event = 'product_view') AS conversion,
       funnel_stage_counts('1 day', NULL::bigint, funnel_event(ts, 1)) AS event_counts
FROM shop;
-- Adding rows with a NULL entity to the shop changes nothing: {9,7,6,4,2}.
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM (SELECT user_id, ts, event FROM shop
        UNION ALL
        SELECT NULL, ts, event FROM shop) q) s;
-- Rows with a NULL time are ignored; an entity whose rows all have NULL time
-- or match no step is not counted: the 'x' and 'y' entities add nothing.
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM (SELECT user_id, ts, event FROM shop
        UNION ALL VALUES (100, NULL::timestamptz, 'visit'),
                         (101, '2024-03-01', 'other'), (101, '2024-03-01', NULL)) q) s;

-- ---------------------------------------------------------------------------
-- Entity types: text, uuid, varchar (uses text's hash opclass), numeric,
-- a composite type, an array, smallint and an array computed per row
-- (array_append returns an expanded array that lives only for the row); all
-- must count the same 10 users.
-- ---------------------------------------------------------------------------
CREATE TYPE shop_user AS (id bigint, tag text);
SELECT funnel_stage_counts('1 day', 'user-' || user_id, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS text_ok,
       funnel_stage_counts('1 day', md5(user_id::text)::uuid, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS uuid_ok,
       funnel_stage_counts('1 day', user_id::varchar, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS varchar_ok,
       funnel_stage_counts('1 day', user_id::numeric / 3, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS numeric_ok,
       funnel_stage_counts('1 day', (user_id, 'x')::shop_user, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS record_ok,
       funnel_stage_counts('1 day', ARRAY[user_id, 0], ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS array_ok,
       funnel_stage_counts('1 day', user_id::int2, ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS int2_ok,
       funnel_stage_counts('1 day', array_append(ARRAY[user_id], 0::bigint), ts, event,
         ARRAY['visit','product_view','add_to_cart','checkout','purchase']) = '{9,7,6,4,2}' AS expanded_ok
FROM shop;
-- Text entities compare under the (deterministic) default collation: 'u1'
-- and 'U1' are two entities; 'u1' has a visit (level 1), 'U1' a purchase
-- only (0): {1}.
SELECT funnel_stage_counts('1 day', e, ts, ev = 'visit') AS got
FROM (VALUES ('u1', '2024-01-01'::timestamptz, 'visit'), ('U1', '2024-01-01', 'purchase')) v(e, ts, ev);
-- Long text entities (compressed in the table) are still one entity each.
CREATE TABLE long_entities AS
  SELECT repeat(md5(user_id::text), 200) AS e, ts, event FROM shop;
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts('1 day', e, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS got
  FROM long_entities) s;

-- ---------------------------------------------------------------------------
-- funnel_stage_counts(level, steps) and funnel_conversion(level, steps):
-- from levels computed elsewhere.
-- ---------------------------------------------------------------------------
-- levels 0,1,3,3,NULL,2 of a 3-step funnel: >=1: 4; >=2: 3; >=3: 2.
SELECT funnel_stage_counts(level, 3) AS counts,
       funnel_stage_counts(level, 3) = '{4,3,2}' AS counts_ok,
       funnel_conversion(level, 3) = ARRAY[1, 3/4::float8, 2/3::float8] AS conversion_ok
FROM unnest(ARRAY[0, 1, 3, 3, NULL, 2]) level;
-- no rows: NULL; only NULL levels: zeros (and conversion NULLs).
SELECT funnel_stage_counts(level, 3) AS no_rows FROM unnest(ARRAY[]::int[]) level;
SELECT funnel_stage_counts(level, 3) AS null_levels, funnel_conversion(level, 3) AS null_conversion
FROM unnest(ARRAY[NULL, NULL]::int[]) level;
-- The two-level form over the shop gives the one-pass result.
SELECT got, got = '{9,7,6,4,2}' AS ok FROM (
  SELECT funnel_stage_counts(level, 5) AS got FROM (
    SELECT window_funnel('1 day', ts, event,
             ARRAY['visit','product_view','add_to_cart','checkout','purchase']) AS level
    FROM shop GROUP BY user_id) per_user) s;

-- funnel_conversion(stage_counts bigint[]): {1, 40/100, 10/40, 0/10}.
SELECT funnel_conversion('{100,40,10,0}'::bigint[]) = ARRAY[1, 0.4::float8, 0.25::float8, 0] AS ok;
-- Nobody entered: all NULL.  After a 0 stage: NULL (0/0).
SELECT funnel_conversion('{0,0}'::bigint[]) AS nobody, funnel_conversion('{5,0,0}'::bigint[]) AS stopped;
SELECT funnel_conversion('{}'::bigint[]) AS empty, funnel_conversion(NULL::bigint[]) AS null_input;
-- Equal consecutive counts are allowed (conversion 1).
SELECT funnel_conversion('{3,3,3}'::bigint[]) AS flat;
-- A non-1 lower bound is fine: elements are read in order.
SELECT funnel_conversion('[0:1]={4,1}'::bigint[]) = ARRAY[1, 0.25::float8] AS ok;

-- ---------------------------------------------------------------------------
-- As a window function: running stage counts by day.
-- ---------------------------------------------------------------------------
-- Through 03-01: u1 5 (all of it), u2 2, u3 1, u6 4, u7 2 (visit and
-- product_view) -> {5,4,2,2,1}.
-- Through 03-02: + u2's late add_to_cart (still 2), u4 1, u5 0, u7 4
-- -> levels 5,2,1,1,0,4,4 -> {6,4,3,3,1}.
-- Through 03-03: the whole table, {9,7,6,4,2}.
SELECT day, got, got = expected AS ok FROM (
  SELECT DISTINCT ts::date AS day,
         funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase'])
           OVER (ORDER BY ts::date) AS got
  FROM shop) s
JOIN (VALUES ('2024-03-01'::date, '{5,4,2,2,1}'::bigint[]),
             ('2024-03-02', '{6,4,3,3,1}'),
             ('2024-03-03', '{9,7,6,4,2}')) e(day, expected) USING (day)
ORDER BY day;
-- The same per channel, with funnel_conversion as the window function:
-- ads through 03-01: u1 5, u2 2, u3 1 -> counts {3,2,1,1,1}
-- -> {1, 2/3, 1/2, 1, 1}; through 03-02 {4,2,1,1,1} -> {1, 1/2, 1/2, 1, 1}.
SELECT day, got = expected AS ok FROM (
  SELECT DISTINCT ts::date AS day,
         funnel_conversion('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase'])
           OVER (PARTITION BY channel ORDER BY ts::date) AS got
  FROM shop WHERE channel = 'ads') s
JOIN (VALUES ('2024-03-01'::date, ARRAY[1, 2/3::float8, 1/2::float8, 1, 1]),
             ('2024-03-02', ARRAY[1, 1/2::float8, 1/2::float8, 1, 1])) e(day, expected) USING (day)
ORDER BY day;
-- A sliding frame (the state is rebuilt for each row): the stage counts of
-- the current and previous day only.  03-02 with 03-01: as the running
-- count {6,4,3,3,1}.  03-03 with 03-02: u2's add_to_cart alone (0), u4 1,
-- u5 0, u7's day-2 rows (visit, add_to_cart, checkout, purchase: the visit
-- starts a chain, add_to_cart finds step 2 empty) 1, u8 5, u9 3, u10 3,
-- u1's organic visit 1 -> levels 1,1,5,3,3,1 -> {6,3,3,1,1}.
SELECT day, got, got = expected AS ok FROM (
  SELECT DISTINCT ts::date AS day,
         funnel_stage_counts('1 day', user_id, ts, event,
           ARRAY['visit','product_view','add_to_cart','checkout','purchase'])
           OVER (ORDER BY ts::date RANGE BETWEEN '1 day' PRECEDING AND CURRENT ROW) AS got
  FROM (SELECT user_id, ts, event, ts::date AS d FROM shop) q) s
JOIN (VALUES ('2024-03-01'::date, '{5,4,2,2,1}'::bigint[]),
             ('2024-03-02', '{6,4,3,3,1}'),
             ('2024-03-03', '{6,3,3,1,1}')) e(day, expected) USING (day)
ORDER BY day;

DROP TABLE shop, known, leads, long_entities;
DROP TYPE shop_user;
