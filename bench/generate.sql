-- Deterministic generator of the benchmark's web events (bench/run.sh).
--   psql -v users=1000000 -v tbl=events -f bench/generate.sql
-- gives about 10 events per user over 30 days from 2026-01-01 UTC:
--   table :tbl (user_id bigint, ts timestamptz, event text, channel text)
-- written in time order (as an application appends them), the same rows for
-- the same user count on every machine (pseudo-random numbers are hashes of
-- the row's coordinates, no random()).
--
-- Shape (per user):
--   * sessions: 1 + a geometric number (mean about 2); 1% of users are heavy
--     with 20..119 sessions.  Session s of n falls in its own slot of the 720
--     hours, at a random hour in the slot and a random minute 0..9 of it, and
--     lasts under an hour, so no two events of a user share a second.
--   * a session is: visit (3%: other), then 0.. extra events (mean about 0.8: other
--     or product_view), then as deep into product_view, add_to_cart,
--     checkout, purchase as the session goes (55%, then 35%, 60%, 70% to go
--     one step further), 5..54 seconds apart.
--   * each session comes from one channel (direct, organic, paid, email,
--     social, with decreasing shares).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- uniform [0,1) from a bigint and a salt
CREATE OR REPLACE FUNCTION pg_temp.rnd(k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(k, salt) & 9007199254740991)::float8 / 9007199254740992.0 $$;

DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (user_id bigint, ts timestamptz, event text, channel text);

INSERT INTO :tbl
WITH users AS (
    SELECT u,
           CASE WHEN pg_temp.rnd(u, 1) < 0.01
                THEN 20 + floor(pg_temp.rnd(u, 2) * 100)::int
                ELSE 1 + floor(-ln(1.0 - pg_temp.rnd(u, 2)) * 2.5)::int
           END AS nsess
    FROM generate_series(1, :users::bigint) AS u
), sessions AS (
    SELECT u, s, sid, slot,
           (s - 1) * slot + floor(pg_temp.rnd(sid, 3) * slot)::int AS hour,
           floor(pg_temp.rnd(sid, 4) * 600)::int AS second,
           5 + floor(pg_temp.rnd(sid, 5) * 50)::int AS gap,
           -- depth: 0 visit only .. 4 purchase
           CASE WHEN pg_temp.rnd(sid, 6) >= 0.55 THEN 0
                WHEN pg_temp.rnd(sid, 7) >= 0.35 THEN 1
                WHEN pg_temp.rnd(sid, 8) >= 0.60 THEN 2
                WHEN pg_temp.rnd(sid, 9) >= 0.70 THEN 3
                ELSE 4 END AS depth,
           least(floor(-ln(1.0 - pg_temp.rnd(sid, 10)) * 1.2)::int, 40) AS extra,
           CASE WHEN pg_temp.rnd(sid, 11) < 0.35 THEN 'direct'
                WHEN pg_temp.rnd(sid, 11) < 0.65 THEN 'organic'
                WHEN pg_temp.rnd(sid, 11) < 0.85 THEN 'paid'
                WHEN pg_temp.rnd(sid, 11) < 0.95 THEN 'email'
                ELSE 'social' END AS channel
    FROM (SELECT u, s, u * 1024 + s AS sid, greatest(720 / least(nsess, 720), 1) AS slot
          FROM users, generate_series(1, least(nsess, 720)) AS s) x
), ev AS (
    SELECT s.u, s.channel,
           timestamptz '2026-01-01 00:00:00+00'
             + make_interval(secs => s.hour * 3600 + s.second + k * s.gap) AS ts,
           CASE WHEN k = 0 THEN
                     CASE WHEN pg_temp.rnd(s.sid * 64 + k, 12) < 0.03 THEN 'other' ELSE 'visit' END
                WHEN k <= s.extra THEN
                     CASE WHEN pg_temp.rnd(s.sid * 64 + k, 13) < 0.6 THEN 'other' ELSE 'product_view' END
                ELSE (ARRAY['product_view', 'add_to_cart', 'checkout', 'purchase'])[k - s.extra]
           END AS event
    FROM sessions s, generate_series(0, s.extra + s.depth) AS k
)
SELECT u, ts, event, channel FROM ev ORDER BY ts, u;

ANALYZE :tbl;
