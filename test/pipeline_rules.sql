-- pipeline_model rules checked against hand-worked chains: stages entered at
-- one timestamp (the caller's pipeline order, terminal stages last, never the
-- stage names), open stays in the mean time in stage (exponential stays
-- with censoring), stages passed through in 0 days in the period forecast,
-- and pipeline_report's 1.0 columns.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(18);

CREATE FUNCTION pg_temp.d(n numeric) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT timestamptz '2024-01-01 00:00+00' + n * interval '1 day' $$;
-- pipeline_report as sorted text, with the stage names mapped back through
-- a renaming (old name -> new name pairs in a jsonb object)
CREATE FUNCTION pg_temp.report(m pipeline_summary, renamed jsonb DEFAULT '{}') RETURNS text[] LANGUAGE sql AS $$
    WITH back AS (SELECT value AS new, key AS old FROM jsonb_each_text(renamed))
    SELECT array_agg(x ORDER BY x) FROM (
        SELECT coalesce(a.old, r.stage) || '>' || coalesce(b.old, r.next_stage) || ':' || r.n || ':'
               || round(r.mean_days_in_stage::numeric, 9) AS x
        FROM pipeline_report(m) AS r(stage, next_stage, n, p, mean_days_in_stage) LEFT JOIN back a ON a.new = r.stage LEFT JOIN back b ON b.new = r.next_stage) y $$;

-- Ties.  Day n = 2024-01-01 + n days.
--   deal 1: lead 0, {qualified, won} 2
--   deal 2: lead 0, {qualified, lost} 2
--   deal 3: lead 0, {lead, qualified} 1, won 3
--   deal 4: lead 0, {qualified, proposal} 1, won 4
-- With the pipeline order lead, qualified, proposal and the terminal stages
-- last, every deal passes through the stages in that order; a row that
-- repeats the deal's current stage (deal 3 at day 1) continues its stay:
--   lead -> qualified: deals 1-4, stays 2 + 2 + 1 + 1 = 6 days / 4 = 1.5
--   qualified -> won: deal 1 (0 days), deal 3 (2 days); -> lost: deal 2
--   (0 days); -> proposal: deal 4 (0 days): 4 stays, 2 days, mean 0.5
--   proposal -> won: deal 4, 3 days.
-- (Ordered by name, deal 2 went lead -> lost and deal 4 qualified ->
-- proposal only because "lost" < "qualified" and "proposal" < "qualified"
-- does not hold the other way round.)
CREATE TEMP TABLE ties (deal int, ts timestamptz, stage text);
INSERT INTO ties VALUES
    (1, pg_temp.d(0), 'lead'), (1, pg_temp.d(2), 'qualified'), (1, pg_temp.d(2), 'won'),
    (2, pg_temp.d(0), 'lead'), (2, pg_temp.d(2), 'qualified'), (2, pg_temp.d(2), 'lost'),
    (3, pg_temp.d(0), 'lead'), (3, pg_temp.d(1), 'lead'), (3, pg_temp.d(1), 'qualified'), (3, pg_temp.d(3), 'won'),
    (4, pg_temp.d(0), 'lead'), (4, pg_temp.d(1), 'qualified'), (4, pg_temp.d(1), 'proposal'), (4, pg_temp.d(4), 'won');
CREATE TEMP TABLE want AS SELECT ARRAY[
    'lead>qualified:4:' || round(1.5, 9), 'proposal>won:1:' || round(3.0, 9),
    'qualified>lost:1:' || round(0.5, 9), 'qualified>proposal:1:' || round(0.5, 9),
    'qualified>won:2:' || round(0.5, 9)] AS r;

SELECT is(pg_temp.report(pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal'])),
          (SELECT r FROM want), 'stages at one time: the pipeline order, terminal stages last')
FROM ties;
-- the same history under names that sort the other way round
CREATE TEMP TABLE renamed AS SELECT '{"lead": "z-lead", "qualified": "a-qualified", "proposal": "0-proposal",
                                      "won": "b-won", "lost": "0-lost"}'::jsonb AS map;
SELECT is(pg_temp.report(pipeline_model(deal, ts, map ->> stage, ARRAY[map ->> 'won', map ->> 'lost'],
                                        ARRAY[map ->> 'lead', map ->> 'qualified', map ->> 'proposal']), map),
          (SELECT r FROM want), 'renaming the stages does not change the model')
FROM ties, renamed GROUP BY map;
-- without a pipeline order the rules that need no order still hold: the
-- terminal stage last (deals 1, 2) and the current stage first (deal 3)
SELECT is(pg_temp.report(pipeline_model(deal, ts, map ->> stage, ARRAY[map ->> 'won', map ->> 'lost']), map),
          ARRAY['lead>qualified:3:' || round(5 / 3.0, 9), 'qualified>lost:1:' || round(2 / 3.0, 9),
                'qualified>won:2:' || round(2 / 3.0, 9)],
          'without a pipeline order: terminal stages last, the current stage first, whatever the names')
