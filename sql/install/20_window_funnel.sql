
-- ---------------------------------------------------------------------------
-- window_funnel: the funnel level of a group, ClickHouse windowFunnel semantics
-- ---------------------------------------------------------------------------

CREATE FUNCTION window_funnel_bools_sfunc(internal, interval, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_mode_bools_sfunc(internal, interval, text, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_event_sfunc(internal, interval, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_mode_event_sfunc(internal, interval, text, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_names_sfunc(internal, interval, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_mode_names_sfunc(internal, interval, text, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_final(internal) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION window_funnel_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION window_funnel_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;

COMMENT ON FUNCTION window_funnel_bools_sfunc(internal, interval, timestamptz, boolean[]) IS 'window_funnel transition (conditions)';
COMMENT ON FUNCTION window_funnel_mode_bools_sfunc(internal, interval, text, timestamptz, boolean[]) IS 'window_funnel transition (mode, conditions)';
COMMENT ON FUNCTION window_funnel_event_sfunc(internal, interval, funnel_event) IS 'window_funnel transition (funnel_event)';
COMMENT ON FUNCTION window_funnel_mode_event_sfunc(internal, interval, text, funnel_event) IS 'window_funnel transition (mode, funnel_event)';
COMMENT ON FUNCTION window_funnel_names_sfunc(internal, interval, timestamptz, text, text[]) IS 'window_funnel transition (event names)';
COMMENT ON FUNCTION window_funnel_mode_names_sfunc(internal, interval, text, timestamptz, text, text[]) IS 'window_funnel transition (mode, event names)';
COMMENT ON FUNCTION window_funnel_final(internal) IS 'window_funnel final function: the level reached';
COMMENT ON FUNCTION window_funnel_combine(internal, internal) IS 'window_funnel combine function (parallel aggregation)';
COMMENT ON FUNCTION window_funnel_serialize(internal) IS 'window_funnel state serialisation';
COMMENT ON FUNCTION window_funnel_deserialize(bytea, internal) IS 'window_funnel state deserialisation (validates its input)';

CREATE AGGREGATE window_funnel("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = window_funnel_bools_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE window_funnel("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = window_funnel_mode_bools_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE window_funnel("window" interval, event funnel_event) (
    SFUNC = window_funnel_event_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE window_funnel("window" interval, mode text, event funnel_event) (
    SFUNC = window_funnel_mode_event_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE window_funnel("window" interval, ts timestamptz, event text, steps text[]) (
    SFUNC = window_funnel_names_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE window_funnel("window" interval, mode text, ts timestamptz, event text, steps text[]) (
    SFUNC = window_funnel_mode_names_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = window_funnel_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE window_funnel(interval, timestamptz, boolean[]) IS 'Funnel level of a group: the longest chain of steps 1..N within the window (ClickHouse windowFunnel)';
COMMENT ON AGGREGATE window_funnel(interval, text, timestamptz, boolean[]) IS 'Funnel level of a group with a mode (strict_deduplication, strict_order, strict_increase, strict_once, allow_reentry)';
COMMENT ON AGGREGATE window_funnel(interval, funnel_event) IS 'Funnel level of a group of funnel_event rows';
COMMENT ON AGGREGATE window_funnel(interval, text, funnel_event) IS 'Funnel level of a group of funnel_event rows, with a mode';
COMMENT ON AGGREGATE window_funnel(interval, timestamptz, text, text[]) IS 'Funnel level of a group where step k is the event name steps[k] (fast form)';
COMMENT ON AGGREGATE window_funnel(interval, text, timestamptz, text, text[]) IS 'Funnel level of a group where step k is the event name steps[k], with a mode';

CREATE FUNCTION window_funnel("window" interval, journey funnel_event[], mode text DEFAULT '')
    RETURNS integer AS 'MODULE_PATHNAME', 'window_funnel_journey'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel(interval, funnel_event[], text) IS 'Funnel level of a stored journey (funnel_event[]), in any order';
