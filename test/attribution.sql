-- attribution: hand-computed credit for every model, the Markov removal
-- effects worked out by hand, conservation of credit, errors, storage,
-- parallel and serial plans.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(77);

-- credit of one channel under one model, rounded to 9 places
CREATE FUNCTION pg_temp.credit(s attribution_summary, ch text) RETURNS numeric
    LANGUAGE sql AS $$
    SELECT round(coalesce(sum(conversions), 0)::numeric, 9) FROM attribution_report(s)
    WHERE channel IS NOT DISTINCT FROM ch $$;
CREATE FUNCTION pg_temp.val(s attribution_summary, ch text) RETURNS numeric
    LANGUAGE sql AS $$
    SELECT round(coalesce(sum(value), 0), 6) FROM attribution_report(s)
    WHERE channel IS NOT DISTINCT FROM ch $$;

CREATE FUNCTION pg_temp.hint(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;

-- touchpoints and conversions; day n = 2024-01-01 + n days
CREATE TEMP TABLE tp (journey text, e int, ts timestamptz, ch text, v numeric);
CREATE FUNCTION pg_temp.d(n numeric) RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT timestamptz '2024-01-01 00:00+00' + n * interval '1 day' $$;

-- j1: one touchpoint: email (day 0), conversion 100 (day 1)
INSERT INTO tp VALUES ('j1', 1, pg_temp.d(0), 'email', NULL), ('j1', 1, pg_temp.d(1), NULL, 100);
-- j2: two: search (day 0), email (day 2), conversion 50 (day 3)
INSERT INTO tp VALUES ('j2', 2, pg_temp.d(0), 'search', NULL), ('j2', 2, pg_temp.d(2), 'email', NULL),
                      ('j2', 2, pg_temp.d(3), NULL, 50);
-- j5: five with repeats: A B A C A on days 0..4, conversion 10 on day 5
INSERT INTO tp VALUES ('j5', 5, pg_temp.d(0), 'A', NULL), ('j5', 5, pg_temp.d(1), 'B', NULL),
                      ('j5', 5, pg_temp.d(2), 'A', NULL), ('j5', 5, pg_temp.d(3), 'C', NULL),
                      ('j5', 5, pg_temp.d(4), 'A', NULL), ('j5', 5, pg_temp.d(5), NULL, 10);
-- j0: a conversion of 7 without any touchpoint
INSERT INTO tp VALUES ('j0', 9, pg_temp.d(3), NULL, 7);

CREATE TEMP TABLE s AS
SELECT j, m, (SELECT attribution(m, e, ts, ch, v) FROM tp WHERE journey = j) AS s
FROM unnest(ARRAY['j1', 'j2', 'j5', 'j0']) j,
     unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay',
                  'time_decay(1 day)', 'markov']) m;

-- one touchpoint: every model gives it the conversion and the value
SELECT is((SELECT count(*) FROM s WHERE j = 'j1' AND pg_temp.credit(s, 'email') = 1
                                         AND pg_temp.val(s, 'email') = 100), 7::bigint,
          'one touchpoint: all 7 models credit it with 1 conversion and the value');

-- two touchpoints
SELECT is(pg_temp.credit(s, 'search'), 1.0, 'two: first_touch credits the first') FROM s WHERE j = 'j2' AND m = 'first_touch';
SELECT is(pg_temp.credit(s, 'email'), 1.0, 'two: last_touch credits the last') FROM s WHERE j = 'j2' AND m = 'last_touch';
SELECT is(pg_temp.credit(s, 'search'), 0.5, 'two: linear halves') FROM s WHERE j = 'j2' AND m = 'linear';
SELECT is(pg_temp.credit(s, 'search'), 0.5, 'two: position_based halves') FROM s WHERE j = 'j2' AND m = 'position_based';
SELECT is(pg_temp.val(s, 'email'), 25.0, 'two: position_based halves the value') FROM s WHERE j = 'j2' AND m = 'position_based';
-- time_decay, half-life 7 days: search is 3 days before the conversion,
-- email 1 day: weights 2^(-3/7) and 2^(-1/7); search's share is
-- 2^(-3/7) / (2^(-3/7) + 2^(-1/7)) = 1 / (1 + 2^(2/7)) = 0.450621...
SELECT is(pg_temp.credit(s, 'search'), round((1 / (1 + 2 ^ (2.0 / 7)))::numeric, 9),
          'two: time_decay (7 days) weighs by 2^(-age/half-life)') FROM s WHERE j = 'j2' AND m = 'time_decay';
