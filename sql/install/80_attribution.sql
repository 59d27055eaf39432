
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
