-- pipeline_model and pipeline_forecast: a hand-solved 3-stage absorbing chain,
-- storage, errors, parallel and serial plans.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(29);

CREATE FUNCTION pg_temp.d(n numeric) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT timestamptz '2024-01-01 00:00+00' + n * interval '1 day' $$;

-- Stages lead, qualified (open), won, lost (terminal).  Every stay in lead
-- lasts 2 days, every stay in qualified 3 days.
--   deals 1-3: lead -> qualified -> won
--   deals 4-5: lead -> qualified -> lost
--   deal 6:    lead -> qualified -> lead -> lost
--   deals 7-9: lead -> lost
--   deal 10:   lead (open, day 10 to the last row, day 20: 10 days)
-- Transitions: lead: qualified 6, lost 4 (10 stays); qualified: won 3,
-- lost 2, lead 1 (6 stays).  Mean days in stage, open stays counted
-- (exponential stays, censored): lead (10 * 2 + 10) / 10 = 3, qualified 3.
--   Q = [[0, .6], [1/6, 0]]  R = [[won 0, lost .4], [won .5, lost 1/3]]
--   I - Q = [[1, -.6], [-1/6, 1]], det = 0.9,
--   N = (I - Q)^-1 = [[10/9, 2/3], [5/27, 10/9]]
--   B = N R: lead: won 2/3 * 1/2 = 1/3, lost 10/9 * .4 + 2/3 * 1/3 = 2/3
--            qualified: won 10/9 * 1/2 = 5/9, lost 5/27 * .4 + 10/9 * 1/3 = 4/9
-- Expected days to close, by outcome k from stage i:
--   sum_j N_ij tau_j B_jk / B_ik with tau = (3, 3)
--   lead, won:  (10/9*3*1/3 + 2/3*3*5/9) / (1/3) = (10/9 + 10/9) * 3 = 20/3
--   lead, lost: (10/9*3*2/3 + 2/3*3*4/9) / (2/3) = (20/9 + 8/9) * 3/2 = 14/3
--   qualified, won:  (5/27*3*1/3 + 10/9*3*5/9) / (5/9) = (5/27 + 50/27) * 9/5 = 11/3
--   qualified, lost: (5/27*3*2/3 + 10/9*3*4/9) / (4/9) = (10/27 + 40/27) * 9/4 = 25/6
CREATE TABLE h (deal int, ts timestamptz, stage text);
INSERT INTO h SELECT d, pg_temp.d(d), 'lead' FROM generate_series(1, 10) d;
INSERT INTO h SELECT d, pg_temp.d(d + 2), 'qualified' FROM generate_series(1, 6) d;
INSERT INTO h SELECT d, pg_temp.d(d + 5), 'won' FROM generate_series(1, 3) d;
INSERT INTO h SELECT d, pg_temp.d(d + 5), 'lost' FROM generate_series(4, 5) d;
INSERT INTO h VALUES (6, pg_temp.d(11), 'lead'), (6, pg_temp.d(13), 'lost');
INSERT INTO h SELECT d, pg_temp.d(d + 2), 'lost' FROM generate_series(7, 9) d;
-- a repeated row of the current stage continues the stay
INSERT INTO h VALUES (1, pg_temp.d(1.5), 'lead');
-- rows after a terminal stage are ignored
INSERT INTO h VALUES (7, pg_temp.d(20), 'qualified');

CREATE TEMP TABLE pm AS SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) AS m FROM h;

SELECT is((SELECT array_agg(stage || '>' || next_stage || ':' || deals || ':' || round(probability::numeric, 6)
                            || ':' || mean_days_in_stage ORDER BY stage, next_stage) FROM pipeline_report(m)),
          ARRAY['lead>lost:4:0.400000:3', 'lead>qualified:6:0.600000:3', 'qualified>lead:1:0.166667:3',
                'qualified>lost:2:0.333333:3', 'qualified>won:3:0.500000:3'],
          'transition counts, probabilities and mean days in stage') FROM pm;

CREATE FUNCTION pg_temp.fc(m pipeline_summary, st text, n bigint) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(coalesce(outcome, '?') || ':' || round(expected_deals::numeric, 9) || ':' ||
                     coalesce(round(expected_days_to_close::numeric, 9)::text, '-') ORDER BY outcome)
    FROM pipeline_forecast(m, st, n) $$;

SELECT is(pg_temp.fc(m, 'lead', 9),
          ARRAY['lost:' || round(6.0, 9) || ':' || round(14 / 3.0, 9), 'won:' || round(3.0, 9) || ':' || round(20 / 3.0, 9)],
          '9 deals in lead: 6 lost after 14/3 days, 3 won after 20/3 days') FROM pm;
SELECT is(pg_temp.fc(m, 'qualified', 9),
          ARRAY['lost:' || round(4.0, 9) || ':' || round(25 / 6.0, 9), 'won:' || round(5.0, 9) || ':' || round(11 / 3.0, 9)],
          '9 deals in qualified: 4 lost after 25/6 days, 5 won after 11/3 days') FROM pm;
