-- attribution and pipeline_model keep their rows in the entity store
-- (engine/journey_log.c), and so do ltv, ltv_report and cohort_retention
-- (customer/cohort.c, second part): the answer never depends on where the rows were
-- kept or in which order they arrived.  Each aggregate over random rows
-- (several rows per time, NULL entities) with bigint, text and uuid
-- entities must equal
--   * itself with a 64 kB funnel.max_state_memory: the same query as a
--     window function, which cannot spill, fails there, so the aggregate
--     that answers has spilled its rows to a temporary file;
--   * itself in a parallel plan and partitionwise over a table
--     hash-partitioned by the entity, with and without spilling;
--   * itself over the rows in another order (entities walked in an order of
--     their own: floating-point sums such as the markov model's come out
--     to the same bits).
-- The answers themselves are checked by hand-worked cases in
-- sql/attribution.sql, sql/pipeline.sql and test/attribution.sql.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(140);

-- 30000 touchpoint and conversion rows of 3000 entities: 6 channels, one
-- row in 8 a conversion with a value; times on a coarse grid (many ties)
CREATE TABLE js_touch AS
SELECT CASE WHEN g % 101 = 0 THEN NULL ELSE (hashint4(g) & 65535) % 3000 END::bigint AS e,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 65535) % 40) * interval '1 hour' AS ts,
       CASE WHEN (hashint4(g * 11) & 7) = 0 THEN NULL
            ELSE (ARRAY['search','email','display','social','direct','affiliate'])[1 + (hashint4(g * 13) & 65535) % 6] END AS channel,
       CASE WHEN (hashint4(g * 11) & 7) = 0 THEN ((hashint4(g * 17) & 65535) % 20000) / 100.0 END AS value
FROM generate_series(1, 30000) g;
ALTER TABLE js_touch ADD COLUMN et text, ADD COLUMN eu uuid;
UPDATE js_touch SET et = 'customer-' || e || repeat('x', (e % 5)::int), eu = md5(e::text)::uuid;
-- 20000 deal rows of 3000 deals: open stages and two terminal ones
CREATE TABLE js_deal AS
SELECT CASE WHEN g % 103 = 0 THEN NULL ELSE (hashint4(g * 3) & 65535) % 3000 END::bigint AS e,
       timestamptz '2024-01-01' + ((hashint4(g * 5) & 65535) % 300) * interval '1 day' AS ts,
       (ARRAY['lead','qualified','proposal','negotiation','won','lost'])[1 + (hashint4(g * 19) & 65535) % 6] AS stage
FROM generate_series(1, 20000) g;
ALTER TABLE js_deal ADD COLUMN et text;
UPDATE js_deal SET et = 'deal-' || e;
ANALYZE js_touch;
ANALYZE js_deal;

CREATE FUNCTION pg_temp.attr(model text, key text, tab text DEFAULT 'js_touch') RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT attribution(%L, %s, ts, channel, value)::text FROM %s', model, key, tab) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.pipe(key text, tab text DEFAULT 'js_deal') RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format($q$SELECT pipeline_model(%s, ts, stage, ARRAY['won', 'lost'])::text FROM %s$q$, key, tab) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;

CREATE TEMP TABLE cases (model text, key text);
INSERT INTO cases
SELECT m, k FROM unnest(ARRAY['first_touch', 'linear', 'position_based', 'time_decay(2 days)', 'markov']) m,
                 unnest(ARRAY['e', 'et', 'eu']) k;
CREATE TEMP TABLE answers AS SELECT model, key, pg_temp.attr(model, key) AS a FROM cases;
CREATE TEMP TABLE pipe_answers AS SELECT key, pg_temp.pipe(key) AS p FROM unnest(ARRAY['e', 'et']) key;

SELECT ok((SELECT bool_and(a::json->>'conversions' = (SELECT count(*)::text FROM js_touch WHERE value IS NOT NULL AND e IS NOT NULL))
           FROM answers), 'every answer counts every conversion');
SELECT ok((SELECT bool_and((p::json->>'deals')::int > 2500) FROM pipe_answers), 'the pipelines hold the deals');

