-- One SQLSTATE per condition across the extension (doc/errors.md): the same
-- mistake made through different functions gives the same code, and,
-- where the condition is the same, the same message.  Before 1.1 a step out
-- of range was 22003 in funnel_event and 22023 in funnel_time_percentile, a
-- funnel without steps was 54000, a NULL stage count 22004 in
-- funnel_conversion but 22023 in funnel_cost_report.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(62);
SET LOCAL timezone = 'UTC';
SET LOCAL datestyle = 'ISO, YMD';

-- The error a statement raises, as 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE sql AS $$
  SELECT split_part(pg_temp.error_of(q), ':', 1)
$$;

CREATE TEMP TABLE ev (e int, ts timestamptz, name text);
INSERT INTO ev VALUES (1, '2024-01-01 10:00', 'a'), (1, '2024-01-01 10:05', 'b');
CREATE TEMP TABLE sums AS
  SELECT funnel_summary('1 hour', e, ts, name = 'a', name = 'b') AS s FROM ev;
CREATE TEMP TABLE attr AS
  SELECT attribution('linear', e, ts, name, CASE WHEN name = 'b' THEN 1 END) AS a FROM ev;

-- ---------------------------------------------------------------------------
-- a step number outside the funnel's steps: 22003 everywhere
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE step_out_of_range (what text, q text);
INSERT INTO step_out_of_range VALUES
  ('funnel_event text', $$SELECT '2024-03-01 {65}'::funnel_event$$),
  ('funnel_event constructor', $$SELECT funnel_event('2024-03-01', 0)$$),
  ('time_to_convert to_step', $$SELECT time_to_convert('1 hour', '', 3, ts, true, true) FROM ev$$),
  ('time_to_convert journey to_step', $$SELECT time_to_convert('1 hour', ARRAY['2024-01-01 10:00+00 {1}'::funnel_event], '', 65)$$),
  ('funnel level', $$SELECT funnel_stage_counts(l, 3) FROM unnest(ARRAY[4]) l$$),
  ('funnel_time_percentile step', $$SELECT funnel_time_percentile(s, 3, 0.5) FROM sums$$),
  ('funnel_time_percentile step 0', $$SELECT funnel_time_percentile(s, 0, 0.5) FROM sums$$);
SELECT set_eq($$SELECT DISTINCT pg_temp.sqlstate_of(q) FROM step_out_of_range$$, ARRAY['22003'],
              'a step or level out of range is 22003 in every function');
SELECT is(pg_temp.error_of($$SELECT funnel_time_percentile(s, 3, 0.5) FROM sums$$),
          '22003: step 3 is out of range', 'funnel_time_percentile: step out of range is 22003 (was 22023)');

-- a percentile fraction outside 0..1: the code of PostgreSQL's percentile_cont
SELECT is(pg_temp.sqlstate_of($$SELECT funnel_time_percentile(s, 2, 1.5) FROM sums$$),
          pg_temp.sqlstate_of($$SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x)$$),
          'a percentile fraction out of range has percentile_cont''s SQLSTATE');
SELECT is(pg_temp.sqlstate_of($$SELECT funnel_time_percentile(s, 2, 'NaN') FROM sums$$), '22003',
          'a NaN percentile fraction is 22003');

-- ---------------------------------------------------------------------------
-- no step at all: an invalid argument (22023), not a program limit
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE no_step (what text, q text);
INSERT INTO no_step VALUES
  ('window_funnel conditions', $$SELECT window_funnel('1 h', ts, VARIADIC '{}'::boolean[]) FROM ev$$),
  ('window_funnel names', $$SELECT window_funnel('1 h', ts, name, '{}'::text[]) FROM ev$$),
  ('funnel_stage_counts names', $$SELECT funnel_stage_counts('1 hour', e, ts, name, '{}'::text[]) FROM ev$$),
  ('funnel_conversion levels', $$SELECT funnel_conversion(l, 0) FROM unnest(ARRAY[0]) l$$),
  ('funnel_summary conditions', $$SELECT funnel_summary('1 hour', e, ts, VARIADIC '{}'::boolean[]) FROM ev$$);
