-- Customer value: conformance with the published CDNOW figures.
--
-- Data: test/data (the CDNOW sample and summaries shipped with the
-- `lifetimes` library, MIT licence in test/data/LICENSE-lifetimes.txt).
-- Expected figures (weeks as the time unit, 2,357 customers, calibration
-- period ending 1997-09-30):
--   BG/NBD (Fader, Hardie & Lee 2005): r = 0.2426, alpha = 4.4135,
--     a = 0.7929, b = 2.4258, log-likelihood = -9582.43;
--     x = 2, t_x = 30.43, T = 38.86: 1.2259 purchases in the next 39 weeks.
--   Gamma-Gamma on the 946 repeat customers: p = 6.2488, q = 3.7446,
--     gamma = 15.4477, log-likelihood = -4055.92.
--   sBG (Fader & Hardie 2007): survivors 1000 631 468 382 326 289 262 241
--     give alpha = 0.7041, beta = 1.1820; 1000 869 743 653 593 551 517 491
--     give alpha = 0.6681, beta = 3.8061.
-- Paths are relative to the repository root (test/run.sh runs pg_prove there).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(41);
SET LOCAL TimeZone = 'UTC';

CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE cdnow_orders AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts,
       f[4]::integer AS cds, f[5]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;

CREATE TABLE published (id integer, x integer, t_x double precision, "T" double precision,
                             zbar double precision);
\copy published FROM 'test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE published_rft (id integer, frequency integer, recency double precision,
                                 "T" double precision);
\copy published_rft FROM 'test/data/cdnow_customers_summary.csv' WITH (FORMAT csv, HEADER)

SELECT is((SELECT count(*) FROM cdnow_orders), 6919::bigint, 'CDNOW sample: 6,919 orders loaded');
SELECT is((SELECT count(*) FROM published), 2357::bigint, 'published summary: 2,357 customers loaded');

-- 1. summaries reproduce the published ones (printed to 2 decimals)
CREATE TEMP TABLE summary AS
SELECT customer, (customer_rfm(ts, amount, '1997-09-30', '7 days')).*
  FROM cdnow_orders GROUP BY customer;

SELECT is((SELECT count(*) FROM summary), 2357::bigint, 'one summary per customer');
SELECT is((SELECT count(*) FROM summary s JOIN published p ON p.id = s.customer
            WHERE s.frequency = p.x), 2357::bigint, 'frequency = x for all 2,357 customers');
SELECT is((SELECT count(*) FROM summary s JOIN published p ON p.id = s.customer
            WHERE abs(s.recency - p.t_x) <= 0.005 + 1e-9), 2357::bigint,
          'recency = t_x (to the published 2 decimals) for all customers');
SELECT is((SELECT count(*) FROM summary s JOIN published p ON p.id = s.customer
            WHERE abs(s.t - p."T") <= 0.005 + 1e-9), 2357::bigint,
          't = T (to the published 2 decimals) for all customers');
SELECT is((SELECT count(*) FROM summary s JOIN published p ON p.id = s.customer
            WHERE abs(s.monetary_value - p.zbar) <= 0.005 + 1e-9), 2357::bigint,
          'monetary_value = zbar (to the published 2 decimals) for all customers');
SELECT is((SELECT count(*) FROM summary s JOIN published_rft p ON p.id = s.customer
            WHERE s.frequency = p.frequency AND abs(s.recency - p.recency) <= 0.005 + 1e-9
              AND abs(s.t - p."T") <= 0.005 + 1e-9), 2357::bigint,
          'summaries also match cdnow_customers_summary.csv');
-- customer 1: orders 1997-01-01, 01-18, 08-02 (and 12-12, after the end)
SELECT ok((SELECT frequency = 2 AND abs(recency - 213 / 7.0) < 1e-12 AND abs(t - 272 / 7.0) < 1e-12
                  AND abs(monetary_value - (29.73 + 14.96) / 2) < 1e-12
             FROM summary WHERE customer = 1),
          'customer 1: 2 repeats, recency 213/7, t 272/7, spend (29.73 + 14.96)/2');