SELECT is(pg_temp.credit(s, 'email') + pg_temp.credit(s, 'search'), 1.0::numeric,
          'two: markov shares the one conversion') FROM s WHERE j = 'j2' AND m = 'markov';

-- five with repeats: A B A C A
SELECT is(pg_temp.credit(s, 'A'), 1.0, 'five: first_touch: A') FROM s WHERE j = 'j5' AND m = 'first_touch';
SELECT is(pg_temp.credit(s, 'A'), 1.0, 'five: last_touch: A') FROM s WHERE j = 'j5' AND m = 'last_touch';
-- linear: A has 3 of 5 touches
SELECT is(ARRAY[pg_temp.credit(s, 'A'), pg_temp.credit(s, 'B'), pg_temp.credit(s, 'C')],
          ARRAY[0.6, 0.2, 0.2], 'five: linear: A 3/5, B 1/5, C 1/5') FROM s WHERE j = 'j5' AND m = 'linear';
-- position_based: first A 0.4, last A 0.4, the three middle touches B, A, C
-- share 0.2: 0.2/3 each; A = 0.8 + 0.2/3 = 0.866666667
SELECT is(ARRAY[pg_temp.credit(s, 'A'), pg_temp.credit(s, 'B'), pg_temp.credit(s, 'C')],
          ARRAY[0.866666667, 0.066666667, 0.066666667], 'five: position_based 40/20/40')
FROM s WHERE j = 'j5' AND m = 'position_based';
-- time_decay(1 day): ages 5, 4, 3, 2, 1 days: weights 1/32, 2/32, 4/32,
-- 8/32, 16/32 (sum 31/32): A = (1 + 4 + 16)/31, B = 2/31, C = 8/31
SELECT is(ARRAY[pg_temp.credit(s, 'A'), pg_temp.credit(s, 'B'), pg_temp.credit(s, 'C')],
          ARRAY[round(21 / 31.0, 9), round(2 / 31.0, 9), round(8 / 31.0, 9)],
          'five: time_decay(1 day): A 21/31, B 2/31, C 8/31') FROM s WHERE j = 'j5' AND m = 'time_decay(1 day)';
SELECT is(pg_temp.val(s, 'C'), round(80 / 31.0, 6), 'five: time_decay value shares like the credit')
FROM s WHERE j = 'j5' AND m = 'time_decay(1 day)';
SELECT is((SELECT journeys FROM attribution_report(s) WHERE channel = 'A'), 1::bigint,
          'five: A touched one converting journey (repeats count once)') FROM s WHERE j = 'j5' AND m = 'linear';

-- a conversion without touchpoints: the NULL channel, every model
SELECT is((SELECT count(*) FROM s WHERE j = 'j0' AND pg_temp.credit(s, NULL) = 1 AND pg_temp.val(s, NULL) = 7), 7::bigint,
          'no touchpoint: every model reports the conversion under the NULL channel');
SELECT is((SELECT array_agg(channel IS NULL) FROM attribution_report(s)), ARRAY[true],
          'no touchpoint: the report has only the NULL channel') FROM s WHERE j = 'j0' AND m = 'markov';

-- several conversions of one entity, each with its own lookback (10 days):
-- A day 0, conversion 1 (day 5), B day 6, C day 30, conversion 2 (day 35),
-- conversion 3 (day 36).  Conversion 1 gets A.  Conversion 2 looks back to
-- day 25: B (day 6) is outside, so its journey is C alone, and B forms a
-- journey of its own that did not convert.  Conversion 3 has no touchpoint
-- left since conversion 2: NULL channel.
CREATE TEMP TABLE multi AS
SELECT 1 AS e, pg_temp.d(0) AS ts, 'A' AS ch, NULL::numeric AS v UNION ALL
SELECT 1, pg_temp.d(5), NULL, 1 UNION ALL
SELECT 1, pg_temp.d(6), 'B', NULL UNION ALL
SELECT 1, pg_temp.d(30), 'C', NULL UNION ALL
SELECT 1, pg_temp.d(35), NULL, 2 UNION ALL
SELECT 1, pg_temp.d(36), NULL, 3;
SELECT is((SELECT array_agg(channel || ':' || conversions || ':' || value ORDER BY channel)
           FROM attribution_report((SELECT attribution('last_touch', e, ts, ch, v, '10 days') FROM multi))),
          ARRAY['A:1:1', 'B:0:0', 'C:1:2', NULL],
          'several conversions: each its own journey and lookback');
