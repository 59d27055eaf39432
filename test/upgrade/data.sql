-- test/upgrade.sh: values of every stored type of the extension, made by
-- release 1.0 (its SQL and its library) and kept in tables, materialized
-- views over the aggregates, and a btree and a hash index on funnel_event.  Deterministic (no random()); run from the repository root.
\set ON_ERROR_STOP on
SET TimeZone = 'UTC';
CREATE EXTENSION IF NOT EXISTS amcheck;

-- 300 users, 5 steps, times and depths from arithmetic on the user number
CREATE TABLE events (user_id bigint, ts timestamptz, event text, channel text);
INSERT INTO events
SELECT u, timestamptz '2024-03-01 00:00+00' + (u % 17) * interval '1 day' + (k - 1) * ((u * 37) % 3600 + 60) * interval '1 second',
       (ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase'])[k],
       (ARRAY['ads', 'email', 'organic', 'social'])[1 + (u * 7 + k) % 4]
  FROM generate_series(1, 300) u, generate_series(1, 5) k
 WHERE k <= 1 + (u * 13) % 5;

-- funnel_event and funnel_event[], with a btree and a hash index
CREATE TABLE stored_events (id serial PRIMARY KEY, user_id bigint, ev funnel_event);
INSERT INTO stored_events (user_id, ev)
SELECT user_id, funnel_event(ts, event = 'visit', event = 'product_view', event = 'add_to_cart',
                             event = 'checkout', event = 'purchase')
  FROM events ORDER BY user_id, ts;
-- extreme and multi-step values
INSERT INTO stored_events (user_id, ev) VALUES
  (0, '4713-01-01 00:00:00+00 BC {1,64}'), (0, '294276-12-31 23:59:59.999999+00 {2,3}'),
  (0, funnel_event('2024-03-01 12:00+00', 64)), (0, '2024-03-01 12:00:00+00 {}');
CREATE INDEX stored_events_btree ON stored_events USING btree (ev);
CREATE INDEX stored_events_hash ON stored_events USING hash (ev);

CREATE TABLE journeys AS
SELECT user_id, array_agg(ev ORDER BY ev) AS journey FROM stored_events GROUP BY user_id;

-- funnel_summary, attribution_summary, pipeline_summary
CREATE TABLE summaries (kind text PRIMARY KEY, fs funnel_summary, attr attribution_summary,
                        pipe pipeline_summary);
INSERT INTO summaries (kind, fs)
SELECT 'funnel', funnel_summary('1 day', user_id, ts, event = 'visit', event = 'product_view',
                                event = 'add_to_cart', event = 'checkout', event = 'purchase')
  FROM events;
INSERT INTO summaries (kind, fs)
SELECT 'funnel names strict_order', funnel_summary('2 hours', 'strict_order', user_id, ts, event,
                                                   ARRAY['visit', 'add_to_cart', 'purchase'])
  FROM events;
-- every mode, with a window of an hour and one of 97 seconds that only a few
-- users' step gaps fit in (user 1's gap equals it: a time at the window's
-- edge, steps of few users), and from stored funnel_event values (extreme
-- times included)
INSERT INTO summaries (kind, fs)
SELECT 'funnel ' || m || ' ' || w,
       funnel_summary(w::interval, m, user_id, ts, event = 'visit', event = 'product_view',
                      event = 'add_to_cart', event = 'checkout', event = 'purchase')
  FROM events, unnest(ARRAY['strict_deduplication', 'strict_order', 'strict_increase', 'strict_once',
                            'strict_order, allow_reentry']) m, unnest(ARRAY['1 hour', '97 seconds']) w
 GROUP BY m, w;
INSERT INTO summaries (kind, fs)
SELECT 'funnel events', funnel_summary('1 day', user_id, ev) FROM stored_events;
-- touchpoints: every event with a channel; a purchase converts with a value
INSERT INTO summaries (kind, attr)
SELECT 'attribution ' || m,
       attribution(m, user_id, ts, CASE WHEN event <> 'purchase' THEN channel END,
                   CASE WHEN event = 'purchase' THEN 10 + user_id % 7 END)
  FROM events, unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based',
                            'time_decay(2 days)', 'markov']) m
 GROUP BY m;
