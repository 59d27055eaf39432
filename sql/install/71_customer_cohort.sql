
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
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
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
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
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
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF stage_counts IS NULL THEN
        RETURN;
    END IF;
    IF array_ndims(stage_counts) > 1 THEN
        RAISE EXCEPTION 'funnel_cost_report: stage_counts must be a one-dimensional array'
            USING ERRCODE = 'array_subscript_error';
    END IF;
    IF spend < 0 OR spend = 'NaN'::numeric OR spend IN ('Infinity'::numeric, '-Infinity'::numeric) THEN
        RAISE EXCEPTION 'funnel_cost_report: spend must be a finite non-negative amount, not %', spend
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM unnest(stage_counts) AS v WHERE v IS NULL OR v < 0) THEN
        RAISE EXCEPTION 'funnel_cost_report: stage counts must be non-negative and not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF step_names IS NOT NULL AND coalesce(array_length(step_names, 1), 0)
                                  <> coalesce(array_length(stage_counts, 1), 0) THEN
        RAISE EXCEPTION 'funnel_cost_report: % step names for % stage counts',
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
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    IF cac < 0 OR cac = 'NaN'::numeric OR cac = 'Infinity'::numeric THEN
        RAISE EXCEPTION 'cac_payback_months: cac must be a finite non-negative amount, not %', cac
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF monthly_revenue_per_customer < 0 OR monthly_revenue_per_customer = 'NaN'::numeric
       OR monthly_revenue_per_customer = 'Infinity'::numeric THEN
        RAISE EXCEPTION 'cac_payback_months: monthly revenue per customer must be a finite non-negative amount, not %',
            monthly_revenue_per_customer
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (gross_margin >= 0 AND gross_margin <= 1) THEN
        RAISE EXCEPTION 'cac_payback_months: gross_margin must be a fraction between 0 and 1, not %', gross_margin
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
