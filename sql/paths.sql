-- paths: hand-worked edges, paths, folding into "other", medians,
-- paths_report, paths_top, paths_chart and the errors.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).
SET timezone = 'UTC';

-- Minute n = 2024-01-01 10:00 + n minutes.
--   u1: home 0, cart 1, cart 3, checkout 5, buy 6
--   u2: home 0, cart 2, search 3, cart 10
--   u3: cart 0, checkout 4, buy 5
--   u4: help 0 and 0 again, home 0 (a tie at 0: byte order, "help" < "home")
--   NULL entity, time or event: skipped
-- Repeats in a row are one node whose time is the first's: u1 is
-- home 0, cart 1, checkout 5, buy 6.
CREATE TABLE path_events (u text, ts timestamptz, e text);
INSERT INTO path_events VALUES
  ('u1', '2024-01-01 10:00', 'home'), ('u1', '2024-01-01 10:01', 'cart'),
  ('u1', '2024-01-01 10:03', 'cart'), ('u1', '2024-01-01 10:05', 'checkout'),
  ('u1', '2024-01-01 10:06', 'buy'),
  ('u2', '2024-01-01 10:00', 'home'), ('u2', '2024-01-01 10:02', 'cart'),
  ('u2', '2024-01-01 10:03', 'search'), ('u2', '2024-01-01 10:10', 'cart'),
  ('u3', '2024-01-01 10:00', 'cart'), ('u3', '2024-01-01 10:04', 'checkout'),
  ('u3', '2024-01-01 10:05', 'buy'),
  ('u4', '2024-01-01 10:00', 'home'), ('u4', '2024-01-01 10:00', 'help'),
  ('u4', '2024-01-01 10:00', 'help'),
  (NULL, '2024-01-01 10:00', 'home'), ('u5', NULL, 'home'), ('u5', '2024-01-01 10:00', NULL);

-- From the start event "cart", depth 3, top 3.  Paths:
--   u1 cart 1 -> checkout 5 -> buy 6; u2 cart 2 -> search 3 -> cart 10;
--   u3 cart 0 -> checkout 4 -> buy 5; u4 has no cart.
-- Edges: step 0 cart->checkout 2 (4 min, 4 min: median 4 min),
--   step 0 cart->search 1 (1 min), step 1 checkout->buy 2 (1 min),
--   step 1 search->cart 1 (7 min).
-- Top 3 before folding: cart->checkout, checkout->buy (2 each, step 0
-- first), cart->search (step 0 before step 1).  Kept nodes: cart@0,
-- checkout@1, search@1, buy@2; cart@2 folds into other: search->other 1.
-- After folding the top 3 are the same three edges.
SELECT *, (rank, step, from_event, to_event, entities, median_time) IN (
         (1, 0, 'cart', 'checkout', 2, interval '4 min'),
         (2, 1, 'checkout', 'buy', 2, interval '1 min'),
         (3, 0, 'cart', 'search', 1, interval '1 min')) AS ok
FROM paths_report((SELECT paths(u, ts, e, 'cart', NULL, 3, 3) FROM path_events));

-- Same with top 4: search->cart is the fourth edge of the unfolded graph,
-- so cart@2 is kept and nothing folds.
SELECT *, (rank, step, from_event, to_event, entities, median_time) IN (
         (1, 0, 'cart', 'checkout', 2, interval '4 min'),
         (2, 1, 'checkout', 'buy', 2, interval '1 min'),
         (3, 0, 'cart', 'search', 1, interval '1 min'),
         (4, 1, 'search', 'cart', 1, interval '7 min')) AS ok
FROM paths_report((SELECT paths(u, ts, e, 'cart', NULL, 3, 4) FROM path_events));

-- From each entity's first event, depth 5, top 2 (the default anchor):
--   u1 home 0, cart 1, checkout 5, buy 6; u2 home 0, cart 2, search 3,
--   cart 10; u3 cart 0, checkout 4, buy 5; u4 help 0, home 0.
-- Unfolded edges: step 0 home->cart 2 (1 and 2 min: median 1.5 min),
--   step 0 cart->checkout 1, step 0 help->home 1, step 1 cart->checkout 1,
--   step 1 cart->search 1, step 1 checkout->buy 1, step 2 checkout->buy 1,
--   step 2 search->cart 1.
-- Top 2: home->cart (2), then the step-0 edges of 1 entity in byte order
--   of the from-node: cart->checkout.  Kept: home@0, cart@1, cart@0,
--   checkout@1.  Folded: step 0 home->cart 2, cart->checkout 1,
--   other->other 1 (help@0, home@1); step 1 cart->other 2 (u1 to
--   checkout@2 4 min, u2 to search@2 1 min: median 2.5 min),
--   checkout->other 1; step 2 other->other 2.  Ranked: the three edges of
--   2 by step: home->cart, cart->other (the long tail outranks
--   cart->checkout).
SELECT *, (rank, step, from_event, coalesce(to_event, '(other)'), entities, median_time) IN (
         (1, 0, 'home', 'cart', 2, interval '90 s'),
         (2, 1, 'cart', '(other)', 2, interval '150 s')) AS ok
FROM paths_report((SELECT paths(u, ts, e, NULL, NULL, 5, 2) FROM path_events));
-- the same with the three-argument form (depth 5, top 20): 8 edges, 4
-- entities with a path
SELECT jsonb_array_length(p->'edges') = 8 AND (p->>'entities')::int = 4 AS ok
FROM (SELECT paths(u, ts, e) AS p FROM path_events) s;

