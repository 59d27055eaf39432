-- acquisition cost: funnel_cost_report, cac_payback_months and
-- funnel_report(summary, spend) on hand-worked cases.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).
SET timezone = 'UTC';

-- Cost per entity = spend / entities reaching the stage, rounded to cents;
-- NULL for a stage nobody reached.
--   5000 over 1000 leads, 200 qualified, 50 customers: 5.00, 25.00, 100.00
SELECT c.*, c.cost_per_entity = e.cost AS ok
FROM funnel_cost_report(ARRAY[1000, 200, 50]::bigint[], 5000, ARRAY['lead', 'qualified', 'customer']) c
JOIN (VALUES (1, 5.00), (2, 25.00), (3, 100.00)) e(step, cost) USING (step)
ORDER BY step;
--   100 over 3, 7 and 0: 33.33 (33.333...), 14.29 (14.2857...), NULL;
--   no names: NULL names
SELECT c.*, c.cost_per_entity IS NOT DISTINCT FROM e.cost AS ok
FROM funnel_cost_report(ARRAY[3, 7, 0]::bigint[], 100) c
JOIN (VALUES (1, 33.33), (2, 14.29), (3, NULL)) e(step, cost) USING (step)
ORDER BY step;
--   zero spend costs nothing; NULL stage counts give no rows
SELECT * FROM funnel_cost_report(ARRAY[4, 2]::bigint[], 0);
SELECT count(*) FROM funnel_cost_report(NULL, 100);

-- Payback months = cac / (monthly revenue per customer x gross margin):
--   300 / (50 x 0.6) = 10;  100 / (30 x 0.5) = 6.666...;  cac 0: 0;
--   a zero margin never pays back: Infinity
SELECT cac_payback_months(300, 50, 0.6) AS ten, cac_payback_months(300, 50, 0.6) = 10 AS ok;
SELECT round(cac_payback_months(100, 30, 0.5), 6) AS six_and_two_thirds,
       round(cac_payback_months(100, 30, 0.5), 6) = round(20 / 3.0, 6) AS ok;
SELECT cac_payback_months(0, 30, 0.5) AS zero, cac_payback_months(120, 30, 0) AS never,
       cac_payback_months(120, 0, 0.5) AS never_too;
SELECT cac_payback_months(NULL, 30, 0.5) IS NULL AS strict;

-- funnel_report with spend: the funnel_report columns plus the cost per
-- entity.  Steps signup -> trial -> paid, window 7 days:
--   e1: signup, trial (day 1), paid (day 3)   level 3
--   e2: signup, trial (day 2)                 level 2
--   e3: signup                                level 1
--   e4: signup, paid (day 1), no trial        level 1
-- entities 4, 2, 1; spend 1000: 250.00, 500.00, 1000.00
CREATE TABLE cost_signups (entity int, ts timestamptz, e text);
INSERT INTO cost_signups VALUES
  (1, '2024-05-01', 'signup'), (1, '2024-05-02', 'trial'), (1, '2024-05-04', 'paid'),
  (2, '2024-05-01', 'signup'), (2, '2024-05-03', 'trial'),
  (3, '2024-05-01', 'signup'),
  (4, '2024-05-01', 'signup'), (4, '2024-05-02', 'paid');
CREATE TABLE cost_summary AS
SELECT funnel_summary('7 days', entity, ts, e, ARRAY['signup', 'trial', 'paid']) AS s FROM cost_signups;

SELECT r.step, r.name, r.entities, r.cost_per_entity,
       (r.entities, r.cost_per_entity) = (e.entities, e.cost) AS ok
FROM cost_summary, funnel_report(s, 1000, ARRAY['signup', 'trial', 'paid']) r
JOIN (VALUES (1, 4, 250.00), (2, 2, 500.00), (3, 1, 1000.00)) e(step, entities, cost) USING (step)
ORDER BY r.step;
-- its other columns are those of funnel_report(summary, names)
SELECT (SELECT array_agg((step, name, entities, conversion_from_previous, conversion_from_start,
                          drop_off, drop_off_rate, median_time_from_start, p90_time_from_start)::text
                         ORDER BY step)
        FROM funnel_report(s, 1000, ARRAY['signup', 'trial', 'paid']))
     = (SELECT array_agg(r::text ORDER BY step) FROM funnel_report(s, ARRAY['signup', 'trial', 'paid']) r)
       AS same_as_funnel_report
FROM cost_summary;
-- without names
SELECT step, name, entities, cost_per_entity FROM cost_summary, funnel_report(s, 10) ORDER BY step;
