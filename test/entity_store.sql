-- The per-entity store behind funnel_stage_counts, funnel_conversion and
-- funnel_summary: the answer never depends on where the rows were kept.
-- Each aggregate over random rows (ties: several rows per timestamp, rows
-- matching several steps, NULL entities) with bigint, text, uuid, composite
-- and collated text entities must equal
--   * the two-level form (window_funnel per entity, a separate walk state,
--     then funnel_stage_counts(level, steps)), as the reference;
--   * itself with a 64 kB funnel.max_state_memory, which spills the rows to a
--     temporary file many times (the DEBUG1 messages count the spills);
--   * itself in a parallel plan (zero parallel costs) and partitionwise over
--     a table hash-partitioned by the entity, with and without spilling.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT plan(130);

-- 30000 rows of 3000 entities; times on a coarse grid (many ties); a row may
-- match several steps; about 1% NULL entities
CREATE TABLE es_rows AS
SELECT CASE WHEN g % 97 = 0 THEN NULL ELSE (hashint4(g) & 65535) % 3000 END::bigint AS e,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 65535) % 400) * interval '10 minutes' AS ts,
       (hashint4(g * 13) & 7) < 3 AS c1, (hashint4(g * 17) & 7) < 3 AS c2,
       (hashint4(g * 19) & 7) < 3 AS c3, (hashint4(g * 23) & 7) < 2 AS c4
FROM generate_series(1, 30000) g;
ALTER TABLE es_rows ADD COLUMN et text, ADD COLUMN eu uuid, ADD COLUMN ec text COLLATE "C";
UPDATE es_rows SET et = 'customer-' || e || repeat('x', (e % 7)::int),
                   eu = md5(e::text)::uuid,
                   ec = CASE WHEN e % 2 = 0 THEN 'K' || (e / 2) ELSE 'k' || (e / 2) END;
-- case-insensitive: 'K1' (entity 2) and 'k1' (entity 3) are one entity
CREATE COLLATION es_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE pg_temp.es_key AS (a int, b text);
ANALYZE es_rows;

