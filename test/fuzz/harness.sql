-- Test-only objects of the fuzzer (test/fuzz.sh), created by a superuser in
-- the fuzzer's own database after the plain role installed the extension.
-- :harness is the absolute path of the test-only module (funnel_fuzz.c).
CREATE SCHEMA fuzz;
GRANT USAGE ON SCHEMA fuzz TO PUBLIC;

CREATE FUNCTION fuzz.check_state_sfunc(internal, regprocedure, bytea) RETURNS internal
    AS :'harness', 'fuzz_check_state_sfunc' LANGUAGE C;
CREATE FUNCTION fuzz.check_state_final(internal) RETURNS text
    AS :'harness', 'fuzz_check_state_final' LANGUAGE C;
-- deserialise the bytes with the aggregate's deserialise function and check
-- the state (funnel_fuzz.c); returns the final function's output
CREATE AGGREGATE fuzz.check_state(agg regprocedure, state bytea) (
    SFUNC = fuzz.check_state_sfunc, STYPE = internal, FINALFUNC = fuzz.check_state_final);

CREATE FUNCTION fuzz.capture_final(internal) RETURNS bytea
    AS :'harness', 'fuzz_capture_final' LANGUAGE C;

-- a broken round trip or invariant found from SQL
CREATE FUNCTION fuzz.fail(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fuzz invariant: %', what USING ERRCODE = 'FZ002';
END $$;

-- Capture aggregates: a target's transition function with a final function
-- that returns the serialised state (valid states for the fuzzer to mutate).
-- funnel_stage_counts(level, steps) and rollup(funnel_summary) have no
-- serialised state since 1.1 (bigint[] and funnel_summary states, checked by
-- test/distributed_states.sql); the summary accumulator's deserialiser is
-- fuzzed through funnel_summary over journeys.
CREATE AGGREGATE fuzz.cap_window_funnel(interval, text, timestamptz, VARIADIC boolean[]) (
    SFUNC = window_funnel_mode_bools_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize);
CREATE AGGREGATE fuzz.cap_time_to_convert(interval, text, integer, timestamptz, VARIADIC boolean[]) (
    SFUNC = time_to_convert_target_bools_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize);
CREATE AGGREGATE fuzz.cap_window_funnel_names(interval, timestamptz, text, text[]) (
    SFUNC = window_funnel_names_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = window_funnel_combine, SERIALFUNC = window_funnel_serialize,
    DESERIALFUNC = window_funnel_deserialize);
CREATE AGGREGATE fuzz.cap_funnel_entities(interval, text, anyelement, timestamptz, VARIADIC boolean[]) (
    SFUNC = funnel_entities_mode_bools_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize);
CREATE AGGREGATE fuzz.cap_funnel_summary(interval, text, anyelement, timestamptz, VARIADIC boolean[]) (
    SFUNC = funnel_summary_mode_bools_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_entities_combine, SERIALFUNC = funnel_entities_serialize,
    DESERIALFUNC = funnel_entities_deserialize);
CREATE AGGREGATE fuzz.cap_funnel_breakdown(interval, text, anyelement, text, timestamptz, VARIADIC boolean[]) (
    SFUNC = funnel_breakdown_bools_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_breakdown_combine, SERIALFUNC = funnel_breakdown_serialize,
    DESERIALFUNC = funnel_breakdown_deserialize);
CREATE AGGREGATE fuzz.cap_journey_agg(funnel_event) (
    SFUNC = journey_agg_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = journey_agg_combine, SERIALFUNC = journey_agg_serialize,
    DESERIALFUNC = journey_agg_deserialize);
CREATE AGGREGATE fuzz.cap_journey_summary(interval, text, funnel_event[]) (
    SFUNC = funnel_summary_mode_journey_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_summary_rollup_combine, SERIALFUNC = funnel_summary_rollup_serialize,
    DESERIALFUNC = funnel_summary_rollup_deserialize);
CREATE AGGREGATE fuzz.cap_journey_trends(interval, text, funnel_event[]) (
    SFUNC = funnel_trends_journey_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_trends_journey_combine, SERIALFUNC = funnel_trends_journey_serialize,
    DESERIALFUNC = funnel_trends_journey_deserialize);
CREATE AGGREGATE fuzz.cap_journey_breakdown(interval, text, text, funnel_event[]) (
    SFUNC = funnel_breakdown_journey_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_breakdown_journey_combine, SERIALFUNC = funnel_breakdown_journey_serialize,
    DESERIALFUNC = funnel_breakdown_journey_deserialize);
CREATE AGGREGATE fuzz.cap_customer_rfm(timestamptz, numeric, timestamptz, interval) (
    SFUNC = customer_rfm_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = customer_rfm_combine, SERIALFUNC = customer_rfm_serialize,
    DESERIALFUNC = customer_rfm_deserialize);
CREATE AGGREGATE fuzz.cap_bgnbd_fit(double precision, double precision, double precision) (
    SFUNC = bgnbd_fit_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = fit_state_combine, SERIALFUNC = fit_state_serialize,
    DESERIALFUNC = fit_state_deserialize);
CREATE AGGREGATE fuzz.cap_gamma_gamma_fit(double precision, double precision) (
    SFUNC = gamma_gamma_fit_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = fit_state_combine, SERIALFUNC = fit_state_serialize,
    DESERIALFUNC = fit_state_deserialize);
CREATE AGGREGATE fuzz.cap_ltv(anyelement, timestamptz, numeric, interval, double precision) (
    SFUNC = ltv_agg_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = ltv_agg_combine, SERIALFUNC = ltv_agg_serialize,
    DESERIALFUNC = ltv_agg_deserialize);
CREATE AGGREGATE fuzz.cap_cohort_retention(anyelement, timestamptz, text, integer) (
    SFUNC = cohort_retention_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = cohort_retention_combine, SERIALFUNC = cohort_retention_serialize,
    DESERIALFUNC = cohort_retention_deserialize);
CREATE AGGREGATE fuzz.cap_attribution(text, anyelement, timestamptz, text, numeric, interval) (
    SFUNC = attribution_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = attribution_combine, SERIALFUNC = attribution_serialize,
    DESERIALFUNC = attribution_deserialize);
CREATE AGGREGATE fuzz.cap_pipeline_model(anyelement, timestamptz, text, text[]) (
    SFUNC = pipeline_model_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = pipeline_model_combine, SERIALFUNC = pipeline_model_serialize,
    DESERIALFUNC = pipeline_model_deserialize);

-- The values loaded in fz_<typ> read back from their text output, to the
-- same text and the same binary output; an error on the way is a finding too.
CREATE FUNCTION fuzz.roundtrip(typ text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    same boolean;
BEGIN
    EXECUTE format('SELECT bool_and(v::text::%1$s::text = v::text AND %1$s_send(v::text::%1$s) = %1$s_send(v))'
                   ' FROM fz_%1$s', typ) INTO same;
    IF same IS FALSE THEN
        RAISE EXCEPTION 'fuzz invariant: % does not round-trip', typ USING ERRCODE = 'FZ002';
    END IF;
EXCEPTION
    WHEN SQLSTATE 'FZ002' THEN RAISE;
    WHEN OTHERS THEN
        RAISE EXCEPTION 'fuzz invariant: % output does not read back: % (%)', typ, SQLERRM, SQLSTATE
            USING ERRCODE = 'FZ002';
END $$;
CREATE AGGREGATE fuzz.cap_paths(anyelement, timestamptz, text, text, text, integer, integer) (
    SFUNC = paths_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = paths_combine, SERIALFUNC = paths_serialize,
    DESERIALFUNC = paths_deserialize);
CREATE AGGREGATE fuzz.cap_funnel_correlation(interval, text, anyelement, timestamptz, text, text[], integer, text) (
    SFUNC = funnel_correlation_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = funnel_correlation_combine, SERIALFUNC = funnel_correlation_serialize,
    DESERIALFUNC = funnel_correlation_deserialize);

CREATE AGGREGATE fuzz.cap_sequence_match(text, timestamptz, VARIADIC boolean[]) (
    SFUNC = sequence_match_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = sequence_match_combine, SERIALFUNC = sequence_match_serialize,
    DESERIALFUNC = sequence_match_deserialize);
CREATE AGGREGATE fuzz.cap_sequence_next_node(text, text, timestamptz, text, boolean, VARIADIC boolean[]) (
    SFUNC = sequence_next_node_sfunc, STYPE = internal, FINALFUNC = fuzz.capture_final,
    COMBINEFUNC = sequence_next_node_combine, SERIALFUNC = sequence_next_node_serialize,
    DESERIALFUNC = sequence_next_node_deserialize);
