-- test/upgrade.sh: everything test/upgrade/data.sql stored, read back as
-- text: table contents, accessors and reports of the stored values, index
-- checks and index scans, and the materialized views before and after a
-- REFRESH.  The data as the 1.0 library wrote it prints the same lines read
-- by the 1.0 library, by the current one before and after
-- ALTER EXTENSION funnel UPDATE, and after pg_dump / pg_restore.
\set ON_ERROR_STOP on
\pset format unaligned
-- values only: a report's column renamed in a new version is an interface
-- change (the views check of test/upgrade.sh catches it), not lost data
\pset tuples_only on
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 1;

\echo == tables
SELECT id, user_id, ev, event_time(ev), event_steps(ev) FROM stored_events ORDER BY id;
SELECT user_id, journey, window_funnel('1 day', e) AS level
  FROM journeys, unnest(journey) e GROUP BY user_id, journey ORDER BY user_id;
SELECT kind, fs, attr, pipe FROM summaries ORDER BY kind;
SELECT kind, bg, gg, sbg, cm, rfm, cv FROM models ORDER BY kind;

\echo == funnel_summary accessors
SELECT kind, funnel_stage_counts(fs), funnel_conversion(fs), funnel_window(fs),
       funnel_time_percentile(fs, 2, 0.5), funnel_time_percentile(fs, 3, 0.9)
  FROM summaries WHERE fs IS NOT NULL ORDER BY kind;
SELECT kind, r.* FROM summaries, funnel_report(fs) r WHERE fs IS NOT NULL ORDER BY kind, r.step;
SELECT kind, r.* FROM summaries, funnel_report(fs, 1000.00) r WHERE fs IS NOT NULL ORDER BY kind, r.step;
SELECT kind, funnel_chart(fs), funnel_svg(fs) FROM summaries WHERE fs IS NOT NULL ORDER BY kind;
SELECT rollup(fs) FROM daily;

\echo == attribution and pipeline accessors
SELECT kind, attribution_model(attr), r.* FROM summaries, attribution_report(attr) r
 WHERE attr IS NOT NULL ORDER BY kind, r.channel;
SELECT * FROM attribution_bar_chart((SELECT array_agg(attr ORDER BY kind) FROM summaries WHERE attr IS NOT NULL));
SELECT attribution_svg((SELECT array_agg(attr ORDER BY kind) FROM summaries WHERE attr IS NOT NULL));
SELECT r.* FROM summaries, pipeline_report(pipe) r WHERE pipe IS NOT NULL ORDER BY 1, 2;
SELECT r.* FROM summaries, pipeline_forecast(pipe) r WHERE pipe IS NOT NULL ORDER BY 1;
SELECT r.* FROM summaries, pipeline_forecast(pipe, 'product_view', 10) r WHERE pipe IS NOT NULL ORDER BY 1;
SELECT pipeline_lead_rate(pipe) FROM summaries WHERE pipe IS NOT NULL;
SELECT r.* FROM summaries, pipeline_period_forecast(pipe, '30 days') r WHERE pipe IS NOT NULL ORDER BY 1;

\echo == customer-value models
SELECT expected_purchases(bg, 39, 2, 30.43, 38.86), expected_purchases(bg, 39),
       probability_alive(bg, 2, 30.43, 38.86) FROM models WHERE kind = 'bgnbd';
SELECT expected_average_spend(gg, 2, 35.5) FROM models WHERE kind = 'gamma_gamma';
SELECT ltv(b.bg, g.gg, 2, 30.43, 38.86, 35.5) FROM models b, models g
 WHERE b.kind = 'bgnbd' AND g.kind = 'gamma_gamma';
-- undiscounted: 1.1 changed the discounted remaining lifetime on purpose
-- (test/upgrade.sh checks that change on its own)
SELECT sbg_survival(sbg, 3), sbg_retention_rate(sbg, 3), sbg_expected_remaining_lifetime(sbg, 2)
  FROM models WHERE kind = 'sbg';
SELECT r.* FROM models, cohort_report(cm) r WHERE kind = 'cohorts';
SELECT r.* FROM models, cohort_heatmap(cm) r WHERE kind = 'cohorts';
SELECT * FROM funnel_cost_report(ARRAY[100, 40, 7]::bigint[], 500, ARRAY['a', 'b', 'c']);
SELECT cac_payback_months(120, 25, 0.6);

\echo == indexes
SELECT bt_index_check('stored_events_btree', true);
SELECT c.relname, i.indisvalid, i.indisready FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname IN ('stored_events_btree', 'stored_events_hash', 'daily_day') ORDER BY 1;
-- all rows by a sequential scan, then through each index alone (the other
-- one dropped in a transaction rolled back): the same rows
SELECT count(*) AS rows_seq, count(*) FILTER (WHERE ev >= '2024-03-10 00:00:00+00 {}') AS later_seq
  FROM stored_events;
BEGIN;
DROP INDEX stored_events_hash;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM stored_events WHERE ev >= '2024-03-10 00:00:00+00 {}';
SELECT count(*) AS later_btree FROM stored_events WHERE ev >= '2024-03-10 00:00:00+00 {}';
SELECT id, ev FROM stored_events WHERE ev < '2024-03-02 00:00:00+00 {}' ORDER BY ev, id LIMIT 20;
SELECT id FROM stored_events WHERE ev = '2024-03-01 12:00:00+00 {64}' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT count(*) FROM stored_events s
 WHERE NOT EXISTS (SELECT FROM stored_events t WHERE t.ev = s.ev AND t.id = s.id);
SELECT count(*) AS not_found_btree FROM stored_events s
 WHERE NOT EXISTS (SELECT FROM stored_events t WHERE t.ev = s.ev AND t.id = s.id);
ROLLBACK;
BEGIN;
DROP INDEX stored_events_btree;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM stored_events s
 WHERE NOT EXISTS (SELECT FROM stored_events t WHERE t.ev = s.ev AND t.id = s.id);
SELECT count(*) AS not_found_hash FROM stored_events s
 WHERE NOT EXISTS (SELECT FROM stored_events t WHERE t.ev = s.ev AND t.id = s.id);
SELECT id FROM stored_events WHERE ev = '2024-03-01 12:00:00+00 {64}' ORDER BY id;
ROLLBACK;

\echo == materialized views
SELECT day, fs, counts, conversion, attr, ch_retention FROM daily ORDER BY day;
SELECT * FROM levels ORDER BY user_id;
REFRESH MATERIALIZED VIEW daily;
REFRESH MATERIALIZED VIEW CONCURRENTLY daily;
REFRESH MATERIALIZED VIEW levels;
SELECT day, fs, counts, conversion, attr, ch_retention FROM daily ORDER BY day;
SELECT * FROM levels ORDER BY user_id;
