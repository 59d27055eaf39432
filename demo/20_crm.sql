-- Demo: a CRM sales pipeline.  6,000 leads (deterministic: setseed), one
-- timestamp column per stage: created -> marketing-qualified (MQL) ->
-- sales-qualified (SQL) -> proposal -> won, NULL where a lead never got
-- there.  The rows become funnel events (one per stage reached), and the
-- pipeline is a 5-step funnel over 180 days: conversion and drop-off per
-- stage, overall and per lead source, with time to win.
\set QUIET on
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.0615) AS seed \gset

CREATE TABLE demo_leads AS
SELECT lead_id, source, created_at,
       date_trunc('minute', CASE WHEN depth >= 2 THEN created_at + d2 END) AS mql_at,
       date_trunc('minute', CASE WHEN depth >= 3 THEN created_at + d2 + d3 END) AS sql_at,
       -- 4% of the won deals were never given a proposal date in the CRM
       date_trunc('minute', CASE WHEN depth >= 4 AND NOT (depth = 5 AND quirk < 0.04) THEN created_at + d2 + d3 + d4 END) AS proposal_at,
       date_trunc('minute', CASE WHEN depth >= 5 THEN created_at + d2 + d3 + d4 + d5 END) AS won_at
FROM (
  SELECT lead_id, source, created_at, quirk,
         CASE WHEN r2 >= p[1] THEN 1 WHEN r3 >= p[2] THEN 2 WHEN r4 >= p[3] THEN 3
              WHEN r5 >= p[4] THEN 4 ELSE 5 END AS depth,
         (-ln(1 - random()) * 4 + 0.1) * interval '1 day' AS d2,
         (-ln(1 - random()) * 9 + 0.5) * interval '1 day' AS d3,
         (-ln(1 - random()) * 14 + 1) * interval '1 day' AS d4,
         (-ln(1 - random()) * 21 + 2) * interval '1 day' AS d5
  FROM (
    SELECT lead_id, source, created_at, random() AS r2, random() AS r3, random() AS r4,
           random() AS r5, random() AS quirk,
           CASE source WHEN 'inbound'  THEN ARRAY[0.55, 0.45, 0.60, 0.35]
                       WHEN 'webinar'  THEN ARRAY[0.65, 0.35, 0.55, 0.30]
                       WHEN 'outbound' THEN ARRAY[0.30, 0.40, 0.50, 0.25]
                       WHEN 'referral' THEN ARRAY[0.80, 0.70, 0.75, 0.50]
                       ELSE                 ARRAY[0.60, 0.55, 0.65, 0.40] END AS p
    FROM (
      SELECT lead_id,
             CASE WHEN c < 0.30 THEN 'inbound' WHEN c < 0.50 THEN 'webinar'
                  WHEN c < 0.80 THEN 'outbound' WHEN c < 0.90 THEN 'referral'
                  ELSE 'partner' END AS source,
             '2024-01-01'::timestamptz + floor(random() * 182 * 24) * interval '1 hour' AS created_at
      FROM (SELECT lead_id, random() AS c FROM generate_series(1, 6000) lead_id) s0
    ) s1
  ) s2
) s3;

-- one funnel event per stage a lead reached
CREATE VIEW demo_lead_events AS
SELECT l.lead_id, l.source, funnel_event(v.ts, v.stage) AS event
FROM demo_leads l
CROSS JOIN LATERAL (VALUES (1, l.created_at), (2, l.mql_at), (3, l.sql_at),
                           (4, l.proposal_at), (5, l.won_at)) v(stage, ts)
WHERE v.ts IS NOT NULL;

CREATE TABLE demo_pipeline AS
SELECT source, funnel_summary('180 days', lead_id, event) AS summary
FROM demo_lead_events GROUP BY ROLLUP (source);
UPDATE demo_pipeline SET source = 'all' WHERE source IS NULL;
\set QUIET off

\echo
\echo '=== CRM: 6,000 leads, one timestamp column per stage ==='
SELECT lead_id, source, created_at, mql_at, sql_at, proposal_at, won_at
FROM demo_leads ORDER BY lead_id LIMIT 5;
SELECT count(*) AS leads, count(mql_at) AS mql, count(sql_at) AS sql,
       count(proposal_at) AS proposal, count(won_at) AS won FROM demo_leads;

\echo
\echo '--- The sales pipeline as a funnel (a won deal counts only after a proposal)'
SELECT step, name AS stage, entities AS leads,
       round(conversion_from_previous::numeric, 3) AS conv_prev,
       round(conversion_from_start::numeric, 3) AS conv_start,
       drop_off, round(drop_off_rate::numeric, 3) AS drop_rate,
       justify_hours(date_trunc('hour', median_time_from_start)) AS median_time,
       justify_hours(date_trunc('hour', p90_time_from_start)) AS p90_time
FROM demo_pipeline, funnel_report(summary, ARRAY['lead', 'MQL', 'SQL', 'proposal', 'won'])
WHERE source = 'all';

\set QUIET on
\pset format unaligned
\pset tuples_only on
SELECT funnel_chart(summary, ARRAY['lead', 'MQL', 'SQL', 'proposal', 'won'], 72)
FROM demo_pipeline WHERE source = 'all';
\pset tuples_only off
\pset format aligned
\set QUIET off

\echo
\echo '--- Conversion from the previous stage, per lead source'
SELECT source,
       max(entities) FILTER (WHERE step = 1) AS leads,
       round(max(conversion_from_previous) FILTER (WHERE step = 2)::numeric, 3) AS to_mql,
       round(max(conversion_from_previous) FILTER (WHERE step = 3)::numeric, 3) AS to_sql,
       round(max(conversion_from_previous) FILTER (WHERE step = 4)::numeric, 3) AS to_proposal,
       round(max(conversion_from_previous) FILTER (WHERE step = 5)::numeric, 3) AS to_won,
       round(max(conversion_from_start) FILTER (WHERE step = 5)::numeric, 3) AS win_rate,
       justify_hours(date_trunc('hour', max(median_time_from_start) FILTER (WHERE step = 5))) AS median_time_to_win
FROM demo_pipeline, funnel_report(summary)
GROUP BY source ORDER BY win_rate DESC;

\echo
\echo '--- Drop-off per stage and source: leads lost since the previous stage'
SELECT source,
       max(drop_off) FILTER (WHERE step = 2) AS lost_before_mql,
       max(drop_off) FILTER (WHERE step = 3) AS lost_before_sql,
       max(drop_off) FILTER (WHERE step = 4) AS lost_before_proposal,
       max(drop_off) FILTER (WHERE step = 5) AS lost_before_won
FROM demo_pipeline, funnel_report(summary)
GROUP BY source ORDER BY source;

\echo
\echo '--- SVG chart written to' :outdir/crm_pipeline_funnel.svg
\set QUIET on
\pset format unaligned
\pset tuples_only on
\o :outdir/crm_pipeline_funnel.svg
SELECT funnel_svg(summary, ARRAY['lead', 'MQL', 'SQL', 'proposal', 'won'])
FROM demo_pipeline WHERE source = 'all';
\o
\pset tuples_only off
\pset format aligned
\set QUIET off
