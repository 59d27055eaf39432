-- funnel_breakdown and funnel_breakdown_report on the worked example of
-- doc/product_funnels.md, "Breakdown attribution" (window 1 hour; steps
-- visit, signup, purchase; the channel of each row).  Each query also says
-- whether the result equals the values worked by hand there.
SET timezone = 'UTC';
CREATE TABLE bd_ex (u text, ts timestamptz, ev text, channel text);
INSERT INTO bd_ex VALUES
  ('u1', '2024-01-01 10:00', 'visit', 'ads'), ('u1', '2024-01-01 10:10', 'signup', 'email'),
  ('u1', '2024-01-01 10:20', 'purchase', 'email'),
  ('u2', '2024-01-01 10:00', 'visit', NULL), ('u2', '2024-01-01 10:05', 'visit', 'seo'),
  ('u2', '2024-01-01 10:30', 'signup', 'seo'),
  ('u3', '2024-01-01 10:00', 'visit', 'ads'), ('u3', '2024-01-01 10:00', 'visit', 'seo'),
  ('u3', '2024-01-01 10:20', 'signup', 'ads'), ('u3', '2024-01-01 10:40', 'purchase', 'seo'),
  ('u4', '2024-01-01 09:00', 'signup', 'email'), ('u4', '2024-01-01 10:00', 'visit', 'email'),
  ('u5', '2024-01-01 10:00', 'visit', NULL),
  ('u6', '2024-01-01 10:00', 'visit', 'ads'), ('u6', '2024-01-01 10:10', 'signup', 'seo'),
  ('u6', '2024-01-01 10:20', 'signup', 'email'), ('u6', '2024-01-01 10:30', 'purchase', 'ads');

-- the four attributions, each with the hand-worked values
CREATE TABLE bd_hand (mode text, want jsonb);
INSERT INTO bd_hand VALUES
  ('breakdown first_touch', '[{"value": "ads", "entities": [3, 3, 3]}, {"value": "seo", "entities": [1, 1, 0]},
                              {"value": "email", "entities": [1, 0, 0]}, {"value": null, "entities": [1, 0, 0]}]'),
  ('breakdown last_touch', '[{"value": "seo", "entities": [2, 2, 1]}, {"value": "email", "entities": [2, 1, 1]},
                             {"value": "ads", "entities": [1, 1, 1]}, {"value": null, "entities": [1, 0, 0]}]'),
  ('breakdown step 2', '[{"value": "email", "entities": [3, 2, 2]}, {"value": "seo", "entities": [2, 2, 1]},
                         {"value": "ads", "entities": [1, 1, 1]}, {"value": null, "entities": [1, 0, 0]}]'),
  ('breakdown all_events', '[{"value": "ads", "entities": [3, 1, 0]}, {"value": "seo", "entities": [2, 1, 0]},
                             {"value": null, "entities": [2, 0, 0]}, {"value": "email", "entities": [1, 0, 0]}]');
SELECT h.mode, r -> 'values' AS "values", r -> 'values' = h.want AS as_worked
FROM bd_hand h,
     LATERAL (SELECT funnel_breakdown('1 hour', h.mode, u, channel, ts, ev,
                                      ARRAY['visit', 'signup', 'purchase']) AS r
              FROM bd_ex) b
ORDER BY h.mode;

-- no attribution given: first_touch; the per-value counts add up to the funnel
SELECT funnel_breakdown('1 hour', '', u, channel, ts, ev, ARRAY['visit', 'signup', 'purchase']) -> 'values'
         = (SELECT want FROM bd_hand WHERE mode = 'breakdown first_touch') AS default_is_first_touch,
       funnel_stage_counts('1 hour', u, ts, ev, ARRAY['visit', 'signup', 'purchase']) AS whole_funnel
FROM bd_ex;

-- conditions and funnel_event rows give the same result
SELECT funnel_breakdown('1 hour', 'breakdown step 2', u, channel, ts,
                        ev = 'visit', ev = 'signup', ev = 'purchase')
         = funnel_breakdown('1 hour', 'breakdown step 2', u, channel, ts, ev, ARRAY['visit', 'signup', 'purchase'])
         AS conditions_same,
       funnel_breakdown('1 hour', 'breakdown step 2', u, channel,
                        funnel_event(ts, array_position(ARRAY['visit', 'signup', 'purchase'], ev)))
         = funnel_breakdown('1 hour', 'breakdown step 2', u, channel, ts, ev, ARRAY['visit', 'signup', 'purchase'])
         AS funnel_event_same
FROM bd_ex;

-- the report: the top 2 values of first_touch and the rest as one row
-- (hand-worked: ads {3,3,3}, seo {1,1,0}, other = email + NULL {2,0,0})
SELECT * FROM funnel_breakdown_report(
  (SELECT funnel_breakdown('1 hour', 'breakdown first_touch', u, channel, ts, ev,
                           ARRAY['visit', 'signup', 'purchase'])
   FROM bd_ex), 2);
-- every value (top_n NULL), and none (top_n 0: everything is other)
SELECT rank, value, is_other, step, entities
FROM funnel_breakdown_report(
  (SELECT funnel_breakdown('1 hour', 'breakdown all_events', u, channel, ts, ev,
                           ARRAY['visit', 'signup', 'purchase'])
   FROM bd_ex));
SELECT rank, value, is_other, step, entities
FROM funnel_breakdown_report(
  (SELECT funnel_breakdown('1 hour', 'breakdown last_touch', u, channel, ts, ev,
                           ARRAY['visit', 'signup', 'purchase'])
   FROM bd_ex), 0);

-- an empty table gives NULL; the report of NULL has no rows
SELECT funnel_breakdown('1 hour', '', u, channel, ts, ev, ARRAY['visit', 'signup', 'purchase']) IS NULL AS empty_is_null
FROM bd_ex WHERE false;
SELECT count(*) FROM funnel_breakdown_report(NULL, 3);
DROP TABLE bd_ex, bd_hand;
