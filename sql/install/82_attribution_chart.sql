
-- ---------------------------------------------------------------------------
-- attribution charts: credit by channel for one or several models
-- ---------------------------------------------------------------------------

CREATE FUNCTION attribution_bar_chart(summaries attribution_summary[], width integer DEFAULT 40)
    RETURNS TABLE (channel text, model text, conversions double precision, bar text)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF width < 1 OR width > 1000 THEN
        RAISE EXCEPTION 'attribution_bar_chart width must be between 1 and 1000, not %', width
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH r AS (
        SELECT s.ord, @extschema@.attribution_model(s.summary) AS model, rep.channel,
               rep.conversions
        FROM unnest(summaries) WITH ORDINALITY AS s(summary, ord),
             LATERAL @extschema@.attribution_report(s.summary) AS rep
    ), ch AS (
        SELECT r.channel, max(r.conversions) AS top FROM r GROUP BY r.channel
    ), mx AS (
        SELECT max(r.conversions) AS m FROM r
    ), eighths AS (
        SELECT r.*, CASE WHEN mx.m > 0 THEN round(r.conversions / mx.m * width * 8)::int ELSE 0 END AS e
        FROM r, mx
    )
    SELECT e.channel, e.model, e.conversions,
           repeat(U&'\2588', e.e / 8)
           || CASE WHEN e.e % 8 > 0
                   THEN substr(U&'\258F\258E\258D\258C\258B\258A\2589', e.e % 8, 1) ELSE '' END
    FROM eighths e JOIN ch ON ch.channel IS NOT DISTINCT FROM e.channel
    ORDER BY ch.channel IS NULL, ch.top DESC, ch.channel, e.ord;
END
$$;
COMMENT ON FUNCTION attribution_bar_chart(attribution_summary[], integer) IS 'Text bar chart of credited conversions by channel, one row per channel and model (models side by side), bars scaled to width characters';

CREATE FUNCTION attribution_svg_escape(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                   '"', '&quot;'), '''', '&#39;')
$$;
COMMENT ON FUNCTION attribution_svg_escape(text) IS 'Text escaped for SVG/XML content and attribute values';

CREATE FUNCTION attribution_svg(summaries attribution_summary[],
                                title text DEFAULT 'Conversions credited by channel')
    RETURNS text LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    palette text[] := ARRAY['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948',
                            '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
    nmodels int := coalesce(array_length(summaries, 1), 0);
    label_w int := 180;
    bar_w int := 560;
    bar_h int := 16;
    gap int := 12;
    top_y int := 60 + 20 * ((nmodels + 2) / 3);
    maxv double precision;
    y int;
    svg text;
    rec record;
    cur text;
    first boolean := true;
    i int;
BEGIN
    IF nmodels = 0 THEN
        RAISE EXCEPTION 'attribution_svg needs at least one summary'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT max(rep.conversions) INTO maxv
    FROM unnest(summaries) AS s(summary), LATERAL @extschema@.attribution_report(s.summary) AS rep;
    IF maxv IS NULL OR maxv <= 0 THEN
        maxv := 1;
    END IF;
    svg := '';
    y := top_y;
    FOR rec IN
        WITH r AS (
            SELECT s.ord, @extschema@.attribution_model(s.summary) AS model, rep.channel,
                   rep.conversions, rep.share
            FROM unnest(summaries) WITH ORDINALITY AS s(summary, ord),
                 LATERAL @extschema@.attribution_report(s.summary) AS rep
        ), ch AS (
            SELECT r.channel, max(r.conversions) AS top FROM r GROUP BY r.channel
        )
        SELECT r.*, coalesce(r.channel, '(no touchpoint)') AS label
        FROM r JOIN ch ON ch.channel IS NOT DISTINCT FROM r.channel
        ORDER BY ch.channel IS NULL, ch.top DESC, ch.channel, r.ord
    LOOP
        IF first OR rec.channel IS DISTINCT FROM cur THEN
            IF NOT first THEN
                y := y + gap;
            END IF;
            svg := svg || format('<text class="channel" x="%s" y="%s" text-anchor="end">%s</text>',
                                 label_w - 8, y + bar_h - 3, @extschema@.attribution_svg_escape(rec.label)) || E'\n';
            cur := rec.channel;
            first := false;
        END IF;
        svg := svg || format('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s, %s: %s conversions</title></rect>',
                             label_w, y, round((rec.conversions / maxv * bar_w)::numeric, 1), bar_h - 2,
                             palette[1 + (rec.ord - 1) % 10],
                             @extschema@.attribution_svg_escape(rec.label),
                             @extschema@.attribution_svg_escape(rec.model),
                             round(rec.conversions::numeric, 2)) || E'\n';
        svg := svg || format('<text class="value" x="%s" y="%s">%s</text>',
                             label_w + round((rec.conversions / maxv * bar_w)::numeric, 1) + 4,
                             y + bar_h - 4, round(rec.conversions::numeric, 2)) || E'\n';
        y := y + bar_h;
    END LOOP;
    -- legend: one swatch per model, three per line
    FOR i IN 1 .. nmodels LOOP
        svg := format('<rect class="legend" x="%s" y="%s" width="12" height="12" fill="%s"/>'
                      '<text x="%s" y="%s">%s</text>',
                      label_w + ((i - 1) % 3) * 200, 44 + 20 * ((i - 1) / 3),
                      palette[1 + (i - 1) % 10],
                      label_w + ((i - 1) % 3) * 200 + 18, 54 + 20 * ((i - 1) / 3),
                      @extschema@.attribution_svg_escape(@extschema@.attribution_model(summaries[i])))
               || E'\n' || svg;
    END LOOP;
    RETURN format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="12">',
                  label_w + bar_w + 80, y + 20, label_w + bar_w + 80, y + 20) || E'\n'
        || format('<rect width="100%%" height="100%%" fill="white"/>') || E'\n'
        || format('<text class="title" x="%s" y="24" font-size="16" font-weight="bold">%s</text>',
                  label_w, @extschema@.attribution_svg_escape(title)) || E'\n'
        || svg || '</svg>' || E'\n';
END
$$;
COMMENT ON FUNCTION attribution_svg(attribution_summary[], text) IS 'SVG bar chart of credited conversions by channel, one colour per model (models side by side), names escaped';
