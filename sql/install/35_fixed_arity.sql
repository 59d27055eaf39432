
-- ---------------------------------------------------------------------------
-- Fixed-arity overloads for 1..8 boolean conditions.  A call with separate
-- conditions resolves to these rather than to the VARIADIC form, which
-- spares PostgreSQL building a boolean[] for every row.  Same C transition
-- functions, same states, same results.
-- SSPACE 200 (per-group states) lets the planner hash-aggregate many groups.
-- ---------------------------------------------------------------------------

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
              -- aggregate, C transition, extra argument types, extra named arguments,
              -- final function, prefix of the combine/serial/deserial functions, comment
              ('window_funnel', 'window_funnel_bools_sfunc', '', '', 'window_funnel_final', 'window_funnel', 'Funnel level of a group (ClickHouse windowFunnel)'),
              ('window_funnel', 'window_funnel_mode_bools_sfunc', 'text, ', 'mode text, ', 'window_funnel_final', 'window_funnel', 'Funnel level of a group, with a mode'),
              ('time_to_convert', 'time_to_convert_bools_sfunc', '', '', 'time_to_convert_final', 'window_funnel', 'Time from step 1 to the last step on the completing chain; NULL when not reached'),
              ('time_to_convert', 'time_to_convert_mode_bools_sfunc', 'text, ', 'mode text, ', 'time_to_convert_final', 'window_funnel', 'Time to convert, with a mode'),
              ('time_to_convert', 'time_to_convert_target_bools_sfunc', 'text, integer, ', 'mode text, to_step integer, ', 'time_to_convert_final', 'window_funnel', 'Time from step 1 to to_step, with a mode'),
              ('funnel_stage_counts', 'funnel_entities_bools_sfunc', 'anyelement, ', 'entity anyelement, ', 'funnel_stage_counts_final', 'funnel_entities', 'Entities at each stage (element k: level >= k)'),
              ('funnel_stage_counts', 'funnel_entities_mode_bools_sfunc', 'text, anyelement, ', 'mode text, entity anyelement, ', 'funnel_stage_counts_final', 'funnel_entities', 'Entities at each stage, with a mode'),
              ('funnel_conversion', 'funnel_entities_bools_sfunc', 'anyelement, ', 'entity anyelement, ', 'funnel_conversion_final', 'funnel_entities', 'Conversion between stages'),
              ('funnel_conversion', 'funnel_entities_mode_bools_sfunc', 'text, anyelement, ', 'mode text, entity anyelement, ', 'funnel_conversion_final', 'funnel_entities', 'Conversion between stages, with a mode')
            ) AS v(agg, csym, extra, extra_named, final, statefns, descr)
        LOOP
            -- one SQL transition function per arity, sharing the C symbol
            -- (funnel_conversion shares funnel_stage_counts' transition)
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                            WHERE proname = f.csym || '_' || n
                              AND pronamespace = '@extschema@'::regnamespace) THEN
                EXECUTE format('CREATE FUNCTION @extschema@.%I(internal, interval, %stimestamptz, %s) RETURNS internal
                                AS %L, %L LANGUAGE C PARALLEL SAFE',
                               f.csym || '_' || n, f.extra, bools, 'MODULE_PATHNAME', f.csym);
                EXECUTE format('COMMENT ON FUNCTION @extschema@.%I(internal, interval, %stimestamptz, %s) IS %L',
                               f.csym || '_' || n, f.extra, bools,
                               format('Transition function of %s with %s separate conditions', f.agg, n));
            END IF;
            EXECUTE format('CREATE AGGREGATE @extschema@.%I("window" interval, %sts timestamptz, %s) (
                              SFUNC = @extschema@.%I, STYPE = internal, SSPACE = %s, FINALFUNC = @extschema@.%I,
                              COMBINEFUNC = @extschema@.%I, SERIALFUNC = @extschema@.%I,
                              DESERIALFUNC = @extschema@.%I, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE)',
                           f.agg, f.extra_named, named, f.csym || '_' || n,
                           CASE WHEN f.statefns = 'window_funnel' THEN 200 ELSE 2048 END, f.final,
                           f.statefns || '_combine', f.statefns || '_serialize', f.statefns || '_deserialize');
            EXECUTE format('COMMENT ON AGGREGATE @extschema@.%I(interval, %stimestamptz, %s) IS %L',
                           f.agg, f.extra, bools, f.descr || format(' (%s conditions)', n));
        END LOOP;
    END LOOP;
END
$fixed$;