-- the reference: one walk per entity, counted
CREATE FUNCTION pg_temp.reference(key text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format($q$SELECT funnel_stage_counts(level, 4) FROM
                    (SELECT window_funnel('2 hours', ts, c1, c2, c3, c4) AS level
                     FROM es_rows WHERE %1$s IS NOT NULL GROUP BY %1$s) s$q$, key) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.counts(key text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format('SELECT funnel_stage_counts(''2 hours'', %s, ts, c1, c2, c3, c4) FROM es_rows', key) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.summary(key text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT funnel_summary(''2 hours'', %s, ts, c1, c2, c3, c4)::text FROM es_rows', key) INTO r;
  RETURN r;
END $$;

-- GROUP BY: one store per group (e % 3), against each group's two-level form
CREATE FUNCTION pg_temp.grouped_counts() RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg(c ORDER BY k) FROM (SELECT e % 3 AS k, funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4) AS c
                                       FROM es_rows WHERE e IS NOT NULL GROUP BY 1) s $$;
CREATE FUNCTION pg_temp.grouped_reference() RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg(c ORDER BY k) FROM (SELECT k, funnel_stage_counts(level, 4) AS c
                                       FROM (SELECT e % 3 AS k, window_funnel('2 hours', ts, c1, c2, c3, c4) AS level
                                             FROM es_rows WHERE e IS NOT NULL GROUP BY e) l GROUP BY k) s $$;

CREATE TEMP TABLE keys (name text, expr text);
INSERT INTO keys VALUES
  ('bigint', 'e'), ('text', 'et'), ('uuid', 'eu'), ('text, C collation', 'ec COLLATE "C"'),
  ('text, case-insensitive collation', 'ec COLLATE es_ci'),
  ('composite', 'CASE WHEN e IS NOT NULL THEN ROW(e::int, et)::pg_temp.es_key END'),
  ('array', 'CASE WHEN e IS NOT NULL THEN ARRAY[e, e % 7] END'),
  -- integer keys are stored without their low byte, which their partition
  -- gives back: keys that share it, keys of 3 and 4 bytes, negative keys
  -- and keys past 32 bits (the long form)
  ('bigint, multiples of 256', 'e * 256'),
  ('bigint, from 2^24 to 2^32', 'e * 1000003 + 16777216'),
  ('bigint, past 32 bits or negative', 'CASE WHEN e % 2 = 0 THEN e * 4294967311 ELSE -e - 1 END'),
  ('integer, from 2^24', '(e * 700001 + 16777216)::int'),
  ('bigint, multiples of 2^44', 'e * 17592186044416');

CREATE TEMP TABLE answers AS
SELECT name, expr, pg_temp.reference(expr) AS reference, pg_temp.counts(expr) AS counts,
       pg_temp.summary(expr) AS summary
FROM keys;
SELECT is(counts, reference, name || ': funnel_stage_counts equals the two-level form')
FROM answers ORDER BY name;
SELECT ok(reference[1] > 1000 AND reference[4] > 0 AND reference[4] < reference[1],
          name || ': the data reach every step, not all entities do')
FROM answers ORDER BY name;
SELECT ok((SELECT reference FROM answers WHERE name = 'text, case-insensitive collation') <>
          (SELECT reference FROM answers WHERE name = 'text, C collation'), 'the collation decides what one entity is');
SELECT is(funnel_conversion('2 hours', e, ts, c1, c2, c3, c4),
          funnel_conversion((SELECT reference FROM answers WHERE name = 'bigint')), 'funnel_conversion agrees')
FROM es_rows;

-- spilling: 64 kB of memory, many writes to the temporary file
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(pg_temp.counts(expr), counts, name || ': same counts when the rows spill') FROM answers ORDER BY name;
SELECT is(pg_temp.summary(expr), summary, name || ': same funnel_summary when the rows spill') FROM answers ORDER BY name;
RESET funnel.max_state_memory;

-- sub-partitions: a partition of more rows than funnel.debug_sub_partition_rows
-- (about 117 rows each here) is processed in parts, by the next bits of the
-- entity's hash (by-value entities; the others are processed whole)
SET LOCAL funnel.debug_sub_partition_rows = 16;
SELECT is(pg_temp.counts(expr), counts, name || ': same counts in sub-partitions') FROM answers ORDER BY name;
SELECT is(pg_temp.summary(expr), summary, name || ': same funnel_summary in sub-partitions') FROM answers ORDER BY name;
SELECT is(funnel_stage_counts('2 hours', e::int, ts, c1, c2, c3, c4), (SELECT counts FROM answers WHERE name = 'bigint'),
          'integer entities: same counts in sub-partitions') FROM es_rows;
SELECT is(pg_temp.grouped_counts(), pg_temp.grouped_reference(),
          'GROUP BY in sub-partitions: every group equals its two-level form');
-- (sub-partitions need room for their keys: a 256 kB limit, which spills;
-- test/sub_partitions.sh checks that both happen)
SET LOCAL funnel.max_state_memory = '256kB';
SELECT is(pg_temp.counts('e'), (SELECT counts FROM answers WHERE name = 'bigint'),
          'bigint: same counts in sub-partitions, spilling');
SET LOCAL funnel.debug_sub_partition_rows = 1;
SELECT is(pg_temp.counts('e'), (SELECT counts FROM answers WHERE name = 'bigint'),
          'bigint: same counts in 256 sub-partitions a partition, spilling');
RESET funnel.debug_sub_partition_rows;
SET LOCAL funnel.max_state_memory = '64kB';

-- parallel: every worker's rows travel serialised; the leader appends them
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4) FROM es_rows$$),
               'Gather(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the plan is parallel');
SELECT is(pg_temp.counts(expr), counts, name || ': same counts in parallel, spilling') FROM answers ORDER BY name;
RESET funnel.max_state_memory;
SELECT is(pg_temp.counts(expr), counts, name || ': same counts in parallel') FROM answers ORDER BY name;
SELECT is(pg_temp.summary(expr), summary, name || ': same funnel_summary in parallel')
FROM answers WHERE name IN ('bigint', 'text') ORDER BY name;

-- partitionwise: partial states of different partitions are appended
CREATE TABLE es_part (e bigint, ts timestamptz, c1 bool, c2 bool, c3 bool, c4 bool) PARTITION BY HASH (e);
CREATE TABLE es_part_0 PARTITION OF es_part FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE es_part_1 PARTITION OF es_part FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE es_part_2 PARTITION OF es_part FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE es_part_3 PARTITION OF es_part FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO es_part SELECT e, ts, c1, c2, c3, c4 FROM es_rows;
ANALYZE es_part;
SET LOCAL enable_partitionwise_aggregate = on;
SELECT matches(pg_temp.plan_of($$SELECT funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4) FROM es_part$$),
               'Append(.|\n)*(Partial Aggregate|FunnelAggregate)(.|\n)*(Partial Aggregate|FunnelAggregate)', 'the plan is partitionwise');
