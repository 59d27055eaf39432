-- test/security.sh: a call of every SQL and PL/pgSQL function of the
-- extension, made by a superuser whose search_path puts the attacker's
-- schemas before the extension's (pg_catalog still first, as by default).
-- Each call is announced by a line "\echo call SIGNATURE"; test/security.sh
-- fails when a SQL or PL/pgSQL member has no such line, so a new one cannot
-- be forgotten.  The arguments are values made in a clean database, given as
-- text (psql variables fs, cm, attrs): no operator is evaluated here outside
-- the extension's functions.
\set ON_ERROR_STOP on
\pset format unaligned
CREATE TEMP TABLE call_values AS
SELECT :'fs'::funnel_summary AS fs, :'cm'::cohort_matrix AS cm, :'attrs'::attribution_summary[] AS attrs;

\echo call funnel_conversion(funnel_summary)
SELECT funnel_conversion((SELECT fs FROM call_values));
\echo call funnel_report(funnel_summary,numeric,text[])
SELECT * FROM funnel_report((SELECT fs FROM call_values), 1234.5);
SELECT * FROM funnel_report((SELECT fs FROM call_values), 99::numeric, '{visit,cart,purchase}'::text[]);
\echo call funnel_cost_report(bigint[],numeric,text[])
SELECT * FROM funnel_cost_report('{100,40,7,0}'::bigint[], 500::numeric);
SELECT * FROM funnel_cost_report('{100,40,7}'::bigint[], 1000.25, '{a,b,c}'::text[]);
\echo call funnel_trend_report(jsonb,timestamp with time zone)
-- new in 1.1: called where the installed version has it
SELECT to_regprocedure('funnel_trend_report(jsonb,timestamptz)') IS NOT NULL AS have_trend_report \gset
\if :have_trend_report
SELECT * FROM funnel_trend_report('{"window_us": 86400000000, "bucket": "day", "time_zone": "UTC", "periods": [{"start_us": 1704067200000000, "end_us": 1704153600000000, "entered": 3, "converted": 1}]}'::jsonb, '2024-01-05 00:00+00'::timestamptz);
\else
\echo (not in this version)
\endif
\echo call funnel_breakdown_report(jsonb,integer)
-- new in 1.1: called where the installed version has it
SELECT to_regprocedure('funnel_breakdown_report(jsonb,integer)') IS NOT NULL AS have_breakdown_report \gset
\if :have_breakdown_report
SELECT * FROM funnel_breakdown_report('{"attribution": "first_touch", "steps": 2, "values": [{"value": "ads", "entities": [3, 1]}, {"value": null, "entities": [2, 0]}]}'::jsonb, 1);
\else
\echo (not in this version)
\endif
\echo call cac_payback_months(numeric,numeric,numeric)
SELECT cac_payback_months(120::numeric, 25::numeric, 0.6), cac_payback_months(0::numeric, 25::numeric, 1::numeric),
       cac_payback_months(10::numeric, 0::numeric, 0.5);
\echo call cohort_report(cohort_matrix)
SELECT * FROM cohort_report((SELECT cm FROM call_values));
\echo call cohort_heatmap(cohort_matrix)
SELECT * FROM cohort_heatmap((SELECT cm FROM call_values));
\echo call attribution_bar_chart(attribution_summary[],integer)
SELECT * FROM attribution_bar_chart((SELECT attrs FROM call_values));
SELECT * FROM attribution_bar_chart((SELECT attrs FROM call_values), 7);
\echo call attribution_svg_escape(text)
SELECT attribution_svg_escape('<a href="x">Tom & Jerry''s</a>');
\echo call attribution_svg(attribution_summary[],text)
SELECT attribution_svg((SELECT attrs FROM call_values));
SELECT attribution_svg((SELECT attrs FROM call_values), 'Credit <by> "channel"');
-- paths (1.1): a result of paths(...) written out; skipped where the
-- installed version has no paths functions
SELECT pg_catalog.to_regprocedure('paths_report(jsonb)') IS NOT NULL AS has_paths \gset
\if :has_paths
CREATE TEMP TABLE call_paths AS
SELECT '{"anchor": "start", "event": "cart", "depth": 3, "top_n": 5, "entities": 3, "edges": [{"step": 0, "from": "cart", "to": "checkout", "entities": 2, "median_seconds": 240}, {"step": 1, "from": "checkout", "to": null, "entities": 2, "median_seconds": 60.5}], "paths": [{"events": ["cart", "checkout", "buy"], "entities": 2}, {"events": ["cart"], "entities": 1}]}'::jsonb AS p;
\echo call paths_report(jsonb)
SELECT * FROM paths_report((SELECT p FROM call_paths));
\echo call paths_top(jsonb)
SELECT * FROM paths_top((SELECT p FROM call_paths));
\echo call paths_chart(jsonb,integer)
SELECT * FROM paths_chart((SELECT p FROM call_paths));
SELECT * FROM paths_chart((SELECT p FROM call_paths), 7);
\echo call paths_sankey_svg(jsonb,text)
SELECT paths_sankey_svg((SELECT p FROM call_paths));
SELECT paths_sankey_svg((SELECT p FROM call_paths), 'After <cart> & "more"');
\endif
-- funnel_correlation_report (1.1)
SELECT pg_catalog.to_regprocedure('funnel_correlation_report(jsonb,integer)') IS NOT NULL AS has_correlation \gset
\if :has_correlation
CREATE TEMP TABLE call_correlation AS
SELECT '{"converters": 2, "non_converters": 2, "min_count": 0, "drivers": [{"kind": "property", "name": "ads", "converters": 2, "non_converters": 0, "odds_ratio": 9, "p_value": 0.3333333333333333}, {"kind": "event", "name": "help", "converters": 1, "non_converters": 1, "odds_ratio": 1, "p_value": 1}, {"kind": "property", "name": "mail", "converters": 0, "non_converters": 2, "odds_ratio": 0.1111111111111111, "p_value": 0.3333333333333333}]}'::jsonb AS c;
\echo call funnel_correlation_report(jsonb,integer)
SELECT * FROM funnel_correlation_report((SELECT c FROM call_correlation));
SELECT * FROM funnel_correlation_report((SELECT c FROM call_correlation), 1);
\endif
-- journey_refresh (1.1): the expressions name columns only, so the caller's
-- search_path it reads them with finds nothing planted
SELECT EXISTS (SELECT FROM pg_proc WHERE proname = 'journey_refresh') AS has_journey_refresh \gset
\echo call journey_refresh(regclass,regclass,text,text,name,timestamp with time zone,name,name,text)
\if :has_journey_refresh
CREATE TEMP TABLE call_events (user_id bigint, ev funnel_event, inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE TEMP TABLE call_journeys (entity bigint PRIMARY KEY, journey funnel_event[] NOT NULL);
INSERT INTO call_events (user_id, ev) VALUES (1, '2024-03-01 09:00:00+00 {1}'), (1, '2024-03-01 08:00:00+00 {2}'),
    (2, '2024-03-01 10:00:00+00 {1,2}');
SELECT journey_refresh('call_journeys', 'call_events', 'user_id', 'ev');
SELECT journey_refresh('call_journeys', 'call_events', 'user_id', 'ev', horizon => '2024-03-01 08:30:00+00');
SELECT * FROM call_journeys ORDER BY entity;
DELETE FROM journey_watermark WHERE journeys = 'call_journeys'::regclass;
\else
SELECT 'journey_refresh is not in this version' AS skipped;
\endif