-- 2. BG/NBD fit on the published summary: 4 significant digits
CREATE TEMP TABLE bg AS SELECT (bgnbd_fit(x, t_x, "T")).* FROM published;
SELECT is((SELECT round(r::numeric, 4) FROM bg), 0.2426, 'BG/NBD r = 0.2426');
SELECT is((SELECT round(alpha::numeric, 3) FROM bg), 4.414, 'BG/NBD alpha = 4.414 (published 4.4135)');
SELECT ok((SELECT abs(alpha - 4.4135) < 0.00005 + 1e-6 FROM bg), 'BG/NBD alpha = 4.4135');
SELECT is((SELECT round(a::numeric, 4) FROM bg), 0.7929, 'BG/NBD a = 0.7929');
SELECT is((SELECT round(b::numeric, 3) FROM bg), 2.426, 'BG/NBD b = 2.426 (published 2.4258)');
SELECT ok((SELECT abs(b - 2.4258) < 0.00005 + 1e-6 FROM bg), 'BG/NBD b = 2.4258');
SELECT is((SELECT round(log_likelihood::numeric, 2) FROM bg), -9582.43, 'BG/NBD log-likelihood = -9582.43');
SELECT is((SELECT customers FROM bg), 2357::bigint, 'BG/NBD fitted on 2,357 customers');

-- the fit from our own summaries agrees
SELECT ok((SELECT abs(m.r - 0.2426) < 0.00005 + 1e-6 AND abs(m.alpha - 4.4135) < 0.0005
                  AND abs(m.a - 0.7929) < 0.00005 + 1e-6 AND abs(m.b - 2.4258) < 0.0005
             FROM (SELECT (bgnbd_fit(frequency, recency, t)).* FROM summary) m),
          'BG/NBD fit from customer_rfm summaries agrees to 4 significant digits');

-- conditional expectation
SELECT is((SELECT round(expected_purchases(m, 39, 2, 30.43, 38.86)::numeric, 4)
             FROM (SELECT bgnbd_fit(x, t_x, "T") AS m FROM published) s), 1.2259,
          'x = 2, t_x = 30.43, T = 38.86: 1.2259 purchases in 39 weeks (fitted model)');
SELECT is(round(expected_purchases(ROW(0.2426, 4.4135, 0.7929, 2.4258, NULL, NULL)::bgnbd_model,
                                   39, 2, 30.43, 38.86)::numeric, 4), 1.2259,
          'x = 2, t_x = 30.43, T = 38.86: 1.2259 purchases in 39 weeks (published parameters)');

-- 3. Gamma-Gamma
CREATE TEMP TABLE gg AS SELECT (gamma_gamma_fit(x, zbar)).* FROM published;
SELECT ok((SELECT abs(p - 6.2488) < 0.0005 FROM gg), 'Gamma-Gamma p = 6.2488 (4 significant digits)');
SELECT ok((SELECT abs(q - 3.7446) < 0.0005 FROM gg), 'Gamma-Gamma q = 3.7446 (4 significant digits)');
SELECT ok((SELECT abs(gamma - 15.4477) < 0.005 FROM gg), 'Gamma-Gamma gamma = 15.4477 (4 significant digits)');
-- to the published digits, within one unit of the last (the likelihood is flat
-- to 1e-10 over such changes: the last digit is at the limit of what the data
-- and double precision determine)
SELECT ok((SELECT abs(p - 6.2488) <= 0.0001 FROM gg), 'Gamma-Gamma p = 6.2488 +- 0.0001');
SELECT ok((SELECT abs(q - 3.7446) <= 0.0001 FROM gg), 'Gamma-Gamma q = 3.7446 +- 0.0001');
SELECT ok((SELECT abs(gamma - 15.4477) <= 0.0001 FROM gg), 'Gamma-Gamma gamma = 15.4477 +- 0.0001');
SELECT is((SELECT round(log_likelihood::numeric, 2) FROM gg), -4055.92, 'Gamma-Gamma log-likelihood = -4055.92');
SELECT is((SELECT customers FROM gg), 946::bigint, 'Gamma-Gamma fitted on the 946 repeat customers');

