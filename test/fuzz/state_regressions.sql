-- Deserialise findings of the fuzzer, reduced to one case each (pgTAP).
-- Needs the test-only fuzz.check_state aggregate (funnel_fuzz.c), so it runs
-- in the fuzzer's cluster: test/fuzz.sh runs it before fuzzing, as the
-- fuzzer's plain role.  fuzz.check_state deserialises the bytes with the
-- named aggregate's deserialise function, runs its final function and
-- combines the state with itself.
BEGIN;
SELECT plan(24);

-- funnel_stage_counts(level, steps): the state was the step count (int32),
-- then the entities at each level 0..steps (int64); since 1.1 it is a
-- bigint[] level histogram (no deserialise function), with the same cases
SELECT is(funnel_level_histogram_stage_counts('{1,2,1}'), '{3,1}',
          'level state: 1 entity at level 0, 2 at level 1, 1 at level 2 count 3 and 1');
-- counts that overflow when summed over the levels (the final function)
-- or merged (the combine function) were wrapped to negative counts
SELECT throws_ok($$SELECT funnel_level_histogram_stage_counts('{0,4611686018427387904,4611686018427387904}')$$,
                 '22003', NULL, 'level state: counts summing past 2^63 are an error, not a negative count');
SELECT throws_ok($$SELECT funnel_level_histogram_combine('{0,4611686018427387904}', '{0,4611686018427387904}')$$,
                 '22003', NULL, 'level state: merging counts past 2^63 is an error, not a negative count');

-- counts of skipped rows (NULLs, rows after the observation end) were added
-- with a signed overflow when merging states: an error now.  ltv: horizon
-- (month, day, time), discount, skipped rows, then no rows (flag 0)
SELECT throws_ok($$SELECT fuzz.check_state('ltv(anyelement,timestamptz,numeric,interval,double precision)'::regprocedure,
                   '\x0000000c0000000000000000000000003f847ae147ae147b400000000000000000000000'::bytea)$$,
                 '22003', NULL, 'ltv state: merging skipped-row counts past 2^63 is an error');
-- cohort_retention: period unit, periods, skipped rows, no rows (flag 0)
SELECT throws_ok($$SELECT fuzz.check_state('cohort_retention(anyelement,timestamptz,text,integer)'::regprocedure,
                   '\x0000000200000003400000000000000000000000'::bytea)$$,
                 '22003', NULL, 'cohort_retention state: merging skipped-row counts past 2^63 is an error');
-- customer_rfm: observation end (2024-01-01), time unit (month, day, time),
-- rows after the end, one purchase day (day 8000 after 2000-01-01, amount 0
-- as an int128)
SELECT throws_ok($$SELECT fuzz.check_state('customer_rfm(timestamptz,numeric,timestamptz,interval)'::regprocedure,
                   '\x0002b0d5d4e94000000000000000000100000000000000004000000000000000000000000000000100001f4000000000000000000000000000000000'::bytea)$$,
                 '22003', NULL, 'customer_rfm state: merging counts of rows after the end past 2^63 is an error');

-- customer_rfm: a purchase day before any timestamp (-2147474884) was
-- accepted, and the final function's day differences overflowed (a recency
-- of about 5.9 million years); found by the fuzzer under UBSan
SELECT throws_ok($$SELECT fuzz.check_state('customer_rfm(timestamptz,numeric,timestamptz,interval)'::regprocedure,
                   '\x0002b0d5d4e9400000000000000000010000000000000000000000000000000000000000000000018000223c00000000000000000000000000000000'::bytea)$$,
                 '22P03', NULL, 'customer_rfm state: a purchase day outside the timestamp range is rejected');