SELECT is((SELECT attribution('linear', e, ts, ch, v, '10 days') FROM multi)::text::jsonb
              -> 'other_journeys', '1'::jsonb,
          'several conversions: the expired touchpoint forms a non-converting journey');
-- with a 40-day lookback B is back in conversion 2's journey
SELECT is(pg_temp.credit((SELECT attribution('linear', e, ts, ch, v, '40 days') FROM multi), 'B'), 0.5,
          'several conversions: a longer lookback brings B back');
-- the lookback includes its bound, and a touchpoint at the conversion's time
SELECT is(pg_temp.credit((SELECT attribution('first_touch', e, ts, ch, v, '10 days')
                          FROM (VALUES (1, pg_temp.d(0), 'D', NULL::numeric), (1, pg_temp.d(10), NULL, 5)) x(e, ts, ch, v)), 'D'),
          1.0, 'a touchpoint exactly one lookback before the conversion counts');
SELECT is(pg_temp.credit((SELECT attribution('first_touch', e, ts, ch, v, '0 days')
                          FROM (VALUES (1, pg_temp.d(3), NULL, 5::numeric), (1, pg_temp.d(3), 'D', NULL)) x(e, ts, ch, v)), 'D'),
          1.0, 'a touchpoint at the conversion''s time counts (touchpoints first at equal times)');
SELECT is(pg_temp.credit((SELECT attribution('first_touch', e, ts, ch, v)
                          FROM (VALUES (1, pg_temp.d(0), 'D', NULL::numeric), (1, pg_temp.d(31), NULL, 5)) x(e, ts, ch, v)), NULL),
          1.0, 'default lookback is 30 days');

-- Markov, example 1.  Journeys: A -> B -> conversion, A -> null,
-- B -> conversion.  Transitions: start: A 2, B 1; A: B 1, null 1; B: conv 2.
-- x_B = 1, x_A = 1/2 x_B = 1/2, P(conv) = 2/3 * 1/2 + 1/3 * 1 = 2/3.
-- Without A: P = 1/3 * 1 = 1/3, RE_A = 1 - (1/3)/(2/3) = 1/2.
-- Without B: x_A = 0, P = 0, RE_B = 1.
-- Two conversions: A = 2 * (1/2)/(3/2) = 2/3, B = 2 * 1/(3/2) = 4/3;
-- values 10 + 20 = 30: A 10, B 20.
CREATE TEMP TABLE mk1 (e int, ts timestamptz, ch text, v numeric);
INSERT INTO mk1 VALUES (1, pg_temp.d(0), 'A', NULL), (1, pg_temp.d(1), 'B', NULL), (1, pg_temp.d(2), NULL, 10),
                       (2, pg_temp.d(0), 'A', NULL),
                       (3, pg_temp.d(0), 'B', NULL), (3, pg_temp.d(1), NULL, 20);
SELECT is(ARRAY[pg_temp.credit(s, 'A'), pg_temp.credit(s, 'B')], ARRAY[round(2 / 3.0, 9), round(4 / 3.0, 9)],
          'markov example 1: A 2/3, B 4/3')
FROM (SELECT attribution('markov', e, ts, ch, v) s FROM mk1) x;
SELECT is(ARRAY[pg_temp.val(s, 'A'), pg_temp.val(s, 'B')], ARRAY[10.0, 20.0], 'markov example 1: values 10 and 20')
FROM (SELECT attribution('markov', e, ts, ch, v) s FROM mk1) x;

