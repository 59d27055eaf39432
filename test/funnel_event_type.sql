-- The funnel_event type as a data type: text and binary round trips, hostile
-- binary input, ordering against an independent (time, unsigned mask) key,
-- hashing, btree and hash indexes, hash partitioning, stored arrays.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(49);

SET LOCAL timezone = 'Pacific/Chatham';   -- +12:45/+13:45: must not matter
DO $$ BEGIN PERFORM setseed(0.4242); END $$;

-- the step mask as an unsigned number (bit k-1 = step k), from event_steps
CREATE FUNCTION pg_temp.mask(e funnel_event) RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(sum(2::numeric ^ (k - 1)), 0) FROM unnest(event_steps(e)) k $$;

CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS
$$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q; END $$;

-- random events: times in a 60 s range (many ties, some microseconds) and
-- random step sets, step 64 included; a few fixed extremes
CREATE TEMP TABLE e AS
SELECT g AS id,
       funnel_event('2024-03-01 00:00:00+00'::timestamptz
                    + (floor(random() * 60) || ' s')::interval
                    + CASE WHEN random() < 0.2 THEN (floor(random() * 1000000) || ' us')::interval ELSE '0' END,
                    VARIADIC ARRAY(SELECT random() < CASE WHEN g % 3 = 0 THEN 0.02 ELSE 0.1 END
                                   FROM generate_series(1, 64) k)) AS e
FROM generate_series(1, 2000) g;
INSERT INTO e VALUES
    (2001, '4714-11-24 00:00:00+00 BC {}'), (2002, '294276-12-31 23:59:59.999999+00 {1,64}'),
    (2003, '2024-03-01 00:00:00+00 {64}'), (2004, '2024-03-01 00:00:00+00 {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63}'),
    (2005, '2024-03-01 00:00:00+00 {}'), (2006, '2024-03-01 00:00:00+00 {}'), (2007, '2000-01-01 00:00:00+00 {1}');
CREATE TEMP TABLE k AS SELECT id, e, event_time(e) AS t, pg_temp.mask(e) AS m FROM e;

-- the generated data has what the tests below need
SELECT cmp_ok((SELECT count(*) FROM (SELECT t FROM k GROUP BY t HAVING count(*) > 1) s), '>', 10::bigint,
    'generated data: many tied times');
SELECT cmp_ok((SELECT count(*) FROM (SELECT t, m FROM k GROUP BY t, m HAVING count(*) > 1) s), '>', 0::bigint,
    'generated data: some duplicate events');
SELECT cmp_ok((SELECT count(*) FROM k WHERE m >= 2::numeric ^ 63), '>', 10::bigint,
    'generated data: step 64 (the sign bit of a signed mask) is common');

-- ---------- storage ----------
SELECT is((SELECT (typlen, typalign, typbyval)::text FROM pg_type WHERE typname = 'funnel_event'),
    '(16,d,f)', 'fixed length 16, double aligned');
SELECT is(pg_column_size('2024-03-01 {1}'::funnel_event), 16, 'a value takes 16 bytes');

-- ---------- text round trip ----------
SELECT is((SELECT count(*) FROM k WHERE e::text::funnel_event <> e), 0::bigint,
    'text round trip of 2007 values');
SELECT is((SELECT count(*) FROM k WHERE (e::text::funnel_event)::text <> e::text), 0::bigint,
    'text output is stable');
SELECT is((SELECT count(*) FROM k WHERE event_time(e::text::funnel_event) <> t
                                      OR pg_temp.mask(e::text::funnel_event) <> m), 0::bigint,
    'text round trip keeps time and steps');

-- ---------- binary round trip (COPY FORMAT binary through a file in the data directory) ----------
CREATE TEMP TABLE bin_src (id int, e funnel_event, j funnel_event[]);
INSERT INTO bin_src SELECT id, e, ARRAY[e, e] FROM e;
INSERT INTO bin_src VALUES (0, NULL, ARRAY[NULL, '2024-03-01 {2}']::funnel_event[]);
CREATE TEMP TABLE bin_dst (LIKE bin_src);
CREATE FUNCTION pg_temp.bin_file() RETURNS text LANGUAGE sql AS
$$ SELECT current_setting('data_directory') || '/funnel_event_type_' || pg_backend_pid() || '.bin' $$;
DO $$ BEGIN
    EXECUTE format('COPY bin_src TO %L (FORMAT binary)', pg_temp.bin_file());
    EXECUTE format('COPY bin_dst FROM %L (FORMAT binary)', pg_temp.bin_file());
