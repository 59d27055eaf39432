-- Reading the arguments of the whole-table aggregates: a constant window,
-- mode and steps array is read on the first row only, the event name is
-- found through a small table by its length and first and last bytes, and a
-- group's configuration is compared again only when a row brings a new one.
-- None of it may change an answer or hide an error.  The reference for the
-- name lookup is the conditions form, where PostgreSQL itself compares the
-- event with each step name.
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SET LOCAL max_parallel_workers_per_gather = 0;
-- the reference conditions must stay PostgreSQL's own comparisons, not be
-- planned as the event-name form they are compared with
SET LOCAL funnel.equalities_as_names = off;
SELECT plan(23);

-- step names chosen to share a lookup slot or not: 'axb' and 'ayb' (same
-- length, first and last byte), 'x' * 17 and 'x' * 16 || 'y' (longer than 16
-- bytes, same slot), the empty name, a name of multibyte characters, and
-- event names that share a slot with a step name without equalling it
CREATE TEMP TABLE names_rows AS
SELECT (hashint4(g) & 1023)::bigint AS e,
       timestamptz '2024-01-01' + ((hashint4(g * 7) & 65535) % 500) * interval '1 minute' AS ts,
       (ARRAY['axb', 'ayb', repeat('x', 17), repeat('x', 16) || 'y', '', 'äöü', 'azb',
              repeat('x', 15) || 'z', 'other', 'a', 'b', 'ab'])[1 + (hashint4(g * 13) & 65535) % 12] AS ev
FROM generate_series(1, 20000) g;

SELECT is(funnel_stage_counts('1 hour', e, ts, ev,
                              ARRAY['axb', 'ayb', repeat('x', 17), repeat('x', 16) || 'y', '', 'äöü']),
          funnel_stage_counts('1 hour', e, ts, ev = 'axb', ev = 'ayb', ev = repeat('x', 17),
                              ev = repeat('x', 16) || 'y', ev = '', ev = 'äöü'),
          'names sharing a lookup slot: the same as the conditions')