-- conversion rate by channel: converting journeys with the channel / all
-- journeys with it.  A: P1 converted, P2 did not: 1/2; B: P1 and P3: 2/2.
SELECT is((SELECT array_agg(channel || ':' || journeys || ':' || conversion_rate ORDER BY channel)
           FROM attribution_report((SELECT attribution('linear', e, ts, ch, v) FROM mk1)) WHERE channel IS NOT NULL),
          ARRAY['A:1:0.5', 'B:2:1'], 'conversion rate by channel');
SELECT is((SELECT array_agg(channel || ':' || journeys || ':' || conversion_rate ORDER BY channel)
           FROM attribution_report((SELECT attribution('last_touch', e, ts, ch, v, '10 days') FROM multi)) WHERE channel IS NOT NULL),
          ARRAY['A:1:1', 'B:0:0', 'C:1:1'], 'conversion rate by channel: an expired touchpoint''s journey did not convert');

-- a per-channel funnel beside the credit: funnel_stage_counts(touch of the
-- channel, then a conversion within 30 days).  A touched customers 1 and 2,
-- customer 1 converted after it: {2, 1}; B touched 1 and 3, both converted
-- after it: {2, 2}.
SELECT is((SELECT array_agg(r.channel || ':' || round(r.conversions::numeric, 3) || ':' || f::text ORDER BY r.channel)
           FROM attribution_report((SELECT attribution('markov', e, ts, ch, v) FROM mk1)) r,
                LATERAL (SELECT funnel_stage_counts('30 days', e, ts, coalesce(ch = r.channel, false), v IS NOT NULL) f FROM mk1) x
           WHERE r.channel IS NOT NULL),
          ARRAY['A:0.667:{2,1}', 'B:1.333:{2,2}'], 'per-channel funnel side by side with the credit');

-- the same with funnel_summary and funnel_report
SELECT is((SELECT array_agg(r.channel || ':' || f.step || ':' || f.entities || ':' || f.conversion_from_start ORDER BY r.channel, f.step)
           FROM attribution_report((SELECT attribution('markov', e, ts, ch, v) FROM mk1)) r,
                LATERAL (SELECT funnel_summary('30 days', e, ts, coalesce(ch = r.channel, false), v IS NOT NULL) fs FROM mk1) x,
                funnel_report(x.fs) f
           WHERE r.channel IS NOT NULL),
          ARRAY['A:1:2:1', 'A:2:1:0.5', 'B:1:2:1', 'B:2:2:1'], 'per-channel funnel_summary side by side with the credit');

-- cost per acquisition and return on ad spend by channel and model (the
-- doc/channels.md example): spend A 40, B 10.  Markov: A 2/3 conversions worth 10,
-- B 4/3 worth 20: CPA A = 40 / (2/3) = 60, B = 10 / (4/3) = 7.5; ROAS A =
-- 10 / 40 = 0.25, B = 20 / 10 = 2.  Last touch: A 0 (no CPA), B 2 worth 30:
-- CPA 5, ROAS 3.
CREATE TEMP TABLE spend (channel text, spend numeric);
INSERT INTO spend VALUES ('A', 40), ('B', 10);
SELECT is((SELECT array_agg(m || ':' || r.channel || ':' || coalesce(round(s.spend / nullif(r.conversions, 0)::numeric, 4)::text, '-')
                            || ':' || round(r.value / s.spend, 4) ORDER BY m, r.channel)
           FROM unnest(ARRAY['last_touch', 'markov']) m,
                LATERAL (SELECT attribution(m, e, ts, ch, v) a FROM mk1) x,
                attribution_report(x.a) r JOIN spend s ON s.channel = r.channel),
          ARRAY['last_touch:A:-:0.0000', 'last_touch:B:5.0000:3.0000', 'markov:A:60.0000:0.2500', 'markov:B:7.5000:2.0000'],
          'CPA and ROAS by channel and model');

