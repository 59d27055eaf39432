
-- ---------------------------------------------------------------------------
-- time_to_convert: per group, the time from the step-1 event to the event
-- that completes the funnel (or reaches to_step), NULL when it is not reached
-- ---------------------------------------------------------------------------

CREATE FUNCTION time_to_convert_bools_sfunc(internal, interval, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_bools_sfunc(internal, interval, timestamptz, boolean[]) IS 'time_to_convert transition (conditions)';
CREATE FUNCTION time_to_convert_mode_bools_sfunc(internal, interval, text, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_mode_bools_sfunc(internal, interval, text, timestamptz, boolean[]) IS 'time_to_convert transition (mode, conditions)';
CREATE FUNCTION time_to_convert_target_bools_sfunc(internal, interval, text, integer, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_target_bools_sfunc(internal, interval, text, integer, timestamptz, boolean[]) IS 'time_to_convert transition (mode, to_step, conditions)';
CREATE FUNCTION time_to_convert_event_sfunc(internal, interval, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_event_sfunc(internal, interval, funnel_event) IS 'time_to_convert transition (funnel_event)';
CREATE FUNCTION time_to_convert_mode_event_sfunc(internal, interval, text, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_mode_event_sfunc(internal, interval, text, funnel_event) IS 'time_to_convert transition (mode, funnel_event)';
CREATE FUNCTION time_to_convert_target_event_sfunc(internal, interval, text, integer, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_target_event_sfunc(internal, interval, text, integer, funnel_event) IS 'time_to_convert transition (mode, to_step, funnel_event)';
CREATE FUNCTION time_to_convert_names_sfunc(internal, interval, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_names_sfunc(internal, interval, timestamptz, text, text[]) IS 'time_to_convert transition (event names)';
CREATE FUNCTION time_to_convert_mode_names_sfunc(internal, interval, text, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_mode_names_sfunc(internal, interval, text, timestamptz, text, text[]) IS 'time_to_convert transition (mode, event names)';
CREATE FUNCTION time_to_convert_target_names_sfunc(internal, interval, text, integer, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_target_names_sfunc(internal, interval, text, integer, timestamptz, text, text[]) IS 'time_to_convert transition (mode, to_step, event names)';
CREATE FUNCTION time_to_convert_final(internal) RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert_final(internal) IS 'time_to_convert final function';

CREATE AGGREGATE time_to_convert("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = time_to_convert_bools_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, timestamptz, boolean[]) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (conditions); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = time_to_convert_mode_bools_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, timestamptz, boolean[]) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (mode, conditions); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = time_to_convert_target_bools_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, integer, timestamptz, boolean[]) IS 'Time from step 1 to to_step on the chain the funnel walk completes it with (mode, to_step, conditions); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, event funnel_event) (
    SFUNC = time_to_convert_event_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, funnel_event) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (funnel_event); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, event funnel_event) (
    SFUNC = time_to_convert_mode_event_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, funnel_event) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (mode, funnel_event); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, to_step integer, event funnel_event) (
    SFUNC = time_to_convert_target_event_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, integer, funnel_event) IS 'Time from step 1 to to_step on the chain the funnel walk completes it with (mode, to_step, funnel_event); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, ts timestamptz, event text, steps text[]) (
    SFUNC = time_to_convert_names_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, timestamptz, text, text[]) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (event names); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, ts timestamptz, event text, steps text[]) (
    SFUNC = time_to_convert_mode_names_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, timestamptz, text, text[]) IS 'Time from step 1 to the last step on the chain the funnel walk completes it with (mode, event names); NULL when not reached';
CREATE AGGREGATE time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, event text, steps text[]) (
    SFUNC = time_to_convert_target_names_sfunc, STYPE = internal, SSPACE = 200, FINALFUNC = time_to_convert_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE time_to_convert(interval, text, integer, timestamptz, text, text[]) IS 'Time from step 1 to to_step on the chain the funnel walk completes it with (mode, to_step, event names); NULL when not reached';

CREATE FUNCTION time_to_convert("window" interval, journey funnel_event[], mode text DEFAULT '', to_step integer DEFAULT NULL)
    RETURNS interval AS 'MODULE_PATHNAME', 'time_to_convert_journey'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION time_to_convert(interval, funnel_event[], text, integer) IS 'Time to convert of a stored journey: step 1 to to_step (default: the highest step the journey names); NULL when not reached';