SELECT is(funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4), (SELECT counts FROM answers WHERE name = 'bigint'),
          'partitionwise, parallel: same counts') FROM es_part;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is(funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4), (SELECT counts FROM answers WHERE name = 'bigint'),
          'partitionwise, serial: same counts') FROM es_part;
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4), (SELECT counts FROM answers WHERE name = 'bigint'),
          'partitionwise, spilling: same counts') FROM es_part;
SELECT is(funnel_summary('2 hours', e, ts, c1, c2, c3, c4)::text, (SELECT summary FROM answers WHERE name = 'bigint'),
          'partitionwise, spilling: same funnel_summary') FROM es_part;
RESET funnel.max_state_memory;
RESET enable_partitionwise_aggregate;

-- compact rows (bigint and integer entities: varint key, time since the
-- partition's row before, steps): extreme keys, and times at both ends of the
-- timestamp range interleaved, so that one partition's consecutive rows are
-- further apart than a difference can say (the whole-time form) as well as
-- close; equal to the two-level form, serial, spilling and in parallel
CREATE TABLE es_edge AS
-- (odd entities see step 3 before step 2 in each group of 3 hours: level 2)
SELECT k8 AS e8, k4 AS e4, b + j * interval '1 hour' AS ts, j % 3 = 0 AS c1,
       j % 3 = 1 + (i % 2)::int AS c2, j % 3 = 2 - (i % 2)::int AS c3
FROM unnest(ARRAY[-9223372036854775808, 9223372036854775807, -1, 0, 1, 4294967296, -4294967297, 12345]::bigint[],
            ARRAY[-2147483648, 2147483647, -1, 0, 1, 65536, -65537, 12345]::int[]) WITH ORDINALITY AS k(k8, k4, i),
     generate_series(0, 8) j,
     LATERAL (SELECT (ARRAY[timestamptz '4714-11-24 00:00:00+00 BC', '2000-01-01 00:00+00',
                            '294276-12-30 00:00:00+00'])[1 + (i + j / 3) % 3] AS b) x
ORDER BY j, i;
CREATE FUNCTION pg_temp.edge_reference(key text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format($q$SELECT funnel_stage_counts(level, 3) FROM
                    (SELECT window_funnel('1 day', ts, c1, c2, c3) AS level FROM es_edge GROUP BY %s) s$q$, key) INTO r;
  RETURN r;
END $$;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is(funnel_stage_counts('1 day', e8, ts, c1, c2, c3), pg_temp.edge_reference('e8'),
          'compact rows, bigint: extreme keys and times equal the two-level form') FROM es_edge;
SELECT is(funnel_stage_counts('1 day', e4, ts, c1, c2, c3), pg_temp.edge_reference('e4'),
          'compact rows, integer: extreme keys and times equal the two-level form') FROM es_edge;
SELECT ok(pg_temp.edge_reference('e8') = '{8,8,4}' AND pg_temp.edge_reference('e4') = '{8,8,4}',
          'compact rows: the 4 even entities complete the funnel, the 4 odd ones reach step 2');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(funnel_stage_counts('1 day', e8, ts, c1, c2, c3), pg_temp.edge_reference('e8'),
          'compact rows, bigint, spilling: the same') FROM es_edge;
RESET funnel.max_state_memory;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(funnel_stage_counts('1 day', e4, ts, c1, c2, c3), pg_temp.edge_reference('e4'),
          'compact rows, integer, parallel: the same') FROM es_edge;

-- time differences in whole seconds, whole milliseconds and microseconds (a
-- compact row keeps the difference from the partition's row before in the
-- coarsest exact unit): starts in all three precisions and before 2000, the
-- second step 1.5 s, 1.500001 s, 1.499 s, 2 s, 1 microsecond or 1.499999 s
-- after the first, a 1.5 second window (inclusive): by hand, 4 entities in
-- 6 reach step 2, 400 of 600
CREATE TABLE es_units AS
WITH starts AS (
  SELECT i, timestamptz '2024-01-01 00:00+00' + (CASE i % 5 WHEN 0 THEN i * interval '17 seconds'
                                                            WHEN 1 THEN i * interval '17 seconds' + interval '250 ms'
                                                            WHEN 2 THEN i * interval '17 seconds' + interval '123457 microseconds'
                                                            WHEN 3 THEN i * interval '1 ms'
                                                            ELSE - i * interval '1 day' - interval '3 microseconds' END) AS t
  FROM generate_series(0, 599) i)
SELECT e, 'u' || e AS et, ts, c1, NOT c1 AS c2 FROM
  (SELECT i AS e, t AS ts, true AS c1 FROM starts
   UNION ALL
   SELECT i, t + (ARRAY[interval '1.5 s', '1.500001 s', '1.499 s', '2 s', '0.000001 s', '1.499999 s'])[1 + i % 6], false
   FROM starts) r
ORDER BY hashint4(e * 31 + c1::int);
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is(funnel_stage_counts('1.5 seconds', e, ts, c1, c2), '{600,400}',
          'whole seconds, milliseconds and microseconds, bigint: 400 of 600 within 1.5 s') FROM es_units;
SELECT is(funnel_stage_counts('1.5 seconds', et, ts, c1, c2), '{600,400}',
          'whole seconds, milliseconds and microseconds, text: the same') FROM es_units;
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(funnel_stage_counts('1.5 seconds', e, ts, c1, c2), '{600,400}',
          'whole seconds, milliseconds and microseconds, spilling: the same') FROM es_units;
RESET funnel.max_state_memory;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(funnel_stage_counts('1.5 seconds', e, ts, c1, c2), '{600,400}',
          'whole seconds, milliseconds and microseconds, parallel: the same') FROM es_units;

-- compact rows' two forms: the short one (a control byte, then the key, the
-- difference in its unit and the steps in 1-4 bytes each) and the long one
-- (negative keys, keys and differences past 32 bits, steps past 24 bits, the
-- first row of a segment).  Entity i of 13 (keys at every byte boundary,
-- negative ones, past 32 bits) has 5i - 1 events named s1, s2, ... in time
-- order, one gap apart: 0, 1 microsecond, 1 millisecond, or just under or
-- over 2^31 microseconds, milliseconds or seconds, forwards or backwards
-- (the rows of an entity are consecutive: under 256 rows, in one partition,
-- each difference is that gap).  By hand: within '5000 years' entity i
-- reaches step 5i - 1 (equal times count in step order), so step k is
-- reached by the entities with 5i - 1 >= k, up to step 64 of 64 (its
-- steps' mask needs 64 bits).  Text entities (aligned rows) and the
-- two-level form agree.
CREATE TABLE es_forms AS
SELECT k.k AS e, k.k::text AS et, k.i, j,
       timestamptz '2000-01-01 00:00+00' + j * g.gap AS ts,
       's' || CASE WHEN g.gap >= interval '0' THEN j + 1 ELSE 5 * k.i - 1 - j END AS ev
FROM unnest(ARRAY[0, 1, 255, 256, 65535, 65536, 16777215, 16777216, 2147483647,
                  4294967295, 4294967296, -1, -256]::bigint[]) WITH ORDINALITY AS k(k, i)
JOIN unnest(ARRAY[interval '0', '1 microsecond', '1 millisecond', '2147483647 microseconds',
                  '2147483648 microseconds', '-2147483648 microseconds', '-2147483649 microseconds',
                  '2147483647 milliseconds', '2147483648 milliseconds', '2147483647 seconds',
                  '2147483648 seconds', '-2147483648 seconds', '-2147483649 seconds'])
     WITH ORDINALITY AS g(gap, i) USING (i)
CROSS JOIN LATERAL generate_series(0, 5 * k.i - 2) j
ORDER BY k.i, j;
-- the counts by hand: entities (by i) that reach each of the 64 steps
CREATE FUNCTION pg_temp.forms_expected(ids int[]) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT array_agg((SELECT count(*) FROM unnest(ids) i WHERE 5 * i - 1 >= k) ORDER BY k)
  FROM generate_series(1, 64) k
$$;
CREATE FUNCTION pg_temp.forms(key text, rows_where text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format($q$SELECT funnel_stage_counts('5000 years', %s, ts, ev, (SELECT array_agg('s' || k ORDER BY k) FROM generate_series(1, 64) k))
                    FROM es_forms WHERE %s$q$, key, rows_where) INTO r;
  RETURN r;
END $$;
CREATE FUNCTION pg_temp.forms_two_level(rows_where text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format($q$SELECT funnel_stage_counts(level, 64) FROM
                    (SELECT window_funnel('5000 years', ts, ev, (SELECT array_agg('s' || k ORDER BY k) FROM generate_series(1, 64) k)) AS level
                     FROM es_forms WHERE %s GROUP BY e) s$q$, rows_where) INTO r;
  RETURN r;
END $$;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT ok((SELECT count(*) FROM es_forms) = 442 AND (SELECT count(*) FROM es_forms WHERE i <= 9) = 216,
          'compact rows'' forms: 442 rows, 216 of them (entities 1-9) under the 256 of one partition');
SELECT is(pg_temp.forms('e', 'i <= 9'), pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9}'),
          'compact rows'' forms, one partition: the counts by hand');
SELECT is(pg_temp.forms('e', 'true'), pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,10,11,12,13}'),
          'compact rows'' forms, 256 partitions: the counts by hand');
SELECT is(pg_temp.forms('e::int', 'e BETWEEN -2147483648 AND 2147483647'),
          pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,12,13}'),
          'compact rows'' forms, integer entities: the counts by hand');
SELECT ok(pg_temp.forms('et', 'true') = pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,10,11,12,13}') AND
          pg_temp.forms_two_level('true') = pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,10,11,12,13}'),
          'compact rows'' forms: text entities and the two-level form give the same counts');