-- Markov, example 2, with a cycle and a repeat.  Journeys:
--   P1: A -> B -> A -> conversion (10)   P2: B -> null
--   P3: A -> A -> conversion (20)        P4: C -> B -> conversion (30)
-- The repeat A -> A is a self-loop, which changes no absorption probability.
-- start: A 2, B 1, C 1.  A: B 1, conv 2.  B: A 1, null 1, conv 1.  C: B 1.
-- x_A = 1/3 x_B + 2/3, x_B = 1/3 x_A + 1/3, x_C = x_B
--   => x_A = 7/8, x_B = x_C = 5/8; P = 2/4 * 7/8 + 1/4 * 5/8 + 1/4 * 5/8 = 3/4.
-- Without A: x_B = x_C = 1/3, P = 1/4 * 1/3 * 2 = 1/6, RE_A = 1 - (1/6)/(3/4) = 7/9.
-- Without B: x_A = 2/3, x_C = 0, P = 1/2 * 2/3 = 1/3, RE_B = 1 - (1/3)/(3/4) = 5/9.
-- Without C: P = 7/16 + 5/32 = 19/32, RE_C = 1 - 19/24 = 5/24.
-- Sum RE = 37/24; three conversions: A = 3 * (7/9) * 24/37 = 56/37,
-- B = 3 * (5/9) * 24/37 = 40/37, C = 3 * (5/24) * 24/37 = 15/37;
-- value 60: A = 60 * 56/111, B = 60 * 40/111, C = 60 * 15/111.
CREATE TEMP TABLE mk2 (e int, ts timestamptz, ch text, v numeric);
INSERT INTO mk2 VALUES (1, pg_temp.d(0), 'A', NULL), (1, pg_temp.d(1), 'B', NULL), (1, pg_temp.d(2), 'A', NULL), (1, pg_temp.d(3), NULL, 10),
                       (2, pg_temp.d(0), 'B', NULL),
                       (3, pg_temp.d(0), 'A', NULL), (3, pg_temp.d(1), 'A', NULL), (3, pg_temp.d(2), NULL, 20),
                       (4, pg_temp.d(0), 'C', NULL), (4, pg_temp.d(1), 'B', NULL), (4, pg_temp.d(2), NULL, 30);
SELECT is(ARRAY[pg_temp.credit(s, 'A'), pg_temp.credit(s, 'B'), pg_temp.credit(s, 'C')],
          ARRAY[round(56 / 37.0, 9), round(40 / 37.0, 9), round(15 / 37.0, 9)],
          'markov example 2: A 56/37, B 40/37, C 15/37')
FROM (SELECT attribution('markov', e, ts, ch, v) s FROM mk2) x;
SELECT is(ARRAY[pg_temp.val(s, 'A'), pg_temp.val(s, 'B'), pg_temp.val(s, 'C')],
          ARRAY[round(60 * 56 / 111.0, 6), round(60 * 40 / 111.0, 6), round(60 * 15 / 111.0, 6)],
          'markov example 2: values shared like the credit')
FROM (SELECT attribution('markov', e, ts, ch, v) s FROM mk2) x;
-- collapsing the repeat (P3: A -> conversion) gives the same credit
SELECT is((SELECT array_agg(round(conversions::numeric, 12) ORDER BY channel) FROM attribution_report(
              (SELECT attribution('markov', e, ts, ch, v) FROM mk2 WHERE NOT (e = 3 AND ts = pg_temp.d(1))))),
          (SELECT array_agg(round(conversions::numeric, 12) ORDER BY channel) FROM attribution_report(
              (SELECT attribution('markov', e, ts, ch, v) FROM mk2))),
          'markov: repeated consecutive touches give the same credit as collapsed ones');
-- a different journey definition would change it: more repeats of A do not
SELECT is((SELECT array_agg(round(conversions::numeric, 12) ORDER BY channel) FROM attribution_report(
              (SELECT attribution('markov', e, ts, ch, v) FROM
                 (SELECT * FROM mk2 UNION ALL SELECT 3, pg_temp.d(1.5), 'A', NULL) x))),
          ARRAY[round(56 / 37.0, 12), round(40 / 37.0, 12), round(15 / 37.0, 12)],
          'markov: a third consecutive A changes nothing');

-- conservation: random journeys, every model credits exactly the conversions
SELECT setseed(0.5);
CREATE TEMP TABLE rnd AS
SELECT (random() * 300)::int AS e,
       pg_temp.d((random() * 120)::numeric) AS ts,
       CASE WHEN r < 0.85 THEN (ARRAY['search', 'email', 'social', 'display', 'referral'])[1 + floor(random() * 5)::int] END AS ch,
       CASE WHEN r >= 0.85 THEN round((random() * 100)::numeric, 2) END AS v