SELECT set_eq($$SELECT DISTINCT pg_temp.error_of(q) FROM no_step$$,
              ARRAY['22023: a funnel must have at least one step'],
              'a funnel without steps is 22023 with one message everywhere');
SELECT is(pg_temp.error_of($$SELECT retention(VARIADIC '{}'::boolean[])$$),
          '22023: at least one retention condition is required', 'retention without conditions is 22023');

-- ---------------------------------------------------------------------------
-- more steps than the implementation holds: 54000 everywhere
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE too_many (what text, q text);
INSERT INTO too_many VALUES
  ('window_funnel conditions', $$SELECT window_funnel('1 h', ts, VARIADIC array_fill(true, ARRAY[65])) FROM ev$$),
  ('funnel_event constructor', $$SELECT funnel_event(now(), VARIADIC array_fill(true, ARRAY[65]))$$),
  ('funnel_stage_counts levels', $$SELECT funnel_stage_counts(l, 65) FROM unnest(ARRAY[0]) l$$),
  ('funnel_conversion counts', $$SELECT funnel_conversion(array_fill(1::bigint, ARRAY[65]))$$),
  ('funnel_summary names', $$SELECT funnel_summary('1 hour', e, ts, name, ARRAY(SELECT g::text FROM generate_series(1, 65) g)) FROM ev$$);
SELECT set_eq($$SELECT DISTINCT pg_temp.error_of(q) FROM too_many$$,
              ARRAY['54000: a funnel cannot have more than 64 steps'],
              'more than 64 steps is 54000 with one message everywhere');
SELECT is(pg_temp.sqlstate_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[33]))$$), '54000',
          'retention with more than 32 conditions is 54000, like a funnel with more than 64 steps');

-- ---------------------------------------------------------------------------
-- stage counts given as an array: the C and PL/pgSQL functions agree
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{5,NULL,1}', 10)$$),
          pg_temp.error_of($$SELECT funnel_conversion('{5,NULL,1}'::bigint[])$$),
          'a NULL stage count: same code and message in funnel_cost_report and funnel_conversion');
SELECT is(pg_temp.sqlstate_of($$SELECT * FROM funnel_cost_report('{5,NULL,1}', 10)$$), '22004',
          'funnel_cost_report: a NULL stage count is 22004 (was 22023)');
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{5,3,-2}', 10)$$),
          pg_temp.error_of($$SELECT funnel_conversion('{5,3,-2}'::bigint[])$$),
          'a negative stage count: same code and message');
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{5,3,-2}', 10)$$),
          '22023: stage count -2 at step 3 is negative', 'and the message names the count and the step');
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{{5,3},{2,1}}', 10)$$),
          pg_temp.error_of($$SELECT funnel_conversion('{{5,3},{2,1}}'::bigint[])$$),
          'a 2-D stage count array: same code and message');
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{10,5}', 100, '{a}')$$),
          '22023: 1 step names given for a funnel of 2 steps',
          'funnel_cost_report: too few step names, in the words of funnel_report');
SELECT is(pg_temp.error_of($$SELECT * FROM sums, funnel_report(s, ARRAY['a'])$$),
          '22023: 1 step names given for a funnel of 2 steps',
          'funnel_report: too few step names');

-- ---------------------------------------------------------------------------
-- a chart width out of range: the same condition in C and PL/pgSQL
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.error_of($$SELECT funnel_chart(s, NULL, 20) FROM sums$$),
          '22023: chart width 20 is out of range', 'funnel_chart: width out of range');
SELECT is(pg_temp.error_of($$SELECT * FROM attribution_bar_chart(ARRAY[(SELECT a FROM attr)], 1001)$$),
          '22023: chart width 1001 is out of range', 'attribution_bar_chart: width out of range');

