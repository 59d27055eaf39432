-- funnel_report with spend: cost per entity at each stage, worked by hand.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(6);

-- 4 leads; 3 qualify; 1 wins (steps within 30 days).  Spend 1000:
-- cost per lead 1000/4 = 250.00, per qualified lead 1000/3 = 333.33,
-- per customer (CAC) 1000/1 = 1000.00.
CREATE TEMP TABLE leads (id int, ts timestamptz, stage text);
INSERT INTO leads VALUES
  (1, '2024-01-01', 'lead'), (1, '2024-01-03', 'qualified'), (1, '2024-01-10', 'won'),
  (2, '2024-01-02', 'lead'), (2, '2024-01-05', 'qualified'),
  (3, '2024-01-02', 'lead'), (3, '2024-01-04', 'qualified'),
  (4, '2024-01-03', 'lead');
CREATE TEMP TABLE s AS
  SELECT funnel_summary('30 days', id, ts, stage, ARRAY['lead','qualified','won']) AS sm FROM leads;

SELECT results_eq(
  $$SELECT step, name, entities, cost_per_entity FROM funnel_report((SELECT sm FROM s), 1000, ARRAY['lead','qualified','customer'])$$,
  $$VALUES (1, 'lead'::text, 4::bigint, 250.00::numeric), (2, 'qualified', 3, 333.33), (3, 'customer', 1, 1000.00)$$,
  'cost per lead, per qualified lead and per customer');
SELECT results_eq(
  $$SELECT step, entities, conversion_from_previous, drop_off FROM funnel_report((SELECT sm FROM s), 1000)$$,
  $$SELECT step, entities, conversion_from_previous, drop_off FROM funnel_report((SELECT sm FROM s))$$,
  'the report columns are those of funnel_report');
SELECT is((SELECT cost_per_entity FROM funnel_report((SELECT sm FROM s), 0) WHERE step = 3), 0.00::numeric,
  'no spend: zero cost');
-- a stage nobody reached has no cost per entity
SELECT is((SELECT cost_per_entity FROM funnel_report(
             (SELECT funnel_summary('1 day', id, ts, stage, ARRAY['lead','qualified','won']) FROM leads), 500)
           WHERE step = 3), NULL::numeric,
  'won within 1 day: nobody, so no cost per customer');
SELECT throws_ok($$SELECT * FROM funnel_report((SELECT sm FROM s), -1)$$, '22023', NULL,
  'negative spend is an error');
SELECT is(cac_payback_months(1000, 100, 0.5), 20::numeric, 'CAC 1000 at 100 a month and 50% margin pays back in 20 months');

SELECT * FROM finish();
ROLLBACK;
