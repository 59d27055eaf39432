
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

CREATE AGGREGATE bgnbd_fit(frequency double precision, recency double precision, t double precision) (
    SFUNC = bgnbd_fit_sfunc, STYPE = internal, FINALFUNC = bgnbd_fit_final,
    COMBINEFUNC = fit_state_combine, SERIALFUNC = fit_state_serialize,
    DESERIALFUNC = fit_state_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE bgnbd_fit(double precision, double precision, double precision) IS 'Maximum-likelihood BG/NBD purchase model of a group of customer summaries (rows with a NULL are skipped; an error when the fit is impossible or does not converge)';

CREATE AGGREGATE gamma_gamma_fit(frequency double precision, monetary_value double precision) (
    SFUNC = gamma_gamma_fit_sfunc, STYPE = internal, FINALFUNC = gamma_gamma_fit_final,
    COMBINEFUNC = fit_state_combine, SERIALFUNC = fit_state_serialize,
    DESERIALFUNC = fit_state_deserialize, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE);
COMMENT ON AGGREGATE gamma_gamma_fit(double precision, double precision) IS 'Maximum-likelihood Gamma-Gamma spend model of the customers with frequency > 0 (others are skipped)';

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
COMMENT ON FUNCTION sbg_expected_remaining_lifetime(sbg_model, integer, double precision) IS 'sBG expected number of further periods (discounted by (1 + discount_rate)^k) of a customer active after periods_survived periods; Infinity when undiscounted and alpha <= 1';
