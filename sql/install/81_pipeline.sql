
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

COMMENT ON TYPE pipeline_summary IS 'Result of pipeline_model: stages, stage-to-stage transition counts, time in each stage, entries and open deals; text form is JSON';
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
COMMENT ON AGGREGATE pipeline_model(anyelement, timestamptz, text, text[]) IS 'Stage-to-stage transition probabilities and mean time in each stage of a CRM stage history (one row per stage change of a deal); terminal names the stages that end a deal';

CREATE FUNCTION pipeline_report(model pipeline_summary)
    RETURNS TABLE (stage text, next_stage text, deals bigint, probability double precision,
                   mean_days_in_stage double precision)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION pipeline_report(pipeline_summary) IS 'One row per observed stage transition: deals, probability among the transitions out of the stage, mean days in the stage';

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
