-- Demo: sessions and ClickHouse's sequence functions on the web shop's
-- events (demo/10_web_shop.sql): sessions by 30 minutes of inactivity, a
-- funnel within one session, patterns with time conditions, and what people
-- did after adding to cart instead of checking out.
SET timezone = 'UTC';

\echo
\echo '=== Sessions: session_number() OVER (PARTITION BY user ORDER BY ts), 30 minutes of inactivity ==='
\set QUIET on
CREATE TABLE demo_web_sessions AS
SELECT user_id, ts, event, session_number(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS session
  FROM demo_web_events;
\set QUIET off
SELECT sessions_per_user, count(*) AS users
  FROM (SELECT user_id, max(session) AS sessions_per_user FROM demo_web_sessions GROUP BY user_id) s
 GROUP BY 1 ORDER BY 1;

\echo
\echo '--- The 4-step funnel across a user''s sessions and within one session ((user, session) as the entity)'
SELECT 'users (1 day)' AS entity,
       funnel_stage_counts('1 day', user_id, ts, event = 'visit', event = 'product_view',
                           event = 'add_to_cart', event = 'purchase') AS per_step
  FROM demo_web_sessions
UNION ALL
SELECT 'sessions',
       funnel_stage_counts('1 day', ARRAY[user_id, session], ts, event = 'visit', event = 'product_view',
                           event = 'add_to_cart', event = 'purchase')
  FROM demo_web_sessions;

\echo
\echo '=== sequence_match / sequence_count (ClickHouse sequenceMatch / sequenceCount) ==='
\echo '--- Users who added to cart and checked out within 10 minutes, and those who took longer'
SELECT count(*) FILTER (WHERE fast) AS checkout_within_10_min,
       count(*) FILTER (WHERE NOT fast AND slow) AS checkout_later
  FROM (SELECT user_id,
               sequence_match('(?1)(?t<=600)(?2)', ts, event = 'add_to_cart', event = 'checkout') AS fast,
               sequence_match('(?1).*(?2)', ts, event = 'add_to_cart', event = 'checkout') AS slow
          FROM demo_web_events GROUP BY user_id) s;

\echo '--- Visits followed by a product view in the same minute, per user (non-overlapping matches)'
SELECT matches, count(*) AS users
  FROM (SELECT user_id, sequence_count('(?1)(?t<60)(?2)', ts, event = 'visit', event = 'product_view') AS matches
          FROM demo_web_events GROUP BY user_id) s
 GROUP BY matches ORDER BY matches;

\echo
\echo '=== sequence_next_node (ClickHouse sequenceNextNode) ==='
\echo '--- What did people do right after adding to cart (instead of checking out)?'
SELECT coalesce(next_event, '(nothing)') AS next_event, count(*) AS users,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
  FROM (SELECT user_id,
               sequence_next_node('forward', 'first_match', ts, event, true, event = 'add_to_cart') AS next_event
          FROM demo_web_events GROUP BY user_id
        HAVING bool_or(event = 'add_to_cart')) s
 GROUP BY 1 ORDER BY users DESC;

\echo '--- And what came just before the purchase?'
SELECT previous_event, count(*) AS users
  FROM (SELECT user_id,
               sequence_next_node('backward', 'last_match', ts, event, true, event = 'purchase') AS previous_event
          FROM demo_web_events GROUP BY user_id) s
 WHERE previous_event IS NOT NULL
 GROUP BY 1 ORDER BY users DESC;
