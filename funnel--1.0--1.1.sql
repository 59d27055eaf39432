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
-- cohort_report, cohort_heatmap: walk the periods the matrix holds, not
-- 1 .. periods + 1 (a cohort_matrix written by hand with a huge "periods"
-- made them run for hours, or overflow)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.cohort_report(cohorts @extschema@.cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, period integer, active bigint,
                   retention_rate double precision)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c], k - 1, ($1).active[c][k],
           ($1).active[c][k]::double precision / ($1).cohort_size[c]
      FROM generate_subscripts(($1).cohort_start, 1) AS c,
           generate_subscripts(($1).active, 2) AS k
     WHERE ($1).active[c][k] IS NOT NULL AND k BETWEEN 1 AND ($1).periods + 1::bigint
     ORDER BY c, k
    $$;

CREATE OR REPLACE FUNCTION @extschema@.cohort_heatmap(cohorts @extschema@.cohort_matrix)
    RETURNS TABLE (cohort_start date, cohort_size bigint, retention text)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ($1).cohort_start[c], ($1).cohort_size[c],
           (SELECT string_agg(lpad(round(100.0 * ($1).active[c][k] / ($1).cohort_size[c])::text, 4)
                              || CASE WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] * 3 THEN '█'
                                      WHEN ($1).active[c][k] * 2 >= ($1).cohort_size[c] THEN '▓'
                                      WHEN ($1).active[c][k] * 4 >= ($1).cohort_size[c] THEN '▒'
                                      WHEN ($1).active[c][k] > 0 THEN '░'
                                      ELSE ' ' END, '' ORDER BY k)
              FROM generate_subscripts(($1).active, 2) AS k
             WHERE ($1).active[c][k] IS NOT NULL AND k BETWEEN 1 AND ($1).periods + 1::bigint)
      FROM generate_subscripts(($1).cohort_start, 1) AS c
     ORDER BY c
    $$;