-- The entity store's compact rows (bigint and integer entities: a control
-- byte and fields of 1-4 bytes, or the long form, control byte 0x33 and
-- varints; checked as the final function reads them).  A state of one
-- integer entity with three rows; the store starts at its magic number
-- "EST6", then 24 bytes of header, a byte saying where the rows are (0:
-- here), 256 partitions' row and byte counts (16 bytes each), then the
-- rows: the first in the long form (0x33, zigzag 14 = entity 7, a byte 1
-- and the 8 bytes of its time, its steps), the other two short.
CREATE TEMP TABLE es_state AS
SELECT b, position('\x45535436'::bytea IN b) - 1 AS m   -- 0-based offset of the store
FROM (SELECT fuzz.cap_funnel_entities('1 day', '', 7, ts, c1, c2)
      FROM (VALUES (timestamptz '2024-01-01 10:00+00', true, false),
                   ('2024-01-01 10:05+00', false, true),
                   ('2024-01-01 10:06+00', true, true)) v(ts, c1, c2)) s(b);
CREATE TEMP TABLE es_part AS   -- the one partition with rows: the offset of its count
SELECT m + 25 + 16 * i AS pc FROM es_state, generate_series(0, 255) i
WHERE substring(b FROM m + 25 + 16 * i + 1 FOR 8) <> '\x0000000000000000'::bytea;
SELECT is((SELECT count(*) FROM es_part), 1::bigint, 'entity store state: one partition holds the rows');
SELECT is(fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, b),
          '{1,1}', 'entity store state: the valid state answers')
FROM es_state;
-- the first row's key (zigzag 14 = entity 7) becomes entity 63: another partition
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(b, m + 25 + 4096 + 1, 126)),
                 '22P03', 'invalid aggregate state', 'entity store state: a row in the wrong partition is rejected')
FROM es_state;
-- the first row's time tag (1: a whole time follows) becomes 9, which is no tag
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(b, m + 25 + 4096 + 2, 9)),
                 '22P03', 'invalid aggregate state', 'entity store state: an invalid time tag is rejected')
FROM es_state;
-- eleven bytes of 0xff: a varint of more than 64 bits
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        overlay(b PLACING '\xffffffffffffffffffffff'::bytea FROM m + 25 + 4096 + 2)),
                 '22P03', 'invalid aggregate state', 'entity store state: an overlong number is rejected')
FROM es_state;
-- the first row's control byte 0x33 (the long form) becomes 0x37: unit 3
-- (one step said by the control byte) with a 4-byte key, which no row has
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(b, m + 25 + 4096, 55)),
                 '22P03', 'invalid aggregate state', 'entity store state: an invalid control byte is rejected')
FROM es_state;
-- the last row (a short one) cut by a byte: its partition's byte count and
-- the rows one byte shorter
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        substring(set_byte(b, pc + 15, get_byte(b, pc + 15) - 1) FROM 1 FOR length(b) - 1)),
                 '22P03', 'invalid aggregate state', 'entity store state: a row cut short is rejected')
FROM es_state, es_part;
-- the rows said to be in the shared memory of a parallel query (as a
-- parallel worker sends them to the leader): outside one, rejected
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(b, m + 24, 1)),
                 '22P03', 'invalid aggregate state', 'entity store state: rows in shared memory outside a parallel query are rejected')
FROM es_state;
-- neither here nor in shared memory
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(b, m + 24, 2)),
                 '22P03', 'invalid aggregate state', 'entity store state: rows said to be elsewhere are rejected')
FROM es_state;
-- one more row counted in the partition and in the header than there are
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        set_byte(set_byte(b, pc + 7, get_byte(b, pc + 7) + 1), m + 23, get_byte(b, m + 23) + 1)),
                 '22P03', 'invalid aggregate state', 'entity store state: a row count above the rows is rejected')
FROM es_state, es_part;

-- entities walked early (a partial aggregate over whole entities sends their
-- levels, test/partitionwise_walk.sh): the flag byte before the store, then
-- 65 counts by level 0..64.  5 more entities at level 1 than the state's one
-- at level 2: stage counts {1 + 5, 1}
CREATE TEMP TABLE es_levels AS
SELECT substring(b FROM 1 FOR m - 1) AS head, substring(b FROM m + 1) AS store,
       '\x0000000000000000'::bytea || '\x0000000000000005'::bytea || decode(repeat('00', 8 * 63), 'hex') AS levels
