
-- ---------------------------------------------------------------------------
-- Benchmark support only (bench/run.sh), not part of the funnel API: a no-op
-- aggregate transition that takes any arguments and only counts rows, so the
-- benchmark can measure PostgreSQL's own cost of handing a funnel
-- aggregate's arguments to an aggregate.
-- ---------------------------------------------------------------------------

CREATE FUNCTION funnel_noop_sfunc(internal, VARIADIC "any") RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_noop_sfunc(internal, "any") IS 'Benchmark support only: no-op aggregate transition that counts its rows and ignores its arguments';
CREATE FUNCTION funnel_noop_final(internal) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_noop_final(internal) IS 'Benchmark support only: the row count of the no-op aggregate';
