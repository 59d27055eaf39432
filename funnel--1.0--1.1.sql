-- funnel extension: upgrade from 1.0 to 1.1 (ALTER EXTENSION funnel UPDATE).
--
-- Every object new or changed in 1.1 is created or replaced here, and the
-- same change is made in funnel--1.1.sql; test/upgrade.sh checks that both
-- give the same objects.  Static SQL only, every SQL or PL/pgSQL function
-- with SET search_path = pg_catalog, pg_temp (doc/security.md).

\echo Use "ALTER EXTENSION funnel UPDATE TO '1.1'" to load this file. \quit

-- The benchmark's no-op aggregate support leaves users' databases: bench/
-- builds its own module (bench/noop/).
DROP FUNCTION @extschema@.funnel_noop_final(internal);
DROP FUNCTION @extschema@.funnel_noop_sfunc(internal, VARIADIC "any");

-- ---------------------------------------------------------------------------
-- pipeline: stages entered at one time in the caller's pipeline order
-- (pipeline_model with a pipeline order); pipeline_report counts transitions
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

COMMENT ON AGGREGATE @extschema@.pipeline_model(anyelement, timestamptz, text, text[]) IS 'Stage-to-stage transition probabilities and mean time in each stage of a CRM stage history (one row per stage change of a deal); terminal names the stages that end a deal; stages a deal entered at one time: its current stage first, then open stages by name, terminal stages last (pass pipeline_order to order the open stages)';

DROP FUNCTION @extschema@.pipeline_report(pipeline_summary);
CREATE FUNCTION @extschema@.pipeline_report(model @extschema@.pipeline_summary)
    RETURNS TABLE (stage text, next_stage text, transitions bigint, probability double precision,
                   mean_days_in_stage double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.pipeline_report(@extschema@.pipeline_summary) IS 'One row per observed stage transition: how many times deals made it (a deal that makes it twice counts twice), probability among the transitions out of the stage, mean days in the stage (open stays counted up to the model''s last row)';

-- ---------------------------------------------------------------------------
-- sBG: the discounted expected residual lifetime as Fader & Hardie define it
-- ---------------------------------------------------------------------------

COMMENT ON FUNCTION @extschema@.sbg_expected_remaining_lifetime(@extschema@.sbg_model, integer, double precision) IS 'sBG discounted expected residual lifetime (Fader & Hardie 2010 DERL) of a customer who has made periods_survived renewals: sum over the further periods k >= 1 of the chance to be active in it over (1 + discount_rate)^(k - 1); Infinity when undiscounted and alpha <= 1';
