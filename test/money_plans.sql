-- Money in, money out: customer_rfm, ltv_report and attribution give the
-- same result under serial and parallel plans, on amounts whose double
-- precision sum depends on the order of the terms (0.1, 0.01, 1e15 + 0.01),
-- and the sums of amounts are exact: the expected values are numeric sums
-- in plain SQL, rounded once to double precision.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(17);

CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;

-- one customer: 40000 orders over 400 days, 100 a day, and a few very large
CREATE TABLE orders1 AS
SELECT timestamptz '2024-01-01 12:00+00' + (i / 100) * interval '1 day' AS ts,
       CASE WHEN i % 997 = 0 THEN 1e15 + 0.01 ELSE (i % 7) * 0.1 + 0.01 END AS amount
FROM generate_series(0, 39999) i;
-- the CDNOW sample (2357 customers, 6919 orders; the models fit) and one
-- more customer with a single order of 1e15 + 0.01
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE orders3 AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;
INSERT INTO orders3 VALUES (99999, '1997-03-01', 1e15 + 0.01);
-- touchpoints and conversions of 5000 users
CREATE TABLE touch AS
SELECT 'user-' || (i % 5000) AS e,
       timestamptz '2024-01-01' + (i / 5000) * interval '2 days' + ((i * 37) % 1440) * interval '1 minute' AS ts,
       CASE WHEN i % 9 <> 0 THEN (ARRAY['search', 'email', 'social', 'display'])[1 + (i * 31) % 4] END AS ch,
       CASE WHEN i % 9 = 0 THEN (i % 50) * 0.1 + 0.01 END AS v
FROM generate_series(1, 60000) i;
ANALYZE orders1;
ANALYZE orders3;
ANALYZE touch;

-- serial results
CREATE TEMP TABLE serial_rfm AS
SELECT customer_rfm(ts, amount, timestamptz '2025-03-01') AS r FROM orders1;
CREATE TEMP TABLE serial_ltv AS SELECT ltv_report(customer, ts, amount) AS r FROM orders3;
CREATE TEMP TABLE serial_attr AS
SELECT m, attribution(m, e, ts, ch, v, '10 days')::text AS s
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'markov']) m, touch GROUP BY m;

-- monetary_value: the exact sum of the repeat days (all days but the
-- first), rounded to double precision, over the repeat days
SELECT is((SELECT (r).monetary_value FROM serial_rfm),
          (SELECT sum(amount) FILTER (WHERE ts >= timestamptz '2024-01-02')::float8 / 399 FROM orders1),
          'customer_rfm: monetary_value from the exact sum of the amounts');
SELECT is((SELECT (r).revenue FROM serial_ltv), (SELECT sum(amount)::float8 FROM orders3),
          'ltv_report: revenue is the exact sum, rounded once');
SELECT is((SELECT (r).average_order_value FROM serial_ltv), (SELECT sum(amount)::float8 / count(*) FROM orders3),
          'ltv_report: average order value from the exact sum');
SELECT is((SELECT array_agg(DISTINCT (s::jsonb ->> 'value')::float8) FROM serial_attr), ARRAY[(SELECT sum(v) FROM touch)::float8],
          'attribution: the total value is the exact sum of the conversion values, every model');

-- the same queries in parallel plans
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL force_parallel_mode = on;
-- the workers share the rows (the leader, left to itself, may read them all)
SET LOCAL parallel_leader_participation = off;
SELECT ok(pg_temp.plan($$SELECT customer_rfm(ts, amount, timestamptz '2025-03-01') FROM orders1$$) LIKE '%"Partial Mode": "Partial"%',
          'customer_rfm: the plan is parallel');
SELECT ok(pg_temp.plan($$SELECT ltv_report(customer, ts, amount) FROM orders3$$) LIKE '%"Partial Mode": "Partial"%',
          'ltv_report: the plan is parallel');
SELECT ok(pg_temp.plan($$SELECT attribution('linear', e, ts, ch, v, '10 days') FROM touch$$) LIKE '%"Partial Mode": "Partial"%',
          'attribution: the plan is parallel');
-- (is() and ok() are parallel unsafe: the parallel queries fill tables)
CREATE TEMP TABLE par_rfm AS SELECT customer_rfm(ts, amount, timestamptz '2025-03-01') AS r FROM orders1;
CREATE TEMP TABLE par_ltv AS SELECT ltv_report(customer, ts, amount) AS r FROM orders3;
CREATE TEMP TABLE par_attr AS
SELECT m, attribution(m, e, ts, ch, v, '10 days')::text AS s
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'markov']) m, touch GROUP BY m;
CREATE TEMP TABLE par_report AS
SELECT r.* FROM attribution_report((SELECT attribution('linear', e, ts, ch, v, '10 days') FROM touch)) r;
SELECT is((SELECT r::text FROM par_rfm), (SELECT r::text FROM serial_rfm),
          'customer_rfm: parallel and serial plans give the same summary');
SELECT is((SELECT r::text FROM par_ltv), (SELECT r::text FROM serial_ltv),
          'ltv_report: parallel and serial plans give the same report');
SELECT is((SELECT array_agg(m || s ORDER BY m) FROM par_attr), (SELECT array_agg(m || s ORDER BY m) FROM serial_attr),
          'attribution: parallel and serial plans give the same summaries, every model');
SELECT is((SELECT array_agg(r::text ORDER BY r.channel) FROM par_report r),
          (SELECT array_agg(r::text ORDER BY r.channel) FROM serial_attr, attribution_report(s::attribution_summary) r
           WHERE m = 'linear'),
          'attribution_report: the same rows in parallel and serial plans');
-- and in parallel plans the sums are still exact
SELECT is((SELECT (r).monetary_value FROM par_rfm),
          (SELECT sum(amount) FILTER (WHERE ts >= timestamptz '2024-01-02')::float8 / 399 FROM orders1),
          'customer_rfm in a parallel plan: the exact sum');
SELECT is((SELECT (r).revenue FROM par_ltv), (SELECT sum(amount)::float8 FROM orders3),
          'ltv_report in a parallel plan: the exact sum');

-- amounts are summed in billionths: a tenth decimal rounds half up, and
-- up to 20 digits before the point are exact
SELECT is((SELECT (ltv_report(c, ts, a)).revenue FROM (VALUES (1, timestamptz '2024-01-01', 0.0000000004),
              (2, '2024-01-02', 0.0000000005), (3, '2024-01-03', 0.00000000149)) v(c, ts, a)),
          0.000000002::float8, 'ltv_report: amounts rounded to the ninth decimal, half up');
SELECT is((SELECT (ltv_report(c, ts, a)).revenue FROM (VALUES (1, timestamptz '2024-01-01', 99999999999999999999.999999999),
              (2, '2024-01-02', 0.000000001)) v(c, ts, a)),
          100000000000000000000::float8, 'ltv_report: 20 digits before the point');
SELECT throws_ok($$SELECT customer_rfm(ts, 100000000000000000000, ts) FROM (VALUES (timestamptz '2024-01-01')) v(ts)$$,
                 '22003', 'purchase amount is too large', 'an amount of 21 digits is refused');
SELECT throws_ok($$SELECT attribution('linear', 1, now(), NULL, 1e20)$$, '22003', 'conversion value is out of range',
                 'a conversion value of 1e20 is refused');

SELECT * FROM finish();
ROLLBACK;
