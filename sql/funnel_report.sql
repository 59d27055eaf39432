-- funnel_summary, funnel_report, funnel_chart and funnel_svg on a small
-- funnel whose numbers are worked out by hand below.
SET timezone = 'UTC';
CREATE TABLE shop(uid int, ts timestamptz, e text);
-- steps visit -> view -> cart -> buy, window 1 hour
--  u1: visit 10:00, view 10:10, cart 10:20, buy 10:30   level 4, times 0, 10m, 20m, 30m
--  u2: visit 10:00, view 10:05, cart 10:50              level 3, times 0, 5m, 50m
--  u3: visit 10:00, view 10:30                          level 2, times 0, 30m
--  u4: visit 10:00                                      level 1
--  u5: visit 10:00, buy 10:10 (no view)                 level 1
--  u6: view 10:00 (no visit)                            level 0: not counted
--  u7: visit 10:00, view 12:00 (out of the window)      level 1
-- entities per step: 6, 3, 2, 1
-- conversion from previous: 1, 3/6 = 0.5, 2/3 = 0.667, 1/2 = 0.5
-- conversion from start:    1, 0.5, 2/6 = 0.333, 1/6 = 0.167
-- drop-off (lost since the previous step): 0, 3, 1, 1; rate 0, 0.5, 0.333, 0.5
-- times from step 1 (nearest-rank percentiles, like percentile_disc):
--  step 2 {5m, 10m, 30m}: median (rank 2) 10m (within 1%), p90 (rank 3) 30m (the maximum: exact)
--  step 3 {20m, 50m}:     median (rank 1) 20m, p90 (rank 2) 50m (minimum and maximum: exact)
--  step 4 {30m}:          30m, 30m
INSERT INTO shop VALUES
 (1, '2024-01-01 10:00', 'visit'), (1, '2024-01-01 10:10', 'view'), (1, '2024-01-01 10:20', 'cart'), (1, '2024-01-01 10:30', 'buy'),
 (2, '2024-01-01 10:00', 'visit'), (2, '2024-01-01 10:05', 'view'), (2, '2024-01-01 10:50', 'cart'),
 (3, '2024-01-01 10:00', 'visit'), (3, '2024-01-01 10:30', 'view'),
 (4, '2024-01-01 10:00', 'visit'),
 (5, '2024-01-01 10:00', 'visit'), (5, '2024-01-01 10:10', 'buy'),
 (6, '2024-01-01 10:00', 'view'),
 (7, '2024-01-01 10:00', 'visit'), (7, '2024-01-01 12:00', 'view');
CREATE TABLE sums AS
SELECT funnel_summary('1 hour', uid, ts, e = 'visit', e = 'view', e = 'cart', e = 'buy') AS s FROM shop;

SELECT funnel_stage_counts(s), funnel_window(s) FROM sums;
SELECT step, name, entities, round(conversion_from_previous::numeric, 3) AS conv_prev,
       round(conversion_from_start::numeric, 3) AS conv_start, drop_off,
       round(drop_off_rate::numeric, 3) AS drop_rate,
       round(extract(epoch FROM median_time_from_start) / 60) AS median_min,
       p90_time_from_start
FROM sums, funnel_report(s, ARRAY['visit', 'view', 'cart', 'buy']);
-- the approximate median (step 2) within 1% of 10 minutes
SELECT abs(extract(epoch FROM median_time_from_start) - 600) <= 6 AS median_within_1pct
FROM sums, funnel_report(s) WHERE step = 2;
-- without names the steps are numbered
SELECT step, name FROM sums, funnel_report(s);
-- the same funnel from event names and from funnel_event values
SELECT funnel_stage_counts(funnel_summary('1 hour', uid, ts, e, ARRAY['visit', 'view', 'cart', 'buy'])) FROM shop;
SELECT funnel_stage_counts(funnel_summary('1 hour', uid,
         funnel_event(ts, array_position(ARRAY['visit', 'view', 'cart', 'buy'], e)))) FROM shop;
-- the text form reads back to the same value
SELECT s::text::funnel_summary::text = s::text AS text_round_trip FROM sums;

-- The chart, width 60: name column 5 ("visit"), entities 8, two 7-wide
-- percentage columns, 4 separating spaces: the bar gets 60 - 5 - 8 - 14 - 4 = 29
-- columns = 232 eighths.  Step 2: 3/6 * 232 = 116 eighths = 14 full blocks and
-- a half; step 3: 2/6 * 232 = 77.3 -> 77 = 9 full + 5/8; step 4: 1/6 * 232 =
-- 38.7 -> 39 = 4 full + 7/8.
\pset format unaligned
\pset tuples_only on
SELECT funnel_chart(s, ARRAY['visit', 'view', 'cart', 'buy']) FROM sums;
-- a long name is cut to 24 columns; at width 50 the bar gets the rest
SELECT funnel_chart(s, ARRAY['visit the shop home page today', 'view', 'cart', 'buy'], 70) FROM sums;
SELECT funnel_chart(s, ARRAY['visit the shop home page today', 'view', 'cart', 'buy'], 50) FROM sums;
\pset tuples_only off
\pset format aligned

