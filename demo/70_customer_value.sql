-- Customer value: from an orders table to per-customer summaries, fitted
-- BG/NBD and Gamma-Gamma models, per-customer and per-channel LTV, cohorts,
-- acquisition cost and payback.  The orders (demo_ltv_orders) are generated
-- deterministically (hash-based pseudo-random numbers) as the models assume
-- customers behave: 3,000 customers acquired in the first half of 2024
-- through three channels, each buying at their own rate and dropping out
-- after any purchase with their own probability.  (The shared demo_orders of
-- demo/30_orders.sql repeat on a fixed schedule, which leaves the dropout
-- process nothing to estimate in some channels.)
SET TimeZone = 'UTC';
\pset footer off

\echo
\echo '== Customer value: the orders table =='
CREATE TABLE demo_ltv_orders (
    customer_id integer,
    channel text,
    ts timestamptz,
    amount numeric(10, 2)
);

-- u(c, k, s): a uniform number in (0, 1) for customer c, purchase k, stream s
CREATE FUNCTION pg_temp.u(c integer, k integer, s text) RETURNS double precision
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT (('x' || substr(md5(c || ':' || k || ':' || s), 1, 8))::bit(32)::bigint + 0.5) / 4294967296.0 $$;

INSERT INTO demo_ltv_orders
WITH RECURSIVE customers AS (
    SELECT c AS customer_id,
           (ARRAY['search', 'social', 'email'])[1 + c % 3] AS channel,
           '2024-01-01 09:00+00'::timestamptz + (floor(pg_temp.u(c, 0, 'first') * 182) || ' days')::interval
               + (floor(pg_temp.u(c, 0, 'hour') * 12) || ' hours')::interval AS first_at,
           -- purchase rate per day: gamma-like heterogeneity, email buys more often
           (CASE c % 3 WHEN 0 THEN 0.040 WHEN 1 THEN 0.025 ELSE 0.060 END)
               * -ln(pg_temp.u(c, 0, 'rate')) * -ln(pg_temp.u(c, 1, 'rate')) AS rate,
           -- probability of dropping out after each purchase
           0.02 + 0.30 * pg_temp.u(c, 0, 'drop') AS p_drop,
           -- the customer's typical basket
           (CASE c % 3 WHEN 1 THEN 10 ELSE 20 END) + 60 * pg_temp.u(c, 0, 'spend') AS basket
      FROM generate_series(1, 3000) AS c
), orders AS (
    SELECT customer_id, 0 AS k, first_at AS ts FROM customers
    UNION ALL
    SELECT o.customer_id, o.k + 1,
           o.ts + (-ln(pg_temp.u(o.customer_id, o.k, 'gap')) / greatest(c.rate, 1e-4) || ' days')::interval
      FROM orders o JOIN customers c USING (customer_id)
     WHERE pg_temp.u(o.customer_id, o.k, 'alive') > c.p_drop
       AND o.ts + (-ln(pg_temp.u(o.customer_id, o.k, 'gap')) / greatest(c.rate, 1e-4) || ' days')::interval
           < '2025-01-01'
)
SELECT o.customer_id, c.channel, date_trunc('second', o.ts),
       round((c.basket * (0.5 + pg_temp.u(o.customer_id, o.k, 'amount')))::numeric, 2)
  FROM orders o JOIN customers c USING (customer_id);

SELECT channel, count(DISTINCT customer_id) AS customers, count(*) AS orders,
       sum(amount) AS revenue, min(ts)::date AS first, max(ts)::date AS last
  FROM demo_ltv_orders GROUP BY channel ORDER BY channel;

\echo
\echo '== 1. Per-customer summaries: customer_rfm (days, observation end 2024-12-31) =='
CREATE TABLE demo_customers AS
SELECT customer_id, channel, (customer_rfm(ts, amount, '2024-12-31 23:59:59+00')).*
  FROM demo_ltv_orders GROUP BY customer_id, channel;
SELECT customer_id, channel, frequency, recency, t, round(monetary_value::numeric, 2) AS monetary_value
  FROM demo_customers ORDER BY customer_id LIMIT 5;

\echo
\echo '== 2. Fitted models: bgnbd_fit and gamma_gamma_fit =='
CREATE TABLE demo_models AS
SELECT bgnbd_fit(frequency, recency, t) AS purchases,
       gamma_gamma_fit(frequency, monetary_value) AS spend
  FROM demo_customers;
SELECT round((purchases).r::numeric, 4) AS r, round((purchases).alpha::numeric, 4) AS alpha,
       round((purchases).a::numeric, 4) AS a, round((purchases).b::numeric, 4) AS b,
       round((purchases).log_likelihood::numeric, 2) AS log_likelihood, (purchases).customers
  FROM demo_models;
SELECT round((spend).p::numeric, 4) AS p, round((spend).q::numeric, 4) AS q,
       round((spend).gamma::numeric, 4) AS gamma,
       round((spend).log_likelihood::numeric, 2) AS log_likelihood, (spend).customers
  FROM demo_models;

