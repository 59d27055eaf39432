-- attribution_summary and pipeline_summary in binary COPY: round trip, and
-- hostile bytes rejected with a clear error (files in the data directory, written by the
-- server: pg_read_binary_file and lo_export, so this needs a superuser).
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SET LOCAL TimeZone = 'UTC';
SELECT plan(9);

CREATE TABLE a_src (s attribution_summary);
INSERT INTO a_src SELECT attribution('markov', e, ts, ch, v)
FROM (VALUES (1, timestamptz '2024-01-01', 'A', NULL::numeric), (1, '2024-01-02', 'B', NULL), (1, '2024-01-03', NULL, 10),
             (2, '2024-01-01', 'A', NULL), (3, '2024-01-01', 'B', NULL), (3, '2024-01-02', NULL, 20)) x(e, ts, ch, v);
CREATE TABLE p_src (m pipeline_summary);
INSERT INTO p_src SELECT pipeline_model(d, ts, st, ARRAY['won', 'lost'])
FROM (VALUES (1, timestamptz '2024-01-01', 'lead'), (1, '2024-01-03', 'won'), (2, '2024-01-02', 'lead')) x(d, ts, st);

-- files in the (throwaway) cluster's data directory
CREATE FUNCTION pg_temp.f(name text) RETURNS text LANGUAGE sql AS
    $$ SELECT current_setting('data_directory') || '/' || name $$;
CREATE FUNCTION pg_temp.copy(tbl text, dir text, name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY %I %s %L (FORMAT binary)', tbl, dir, pg_temp.f(name));
END $$;
-- write bytes as a server file
CREATE FUNCTION pg_temp.put(path text, b bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE o oid;
BEGIN
    o := lo_from_bytea(0, b);
    PERFORM lo_export(o, path);
    PERFORM lo_unlink(o);
END $$;
-- binary COPY file with one row of one column holding the given bytes
CREATE FUNCTION pg_temp.copyfile(v bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea || '\x0001'::bytea
           || int4send(length(v)) || v || '\xffff'::bytea $$;

SELECT pg_temp.copy('a_src', 'TO', 'funnel_attr_summary.bin');
CREATE TABLE a_dst (s attribution_summary);
SELECT pg_temp.copy('a_dst', 'FROM', 'funnel_attr_summary.bin');
SELECT is((SELECT s::text FROM a_dst), (SELECT s::text FROM a_src), 'attribution_summary: binary round trip');
SELECT pg_temp.copy('p_src', 'TO', 'funnel_pipe_summary.bin');
CREATE TABLE p_dst (m pipeline_summary);
SELECT pg_temp.copy('p_dst', 'FROM', 'funnel_pipe_summary.bin');
SELECT is((SELECT m::text FROM p_dst), (SELECT m::text FROM p_src), 'pipeline_summary: binary round trip');

-- the value's own bytes, then damaged copies of them
CREATE TABLE a_bytes AS SELECT attribution_summary_send(s) AS b FROM a_src;
CREATE TABLE p_bytes AS SELECT pipeline_summary_send(m) AS b FROM p_src;
CREATE FUNCTION pg_temp.load_a(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.put(pg_temp.f('funnel_attr_bad.bin'), pg_temp.copyfile(b));
    PERFORM pg_temp.copy('a_dst', 'FROM', 'funnel_attr_bad.bin');
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;
CREATE FUNCTION pg_temp.load_p(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.put(pg_temp.f('funnel_pipe_bad.bin'), pg_temp.copyfile(b));
    PERFORM pg_temp.copy('p_dst', 'FROM', 'funnel_pipe_bad.bin');
    RETURN 'loaded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;
SELECT is(pg_temp.load_a(b), 'loaded', 'attribution_summary: the undamaged bytes load') FROM a_bytes;
SELECT is(pg_temp.load_a(set_byte(b, 0, 9)), 'invalid attribution_summary: unknown version', 'attribution_summary: bad version') FROM a_bytes;
SELECT is(pg_temp.load_a(substr(b, 1, length(b) - 1)), 'insufficient data left in message', 'attribution_summary: truncated') FROM a_bytes;
-- channel count (after 2 + 8 * 10 bytes) set to 2^30
SELECT is(pg_temp.load_a(overlay(b PLACING '\x40000000'::bytea FROM 83 FOR 4)), 'invalid attribution_summary: bad channel count',
          'attribution_summary: huge channel count') FROM a_bytes;
SELECT is(pg_temp.load_a(b || '\x00'::bytea), 'invalid attribution_summary: trailing bytes', 'attribution_summary: trailing bytes') FROM a_bytes;
SELECT is(pg_temp.load_p(b), 'loaded', 'pipeline_summary: the undamaged bytes load') FROM p_bytes;
-- the last transition's count (the 8 bytes before its distinct deals, its
-- last 8) set to 5: stays no longer match
SELECT is(pg_temp.load_p(overlay(b PLACING '\x0000000000000005'::bytea FROM length(b) - 15 FOR 8)),
          'invalid pipeline_summary: stays do not match the transitions', 'pipeline_summary: inconsistent counts') FROM p_bytes;

SELECT * FROM finish();
ROLLBACK;
