-- attribution: touchpoints at one timestamp share the credit of their
-- position (their order in SQL input is not defined, and the channel names
-- must not decide it); renaming the channels does not change any credit.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(12);

CREATE FUNCTION pg_temp.d(n numeric) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT timestamptz '2024-01-01 00:00+00' + n * interval '1 day' $$;
-- credit by channel as sorted text, names mapped back through a renaming
CREATE FUNCTION pg_temp.credit(s attribution_summary, renamed jsonb DEFAULT '{}') RETURNS text[] LANGUAGE sql AS $$
    WITH back AS (SELECT value AS new, key AS old FROM jsonb_each_text(renamed))
    SELECT array_agg(x ORDER BY x) FROM (
        SELECT coalesce(b.old, r.channel, '-') || ':' || round(r.conversions::numeric, 9) || ':' || round(r.value, 6) AS x
        FROM attribution_report(s) r LEFT JOIN back b ON b.new = r.channel) y $$;

-- j1 (entity 1): A and B on day 0, conversion 10 on day 1.
-- j2 (entity 2): A and B on day 0, C on day 1, D on day 2, conversion 20 on day 3.
--   first_touch: j1 A, B 1/2 each; j2 A, B 1/2 each:
--     A 1 (5 + 10 = 15), B 1 (15)
--   last_touch: j1 A, B 1/2; j2 D 1: A 0.5 (5), B 0.5 (5), D 1 (20)
--   position_based: j1 has one position (A, B share it): 1/2 each;
--     j2 positions {A, B}, {C}, {D}: the first 40% shared, C 20%, D 40%:
--     A 0.5 + 0.2 = 0.7 (5 + 4 = 9), B 0.7 (9), C 0.2 (4), D 0.4 (8)
--   linear (no order needed): j1 1/2 each; j2 1/4 each:
--     A 0.75 (10), B 0.75 (10), C 0.25 (5), D 0.25 (5)
CREATE TEMP TABLE tp (e int, ts timestamptz, ch text, v numeric);
INSERT INTO tp VALUES (1, pg_temp.d(0), 'A', NULL), (1, pg_temp.d(0), 'B', NULL), (1, pg_temp.d(1), NULL, 10),
    (2, pg_temp.d(0), 'A', NULL), (2, pg_temp.d(0), 'B', NULL), (2, pg_temp.d(1), 'C', NULL),
    (2, pg_temp.d(2), 'D', NULL), (2, pg_temp.d(3), NULL, 20);
CREATE TEMP TABLE renamed AS SELECT '{"A": "zz", "B": "aa", "C": "mm", "D": "00"}'::jsonb AS map;

SELECT is(pg_temp.credit(attribution('first_touch', e, ts, ch, v)),
          ARRAY['A:' || round(1.0, 9) || ':' || round(15.0, 6), 'B:' || round(1.0, 9) || ':' || round(15.0, 6),
                'C:' || round(0.0, 9) || ':' || round(0.0, 6), 'D:' || round(0.0, 9) || ':' || round(0.0, 6)],
          'first_touch: tied first touchpoints share the credit') FROM tp;
SELECT is(pg_temp.credit(attribution('last_touch', e, ts, ch, v)),
          ARRAY['A:' || round(0.5, 9) || ':' || round(5.0, 6), 'B:' || round(0.5, 9) || ':' || round(5.0, 6),
                'C:' || round(0.0, 9) || ':' || round(0.0, 6), 'D:' || round(1.0, 9) || ':' || round(20.0, 6)],
          'last_touch: tied last touchpoints share the credit') FROM tp;
SELECT is(pg_temp.credit(attribution('position_based', e, ts, ch, v)),
          ARRAY['A:' || round(0.7, 9) || ':' || round(9.0, 6), 'B:' || round(0.7, 9) || ':' || round(9.0, 6),
                'C:' || round(0.2, 9) || ':' || round(4.0, 6), 'D:' || round(0.4, 9) || ':' || round(8.0, 6)],
          'position_based: tied touchpoints share their position') FROM tp;