FROM ties, renamed WHERE deal < 4 GROUP BY map;
SELECT throws_ok($$SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified']) FROM ties$$,
                 '22023', 'stage "proposal" is neither in the pipeline order nor a terminal stage',
                 'a stage missing from the pipeline order');
SELECT throws_ok($$SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'won']) FROM ties$$,
                 '22023', 'pipeline order must list each open stage once and no terminal stage',
                 'a terminal stage in the pipeline order');
SELECT is((SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal'])::text
           FROM ties)::pipeline_summary::text,
          (SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal'])::text
           FROM ties), 'the model with a pipeline order round-trips as text');

-- Open stays.  Deals 1, 2: lead 0 -> won 2.  Deals 3, 4: lead 0, still open
-- at the model's last row (deal 5: lead 6), 6 days so far; deal 5: 0 days.
-- For an exponential stay the estimate of the mean is the whole time
-- observed in the stage over the stays that ended: (2 + 2 + 6 + 6 + 0) / 2
-- = 8 days (the completed stays alone say 2).  A deal in lead closes
-- (won) after 8 days on average.
CREATE TEMP TABLE cens (deal int, ts timestamptz, stage text);
INSERT INTO cens VALUES (1, pg_temp.d(0), 'lead'), (1, pg_temp.d(2), 'won'), (2, pg_temp.d(0), 'lead'),
    (2, pg_temp.d(2), 'won'), (3, pg_temp.d(0), 'lead'), (4, pg_temp.d(0), 'lead'), (5, pg_temp.d(6), 'lead');
SELECT is(pg_temp.report(pipeline_model(deal, ts, stage, ARRAY['won'])), ARRAY['lead>won:2:' || round(8.0, 9)],
          'mean days in stage count the open stays (censored)') FROM cens;