FROM (SELECT random() AS r FROM generate_series(1, 3000)) g;
SELECT is((SELECT round(sum(conversions)::numeric, 6) FROM attribution_report(s)),
          (SELECT count(*)::numeric FROM rnd WHERE v IS NOT NULL),
          'conservation of conversions: ' || m)
FROM unnest(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'time_decay(12 hours)', 'markov']) m,
     LATERAL (SELECT attribution(m, e, ts, ch, v, '20 days') s FROM rnd) x;
SELECT is((SELECT round(sum(value), 4) FROM attribution_report(s)),
          (SELECT sum(v) FROM rnd),
          'conservation of value: ' || m)
FROM unnest(ARRAY['first_touch', 'linear', 'position_based', 'time_decay', 'markov']) m,
     LATERAL (SELECT attribution(m, e, ts, ch, v, '20 days') s FROM rnd) x;
-- shares add up to 1
SELECT is((SELECT round(sum(share)::numeric, 9) FROM attribution_report(s)), 1.0::numeric, 'shares add up to 1')
FROM (SELECT attribution('position_based', e, ts, ch, v) s FROM rnd) x;
-- last_touch against a plain SQL implementation of the same journeys: each
-- conversion's latest touchpoint within 20 days after the previous conversion
SELECT is((SELECT array_agg(channel || '=' || conversions ORDER BY channel) FROM attribution_report(
              (SELECT attribution('last_touch', e, ts, ch, v, '20 days') FROM rnd)) WHERE conversions > 0 AND channel IS NOT NULL),
          (WITH conv AS (
               SELECT e, ts, v, row_number() OVER (PARTITION BY e ORDER BY ts, v) AS k,
                      lag(ts) OVER (PARTITION BY e ORDER BY ts, v) AS prev
               FROM rnd WHERE v IS NOT NULL),
           pick AS (
               SELECT (SELECT t.ch FROM rnd t WHERE t.e = c.e AND t.ch IS NOT NULL AND t.ts <= c.ts
                         AND t.ts >= c.ts - interval '20 days' AND (c.prev IS NULL OR t.ts > c.prev)
                       ORDER BY t.ts DESC, t.ch DESC LIMIT 1) AS ch
               FROM conv c)
           SELECT array_agg(ch || '=' || n ORDER BY ch) FROM (SELECT ch, count(*) AS n FROM pick WHERE ch IS NOT NULL GROUP BY ch) y),
          'last_touch agrees with a plain SQL implementation');

-- errors
SELECT throws_like($$SELECT attribution('bogus', 1, now(), 'a', NULL) $$,
                   'unrecognized attribution model "bogus"', 'unknown model');
SELECT is(pg_temp.hint($$SELECT attribution('U-shaped', 1, now(), 'a', NULL) $$),
          'Allowed models are: first_touch, last_touch, linear, position_based, time_decay, time_decay(<half-life interval>), markov.',
          'unknown model: the hint names the allowed ones');
SELECT throws_ok($$SELECT attribution('linear', 1, now(), 'a', NULL, '-1 day') $$,
                 '22023', 'attribution lookback must be zero or positive', 'negative lookback');
SELECT throws_ok($$SELECT attribution('time_decay(-2 days)', 1, now(), 'a', NULL) $$,
                 '22023', 'time_decay half-life must be positive', 'negative half-life');
SELECT throws_ok($$SELECT attribution('time_decay(0)', 1, now(), 'a', NULL) $$,
                 '22023', 'time_decay half-life must be positive', 'zero half-life');
SELECT throws_ok($$SELECT attribution('linear(3 days)', 1, now(), 'a', NULL) $$,
                 '22023', 'attribution model "linear" takes no option', 'option on a model without one');
SELECT throws_ok($$SELECT attribution(NULL, 1, now(), 'a', NULL) $$,
                 '22004', 'attribution model must not be NULL', 'NULL model');
SELECT throws_ok($$SELECT attribution(m, 1, now(), 'a', NULL) FROM (VALUES ('linear'), ('markov')) x(m) $$,
                 '22023', 'attribution model and lookback must be the same for every row of a group', 'model changes within a group');
