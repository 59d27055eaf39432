-- funnel.max_state_memory caps every aggregate whose state grows with its
-- input: under a 64 kB cap each stops with the one error (54000, the limit
-- in the detail, the setting in the hint); under the default the same
-- query works.  The whole-table funnel aggregates (funnel_stage_counts,
-- funnel_conversion, funnel_summary), attribution, pipeline_model and
-- cohort_retention spill to a temporary file instead (test/entity_store.sql,
-- test/journey_store.sql); as window functions they cannot, and stop.  ltv
-- and ltv_report spill their order rows too, but their model fits need
-- every customer's figures at once (32 bytes and 48 bytes a customer), and
-- 3000 customers do not fit in 64 kB.  bgnbd_fit and gamma_gamma_fit keep
-- each distinct customer summary once (customers who share one are
-- counted): their queries here give every customer a summary of its own.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(25);

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; detail text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || ' / ' || detail || ' / ' || hint;
END $$;

-- Orders with a dropout process (customers stop buying at different ages),
-- so that the customer-value models can be fitted: 19676 orders of 3000
-- customers, 1185 of whom never came back.
CREATE TABLE memory_cap_orders AS
SELECT c AS customer, '2023-01-01'::timestamptz + (c % 60) * interval '1 day' + k * (5 + c % 40) * interval '1 day' AS ts,
       (10 + c % 17)::numeric AS amount
FROM generate_series(1, 3000) c, generate_series(0, 100) k
WHERE k * (5 + c % 40) <= (c * 7919 % 400) * (c % 3) / 2;
CREATE TEMP TABLE summaries AS
SELECT customer, (customer_rfm(ts, amount, '2024-03-01')).* FROM memory_cap_orders GROUP BY customer;
ANALYZE memory_cap_orders;

-- Each query's state needs well over 64 kB: 20000 entities, events, rows or
-- purchase days, or the 19676 orders (the smallest of them keeps 16 bytes
-- each).
CREATE TEMP TABLE q (name text, sql text);
INSERT INTO q VALUES
  ('window_funnel (one journey''s event log)',
   $$SELECT window_funnel('1 h', 'strict_increase', '2024-03-01'::timestamptz + g * interval '1 s', g % 3 = 0, g % 3 = 1, false) FROM generate_series(1, 100000) g$$),
  ('time_to_convert (one journey''s event log)',
   $$SELECT time_to_convert('1 day', '2024-01-01'::timestamptz + g * interval '1 min', g % 2 = 0, g % 2 = 1) FROM generate_series(1, 100000) g$$),
  ('attribution (journey log, as a window function)',
   $$SELECT attribution('linear', g, '2024-01-01'::timestamptz + g * interval '1 s', 'a', NULL) OVER () FROM generate_series(1, 20000) g LIMIT 1$$),
  ('pipeline_model (journey log, as a window function)',
   $$SELECT pipeline_model(g / 2, '2024-01-01'::timestamptz + g * interval '1 s', CASE WHEN g % 2 = 0 THEN 'lead' ELSE 'won' END, ARRAY['won']) OVER () FROM generate_series(1, 20000) g LIMIT 1$$),
  ('customer_rfm (purchase days)',
   $$SELECT customer_rfm('2000-01-01'::timestamptz + g * interval '1 day', 10, '2060-01-01') FROM generate_series(1, 20000) g$$),
  ('bgnbd_fit (customer rows)',
   $$SELECT bgnbd_fit(frequency, recency, t + g * 0.001) FROM summaries, generate_series(1, 8) g$$),
  ('gamma_gamma_fit (customer rows)',
   $$SELECT gamma_gamma_fit(1 + g % 5, 10 + g % 7 + g * 1e-6) FROM generate_series(1, 20000) g$$),
  ('ltv (per-customer rows)',
   $$SELECT ltv(customer, ts, amount) FROM memory_cap_orders$$),
  ('ltv_report (per-customer rows)',
   $$SELECT ltv_report(customer, ts, amount) FROM memory_cap_orders$$),
  ('cohort_retention (per-entity rows, as a window function)',
   $$SELECT cohort_retention(customer, ts) OVER () FROM memory_cap_orders LIMIT 1$$);

SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok(sql, '54000', 'aggregate state exceeds funnel.max_state_memory', name || ': stops under 64 kB')
FROM q ORDER BY name;
SELECT is(pg_temp.error_of(sql),
          '54000: aggregate state exceeds funnel.max_state_memory / '
          'The state of one group would use more than 64 kB. / '
          'Raise funnel.max_state_memory, or aggregate fewer rows per group '
          '(for example one month, or one hash partition of the entities, at a time).',
          'the limit in the detail, the setting in the hint')
FROM q WHERE name LIKE 'ltv (%';
-- the cap is per group: many small groups fit
SELECT is((SELECT count(*) FROM (SELECT customer_rfm('2024-01-01'::timestamptz + g * interval '1 day', 10, '2060-01-01')
                                 FROM generate_series(1, 20000) g GROUP BY g % 1000) x), 1000::bigint,
          'customer_rfm: 1000 groups of 20 days each fit');
-- a parallel plan spills in the workers and the leader: the serial answer
CREATE TEMP TABLE serial_cohorts AS SELECT cohort_retention(customer, ts)::text AS r FROM memory_cap_orders;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT cohort_retention(customer, ts) FROM memory_cap_orders$$),
               'Partial Aggregate', 'cohort_retention: the plan is parallel');
SELECT is((SELECT cohort_retention(customer, ts)::text FROM memory_cap_orders), (SELECT r FROM serial_cohorts),
          'cohort_retention: a parallel plan under 64 kB spills and gives the serial answer');
SET LOCAL max_parallel_workers_per_gather = 0;

RESET funnel.max_state_memory;
SELECT lives_ok(sql, name || ': works under the default')
FROM q ORDER BY name;
SELECT is((SELECT cohort_retention(customer, ts) IS NOT NULL FROM memory_cap_orders), true, 'cohort_retention: a result under the default');

SELECT * FROM finish();
ROLLBACK;
