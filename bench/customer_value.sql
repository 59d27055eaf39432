-- Customer value timings on the CDNOW data (test/data), best of 5 runs each,
-- with the ratio to a baseline measured in the same run: a plain
-- GROUP BY customer with count(*) and sum(amount) over the same orders.
-- Run from the repository root against a database with the extension:
--   psql -X -f bench/customer_value.sql
SET TimeZone = 'UTC';
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE bench_raw (line text);
\copy bench_raw FROM 'test/data/CDNOW_master.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TEMP TABLE bench_orders AS
SELECT f[1]::integer AS customer, to_date(f[2], 'YYYYMMDD')::timestamptz AS ts, f[4]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM bench_raw WHERE line !~ 'customer_id') s;
CREATE TEMP TABLE bench_sample (id integer, x integer, t_x double precision, "T" double precision, zbar double precision);
\copy bench_sample FROM 'test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
ANALYZE bench_orders;
ANALYZE bench_sample;

CREATE FUNCTION pg_temp.best_ms(q text, runs integer DEFAULT 5) RETURNS double precision
    LANGUAGE plpgsql AS $$
DECLARE
    best double precision := 'Infinity';
    t0 timestamptz;
BEGIN
    FOR i IN 1..runs LOOP
        t0 := clock_timestamp();
        EXECUTE q;
        best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
    RETURN best;
END $$;

CREATE TEMP TABLE bench_result (what text, ms double precision);
INSERT INTO bench_result VALUES
('baseline: GROUP BY customer count(*), sum(amount), 69,659 orders',
 pg_temp.best_ms($$SELECT sum(n), sum(v) FROM (SELECT customer, count(*) AS n, sum(amount) AS v FROM bench_orders GROUP BY customer) s$$)),
('BG/NBD fit, 2,357-customer CDNOW summary',
 pg_temp.best_ms($$SELECT bgnbd_fit(x, t_x, "T") FROM bench_sample$$)),
('Gamma-Gamma fit, 946 CDNOW repeat customers',
 pg_temp.best_ms($$SELECT gamma_gamma_fit(x, zbar) FROM bench_sample$$)),
('customer_rfm, 23,570 customers (69,659 orders)',
 pg_temp.best_ms($$SELECT sum((r).frequency) FROM (SELECT customer, customer_rfm(ts, amount, '1998-06-30') AS r FROM bench_orders GROUP BY customer) s$$)),
('summaries + BG/NBD + Gamma-Gamma + per-customer ltv, 23,570 customers',
 pg_temp.best_ms($$WITH s AS (SELECT customer, (customer_rfm(ts, amount, '1998-06-30')).* FROM bench_orders GROUP BY customer),
                        m AS (SELECT bgnbd_fit(frequency, recency, t) AS bg,
                                     gamma_gamma_fit(frequency, monetary_value) FILTER (WHERE monetary_value > 0) AS gg FROM s)
                   SELECT sum(ltv(bg, gg, frequency, recency, t, monetary_value)) FROM s, m$$)),
('one-call ltv(customer, ts, amount), 23,570 customers',
 pg_temp.best_ms($$SELECT ltv(customer, ts, amount) FROM bench_orders$$)),
('cohort_retention, monthly, 23,570 customers',
 pg_temp.best_ms($$SELECT cohort_retention(customer, ts) FROM bench_orders$$));

SELECT what, round(ms::numeric, 1) AS best_ms,
       round((ms / (SELECT ms FROM bench_result WHERE what LIKE 'baseline%'))::numeric, 1) AS x_baseline
  FROM bench_result;