SELECT is((SELECT round(expected_days_to_close::numeric, 9) FROM pipeline_forecast(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won']) FROM cens), 'lead', 1)),
          round(8.0, 9), 'days to close from the censored estimate');
SELECT is((SELECT array_agg(s ->> 'stage' || ':' || (s ->> 'stays') || ':' || (s ->> 'stay_days') ORDER BY s ->> 'stage')
           FROM jsonb_array_elements((SELECT pipeline_model(deal, ts, stage, ARRAY['won'])::text::jsonb -> 'stages' FROM cens)) s),
          ARRAY['lead:2:16', 'won:0:0'], 'stay_days holds the open stays too');

-- A stage passed in 0 days.  Deals 1-4: lead and qualified at one time on
-- day n, won 2 days later; deal 5: lead and qualified on day 10, open (the
-- last row, so no time in qualified yet).  Lead is passed at once, and a
-- stay in qualified lasts 2 days on average (rate 1/2).
-- An open deal (in qualified) is won within T = 1 day with probability
-- 1 - e^(-1/2).  New leads: 5 deals over days 1..10, 5/9 a day; a lead
-- arriving at time u < T is won by T with probability 1 - e^(-(T - u)/2):
--   5/9 * integral_0^1 (1 - e^(-s/2)) ds = 5/9 * (1 - 2 (1 - e^(-1/2))).
-- A deal now in lead is won within 1 day with probability 1 - e^(-1/2) too.
CREATE TEMP TABLE zero (deal int, ts timestamptz, stage text);
INSERT INTO zero SELECT d, pg_temp.d(d), s FROM generate_series(1, 4) d, unnest(ARRAY['lead', 'qualified']) s;
INSERT INTO zero SELECT d, pg_temp.d(d + 2), 'won' FROM generate_series(1, 4) d;
INSERT INTO zero VALUES (5, pg_temp.d(10), 'lead'), (5, pg_temp.d(10), 'qualified');
SELECT is((SELECT round(from_open_deals::numeric, 12) || ':' || round(from_new_leads::numeric, 12)
           FROM pipeline_period_forecast((SELECT pipeline_model(deal, ts, stage, ARRAY['won'], ARRAY['lead', 'qualified']) FROM zero),
                                         '1 day') WHERE outcome = 'won'),
          round(1 - exp(-0.5), 12) || ':' || round(5 / 9.0 * (1 - 2 * (1 - exp(-0.5))), 12),
          'period forecast: a stage with 0-day stays passes deals on at once');
SELECT is((SELECT array_agg(s ->> 'stage' || ':' || (s ->> 'open')) FROM jsonb_array_elements(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won'], ARRAY['lead', 'qualified']) FROM zero)::text::jsonb -> 'stages') s
           WHERE (s ->> 'open')::int > 0), ARRAY['qualified:1'], 'the open deal is in qualified');
-- a deal now in lead: 1 - e^(-1/2) within a day (from the open-deal arm of
-- pipeline_period_forecast, through a summary with the deal moved to lead)
SELECT is((SELECT round(from_open_deals::numeric, 12) FROM pipeline_period_forecast(
              replace(replace((SELECT pipeline_model(deal, ts, stage, ARRAY['won'], ARRAY['lead', 'qualified']) FROM zero)::text,
                              '"stage": "lead", "terminal": false, "entries": 5, "open": 0',
                              '"stage": "lead", "terminal": false, "entries": 5, "open": 1'),
                      '"stage": "qualified", "terminal": false, "entries": 0, "open": 1',
                      '"stage": "qualified", "terminal": false, "entries": 0, "open": 0')::pipeline_summary, '1 day')
           WHERE outcome = 'won'),
          round(1 - exp(-0.5), 12), 'period forecast: an open deal in the 0-day stage');
-- 300 deals: lead and qualified at once, qualified 2 days then won or lost
-- (1 in 3 won); one open deal in lead on the last day.  Won within a day
-- from lead: 1/3 (1 - e^(-1/2)).
CREATE TEMP TABLE zero300 AS
SELECT d AS deal, pg_temp.d(d) AS ts, s AS stage FROM generate_series(1, 300) d, unnest(ARRAY['lead', 'qualified']) s UNION ALL
SELECT d, pg_temp.d(d + 2), CASE WHEN d % 3 = 0 THEN 'won' ELSE 'lost' END FROM generate_series(1, 300) d UNION ALL
SELECT 301, pg_temp.d(302), 'lead';
SELECT is((SELECT round(from_open_deals::numeric, 12) FROM pipeline_period_forecast(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified']) FROM zero300), '1 day')
           WHERE outcome = 'won'),
          round((1 - exp(-0.5)) / 3, 12), 'period forecast, 300 deals: the 0-day stage is passed at once');

-- Two 0-day stages in a row: lead, qualified and proposal at one time,
-- then proposal 2 days (1 in 3 won); one open deal in lead on the last day.
-- Lead and qualified are passed at once: won within a day from lead
-- 1/3 (1 - e^(-1/2)), as above.
CREATE TEMP TABLE zero3 AS
SELECT d AS deal, pg_temp.d(d) AS ts, s AS stage FROM generate_series(1, 30) d, unnest(ARRAY['lead', 'qualified', 'proposal']) s UNION ALL
SELECT d, pg_temp.d(d + 2), CASE WHEN d % 3 = 0 THEN 'won' ELSE 'lost' END FROM generate_series(1, 30) d UNION ALL
SELECT 31, pg_temp.d(32), 'lead';
SELECT is((SELECT round(from_open_deals::numeric, 12) FROM pipeline_period_forecast(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal']) FROM zero3), '1 day')
           WHERE outcome = 'won'),
          round((1 - exp(-0.5)) / 3, 12), 'period forecast: two 0-day stages in a row are passed at once');

-- pipeline_report keeps its 1.0 columns (users' views over it survive the
-- update); deals are distinct deals (more in test/pipeline_deals.sql)
SELECT is((SELECT proargnames FROM pg_proc WHERE proname = 'pipeline_report'),
          ARRAY['model', 'stage', 'next_stage', 'deals', 'probability', 'mean_days_in_stage'],
          'pipeline_report: the 1.0 columns');
SELECT is(pg_temp.report(pipeline_model(deal, ts, stage, ARRAY['won'])),
          ARRAY['lead>qualified:1:' || round(1.0, 9), 'qualified>lead:1:' || round(1.0, 9), 'qualified>won:1:' || round(1.0, 9)],
          'pipeline_report: a deal that goes lead -> qualified twice counts once')
FROM (VALUES (1, pg_temp.d(0), 'lead'), (1, pg_temp.d(1), 'qualified'), (1, pg_temp.d(2), 'lead'),
             (1, pg_temp.d(3), 'qualified'), (1, pg_temp.d(4), 'won')) h(deal, ts, stage);

-- the pipeline order through parallel plans (serialised with the state)
CREATE TABLE hbig AS
SELECT d::bigint AS deal, pg_temp.d(d % 200 + k / 2) AS ts,
       CASE WHEN k = 0 THEN 'lead' WHEN k = 1 THEN 'qualified' WHEN d % 3 = 0 THEN 'lost'
            WHEN d % 3 = 1 THEN 'proposal' ELSE 'won' END AS stage
FROM generate_series(1, 30000) d, generate_series(0, 2) k;
ANALYZE hbig;
CREATE TEMP TABLE serial_p AS
SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal'])::text AS t FROM hbig;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;
SELECT ok(pg_temp.plan($$SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal']) FROM hbig$$)
          LIKE '%"Partial Mode": "Partial"%', 'the parallel plan has a partial aggregate');
CREATE TEMP TABLE par_p AS
SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'], ARRAY['lead', 'qualified', 'proposal'])::text AS t FROM hbig;
SELECT is((SELECT t FROM par_p), (SELECT t FROM serial_p), 'with a pipeline order, parallel and serial plans give the same model');
RESET max_parallel_workers_per_gather;

SELECT * FROM finish();
ROLLBACK;
