-- test/upgrade.sh: a user's views over the extension's functions, on the
-- values test/upgrade/data.sql stored.  ALTER EXTENSION funnel UPDATE must
-- succeed with them in place (an upgrade script that drops a function a view
-- uses fails), and they must read the same afterwards
-- (test/upgrade/read_views.sql).
\set ON_ERROR_STOP on
CREATE VIEW v_events AS
SELECT id, ev, event_time(ev), event_steps(ev), funnel_event(event_time(ev), 3) AS step3
  FROM stored_events;
CREATE VIEW v_funnel_accessors AS
SELECT kind, funnel_stage_counts(fs), funnel_conversion(fs), funnel_window(fs),
       funnel_time_percentile(fs, 2, 0.5), funnel_chart(fs), funnel_svg(fs)
  FROM summaries WHERE fs IS NOT NULL;
CREATE VIEW v_funnel_report AS
SELECT kind, r.* FROM summaries, funnel_report(fs, ARRAY['a', 'b', 'c', 'd', 'e']) r
 WHERE kind = 'funnel';
CREATE VIEW v_funnel_report_spend AS
SELECT kind, r.* FROM summaries, funnel_report(fs, 1000.00) r WHERE fs IS NOT NULL;
CREATE VIEW v_costs AS
SELECT c.*, cac_payback_months(120, 25, 0.6) AS payback
  FROM funnel_cost_report(ARRAY[100, 40, 7]::bigint[], 500, ARRAY['a', 'b', 'c']) c;
CREATE VIEW v_attribution AS
SELECT kind, attribution_model(attr), r.* FROM summaries, attribution_report(attr) r
 WHERE attr IS NOT NULL;
CREATE VIEW v_attribution_charts AS
SELECT b.*, attribution_svg(a.attrs) AS svg
  FROM (SELECT array_agg(attr ORDER BY kind) AS attrs FROM summaries WHERE attr IS NOT NULL) a,
       attribution_bar_chart(a.attrs) b;
CREATE VIEW v_pipeline_report AS
SELECT r.* FROM summaries, pipeline_report(pipe) r WHERE pipe IS NOT NULL;
CREATE VIEW v_pipeline_forecasts AS
SELECT 'open' AS kind, r.outcome, r.expected_deals FROM summaries, pipeline_forecast(pipe) r WHERE pipe IS NOT NULL
UNION ALL
SELECT 'stage', r.outcome, r.expected_deals FROM summaries, pipeline_forecast(pipe, 'product_view', 10) r WHERE pipe IS NOT NULL
UNION ALL
SELECT 'stages', r.outcome, r.expected_deals
  FROM summaries, pipeline_forecast(pipe, ARRAY['visit', 'checkout'], ARRAY[3, 4]::bigint[]) r WHERE pipe IS NOT NULL
UNION ALL
SELECT 'leads', r.outcome, r.expected_deals FROM summaries, pipeline_lead_forecast(pipe, '30 days') r WHERE pipe IS NOT NULL
UNION ALL
SELECT 'period', r.outcome, r.expected_deals FROM summaries, pipeline_period_forecast(pipe, '30 days') r WHERE pipe IS NOT NULL
UNION ALL
SELECT 'lead rate', NULL, pipeline_lead_rate(pipe) FROM summaries WHERE pipe IS NOT NULL;
-- the remaining lifetime undiscounted: 1.1 changed the discounted one on
-- purpose (test/upgrade.sh checks that change on its own)
CREATE VIEW v_models AS
SELECT expected_purchases(b.bg, 39, 2, 30.43, 38.86) AS purchases, expected_purchases(b.bg, 39) AS new_purchases,
       probability_alive(b.bg, 2, 30.43, 38.86) AS alive, expected_average_spend(g.gg, 2, 35.5) AS spend,
       ltv(b.bg, g.gg, 2, 30.43, 38.86, 35.5) AS ltv, sbg_survival(s.sbg, 3) AS survival,
       sbg_retention_rate(s.sbg, 3) AS retention, sbg_expected_remaining_lifetime(s.sbg, 2) AS remaining
  FROM models b, models g, models s
 WHERE b.kind = 'bgnbd' AND g.kind = 'gamma_gamma' AND s.kind = 'sbg';
CREATE VIEW v_cohorts AS
SELECT r.cohort_start, r.period, r.active, r.retention_rate, h.retention
  FROM models, cohort_report(cm) r JOIN cohort_heatmap(cm) h USING (cohort_start)
 WHERE kind = 'cohorts';
-- aggregates whose state type 1.1 changed with CREATE OR REPLACE AGGREGATE
-- (a concrete state for Citus, doc/citus.md)
CREATE VIEW v_changed_states AS
SELECT (SELECT rollup(fs) FROM summaries WHERE kind = 'funnel')::text AS rolled_up,
       (SELECT funnel_stage_counts(l, 3) FROM (VALUES (0), (1), (3), (3), (NULL::int)) v(l)) AS counts,
       (SELECT funnel_conversion(l, 3) FROM (VALUES (0), (1), (2), (3), (3)) v(l)) AS conversion;
