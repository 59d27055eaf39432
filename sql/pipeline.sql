-- pipeline: pipeline_model, pipeline_report, pipeline_forecast (one stage,
-- several stages, the open deals), pipeline_lead_rate,
-- pipeline_lead_forecast and pipeline_period_forecast on hand-solved chains.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).  The cases avoid behaviour under revision:
-- no two rows of one deal share a time, no deal makes the same transition
-- twice (so transitions and distinct deals agree), and the only open deal
-- entered its stage at the model's last row (its censored stay is 0 days).
SET timezone = 'UTC';

-- ---------------------------------------------------------------------------
-- Model A.  Open stages new, demo; terminal won, lost.  Deal d starts on
-- day d; every stay in new lasts 2 days, every stay in demo 4 days.
--   D1-D4: new -> demo -> won       D5-D6: new -> demo -> lost
--   D7-D8: new -> lost              D9: new -> demo -> new -> lost
--   D10: enters new on day 17, the last day of the data (open)
-- Transitions: new: demo 7, lost 3 (10 stays of 2 days);
--              demo: won 4, lost 2, new 1 (7 stays of 4 days).
--   Q = [[0, .7], [1/7, 0]], R = [[won 0, lost .3], [won 4/7, lost 2/7]]
--   I - Q = [[1, -.7], [-1/7, 1]], det = .9,
--   N = (I - Q)^-1 = [[10/9, 7/9], [10/63, 10/9]]
--   B = N R: new: won 7/9 * 4/7 = 4/9, lost 10/9 * .3 + 7/9 * 2/7 = 5/9
--            demo: won 10/9 * 4/7 = 40/63, lost 10/63 * .3 + 10/9 * 2/7 = 23/63
-- Expected days to close (tau = 2, 4): sum_j N_ij tau_j B_jk / B_ik
--   new, won:  (10/9*2*4/9 + 7/9*4*40/63) / (4/9) = 20/3
--     (check: new-demo-won takes 6 days; each demo-new-demo loop, 6 more
--     days, has probability 1/10 per pass: 6 + 6 * (1/9) = 20/3)
--   new, lost: (10/9*2*5/9 + 7/9*4*23/63) / (5/9) = 64/15
--   demo, won: (10/63*2*4/9 + 10/9*4*40/63) / (40/63) = 14/3 (= 4 + 6/9)
--   demo, lost: (10/63*2*5/9 + 10/9*4*23/63) / (23/63) = 340/69
-- ---------------------------------------------------------------------------
CREATE TABLE pipe_history (deal int, ts timestamptz, stage text);
INSERT INTO pipe_history
SELECT d, '2024-01-01'::timestamptz + (d + o) * interval '1 day', s
FROM generate_series(1, 6) d,
     (VALUES (0, 'new'), (2, 'demo')) v(o, s);
INSERT INTO pipe_history
SELECT d, '2024-01-01'::timestamptz + (d + 6) * interval '1 day', CASE WHEN d <= 4 THEN 'won' ELSE 'lost' END
FROM generate_series(1, 6) d;
INSERT INTO pipe_history
SELECT d, '2024-01-01'::timestamptz + (d + o) * interval '1 day', s
FROM generate_series(7, 8) d, (VALUES (0, 'new'), (2, 'lost')) v(o, s);
INSERT INTO pipe_history VALUES
  (9, '2024-01-10', 'new'), (9, '2024-01-12', 'demo'), (9, '2024-01-16', 'new'),
  (9, '2024-01-18', 'lost'),
  (10, '2024-01-18', 'new');

CREATE TABLE pipe_model_a AS
SELECT pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) AS m FROM pipe_history;

-- Report: demo -> lost 2 (2/7), demo -> new 1 (1/7), demo -> won 4 (4/7),
-- all 4 days in demo; new -> demo 7 (.7), new -> lost 3 (.3), 2 days in new.
SELECT r.stage, r.next_stage, r.deals, round(r.probability::numeric, 6) AS probability,
       r.mean_days_in_stage,
       (r.deals, round(r.probability::numeric, 12), r.mean_days_in_stage)
         = (e.deals, round(e.p, 12), e.days) AS ok
FROM pipe_model_a, pipeline_report(m) r
JOIN (VALUES ('demo', 'lost', 2, 2 / 7.0, 4), ('demo', 'new', 1, 1 / 7.0, 4),
             ('demo', 'won', 4, 4 / 7.0, 4), ('new', 'demo', 7, 0.7, 2),
             ('new', 'lost', 3, 0.3, 2)) e(stage, next_stage, deals, p, days)
  USING (stage, next_stage)
ORDER BY r.stage, r.next_stage;