SELECT throws_ok($$SELECT attribution('linear', point(1, 1), now(), 'a', NULL) $$,
                 '42883', 'entity type point has no default hash operator class', 'entity without a hash opclass');
SELECT throws_ok($$SELECT attribution('linear', 1, 'infinity', 'a', NULL) $$,
                 '22008', NULL, 'infinite timestamp');
SELECT throws_ok($$SELECT attribution('linear', 1, now(), NULL, 'NaN') $$,
                 '22023', 'conversion value must be a finite number', 'NaN value');
SELECT ok((SELECT attribution('linear', e, ts, ch, v) FROM (VALUES (NULL::int, now(), 'a', NULL::numeric), (1, NULL, 'a', NULL), (1, now(), NULL, NULL)) x(e, ts, ch, v))::text::jsonb @> '{"conversions": 0, "touchpoints": 0}',
          'rows with a NULL entity or time, or neither channel nor value, are skipped');
SET LOCAL funnel.max_state_memory = 64;
-- as a window function the rows cannot spill to a temporary file
SELECT throws_ok($$SELECT attribution('linear', i, now(), 'a', NULL) OVER () FROM generate_series(1, 20000) i LIMIT 1$$,
                 '54000', 'aggregate state exceeds funnel.max_state_memory', 'the state obeys funnel.max_state_memory');
RESET funnel.max_state_memory;
SELECT ok((SELECT attribution('linear', 1, now(), 'a', NULL) WHERE false) IS NULL, 'no rows: NULL');

-- model names: case and spaces do not matter
SELECT is(attribution_model(attribution(' Time_Decay ( 3 days ) ', 1, now(), 'a', NULL)), 'time_decay(3 days)',
          'model names ignore case and spaces');
-- extreme timestamps; a lookback reaching past the smallest timestamp
-- (conversion time - lookback is below the int64 range: every touchpoint
-- before the conversion counts)
SELECT is(ARRAY[pg_temp.credit(s, 'old'), pg_temp.credit(s, 'new')], ARRAY[1.0, 1.0],
          'extreme timestamps, lookback beyond the smallest timestamp')
FROM (SELECT attribution('linear', e, ts, ch, v, '290000 years') s
      FROM (VALUES (1, '4713-01-01 00:00+00 BC'::timestamptz, 'old', NULL::numeric),
                   (1, '4713-06-01 00:00+00 BC', NULL, 1),
                   (1, '294276-12-30 00:00+00', 'new', NULL),
                   (1, '294276-12-31 00:00+00', NULL, 1)) x(e, ts, ch, v)) y;

-- the summary: stored, read back, checked
SELECT is((SELECT s::text::attribution_summary::text FROM s WHERE j = 'j5' AND m = 'time_decay(1 day)'),
          (SELECT s::text FROM s WHERE j = 'j5' AND m = 'time_decay(1 day)'), 'text form round-trips');
SELECT is(attribution_model(s), 'time_decay(1 day)', 'attribution_model') FROM s WHERE j = 'j5' AND m = 'time_decay(1 day)';
SELECT is((SELECT array_agg(channel ORDER BY channel) FROM attribution_report(
              '{"model": "linear", "lookback": "30 days", "conversions": 2, "value": 3, "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0, "channels": [{"channel": "b", "conversions": 1, "value": 1, "journeys": 1, "touched": 2}, {"channel": "a", "conversions": 1, "value": 2, "journeys": 1, "touched": 1}]}'::attribution_summary)),
          ARRAY['a', 'b'], 'text input');
SELECT throws_like($$SELECT '{"model": "linear"}'::attribution_summary $$, 'invalid input syntax for type attribution_summary', 'text input: missing keys');
SELECT throws_like($$SELECT '{"model": "linear", "lookback": "30 days", "conversions": 2, "value": 3, "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0, "channels": [{"channel": "a", "conversions": 1, "value": 1, "journeys": 1, "touched": 1}, {"channel": "a", "conversions": 1, "value": 2, "journeys": 1, "touched": 1}]}'::attribution_summary $$,
                   'invalid input syntax for type attribution_summary', 'text input: a channel twice');
