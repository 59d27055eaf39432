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

CREATE FUNCTION funnel_summary_rollup_sfunc(internal, funnel_summary) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION funnel_summary_rollup_final(internal) RETURNS funnel_summary
    AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION funnel_summary_rollup_sfunc(internal, funnel_summary) IS 'rollup(funnel_summary) transition';
COMMENT ON FUNCTION funnel_summary_rollup_combine(internal, internal) IS 'rollup(funnel_summary) combine function';
COMMENT ON FUNCTION funnel_summary_rollup_serialize(internal) IS 'rollup(funnel_summary) state serialisation';
COMMENT ON FUNCTION funnel_summary_rollup_deserialize(bytea, internal) IS 'rollup(funnel_summary) state deserialisation (validates its input)';
COMMENT ON FUNCTION funnel_summary_rollup_final(internal) IS 'rollup(funnel_summary) final function';

CREATE AGGREGATE rollup(summary funnel_summary) (
    SFUNC = funnel_summary_rollup_sfunc, STYPE = internal, FINALFUNC = funnel_summary_rollup_final,
    COMBINEFUNC = funnel_summary_rollup_combine, SERIALFUNC = funnel_summary_rollup_serialize,
    DESERIALFUNC = funnel_summary_rollup_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE rollup(funnel_summary) IS 'Merges funnel summaries of disjoint sets of entities (e.g. daily cohorts into a month); summaries of different funnels are an error';

-- accessors
CREATE FUNCTION funnel_stage_counts(summary funnel_summary) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'funnel_summary_stage_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION funnel_stage_counts(funnel_summary) IS 'Entities at each stage of a funnel summary: element k counts the entities that reached step k';

CREATE FUNCTION funnel_conversion(summary funnel_summary) RETURNS double precision[]
    AS $$ SELECT @extschema@.funnel_conversion(@extschema@.funnel_stage_counts($1)) $$
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
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
DO $fixed$
DECLARE
    n int;
    bools text;
    named text;
    f record;
BEGIN
    FOR n IN 1..8 LOOP
        SELECT string_agg('boolean', ', '), string_agg(format('step%s boolean', i), ', ')
          INTO bools, named FROM generate_series(1, n) i;
        FOR f IN
            SELECT * FROM (VALUES
              ('funnel_summary_bools_sfunc', 'anyelement, ', 'entity anyelement, ', ''),
              ('funnel_summary_mode_bools_sfunc', 'text, anyelement, ', 'mode text, entity anyelement, ', ', with a mode')
            ) AS v(csym, extra, extra_named, descr)
        LOOP
            EXECUTE format('CREATE FUNCTION @extschema@.%I(internal, interval, %stimestamptz, %s) RETURNS internal
                            AS %L, %L LANGUAGE C PARALLEL SAFE',
                           f.csym || '_' || n, f.extra, bools, 'MODULE_PATHNAME', f.csym);
            EXECUTE format('COMMENT ON FUNCTION @extschema@.%I(internal, interval, %stimestamptz, %s) IS %L',
                           f.csym || '_' || n, f.extra, bools,
                           format('Transition function of funnel_summary with %s separate conditions', n));
            EXECUTE format('CREATE AGGREGATE @extschema@.funnel_summary("window" interval, %sts timestamptz, %s) (
                              SFUNC = @extschema@.%I, STYPE = internal, SSPACE = 2048,
                              FINALFUNC = @extschema@.funnel_summary_final,
                              COMBINEFUNC = @extschema@.funnel_entities_combine,
                              SERIALFUNC = @extschema@.funnel_entities_serialize,
                              DESERIALFUNC = @extschema@.funnel_entities_deserialize,
                              FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE)',
                           f.extra_named, named, f.csym || '_' || n);
            EXECUTE format('COMMENT ON AGGREGATE @extschema@.funnel_summary(interval, %stimestamptz, %s) IS %L',
                           f.extra, bools,
                           format('Funnel summary of distinct entities: per step, the entities that reached it and their times from step 1%s (%s conditions)', f.descr, n));
        END LOOP;
    END LOOP;
END
$fixed$;