END $$;
SELECT is((SELECT count(*) FROM bin_dst), 2008::bigint, 'binary COPY read every row back');
SELECT is((SELECT count(*) FROM bin_src s JOIN bin_dst d USING (id)
           WHERE s.e IS NOT DISTINCT FROM d.e AND s.j = d.j), 2008::bigint,
    'binary round trip of values and arrays (send/recv)');
SELECT is((SELECT count(*) FROM bin_src s JOIN bin_dst d USING (id)
           WHERE s.e::text = d.e::text), 2007::bigint, 'binary round trip: same text');

-- hostile binary input: a one-row, one-column binary COPY file whose field
-- is the given bytes; the server must reject it with a clear error
CREATE TEMP TABLE hostile (e funnel_event);
CREATE FUNCTION pg_temp.copy_field(field bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea        -- signature
                           || '\x00000000'::bytea || '\x00000000'::bytea   -- flags, extension
                           || '\x0001'::bytea                            -- one field
                           || int4send(length(field)) || field
                           || '\xffff'::bytea);                          -- trailer
    PERFORM lo_export(lo, pg_temp.bin_file());
    PERFORM lo_unlink(lo);
    EXECUTE format('COPY hostile FROM %L (FORMAT binary)', pg_temp.bin_file());
END $$;
SELECT lives_ok($$ SELECT pg_temp.copy_field(int8send(0) || int8send(5)) $$,
    'crafted binary file with a valid event is read');
SELECT is((SELECT e::text FROM hostile), '2000-01-01 00:00:00+00 {1,3}', 'crafted event decoded (time 0 = 2000-01-01)');
SELECT lives_ok($$ SELECT pg_temp.copy_field(int8send(0) || int8send(-1)) $$,
    'binary event with all 64 steps is valid');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(9223372036854775807) || int8send(1)) $$, '22P03',
    'invalid funnel_event: timestamp 9223372036854775807 is infinite or out of range',
    'binary infinity rejected');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(-9223372036854775808) || int8send(1)) $$, '22P03',
    'invalid funnel_event: timestamp -9223372036854775808 is infinite or out of range',
    'binary -infinity rejected');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(9223371331200000000) || int8send(1)) $$, '22P03',
    'invalid funnel_event: timestamp 9223371331200000000 is infinite or out of range',
    'binary time past the end of timestamptz rejected');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(-211813488000000001) || int8send(1)) $$, '22P03',
    'invalid funnel_event: timestamp -211813488000000001 is infinite or out of range',
    'binary time before the start of timestamptz rejected');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(0)) $$, '08P01', NULL,
    'binary field too short (8 bytes) rejected');
SELECT throws_ok($$ SELECT pg_temp.copy_field(int8send(0) || int8send(1) || '\x00'::bytea) $$, '22P03', NULL,
    'binary field too long (17 bytes) rejected');
SELECT is((SELECT count(*) FROM hostile), 2::bigint, 'only the valid crafted rows were stored');

-- ---------- ordering: by time, then by the mask as an unsigned number ----------
SELECT is((SELECT array_agg(id ORDER BY e, id) FROM k), (SELECT array_agg(id ORDER BY t, m, id) FROM k),
    'ORDER BY funnel_event = ORDER BY (time, unsigned mask)');
-- pairs: every pair with the same time, and two sets of arbitrary pairs
CREATE TEMP TABLE pairs AS
SELECT a.e AS a, b.e AS b, sign((a.t > b.t)::int - (a.t < b.t)::int) AS ct,
       sign((a.m > b.m)::int - (a.m < b.m)::int) AS cm