SELECT throws_like($$SELECT '{"model": "linear", "lookback": "30 days", "conversions": -2, "value": 3, "touchpoints": 2, "converting_journeys": 1, "other_journeys": 0, "channels": []}'::attribution_summary $$,
                   'invalid input syntax for type attribution_summary', 'text input: negative conversions');
CREATE TEMP TABLE stored (s attribution_summary);
INSERT INTO stored SELECT attribution('markov', e, ts, ch, v) FROM mk2;
SELECT is(pg_temp.credit(s, 'C'), round(15 / 37.0, 9), 'a stored summary reports the same') FROM stored;

-- as a window function (the final function does not change the state)
SELECT is((SELECT array_agg(pg_temp.credit(s, 'search') ORDER BY ts) FROM
              (SELECT ts, attribution('linear', e, ts, ch, v) OVER (ORDER BY ts, ch) s FROM tp WHERE journey = 'j2') x),
          ARRAY[0, 0, 0.5]::numeric[], 'as a running window aggregate');

-- text entities; parallel and serial plans give the same credit
CREATE TABLE big AS
SELECT 'user-' || (i % 5000) AS e, pg_temp.d(((i * 7919) % 9000) / 100.0) AS ts,
       CASE WHEN i % 9 <> 0 THEN (ARRAY['search', 'email', 'social', 'display'])[1 + (i * 31) % 4] END AS ch,
       CASE WHEN i % 9 = 0 THEN (i % 50)::numeric END AS v
FROM generate_series(1, 60000) i;
ANALYZE big;
CREATE TEMP TABLE serial_r AS
SELECT m, r.channel, round(r.conversions::numeric, 9) AS c, round(r.value, 6) AS v
FROM unnest(ARRAY['first_touch', 'linear', 'time_decay', 'markov']) m,
     LATERAL (SELECT attribution(m, e, ts, ch, v, '10 days') s FROM big) x, attribution_report(x.s) r;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT ok(pg_temp.plan($$SELECT attribution('linear', e, ts, ch, v, '10 days') FROM big$$) LIKE '%"Partial Mode": "Partial"%',
          'the parallel plan has a partial aggregate');
SELECT set_eq($$SELECT m, r.channel, round(r.conversions::numeric, 9) AS c, round(r.value, 6) AS v
                FROM unnest(ARRAY['first_touch', 'linear', 'time_decay', 'markov']) m,
                     LATERAL (SELECT attribution(m, e, ts, ch, v, '10 days') s FROM big) x, attribution_report(x.s) r$$,
              $$SELECT * FROM serial_r$$, 'parallel and serial plans give the same credit');

-- a fixed-length by-reference entity (uuid) and negative integers through
-- the parallel path
CREATE TABLE big_u AS
SELECT md5((i % 3000)::text)::uuid AS eu, -(i % 3000) AS ei, ts, ch, v FROM big,
       LATERAL (SELECT ('x' || substr(md5(e), 1, 7))::bit(28)::int) y(i);
ANALYZE big_u;
SELECT ok(pg_temp.plan($$SELECT attribution('linear', eu, ts, ch, v) FROM big_u$$) LIKE '%"Partial Mode": "Partial"%',
          'uuid entities: the plan is parallel');
SELECT is((SELECT array_agg(channel || ':' || round(conversions::numeric, 9) ORDER BY channel)
           FROM attribution_report((SELECT attribution('linear', eu, ts, ch, v) FROM big_u))),
          (SELECT array_agg(channel || ':' || round(conversions::numeric, 9) ORDER BY channel)
           FROM attribution_report((SELECT attribution('linear', ei, ts, ch, v) FROM big_u))),
          'uuid and negative integer entities give the same credit in parallel plans');
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is((SELECT array_agg(channel || ':' || round(conversions::numeric, 9) ORDER BY channel)
           FROM attribution_report((SELECT attribution('linear', eu, ts, ch, v) FROM big_u))),
          (SELECT array_agg(channel || ':' || round(conversions::numeric, 9) ORDER BY channel)
           FROM attribution_report((SELECT attribution('linear', ei, ts, ch, v) FROM big_u))),
          'and in serial plans');

SELECT * FROM finish();
ROLLBACK;
