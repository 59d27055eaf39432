-- funnel extension, version 1.1: the whole script for a fresh install.
--
-- Kept in step with funnel--1.0.sql + funnel--1.0--1.1.sql: test/upgrade.sh
-- checks that both give the same objects (doc/development.md).
--
-- Static SQL only (no DO blocks), and every SQL or PL/pgSQL function runs
-- with search_path = pg_catalog, pg_temp, its own objects named through
-- @extschema@: the extension is trusted, so this script runs as a superuser
-- in a schema an unprivileged user may own, and no operator or function
-- planted there or in public can be picked up (doc/security.md).

\echo Use "CREATE EXTENSION funnel" to load this file. \quit

-- ---------------------------------------------------------------------------
-- funnel_event: a timestamp and the set of funnel steps (1..64) it matches
-- ---------------------------------------------------------------------------

CREATE TYPE funnel_event;

CREATE FUNCTION funnel_event_in(cstring) RETURNS funnel_event
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_out(funnel_event) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_recv(internal) RETURNS funnel_event
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_event_send(funnel_event) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE funnel_event (
    INPUT = funnel_event_in,
    OUTPUT = funnel_event_out,
    RECEIVE = funnel_event_recv,
    SEND = funnel_event_send,
    INTERNALLENGTH = 16,
    ALIGNMENT = double,
    STORAGE = plain
);

COMMENT ON TYPE funnel_event IS 'One event of a journey: a timestamp and the set of funnel steps (1..64) it matches; text form ''2024-03-01 09:30:00+00 {1,3}''';
COMMENT ON FUNCTION funnel_event_in(cstring) IS 'Text input of funnel_event: a timestamptz literal followed by the step set in braces';
COMMENT ON FUNCTION funnel_event_out(funnel_event) IS 'Text output of funnel_event: the time in ISO 8601 at UTC and the step set';
COMMENT ON FUNCTION funnel_event_recv(internal) IS 'Binary input of funnel_event';
COMMENT ON FUNCTION funnel_event_send(funnel_event) IS 'Binary output of funnel_event';

CREATE FUNCTION funnel_event(ts timestamptz, step integer) RETURNS funnel_event
    AS 'MODULE_PATHNAME', 'funnel_event_from_step' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_event(timestamptz, integer) IS 'An event at ts matching one funnel step (1..64)';

CREATE FUNCTION funnel_event(ts timestamptz, VARIADIC steps boolean[]) RETURNS funnel_event
    AS 'MODULE_PATHNAME', 'funnel_event_from_conditions' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_event(timestamptz, boolean[]) IS 'An event at ts matching step k when the k-th condition is true (NULL counts as false)';

CREATE FUNCTION event_time(funnel_event) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'funnel_event_time' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION event_time(funnel_event) IS 'The time of a funnel event';

CREATE FUNCTION event_steps(funnel_event) RETURNS integer[]
    AS 'MODULE_PATHNAME', 'funnel_event_steps' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION event_steps(funnel_event) IS 'The funnel steps an event matches, in ascending order';

