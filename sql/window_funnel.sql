--
-- window_funnel: hand-computed levels (doc/window_funnel.md), every input form
--
-- Every expected level below was worked out by hand from the spec's walk:
-- entries (ts, k) in (ts, k) order; step 1 (re)starts step 1 only; step k
-- takes the start held by step k-1 when ts <= start + window; the answer is
-- the highest step holding a start.  Notation in comments: "a@3" is a row
-- at second 3 matching step a; "s2=0" is "step 2 holds chain start 0".
--
SET timezone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- second n after a fixed origin
CREATE FUNCTION t(n numeric) RETURNS timestamptz LANGUAGE sql IMMUTABLE
    AS $$ SELECT '2024-03-01 00:00:00+00'::timestamptz + (n * 1000000)::bigint * interval '1 microsecond' $$;
-- the conditions of a row: step k is true when steps[k] is one of the
-- row's space-separated tokens; a NULL row (e IS NULL) gives NULL conditions
CREATE FUNCTION conds(e text, steps text[]) RETURNS boolean[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT array_agg(s = ANY (string_to_array(e, ' ')) ORDER BY i)
          FROM unnest(steps) WITH ORDINALITY AS u(s, i) $$;

-- one case: window (seconds), mode, steps, hand-computed level, and rows
-- written 'ts tokens; ts tokens; ...' ('null' ts: NULL time; '-': NULL
-- conditions); rid numbers the rows in the order written
CREATE TABLE cases (cid text PRIMARY KEY, win interval, mode text, steps text[], expect int);
CREATE TABLE ev (cid text, rid int, ts numeric, e text);
CREATE PROCEDURE add_case(cid text, win numeric, mode text, steps text[], expect int, rows text)
LANGUAGE plpgsql AS $$
DECLARE
    r text;
    n int := 0;
    tsp text;
    ep text;
BEGIN
    INSERT INTO cases VALUES (cid, win * interval '1 second', mode, steps, expect);
    FOREACH r IN ARRAY string_to_array(rows, ';') LOOP
        n := n + 1;
        r := btrim(r);
        tsp := split_part(r, ' ', 1);
        ep := btrim(substr(r, length(tsp) + 1));
        INSERT INTO ev VALUES (cid, n,
            CASE WHEN tsp = 'null' THEN NULL ELSE tsp::numeric END,
            CASE WHEN ep = '-' THEN NULL ELSE ep END);
    END LOOP;
END $$;

-- ClickHouse's tests, restated (spec "Known cases")
-- k01: nine rows, the row at second t is event 1000+t
CALL add_case('k01a', 2, '', '{1003,1004,1005,1006,1007}', 3,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01b', 3, '', '{1003,1004,1005,1006,1007}', 4,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01c', 4, '', '{1003,1004,1005,1006,1007}', 5,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01d', 10000, '', '{1000,1001,1002,1008}', 4,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01e', 10000, '', '{1000}', 1,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01f', 1, '', '{1000}', 1,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01g', 10000, '', '{1000,1001}', 2,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01h', 10000, '', '{1000,1001,1002}', 3,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
CALL add_case('k01i', 10000, '', '{1008,1000}', 1,
  '0 1000; 1 1001; 2 1002; 3 1003; 4 1004; 5 1005; 6 1006; 7 1007; 8 1008');
-- k02: three rows tie at second 1; strict_increase cannot pass step 2 there:
-- s1 reached at 0, s2 at 1, step 3 needs ts > 1: no, so 2
CALL add_case('k02a', 10000, '', '{1000,1001,1002,1003,1004}', 5,
  '0 1000; 1 1001; 1 1002; 1 1003; 2 1004');
CALL add_case('k02b', 10000, 'strict_increase', '{1000,1001,1002,1003,1004}', 2,
  '0 1000; 1 1001; 1 1002; 1 1003; 2 1004');
-- one row matching all three steps: 3; strict_increase and strict_once: 1
CALL add_case('k02c', 10000, '', '{1004,1004,1004}', 3,
  '0 1000; 1 1001; 1 1002; 1 1003; 2 1004');
CALL add_case('k02d', 10000, 'strict_increase', '{1004,1004,1004}', 1,
  '0 1000; 1 1001; 1 1002; 1 1003; 2 1004');
CALL add_case('k02e', 10000, 'strict_once', '{1004,1004,1004}', 1,
  '0 1000; 1 1001; 1 1002; 1 1003; 2 1004');
CALL add_case('k03a', 86400, '', '{a,b,c}', 3, '1 a; 2 d; 3 b; 4 c');
-- strict_order: d matches no step after the chain started: stop at 1
CALL add_case('k03b', 86400, 'strict_order', '{a,b,c}', 1, '1 a; 2 d; 3 b; 4 c');
-- c and b before any a are skipped (no chain yet); the a's give 1
CALL add_case('k04', 86400, 'strict_order', '{a,b,c}', 1, '1 c; 2 c; 3 b; 4 b; 5 a; 6 a');
-- second a restarts step 1 only; s2=1 still held, so c reaches step 3
CALL add_case('k05a', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 b; 3 a; 4 c');
CALL add_case('k05b', 86400, '', '{a,b,c}', 3, '1 a; 2 b; 3 a; 4 c');
-- c arrives while step 2 holds nothing: skipped with allow_reentry, then b: 2
CALL add_case('k06a', 10, 'strict_order,allow_reentry', '{a,b,c}', 2, '1 a; 2 c; 3 b');
CALL add_case('k06b', 10, 'strict_order', '{a,b,c}', 1, '1 a; 2 c; 3 b');
CALL add_case('k06c', 10, '', '{a,b,c}', 2, '1 a; 2 c; 3 b');
-- b@4 finds step 2 already held: stop at 2
CALL add_case('k07', 86400, 'strict_deduplication', '{a,b,c}', 2, '1 a; 2 b; 3 a; 4 b; 5 c');
CALL add_case('k08', 86400, '', '{a,b,c}', 3, '1 a b c');

-- more of ClickHouse's test data, levels worked out from the spec
-- c01: 1005 twice; with strict_deduplication the second one stops at 6
CALL add_case('c01a', 10000, 'strict_deduplication', '{1000,1001,1002,1003,1004,1005,1006}', 6,
  '0 1000; 10 1001; 20 1002; 30 1003; 40 1004; 50 1005; 51 1005; 60 1006; 70 1007; 80 1008');
CALL add_case('c01b', 10000, '', '{1000,1001,1002,1003,1004,1005,1006}', 7,
  '0 1000; 10 1001; 20 1002; 30 1003; 40 1004; 50 1005; 51 1005; 60 1006; 70 1007; 80 1008');
-- c02: six users, default / strict_order / strict_deduplication+strict_order
CALL add_case('c02u1d', 86400, '', '{a,b,c}', 3, '1 a; 2 b; 3 c');
CALL add_case('c02u1o', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 b; 3 c');
CALL add_case('c02u1s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 3, '1 a; 2 b; 3 c');
CALL add_case('c02u2d', 86400, '', '{a,b,c}', 3, '1 a; 2 d; 3 b; 4 c');
CALL add_case('c02u2o', 86400, 'strict_order', '{a,b,c}', 1, '1 a; 2 d; 3 b; 4 c');
CALL add_case('c02u2s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 1, '1 a; 2 d; 3 b; 4 c');
-- u3: b@4 re-reaches step 2 (no stop without dedup); with dedup it stops at 2
CALL add_case('c02u3d', 86400, '', '{a,b,c}', 3, '1 a; 2 a; 3 b; 4 b; 5 c; 6 c');
CALL add_case('c02u3o', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 a; 3 b; 4 b; 5 c; 6 c');
CALL add_case('c02u3s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 2, '1 a; 2 a; 3 b; 4 b; 5 c; 6 c');
CALL add_case('c02u4d', 86400, '', '{a,b,c}', 3, '1 a; 2 a; 3 a; 4 a; 5 b; 6 b; 7 c; 8 c');
CALL add_case('c02u4o', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 a; 3 a; 4 a; 5 b; 6 b; 7 c; 8 c');
CALL add_case('c02u4s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 2, '1 a; 2 a; 3 a; 4 a; 5 b; 6 b; 7 c; 8 c');
-- u5: d@5 stops strict_order at 2
CALL add_case('c02u5d', 86400, '', '{a,b,c}', 3, '1 a; 2 a; 3 b; 4 b; 5 d; 6 c; 7 c');
CALL add_case('c02u5o', 86400, 'strict_order', '{a,b,c}', 2, '1 a; 2 a; 3 b; 4 b; 5 d; 6 c; 7 c');
CALL add_case('c02u5s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 2, '1 a; 2 a; 3 b; 4 b; 5 d; 6 c; 7 c');
CALL add_case('c02u6d', 86400, '', '{a,b,c}', 1, '1 c; 2 c; 3 b; 4 b; 5 a; 6 a');
CALL add_case('c02u6o', 86400, 'strict_order', '{a,b,c}', 1, '1 c; 2 c; 3 b; 4 b; 5 a; 6 a');
CALL add_case('c02u6s', 86400, 'strict_deduplication,strict_order', '{a,b,c}', 1, '1 c; 2 c; 3 b; 4 b; 5 a; 6 a');
-- c03: strict_once, steps failure, failure, success (f = failure, s = success)
-- u123: f@180 cannot be steps 1 and 2 at once; f@220 extends the chain
-- [f@180] to step 2 (220 > 180 too); s@250 is within 180+200: 3
CALL add_case('c03u123i', 200, 'strict_once,strict_increase', '{f,f,s}', 3, '180 f; 220 f; 250 s');
CALL add_case('c03u123o', 200, 'strict_once', '{f,f,s}', 3, '180 f; 220 f; 250 s');
CALL add_case('c03u123s', 200, 'strict_once,strict_deduplication', '{f,f,s}', 3, '180 f; 220 f; 250 s');
CALL add_case('c03u234i', 200, 'strict_once,strict_increase', '{f,f,s}', 2, '100 f; 250 f');
CALL add_case('c03u234o', 200, 'strict_once', '{f,f,s}', 2, '100 f; 250 f');
CALL add_case('c03u234s', 200, 'strict_once,strict_deduplication', '{f,f,s}', 2, '100 f; 250 f');
CALL add_case('c03u345i', 200, 'strict_once,strict_increase', '{f,f,s}', 1, '200 s; 210 f; 230 s');
CALL add_case('c03u345o', 200, 'strict_once', '{f,f,s}', 1, '200 s; 210 f; 230 s');
CALL add_case('c03u345s', 200, 'strict_once,strict_deduplication', '{f,f,s}', 1, '200 s; 210 f; 230 s');
-- c04: allow_reentry users (the current source's rules: a repeated a
-- restarts step 1 only, it never stops strict_order)
CALL add_case('c04u1o', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 b; 3 a; 4 c');
CALL add_case('c04u1r', 86400, 'strict_order,allow_reentry', '{a,b,c}', 3, '1 a; 2 b; 3 a; 4 c');
-- u2: a b a b c: b@4 takes s1=3, c@5 reaches 3; with dedup b@4 stops at 2
CALL add_case('c04u2o', 86400, 'strict_order', '{a,b,c}', 3, '1 a; 2 b; 3 a; 4 b; 5 c');
CALL add_case('c04u2x', 86400, 'strict_order,allow_reentry,strict_deduplication', '{a,b,c}', 2, '1 a; 2 b; 3 a; 4 b; 5 c');
-- u3, four steps: b@4 re-reaches step 2, then d@5 extends s3=1: 4
CALL add_case('c04u3o4', 86400, 'strict_order', '{a,b,c,d}', 4, '1 a; 2 b; 3 c; 4 b; 5 d');
CALL add_case('c04u4o', 86400, 'strict_order', '{a,b,c}', 1, '1 a; 2 c; 3 b');
CALL add_case('c04u4r', 86400, 'strict_order,allow_reentry', '{a,b,c}', 2, '1 a; 2 c; 3 b');
CALL add_case('c04u4x', 86400, 'strict_order,allow_reentry,strict_deduplication', '{a,b,c}', 2, '1 a; 2 c; 3 b');
-- u5, four steps: a@4 restarts, b@5 and c@6 follow it, d@7 reaches 4
CALL add_case('c04u5o4', 86400, 'strict_order', '{a,b,c,d}', 4, '1 a; 2 b; 3 c; 4 a; 5 b; 6 c; 7 d');
CALL add_case('c04u5r4', 86400, 'strict_order,allow_reentry', '{a,b,c,d}', 4, '1 a; 2 b; 3 c; 4 a; 5 b; 6 c; 7 d');
-- c05: checkout funnels (bc = begin_checkout, vp = view_product, cp = payment)
CALL add_case('c05u1o', 600, 'strict_order', '{bc,vp,cp}', 3, '100 bc; 200 vp; 300 bc; 400 cp');
-- four steps bc, vp, bc, cp: bc@100 is also step 3 while step 2 holds
-- nothing: strict_order stops at 1; allow_reentry skips it, and bc@300
-- then reaches step 3 on s2=100, cp@400 step 4
CALL add_case('c05u1o4', 600, 'strict_order', '{bc,vp,bc,cp}', 1, '100 bc; 200 vp; 300 bc; 400 cp');
CALL add_case('c05u1r4', 600, 'strict_order,allow_reentry', '{bc,vp,bc,cp}', 4, '100 bc; 200 vp; 300 bc; 400 cp');
CALL add_case('c05u2r4', 600, 'strict_order,allow_reentry', '{bc,vp,bc,cp}', 4, '100 bc; 200 vp; 250 vp; 300 bc; 400 cp');
-- u3: cp@300 comes while step 3 holds nothing: skipped, so 2
CALL add_case('c05u3r4', 600, 'strict_order,allow_reentry', '{bc,vp,bc,cp}', 2, '100 bc; 200 vp; 300 cp');

-- ties, overlaps, windows, NULLs, modes
-- ties: entries at one time are walked in step order, whatever the row order
CALL add_case('m01', 0, '', '{a,b}', 2, '5 b; 5 a');
CALL add_case('m02a', 0, '', '{a,b,c}', 3, '5 a; 5 b; 5 c');
CALL add_case('m02b', 0, 'strict_increase', '{a,b,c}', 1, '5 a; 5 b; 5 c');
CALL add_case('m02c', 0, 'strict_order', '{a,b}', 2, '5 b; 5 a');
-- a row matching no step sorts first at its time: (2,0) stops before (2,2)
CALL add_case('m03a', 10, 'strict_order', '{a,b}', 1, '1 a; 2 x; 2 b');
CALL add_case('m03b', 10, '', '{a,b}', 2, '1 a; 2 x; 2 b');
-- ... and before any chain it is skipped, even at the chain's own time
CALL add_case('m03c', 10, 'strict_order', '{a,b}', 2, '1 x; 1 a; 2 b');
-- overlapping rows: 'a b'@1 gives s1=1, s2=1; 'b c'@2: step 2 again, step 3
CALL add_case('m04a', 10, '', '{a,b,c}', 3, '1 a b; 2 b c');
CALL add_case('m04b', 10, 'strict_deduplication', '{a,b,c}', 2, '1 a b; 2 b c');
-- strict_once: row 1 is step 1; row 2 is step 2 of that chain and cannot also be step 3
CALL add_case('m04c', 10, 'strict_once', '{a,b,c}', 2, '1 a b; 2 b c');
CALL add_case('m04d', 10, 'strict_order', '{a,b,c}', 3, '1 a b; 2 b c');
CALL add_case('m05a', 10, 'strict_increase', '{a,b,c}', 1, '1 a b c');
CALL add_case('m05b', 10, 'strict_once', '{a,b,c}', 1, '1 a b c');
CALL add_case('m05c', 10, 'strict_order', '{a,b,c}', 3, '1 a b c');
CALL add_case('m05d', 10, 'strict_deduplication', '{a,b,c}', 3, '1 a b c');
-- window 0: a and b share second 1; c@2 is 1 s after the start
CALL add_case('m06', 0, '', '{a,b,c}', 2, '1 a; 1 b; 2 c');
-- the window is inclusive
CALL add_case('m07a', 10, '', '{a,b}', 2, '0 a; 10 b');
CALL add_case('m07b', 9, '', '{a,b}', 1, '0 a; 10 b');
-- restarts: a@8 moves step 1 only; c@12 is too late for s2=0 (12 > 10)
CALL add_case('m08a', 10, '', '{a,b,c}', 2, '0 a; 5 b; 8 a; 12 c');
-- ... b@13 takes s1=8 (s2=8), c@14 <= 18: 3
CALL add_case('m08b', 10, '', '{a,b,c}', 3, '0 a; 5 b; 8 a; 12 c; 13 b; 14 c');
-- b@21 replaces s2=0 by s2=20, so c@25 <= 30 reaches 3
CALL add_case('m08c', 10, '', '{a,b,c}', 3, '0 a; 1 b; 20 a; 21 b; 25 c');
-- b@35 > 20+10 leaves s2=0; c@36 > 0+10: 2
CALL add_case('m08d', 10, '', '{a,b,c}', 2, '0 a; 1 b; 20 a; 35 b; 36 c');
-- c@6 extends the older chain (s2=0, 6 <= 10)
CALL add_case('m08e', 10, '', '{a,b,c}', 3, '0 a; 1 b; 5 a; 6 c');
-- NULL time: the row is ignored (it neither matches nor stops strict_order)
CALL add_case('m09a', 10, '', '{a,b,c}', 1, '1 a; null b; 2 c');
CALL add_case('m09b', 10, 'strict_order', '{a,b}', 2, '1 a; null x; 2 b');
-- NULL conditions count as false: a row matching no step
CALL add_case('m10a', 10, '', '{a,b}', 2, '1 a; 2 -; 3 b');
CALL add_case('m10b', 10, 'strict_order', '{a,b}', 1, '1 a; 2 -; 3 b');
CALL add_case('m10c', 10, '', '{a,b}', 0, '1 -');
-- empty groups: no rows (LEFT JOIN below), only NULL times, nothing matching
INSERT INTO cases VALUES ('m11a', '10 s', '', '{a,b}', 0);
CALL add_case('m11b', 10, '', '{a,b}', 0, 'null a; null b');
CALL add_case('m11c', 10, '', '{a,b}', 0, '1 x; 2 y');
CALL add_case('m11d', 10, 'strict_order', '{a,b}', 0, '1 x; 2 y');
-- one step
CALL add_case('m12a', 10, '', '{a}', 1, '1 x; 2 a');
CALL add_case('m12b', 10, 'strict_order', '{a}', 1, '1 x; 2 a');
CALL add_case('m12c', 0, '', '{a}', 1, '1 x; 2 a; 3 y');
CALL add_case('m12d', 10, '', '{a}', 0, '1 x');
CALL add_case('m12e', 10, 'strict_deduplication', '{a}', 1, '1 a; 2 a');
-- strict_deduplication with strict_increase: b@1 fails strict_increase and
-- holds nothing, so b@2 is no duplicate: s2 reached at 2, c@3: 3.  Dedup
-- alone: b@1 reaches step 2, b@2 is a duplicate: 2
CALL add_case('m13a', 10, 'strict_deduplication', '{a,b,c}', 2, '1 a; 1 b; 2 b; 3 c');
CALL add_case('m13b', 10, 'strict_deduplication,strict_increase', '{a,b,c}', 3, '1 a; 1 b; 2 b; 3 c');
CALL add_case('m13c', 10, 'strict_increase', '{a,b,c}', 3, '1 a; 1 b; 2 b; 3 c');
CALL add_case('m13d', 10, '', '{a,b,c}', 3, '1 a; 1 b; 2 b; 3 c');
-- a repeated step 1 is never a duplicate
CALL add_case('m13e', 10, 'strict_deduplication', '{a,b,c}', 3, '1 a; 2 a; 3 b; 4 c');
-- b before any a: step 2 holds nothing, so not a duplicate either
CALL add_case('m13f', 10, 'strict_deduplication', '{a,b,c}', 2, '1 b; 2 b; 3 a; 4 b');
-- strict_once with and without strict_increase: b@1 extends [a@1] only
-- without strict_increase (1 < 1 is false)
CALL add_case('m14a', 10, 'strict_once', '{a,b,c}', 3, '1 a; 1 b; 2 c');
CALL add_case('m14b', 10, 'strict_once,strict_increase', '{a,b,c}', 1, '1 a; 1 b; 2 c');
-- strict_once with strict_order (and allow_reentry)
CALL add_case('m14c', 10, 'strict_once,strict_order', '{a,b,c}', 1, '1 a; 2 x; 3 b');
CALL add_case('m14d', 10, 'strict_once,strict_order', '{a,b,c}', 1, '1 a; 2 c; 3 b');
CALL add_case('m14e', 10, 'strict_once,strict_order,allow_reentry', '{a,b,c}', 2, '1 a; 2 c; 3 b');
-- strict_once with strict_deduplication, rows P='a b', Q='b' at second 1:
-- entries (1,1,P) (1,2,P) (1,2,Q) (2,3,c).  (1,2,P) cannot use P twice and
-- adds nothing; (1,2,Q) reaches step 2; c reaches 3.  (Rows in the other
-- order give 2: see below.)
CALL add_case('m15a', 10, 'strict_once,strict_deduplication', '{a,b,c}', 3, '1 a b; 1 b; 2 c');
CALL add_case('m15b', 10, 'strict_once', '{a,b,c}', 3, '1 a b; 1 b; 2 c');
CALL add_case('m15c', 10, 'strict_deduplication', '{a,b,c}', 2, '1 a b; 1 b; 2 c');
-- strict_once: chains out of the window are dropped, one is kept:
-- [a@0] is out of the window at b@12, [a@5] is not: 3
CALL add_case('m15d', 10, 'strict_once', '{a,b,c}', 3, '0 a; 5 a; 12 b; 13 c');
-- ... and when every chain is out of the window one of them stays: [a@0]
-- at b@20 is kept (level 1), not extended; with strict_order, c@21 then
-- finds step 2 empty after a chain started: stop at 1
CALL add_case('m15e', 10, 'strict_once', '{a,b,c}', 1, '0 a; 20 b');
CALL add_case('m15f', 10, 'strict_once,strict_order', '{a,b,c}', 1, '0 a; 20 b; 21 c');
-- x@21 matches no step after a chain started: stop at 1 (the later a b c
-- must not count)
CALL add_case('m15g', 10, 'strict_once,strict_order', '{a,b,c}', 1, '0 a; 20 b; 21 x; 22 a; 23 b; 24 c');
-- strict_order with strict_increase: b@1 fails strict_increase (no stop),
-- then c@2 finds step 2 empty: stop at 1; allow_reentry skips c, b@3: 2
CALL add_case('m16a', 10, 'strict_order,strict_increase', '{a,b,c}', 1, '1 a; 1 b; 2 c; 3 b');
CALL add_case('m16b', 10, 'strict_order,allow_reentry,strict_increase', '{a,b,c}', 2, '1 a; 1 b; 2 c; 3 b');
CALL add_case('m16c', 10, 'strict_order', '{a,b,c}', 3, '1 a; 1 b; 2 c; 3 b');
-- strict_increase compares with the time step k-1 was reached (5), not the chain start
CALL add_case('m17a', 10, 'strict_increase', '{a,b,c}', 2, '0 a; 5 b; 5 c');
CALL add_case('m17b', 10, '', '{a,b,c}', 3, '0 a; 5 b; 5 c');
-- a restart also resets when step 1 was reached: b@3 needs ts > 3
CALL add_case('m17c', 10, 'strict_increase', '{a,b}', 1, '0 a; 3 a; 3 b');
-- strict_order: a step whose previous step is held but out of the window
-- is skipped, not a stop: b@20 skipped, a@21 b@22 c@23: 3
CALL add_case('m18', 10, 'strict_order', '{a,b,c}', 3, '0 a; 20 b; 21 a; 22 b; 23 c');
-- whitespace and repeats in the mode list
CALL add_case('m19a', 10, ' strict_order , allow_reentry ', '{a,b,c}', 2, '1 a; 2 c; 3 b');
CALL add_case('m19b', 10, 'strict_order,strict_order', '{a,b,c}', 1, '1 a; 2 c; 3 b');

SELECT count(*) AS cases FROM cases;

-- the boolean form, rows given in rid order (only strict_once cares)
CREATE TABLE got AS
SELECT c.cid, c.expect,
       window_funnel(c.win, c.mode, t(ev.ts), VARIADIC conds(ev.e, c.steps) ORDER BY ev.rid) AS level
FROM cases c LEFT JOIN ev USING (cid)
GROUP BY c.cid, c.expect;

SELECT cid, expect, level FROM got ORDER BY cid COLLATE "C";

-- any case whose level is not the hand-computed one
SELECT cid, expect, level FROM got WHERE level IS DISTINCT FROM expect ORDER BY cid COLLATE "C";

-- the other input forms give the same levels: funnel_event rows, a stored
-- journey (funnel_event[]), event names (where every row has at most one token)
CREATE TABLE forms AS
SELECT c.cid,
       window_funnel(c.win, c.mode, funnel_event(t(ev.ts), VARIADIC conds(ev.e, c.steps)) ORDER BY ev.rid) AS by_event,
       window_funnel(c.win, array_agg(funnel_event(t(ev.ts), VARIADIC conds(ev.e, c.steps)) ORDER BY ev.rid), c.mode) AS by_journey,
       CASE WHEN bool_and(ev.e IS NULL OR strpos(ev.e, ' ') = 0) THEN
           window_funnel(c.win, c.mode, t(ev.ts), ev.e, c.steps ORDER BY ev.rid) END AS by_name
FROM cases c LEFT JOIN ev USING (cid)
GROUP BY c.cid;

SELECT count(*) AS cases, count(by_event) AS by_event, count(by_journey) AS by_journey,
       count(by_name) AS by_name
FROM forms;

SELECT g.cid, g.expect, f.by_event, f.by_journey, f.by_name
FROM got g JOIN forms f USING (cid)
WHERE f.by_event IS DISTINCT FROM g.expect
   OR f.by_journey IS DISTINCT FROM g.expect
   OR f.by_name <> g.expect
ORDER BY g.cid COLLATE "C";

-- the default mode without any mode argument, and the journey function
-- with its default mode, agree with mode ''
SELECT c.cid, c.expect,
       window_funnel(c.win, t(ev.ts), VARIADIC conds(ev.e, c.steps)) AS no_mode_bools,
       window_funnel(c.win, funnel_event(t(ev.ts), VARIADIC conds(ev.e, c.steps))) AS no_mode_event,
       window_funnel(c.win, t(ev.ts), ev.e, c.steps) AS no_mode_names,
       window_funnel(c.win, array_agg(funnel_event(t(ev.ts), VARIADIC conds(ev.e, c.steps)))) AS no_mode_journey
FROM cases c JOIN ev USING (cid)
WHERE c.cid IN ('k01a', 'k03a', 'k05b', 'm08c')
GROUP BY c.cid, c.expect
ORDER BY c.cid COLLATE "C";

-- strict_once numbers rows in the order the aggregate receives them; with
-- strict_deduplication that order matters.  Rows Q='b' before P='a b':
-- entries (1,1,P) (1,2,Q) (1,2,P): Q extends [P] to step 2, then (1,2,P)
-- finds step 2 held: stop at 2.  Without strict_deduplication: 3 both ways.
SELECT window_funnel('10 s', 'strict_once,strict_deduplication', t(ts), VARIADIC conds(e, '{a,b,c}') ORDER BY rid) AS p_then_q,
       window_funnel('10 s', 'strict_once,strict_deduplication', t(ts), VARIADIC conds(e, '{a,b,c}') ORDER BY rid DESC) AS q_then_p,
       window_funnel('10 s', 'strict_once', t(ts), VARIADIC conds(e, '{a,b,c}') ORDER BY rid DESC) AS once_q_then_p,
       window_funnel('10 s', array_agg(funnel_event(t(ts), VARIADIC conds(e, '{a,b,c}')) ORDER BY rid DESC),
                     'strict_once,strict_deduplication') AS journey_q_then_p
FROM ev WHERE cid = 'm15a';

-- NULL conditions (ClickHouse's nullable test data): u1 a1,b1 / a2,b2;
-- u2 a1,- / a2,-; u3 -,-; u4 -,b1 / a2,- / -,b3
CREATE TABLE nn (u int, ts int, a text, b text);
INSERT INTO nn VALUES (1, 1, 'a1', 'b1'), (1, 2, 'a2', 'b2'), (2, 1, 'a1', NULL), (2, 2, 'a2', NULL),
    (3, 1, NULL, NULL), (4, 1, NULL, 'b1'), (4, 2, 'a2', NULL), (4, 3, NULL, 'b3');
-- q4, u4: 'b3'@3 matches steps 1 and 2 (a is null): s1=3, s2=3: 2; with
-- strict_order the row at 2 matches no step (b = 'b3' is NULL): stop at 1
SELECT u,
       window_funnel('1 day', t(ts), a = 'a1', a = 'a2') AS q1,
       window_funnel('1 day', t(ts), a = 'a1', b = 'b2') AS q2,
       window_funnel('1 day', t(ts), a IS NULL AND b IS NULL) AS q3,
       window_funnel('1 day', t(ts), a IS NULL, b = 'b3') AS q4,
       window_funnel('1 day', 'strict_order', t(ts), a IS NULL, b = 'b3') AS q5
FROM nn GROUP BY u ORDER BY u;

-- range conditions overlapping (ClickHouse): rows 1001..1008 at seconds 1..8,
-- steps e<=1007, e>=1002, e<=1006, e>=1004, window 4: second 4 matches all
-- four steps and second 1-4 each restart; 4
SELECT window_funnel('4 s', t(g), g + 1000 <= 1007, g + 1000 >= 1002, g + 1000 <= 1006, g + 1000 >= 1004) AS level
FROM generate_series(1, 8) g;

-- a NULL step name matches no event: steps a, NULL, c reach 1
SELECT window_funnel('1 h', t(ts), e, ARRAY['a', NULL, 'c']) AS null_name
FROM (VALUES (1, 'a'), (2, NULL), (3, 'c')) v(ts, e);

-- empty input: 0 (no group at all gives one row, 0)
SELECT window_funnel('1 h', t(1), true) AS no_rows FROM generate_series(1, 0);
SELECT window_funnel('1 h', funnel_event(t(1), 1)) AS no_rows_event FROM generate_series(1, 0);
SELECT window_funnel('1 h', '{}'::funnel_event[]) AS empty_journey;
SELECT window_funnel('1 h', ARRAY[NULL, NULL]::funnel_event[]) AS null_journey;

-- 64 steps: the row at second k matches step k; window 63 s reaches 64,
-- window 62 s ends at 63 (step 64 at 64 > 1 + 62)
CREATE FUNCTION onehot(k int, n int) RETURNS boolean[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT array_agg(i = k ORDER BY i) FROM generate_series(1, n) i $$;
SELECT window_funnel('63 s', t(k), VARIADIC onehot(k, 64)) AS w63,
       window_funnel('62 s', t(k), VARIADIC onehot(k, 64)) AS w62,
       window_funnel('63 s', funnel_event(t(k), k)) AS event_w63,
       window_funnel('62 s', funnel_event(t(k), k)) AS event_w62,
       window_funnel('63 s', array_agg(funnel_event(t(k), k) ORDER BY k DESC)) AS journey_w63,
       window_funnel('63 s', 'strict_increase', t(k), VARIADIC onehot(k, 64)) AS increase_w63,
       window_funnel('63 s', t(k), (k::text), ARRAY(SELECT i::text FROM generate_series(1, 64) i)) AS names_w63
FROM generate_series(1, 64) k;
-- one row matching all 64 steps: 64; without step 64 anywhere: 63
SELECT window_funnel('0 s', t(1), VARIADIC array_fill(true, ARRAY[64])) AS all64,
       window_funnel('0 s', '2024-03-01 00:00:00+00 {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64}'::funnel_event) AS all64_event,
       window_funnel('0 s', t(1), VARIADIC array_fill(true, ARRAY[63]) || false) AS first63;

-- window units: microseconds; a month is 30 days, a year 360 days; a day
-- is 24 hours even across a DST change
SELECT window_funnel('0', t(ts), VARIADIC conds(e, '{a,b}')) AS w0,
       window_funnel('1 microsecond', t(ts), VARIADIC conds(e, '{a,b}')) AS w1us
FROM (VALUES (1, 'a'), (1.000001, 'b')) v(ts, e);
SELECT window_funnel('1 mon', ts, VARIADIC conds(e, '{a,b}')) AS b_at_30d,
       window_funnel('1 mon', ts + CASE e WHEN 'b' THEN interval '1 microsecond' ELSE '0' END,
                     VARIADIC conds(e, '{a,b}')) AS b_at_30d_1us,
       window_funnel('1 year', ts + CASE e WHEN 'b' THEN interval '330 days' ELSE '0' END,
                     VARIADIC conds(e, '{a,b}')) AS b_at_360d,
       window_funnel('1 year', ts + CASE e WHEN 'b' THEN interval '331 days' ELSE '0' END,
                     VARIADIC conds(e, '{a,b}')) AS b_at_361d
FROM (VALUES (t(0), 'a'), (t(0) + interval '30 days', 'b')) v(ts, e);
-- extreme times: the first and last timestamptz are 9.4e18 us apart, more
-- than the int64 window of 290000 years (9.02e18 us): 1, whatever the row
-- order (ORDER BY ts DESC: rows out of time order); the window is inclusive
-- to the microsecond (104400000 days = 290000 years of 360 days)
SELECT window_funnel('290000 years', ts, e = 'a', e = 'b' ORDER BY ts DESC) FILTER (WHERE e IN ('a', 'b')) AS min_to_max,
       window_funnel('290000 years', 'strict_once', ts, e = 'a', e = 'b' ORDER BY ts DESC) FILTER (WHERE e IN ('a', 'b')) AS min_to_max_once,
       window_funnel('290000 years', ts, e = 'a', e = 'c' ORDER BY ts DESC) FILTER (WHERE e IN ('a', 'c')) AS exactly_window,
       window_funnel('290000 years', ts, e = 'a', e = 'd' ORDER BY ts DESC) FILTER (WHERE e IN ('a', 'd')) AS window_plus_1us
FROM (VALUES ('4714-11-24 00:00:00+00 BC'::timestamptz, 'a'), ('294276-12-31 23:59:59.999999+00', 'b'),
             ('4714-11-24 00:00:00+00 BC'::timestamptz + interval '104400000 days', 'c'),
             ('4714-11-24 00:00:00+00 BC'::timestamptz + interval '104400000 days 0.000001 seconds', 'd')) v(ts, e);
SELECT window_funnel('290000 years', ARRAY[funnel_event('294276-12-31 23:59:59.999999+00', 2),
                                           funnel_event('4714-11-24 00:00:00+00 BC', 1)]) AS journey_min_to_max;
-- New York, 2024-03-10: clocks jump from 02:00 to 03:00.  a at 03-09 12:00
-- EST (17:00 UTC); b at 03-10 12:30 EDT (16:30 UTC) is 23.5 h later: within
-- '1 day'; b at 03-10 13:30 EDT (17:30 UTC) is 24.5 h later: not.
SET timezone = 'America/New_York';
SELECT window_funnel('1 day', ts, e = 'a', e = 'b') FILTER (WHERE ts < '2024-03-10 13:00') AS b_23h30,
       window_funnel('1 day', ts, e = 'a', e = 'b') FILTER (WHERE ts <> '2024-03-10 12:30') AS b_24h30,
       window_funnel('23 hours', ts, e = 'a', e = 'b') FILTER (WHERE ts < '2024-03-10 13:00') AS b_23h30_in_23h
FROM (VALUES ('2024-03-09 12:00'::timestamptz, 'a'), ('2024-03-10 12:30', 'b'), ('2024-03-10 13:30', 'b')) v(ts, e);
SET timezone = 'UTC';

-- GROUP BY several users, and the running level as a window function
CREATE TABLE wf (u int, ts int, e text);
INSERT INTO wf VALUES (1, 1, 'a'), (1, 2, 'b'), (1, 3, 'c'),
    (2, 1, 'x'), (2, 2, 'a'), (2, 2, 'b'), (2, 20, 'c'),
    (3, 1, 'c'), (3, 2, 'a'), (3, 3, 'b');
-- u1 a b c: 3; u2: a,b tie at 2, c@20 > 2+10: 2; u3: c before a: 2
SELECT u, window_funnel('10 s', t(ts), e = 'a', e = 'b', e = 'c') AS bools,
       window_funnel('10 s', t(ts), e, '{a,b,c}') AS names,
       window_funnel('10 s', 'strict_order', t(ts), e, '{a,b,c}') AS names_strict_order
FROM wf GROUP BY u ORDER BY u;
-- running level (default frame: rows tied on ts are peers and share it);
-- u2's x@1 under strict_order is before any chain: skipped; every row's
-- step is new to its chain, so strict_deduplication gives the same levels
SELECT u, ts, e,
       window_funnel('10 s', t(ts), e = 'a', e = 'b', e = 'c') OVER (PARTITION BY u ORDER BY ts) AS so_far,
       window_funnel('10 s', 'strict_order', t(ts), e, '{a,b,c}') OVER (PARTITION BY u ORDER BY ts) AS so_far_strict,
       window_funnel('10 s', 'strict_deduplication', t(ts), e, '{a,b,c}') OVER (PARTITION BY u ORDER BY ts) AS so_far_dedup,
       window_funnel('10 s', funnel_event(t(ts), e = 'a', e = 'b', e = 'c'))
           OVER (PARTITION BY u ORDER BY ts, e ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS last_two
FROM wf ORDER BY u, ts, e;

DROP TABLE cases, ev, got, forms, nn, wf;
DROP PROCEDURE add_case(text, numeric, text, text[], int, text);
DROP FUNCTION t(numeric), conds(text, text[]), onehot(int, int);
