-- Every user error of funnel_event and window_funnel: SQLSTATE, message,
-- and the detail or hint where it carries the allowed values.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(75);

SET LOCAL timezone = 'UTC';

-- the detail and hint of the error a statement raises
CREATE FUNCTION pg_temp.error_of(q text, OUT state text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
END $$;

CREATE TEMP TABLE ev (u int, ts timestamptz, e text);
INSERT INTO ev VALUES (1, '2024-03-01 00:00+00', 'a'), (1, '2024-03-01 00:01+00', 'b'),
                      (2, '2024-03-01 00:00+00', 'a');

-- ---------- funnel_event text input: 22P02 naming the bad part ----------
SELECT throws_ok($$ SELECT 'garbage'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "garbage"', 'text without braces');
SELECT is((pg_temp.error_of($$ SELECT 'garbage'::funnel_event $$)).detail,
    'Missing the step set in braces after the timestamp, as in "2024-03-01 09:30:00+00 {1,3}".',
    'detail: missing step set');
SELECT throws_ok($$ SELECT ' {1}'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: " {1}"', 'no timestamp');
SELECT is((pg_temp.error_of($$ SELECT ' {1}'::funnel_event $$)).detail,
    'Missing the timestamp before the step set.', 'detail: missing timestamp');
SELECT throws_ok($$ SELECT 'yesterday-ish {1}'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "yesterday-ish {1}"', 'bad timestamp');
SELECT matches((pg_temp.error_of($$ SELECT 'yesterday-ish {1}'::funnel_event $$)).detail,
    '^The timestamp "yesterday-ish " is not valid: ', 'detail names the bad timestamp');
SELECT throws_ok($$ SELECT '2024-03-01 {1'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "2024-03-01 {1"', 'unterminated step set');
SELECT is((pg_temp.error_of($$ SELECT '2024-03-01 {1'::funnel_event $$)).detail,
    'Expected "," or "}" at "end of input".', 'detail: unterminated');
SELECT throws_ok($$ SELECT '2024-03-01 {a}'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "2024-03-01 {a}"', 'step that is not a number');
SELECT is((pg_temp.error_of($$ SELECT '2024-03-01 {a}'::funnel_event $$)).detail,
    'Expected a step number at "a}".', 'detail: not a number');
SELECT throws_ok($$ SELECT '2024-03-01 {1,}'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "2024-03-01 {1,}"', 'trailing comma');
SELECT throws_ok($$ SELECT '2024-03-01 {1 2}'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "2024-03-01 {1 2}"', 'missing comma');
SELECT throws_ok($$ SELECT '2024-03-01 {1} x'::funnel_event $$, '22P02',
    'invalid input syntax for type funnel_event: "2024-03-01 {1} x"', 'text after the step set');
SELECT is((pg_temp.error_of($$ SELECT '2024-03-01 {1} x'::funnel_event $$)).detail,
    'Unexpected "x" after the step set.', 'detail: trailing text');

-- ---------- steps outside 1..64: 22003 ----------
SELECT throws_ok($$ SELECT '2024-03-01 {65}'::funnel_event $$, '22003',
    'funnel step 65 is out of range', 'text step 65');
SELECT is((pg_temp.error_of($$ SELECT '2024-03-01 {65}'::funnel_event $$)).detail,
    'Steps are numbered from 1 to 64.', 'detail: allowed steps');
SELECT throws_ok($$ SELECT '2024-03-01 {0}'::funnel_event $$, '22003',
    'funnel step 0 is out of range', 'text step 0');
SELECT throws_ok($$ SELECT '2024-03-01 {-1}'::funnel_event $$, '22003',
    'funnel step -1 is out of range', 'text step -1');
SELECT throws_ok($$ SELECT '2024-03-01 {99999999999999999999999}'::funnel_event $$, '22003',
    NULL, 'text step beyond any integer');
SELECT throws_ok($$ SELECT funnel_event('2024-03-01', 0) $$, '22003',
    'funnel step 0 is out of range', 'constructor step 0');
SELECT throws_ok($$ SELECT funnel_event('2024-03-01', 65) $$, '22003',
    'funnel step 65 is out of range', 'constructor step 65');

-- ---------- infinite timestamps: 22008 ----------
SELECT throws_ok($$ SELECT 'infinity {1}'::funnel_event $$, '22008',
    'funnel events cannot have an infinite timestamp', 'text infinity');
SELECT throws_ok($$ SELECT '-infinity {1}'::funnel_event $$, '22008',
    'funnel events cannot have an infinite timestamp', 'text -infinity');
SELECT throws_ok($$ SELECT funnel_event('infinity', 1) $$, '22008',
    'funnel events cannot have an infinite timestamp', 'constructor (step) infinity');
SELECT throws_ok($$ SELECT funnel_event('-infinity', true) $$, '22008',
    'funnel events cannot have an infinite timestamp', 'constructor (conditions) -infinity');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'infinity'::timestamptz, true) $$, '22008',
    'funnel events cannot have an infinite timestamp', 'aggregate (conditions) infinity');
SELECT throws_ok($$ SELECT window_funnel('1 h', '-infinity'::timestamptz, 'a'::text, '{a}'::text[]) $$, '22008',
    'funnel events cannot have an infinite timestamp', 'aggregate (names) -infinity');
SELECT is((pg_temp.error_of($$ SELECT 'infinity {1}'::funnel_event $$)).hint,
    'Use a finite timestamp, or leave such rows out with WHERE ts <> ''infinity''.', 'hint: infinite');

-- ---------- window: negative 22023, NULL 22004, too large 22008 ----------
SELECT throws_ok($$ SELECT window_funnel('-1 s', ts, e = 'a') FROM ev $$, '22023',
    'funnel window must not be negative', 'negative window (aggregate)');
SELECT throws_ok($$ SELECT window_funnel('1 day -25 hours', ts, e = 'a') FROM ev $$, '22023',
    'funnel window must not be negative', 'window negative in total');
SELECT throws_ok($$ SELECT window_funnel('-1 s', ARRAY['2024-03-01 {1}'::funnel_event]) $$, '22023',
    'funnel window must not be negative', 'negative window (journey)');
SELECT throws_ok($$ SELECT window_funnel(NULL::interval, ts, e = 'a') FROM ev $$, '22004',
    'funnel window must not be NULL', 'NULL window (conditions)');
SELECT throws_ok($$ SELECT window_funnel(NULL::interval, funnel_event(ts, 1)) FROM ev $$, '22004',
    'funnel window must not be NULL', 'NULL window (funnel_event)');
SELECT throws_ok($$ SELECT window_funnel(NULL::interval, ts, e, '{a}'::text[]) FROM ev $$, '22004',
    'funnel window must not be NULL', 'NULL window (names)');
SELECT throws_ok($$ SELECT window_funnel('178000000 years', ts, e = 'a') FROM ev $$, '22008',
    'funnel window is out of range', 'window too large for microseconds');

-- ---------- mode ----------
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict_ordr', ts, e = 'a') FROM ev $$, '22023',
    'unrecognized funnel mode "strict_ordr"', 'unknown mode named');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict_order, bogus ', ts, e = 'a') FROM ev $$, '22023',
    'unrecognized funnel mode "bogus"', 'unknown mode in a list, named without its spaces');
SELECT is((pg_temp.error_of($$ SELECT window_funnel('1 h', 'bogus', ts, e = 'a') FROM ev $$)).hint,
    'Allowed modes are: strict_deduplication, strict_order, strict_increase, strict_once, allow_reentry.',
    'hint lists the modes');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'Strict_Order', ts, e = 'a') FROM ev $$, '22023',
    'unrecognized funnel mode "Strict_Order"', 'mode names are case-sensitive');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict', ts, e = 'a') FROM ev $$, '22023',
    'funnel mode "strict" is no longer supported', 'old name strict');
SELECT is((pg_temp.error_of($$ SELECT window_funnel('1 h', 'strict', ts, e = 'a') FROM ev $$)).hint,
    'Use "strict_deduplication", its new name.', 'hint for strict');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'allow_reentry', ts, e = 'a') FROM ev $$, '22023',
    'funnel mode "allow_reentry" requires "strict_order"', 'allow_reentry alone');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'allow_reentry,strict_once', ts, e = 'a') FROM ev $$, '22023',
    'funnel mode "allow_reentry" requires "strict_order"', 'allow_reentry without strict_order');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict_order,', ts, e = 'a') FROM ev $$, '22023',
    'empty name in funnel mode "strict_order,"', 'trailing comma in mode');
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict_order,,strict_once', ts, e = 'a') FROM ev $$, '22023',
    'empty name in funnel mode "strict_order,,strict_once"', 'empty name in mode');
