-- Materialized daily funnel reports (recipe of doc/reports.md, run by
-- test/pg_cron.sh).  Expects a table events(user_id, ts, event, channel).
--
-- One row per entry day (the UTC day of the user's first visit) and
-- acquisition channel (the channel of that visit): every user is counted in
-- exactly one row, with all of their events, so rolled-up rows are exactly
-- the funnel of the users who entered in those days.
CREATE MATERIALIZED VIEW funnel_daily AS
SELECT e.entry_day, e.channel,
       funnel_summary('1 day', ev.user_id, ev.ts, ev.event,
                      ARRAY['visit', 'product_view', 'add_to_cart', 'checkout', 'purchase']) AS summary
FROM events ev
JOIN (SELECT user_id,
             (min(ts) AT TIME ZONE 'UTC')::date AS entry_day,
             (array_agg(channel ORDER BY ts))[1] AS channel
      FROM events WHERE event = 'visit' GROUP BY user_id) e USING (user_id)
GROUP BY e.entry_day, e.channel;
-- REFRESH ... CONCURRENTLY needs a unique index; it keeps the view readable
CREATE UNIQUE INDEX ON funnel_daily (entry_day, channel);

-- Any date range, any channels: roll the days up, then report.
CREATE FUNCTION funnel_daily_report(from_day date, to_day date)
RETURNS TABLE (step integer, name text, entities bigint,
               conversion_from_previous double precision, conversion_from_start double precision,
               drop_off bigint, drop_off_rate double precision,
               median_time_from_start interval, p90_time_from_start interval)
LANGUAGE sql STABLE AS $$
  SELECT r.*
  FROM (SELECT rollup(summary) AS s FROM funnel_daily
        WHERE entry_day BETWEEN from_day AND to_day) d,
       funnel_report(d.s, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase']) r
$$;

-- For BI tools (Metabase, Superset, Grafana): one view with stable columns,
-- one row per week, channel and step.
CREATE VIEW funnel_weekly_bi AS
SELECT w.week, w.channel, r.*
FROM (SELECT date_trunc('week', entry_day)::date AS week, channel, rollup(summary) AS s
      FROM funnel_daily GROUP BY 1, 2) w,
     funnel_report(w.s, ARRAY['visit', 'product view', 'add to cart', 'checkout', 'purchase']) r;