FROM es_state;
SELECT is(fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure,
                           head || '\x01'::bytea || levels || store),
          '{6,1}', 'entity state with levels: walked entities are counted with the rows')
FROM es_levels;
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        head || '\x02'::bytea || store),
                 '22P03', 'invalid aggregate state', 'entity state: a levels flag other than 0 or 1 is rejected')
FROM es_levels;
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        head || '\x01'::bytea || '\xffffffffffffffff'::bytea || substring(levels FROM 9) || store),
                 '22P03', 'invalid aggregate state', 'entity state: a negative level count is rejected')
FROM es_levels;
-- funnel_trends needs every entity's rows: walked entities are refused
SELECT throws_ok(format($$SELECT fuzz.check_state('funnel_trends(interval,text,anyelement,timestamptz,boolean[])'::regprocedure, %L)$$,
                        substring(b FROM 1 FOR m - 1) || '\x01'::bytea || levels || substring(b FROM m + 1)),
                 '22P03', 'invalid aggregate state', 'entity state with levels: funnel_trends refuses it')
FROM (SELECT b, position('\x45535436'::bytea IN b) - 1 AS m
      FROM (SELECT fuzz.cap_funnel_entities('1 day', 'bucket day', 7, ts, c1, c2)
            FROM (VALUES (timestamptz '2024-01-01 10:00+00', true, false)) v(ts, c1, c2)) s(b)) t, es_levels;

-- time_to_convert's state (format 2: a 1-day window, 3 steps, flag 1 =
-- times wanted, options 0x02 = any order): any-order funnels have no times
-- to convert, refused when the first row is read, so such a state is not
-- one the extension makes (it reached the walk's 0A000 error)
SELECT throws_ok($$SELECT fuzz.check_state('time_to_convert(interval,text,integer,timestamptz,boolean[])'::regprocedure,
                   '\x02000000141dd76000030001000000000000000000000002040000000000000000000000000000020000000b80908bdfafbcd802010006'::bytea)$$,
                 '22P03', 'invalid aggregate state', 'time_to_convert state: times wanted of an any-order funnel are rejected');

-- funnel_trends over journeys: a period whose entries below the top step
-- are 0x4100000000000000; the state combined with itself passed 2^63 (UBSan
-- with -fno-wrapv reported it; with -fwrapv a negative count), an error now
SELECT throws_ok($$SELECT fuzz.check_state('funnel_trends(interval,text,funnel_event[])'::regprocedure,
                   '\x0102000000141dd7600040000200000000000000000000000000000000000000000000020003000000040002b0d5d4e940000002b0e9f2c0a00000000000000000010000000000000001000000000000000100000000000000000002b0e9f2c0a0000002b0fe10980000000000000000000100000000000000010000000000e9000100000000000000000002b0fe109800000002b1122e6f600000000000000000000000000000000000000000000000000000000000000000010002b58cd363c0000002b5a0f13b20000000000000000001000000000000000000000000000000004100000000000000'::bytea)$$,
                 '22003', NULL, 'funnel_trends state: merging entry counts past 2^63 is an error');

-- funnel_breakdown over journeys: an entity count of 0x7FF8000000000000 at
-- a level; the state combined with itself passed 2^63 (UBSan with
-- -fno-wrapv reported it; with -fwrapv a negative count), an error now
SELECT throws_ok($$SELECT fuzz.check_state('funnel_breakdown(interval,text,text,funnel_event[])'::regprocedure,
                   '\x0102000000141dd7600040000200000000000000000000000000000000000000000200000000000000000000070000000200000002763100000002763000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000007ff80000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea)$$,
                 '22003', NULL, 'funnel_breakdown state: merging entity counts past 2^63 is an error');

SELECT * FROM finish();
ROLLBACK;
