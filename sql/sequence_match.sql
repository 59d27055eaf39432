--
-- sequence_match and sequence_count: ClickHouse's own test cases
-- (tests/queries/0_stateless/00222_sequence_aggregate_function_family.sql
-- and 00823_sequence_match_dfa.sql).  The expected values are the ones
-- ClickHouse's tests assert (its "select 1 = sequenceMatch(...)" lines), in
-- the columns want_match and want_count; "ok" compares.
--
SET timezone = 'UTC';
CREATE TABLE sequence_test (time int, data int);
INSERT INTO sequence_test VALUES (0,0),(1,0),(2,0),(3,0),(4,1),(5,2),(6,0),(7,0),(8,0),(9,0),(10,1),(11,1);

-- four conditions: data = 0, 1, 2, 3 (every row matches one)
CREATE TABLE ch_cases4 (pattern text, want_match boolean, want_count bigint);
INSERT INTO ch_cases4 VALUES
 ('', true, 12), ('.', true, 12), ('.*', true, 12),
 ('(?1)', true, 8), ('(?2)', true, 3), ('(?3)', true, 1), ('(?4)', false, 0),
 ('(?1)(?1)', true, 4), ('(?1)(?1)(?1)', true, 2), ('(?1)(?1)(?1)(?1)', true, 2),
 ('(?1)(?1)(?1)(?1)(?1)', false, 0), ('(?1)(?1)(?1)(?1)(?2)', true, 2),
 ('(?1)(?t>10)(?2)', true, 1), ('(?1)(?t>11)(?2)', false, 0), ('(?1)(?t<11)(?2)', true, 2),
 ('(?1)(?t<3)(?3)', true, 1), ('(?1)(?t<=2)(?3)', true, 1), ('(?1)(?t<2)(?3)', false, 0),
 ('(?2)(?t>=7)(?2)', true, 1), ('(?2)(?t>7)(?2)', false, 0), ('(?2)(?3)(?1)', true, 1);

SELECT c.pattern, m.got_match, c.want_match, m.got_count, c.want_count,
       m.got_match = c.want_match AND m.got_count = c.want_count AS ok
  FROM ch_cases4 c,
       LATERAL (SELECT sequence_match(c.pattern, to_timestamp(time), data = 0, data = 1, data = 2, data = 3) AS got_match,
                       sequence_count(c.pattern, to_timestamp(time), data = 0, data = 1, data = 2, data = 3) AS got_count
                  FROM sequence_test) m
 ORDER BY c.pattern COLLATE "C";

-- two conditions: data = 1, data = 2 (rows matching neither are not events)
SELECT c.pattern, m.got_match, c.want_match, m.got_count, c.want_count,
       m.got_match = c.want_match AND m.got_count = c.want_count AS ok
  FROM (VALUES ('(?1)(?t==2)(?2)', false, 0), ('(?1)(?t==1)(?2)', true, 1)) c(pattern, want_match, want_count),
       LATERAL (SELECT sequence_match(c.pattern, to_timestamp(time), data = 1, data = 2) AS got_match,
                       sequence_count(c.pattern, to_timestamp(time), data = 1, data = 2) AS got_count
                  FROM sequence_test) m;

-- 00823: one user with A, then 999,999 B, then C.  Without a time
-- condition sequence_match runs the DFA: no iteration limit.
CREATE TABLE sequence (user_id int, event_type text, event_time bigint);
INSERT INTO sequence SELECT 1, CASE WHEN n = 0 THEN 'A' WHEN n < 1000000 THEN 'B' ELSE 'C' END, n
  FROM generate_series(0, 1000000) n;
SELECT 'ABC' FROM sequence GROUP BY user_id
HAVING sequence_match('(?1).*(?2).*(?3)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'C');
SELECT 'ABA' FROM sequence GROUP BY user_id
HAVING sequence_match('(?1).*(?2).*(?3)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'A');
SELECT 'ABBC' FROM sequence GROUP BY user_id
HAVING sequence_match('(?1).*(?2).*(?3).*(?4)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'B', event_type = 'C');
SELECT 'CBA' FROM sequence GROUP BY user_id
HAVING sequence_match('(?1).*(?2).*(?3)', to_timestamp(event_time), event_type = 'C', event_type = 'B', event_type = 'A');
-- with a time condition the pattern backtracks: ClickHouse's limit of
-- 1,000,000 steps is an error, not a hang
SELECT sequence_match('(?1).*(?2)(?t>=0)(?3)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'A')
  FROM sequence;
-- sequence_count always backtracks
SELECT sequence_count('(?1).*(?2).*(?3)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'A')
  FROM sequence;
-- a condition the pattern needs that no row meets: no match, no matching
SELECT sequence_count('(?1).*(?2).*(?3)', to_timestamp(event_time), event_type = 'A', event_type = 'B', event_type = 'D')
  FROM sequence;
DROP TABLE sequence;

-- no rows: sequence_match NULL, sequence_count 0; rows with a NULL time are
-- not events
SELECT sequence_match('(?1)', now(), true), sequence_count('(?1)', now(), true) FROM sequence_test WHERE false;
SELECT sequence_match('(?1)', NULL, true), sequence_count('.', NULL::timestamptz, true);

-- the first and the last timestamps: 9435184819199.999999 seconds apart,
-- more than a signed 64-bit count of microseconds holds (times are compared
-- as ClickHouse compares them, unsigned); a number of seconds too large for
-- microseconds saturates
SELECT p, sequence_match(p, ts, c1, c2) AS got, want
  FROM (VALUES ('(?1)(?t>9435184819199)(?2)', true), ('(?1)(?t>9435184819200)(?2)', false),
               ('(?1)(?t<=18446744073709551615)(?2)', true), ('(?1)(?t>=18446744073709551615)(?2)', false),
               ('(?1)(?t==0)(?2)', false)) w(p, want),
       (VALUES ('4714-11-24 00:00:00+00 BC'::timestamptz, true, false),
               ('294276-12-31 23:59:59.999999+00', false, true)) e(ts, c1, c2)
 GROUP BY p, want ORDER BY p;

-- errors
SELECT sequence_match('(?1)(?2', to_timestamp(time), data = 0, data = 1) FROM sequence_test;
SELECT sequence_match('(?x)', to_timestamp(time), data = 0) FROM sequence_test;
SELECT sequence_match('(?t~1)', to_timestamp(time), data = 0) FROM sequence_test;
SELECT sequence_match('(?1)(?t<1)(?t<2)', to_timestamp(time), data = 0) FROM sequence_test;
SELECT sequence_match('a', to_timestamp(time), data = 0) FROM sequence_test;
SELECT sequence_match('(?3)', to_timestamp(time), data = 0, data = 1) FROM sequence_test;
SELECT sequence_match('(?0)', to_timestamp(time), data = 0, data = 1) FROM sequence_test;
SELECT sequence_match(NULL, to_timestamp(time), data = 0) FROM sequence_test;
SELECT sequence_match('(?1)', to_timestamp(time), VARIADIC '{}'::boolean[]) FROM sequence_test;
SELECT sequence_match('(?1)', to_timestamp(time), VARIADIC array_fill(true, ARRAY[33])) FROM sequence_test;
SELECT sequence_match(CASE WHEN time < 5 THEN '(?1)' ELSE '(?2)' END, to_timestamp(time), data = 0, data = 1) FROM sequence_test;
SELECT sequence_match('(?1)', 'infinity', true);
DROP TABLE sequence_test, ch_cases4;