-- rows in another order: the same bits
CREATE TABLE js_touch_shuffled AS SELECT * FROM js_touch ORDER BY hashint4(e::int * 31 + extract(epoch FROM ts)::int) DESC, channel;
SELECT is(pg_temp.attr(model, key, 'js_touch_shuffled'), a, model || ', ' || key || ': the same in another row order')
FROM answers WHERE key <> 'eu' ORDER BY model, key;
SELECT is(pg_temp.pipe(key, '(SELECT * FROM js_deal ORDER BY ts DESC, stage) s'), p, key || ': pipeline the same in another row order')
FROM pipe_answers ORDER BY key;

-- spilling: 64 kB; as a window function (no spilling) the state is too big
SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok($$SELECT attribution('markov', e, ts, channel, value) OVER () FROM js_touch LIMIT 1$$,
                 '54000', NULL, 'attribution: the rows do not fit in 64 kB');
SELECT throws_ok($$SELECT pipeline_model(e, ts, stage, ARRAY['won', 'lost']) OVER () FROM js_deal LIMIT 1$$,
                 '54000', NULL, 'pipeline_model: the rows do not fit in 64 kB');
SELECT is(pg_temp.attr(model, key), a, model || ', ' || key || ': the same when the rows spill')
FROM answers ORDER BY model, key;
SELECT is(pg_temp.pipe(key), p, key || ': pipeline the same when the rows spill') FROM pipe_answers ORDER BY key;
RESET funnel.max_state_memory;

-- sub-partitions: a partition of more rows than funnel.debug_sub_partition_rows
-- is processed in parts, by the next bits of the entity's hash (by-value
-- entities; the others are processed whole), in the same order
SET LOCAL funnel.debug_sub_partition_rows = 8;
SELECT is(pg_temp.attr(model, 'e'), a, model || ': the same in sub-partitions')
FROM answers WHERE key = 'e' ORDER BY model;
SELECT is(pg_temp.pipe('e'), (SELECT p FROM pipe_answers WHERE key = 'e'), 'pipeline the same in sub-partitions');
SET LOCAL funnel.max_state_memory = '256kB';
SELECT is(pg_temp.attr('markov', 'e'), (SELECT a FROM answers WHERE key = 'e' AND model = 'markov'),
          'markov: the same in sub-partitions, spilling');
RESET funnel.max_state_memory;
RESET funnel.debug_sub_partition_rows;

-- parallel: each worker's rows travel serialised, the leader appends them
-- with their channel and value codes renumbered
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT matches(pg_temp.plan_of($$SELECT attribution('linear', e, ts, channel, value) FROM js_touch$$),
               'Partial Aggregate', 'attribution: the plan is parallel');
SELECT matches(pg_temp.plan_of($$SELECT pipeline_model(e, ts, stage, ARRAY['won', 'lost']) FROM js_deal$$),
               'Partial Aggregate', 'pipeline_model: the plan is parallel');
SELECT is(pg_temp.attr(model, key), a, model || ', ' || key || ': the same in parallel')
FROM answers WHERE key <> 'eu' ORDER BY model, key;
SELECT is(pg_temp.pipe(key), p, key || ': pipeline the same in parallel') FROM pipe_answers ORDER BY key;
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(pg_temp.attr(model, 'e'), a, model || ': the same in parallel, spilling')
FROM answers WHERE key = 'e' ORDER BY model;
SELECT is(pg_temp.pipe('e'), (SELECT p FROM pipe_answers WHERE key = 'e'), 'pipeline the same in parallel, spilling');
RESET funnel.max_state_memory;

-- partitionwise: partial states of different partitions are appended
CREATE TABLE js_part (e bigint, ts timestamptz, channel text, value numeric) PARTITION BY HASH (e);
CREATE TABLE js_part_0 PARTITION OF js_part FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE js_part_1 PARTITION OF js_part FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE js_part_2 PARTITION OF js_part FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO js_part SELECT e, ts, channel, value FROM js_touch;
ANALYZE js_part;
SET LOCAL enable_partitionwise_aggregate = on;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT matches(pg_temp.plan_of($$SELECT attribution('linear', e, ts, channel, value) FROM js_part$$),
               'Partial Aggregate(.|\n)*Partial Aggregate', 'attribution: the plan is partitionwise');
