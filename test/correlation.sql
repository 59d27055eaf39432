-- funnel_correlation: properties and errors.  The result does not depend on
-- the plan (serial, parallel with serialised states, partitionwise) nor on
-- the order rows arrive in; the events of the funnel's steps are never
-- drivers; converters and non-converters are funnel_stage_counts' last and
-- first steps; every error has its SQLSTATE; the state is capped by
-- funnel.max_state_memory.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(16);

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || line || E'\n'; END LOOP;
  RETURN plan;
END $$;

-- 3000 users, 30000 events: visit, cart, buy and 6 other events; channels
CREATE TABLE corr_ev AS
SELECT g % 3000 AS u,
       timestamptz '2024-01-01' + (abs(hashint8extended(g, 1)) % 500000) * interval '1 s' AS ts,
       (ARRAY['visit','cart','buy','help','faq','search','promo','chat','visit'])[1 + abs(hashint8extended(g, 2)) % 9] AS e,
       (ARRAY['ads','mail','seo',NULL])[1 + abs(hashint8extended(g % 3000, 3)) % 4] AS ch
FROM generate_series(1, 30000::bigint) g;
ANALYZE corr_ev;
CREATE TABLE corr_part (u bigint, ts timestamptz, e text, ch text) PARTITION BY HASH (u);
CREATE TABLE corr_part_0 PARTITION OF corr_part FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE corr_part_1 PARTITION OF corr_part FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO corr_part SELECT * FROM corr_ev;
ANALYZE corr_part;

SET LOCAL max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) AS c,
       funnel_correlation('2 days', '', u, ts, e, ARRAY['visit', 'cart', 'buy'], 5, ch) AS cp,
       funnel_stage_counts('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) AS fsc
FROM corr_ev;

SELECT ok((SELECT jsonb_array_length(c->'drivers') >= 5 AND (c->>'converters')::int > 100
                  AND (c->>'non_converters')::int > 100 FROM serial),
          'the test data has drivers, converters and non-converters');
SELECT is((SELECT ARRAY[(c->>'converters')::bigint + (c->>'non_converters')::bigint, (c->>'converters')::bigint]
           FROM serial),
          (SELECT ARRAY[fsc[1], fsc[3]] FROM serial),
          'entered and converted are funnel_stage_counts'' first and last steps');
SELECT is((SELECT array_agg(m ORDER BY m) FROM unnest(ARRAY['strict_order', 'strict_increase', 'strict_once',
                                                            'strict_deduplication', 'strict_order,allow_reentry']) m
           WHERE (SELECT ARRAY[(c->>'converters')::bigint + (c->>'non_converters')::bigint, (c->>'converters')::bigint]
                  FROM (SELECT funnel_correlation('2 days', m, u, ts, e, ARRAY['visit', 'cart', 'buy'], NULL, NULL) AS c
                        FROM corr_ev) x)
                 IS DISTINCT FROM
                 (SELECT ARRAY[f[1], f[3]]
                  FROM (SELECT funnel_stage_counts('2 days', m, u, ts, e, ARRAY['visit', 'cart', 'buy']) AS f
                        FROM corr_ev) y)),
          NULL, 'every mode: entered and converted are funnel_stage_counts'' first and last steps');
SELECT ok((SELECT NOT (c->'drivers' @> '[{"name": "visit"}]' OR c->'drivers' @> '[{"name": "cart"}]'
                       OR c->'drivers' @> '[{"name": "buy"}]') FROM serial),
          'the funnel''s step events are not drivers');
SELECT ok((SELECT cp->'drivers' @> '[{"kind": "property", "name": "ads"}]' FROM serial),
          'property values are drivers');
SELECT is((SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) OVER () FROM corr_ev LIMIT 1),
          (SELECT c FROM serial), 'as a window function (the final function leaves the state as it was)');
SELECT is((SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy'])
           FROM (SELECT * FROM corr_ev ORDER BY e DESC, ts DESC) s),
          (SELECT c FROM serial), 'the result does not depend on the order of the rows');

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
SELECT ok(pg_temp.plan_of($$SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) FROM corr_ev$$)
          ~ 'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)', 'parallel plan with partial aggregation');
SELECT is((SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) FROM corr_ev),
          (SELECT c FROM serial), 'parallel: events');
SELECT is((SELECT funnel_correlation('2 days', '', u, ts, e, ARRAY['visit', 'cart', 'buy'], 5, ch) FROM corr_ev),
          (SELECT cp FROM serial), 'parallel: events and property values');
SET LOCAL enable_partitionwise_aggregate = on;
SELECT is((SELECT funnel_correlation('2 days', u, ts, e, ARRAY['visit', 'cart', 'buy']) FROM corr_part),
          (SELECT c FROM serial), 'partitionwise partial aggregation over a partitioned table');
SET LOCAL max_parallel_workers_per_gather = 0;

SELECT throws_ok($$SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], -3, ch) FROM corr_ev$$,
                 '22023', 'correlation min_count -3 is out of range', 'negative min_count');
SELECT throws_ok($$SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], (u % 2)::int, ch) FROM corr_ev$$,
                 '22023', 'correlation min_count must be the same for every row of a group', 'min_count changing');
SELECT throws_ok($$SELECT * FROM funnel_correlation_report('{"drivers": []}', 10001)$$,
                 '22023', 'correlation top_n 10001 is out of range', 'report top_n out of range');
SELECT throws_ok($$SELECT funnel_correlation('1 day', u, ts, e, ARRAY['visit', 'buy']) FROM corr_ev WHERE u < 0
                   UNION ALL SELECT funnel_correlation(NULL, u, ts, e, ARRAY['visit', 'buy']) FROM corr_ev$$,
                 '22004', 'funnel window must not be NULL', 'NULL window');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT throws_ok($$SELECT funnel_correlation('1 day', g, timestamptz '2024-01-01' + g * interval '1 s', 'e' || g % 10, ARRAY['e1', 'e2']) FROM generate_series(1, 20000) g$$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory',
                 'the state is capped by funnel.max_state_memory');
SELECT * FROM finish();
ROLLBACK;
