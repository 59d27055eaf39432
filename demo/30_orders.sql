-- Demo data: orders of the web shop's customers (for the customer-value
-- reports).  Every purchase of demo/10_web_shop.sql is a first order; then
-- each customer orders again a few times over the following months
-- (deterministic: setseed).  demo_orders(customer_id, ts, amount, channel).
\set QUIET on
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.3003) AS seed \gset

CREATE TABLE demo_orders AS
WITH first_orders AS (
  SELECT user_id AS customer_id, min(ts) AS ts, min(channel) AS channel
  FROM demo_web_events WHERE event = 'purchase' GROUP BY user_id
), customers AS (
  SELECT customer_id, ts, channel,
         -- loyal customers order more often; email customers are the most loyal
         floor(-ln(1 - random()) * CASE channel WHEN 'email' THEN 4 WHEN 'organic' THEN 3
                                                 WHEN 'ads' THEN 2 ELSE 1.5 END)::int AS repeats,
         20 + random() * 80 AS basket
  FROM first_orders
)
SELECT customer_id, ts, round((basket * (0.6 + random() * 0.8))::numeric, 2) AS amount, channel
FROM customers
UNION ALL
SELECT c.customer_id,
       c.ts + (n * 25 + random() * 20) * interval '1 day' + random() * interval '10 hours',
       round((c.basket * (0.5 + random()))::numeric, 2), c.channel
FROM customers c, generate_series(1, 12) n
WHERE n <= c.repeats;
CREATE INDEX ON demo_orders (customer_id, ts);
ANALYZE demo_orders;
\set QUIET off

\echo
\echo '=== Orders: first purchases of the web shop and repeat orders ==='
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers,
       round(sum(amount), 2) AS revenue, min(ts)::date AS first_day, max(ts)::date AS last_day
FROM demo_orders;
SELECT channel, count(DISTINCT customer_id) AS customers, count(*) AS orders,
       round(sum(amount) / count(DISTINCT customer_id), 2) AS revenue_per_customer
FROM demo_orders GROUP BY channel ORDER BY revenue_per_customer DESC;