-- a CRM history: the deepest step names the deal's stage, won or lost at the end
CREATE TABLE deals AS
SELECT user_id AS deal, ts,
       CASE WHEN event = 'purchase' THEN 'won'
            WHEN event = 'checkout' AND user_id % 3 = 0 THEN 'lost'
            ELSE event END AS stage
  FROM events;
-- deals that go back and forth (a 1.0 summary counts transitions only: its
-- deals per transition are the transitions) and stages entered at one time
INSERT INTO deals VALUES
  (1001, '2024-03-01 00:00+00', 'visit'), (1001, '2024-03-02 00:00+00', 'product_view'),
  (1001, '2024-03-03 00:00+00', 'visit'), (1001, '2024-03-04 00:00+00', 'product_view'),
  (1001, '2024-03-05 00:00+00', 'won'),
  (1002, '2024-03-01 00:00+00', 'visit'), (1002, '2024-03-01 00:00+00', 'product_view'),
  (1002, '2024-03-06 00:00+00', 'add_to_cart'), (1002, '2024-03-06 00:00+00', 'lost');
INSERT INTO summaries (kind, pipe)
SELECT 'pipeline', pipeline_model(deal, ts, stage, ARRAY['won', 'lost']) FROM deals;

-- fitted models (CDNOW sample, weeks) and a cohort matrix
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE orders AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts, f[5]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;
CREATE TABLE rfm AS
SELECT customer, (customer_rfm(ts, amount, '1997-09-30', '7 days')).* FROM orders
 WHERE ts <= '1997-09-30' GROUP BY customer;
CREATE TABLE models (kind text PRIMARY KEY, bg bgnbd_model, gg gamma_gamma_model, sbg sbg_model,
                     cm cohort_matrix, rfm rfm_summary, cv customer_value_report);
INSERT INTO models (kind, bg) SELECT 'bgnbd', bgnbd_fit(frequency, recency, t) FROM rfm;
INSERT INTO models (kind, gg) SELECT 'gamma_gamma', gamma_gamma_fit(frequency, monetary_value) FROM rfm;
INSERT INTO models (kind, sbg) VALUES ('sbg', sbg_fit(ARRAY[1000, 631, 468, 382, 326, 289, 262, 241]::bigint[]));
INSERT INTO models (kind, cm) SELECT 'cohorts', cohort_retention(customer, ts) FROM orders;
INSERT INTO models (kind, rfm) SELECT 'rfm', customer_rfm(ts, amount, '1997-09-30') FROM orders WHERE customer = 4;
INSERT INTO models (kind, cv) SELECT 'ltv_report', ltv_report(customer, ts, amount) FROM orders;

-- the materialized-report recipe: one summary per day, rolled up on read
CREATE MATERIALIZED VIEW daily AS
SELECT date_trunc('day', ts) AS day,
       funnel_summary('1 day', user_id, ts, event = 'visit', event = 'add_to_cart', event = 'purchase') AS fs,
       funnel_stage_counts('1 day', user_id, ts, event = 'visit', event = 'add_to_cart', event = 'purchase') AS counts,
       funnel_conversion('1 day', user_id, ts, event = 'visit', event = 'add_to_cart', event = 'purchase') AS conversion,
       attribution('linear', user_id, ts, CASE WHEN event <> 'purchase' THEN channel END,
                   CASE WHEN event = 'purchase' THEN 1 END) AS attr,
       retention(event = 'visit', event = 'purchase') AS ch_retention
  FROM events GROUP BY 1;
CREATE UNIQUE INDEX daily_day ON daily (day);
CREATE MATERIALIZED VIEW levels AS
SELECT user_id, window_funnel('1 hour', ts, event = 'visit', event = 'product_view', event = 'purchase') AS level,
       time_to_convert('1 day', ts, event = 'visit', event = 'purchase') AS to_purchase,
       (SELECT window_funnel('1 day', 'strict_increase', s.ev) FROM stored_events s
         WHERE s.user_id = e.user_id) AS level_ev
  FROM events e
 GROUP BY user_id;
ANALYZE;