SET LOCAL funnel.max_state_memory = '64kB';
SELECT is(pg_temp.forms('e', 'true'), pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,10,11,12,13}'),
          'compact rows'' forms, spilling: the same');
RESET funnel.max_state_memory;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT is(pg_temp.forms('e', 'true'), pg_temp.forms_expected('{1,2,3,4,5,6,7,8,9,10,11,12,13}'),
          'compact rows'' forms, parallel: the same');
SET LOCAL max_parallel_workers_per_gather = 0;

-- GROUP BY: one store per group, each spilling on its own
SELECT is(pg_temp.grouped_counts(), pg_temp.grouped_reference(), 'GROUP BY: every group equals its two-level form');

-- as a window function the final function reads the state only
SELECT is((SELECT array_agg(c ORDER BY d) FROM
             (SELECT DISTINCT ts::date AS d, funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4) OVER (ORDER BY ts::date) AS c
              FROM es_rows) s),
          (SELECT array_agg(c ORDER BY d) FROM
             (SELECT d, (SELECT funnel_stage_counts('2 hours', e, ts, c1, c2, c3, c4) FROM es_rows WHERE ts::date <= d) AS c
              FROM (SELECT DISTINCT ts::date AS d FROM es_rows) days) s),
          'running counts (OVER ORDER BY day) equal the counts up to each day');