-- 9 deals in new: 4 won after 20/3 days, 5 lost after 64/15 days.
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close,
       round(f.expected_deals::numeric, 9) = round(e.deals, 9)
         AND round(f.expected_days_to_close::numeric, 9) = round(e.days, 9) AS ok
FROM pipe_model_a, pipeline_forecast(m, 'new', 9) f
JOIN (VALUES ('won', 4.0, 20 / 3.0), ('lost', 5.0, 64 / 15.0)) e(outcome, deals, days) USING (outcome)
ORDER BY f.outcome;

-- 63 deals in demo: 40 won after 14/3 days, 23 lost after 340/69 days.
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close,
       round(f.expected_deals::numeric, 9) = round(e.deals, 9)
         AND round(f.expected_days_to_close::numeric, 9) = round(e.days, 9) AS ok
FROM pipe_model_a, pipeline_forecast(m, 'demo', 63) f
JOIN (VALUES ('won', 40.0, 14 / 3.0), ('lost', 23.0, 340 / 69.0)) e(outcome, deals, days) USING (outcome)
ORDER BY f.outcome;

-- Both at once add up, days weighted by deals:
--   won 44, (4 * 20/3 + 40 * 14/3) / 44 = 160/33;
--   lost 28, (5 * 64/15 + 23 * 340/69) / 28 = 101/21.
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close,
       round(f.expected_deals::numeric, 9) = round(e.deals, 9)
         AND round(f.expected_days_to_close::numeric, 9) = round(e.days, 9) AS ok
FROM pipe_model_a, pipeline_forecast(m, ARRAY['new', 'demo'], ARRAY[9, 63]::bigint[]) f
JOIN (VALUES ('won', 44.0, 160 / 33.0), ('lost', 28.0, 101 / 21.0)) e(outcome, deals, days) USING (outcome)
ORDER BY f.outcome;

-- The open deals at the end of the data: D10 in new: 4/9 won, 5/9 lost.
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close,
       round(f.expected_deals::numeric, 9) = round(e.deals, 9)
         AND round(f.expected_days_to_close::numeric, 9) = round(e.days, 9) AS ok
FROM pipe_model_a, pipeline_forecast(m) f
JOIN (VALUES ('won', 4 / 9.0, 20 / 3.0), ('lost', 5 / 9.0, 64 / 15.0)) e(outcome, deals, days) USING (outcome)
ORDER BY f.outcome;

-- Lead rate: 10 deals from the first entry (day 1) to the last row
-- (day 17): 10/16 = 0.625 per day.  Over 16 days: 10 new leads, all
-- entering in new: 40/9 won, 50/9 lost.
SELECT pipeline_lead_rate(m), pipeline_lead_rate(m) = 0.625 AS ok FROM pipe_model_a;
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_deals::numeric, 9) = round(e.deals, 9)
         AND round(f.expected_days_to_close::numeric, 9) = round(e.days, 9) AS ok
FROM pipe_model_a, pipeline_lead_forecast(m, '16 days') f
JOIN (VALUES ('won', 40 / 9.0, 20 / 3.0), ('lost', 50 / 9.0, 64 / 15.0)) e(outcome, deals, days) USING (outcome)
ORDER BY f.outcome;

-- A model stored as text gives the same forecast.
SELECT (SELECT array_agg(f) FROM pipeline_forecast(m, 'demo', 63) f)
       = (SELECT array_agg(f) FROM pipeline_forecast(m::text::pipeline_summary, 'demo', 63) f) AS round_trip_ok
FROM pipe_model_a;

-- ---------------------------------------------------------------------------
-- Model B, for the continuous-time period forecast.  One open stage lead
-- left after 10 days, half to won and half to lost:
--   B1: lead d0, won d10   B2: lead d2, won d12
--   B3: lead d4, lost d14  B4: lead d6, lost d16   B5: lead d16 (open)
-- A deal leaves lead at rate 1/10 a day.  Lead rate: 5 deals over days
-- 0..16: 5/16 a day.  Over T = 10 days:
--   the open deal has closed with probability 1 - e^-1, half each way:
--     (1 - e^-1) / 2 = 0.316060279
--   leads arriving at rate r close by T: r * int_0^T (1 - e^(-u/10)) du
--     = r (T - 10 (1 - e^-1)) = 5/16 * 10 e^-1 = 1.149623254, half each
--     way: 0.574811627
--   expected per outcome: 0.890871906
-- ---------------------------------------------------------------------------
CREATE TABLE pipe_model_b AS
SELECT pipeline_model(deal, '2024-03-01'::timestamptz + day * interval '1 day', stage, ARRAY['won', 'lost']) AS m
FROM (VALUES (1, 0, 'lead'), (1, 10, 'won'), (2, 2, 'lead'), (2, 12, 'won'),
             (3, 4, 'lead'), (3, 14, 'lost'), (4, 6, 'lead'), (4, 16, 'lost'),
             (5, 16, 'lead')) v(deal, day, stage);