-- comparison: by time, then by the step set compared as a 64-bit mask
CREATE FUNCTION funnel_event_eq(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_ne(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_lt(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_le(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_gt(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_ge(funnel_event, funnel_event) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_cmp(funnel_event, funnel_event) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_hash(funnel_event) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION funnel_event_hash_extended(funnel_event, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION funnel_event_eq(funnel_event, funnel_event) IS 'Equal: same time and same steps';
COMMENT ON FUNCTION funnel_event_ne(funnel_event, funnel_event) IS 'Not equal';
COMMENT ON FUNCTION funnel_event_lt(funnel_event, funnel_event) IS 'Earlier (by time, then by step set)';
COMMENT ON FUNCTION funnel_event_le(funnel_event, funnel_event) IS 'Earlier or equal';
COMMENT ON FUNCTION funnel_event_gt(funnel_event, funnel_event) IS 'Later (by time, then by step set)';
COMMENT ON FUNCTION funnel_event_ge(funnel_event, funnel_event) IS 'Later or equal';
COMMENT ON FUNCTION funnel_event_cmp(funnel_event, funnel_event) IS 'Btree comparison of funnel events';
COMMENT ON FUNCTION funnel_event_hash(funnel_event) IS 'Hash of a funnel event';
COMMENT ON FUNCTION funnel_event_hash_extended(funnel_event, bigint) IS 'Seeded 64-bit hash of a funnel event';

CREATE OPERATOR = (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR < (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR > (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR >= (LEFTARG = funnel_event, RIGHTARG = funnel_event, PROCEDURE = funnel_event_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS funnel_event_ops DEFAULT FOR TYPE funnel_event USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 funnel_event_cmp(funnel_event, funnel_event);

CREATE OPERATOR CLASS funnel_event_hash_ops DEFAULT FOR TYPE funnel_event USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 funnel_event_hash(funnel_event),
    FUNCTION 2 funnel_event_hash_extended(funnel_event, bigint);

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

-- ---------------------------------------------------------------------------
-- funnel_stage_counts and funnel_conversion: whole-table funnels in one pass
-- (entities tracked in a hash table inside the aggregate state)
-- ---------------------------------------------------------------------------

CREATE FUNCTION funnel_entities_bools_sfunc(internal, interval, anyelement, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_bools_sfunc(internal, interval, anyelement, timestamptz, boolean[]) IS 'Per-entity funnel transition (entity, conditions)';
CREATE FUNCTION funnel_entities_mode_bools_sfunc(internal, interval, text, anyelement, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_mode_bools_sfunc(internal, interval, text, anyelement, timestamptz, boolean[]) IS 'Per-entity funnel transition (mode, entity, conditions)';
CREATE FUNCTION funnel_entities_event_sfunc(internal, interval, anyelement, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_event_sfunc(internal, interval, anyelement, funnel_event) IS 'Per-entity funnel transition (entity, funnel_event)';
CREATE FUNCTION funnel_entities_mode_event_sfunc(internal, interval, text, anyelement, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_mode_event_sfunc(internal, interval, text, anyelement, funnel_event) IS 'Per-entity funnel transition (mode, entity, funnel_event)';
CREATE FUNCTION funnel_entities_names_sfunc(internal, interval, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_names_sfunc(internal, interval, anyelement, timestamptz, text, text[]) IS 'Per-entity funnel transition (entity, event names)';
CREATE FUNCTION funnel_entities_mode_names_sfunc(internal, interval, text, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_mode_names_sfunc(internal, interval, text, anyelement, timestamptz, text, text[]) IS 'Per-entity funnel transition (mode, entity, event names)';
CREATE FUNCTION funnel_entities_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_entities_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_entities_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_stage_counts_final(internal) RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_conversion_final(internal) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_entities_combine(internal, internal) IS 'Merges per-entity funnel states (parallel aggregation)';
COMMENT ON FUNCTION funnel_entities_serialize(internal) IS 'Per-entity funnel state serialisation';
COMMENT ON FUNCTION funnel_entities_deserialize(bytea, internal) IS 'Per-entity funnel state deserialisation (validates its input)';
COMMENT ON FUNCTION funnel_stage_counts_final(internal) IS 'funnel_stage_counts final function';
COMMENT ON FUNCTION funnel_conversion_final(internal) IS 'funnel_conversion final function';

CREATE AGGREGATE funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_entities_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, anyelement, timestamptz, boolean[]) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (entity, conditions)';
CREATE AGGREGATE funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_entities_mode_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, text, anyelement, timestamptz, boolean[]) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (mode, entity, conditions)';
CREATE AGGREGATE funnel_stage_counts("window" interval, entity anyelement, event funnel_event) (
    SFUNC = funnel_entities_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, anyelement, funnel_event) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (entity, funnel_event)';
CREATE AGGREGATE funnel_stage_counts("window" interval, mode text, entity anyelement, event funnel_event) (
    SFUNC = funnel_entities_mode_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, text, anyelement, funnel_event) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (mode, entity, funnel_event)';
CREATE AGGREGATE funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_entities_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, anyelement, timestamptz, text, text[]) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (entity, event names)';
CREATE AGGREGATE funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_entities_mode_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_stage_counts_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(interval, text, anyelement, timestamptz, text, text[]) IS 'Entities at each stage: element k counts the distinct entities whose funnel level is at least k (mode, entity, event names)';
CREATE AGGREGATE funnel_conversion("window" interval, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_entities_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, anyelement, timestamptz, boolean[]) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (entity, conditions)';
CREATE AGGREGATE funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_entities_mode_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, text, anyelement, timestamptz, boolean[]) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (mode, entity, conditions)';
CREATE AGGREGATE funnel_conversion("window" interval, entity anyelement, event funnel_event) (
    SFUNC = funnel_entities_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, anyelement, funnel_event) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (entity, funnel_event)';
CREATE AGGREGATE funnel_conversion("window" interval, mode text, entity anyelement, event funnel_event) (
    SFUNC = funnel_entities_mode_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, text, anyelement, funnel_event) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (mode, entity, funnel_event)';
CREATE AGGREGATE funnel_conversion("window" interval, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_entities_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, anyelement, timestamptz, text, text[]) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (entity, event names)';
CREATE AGGREGATE funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_entities_mode_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_conversion_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(interval, text, anyelement, timestamptz, text, text[]) IS 'Conversion between stages: element k is entities at stage >= k over entities at stage >= k-1 (element 1 is 1.0) (mode, entity, event names)';

-- from per-entity levels computed elsewhere: the state is a level histogram
-- in a bigint[] (element k + 1 = entities at level k), a concrete type so
-- that Citus can add partial histograms from its workers (doc/citus.md)
CREATE FUNCTION funnel_level_histogram_sfunc(bigint[], integer, integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION funnel_level_histogram_combine(bigint[], bigint[]) RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_level_histogram_stage_counts(bigint[]) RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_level_histogram_conversion(bigint[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_level_histogram_sfunc(bigint[], integer, integer) IS 'Level histogram transition: counts one entity at its level (0..steps)';
COMMENT ON FUNCTION funnel_level_histogram_combine(bigint[], bigint[]) IS 'Level histogram combine function: adds two histograms of the same funnel';
COMMENT ON FUNCTION funnel_level_histogram_stage_counts(bigint[]) IS 'Cumulative stage counts from a level histogram';
COMMENT ON FUNCTION funnel_level_histogram_conversion(bigint[]) IS 'Conversion from a level histogram';

CREATE AGGREGATE funnel_stage_counts(level integer, steps integer) (
    SFUNC = funnel_level_histogram_sfunc, STYPE = bigint[],
    FINALFUNC = funnel_level_histogram_stage_counts, COMBINEFUNC = funnel_level_histogram_combine,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(integer, integer) IS 'Entities at each stage from per-entity levels (0..steps): element k counts levels >= k';

CREATE AGGREGATE funnel_conversion(level integer, steps integer) (
    SFUNC = funnel_level_histogram_sfunc, STYPE = bigint[],
    FINALFUNC = funnel_level_histogram_conversion, COMBINEFUNC = funnel_level_histogram_combine,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(integer, integer) IS 'Conversion between stages from per-entity levels';

CREATE FUNCTION funnel_conversion(stage_counts bigint[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'funnel_conversion_from_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_conversion(bigint[]) IS 'Conversion between stages from cumulative stage counts';

-- ---------------------------------------------------------------------------
-- Fixed-arity overloads for 1..8 boolean conditions.  A call with separate
-- conditions resolves to these rather than to the VARIADIC form, which
-- spares PostgreSQL building a boolean[] for every row.  Same C transition
-- functions, same states, same results.
-- SSPACE 200 (per-group states) lets the planner hash-aggregate many groups.
-- ---------------------------------------------------------------------------


-- 1 condition
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_1(internal, interval, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_1(internal, interval, timestamptz, boolean) IS 'Transition function of window_funnel with 1 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_1, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (1 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_1(internal, interval, text, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_1(internal, interval, text, timestamptz, boolean) IS 'Transition function of window_funnel with 1 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_1, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean) IS 'Funnel level of a group, with a mode (1 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_1(internal, interval, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_1(internal, interval, timestamptz, boolean) IS 'Transition function of time_to_convert with 1 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_1, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (1 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_1(internal, interval, text, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_1(internal, interval, text, timestamptz, boolean) IS 'Transition function of time_to_convert with 1 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_1, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean) IS 'Time to convert, with a mode (1 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_1(internal, interval, text, integer, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_1(internal, interval, text, integer, timestamptz, boolean) IS 'Transition function of time_to_convert with 1 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_1, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean) IS 'Time from step 1 to to_step, with a mode (1 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_1(internal, interval, anyelement, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_1(internal, interval, anyelement, timestamptz, boolean) IS 'Transition function of funnel_stage_counts with 1 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_1, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean) IS 'Entities at each stage (element k: level >= k) (1 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_1(internal, interval, text, anyelement, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_1(internal, interval, text, anyelement, timestamptz, boolean) IS 'Transition function of funnel_stage_counts with 1 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_1, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean) IS 'Entities at each stage, with a mode (1 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_1, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean) IS 'Conversion between stages (1 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_1, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean) IS 'Conversion between stages, with a mode (1 conditions)';

-- 2 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_2(internal, interval, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_2(internal, interval, timestamptz, boolean, boolean) IS 'Transition function of window_funnel with 2 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_2, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (2 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_2(internal, interval, text, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_2(internal, interval, text, timestamptz, boolean, boolean) IS 'Transition function of window_funnel with 2 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_2, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean) IS 'Funnel level of a group, with a mode (2 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_2(internal, interval, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_2(internal, interval, timestamptz, boolean, boolean) IS 'Transition function of time_to_convert with 2 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_2, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (2 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_2(internal, interval, text, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_2(internal, interval, text, timestamptz, boolean, boolean) IS 'Transition function of time_to_convert with 2 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_2, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean) IS 'Time to convert, with a mode (2 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_2(internal, interval, text, integer, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_2(internal, interval, text, integer, timestamptz, boolean, boolean) IS 'Transition function of time_to_convert with 2 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_2, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (2 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_2(internal, interval, anyelement, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_2(internal, interval, anyelement, timestamptz, boolean, boolean) IS 'Transition function of funnel_stage_counts with 2 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_2, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (2 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_2(internal, interval, text, anyelement, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_2(internal, interval, text, anyelement, timestamptz, boolean, boolean) IS 'Transition function of funnel_stage_counts with 2 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_2, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean) IS 'Entities at each stage, with a mode (2 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_2, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean) IS 'Conversion between stages (2 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_2, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean) IS 'Conversion between stages, with a mode (2 conditions)';

-- 3 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_3(internal, interval, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_3(internal, interval, timestamptz, boolean, boolean, boolean) IS 'Transition function of window_funnel with 3 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_3, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (3 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_3(internal, interval, text, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_3(internal, interval, text, timestamptz, boolean, boolean, boolean) IS 'Transition function of window_funnel with 3 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_3, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (3 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_3(internal, interval, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_3(internal, interval, timestamptz, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 3 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_3, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (3 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_3(internal, interval, text, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_3(internal, interval, text, timestamptz, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 3 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_3, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean) IS 'Time to convert, with a mode (3 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_3(internal, interval, text, integer, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_3(internal, interval, text, integer, timestamptz, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 3 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_3, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (3 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_3(internal, interval, anyelement, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_3(internal, interval, anyelement, timestamptz, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 3 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_3, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (3 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_3(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_3(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 3 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_3, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (3 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_3, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean) IS 'Conversion between stages (3 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_3, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (3 conditions)';

-- 4 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_4(internal, interval, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_4(internal, interval, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 4 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_4, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (4 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_4(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_4(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 4 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_4, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (4 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_4(internal, interval, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_4(internal, interval, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 4 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_4, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (4 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_4(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_4(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 4 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_4, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean, boolean) IS 'Time to convert, with a mode (4 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_4(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_4(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 4 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_4, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (4 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_4(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_4(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 4 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_4, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (4 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_4(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_4(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 4 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_4, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (4 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_4, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Conversion between stages (4 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_4, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (4 conditions)';

-- 5 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_5(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_5(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 5 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_5, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (5 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_5(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_5(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 5 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_5, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (5 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_5(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_5(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 5 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_5, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (5 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_5(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_5(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 5 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_5, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Time to convert, with a mode (5 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_5(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_5(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 5 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_5, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (5 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_5(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_5(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 5 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_5, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (5 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_5(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_5(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 5 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_5, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (5 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_5, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages (5 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_5, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (5 conditions)';

-- 6 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_6(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_6(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 6 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_6, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (6 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_6(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_6(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 6 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_6, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (6 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_6(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_6(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 6 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_6, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (6 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_6(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_6(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 6 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_6, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time to convert, with a mode (6 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_6(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_6(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 6 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_6, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (6 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_6(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_6(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 6 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_6, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (6 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_6(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_6(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 6 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_6, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (6 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_6, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages (6 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_6, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (6 conditions)';

-- 7 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_7(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_7(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 7 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_7, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (7 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_7(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_7(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 7 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_7, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (7 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_7(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_7(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 7 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_7, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (7 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_7(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_7(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 7 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_7, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time to convert, with a mode (7 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_7(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_7(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 7 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_7, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (7 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_7(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_7(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 7 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_7, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (7 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_7(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_7(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 7 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_7, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (7 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_7, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages (7 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_7, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (7 conditions)';

-- 8 conditions
CREATE FUNCTION @extschema@.window_funnel_bools_sfunc_8(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_bools_sfunc_8(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 8 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.window_funnel_bools_sfunc_8, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group (ClickHouse windowFunnel) (8 conditions)';
CREATE FUNCTION @extschema@.window_funnel_mode_bools_sfunc_8(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'window_funnel_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_mode_bools_sfunc_8(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of window_funnel with 8 separate conditions';
CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.window_funnel_mode_bools_sfunc_8, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel level of a group, with a mode (8 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_bools_sfunc_8(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_bools_sfunc_8(internal, interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 8 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.time_to_convert_bools_sfunc_8, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to the last step on the completing chain; NULL when not reached (8 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_8(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_mode_bools_sfunc_8(internal, interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 8 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.time_to_convert_mode_bools_sfunc_8, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time to convert, with a mode (8 conditions)';
CREATE FUNCTION @extschema@.time_to_convert_target_bools_sfunc_8(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'time_to_convert_target_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert_target_bools_sfunc_8(internal, interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of time_to_convert with 8 separate conditions';
CREATE AGGREGATE @extschema@.time_to_convert("window" interval, mode text, to_step integer, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.time_to_convert_target_bools_sfunc_8, STYPE = internal, SSPACE = 200, FINALFUNC = @extschema@.time_to_convert_final,
    COMBINEFUNC = @extschema@.window_funnel_combine, SERIALFUNC = @extschema@.window_funnel_serialize,
    DESERIALFUNC = @extschema@.window_funnel_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.time_to_convert(interval, text, integer, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Time from step 1 to to_step, with a mode (8 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_bools_sfunc_8(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_bools_sfunc_8(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 8 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_8, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage (element k: level >= k) (8 conditions)';
CREATE FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_8(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_entities_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_entities_mode_bools_sfunc_8(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_stage_counts with 8 separate conditions';
CREATE AGGREGATE @extschema@.funnel_stage_counts("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_8, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_stage_counts_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_stage_counts(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Entities at each stage, with a mode (8 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_entities_bools_sfunc_8, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages (8 conditions)';
CREATE AGGREGATE @extschema@.funnel_conversion("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_entities_mode_bools_sfunc_8, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_conversion_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine, SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_conversion(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Conversion between stages, with a mode (8 conditions)';
-- ---------------------------------------------------------------------------
-- funnel_summary: a storable, mergeable funnel result (entities per step and
-- the distribution of their times from step 1), rollup() to merge summaries,
-- and what people read from it: funnel_report, funnel_chart, funnel_svg
-- ---------------------------------------------------------------------------

CREATE TYPE funnel_summary;

CREATE FUNCTION funnel_summary_in(cstring) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_out(funnel_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_recv(internal) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_send(funnel_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE funnel_summary (
    INPUT = funnel_summary_in,
    OUTPUT = funnel_summary_out,
    RECEIVE = funnel_summary_recv,
    SEND = funnel_summary_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);

COMMENT ON TYPE funnel_summary IS 'A funnel result that can be stored and merged: per step, the entities that reached it and the distribution of their times from step 1 (log-bucketed, 1% relative accuracy)';
COMMENT ON FUNCTION funnel_summary_in(cstring) IS 'Text input of funnel_summary: the JSON document its output gives (validated)';
COMMENT ON FUNCTION funnel_summary_out(funnel_summary) IS 'Text output of funnel_summary: a JSON document (entities per step first, then the time buckets)';
COMMENT ON FUNCTION funnel_summary_recv(internal) IS 'Binary input of funnel_summary (validated)';
COMMENT ON FUNCTION funnel_summary_send(funnel_summary) IS 'Binary output of funnel_summary';

CREATE FUNCTION funnel_summary_bools_sfunc(internal, interval, anyelement, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_bools_sfunc(internal, interval, anyelement, timestamptz, boolean[]) IS 'funnel_summary transition (entity, conditions)';
CREATE FUNCTION funnel_summary_mode_bools_sfunc(internal, interval, text, anyelement, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_mode_bools_sfunc(internal, interval, text, anyelement, timestamptz, boolean[]) IS 'funnel_summary transition (mode, entity, conditions)';
CREATE FUNCTION funnel_summary_event_sfunc(internal, interval, anyelement, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_event_sfunc(internal, interval, anyelement, funnel_event) IS 'funnel_summary transition (entity, funnel_event)';
CREATE FUNCTION funnel_summary_mode_event_sfunc(internal, interval, text, anyelement, funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_mode_event_sfunc(internal, interval, text, anyelement, funnel_event) IS 'funnel_summary transition (mode, entity, funnel_event)';
CREATE FUNCTION funnel_summary_names_sfunc(internal, interval, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_names_sfunc(internal, interval, anyelement, timestamptz, text, text[]) IS 'funnel_summary transition (entity, event names)';
CREATE FUNCTION funnel_summary_mode_names_sfunc(internal, interval, text, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_mode_names_sfunc(internal, interval, text, anyelement, timestamptz, text, text[]) IS 'funnel_summary transition (mode, entity, event names)';
CREATE FUNCTION funnel_summary_final(internal) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_final(internal) IS 'funnel_summary final function';

CREATE AGGREGATE funnel_summary("window" interval, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_summary_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, anyelement, timestamptz, boolean[]) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (entity, conditions)';
CREATE AGGREGATE funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_summary_mode_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, text, anyelement, timestamptz, boolean[]) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (mode, entity, conditions)';
CREATE AGGREGATE funnel_summary("window" interval, entity anyelement, event funnel_event) (
    SFUNC = funnel_summary_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, anyelement, funnel_event) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (entity, funnel_event)';
CREATE AGGREGATE funnel_summary("window" interval, mode text, entity anyelement, event funnel_event) (
    SFUNC = funnel_summary_mode_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, text, anyelement, funnel_event) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (mode, entity, funnel_event)';
CREATE AGGREGATE funnel_summary("window" interval, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_summary_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, anyelement, timestamptz, text, text[]) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (entity, event names)';
CREATE AGGREGATE funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_summary_mode_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_summary_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_summary(interval, text, anyelement, timestamptz, text, text[]) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (mode, entity, event names)';

-- the merge of internal summary accumulators (the state of 1.0's rollup, and
-- of funnel_summary over stored journeys)
CREATE FUNCTION funnel_summary_rollup_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_final(internal) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_rollup_combine(internal, internal) IS 'rollup(funnel_summary) combine function';
COMMENT ON FUNCTION funnel_summary_rollup_serialize(internal) IS 'rollup(funnel_summary) state serialisation';
COMMENT ON FUNCTION funnel_summary_rollup_deserialize(bytea, internal) IS 'rollup(funnel_summary) state deserialisation (validates its input)';
COMMENT ON FUNCTION funnel_summary_rollup_final(internal) IS 'rollup(funnel_summary) final function';

-- the state of rollup is a funnel_summary (a concrete type, so that Citus
-- can merge the partial rollups of its workers: doc/citus.md)
CREATE FUNCTION funnel_summary_merge(funnel_summary, funnel_summary) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_merge(funnel_summary, funnel_summary) IS 'The summary of the entities of two summaries of the same funnel over disjoint sets of entities (a NULL one is left out); the transition and combine function of rollup';

CREATE AGGREGATE rollup(summary funnel_summary) (
    SFUNC = funnel_summary_merge, STYPE = funnel_summary, COMBINEFUNC = funnel_summary_merge,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(funnel_summary) IS 'Merges funnel summaries of disjoint sets of entities (e.g. daily cohorts into a month); summaries of different funnels are an error';

-- accessors
CREATE FUNCTION funnel_stage_counts(summary funnel_summary) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'funnel_summary_stage_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_stage_counts(funnel_summary) IS 'Entities at each stage of a funnel summary: element k counts the entities that reached step k';

CREATE FUNCTION funnel_conversion(summary funnel_summary) RETURNS double precision[]
    AS $$ SELECT @extschema@.funnel_conversion(@extschema@.funnel_stage_counts($1)) $$
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION funnel_conversion(funnel_summary) IS 'Conversion between stages of a funnel summary (element 1 is 1.0)';

CREATE FUNCTION funnel_time_percentile(summary funnel_summary, step integer, fraction double precision)
    RETURNS interval AS 'MODULE_PATHNAME', 'funnel_summary_time_percentile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_time_percentile(funnel_summary, integer, double precision) IS 'Time from step 1 to step at the given fraction (nearest rank, like percentile_disc) of the entities that reached it, within 1%; NULL when none did';

CREATE FUNCTION funnel_window(summary funnel_summary) RETURNS interval
    AS 'MODULE_PATHNAME', 'funnel_summary_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_window(funnel_summary) IS 'The window of the funnel a summary was computed for';

-- reports
CREATE FUNCTION funnel_report(summary funnel_summary, step_names text[] DEFAULT NULL)
    RETURNS TABLE (step integer, name text, entities bigint,
                   conversion_from_previous double precision, conversion_from_start double precision,
                   drop_off bigint, drop_off_rate double precision,
                   median_time_from_start interval, p90_time_from_start interval)
    AS 'MODULE_PATHNAME', 'funnel_report' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION funnel_report(funnel_summary, text[]) IS 'One row per funnel step: entities, conversion, drop-off from the previous step and time from step 1 (median, 90th percentile)';

CREATE FUNCTION funnel_chart(summary funnel_summary, step_names text[] DEFAULT NULL, width integer DEFAULT 60)
    RETURNS text AS 'MODULE_PATHNAME', 'funnel_chart' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_chart(funnel_summary, text[], integer) IS 'A horizontal bar chart of a funnel as text, width characters wide (for psql: \pset format unaligned)';

CREATE FUNCTION funnel_svg(summary funnel_summary, step_names text[] DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'funnel_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_svg(funnel_summary, text[]) IS 'A standalone SVG chart of a funnel: bars, counts, conversion and drop-off between steps';

-- fixed-arity overloads of funnel_summary for 1..8 separate conditions (as in
-- 35_fixed_arity.sql: no boolean[] built per row; same transition, same state)

-- 1 condition
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_1(internal, interval, anyelement, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_1(internal, interval, anyelement, timestamptz, boolean) IS 'Transition function of funnel_summary with 1 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_1, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (1 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_1(internal, interval, text, anyelement, timestamptz, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_1(internal, interval, text, anyelement, timestamptz, boolean) IS 'Transition function of funnel_summary with 1 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_1, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (1 conditions)';

-- 2 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_2(internal, interval, anyelement, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_2(internal, interval, anyelement, timestamptz, boolean, boolean) IS 'Transition function of funnel_summary with 2 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_2, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (2 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_2(internal, interval, text, anyelement, timestamptz, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_2(internal, interval, text, anyelement, timestamptz, boolean, boolean) IS 'Transition function of funnel_summary with 2 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_2, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (2 conditions)';

-- 3 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_3(internal, interval, anyelement, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_3(internal, interval, anyelement, timestamptz, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 3 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_3, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (3 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_3(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_3(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 3 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_3, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (3 conditions)';

-- 4 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_4(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_4(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 4 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_4, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (4 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_4(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_4(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 4 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_4, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (4 conditions)';

-- 5 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_5(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_5(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 5 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_5, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (5 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_5(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_5(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 5 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_5, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (5 conditions)';

-- 6 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_6(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_6(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 6 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_6, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (6 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_6(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_6(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 6 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_6, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (6 conditions)';

-- 7 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_7(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_7(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 7 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_7, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (7 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_7(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_7(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 7 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_7, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (7 conditions)';

-- 8 conditions
CREATE FUNCTION @extschema@.funnel_summary_bools_sfunc_8(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_bools_sfunc_8(internal, interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 8 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_summary_bools_sfunc_8, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1 (8 conditions)';
CREATE FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_8(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'funnel_summary_mode_bools_sfunc' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_bools_sfunc_8(internal, interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Transition function of funnel_summary with 8 separate conditions';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, entity anyelement, ts timestamptz, step1 boolean, step2 boolean, step3 boolean, step4 boolean, step5 boolean, step6 boolean, step7 boolean, step8 boolean) (
    SFUNC = @extschema@.funnel_summary_mode_bools_sfunc_8, STYPE = internal, SSPACE = 2048,
    FINALFUNC = @extschema@.funnel_summary_final,
    COMBINEFUNC = @extschema@.funnel_entities_combine,
    SERIALFUNC = @extschema@.funnel_entities_serialize,
    DESERIALFUNC = @extschema@.funnel_entities_deserialize,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, anyelement, timestamptz, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) IS 'Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1, with a mode (8 conditions)';

-- ---------------------------------------------------------------------------
-- Customer value: per-customer summaries (customer_rfm), the BG/NBD purchase
-- model, the Gamma-Gamma spend model, the shifted-beta-geometric churn model
-- and their predictions (expected purchases, P(alive), expected spend, ltv)
-- ---------------------------------------------------------------------------

CREATE TYPE rfm_summary AS (
    frequency integer,
    recency double precision,
    t double precision,
    monetary_value double precision
);
COMMENT ON TYPE rfm_summary IS 'One customer''s summary: frequency = repeat purchase days, recency = first to last purchase, t = first purchase to the observation end (both in time units), monetary_value = mean value of the repeat purchase days (0 without repeats)';

CREATE TYPE bgnbd_model AS (
    r double precision,
    alpha double precision,
    a double precision,
    b double precision,
    log_likelihood double precision,
    customers bigint
);
COMMENT ON TYPE bgnbd_model IS 'A fitted BG/NBD purchase model (Fader, Hardie & Lee 2005): purchase rate ~ gamma(r, alpha), dropout probability ~ beta(a, b); alpha is in the summaries'' time unit';

CREATE TYPE gamma_gamma_model AS (
    p double precision,
    q double precision,
    gamma double precision,
    log_likelihood double precision,
    customers bigint
);
COMMENT ON TYPE gamma_gamma_model IS 'A fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005): transaction value ~ gamma(p, nu), nu ~ gamma(q, gamma)';

CREATE TYPE sbg_model AS (
    alpha double precision,
    beta double precision,
    log_likelihood double precision,
    periods integer,
    cohort_size bigint
);
COMMENT ON TYPE sbg_model IS 'A fitted shifted-beta-geometric churn model (Fader & Hardie 2007): the churn probability per period ~ beta(alpha, beta)';

-- customer_rfm --------------------------------------------------------------

CREATE FUNCTION customer_rfm_sfunc(internal, timestamptz, numeric, timestamptz)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_rfm_sfunc(internal, timestamptz, numeric, timestamptz, interval)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_rfm_final(internal) RETURNS rfm_summary
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_rfm_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION customer_rfm_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION customer_rfm_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION customer_rfm_sfunc(internal, timestamptz, numeric, timestamptz) IS 'customer_rfm transition';
COMMENT ON FUNCTION customer_rfm_sfunc(internal, timestamptz, numeric, timestamptz, interval) IS 'customer_rfm transition (with time unit)';
COMMENT ON FUNCTION customer_rfm_final(internal) IS 'customer_rfm final function: the rfm_summary';
COMMENT ON FUNCTION customer_rfm_combine(internal, internal) IS 'customer_rfm combine function (parallel aggregation)';
COMMENT ON FUNCTION customer_rfm_serialize(internal) IS 'customer_rfm state serialisation';
COMMENT ON FUNCTION customer_rfm_deserialize(bytea, internal) IS 'customer_rfm state deserialisation (validates its input)';

CREATE AGGREGATE customer_rfm(ts timestamptz, amount numeric, observation_end timestamptz) (
    SFUNC = customer_rfm_sfunc, STYPE = internal, FINALFUNC = customer_rfm_final,
    COMBINEFUNC = customer_rfm_combine, SERIALFUNC = customer_rfm_serialize,
    DESERIALFUNC = customer_rfm_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE customer_rfm(ts timestamptz, amount numeric, observation_end timestamptz, time_unit interval) (
    SFUNC = customer_rfm_sfunc, STYPE = internal, FINALFUNC = customer_rfm_final,
    COMBINEFUNC = customer_rfm_combine, SERIALFUNC = customer_rfm_serialize,
    DESERIALFUNC = customer_rfm_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE customer_rfm(timestamptz, numeric, timestamptz) IS 'Per-customer summary (frequency, recency, t, monetary_value) of a group of orders, in days; purchases on one calendar day (session time zone) count as one; orders after observation_end are ignored';
COMMENT ON AGGREGATE customer_rfm(timestamptz, numeric, timestamptz, interval) IS 'Per-customer summary (frequency, recency, t, monetary_value) of a group of orders, recency and t in multiples of time_unit (a month counts 30 days)';

-- model fits ----------------------------------------------------------------

CREATE FUNCTION bgnbd_fit_sfunc(internal, double precision, double precision, double precision)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION bgnbd_fit_final(internal) RETURNS bgnbd_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_sfunc(internal, double precision, double precision)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION gamma_gamma_fit_final(internal) RETURNS gamma_gamma_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fit_state_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fit_state_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fit_state_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION bgnbd_fit_sfunc(internal, double precision, double precision, double precision) IS 'bgnbd_fit transition';
COMMENT ON FUNCTION bgnbd_fit_final(internal) IS 'bgnbd_fit final function: maximum-likelihood fit';
COMMENT ON FUNCTION gamma_gamma_fit_sfunc(internal, double precision, double precision) IS 'gamma_gamma_fit transition';
COMMENT ON FUNCTION gamma_gamma_fit_final(internal) IS 'gamma_gamma_fit final function: maximum-likelihood fit';
COMMENT ON FUNCTION fit_state_combine(internal, internal) IS 'bgnbd_fit / gamma_gamma_fit combine function (parallel aggregation)';
COMMENT ON FUNCTION fit_state_serialize(internal) IS 'bgnbd_fit / gamma_gamma_fit state serialisation';
COMMENT ON FUNCTION fit_state_deserialize(bytea, internal) IS 'bgnbd_fit / gamma_gamma_fit state deserialisation (validates its input)';

-- bgnbd_fit and gamma_gamma_fit: at the end (their state, fit_stats, is a type of 1.1)

CREATE FUNCTION sbg_fit(survivors bigint[]) RETURNS sbg_model
    AS 'MODULE_PATHNAME', 'sbg_fit_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sbg_fit(bigint[]) IS 'Maximum-likelihood shifted-beta-geometric model of a cohort: survivors[1] = cohort size, survivors[k+1] = still active after k periods';

-- predictions ---------------------------------------------------------------

CREATE FUNCTION expected_purchases(model bgnbd_model, horizon double precision,
        frequency double precision, recency double precision, t double precision)
    RETURNS double precision AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION expected_purchases(bgnbd_model, double precision, double precision, double precision, double precision) IS 'BG/NBD expected number of purchases in the next horizon time units of a customer with this summary';

CREATE FUNCTION expected_purchases(model bgnbd_model, horizon double precision)
    RETURNS double precision AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION expected_purchases(bgnbd_model, double precision) IS 'BG/NBD expected number of repeat purchases in the first horizon time units of a new customer';

CREATE FUNCTION probability_alive(model bgnbd_model, frequency double precision,
        recency double precision, t double precision)
    RETURNS double precision AS 'MODULE_PATHNAME', 'bgnbd_probability_alive'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION probability_alive(bgnbd_model, double precision, double precision, double precision) IS 'BG/NBD probability that a customer with this summary is still active';

CREATE FUNCTION expected_average_spend(model gamma_gamma_model, frequency double precision,
        monetary_value double precision)
    RETURNS double precision AS 'MODULE_PATHNAME', 'gamma_gamma_expected_spend'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION expected_average_spend(gamma_gamma_model, double precision, double precision) IS 'Gamma-Gamma conditional expected value of a customer''s future purchases';

CREATE FUNCTION ltv(purchase_model bgnbd_model, spend_model gamma_gamma_model,
        frequency double precision, recency double precision, t double precision,
        monetary_value double precision, months integer DEFAULT 12,
        discount_rate double precision DEFAULT 0.01,
        units_per_month double precision DEFAULT 30)
    RETURNS double precision AS 'MODULE_PATHNAME', 'customer_ltv_sql'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ltv(bgnbd_model, gamma_gamma_model, double precision, double precision, double precision, double precision, integer, double precision, double precision) IS 'Discounted expected customer value over the next months: sum over months i of expected purchases in month i times expected spend / (1 + discount_rate)^i';

CREATE FUNCTION sbg_survival(model sbg_model, period integer)
    RETURNS double precision AS 'MODULE_PATHNAME', 'sbg_survival_sql'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sbg_survival(sbg_model, integer) IS 'sBG share of a cohort still active after period periods';

CREATE FUNCTION sbg_retention_rate(model sbg_model, period integer)
    RETURNS double precision AS 'MODULE_PATHNAME', 'sbg_retention_rate_sql'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sbg_retention_rate(sbg_model, integer) IS 'sBG retention rate of period period (>= 1): survivors after it / survivors before it';

CREATE FUNCTION sbg_expected_remaining_lifetime(model sbg_model, periods_survived integer DEFAULT 0,
        discount_rate double precision DEFAULT 0)
    RETURNS double precision AS 'MODULE_PATHNAME', 'sbg_remaining_sql'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sbg_expected_remaining_lifetime(sbg_model, integer, double precision) IS 'sBG discounted expected residual lifetime (Fader & Hardie 2010 DERL) of a customer who has made periods_survived renewals: sum over the further periods k >= 1 of the chance to be active in it over (1 + discount_rate)^(k - 1); Infinity when undiscounted and alpha <= 1';

-- ---------------------------------------------------------------------------
-- Customer value over whole orders tables: the one-call ltv and ltv_report
-- aggregates, cohort retention, ClickHouse's retention, acquisition cost
-- ---------------------------------------------------------------------------

CREATE TYPE customer_value_report AS (
    customers bigint,
    orders bigint,
    revenue double precision,
    average_order_value double precision,
    purchases_per_customer_per_year double precision,
    average_lifespan_years double precision,
    churn_rate double precision,
    churn_period_days integer,
    customers_at_risk bigint,
    historical_ltv double precision,
    predicted_ltv double precision,
    purchase_model bgnbd_model,
    spend_model gamma_gamma_model
);
COMMENT ON TYPE customer_value_report IS 'Historical and model-based customer value of a group of orders (see the ltv_report aggregate); churn_rate = share of the customers_at_risk (first order before the last churn_period_days) without an order in those days';

CREATE FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric, interval)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric, interval, double precision)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_final(internal) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_report_final(internal) RETURNS customer_value_report
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION ltv_agg_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric) IS 'ltv / ltv_report transition';
COMMENT ON FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric, interval) IS 'ltv / ltv_report transition (with horizon)';
COMMENT ON FUNCTION ltv_agg_sfunc(internal, anyelement, timestamptz, numeric, interval, double precision) IS 'ltv / ltv_report transition (with horizon and discount rate)';
COMMENT ON FUNCTION ltv_agg_final(internal) IS 'ltv final function: mean predicted customer value';
COMMENT ON FUNCTION ltv_report_final(internal) IS 'ltv_report final function: historical and predicted customer value';
COMMENT ON FUNCTION ltv_agg_combine(internal, internal) IS 'ltv / ltv_report combine function (parallel aggregation)';
COMMENT ON FUNCTION ltv_agg_serialize(internal) IS 'ltv / ltv_report state serialisation';
COMMENT ON FUNCTION ltv_agg_deserialize(bytea, internal) IS 'ltv / ltv_report state deserialisation (validates its input)';

CREATE AGGREGATE ltv(customer anyelement, ts timestamptz, amount numeric) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_agg_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE ltv(customer anyelement, ts timestamptz, amount numeric, horizon interval) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_agg_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE ltv(customer anyelement, ts timestamptz, amount numeric, horizon interval,
                     discount_rate double precision) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_agg_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE ltv(anyelement, timestamptz, numeric) IS 'Mean predicted value per customer over the next year (BG/NBD + Gamma-Gamma fitted on the group''s orders, days, observation end = last order, 1% monthly discount); NULL with a NOTICE when the group cannot be fitted';
COMMENT ON AGGREGATE ltv(anyelement, timestamptz, numeric, interval) IS 'Mean predicted value per customer over the horizon (months of 30 days, 1% monthly discount)';
COMMENT ON AGGREGATE ltv(anyelement, timestamptz, numeric, interval, double precision) IS 'Mean predicted value per customer over the horizon with a monthly discount rate';

CREATE AGGREGATE ltv_report(customer anyelement, ts timestamptz, amount numeric) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_report_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE ltv_report(customer anyelement, ts timestamptz, amount numeric, horizon interval) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_report_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE ltv_report(customer anyelement, ts timestamptz, amount numeric, horizon interval,
                            discount_rate double precision) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = ltv_report_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE ltv_report(anyelement, timestamptz, numeric) IS 'Historical (average order value x purchases per year x observed lifespan) and predicted customer value of a group of orders, horizon one year';
COMMENT ON AGGREGATE ltv_report(anyelement, timestamptz, numeric, interval) IS 'Historical and predicted customer value of a group of orders over the horizon';
COMMENT ON AGGREGATE ltv_report(anyelement, timestamptz, numeric, interval, double precision) IS 'Historical and predicted customer value of a group of orders over the horizon, with a monthly discount rate';

-- cohorts -------------------------------------------------------------------

CREATE TYPE cohort_matrix AS (
    period text,
    periods integer,
    cohort_start date[],
    cohort_size bigint[],
    active bigint[]
);
COMMENT ON TYPE cohort_matrix IS 'Cohort activity: cohort_start[c], cohort_size[c], active[c][k+1] = entities of cohort c active in their k-th period after the cohort''s (NULL when that period is after the last event)';

CREATE FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz, text)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz, text, integer)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_final(internal) RETURNS cohort_matrix
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION cohort_retention_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz) IS 'cohort_retention transition';
COMMENT ON FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz, text) IS 'cohort_retention transition (with period)';
COMMENT ON FUNCTION cohort_retention_sfunc(internal, anyelement, timestamptz, text, integer) IS 'cohort_retention transition (with period and number of periods)';
COMMENT ON FUNCTION cohort_retention_final(internal) IS 'cohort_retention final function: the cohort_matrix';
COMMENT ON FUNCTION cohort_retention_combine(internal, internal) IS 'cohort_retention combine function (parallel aggregation)';
COMMENT ON FUNCTION cohort_retention_serialize(internal) IS 'cohort_retention state serialisation';
COMMENT ON FUNCTION cohort_retention_deserialize(bytea, internal) IS 'cohort_retention state deserialisation (validates its input)';

CREATE AGGREGATE cohort_retention(entity anyelement, ts timestamptz) (
    SFUNC = cohort_retention_sfunc, STYPE = internal, FINALFUNC = cohort_retention_final,
    COMBINEFUNC = cohort_retention_combine, SERIALFUNC = cohort_retention_serialize,
    DESERIALFUNC = cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE cohort_retention(entity anyelement, ts timestamptz, period text) (
    SFUNC = cohort_retention_sfunc, STYPE = internal, FINALFUNC = cohort_retention_final,
    COMBINEFUNC = cohort_retention_combine, SERIALFUNC = cohort_retention_serialize,
    DESERIALFUNC = cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE cohort_retention(entity anyelement, ts timestamptz, period text, periods integer) (
    SFUNC = cohort_retention_sfunc, STYPE = internal, FINALFUNC = cohort_retention_final,
    COMBINEFUNC = cohort_retention_combine, SERIALFUNC = cohort_retention_serialize,
    DESERIALFUNC = cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE cohort_retention(anyelement, timestamptz) IS 'Monthly cohorts (calendar month of each entity''s first event) and their active entities in months 0..12';
COMMENT ON AGGREGATE cohort_retention(anyelement, timestamptz, text) IS 'Cohorts by calendar period (day, week, month, quarter, year) and their active entities in periods 0..12';
COMMENT ON AGGREGATE cohort_retention(anyelement, timestamptz, text, integer) IS 'Cohorts by calendar period and their active entities in periods 0..periods';

CREATE FUNCTION cohort_report(cohorts cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, period integer, active bigint,
                   retention_rate double precision)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c], k - 1, ($1).active[c][k],
           ($1).active[c][k]::double precision / ($1).cohort_size[c]
      FROM generate_subscripts(($1).cohort_start, 1) AS c,
           generate_series(1, ($1).periods + 1) AS k
     WHERE ($1).active[c][k] IS NOT NULL
     ORDER BY c, k
    $$;
COMMENT ON FUNCTION cohort_report(cohort_matrix) IS 'One row per cohort and period: cohort start, cohort size, period number (0 = the cohort''s own), active entities, retention rate';

CREATE FUNCTION cohort_heatmap(cohorts cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, retention text)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c],
           (SELECT string_agg(lpad(round(100.0 * ($1).active[c][k] / ($1).cohort_size[c])::text, 4)
                              || CASE WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] * 3 THEN '█'
                                      WHEN ($1).active[c][k] * 2 >= ($1).cohort_size[c] THEN '▓'
                                      WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] THEN '▒'
                                      WHEN ($1).active[c][k] > 0 THEN '░'
                                      ELSE ' ' END, '' ORDER BY k)
              FROM generate_series(1, ($1).periods + 1) AS k
             WHERE ($1).active[c][k] IS NOT NULL)
      FROM generate_subscripts(($1).cohort_start, 1) AS c
     ORDER BY c
    $$;
COMMENT ON FUNCTION cohort_heatmap(cohort_matrix) IS 'Compact heat table of a cohort_matrix for psql: per cohort, the retention percentage of periods 0, 1, ... each with a shade (█ >= 75%, ▓ >= 50%, ▒ >= 25%, ░ > 0)';

CREATE FUNCTION retention_sfunc(bigint, VARIADIC boolean[]) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION retention_combine(bigint, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION retention_final(bigint) RETURNS integer[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retention_sfunc(bigint, boolean[]) IS 'retention transition: ORs the conditions into a bit mask';
COMMENT ON FUNCTION retention_combine(bigint, bigint) IS 'retention combine function (parallel aggregation)';
COMMENT ON FUNCTION retention_final(bigint) IS 'retention final function';

CREATE AGGREGATE retention(VARIADIC conditions boolean[]) (
    SFUNC = retention_sfunc, STYPE = bigint, INITCOND = '0', FINALFUNC = retention_final,
    COMBINEFUNC = retention_combine, PARALLEL = SAFE);
COMMENT ON AGGREGATE retention(boolean[]) IS 'ClickHouse retention: element 1 is 1 when condition 1 held on some row, element k is 1 when conditions 1 and k each held on some row (1..32 conditions, NULL counts as false)';

-- acquisition cost ----------------------------------------------------------

CREATE FUNCTION funnel_cost_report(stage_counts bigint[], spend numeric, step_names text[] DEFAULT NULL)
    RETURNS TABLE (step integer, name text, entities bigint, cost_per_entity numeric)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    negative_count bigint;
    negative_step bigint;
BEGIN
    IF stage_counts IS NULL THEN
        RETURN;
    END IF;
    IF array_ndims(stage_counts) > 1 THEN
        RAISE EXCEPTION 'stage counts must be a one-dimensional array'
            USING ERRCODE = 'array_subscript_error';
    END IF;
    IF spend < 0 OR spend = 'NaN'::numeric OR spend IN ('Infinity'::numeric, '-Infinity'::numeric) THEN
        RAISE EXCEPTION 'spend must be a finite non-negative amount, not %', spend
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_position(stage_counts, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'stage counts must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT u.v, u.k INTO negative_count, negative_step
      FROM unnest(stage_counts) WITH ORDINALITY AS u(v, k)
     WHERE u.v < 0
     ORDER BY u.k
     LIMIT 1;
    IF negative_count IS NOT NULL THEN
        RAISE EXCEPTION 'stage count % at step % is negative', negative_count, negative_step
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF step_names IS NOT NULL AND coalesce(array_length(step_names, 1), 0)
                                  <> coalesce(array_length(stage_counts, 1), 0) THEN
        RAISE EXCEPTION '% step names given for a funnel of % steps',
            coalesce(array_length(step_names, 1), 0), coalesce(array_length(stage_counts, 1), 0)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give one name per funnel step, or none.';
    END IF;
    RETURN QUERY
        SELECT i, step_names[i], stage_counts[i],
               CASE WHEN stage_counts[i] > 0 THEN round(spend / stage_counts[i], 2) END
          FROM generate_subscripts(stage_counts, 1) AS i
         ORDER BY i;
END
$$;
COMMENT ON FUNCTION funnel_cost_report(bigint[], numeric, text[]) IS 'Acquisition cost per entity at each funnel stage: spend / entities reaching the stage (cost per lead, per qualified lead, per customer = CAC), rounded to cents; NULL for a stage nobody reached';

CREATE FUNCTION cac_payback_months(cac numeric, monthly_revenue_per_customer numeric, gross_margin numeric)
    RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF cac < 0 OR cac = 'NaN'::numeric OR cac = 'Infinity'::numeric THEN
        RAISE EXCEPTION 'cac must be a finite non-negative amount, not %', cac
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF monthly_revenue_per_customer < 0 OR monthly_revenue_per_customer = 'NaN'::numeric
       OR monthly_revenue_per_customer = 'Infinity'::numeric THEN
        RAISE EXCEPTION 'monthly revenue per customer must be a finite non-negative amount, not %',
            monthly_revenue_per_customer
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (gross_margin >= 0 AND gross_margin <= 1) THEN
        RAISE EXCEPTION 'gross_margin must be a fraction between 0 and 1, not %', gross_margin
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A 70% gross margin is 0.7.';
    END IF;
    IF cac = 0 THEN
        RETURN 0;
    END IF;
    IF monthly_revenue_per_customer * gross_margin = 0 THEN
        RETURN 'Infinity'::numeric;
    END IF;
    RETURN cac / (monthly_revenue_per_customer * gross_margin);
END
$$;
COMMENT ON FUNCTION cac_payback_months(numeric, numeric, numeric) IS 'Months to earn back the cost of acquiring a customer: cac / (monthly revenue per customer x gross margin); Infinity when the margin per month is 0';

-- ---------------------------------------------------------------------------
-- funnel_report with the group's spend: acquisition cost at each stage
-- ---------------------------------------------------------------------------

CREATE FUNCTION funnel_report(summary funnel_summary, spend numeric, step_names text[] DEFAULT NULL)
    RETURNS TABLE (step integer, name text, entities bigint,
                   conversion_from_previous double precision, conversion_from_start double precision,
                   drop_off bigint, drop_off_rate double precision,
                   median_time_from_start interval, p90_time_from_start interval,
                   cost_per_entity numeric)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT r.step, r.name, r.entities, r.conversion_from_previous, r.conversion_from_start,
           r.drop_off, r.drop_off_rate, r.median_time_from_start, r.p90_time_from_start,
           c.cost_per_entity
      FROM @extschema@.funnel_report(summary, step_names) r
      JOIN @extschema@.funnel_cost_report(@extschema@.funnel_stage_counts(summary), spend, step_names) c
        ON c.step = r.step
     ORDER BY r.step
$$;
COMMENT ON FUNCTION funnel_report(funnel_summary, numeric, text[]) IS 'funnel_report plus the cost per entity at each stage given the group''s spend (cost per lead, per qualified lead, per customer = CAC)';

-- ---------------------------------------------------------------------------
-- attribution: credit of conversions by channel over touchpoint journeys
-- ---------------------------------------------------------------------------

CREATE TYPE attribution_summary;

-- in/out read and write intervals (the lookback, the half-life): STABLE like interval_in/out
CREATE FUNCTION attribution_summary_in(cstring) RETURNS attribution_summary
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION attribution_summary_out(attribution_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION attribution_summary_recv(internal) RETURNS attribution_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION attribution_summary_send(attribution_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE attribution_summary (
    INPUT = attribution_summary_in,
    OUTPUT = attribution_summary_out,
    RECEIVE = attribution_summary_recv,
    SEND = attribution_summary_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE attribution_summary IS 'Result of the attribution aggregate: the model, totals and the credit of every channel; text form is JSON';
COMMENT ON FUNCTION attribution_summary_in(cstring) IS 'Text input of attribution_summary (the JSON form its output gives; validated)';
COMMENT ON FUNCTION attribution_summary_out(attribution_summary) IS 'Text output of attribution_summary as JSON';
COMMENT ON FUNCTION attribution_summary_recv(internal) IS 'Binary input of attribution_summary (validated)';
COMMENT ON FUNCTION attribution_summary_send(attribution_summary) IS 'Binary output of attribution_summary';

CREATE FUNCTION attribution_sfunc(internal, text, anyelement, timestamptz, text, numeric)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION attribution_sfunc(internal, text, anyelement, timestamptz, text, numeric, interval)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION attribution_final(internal) RETURNS attribution_summary
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION attribution_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION attribution_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION attribution_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;

COMMENT ON FUNCTION attribution_sfunc(internal, text, anyelement, timestamptz, text, numeric) IS 'attribution transition (default lookback of 30 days)';
COMMENT ON FUNCTION attribution_sfunc(internal, text, anyelement, timestamptz, text, numeric, interval) IS 'attribution transition';
COMMENT ON FUNCTION attribution_final(internal) IS 'attribution final function: journeys, credit by channel';
COMMENT ON FUNCTION attribution_combine(internal, internal) IS 'attribution combine function (parallel aggregation)';
COMMENT ON FUNCTION attribution_serialize(internal) IS 'attribution state serialisation';
COMMENT ON FUNCTION attribution_deserialize(bytea, internal) IS 'attribution state deserialisation (validates its input)';

CREATE AGGREGATE attribution(model text, entity anyelement, ts timestamptz, channel text,
                             conversion_value numeric) (
    SFUNC = attribution_sfunc, STYPE = internal, FINALFUNC = attribution_final,
    COMBINEFUNC = attribution_combine, SERIALFUNC = attribution_serialize,
    DESERIALFUNC = attribution_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE attribution(model text, entity anyelement, ts timestamptz, channel text,
                             conversion_value numeric, lookback interval) (
    SFUNC = attribution_sfunc, STYPE = internal, FINALFUNC = attribution_final,
    COMBINEFUNC = attribution_combine, SERIALFUNC = attribution_serialize,
    DESERIALFUNC = attribution_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);

COMMENT ON AGGREGATE attribution(text, anyelement, timestamptz, text, numeric) IS 'Credit of conversions by channel (models first_touch, last_touch, linear, position_based, time_decay[(half-life)], markov); a row with a value is a conversion, a row with a channel and no value a touchpoint; lookback 30 days';
COMMENT ON AGGREGATE attribution(text, anyelement, timestamptz, text, numeric, interval) IS 'Credit of conversions by channel (models first_touch, last_touch, linear, position_based, time_decay[(half-life)], markov) with the touchpoints in the lookback before each conversion';

CREATE FUNCTION attribution_report(summary attribution_summary)
    RETURNS TABLE (channel text, conversions double precision, value numeric,
                   share double precision, journeys bigint, conversion_rate double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION attribution_report(attribution_summary) IS 'One row per channel: credited conversions and value, share of all conversions, converting journeys with the channel, and the share of all journeys with the channel that converted; the NULL channel holds conversions without a touchpoint in the lookback';

CREATE FUNCTION attribution_model(summary attribution_summary) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION attribution_model(attribution_summary) IS 'The model of an attribution summary, e.g. linear or time_decay(7 days)';

-- ---------------------------------------------------------------------------
-- pipeline: stage transitions of a CRM stage history, absorbing-chain forecast
-- ---------------------------------------------------------------------------

CREATE TYPE pipeline_summary;

CREATE FUNCTION pipeline_summary_in(cstring) RETURNS pipeline_summary
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pipeline_summary_out(pipeline_summary) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pipeline_summary_recv(internal) RETURNS pipeline_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pipeline_summary_send(pipeline_summary) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE pipeline_summary (
    INPUT = pipeline_summary_in,
    OUTPUT = pipeline_summary_out,
    RECEIVE = pipeline_summary_recv,
    SEND = pipeline_summary_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE pipeline_summary IS 'Result of pipeline_model: stages, stage-to-stage transition counts and distinct deals, time in each stage, entries and open deals; text form is JSON';
COMMENT ON FUNCTION pipeline_summary_in(cstring) IS 'Text input of pipeline_summary (the JSON form its output gives; validated)';
COMMENT ON FUNCTION pipeline_summary_out(pipeline_summary) IS 'Text output of pipeline_summary as JSON';
COMMENT ON FUNCTION pipeline_summary_recv(internal) IS 'Binary input of pipeline_summary (validated)';
COMMENT ON FUNCTION pipeline_summary_send(pipeline_summary) IS 'Binary output of pipeline_summary';

CREATE FUNCTION pipeline_model_sfunc(internal, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION pipeline_model_final(internal) RETURNS pipeline_summary
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION pipeline_model_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION pipeline_model_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION pipeline_model_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;

COMMENT ON FUNCTION pipeline_model_sfunc(internal, anyelement, timestamptz, text, text[]) IS 'pipeline_model transition';
COMMENT ON FUNCTION pipeline_model_final(internal) IS 'pipeline_model final function: transitions and times by stage';
COMMENT ON FUNCTION pipeline_model_combine(internal, internal) IS 'pipeline_model combine function (parallel aggregation)';
COMMENT ON FUNCTION pipeline_model_serialize(internal) IS 'pipeline_model state serialisation';
COMMENT ON FUNCTION pipeline_model_deserialize(bytea, internal) IS 'pipeline_model state deserialisation (validates its input)';

CREATE AGGREGATE pipeline_model(entity anyelement, ts timestamptz, stage text, terminal text[]) (
    SFUNC = pipeline_model_sfunc, STYPE = internal, FINALFUNC = pipeline_model_final,
    COMBINEFUNC = pipeline_model_combine, SERIALFUNC = pipeline_model_serialize,
    DESERIALFUNC = pipeline_model_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE pipeline_model(anyelement, timestamptz, text, text[]) IS 'Stage-to-stage transition probabilities and mean time in each stage of a CRM stage history (one row per stage change of a deal); terminal names the stages that end a deal; stages a deal entered at one time: its current stage first, then open stages by name, terminal stages last (pass pipeline_order to order the open stages)';

CREATE FUNCTION pipeline_report(model pipeline_summary)
    RETURNS TABLE (stage text, next_stage text, deals bigint, probability double precision,
                   mean_days_in_stage double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION pipeline_report(pipeline_summary) IS 'One row per observed stage transition: deals (distinct deals that made it; a deal that makes it twice counts once), probability among the transitions out of the stage, mean days in the stage (open stays counted up to the model''s last row)';

CREATE FUNCTION pipeline_forecast(model pipeline_summary, stage text, open_count bigint)
    RETURNS TABLE (outcome text, expected_deals double precision, expected_days_to_close double precision)
    AS 'MODULE_PATHNAME', 'pipeline_forecast_stage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION pipeline_forecast(pipeline_summary, text, bigint) IS 'Absorbing-chain forecast for open_count deals now in stage: per terminal stage the expected deals ending there and their expected days to close (NULL outcome: deals in stages never seen to close)';

CREATE FUNCTION pipeline_forecast(model pipeline_summary, stages text[], open_counts bigint[])
    RETURNS TABLE (outcome text, expected_deals double precision, expected_days_to_close double precision)
    AS 'MODULE_PATHNAME', 'pipeline_forecast_stages' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION pipeline_forecast(pipeline_summary, text[], bigint[]) IS 'Absorbing-chain forecast for open deals by stage (parallel arrays, e.g. from array_agg over a table of open deals)';

CREATE FUNCTION pipeline_forecast(model pipeline_summary)
    RETURNS TABLE (outcome text, expected_deals double precision, expected_days_to_close double precision)
    AS 'MODULE_PATHNAME', 'pipeline_forecast_open' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION pipeline_forecast(pipeline_summary) IS 'Absorbing-chain forecast for the deals still open at the end of the model''s data';

CREATE FUNCTION pipeline_lead_rate(model pipeline_summary) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION pipeline_lead_rate(pipeline_summary) IS 'New deals per day: deals / days from the first deal''s entry to the model''s last row';

CREATE FUNCTION pipeline_lead_forecast(model pipeline_summary, period interval)
    RETURNS TABLE (outcome text, expected_deals double precision, expected_days_to_close double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION pipeline_lead_forecast(pipeline_summary, interval) IS 'The deals expected to enter during the next period at the model''s lead rate and where they are expected to end';

CREATE FUNCTION pipeline_period_forecast(model pipeline_summary, period interval)
    RETURNS TABLE (outcome text, from_open_deals double precision, from_new_leads double precision,
                   expected_deals double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION pipeline_period_forecast(pipeline_summary, interval) IS 'Deals expected to close in each terminal stage within the next period: from the deals open at the end of the model''s data and from the leads expected to enter meanwhile (continuous-time chain with the mean days in each stage)';

-- ---------------------------------------------------------------------------
-- attribution charts: credit by channel for one or several models
-- ---------------------------------------------------------------------------

CREATE FUNCTION attribution_bar_chart(summaries attribution_summary[], width integer DEFAULT 40)
    RETURNS TABLE (channel text, model text, conversions double precision, bar text)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF width < 1 OR width > 1000 THEN
        RAISE EXCEPTION 'chart width % is out of range', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The chart needs a width from 1 to 1000 characters.';
    END IF;
    RETURN QUERY
    WITH r AS (
        SELECT s.ord, @extschema@.attribution_model(s.summary) AS model, rep.channel,
               rep.conversions
        FROM unnest(summaries) WITH ORDINALITY AS s(summary, ord),
             LATERAL @extschema@.attribution_report(s.summary) AS rep
    ), ch AS (
        SELECT r.channel, max(r.conversions) AS top FROM r GROUP BY r.channel
    ), mx AS (
        SELECT max(r.conversions) AS m FROM r
    ), eighths AS (
        SELECT r.*, CASE WHEN mx.m > 0 THEN round(r.conversions / mx.m * width * 8)::int ELSE 0 END AS e
        FROM r, mx
    )
    SELECT e.channel, e.model, e.conversions,
           repeat(U&'\2588', e.e / 8)
           || CASE WHEN e.e % 8 > 0
                   THEN substr(U&'\258F\258E\258D\258C\258B\258A\2589', e.e % 8, 1) ELSE '' END
    FROM eighths e JOIN ch ON ch.channel IS NOT DISTINCT FROM e.channel
    ORDER BY ch.channel IS NULL, ch.top DESC, ch.channel, e.ord;
END
$$;
COMMENT ON FUNCTION attribution_bar_chart(attribution_summary[], integer) IS 'Text bar chart of credited conversions by channel, one row per channel and model (models side by side), bars scaled to width characters';

CREATE FUNCTION attribution_svg(summaries attribution_summary[],
                                title text DEFAULT 'Conversions credited by channel')
    RETURNS text LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    palette text[] := ARRAY['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948',
                            '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
    nmodels int := coalesce(array_length(summaries, 1), 0);
    label_w int := 180;
    bar_w int := 560;
    bar_h int := 16;
    gap int := 12;
    top_y int := 60 + 20 * ((nmodels + 2) / 3);
    maxv double precision;
    y int;
    svg text;
    rec record;
    cur text;
    first boolean := true;
    i int;
BEGIN
    IF nmodels = 0 THEN
        RAISE EXCEPTION 'at least one attribution summary is required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT max(rep.conversions) INTO maxv
    FROM unnest(summaries) AS s(summary), LATERAL @extschema@.attribution_report(s.summary) AS rep;
    IF maxv IS NULL OR maxv <= 0 THEN
        maxv := 1;
    END IF;
    svg := '';
    y := top_y;
    FOR rec IN
        WITH r AS (
            SELECT s.ord, @extschema@.attribution_model(s.summary) AS model, rep.channel,
                   rep.conversions, rep.share
            FROM unnest(summaries) WITH ORDINALITY AS s(summary, ord),
                 LATERAL @extschema@.attribution_report(s.summary) AS rep
        ), ch AS (
            SELECT r.channel, max(r.conversions) AS top FROM r GROUP BY r.channel
        )
        SELECT r.*, coalesce(r.channel, '(no touchpoint)') AS label
        FROM r JOIN ch ON ch.channel IS NOT DISTINCT FROM r.channel
        ORDER BY ch.channel IS NULL, ch.top DESC, ch.channel, r.ord
    LOOP
        IF first OR rec.channel IS DISTINCT FROM cur THEN
            IF NOT first THEN
                y := y + gap;
            END IF;
            svg := svg || format('<text class="channel" x="%s" y="%s" text-anchor="end">%s</text>',
                                 label_w - 8, y + bar_h - 3, @extschema@.attribution_svg_escape(rec.label)) || E'\n';
            cur := rec.channel;
            first := false;
        END IF;
        svg := svg || format('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s, %s: %s conversions</title></rect>',
                             label_w, y, round((rec.conversions / maxv * bar_w)::numeric, 1), bar_h - 2,
                             palette[1 + (rec.ord - 1) % 10],
                             @extschema@.attribution_svg_escape(rec.label),
                             @extschema@.attribution_svg_escape(rec.model),
                             round(rec.conversions::numeric, 2)) || E'\n';
        svg := svg || format('<text class="value" x="%s" y="%s">%s</text>',
                             label_w + round((rec.conversions / maxv * bar_w)::numeric, 1) + 4,
                             y + bar_h - 4, round(rec.conversions::numeric, 2)) || E'\n';
        y := y + bar_h;
    END LOOP;
    -- legend: one swatch per model, three per line
    FOR i IN 1 .. nmodels LOOP
        svg := format('<rect class="legend" x="%s" y="%s" width="12" height="12" fill="%s"/>'
                      '<text x="%s" y="%s">%s</text>',
                      label_w + ((i - 1) % 3) * 200, 44 + 20 * ((i - 1) / 3),
                      palette[1 + (i - 1) % 10],
                      label_w + ((i - 1) % 3) * 200 + 18, 54 + 20 * ((i - 1) / 3),
                      @extschema@.attribution_svg_escape(@extschema@.attribution_model(summaries[i])))
               || E'\n' || svg;
    END LOOP;
    RETURN format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="12">',
                  label_w + bar_w + 80, y + 20, label_w + bar_w + 80, y + 20) || E'\n'
        || format('<rect width="100%%" height="100%%" fill="white"/>') || E'\n'
        || format('<text class="title" x="%s" y="24" font-size="16" font-weight="bold">%s</text>',
                  label_w, @extschema@.attribution_svg_escape(title)) || E'\n'
        || svg || '</svg>' || E'\n';
END
$$;
COMMENT ON FUNCTION attribution_svg(attribution_summary[], text) IS 'SVG bar chart of credited conversions by channel, one colour per model (models side by side), names escaped';

-- ---------------------------------------------------------------------------
-- pipeline: stages entered at one time in the caller's pipeline order
-- (pipeline_model with a pipeline order)
-- ---------------------------------------------------------------------------

CREATE FUNCTION pipeline_model_sfunc(internal, anyelement, timestamptz, text, text[], text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION pipeline_model_sfunc(internal, anyelement, timestamptz, text, text[], text[]) IS 'pipeline_model transition (with a pipeline order)';

CREATE AGGREGATE pipeline_model(entity anyelement, ts timestamptz, stage text, terminal text[],
                                pipeline_order text[]) (
    SFUNC = pipeline_model_sfunc, STYPE = internal, FINALFUNC = pipeline_model_final,
    COMBINEFUNC = pipeline_model_combine, SERIALFUNC = pipeline_model_serialize,
    DESERIALFUNC = pipeline_model_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE pipeline_model(anyelement, timestamptz, text, text[], text[]) IS 'Stage-to-stage transition probabilities and mean time in each stage of a CRM stage history; pipeline_order lists every open stage in the order deals go through them, which decides the order of stages a deal entered at one time (terminal stages come last)';

-- attribution_svg_escape in C: the escaper of the C charts, which also
-- replaces the control characters XML forbids.
CREATE FUNCTION @extschema@.attribution_svg_escape(s text) RETURNS text
    AS 'MODULE_PATHNAME', 'attribution_svg_escape' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.attribution_svg_escape(text) IS 'Text escaped for SVG/XML content and attribute values';

-- ---------------------------------------------------------------------------
-- cohort_report, cohort_heatmap: walk the periods the matrix holds, not
-- 1 .. periods + 1 (a cohort_matrix written by hand with a huge "periods"
-- made them run for hours, or overflow)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.cohort_report(cohorts @extschema@.cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, period integer, active bigint,
                   retention_rate double precision)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c], k - 1, ($1).active[c][k],
           ($1).active[c][k]::double precision / ($1).cohort_size[c]
      FROM generate_subscripts(($1).cohort_start, 1) AS c,
           generate_subscripts(($1).active, 2) AS k
     WHERE ($1).active[c][k] IS NOT NULL AND k BETWEEN 1 AND ($1).periods + 1::bigint
     ORDER BY c, k
    $$;

CREATE OR REPLACE FUNCTION @extschema@.cohort_heatmap(cohorts @extschema@.cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, retention text)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c],
           (SELECT string_agg(lpad(round(100.0 * ($1).active[c][k] / ($1).cohort_size[c])::text, 4)
                              || CASE WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] * 3 THEN '█'
                                      WHEN ($1).active[c][k] * 2 >= ($1).cohort_size[c] THEN '▓'
                                      WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] THEN '▒'
                                      WHEN ($1).active[c][k] > 0 THEN '░'
                                      ELSE ' ' END, '' ORDER BY k)
              FROM generate_subscripts(($1).active, 2) AS k
             WHERE ($1).active[c][k] IS NOT NULL AND k BETWEEN 1 AND ($1).periods + 1::bigint)
      FROM generate_subscripts(($1).cohort_start, 1) AS c
     ORDER BY c
    $$;

-- ---------------------------------------------------------------------------
-- Product funnels (doc/product_funnels.md): times from step to step.
-- Optional steps, exclusions, any-order funnels and step_times are options
-- in the mode text of the existing functions; funnel_summary with the mode
-- step_times stores the times from each step to the next (format version 2)
-- and funnel_step_times reports them.
-- ---------------------------------------------------------------------------
CREATE FUNCTION funnel_step_times(summary funnel_summary, step_names text[] DEFAULT NULL)
    RETURNS TABLE (step integer, name text, entities bigint,
                   median_from_previous interval, p90_from_previous interval, mean_from_previous interval,
                   median_from_start interval, p90_from_start interval, mean_from_start interval)
    AS 'MODULE_PATHNAME', 'funnel_step_times' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION funnel_step_times(funnel_summary, text[]) IS 'One row per funnel step: median, 90th percentile and mean time from the step before and from step 1 (a summary made with the mode step_times)';

-- ---------------------------------------------------------------------------
-- Product funnels (doc/product_funnels.md): conversion trends by entry
-- period.  The same transitions and partial states as funnel_stage_counts;
-- the period ("bucket day", "time_zone Europe/Paris") is in the mode.
-- ---------------------------------------------------------------------------
CREATE FUNCTION funnel_trends_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'funnel_trends_final' LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE funnel_trends("window" interval, mode text, entity anyelement, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = funnel_entities_mode_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_trends_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_trends(interval, text, anyelement, timestamptz, boolean[]) IS 'Conversion by entry period: per period, the entities that did step 1 in it and those that went on to the last step within the window (mode, entity, conditions); read with funnel_trend_report';
CREATE AGGREGATE funnel_trends("window" interval, mode text, entity anyelement, event funnel_event) (
    SFUNC = funnel_entities_mode_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_trends_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_trends(interval, text, anyelement, funnel_event) IS 'Conversion by entry period (mode, entity, funnel_event); read with funnel_trend_report';
CREATE AGGREGATE funnel_trends("window" interval, mode text, entity anyelement, ts timestamptz, event text, steps text[]) (
    SFUNC = funnel_entities_mode_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = funnel_trends_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_trends(interval, text, anyelement, timestamptz, text, text[]) IS 'Conversion by entry period (mode, entity, event names); read with funnel_trend_report';
COMMENT ON FUNCTION funnel_trends_final(internal) IS 'Final function of funnel_trends: per entry period, entities that entered and converted (jsonb)';

CREATE FUNCTION funnel_trend_report(trend jsonb, as_of timestamptz DEFAULT now())
    RETURNS TABLE (period_start timestamptz, period_end timestamptz, entered bigint, converted bigint,
                   conversion_rate double precision, complete boolean)
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT pg_catalog.to_timestamp(((e.p ->> 'start_us')::numeric / 1000000)::float8),
           pg_catalog.to_timestamp(((e.p ->> 'end_us')::numeric / 1000000)::float8),
           (e.p ->> 'entered')::bigint, (e.p ->> 'converted')::bigint,
           CASE WHEN (e.p ->> 'entered')::bigint > 0
                THEN (e.p ->> 'converted')::float8 / (e.p ->> 'entered')::float8 END,
           (e.p ->> 'end_us')::numeric + ($1 ->> 'window_us')::numeric
               <= EXTRACT(EPOCH FROM $2) * 1000000
      FROM pg_catalog.jsonb_array_elements($1 -> 'periods') WITH ORDINALITY AS e(p, i)
     ORDER BY e.i
    $$;
COMMENT ON FUNCTION funnel_trend_report(jsonb, timestamptz) IS 'One row per entry period of a funnel_trends result: entered, converted, conversion rate, and whether the window of every entry in it had elapsed at as_of';
-- paths: the most frequent transitions and paths of event sequences, from a
-- start event or to an end event (doc/paths.md)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.paths_sfunc(internal, anyelement, timestamptz, text)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.paths_sfunc(internal, anyelement, timestamptz, text, text, text, integer, integer)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.paths_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.paths_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.paths_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.paths_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.paths_sfunc(internal, anyelement, timestamptz, text) IS 'paths transition (paths from each entity''s first event, depth 5, top 20)';
COMMENT ON FUNCTION @extschema@.paths_sfunc(internal, anyelement, timestamptz, text, text, text, integer, integer) IS 'paths transition';
COMMENT ON FUNCTION @extschema@.paths_final(internal) IS 'paths final function: edges and paths as jsonb';
COMMENT ON FUNCTION @extschema@.paths_combine(internal, internal) IS 'paths combine function (parallel aggregation)';
COMMENT ON FUNCTION @extschema@.paths_serialize(internal) IS 'paths state serialisation';
COMMENT ON FUNCTION @extschema@.paths_deserialize(bytea, internal) IS 'paths state deserialisation (validates its input)';

CREATE AGGREGATE @extschema@.paths(entity anyelement, ts timestamptz, event text) (
    SFUNC = @extschema@.paths_sfunc, STYPE = internal, FINALFUNC = @extschema@.paths_final,
    COMBINEFUNC = @extschema@.paths_combine, SERIALFUNC = @extschema@.paths_serialize,
    DESERIALFUNC = @extschema@.paths_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paths(entity anyelement, ts timestamptz, event text,
                                   start_event text, end_event text, depth integer, top_n integer) (
    SFUNC = @extschema@.paths_sfunc, STYPE = internal, FINALFUNC = @extschema@.paths_final,
    COMBINEFUNC = @extschema@.paths_combine, SERIALFUNC = @extschema@.paths_serialize,
    DESERIALFUNC = @extschema@.paths_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.paths(anyelement, timestamptz, text) IS 'Most frequent transitions and paths of each entity''s events from its first event: depth 5, top 20 edges (long-tail nodes folded into other) and top 20 paths, as jsonb';
COMMENT ON AGGREGATE @extschema@.paths(anyelement, timestamptz, text, text, text, integer, integer) IS 'Most frequent transitions and paths of each entity''s events from its first start_event or to its first end_event (at most one of them), depth steps (1 to 20), top_n edges (long-tail nodes folded into other) and paths (1 to 10000), as jsonb';

CREATE FUNCTION @extschema@.paths_report(paths jsonb)
    RETURNS TABLE (rank integer, step integer, from_event text, to_event text, entities bigint,
                   share double precision, median_time interval)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT e.ord::integer, (e.edge->>'step')::integer, e.edge->>'from', e.edge->>'to',
           (e.edge->>'entities')::bigint,
           (e.edge->>'entities')::double precision / NULLIF(($1->>'entities')::double precision, 0),
           pg_catalog.make_interval(secs => (e.edge->>'median_seconds')::double precision)
      FROM pg_catalog.jsonb_array_elements($1->'edges') WITH ORDINALITY AS e(edge, ord)
     ORDER BY e.ord
    $$;
COMMENT ON FUNCTION @extschema@.paths_report(jsonb) IS 'One row per edge of a paths result, most entities first: the from-node at step, the to-node at step + 1 (NULL: other), entities, share of the entities with a path, median time between';

CREATE FUNCTION @extschema@.paths_top(paths jsonb)
    RETURNS TABLE (rank integer, path text[], entities bigint, share double precision)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT p.ord::integer,
           ARRAY(SELECT x.v FROM pg_catalog.jsonb_array_elements_text(p.path->'events') WITH ORDINALITY AS x(v, o)
                  ORDER BY x.o),
           (p.path->>'entities')::bigint,
           (p.path->>'entities')::double precision / NULLIF(($1->>'entities')::double precision, 0)
      FROM pg_catalog.jsonb_array_elements($1->'paths') WITH ORDINALITY AS p(path, ord)
     ORDER BY p.ord
    $$;
COMMENT ON FUNCTION @extschema@.paths_top(jsonb) IS 'One row per path of a paths result, most entities first: the events of the path, entities and share of the entities with a path';

CREATE FUNCTION @extschema@.paths_chart(paths jsonb, width integer DEFAULT 40)
    RETURNS TABLE (step integer, transition text, entities bigint, median_time interval, bar text)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    block text;
BEGIN
    IF width < 1 OR width > 1000 THEN
        RAISE EXCEPTION 'chart width % is out of range', width
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The chart needs a width from 1 to 1000 characters.';
    END IF;
    -- a full block where the database encoding has one
    IF pg_catalog.getdatabaseencoding() = 'UTF8' THEN
        block := pg_catalog.chr(9608);
    ELSE
        block := '#';
    END IF;
    RETURN QUERY
    WITH r AS (
        SELECT * FROM @extschema@.paths_report(paths)
    ), mx AS (
        SELECT max(r.entities) AS m FROM r
    )
    SELECT r.step, coalesce(r.from_event, '(other)') || ' -> ' || coalesce(r.to_event, '(other)'),
           r.entities, r.median_time,
           repeat(block, CASE WHEN mx.m > 0 THEN round(r.entities::numeric / mx.m * width)::int ELSE 0 END)
    FROM r, mx
    ORDER BY r.step, r.rank;
END
$$;
COMMENT ON FUNCTION @extschema@.paths_chart(jsonb, integer) IS 'Text chart of a paths result for psql: one row per edge, by step and then most entities first, bars scaled to width characters';

-- ---------------------------------------------------------------------------
-- paths_sankey_svg: a paths result as a Sankey diagram (doc/paths.md)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.paths_sankey_svg(paths jsonb, title text DEFAULT NULL)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    -- STABLE: the tooltips print intervals (IntervalStyle).
    -- Columns are steps; a node's height is its entities (the larger of
    -- what flows in and out), nodes of a column stacked by size with room
    -- for a label each (at least 16 px a node, so that 20 or more nodes per
    -- column stay readable); a link is a band as wide as its entities,
    -- leaving its node below the links to nodes higher up.
    WITH e AS (
        SELECT r.rank, r.step, r.from_event, r.to_event, r.entities, r.median_time
          FROM @extschema@.paths_report($1) AS r
    ), ends AS (
        SELECT e.step AS step, e.from_event AS name, e.entities AS out_n, 0::bigint AS in_n FROM e
        UNION ALL
        SELECT e.step + 1, e.to_event, 0, e.entities FROM e
    ), n0 AS (
        SELECT ends.step, ends.name, greatest(sum(ends.out_n), sum(ends.in_n)) AS value
          FROM ends GROUP BY ends.step, ends.name
    ), cols AS (
        SELECT s.step, (row_number() OVER (ORDER BY s.step) - 1)::int AS col
          FROM (SELECT DISTINCT n0.step FROM n0) s
    ), scale AS (
        -- the fullest column is 400 px of nodes
        SELECT 400.0 / greatest(max(t.total), 1) AS px
          FROM (SELECT sum(n0.value) AS total FROM n0 GROUP BY n0.step) t
    ), n1 AS (
        SELECT n0.*, cols.col, greatest(n0.value * scale.px, 2.0) AS h,
               row_number() OVER (PARTITION BY n0.step ORDER BY n0.name IS NULL, n0.value DESC,
                                                            n0.name COLLATE "C") AS ord,
               dense_rank() OVER (ORDER BY n0.name IS NULL, n0.name COLLATE "C") AS colour
          FROM n0 JOIN cols ON cols.step = n0.step, scale
    ), nodes AS (
        SELECT n1.*, 60 + 220 * n1.col AS x,
               70 + coalesce(sum(greatest(n1.h, 16.0) + 10) OVER (PARTITION BY n1.step ORDER BY n1.ord
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS y
          FROM n1
    ), links AS (
        SELECT e.*, s.x + 12 AS x0, t.x AS x1, e.entities * scale.px AS w, s.colour,
               s.y + coalesce(sum(e.entities * scale.px) OVER (PARTITION BY e.step, e.from_event
                                  ORDER BY t.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS y0,
               t.y + coalesce(sum(e.entities * scale.px) OVER (PARTITION BY e.step, e.to_event
                                  ORDER BY s.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS y1
          FROM e
          JOIN nodes s ON s.step = e.step AND s.name IS NOT DISTINCT FROM e.from_event
          JOIN nodes t ON t.step = e.step + 1 AND t.name IS NOT DISTINCT FROM e.to_event, scale
    ), palette AS (
        SELECT ARRAY['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948',
                     '#b07aa1', '#ff9da7', '#9c755f', '#8cd17d', '#499894', '#d37295'] AS c
    ), size AS (
        SELECT 60 + 220 * coalesce(max(nodes.col), 0) + 240 AS w,
               coalesce(max(nodes.y + greatest(nodes.h, 16.0)), 70) + 30 AS h
          FROM nodes
    )
    SELECT format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">',
                  size.w, round(size.h), size.w, round(size.h)) || E'\n'
        || '<rect width="100%" height="100%" fill="white"/>' || E'\n'
        || format('<text class="title" x="60" y="24" font-size="16" font-weight="bold">%s</text>',
                  @extschema@.attribution_svg_escape(coalesce($2,
                      CASE $1->>'anchor' WHEN 'start' THEN 'Paths after ' || ($1->>'event')
                                         WHEN 'end' THEN 'Paths before ' || ($1->>'event')
                                         ELSE 'Paths from the first event' END))) || E'\n'
        || coalesce((SELECT string_agg(format('<text class="step" x="%s" y="54">step %s</text>', 60 + 220 * cols.col, cols.step),
                                       E'\n' ORDER BY cols.col) FROM cols) || E'\n', '')
        || coalesce((SELECT string_agg(format('<path class="link" d="M%s,%s C%s,%s %s,%s %s,%s L%s,%s C%s,%s %s,%s %s,%s Z" fill="%s" fill-opacity="0.35"><title>%s</title></path>',
                                              l.x0, round(l.y0, 1), (l.x0 + l.x1) / 2, round(l.y0, 1), (l.x0 + l.x1) / 2, round(l.y1, 1), l.x1, round(l.y1, 1),
                                              l.x1, round(l.y1 + l.w, 1), (l.x0 + l.x1) / 2, round(l.y1 + l.w, 1), (l.x0 + l.x1) / 2, round(l.y0 + l.w, 1),
                                              l.x0, round(l.y0 + l.w, 1),
                                              CASE WHEN l.from_event IS NULL THEN '#bbbbbb' ELSE palette.c[1 + (l.colour - 1) % 12] END,
                                              @extschema@.attribution_svg_escape(coalesce(l.from_event, '(other)') || ' -> '
                                                  || coalesce(l.to_event, '(other)') || ': ' || l.entities
                                                  || ' (median ' || l.median_time || ')')),
                                       E'\n' ORDER BY l.rank) FROM links l, palette) || E'\n', '')
        || coalesce((SELECT string_agg(format('<rect class="node" x="%s" y="%s" width="12" height="%s" fill="%s"><title>%s</title></rect>'
                                              || E'\n' || '<text class="label" x="%s" y="%s">%s</text>',
                                              n.x, round(n.y, 1), round(n.h, 1),
                                              CASE WHEN n.name IS NULL THEN '#999999' ELSE palette.c[1 + (n.colour - 1) % 12] END,
                                              @extschema@.attribution_svg_escape(coalesce(n.name, '(other)') || ': ' || n.value),
                                              n.x + 16, round(n.y + greatest(n.h, 16.0) / 2 + 4, 1),
                                              @extschema@.attribution_svg_escape(
                                                  CASE WHEN length(coalesce(n.name, '(other)')) > 24
                                                       THEN left(n.name, 21) || '...'
                                                       ELSE coalesce(n.name, '(other)') END || ' ' || n.value)),
                                       E'\n' ORDER BY n.col, n.ord) FROM nodes n, palette) || E'\n', '')
        || '</svg>' || E'\n'
    FROM size
    $$;
COMMENT ON FUNCTION @extschema@.paths_sankey_svg(jsonb, text) IS 'Sankey diagram of a paths result as SVG: one column per step, nodes as tall as their entities, links as wide as theirs, names escaped; title defaults to the anchor';

-- ---------------------------------------------------------------------------
-- funnel_correlation: which events and property values go with converting
-- (doc/correlation.md)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.funnel_correlation_sfunc(internal, interval, anyelement, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.funnel_correlation_sfunc(internal, interval, text, anyelement, timestamptz, text, text[], integer, text)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.funnel_correlation_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.funnel_correlation_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.funnel_correlation_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.funnel_correlation_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_correlation_sfunc(internal, interval, anyelement, timestamptz, text, text[]) IS 'funnel_correlation transition (default mode, PostHog''s min_count rule)';
COMMENT ON FUNCTION @extschema@.funnel_correlation_sfunc(internal, interval, text, anyelement, timestamptz, text, text[], integer, text) IS 'funnel_correlation transition (mode, min_count, property)';
COMMENT ON FUNCTION @extschema@.funnel_correlation_final(internal) IS 'funnel_correlation final function: drivers as jsonb';
COMMENT ON FUNCTION @extschema@.funnel_correlation_combine(internal, internal) IS 'funnel_correlation combine function (parallel aggregation)';
COMMENT ON FUNCTION @extschema@.funnel_correlation_serialize(internal) IS 'funnel_correlation state serialisation';
COMMENT ON FUNCTION @extschema@.funnel_correlation_deserialize(bytea, internal) IS 'funnel_correlation state deserialisation (validates its input)';

CREATE AGGREGATE @extschema@.funnel_correlation("window" interval, entity anyelement, ts timestamptz,
                                                event text, steps text[]) (
    SFUNC = @extschema@.funnel_correlation_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_correlation_final,
    COMBINEFUNC = @extschema@.funnel_correlation_combine,
    SERIALFUNC = @extschema@.funnel_correlation_serialize,
    DESERIALFUNC = @extschema@.funnel_correlation_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.funnel_correlation("window" interval, mode text, entity anyelement, ts timestamptz,
                                                event text, steps text[], min_count integer, property text) (
    SFUNC = @extschema@.funnel_correlation_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_correlation_final,
    COMBINEFUNC = @extschema@.funnel_correlation_combine,
    SERIALFUNC = @extschema@.funnel_correlation_serialize,
    DESERIALFUNC = @extschema@.funnel_correlation_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_correlation(interval, anyelement, timestamptz, text, text[]) IS 'Events between each entity''s funnel entry and its conversion or drop-off, with converters, non-converters, odds ratio (+1 smoothing) and Fisher exact p-value; drivers seen by fewer than min(25, 2% of the entered entities) left out; jsonb';
COMMENT ON AGGREGATE @extschema@.funnel_correlation(interval, text, anyelement, timestamptz, text, text[], integer, text) IS 'Events and property values between each entity''s funnel entry and its conversion or drop-off, with converters, non-converters, odds ratio (+1 smoothing) and Fisher exact p-value; drivers seen by fewer than min_count entities left out (NULL: min(25, 2% of the entered)); jsonb';

CREATE FUNCTION @extschema@.funnel_correlation_report(correlation jsonb, top_n integer DEFAULT 10)
    RETURNS TABLE (direction text, rank integer, kind text, driver text, converters bigint,
                   non_converters bigint, conversion_rate double precision,
                   odds_ratio double precision, p_value double precision)
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF top_n < 1 OR top_n > 10000 THEN
        RAISE EXCEPTION 'correlation top_n % is out of range', top_n
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The number of top drivers must be from 1 to 10000.';
    END IF;
    RETURN QUERY
    WITH d AS (
        SELECT x.ord, x.d->>'kind' AS kind, x.d->>'name' AS name,
               (x.d->>'converters')::bigint AS s, (x.d->>'non_converters')::bigint AS f,
               (x.d->>'odds_ratio')::double precision AS o, (x.d->>'p_value')::double precision AS p
          FROM pg_catalog.jsonb_array_elements(correlation->'drivers') WITH ORDINALITY AS x(d, ord)
    ), ranked AS (
        SELECT CASE WHEN d.o > 1 THEN 'positive' ELSE 'negative' END AS dir,
               row_number() OVER (PARTITION BY d.o > 1
                                  ORDER BY CASE WHEN d.o > 1 THEN -d.o ELSE d.o END, d.ord) AS r,
               d.*
          FROM d WHERE d.o <> 1
    )
    SELECT ranked.dir, ranked.r::integer, ranked.kind, ranked.name, ranked.s, ranked.f,
           ranked.s::double precision / NULLIF(ranked.s + ranked.f, 0), ranked.o, ranked.p
      FROM ranked
     WHERE ranked.r <= top_n
     ORDER BY ranked.dir DESC, ranked.r;
END
$$;
COMMENT ON FUNCTION @extschema@.funnel_correlation_report(jsonb, integer) IS 'The top_n drivers that go most with converting (positive: odds ratio above 1, largest first) and with dropping off (negative: below 1, smallest first) of a funnel_correlation result, one row each, with the conversion rate among the entities with the driver';
-- sessions: session_number (window function) and session_numbers (stored
-- journeys): sessions by inactivity gap, maximum length or a condition
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.session_number(ts timestamptz, gap interval DEFAULT '30 minutes',
                                           max_length interval DEFAULT NULL,
                                           new_session boolean DEFAULT false)
    RETURNS bigint AS 'MODULE_PATHNAME', 'session_number' LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.session_number(timestamptz, interval, interval, boolean) IS 'Window function (OVER (PARTITION BY entity ORDER BY ts)): the number of the current row''s session, from 1; a row starts a new session after more than gap without events, when the session would last more than max_length, or when new_session is true; NULL for a NULL ts';

CREATE FUNCTION @extschema@.session_numbers(journey @extschema@.funnel_event[], gap interval DEFAULT '30 minutes',
                                            max_length interval DEFAULT NULL,
                                            new_session_step integer DEFAULT NULL)
    RETURNS integer[] AS 'MODULE_PATHNAME', 'session_numbers' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.session_numbers(@extschema@.funnel_event[], interval, interval, integer) IS 'For each event of a stored journey, in the array''s order, the number of its session (sessions numbered in time order, as session_number does); an event matching step new_session_step starts a new session; NULL for a NULL element';

-- ---------------------------------------------------------------------------
-- sequences: ClickHouse's sequenceMatch, sequenceCount and sequenceNextNode
-- (doc/sequences.md)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.sequence_match_sfunc(internal, text, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_match_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_match_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_match_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_match_final(internal) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_count_final(internal) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sequence_match_sfunc(internal, text, timestamptz, boolean[]) IS 'sequence_match and sequence_count transition';
COMMENT ON FUNCTION @extschema@.sequence_match_combine(internal, internal) IS 'sequence_match and sequence_count combine function (parallel aggregation)';
COMMENT ON FUNCTION @extschema@.sequence_match_serialize(internal) IS 'sequence_match and sequence_count state serialisation';
COMMENT ON FUNCTION @extschema@.sequence_match_deserialize(bytea, internal) IS 'sequence_match and sequence_count state deserialisation (validates its input)';
COMMENT ON FUNCTION @extschema@.sequence_match_final(internal) IS 'sequence_match final function: whether the events match the pattern';
COMMENT ON FUNCTION @extschema@.sequence_count_final(internal) IS 'sequence_count final function: the number of non-overlapping matches';

CREATE AGGREGATE @extschema@.sequence_match(pattern text, ts timestamptz, VARIADIC conditions boolean[]) (
    SFUNC = @extschema@.sequence_match_sfunc, STYPE = internal, SSPACE = 256, FINALFUNC = @extschema@.sequence_match_final,
    COMBINEFUNC = @extschema@.sequence_match_combine, SERIALFUNC = @extschema@.sequence_match_serialize,
    DESERIALFUNC = @extschema@.sequence_match_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.sequence_match(text, timestamptz, boolean[]) IS 'ClickHouse sequenceMatch: whether the group''s events, in time order, match the pattern ((?N) condition N, . any event, .* any events, (?t op seconds) time since the previous event); conditions 1 to 32';

CREATE AGGREGATE @extschema@.sequence_count(pattern text, ts timestamptz, VARIADIC conditions boolean[]) (
    SFUNC = @extschema@.sequence_match_sfunc, STYPE = internal, SSPACE = 256, FINALFUNC = @extschema@.sequence_count_final,
    COMBINEFUNC = @extschema@.sequence_match_combine, SERIALFUNC = @extschema@.sequence_match_serialize,
    DESERIALFUNC = @extschema@.sequence_match_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.sequence_count(text, timestamptz, boolean[]) IS 'ClickHouse sequenceCount: how many non-overlapping times the group''s events, in time order, match the pattern (as sequence_match)';

CREATE FUNCTION @extschema@.sequence_next_node_sfunc(internal, text, text, timestamptz, text, boolean)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_next_node_sfunc(internal, text, text, timestamptz, text, boolean, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_next_node_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_next_node_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_next_node_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_next_node_final(internal) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sequence_next_node_sfunc(internal, text, text, timestamptz, text, boolean) IS 'sequence_next_node transition (no event conditions)';
COMMENT ON FUNCTION @extschema@.sequence_next_node_sfunc(internal, text, text, timestamptz, text, boolean, boolean[]) IS 'sequence_next_node transition';
COMMENT ON FUNCTION @extschema@.sequence_next_node_combine(internal, internal) IS 'sequence_next_node combine function (parallel aggregation)';
COMMENT ON FUNCTION @extschema@.sequence_next_node_serialize(internal) IS 'sequence_next_node state serialisation';
COMMENT ON FUNCTION @extschema@.sequence_next_node_deserialize(bytea, internal) IS 'sequence_next_node state deserialisation (validates its input)';
COMMENT ON FUNCTION @extschema@.sequence_next_node_final(internal) IS 'sequence_next_node final function: the value of the next (or previous) node';

CREATE AGGREGATE @extschema@.sequence_next_node(direction text, base text, ts timestamptz, value text, base_condition boolean) (
    SFUNC = @extschema@.sequence_next_node_sfunc, STYPE = internal, SSPACE = 512, FINALFUNC = @extschema@.sequence_next_node_final,
    COMBINEFUNC = @extschema@.sequence_next_node_combine, SERIALFUNC = @extschema@.sequence_next_node_serialize,
    DESERIALFUNC = @extschema@.sequence_next_node_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.sequence_next_node(text, text, timestamptz, text, boolean) IS 'ClickHouse sequenceNextNode without event conditions: the value of the base row (''forward''/''head'': the first row, ''backward''/''tail'': the last) when base_condition holds there, else NULL';

CREATE AGGREGATE @extschema@.sequence_next_node(direction text, base text, ts timestamptz, value text, base_condition boolean,
                                                VARIADIC events boolean[]) (
    SFUNC = @extschema@.sequence_next_node_sfunc, STYPE = internal, SSPACE = 512, FINALFUNC = @extschema@.sequence_next_node_final,
    COMBINEFUNC = @extschema@.sequence_next_node_combine, SERIALFUNC = @extschema@.sequence_next_node_serialize,
    DESERIALFUNC = @extschema@.sequence_next_node_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.sequence_next_node(text, text, timestamptz, text, boolean, boolean[]) IS 'ClickHouse sequenceNextNode: in time order, the value of the row after (direction ''forward'') or before (''backward'') the chain of rows matching event1, event2, ... from the base row (base ''head'', ''tail'', ''first_match'' or ''last_match''; base_condition must hold there); NULL when there is none; up to 64 events';
-- journeys kept current: journey_merge, journey_trim, journey_agg and the
-- journey_refresh of a journeys table from an events table, with its
-- watermark in journey_watermark (doc/journeys.md)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.journey_merge(journey @extschema@.funnel_event[], delta @extschema@.funnel_event[])
    RETURNS @extschema@.funnel_event[] AS 'MODULE_PATHNAME', 'journey_merge'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_merge(@extschema@.funnel_event[], @extschema@.funnel_event[]) IS 'The events of a journey and of a delta in canonical form: in time order (then step mask), each distinct event once, no NULLs; a NULL argument is an empty journey';

CREATE FUNCTION @extschema@.journey_trim(journey @extschema@.funnel_event[], horizon timestamptz)
    RETURNS @extschema@.funnel_event[] AS 'MODULE_PATHNAME', 'journey_trim'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_trim(@extschema@.funnel_event[], timestamptz) IS 'The events of a journey at or after the horizon, in the journey''s order';

CREATE FUNCTION @extschema@.journey_agg_sfunc(internal, @extschema@.funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_agg_sfunc(internal, @extschema@.funnel_event) IS 'journey_agg transition';
CREATE FUNCTION @extschema@.journey_agg_final(internal)
    RETURNS @extschema@.funnel_event[] AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_agg_final(internal) IS 'journey_agg final function: the canonical journey';
CREATE FUNCTION @extschema@.journey_agg_combine(internal, internal)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_agg_combine(internal, internal) IS 'journey_agg combine function (parallel aggregation)';
CREATE FUNCTION @extschema@.journey_agg_serialize(internal)
    RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_agg_serialize(internal) IS 'journey_agg state serialisation';
CREATE FUNCTION @extschema@.journey_agg_deserialize(bytea, internal)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_agg_deserialize(bytea, internal) IS 'journey_agg state deserialisation (validates its input)';

CREATE AGGREGATE @extschema@.journey_agg(event @extschema@.funnel_event) (
    SFUNC = @extschema@.journey_agg_sfunc, STYPE = internal, FINALFUNC = @extschema@.journey_agg_final,
    COMBINEFUNC = @extschema@.journey_agg_combine, SERIALFUNC = @extschema@.journey_agg_serialize,
    DESERIALFUNC = @extschema@.journey_agg_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.journey_agg(@extschema@.funnel_event) IS 'The journey of a group''s events in canonical form (time order, each distinct event once); NULL over no events';

-- One row per journeys table: the transactions whose rows it holds.  Rows
-- of the events table inserted by a transaction with an ID below
-- xid_horizon are folded in; the others are left for the next refresh.
-- Whoever may update a journeys table may read and write its row.
CREATE TABLE @extschema@.journey_watermark (
    journeys regclass PRIMARY KEY,
    source regclass NOT NULL,
    xid_horizon pg_catalog.xid8,
    refreshed_at timestamptz,
    rows_folded bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE @extschema@.journey_watermark IS 'journey_refresh watermarks: per journeys table its events table, the transaction ID below which every inserting transaction''s rows are folded in (NULL: never refreshed), and the events-table rows folded in so far';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.journey_watermark', '');
ALTER TABLE @extschema@.journey_watermark ENABLE ROW LEVEL SECURITY;
CREATE POLICY journey_watermark_writers ON @extschema@.journey_watermark
    USING (pg_catalog.has_table_privilege(journeys, 'UPDATE'))
    WITH CHECK (pg_catalog.has_table_privilege(journeys, 'UPDATE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.journey_watermark TO PUBLIC;

CREATE FUNCTION @extschema@.journey_refresh(journeys regclass, source regclass, entity text, event text,
                                            xid_column name DEFAULT 'inserted_xid',
                                            horizon timestamptz DEFAULT NULL,
                                            entity_column name DEFAULT 'entity',
                                            journey_column name DEFAULT 'journey',
                                            search_path text DEFAULT pg_catalog.current_setting('search_path'))
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    mark record;
    upto pg_catalog.xid8;
    rows_filter text;
    new_journey text;
    folded bigint;
    journey_type pg_catalog.regtype;
    event_journey boolean;
    delta text;
BEGIN
    IF journeys IS NULL OR source IS NULL OR entity IS NULL OR event IS NULL
       OR xid_column IS NULL OR entity_column IS NULL OR journey_column IS NULL THEN
        RAISE EXCEPTION 'the journeys table, the events table, the entity and event expressions and the column names must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
                    WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attname OPERATOR(pg_catalog.=) xid_column
                      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                      AND a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.xid8'::pg_catalog.regtype) THEN
        RAISE EXCEPTION 'table % has no column "%" of type xid8', source, xid_column
            USING ERRCODE = 'undefined_column',
                  HINT = 'Add a column that records the transaction that inserted each row, "inserted_xid xid8 NOT NULL DEFAULT pg_current_xact_id()", or name yours with xid_column.';
    END IF;
    -- funnel_event[] journeys, or arrays of any type with a btree order
    -- (touchpoints with a channel and a value, orders with an amount, ...)
    SELECT a.atttypid INTO journey_type FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) journeys AND a.attname OPERATOR(pg_catalog.=) journey_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
       AND a.attndims OPERATOR(pg_catalog.<=) 1
       AND (a.atttypid OPERATOR(pg_catalog.=) '@extschema@.journey'::pg_catalog.regtype
            OR EXISTS (SELECT FROM pg_catalog.pg_type AS t
                        WHERE t.oid OPERATOR(pg_catalog.=) a.atttypid AND t.typcategory OPERATOR(pg_catalog.=) 'A'));
    IF journey_type IS NULL THEN
        RAISE EXCEPTION 'table % has no journey or array column "%"', journeys, journey_column
            USING ERRCODE = 'undefined_column',
                  HINT = 'Name the journeys column (journey, funnel_event[], or an array of another type) with journey_column.';
    END IF;
    -- journey and funnel_event[] columns: the delta is a funnel_event[]
    -- (assigned to a journey column through its cast), journey_merge and
    -- journey_trim are those of the column's type
    event_journey := journey_type OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.funnel_event[]'::pg_catalog.regtype,
                                                                    '@extschema@.journey'::pg_catalog.regtype]);
    IF horizon IS NOT NULL AND NOT event_journey THEN
        RAISE EXCEPTION 'a retention horizon needs journey or funnel_event[] journeys, not %', journey_type
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Trim journeys of other types with your own UPDATE.';
    END IF;
    -- one refresh of a journeys table at a time: the second waits here
    INSERT INTO @extschema@.journey_watermark AS m (journeys, source)
        VALUES (journeys, source) ON CONFLICT ON CONSTRAINT journey_watermark_pkey DO NOTHING;
    SELECT m.source, m.xid_horizon INTO mark
      FROM @extschema@.journey_watermark AS m
     WHERE m.journeys OPERATOR(pg_catalog.=) journey_refresh.journeys FOR UPDATE;
    IF NOT FOUND THEN
        -- the policy hides it: the row of a dropped table whose OID was reused
        RAISE EXCEPTION 'cannot read the watermark of journeys table %', journeys
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'A row of journey_watermark left by a dropped table holds its OID: a superuser can delete it.';
    END IF;
    IF mark.source OPERATOR(pg_catalog.<>) source THEN
        RAISE EXCEPTION 'journeys table % is refreshed from %, not from %', journeys, mark.source, source
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Delete its row in journey_watermark to rebuild it from another table.';
    END IF;
    -- every transaction below the snapshot's xmin has ended: its rows are
    -- all visible now and it can add no more
    upto := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
    IF mark.xid_horizon IS NULL THEN
        rows_filter := pg_catalog.format('(%1$I OPERATOR(pg_catalog.<) %2$L::pg_catalog.xid8 OR %1$I IS NULL)',
                                         xid_column, upto);
    ELSIF mark.xid_horizon OPERATOR(pg_catalog.>) upto THEN
        -- snapshot xmins only grow: a watermark ahead of ours was written by
        -- another cluster (a dump restored here), whose transaction IDs the
        -- events table may still carry
        RAISE EXCEPTION 'watermark of journeys table % is ahead of the current transaction ID', journeys
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('The watermark is %s, the oldest running transaction is %s.', mark.xid_horizon, upto),
                  HINT = 'After restoring a dump into another cluster, rebuild the journeys as doc/journeys.md says.';
    ELSIF mark.xid_horizon OPERATOR(pg_catalog.=) upto THEN
        RETURN 0;
    ELSE
        rows_filter := pg_catalog.format('%1$I OPERATOR(pg_catalog.>=) %2$L::pg_catalog.xid8 AND %1$I OPERATOR(pg_catalog.<) %3$L::pg_catalog.xid8',
                                         xid_column, mark.xid_horizon, upto);
    END IF;
    IF NOT event_journey THEN
        -- the same canonical form: the type's order, each distinct element once
        delta := 'pg_catalog.array_agg(DISTINCT s.ev ORDER BY s.ev)';
        new_journey := pg_catalog.format(
            'ARRAY(SELECT DISTINCT x FROM pg_catalog.unnest(j.%1$I OPERATOR(pg_catalog.||) excluded.%1$I) AS x ORDER BY x)',
            journey_column);
    ELSIF horizon IS NULL THEN
        delta := '@extschema@.journey_agg(s.ev)';
        new_journey := pg_catalog.format('@extschema@.journey_merge(j.%1$I, excluded.%1$I)', journey_column);
    ELSE
        delta := pg_catalog.format('@extschema@.journey_trim(@extschema@.journey_agg(s.ev), %L::pg_catalog.timestamptz)', horizon);
        new_journey := pg_catalog.format('@extschema@.journey_trim(@extschema@.journey_merge(j.%1$I, excluded.%1$I), %2$L::pg_catalog.timestamptz)',
                                         journey_column, horizon);
    END IF;
    -- the caller's expressions are read with the caller's search_path
    PERFORM pg_catalog.set_config('search_path', journey_refresh.search_path, true);
    EXECUTE pg_catalog.format(
        'WITH d AS (
           SELECT s.e, %9$s AS journey, pg_catalog.count(*) AS n
             FROM (SELECT (%4$s) AS e, (%5$s) AS ev FROM %6$s WHERE %7$s) AS s
            WHERE s.e IS NOT NULL AND s.ev IS DISTINCT FROM NULL
            GROUP BY s.e),
         ins AS (
           INSERT INTO %1$s AS j (%2$I, %3$I)
           SELECT d.e, d.journey FROM d WHERE d.journey OPERATOR(pg_catalog.<>) %10$L
           ON CONFLICT (%2$I) DO UPDATE SET %3$I = %8$s
           RETURNING 1)
         SELECT (SELECT pg_catalog.sum(d.n) FROM d), (SELECT pg_catalog.count(*) FROM ins)',
        journeys, entity_column, journey_column, entity, event, source, rows_filter, new_journey,
        delta, '{}')
        INTO folded;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    UPDATE @extschema@.journey_watermark AS m
       SET xid_horizon = upto, refreshed_at = pg_catalog.now(),
           rows_folded = m.rows_folded OPERATOR(pg_catalog.+) COALESCE(folded, 0)
     WHERE m.journeys OPERATOR(pg_catalog.=) journey_refresh.journeys;
    RETURN COALESCE(folded, 0);
END
$$;
COMMENT ON FUNCTION @extschema@.journey_refresh(regclass, regclass, text, text, name, timestamptz, name, name, text) IS 'Folds the events-table rows of the transactions that ended since the last refresh into the journeys table (INSERT ... ON CONFLICT DO UPDATE with journey_merge, trimmed to horizon when given; journeys of another array type keep each distinct element once, in the type''s order) and advances the watermark in journey_watermark; one transaction, one refresh of a table at a time; returns the events-table rows folded in (rows with a NULL entity or event are left out and not counted)';

-- funnel_summary over stored journeys: one row per entity; the reports,
-- funnel_stage_counts(summary) and funnel_conversion(summary) read it
CREATE FUNCTION @extschema@.funnel_summary_journey_sfunc(internal, interval, @extschema@.funnel_event[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_journey_sfunc(internal, interval, @extschema@.funnel_event[]) IS 'funnel_summary transition (stored journeys)';
CREATE FUNCTION @extschema@.funnel_summary_mode_journey_sfunc(internal, interval, text, @extschema@.funnel_event[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_journey_sfunc(internal, interval, text, @extschema@.funnel_event[]) IS 'funnel_summary transition (mode, stored journeys)';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, journey @extschema@.funnel_event[]) (
    SFUNC = @extschema@.funnel_summary_journey_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_summary_rollup_final,
    COMBINEFUNC = @extschema@.funnel_summary_rollup_combine, SERIALFUNC = @extschema@.funnel_summary_rollup_serialize,
    DESERIALFUNC = @extschema@.funnel_summary_rollup_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, @extschema@.funnel_event[]) IS 'Funnel summary of stored journeys, one row per entity (the funnel has as many steps as the highest step any journey names)';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, journey @extschema@.funnel_event[]) (
    SFUNC = @extschema@.funnel_summary_mode_journey_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_summary_rollup_final,
    COMBINEFUNC = @extschema@.funnel_summary_rollup_combine, SERIALFUNC = @extschema@.funnel_summary_rollup_serialize,
    DESERIALFUNC = @extschema@.funnel_summary_rollup_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, @extschema@.funnel_event[]) IS 'Funnel summary of stored journeys with a mode, one row per entity (the funnel has as many steps as the highest step any journey names)';

-- ---------------------------------------------------------------------------
-- the journey type: a canonical journey stored compactly (delta-coded times,
-- varint step masks; doc/journeys.md, "Storage"), with casts to and from
-- funnel_event[] and the journey functions over it
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.journey;
CREATE FUNCTION @extschema@.journey_in(cstring, oid, integer) RETURNS @extschema@.journey
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_in(cstring, oid, integer) IS 'Text input of journey: the text of a funnel_event[], in any order; the journey keeps its distinct events in time order';
CREATE FUNCTION @extschema@.journey_out(@extschema@.journey) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_out(@extschema@.journey) IS 'Text output of journey: that of the funnel_event[] of its events';
CREATE FUNCTION @extschema@.journey_recv(internal) RETURNS @extschema@.journey
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_recv(internal) IS 'Binary input of journey (the stored layout, every field checked)';
CREATE FUNCTION @extschema@.journey_send(@extschema@.journey) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_send(@extschema@.journey) IS 'Binary output of journey (the stored layout)';
CREATE TYPE @extschema@.journey (
    INPUT = @extschema@.journey_in, OUTPUT = @extschema@.journey_out,
    RECEIVE = @extschema@.journey_recv, SEND = @extschema@.journey_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended);
COMMENT ON TYPE @extschema@.journey IS 'A journey in canonical form (distinct events in time order) stored compactly: delta-coded times and step masks, about 3 to 7 bytes an event against 16 for funnel_event[]; casts to and from funnel_event[]';

CREATE FUNCTION @extschema@.journey(events @extschema@.funnel_event[]) RETURNS @extschema@.journey
    AS 'MODULE_PATHNAME', 'journey_from_events' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey(@extschema@.funnel_event[]) IS 'The journey of the events of a funnel_event[], in any order: its distinct events in time order (NULL elements left out)';
CREATE FUNCTION @extschema@.funnel_events(journey @extschema@.journey) RETURNS @extschema@.funnel_event[]
    AS 'MODULE_PATHNAME', 'journey_to_events' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_events(@extschema@.journey) IS 'The events of a journey as a canonical funnel_event[]';
CREATE CAST (@extschema@.funnel_event[] AS @extschema@.journey)
    WITH FUNCTION @extschema@.journey(@extschema@.funnel_event[]) AS ASSIGNMENT;
COMMENT ON CAST (@extschema@.funnel_event[] AS @extschema@.journey) IS 'A funnel_event[] as a journey: its distinct events in time order';
CREATE CAST (@extschema@.journey AS @extschema@.funnel_event[])
    WITH FUNCTION @extschema@.funnel_events(@extschema@.journey) AS ASSIGNMENT;
COMMENT ON CAST (@extschema@.journey AS @extschema@.funnel_event[]) IS 'A journey as a canonical funnel_event[]';
CREATE FUNCTION @extschema@.event_count(journey @extschema@.journey) RETURNS integer
    AS 'MODULE_PATHNAME', 'journey_event_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.event_count(@extschema@.journey) IS 'The number of events of a journey';

CREATE FUNCTION @extschema@.window_funnel("window" interval, journey @extschema@.journey, mode text DEFAULT '')
    RETURNS integer AS 'MODULE_PATHNAME', 'window_funnel_compact'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel(interval, @extschema@.journey, text) IS 'Funnel level of a stored journey (journey type)';
CREATE FUNCTION @extschema@.time_to_convert("window" interval, journey @extschema@.journey, mode text DEFAULT '', to_step integer DEFAULT NULL)
    RETURNS interval AS 'MODULE_PATHNAME', 'time_to_convert_compact'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.time_to_convert(interval, @extschema@.journey, text, integer) IS 'Time to convert of a stored journey (journey type): step 1 to to_step (default: the highest step the journey names); NULL when not reached';
CREATE FUNCTION @extschema@.journey_merge(journey @extschema@.journey, delta @extschema@.journey)
    RETURNS @extschema@.journey AS 'MODULE_PATHNAME', 'journey_merge_compact'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_merge(@extschema@.journey, @extschema@.journey) IS 'The events of a journey and of a delta (journey type), each distinct event once in time order; a NULL argument is an empty journey';
CREATE FUNCTION @extschema@.journey_trim(journey @extschema@.journey, horizon timestamptz)
    RETURNS @extschema@.journey AS 'MODULE_PATHNAME', 'journey_trim_compact'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_trim(@extschema@.journey, timestamptz) IS 'The events of a journey (journey type) at or after the horizon';

CREATE FUNCTION @extschema@.funnel_summary_compact_sfunc(internal, interval, @extschema@.journey)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_compact_sfunc(internal, interval, @extschema@.journey) IS 'funnel_summary transition (stored journeys, journey type)';
CREATE FUNCTION @extschema@.funnel_summary_mode_compact_sfunc(internal, interval, text, @extschema@.journey)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_summary_mode_compact_sfunc(internal, interval, text, @extschema@.journey) IS 'funnel_summary transition (mode, stored journeys, journey type)';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, journey @extschema@.journey) (
    SFUNC = @extschema@.funnel_summary_compact_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_summary_rollup_final,
    COMBINEFUNC = @extschema@.funnel_summary_rollup_combine, SERIALFUNC = @extschema@.funnel_summary_rollup_serialize,
    DESERIALFUNC = @extschema@.funnel_summary_rollup_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, @extschema@.journey) IS 'Funnel summary of stored journeys (journey type), one row per entity (the funnel has as many steps as the highest step any journey names)';
CREATE AGGREGATE @extschema@.funnel_summary("window" interval, mode text, journey @extschema@.journey) (
    SFUNC = @extschema@.funnel_summary_mode_compact_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_summary_rollup_final,
    COMBINEFUNC = @extschema@.funnel_summary_rollup_combine, SERIALFUNC = @extschema@.funnel_summary_rollup_serialize,
    DESERIALFUNC = @extschema@.funnel_summary_rollup_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, text, @extschema@.journey) IS 'Funnel summary of stored journeys (journey type) with a mode and its options, one row per entity (the funnel has as many steps as the highest step any journey names)';
-- Citus: markov attribution from mergeable transition counts (doc/citus.md).
-- markov_transitions per entity on the shards, rollup(markov_transitions)
-- merged on the coordinator, markov_attribution(transitions) = the summary
-- of attribution('markov', ...).
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.markov_transitions;

-- in/out read and write the lookback interval: STABLE like interval_in/out
CREATE FUNCTION @extschema@.markov_transitions_in(cstring) RETURNS @extschema@.markov_transitions
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.markov_transitions_out(@extschema@.markov_transitions) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.markov_transitions_recv(internal) RETURNS @extschema@.markov_transitions
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.markov_transitions_send(@extschema@.markov_transitions) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.markov_transitions (
    INPUT = @extschema@.markov_transitions_in,
    OUTPUT = @extschema@.markov_transitions_out,
    RECEIVE = @extschema@.markov_transitions_recv,
    SEND = @extschema@.markov_transitions_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.markov_transitions IS 'Transition counts of the markov attribution chain (start, channels, conversion, null) with the journeys'' totals; counts of disjoint sets of entities add up (rollup); text form is JSON';
COMMENT ON FUNCTION @extschema@.markov_transitions_in(cstring) IS 'Text input of markov_transitions (the JSON form its output gives; validated)';
COMMENT ON FUNCTION @extschema@.markov_transitions_out(@extschema@.markov_transitions) IS 'Text output of markov_transitions as JSON (numbers that read back exactly)';
COMMENT ON FUNCTION @extschema@.markov_transitions_recv(internal) IS 'Binary input of markov_transitions (validated)';
COMMENT ON FUNCTION @extschema@.markov_transitions_send(@extschema@.markov_transitions) IS 'Binary output of markov_transitions';

CREATE FUNCTION @extschema@.markov_transitions_sfunc(internal, anyelement, timestamptz, text, numeric)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.markov_transitions_sfunc(internal, anyelement, timestamptz, text, numeric, interval)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION @extschema@.markov_transitions_final(internal) RETURNS @extschema@.markov_transitions
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transitions_sfunc(internal, anyelement, timestamptz, text, numeric) IS 'markov_transitions transition (default lookback of 30 days)';
COMMENT ON FUNCTION @extschema@.markov_transitions_sfunc(internal, anyelement, timestamptz, text, numeric, interval) IS 'markov_transitions transition';
COMMENT ON FUNCTION @extschema@.markov_transitions_final(internal) IS 'markov_transitions final function: the journeys'' transition counts';

CREATE AGGREGATE @extschema@.markov_transitions(entity anyelement, ts timestamptz, channel text,
                                               conversion_value numeric) (
    SFUNC = @extschema@.markov_transitions_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.markov_transitions_final,
    COMBINEFUNC = @extschema@.attribution_combine, SERIALFUNC = @extschema@.attribution_serialize,
    DESERIALFUNC = @extschema@.attribution_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.markov_transitions(entity anyelement, ts timestamptz, channel text,
                                               conversion_value numeric, lookback interval) (
    SFUNC = @extschema@.markov_transitions_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.markov_transitions_final,
    COMBINEFUNC = @extschema@.attribution_combine, SERIALFUNC = @extschema@.attribution_serialize,
    DESERIALFUNC = @extschema@.attribution_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.markov_transitions(anyelement, timestamptz, text, numeric) IS 'Transition counts of the journeys of attribution(''markov'', ...) (the same rows; lookback 30 days), to merge with rollup and read with markov_attribution';
COMMENT ON AGGREGATE @extschema@.markov_transitions(anyelement, timestamptz, text, numeric, interval) IS 'Transition counts of the journeys of attribution(''markov'', ...) with the touchpoints in the lookback before each conversion, to merge with rollup and read with markov_attribution';

CREATE FUNCTION @extschema@.markov_transitions_merge(@extschema@.markov_transitions, @extschema@.markov_transitions)
    RETURNS @extschema@.markov_transitions
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transitions_merge(@extschema@.markov_transitions, @extschema@.markov_transitions) IS 'The transition counts of the entities of both (disjoint sets of entities, one lookback; a NULL one is left out); the transition and combine function of rollup';

CREATE AGGREGATE @extschema@.rollup(transitions @extschema@.markov_transitions) (
    SFUNC = @extschema@.markov_transitions_merge, STYPE = @extschema@.markov_transitions,
    COMBINEFUNC = @extschema@.markov_transitions_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rollup(@extschema@.markov_transitions) IS 'The transition counts of the entities of all rows (each entity in one row), e.g. per-entity markov_transitions merged on a Citus coordinator';

CREATE FUNCTION @extschema@.markov_attribution(transitions @extschema@.markov_transitions)
    RETURNS @extschema@.attribution_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_attribution(@extschema@.markov_transitions) IS 'The markov attribution_summary (removal effects) of the chain the transition counts estimate: that of attribution(''markov'', ...) over the same rows';

-- ---------------------------------------------------------------------------
-- Citus: pipeline summaries of disjoint sets of deals merge (doc/citus.md).
-- pipeline_model per deal on the shards, rollup(pipeline_summary) on the
-- coordinator = pipeline_model over the whole table.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.pipeline_summary_merge(@extschema@.pipeline_summary, @extschema@.pipeline_summary)
    RETURNS @extschema@.pipeline_summary
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pipeline_summary_merge(@extschema@.pipeline_summary, @extschema@.pipeline_summary) IS 'The pipeline summary of the deals of both (disjoint sets of deals; open stays extended to the later last row; a NULL one is left out); the transition and combine function of rollup';

CREATE AGGREGATE @extschema@.rollup(summary @extschema@.pipeline_summary) (
    SFUNC = @extschema@.pipeline_summary_merge, STYPE = @extschema@.pipeline_summary,
    COMBINEFUNC = @extschema@.pipeline_summary_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rollup(@extschema@.pipeline_summary) IS 'The pipeline summary of the deals of all rows (each deal in one row), e.g. per-deal pipeline_model merged on a Citus coordinator; the same as pipeline_model over all their stage changes';

-- ---------------------------------------------------------------------------
-- Citus: the model fits' sufficient statistics merge (doc/citus.md).
-- bgnbd_fit and gamma_gamma_fit keep the distinct customer summaries with
-- their customers in a fit_stats (a concrete state: Citus adds the
-- workers' partial states on the coordinator); the fit is the same.
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.fit_stats;

CREATE FUNCTION @extschema@.fit_stats_in(cstring) RETURNS @extschema@.fit_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_out(@extschema@.fit_stats) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_recv(internal) RETURNS @extschema@.fit_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_send(@extschema@.fit_stats) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.fit_stats (
    INPUT = @extschema@.fit_stats_in,
    OUTPUT = @extschema@.fit_stats_out,
    RECEIVE = @extschema@.fit_stats_recv,
    SEND = @extschema@.fit_stats_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.fit_stats IS 'Sufficient statistics of a BG/NBD or Gamma-Gamma fit: the distinct customer summaries with their customers (the state of bgnbd_fit and gamma_gamma_fit); text form is JSON';
COMMENT ON FUNCTION @extschema@.fit_stats_in(cstring) IS 'Text input of fit_stats (the JSON form its output gives; validated)';
COMMENT ON FUNCTION @extschema@.fit_stats_out(@extschema@.fit_stats) IS 'Text output of fit_stats as JSON (numbers that read back exactly)';
COMMENT ON FUNCTION @extschema@.fit_stats_recv(internal) IS 'Binary input of fit_stats (validated)';
COMMENT ON FUNCTION @extschema@.fit_stats_send(@extschema@.fit_stats) IS 'Binary output of fit_stats';

CREATE FUNCTION @extschema@.fit_stats_bgnbd_sfunc(@extschema@.fit_stats, double precision, double precision, double precision)
    RETURNS @extschema@.fit_stats AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_gamma_gamma_sfunc(@extschema@.fit_stats, double precision, double precision)
    RETURNS @extschema@.fit_stats AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_merge(@extschema@.fit_stats, @extschema@.fit_stats)
    RETURNS @extschema@.fit_stats AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_bgnbd_final(@extschema@.fit_stats) RETURNS @extschema@.bgnbd_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fit_stats_gamma_gamma_final(@extschema@.fit_stats) RETURNS @extschema@.gamma_gamma_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fit_stats_bgnbd_sfunc(@extschema@.fit_stats, double precision, double precision, double precision) IS 'bgnbd_fit transition: counts one customer''s (frequency, recency, t)';
COMMENT ON FUNCTION @extschema@.fit_stats_gamma_gamma_sfunc(@extschema@.fit_stats, double precision, double precision) IS 'gamma_gamma_fit transition: counts one repeat customer''s (frequency, monetary_value)';
COMMENT ON FUNCTION @extschema@.fit_stats_merge(@extschema@.fit_stats, @extschema@.fit_stats) IS 'The fit statistics of the customers of both (disjoint sets of customers, one model; a NULL one is left out); the combine function of bgnbd_fit and gamma_gamma_fit';
COMMENT ON FUNCTION @extschema@.fit_stats_bgnbd_final(@extschema@.fit_stats) IS 'bgnbd_fit final function: maximum-likelihood fit of the counted customers';
COMMENT ON FUNCTION @extschema@.fit_stats_gamma_gamma_final(@extschema@.fit_stats) IS 'gamma_gamma_fit final function: maximum-likelihood fit of the counted customers';

CREATE AGGREGATE @extschema@.bgnbd_fit(frequency double precision, recency double precision, t double precision) (
    SFUNC = @extschema@.fit_stats_bgnbd_sfunc, STYPE = @extschema@.fit_stats,
    FINALFUNC = @extschema@.fit_stats_bgnbd_final, COMBINEFUNC = @extschema@.fit_stats_merge,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(double precision, double precision, double precision) IS 'Maximum-likelihood BG/NBD purchase model of a group of customer summaries (rows with a NULL are skipped; an error when the fit is impossible or does not converge)';

CREATE AGGREGATE @extschema@.gamma_gamma_fit(frequency double precision, monetary_value double precision) (
    SFUNC = @extschema@.fit_stats_gamma_gamma_sfunc, STYPE = @extschema@.fit_stats,
    FINALFUNC = @extschema@.fit_stats_gamma_gamma_final, COMBINEFUNC = @extschema@.fit_stats_merge,
    FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.gamma_gamma_fit(double precision, double precision) IS 'Maximum-likelihood Gamma-Gamma spend model of the customers with frequency > 0 (others are skipped)';

-- ---------------------------------------------------------------------------
-- Citus: cohort counts that merge (doc/citus.md).  cohort_counts per
-- entity on the shards, rollup(cohort_counts) on the coordinator,
-- cohort_matrix(activity) = cohort_retention over the whole table.
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.cohort_counts;

-- in/out read and write dates: STABLE like date_in/out
CREATE FUNCTION @extschema@.cohort_counts_in(cstring) RETURNS @extschema@.cohort_counts
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cohort_counts_out(@extschema@.cohort_counts) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cohort_counts_recv(internal) RETURNS @extschema@.cohort_counts
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cohort_counts_send(@extschema@.cohort_counts) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.cohort_counts (
    INPUT = @extschema@.cohort_counts_in,
    OUTPUT = @extschema@.cohort_counts_out,
    RECEIVE = @extschema@.cohort_counts_recv,
    SEND = @extschema@.cohort_counts_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.cohort_counts IS 'Cohort counts of cohort_retention (period unit, number of periods, last period with an event, active entities by cohort and period); counts of disjoint sets of entities add up (rollup); text form is JSON';
COMMENT ON FUNCTION @extschema@.cohort_counts_in(cstring) IS 'Text input of cohort_counts (the JSON form its output gives; validated)';
COMMENT ON FUNCTION @extschema@.cohort_counts_out(@extschema@.cohort_counts) IS 'Text output of cohort_counts as JSON';
COMMENT ON FUNCTION @extschema@.cohort_counts_recv(internal) IS 'Binary input of cohort_counts (validated)';
COMMENT ON FUNCTION @extschema@.cohort_counts_send(@extschema@.cohort_counts) IS 'Binary output of cohort_counts';

CREATE FUNCTION @extschema@.cohort_counts_final(internal) RETURNS @extschema@.cohort_counts
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cohort_counts_final(internal) IS 'cohort_counts final function: the cohorts'' counts';

CREATE AGGREGATE @extschema@.cohort_counts(entity anyelement, ts timestamptz) (
    SFUNC = @extschema@.cohort_retention_sfunc, STYPE = internal, FINALFUNC = @extschema@.cohort_counts_final,
    COMBINEFUNC = @extschema@.cohort_retention_combine, SERIALFUNC = @extschema@.cohort_retention_serialize,
    DESERIALFUNC = @extschema@.cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.cohort_counts(entity anyelement, ts timestamptz, period text) (
    SFUNC = @extschema@.cohort_retention_sfunc, STYPE = internal, FINALFUNC = @extschema@.cohort_counts_final,
    COMBINEFUNC = @extschema@.cohort_retention_combine, SERIALFUNC = @extschema@.cohort_retention_serialize,
    DESERIALFUNC = @extschema@.cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.cohort_counts(entity anyelement, ts timestamptz, period text, periods integer) (
    SFUNC = @extschema@.cohort_retention_sfunc, STYPE = internal, FINALFUNC = @extschema@.cohort_counts_final,
    COMBINEFUNC = @extschema@.cohort_retention_combine, SERIALFUNC = @extschema@.cohort_retention_serialize,
    DESERIALFUNC = @extschema@.cohort_retention_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.cohort_counts(anyelement, timestamptz) IS 'Cohort counts of cohort_retention (monthly cohorts, 12 periods), to merge with rollup and read with cohort_matrix';
COMMENT ON AGGREGATE @extschema@.cohort_counts(anyelement, timestamptz, text) IS 'Cohort counts of cohort_retention by calendar period (12 periods), to merge with rollup and read with cohort_matrix';
COMMENT ON AGGREGATE @extschema@.cohort_counts(anyelement, timestamptz, text, integer) IS 'Cohort counts of cohort_retention by calendar period and number of periods, to merge with rollup and read with cohort_matrix';

CREATE FUNCTION @extschema@.cohort_counts_merge(@extschema@.cohort_counts, @extschema@.cohort_counts)
    RETURNS @extschema@.cohort_counts
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cohort_counts_merge(@extschema@.cohort_counts, @extschema@.cohort_counts) IS 'The cohort counts of the entities of both (disjoint sets of entities, one period unit and number of periods; a NULL one is left out); the transition and combine function of rollup';

CREATE AGGREGATE @extschema@.rollup(counts @extschema@.cohort_counts) (
    SFUNC = @extschema@.cohort_counts_merge, STYPE = @extschema@.cohort_counts,
    COMBINEFUNC = @extschema@.cohort_counts_merge, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.rollup(@extschema@.cohort_counts) IS 'The cohort counts of the entities of all rows (each entity in one row), e.g. per-entity cohort_counts merged on a Citus coordinator';

CREATE FUNCTION @extschema@.cohort_matrix(counts @extschema@.cohort_counts) RETURNS @extschema@.cohort_matrix
    AS 'MODULE_PATHNAME', 'cohort_counts_matrix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cohort_matrix(@extschema@.cohort_counts) IS 'The cohort_matrix of the counts: that of cohort_retention over the same rows';

-- ---------------------------------------------------------------------------
-- Product funnels (doc/product_funnels.md): breakdown attribution.  The
-- funnel per value of a breakdown column, each entity's value taken from one
-- place ("breakdown first_touch | last_touch | step K | all_events" in the
-- mode); funnel_breakdown_report gives the top N values and the rest.
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.funnel_breakdown_bools_sfunc(internal, interval, text, anyelement, text, timestamptz, VARIADIC boolean[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_bools_sfunc(internal, interval, text, anyelement, text, timestamptz, boolean[]) IS 'funnel_breakdown transition (conditions)';
CREATE FUNCTION @extschema@.funnel_breakdown_names_sfunc(internal, interval, text, anyelement, text, timestamptz, text, text[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_names_sfunc(internal, interval, text, anyelement, text, timestamptz, text, text[]) IS 'funnel_breakdown transition (event names)';
CREATE FUNCTION @extschema@.funnel_breakdown_event_sfunc(internal, interval, text, anyelement, text, @extschema@.funnel_event)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_event_sfunc(internal, interval, text, anyelement, text, @extschema@.funnel_event) IS 'funnel_breakdown transition (funnel_event)';
CREATE FUNCTION @extschema@.funnel_breakdown_combine(internal, internal)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_combine(internal, internal) IS 'funnel_breakdown combine: appends the second state''s rows, its values renumbered into the first''s';
CREATE FUNCTION @extschema@.funnel_breakdown_serialize(internal)
    RETURNS bytea AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_serialize(internal) IS 'funnel_breakdown serialisation';
CREATE FUNCTION @extschema@.funnel_breakdown_deserialize(bytea, internal)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_deserialize(bytea, internal) IS 'funnel_breakdown deserialisation (every field checked)';
CREATE FUNCTION @extschema@.funnel_breakdown_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'funnel_breakdown_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_final(internal) IS 'Final function of funnel_breakdown: per value, the entities that reached each step (jsonb)';
CREATE AGGREGATE @extschema@.funnel_breakdown("window" interval, mode text, entity anyelement, breakdown text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.funnel_breakdown_bools_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_breakdown_final,
    COMBINEFUNC = @extschema@.funnel_breakdown_combine, SERIALFUNC = @extschema@.funnel_breakdown_serialize,
    DESERIALFUNC = @extschema@.funnel_breakdown_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_breakdown(interval, text, anyelement, text, timestamptz, boolean[]) IS 'The funnel per breakdown value, each entity''s value taken as the mode''s attribution says (first_touch by default; mode, entity, breakdown value, conditions); read with funnel_breakdown_report';
CREATE AGGREGATE @extschema@.funnel_breakdown("window" interval, mode text, entity anyelement, breakdown text, ts timestamptz, event text, steps text[]) (
    SFUNC = @extschema@.funnel_breakdown_names_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_breakdown_final,
    COMBINEFUNC = @extschema@.funnel_breakdown_combine, SERIALFUNC = @extschema@.funnel_breakdown_serialize,
    DESERIALFUNC = @extschema@.funnel_breakdown_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_breakdown(interval, text, anyelement, text, timestamptz, text, text[]) IS 'The funnel per breakdown value (mode, entity, breakdown value, event names); read with funnel_breakdown_report';
CREATE AGGREGATE @extschema@.funnel_breakdown("window" interval, mode text, entity anyelement, breakdown text, event @extschema@.funnel_event) (
    SFUNC = @extschema@.funnel_breakdown_event_sfunc, STYPE = internal, SSPACE = 2048, FINALFUNC = @extschema@.funnel_breakdown_final,
    COMBINEFUNC = @extschema@.funnel_breakdown_combine, SERIALFUNC = @extschema@.funnel_breakdown_serialize,
    DESERIALFUNC = @extschema@.funnel_breakdown_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_breakdown(interval, text, anyelement, text, @extschema@.funnel_event) IS 'The funnel per breakdown value (mode, entity, breakdown value, funnel_event); read with funnel_breakdown_report';

CREATE FUNCTION @extschema@.funnel_breakdown_report(breakdown jsonb, top_n integer DEFAULT NULL)
    RETURNS TABLE (rank integer, value text, is_other boolean, step integer, entities bigint,
                   conversion_from_previous double precision, conversion_from_start double precision)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF top_n < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('number of breakdown values to show must not be negative (%s given)', top_n);
    END IF;
    RETURN QUERY
    WITH v AS (
        SELECT e.i, e.v OPERATOR(pg_catalog.->>) 'value' AS val, e.v OPERATOR(pg_catalog.->) 'entities' AS c,
               (top_n IS NOT NULL AND e.i OPERATOR(pg_catalog.>) top_n) AS other
          FROM pg_catalog.jsonb_array_elements(breakdown OPERATOR(pg_catalog.->) 'values') WITH ORDINALITY AS e(v, i)),
    t AS (
        SELECT CASE WHEN v.other THEN top_n OPERATOR(pg_catalog.+) 1 ELSE v.i END AS r,
               CASE WHEN v.other THEN NULL ELSE v.val END AS val, v.other,
               n.k, pg_catalog.sum(n.x::bigint)::bigint AS x
          FROM v, pg_catalog.jsonb_array_elements_text(v.c) WITH ORDINALITY AS n(x, k)
         GROUP BY 1, 2, 3, 4)
    SELECT t.r::integer, t.val, t.other, t.k::integer, t.x,
           CASE WHEN t.k OPERATOR(pg_catalog.=) 1 THEN CASE WHEN t.x OPERATOR(pg_catalog.>) 0 THEN 1.0::float8 END
                ELSE t.x::float8 OPERATOR(pg_catalog./)
                     NULLIF(pg_catalog.lag(t.x) OVER w, 0)::float8 END,
           t.x::float8 OPERATOR(pg_catalog./) NULLIF(pg_catalog.first_value(t.x) OVER w, 0)::float8
      FROM t
    WINDOW w AS (PARTITION BY t.r ORDER BY t.k)
     ORDER BY t.r, t.k;
END
$$;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_report(jsonb, integer) IS 'One row per breakdown value and step of a funnel_breakdown result, values ranked by the last step''s count: the top_n values (all when NULL), then the rest summed in one row with is_other true; entities, conversion from the step before and from step 1';

-- ---------------------------------------------------------------------------
-- funnel_trends over stored journeys (doc/product_funnels.md, "Conversion
-- trends by entry period"): one row per entity, each journey walked in the
-- transition into per-period counts that combine in parallel plans
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.funnel_trends_journey_sfunc(internal, interval, text, @extschema@.funnel_event[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_journey_sfunc(internal, interval, text, @extschema@.funnel_event[]) IS 'funnel_trends transition (stored journeys)';
CREATE FUNCTION @extschema@.funnel_trends_compact_sfunc(internal, interval, text, @extschema@.journey)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_compact_sfunc(internal, interval, text, @extschema@.journey) IS 'funnel_trends transition (stored journeys, journey type)';
CREATE FUNCTION @extschema@.funnel_trends_journey_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_journey_combine(internal, internal) IS 'funnel_trends over stored journeys: combine function';
CREATE FUNCTION @extschema@.funnel_trends_journey_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_journey_serialize(internal) IS 'funnel_trends over stored journeys: state serialisation';
CREATE FUNCTION @extschema@.funnel_trends_journey_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_journey_deserialize(bytea, internal) IS 'funnel_trends over stored journeys: state deserialisation (validates its input)';
CREATE FUNCTION @extschema@.funnel_trends_journey_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_trends_journey_final(internal) IS 'funnel_trends over stored journeys: final function (per entry period, entities that entered and converted)';
CREATE AGGREGATE @extschema@.funnel_trends("window" interval, mode text, journey @extschema@.funnel_event[]) (
    SFUNC = @extschema@.funnel_trends_journey_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_trends_journey_final,
    COMBINEFUNC = @extschema@.funnel_trends_journey_combine, SERIALFUNC = @extschema@.funnel_trends_journey_serialize,
    DESERIALFUNC = @extschema@.funnel_trends_journey_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_trends(interval, text, @extschema@.funnel_event[]) IS 'Conversion by entry period of stored journeys, one row per entity (the last step is the highest step any journey names); read with funnel_trend_report';
CREATE AGGREGATE @extschema@.funnel_trends("window" interval, mode text, journey @extschema@.journey) (
    SFUNC = @extschema@.funnel_trends_compact_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_trends_journey_final,
    COMBINEFUNC = @extschema@.funnel_trends_journey_combine, SERIALFUNC = @extschema@.funnel_trends_journey_serialize,
    DESERIALFUNC = @extschema@.funnel_trends_journey_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_trends(interval, text, @extschema@.journey) IS 'Conversion by entry period of stored journeys (journey type), one row per entity; read with funnel_trend_report';

-- ---------------------------------------------------------------------------
-- funnel_breakdown over stored journeys (doc/journeys.md, "Breakdowns"): each
-- row a journey with the value it counts under, given beside it
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.funnel_breakdown_journey_sfunc(internal, interval, text, text, @extschema@.funnel_event[])
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_journey_sfunc(internal, interval, text, text, @extschema@.funnel_event[]) IS 'funnel_breakdown transition (stored journeys with a given value)';
CREATE FUNCTION @extschema@.funnel_breakdown_compact_sfunc(internal, interval, text, text, @extschema@.journey)
    RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_compact_sfunc(internal, interval, text, text, @extschema@.journey) IS 'funnel_breakdown transition (stored journeys of the journey type with a given value)';
CREATE FUNCTION @extschema@.funnel_breakdown_journey_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_journey_combine(internal, internal) IS 'funnel_breakdown over stored journeys: combine function';
CREATE FUNCTION @extschema@.funnel_breakdown_journey_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_journey_serialize(internal) IS 'funnel_breakdown over stored journeys: state serialisation';
CREATE FUNCTION @extschema@.funnel_breakdown_journey_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_breakdown_journey_deserialize(bytea, internal) IS 'funnel_breakdown over stored journeys: state deserialisation (validates its input)';
CREATE AGGREGATE @extschema@.funnel_breakdown("window" interval, mode text, breakdown text, journey @extschema@.funnel_event[]) (
    SFUNC = @extschema@.funnel_breakdown_journey_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_breakdown_final,
    COMBINEFUNC = @extschema@.funnel_breakdown_journey_combine, SERIALFUNC = @extschema@.funnel_breakdown_journey_serialize,
    DESERIALFUNC = @extschema@.funnel_breakdown_journey_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_breakdown(interval, text, text, @extschema@.funnel_event[]) IS 'Funnel by breakdown value of stored journeys: each row a journey counted at its level under the value given beside it (no attribution: a journey keeps no value per row); read with funnel_breakdown_report';
CREATE AGGREGATE @extschema@.funnel_breakdown("window" interval, mode text, breakdown text, journey @extschema@.journey) (
    SFUNC = @extschema@.funnel_breakdown_compact_sfunc, STYPE = internal,
    FINALFUNC = @extschema@.funnel_breakdown_final,
    COMBINEFUNC = @extschema@.funnel_breakdown_journey_combine, SERIALFUNC = @extschema@.funnel_breakdown_journey_serialize,
    DESERIALFUNC = @extschema@.funnel_breakdown_journey_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.funnel_breakdown(interval, text, text, @extschema@.journey) IS 'Funnel by breakdown value of stored journeys (journey type), each counted under the value given beside it; read with funnel_breakdown_report';