\echo
\echo '== 3. Per-customer predictions: the 8 most valuable customers over 12 months =='
SELECT customer_id, channel, frequency, round(recency) AS recency, round(t) AS t,
       round(monetary_value::numeric, 2) AS avg_spend,
       round(probability_alive(purchases, frequency, recency, t)::numeric, 3) AS p_alive,
       round(expected_purchases(purchases, 90, frequency, recency, t)::numeric, 2) AS next_90_days,
       round(expected_average_spend(spend, frequency, monetary_value)::numeric, 2) AS expected_spend,
       round(ltv(purchases, spend, frequency, recency, t, monetary_value)::numeric, 2) AS ltv_12m
  FROM demo_customers, demo_models
 ORDER BY ltv_12m DESC, customer_id LIMIT 8;

\echo
\echo '== 4. One call per channel: ltv(customer, ts, amount) and the historical figures =='
SELECT channel,
       round(ltv(customer_id, ts, amount)::numeric, 2) AS predicted_ltv_1y,
       round(ltv(customer_id, ts, amount, '6 months', 0.01)::numeric, 2) AS predicted_ltv_6m
  FROM demo_ltv_orders GROUP BY channel ORDER BY channel;
SELECT channel, (r).customers, round((r).average_order_value::numeric, 2) AS aov,
       round((r).purchases_per_customer_per_year::numeric, 2) AS per_year,
       round((r).average_lifespan_years::numeric, 2) AS lifespan_y,
       round((r).churn_rate::numeric, 3) AS churn, (r).churn_period_days AS churn_days,
       round((r).historical_ltv::numeric, 2) AS historical_ltv,
       round((r).predicted_ltv::numeric, 2) AS predicted_ltv
  FROM (SELECT channel, ltv_report(customer_id, ts, amount) AS r FROM demo_ltv_orders GROUP BY channel) s
 ORDER BY channel;

\echo
\echo '== 5. Cohorts: monthly acquisition cohorts, share of customers buying in month k =='
SELECT h.* FROM (SELECT cohort_retention(customer_id, ts, 'month', 6) AS c FROM demo_ltv_orders) s,
       cohort_heatmap(s.c) h;
SELECT r.* FROM (SELECT cohort_retention(customer_id, ts, 'month', 6) AS c FROM demo_ltv_orders) s,
       cohort_report(s.c) r
 WHERE r.cohort_start = '2024-01-01';
\echo 'retention(): bought in January, and again in February / March (ClickHouse semantics)'
SELECT sum(r[1]) AS january, sum(r[2]) AS also_february, sum(r[3]) AS also_march
  FROM (SELECT customer_id,
               retention(ts < '2024-02-01',
                         ts >= '2024-02-01' AND ts < '2024-03-01',
                         ts >= '2024-03-01' AND ts < '2024-04-01') AS r
          FROM demo_ltv_orders GROUP BY customer_id) s;

\echo
\echo '== 6. Contractual churn: the shifted-beta-geometric model =='
SELECT round(alpha::numeric, 4) AS alpha, round(beta::numeric, 4) AS beta,
       round(log_likelihood::numeric, 2) AS log_likelihood
  FROM sbg_fit('{1000,631,468,382,326,289,262,241}');
SELECT k AS period, round(sbg_survival(m, k)::numeric, 3) AS survival,
       round(sbg_retention_rate(m, k)::numeric, 3) AS retention_rate
  FROM sbg_fit('{1000,631,468,382,326,289,262,241}') AS m, generate_series(8, 12) AS k;
SELECT round(sbg_expected_remaining_lifetime(m, 7, 0.1)::numeric, 2) AS discounted_further_periods_after_7
  FROM sbg_fit('{1000,631,468,382,326,289,262,241}') AS m;

\echo
\echo '== 7. Acquisition cost and payback (spend per channel, funnel counts) =='
CREATE TABLE demo_spend (channel text, spend numeric, leads bigint, qualified bigint);
INSERT INTO demo_spend VALUES ('email', 18000, 9000, 2600), ('search', 45000, 12000, 3100),
                              ('social', 30000, 20000, 2400);
SELECT s.channel, f.name, f.entities, f.cost_per_entity
  FROM demo_spend s
       JOIN (SELECT channel, count(DISTINCT customer_id) AS customers FROM demo_ltv_orders GROUP BY channel) c USING (channel),
       funnel_cost_report(ARRAY[s.leads, s.qualified, c.customers], s.spend, '{lead,qualified,customer}') f
 ORDER BY s.channel, f.step;
SELECT s.channel,
       round(s.spend / c.customers, 2) AS cac,
       round(v.ltv::numeric, 2) AS ltv_1y,
       round((v.ltv / (s.spend / c.customers))::numeric, 2) AS ltv_to_cac,
       round(cac_payback_months(s.spend / c.customers, (v.ltv / 12)::numeric, 0.6), 1) AS payback_months_at_60pct_margin
  FROM demo_spend s
       JOIN (SELECT channel, count(DISTINCT customer_id) AS customers FROM demo_ltv_orders GROUP BY channel) c USING (channel)
       JOIN (SELECT channel, ltv(customer_id, ts, amount) AS ltv FROM demo_ltv_orders GROUP BY channel) v USING (channel)
 ORDER BY s.channel;