-- To the end event "buy", depth 2: u1 cart 1, checkout 5, buy 6 and u3
-- cart 0, checkout 4, buy 5 (steps -2 .. 0); one path of 2 entities, and
-- the edges -2 cart->checkout (4 min) and -1 checkout->buy (1 min).
SELECT *, (rank, path, entities, share) = (1, '{cart,checkout,buy}', 2, 1.0) AS ok
FROM paths_top((SELECT paths(u, ts, e, NULL, 'buy', 2, 5) FROM path_events));
SELECT *, (rank, step, from_event, to_event, entities, median_time) IN (
         (1, -2, 'cart', 'checkout', 2, interval '4 min'),
         (2, -1, 'checkout', 'buy', 2, interval '1 min')) AS ok
FROM paths_report((SELECT paths(u, ts, e, NULL, 'buy', 2, 5) FROM path_events));
-- depth 1 keeps only the node before the end event
SELECT *, (rank, path, entities) = (1, '{checkout,buy}', 2) AS ok
FROM paths_top((SELECT paths(u, ts, e, NULL, 'buy', 1, 5) FROM path_events));

-- From "checkout": u1 checkout -> buy, u3 checkout -> buy; the top paths
-- by entities, then in byte order of their events (a path of the anchor
-- alone counts: "search" has u2 alone)
SELECT *, (rank, path, entities) IN ((1, '{search,cart}', 1)) AS ok
FROM paths_top((SELECT paths(u, ts, e, 'search', NULL, 5, 5) FROM path_events));
SELECT *, (rank, path, entities) IN ((1, '{checkout,buy}', 2)) AS ok
FROM paths_top((SELECT paths(u, ts, e, 'checkout', NULL, 5, 5) FROM path_events));

-- An event no row has: no entity has a path
SELECT paths(u, ts, e, 'never', NULL, 3, 3) AS never FROM path_events;
-- No rows: NULL; only skipped rows: no path
SELECT paths(u, ts, e) IS NULL AS ok FROM path_events WHERE false;
SELECT paths(u, ts, e) AS skipped FROM path_events WHERE u IS NULL OR ts IS NULL OR e IS NULL;

-- Medians: 1, 2, 3, 10 s (even count: (2 + 3) / 2 = 2.5 s) and one of
-- 1 microsecond over an odd count (0, 1, 1000000 microseconds: 1).
SELECT (paths(u, ts, e, 'a', NULL, 1, 1)->'edges'->0->>'median_seconds')::numeric = 2.5 AS ok
FROM (VALUES (1, timestamptz '2024-01-01 00:00:00', 'a'), (1, '2024-01-01 00:00:01', 'b'),
             (2, '2024-01-01 00:00:00', 'a'), (2, '2024-01-01 00:00:02', 'b'),
             (3, '2024-01-01 00:00:00', 'a'), (3, '2024-01-01 00:00:03', 'b'),
             (4, '2024-01-01 00:00:00', 'a'), (4, '2024-01-01 00:00:10', 'b')) v(u, ts, e);
SELECT (paths(u, ts, e, 'a', NULL, 1, 1)->'edges'->0->>'median_seconds')::numeric = 0.000001 AS ok
FROM (VALUES (1, timestamptz '2024-01-01 00:00:00', 'a'), (1, '2024-01-01 00:00:00', 'b'),
             (2, '2024-01-01 00:00:00', 'a'), (2, '2024-01-01 00:00:00.000001', 'b'),
             (3, '2024-01-01 00:00:00', 'a'), (3, '2024-01-01 00:00:01', 'b')) v(u, ts, e);
-- times far apart: 4000 years between the events
SELECT (paths(u, ts, e, 'a', NULL, 1, 1)->'edges'->0->>'median_seconds')::numeric
       = extract(epoch FROM timestamptz '4000-01-01' - timestamptz '0001-01-01') AS ok
FROM (VALUES (1, timestamptz '0001-01-01', 'a'), (1, '4000-01-01', 'b')) v(u, ts, e);

-- Folding: 5 entities go a -> x1 .. x5 (1 each) and 3 go a -> y; with
-- top 1 only y is kept and x1 .. x5 fold into other (5 entities), which
-- ranks above a -> y.
SELECT *, (rank, step, from_event, to_event, entities) IS NOT DISTINCT FROM (1, 0, 'a', NULL, 5) AS ok
FROM paths_report((SELECT paths(u, ts, e, 'a', NULL, 1, 1)
                   FROM (SELECT g AS u, timestamptz '2024-01-01' AS ts, 'a' AS e FROM generate_series(1, 8) g
                         UNION ALL
                         SELECT g, timestamptz '2024-01-02', CASE WHEN g <= 5 THEN 'x' || g ELSE 'y' END
                         FROM generate_series(1, 8) g) v));

-- paths_chart: by step, bars scaled to width (2 entities: 10, 1: 5)
SELECT * FROM paths_chart((SELECT paths(u, ts, e, 'cart', NULL, 3, 20) FROM path_events), 10);

-- Errors
SELECT paths(u, ts, e, 'cart', 'buy', 3, 3) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, 0, 3) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, 21, 3) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, 3, 0) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, 3, 10001) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, NULL, 3) FROM path_events;
SELECT paths(u, ts, e, 'cart', NULL, CASE WHEN u = 'u3' THEN 4 ELSE 3 END, 3) FROM path_events;
SELECT paths(u, ts, e, e, NULL, 3, 3) FROM path_events;
SELECT paths(u, ts, e) FROM (VALUES (1, timestamptz 'infinity', 'a')) v(u, ts, e);
SELECT * FROM paths_chart((SELECT paths(u, ts, e) FROM path_events), 0);
SELECT paths(ARRAY[u], ts, e) FROM path_events;

DROP TABLE path_events;
