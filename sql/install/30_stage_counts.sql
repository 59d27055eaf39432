
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

-- from per-entity levels computed elsewhere
CREATE FUNCTION funnel_levels_sfunc(internal, integer, integer) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_levels_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_levels_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_levels_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_levels_counts_final(internal) RETURNS bigint[]
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_levels_conversion_final(internal) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_levels_sfunc(internal, integer, integer) IS 'Level histogram transition';
COMMENT ON FUNCTION funnel_levels_combine(internal, internal) IS 'Level histogram combine function';
COMMENT ON FUNCTION funnel_levels_serialize(internal) IS 'Level histogram serialisation';
COMMENT ON FUNCTION funnel_levels_deserialize(bytea, internal) IS 'Level histogram deserialisation (validates its input)';
COMMENT ON FUNCTION funnel_levels_counts_final(internal) IS 'Cumulative stage counts from a level histogram';
COMMENT ON FUNCTION funnel_levels_conversion_final(internal) IS 'Conversion from a level histogram';

CREATE AGGREGATE funnel_stage_counts(level integer, steps integer) (
    SFUNC = funnel_levels_sfunc, STYPE = internal, FINALFUNC = funnel_levels_counts_final,
    COMBINEFUNC = funnel_levels_combine, SERIALFUNC = funnel_levels_serialize,
    DESERIALFUNC = funnel_levels_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_stage_counts(integer, integer) IS 'Entities at each stage from per-entity levels (0..steps): element k counts levels >= k';

CREATE AGGREGATE funnel_conversion(level integer, steps integer) (
    SFUNC = funnel_levels_sfunc, STYPE = internal, FINALFUNC = funnel_levels_conversion_final,
    COMBINEFUNC = funnel_levels_combine, SERIALFUNC = funnel_levels_serialize,
    DESERIALFUNC = funnel_levels_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE funnel_conversion(integer, integer) IS 'Conversion between stages from per-entity levels';

CREATE FUNCTION funnel_conversion(stage_counts bigint[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'funnel_conversion_from_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_conversion(bigint[]) IS 'Conversion between stages from cumulative stage counts';