-- 3b. Figures printed in the `lifetimes` README (its CDNOW quick-start, models
-- fitted on the same summary, lifetimes' default freq 'D', so 30 time units
-- per "month" although the data are in weeks):
--   conditional_expected_number_of_purchases_up_to_time(1, ...), top five:
--     1516: 0.710623, 157: 0.662396, 1981: 0.486526, 841: 0.474738, 509: 0.424877
--   conditional_expected_average_profit(...).mean() = 35.2529588256 (all
--     customers), mean monetary value of the repeat customers 35.0785516612
--   customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01):
--     customer 1: 140.096218, 2: 18.943466, 3 (no repeats): 38.180575
CREATE TEMP TABLE cdnow_models AS SELECT bgnbd_fit(x, t_x, "T") AS bg, gamma_gamma_fit(x, zbar) AS gg FROM published;
SELECT is((SELECT array_agg(round(e::numeric, 5) ORDER BY e DESC)
             FROM (SELECT expected_purchases(bg, 1, x, t_x, "T") AS e FROM published, cdnow_models
                    ORDER BY 1 DESC LIMIT 5) s),
          '{0.71062,0.66240,0.48653,0.47474,0.42488}'::numeric[],
          'lifetimes README: top five expected purchases in the next week');
SELECT is((SELECT array_agg(id ORDER BY e DESC)
             FROM (SELECT id, expected_purchases(bg, 1, x, t_x, "T") AS e FROM published, cdnow_models
                    ORDER BY 2 DESC LIMIT 5) s),
          '{1516,157,1981,841,509}'::integer[], 'lifetimes README: ... and who they are');
SELECT is((SELECT round(avg(expected_average_spend(gg, x, zbar))::numeric, 4) FROM published, cdnow_models),
          35.2530, 'lifetimes README: mean conditional expected average profit 35.2530');
SELECT is((SELECT array_agg(round(ltv(bg, gg, x, t_x, "T", zbar)::numeric, 2) ORDER BY id)
             FROM published, cdnow_models WHERE id <= 3),
          '{140.10,18.94,38.18}'::numeric[], 'lifetimes README: customer_lifetime_value 140.10, 18.94, 38.18');

-- 4. sBG
SELECT is((SELECT ARRAY[round(alpha::numeric, 4), round(beta::numeric, 4)]
             FROM sbg_fit('{1000,631,468,382,326,289,262,241}')),
          ARRAY[0.7041, 1.1820], 'sBG regular customers: alpha = 0.7041, beta = 1.1820');
SELECT is((SELECT ARRAY[round(alpha::numeric, 4), round(beta::numeric, 4)]
             FROM sbg_fit('{1000,869,743,653,593,551,517,491}')),
          ARRAY[0.6681, 3.8061], 'sBG high-end customers: alpha = 0.6681, beta = 3.8061');

-- 5. parallel aggregation gives the same answers
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
SELECT matches(pg_temp.plan_of('SELECT bgnbd_fit(x, t_x, "T") FROM published'), 'Partial Aggregate',
               'the parallel tests do run a parallel plan');
SELECT matches(pg_temp.plan_of('SELECT ltv(customer, ts, amount) FROM cdnow_orders'), 'Partial Aggregate',
               'one-call ltv: parallel plan');
SELECT matches(pg_temp.plan_of('SELECT customer, customer_rfm(ts, amount, ''1997-09-30'', ''7 days'') FROM cdnow_orders GROUP BY customer'),
               'Partial', 'customer_rfm: parallel plan');
SELECT is((SELECT round(r::numeric, 4) FROM (SELECT (bgnbd_fit(x, t_x, "T")).* FROM published) s),
          0.2426, 'BG/NBD r = 0.2426 with parallel aggregation');
SELECT ok((SELECT abs(p - 6.2488) <= 0.0001 FROM (SELECT (gamma_gamma_fit(x, zbar)).* FROM published) s),
          'Gamma-Gamma p = 6.2488 with parallel aggregation');
SELECT is((SELECT count(*) FROM (SELECT customer, (customer_rfm(ts, amount, '1997-09-30', '7 days')).*
                                   FROM cdnow_orders GROUP BY customer) s
                         JOIN summary u USING (customer)
            WHERE (s.frequency, s.recency, s.t) = (u.frequency, u.recency, u.t)
              AND abs(s.monetary_value - u.monetary_value) < 1e-9),
          2357::bigint, 'customer_rfm: same summaries with parallel aggregation');
SELECT ok((SELECT abs(a - b) <= 1e-9 * abs(a)
             FROM (SELECT ltv(customer, ts, amount) FROM cdnow_orders) x(a),
                  (SELECT ltv(customer, ts, amount) FROM (SELECT * FROM cdnow_orders ORDER BY random()) o) y(b)),
          'one-call ltv does not depend on row order');

SELECT * FROM finish();
ROLLBACK;
