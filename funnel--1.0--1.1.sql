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

-- attribution_svg_escape in C: the escaper of the C charts, which also
-- replaces the control characters XML forbids.
CREATE OR REPLACE FUNCTION @extschema@.attribution_svg_escape(s text) RETURNS text
    AS 'MODULE_PATHNAME', 'attribution_svg_escape' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.attribution_svg_escape(text) IS 'Text escaped for SVG/XML content and attribute values';