SELECT is(pg_temp.attr(model, 'e', 'js_part'), a, model || ': the same partitionwise')
FROM answers WHERE key = 'e' ORDER BY model;
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(pg_temp.attr(model, 'e', 'js_part'), a, model || ': the same partitionwise, spilling')
FROM answers WHERE key = 'e' ORDER BY model;
RESET funnel.max_state_memory;


-- ltv, ltv_report and cohort_retention: 3000 customers with a dropout
-- process (so that both models can be fitted), 19676 orders with cents,
-- some NULL customers and amounts; bigint, integer, smallint, text and uuid
-- customers.  Integer customers are walked in the order of their values
-- whatever their type, so the three integer types give the same bits.
CREATE TABLE cs_orders AS
SELECT CASE WHEN (c + k) % 97 = 0 THEN NULL ELSE c END::bigint AS e,
       '2023-01-01'::timestamptz + (c % 60) * interval '1 day' + k * (5 + c % 40) * interval '1 day'
         + (c % 7) * interval '1 hour' AS ts,
       CASE WHEN (c * 31 + k) % 89 = 0 THEN NULL ELSE (10 + c % 17 + (c * k % 100) / 100.0)::numeric END AS amount
FROM generate_series(1, 3000) c, generate_series(0, 100) k
WHERE k * (5 + c % 40) <= (c * 7919 % 400) * (c % 3) / 2;
ALTER TABLE cs_orders ADD COLUMN ei integer, ADD COLUMN es smallint, ADD COLUMN et text, ADD COLUMN eu uuid;
UPDATE cs_orders SET ei = e, es = e, et = 'customer-' || e || repeat('x', (e % 5)::int), eu = md5(e::text)::uuid;
ANALYZE cs_orders;
CREATE FUNCTION pg_temp.cv(agg text, key text, tab text DEFAULT 'cs_orders') RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT %s(%s, ts%s)::text FROM %s', agg, key,
                 CASE WHEN agg = 'cohort_retention' THEN $a$, 'week', 30$a$ ELSE ', amount' END, tab) INTO r;
  RETURN r;
END $$;
CREATE TEMP TABLE cv_cases (agg text, key text);
INSERT INTO cv_cases
SELECT a, k FROM unnest(ARRAY['ltv', 'ltv_report', 'cohort_retention']) a,
                 unnest(ARRAY['e', 'ei', 'es', 'et', 'eu']) k;
SET LOCAL max_parallel_workers_per_gather = 0;
RESET enable_partitionwise_aggregate;
CREATE TEMP TABLE cv_answers AS SELECT agg, key, pg_temp.cv(agg, key) AS a FROM cv_cases;

SELECT ok((SELECT bool_and(a IS NOT NULL) FROM cv_answers), 'every customer value answer is there');
SELECT ok((SELECT a::float8 > 0 FROM cv_answers WHERE agg = 'ltv' AND key = 'e'), 'ltv: the models are fitted');
SELECT is((SELECT (ltv_report(e, ts, amount)).orders FROM cs_orders),
          (SELECT count(*) FROM cs_orders WHERE e IS NOT NULL AND amount IS NOT NULL), 'ltv_report counts every order');
SELECT is(a, (SELECT a FROM cv_answers b WHERE b.agg = c.agg AND b.key = 'e'), agg || ', ' || key || ': integer types agree')
FROM cv_answers c WHERE key IN ('ei', 'es') ORDER BY agg, key;

-- rows in another order: the same bits
CREATE TABLE cs_shuffled AS SELECT * FROM cs_orders ORDER BY hashint4(e::int * 31 + extract(epoch FROM ts)::int) DESC, amount;
SELECT is(pg_temp.cv(agg, key, 'cs_shuffled'), a, agg || ', ' || key || ': the same in another row order')
FROM cv_answers WHERE key IN ('e', 'et', 'eu') ORDER BY agg, key;