-- ---------------------------------------------------------------------------
-- unrecognized names: 22023, "unrecognized"
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE unrecognized (what text, q text);
INSERT INTO unrecognized VALUES
  ('funnel mode', $$SELECT window_funnel('1 h', 'sometimes', ts, true) FROM ev$$),
  ('attribution model', $$SELECT attribution('U-shaped', 1, now(), 'a', NULL)$$),
  ('cohort period', $$SELECT cohort_retention(e, ts, 'fortnight') FROM ev$$),
  ('pipeline stage', $$SELECT * FROM pipeline_forecast((SELECT pipeline_model(e, ts, name, ARRAY['b']) FROM ev), 'proposal', 3)$$);
SELECT set_eq($$SELECT DISTINCT pg_temp.sqlstate_of(q) FROM unrecognized$$, ARRAY['22023'],
              'an unrecognized name is 22023');
SELECT is((SELECT count(*) FROM unrecognized WHERE pg_temp.error_of(q) NOT LIKE '22023: unrecognized %'), 0::bigint,
          'and its message says "unrecognized"');

-- ---------------------------------------------------------------------------
-- no message starts with the name of one of our functions
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE user_errors (q text);
INSERT INTO user_errors
  SELECT q FROM step_out_of_range UNION ALL SELECT q FROM no_step
  UNION ALL SELECT q FROM too_many UNION ALL SELECT q FROM unrecognized;
INSERT INTO user_errors VALUES
  ($$SELECT funnel_chart(s, ARRAY['a', NULL]) FROM sums$$),
  ($$SELECT funnel_chart(s, NULL, NULL) FROM sums$$),
  ($$SELECT funnel_svg(s, ARRAY[['a'], ['b']]) FROM sums$$),
  ($$SELECT * FROM funnel_cost_report('{10,5}', -1)$$),
  ($$SELECT cac_payback_months(-1, 10, 0.5)$$),
  ($$SELECT cac_payback_months(1, -10, 0.5)$$),
  ($$SELECT cac_payback_months(1, 10, 1.5)$$),
  ($$SELECT * FROM attribution_bar_chart(ARRAY[(SELECT a FROM attr)], 0)$$),
  ($$SELECT attribution_svg(ARRAY[]::attribution_summary[])$$),
  ($$SELECT retention(VARIADIC NULL::boolean[])$$),
  ($$SELECT retention(VARIADIC '{{true},{false}}'::boolean[])$$),
  ($$SELECT retention(VARIADIC CASE WHEN e = 1 THEN ARRAY[true] ELSE ARRAY[true, false] END) FROM (VALUES (1), (2)) v(e)$$),
  ($$SELECT cohort_retention(e, ts, p) FROM ev, (VALUES ('month'), ('week')) v(p)$$),
  ($$SELECT customer_rfm(ts, 1, NULL) FROM ev$$),
  ($$SELECT customer_rfm(ts, 1, '2024-02-01', NULL) FROM ev$$),
  ($$SELECT customer_rfm(ts, 1, '2024-02-01', u) FROM ev, (VALUES ('1 day'::interval), ('2 days')) v(u)$$),
  ($$SELECT customer_rfm(ts, 1, '2023-01-01') FROM ev$$),
  ($$SELECT sbg_fit('{{1000,900}}')$$),
  ($$SELECT sbg_fit('{1000,NULL,800}')$$),
  ($$SELECT sbg_fit('{0,0,0}')$$),
  ($$SELECT sbg_fit('{1000,900,950}')$$),
  ($$SELECT ltv(e, ts, 1, NULL) FROM ev$$),
  ($$SELECT ltv(e, ts, 1, '1 year', NULL) FROM ev$$),
  ($$SELECT pipeline_model(e, ts, name, NULL) FROM ev$$),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[]::text[]) FROM ev$$),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[NULL]::text[]) FROM ev$$),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[['b']]) FROM ev$$);