FROM (SELECT a.id AS ia, b.id AS ib FROM k a JOIN k b ON a.t = b.t
      UNION ALL SELECT a.id, b.id FROM k a JOIN k b ON b.id = (a.id * 7919) % 2007 + 1
      UNION ALL SELECT a.id, b.id FROM k a JOIN k b ON b.id = a.id + 1) p
JOIN k a ON a.id = p.ia JOIN k b ON b.id = p.ib;
SELECT cmp_ok((SELECT count(*) FROM pairs), '>', 5000::bigint, 'enough pairs');
SELECT is((SELECT count(*) FROM pairs,
           LATERAL (SELECT CASE WHEN ct <> 0 THEN ct ELSE cm END AS c) x
           WHERE funnel_event_cmp(a, b) <> x.c
              OR (a < b) <> (x.c < 0) OR (a <= b) <> (x.c <= 0) OR (a = b) <> (x.c = 0)
              OR (a <> b) <> (x.c <> 0) OR (a >= b) <> (x.c >= 0) OR (a > b) <> (x.c > 0)),
    0::bigint, 'all six operators and the btree support function agree with (time, unsigned mask)');

-- ---------- hashing ----------
SELECT is((SELECT count(*) FROM pairs WHERE a = b AND funnel_event_hash(a) <> funnel_event_hash(b)), 0::bigint,
    'equal values hash equally');
SELECT is((SELECT count(*) FROM k WHERE (funnel_event_hash_extended(e, 0) & 4294967295)
                                        <> (funnel_event_hash(e)::bigint & 4294967295)), 0::bigint,
    'extended hash with seed 0 extends the 32-bit hash');
SELECT isnt((SELECT count(DISTINCT funnel_event_hash_extended(e, 1)) FROM k), 1::bigint,
    'the seed is used');
SET LOCAL enable_sort = off;
SET LOCAL enable_hashagg = on;
SELECT matches((SELECT string_agg(p, ' ') FROM pg_temp.plan('SELECT e FROM k GROUP BY e') p), 'HashAggregate',
    'GROUP BY can hash');
SELECT is((SELECT count(*) FROM (SELECT e FROM k GROUP BY e) s),
          (SELECT count(*) FROM (SELECT DISTINCT t, m FROM k) s), 'hash GROUP BY: one group per distinct (time, mask)');
SELECT is((SELECT count(*) FROM (SELECT DISTINCT e FROM k) s),
          (SELECT count(*) FROM (SELECT DISTINCT t, m FROM k) s), 'hash DISTINCT');
RESET enable_sort;
SET LOCAL enable_hashagg = off;
SELECT is((SELECT count(*) FROM (SELECT DISTINCT e FROM k) s),
          (SELECT count(*) FROM (SELECT DISTINCT t, m FROM k) s), 'sort DISTINCT');
RESET enable_hashagg;

-- joins: hash join, merge join and nested loop give the same matches
CREATE FUNCTION pg_temp.join_count() RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM k a JOIN k b ON a.e = b.e $$;
SELECT is((SELECT count(*) FROM k a JOIN k b ON a.t = b.t AND a.m = b.m), pg_temp.join_count(),
    'join on = matches (time, mask) equality');
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_nestloop = off;
SELECT matches((SELECT string_agg(p, ' ') FROM pg_temp.plan('SELECT count(*) FROM k a JOIN k b ON a.e = b.e') p),
    'Hash Join', 'hash join is possible');
SELECT is(pg_temp.join_count(), (SELECT count(*) FROM k a JOIN k b ON a.t = b.t AND a.m = b.m), 'hash join count');
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = on;
SELECT matches((SELECT string_agg(p, ' ') FROM pg_temp.plan('SELECT count(*) FROM k a JOIN k b ON a.e = b.e') p),
    'Merge Join', 'merge join is possible');
SELECT is(pg_temp.join_count(), (SELECT count(*) FROM k a JOIN k b ON a.t = b.t AND a.m = b.m), 'merge join count');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_nestloop;

