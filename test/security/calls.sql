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
