-- test/citus.sh: the data of the Citus comparisons, made in schema single
-- (plain tables on the coordinator: the single-node answer) and copied into
-- schema dist (the same rows in distributed tables, by entity, co-located).
-- Deterministic (setseed), with many ties: times on a 10-minute grid, a few
-- events at the same instant as another, rows matching several steps.
SELECT setseed(0.4242);
CREATE SCHEMA single;
CREATE SCHEMA dist;

-- web events: 3000 users, 4 channels, up to 12 events each over 3 weeks
CREATE TABLE single.events (user_id bigint, ts timestamptz, event text, channel text);
INSERT INTO single.events
SELECT u, timestamptz '2024-03-01 00:00+00' + (floor(random() * 3000) * 10) * interval '1 minute',
       (ARRAY['visit', 'view', 'cart', 'buy', 'visit', 'view'])[1 + floor(random() * 6)::int],
       (ARRAY['ads', 'email', 'organic', 'social'])[1 + (u % 4)::int]
FROM generate_series(1, 3000) u, generate_series(1, 1 + (u % 12)::int) k;
-- exact ties: a second event at the same instant as an existing one
INSERT INTO single.events
SELECT user_id, ts, (ARRAY['visit', 'view', 'cart', 'buy'])[1 + (user_id % 4)::int], channel
FROM single.events WHERE user_id % 7 = 0;

-- orders: the CDNOW sample (2,357 customers, 6,919 orders, whole days: many
-- orders of one customer on one day), two channels
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE single.orders (customer_id bigint, ts timestamptz, amount numeric, channel text);
INSERT INTO single.orders
SELECT f[2]::bigint, to_date(f[3], 'YYYYMMDD')::timestamptz, f[5]::numeric,
       (ARRAY['ads', 'email'])[1 + f[2]::int % 2]
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;

-- touchpoints and conversions of 1500 customers (a value = a conversion)
CREATE TABLE single.touchpoints (customer_id bigint, ts timestamptz, channel text, conversion_value numeric);
INSERT INTO single.touchpoints
SELECT c, timestamptz '2024-02-01 00:00+00' + floor(random() * 2000) * interval '30 minutes',
       (ARRAY['search', 'display', 'email', 'social', 'affiliate'])[1 + floor(random() * 5)::int], NULL
FROM generate_series(1, 1500) c, generate_series(1, 1 + (c % 6)::int) k;
INSERT INTO single.touchpoints
SELECT c, timestamptz '2024-02-01 00:00+00' + floor(random() * 2000) * interval '30 minutes', NULL,
       round((20 + random() * 200)::numeric, 2)
FROM generate_series(1, 1500) c WHERE c % 3 <> 0;
-- a conversion at the same instant as a touchpoint
INSERT INTO single.touchpoints
SELECT customer_id, ts, NULL, 50 FROM single.touchpoints WHERE customer_id % 11 = 0 AND channel = 'email';

-- CRM stage history of 800 leads (one row per stage change)
CREATE TABLE single.leads (lead_id bigint, ts timestamptz, stage text);
INSERT INTO single.leads
SELECT l, timestamptz '2024-01-01 00:00+00' + (l % 90) * interval '1 day' + (k - 1) * floor(1 + random() * 5) * interval '2 days',
       (ARRAY['new', 'qualified', 'proposal', 'negotiation'])[k]
FROM generate_series(1, 800) l, generate_series(1, 1 + (l % 4)::int) k;
INSERT INTO single.leads
SELECT lead_id, max(ts) + interval '3 days', CASE WHEN lead_id % 3 = 0 THEN 'won' ELSE 'lost' END
FROM single.leads WHERE lead_id % 5 <> 0 GROUP BY lead_id;
-- two stages entered at one instant
INSERT INTO single.leads
SELECT lead_id, ts, 'qualified' FROM single.leads WHERE lead_id % 13 = 0 AND stage = 'new';

-- spend by channel: a reference table on Citus (a copy on every node)
CREATE TABLE single.channel_costs (channel text PRIMARY KEY, spend numeric);
INSERT INTO single.channel_costs VALUES ('ads', 5000), ('email', 800), ('organic', 0), ('social', 1200);

-- the same rows, distributed by entity and co-located (8 shards)
SET citus.shard_count = 8;
CREATE TABLE dist.events (LIKE single.events);
CREATE TABLE dist.orders (LIKE single.orders);
CREATE TABLE dist.touchpoints (LIKE single.touchpoints);
CREATE TABLE dist.leads (LIKE single.leads);
CREATE TABLE dist.channel_costs (LIKE single.channel_costs INCLUDING ALL);
SELECT create_distributed_table('dist.events', 'user_id');
SELECT create_distributed_table('dist.orders', 'customer_id', colocate_with => 'dist.events');
SELECT create_distributed_table('dist.touchpoints', 'customer_id', colocate_with => 'dist.events');
SELECT create_distributed_table('dist.leads', 'lead_id', colocate_with => 'dist.events');
SELECT create_reference_table('dist.channel_costs');
INSERT INTO dist.events SELECT * FROM single.events;
INSERT INTO dist.orders SELECT * FROM single.orders;
INSERT INTO dist.touchpoints SELECT * FROM single.touchpoints;
INSERT INTO dist.leads SELECT * FROM single.leads;
INSERT INTO dist.channel_costs SELECT * FROM single.channel_costs;
ANALYZE;