-- more entities in a partition than its numbering table starts with (2,048
-- slots, at most half full): 400,000 entities make about 1,560 a partition.
-- Every entity has step 1; every third also step 2 a minute later, so an
-- entity numbered twice (its second row apart from its first) or two
-- entities numbered as one would change the second count.
CREATE FUNCTION pg_temp.growth_counts(entity text) RETURNS bigint[] LANGUAGE plpgsql AS $f$
DECLARE r bigint[];
BEGIN
  EXECUTE format($q$SELECT funnel_stage_counts('1 hour', %s, t, e, ARRAY['a', 'b'])
                    FROM (SELECT g, timestamptz '2026-01-01' + g * interval '1 second' AS t, 'a' AS e
                          FROM generate_series(1, 400000) g
                          UNION ALL
                          SELECT g, timestamptz '2026-01-01' + g * interval '1 second' + interval '1 minute', 'b'
                          FROM generate_series(3, 400000, 3) g) r$q$, entity) INTO r;
  RETURN r;
END $f$;
SELECT is(pg_temp.growth_counts('g'), ARRAY[400000, 133333]::bigint[],
          '400,000 bigint entities: each numbered once as its partition''s table grows');
SELECT is(pg_temp.growth_counts($$'k' || g$$), ARRAY[400000, 133333]::bigint[],
          '400,000 text entities: the same');

SELECT * FROM finish();
ROLLBACK;