SELECT is(pg_temp.credit(attribution('linear', e, ts, ch, v)),
          ARRAY['A:' || round(0.75, 9) || ':' || round(10.0, 6), 'B:' || round(0.75, 9) || ':' || round(10.0, 6),
                'C:' || round(0.25, 9) || ':' || round(5.0, 6), 'D:' || round(0.25, 9) || ':' || round(5.0, 6)],
          'linear') FROM tp;

-- Markov with a tie.  j1 (entity 1): A and B on day 0, conversion on day 1;
-- j2 (entity 2): A, no conversion.  The order of A and B in j1 is unknown:
-- each order counts half (start -> A or B, A -> B or B -> A, then A or B
-- -> conversion, 1/2 each).  Transitions out: A: A->B 1/2, conversion 1/2,
-- null 1 (of 2); B: B->A 1/2, conversion 1/2 (of 1).  Start: A 3/2, B 1/2.
--   x_A = 1/4 + 1/4 x_B, x_B = 1/2 + 1/2 x_A: x_A = 3/7, x_B = 5/7,
--   P = 3/4 * 3/7 + 1/4 * 5/7 = 1/2.
--   Without A: x_B = 1/2, P = 1/8, removal effect 3/4;
--   without B: x_A = 1/4, P = 3/16, removal effect 5/8.
--   A gets 3/4 / (3/4 + 5/8) = 6/11 of the conversion, B 5/11.
CREATE TEMP TABLE mk (e int, ts timestamptz, ch text, v numeric);
INSERT INTO mk VALUES (1, pg_temp.d(0), 'A', NULL), (1, pg_temp.d(0), 'B', NULL), (1, pg_temp.d(1), NULL, 11),
    (2, pg_temp.d(0), 'A', NULL);
SELECT is(pg_temp.credit(attribution('markov', e, ts, ch, v)),
          ARRAY['A:' || round(6 / 11.0, 9) || ':' || round(6.0, 6), 'B:' || round(5 / 11.0, 9) || ':' || round(5.0, 6)],
          'markov: tied touchpoints count in both orders, half each') FROM mk;

-- renaming the channels (so that they sort the other way round) changes no
-- credit, under every model
SELECT is((SELECT pg_temp.credit(attribution(m, e, ts, map ->> ch, v), map) FROM tp, renamed GROUP BY map),
          (SELECT pg_temp.credit(attribution(m, e, ts, ch, v)) FROM tp), 'renamed channels: ' || m)
FROM unnest(ARRAY['first_touch', 'last_touch', 'position_based', 'time_decay', 'markov']) m;
SELECT is((SELECT pg_temp.credit(attribution('markov', e, ts, map ->> ch, v), map) FROM mk, renamed GROUP BY map),
          (SELECT pg_temp.credit(attribution('markov', e, ts, ch, v)) FROM mk), 'renamed channels: markov with a tie');
-- a tie of three with a repeated channel (A, A, B at one time) in a longer
-- journey: the names still do not matter
INSERT INTO tp VALUES (3, pg_temp.d(0), 'C', NULL), (3, pg_temp.d(1), 'A', NULL), (3, pg_temp.d(1), 'A', NULL),
    (3, pg_temp.d(1), 'B', NULL), (3, pg_temp.d(2), 'D', NULL), (3, pg_temp.d(2), NULL, 7), (3, pg_temp.d(4), 'B', NULL);
SELECT is((SELECT pg_temp.credit(attribution('markov', e, ts, map ->> ch, v), map) FROM tp, renamed GROUP BY map),
          (SELECT pg_temp.credit(attribution('markov', e, ts, ch, v)) FROM tp),
          'renamed channels: markov, a tie of three with a repeat');

SELECT * FROM finish();
ROLLBACK;
