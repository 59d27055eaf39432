
-- ---------------------------------------------------------------------------
-- funnel_report with the group's spend: acquisition cost at each stage
-- ---------------------------------------------------------------------------

CREATE FUNCTION funnel_report(summary funnel_summary, spend numeric, step_names text[] DEFAULT NULL)
    RETURNS TABLE (step integer, name text, entities bigint,
                   conversion_from_previous double precision, conversion_from_start double precision,
                   drop_off bigint, drop_off_rate double precision,
                   median_time_from_start interval, p90_time_from_start interval,
                   cost_per_entity numeric)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
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
