-- Cohorts, ClickHouse retention, the one-call ltv / ltv_report aggregates and
-- acquisition cost, on small hand-made tables (expected values worked out in
-- the comments) and on the CDNOW sample (test/data).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(40);
SET LOCAL TimeZone = 'UTC';

-- retention: the example of ClickHouse's documentation ------------------------
-- uids 0-4 are seen on 2020-01-01, 02 and 03; 5-9 on 02 and 03; 10-14 on 03:
-- uids 0-4 give [1,1,1], the others [0,0,0]; summed: [5,5,5].
CREATE TEMP TABLE retention_test (date date, uid integer);
INSERT INTO retention_test SELECT '2020-01-01', g FROM generate_series(0, 4) g;
INSERT INTO retention_test SELECT '2020-01-02', g FROM generate_series(0, 9) g;
INSERT INTO retention_test SELECT '2020-01-03', g FROM generate_series(0, 14) g;
CREATE TEMP TABLE retention_result AS
SELECT uid, retention(date = '2020-01-01', date = '2020-01-02', date = '2020-01-03') AS r
  FROM retention_test WHERE date IN ('2020-01-01', '2020-01-02', '2020-01-03') GROUP BY uid;
SELECT is((SELECT array_agg(uid ORDER BY uid) FROM retention_result WHERE r = '{1,1,1}'),
          '{0,1,2,3,4}'::integer[], 'ClickHouse example: uids 0-4 give [1,1,1]');
SELECT is((SELECT count(*) FROM retention_result WHERE r = '{0,0,0}'), 10::bigint,
          'ClickHouse example: uids 5-14 give [0,0,0]');
SELECT is((SELECT ARRAY[sum(r[1]), sum(r[2]), sum(r[3])] FROM retention_result), '{5,5,5}'::bigint[],
          'ClickHouse example: sums [5,5,5]');
SELECT is((SELECT retention(c1, c2, c3) FROM (VALUES (true, false, NULL::boolean), (false, false, true)) v(c1, c2, c3)),
          '{1,0,1}'::integer[], 'condition 1 and 3 on different rows: [1,0,1]; NULL counts as false');
SELECT is((SELECT retention(c1, c2) FROM (VALUES (false, true)) v(c1, c2)), '{0,0}'::integer[],
          'without condition 1 nothing counts');
SELECT throws_ok($$SELECT retention(VARIADIC array_fill(true, ARRAY[33]))$$, '54000',
                 'cannot have more than 32 retention conditions', '33 conditions: error');

-- cohorts on a hand-made orders table ------------------------------------------
-- customer 1: Jan 5, Feb 10, Apr 1; customer 2: Jan 20, Jan 25;
-- customer 3: Feb 3, Mar 15, Mar 20; customer 4: Feb 28 (all 2024).
-- Monthly cohorts: January = {1, 2}, February = {3, 4}.  The last event is in
-- April, so January is observed for periods 0..3 and February for 0..2:
--   January:  period 0: 2, 1 (Feb): 1 (customer 1), 2 (Mar): 0, 3 (Apr): 1
--   February: period 0: 2, 1 (Mar): 1 (customer 3), 2 (Apr): 0
CREATE TEMP TABLE cohort_orders (customer integer, ts timestamptz);
INSERT INTO cohort_orders VALUES
    (1, '2024-01-05 10:00+00'), (1, '2024-02-10 10:00+00'), (1, '2024-04-01 10:00+00'),
    (2, '2024-01-20 10:00+00'), (2, '2024-01-25 10:00+00'),
    (3, '2024-02-03 10:00+00'), (3, '2024-03-15 10:00+00'), (3, '2024-03-20 10:00+00'),
    (4, '2024-02-28 10:00+00');
SELECT results_eq(
    $$SELECT r.* FROM (SELECT cohort_retention(customer, ts) AS c FROM cohort_orders) s, cohort_report(s.c) r$$,
    $$VALUES ('2024-01-01'::date, 2::bigint, 0, 2::bigint, 1.0::double precision),
             ('2024-01-01', 2, 1, 1, 0.5), ('2024-01-01', 2, 2, 0, 0.0), ('2024-01-01', 2, 3, 1, 0.5),
             ('2024-02-01', 2, 0, 2, 1.0), ('2024-02-01', 2, 1, 1, 0.5), ('2024-02-01', 2, 2, 0, 0.0)$$,
    'monthly cohorts of the hand-made table');
SELECT results_eq(
    $$SELECT r.period, r.active FROM (SELECT cohort_retention(customer, ts, 'month', 2) AS c FROM cohort_orders) s,
             cohort_report(s.c) r WHERE r.cohort_start = '2024-01-01'$$,
    $$VALUES (0, 2::bigint), (1, 1::bigint), (2, 0::bigint)$$,
    'periods = 2 stops at period 2');
-- quarters: Q1 = {1, 2, 3, 4}; in Q2 only customer 1
SELECT results_eq(
    $$SELECT r.cohort_start, r.cohort_size, r.period, r.active
        FROM (SELECT cohort_retention(customer, ts, 'quarter') AS c FROM cohort_orders) s, cohort_report(s.c) r$$,
    $$VALUES ('2024-01-01'::date, 4::bigint, 0, 4::bigint), ('2024-01-01', 4, 1, 1)$$,
    'quarterly cohorts');