SELECT is((SELECT count(*) FROM user_errors WHERE pg_temp.error_of(q) = 'no error'), 0::bigint,
          'every statement of the list fails');
SELECT is((SELECT string_agg(DISTINCT m, ' | ')
             FROM (SELECT substr(pg_temp.error_of(q), 8) AS m FROM user_errors) e
             JOIN pg_proc p ON m LIKE p.proname || ':%' OR m LIKE p.proname || ' %'
            WHERE p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'funnel')),
          NULL, 'no message starts with the name of a funnel function');

-- ---------------------------------------------------------------------------
-- the PL/pgSQL functions' messages
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.error_of($$SELECT cac_payback_months(1, 10, 1.5)$$),
          '22023: gross_margin must be a fraction between 0 and 1, not 1.5', 'cac_payback_months: gross margin');
SELECT is(pg_temp.error_of($$SELECT attribution_svg(ARRAY[]::attribution_summary[])$$),
          '22023: at least one attribution summary is required', 'attribution_svg: no summary');
SELECT is(pg_temp.error_of($$SELECT * FROM funnel_cost_report('{10,5}', -1)$$),
          '22023: spend must be a finite non-negative amount, not -1', 'funnel_cost_report: negative spend');

-- ---------------------------------------------------------------------------
-- every message changed in 1.1 that SQL can reach, as doc/errors.md gives it
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END $$;
CREATE TEMP TABLE changed (q text, want text);
INSERT INTO changed VALUES
  ($$SELECT funnel_chart(s, ARRAY['a', NULL]) FROM sums$$, '22004: the name of step 2 must not be NULL'),
  ($$SELECT funnel_chart(s, NULL, NULL) FROM sums$$, '22004: chart width must not be NULL'),
  ($$SELECT funnel_svg(s, ARRAY[['a'], ['b']]) FROM sums$$, '2202E: step names must be a one-dimensional array'),
  ($$SELECT cac_payback_months(-1, 10, 0.5)$$, '22023: cac must be a finite non-negative amount, not -1'),
  ($$SELECT cac_payback_months(1, -10, 0.5)$$, '22023: monthly revenue per customer must be a finite non-negative amount, not -10'),
  ($$SELECT retention(VARIADIC NULL::boolean[])$$, '22004: conditions must not be a NULL array'),
  ($$SELECT retention(VARIADIC '{{true},{false}}'::boolean[])$$, '2202E: conditions must be a one-dimensional array'),
  ($$SELECT retention(VARIADIC CASE WHEN e = 1 THEN ARRAY[true] ELSE ARRAY[true, false] END) FROM (VALUES (1), (2)) v(e)$$,
   '22023: number of retention conditions differs between rows of one group (1 and 2)'),
  ($$SELECT cohort_retention(e, ts, p) FROM ev, (VALUES ('month'), ('week')) v(p)$$,
   '22023: cohort period and periods must be the same for every row of a group'),
  ($$SELECT cohort_retention(e, ts, 'fortnight') FROM ev$$, '22023: unrecognized cohort period "fortnight"'),
  ($$SELECT customer_rfm(ts, 1, NULL) FROM ev$$, '22004: observation_end must not be NULL'),
  ($$SELECT customer_rfm(ts, 1, '2024-02-01', NULL) FROM ev$$, '22004: time_unit must not be NULL'),
  ($$SELECT customer_rfm(ts, 1, '2024-02-01', u) FROM ev, (VALUES ('1 day'::interval), ('2 days')) v(u)$$,
   '22023: time_unit must be the same for every row of a group'),
  ($$SELECT customer_rfm(ts, 1, '2024-02-01', '-1 day') FROM ev$$, '22023: time_unit must be a positive interval'),
  ($$SELECT customer_rfm(ts, 1, '2023-01-01') FROM ev$$,
   '22023: observation end 2023-01-01 00:00:00+00 is before the customer''s first purchase'),
  ($$SELECT sbg_fit('{{1000,900}}')$$, '2202E: survivor counts must be a one-dimensional array'),
  ($$SELECT sbg_fit('{1000,NULL,800}')$$, '22004: survivor count 2 must not be NULL'),
  ($$SELECT sbg_fit('{1000}')$$, '22023: sBG fit needs the cohort size and at least one later survivor count'),
  ($$SELECT sbg_fit('{0,0,0}')$$, '22023: cohort size (the first survivor count) must be positive, not 0'),
  ($$SELECT sbg_fit('{1000,900,950}')$$, '22023: survivor counts must not be negative or increase'),
  ($$SELECT sbg_expected_remaining_lifetime(ROW(1, 1, 0, 2, 1000)::sbg_model, 1, 1e-9)$$,
   '22003: discount rate 1e-09 is too small to sum the expected remaining lifetime'),
  ($$SELECT ltv(e, ts, 1, NULL) FROM ev$$, '22004: horizon must not be NULL'),
  ($$SELECT ltv(e, ts, 1, '1 year', NULL) FROM ev$$, '22004: discount_rate must not be NULL'),
  ($$SELECT ltv(e, ts, 1, '-1 day') FROM ev$$, '22023: horizon must be a positive interval'),
  ($$SELECT ltv(e, ts, 1, '2000 years') FROM ev$$, '22023: horizon must be between 0 and 12000 months, not 24000'),
  ($$SELECT ltv(e, ts, 1, h) FROM ev, (VALUES ('1 year'::interval), ('2 years')) v(h)$$,
   '22023: horizon and discount_rate must be the same for every row of a group'),
  ($$SELECT pipeline_model(e, ts, name, NULL) FROM ev$$, '22004: terminal stages must not be NULL'),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[]::text[]) FROM ev$$, '22023: at least one terminal stage is required'),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[NULL]::text[]) FROM ev$$, '22004: terminal stages must not contain NULL'),
  ($$SELECT pipeline_model(e, ts, name, ARRAY[['b']]) FROM ev$$, '2202E: terminal stages must be a one-dimensional array'),
  ($$SELECT pipeline_model(1, now(), 's' || g, ARRAY['won']) FROM generate_series(1, 1001) g$$,
   '54000: a pipeline model cannot have more than 1000 stages'),
  ($$SELECT pipeline_model(1, now(), 'a', ARRAY(SELECT 's' || g FROM generate_series(1, 1001) g))$$,
   '54000: a pipeline model cannot have more than 1000 stages'),
  ($$SELECT attribution('U-shaped', 1, now(), 'a', NULL)$$, '22023: unrecognized attribution model "U-shaped"');
SELECT is(pg_temp.error_of(q), want, q) FROM changed;

SELECT is(pg_temp.detail_of($$SELECT sbg_fit('{1000}')$$), '1 survivor count was given.', 'sBG: the count given, as DETAIL');
SELECT is(pg_temp.detail_of($$SELECT sbg_fit('{1000,900,950}')$$), 'Period 2 has 950 survivors after 900.',
          'sBG: the offending period, as DETAIL');
SELECT is(pg_temp.detail_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[33]))$$), '33 conditions were given.',
          'retention: the number of conditions, as DETAIL');
SELECT is(pg_temp.detail_of($$SELECT funnel_conversion(array_fill(1::bigint, ARRAY[65]))$$), '65 steps were given.',
          'funnel: the number of steps, as DETAIL');
SELECT is(pg_temp.detail_of($$SELECT * FROM attribution_bar_chart(ARRAY[(SELECT a FROM attr)], 0)$$),
          'The chart needs a width from 1 to 1000 characters.', 'attribution_bar_chart: the allowed widths, as DETAIL');

SELECT * FROM finish();
ROLLBACK;
