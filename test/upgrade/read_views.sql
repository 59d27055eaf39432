-- test/upgrade.sh: the rows of the views of test/upgrade/views.sql.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET TimeZone = 'UTC';
SET extra_float_digits = 1;
SELECT * FROM v_events ORDER BY id;
SELECT * FROM v_funnel_accessors ORDER BY kind;
SELECT * FROM v_funnel_report ORDER BY step;
SELECT * FROM v_funnel_report_spend ORDER BY kind, step;
SELECT * FROM v_costs ORDER BY step;
SELECT * FROM v_attribution ORDER BY kind, channel;
SELECT * FROM v_attribution_charts;
SELECT * FROM v_pipeline_report ORDER BY 1, 2;
SELECT * FROM v_pipeline_forecasts ORDER BY 1, 2;
SELECT * FROM v_models;
SELECT * FROM v_cohorts ORDER BY 1, 2;
SELECT * FROM v_changed_states;
