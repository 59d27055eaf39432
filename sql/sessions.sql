--
-- sessions: session_number (window function) and session_numbers (stored
-- journeys).  Each row carries the session numbers worked out by hand from
-- the rule (new session after more than the gap without events, after more
-- than max_length since the session's first row, or on the condition); the
-- queries print them beside the function's answer.
--
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE TABLE sess_ev (u int, ts timestamptz, campaign text,
                      want_30m int, want_10m int, want_1h_max30m int, want_campaign int);
INSERT INTO sess_ev VALUES
 -- 10 minutes, then exactly 30 (not more than the gap: same session), a
 -- second later, then 39m59s: a new session under the default gap
 (1, '2024-01-01 10:00:00', NULL, 1, 1, 1, 1),
 (1, '2024-01-01 10:10:00', 'a',  1, 1, 1, 2),
 (1, '2024-01-01 10:40:00', 'a',  1, 2, 2, 2),
 (1, '2024-01-01 10:40:01', 'b',  1, 2, 2, 3),
 (1, '2024-01-01 11:20:00', NULL, 2, 3, 3, 3),
 -- rows at one time never split, even with a zero gap
 (2, '2024-01-01 10:00:00', 'a',  1, 1, 1, 1),
 (2, '2024-01-01 10:00:00', 'a',  1, 1, 1, 1),
 (2, '2024-01-02 10:00:00', 'a',  2, 2, 2, 2),
 -- a NULL time has no session and does not count
 (3, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, '2024-01-01 00:00:00', NULL, 1, 1, 1, 1);

SELECT u, ts,
       session_number(ts) OVER w AS s30m, want_30m,
       session_number(ts, '10 minutes') OVER w AS s10m, want_10m,
       session_number(ts, '1 hour', '30 minutes') OVER w AS s1h_max30m, want_1h_max30m,
       session_number(ts, '1 hour', NULL, campaign IS DISTINCT FROM prev_campaign AND campaign IS NOT NULL)
           OVER w AS s_campaign, want_campaign
  FROM (SELECT *, lag(campaign) OVER (PARTITION BY u ORDER BY ts) AS prev_campaign FROM sess_ev) e
WINDOW w AS (PARTITION BY u ORDER BY ts)
 ORDER BY u, ts;

-- a zero gap: every new time is a new session
SELECT u, ts, session_number(ts, '0') OVER (PARTITION BY u ORDER BY ts)
  FROM sess_ev WHERE u = 2 ORDER BY ts;

-- a funnel within one session: (user, session) is the entity; by hand:
-- 6 sessions, 4 with an "a" (u1 s1, u1 s2, u2 s1, u2 s2), 1 with "a" then "b"
WITH s AS (
  SELECT u, ts, campaign, session_number(ts, '10 minutes') OVER (PARTITION BY u ORDER BY ts) AS session
    FROM sess_ev WHERE ts IS NOT NULL)
SELECT funnel_stage_counts('1 day', ARRAY[u, session], ts, campaign = 'a', campaign = 'b') FROM s;

-- stored journeys: numbers in the array's order, NULL for a NULL element
SELECT session_numbers(ARRAY['2024-01-01 10:40:00+00 {1}', NULL, '2024-01-01 10:00:00+00 {}',
                             '2024-01-01 10:10:00+00 {2}']::funnel_event[], '15 minutes');
SELECT session_numbers(ARRAY['2024-01-01 10:40:00+00 {1}', '2024-01-01 10:00:00+00 {}',
                             '2024-01-01 10:10:00+00 {2}']::funnel_event[], '1 hour', NULL, 2);
SELECT session_numbers(ARRAY['2024-01-01 10:00:00+00 {}', '2024-01-01 10:25:00+00 {}',
                             '2024-01-01 10:50:00+00 {}']::funnel_event[], '30 minutes', '45 minutes');
SELECT session_numbers('{}'::funnel_event[]), session_numbers(NULL::funnel_event[]);

-- the first and the last timestamps (109,203,528 days apart): a gap of
-- 290000 years (a year of 360 days: 104,400,000 days) splits them
SELECT ts, session_number(ts, '290000 years') OVER (ORDER BY ts)
  FROM (VALUES ('4714-11-24 00:00:00+00 BC'::timestamptz), ('294276-12-31 23:59:59.999999+00')) v(ts);

-- errors
SELECT session_number(ts, '310000 years') OVER (ORDER BY ts) FROM sess_ev;
SELECT session_number(ts, '-1 second') OVER (ORDER BY ts) FROM sess_ev;
SELECT session_number(ts, NULL) OVER (ORDER BY ts) FROM sess_ev;
SELECT session_number(ts, '1 hour', '-1 day') OVER (ORDER BY ts) FROM sess_ev;
SELECT session_number(ts) OVER (PARTITION BY u ORDER BY ts DESC) FROM sess_ev;
SELECT session_number('infinity'::timestamptz) OVER ();
SELECT session_numbers(ARRAY['2024-01-01 10:00:00+00 {}']::funnel_event[], '1 hour', NULL, 65);
SELECT session_numbers(ARRAY[['2024-01-01 10:00:00+00 {}']]::funnel_event[]);
DROP TABLE sess_ev;