-- SVG: well-formed XML whatever the names hold, and the names read back
-- (expected/funnel_report_1.out: the same in a SQL_ASCII database, where bars
-- are drawn with # and chr(233) is a lone byte that the SVG shows as ?)
SELECT xml_is_well_formed_document(funnel_svg(s, ARRAY['a<b', 'x & y', '"q" ''s''', 'caf' || chr(233) || ' </svg>'])) AS well_formed
FROM sums;
SELECT x.* FROM sums,
  XMLTABLE(XMLNAMESPACES('http://www.w3.org/2000/svg' AS s), '/s:svg/s:g'
           PASSING xmlparse(DOCUMENT funnel_svg(s, ARRAY['a<b', 'x & y', '"q" ''s''', 'caf' || chr(233) || ' </svg>']))
           COLUMNS id text PATH '@id', name text PATH 's:text[1]', bar text PATH 's:rect[2]/@width') x;
-- bars: 400 px for step 1, 3/6, 2/6 and 1/6 of it
-- control characters are not allowed in XML: replaced
SELECT position(chr(1) IN funnel_svg(s, ARRAY['a' || chr(1) || 'b', 'v', 'c', 'b'])) AS ctl,
       position('a?b' IN funnel_svg(s, ARRAY['a' || chr(1) || 'b', 'v', 'c', 'b'])) > 0 AS replaced
FROM sums;

-- empty summaries: rows but no entity reached step 1
SELECT funnel_stage_counts(funnel_summary('1 hour', uid, ts, e = 'nothing', e = 'view')) FROM shop;
SELECT * FROM funnel_report((SELECT funnel_summary('1 hour', uid, ts, e = 'nothing', e = 'view') FROM shop));
\pset format unaligned
\pset tuples_only on
SELECT funnel_chart(funnel_summary('1 hour', uid, ts, e = 'nothing', e = 'view')) FROM shop;
\pset tuples_only off
\pset format aligned
-- no rows at all: no summary, no report rows
SELECT funnel_summary('1 hour', uid, ts, e = 'visit') IS NULL AS no_summary FROM shop WHERE false;
SELECT count(*) FROM funnel_report(NULL);

-- step names: one per step
SELECT * FROM sums, funnel_report(s, ARRAY['visit', 'view', 'cart']);
SELECT * FROM sums, funnel_report(s, ARRAY['visit', 'view', 'cart', 'buy', 'again']);
SELECT funnel_chart(s, ARRAY['visit', NULL, 'cart', 'buy']) FROM sums;
SELECT funnel_svg(s, ARRAY[['visit', 'view'], ['cart', 'buy']]) FROM sums;
SELECT funnel_chart(s, NULL, 20) FROM sums;
SELECT funnel_time_percentile(s, 5, 0.5) FROM sums;
SELECT funnel_time_percentile(s, 2, 1.5) FROM sums;
-- rollup refuses summaries of different funnels
SELECT rollup(x) FROM (SELECT s AS x FROM sums UNION ALL
  SELECT funnel_summary('1 hour', uid, ts, e = 'visit', e = 'view') FROM shop) u;
SELECT rollup(x) FROM (SELECT s AS x FROM sums UNION ALL
  SELECT funnel_summary('2 hours', uid, ts, e = 'visit', e = 'view', e = 'cart', e = 'buy') FROM shop) u;
SELECT rollup(x) FROM (SELECT s AS x FROM sums UNION ALL
  SELECT funnel_summary('1 hour', 'strict_order', uid, ts, e = 'visit', e = 'view', e = 'cart', e = 'buy') FROM shop) u;
-- text input is validated
SELECT '{"version": 1}'::funnel_summary;
SELECT '{"version": 1, "steps": 1, "window_us": 10, "mode": "", "open_steps": false, "entities": [2], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary;
SELECT '{"version": 1, "steps": 2, "window_us": 10, "mode": "", "open_steps": false, "entities": [1, 1], "times_us": [{"zero": 1, "min": 0, "max": 0, "buckets": []}, {"zero": 0, "min": 5, "max": 5, "buckets": [[99999, 1]]}]}'::funnel_summary;
SELECT '{"version": 1, "steps": 1, "window_us": 10, "mode": "sometimes", "open_steps": false, "entities": [0], "times_us": [{"zero": 0, "min": 0, "max": 0, "buckets": []}]}'::funnel_summary;
DROP TABLE shop, sums;
