-- funnel_correlation: hand-worked drivers, odds ratios and Fisher p-values,
-- funnel_correlation_report, and the errors.
--
-- Each query shows our result and whether it equals the value worked out by
-- hand in the comments (ok).
SET timezone = 'UTC';

-- Funnel visit -> buy, window 1 day; channel is the property.
--   u1: visit 10:00 (ads), help 10:05 (ads), buy 10:10: converts; help lies
--       between entry and conversion; ads seen.
--   u2: visit 10:00 (mail), help 10:05: drops off (end = entry + 1 day).
--   u3: visit 10:00 (ads), faq 10:03, buy 10:10, help 10:20: converts; help
--       after the conversion does not count.
--   u4: visit 10:00 (mail), help 2024-01-02 10:00 (mail): drops off; help
--       at exactly entry + window is not strictly inside, mail at the end
--       is (property values count from entry to end, both included).
--   u5: help, never visits: did not enter.
-- Converters S = 2 (u1, u3), non-converters F = 2 (u2, u4).
-- help: s = 1, f = 1: odds ratio (1+1)(2-1+1) / ((2-1+1)(1+1)) = 1,
--       Fisher [[1, 1], [1, 1]]: p = 1.
-- faq:  s = 1, f = 0: (2)(3) / ((2)(1)) = 3; Fisher [[1, 0], [1, 2]]:
--       tables with a = 0, 1, 2 have probabilities 1/2, 1/2... (margins
--       row 1, col 2, n 4: C(2,a)C(2,1-a)/C(4,1) = 1/2, 1/2): p = 1.
-- ads:  s = 2, f = 0: (3)(3) / ((1)(1)) = 9; Fisher [[2, 0], [0, 2]]:
--       P(a = 2) = P(a = 0) = 1/6, P(a = 1) = 4/6: p = 1/3.
-- mail: s = 0, f = 2: (1)(1) / ((3)(3)) = 1/9; p = 1/3.
CREATE TABLE corr_events (u text, ts timestamptz, e text, ch text);
INSERT INTO corr_events VALUES
  ('u1', '2024-01-01 10:00', 'visit', 'ads'), ('u1', '2024-01-01 10:05', 'help', 'ads'),
  ('u1', '2024-01-01 10:10', 'buy', NULL),
  ('u2', '2024-01-01 10:00', 'visit', 'mail'), ('u2', '2024-01-01 10:05', 'help', NULL),
  ('u3', '2024-01-01 10:00', 'visit', 'ads'), ('u3', '2024-01-01 10:03', 'faq', NULL),
  ('u3', '2024-01-01 10:10', 'buy', NULL), ('u3', '2024-01-01 10:20', 'help', NULL),
  ('u4', '2024-01-01 10:00', 'visit', 'mail'), ('u4', '2024-01-02 10:00', 'help', 'mail'),
  ('u5', '2024-01-01 10:00', 'help', 'seo'),
  (NULL, '2024-01-01 10:00', 'visit', 'ads'), ('u6', NULL, 'visit', 'ads');

SELECT c->>'converters' AS converters, c->>'non_converters' AS non_converters,
       (c->>'converters', c->>'non_converters') = ('2', '2') AS ok
FROM (SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], 0, ch) AS c FROM corr_events) s;

SELECT d->>'kind' AS kind, d->>'name' AS name, d->>'converters' AS s, d->>'non_converters' AS f,
       round((d->>'odds_ratio')::numeric, 6) AS odds_ratio, round((d->>'p_value')::numeric, 6) AS p_value,
       (d->>'kind', d->>'name', (d->>'converters')::int, (d->>'non_converters')::int,
        round((d->>'odds_ratio')::numeric, 6), round((d->>'p_value')::numeric, 6)) IN (
         ('property', 'ads', 2, 0, 9, 0.333333),
         ('event', 'faq', 1, 0, 3, 1),
         ('event', 'help', 1, 1, 1, 1),
         ('property', 'mail', 0, 2, 0.111111, 0.333333)) AS ok
FROM (SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], 0, ch) AS c FROM corr_events) s,
     jsonb_array_elements(c->'drivers') AS d;

-- The report: positive drivers (odds ratio above 1) largest first, then
-- negative ones smallest first; help (odds ratio 1) is neither.
SELECT *, (direction, rank, driver) IN (('positive', 1, 'ads'), ('positive', 2, 'faq'),
                                       ('negative', 1, 'mail')) AS ok
FROM funnel_correlation_report((SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], 0, ch)
                                FROM corr_events));
SELECT count(*) = 2 AS ok
FROM funnel_correlation_report((SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], 0, ch)
                                FROM corr_events), 1);

-- Without a property (and with PostHog's threshold: min(25, 2% of 4
-- entities) = 0.08, so every event counts): faq and help.
SELECT d->>'name' AS name, d->>'odds_ratio' AS odds_ratio,
       d->>'name' IN ('faq', 'help') AS ok, (c->>'min_count')::numeric = 0.08 AS ok_threshold
FROM (SELECT funnel_correlation('1 day', u, ts, e, ARRAY['visit', 'buy']) AS c FROM corr_events) s,
     jsonb_array_elements(c->'drivers') AS d;

-- min_count 2: only the drivers of 2 entities or more (ads, help, mail)
SELECT string_agg(d->>'name', ',' ORDER BY d->>'name') = 'ads,help,mail' AS ok
FROM (SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], 2, ch) AS c FROM corr_events) s,
     jsonb_array_elements(c->'drivers') AS d;

-- A window of 4 minutes: u1 and u3 no longer convert (buy 10 minutes after
-- visit), so nobody does: no driver can be told from the others (as
-- PostHog, no driver at all rather than odds ratios of the smoothing only).
SELECT c->>'converters' AS converters, c->>'non_converters' AS non_converters, c->'drivers' AS drivers,
       (c->>'converters', c->>'non_converters', c->'drivers') = ('0', '4', '[]'::jsonb) AS ok
FROM (SELECT funnel_correlation('4 min', u, ts, e, ARRAY['visit', 'buy']) AS c FROM corr_events) s;

-- No rows: NULL
SELECT funnel_correlation('1 day', u, ts, e, ARRAY['visit', 'buy']) IS NULL AS ok FROM corr_events WHERE false;

-- Errors
SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], -1, ch) FROM corr_events;
SELECT funnel_correlation('1 day', '', u, ts, e, ARRAY['visit', 'buy'], length(u), ch) FROM corr_events;
SELECT funnel_correlation('1 day', 'strict', u, ts, e, ARRAY['visit', 'buy'], 0, ch) FROM corr_events;
SELECT funnel_correlation(NULL, u, ts, e, ARRAY['visit', 'buy']) FROM corr_events;
SELECT funnel_correlation('1 day', u, ts, e, NULL) FROM corr_events;
SELECT funnel_correlation('1 day', u, ts, e, CASE WHEN u = 'u3' THEN ARRAY['visit'] ELSE ARRAY['visit', 'buy'] END) FROM corr_events;
SELECT * FROM funnel_correlation_report((SELECT funnel_correlation('1 day', u, ts, e, ARRAY['visit', 'buy']) FROM corr_events), 0);

DROP TABLE corr_events;