-- ---------- indexes ----------
CREATE TEMP TABLE ix AS SELECT id, e FROM k;
CREATE INDEX ix_btree ON ix (e);
CREATE INDEX ix_hash ON ix USING hash (e);
ANALYZE ix;
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT lives_ok($$ SELECT bt_index_check('ix_btree', true) $$, 'amcheck: btree index order is consistent');
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT matches((SELECT string_agg(p, ' ') FROM pg_temp.plan(
    $q$SELECT id FROM ix WHERE e BETWEEN '2024-03-01 00:00:10+00 {}' AND '2024-03-01 00:00:20+00 {1}'$q$) p),
    'Index (Only )?Scan using ix_btree', 'range query uses the btree index');
SELECT is((SELECT array_agg(id ORDER BY id) FROM ix
           WHERE e BETWEEN '2024-03-01 00:00:10+00 {}' AND '2024-03-01 00:00:20+00 {1}'),
          (SELECT array_agg(id ORDER BY id) FROM k
           WHERE (t, m) >= ('2024-03-01 00:00:10+00', 0) AND (t, m) <= ('2024-03-01 00:00:20+00', 1)),
    'btree range scan returns exactly the rows in (time, mask) range');
DROP INDEX ix_btree;
SELECT matches((SELECT string_agg(p, ' ') FROM pg_temp.plan(
    $q$SELECT id FROM ix WHERE e = '2024-03-01 00:00:00+00 {64}'$q$) p),
    'Index Scan using ix_hash', 'equality query uses the hash index');
SELECT is((SELECT array_agg(a.id ORDER BY a.id) FROM k a, ix b WHERE b.e = a.e AND b.id = 2003),
          (SELECT array_agg(id ORDER BY id) FROM k WHERE t = '2024-03-01 00:00:00+00' AND m = 2::numeric ^ 63),
    'hash index lookup finds every equal event');
RESET enable_seqscan;
RESET enable_bitmapscan;
CREATE UNIQUE INDEX ix_unique ON ix (e) WHERE id BETWEEN 2001 AND 2005;
SELECT throws_ok($$ INSERT INTO ix VALUES (2004, '2024-03-01 01:00:00+01 {}') $$, '23505', NULL,
    'unique index sees events written differently as equal');

-- ---------- hash partitioning by a funnel_event column ----------
CREATE TEMP TABLE hp (id int, e funnel_event) PARTITION BY HASH (e);
CREATE TEMP TABLE hp0 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TEMP TABLE hp1 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TEMP TABLE hp2 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO hp SELECT id, e FROM k;
SELECT ok((SELECT min(n) FROM (SELECT count(*) AS n FROM hp GROUP BY tableoid) s) > 400,
    'hash partitioning spreads events over partitions');
SELECT is((SELECT count(*) FROM k a JOIN hp b ON a.e = b.e), pg_temp.join_count(),
    'a join with the partitioned table finds every match');
SELECT is((SELECT count(*) FROM hp WHERE e = '2024-03-01 00:00:00+00 {}'),
          (SELECT count(*) FROM k WHERE t = '2024-03-01 00:00:00+00' AND m = 0), 'lookup in the partitioned table');
SELECT is((SELECT count(*) FROM pg_temp.plan($q$SELECT * FROM hp WHERE e = '2024-03-01 00:00:00+00 {}'$q$) p
           WHERE p ~ 'Seq Scan on hp'), 1::bigint, 'equality prunes to one partition');

-- ---------- funnel_event[] stored in a table ----------
CREATE TEMP TABLE journeys AS
SELECT id % 50 AS u, array_agg(e ORDER BY id) AS j FROM k WHERE id <= 2000 GROUP BY id % 50;
SELECT is((SELECT sum(cardinality(j)) FROM journeys), 2000::bigint, 'journeys stored');
SELECT is((SELECT count(*) FROM journeys s JOIN k ON k.id % 50 = s.u AND k.id <= 2000
           WHERE k.e <> ALL (s.j)), 0::bigint, 'every event is in its stored journey');
SELECT is((SELECT count(*) FROM journeys s
           WHERE window_funnel('10 s', s.j, 'strict_order')
                 <> (SELECT window_funnel('10 s', 'strict_order', k.e) FROM k WHERE k.id % 50 = s.u AND k.id <= 2000)),
    0::bigint, 'window_funnel over a stored journey = the aggregate over its rows');

SELECT * FROM finish();
ROLLBACK;