-- spilling: 512 kB (the model fits need 80 bytes a customer, 240 kB);
-- as a window function (no spilling) the 19676 rows are too big (cohort
-- rows of integer customers are compact, about 10 bytes: 128 kB for them)
SET LOCAL funnel.max_state_memory = '512kB';
SELECT throws_ok($$SELECT ltv(e, ts, amount) OVER () FROM cs_orders LIMIT 1$$,
                 '54000', NULL, 'ltv: the rows do not fit in 512 kB');
SET LOCAL funnel.max_state_memory = '128kB';
SELECT throws_ok($$SELECT cohort_retention(e, ts, 'week', 30) OVER () FROM cs_orders LIMIT 1$$,
                 '54000', NULL, 'cohort_retention: the rows do not fit in 128 kB');
SET LOCAL funnel.max_state_memory = '512kB';
SELECT is(pg_temp.cv(agg, key), a, agg || ', ' || key || ': the same when the rows spill')
FROM cv_answers ORDER BY agg, key;
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(pg_temp.cv('cohort_retention', key), a, 'cohort_retention, ' || key || ': the same spilling under 64 kB')
FROM cv_answers WHERE agg = 'cohort_retention' AND key IN ('e', 'et') ORDER BY key;
RESET funnel.max_state_memory;

-- sub-partitions: the same answers
SET LOCAL funnel.debug_sub_partition_rows = 8;
SELECT is(pg_temp.cv(agg, key), a, agg || ', ' || key || ': the same in sub-partitions')
FROM cv_answers WHERE key IN ('e', 'ei') ORDER BY agg, key;
SET LOCAL funnel.max_state_memory = '512kB';
SELECT is(pg_temp.cv(agg, 'e'), a, agg || ': the same in sub-partitions, spilling')
FROM cv_answers WHERE key = 'e' ORDER BY agg;
RESET funnel.max_state_memory;
RESET funnel.debug_sub_partition_rows;

-- parallel: each worker's rows travel serialised, the leader appends them
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT matches(pg_temp.plan_of($$SELECT ltv(e, ts, amount) FROM cs_orders$$),
               'Partial Aggregate', 'ltv: the plan is parallel');
SELECT is(pg_temp.cv(agg, key), a, agg || ', ' || key || ': the same in parallel')
FROM cv_answers WHERE key IN ('e', 'ei', 'et', 'eu') ORDER BY agg, key;
SET LOCAL funnel.max_state_memory = '512kB';
SELECT is(pg_temp.cv(agg, 'e'), a, agg || ': the same in parallel, spilling')
FROM cv_answers WHERE key = 'e' ORDER BY agg;
RESET funnel.max_state_memory;

-- partitionwise: partial states of different partitions are appended
CREATE TABLE cs_part (e bigint, ts timestamptz, amount numeric) PARTITION BY HASH (e);
CREATE TABLE cs_part_0 PARTITION OF cs_part FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE cs_part_1 PARTITION OF cs_part FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE cs_part_2 PARTITION OF cs_part FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO cs_part SELECT e, ts, amount FROM cs_orders;
ANALYZE cs_part;
SET LOCAL enable_partitionwise_aggregate = on;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT matches(pg_temp.plan_of($$SELECT ltv(e, ts, amount) FROM cs_part$$),
               'Partial Aggregate(.|\n)*Partial Aggregate', 'ltv: the plan is partitionwise');
SELECT is(pg_temp.cv(agg, 'e', 'cs_part'), a, agg || ': the same partitionwise')
FROM cv_answers WHERE key = 'e' ORDER BY agg;
SET LOCAL funnel.max_state_memory = '512kB';
SELECT is(pg_temp.cv(agg, 'e', 'cs_part'), a, agg || ': the same partitionwise, spilling')
FROM cv_answers WHERE key = 'e' ORDER BY agg;
RESET funnel.max_state_memory;

SELECT * FROM finish();
ROLLBACK;
