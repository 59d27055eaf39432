-- The NOTICEs of ltv and ltv_report when a group's spend cannot be modelled:
-- the prediction is NULL and the NOTICE says why, in PostgreSQL's message
-- style (doc/errors.md): a short primary message, the reason as DETAIL.
-- Data: the CDNOW sample (2357 customers), on which the BG/NBD fit succeeds.
CREATE TEMP TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TEMP TABLE cdnow_orders AS
SELECT f[2]::integer AS customer, to_date(f[3], 'YYYYMMDD')::timestamptz AS ts, f[5]::numeric AS amount
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM cdnow_raw) s;
-- only one customer's repeat purchases are paid: no spend model
SELECT ltv(customer, ts, CASE WHEN customer = (SELECT min(customer) FROM cdnow_orders) THEN amount ELSE 0 END) IS NULL
       AS no_prediction
  FROM cdnow_orders;
-- one order of 10 per customer and day: every repeat customer spends 10 on average
SELECT ltv(customer, ts, 10) IS NULL AS no_prediction
  FROM (SELECT DISTINCT customer, ts FROM cdnow_orders) d;
SELECT predicted_ltv IS NULL AS no_prediction
  FROM (SELECT (ltv_report(customer, ts, 10)).*
          FROM (SELECT DISTINCT customer, ts FROM cdnow_orders) d) r;
