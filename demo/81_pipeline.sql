-- Pipeline forecast: a CRM stage history of 1500 deals created over 240
-- days, a model fitted on what was known at a cut-off date (day 180), its
-- forecast for the deals open then and for the next 30 days of lead flow,
-- and what actually happened after the cut-off.
\echo '== Pipeline: forecast from the lead flow =='
SET max_parallel_workers_per_gather = 0;
SET TimeZone = 'UTC';
SELECT setseed(0.3);

-- lead -> qualified 55% | lost;  qualified -> proposal 60% | lost 30% | lead 10%;
-- proposal -> negotiation 70% | lost;  negotiation -> won 65% | lost.
-- Mean days in stage: lead 5, qualified 8, proposal 10, negotiation 7.
CREATE TABLE demo_stage_history AS
WITH RECURSIVE walk (deal_id, step, stage, ts) AS (
    SELECT d, 0, 'lead', timestamptz '2024-01-01 00:00+00' + random() * interval '240 days'
    FROM generate_series(1, 1500) d
  UNION ALL
    SELECT w.deal_id, w.step + 1,
           CASE w.stage
               WHEN 'lead' THEN CASE WHEN x.r < 0.55 THEN 'qualified' ELSE 'lost' END
               WHEN 'qualified' THEN CASE WHEN x.r < 0.6 THEN 'proposal' WHEN x.r < 0.9 THEN 'lost' ELSE 'lead' END
               WHEN 'proposal' THEN CASE WHEN x.r < 0.7 THEN 'negotiation' ELSE 'lost' END
               ELSE CASE WHEN x.r < 0.65 THEN 'won' ELSE 'lost' END
           END,
           w.ts + (-ln(1 - x.r2) * CASE w.stage WHEN 'lead' THEN 5 WHEN 'qualified' THEN 8
                                                  WHEN 'proposal' THEN 10 ELSE 7 END) * interval '1 day'
    FROM walk w, LATERAL (SELECT random() + 0 * w.step AS r, random() + 0 * w.step AS r2) x
    WHERE w.stage NOT IN ('won', 'lost') AND w.step < 50
)
SELECT deal_id, ts, stage FROM walk;

\set cutoff '''2024-06-29 00:00+00'''
CREATE TABLE demo_pipeline_model AS
SELECT pipeline_model(deal_id, ts, stage, ARRAY['won', 'lost']) AS model
FROM demo_stage_history WHERE ts < :cutoff;

\echo 'Transitions and mean days in stage, as known at the cut-off:'
SELECT stage, next_stage, deals, round(probability::numeric, 3) AS probability,
       round(mean_days_in_stage::numeric, 1) AS mean_days_in_stage
FROM pipeline_report((SELECT model FROM demo_pipeline_model))
ORDER BY array_position(ARRAY['lead', 'qualified', 'proposal', 'negotiation'], stage), deals DESC;

\echo 'Deals open at the cut-off, by stage:'
SELECT s ->> 'stage' AS stage, (s ->> 'open')::int AS open_deals
FROM demo_pipeline_model, jsonb_array_elements(model::text::jsonb -> 'stages') s
WHERE (s ->> 'open')::int > 0;

\echo 'Forecast for the open deals against what happened to them:'
WITH open_deals AS (
    SELECT deal_id FROM demo_stage_history GROUP BY deal_id
    HAVING min(ts) < :cutoff
       AND NOT bool_or(stage IN ('won', 'lost') AND ts < :cutoff)
), outcome AS (
    SELECT h.stage AS outcome, count(*) AS deals,
           avg(extract(epoch FROM h.ts - :cutoff) / 86400) AS days_after_cutoff
    FROM open_deals o JOIN demo_stage_history h USING (deal_id)
    WHERE h.stage IN ('won', 'lost')
    GROUP BY h.stage
)
SELECT f.outcome, round(f.expected_deals::numeric, 1) AS forecast, o.deals AS actual,
       round(f.expected_days_to_close::numeric, 1) AS forecast_days_to_close,
       round(o.days_after_cutoff::numeric, 1) AS actual_days_after_cutoff
FROM pipeline_forecast((SELECT model FROM demo_pipeline_model)) f
LEFT JOIN outcome o USING (outcome)
ORDER BY f.outcome;

\echo 'Lead flow: new deals per day before the cut-off, and the next 30 days:'
SELECT round(pipeline_lead_rate(model)::numeric, 2) AS leads_per_day,
       round((pipeline_lead_rate(model) * 30)::numeric, 1) AS expected_new_deals,
       (SELECT count(DISTINCT deal_id) FROM demo_stage_history
        WHERE stage = 'lead' AND ts >= :cutoff AND ts < (:cutoff)::timestamptz + interval '30 days'
          AND deal_id NOT IN (SELECT deal_id FROM demo_stage_history WHERE ts < :cutoff)) AS actual_new_deals
FROM demo_pipeline_model;

WITH new_deals AS (
    SELECT deal_id FROM demo_stage_history GROUP BY deal_id
    HAVING min(ts) >= :cutoff AND min(ts) < (:cutoff)::timestamptz + interval '30 days'
), outcome AS (
    SELECT h.stage AS outcome, count(*) AS deals
    FROM new_deals n JOIN demo_stage_history h USING (deal_id)
    WHERE h.stage IN ('won', 'lost')
    GROUP BY h.stage
)
SELECT f.outcome, round(f.expected_deals::numeric, 1) AS forecast, o.deals AS actual,
       round(f.expected_days_to_close::numeric, 1) AS forecast_days_to_close
FROM pipeline_lead_forecast((SELECT model FROM demo_pipeline_model), '30 days') f
LEFT JOIN outcome o USING (outcome)
ORDER BY f.outcome;

\echo 'Closings within the 30 days after the cut-off, forecast against what happened:'
WITH open_deals AS (
    SELECT deal_id FROM demo_stage_history GROUP BY deal_id
    HAVING min(ts) < :cutoff AND NOT bool_or(stage IN ('won', 'lost') AND ts < :cutoff)
), new_deals AS (
    SELECT deal_id FROM demo_stage_history GROUP BY deal_id
    HAVING min(ts) >= :cutoff AND min(ts) < (:cutoff)::timestamptz + interval '30 days'
), closed AS (
    SELECT h.stage AS outcome,
           count(*) FILTER (WHERE h.deal_id IN (SELECT deal_id FROM open_deals)) AS from_open,
           count(*) FILTER (WHERE h.deal_id IN (SELECT deal_id FROM new_deals)) AS from_new
    FROM demo_stage_history h
    WHERE h.stage IN ('won', 'lost') AND h.ts >= :cutoff AND h.ts < (:cutoff)::timestamptz + interval '30 days'
    GROUP BY h.stage
)
SELECT f.outcome, round(f.from_open_deals::numeric, 1) AS forecast_from_open, c.from_open AS actual_from_open,
       round(f.from_new_leads::numeric, 1) AS forecast_from_new, c.from_new AS actual_from_new
FROM pipeline_period_forecast((SELECT model FROM demo_pipeline_model), '30 days') f
LEFT JOIN closed c USING (outcome)
ORDER BY f.outcome;