-- weeks start on Monday: Friday 2024-01-05 is in the week of Monday 2024-01-01
SELECT is((SELECT (c).cohort_start[1] FROM (SELECT cohort_retention(customer, ts, 'week') AS c FROM cohort_orders) s),
          '2024-01-01'::date, 'weekly cohorts start on Monday');
SELECT is((SELECT (c).cohort_size FROM (SELECT cohort_retention(customer, ts, 'day') AS c FROM cohort_orders) s),
          '{1,1,1,1}'::bigint[], 'daily cohorts: one customer each');
SELECT is((SELECT (c).cohort_size FROM (SELECT cohort_retention(customer::text, ts) AS c FROM cohort_orders) s),
          '{2,2}'::bigint[], 'text entities give the same cohorts');
SELECT is((SELECT count(*) FROM (SELECT cohort_retention(customer, ts) AS c FROM cohort_orders) s, cohort_heatmap(s.c) h
            WHERE h.retention LIKE ' 100█%'), 2::bigint, 'heat table: one line per cohort, period 0 at 100%');
SELECT throws_ok($$SELECT cohort_retention(customer, ts, 'fortnight') FROM cohort_orders$$, '22023',
                 'unrecognized cohort period "fortnight"', 'unknown period: error');
SELECT throws_ok($$SELECT cohort_retention(customer, ts, 'month', 0) FROM cohort_orders$$, '22023', NULL,
                 '0 periods: error');
SELECT is((SELECT cohort_retention(customer, ts) FROM cohort_orders WHERE false), NULL::cohort_matrix,
          'no events: NULL');
-- entities are equal as GROUP BY sees them: numeric 1.0 = 1.00
SELECT is((SELECT (c).active FROM (SELECT cohort_retention(e, ts, 'month', 1) AS c
                                     FROM (VALUES (1.0::numeric, '2024-01-10'::timestamptz),
                                                  (1.00, '2024-02-10')) v(e, ts)) s),
          '{{1,1}}'::bigint[], 'numeric 1.0 and 1.00 are one entity');
SELECT throws_ok($$SELECT cohort_retention(e, now()) FROM (VALUES (point(1, 2))) v(e)$$, '42883', NULL,
                 'an entity type without a hash operator class: error');

-- ltv_report on a hand-made table -----------------------------------------------
-- c1: 2023-01-01 $10, 2023-07-02 $20 (182 days apart); c2: 2022-12-01 $30;
-- c3: 2024-01-01 $40 (the last order: the observation end).
-- 3 customers, 4 orders, revenue 100, average order value 25,
-- span 2022-12-01 .. 2024-01-01 = 396 days: purchases per customer per year
-- (4/3) / (396/365.25); lifespan (182 + 0 + 0)/3 days;
-- churn period L = min(360-day horizon, span / 2) = 198 days, from 2023-06-17:
-- c1 and c2 first bought before it, c2 did not buy in it: churn 1/2.
-- Three customers are too few for the models: predicted_ltv NULL (a NOTICE).
CREATE TEMP TABLE value_orders (customer text, ts timestamptz, amount numeric);
INSERT INTO value_orders VALUES ('c1', '2023-01-01', 10), ('c1', '2023-07-02', 20),
                                ('c2', '2022-12-01', 30), ('c3', '2024-01-01', 40);
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE value_report AS SELECT (ltv_report(customer, ts, amount)).* FROM value_orders;
SELECT is((SELECT ARRAY[customers, orders] FROM value_report), '{3,4}'::bigint[], 'ltv_report: 3 customers, 4 orders');
SELECT ok((SELECT revenue = 100 AND average_order_value = 25 FROM value_report), 'ltv_report: revenue 100, average order value 25');
SELECT ok((SELECT abs(purchases_per_customer_per_year - (4 / 3.0) / (396 / 365.25)) < 1e-12 FROM value_report),
          'ltv_report: purchases per customer per year');
SELECT ok((SELECT abs(average_lifespan_years - 182 / 3.0 / 365.25) < 1e-12 FROM value_report),
          'ltv_report: average observed lifespan');
SELECT ok((SELECT churn_rate = 0.5 AND churn_period_days = 198 AND customers_at_risk = 2 FROM value_report),
          'ltv_report: churn rate 1/2 over the last 198 days');
SELECT ok((SELECT abs(historical_ltv - 25 * ((4 / 3.0) / (396 / 365.25)) * (182 / 3.0 / 365.25)) < 1e-9 FROM value_report),
          'ltv_report: historical ltv = average order value x frequency x lifespan');
SELECT ok((SELECT predicted_ltv IS NULL AND purchase_model IS NULL FROM value_report),
          'ltv_report: no model for 3 customers (NULL, with a NOTICE)');
SELECT is((SELECT ltv(customer, ts, amount) FROM value_orders), NULL::double precision, 'ltv: NULL when the group cannot be fitted');
SELECT throws_ok($$SELECT ltv(customer, ts, -amount) FROM value_orders$$, '22023', NULL, 'ltv: negative amounts: error');
RESET client_min_messages;