SELECT f.outcome, round(f.from_open_deals::numeric, 9) AS from_open_deals,
       round(f.from_new_leads::numeric, 9) AS from_new_leads,
       round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.from_open_deals::numeric, 9) = round((1 - exp(-1.0)) / 2, 9)
         AND round(f.from_new_leads::numeric, 9) = round(5 / 16.0 * 10 * exp(-1.0) / 2, 9)
         AND round(f.expected_deals::numeric, 9)
             = round((1 - exp(-1.0)) / 2 + 5 / 16.0 * 10 * exp(-1.0) / 2, 9) AS ok
FROM pipe_model_b, pipeline_period_forecast(m, '10 days') f
ORDER BY f.outcome;

-- The absorbing forecast of model B: 4 deals in lead, 2 won and 2 lost,
-- both after 10 days.
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close
FROM pipe_model_b, pipeline_forecast(m, 'lead', 4) f ORDER BY f.outcome;

-- Model A's period forecast: a continuous-time chain with rates 1/2 a day
-- out of new (to demo .7, lost .3) and 1/4 a day out of demo (won 4/7,
-- lost 2/7, new 1/7).  Computed independently with mpmath (30 digits):
-- exp(G T) for the open deal in new, and for the leads (0.625 a day, all
-- entering new) 0.625 * int_0^T exp(G u) du, the top-right block of
-- exp([[G, I], [0, 0]] T):
--   T = 5:  open won 0.207580358, lost 0.388452000 (0.38845199994);
--           leads won 0.285125262, lost 0.745619750
--   T = 30: open won 0.443012299, lost 0.554655980 (near 4/9 and 5/9);
--           leads won 6.485799484, lost 8.937897415
SELECT f.outcome, round(f.from_open_deals::numeric, 9) AS from_open_deals,
       round(f.from_new_leads::numeric, 9) AS from_new_leads,
       round(f.from_open_deals::numeric, 9) = e.open AND round(f.from_new_leads::numeric, 9) = e.leads
         AND abs(f.expected_deals - f.from_open_deals - f.from_new_leads) < 1e-12 AS ok
FROM pipe_model_a, pipeline_period_forecast(m, '5 days') f
JOIN (VALUES ('won', 0.207580358, 0.285125262), ('lost', 0.388452000, 0.745619750)) e(outcome, open, leads)
  USING (outcome)
ORDER BY f.outcome;
SELECT f.outcome, round(f.from_open_deals::numeric, 9) AS from_open_deals,
       round(f.from_new_leads::numeric, 9) AS from_new_leads,
       round(f.from_open_deals::numeric, 9) = e.open AND round(f.from_new_leads::numeric, 9) = e.leads AS ok
FROM pipe_model_a, pipeline_period_forecast(m, '30 days') f
JOIN (VALUES ('won', 0.443012299, 6.485799484), ('lost', 0.554655980, 8.937897415)) e(outcome, open, leads)
  USING (outcome)
ORDER BY f.outcome;

-- ---------------------------------------------------------------------------
-- Model C: a stage no deal ever left.  X1: lead d0, won d2; X2: lead d1,
-- hold d3 (open; d3 is the last row of the data).  Lead: won 1/2, hold 1/2,
-- 2 days; hold has no way out, so its deals have no forecast and are
-- reported under the NULL outcome:
--   2 deals in lead: won 1 after 2 days, NULL 1;
--   5 deals in hold: won 0 (no days), NULL 5;
-- lost, a terminal stage no deal reached, gets 0 deals (no days).
-- ---------------------------------------------------------------------------
CREATE TABLE pipe_model_c AS
SELECT pipeline_model(deal, '2024-06-01'::timestamptz + day * interval '1 day', stage, ARRAY['won', 'lost']) AS m
FROM (VALUES (1, 0, 'lead'), (1, 2, 'won'), (2, 1, 'lead'), (2, 3, 'hold')) v(deal, day, stage);
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close
FROM pipe_model_c, pipeline_forecast(m, 'lead', 2) f ORDER BY f.outcome NULLS LAST;
SELECT f.outcome, round(f.expected_deals::numeric, 9) AS expected_deals,
       round(f.expected_days_to_close::numeric, 9) AS expected_days_to_close
FROM pipe_model_c, pipeline_forecast(m, 'hold', 5) f ORDER BY f.outcome NULLS LAST;

-- (Errors are tested with pgTAP in test/pipeline.sql.)