FROM names_rows;
-- names built by an expression carry a 4-byte header (a table's, 1 byte)
SELECT is(funnel_stage_counts('1 hour', e, ts, ev || '',
                              ARRAY['axb', 'ayb', repeat('x', 17), repeat('x', 16) || 'y', '', 'äöü']),
          funnel_stage_counts('1 hour', e, ts, ev = 'axb', ev = 'ayb', ev = repeat('x', 17),
                              ev = repeat('x', 16) || 'y', ev = '', ev = 'äöü'),
          'names with a 4-byte header: the same as the conditions')
FROM names_rows;
-- hand-worked, both headers in one column: entity 1 reaches both steps
-- (its second name built), entity 2 only the first (its first name built)
SELECT is(funnel_stage_counts('1 hour', e, ts, CASE WHEN built THEN ev || '' ELSE ev END,
                              ARRAY['visit', 'purchase']), '{2,1}',
          'hand-worked: names with either header')
FROM (VALUES (1, timestamptz '2024-01-01 10:00', 'visit', false), (1, '2024-01-01 10:05', 'purchase', true),
             (2, '2024-01-01 10:00', 'visit', true), (2, '2024-01-01 10:05', 'purchase ', false)) v(e, ts, ev, built);
SELECT is(funnel_stage_counts('1 hour', e, ts, ev, ARRAY['a', 'ab', 'b', 'azb']),
          funnel_stage_counts('1 hour', e, ts, ev = 'a', ev = 'ab', ev = 'b', ev = 'azb'),
          'short names: the same as the conditions')
FROM names_rows;
-- a name given twice matches both steps
SELECT is(funnel_stage_counts('1 hour', e, ts, ev, ARRAY['axb', 'ayb', 'axb']),
          funnel_stage_counts('1 hour', e, ts, ev = 'axb', ev = 'ayb', ev = 'axb'),
          'a repeated name: the same as the conditions')
FROM names_rows;
-- hand-worked: entity 1 reaches 'axb' then 'ayb'; entity 2 only 'ayb'
-- ('azb' shares the slot of 'axb' and 'ayb' and matches neither)
SELECT is(funnel_stage_counts('1 hour', e, ts, ev, ARRAY['axb', 'ayb']), '{1,1}',
          'hand-worked: slot neighbours do not match')
FROM (VALUES (1, timestamptz '2024-01-01 10:00', 'axb'), (1, '2024-01-01 10:01', 'azb'),
             (1, '2024-01-01 10:02', 'ayb'), (2, '2024-01-01 10:00', 'azb'),
             (2, '2024-01-01 10:01', 'ayb')) v(e, ts, ev);

-- names of 0 to 20 bytes compared by words: an event equal to a step name
-- or differing from it in one byte at any position (every word of the
-- comparison must look at its bytes), for 37 sets of four step names
CREATE TEMP TABLE word_names AS
SELECT k, substr(md5(k::text) || md5((k + 1)::text), 1, k % 21) AS name FROM generate_series(0, 40) k;
CREATE TEMP TABLE word_rows AS
SELECT (hashint4(k * 1000 + g) & 255)::bigint AS e,
       timestamptz '2024-01-01' + (hashint4(k * 1000 + g * 3) & 1023) * interval '1 minute' AS ts,
       CASE WHEN g % 2 = 0 OR length(name) = 0 THEN name
            ELSE overlay(name PLACING chr(65 + g % 20) FROM 1 + (hashint4(g * 5) & 255) % length(name) FOR 1) END AS ev
FROM word_names, generate_series(1, 40) g;
SELECT is((SELECT count(*) FROM generate_series(0, 36) i,
                 LATERAL (SELECT array_agg(name ORDER BY k) AS s FROM word_names WHERE k BETWEEN i AND i + 3) st
           WHERE (SELECT funnel_stage_counts('1 day', e, ts, ev, st.s) FROM word_rows) IS DISTINCT FROM
                 (SELECT funnel_stage_counts('1 day', e, ts, ev = st.s[1], ev = st.s[2], ev = st.s[3], ev = st.s[4])
                  FROM word_rows)), 0::bigint,
          'names of 0 to 20 bytes, events differing in one byte: the same as the conditions in all 37 sets');

-- event names kept compressed or out of line (TOAST) in the table: read
-- whole (a row's name is otherwise read in place)
CREATE TEMP TABLE toasted_rows (e bigint, ts timestamptz, ev text);
ALTER TABLE toasted_rows ALTER COLUMN ev SET STORAGE EXTENDED;
INSERT INTO toasted_rows
SELECT g % 50, timestamptz '2024-01-01' + g * interval '1 minute',
       CASE g % 3 WHEN 0 THEN repeat('compressible-', 300)
                  WHEN 1 THEN (SELECT string_agg(md5(g::text || k::text), '') FROM generate_series(1, 100) k)
                  ELSE 'short' END
FROM generate_series(1, 600) g;
SELECT ok((SELECT count(*) FROM toasted_rows WHERE pg_column_compression(ev) IS NOT NULL) >= 200,
          'the long names of the table are compressed');
SELECT is(funnel_stage_counts('1 day', e, ts, ev, ARRAY['short', repeat('compressible-', 300)]),
          funnel_stage_counts('1 day', e, ts, ev = 'short', ev = repeat('compressible-', 300)),
          'compressed event names: the same as the conditions')
FROM toasted_rows;

-- constants and query parameters: read once, the same answers
PREPARE fsc_params(interval, text, text[]) AS
  SELECT funnel_stage_counts($1, $2, e, ts, ev, $3) FROM names_rows;
SELECT results_eq($$EXECUTE fsc_params('1 hour', 'strict_order', ARRAY['axb', 'ayb', 'other'])$$,
                  $$SELECT funnel_stage_counts('1 hour', 'strict_order', e, ts, ev, ARRAY['axb', 'ayb', 'other'])
                    FROM names_rows$$,
                  'window, mode and steps as parameters');
SELECT results_eq($$EXECUTE fsc_params('2 hours', '', ARRAY['a', 'b'])$$,
                  $$SELECT funnel_stage_counts('2 hours', '', e, ts, ev, ARRAY['a', 'b']) FROM names_rows$$,
                  'the same statement with other parameters');

-- a window, mode or steps array that changes after many equal rows is
-- still seen: the comparison is skipped only while nothing was read anew
CREATE TEMP TABLE late_change AS
SELECT g AS n, (g % 100)::bigint AS e, timestamptz '2024-01-01' + g * interval '1 second' AS ts,
       CASE WHEN g = 4000 THEN interval '2 hours' ELSE interval '1 hour' END AS w,
       CASE WHEN g = 4000 THEN 'strict_order' ELSE '' END AS m,
       CASE WHEN g = 4000 THEN ARRAY['a', 'c'] ELSE ARRAY['a', 'b'] END AS steps,
       CASE WHEN g = 4000 THEN 3 ELSE 2 END AS nconds,
       (ARRAY['a', 'b', 'c'])[1 + g % 3] AS ev
FROM generate_series(1, 5000) g;
SELECT throws_ok($$SELECT funnel_stage_counts(w, e, ts, ev, ARRAY['a', 'b']) FROM late_change$$,
                 '22023', 'funnel window differs between rows of one group',
                 'a window that changes on row 4000');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', m, e, ts, ev, ARRAY['a', 'b']) FROM late_change$$,
                 '22023', 'funnel mode differs between rows of one group',
                 'a mode that changes on row 4000');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, ev, steps) FROM late_change$$,
                 '22023', 'funnel step names differ between rows of one group',
                 'steps that change on row 4000');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', e, ts, VARIADIC array_fill(ev = 'a', ARRAY[nconds]))
                   FROM late_change$$,
                 '22023', 'funnel step count differs between rows of one group (2 and 3)',
                 'a number of conditions that changes on row 4000');