-- one-call ltv on the CDNOW sample = the step-by-step computation --------------
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TEMP TABLE cdnow_orders AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts, f[5]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;
CREATE TEMP TABLE cdnow_summary AS
SELECT customer, (customer_rfm(ts, amount, (SELECT max(ts) FROM cdnow_orders))).* FROM cdnow_orders GROUP BY customer;
CREATE TEMP TABLE cdnow_models AS
SELECT bgnbd_fit(frequency, recency, t) AS bg,
       gamma_gamma_fit(frequency, monetary_value) FILTER (WHERE monetary_value > 0) AS gg
  FROM cdnow_summary;
SELECT ok((SELECT abs(ltv(customer, ts, amount)
                      - (SELECT avg(ltv(bg, gg, frequency, recency, t, monetary_value)) FROM cdnow_summary, cdnow_models)) < 1e-6
             FROM cdnow_orders),
          'one-call ltv = mean of the per-customer ltv of the step-by-step fits');
SELECT ok((SELECT abs(ltv(customer, ts, amount, '6 months', 0.02)
                      - (SELECT avg(ltv(bg, gg, frequency, recency, t, monetary_value, 6, 0.02)) FROM cdnow_summary, cdnow_models)) < 1e-6
             FROM cdnow_orders),
          'one-call ltv over 6 months at 2% = the step-by-step value');
SELECT ok((SELECT abs((r).predicted_ltv - l) < 1e-9
                  AND abs(((r).purchase_model).r - (SELECT (bg).r FROM cdnow_models)) < 1e-6
             FROM (SELECT ltv_report(customer, ts, amount) AS r, ltv(customer, ts, amount) AS l
                     FROM cdnow_orders) s),
          'ltv_report carries the same prediction and models');

-- as window functions (the final functions leave the state alone)
SELECT ok((SELECT bool_and(abs(w - (SELECT ltv(customer, ts, amount) FROM cdnow_orders)) < 1e-9)
             FROM (SELECT ltv(customer, ts, amount) OVER () AS w FROM cdnow_orders LIMIT 3) s),
          'ltv as a window function');
SELECT is((SELECT array_agg(n ORDER BY ts)
             FROM (SELECT ts, ((cohort_retention(customer, ts) OVER (ORDER BY ts)).cohort_size)[1] AS n
                     FROM cohort_orders) s),
          -- rows in time order: Jan 5 (customer 1), Jan 20 (customer 2: the January cohort has 2), ...
          '{1,2,2,2,2,2,2,2,2}'::bigint[], 'cohort_retention as a running window aggregate');

-- parallel aggregation with text customers (states serialised with the
-- type's send/receive functions) gives the same value
CREATE TABLE cdnow_text_orders AS SELECT 'c' || customer AS customer, ts, amount FROM cdnow_orders;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; t text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN ' || q LOOP t := t || r || E'\n'; END LOOP;
    RETURN t;
END $$;
SELECT matches(pg_temp.plan_of('SELECT ltv(customer, ts, amount) FROM cdnow_text_orders'), 'Partial Aggregate',
               'text customers: a parallel plan');
SELECT ok((SELECT abs(ltv(customer, ts, amount)
                      - (SELECT avg(ltv(bg, gg, frequency, recency, t, monetary_value)) FROM cdnow_summary, cdnow_models)) < 1e-6
             FROM cdnow_text_orders),
          'text customers, parallel: the same one-call ltv');
SELECT is((SELECT (cohort_retention(customer, ts)).cohort_size FROM cdnow_text_orders),
          (SELECT (cohort_retention(customer, ts)).cohort_size FROM cdnow_orders),
          'text customers, parallel: the same cohorts');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- acquisition cost -------------------------------------------------------------
-- spend 20000: 10000 leads -> 2.00 each, 2500 qualified -> 8.00, 400 customers -> 50.00
SELECT results_eq($$SELECT * FROM funnel_cost_report('{10000,2500,400,0}', 20000, '{lead,qualified,customer,advocate}')$$,
                  $$VALUES (1, 'lead'::text, 10000::bigint, 2.00::numeric), (2, 'qualified', 2500, 8.00),
                           (3, 'customer', 400, 50.00), (4, 'advocate', 0, NULL)$$,
                  'cost per lead, per qualified lead, per customer (CAC); NULL for an empty stage');
SELECT throws_ok($$SELECT * FROM funnel_cost_report('{10,5}', 100, '{a}')$$, '22023', NULL, 'step names must match the stages');
SELECT throws_ok($$SELECT * FROM funnel_cost_report('{10,5}', -1)$$, '22023', NULL, 'negative spend: error');
-- CAC 300, 50 a month at 60% margin: 300 / 30 = 10 months
SELECT is(cac_payback_months(300, 50, 0.6), 10::numeric, 'CAC payback 300 / (50 x 0.6) = 10 months');
SELECT is(cac_payback_months(300, 0, 0.6), 'Infinity'::numeric, 'no margin: never paid back');

SELECT * FROM finish();
ROLLBACK;