SELECT throws_ok($$ SELECT window_funnel('1 h', NULL::text, ts, e = 'a') FROM ev $$, '22004',
    'funnel mode must not be NULL', 'NULL mode (conditions)');
SELECT throws_ok($$ SELECT window_funnel('1 h', NULL::text, funnel_event(ts, 1)) FROM ev $$, '22004',
    'funnel mode must not be NULL', 'NULL mode (funnel_event)');
SELECT throws_ok($$ SELECT window_funnel('1 h', NULL::text, ts, e, '{a}'::text[]) FROM ev $$, '22004',
    'funnel mode must not be NULL', 'NULL mode (names)');
SELECT is((pg_temp.error_of($$ SELECT window_funnel('1 h', NULL::text, ts, e = 'a') FROM ev $$)).hint,
    'Use '''' for the default mode.', 'hint for NULL mode');
SELECT throws_ok($$ SELECT window_funnel('1 h', ARRAY['2024-03-01 {1}'::funnel_event], 'strict') $$, '22023',
    'funnel mode "strict" is no longer supported', 'journey function checks the mode');
SELECT ok(window_funnel('1 h', ARRAY['2024-03-01 {1}'::funnel_event], NULL) IS NULL
          AND window_funnel(NULL, ARRAY['2024-03-01 {1}'::funnel_event]) IS NULL,
    'journey function: NULL window or mode gives NULL (STRICT)');

-- ---------- steps: none (22023), more than 64 (54000), NULL arrays (22004) ----------
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, VARIADIC array_fill(true, ARRAY[65])) FROM ev $$, '54000',
    'a funnel cannot have more than 64 steps', '65 conditions');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, VARIADIC '{}'::boolean[]) FROM ev $$, '22023',
    'a funnel must have at least one step', 'no condition');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, e, ARRAY(SELECT g::text FROM generate_series(1, 65) g)) FROM ev $$, '54000',
    'a funnel cannot have more than 64 steps', '65 step names');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, e, '{}'::text[]) FROM ev $$, '22023',
    'a funnel must have at least one step', 'no step name');
SELECT throws_ok($$ SELECT funnel_event(now(), VARIADIC array_fill(true, ARRAY[65])) $$, '54000',
    'a funnel cannot have more than 64 steps', 'constructor with 65 conditions');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, VARIADIC NULL::boolean[]) FROM ev $$, '22004',
    'funnel step conditions must not be a NULL array', 'NULL conditions array');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, e, NULL::text[]) FROM ev $$, '22004',
    'funnel step names must not be a NULL array', 'NULL names array');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, VARIADIC '{{true},{false}}'::boolean[]) FROM ev $$, '2202E',
    'funnel step conditions must be a one-dimensional array', '2-D conditions');
SELECT throws_ok($$ SELECT window_funnel('1 h', '{{"2024-03-01 {1}"}}'::funnel_event[]) $$, '2202E',
    'a funnel journey must be a one-dimensional array', '2-D journey');

-- ---------- rows of one group must agree: 22023 ----------
SELECT throws_ok($$ SELECT window_funnel(CASE WHEN e = 'a' THEN interval '1 h' ELSE '2 h' END, ts, e = 'a') FROM ev $$,
    '22023', 'funnel window differs between rows of one group', 'window differs');
SELECT throws_ok($$ SELECT window_funnel('1 h', CASE WHEN e = 'a' THEN '' ELSE 'strict_order' END, ts, e = 'a') FROM ev $$,
    '22023', 'funnel mode differs between rows of one group', 'mode differs');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, VARIADIC CASE WHEN e = 'a' THEN ARRAY[true, false] ELSE ARRAY[true, false, false] END) FROM ev $$,
    '22023', 'funnel step count differs between rows of one group (2 and 3)', 'step count differs');
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, e, CASE WHEN e = 'a' THEN '{a,b}'::text[] ELSE '{a,c}' END) FROM ev $$,
    '22023', 'funnel step names differ between rows of one group', 'step names differ');
SELECT lives_ok($$ SELECT u, window_funnel(CASE u WHEN 1 THEN interval '1 h' ELSE '2 h' END,
                                           CASE u WHEN 1 THEN '' ELSE 'strict_order' END, ts, e = 'a', e = 'b')
                   FROM ev GROUP BY u $$,
    'window and mode may differ between groups');
SELECT is((SELECT array_agg(l ORDER BY u) FROM (
              SELECT u, window_funnel('1 h', CASE u WHEN 1 THEN 'strict_order' ELSE '' END, ts, e = 'a', e = 'b') AS l
              FROM ev GROUP BY u) s), ARRAY[2, 1],
    'each group keeps its own mode (the parse cache does not leak between groups)');

-- ---------- names under a nondeterministic collation: 0A000 ----------
CREATE COLLATION pg_temp.nd (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT throws_ok($$ SELECT window_funnel('1 h', ts, e COLLATE pg_temp.nd, '{a}'::text[]) FROM ev $$, '0A000',
    'funnel step names cannot use a nondeterministic collation', 'nondeterministic collation');

-- ---------- funnel.max_state_memory: 54000 ----------
SELECT is(current_setting('funnel.max_state_memory'), '1GB', 'funnel.max_state_memory defaults to 1GB');
SELECT throws_ok($$ SET LOCAL funnel.max_state_memory = 10 $$, '22023',
    '10 kB is outside the valid range for parameter "funnel.max_state_memory" (64 .. 2147483647)',
    'funnel.max_state_memory is at least 64 kB');
SELECT throws_ok($$ SET LOCAL funnel.no_such_setting = 1 $$, '42602',
    'invalid configuration parameter name "funnel.no_such_setting"', 'the funnel. prefix is reserved');
SET LOCAL funnel.max_state_memory = 64;
-- (step 3 never happens: a completed default-mode funnel stops logging)
SELECT throws_ok($$ SELECT window_funnel('1 h', '2024-03-01'::timestamptz + g * interval '1 s', g % 2 = 0, g % 2 = 1, false)
                   FROM generate_series(1, 100000) g $$,
    '54000', 'aggregate state exceeds funnel.max_state_memory', 'state larger than the limit');
-- 3000 rows at one time, each matching steps 1-3: a small log, but 3000
-- chains at step 1
SELECT throws_ok($$ SELECT window_funnel('1 h', 'strict_once', '2024-03-01'::timestamptz, true, true, true)
                   FROM generate_series(1, 3000) g $$,
    '54000', 'aggregate state exceeds funnel.max_state_memory', 'strict_once chains larger than the limit');
RESET funnel.max_state_memory;
SELECT is(window_funnel('1 h', '2024-03-01'::timestamptz + g * interval '1 s', g % 2 = 0, g % 2 = 1), 2,
    'the same group fits under the default limit')
FROM generate_series(1, 100000) g;

-- ---------- long walks can be cancelled: 57014 ----------
-- a strict_once walk of a million-event journey stored newest first (sorted,
-- then walked: linear).  The whole call takes 60-180 ms on the test machine,
-- so the timeout is 10 ms: at 100 ms a quiet machine finished the walk first.
-- (throws_ok cannot catch a cancel: WHEN OTHERS does not include it)
CREATE TEMP TABLE long_journey AS
SELECT array_agg(funnel_event('2024-03-01'::timestamptz + g * interval '1 s', 1 + g % 3) ORDER BY g DESC) AS j
FROM generate_series(1, 1000000) g;
CREATE FUNCTION pg_temp.cancel_time(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN 'not cancelled';
EXCEPTION WHEN query_canceled THEN
    RETURN CASE WHEN clock_timestamp() - t0 < interval '3 s' THEN 'cancelled in time'
                ELSE 'cancelled after ' || (clock_timestamp() - t0) END;
END $$;
-- uncancelled, the walk's answer (hand-worked: t = 3 s is step 1, then 4 s
-- and 5 s steps 2 and 3)
SELECT is(window_funnel('100 years', j, 'strict_once'), 3,
    'a strict_once walk of a million events, stored newest first, reaches step 3')
FROM long_journey;
SET LOCAL statement_timeout = '10ms';
SELECT is(pg_temp.cancel_time($$ SELECT window_funnel('100 years', j, 'strict_once') FROM long_journey $$),
    'cancelled in time', 'a strict_once walk of a million events is cancelled by statement_timeout (57014)');
RESET statement_timeout;

SELECT * FROM finish();
ROLLBACK;