-- and changes back: rows 4000 and 4001 differ from each other as well
SELECT throws_ok($$SELECT funnel_conversion(CASE WHEN n = 4000 THEN interval '2 hours' ELSE '1 hour' END,
                                            e, ts, ev, ARRAY['a', 'b']) FROM late_change WHERE n >= 3999$$,
                 '22023', 'funnel window differs between rows of one group',
                 'a window that changes for one row');
-- per group: each group's rows agree, the call site reads many windows
SELECT results_eq($$SELECT e % 2, funnel_stage_counts(CASE WHEN e % 2 = 0 THEN interval '1 hour'
                                                            ELSE '1 minute' END, e, ts, ev, ARRAY['a', 'b'])
                     FROM late_change GROUP BY 1 ORDER BY 1$$,
                  $$SELECT 0::bigint, funnel_stage_counts('1 hour', e, ts, ev, ARRAY['a', 'b'])
                     FROM late_change WHERE e % 2 = 0
                    UNION ALL
                    SELECT 1::bigint, funnel_stage_counts('1 minute', e, ts, ev, ARRAY['a', 'b'])
                     FROM late_change WHERE e % 2 = 1$$,
                  'windows that differ between groups, computed per row: each group its own');
SELECT isnt((SELECT funnel_stage_counts('1 hour', e, ts, ev, ARRAY['a', 'b']) FROM late_change WHERE e % 2 = 0),
            (SELECT funnel_stage_counts('1 minute', e, ts, ev, ARRAY['a', 'b']) FROM late_change WHERE e % 2 = 0),
            'the two windows give different answers (the test above can fail)');

-- infinite and out-of-range times are still refused
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 1, ts, 'a', ARRAY['a'])
                   FROM (VALUES (timestamptz '2024-01-01'), ('infinity')) v(ts)$$,
                 '22008', 'funnel events cannot have an infinite timestamp', 'infinity');
SELECT throws_ok($$SELECT funnel_stage_counts('1 hour', 1, ts, 'a', ARRAY['a'])
                   FROM (VALUES (timestamptz '2024-01-01'), ('-infinity')) v(ts)$$,
                 '22008', 'funnel events cannot have an infinite timestamp', '-infinity');
-- as a window function the aggregate reads its arguments the same way
SELECT results_eq($$SELECT funnel_stage_counts('1 hour', e, ts, ev, ARRAY['axb', 'ayb']) OVER (ORDER BY ts, e, ev)
                     FROM names_rows ORDER BY ts DESC, e DESC, ev DESC LIMIT 1$$,
                  $$SELECT funnel_stage_counts('1 hour', e, ts, ev = 'axb', ev = 'ayb') FROM names_rows$$,
                  'as a window function');

-- conditions given as arguments are read without a branch per condition
-- once the first row has set the window and mode; a NULL condition is false.
-- Hand-worked: entity 1 meets a, b, c in turn (3); entity 2 meets a, then
-- c without b (1); entity 3 never a (0); entity 4's first row has no time
-- and is ignored (1).
SELECT is(funnel_stage_counts('1 hour', e, ts, a, b, c), '{3,1,1}',
          'conditions as arguments with NULLs: hand-worked')
FROM (VALUES (4, NULL::timestamptz, true, true, true),
             (1, timestamptz '2024-01-01 10:00', true, NULL, false),
             (1, '2024-01-01 10:01', NULL, true, NULL),
             (1, '2024-01-01 10:02', false, false, true),
             (2, '2024-01-01 10:00', true, false, false),
             (2, '2024-01-01 10:01', NULL, NULL, NULL),
             (2, '2024-01-01 10:02', false, NULL, true),
             (3, '2024-01-01 10:00', NULL, true, true),
             (4, '2024-01-01 10:00', true, false, false)) v(e, ts, a, b, c);
-- random rows, a fifth of the conditions NULL: the same as the array form
SELECT is(funnel_stage_counts('1 hour', e, ts, c1, c2, c3, c4, c5),
          funnel_stage_counts('1 hour', e, ts, VARIADIC ARRAY[c1, c2, c3, c4, c5]),
          'conditions as arguments with NULLs: the same as the array form')
FROM (SELECT (hashint4(g) & 511)::bigint AS e,
             timestamptz '2024-01-01' + (hashint4(g * 3) & 1023) * interval '1 minute' AS ts,
             CASE WHEN hashint4(g * 5) % 5 = 0 THEN NULL ELSE hashint4(g * 7) % 5 = 0 END AS c1,
             CASE WHEN hashint4(g * 11) % 5 = 0 THEN NULL ELSE hashint4(g * 13) % 5 = 0 END AS c2,
             CASE WHEN hashint4(g * 17) % 5 = 0 THEN NULL ELSE hashint4(g * 19) % 5 = 0 END AS c3,
             CASE WHEN hashint4(g * 23) % 5 = 0 THEN NULL ELSE hashint4(g * 29) % 5 = 0 END AS c4,
             CASE WHEN hashint4(g * 31) % 5 = 0 THEN NULL ELSE hashint4(g * 37) % 5 = 0 END AS c5
      FROM generate_series(1, 20000) g) r;

SELECT * FROM finish();
ROLLBACK;
