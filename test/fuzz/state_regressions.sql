-- Deserialise findings of the fuzzer, reduced to one case each (pgTAP).
-- Needs the test-only fuzz.check_state aggregate (funnel_fuzz.c), so it runs
-- in the fuzzer's cluster: test/fuzz.sh runs it before fuzzing, as the
-- fuzzer's plain role.  fuzz.check_state deserialises the bytes with the
-- named aggregate's deserialise function, runs its final function and
-- combines the state with itself.
BEGIN;
SELECT plan(7);

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

SELECT * FROM finish();
ROLLBACK;