SELECT is(pg_temp.fc(m, 'won', 2), ARRAY['lost:' || round(0.0, 9) || ':-', 'won:' || round(2.0, 9) || ':' || round(0.0, 9)],
          'deals already in a terminal stage stay there') FROM pm;
-- arrays: 9 in lead and 9 in qualified: won 3 + 5, lost 6 + 4; days: won
-- (3 * 20/3 + 5 * 11/3) / 8 = 115/24, lost (6 * 14/3 + 4 * 25/6) / 10 = 67/15
SELECT is((SELECT array_agg(outcome || ':' || round(expected_deals::numeric, 9) || ':' || round(expected_days_to_close::numeric, 9) ORDER BY outcome)
           FROM pipeline_forecast(m, ARRAY['lead', 'qualified'], ARRAY[9, 9]::bigint[])),
          ARRAY['lost:' || round(10.0, 9) || ':' || round(67 / 15.0, 9), 'won:' || round(8.0, 9) || ':' || round(115 / 24.0, 9)],
          'open deals by stage as arrays') FROM pm;
-- the model's own open deal: deal 10 in lead
SELECT is((SELECT array_agg(outcome || ':' || round(expected_deals::numeric, 9) ORDER BY outcome) FROM pipeline_forecast(m)),
          ARRAY['lost:' || round(2 / 3.0, 9), 'won:' || round(1 / 3.0, 9)], 'the model''s open deals') FROM pm;
-- lead flow: 10 deals from day 1 to the last row (day 20): 10/19 a day;
-- in 38 days 20 new leads, all entering lead: won 20/3, lost 40/3
SELECT is(round(pipeline_lead_rate(m)::numeric, 9), round(10 / 19.0, 9), 'lead rate: deals per day') FROM pm;
SELECT is((SELECT array_agg(outcome || ':' || round(expected_deals::numeric, 9) ORDER BY outcome) FROM pipeline_lead_forecast(m, '38 days')),
          ARRAY['lost:' || round(40 / 3.0, 9), 'won:' || round(20 / 3.0, 9)], 'lead-flow forecast') FROM pm;
SELECT is(m::text::jsonb -> 'deals', '10'::jsonb, 'deals counted') FROM pm;
SELECT is((m::text::jsonb -> 'stages' -> 0 ->> 'open')::int, 1, 'open deals by stage') FROM pm;

-- a stage that deals enter but never leave gives no forecast: NULL outcome
INSERT INTO h VALUES (11, pg_temp.d(1), 'lead'), (11, pg_temp.d(3), 'nurture');
SELECT is((SELECT array_agg(coalesce(outcome, '?') || ':' || round(expected_deals::numeric, 9) ORDER BY outcome)
           FROM pipeline_forecast((SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) FROM h), 'nurture', 4)),
          ARRAY['lost:' || round(0.0, 9), 'won:' || round(0.0, 9), '?:' || round(4.0, 9)],
          'deals in a stage never left are reported under a NULL outcome');
-- lead now has 11 stays: qualified 6, lost 4, nurture 1; from lead
-- won 1/3 * 10/11 ... expected deals still add up
SELECT is((SELECT round(sum(expected_deals)::numeric, 9) FROM pipeline_forecast(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) FROM h), 'lead', 7)),
          7.0::numeric, 'expected deals add up to the open deals');
DELETE FROM h WHERE deal = 11;

-- extreme timestamps: a stay from 4713 BC to 294276 AD (about 109 million days)
SELECT ok(((SELECT pipeline_model(1, ts, st, ARRAY['won']) FROM (VALUES ('4713-01-01 00:00+00 BC'::timestamptz, 'lead'),
                                                                   ('294276-12-31 00:00+00', 'won')) x(ts, st))::text::jsonb
           -> 'stages' -> 0 ->> 'stay_days')::float8 BETWEEN 1.09e8 AND 1.1e8,
          'extreme timestamps: the stay is long, not negative');

-- within a period (continuous time, a deal leaves a stage at rate
-- 1 / mean days).  One open stage, 2 days on average, won 1 in 4:
--   deals 1-4: lead on days 0..3, two days later deal 1 won, 2-4 lost;
--   deal 5: lead on day 10 (open).  Lead rate 5 deals / 10 days = 0.5.
-- Open deal, T = 2 days: won 1/4 (1 - e^-1), lost 3/4 (1 - e^-1).
-- New leads at rate r over [0, T]: r p (T - tau (1 - e^(-T/tau))):
--   won 0.5 * 1/4 * 2 e^-1 = e^-1 / 4, lost 3 e^-1 / 4.
CREATE TEMP TABLE h1 AS
SELECT d AS deal, pg_temp.d(d - 1) AS ts, 'lead' AS stage FROM generate_series(1, 4) d UNION ALL
SELECT d, pg_temp.d(d + 1), CASE WHEN d = 1 THEN 'won' ELSE 'lost' END FROM generate_series(1, 4) d UNION ALL
SELECT 5, pg_temp.d(10), 'lead';
SELECT is((SELECT array_agg(outcome || ':' || round(from_open_deals::numeric, 9) || ':' || round(from_new_leads::numeric, 9)
                            || ':' || round(expected_deals::numeric, 9) ORDER BY outcome)
           FROM pipeline_period_forecast((SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) FROM h1), '2 days')),
          ARRAY['lost:' || round(0.75 * (1 - exp(-1.0)), 9) || ':' || round(0.75 * exp(-1.0), 9) || ':' || round(0.75, 9),
                'won:' || round(0.25 * (1 - exp(-1.0)), 9) || ':' || round(0.25 * exp(-1.0), 9) || ':' || round(0.25, 9)],
          'period forecast: one stage, closed form');
-- two stages in a row, lead (2 days) then qualified (3 days) then won: the
-- time to close is the sum of two exponentials with rates 1/2 and 1/3,
-- P(closed by t) = 1 + 2 e^(-t/2) - 3 e^(-t/3); t = 6: 1 + 2 e^-3 - 3 e^-2
CREATE TEMP TABLE h2 AS
SELECT d AS deal, pg_temp.d(d) AS ts, 'lead' AS stage FROM generate_series(1, 3) d UNION ALL
SELECT d, pg_temp.d(d + 2), 'qualified' FROM generate_series(1, 3) d UNION ALL
SELECT d, pg_temp.d(d + 5), 'won' FROM generate_series(1, 3) d UNION ALL
SELECT 4, pg_temp.d(8), 'lead';
SELECT is((SELECT round(from_open_deals::numeric, 9) FROM pipeline_period_forecast(
              (SELECT pipeline_model(deal, ts, stage, ARRAY['won']) FROM h2), '6 days') WHERE outcome = 'won'),
          round(1 + 2 * exp(-3.0) - 3 * exp(-2.0), 9), 'period forecast: two stages, closed form');
SELECT throws_ok($$SELECT * FROM pipeline_period_forecast((SELECT m FROM pm), '-1 day') $$,
                 '22023', 'forecast period must be zero or positive', 'period forecast: negative period');

-- storage
SELECT is(m::text::pipeline_summary::text, m::text, 'text form round-trips') FROM pm;
SELECT is(pg_temp.fc(m::text::pipeline_summary, 'lead', 9), pg_temp.fc(m, 'lead', 9), 'a stored model forecasts the same') FROM pm;
SELECT throws_like($$SELECT '{"deals": 0, "stages": [{"stage": "a", "terminal": false, "entries": 0, "open": 0, "ended": 0, "stays": 2, "stay_days": 1}], "transitions": []}'::pipeline_summary $$,
                   'invalid pipeline_summary: stays do not match the transitions', 'text input is checked');
SELECT throws_like($$SELECT '{"deals": 0}'::pipeline_summary $$,
                   'invalid input syntax for type pipeline_summary', 'text input: missing keys');

-- errors
SELECT throws_ok($$SELECT * FROM pipeline_forecast((SELECT m FROM pm), 'proposal', 3) $$,
                 '22023', 'unrecognized pipeline stage "proposal"', 'unknown stage');
SELECT throws_ok($$SELECT * FROM pipeline_forecast((SELECT m FROM pm), 'lead', -3) $$,
                 '22023', 'open deal count must not be negative', 'negative count');
SELECT throws_ok($$SELECT * FROM pipeline_forecast((SELECT m FROM pm), ARRAY['lead'], ARRAY[1, 2]::bigint[]) $$,
                 '2202E', NULL, 'arrays of different lengths');
SELECT throws_ok($$SELECT pipeline_model(deal, ts, stage, ARRAY[]::text[]) FROM h $$,
                 '22023', 'at least one terminal stage is required', 'no terminal stage');
SELECT throws_ok($$SELECT pipeline_model(deal, ts, stage, NULL) FROM h $$,
                 '22004', 'terminal stages must not be NULL', 'NULL terminal stages');
SELECT throws_ok($$SELECT pipeline_model(deal, ts, stage, CASE WHEN deal = 1 THEN ARRAY['won'] ELSE ARRAY['won', 'lost'] END) FROM h $$,
                 '22023', 'terminal stages and pipeline order must be the same for every row of a group', 'terminal stages change');
SELECT throws_ok($$SELECT * FROM pipeline_lead_forecast((SELECT m FROM pm), '-1 day') $$,
                 '22023', 'forecast period must be zero or positive', 'negative period');

-- parallel and serial plans
CREATE TABLE hbig AS
SELECT d::bigint AS deal, pg_temp.d(d % 200 + k) AS ts,
       CASE WHEN k = 0 THEN 'lead' WHEN k = 1 AND d % 3 = 0 THEN 'lost' WHEN k = 1 THEN 'qualified'
            WHEN d % 5 < 2 THEN 'won' ELSE 'lost' END AS stage
FROM generate_series(1, 30000) d, generate_series(0, 2) k;
ANALYZE hbig;
CREATE TEMP TABLE serial_p AS SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'])::text AS t FROM hbig;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;
SELECT ok(pg_temp.plan($$SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) FROM hbig$$) LIKE '%"Partial Mode": "Partial"%',
          'the parallel plan has a partial aggregate');
SELECT is((SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost'])::text FROM hbig), t,
          'parallel and serial plans give the same model') FROM serial_p;

SELECT * FROM finish();
ROLLBACK;
